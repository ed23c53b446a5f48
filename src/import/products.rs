//! Products and their prices as `[products.<key>]` and `[products.<key>.prices.<key>]`.
//!
//! A product is written with its `id` (adoption by id). A price is written with its lookup
//! key when it has one (adoption by lookup key), else with its `id`, under a key chosen so
//! that the lookup key adoption gives it, `<product>_<price>`, is free. A product whose
//! default price cannot be written is left out (omitting `default_price` would clear it),
//! and so are its prices.

use std::collections::{BTreeMap, BTreeSet};

use super::amount::{self, Written};
use super::keys::{self, KeySpace};
use super::report::{NoLookupKey, Renamed};
use super::write::{Table, Value};
use super::{
    Ctx, Owner, Problems, Severity, check, forgets, held_keys, marker_key, metadata_table,
    on_remove, owner, text_field, unknown_address,
};
use crate::catalog::{Currency, MinorAmount};
use crate::live::{LivePrice, LiveProduct, LiveTier};
use crate::resource::Address;
use crate::resource::ResourceKind;

/// The `[products]` table, and the key each written product and price has, by id.
pub(crate) struct Products {
    pub table: Table,
    pub product_keys: BTreeMap<String, String>,
    /// A price's product key and its own key.
    pub price_keys: BTreeMap<String, (String, String)>,
}

/// A product that can be written so far.
struct ProductEntry<'a> {
    live: &'a LiveProduct,
    /// Its key, when billing manages it (from its marker).
    ours: Option<String>,
    table: Table,
    prices: Vec<PriceEntry<'a>>,
}

/// A price that can be written so far.
struct PriceEntry<'a> {
    live: &'a LivePrice,
    /// Its product's key and its own, when billing manages it (from its marker).
    ours: Option<(String, String)>,
    table: Table,
    /// Written as `lookup_key`; `None` for an unmanaged price adopted by `id`.
    lookup_key: Option<String>,
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

/// A product entry in a catalog of its own, for the validator.
fn wrap_product(entry: &Table) -> Table {
    nest(&["products", "p"], entry)
}

/// A price entry in a catalog of its own (under a stand-in product), for the validator.
fn wrap_price(entry: &Table) -> Table {
    let mut product = Table::default();
    product.text("name", "x");
    product.table("prices", nest(&["x"], entry));
    nest(&["products", "p"], &product)
}

/// `prices.<product>.<price>` → its two keys, when billing.toml can declare them.
fn price_marker(address: &str) -> Option<(String, String)> {
    let rest = address.strip_prefix("prices.")?;
    let (product, price) = rest.split_once('.')?;
    (keys::is_key(product) && keys::is_key(price)).then(|| (product.to_owned(), price.to_owned()))
}

/// A tier as billing.toml writes it.
fn tier(t: &LiveTier, currency: Currency) -> Result<Value, String> {
    let mut entries = Vec::new();
    entries.push((
        "up_to".to_owned(),
        match t.up_to {
            None => Value::Str("inf".to_owned()),
            Some(n) => Value::Int(i64::try_from(n).map_err(|_| format!("up_to {n} is too large"))?),
        },
    ));
    let mut amount_entry = |names: (&str, &str), a: MinorAmount| -> Result<(), String> {
        entries.push(match amount::write(a, currency)? {
            Written::Major(text) => (names.0.to_owned(), Value::Str(text)),
            Written::MinorDecimal(text) => (names.1.to_owned(), Value::Str(text)),
        });
        Ok(())
    };
    match (t.unit_amount, t.flat_amount) {
        (None, None) => amount_entry(
            ("amount", "unit_amount_decimal"),
            MinorAmount::from_minor(0).map_err(|e| e.to_string())?,
        )?,
        (unit, flat) => {
            if let Some(u) = unit {
                amount_entry(("amount", "unit_amount_decimal"), u)?;
            }
            if let Some(f) = flat {
                amount_entry(("flat_amount", "flat_amount_decimal"), f)?;
            }
        }
    }
    Ok(Value::Inline(entries))
}

fn tiers(tiers: &[LiveTier], currency: Currency) -> Result<Value, String> {
    Ok(Value::Array(
        tiers
            .iter()
            .map(|t| tier(t, currency))
            .collect::<Result<Vec<_>, _>>()?,
    ))
}

/// `inclusive` or `exclusive`: the tax behaviours billing.toml declares (an unspecified one
/// is left unmanaged).
fn tax_behavior(live: Option<&str>) -> Option<&str> {
    live.filter(|t| matches!(*t, "inclusive" | "exclusive"))
}

/// The price's own fields (amount, interval, tiers, currency options, nickname, metadata).
fn price_table(ctx: &Ctx<'_>, p: &LivePrice, ours: bool, problems: &mut Problems) -> Option<Table> {
    if p.custom_unit_amount || p.currency_options.values().any(|o| o.custom_unit_amount) {
        problems.fatal(
            "custom_unit_amount",
            "a pay-what-you-want price, which billing.toml cannot declare",
        );
        return None;
    }
    if let Some(r) = &p.recurring
        && (r.usage_type != "licensed" || r.meter.is_some())
    {
        problems.fatal(
            "recurring.usage_type",
            format!(
                "a {} (usage-based) price, which billing.toml cannot declare",
                r.usage_type
            ),
        );
        return None;
    }
    let Some(currency) = Currency::parse(&p.currency) else {
        problems.fatal(
            "currency",
            format!("{:?} is not a currency billing knows", p.currency),
        );
        return None;
    };
    let mut t = Table::default();
    let tiered = p.billing_scheme == "tiered";
    match (p.billing_scheme.as_str(), p.unit_amount) {
        ("per_unit", Some(a)) => match amount::write(a, currency) {
            Ok(Written::Major(text)) => t.text("amount", &text),
            Ok(Written::MinorDecimal(text)) => t.text("unit_amount_decimal", &text),
            Err(why) => {
                problems.fatal("unit_amount", why);
                return None;
            }
        },
        ("per_unit", None) => {
            problems.fatal("unit_amount", "a per-unit price without an amount");
            return None;
        }
        ("tiered", _) => {
            t.text("billing_scheme", "tiered");
            match &p.tiers_mode {
                Some(mode) => t.text("tiers_mode", mode),
                None => {
                    problems.fatal("tiers_mode", "a tiered price without a tiers mode");
                    return None;
                }
            }
            match tiers(&p.tiers, currency) {
                Ok(v) => t.set("tiers", v),
                Err(why) => {
                    problems.fatal("tiers", why);
                    return None;
                }
            }
        }
        (other, _) => {
            problems.fatal(
                "billing_scheme",
                format!("{other:?} is not a scheme billing.toml declares"),
            );
            return None;
        }
    }
    t.text("currency", currency.code());
    if let Some(r) = &p.recurring {
        t.text("interval", &r.interval);
        if r.interval_count != 1 {
            match i64::try_from(r.interval_count) {
                Ok(n) => t.set("interval_count", Value::Int(n)),
                Err(_) => {
                    problems.fatal("interval_count", "too large");
                    return None;
                }
            }
        }
    }
    if let Some((divide_by, round)) = &p.transform_quantity {
        let Ok(divide_by) = i64::try_from(*divide_by) else {
            problems.fatal("transform_quantity", "divide_by is too large");
            return None;
        };
        t.set(
            "transform_quantity",
            Value::Inline(vec![
                ("divide_by".into(), Value::Int(divide_by)),
                ("round".into(), Value::Str(round.clone())),
            ]),
        );
    }
    if let Some(tb) = tax_behavior(p.tax_behavior.as_deref()) {
        t.text("tax_behavior", tb);
    }
    text_field(
        &mut t,
        "nickname",
        p.nickname.as_deref(),
        Severity::Drop,
        problems,
    );
    let mut options = Table::default();
    for (code, o) in &p.currency_options {
        let Some(c) = Currency::parse(code) else {
            problems.fatal(
                &format!("currency_options.{code}"),
                "not a currency billing knows",
            );
            return None;
        };
        let tb = tax_behavior(o.tax_behavior.as_deref());
        if tiered {
            if o.tiers.is_empty() {
                problems.fatal(
                    &format!("currency_options.{code}"),
                    "its tiers were not read",
                );
                return None;
            }
            let mut option = Table::default();
            if let Some(tb) = tb {
                option.text("tax_behavior", tb);
            }
            match tiers(&o.tiers, c) {
                Ok(v) => option.set("tiers", v),
                Err(why) => {
                    problems.fatal(&format!("currency_options.{code}"), why);
                    return None;
                }
            }
            options.table(code, option);
            continue;
        }
        let Some(a) = o.unit_amount.filter(|_| o.tiers.is_empty()) else {
            problems.fatal(
                &format!("currency_options.{code}"),
                "a currency option without a per-unit amount",
            );
            return None;
        };
        let written = match amount::write(a, c) {
            Ok(w) => w,
            Err(why) => {
                problems.fatal(&format!("currency_options.{code}"), why);
                return None;
            }
        };
        options.set(
            code,
            match (written, tb) {
                (Written::Major(text), None) => Value::Str(text),
                (Written::Major(text), Some(tb)) => Value::Inline(vec![
                    ("amount".into(), Value::Str(text)),
                    ("tax_behavior".into(), Value::Str(tb.to_owned())),
                ]),
                (Written::MinorDecimal(text), tb) => {
                    let mut e = vec![("unit_amount_decimal".to_owned(), Value::Str(text))];
                    if let Some(tb) = tb {
                        e.push(("tax_behavior".into(), Value::Str(tb.to_owned())));
                    }
                    Value::Inline(e)
                }
            },
        );
    }
    t.table("currency_options", options);
    if ours {
        on_remove(&mut t, &p.metadata, &["forget"], problems);
    }
    let metadata = ctx.metadata(&p.metadata, ResourceKind::Price, ours, problems);
    t.table("metadata", metadata_table(&metadata));
    Some(t)
}

/// The product's own fields, `id` first (not its prices or default price).
fn product_table(ctx: &Ctx<'_>, p: &LiveProduct, ours: bool, problems: &mut Problems) -> Table {
    let mut t = Table::default();
    t.text("id", &p.id);
    t.text("name", &p.name);
    text_field(
        &mut t,
        "description",
        p.description.as_deref(),
        Severity::Change,
        problems,
    );
    if !p.active {
        t.set("active", Value::Bool(false));
    }
    text_field(
        &mut t,
        "tax_code",
        p.tax_code.as_deref(),
        Severity::Change,
        problems,
    );
    text_field(
        &mut t,
        "unit_label",
        p.unit_label.as_deref(),
        Severity::Change,
        problems,
    );
    text_field(
        &mut t,
        "statement_descriptor",
        p.statement_descriptor.as_deref(),
        Severity::Drop,
        problems,
    );
    text_field(&mut t, "url", p.url.as_deref(), Severity::Change, problems);
    let strings = |v: &[String]| Value::Array(v.iter().map(|s| Value::Str(s.clone())).collect());
    if !p.images.is_empty() {
        t.set("images", strings(&p.images));
    }
    if !p.features.is_empty() {
        t.set("features", strings(&p.features));
    }
    if ours {
        on_remove(&mut t, &p.metadata, &["forget"], problems);
    }
    let metadata = ctx.metadata(&p.metadata, ResourceKind::Product, ours, problems);
    t.table("metadata", metadata_table(&metadata));
    t
}

const PRODUCT_OPTIONAL: &[(&str, Severity)] = &[
    ("description", Severity::Change),
    ("tax_code", Severity::Change),
    ("unit_label", Severity::Change),
    ("statement_descriptor", Severity::Drop),
    ("url", Severity::Change),
    ("images", Severity::Change),
    ("features", Severity::Change),
    ("metadata", Severity::Change),
];

const PRICE_OPTIONAL: &[(&str, Severity)] = &[
    ("nickname", Severity::Drop),
    ("lookup_key", Severity::Change),
    ("metadata", Severity::Change),
];

/// Oldest first, then by id: the order keys are given in, so the same account always gives
/// the same keys.
fn by_age<T>(items: &mut [&T], created: impl Fn(&T) -> i64, id: impl Fn(&T) -> &str) {
    items.sort_by(|a, b| (created(a), id(a)).cmp(&(created(b), id(b))));
}

pub(crate) fn import(ctx: &mut Ctx<'_>) -> Products {
    let namespace = ctx.options.namespace.clone();
    let mut live_products: Vec<&LiveProduct> = ctx.live.products.iter().collect();
    by_age(&mut live_products, |p| p.created, |p| &p.id);
    // Why each product that is not written is not, for its prices.
    let mut excluded: BTreeMap<&str, String> = BTreeMap::new();
    let mut entries: Vec<ProductEntry<'_>> = Vec::new();
    for p in live_products {
        let ours = match owner(&p.metadata, &namespace) {
            Owner::Foreign(ns) => {
                ctx.report.foreign(ns, ResourceKind::Product);
                excluded.insert(&p.id, format!("managed by namespace {ns:?}"));
                continue;
            }
            Owner::Ours(address) => match marker_key(address, "products") {
                Some(k) => Some(k.to_owned()),
                None => {
                    ctx.report
                        .skip(ResourceKind::Product, &p.id, unknown_address(address));
                    excluded.insert(&p.id, "skipped".to_owned());
                    continue;
                }
            },
            Owner::Unmanaged => None,
        };
        // Left out, an archived product billing manages stays as it is, unless it or one of
        // its prices records `on_remove = "forget"`: the plan would forget those.
        let forgotten = || {
            forgets(&p.metadata)
                || ctx.live.prices.iter().any(|x| {
                    x.product == p.id
                        && matches!(owner(&x.metadata, &namespace), Owner::Ours(_))
                        && forgets(&x.metadata)
                })
        };
        let written = p.active || ctx.options.include_archived || (ours.is_some() && forgotten());
        if !written {
            ctx.report.archived(ResourceKind::Product);
            excluded.insert(&p.id, "archived".to_owned());
            continue;
        }
        let mut problems = Problems::default();
        let mut table = product_table(ctx, p, ours.is_some(), &mut problems);
        check(&mut table, wrap_product, PRODUCT_OPTIONAL, &mut problems);
        let at = ours
            .as_ref()
            .map_or(p.id.clone(), |k| Address::product(k).to_string());
        if !ctx.settle(ResourceKind::Product, &p.id, &at, ours.is_some(), &problems) {
            excluded.insert(&p.id, "skipped".to_owned());
            if !p.active {
                ctx.report.archived(ResourceKind::Product);
            }
            continue;
        }
        entries.push(ProductEntry {
            live: p,
            ours,
            table,
            prices: Vec::new(),
        });
    }
    // Several managed products at one address: the one the plan keeps (the newest active,
    // else the newest) is written; the plan archives the others.
    let mut current: BTreeMap<String, &str> = BTreeMap::new();
    for e in entries.iter().rev() {
        if let Some(k) = &e.ours {
            let replace = match current.get(k) {
                None => true,
                Some(id) => {
                    let held = entries.iter().find(|x| x.live.id == *id).map(|x| x.live);
                    e.live.active && held.is_some_and(|h| !h.active)
                }
            };
            if replace {
                current.insert(k.clone(), &e.live.id);
            }
        }
    }
    let mut kept = Vec::new();
    for e in entries {
        match &e.ours {
            Some(k) if current.get(k) != Some(&e.live.id.as_str()) => {
                ctx.report.skip(
                    ResourceKind::Product,
                    &e.live.id,
                    format!("another product billing manages is products.{k}: `billing plan` archives this duplicate"),
                );
                excluded.insert(&e.live.id, "skipped".to_owned());
            }
            _ => kept.push(e),
        }
    }
    let mut entries = kept;

    // Lookup keys: every one the account holds, and those held by more than one price.
    let mut holders: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for p in &ctx.live.prices {
        if let Some(k) = p.lookup_key.as_deref().filter(|k| !k.is_empty()) {
            holders.entry(k).or_default().push(&p.id);
        }
    }
    let mut taken_lookup_keys: BTreeSet<String> = holders.keys().map(|k| (*k).to_owned()).collect();
    for (k, ids) in &holders {
        if ids.len() > 1 {
            let mut ids: Vec<String> = ids.iter().map(|i| (*i).to_owned()).collect();
            ids.sort();
            ctx.report
                .duplicate_lookup_keys
                .insert((*k).to_owned(), ids);
        }
    }

    let index: BTreeMap<String, usize> = entries
        .iter()
        .enumerate()
        .map(|(i, e)| (e.live.id.clone(), i))
        .collect();
    let mut live_prices: Vec<&LivePrice> = ctx.live.prices.iter().collect();
    by_age(&mut live_prices, |p| p.created, |p| &p.id);
    for p in live_prices {
        let ours = match owner(&p.metadata, &namespace) {
            Owner::Foreign(ns) => {
                ctx.report.foreign(ns, ResourceKind::Price);
                continue;
            }
            Owner::Ours(address) => match price_marker(address) {
                Some(keys) => Some(keys),
                None => {
                    ctx.report
                        .skip(ResourceKind::Price, &p.id, unknown_address(address));
                    continue;
                }
            },
            Owner::Unmanaged => None,
        };
        // The prices billing manages of a product written `active = false` are declared with
        // it: the plan archives them with the product, so nothing changes, while left out the
        // plan would forget those that record `on_remove = "forget"`.
        let inactive_product = index
            .get(&p.product)
            .and_then(|i| entries.get(*i))
            .is_some_and(|e| !e.live.active);
        if !(p.active || (ours.is_some() && inactive_product)) {
            ctx.report.archived(ResourceKind::Price);
            continue;
        }
        let Some(product) = index.get(&p.product).and_then(|i| entries.get_mut(*i)) else {
            let why = excluded
                .get(p.product.as_str())
                .map_or("not found".to_owned(), Clone::clone);
            ctx.report.skip(
                ResourceKind::Price,
                &p.id,
                format!("its product {} is not imported ({why})", p.product),
            );
            continue;
        };
        if !product.live.active && p.active {
            ctx.report.skip(
                ResourceKind::Price,
                &p.id,
                format!(
                    "its product {} is archived, and billing archives the prices of a product declared `active = false`",
                    p.product
                ),
            );
            continue;
        }
        if let Some(k) = p.lookup_key.as_deref()
            && let Some(ids) = ctx.report.duplicate_lookup_keys.get(k)
        {
            let others: Vec<&str> = ids
                .iter()
                .map(String::as_str)
                .filter(|i| *i != p.id)
                .collect();
            ctx.report.skip(
                ResourceKind::Price,
                &p.id,
                format!("its lookup key {k:?} is also held by {}", others.join(", ")),
            );
            continue;
        }
        let mut problems = Problems::default();
        let at = ours
            .as_ref()
            .map_or(p.id.clone(), |(pk, k)| Address::price(pk, k).to_string());
        if let Some((pk, _)) = &ours
            && product.ours.as_ref().is_some_and(|k| k != pk)
        {
            problems.fatal(
                "",
                format!(
                    "its product is products.{}, but its marker places it under products.{pk}",
                    product.ours.as_deref().unwrap_or_default()
                ),
            );
        }
        let lookup_key = p.lookup_key.clone().filter(|k| !k.is_empty());
        let table = price_table(ctx, p, ours.is_some(), &mut problems).map(|mut t| {
            if let Some(k) = &lookup_key {
                // The catalog's default lookup key needs no line of its own.
                let default = ours.as_ref().map(|(pk, k)| format!("{pk}_{k}"));
                if default.as_deref() != Some(k.as_str()) {
                    let at = t
                        .values
                        .iter()
                        .position(|(f, _)| f == "nickname")
                        .unwrap_or(t.values.len());
                    t.values
                        .insert(at, ("lookup_key".to_owned(), Value::Str(k.clone())));
                }
            }
            check(&mut t, wrap_price, PRICE_OPTIONAL, &mut problems);
            t
        });
        if ours.is_none() && lookup_key.is_none() && !adoptable_price_id(&p.id) {
            problems.fatal(
                "id",
                format!(
                    "{:?} is not a price id billing.toml can write as `id`",
                    p.id
                ),
            );
        }
        if !ctx.settle(ResourceKind::Price, &p.id, &at, ours.is_some(), &problems) {
            continue;
        }
        let Some(table) = table else { continue };
        product.prices.push(PriceEntry {
            live: p,
            ours,
            table,
            lookup_key,
        });
    }

    // A product whose default price is not written cannot be written either: without
    // `default_price`, the plan would clear it.
    let mut kept = Vec::new();
    for e in entries {
        let problem = match e.live.default_price.as_deref() {
            None => None,
            Some(_) if !e.live.active => Some(
                "an archived product with a default price: billing.toml cannot declare a default price on a product declared `active = false`".to_owned(),
            ),
            Some(d) if e.prices.iter().any(|p| p.live.id == d) => None,
            Some(d) => Some(format!("its default price {d} is not imported (see the price)")),
        };
        let Some(why) = problem else {
            kept.push(e);
            continue;
        };
        if e.ours.is_some() {
            let at = Address::product(e.ours.as_deref().unwrap_or_default()).to_string();
            ctx.report.inexpressible(
                &at,
                "default_price",
                format!("{why}: left out, so `billing plan` clears it"),
            );
            kept.push(e);
            continue;
        }
        ctx.report.skip(ResourceKind::Product, &e.live.id, why);
        if !e.live.active {
            ctx.report.archived(ResourceKind::Product);
        }
        for p in &e.prices {
            ctx.report.skip(
                ResourceKind::Price,
                &p.live.id,
                format!("its product {} is not imported (skipped)", e.live.id),
            );
        }
    }
    let entries = kept;

    // Keys: the addresses in markers first, then the others, oldest first.
    let mut product_space = KeySpace::default();
    let held = held_keys(
        ctx.live.products.iter().map(|p| &p.metadata),
        &namespace,
        |a| marker_key(a, "products"),
    );
    for k in &held {
        product_space.reserve(k);
    }
    // The same for prices, by the product key in their markers.
    let mut held_prices: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for p in &ctx.live.prices {
        if let Owner::Ours(address) = owner(&p.metadata, &namespace)
            && let Some((pk, k)) = price_marker(address)
        {
            held_prices.entry(pk).or_default().insert(k);
        }
    }
    let mut product_keys: BTreeMap<String, String> = BTreeMap::new();
    let mut price_keys: BTreeMap<String, (String, String)> = BTreeMap::new();
    let mut table = Table::default();
    for mut e in entries {
        let key = match &e.ours {
            Some(k) => k.clone(),
            None => {
                // A product whose prices billing manages gets the key in their markers.
                let hinted = e
                    .prices
                    .iter()
                    .find_map(|p| p.ours.as_ref().map(|(pk, _)| pk.clone()));
                let base = hinted
                    .filter(|k| !product_space.contains(k))
                    .or_else(|| keys::slug(&e.live.name))
                    .or_else(|| keys::slug(&e.live.id))
                    .unwrap_or_else(|| "product".to_owned());
                let claimed = product_space.claim(&base, |_| true);
                if let Some(wanted) = claimed.wanted {
                    ctx.report.renamed.push(Renamed {
                        address: Address::product(&claimed.key).to_string(),
                        id: e.live.id.clone(),
                        wanted,
                        why: None,
                    });
                }
                claimed.key
            }
        };
        let prices = assign_price_keys(
            ctx,
            &key,
            &mut e,
            held_prices.get(&key),
            &mut taken_lookup_keys,
        );
        let mut product_table = e.table;
        if let Some(d) = e.live.default_price.as_deref()
            && e.live.active
            && let Some((k, _)) = prices.iter().find(|(_, p)| p.live.id == d)
        {
            product_table.text("default_price", k);
        }
        let mut prices_table = Table::default();
        for (k, p) in prices {
            price_keys.insert(p.live.id.clone(), (key.clone(), k.clone()));
            prices_table.table(&k, p.table);
            ctx.report.wrote(ResourceKind::Price);
        }
        product_table.table("prices", prices_table);
        product_keys.insert(e.live.id.clone(), key.clone());
        table.table(&key, product_table);
        ctx.report.wrote(ResourceKind::Product);
    }
    Products {
        table,
        product_keys,
        price_keys,
    }
}

/// Whether `id` is one billing.toml takes as a price's `id`.
fn adoptable_price_id(id: &str) -> bool {
    id.strip_prefix("price_").is_some_and(|rest| {
        !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
    }) && id.len() <= 255
}

/// Gives each price of a product its key (in catalog order), adds `id` to those adopted by
/// id and reports the lookup key adoption gives them.
fn assign_price_keys<'a>(
    ctx: &mut Ctx<'_>,
    product_key: &str,
    product: &mut ProductEntry<'a>,
    held: Option<&BTreeSet<String>>,
    taken_lookup_keys: &mut BTreeSet<String>,
) -> BTreeMap<String, PriceEntry<'a>> {
    let mut space = KeySpace::default();
    for k in held.into_iter().flatten() {
        space.reserve(k);
    }
    let mut out = BTreeMap::new();
    let mut rest = Vec::new();
    for p in std::mem::take(&mut product.prices) {
        let Some((pk, k)) = p.ours.clone() else {
            rest.push(p);
            continue;
        };
        if pk != product_key {
            ctx.report.skip(
                ResourceKind::Price,
                &p.live.id,
                format!(
                    "billing manages it as prices.{pk}.{k}, but its product is written as products.{product_key} (the key prices.{pk}.… was taken): declare it by hand"
                ),
            );
            continue;
        }
        space.reserve(&k);
        // (An archived price of an inactive product is left as it is.)
        if p.lookup_key.is_none() && p.live.active {
            let default = format!("{product_key}_{k}");
            let clash = if taken_lookup_keys.contains(&default) {
                ", which another price holds: the plan will refuse until one of them changes"
            } else {
                ""
            };
            ctx.report.inexpressible(
                &Address::price(product_key, &k).to_string(),
                "lookup_key",
                format!("none in Stripe: `billing plan` gives it the default {default:?}{clash}"),
            );
            taken_lookup_keys.insert(default);
        }
        out.insert(k, p);
    }
    // The default price first, then oldest first (the order they were read in).
    let default = product.live.default_price.clone();
    rest.sort_by_key(|p| default.as_deref() != Some(p.live.id.as_str()));
    let currencies: BTreeSet<&str> = rest
        .iter()
        .map(|p| p.live.currency.as_str())
        .chain(out.values().map(|p| p.live.currency.as_str()))
        .collect();
    let natural = keys::slug(&product.live.name);
    for mut p in rest {
        let interval = || {
            let base = keys::interval_key(
                p.live
                    .recurring
                    .as_ref()
                    .map(|r| (r.interval.as_str(), r.interval_count)),
            );
            if currencies.len() > 1 {
                format!("{base}_{}", p.live.currency)
            } else {
                base
            }
        };
        let from_lookup_key = p.lookup_key.as_deref().and_then(|lk| {
            let stripped = [Some(product_key), natural.as_deref()]
                .into_iter()
                .flatten()
                .find_map(|prefix| lk.strip_prefix(prefix).and_then(|r| r.strip_prefix('_')))
                .filter(|r| !r.is_empty())
                .unwrap_or(lk);
            keys::slug(stripped)
        });
        let base = from_lookup_key.unwrap_or_else(interval);
        let base_taken = space.contains(&base);
        let claimed = if p.lookup_key.is_some() {
            space.claim(&base, |_| true)
        } else {
            space.claim(&base, |k| {
                !taken_lookup_keys.contains(&format!("{product_key}_{k}"))
            })
        };
        let key = claimed.key.clone();
        if let Some(wanted) = claimed.wanted {
            // A key changed only to keep the default lookup key free says so.
            let why = (!base_taken).then(|| {
                format!(
                    "the lookup key adoption would give it, \"{product_key}_{wanted}\", is already one of the account or of this file"
                )
            });
            ctx.report.renamed.push(Renamed {
                address: Address::price(product_key, &key).to_string(),
                id: p.live.id.clone(),
                wanted,
                why,
            });
        }
        if p.lookup_key.is_none() {
            let lookup_key = format!("{product_key}_{key}");
            taken_lookup_keys.insert(lookup_key.clone());
            p.table
                .values
                .insert(0, ("id".to_owned(), Value::Str(p.live.id.clone())));
            p.table.comment = Some(format!(
                "No lookup key in Stripe: adopting {} gives it {lookup_key:?}.",
                p.live.id
            ));
            ctx.report.without_lookup_key.push(NoLookupKey {
                address: Address::price(product_key, &key).to_string(),
                id: p.live.id.clone(),
                lookup_key,
            });
        }
        out.insert(key, p);
    }
    out
}
