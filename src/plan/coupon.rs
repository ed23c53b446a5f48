//! Planning coupons: create, update the few fields Stripe changes in place, replace for any
//! other change (a new coupon with a new id, its codes re-created, the old one deleted), and
//! delete what left the catalog (unless it says `on_remove = "keep"`).

use std::collections::{BTreeMap, HashMap};

use rust_decimal::Decimal;
use sha2::{Digest, Sha256};

use serde::Serialize;
use stripe_client_core::StripeRequest;

use super::action::Action;
use super::builder::Builder;
use super::change::Change;
use super::error::Conflict;
use super::lifecycle::{Blocked, Surplus, replacement_reason};
use super::metadata;
use super::placed::CouponState;
use super::placed::Coupons;
use super::placed::Products;
use super::request::{ObjRef, StepId};
use super::request::{Write, rank};
use super::value::{FieldChange, FieldValue};
use super::wire::{WireRequest, currency, metadata_set, metadata_update, minor, parse};
use crate::catalog::OnRemove;
use crate::catalog::{
    Coupon, CouponDuration, Currency, Discount, MinorAmount, RESERVED_METADATA_PREFIX,
};
use crate::digest::fingerprint;
use crate::live::LiveCoupon;
use crate::plan::request::Resolve;
use crate::resource::Address;
use crate::resource::{Owner, ResourceKind, owned_metadata};
use crate::timestamp::creatable_date;

/// A coupon to create: the declared entry, with the id billing chooses, the products it
/// applies to as objects, and the metadata it is created with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(super) struct CouponSpec {
    /// Always chosen by billing: the catalog key and a short digest, or the pinned id.
    pub id: String,
    pub coupon: Coupon,
    /// The products it applies to.
    pub applies_to: Vec<ObjRef>,
    /// Declared metadata plus billing's ownership marker.
    pub metadata: BTreeMap<String, String>,
}

/// The fields of a coupon to change (Stripe changes only these in place).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub(super) struct CouponUpdate {
    pub name: Option<String>,
    /// Keys to set (`Some`) or remove (`None`).
    pub metadata: BTreeMap<String, Option<String>>,
    /// Currencies whose `amount_off` to set.
    pub currency_options: BTreeMap<Currency, MinorAmount>,
}

fn address(key: &str) -> String {
    Address::new(ResourceKind::Coupon, key).to_string()
}

fn title(c: &Coupon) -> String {
    let name = c.name.as_deref().unwrap_or(&c.key);
    format!("coupon {name:?} ({}, {})", c.discount.summary(), c.duration)
}

fn live_duration(c: &LiveCoupon) -> String {
    match (c.duration.as_str(), c.duration_in_months) {
        ("repeating", Some(1)) => "for 1 month".to_owned(),
        ("repeating", Some(m)) => format!("for {m} months"),
        (d, _) => d.to_owned(),
    }
}

/// The products a coupon applies to, as the plan will refer to them.
fn applies_to(c: &Coupon, products: &Products<'_>) -> Vec<ObjRef> {
    c.applies_to
        .iter()
        .filter_map(|k| products.states.get(k.as_str()).map(|s| s.obj.clone()))
        .collect()
}

/// Declared metadata plus the marker (and `on_remove`, recorded on the coupon).
fn desired_metadata(c: &Coupon, namespace: &str) -> BTreeMap<String, String> {
    owned_metadata(
        &c.metadata,
        &address(&c.key),
        namespace,
        c.on_remove.recorded(),
    )
}

fn spec(b: &Builder<'_>, c: &Coupon, applies: Vec<ObjRef>) -> CouponSpec {
    let id = c.id.clone().unwrap_or_else(|| {
        // Never a reused id: the content and the account's newest catalog event make it new
        // whenever a coupon is (re-)created.
        let mut h = Sha256::new();
        h.update(b.namespace.as_bytes());
        h.update(serde_json::to_vec(c).unwrap_or_default());
        h.update(b.generation.as_deref().unwrap_or_default().as_bytes());
        let digest = h.finalize();
        let hex: String = digest[..4].iter().map(|x| format!("{x:02x}")).collect();
        format!("{}_{hex}", c.key)
    });
    CouponSpec {
        id,
        coupon: c.clone(),
        applies_to: applies,
        metadata: desired_metadata(c, b.namespace),
    }
}

/// The fields Stripe cannot change on `live` that differ from the declaration.
fn shape_diff(c: &Coupon, applies: &[ObjRef], live: &LiveCoupon) -> Vec<FieldChange> {
    let mut out = Vec::new();
    let discount_same = match &c.discount {
        Discount::PercentOff(p) => live
            .percent_off
            .as_deref()
            .and_then(|t| crate::catalog::parse_decimal(t).ok())
            .is_some_and(|d: Decimal| d.normalize() == p.0.normalize()),
        Discount::AmountOff {
            currency, amount, ..
        } => {
            live.amount_off == amount.as_integer()
                && live.currency.as_deref() == Some(currency.code())
        }
    };
    if !discount_same {
        out.push(FieldChange::replacing(
            "discount",
            FieldValue::Word(live.discount()),
            FieldValue::Word(c.discount.summary()),
        ));
    }
    if live_duration(live) != c.duration.to_string() {
        out.push(FieldChange::replacing(
            "duration",
            FieldValue::Word(live_duration(live)),
            FieldValue::Word(c.duration.to_string()),
        ));
    }
    let live_max = live.max_redemptions.and_then(|m| u64::try_from(m).ok());
    if live_max != c.max_redemptions {
        let show = |m: Option<u64>| {
            m.map_or(FieldValue::None, |m| {
                FieldValue::Int(i64::try_from(m).unwrap_or(i64::MAX))
            })
        };
        out.push(FieldChange::replacing(
            "max_redemptions",
            show(live_max),
            show(c.max_redemptions),
        ));
    }
    if live.redeem_by != c.redeem_by {
        out.push(FieldChange::replacing(
            "redeem_by",
            FieldValue::date(live.redeem_by),
            FieldValue::date(c.redeem_by),
        ));
    }
    let mut want: Vec<String> = applies
        .iter()
        .map(|r| match r {
            ObjRef::Id(id) => id.to_string(),
            ObjRef::Created(_) => "(new product)".to_owned(),
        })
        .collect();
    want.sort();
    let mut have = live.applies_to.clone();
    have.sort();
    if want != have {
        out.push(FieldChange::replacing(
            "applies_to",
            FieldValue::List(have),
            FieldValue::List(want),
        ));
    }
    if let Discount::AmountOff {
        currency_options, ..
    } = &c.discount
    {
        for code in live.currency_options.keys() {
            if !currency_options.keys().any(|c| c.code() == code) {
                let have = live.currency_options[code];
                let shown = match (Currency::parse(code), MinorAmount::from_minor(have)) {
                    (Some(cur), Ok(a)) => FieldValue::Money(a.format(cur)),
                    _ => FieldValue::Word(format!("{have} {code} minor units")),
                };
                out.push(FieldChange::replacing(
                    format!("currency_options.{code}"),
                    shown,
                    FieldValue::None,
                ));
            }
        }
    }
    out
}

/// The in-place changes (name, metadata, currency options) that make `live` match.
fn mutable_diff(
    b: &Builder<'_>,
    c: &Coupon,
    live: &LiveCoupon,
) -> (Vec<FieldChange>, CouponUpdate) {
    let mut fields = Vec::new();
    let mut update = CouponUpdate::default();
    // An omitted name is not managed: Stripe does not document clearing it.
    if let Some(name) = &c.name
        && live.name.as_ref() != Some(name)
    {
        fields.push(FieldChange::new(
            "name",
            FieldValue::text(live.name.as_deref()),
            FieldValue::Text(name.clone()),
        ));
        update.name = Some(name.clone());
    }
    let desired = desired_metadata(c, b.namespace);
    update.metadata = metadata::diff(
        &desired,
        &live.metadata,
        |k| b.catalog.ignores_metadata_key(k) && !k.starts_with(RESERVED_METADATA_PREFIX),
        &mut fields,
    );
    if let Discount::AmountOff {
        currency_options, ..
    } = &c.discount
    {
        for (currency, amount) in currency_options {
            let have = live.currency_options.get(currency.code()).copied();
            if have != amount.as_integer() {
                fields.push(FieldChange::new(
                    format!("currency_options.{}", currency.code()),
                    have.and_then(|h| MinorAmount::from_minor(h).ok())
                        .map_or(FieldValue::None, |h| FieldValue::Money(h.format(*currency))),
                    FieldValue::Money(amount.format(*currency)),
                ));
                update.currency_options.insert(*currency, *amount);
            }
        }
    }
    (fields, update)
}

/// The active promotion codes on `coupon` that this catalog neither manages nor declares
/// (declared ones are taken over by the codes the catalog creates).
fn unmanaged_codes(b: &Builder<'_>, coupon: &str) -> Vec<String> {
    b.all_codes
        .iter()
        .filter(|p| {
            p.coupon == coupon
                && p.active
                && !matches!(b.owner(&p.id, &p.metadata), Owner::Ours(_))
                && !super::promotion_code::taken_over(b.catalog, p)
        })
        .map(|p| format!("{} ({})", p.code, p.id))
        .collect()
}

fn creation_fields(spec: &CouponSpec, c: &Coupon) -> Vec<FieldChange> {
    let mut fields = vec![FieldChange::new(
        "id",
        FieldValue::None,
        FieldValue::Word(spec.id.clone()),
    )];
    let mut add = |field: &str, value: FieldValue| {
        fields.push(FieldChange::new(field, FieldValue::None, value))
    };
    if let Some(name) = &c.name {
        add("name", FieldValue::Text(name.clone()));
    }
    add("discount", FieldValue::Word(c.discount.summary()));
    add("duration", FieldValue::Word(c.duration.to_string()));
    if let Some(max) = c.max_redemptions {
        add(
            "max_redemptions",
            FieldValue::Int(i64::try_from(max).unwrap_or(i64::MAX)),
        );
    }
    if c.redeem_by.is_some() {
        add("redeem_by", FieldValue::date(c.redeem_by));
    }
    if !c.applies_to.is_empty() {
        add(
            "applies_to",
            FieldValue::List(
                c.applies_to
                    .iter()
                    .map(|k| Address::product(k).to_string())
                    .collect(),
            ),
        );
    }
    if let Discount::AmountOff {
        currency_options, ..
    } = &c.discount
    {
        for (currency, amount) in currency_options {
            add(
                &format!("currency_options.{}", currency.code()),
                FieldValue::Money(amount.format(*currency)),
            );
        }
    }
    for (k, v) in &c.metadata {
        add(&format!("metadata.{k}"), FieldValue::Text(v.clone()));
    }
    fields
}

/// Plans every declared coupon, and the deletion of managed coupons that are not current.
pub(crate) fn plan_declared<'a>(b: &mut Builder<'a>, products: &Products<'a>) -> Coupons<'a> {
    let mut coupons = Coupons {
        states: BTreeMap::new(),
        deletions: Vec::new(),
    };
    let mut current: Vec<String> = Vec::new();
    let catalog = b.catalog;
    for (key, c) in &catalog.coupons {
        let Some((state, live)) = declared(b, products, key, c, &mut coupons.deletions) else {
            continue;
        };
        current.extend(live.map(|l| l.id.clone()));
        coupons.states.insert(key.as_str(), state);
    }
    delete_others(b, &current, &mut coupons.deletions);
    coupons
}

/// The live coupon a declared one is: the one its `id` pins (a conflict when another catalog
/// manages it), else the one at its address that already matches (an interrupted replacement
/// can leave two), else the newest there.
fn current<'a>(
    b: &mut Builder<'a>,
    addr: &str,
    c: &Coupon,
    applies: &[ObjRef],
) -> Result<Option<&'a LiveCoupon>, Blocked> {
    let Some(id) = &c.id else {
        let candidates = b.managed.at::<LiveCoupon>(addr);
        return Ok(candidates
            .iter()
            .copied()
            .find(|live| shape_diff(c, applies, live).is_empty())
            .or_else(|| candidates.first().copied()));
    };
    match b.coupon_by_id.get(id) {
        Some(live) if matches!(b.owner(&live.id, &live.metadata), Owner::Ours(_)) => Ok(Some(live)),
        Some(live) => {
            b.conflicts.push(Conflict {
                address: addr.to_owned(),
                message: format!(
                    "coupon {} exists but this catalog does not manage it",
                    live.id
                ),
                hint: "pin the coupon to another id, or remove `id` to let billing choose one"
                    .to_owned(),
            });
            Err(Blocked)
        }
        None => Ok(None),
    }
}

/// One declared coupon: created, replaced (a new coupon; the old one deleted once its codes
/// moved), or updated in place. Returns where it stands and the live coupon that stays
/// current, or `None` when a conflict stands in the way.
fn declared<'a>(
    b: &mut Builder<'a>,
    products: &Products<'a>,
    key: &str,
    c: &'a Coupon,
    deletions: &mut Vec<(String, usize)>,
) -> Option<(CouponState<'a>, Option<&'a LiveCoupon>)> {
    let addr = address(key);
    let applies = applies_to(c, products);
    let current = current(b, &addr, c, &applies).ok()?;
    let fp = fingerprint(&b.managed.at::<LiveCoupon>(&addr));
    let ready_products: Vec<StepId> = c
        .applies_to
        .iter()
        .filter_map(|k| products.states.get(k.as_str()).and_then(|s| s.ready))
        .collect();
    let create = |b: &mut Builder<'a>, live: Option<&'a LiveCoupon>| {
        create(
            b,
            &addr,
            c,
            &applies,
            live,
            fp.clone(),
            ready_products.clone(),
        )
    };
    match current {
        None => {
            let (_, step) = create(b, None)?;
            Some((
                CouponState {
                    obj: ObjRef::Created(step),
                    ready: Some(step),
                    replaced: None,
                },
                None,
            ))
        }
        Some(live) if !shape_diff(c, &applies, live).is_empty() => {
            if c.id.is_some() {
                b.conflicts.push(Conflict {
                    address: addr.clone(),
                    message: format!(
                        "coupon {} is pinned by `id`, but the change needs a new coupon",
                        live.id
                    ),
                    hint: "remove `id` so that billing can replace the coupon under a new id"
                        .to_owned(),
                });
                return None;
            }
            let (idx, step) = create(b, Some(live))?;
            deletions.push((live.id.clone(), idx));
            Some((
                CouponState {
                    obj: ObjRef::Created(step),
                    ready: Some(step),
                    replaced: Some((live, idx)),
                },
                Some(live),
            ))
        }
        Some(live) => {
            update(b, &addr, c, live, fp);
            Some((
                CouponState {
                    obj: ObjRef::Id(live.id.as_str().into()),
                    ready: None,
                    replaced: None,
                },
                Some(live),
            ))
        }
    }
}

/// The change and step creating a coupon, new or replacing `live`; `None` when Stripe would
/// refuse its `redeem_by` (a conflict says so).
fn create<'a>(
    b: &mut Builder<'a>,
    addr: &str,
    c: &Coupon,
    applies: &[ObjRef],
    live: Option<&'a LiveCoupon>,
    fp: String,
    ready_products: Vec<StepId>,
) -> Option<(usize, StepId)> {
    if let Some(problem) = c.redeem_by.and_then(|by| creatable_date(by, b.now)) {
        b.conflicts.push(Conflict {
            address: addr.to_owned(),
            message: format!("redeem_by {problem}: Stripe cannot create the coupon"),
            hint: "set `redeem_by` between now and five years from now".to_owned(),
        });
        return None;
    }
    let spec = spec(b, c, applies.to_vec());
    let action = if live.is_some() {
        Action::Replace
    } else {
        Action::Create
    };
    let mut change = Change::new(
        ResourceKind::Coupon,
        addr,
        action,
        live.map(|l| l.id.clone()),
        title(c),
        fp,
    );
    match live {
        Some(live) => replacement(b, &mut change, c, applies, live, &spec),
        None => change.fields = creation_fields(&spec, c),
    }
    let idx = b.add_change(change);
    let step = b.add_step(
        idx,
        "create coupon",
        CouponWrite::Create {
            coupon: Box::new(spec),
        },
        ready_products,
    );
    Some((idx, step))
}

/// What a replacement of `live` by the coupon `spec` shows: the new id, the fields that force
/// it and the others that change, and what it means for customers and unmanaged codes.
fn replacement(
    b: &Builder<'_>,
    change: &mut Change,
    c: &Coupon,
    applies: &[ObjRef],
    live: &LiveCoupon,
    spec: &CouponSpec,
) {
    change.fields = shape_diff(c, applies, live);
    let (more, _) = mutable_diff(b, c, live);
    change.fields.extend(more);
    // The new coupon has only the declared name: an omitted one is dropped.
    if c.name.is_none()
        && let Some(name) = &live.name
    {
        change.fields.push(FieldChange::new(
            "name",
            FieldValue::Text(name.clone()),
            FieldValue::None,
        ));
    }
    let forced: Vec<FieldChange> = change
        .fields
        .iter()
        .filter(|f| f.forces_replacement)
        .cloned()
        .collect();
    change.reason = Some(replacement_reason(ResourceKind::Coupon.noun(), &forced));
    change.fields.insert(
        0,
        FieldChange::replacing(
            "id",
            FieldValue::Word(live.id.clone()),
            FieldValue::Word(spec.id.clone()),
        ),
    );
    change.notes.push(format!(
        "customers who already redeemed {} keep their discount; redemptions count again from zero on {}",
        live.id, spec.id
    ));
    let unmanaged = unmanaged_codes(b, &live.id);
    if !unmanaged.is_empty() {
        change.notes.push(format!(
            "promotion codes on {} that billing.toml does not declare would stop working: {}",
            live.id,
            unmanaged.join(", ")
        ));
        change.blockers = unmanaged;
    }
}

/// A current coupon: what Stripe changes in place (name, metadata, currency options).
fn update(b: &mut Builder<'_>, addr: &str, c: &Coupon, live: &LiveCoupon, fp: String) {
    if !live.valid {
        b.notices.push(format!(
            "{addr}: Stripe no longer lets customers redeem coupon {} (its redeem_by passed or it was used up); change `redeem_by` or `max_redemptions` to replace it",
            live.id
        ));
    }
    let (fields, update) = mutable_diff(b, c, live);
    if fields.is_empty() {
        return;
    }
    let mut change = Change::new(
        ResourceKind::Coupon,
        addr,
        Action::Update,
        Some(live.id.clone()),
        title(c),
        fp,
    );
    change.fields = fields;
    let idx = b.add_change(change);
    b.add_step(
        idx,
        "update coupon",
        CouponWrite::Update {
            coupon: ObjRef::Id(live.id.as_str().into()),
            update,
        },
        vec![],
    );
}

/// Managed coupons that are not current: duplicates at a declared address, and coupons that
/// left the catalog (deleted, unless they recorded `on_remove = "keep"`).
fn delete_others(b: &mut Builder<'_>, current: &[String], deletions: &mut Vec<(String, usize)>) {
    let others: Vec<(String, LiveCoupon)> = b
        .managed
        .all_of::<LiveCoupon>()
        .map(|(a, o)| (a.to_owned(), o.clone()))
        .filter(|(_, c)| !current.contains(&c.id))
        .collect();
    for (addr, live) in others {
        let removed = !b.catalog.declares(&addr);
        if removed && OnRemove::of(&live.metadata) == Some(OnRemove::Keep) {
            b.notices.push(format!(
                "{addr}: coupon {} left billing.toml and is kept in Stripe (on_remove = \"keep\")",
                live.id
            ));
            continue;
        }
        let mut change = Change::of_live(&addr, Action::Delete, &live);
        let why = if removed {
            Surplus::Removed
        } else {
            Surplus::Duplicate
        };
        change.destroy = removed;
        change.reason = Some(why.reason().to_owned());
        change.notes.push(
            "customers who already redeemed it keep their discount; nobody can redeem it any more"
                .to_owned(),
        );
        let unmanaged = unmanaged_codes(b, &live.id);
        if !unmanaged.is_empty() {
            change.notes.push(format!(
                "promotion codes that billing.toml does not declare stop working: {}",
                unmanaged.join(", ")
            ));
            change.blockers = unmanaged;
        }
        let idx = b.add_change(change);
        deletions.push((live.id.clone(), idx));
    }
}

/// Adds the deletion step of each coupon to delete, after its promotion codes moved away.
pub(crate) fn plan_deletions(
    b: &mut Builder<'_>,
    coupons: &Coupons<'_>,
    deactivations: &HashMap<String, Vec<StepId>>,
) {
    for (id, change) in &coupons.deletions {
        let mut deps = deactivations.get(id).cloned().unwrap_or_default();
        // Within a replacement, the new coupon and its codes come first.
        if let Some(state) = coupons
            .states
            .values()
            .find(|s| s.replaced.is_some_and(|(old, _)| &old.id == id))
        {
            deps.extend(state.ready);
            // ... and the codes re-created on it, so the old coupon goes last.
            let new = state.obj.clone();
            deps.extend(
                b.steps
                    .iter()
                    .filter(|step| {
                        step.request.creates() && step.request.references().contains(&&new)
                    })
                    .map(|step| step.id),
            );
        }
        let description = if b.changes[*change].action == Action::Replace {
            "delete the replaced coupon"
        } else {
            "delete coupon"
        };
        b.add_step(
            *change,
            description,
            CouponWrite::Delete {
                coupon: ObjRef::Id(id.as_str().into()),
            },
            deps,
        );
    }
}

/// `POST /v1/coupons`.
pub(crate) fn create_request(
    spec: &CouponSpec,
    resolve: &impl Fn(&ObjRef) -> String,
) -> WireRequest {
    use stripe_product::coupon::{CreateCoupon, CreateCouponAppliesTo, CurrencyOption as Option_};
    let Coupon {
        key: _,
        id: _,
        name,
        discount,
        duration,
        max_redemptions,
        redeem_by,
        applies_to: _,
        metadata: _,
        on_remove: _,
        moved_from: _,
    } = &spec.coupon;
    let (duration, months) = match duration {
        CouponDuration::Once => ("once", None),
        CouponDuration::Repeating { months } => ("repeating", Some(*months)),
        CouponDuration::Forever => ("forever", None),
    };
    let mut r = CreateCoupon::new()
        .id(spec.id.clone())
        .duration(parse::<stripe_shared::CouponDuration>(duration));
    match discount {
        Discount::PercentOff(p) => {
            r = r.percent_off(p.0.to_string().parse::<f64>().unwrap_or_default());
        }
        Discount::AmountOff {
            currency,
            amount,
            currency_options,
        } => {
            r = r
                .amount_off(minor(*amount))
                .currency(self::currency(*currency));
            if !currency_options.is_empty() {
                let options = currency_options
                    .iter()
                    .map(|(k, v)| (self::currency(*k), Option_::new(minor(*v))));
                r = r.currency_options(options.collect::<HashMap<_, _>>());
            }
        }
    }
    if let Some(months) = months {
        r = r.duration_in_months(i64::from(months));
    }
    if let Some(max) = max_redemptions {
        r = r.max_redemptions(i64::try_from(*max).unwrap_or(i64::MAX));
    }
    if let Some(at) = redeem_by {
        r = r.redeem_by(*at);
    }
    if !spec.applies_to.is_empty() {
        let mut applies = CreateCouponAppliesTo::new();
        applies.products = Some(spec.applies_to.iter().map(resolve).collect());
        r = r.applies_to(applies);
    }
    if let Some(name) = name {
        r = r.name(name.clone());
    }
    r = r.metadata(metadata_set(&spec.metadata));
    WireRequest::from_builder(r.build(), vec![])
}

/// `POST /v1/coupons/{id}`.
pub(crate) fn update_request(id: String, u: &CouponUpdate) -> WireRequest {
    use stripe_product::coupon::{CurrencyOption as Option_, UpdateCoupon};
    let mut r = UpdateCoupon::new(id);
    if let Some(name) = &u.name {
        r = r.name(name.clone());
    }
    if !u.metadata.is_empty() {
        r = r.metadata(metadata_update(&u.metadata));
    }
    if !u.currency_options.is_empty() {
        r = r.currency_options(
            u.currency_options
                .iter()
                .map(|(k, v)| (currency(*k), Option_::new(minor(*v))))
                .collect::<HashMap<_, _>>(),
        );
    }
    WireRequest::from_builder(r.build(), vec![])
}

/// A write to a coupon.
#[derive(Debug, Clone)]
pub(crate) enum CouponWrite {
    Create {
        coupon: Box<CouponSpec>,
    },
    Update {
        coupon: ObjRef,
        update: CouponUpdate,
    },
    Delete {
        coupon: ObjRef,
    },
}

impl Write for CouponWrite {
    fn target(&self) -> Option<&ObjRef> {
        match self {
            Self::Create { .. } => None,
            Self::Update { coupon, .. } | Self::Delete { coupon } => Some(coupon),
        }
    }

    fn references(&self) -> Vec<&ObjRef> {
        match self {
            Self::Create { coupon } => coupon.applies_to.iter().collect(),
            Self::Update { coupon, .. } | Self::Delete { coupon } => vec![coupon],
        }
    }

    fn rank(&self) -> u8 {
        match self {
            Self::Create { .. } => rank::CREATE,
            Self::Update { .. } => rank::UPDATE,
            Self::Delete { .. } => rank::DELETE,
        }
    }

    fn creates(&self) -> bool {
        matches!(self, Self::Create { .. })
    }

    fn wire(&self, resolve: Resolve<'_>) -> Vec<WireRequest> {
        match self {
            Self::Create { coupon } => vec![create_request(coupon, &resolve)],
            Self::Update { coupon, update } => vec![update_request(resolve(coupon), update)],
            Self::Delete { coupon } => vec![WireRequest::from_builder(
                stripe_product::coupon::DeleteCoupon::new(resolve(coupon)).build(),
                vec![],
            )],
        }
    }
}
