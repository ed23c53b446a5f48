//! Coupons as `[coupons.<key>]` (with their `id`, so that billing adopts them) and promotion
//! codes as `[promotion_codes.<CODE>]` (adopted by their code).
//!
//! A coupon restricted to a product that is not imported cannot be written: `applies_to`
//! names catalog keys. A code is written only with its coupon.

use std::collections::BTreeMap;

use super::amount;
use super::keys::{self, KeySpace};
use super::report::Renamed;
use super::write::{Table, Value};
use super::{
    Ctx, Owner, Problems, Severity, check, held_keys, marker_key, metadata_table, number,
    on_remove, owner, text_field, unknown_address,
};
use crate::catalog::{Currency, parse_decimal};
use crate::live::{LiveCoupon, LivePromotionCode};
use crate::resource::Address;
use crate::resource::ResourceKind;

/// A written coupon: its key, and what its codes are checked against.
struct CouponLimits {
    key: String,
    max_redemptions: Option<i64>,
    redeem_by: Option<i64>,
}

fn nest(path: &[&str], entry: &Table) -> Table {
    let mut table = entry.clone();
    for name in path.iter().rev() {
        let mut parent = Table::default();
        parent.table(name, table);
        table = parent;
    }
    table
}

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
        (Some(p), None, _) => match parse_decimal(p) {
            Ok(d) => t.set("percent_off", number(&d.normalize().to_string())),
            Err(e) => {
                problems.fatal("percent_off", e.to_string());
                return None;
            }
        },
        (None, Some(a), Some(code)) => {
            let Some(currency) = Currency::parse(code) else {
                problems.fatal(
                    "currency",
                    format!("{code:?} is not a currency billing knows"),
                );
                return None;
            };
            match amount::whole(a, currency) {
                Ok(text) => t.text("amount_off", &text),
                Err(why) => {
                    problems.fatal("amount_off", why);
                    return None;
                }
            }
            t.text("currency", currency.code());
            let mut options = Table::default();
            for (code, a) in &c.currency_options {
                let written = Currency::parse(code)
                    .ok_or_else(|| format!("{code:?} is not a currency billing knows"))
                    .and_then(|c| amount::whole(*a, c));
                match written {
                    Ok(text) => options.text(code, &text),
                    Err(why) => {
                        problems.fatal(&format!("currency_options.{code}"), why);
                        return None;
                    }
                }
            }
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
        let mut products = Vec::new();
        let mut missing = Vec::new();
        for id in &c.applies_to {
            match product_keys.get(id) {
                Some(k) => products.push(k.clone()),
                None => missing.push(id.as_str()),
            }
        }
        if !missing.is_empty() {
            problems.fatal(
                "applies_to",
                format!(
                    "it applies to {}, which {} not imported (billing.toml names products by key)",
                    missing.join(", "),
                    if missing.len() == 1 { "is" } else { "are" }
                ),
            );
            return None;
        }
        products.sort();
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
        let Some(currency) = p
            .minimum_amount_currency
            .as_deref()
            .and_then(Currency::parse)
        else {
            problems.fatal(
                "minimum_amount_currency",
                "missing, or not a currency billing knows",
            );
            return None;
        };
        match amount::whole(min, currency) {
            Ok(text) => t.text("minimum_amount", &text),
            Err(why) => {
                problems.fatal("minimum_amount", why);
                return None;
            }
        }
        t.text("minimum_amount_currency", currency.code());
    }
    let mut options = Table::default();
    for (code, min) in &p.currency_options {
        let written = Currency::parse(code)
            .ok_or_else(|| format!("{code:?} is not a currency billing knows"))
            .and_then(|c| amount::whole(*min, c));
        match written {
            Ok(text) => options.text(code, &text),
            Err(why) => {
                problems.fatal(&format!("currency_options.{code}"), why);
                return None;
            }
        }
    }
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

/// Coupons and promotion codes.
pub(crate) fn import(ctx: &mut Ctx<'_>, product_keys: &BTreeMap<String, String>) -> (Table, Table) {
    let namespace = ctx.options.namespace.clone();
    let mut live: Vec<&LiveCoupon> = ctx.live.coupons.iter().collect();
    live.sort_by(|a, b| (a.created, &a.id).cmp(&(b.created, &b.id)));
    let mut excluded: BTreeMap<&str, String> = BTreeMap::new();
    // (coupon, key from its marker, table), oldest first.
    let mut entries: Vec<(&LiveCoupon, Option<String>, Table)> = Vec::new();
    for c in live {
        let ours = match owner(&c.metadata, &namespace) {
            Owner::Foreign(ns) => {
                ctx.report.foreign(ns, ResourceKind::Coupon);
                excluded.insert(&c.id, format!("managed by namespace {ns:?}"));
                continue;
            }
            Owner::Ours(address) => match marker_key(address, "coupons") {
                Some(k) => Some(k.to_owned()),
                None => {
                    ctx.report
                        .skip(ResourceKind::Coupon, &c.id, unknown_address(address));
                    excluded.insert(&c.id, "skipped".to_owned());
                    continue;
                }
            },
            Owner::Unmanaged => None,
        };
        let mut problems = Problems::default();
        let table =
            coupon_table(ctx, c, ours.as_deref(), product_keys, &mut problems).map(|mut t| {
                check(
                    &mut t,
                    wrap_coupon,
                    &[("name", Severity::Drop), ("metadata", Severity::Change)],
                    &mut problems,
                );
                t
            });
        let at = ours.as_ref().map_or(c.id.clone(), |k| {
            Address::new(ResourceKind::Coupon, k).to_string()
        });
        let kept = ctx.settle(ResourceKind::Coupon, &c.id, &at, ours.is_some(), &problems);
        match table {
            Some(t) if kept => entries.push((c, ours, t)),
            _ => {
                excluded.insert(&c.id, "skipped".to_owned());
            }
        }
    }
    // Several managed coupons at one address: the newest is written; the plan deletes the
    // others.
    let mut newest: BTreeMap<String, &str> = BTreeMap::new();
    for (c, ours, _) in &entries {
        if let Some(k) = ours {
            newest.insert(k.clone(), &c.id);
        }
    }
    let mut space = KeySpace::default();
    let held = held_keys(
        ctx.live.coupons.iter().map(|c| &c.metadata),
        &namespace,
        |a| marker_key(a, "coupons"),
    );
    for k in newest.keys().chain(&held) {
        space.reserve(k);
    }
    let mut coupons = Table::default();
    let mut limits: BTreeMap<String, CouponLimits> = BTreeMap::new();
    for (c, ours, table) in entries {
        let key = match ours {
            Some(k) if newest.get(&k) == Some(&c.id.as_str()) => k,
            Some(k) => {
                ctx.report.skip(
                    ResourceKind::Coupon,
                    &c.id,
                    format!("another coupon billing manages is coupons.{k}: `billing plan` deletes this duplicate"),
                );
                excluded.insert(&c.id, "skipped".to_owned());
                continue;
            }
            None => {
                let base = c
                    .name
                    .as_deref()
                    .and_then(keys::slug)
                    .or_else(|| keys::slug(&c.id))
                    .unwrap_or_else(|| "coupon".to_owned());
                let claimed = space.claim(&base, |_| true);
                if let Some(wanted) = claimed.wanted {
                    ctx.report.renamed.push(Renamed {
                        address: Address::new(ResourceKind::Coupon, &claimed.key).to_string(),
                        id: c.id.clone(),
                        wanted,
                        why: None,
                    });
                }
                claimed.key
            }
        };
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
    let codes = codes(ctx, &limits, &excluded);
    (coupons, codes)
}

/// Promotion codes whose coupon is written.
fn codes(
    ctx: &mut Ctx<'_>,
    coupons: &BTreeMap<String, CouponLimits>,
    excluded: &BTreeMap<&str, String>,
) -> Table {
    let namespace = ctx.options.namespace.clone();
    let mut live: Vec<&LivePromotionCode> = ctx.live.promotion_codes.iter().collect();
    // Active codes first (they keep their code as key), then oldest first.
    live.sort_by(|a, b| (!a.active, a.created, &a.id).cmp(&(!b.active, b.created, &b.id)));
    let mut entries: Vec<(&LivePromotionCode, Option<String>, Table)> = Vec::new();
    for p in live {
        let ours = match owner(&p.metadata, &namespace) {
            Owner::Foreign(ns) => {
                ctx.report.foreign(ns, ResourceKind::PromotionCode);
                continue;
            }
            Owner::Ours(address) => match code_key(address) {
                Some(k) => Some(k.to_owned()),
                None => {
                    ctx.report
                        .skip(ResourceKind::PromotionCode, &p.id, unknown_address(address));
                    continue;
                }
            },
            Owner::Unmanaged => None,
        };
        if !p.active {
            if !ctx.options.include_archived {
                ctx.report.archived(ResourceKind::PromotionCode);
                continue;
            }
            if ours.is_none() {
                ctx.report.archived(ResourceKind::PromotionCode);
                ctx.report.skip(
                    ResourceKind::PromotionCode,
                    &p.id,
                    format!(
                        "{} is inactive, and billing adopts only active codes (by their code): declared, it would be a new code",
                        p.code
                    ),
                );
                continue;
            }
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
        let table = code_table(ctx, p, &coupon.key, ours.is_some(), &mut problems).map(|mut t| {
            let stub = {
                let mut s = Table::default();
                s.set("percent_off", Value::Int(1));
                if let Some(m) = coupon.max_redemptions {
                    s.set("max_redemptions", Value::Int(m));
                }
                if let Some(at) = coupon.redeem_by {
                    s.set("redeem_by", Value::Datetime(at));
                }
                s
            };
            let code = p.code.clone();
            let key = key.clone();
            let wrap = move |entry: &Table| {
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
            };
            check(
                &mut t,
                wrap,
                &[("metadata", Severity::Change)],
                &mut problems,
            );
            t
        });
        let at = ours.as_ref().map_or(p.id.clone(), |k| {
            Address::new(ResourceKind::PromotionCode, k).to_string()
        });
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
    // Several managed codes at one address: the one the plan keeps (the newest active, else
    // the newest) is written; the plan deactivates the others.
    let mut current: BTreeMap<String, &LivePromotionCode> = BTreeMap::new();
    for (p, ours, _) in &entries {
        if let Some(k) = ours {
            let better = current.get(k).is_none_or(|held| {
                (p.active, p.created, &p.id) > (held.active, held.created, &held.id)
            });
            if better {
                current.insert(k.clone(), p);
            }
        }
    }
    entries.retain(|(p, ours, _)| match ours {
        Some(k) if current.get(k).is_some_and(|held| held.id != p.id) => {
            ctx.report.skip(
                ResourceKind::PromotionCode,
                &p.id,
                format!("another code billing manages is promotion_codes.{k}: `billing plan` deactivates this duplicate"),
            );
            false
        }
        _ => true,
    });
    // Keys: the marked addresses first; then each code, unless another key has the same
    // output name (codes differing only in case, or one code for several customers).
    let mut space = KeySpace::default();
    let mut names: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
    let held = held_keys(
        ctx.live.promotion_codes.iter().map(|c| &c.metadata),
        &namespace,
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
            None => {
                let claimed = space.claim(&p.code, |k| !names.contains(&keys::env_name(k)));
                if let Some(wanted) = claimed.wanted {
                    ctx.report.renamed.push(Renamed {
                        address: Address::new(ResourceKind::PromotionCode, &claimed.key)
                            .to_string(),
                        id: p.id.clone(),
                        wanted,
                        why: None,
                    });
                }
                claimed.key
            }
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
