//! Planning products: create, update in place, unarchive, archive; and default prices.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Serialize;
use stripe_client_core::StripeRequest;
use stripe_product::product::{CreateProduct, Features, UpdateProduct};

use super::action::Action;
use super::builder::Builder;
use super::change::Change;
use super::error::Conflict;
use super::placed::PriceStates;
use super::placed::ProductState;
use super::placed::Products;
use super::request::{Encode, Writes, rank};
use super::request::{ObjRef, StepId};
use super::value::{FieldChange, FieldValue, push_if_changed};
use super::wire::{WireRequest, metadata_set, metadata_update};
use crate::catalog::Product;
use crate::digest::fingerprint;
use crate::live::LiveProduct;
use crate::plan::request::Resolve;
use crate::resource::{Address, FEATURES_KEY, FEATURES_VALUE, Owner, ResourceKind, owned_metadata};

/// A product to create: the declared entry (its prices are steps of their own) and the
/// metadata it is created with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(super) struct ProductSpec {
    pub product: Product,
    /// Declared metadata plus billing's ownership marker.
    pub metadata: BTreeMap<String, String>,
}

/// The fields of a product to change; `None` leaves a field alone.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub(super) struct ProductUpdate {
    pub name: Option<String>,
    /// `Some(None)` clears the field.
    pub description: Option<Option<String>>,
    pub tax_code: Option<Option<String>>,
    pub unit_label: Option<Option<String>>,
    /// Stripe cannot clear it once set.
    pub statement_descriptor: Option<String>,
    pub url: Option<Option<String>>,
    /// The whole new list (empty clears it).
    pub images: Option<Vec<String>>,
    pub features: Option<Vec<String>>,
    /// Keys to set (`Some`) or remove (`None`).
    pub metadata: BTreeMap<String, Option<String>>,
    pub active: Option<bool>,
    /// `Some(None)` clears the default price.
    pub default_price: Option<Option<ObjRef>>,
}

fn new_change(
    address: String,
    action: Action,
    id: Option<String>,
    title: String,
    fingerprint: String,
) -> Change {
    Change::new(
        ResourceKind::Product,
        &address,
        action,
        id,
        title,
        fingerprint,
    )
}

fn title(name: &str) -> String {
    format!("product {name:?}")
}

/// The product's declared fields as they are shown on creation.
fn creation_fields(p: &Product) -> Vec<FieldChange> {
    let mut fields = vec![FieldChange::new(
        "name",
        FieldValue::None,
        FieldValue::Text(p.name.clone()),
    )];
    let mut add = |field: &str, value: FieldValue| {
        if value != FieldValue::None && value != FieldValue::List(vec![]) {
            fields.push(FieldChange::new(field, FieldValue::None, value));
        }
    };
    add("description", FieldValue::text(p.description.as_deref()));
    add("tax_code", FieldValue::word(p.tax_code.as_deref()));
    add("unit_label", FieldValue::text(p.unit_label.as_deref()));
    add(
        "statement_descriptor",
        FieldValue::text(p.statement_descriptor.as_deref()),
    );
    add("url", FieldValue::text(p.url.as_deref()));
    add("images", FieldValue::List(p.images.clone()));
    add("features", FieldValue::List(p.features.clone()));
    if !p.active {
        add("active", FieldValue::Bool(false));
    }
    for (k, v) in &p.metadata {
        add(&format!("metadata.{k}"), FieldValue::Text(v.clone()));
    }
    if let Some(id) = &p.id {
        add("id", FieldValue::Word(id.clone()));
    }
    fields
}

/// The fields to change on `live` so it matches `p`; omitted clearable fields are cleared.
fn diff(
    b: &Builder<'_>,
    p: &Product,
    address: &str,
    live: &LiveProduct,
) -> (Vec<FieldChange>, ProductUpdate) {
    let mut fields = Vec::new();
    let mut update = ProductUpdate::default();
    if live.name != p.name {
        fields.push(FieldChange::new(
            "name",
            FieldValue::Text(live.name.clone()),
            FieldValue::Text(p.name.clone()),
        ));
        update.name = Some(p.name.clone());
    }
    let clearable = [
        (
            "description",
            &live.description,
            &p.description,
            &mut update.description,
            false,
        ),
        (
            "tax_code",
            &live.tax_code,
            &p.tax_code,
            &mut update.tax_code,
            true,
        ),
        (
            "unit_label",
            &live.unit_label,
            &p.unit_label,
            &mut update.unit_label,
            false,
        ),
        ("url", &live.url, &p.url, &mut update.url, false),
    ];
    for (field, before, after, slot, word) in clearable {
        if before != after {
            let show = |v: &Option<String>| {
                if word {
                    FieldValue::word(v.as_deref())
                } else {
                    FieldValue::text(v.as_deref())
                }
            };
            fields.push(FieldChange::new(field, show(before), show(after)));
            *slot = Some(after.clone());
        }
    }
    // Stripe cannot clear a statement descriptor: when omitted it is not managed.
    if let Some(sd) = &p.statement_descriptor
        && live.statement_descriptor.as_ref() != Some(sd)
    {
        push_if_changed(
            &mut fields,
            "statement_descriptor",
            FieldValue::text(live.statement_descriptor.as_deref()),
            FieldValue::Text(sd.clone()),
        );
        update.statement_descriptor = Some(sd.clone());
    }
    if live.images != p.images {
        fields.push(FieldChange::new(
            "images",
            FieldValue::List(live.images.clone()),
            FieldValue::List(p.images.clone()),
        ));
        update.images = Some(p.images.clone());
    }
    if live.features != p.features {
        fields.push(FieldChange::new(
            "features",
            FieldValue::List(live.features.clone()),
            FieldValue::List(p.features.clone()),
        ));
        update.features = Some(p.features.clone());
    }
    let desired = desired_metadata(b, address, p, Some(live));
    update.metadata = b.metadata_update(&desired, &live.metadata, &mut fields);
    if live.active != p.active {
        fields.push(FieldChange::new(
            "active",
            FieldValue::Bool(live.active),
            FieldValue::Bool(p.active),
        ));
        update.active = Some(p.active);
    }
    (fields, update)
}

/// The metadata a product is created or updated with: declared, billing's marker, and the
/// features marker while it declares `entitlements`. A product that declares none keeps the
/// features marker while features billing attached are still there: a step of its own removes
/// it once they are detached (see `entitlement.rs`), so that a failed detach is read again.
fn desired_metadata(
    b: &Builder<'_>,
    address: &str,
    p: &Product,
    live: Option<&LiveProduct>,
) -> BTreeMap<String, String> {
    let mut metadata = owned_metadata(&p.metadata, address, b.namespace, p.on_remove.recorded());
    let attached = live.is_some_and(|live| {
        live.metadata.contains_key(FEATURES_KEY)
            && b.live
                .product_features
                .get(&live.id)
                .is_some_and(|a| !a.is_empty())
    });
    if !p.entitlements.is_empty() || attached {
        metadata.insert(FEATURES_KEY.to_owned(), FEATURES_VALUE.to_owned());
    }
    metadata
}

/// Plans every declared product: create, update, unarchive or archive (when declared inactive).
pub(crate) fn plan_declared<'a>(b: &mut Builder<'a>) -> Products<'a> {
    let mut products = Products {
        states: BTreeMap::new(),
        archive_later: Vec::new(),
    };
    let mut claimed: HashMap<&str, String> = HashMap::new();
    // Products found by address claim their live product before explicit `id` pins, so a
    // conflicting pin is the one reported.
    let mut declared: Vec<(&String, &Product)> = b.catalog.products.iter().collect();
    declared.sort_by_key(|(_, p)| p.id.is_some());
    for (key, p) in declared {
        let address = Address::product(key).to_string();
        let candidates: Vec<&LiveProduct> = b.managed.at::<LiveProduct>(&address);
        let current = current(b, &address, p, &candidates)
            .and_then(|live| claim(b, &address, live, &mut claimed));
        let mut seen: Vec<&LiveProduct> = candidates.clone();
        if let Some(c) = current
            && !seen.iter().any(|s| s.id == c.id)
        {
            seen.push(c);
        }
        let fp = fingerprint(&seen);
        let state = match current {
            None => create(b, &address, p, fp),
            Some(live) => update(b, &address, p, live, fp, &mut products.archive_later),
        };
        products.states.insert(key.as_str(), state);
    }
    products
}

/// The live product a declared one is: the one its `id` pins (a conflict when another
/// catalog manages it; an unmarked one is adopted, see `claims`), else the newest active one
/// at its address, else the newest there.
fn current<'a>(
    b: &mut Builder<'a>,
    address: &str,
    p: &Product,
    candidates: &[&'a LiveProduct],
) -> Option<&'a LiveProduct> {
    let Some(id) = &p.id else {
        return candidates
            .iter()
            .copied()
            .find(|c| c.active)
            .or_else(|| candidates.first().copied());
    };
    let live = b.product_by_id.get(id)?;
    match b.owner(&live.id, &live.metadata) {
        Owner::Ours(_) => Some(live),
        Owner::Unmanaged => None,
        Owner::Foreign(ns) => {
            b.conflicts.push(Conflict {
                address: address.to_owned(),
                message: format!("product {id} is managed by the catalog with namespace {ns:?}"),
                hint: "pin this product to another id, or manage it from that catalog".to_owned(),
            });
            None
        }
    }
}

/// One live product cannot be current for two addresses (an `id` pin can point at a product
/// that another address already holds): the second is a conflict.
fn claim<'a>(
    b: &mut Builder<'_>,
    address: &str,
    live: &'a LiveProduct,
    claimed: &mut HashMap<&'a str, String>,
) -> Option<&'a LiveProduct> {
    if let Some(other) = claimed.get(live.id.as_str()) {
        b.conflicts.push(Conflict {
            address: address.to_owned(),
            message: format!("product {} is already {other}", live.id),
            hint: format!("pin {address} to another id, or remove the `id` of one of them"),
        });
        return None;
    }
    claimed.insert(&live.id, address.to_owned());
    Some(live)
}

/// A new product.
fn create<'a>(b: &mut Builder<'a>, address: &str, p: &'a Product, fp: String) -> ProductState<'a> {
    let mut change = new_change(address.to_owned(), Action::Create, None, title(&p.name), fp);
    change.fields = creation_fields(p);
    let idx = b.add_change(change);
    let spec = ProductSpec {
        product: Product {
            prices: BTreeMap::new(),
            ..p.clone()
        },
        metadata: desired_metadata(b, address, p, None),
    };
    let step = b.add_step(idx, "create product", ProductWrite::Create(spec), vec![]);
    ProductState {
        declared: p,
        obj: ObjRef::Created(step),
        live: None,
        ready: Some(step),
        change: Some(idx),
    }
}

/// A current product: what changed in place, unarchived when declared active again; one
/// declared inactive is archived after its prices (see `archive_removed`).
fn update<'a>(
    b: &mut Builder<'a>,
    address: &str,
    p: &'a Product,
    live: &'a LiveProduct,
    fp: String,
    archive_later: &mut Vec<(String, usize)>,
) -> ProductState<'a> {
    let mut state = ProductState {
        declared: p,
        obj: ObjRef::Id(live.id.as_str().into()),
        live: Some(live),
        ready: None,
        change: None,
    };
    let (fields, mut update) = diff(b, p, address, live);
    if fields.is_empty() {
        return state;
    }
    // Archiving waits for the product's prices.
    let archive = live.active && !p.active;
    if archive {
        update.active = None;
    }
    let action = match (live.active, p.active) {
        (false, true) => Action::Unarchive,
        (true, false) => Action::Archive,
        _ => Action::Update,
    };
    let mut change = new_change(
        address.to_owned(),
        action,
        Some(live.id.clone()),
        title(&p.name),
        fp,
    );
    change.fields = fields;
    if action == Action::Archive {
        change.reason = Some("declared `active = false` in billing.toml".to_owned());
        change.notes.push(
            "its prices are archived too, so their lookup keys no longer sell an archived product"
                .to_owned(),
        );
    }
    let idx = b.add_change(change);
    if update != ProductUpdate::default() {
        let step = b.add_step(
            idx,
            // An archive waits for the prices: this step only changes the other fields.
            if action == Action::Unarchive {
                "unarchive product"
            } else {
                "update product"
            },
            ProductWrite::Update {
                object: ObjRef::Id(live.id.as_str().into()),
                update,
            },
            vec![],
        );
        if action == Action::Unarchive {
            state.ready = Some(step);
        }
    }
    if archive {
        archive_later.push((live.id.clone(), idx));
    }
    state.change = Some(idx);
    state
}

/// A default price as the plan shows it: its address (and id) when managed, else its id.
fn describe_price(b: &Builder<'_>, prices: &PriceStates<'_>, obj: Option<&ObjRef>) -> FieldValue {
    match obj {
        None => FieldValue::None,
        Some(ObjRef::Created(step)) => prices
            .iter()
            .find(|(_, p)| p.obj == ObjRef::Created(*step))
            .map_or(
                FieldValue::Ref("(new price)".to_owned()),
                |((pkey, key), _)| FieldValue::Ref(format!("{} (new)", Address::price(pkey, key))),
            ),
        Some(ObjRef::Id(id)) => describe_price_id(b, id),
    }
}

/// A live price by its address (and id) when billing manages it, else by its id.
fn describe_price_id(b: &Builder<'_>, id: &str) -> FieldValue {
    let owner = b.price_by_id.get(id).map(|p| b.owner(&p.id, &p.metadata));
    FieldValue::Ref(match owner {
        Some(Owner::Ours(address)) => format!("{address} ({id})"),
        _ => id.to_owned(),
    })
}

/// Moves, sets or clears each declared product's default price; returns the step that does it,
/// by the live product's id, so that archiving its old default price can wait for it.
pub(crate) fn plan_default_prices(
    b: &mut Builder<'_>,
    products: &Products<'_>,
    prices: &PriceStates<'_>,
) -> HashMap<String, StepId> {
    let mut steps = HashMap::new();
    for (key, state) in &products.states {
        let desired: Option<ObjRef> = if state.declared.active {
            state
                .declared
                .default_price
                .as_deref()
                .and_then(|price| prices.get(&(*key, price)))
                .map(|p| p.obj.clone())
        } else {
            None
        };
        let live_default = state
            .live
            .and_then(|l| l.default_price.as_deref())
            .map(|id| ObjRef::Id(id.into()));
        if desired == live_default {
            continue;
        }
        let field = FieldChange::new(
            "default_price",
            describe_price(b, prices, live_default.as_ref()),
            describe_price(b, prices, desired.as_ref()),
        );
        // Shown with the product's own change; or, when the default moves because its price is
        // replaced, with that replacement; or as an update of its own.
        let replaced = state
            .declared
            .default_price
            .as_deref()
            .and_then(|price| prices.get(&(*key, price)))
            .filter(|p| p.action == Some(Action::Replace))
            .and_then(|p| p.change);
        let change = match state.change.or(replaced) {
            Some(idx) => idx,
            None => {
                let live = state.live.map(|l| l.id.clone());
                let fp = fingerprint(&state.live.into_iter().collect::<Vec<_>>());
                b.add_change(new_change(
                    Address::product(key).to_string(),
                    Action::Update,
                    live,
                    title(&state.declared.name),
                    fp,
                ))
            }
        };
        let mut field = field;
        if Some(change) == replaced && state.change.is_none() {
            field.field = format!("default_price of {}", Address::product(key));
        }
        b.changes[change].fields.push(field);
        // The price must be usable (created or unarchived) before it can become the default.
        let price_ready = state
            .declared
            .default_price
            .as_deref()
            .and_then(|price| prices.get(&(*key, price)))
            .and_then(|p| p.ready);
        let description = match &desired {
            None => "clear default_price",
            Some(_) if live_default.is_none() => "set default_price",
            Some(_) => "move default_price",
        };
        let step = b.add_step(
            change,
            description,
            ProductWrite::Update {
                object: state.obj.clone(),
                update: ProductUpdate {
                    default_price: Some(desired),
                    ..ProductUpdate::default()
                },
            },
            state.ready.into_iter().chain(price_ready).collect(),
        );
        if let Some(live) = state.live {
            steps.insert(live.id.clone(), step);
        }
    }
    steps
}

/// Managed products that left the catalog, or duplicates of a declared product: archived,
/// their default price cleared first. Returns the archive change of each, by product id.
pub(crate) fn plan_removed<'a>(
    b: &mut Builder<'a>,
    products: &Products<'_>,
    defaults: &mut HashMap<String, StepId>,
) -> HashMap<String, usize> {
    let current: HashSet<&str> = products
        .states
        .values()
        .filter_map(|s| s.live.map(|l| l.id.as_str()))
        .collect();
    let declared: HashSet<String> = b
        .catalog
        .products
        .keys()
        .map(|k| Address::product(k).to_string())
        .collect();
    let mut archiving = HashMap::new();
    // References into the live state, not into the builder: it stays free to change.
    let candidates: Vec<(&'a str, &'a LiveProduct)> = b
        .managed
        .all_of::<LiveProduct>()
        .filter(|(_, p)| !current.contains(p.id.as_str()))
        .collect();
    for (address, p) in candidates {
        if !p.active {
            // Already archived, but an active default price of it could not be archived:
            // clear the default first.
            if let Some(default) = p.default_price.as_deref()
                && b.price_by_id.get(default).is_some_and(|price| price.active)
            {
                let mut change = Change::of_live(address, Action::Update, p);
                change.reason = Some(
                    "an archived product keeps a default price that is being archived".to_owned(),
                );
                let idx = b.add_change(change);
                let step = clear_default(b, idx, &p.id, default);
                defaults.insert(p.id.clone(), step);
            }
            continue;
        }
        let removed = !declared.contains(address);
        let mut change = Change::of_live(address, Action::Archive, p);
        change.fields.push(FieldChange::active(true, false));
        if removed {
            change.destroy = true;
            change.reason = Some("removed from billing.toml".to_owned());
            change.notes.push(
                "archived, not deleted: existing subscriptions continue; it can no longer be sold"
                    .to_owned(),
            );
        } else {
            let current = products
                .states
                .values()
                .find(|s| Address::product(&s.declared.key).to_string() == address)
                .map_or("another product".to_owned(), |s| match &s.obj {
                    ObjRef::Id(id) => id.to_string(),
                    ObjRef::Created(_) => "a new product".to_owned(),
                });
            change.reason = Some(format!("a duplicate at this address; {current} is current"));
        }
        let idx = b.add_change(change);
        if let Some(default) = &p.default_price {
            let step = clear_default(b, idx, &p.id, default);
            defaults.insert(p.id.clone(), step);
        }
        archiving.insert(p.id.clone(), idx);
    }
    archiving
}

/// Adds to `change` the step that clears product `id`'s default price `default`, and the field
/// that shows it.
fn clear_default(b: &mut Builder<'_>, change: usize, id: &str, default: &str) -> StepId {
    let before = describe_price_id(b, default);
    b.changes[change]
        .fields
        .push(FieldChange::new("default_price", before, FieldValue::None));
    b.add_step(
        change,
        "clear default_price",
        ProductWrite::Update {
            object: ObjRef::Id(id.into()),
            update: ProductUpdate {
                default_price: Some(None),
                ..ProductUpdate::default()
            },
        },
        vec![],
    )
}

/// Adds the archive step of each product being archived, after its prices' archive steps.
pub(crate) fn archive_removed(
    b: &mut Builder<'_>,
    products: &Products<'_>,
    archiving: &HashMap<String, usize>,
    price_archives: &HashMap<String, Vec<StepId>>,
) {
    let mut ids: Vec<(&String, &usize)> = archiving
        .iter()
        .chain(
            products
                .archive_later
                .iter()
                .map(|(id, change)| (id, change)),
        )
        .collect();
    ids.sort();
    for (id, &change) in ids {
        b.add_step(
            change,
            "archive product",
            ProductWrite::Update {
                object: ObjRef::Id(id.as_str().into()),
                update: ProductUpdate {
                    active: Some(false),
                    ..ProductUpdate::default()
                },
            },
            price_archives.get(id).cloned().unwrap_or_default(),
        );
    }
}

/// `POST /v1/products`.
pub(crate) fn create_request(spec: &ProductSpec) -> WireRequest {
    let Product {
        key: _,
        id,
        moved_from: _,
        on_remove: _,
        name,
        description,
        active,
        tax_code,
        unit_label,
        statement_descriptor,
        url,
        images,
        features,
        // Attached by their own steps once the product exists (see `entitlement.rs`).
        entitlements: _,
        metadata: _,
        default_price: _,
        prices: _,
    } = &spec.product;
    let mut r = CreateProduct::new(name.clone()).active(*active);
    if let Some(id) = id {
        r = r.id(id.clone());
    }
    if let Some(d) = description {
        r = r.description(d.clone());
    }
    if let Some(t) = tax_code {
        r = r.tax_code(t.clone());
    }
    if let Some(u) = unit_label {
        r = r.unit_label(u.clone());
    }
    if let Some(s) = statement_descriptor {
        r = r.statement_descriptor(s.clone());
    }
    if let Some(u) = url {
        r = r.url(u.clone());
    }
    if !images.is_empty() {
        r = r.images(images.clone());
    }
    if !features.is_empty() {
        let features = features.iter().map(|f| Features::new(f.clone()));
        r = r.marketing_features(features.collect::<Vec<_>>());
    }
    r = r.metadata(metadata_set(&spec.metadata));
    WireRequest::from_builder(r.build(), vec![])
}

/// `POST /v1/products/{id}`.
pub(crate) fn update_request(
    id: String,
    u: &ProductUpdate,
    resolve: &impl Fn(&ObjRef) -> String,
) -> WireRequest {
    let mut r = UpdateProduct::new(id);
    let mut extra = Vec::new();
    if let Some(name) = &u.name {
        r = r.name(name.clone());
    }
    let clear = |v: &Option<String>| v.clone().unwrap_or_default();
    if let Some(d) = &u.description {
        r = r.description(clear(d));
    }
    if let Some(t) = &u.tax_code {
        r = r.tax_code(clear(t));
    }
    if let Some(l) = &u.unit_label {
        r = r.unit_label(clear(l));
    }
    if let Some(url) = &u.url {
        r = r.url(clear(url));
    }
    if let Some(s) = &u.statement_descriptor {
        r = r.statement_descriptor(s.clone());
    }
    match &u.images {
        Some(images) if images.is_empty() => extra.push(("images".to_owned(), String::new())),
        Some(images) => r = r.images(images.clone()),
        None => {}
    }
    match &u.features {
        Some(features) if features.is_empty() => {
            extra.push(("marketing_features".to_owned(), String::new()))
        }
        Some(features) => {
            r = r.marketing_features(
                features
                    .iter()
                    .map(|f| Features::new(f.clone()))
                    .collect::<Vec<_>>(),
            );
        }
        None => {}
    }
    if !u.metadata.is_empty() {
        r = r.metadata(metadata_update(&u.metadata));
    }
    if let Some(active) = u.active {
        r = r.active(active);
    }
    if let Some(default) = &u.default_price {
        r = r.default_price(default.as_ref().map(resolve).unwrap_or_default());
    }
    WireRequest::from_builder(r.build(), extra)
}

/// A write to a product.
pub(crate) type ProductWrite = Writes<ProductSpec>;

impl Encode for ProductSpec {
    type Update = ProductUpdate;

    fn create(&self, _resolve: Resolve<'_>) -> Vec<WireRequest> {
        vec![create_request(self)]
    }

    fn update(id: String, update: &ProductUpdate, resolve: Resolve<'_>) -> Vec<WireRequest> {
        vec![update_request(id, update, &resolve)]
    }

    fn update_names(update: &ProductUpdate) -> Vec<&ObjRef> {
        match &update.default_price {
            Some(Some(price)) => vec![price],
            _ => Vec::new(),
        }
    }

    /// Its prices hang on it: it is created first, and archived after them.
    fn create_rank(&self) -> u8 {
        rank::CREATE_PARENT
    }

    fn update_rank(update: &ProductUpdate) -> u8 {
        match update.active {
            Some(true) => rank::REVIVE_PARENT,
            Some(false) => rank::ARCHIVE_PARENT,
            None => rank::LATE_UPDATE,
        }
    }

    fn archives(update: &ProductUpdate) -> bool {
        update.active == Some(false)
    }
}
