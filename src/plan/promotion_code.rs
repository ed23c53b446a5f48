//! Planning promotion codes: create, change in place what Stripe allows (active, metadata,
//! minimum amounts per currency), replace anything else (deactivate the old code, then create
//! the new one with the same customer-facing code), and deactivate what left the catalog.
//! A code that Stripe deactivated itself (expired, exhausted, coupon gone) is reported, not
//! planned as a change billing could not make.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use stripe_client_core::StripeRequest;

use super::action::Action;
use super::builder::Builder;
use super::change::Change;
use super::error::Conflict;
use super::lifecycle::{Surplus, replacement_reason};
use super::placed::{CouponState, Coupons};
use super::request::{Encode, Writes, rank};
use super::request::{ObjRef, StepId};
use super::value::{FieldChange, FieldValue};
use super::wire::{WireRequest, currency, metadata_set, metadata_update, minor};
use crate::catalog::{Currency, MinorAmount, PromotionCode};
use crate::digest::fingerprint;
use crate::live::LivePromotionCode;
use crate::plan::request::Resolve;
use crate::resource::Address;
use crate::resource::{Owner, ResourceKind, with_marker};
use crate::timestamp::creatable_date;
use crate::timestamp::format_timestamp;

/// A promotion code to create: the declared code, with the metadata it is created with
/// (declared plus billing's ownership marker).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct PromotionCodeSpec {
    /// The coupon it is on.
    pub coupon: ObjRef,
    pub code: PromotionCode,
    pub metadata: BTreeMap<String, String>,
}

/// The fields of a promotion code to change (Stripe changes only these in place).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub(super) struct PromotionCodeUpdate {
    pub active: Option<bool>,
    /// Keys to set (`Some`) or remove (`None`).
    pub metadata: BTreeMap<String, Option<String>>,
    /// Currencies whose minimum amount to set.
    pub minimum_amount_options: BTreeMap<Currency, MinorAmount>,
}

fn address(key: &str) -> String {
    Address::new(ResourceKind::PromotionCode, key).to_string()
}

fn title(code: &str, coupon: &str) -> String {
    format!(
        "promotion code {code} ({})",
        Address::new(ResourceKind::Coupon, coupon)
    )
}

/// Why Stripe deactivated a code by itself, if it did, and what the user can do about it.
fn dead(b: &Builder<'_>, live: &LivePromotionCode) -> Option<(String, &'static str)> {
    const CHANGE_CODE: &str =
        "change the code's `expires_at` or `max_redemptions` to issue a new one";
    const CHANGE_COUPON: &str =
        "change its coupon's `redeem_by` or `max_redemptions` to replace the coupon and its codes";
    if live.active {
        return None;
    }
    if let Some(at) = live.expires_at
        && at <= b.now
    {
        return Some((format!("expired on {}", format_timestamp(at)), CHANGE_CODE));
    }
    if let Some(max) = live.max_redemptions
        && live.times_redeemed >= max
    {
        return Some((
            format!("used up: redeemed {} of {max} times", live.times_redeemed),
            CHANGE_CODE,
        ));
    }
    match b.coupon_by_id.get(&live.coupon) {
        None => Some((
            format!("its coupon {} was deleted", live.coupon),
            CHANGE_COUPON,
        )),
        Some(c) if !c.valid => Some((
            format!("its coupon {} can no longer be redeemed", live.coupon),
            CHANGE_COUPON,
        )),
        Some(_) => None,
    }
}

fn money(amount: i64, currency: &str) -> FieldValue {
    match (Currency::parse(currency), MinorAmount::from_minor(amount)) {
        (Some(c), Ok(a)) => FieldValue::Money(a.format(c)),
        _ => FieldValue::Word(format!("{amount} {currency} minor units")),
    }
}

fn count(n: Option<u64>) -> FieldValue {
    n.map_or(FieldValue::None, |n| {
        FieldValue::Int(i64::try_from(n).unwrap_or(i64::MAX))
    })
}

/// The fields Stripe cannot change on `live` that differ from the declaration.
fn shape_diff(p: &PromotionCode, coupon: &ObjRef, live: &LivePromotionCode) -> Vec<FieldChange> {
    let mut out = Vec::new();
    match coupon {
        ObjRef::Id(id) if &live.coupon == id => {}
        ObjRef::Id(id) => out.push(FieldChange::replacing(
            "coupon",
            FieldValue::Ref(live.coupon.clone()),
            FieldValue::Ref(id.to_string()),
        )),
        ObjRef::Created(_) => out.push(FieldChange::replacing(
            "coupon",
            FieldValue::Ref(live.coupon.clone()),
            FieldValue::Ref(format!(
                "{} (new)",
                Address::new(ResourceKind::Coupon, &p.coupon)
            )),
        )),
    }
    if live.code != p.code {
        out.push(FieldChange::replacing(
            "code",
            FieldValue::Word(live.code.clone()),
            FieldValue::Word(p.code.clone()),
        ));
    }
    if live.customer != p.customer {
        out.push(FieldChange::replacing(
            "customer",
            FieldValue::word(live.customer.as_deref()),
            FieldValue::word(p.customer.as_deref()),
        ));
    }
    if live.expires_at != p.expires_at {
        out.push(FieldChange::replacing(
            "expires_at",
            FieldValue::date(live.expires_at),
            FieldValue::date(p.expires_at),
        ));
    }
    let live_max = live.max_redemptions.and_then(|m| u64::try_from(m).ok());
    if live_max != p.max_redemptions {
        out.push(FieldChange::replacing(
            "max_redemptions",
            count(live_max),
            count(p.max_redemptions),
        ));
    }
    if live.first_time_transaction != p.first_time_transaction {
        out.push(FieldChange::replacing(
            "first_time_transaction",
            FieldValue::Bool(live.first_time_transaction),
            FieldValue::Bool(p.first_time_transaction),
        ));
    }
    let want_min = p
        .minimum_amount
        .map(|(c, a)| (a.as_integer(), c.code().to_owned()));
    let have_min = live.minimum_amount.map(|a| {
        (
            Some(a),
            live.minimum_amount_currency.clone().unwrap_or_default(),
        )
    });
    if want_min != have_min {
        let show_live = live
            .minimum_amount
            .zip(live.minimum_amount_currency.as_deref())
            .map_or(FieldValue::None, |(a, c)| money(a, c));
        let show_want = p
            .minimum_amount
            .map_or(FieldValue::None, |(c, a)| FieldValue::Money(a.format(c)));
        out.push(FieldChange::replacing(
            "minimum_amount",
            show_live,
            show_want,
        ));
    }
    for code in live.currency_options.keys() {
        if !p.minimum_amount_options.keys().any(|c| c.code() == code) {
            out.push(FieldChange::replacing(
                format!("currency_options.{code}"),
                money(live.currency_options[code], code),
                FieldValue::None,
            ));
        }
    }
    out
}

fn creation_fields(p: &PromotionCode) -> Vec<FieldChange> {
    let mut fields = Vec::new();
    let mut add = |field: &str, value: FieldValue| {
        fields.push(FieldChange::new(field, FieldValue::None, value))
    };
    add("code", FieldValue::Word(p.code.clone()));
    add(
        "coupon",
        FieldValue::Ref(Address::new(ResourceKind::Coupon, &p.coupon).to_string()),
    );
    if !p.active {
        add("active", FieldValue::Bool(false));
    }
    if let Some(c) = &p.customer {
        add("customer", FieldValue::Word(c.clone()));
    }
    if p.expires_at.is_some() {
        add("expires_at", FieldValue::date(p.expires_at));
    }
    if p.max_redemptions.is_some() {
        add("max_redemptions", count(p.max_redemptions));
    }
    if p.first_time_transaction {
        add("first_time_transaction", FieldValue::Bool(true));
    }
    if let Some((c, a)) = p.minimum_amount {
        add("minimum_amount", FieldValue::Money(a.format(c)));
    }
    for (c, a) in &p.minimum_amount_options {
        add(
            &format!("currency_options.{}", c.code()),
            FieldValue::Money(a.format(*c)),
        );
    }
    for (k, v) in &p.metadata {
        add(&format!("metadata.{k}"), FieldValue::Text(v.clone()));
    }
    fields
}

fn spec(b: &Builder<'_>, p: &PromotionCode, coupon: ObjRef) -> PromotionCodeSpec {
    PromotionCodeSpec {
        coupon,
        code: p.clone(),
        metadata: with_marker(&p.metadata, &address(&p.key), b.namespace),
    }
}

/// An active code that is not this catalog's and that the declared code would clash with.
fn clashing<'a>(b: &Builder<'a>, p: &PromotionCode) -> Option<&'a LivePromotionCode> {
    b.all_codes.iter().find(|c| {
        c.active
            && codes_clash(
                &c.code,
                c.customer.as_deref(),
                &p.code,
                p.customer.as_deref(),
            )
            && !matches!(b.owner(&c.id, &c.metadata), Owner::Ours(_))
    })
}

/// Whether a live code billing does not manage will be taken over by a declared code.
pub(crate) fn taken_over(catalog: &crate::catalog::Catalog, live: &LivePromotionCode) -> bool {
    catalog.promotion_codes.values().any(|p| {
        codes_clash(
            &live.code,
            live.customer.as_deref(),
            &p.code,
            p.customer.as_deref(),
        )
    })
}

/// Deactivation and activation steps, to order them across addresses and coupons.
#[derive(Default)]
struct Ledger {
    /// Deactivation steps by the id of the coupon the code is on.
    by_coupon: HashMap<String, Vec<StepId>>,
    /// `(code, customer, step)` of every deactivation.
    deactivated: Vec<(String, Option<String>, StepId)>,
    /// `(code, customer, step)` of every creation or reactivation.
    activated: Vec<(String, Option<String>, StepId)>,
}

impl Ledger {
    /// Records the step that deactivates `live`.
    fn deactivated_by(&mut self, live: &LivePromotionCode, step: StepId) {
        self.by_coupon
            .entry(live.coupon.clone())
            .or_default()
            .push(step);
        self.deactivated
            .push((live.code.clone(), live.customer.clone(), step));
    }
}

/// Whether two codes cannot both be active: same text regardless of case, and the same
/// customer (a code without a customer clashes with every customer's).
fn codes_clash(a: &str, a_customer: Option<&str>, b: &str, b_customer: Option<&str>) -> bool {
    a.eq_ignore_ascii_case(b)
        && (a_customer == b_customer || a_customer.is_none() || b_customer.is_none())
}

/// The conflict of a code taken by an active code billing does not manage.
fn taken(addr: &str, p: &PromotionCode, other: &LivePromotionCode) -> Conflict {
    Conflict {
        address: addr.to_owned(),
        message: format!(
            "the code {} is taken by the active promotion code {}, which this catalog does not manage",
            p.code, other.id
        ),
        hint: format!("deactivate {} in Stripe, or choose another code", other.id),
    }
}

/// Plans every declared promotion code and deactivates managed codes that are not current.
/// Returns the deactivation steps by the id of the coupon the code was on, so that a coupon is
/// deleted only after its codes.
pub(crate) fn plan<'a>(b: &mut Builder<'a>, coupons: &Coupons<'a>) -> HashMap<String, Vec<StepId>> {
    let mut planner = Codes {
        coupons,
        ledger: Ledger::default(),
        current: Vec::new(),
    };
    let catalog = b.catalog;
    for (key, p) in &catalog.promotion_codes {
        planner.declared(b, key, p);
    }
    planner.retire_others(b);
    planner.order_clashes(b);
    planner.ledger.by_coupon
}

/// The promotion-code planner's state across entries.
struct Codes<'c, 'a> {
    coupons: &'c Coupons<'a>,
    ledger: Ledger,
    /// The ids of the current codes.
    current: Vec<String>,
}

impl<'a> Codes<'_, 'a> {
    /// One declared code: a new code when none is current or the current one differs in a
    /// way Stripe cannot change, else what changes in place.
    fn declared(&mut self, b: &mut Builder<'a>, key: &str, p: &'a PromotionCode) {
        let addr = address(key);
        let Some(coupon) = self.coupons.states.get(p.coupon.as_str()) else {
            return;
        };
        let candidates: Vec<&LivePromotionCode> = b.managed.at::<LivePromotionCode>(&addr);
        let current = candidates
            .iter()
            .copied()
            .find(|c| c.active && c.code.eq_ignore_ascii_case(&p.code))
            .or_else(|| candidates.iter().copied().find(|c| c.active))
            .or_else(|| candidates.first().copied());
        let fp = fingerprint(&candidates);
        if let Some(live) = current {
            self.current.push(live.id.clone());
        }
        match current {
            None => self.issue(b, &addr, p, coupon, None, fp),
            Some(live) => {
                let shape = shape_diff(p, &coupon.obj, live);
                if shape.is_empty() {
                    self.update(b, &addr, p, live, fp);
                } else {
                    self.issue(b, &addr, p, coupon, Some((live, shape)), fp);
                }
            }
        }
    }

    /// Whether Stripe would refuse to create the code: a conflict says why.
    fn refused(&self, b: &mut Builder<'_>, addr: &str, p: &PromotionCode, coupon: &ObjRef) -> bool {
        if let Some(problem) = p.expires_at.and_then(|at| creatable_date(at, b.now)) {
            b.conflicts.push(Conflict {
                address: addr.to_owned(),
                message: format!("expires_at {problem}: Stripe cannot create the code"),
                hint: "set `expires_at` between now and five years from now".to_owned(),
            });
            return true;
        }
        // Stripe refuses new codes for a coupon it no longer lets customers redeem.
        if let ObjRef::Id(id) = coupon
            && b.coupon_by_id.get(id).is_some_and(|c| !c.valid)
        {
            b.conflicts.push(Conflict {
                address: addr.to_owned(),
                message: format!("coupon {id} can no longer be redeemed (its redeem_by passed or it was used up): Stripe refuses new codes for it"),
                hint: format!(
                    "change `redeem_by` or `max_redemptions` of {}: that replaces the coupon, and its codes with it",
                    Address::new(ResourceKind::Coupon, p.coupon.as_str())
                ),
            });
            return true;
        }
        false
    }

    /// A new code: created, or replacing `replaced` (with the fields that force it).
    fn issue(
        &mut self,
        b: &mut Builder<'a>,
        addr: &str,
        p: &'a PromotionCode,
        coupon: &CouponState<'_>,
        replaced: Option<(&'a LivePromotionCode, Vec<FieldChange>)>,
        fp: String,
    ) {
        if self.refused(b, addr, p, &coupon.obj) {
            return;
        }
        // An active code of the same text that billing does not manage: taken over when its
        // coupon is on the way out (the user declared the code), a conflict otherwise.
        let takeover = match clashing(b, p) {
            Some(other) if self.coupons.retiring(&other.coupon) => Some(other),
            Some(other) => {
                b.conflicts.push(taken(addr, p, other));
                return;
            }
            None => None,
        };
        let action = if replaced.is_some() {
            Action::Replace
        } else {
            Action::Create
        };
        let mut change = Change::new(
            ResourceKind::PromotionCode,
            addr,
            action,
            replaced.as_ref().map(|(l, _)| l.id.clone()),
            title(&p.code, &p.coupon),
            fp,
        );
        let replaced = match replaced {
            Some((live, shape)) => {
                change.reason = Some(replacement_reason(
                    ResourceKind::PromotionCode.noun(),
                    &shape,
                ));
                change.fields = shape;
                change.notes.push(if live.active {
                    format!(
                        "{} is deactivated and a new code {} is created: redemptions count again from zero",
                        live.id, p.code
                    )
                } else {
                    format!("a new code {} is created: redemptions count again from zero", p.code)
                });
                Some(live)
            }
            None => {
                change.fields = creation_fields(p);
                None
            }
        };
        if let Some(other) = takeover {
            change.notes.push(format!(
                "takes the code over from {}, which billing did not manage and whose coupon is replaced or deleted",
                other.id
            ));
        }
        let idx = b.add_change(change);
        self.issue_steps(b, idx, p, coupon, replaced, takeover);
    }

    /// The steps of a new code: the code it takes over and the code it replaces deactivated
    /// first when they would clash with it, else the replaced one after.
    fn issue_steps(
        &mut self,
        b: &mut Builder<'a>,
        idx: usize,
        p: &'a PromotionCode,
        coupon: &CouponState<'_>,
        replaced: Option<&'a LivePromotionCode>,
        takeover: Option<&'a LivePromotionCode>,
    ) {
        let coupon_ready: Vec<StepId> = coupon.ready.into_iter().collect();
        let mut deps = coupon_ready.clone();
        if let Some(other) = takeover {
            deps.push(self.deactivate(
                b,
                idx,
                "deactivate the code billing takes over",
                other,
                coupon_ready.clone(),
            ));
        }
        // The old code goes first only when the new one would clash with it, and never
        // before the new coupon exists: a failure leaves the old code working.
        let clash = replaced.is_some_and(|live| {
            live.active
                && codes_clash(
                    &live.code,
                    live.customer.as_deref(),
                    &p.code,
                    p.customer.as_deref(),
                )
        });
        if let (Some(live), true) = (replaced, clash) {
            deps.push(self.deactivate(b, idx, "deactivate the replaced code", live, coupon_ready));
        }
        let description = if replaced.is_some() {
            "create the replacement code"
        } else {
            "create promotion code"
        };
        let created = b.add_step(
            idx,
            description,
            PromotionCodeWrite::Create(spec(b, p, coupon.obj.clone())),
            deps,
        );
        self.ledger
            .activated
            .push((p.code.clone(), p.customer.clone(), created));
        if let (Some(live), false) = (replaced, clash)
            && live.active
        {
            self.deactivate(b, idx, "deactivate the replaced code", live, vec![created]);
        }
    }

    /// The fields Stripe changes in place that differ, and the update; a conflict when the
    /// code would be reactivated while another active code holds its text.
    fn in_place(
        &self,
        b: &mut Builder<'_>,
        addr: &str,
        p: &PromotionCode,
        live: &LivePromotionCode,
    ) -> Option<(Vec<FieldChange>, PromotionCodeUpdate)> {
        let mut fields = Vec::new();
        let mut update = PromotionCodeUpdate::default();
        match (p.active, live.active, dead(b, live)) {
            (true, false, Some((why, advice))) => b.notices.push(format!(
                "{addr}: {} was deactivated by Stripe ({why}); {advice}",
                live.code
            )),
            (true, false, None) => {
                if let Some(other) = clashing(b, p) {
                    b.conflicts.push(taken(addr, p, other));
                    return None;
                }
                fields.push(FieldChange::active(false, true));
                update.active = Some(true);
            }
            (false, true, _) => {
                fields.push(FieldChange::active(true, false));
                update.active = Some(false);
            }
            _ => {}
        }
        let desired = with_marker(&p.metadata, addr, b.namespace);
        update.metadata = b.metadata_update(&desired, &live.metadata, &mut fields);
        for (c, a) in &p.minimum_amount_options {
            let have = live.currency_options.get(c.code()).copied();
            if have != a.as_integer() {
                fields.push(FieldChange::new(
                    format!("currency_options.{}", c.code()),
                    have.map_or(FieldValue::None, |h| money(h, c.code())),
                    FieldValue::Money(a.format(*c)),
                ));
                update.minimum_amount_options.insert(*c, *a);
            }
        }
        Some((fields, update))
    }

    /// Same code on the same coupon: only what Stripe changes in place.
    fn update(
        &mut self,
        b: &mut Builder<'a>,
        addr: &str,
        p: &PromotionCode,
        live: &LivePromotionCode,
        fp: String,
    ) {
        let Some((fields, update)) = self.in_place(b, addr, p, live) else {
            return;
        };
        if fields.is_empty() {
            return;
        }
        let action = match update.active {
            Some(true) => Action::Unarchive,
            Some(false) => Action::Deactivate,
            None => Action::Update,
        };
        let mut change = Change::new(
            ResourceKind::PromotionCode,
            addr,
            action,
            Some(live.id.clone()),
            title(&p.code, &p.coupon),
            fp,
        );
        if action == Action::Deactivate {
            change.reason = Some("declared `active = false`".to_owned());
        }
        change.fields = fields;
        let idx = b.add_change(change);
        let description = match action {
            Action::Unarchive => "reactivate promotion code",
            Action::Deactivate => "deactivate promotion code",
            _ => "update promotion code",
        };
        let step = b.add_step(
            idx,
            description,
            PromotionCodeWrite::Update {
                object: ObjRef::Id(live.id.as_str().into()),
                update,
            },
            vec![],
        );
        match action {
            Action::Deactivate => self.ledger.deactivated_by(live, step),
            Action::Unarchive => {
                self.ledger
                    .activated
                    .push((p.code.clone(), p.customer.clone(), step));
            }
            _ => {}
        }
    }

    /// Adds to `change` the step that deactivates `live` after `deps`, and records it.
    fn deactivate(
        &mut self,
        b: &mut Builder<'_>,
        change: usize,
        description: &str,
        live: &LivePromotionCode,
        deps: Vec<StepId>,
    ) -> StepId {
        let step = b.add_step(
            change,
            description,
            PromotionCodeWrite::Update {
                object: ObjRef::Id(live.id.as_str().into()),
                update: PromotionCodeUpdate {
                    active: Some(false),
                    ..PromotionCodeUpdate::default()
                },
            },
            deps,
        );
        self.ledger.deactivated_by(live, step);
        step
    }

    /// Managed active codes that are not current: duplicates, and codes that left the catalog.
    fn retire_others(&mut self, b: &mut Builder<'a>) {
        let others: Vec<(&'a str, &'a LivePromotionCode)> = b
            .managed
            .all_of::<LivePromotionCode>()
            .filter(|(_, c)| c.active && !self.current.contains(&c.id))
            .collect();
        for (addr, live) in others {
            let removed = !b.catalog.declares(addr);
            let mut change = Change::of_live(addr, Action::Deactivate, live);
            change.fields.push(FieldChange::active(true, false));
            change.destroy = removed;
            change.reason = Some(
                if removed {
                    Surplus::Removed
                } else {
                    Surplus::Duplicate
                }
                .reason()
                .to_owned(),
            );
            change
                .notes
                .push(format!("customers can no longer redeem {}", live.code));
            let idx = b.add_change(change);
            self.deactivate(b, idx, "deactivate promotion code", live, vec![]);
        }
    }

    /// A code moving between addresses (a renamed key, a case change) is created or
    /// reactivated only after the code it would clash with is deactivated.
    fn order_clashes(&self, b: &mut Builder<'_>) {
        for (code, customer, step) in &self.ledger.activated {
            for (old, old_customer, off) in &self.ledger.deactivated {
                if off != step
                    && codes_clash(code, customer.as_deref(), old, old_customer.as_deref())
                    && !b.steps[*off].depends_on.contains(step)
                    && !b.steps[*step].depends_on.contains(off)
                {
                    b.steps[*step].depends_on.push(*off);
                }
            }
        }
    }
}

fn minimum_options(
    options: &std::collections::BTreeMap<crate::catalog::Currency, MinorAmount>,
) -> HashMap<stripe_types::Currency, stripe_product::promotion_code::CurrencyOption> {
    options
        .iter()
        .map(|(k, v)| {
            let mut option = stripe_product::promotion_code::CurrencyOption::new();
            option.minimum_amount = Some(minor(*v));
            (currency(*k), option)
        })
        .collect()
}

/// `POST /v1/promotion_codes`.
pub(crate) fn create_request(coupon: String, spec: &PromotionCodeSpec) -> WireRequest {
    use stripe_product::promotion_code::{
        CreatePromotionCode, CreatePromotionCodePromotion, CreatePromotionCodePromotionType,
        CreatePromotionCodeRestrictions,
    };
    let p = &spec.code;
    let mut promotion = CreatePromotionCodePromotion::new(CreatePromotionCodePromotionType::Coupon);
    promotion.coupon = Some(coupon);
    let mut r = CreatePromotionCode::new(promotion)
        .code(p.code.clone())
        .active(p.active);
    if let Some(customer) = &p.customer {
        r = r.customer(customer.clone());
    }
    if let Some(at) = p.expires_at {
        r = r.expires_at(at);
    }
    if let Some(max) = p.max_redemptions {
        r = r.max_redemptions(i64::try_from(max).unwrap_or(i64::MAX));
    }
    let mut restrictions = CreatePromotionCodeRestrictions::new();
    let restricted = p.first_time_transaction || p.minimum_amount.is_some();
    if p.first_time_transaction {
        restrictions.first_time_transaction = Some(true);
    }
    if let Some((c, amount)) = p.minimum_amount {
        restrictions.minimum_amount = Some(minor(amount));
        restrictions.minimum_amount_currency = Some(currency(c));
    }
    if !p.minimum_amount_options.is_empty() {
        restrictions.currency_options = Some(minimum_options(&p.minimum_amount_options));
    }
    if restricted {
        r = r.restrictions(restrictions);
    }
    r = r.metadata(metadata_set(&spec.metadata));
    WireRequest::from_builder(r.build(), vec![])
}

/// `POST /v1/promotion_codes/{id}`.
pub(crate) fn update_request(id: String, u: &PromotionCodeUpdate) -> WireRequest {
    use stripe_product::promotion_code::{UpdatePromotionCode, UpdatePromotionCodeRestrictions};
    let mut r = UpdatePromotionCode::new(id);
    if let Some(active) = u.active {
        r = r.active(active);
    }
    if !u.metadata.is_empty() {
        r = r.metadata(metadata_update(&u.metadata));
    }
    if !u.minimum_amount_options.is_empty() {
        let mut restrictions = UpdatePromotionCodeRestrictions::new();
        restrictions.currency_options = Some(minimum_options(&u.minimum_amount_options));
        r = r.restrictions(restrictions);
    }
    WireRequest::from_builder(r.build(), vec![])
}

/// A write to a promotion code.
pub(crate) type PromotionCodeWrite = Writes<PromotionCodeSpec>;

impl Encode for PromotionCodeSpec {
    type Update = PromotionCodeUpdate;

    fn create(&self, resolve: Resolve<'_>) -> Vec<WireRequest> {
        vec![create_request(resolve(&self.coupon), self)]
    }

    fn update(id: String, update: &PromotionCodeUpdate, _resolve: Resolve<'_>) -> Vec<WireRequest> {
        vec![update_request(id, update)]
    }

    fn names(&self) -> Vec<&ObjRef> {
        vec![&self.coupon]
    }

    /// A code is created after codes are deactivated, so that a new code never clashes with
    /// one on its way out.
    fn create_rank(&self) -> u8 {
        rank::LATE_UPDATE
    }

    fn update_rank(update: &PromotionCodeUpdate) -> u8 {
        if update.active == Some(false) {
            rank::UPDATE
        } else {
            rank::LATE_UPDATE
        }
    }
}
