//! Planning prices: create, update in place, unarchive, replace when Stripe cannot change a
//! field, and archive what is replaced, superseded or removed.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use stripe_client_core::StripeRequest;
use stripe_product::price::{
    CreatePrice, CreatePriceCurrencyOptions, CreatePriceCurrencyOptionsTiers, CreatePriceRecurring,
    CreatePriceTiers, CreatePriceTransformQuantity, UpdatePrice, UpdatePriceCurrencyOptions,
    UpdatePriceCurrencyOptionsTiers,
};

use super::action::Action;
use super::builder::Builder;
use super::change::Change;
use super::claims::Origin;
use super::error::Conflict;
use super::lifecycle::{replace_requested, replacement};
use super::placed::ProductState;
use super::placed::Products;
use super::placed::{PriceState, PriceStates};
use super::request::{Encode, Writes};
use super::request::{ObjRef, StepId};
use super::value::{FieldChange, FieldValue};
use super::wire::{WireRequest, currency, metadata_set, metadata_update, parse, split};
use crate::catalog::{
    Currency, CurrencyOption, CurrencyOptionPricing, MinorAmount, Price, Pricing, TaxBehavior, Tier,
};
use crate::digest::fingerprint;
use crate::live::{LiveCurrencyOption, LivePrice, LiveTier, money};
use crate::plan::request::Resolve;
use crate::resource::{Address, MARKER_KEY, Owner, ResourceKind, owned_metadata};

/// A price to create: the declared price, with the metadata it is created with (declared
/// plus billing's ownership marker), taking its lookup key from the price holding it when
/// `transfer_lookup_key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct PriceSpec {
    /// The product it is on.
    pub product: ObjRef,
    /// The meter a metered price bills (`None`: licensed).
    pub meter: Option<ObjRef>,
    pub price: Price,
    pub metadata: BTreeMap<String, String>,
    pub transfer_lookup_key: bool,
}

/// How a price's currency options change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "mode", content = "options")]
pub(super) enum CurrencyOptionsUpdate {
    /// Set these currencies; others stay (Stripe merges per currency).
    Merge(BTreeMap<Currency, CurrencyOption>),
    /// Clear all, then set these: a currency was removed.
    Replace(BTreeMap<Currency, CurrencyOption>),
}

/// The fields of a price to change; `None` leaves a field alone.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub(super) struct PriceUpdate {
    pub active: Option<bool>,
    pub lookup_key: Option<String>,
    pub transfer_lookup_key: bool,
    pub nickname: Option<String>,
    pub tax_behavior: Option<TaxBehavior>,
    /// Keys to set (`Some`) or remove (`None`).
    pub metadata: BTreeMap<String, Option<String>>,
    pub currency_options: Option<CurrencyOptionsUpdate>,
}

fn new_change(
    address: &str,
    action: Action,
    id: Option<String>,
    title: String,
    fingerprint: String,
) -> Change {
    Change::new(ResourceKind::Price, address, action, id, title, fingerprint)
}

/// A tier without an amount and a tier with a zero amount charge the same.
fn nonzero(amount: Option<MinorAmount>) -> Option<MinorAmount> {
    amount.filter(|a| !a.decimal().is_zero())
}

type TierShape = (Option<u64>, Option<MinorAmount>, Option<MinorAmount>);

fn tier_shapes(tiers: &[Tier]) -> Vec<TierShape> {
    tiers
        .iter()
        .map(|t| (t.up_to, nonzero(t.unit_amount), nonzero(t.flat_amount)))
        .collect()
}

fn live_tier_shapes(tiers: &[LiveTier]) -> Vec<TierShape> {
    tiers
        .iter()
        .map(|t| (t.up_to, nonzero(t.unit_amount), nonzero(t.flat_amount)))
        .collect()
}

/// `up to 1,000: $10.00 flat; above: $0.005 each`.
fn describe_tiers(tiers: &[TierShape], currency: &str) -> String {
    let parts: Vec<String> = tiers
        .iter()
        .map(|(up_to, unit, flat)| {
            let bound = match up_to {
                Some(n) => format!("up to {n}"),
                None => "above".to_owned(),
            };
            let mut amounts = Vec::new();
            if let Some(f) = flat {
                amounts.push(format!("{} flat", money(*f, currency)));
            }
            if let Some(u) = unit {
                amounts.push(format!("{} each", money(*u, currency)));
            }
            if amounts.is_empty() {
                amounts.push("free".to_owned());
            }
            format!("{bound}: {}", amounts.join(" + "))
        })
        .collect();
    parts.join("; ")
}

fn interval_word(price: &Price) -> FieldValue {
    FieldValue::Word(
        price
            .recurring
            .map_or("one-time".to_owned(), |r| r.to_string()),
    )
}

fn option_value(option: &CurrencyOption, currency: Currency) -> FieldValue {
    match &option.pricing {
        CurrencyOptionPricing::PerUnit(a) => FieldValue::Money(a.format(currency)),
        CurrencyOptionPricing::Tiered(t) => {
            FieldValue::Text(describe_tiers(&tier_shapes(t), currency.code()))
        }
    }
}

fn live_option_value(option: &LiveCurrencyOption, currency: &str) -> FieldValue {
    if option.tiers.is_empty() {
        option
            .unit_amount
            .map_or(FieldValue::None, |a| FieldValue::Money(money(a, currency)))
    } else {
        FieldValue::Text(describe_tiers(&live_tier_shapes(&option.tiers), currency))
    }
}

/// Whether a live currency option charges what the declared one does.
fn same_amounts(option: &CurrencyOption, live: &LiveCurrencyOption) -> bool {
    match &option.pricing {
        CurrencyOptionPricing::PerUnit(a) => live.tiers.is_empty() && live.unit_amount == Some(*a),
        CurrencyOptionPricing::Tiered(t) => tier_shapes(t) == live_tier_shapes(&live.tiers),
    }
}

fn unspecified(tax_behavior: Option<&str>) -> bool {
    matches!(tax_behavior, None | Some("unspecified"))
}

/// The fields Stripe cannot change on `live` that differ from the declaration.
fn shape_diff(
    p: &Price,
    product: &ObjRef,
    meter: Option<&ObjRef>,
    live: &LivePrice,
) -> Vec<FieldChange> {
    let mut out = Vec::new();
    meter_diff(meter, live, &mut out);
    let currency = p.currency.code();
    match product {
        ObjRef::Id(id) if &live.product != id => out.push(FieldChange::replacing(
            "product",
            FieldValue::Ref(live.product.to_string()),
            FieldValue::Ref(id.to_string()),
        )),
        ObjRef::Id(_) => {}
        // The product is created by this plan: every live price is on another product.
        ObjRef::Created(_) => out.push(FieldChange::replacing(
            "product",
            FieldValue::Ref(live.product.to_string()),
            FieldValue::Ref("(new product)".to_owned()),
        )),
    }
    if live.currency != currency {
        out.push(FieldChange::replacing(
            "currency",
            FieldValue::Word(live.currency.to_string()),
            FieldValue::Word(currency.to_owned()),
        ));
    }
    match &p.pricing {
        Pricing::PerUnit { unit_amount } => {
            if live.billing_scheme != "per_unit" {
                out.push(FieldChange::replacing(
                    "billing_scheme",
                    FieldValue::Word(live.billing_scheme.to_string()),
                    FieldValue::Word("per_unit".into()),
                ));
            }
            if live.unit_amount != Some(*unit_amount) {
                out.push(FieldChange::replacing(
                    "unit_amount",
                    live.unit_amount.map_or(FieldValue::None, |a| {
                        FieldValue::Money(money(a, &live.currency))
                    }),
                    FieldValue::Money(unit_amount.format(p.currency)),
                ));
            }
        }
        Pricing::Tiered { mode, tiers } => {
            if live.billing_scheme != "tiered" {
                out.push(FieldChange::replacing(
                    "billing_scheme",
                    FieldValue::Word(live.billing_scheme.to_string()),
                    FieldValue::Word("tiered".into()),
                ));
            }
            if live.tiers_mode.as_deref() != Some(mode.as_str()) {
                out.push(FieldChange::replacing(
                    "tiers_mode",
                    FieldValue::word(live.tiers_mode.as_deref()),
                    FieldValue::Word(mode.to_string()),
                ));
            }
            let (want, have) = (tier_shapes(tiers), live_tier_shapes(&live.tiers));
            if want != have {
                out.push(FieldChange::replacing(
                    "tiers",
                    FieldValue::Text(describe_tiers(&have, &live.currency)),
                    FieldValue::Text(describe_tiers(&want, currency)),
                ));
            }
        }
    }
    let live_recurring = live
        .recurring
        .as_ref()
        .map(|r| (r.interval.as_str(), r.interval_count));
    let want_recurring = p
        .recurring
        .map(|r| (r.interval.as_str(), u64::from(r.interval_count)));
    if live_recurring != want_recurring {
        out.push(FieldChange::replacing(
            "interval",
            FieldValue::Word(live.interval_word()),
            interval_word(p),
        ));
    }
    let want_transform = p
        .transform_quantity
        .map(|t| (t.divide_by, t.round.as_str()));
    let have_transform = live.transform_quantity.map(|(d, r)| (d, r.as_str()));
    if have_transform != want_transform {
        let show = |t: &Option<(u64, &str)>| {
            t.as_ref().map_or(FieldValue::None, |(d, r)| {
                FieldValue::Word(format!("divide by {d}, round {r}"))
            })
        };
        out.push(FieldChange::replacing(
            "transform_quantity",
            show(&have_transform),
            show(&want_transform),
        ));
    }
    if live.custom_unit_amount {
        out.push(FieldChange::replacing(
            "custom_unit_amount",
            FieldValue::Word("set".into()),
            FieldValue::None,
        ));
    }
    if let Some(tb) = p.tax_behavior
        && !unspecified(live.tax_behavior.as_deref())
        && live.tax_behavior.as_deref() != Some(tb.as_str())
    {
        out.push(FieldChange::replacing(
            "tax_behavior",
            FieldValue::word(live.tax_behavior.as_deref()),
            FieldValue::Word(tb.to_string()),
        ));
    }
    for (c, option) in &p.currency_options {
        if let (Some(tb), Some(live_option)) =
            (option.tax_behavior, live.currency_options.get(c.code()))
            && !unspecified(live_option.tax_behavior.as_deref())
            && live_option.tax_behavior.as_deref() != Some(tb.as_str())
        {
            out.push(FieldChange::replacing(
                format!("currency_options.{}.tax_behavior", c.code()),
                FieldValue::word(live_option.tax_behavior.as_deref()),
                FieldValue::Word(tb.to_string()),
            ));
        }
    }
    out
}

/// The meter of `live` against the declared one (`None`: licensed): Stripe cannot change a
/// price's `recurring`, so another meter, or metered against licensed, is a new price.
fn meter_diff(meter: Option<&ObjRef>, live: &LivePrice, out: &mut Vec<FieldChange>) {
    let live_meter = live
        .recurring
        .as_ref()
        .filter(|r| r.usage_type == "metered")
        .map(|r| {
            r.meter
                .clone()
                .unwrap_or_else(|| "(metered, no meter)".to_owned())
        });
    let same = match (meter, &live_meter) {
        (None, None) => true,
        (Some(ObjRef::Id(id)), Some(have)) => id == have,
        _ => false,
    };
    if !same {
        let want = match meter {
            None => FieldValue::None,
            Some(ObjRef::Id(id)) => FieldValue::Ref(id.to_string()),
            Some(ObjRef::Created(_)) => FieldValue::Ref("(new meter)".to_owned()),
        };
        out.push(FieldChange::replacing(
            "meter",
            live_meter.map_or(FieldValue::None, FieldValue::Ref),
            want,
        ));
    }
}

/// The in-place changes that make `live` match the declaration (shape aside).
fn mutable_diff(
    b: &Builder<'_>,
    p: &Price,
    address: &str,
    live: &LivePrice,
    transfer: bool,
) -> (Vec<FieldChange>, PriceUpdate) {
    let mut fields = Vec::new();
    let mut update = PriceUpdate::default();
    if live.lookup_key.as_deref() != Some(p.lookup_key.as_str()) {
        fields.push(FieldChange::new(
            "lookup_key",
            FieldValue::text(live.lookup_key.as_deref()),
            FieldValue::Text(p.lookup_key.clone()),
        ));
        update.lookup_key = Some(p.lookup_key.clone());
        update.transfer_lookup_key = transfer;
    }
    // Stripe may not clear a nickname: when omitted it is not managed.
    if let Some(nickname) = &p.nickname
        && live.nickname.as_ref() != Some(nickname)
    {
        fields.push(FieldChange::new(
            "nickname",
            FieldValue::text(live.nickname.as_deref()),
            FieldValue::Text(nickname.clone()),
        ));
        update.nickname = Some(nickname.clone());
    }
    if let Some(tb) = p.tax_behavior
        && unspecified(live.tax_behavior.as_deref())
        && tb != TaxBehavior::Unspecified
    {
        fields.push(FieldChange::new(
            "tax_behavior",
            FieldValue::word(live.tax_behavior.as_deref()),
            FieldValue::Word(tb.to_string()),
        ));
        update.tax_behavior = Some(tb);
    }
    let desired = owned_metadata(&p.metadata, address, b.namespace, p.on_remove.recorded());
    update.metadata = b.metadata_update(&desired, &live.metadata, &mut fields);

    let mut merge = BTreeMap::new();
    for (c, option) in &p.currency_options {
        let live_option = live.currency_options.get(c.code());
        let tax_pending = option.tax_behavior.is_some_and(|tb| {
            tb != TaxBehavior::Unspecified
                && live_option.is_some_and(|l| unspecified(l.tax_behavior.as_deref()))
        });
        let same = live_option.is_some_and(|l| same_amounts(option, l));
        if !same || tax_pending {
            fields.push(FieldChange::new(
                format!("currency_options.{}", c.code()),
                live_option.map_or(FieldValue::None, |l| live_option_value(l, c.code())),
                option_value(option, *c),
            ));
            merge.insert(*c, option.clone());
        }
    }
    let removed: Vec<&String> = live
        .currency_options
        .keys()
        .filter(|c| !p.currency_options.keys().any(|d| d.code() == c.as_str()))
        .collect();
    for c in &removed {
        fields.push(FieldChange::new(
            format!("currency_options.{c}"),
            live_option_value(&live.currency_options[*c], c),
            FieldValue::None,
        ));
    }
    if !removed.is_empty() {
        update.currency_options = Some(CurrencyOptionsUpdate::Replace(p.currency_options.clone()));
    } else if !merge.is_empty() {
        update.currency_options = Some(CurrencyOptionsUpdate::Merge(merge));
    }
    if !live.active {
        fields.push(FieldChange::active(false, true));
        update.active = Some(true);
    }
    (fields, update)
}

/// The declared fields as they are shown on creation.
fn creation_fields(p: &Price) -> Vec<FieldChange> {
    let mut fields = Vec::new();
    let mut add = |field: &str, value: FieldValue| {
        fields.push(FieldChange::new(field, FieldValue::None, value))
    };
    add("currency", FieldValue::Word(p.currency.code().to_owned()));
    match &p.pricing {
        Pricing::PerUnit { unit_amount } => add(
            "unit_amount",
            FieldValue::Money(unit_amount.format(p.currency)),
        ),
        Pricing::Tiered { mode, tiers } => {
            add("tiers_mode", FieldValue::Word(mode.to_string()));
            add(
                "tiers",
                FieldValue::Text(describe_tiers(&tier_shapes(tiers), p.currency.code())),
            );
        }
    }
    add("interval", interval_word(p));
    if let Some(m) = &p.meter {
        add("meter", FieldValue::Word(m.clone()));
    }
    if let Some(t) = p.transform_quantity {
        add(
            "transform_quantity",
            FieldValue::Word(format!("divide by {}, round {}", t.divide_by, t.round)),
        );
    }
    add("lookup_key", FieldValue::Text(p.lookup_key.clone()));
    if let Some(n) = &p.nickname {
        add("nickname", FieldValue::Text(n.clone()));
    }
    if let Some(tb) = p.tax_behavior {
        add("tax_behavior", FieldValue::Word(tb.to_string()));
    }
    for (c, option) in &p.currency_options {
        add(
            &format!("currency_options.{}", c.code()),
            option_value(option, *c),
        );
    }
    for (k, v) in &p.metadata {
        add(&format!("metadata.{k}"), FieldValue::Text(v.clone()));
    }
    fields
}

/// The id of a product that exists, or "" for one this plan creates.
fn pstate_product_id(obj: &ObjRef) -> &str {
    match obj {
        ObjRef::Id(id) => id,
        ObjRef::Created(_) => "",
    }
}

/// Plans every declared price; returns their states by (product key, price key).
pub(crate) fn plan_declared<'a>(b: &mut Builder<'a>, products: &Products<'a>) -> PriceStates<'a> {
    let catalog = b.catalog;
    let mut states = Vec::with_capacity(catalog.products.values().map(|p| p.prices.len()).sum());
    for (pkey, product) in &catalog.products {
        let Some(pstate) = products.states.get(pkey.as_str()) else {
            continue;
        };
        for (key, price) in &product.prices {
            let address = Address::price(pkey, key).to_string();
            let candidates: Vec<&'a LivePrice> = b.managed.at::<LivePrice>(&address);
            let d = Declared {
                fp: fingerprint(&candidates),
                holder: b.lookup_key_holder.get(&price.lookup_key),
                address,
                price,
                product: pstate,
                keys: (pkey, key),
            };
            let state = if product.active {
                d.plan(b, &candidates)
            } else {
                d.of_inactive_product(b, &candidates)
            };
            if let Some(state) = state {
                states.push(((pkey.as_str(), key.as_str()), state));
            }
        }
    }
    PriceStates::new(states)
}

/// One declared price being planned.
struct Declared<'a, 'p> {
    address: String,
    price: &'a Price,
    /// Where its product stands.
    product: &'p ProductState<'a>,
    /// Its product's key and its own.
    keys: (&'a str, &'a str),
    /// The live price holding its lookup key, managed or not.
    holder: Option<&'a LivePrice>,
    /// Digest of the live prices at its address.
    fp: String,
}

impl<'a> Declared<'a, '_> {
    /// A price of an inactive product is archived with it (see `plan_archives`), never
    /// created: the active one at its address stands for it.
    fn of_inactive_product(
        &self,
        b: &mut Builder<'a>,
        candidates: &[&'a LivePrice],
    ) -> Option<PriceState<'a>> {
        let current = candidates.iter().copied().find(|c| c.active);
        if current.is_none()
            && let Some(idx) = self.product.change
        {
            b.changes[idx].notes.push(format!(
                "{} is not created while its product is inactive",
                self.address
            ));
        }
        current.map(|c| PriceState {
            obj: ObjRef::Id(c.id.clone()),
            change: None,
            action: None,
            keep: None,
            replaced: None,
            ready: None,
        })
    }

    /// The current price: the active one holding the lookup key, else the newest active one,
    /// else an archived one that only needs unarchiving; then created, updated or replaced.
    fn plan(&self, b: &mut Builder<'a>, candidates: &[&'a LivePrice]) -> Option<PriceState<'a>> {
        let p = self.price;
        let current = candidates
            .iter()
            .copied()
            .find(|c| c.active && self.holder.is_some_and(|h| h.id == c.id))
            .or_else(|| candidates.iter().copied().find(|c| c.active))
            .or_else(|| {
                candidates
                    .iter()
                    .copied()
                    .find(|c| shape_diff(p, &self.product.obj, self.meter(b), c).is_empty())
            });
        let transfer = self.transfer(b, current);
        Some(match current {
            None => self.create(b, transfer),
            Some(live) => {
                let shape = shape_diff(p, &self.product.obj, self.meter(b), live);
                if shape.is_empty() && !replace_requested(b, &self.address) {
                    self.update(b, live, transfer)
                } else {
                    self.replace(b, live, shape, transfer)
                }
            }
        })
    }

    /// Whether the new or current price takes the lookup key from the price holding it: the
    /// key is free, already on the current price, held by another price of this catalog, or
    /// held by a price billing must not touch (a conflict).
    fn transfer(&self, b: &mut Builder<'a>, current: Option<&LivePrice>) -> bool {
        let p = self.price;
        let Some(h) = self.holder else {
            return false;
        };
        if current.is_some_and(|c| c.id == h.id) {
            return true;
        }
        let other = b.owner(&h.id, &h.metadata);
        if let Owner::Ours(_) = other {
            return true;
        }
        let (pkey, key) = self.keys;
        let address = &self.address;
        let who = match other {
            Owner::Foreign(ns) => match h.metadata.get(MARKER_KEY) {
                Some(at) => format!(
                    "which the catalog with namespace {ns:?} in this account manages as {}",
                    crate::visible::visible(at)
                ),
                None => format!("which the catalog with namespace {ns:?} manages"),
            },
            _ => "which billing does not manage".to_owned(),
        };
        let table = Address::price(pkey, key).declaration();
        let hint = match other {
            // Both catalogs take the default `<product>_<price>`: namespaces do not part lookup
            // keys, which are one per account.
            Owner::Foreign(ns) if !p.lookup_key_declared => format!(
                "default lookup keys are `<product>_<price>` in every namespace, and a lookup key is held by one price per account: give this price its own, e.g. `lookup_key = \"{}_{}\"` in {table} (the catalog with namespace {ns:?} keeps {:?})",
                b.namespace, p.lookup_key, p.lookup_key
            ),
            Owner::Foreign(ns) => format!(
                "set another `lookup_key` in {table}: a lookup key is held by one price per account, and the catalog with namespace {ns:?} keeps {:?}",
                p.lookup_key
            ),
            Owner::Unmanaged
                if !p.lookup_key_declared && h.product == pstate_product_id(&self.product.obj) =>
            {
                format!(
                    "to adopt {0}, write `lookup_key = {1:?}` (or `id = \"{0}\"`) in {2}; otherwise set another `lookup_key`, or remove the key from {0} in Stripe",
                    h.id,
                    p.lookup_key,
                    Address::price(pkey, key).declaration()
                )
            }
            Owner::Unmanaged => format!(
                "{} is on product {}, not on {}: set another `lookup_key` for {address}, or remove the key from it in Stripe",
                h.id,
                h.product,
                Address::product(pkey)
            ),
            _ => format!(
                "set another `lookup_key` for {address}, or remove the key from {} in Stripe",
                h.id
            ),
        };
        b.conflicts.push(Conflict {
            address: address.clone(),
            message: format!(
                "lookup key {:?} is held by {} ({}), {who}",
                p.lookup_key,
                h.id,
                h.summary()
            ),
            hint,
        });
        false
    }

    /// The meter it names, as this plan has it.
    fn meter<'b>(&self, b: &'b Builder<'a>) -> Option<&'b ObjRef> {
        self.price.meter.as_ref().and_then(|k| b.meters.get(k))
    }

    fn change(&self, action: Action, live: Option<&LivePrice>) -> Change {
        new_change(
            &self.address,
            action,
            live.map(|l| l.id.to_string()),
            format!("price {}", self.price.amount_summary()),
            self.fp.clone(),
        )
    }

    /// The step creating the declared price on its product, as `description`.
    fn create_step(
        &self,
        b: &mut Builder<'a>,
        change: usize,
        description: &str,
        transfer: bool,
    ) -> StepId {
        let p = self.price;
        let metadata = owned_metadata(
            &p.metadata,
            &self.address,
            b.namespace,
            p.on_remove.recorded(),
        );
        b.add_step(
            change,
            description,
            PriceWrite::Create(PriceSpec {
                product: self.product.obj.clone(),
                meter: self.meter(b).cloned(),
                price: p.clone(),
                metadata,
                transfer_lookup_key: transfer,
            }),
            self.product.ready.into_iter().collect(),
        )
    }

    /// A note that the lookup key moves to this price from the one holding it.
    fn key_moves(&self, change: &mut Change) {
        if let Some(h) = self.holder {
            change.notes.push(format!(
                "the lookup key {:?} moves here from {}",
                self.price.lookup_key, h.id
            ));
        }
    }

    /// A warning when a rename moves `live` here and so changes its default lookup key: the
    /// key applications look the price up by. Naming the old key keeps it.
    fn default_key_moves(&self, b: &mut Builder<'a>, live: &LivePrice) {
        let p = self.price;
        let (Some(old), Some(claim)) = (live.lookup_key.as_deref(), b.claims.get(&live.id)) else {
            return;
        };
        if p.lookup_key_declared || old == p.lookup_key {
            return;
        }
        if let Origin::Moved { from, .. } = &claim.origin {
            b.warnings.push(format!(
                "{address} (moved from {from}) changes its lookup key from {old:?} to {new:?}, the default for its new address: applications that look the price up by {old:?} will not find it; to keep the old key, write `lookup_key = {old:?}` in {table}",
                address = self.address,
                new = p.lookup_key,
                table = Address::price(self.keys.0, self.keys.1).declaration(),
            ));
        }
    }

    fn create(&self, b: &mut Builder<'a>, transfer: bool) -> PriceState<'a> {
        let mut change = self.change(Action::Create, None);
        change.fields = creation_fields(self.price);
        if transfer {
            self.key_moves(&mut change);
        }
        let idx = b.add_change(change);
        let step = self.create_step(b, idx, "create price", transfer);
        PriceState {
            obj: ObjRef::Created(step),
            change: Some(idx),
            action: Some(Action::Create),
            keep: None,
            replaced: None,
            ready: Some(step),
        }
    }

    /// What Stripe changes in place; an archived price is unarchived, after its product.
    fn update(&self, b: &mut Builder<'a>, live: &'a LivePrice, transfer: bool) -> PriceState<'a> {
        let takes_key = transfer && self.holder.is_some_and(|h| h.id != live.id);
        let (fields, update) = mutable_diff(b, self.price, &self.address, live, takes_key);
        self.default_key_moves(b, live);
        let mut state = PriceState {
            obj: ObjRef::Id(live.id.clone()),
            change: None,
            action: None,
            keep: Some(live),
            replaced: None,
            ready: None,
        };
        if fields.is_empty() {
            return state;
        }
        let action = if live.active {
            Action::Update
        } else {
            Action::Unarchive
        };
        let mut change = self.change(action, Some(live));
        change.fields = fields;
        if update.lookup_key.is_some() && self.holder.is_some_and(|h| h.id != live.id) {
            self.key_moves(&mut change);
        }
        let idx = b.add_change(change);
        let deps: Vec<StepId> = if live.active {
            Vec::new()
        } else {
            self.product.ready.into_iter().collect()
        };
        let step = b.add_step(
            idx,
            format!("{} price", action.verb(ResourceKind::Price)),
            PriceWrite::Update {
                object: ObjRef::Id(live.id.clone()),
                update,
            },
            deps,
        );
        state.ready = (!live.active).then_some(step);
        state.change = Some(idx);
        state.action = Some(action);
        state
    }

    /// A new price with what Stripe cannot change; the old one is archived once nothing
    /// refers to it (see `plan_archives`).
    fn replace(
        &self,
        b: &mut Builder<'a>,
        live: &'a LivePrice,
        shape: Vec<FieldChange>,
        transfer: bool,
    ) -> PriceState<'a> {
        let p = self.price;
        self.default_key_moves(b, live);
        let mut change = self.change(Action::Replace, Some(live));
        change.reason = Some(replacement(
            &self.address,
            ResourceKind::Price.noun(),
            &shape,
        ));
        change.fields = shape;
        let (more, _) = mutable_diff(b, p, &self.address, live, false);
        change
            .fields
            .extend(more.into_iter().filter(|f| f.field != "active"));
        if live.active {
            change.notes.push(if live.recurring.is_some() {
                format!(
                    "existing subscriptions stay on {} ({}); move them in Stripe if they should pay the new price",
                    live.id,
                    live.summary()
                )
            } else {
                format!(
                    "past invoices and payments keep referring to {} ({})",
                    live.id,
                    live.summary()
                )
            });
            change.notes.push(format!(
                "{} will be archived: code that starts new checkouts with that ID will fail; look the price up by its lookup key {:?} instead{}",
                live.id,
                p.lookup_key,
                if live.lookup_key.as_deref() == Some(p.lookup_key.as_str()) { ", which moves to the new price" } else { "" }
            ));
        }
        let idx = b.add_change(change);
        let step = self.create_step(b, idx, "create the replacement price", transfer);
        PriceState {
            obj: ObjRef::Created(step),
            change: Some(idx),
            action: Some(Action::Replace),
            keep: None,
            replaced: live.active.then_some((live, step)),
            ready: Some(step),
        }
    }
}

/// Archives every active managed price that is not current: replaced ones (within their
/// replacement), duplicates, prices of inactive products, and prices that left the catalog.
/// Each waits for its product's default price to move away from it. Returns the archive steps
/// by product id.
pub(crate) fn plan_archives<'a>(
    b: &mut Builder<'a>,
    prices: &PriceStates<'_>,
    defaults: &HashMap<String, StepId>,
) -> HashMap<String, Vec<StepId>> {
    let mut archives: HashMap<String, Vec<StepId>> = HashMap::new();
    // References into the live state, not into the builder: it stays free to change.
    let candidates: Vec<(&'a str, &'a LivePrice)> = b
        .managed
        .all_of::<LivePrice>()
        .filter(|(_, p)| p.active)
        .collect();
    for (address, live) in candidates {
        let mut parts = address.splitn(3, '.').skip(1);
        let (pkey, key) = (
            parts.next().unwrap_or_default(),
            parts.next().unwrap_or_default(),
        );
        let product = b.catalog.products.get(pkey);
        let declared = product.is_some_and(|p| p.prices.contains_key(key));
        let state = prices.get(&(pkey, key));
        if state.and_then(|s| s.keep).is_some_and(|k| k.id == live.id) {
            continue;
        }
        let mut deps: Vec<StepId> = Vec::new();
        let is_default = b
            .product_by_id
            .get(&live.product)
            .is_some_and(|p| p.default_price.as_deref() == Some(live.id.as_str()));
        if is_default && let Some(step) = defaults.get(live.product.as_str()) {
            deps.push(*step);
        }
        let request = PriceWrite::Update {
            object: ObjRef::Id(live.id.clone()),
            update: PriceUpdate {
                active: Some(false),
                ..PriceUpdate::default()
            },
        };
        if let Some((old, new_step)) = state.and_then(|s| s.replaced)
            && old.id == live.id
            && let Some(change) = state.and_then(|s| s.change)
        {
            deps.push(new_step);
            let step = b.add_step(change, "archive the replaced price", request, deps);
            archives
                .entry(live.product.to_string())
                .or_default()
                .push(step);
            continue;
        }
        let mut change = Change::of_live(address, Action::Archive, live);
        change.fields.push(FieldChange::active(true, false));
        let (reason, destroy) = if product.is_some_and(|p| !p.active) {
            ("its product is declared `active = false`".to_owned(), false)
        } else if declared {
            let current = state.map_or("another price".to_owned(), |s| match &s.obj {
                ObjRef::Id(id) => id.to_string(),
                ObjRef::Created(_) => "the new price".to_owned(),
            });
            (
                format!("a duplicate at this address; {current} is current"),
                false,
            )
        } else if product.is_some() {
            ("removed from billing.toml".to_owned(), true)
        } else {
            ("its product was removed from billing.toml".to_owned(), true)
        };
        change.reason = Some(reason);
        change.destroy = destroy;
        change.notes.push(format!(
            "existing subscriptions on {} continue; it can no longer be used for new checkouts",
            live.id
        ));
        let idx = b.add_change(change);
        let step = b.add_step(idx, "archive price", request, deps);
        archives
            .entry(live.product.to_string())
            .or_default()
            .push(step);
    }
    archives
}

/// Tiers as one of async-stripe's tier parameter types.
macro_rules! tiers {
    ($tiers:expr, $ty:ident, $up_to:ident) => {
        $tiers
            .iter()
            .map(|t: &Tier| {
                let mut out = $ty::new(match t.up_to {
                    Some(n) => $up_to::I64(i64::try_from(n).unwrap_or(i64::MAX)),
                    None => $up_to::Inf,
                });
                (out.unit_amount, out.unit_amount_decimal) = split(t.unit_amount);
                (out.flat_amount, out.flat_amount_decimal) = split(t.flat_amount);
                out
            })
            .collect::<Vec<_>>()
    };
}

/// Currency options as one of async-stripe's currency-option parameter types (`$ty`, with its
/// tier and `up_to` types).
macro_rules! currency_options {
    ($options:expr, $ty:ident, $tiers:ident, $up_to:ident) => {
        $options
            .iter()
            .map(|(c, o)| {
                let mut out = $ty::new();
                out.tax_behavior = o.tax_behavior.map(|t| parse(t.as_str()));
                match &o.pricing {
                    CurrencyOptionPricing::PerUnit(a) => {
                        (out.unit_amount, out.unit_amount_decimal) = split(Some(*a))
                    }
                    CurrencyOptionPricing::Tiered(t) => out.tiers = Some(tiers!(t, $tiers, $up_to)),
                }
                (currency(*c), out)
            })
            .collect()
    };
}

fn create_options(
    options: &std::collections::BTreeMap<crate::catalog::Currency, CurrencyOption>,
) -> HashMap<stripe_types::Currency, CreatePriceCurrencyOptions> {
    use stripe_product::price::CreatePriceCurrencyOptionsTiersUpTo as UpTo;
    currency_options!(
        options,
        CreatePriceCurrencyOptions,
        CreatePriceCurrencyOptionsTiers,
        UpTo
    )
}

fn update_options(
    options: &std::collections::BTreeMap<crate::catalog::Currency, CurrencyOption>,
) -> HashMap<stripe_types::Currency, UpdatePriceCurrencyOptions> {
    use stripe_product::price::UpdatePriceCurrencyOptionsTiersUpTo as UpTo;
    currency_options!(
        options,
        UpdatePriceCurrencyOptions,
        UpdatePriceCurrencyOptionsTiers,
        UpTo
    )
}

/// `POST /v1/prices`.
pub(crate) fn create_request(
    product: String,
    meter: Option<String>,
    spec: &PriceSpec,
) -> WireRequest {
    use stripe_product::price::CreatePriceTiersUpTo as UpTo;
    let p = &spec.price;
    let mut r = CreatePrice::new(currency(p.currency)).product(product);
    match &p.pricing {
        Pricing::PerUnit { unit_amount } => match split(Some(*unit_amount)) {
            (Some(i), _) => r = r.unit_amount(i),
            (_, Some(d)) => r = r.unit_amount_decimal(d),
            _ => {}
        },
        Pricing::Tiered { mode, tiers } => {
            r = r
                .billing_scheme(parse::<stripe_shared::PriceBillingScheme>("tiered"))
                .tiers_mode(parse::<stripe_shared::PriceTiersMode>(mode.as_str()))
                .tiers(tiers!(tiers, CreatePriceTiers, UpTo));
        }
    }
    if let Some(rec) = p.recurring {
        let mut recurring = CreatePriceRecurring::new(parse::<
            stripe_product::price::CreatePriceRecurringInterval,
        >(rec.interval.as_str()));
        recurring.interval_count = Some(u64::from(rec.interval_count));
        if let Some(meter) = meter {
            recurring.usage_type =
                Some(stripe_product::price::CreatePriceRecurringUsageType::Metered);
            recurring.meter = Some(meter);
        }
        r = r.recurring(recurring);
    }
    if let Some(t) = p.transform_quantity {
        r = r.transform_quantity(CreatePriceTransformQuantity::new(
            i64::try_from(t.divide_by).unwrap_or(i64::MAX),
            parse::<stripe_product::price::CreatePriceTransformQuantityRound>(t.round.as_str()),
        ));
    }
    r = r.lookup_key(p.lookup_key.clone());
    if spec.transfer_lookup_key {
        r = r.transfer_lookup_key(true);
    }
    if let Some(n) = &p.nickname {
        r = r.nickname(n.clone());
    }
    if let Some(t) = p.tax_behavior {
        r = r.tax_behavior(parse::<stripe_shared::PriceTaxBehavior>(t.as_str()));
    }
    if !p.currency_options.is_empty() {
        r = r.currency_options(create_options(&p.currency_options));
    }
    r = r.metadata(metadata_set(&spec.metadata));
    WireRequest::from_builder(r.build(), vec![])
}

/// `POST /v1/prices/{id}`, after a reset of its currency options when one is removed.
pub(crate) fn update_requests(id: String, u: &PriceUpdate) -> Vec<WireRequest> {
    let mut out = Vec::new();
    let mut r = UpdatePrice::new(id.clone());
    if let Some(active) = u.active {
        r = r.active(active);
    }
    if let Some(key) = &u.lookup_key {
        r = r.lookup_key(key.clone());
        if u.transfer_lookup_key {
            r = r.transfer_lookup_key(true);
        }
    }
    if let Some(n) = &u.nickname {
        r = r.nickname(n.clone());
    }
    if let Some(t) = u.tax_behavior {
        r = r.tax_behavior(parse::<stripe_shared::PriceTaxBehavior>(t.as_str()));
    }
    if !u.metadata.is_empty() {
        r = r.metadata(metadata_update(&u.metadata));
    }
    match &u.currency_options {
        None => out.push(WireRequest::from_builder(r.build(), vec![])),
        Some(CurrencyOptionsUpdate::Merge(options)) => {
            r = r.currency_options(update_options(options));
            out.push(WireRequest::from_builder(r.build(), vec![]));
        }
        Some(CurrencyOptionsUpdate::Replace(options)) => {
            // Stripe merges currency options per currency, so removing one takes a reset first.
            out.push(WireRequest::from_builder(
                UpdatePrice::new(id.clone()).build(),
                vec![("currency_options".to_owned(), String::new())],
            ));
            if !options.is_empty() {
                r = r.currency_options(update_options(options));
            }
            out.push(WireRequest::from_builder(r.build(), vec![]));
        }
    }
    out.retain(|w| !w.body.is_empty());
    out
}

/// A write to a price.
pub(crate) type PriceWrite = Writes<PriceSpec>;

impl Encode for PriceSpec {
    type Update = PriceUpdate;

    fn create(&self, resolve: Resolve<'_>) -> Vec<WireRequest> {
        let meter = self.meter.as_ref().map(resolve);
        vec![create_request(resolve(&self.product), meter, self)]
    }

    fn update(id: String, update: &PriceUpdate, _resolve: Resolve<'_>) -> Vec<WireRequest> {
        update_requests(id, update)
    }

    fn names(&self) -> Vec<&ObjRef> {
        let mut refs = vec![&self.product];
        refs.extend(&self.meter);
        refs
    }

    fn archives(update: &PriceUpdate) -> bool {
        update.active == Some(false)
    }
}
