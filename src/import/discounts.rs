//! Coupons as `[coupons.<key>]` (with their `id`, so that billing adopts them) and promotion
//! codes as `[promotion_codes.<CODE>]` (adopted by their code).
//!
//! A coupon restricted to a product that is not imported cannot be written: `applies_to`
//! names catalog keys. A code is written only with its coupon.

use std::collections::{BTreeMap, BTreeSet};

use super::amount;
use super::keys::{self, KeySpace};
use super::place::{oldest_first, written_at};
use super::write::{Table, Value};
use super::{
    Ctx, Problems, Severity, checked, held_keys, metadata_table, nest, number, on_remove,
    text_field,
};
use crate::catalog::{Currency, parse_decimal};
use crate::live::{LiveCoupon, LivePromotionCode};
use crate::resource::ResourceKind;

/// A written coupon: its key, and what its codes are checked against.
struct CouponLimits {
    key: String,
    max_redemptions: Option<i64>,
    redeem_by: Option<i64>,
}

/// An object that can be written so far: the live object, its key when billing manages it
/// (from its marker), and its table.
type Entry<'a, T> = (&'a T, Option<String>, Table);

/// Whether `id` is one billing picked (`<key>_` and 8 hexadecimal digits): such an id is not
/// pinned, so that billing can still replace the coupon under a new one.
fn generated_id(id: &str, key: &str) -> bool {
    id.strip_prefix(key)
        .and_then(|r| r.strip_prefix('_'))
        .is_some_and(|h| h.len() == 8 && h.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
}

/// The coupon's fields; `None` (with a fatal problem) when it cannot be written.
fn coupon_table(
    ctx: &Ctx<'_>,
    c: &LiveCoupon,
    ours: Option<&str>,
    product_keys: &BTreeMap<String, String>,
    problems: &mut Problems,
) -> Option<Table> {
    let mut t = Table::default();
    if !ours.is_some_and(|k| generated_id(&c.id, k)) {
        t.text("id", &c.id);
    }
    text_field(&mut t, "name", c.name.as_deref(), Severity::Drop, problems);
    match (&c.percent_off, c.amount_off, &c.currency) {
        (Some(p), None, _) => {
            let percent = parse_decimal(p).map_err(|e| e.to_string());
            let percent = problems.ok("percent_off", percent)?;
            t.set("percent_off", number(&percent.normalize().to_string()));
        }
        (None, Some(a), Some(code)) => {
            let currency = problems.ok("currency", known_currency(code))?;
            whole_amount(&mut t, ("amount_off", "currency"), a, currency, problems)?;
            let options = whole_options(&c.currency_options, problems)?;
            t.table("currency_options", options);
        }
        _ => {
            problems.fatal("", "a discount billing.toml cannot declare (neither a percentage nor an amount in one currency)");
            return None;
        }
    }
    t.text("duration", &c.duration);
    if let Some(m) = c.duration_in_months {
        t.set("duration_in_months", Value::Int(m));
    }
    if let Some(m) = c.max_redemptions {
        t.set("max_redemptions", Value::Int(m));
    }
    if let Some(at) = c.redeem_by {
        t.set("redeem_by", Value::Datetime(at));
    }
    if !c.applies_to.is_empty() {
        let products = problems.ok("applies_to", applies_to(&c.applies_to, product_keys))?;
        t.set(
            "applies_to",
            Value::Array(products.into_iter().map(Value::Str).collect()),
        );
    }
    if ours.is_some() {
        on_remove(&mut t, &c.metadata, &["keep", "forget"], problems);
    }
    let metadata = ctx.metadata(&c.metadata, ResourceKind::Coupon, ours.is_some(), problems);
    t.table("metadata", metadata_table(&metadata));
    Some(t)
}

/// The currency `code` names, when billing knows it.
fn known_currency(code: &str) -> Result<Currency, String> {
    Currency::parse(code).ok_or_else(|| format!("{code:?} is not a currency billing knows"))
}

/// A whole amount in minor units written in major units, and its currency: `fields` names
/// the two (`amount_off` and `currency`); `None` (with a fatal problem) when the amount
/// cannot be written.
fn whole_amount(
    t: &mut Table,
    (field, currency_field): (&str, &str),
    minor: i64,
    currency: Currency,
    problems: &mut Problems,
) -> Option<()> {
    t.text(field, &problems.ok(field, amount::whole(minor, currency))?);
    t.text(currency_field, currency.code());
    Some(())
}

/// `currency_options` of whole amounts in minor units (a coupon's amounts off, a code's
/// minimum amounts), each in major units; `None` (with a fatal problem) when one cannot be
/// written.
fn whole_options(options: &BTreeMap<String, i64>, problems: &mut Problems) -> Option<Table> {
    let mut t = Table::default();
    for (code, minor) in options {
        let written = known_currency(code).and_then(|c| amount::whole(*minor, c));
        t.text(
            code,
            &problems.ok(&format!("currency_options.{code}"), written)?,
        );
    }
    Some(t)
}

/// The keys of the products a coupon applies to, sorted; `Err` names those not imported.
fn applies_to(
    ids: &[String],
    product_keys: &BTreeMap<String, String>,
) -> Result<Vec<String>, String> {
    let mut products = Vec::new();
    let mut missing = Vec::new();
    for id in ids {
        match product_keys.get(id) {
            Some(k) => products.push(k.clone()),
            None => missing.push(id.as_str()),
        }
    }
    if !missing.is_empty() {
        return Err(format!(
            "it applies to {}, which {} not imported (billing.toml names products by key)",
            missing.join(", "),
            if missing.len() == 1 { "is" } else { "are" }
        ));
    }
    products.sort();
    Ok(products)
}

/// A coupon in a catalog of its own, with stand-ins for the products it applies to.
fn wrap_coupon(entry: &Table) -> Table {
    let mut root = nest(&["coupons", "c"], entry);
    let mut products = Table::default();
    if let Some((_, Value::Array(keys))) = entry.values.iter().find(|(k, _)| k == "applies_to") {
        for k in keys {
            if let Value::Str(k) = k {
                let mut stub = Table::default();
                stub.text("name", "x");
                products.table(k, stub);
            }
        }
    }
    root.table("products", products);
    root
}

/// A promotion code key that needs no `code` (the code itself, as the validator takes it).
fn code_key(address: &str) -> Option<&str> {
    address.strip_prefix("promotion_codes.").filter(|k| {
        !k.is_empty()
            && k.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    })
}

/// The code's fields (not `code` itself).
fn code_table(
    ctx: &Ctx<'_>,
    p: &LivePromotionCode,
    coupon: &str,
    ours: bool,
    problems: &mut Problems,
) -> Option<Table> {
    let mut t = Table::default();
    t.text("coupon", coupon);
    if !p.active {
        t.set("active", Value::Bool(false));
    }
    if let Some(m) = p.max_redemptions {
        t.set("max_redemptions", Value::Int(m));
    }
    if let Some(at) = p.expires_at {
        t.set("expires_at", Value::Datetime(at));
    }
    if p.first_time_transaction {
        t.set("first_time_transaction", Value::Bool(true));
    }
    if let Some(min) = p.minimum_amount {
        let currency = p
            .minimum_amount_currency
            .as_deref()
            .and_then(Currency::parse)
            .ok_or_else(|| "missing, or not a currency billing knows".to_owned());
        let currency = problems.ok("minimum_amount_currency", currency)?;
        let fields = ("minimum_amount", "minimum_amount_currency");
        whole_amount(&mut t, fields, min, currency, problems)?;
    }
    let options = whole_options(&p.currency_options, problems)?;
    t.table("currency_options", options);
    text_field(
        &mut t,
        "customer",
        p.customer.as_deref(),
        Severity::Fatal,
        problems,
    );
    let metadata = ctx.metadata(&p.metadata, ResourceKind::PromotionCode, ours, problems);
    t.table("metadata", metadata_table(&metadata));
    Some(t)
}

/// A code in a catalog of its own, under `key` (with `code` when the key is not the code),
/// with a stand-in for its coupon that has the coupon's limits.
fn wrap_code(coupon: &CouponLimits, code: &str, key: &str) -> impl Fn(&Table) -> Table {
    let mut stub = Table::default();
    stub.set("percent_off", Value::Int(1));
    if let Some(m) = coupon.max_redemptions {
        stub.set("max_redemptions", Value::Int(m));
    }
    if let Some(at) = coupon.redeem_by {
        stub.set("redeem_by", Value::Datetime(at));
    }
    let code = code.to_owned();
    let key = key.to_owned();
    move |entry: &Table| {
        let mut entry = entry.clone();
        for (k, v) in &mut entry.values {
            if k == "coupon" {
                *v = Value::Str("c".to_owned());
            }
        }
        if key != code {
            entry
                .values
                .insert(0, ("code".to_owned(), Value::Str(code.clone())));
        }
        let mut root = nest(&["promotion_codes", &key], &entry);
        root.table("coupons", nest(&["c"], &stub));
        root
    }
}

/// Coupons and promotion codes.
pub(crate) fn import(ctx: &mut Ctx<'_>, product_keys: &BTreeMap<String, String>) -> (Table, Table) {
    // Why each coupon that is not written is not, for its codes.
    let mut excluded: BTreeMap<&str, String> = BTreeMap::new();
    let entries = coupon_entries(ctx, product_keys, &mut excluded);
    let (coupons, limits) = coupon_keys(ctx, entries);
    let codes = codes(ctx, &limits, &excluded);
    (coupons, codes)
}

/// The coupons that can be written, oldest first, one per address billing manages;
/// `excluded` gets why each other coupon is not written.
fn coupon_entries<'a>(
    ctx: &mut Ctx<'a>,
    product_keys: &BTreeMap<String, String>,
    excluded: &mut BTreeMap<&'a str, String>,
) -> Vec<Entry<'a, LiveCoupon>> {
    let live = ctx.live;
    let mut entries = Vec::new();
    for c in oldest_first(&live.coupons) {
        let Some(ours) = ctx.place_or_exclude(c, excluded) else {
            continue;
        };
        let mut problems = Problems::default();
        let table = coupon_table(ctx, c, ours.as_deref(), product_keys, &mut problems);
        let optional = [("name", Severity::Drop), ("metadata", Severity::Change)];
        let table = checked(table, wrap_coupon, &optional, &mut problems);
        let at = written_at(ResourceKind::Coupon, ours.as_ref(), &c.id);
        let settled = ctx.settle(ResourceKind::Coupon, &c.id, &at, ours.is_some(), &problems);
        match table {
            Some(t) if settled => entries.push((c, ours, t)),
            _ => {
                excluded.insert(&c.id, "skipped".to_owned());
            }
        }
    }
    // Several managed coupons at one address: the newest is written; the plan deletes the
    // others.
    let duplicates = ctx.duplicates(
        entries.iter().map(|(c, ours, _)| (*c, ours.as_ref())),
        ("coupon", "deletes"),
    );
    entries.retain(|(c, _, _)| !duplicates.contains(c.id.as_str()));
    for id in duplicates {
        excluded.insert(id, "skipped".to_owned());
    }
    entries
}

/// The `[coupons]` table: each coupon under the address in its marker, or under a new key
/// from its name (or id); and what each written coupon's codes are checked against, by id.
fn coupon_keys(
    ctx: &mut Ctx<'_>,
    entries: Vec<Entry<'_, LiveCoupon>>,
) -> (Table, BTreeMap<String, CouponLimits>) {
    let mut coupons = Table::default();
    let mut limits: BTreeMap<String, CouponLimits> = BTreeMap::new();
    let name = |c: &LiveCoupon| c.name.as_deref().and_then(keys::slug);
    for (c, key, table) in ctx.keyed(entries, name, "coupon") {
        limits.insert(
            c.id.clone(),
            CouponLimits {
                key: key.clone(),
                max_redemptions: c.max_redemptions,
                redeem_by: c.redeem_by,
            },
        );
        coupons.table(&key, table);
        ctx.report.wrote(ResourceKind::Coupon);
    }
    (coupons, limits)
}

/// Promotion codes whose coupon is written.
fn codes(
    ctx: &mut Ctx<'_>,
    coupons: &BTreeMap<String, CouponLimits>,
    excluded: &BTreeMap<&str, String>,
) -> Table {
    let mut entries = code_entries(ctx, coupons, excluded);
    // Several managed codes at one address: the one the plan keeps (the newest active, else
    // the newest) is written; the plan deactivates the others.
    let duplicates = ctx.duplicates(
        entries.iter().map(|(p, ours, _)| (*p, ours.as_ref())),
        ("code", "deactivates"),
    );
    entries.retain(|(p, _, _)| !duplicates.contains(p.id.as_str()));
    code_keys(ctx, entries)
}

/// The codes that can be written (active ones first, then oldest first), each with its table.
fn code_entries<'a>(
    ctx: &mut Ctx<'a>,
    coupons: &BTreeMap<String, CouponLimits>,
    excluded: &BTreeMap<&str, String>,
) -> Vec<Entry<'a, LivePromotionCode>> {
    let live = ctx.live;
    let mut all: Vec<&LivePromotionCode> = live.promotion_codes.iter().collect();
    // Active codes first (they keep their code as key), then oldest first.
    all.sort_by(|a, b| (!a.active, a.created, &a.id).cmp(&(!b.active, b.created, &b.id)));
    let mut entries = Vec::new();
    for p in all {
        let Ok(ours) = ctx.place(ResourceKind::PromotionCode, &p.id, &p.metadata, code_key) else {
            continue;
        };
        let ours = ours.map(str::to_owned);
        if !p.active && inactive_left_out(ctx, p, ours.is_some()) {
            continue;
        }
        let Some(coupon) = coupons.get(&p.coupon) else {
            let why = excluded
                .get(p.coupon.as_str())
                .map_or("not found", String::as_str);
            ctx.report.skip(
                ResourceKind::PromotionCode,
                &p.id,
                format!("its coupon {} is not imported ({why})", p.coupon),
            );
            continue;
        };
        let mut problems = Problems::default();
        let key = ours.clone().unwrap_or_else(|| p.code.clone());
        let table = code_table(ctx, p, &coupon.key, ours.is_some(), &mut problems);
        let wrap = wrap_code(coupon, &p.code, &key);
        let table = checked(
            table,
            wrap,
            &[("metadata", Severity::Change)],
            &mut problems,
        );
        let at = written_at(ResourceKind::PromotionCode, ours.as_ref(), &p.id);
        if !ctx.settle(
            ResourceKind::PromotionCode,
            &p.id,
            &at,
            ours.is_some(),
            &problems,
        ) {
            continue;
        }
        let Some(table) = table else { continue };
        entries.push((p, ours, table));
    }
    entries
}

/// Whether an inactive code is left out (counted as archived): without `--include-archived`,
/// and with it when billing does not manage it (reported: billing adopts only active codes,
/// by their code).
fn inactive_left_out(ctx: &mut Ctx<'_>, p: &LivePromotionCode, ours: bool) -> bool {
    if ctx.options.include_archived && ours {
        return false;
    }
    ctx.report.archived(ResourceKind::PromotionCode);
    if ctx.options.include_archived {
        ctx.report.skip(
            ResourceKind::PromotionCode,
            &p.id,
            format!(
                "{} is inactive, and billing adopts only active codes (by their code): declared, it would be a new code",
                p.code
            ),
        );
    }
    true
}

/// The `[promotion_codes]` table. Keys: the marked addresses first; then each code, unless
/// another key has the same output name (codes differing only in case, or one code for
/// several customers). A code that clashes with one already written is left out.
fn code_keys(ctx: &mut Ctx<'_>, entries: Vec<Entry<'_, LivePromotionCode>>) -> Table {
    let mut space = KeySpace::default();
    let mut names: BTreeSet<String> = BTreeSet::new();
    let held = held_keys(
        ctx.live.promotion_codes.iter().map(|c| &c.metadata),
        &ctx.options.namespace,
        code_key,
    );
    for k in entries
        .iter()
        .filter_map(|(_, ours, _)| ours.as_ref())
        .chain(&held)
    {
        if space.reserve(k) {
            names.insert(keys::env_name(k));
        }
    }
    // Codes unique regardless of case, as the validator wants them (a code without a customer
    // clashes with every customer's).
    let mut written: Vec<(String, Option<String>)> = Vec::new();
    let mut table = Table::default();
    for (p, ours, mut t) in entries {
        let upper = p.code.to_uppercase();
        let clash = written.iter().any(|(c, cu)| {
            *c == upper && (cu == &p.customer || cu.is_none() || p.customer.is_none())
        });
        if clash {
            ctx.report.skip(
                ResourceKind::PromotionCode,
                &p.id,
                format!(
                    "its code {} is also the code of another code written (codes are unique regardless of case)",
                    p.code
                ),
            );
            continue;
        }
        written.push((upper, p.customer.clone()));
        let key = match ours {
            Some(k) => k,
            None => ctx.claim(
                &mut space,
                ResourceKind::PromotionCode,
                &p.id,
                &p.code,
                |k| !names.contains(&keys::env_name(k)),
            ),
        };
        names.insert(keys::env_name(&key));
        if key != p.code {
            t.values
                .insert(0, ("code".to_owned(), Value::Str(p.code.clone())));
        }
        table.table(&key, t);
        ctx.report.wrote(ResourceKind::PromotionCode);
    }
    table
}
