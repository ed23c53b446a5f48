//! Products and their prices as `[products.<key>]` and `[products.<key>.prices.<key>]`.
//!
//! A product is written with its `id` (adoption by id), unless billing manages it already. A
//! price is written with its lookup key when it has one (adoption by lookup key), else with
//! its `id`, under a key chosen so that the lookup key adoption gives it, `<product>_<price>`,
//! is free. A product whose default price cannot be written is left out (omitting
//! `default_price` would clear it), and so are its prices.

use std::collections::{BTreeMap, BTreeSet};

use super::amount::{self, Written};
use super::keys::{self, KeySpace};
use super::place::{adoptable_id, oldest_first, written_at};
use super::report::{NoLookupKey, Renamed};
use super::write::{Table, Value};
use super::{
    Ctx, Owner, Problems, Severity, check, checked, forgets, metadata_table, nest, on_remove,
    owner, strings, text_field,
};
use crate::catalog::{Currency, MinorAmount};
use crate::live::{LiveCurrencyOption, LivePrice, LiveProduct, LiveTier};
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

/// A product entry in a catalog of its own, for the validator.
fn wrap_product(entry: &Table) -> Table {
    nest(&["products", "p"], entry)
}

/// A price entry in a catalog of its own (under a stand-in product), for the validator.
fn wrap_price(entry: &Table) -> Table {
    let mut product = Table::default();
    product.text("name", "x");
    product.table("prices", nest(&["x"], entry));
    let mut catalog = nest(&["products", "p"], &product);
    // The meter a metered price names, as a stand-in.
    if let Some((_, Value::Str(key))) = entry.values.iter().find(|(k, _)| k == "meter") {
        let mut meter = Table::default();
        meter.text("display_name", "x");
        meter.text("event_name", "x");
        meter.text("aggregation", "sum");
        catalog.table("meters", nest(&[key.as_str()], &meter));
    }
    catalog
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
    let currency = declarable(p, problems)?;
    let meter = match p.recurring.as_ref().and_then(|r| r.meter.as_deref()) {
        Some(id) => {
            let key = ctx.meter_keys.get(id).ok_or_else(|| {
                format!("its meter {id} is inactive or missing (import with --include-archived to write inactive meters)")
            });
            Some(problems.ok("recurring.meter", key)?)
        }
        None => None,
    };
    let mut t = pricing(p, currency, problems)?;
    t.text("currency", currency.code());
    if let Some(r) = &p.recurring {
        t.text("interval", &r.interval);
        if let Some(key) = meter {
            t.text("meter", key);
        }
        if r.interval_count != 1 {
            let count = i64::try_from(r.interval_count).map_err(|_| "too large".to_owned());
            t.set(
                "interval_count",
                Value::Int(problems.ok("interval_count", count)?),
            );
        }
    }
    if let Some((divide_by, round)) = &p.transform_quantity {
        let divide_by = i64::try_from(*divide_by).map_err(|_| "divide_by is too large".to_owned());
        let divide_by = problems.ok("transform_quantity", divide_by)?;
        t.set(
            "transform_quantity",
            Value::Inline(vec![
                ("divide_by".into(), Value::Int(divide_by)),
                ("round".into(), Value::Str(round.to_string())),
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
    t.table("currency_options", currency_options(p, problems)?);
    if ours {
        on_remove(&mut t, &p.metadata, &["forget"], problems);
    }
    let metadata = ctx.metadata(&p.metadata, ResourceKind::Price, ours, problems);
    t.table("metadata", metadata_table(&metadata));
    Some(t)
}

/// The price's currency, when billing.toml can declare a price like it at all: not a
/// pay-what-you-want price, not a usage-based one, and in a currency billing knows.
fn declarable(p: &LivePrice, problems: &mut Problems) -> Option<Currency> {
    if p.custom_unit_amount || p.currency_options.values().any(|o| o.custom_unit_amount) {
        problems.fatal(
            "custom_unit_amount",
            "a pay-what-you-want price, which billing.toml cannot declare",
        );
        return None;
    }
    if let Some(r) = &p.recurring
        && r.usage_type != "licensed"
        && r.meter.is_none()
    {
        problems.fatal(
            "recurring.usage_type",
            format!(
                "a legacy {} price without a meter, which Stripe no longer attaches to new subscriptions (API version 2025-03-31.basil)",
                r.usage_type
            ),
        );
        return None;
    }
    let currency = Currency::parse(&p.currency)
        .ok_or_else(|| format!("{:?} is not a currency billing knows", p.currency));
    problems.ok("currency", currency)
}

/// A price's table, begun with how it is priced: its amount, or the tiered scheme with its
/// mode and tiers.
fn pricing(p: &LivePrice, currency: Currency, problems: &mut Problems) -> Option<Table> {
    let mut t = Table::default();
    match (p.billing_scheme.as_str(), p.unit_amount) {
        ("per_unit", Some(a)) => match problems.ok("unit_amount", amount::write(a, currency))? {
            Written::Major(text) => t.text("amount", &text),
            Written::MinorDecimal(text) => t.text("unit_amount_decimal", &text),
        },
        ("per_unit", None) => {
            problems.fatal("unit_amount", "a per-unit price without an amount");
            return None;
        }
        ("tiered", _) => {
            t.text("billing_scheme", "tiered");
            let mode = p
                .tiers_mode
                .map(|m| m.as_str())
                .ok_or_else(|| "a tiered price without a tiers mode".to_owned());
            t.text("tiers_mode", problems.ok("tiers_mode", mode)?);
            t.set("tiers", problems.ok("tiers", tiers(&p.tiers, currency))?);
        }
        (other, _) => {
            problems.fatal(
                "billing_scheme",
                format!("{other:?} is not a scheme billing.toml declares"),
            );
            return None;
        }
    }
    Some(t)
}

/// `currency_options`: the price's amount (or tiers) and tax behavior in each other currency.
fn currency_options(p: &LivePrice, problems: &mut Problems) -> Option<Table> {
    let tiered = p.billing_scheme == "tiered";
    let mut options = Table::default();
    for (code, o) in &p.currency_options {
        let field = format!("currency_options.{code}");
        let currency =
            Currency::parse(code).ok_or_else(|| "not a currency billing knows".to_owned());
        let currency = problems.ok(&field, currency)?;
        let written = currency_option(&mut options, (code, o), currency, tiered);
        problems.ok(&field, written)?;
    }
    Some(options)
}

/// One currency option, written into `options` under its code: its tax behavior, and its
/// tiers (of a `tiered` price) or its amount; `Err` says why it cannot be written.
fn currency_option(
    options: &mut Table,
    (code, o): (&str, &LiveCurrencyOption),
    currency: Currency,
    tiered: bool,
) -> Result<(), String> {
    let tb = tax_behavior(o.tax_behavior.as_deref());
    if tiered {
        if o.tiers.is_empty() {
            return Err("its tiers were not read".to_owned());
        }
        let mut option = Table::default();
        if let Some(tb) = tb {
            option.text("tax_behavior", tb);
        }
        option.set("tiers", tiers(&o.tiers, currency)?);
        options.table(code, option);
        return Ok(());
    }
    let amount = o
        .unit_amount
        .filter(|_| o.tiers.is_empty())
        .ok_or_else(|| "a currency option without a per-unit amount".to_owned())?;
    let value = match (amount::write(amount, currency)?, tb) {
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
    };
    options.set(code, value);
    Ok(())
}

/// The product's own fields, `id` first when billing adopts it (billing finds a product it
/// manages by its marker), not its prices or default price.
fn product_table(ctx: &Ctx<'_>, p: &LiveProduct, ours: bool, problems: &mut Problems) -> Table {
    let mut t = Table::default();
    if !ours {
        t.text("id", &p.id);
    }
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
    for (field, value, severity) in [
        ("tax_code", &p.tax_code, Severity::Change),
        ("unit_label", &p.unit_label, Severity::Change),
        (
            "statement_descriptor",
            &p.statement_descriptor,
            Severity::Drop,
        ),
        ("url", &p.url, Severity::Change),
    ] {
        text_field(&mut t, field, value.as_deref(), severity, problems);
    }
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

/// Products and their prices (see the module documentation).
pub(crate) fn import(ctx: &mut Ctx<'_>) -> Products {
    // Why each product that is not written is not, for its prices.
    let mut excluded: BTreeMap<&str, String> = BTreeMap::new();
    let entries = product_entries(ctx, &mut excluded);
    let mut taken_lookup_keys = lookup_keys(ctx);
    let entries = add_prices(ctx, entries, &excluded);
    let entries = with_default_prices(ctx, entries);
    assemble(ctx, entries, &mut taken_lookup_keys)
}

/// The products that can be written, oldest first, one per address billing manages;
/// `excluded` gets why each other product is not written.
fn product_entries<'a>(
    ctx: &mut Ctx<'a>,
    excluded: &mut BTreeMap<&'a str, String>,
) -> Vec<ProductEntry<'a>> {
    let live = ctx.live;
    let mut entries = Vec::new();
    for p in oldest_first(&live.products) {
        let Some(ours) = ctx.place_or_exclude(p, excluded) else {
            continue;
        };
        if !written(ctx, p, ours.is_some()) {
            ctx.report.archived(ResourceKind::Product);
            excluded.insert(&p.id, "archived".to_owned());
            continue;
        }
        let mut problems = Problems::default();
        let mut table = product_table(ctx, p, ours.is_some(), &mut problems);
        check(&mut table, wrap_product, PRODUCT_OPTIONAL, &mut problems);
        let at = written_at(ResourceKind::Product, ours.as_ref(), &p.id);
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
    let duplicates = ctx.duplicates(
        entries.iter().map(|e| (e.live, e.ours.as_ref())),
        ("product", "archives"),
    );
    entries.retain(|e| !duplicates.contains(e.live.id.as_str()));
    for id in duplicates {
        excluded.insert(id, "skipped".to_owned());
    }
    entries
}

/// Whether a product is written: an active one is; an archived one with
/// `--include-archived`, or when billing manages it and it or one of its prices records
/// `on_remove = "forget"` (left out, an archived product billing manages stays as it is, but
/// the plan would forget those).
fn written(ctx: &Ctx<'_>, p: &LiveProduct, ours: bool) -> bool {
    let forgotten = || {
        forgets(&p.metadata)
            || ctx.live.prices.iter().any(|x| {
                x.product == p.id
                    && matches!(owner(&x.metadata, &ctx.options.namespace), Owner::Ours(_))
                    && forgets(&x.metadata)
            })
    };
    p.active || ctx.options.include_archived || (ours && forgotten())
}

/// Every lookup key the account holds; those held by more than one price are reported
/// (none of those prices is written).
fn lookup_keys(ctx: &mut Ctx<'_>) -> BTreeSet<String> {
    let live = ctx.live;
    let mut holders: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for p in &live.prices {
        if let Some(k) = p.lookup_key.as_deref().filter(|k| !k.is_empty()) {
            holders.entry(k).or_default().push(&p.id);
        }
    }
    for (k, ids) in &holders {
        if ids.len() > 1 {
            let mut ids: Vec<String> = ids.iter().map(|i| (*i).to_owned()).collect();
            ids.sort();
            ctx.report
                .duplicate_lookup_keys
                .insert((*k).to_owned(), ids);
        }
    }
    holders.into_keys().map(str::to_owned).collect()
}

/// Adds each price that can be written to its product, oldest first; the others are
/// reported (`excluded`: why each product that is not written is not).
fn add_prices<'a>(
    ctx: &mut Ctx<'a>,
    mut entries: Vec<ProductEntry<'a>>,
    excluded: &BTreeMap<&str, String>,
) -> Vec<ProductEntry<'a>> {
    let index: BTreeMap<String, usize> = entries
        .iter()
        .enumerate()
        .map(|(i, e)| (e.live.id.clone(), i))
        .collect();
    let live = ctx.live;
    for p in oldest_first(&live.prices) {
        let Ok(ours) = ctx.place(ResourceKind::Price, &p.id, &p.metadata, price_marker) else {
            continue;
        };
        let product = index
            .get(p.product.as_str())
            .and_then(|i| entries.get_mut(*i));
        // The prices billing manages of a product written `active = false` are declared with
        // it: the plan archives them with the product, so nothing changes, while left out the
        // plan would forget those that record `on_remove = "forget"`.
        let inactive_product = product.as_ref().is_some_and(|e| !e.live.active);
        if !(p.active || (ours.is_some() && inactive_product)) {
            ctx.report.archived(ResourceKind::Price);
            continue;
        }
        let Some(product) = product else {
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
        if let Some(price) = price_entry(ctx, p, ours, product) {
            product.prices.push(price);
        }
    }
    entries
}

/// A price of `product` with its table; `None` when it is left out (and reported).
fn price_entry<'a>(
    ctx: &mut Ctx<'_>,
    p: &'a LivePrice,
    ours: Option<(String, String)>,
    product: &ProductEntry<'_>,
) -> Option<PriceEntry<'a>> {
    if let Some(why) = price_left_out(ctx, p, product) {
        ctx.report.skip(ResourceKind::Price, &p.id, why);
        return None;
    }
    let mut problems = Problems::default();
    let at = ours.as_ref().map_or(p.id.to_string(), |(pk, k)| {
        Address::price(pk, k).to_string()
    });
    if let Some((pk, _)) = &ours
        && product.ours.as_ref().is_some_and(|k| k != pk)
    {
        problems.fatal(
            "",
            format!(
                "its product is {}, but its marker places it under {}",
                Address::product(product.ours.as_deref().unwrap_or_default()),
                Address::product(pk)
            ),
        );
    }
    let lookup_key = p
        .lookup_key
        .as_ref()
        .filter(|k| !k.is_empty())
        .map(ToString::to_string);
    let table = price_table(ctx, p, ours.is_some(), &mut problems).map(|mut t| {
        write_lookup_key(&mut t, lookup_key.as_deref(), ours.as_ref());
        t
    });
    let table = checked(table, wrap_price, PRICE_OPTIONAL, &mut problems);
    if ours.is_none() && lookup_key.is_none() && !adoptable_id(&p.id, "price_") {
        problems.fatal(
            "id",
            format!(
                "{:?} is not a price id billing.toml can write as `id`",
                p.id
            ),
        );
    }
    if !ctx.settle(ResourceKind::Price, &p.id, &at, ours.is_some(), &problems) {
        return None;
    }
    Some(PriceEntry {
        live: p,
        ours,
        table: table?,
        lookup_key,
    })
}

/// Why a price of `product` is left out whatever its fields: an active price of an archived
/// product, or a lookup key other prices hold too.
fn price_left_out(ctx: &Ctx<'_>, p: &LivePrice, product: &ProductEntry<'_>) -> Option<String> {
    if !product.live.active && p.active {
        return Some(format!(
            "its product {} is archived, and billing archives the prices of a product declared `active = false`",
            p.product
        ));
    }
    let k = p.lookup_key.as_deref()?;
    let ids = ctx.report.duplicate_lookup_keys.get(k)?;
    let others: Vec<&str> = ids
        .iter()
        .map(String::as_str)
        .filter(|i| *i != p.id)
        .collect();
    Some(format!(
        "its lookup key {k:?} is also held by {}",
        others.join(", ")
    ))
}

/// `lookup_key`, before `nickname`, unless it is the catalog's default for the price's
/// marked address (which needs no line of its own).
fn write_lookup_key(t: &mut Table, lookup_key: Option<&str>, ours: Option<&(String, String)>) {
    let Some(k) = lookup_key else { return };
    let default = ours.map(|(pk, k)| format!("{pk}_{k}"));
    if default.as_deref() == Some(k) {
        return;
    }
    let at = t
        .values
        .iter()
        .position(|(f, _)| f == "nickname")
        .unwrap_or(t.values.len());
    t.values
        .insert(at, ("lookup_key".to_owned(), Value::Str(k.to_owned())));
}

/// The products that can be written with their default price. A product whose default price
/// is not written cannot be written either: without `default_price`, the plan would clear
/// it; one billing manages is written all the same (and reported). A product left out takes
/// its prices with it.
fn with_default_prices<'a>(
    ctx: &mut Ctx<'_>,
    entries: Vec<ProductEntry<'a>>,
) -> Vec<ProductEntry<'a>> {
    let mut out = Vec::new();
    for e in entries {
        let Some(why) = default_price_problem(&e) else {
            out.push(e);
            continue;
        };
        if let Some(key) = &e.ours {
            ctx.report.inexpressible(
                &Address::product(key).to_string(),
                "default_price",
                format!("{why}: left out, so `billing plan` clears it"),
            );
            out.push(e);
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
    out
}

/// Why a product's default price cannot be written, when it has one.
fn default_price_problem(e: &ProductEntry<'_>) -> Option<String> {
    match e.live.default_price.as_deref() {
        None => None,
        Some(_) if !e.live.active => Some(
            "an archived product with a default price: billing.toml cannot declare a default price on a product declared `active = false`".to_owned(),
        ),
        Some(d) if e.prices.iter().any(|p| p.live.id == d) => None,
        Some(d) => Some(format!("its default price {d} is not imported (see the price)")),
    }
}

/// The `[products]` table: each product under its key (the address in its marker first,
/// then new keys, oldest first), with its prices under theirs.
fn assemble(
    ctx: &mut Ctx<'_>,
    entries: Vec<ProductEntry<'_>>,
    taken_lookup_keys: &mut BTreeSet<String>,
) -> Products {
    let mut space = KeySpace::default();
    for k in &ctx.held::<LiveProduct>() {
        space.reserve(k);
    }
    let held_prices = held_price_keys(ctx);
    let mut out = Products {
        table: Table::default(),
        product_keys: BTreeMap::new(),
        price_keys: BTreeMap::new(),
    };
    for mut e in entries {
        let key = match &e.ours {
            Some(k) => k.clone(),
            None => new_product_key(ctx, &mut space, &e),
        };
        let prices = assign_price_keys(ctx, &key, &mut e, held_prices.get(&key), taken_lookup_keys);
        let mut product_table = e.table;
        if let Some(d) = e.live.default_price.as_deref()
            && e.live.active
            && let Some((k, _)) = prices.iter().find(|(_, p)| p.live.id == d)
        {
            product_table.text("default_price", k);
        }
        let mut prices_table = Table::default();
        for (k, p) in prices {
            out.price_keys
                .insert(p.live.id.to_string(), (key.clone(), k.clone()));
            prices_table.table(&k, p.table);
            ctx.report.wrote(ResourceKind::Price);
        }
        product_table.table("prices", prices_table);
        out.product_keys.insert(e.live.id.clone(), key.clone());
        out.table.table(&key, product_table);
        ctx.report.wrote(ResourceKind::Product);
    }
    out
}

/// The price keys this namespace's markers hold, by the product key in them.
fn held_price_keys(ctx: &Ctx<'_>) -> BTreeMap<String, BTreeSet<String>> {
    let mut held: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for p in &ctx.live.prices {
        if let Owner::Ours(address) = owner(&p.metadata, &ctx.options.namespace)
            && let Some((pk, k)) = price_marker(address)
        {
            held.entry(pk).or_default().insert(k);
        }
    }
    held
}

/// The key of a product billing adopts: the product key in the markers of its prices billing
/// manages, when it is free, else one from its name (or its id).
fn new_product_key(ctx: &mut Ctx<'_>, space: &mut KeySpace, e: &ProductEntry<'_>) -> String {
    let hinted = e
        .prices
        .iter()
        .find_map(|p| p.ours.as_ref().map(|(pk, _)| pk.clone()));
    let base = hinted
        .filter(|k| !space.contains(k))
        .or_else(|| keys::slug(&e.live.name))
        .or_else(|| keys::slug(&e.live.id))
        .unwrap_or_else(|| "product".to_owned());
    ctx.claim(space, ResourceKind::Product, &e.live.id, &base, |_| true)
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
    let prices = std::mem::take(&mut product.prices);
    let (mut out, mut rest) =
        managed_prices(ctx, product_key, prices, &mut space, taken_lookup_keys);
    // The default price first, then oldest first (the order they were read in).
    let default = product.live.default_price.clone();
    rest.sort_by_key(|p| default.as_deref() != Some(p.live.id.as_str()));
    let currencies: BTreeSet<&str> = rest
        .iter()
        .map(|p| p.live.currency.as_str())
        .chain(out.values().map(|p| p.live.currency.as_str()))
        .collect();
    let several_currencies = currencies.len() > 1;
    let natural = keys::slug(&product.live.name);
    for mut p in rest {
        let base = proposed_key(&p, product_key, natural.as_deref(), several_currencies);
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
                id: p.live.id.to_string(),
                wanted,
                why,
            });
        }
        if p.lookup_key.is_none() {
            adopted_by_id(ctx, &mut p, product_key, &key, taken_lookup_keys);
        }
        out.insert(key, p);
    }
    out
}

/// The prices billing manages, under the keys in their markers (their product's key must be
/// `product_key`), and the others (`space` gets the keys taken). A managed price without a
/// lookup key gets the catalog's default one from the plan: reported.
fn managed_prices<'a>(
    ctx: &mut Ctx<'_>,
    product_key: &str,
    prices: Vec<PriceEntry<'a>>,
    space: &mut KeySpace,
    taken_lookup_keys: &mut BTreeSet<String>,
) -> (BTreeMap<String, PriceEntry<'a>>, Vec<PriceEntry<'a>>) {
    let mut out = BTreeMap::new();
    let mut rest = Vec::new();
    for p in prices {
        let Some((pk, k)) = p.ours.clone() else {
            rest.push(p);
            continue;
        };
        if pk != product_key {
            ctx.report.skip(
                ResourceKind::Price,
                &p.live.id,
                format!(
                    "billing manages it as {}, but its product is written as {} (the key {} was taken): declare it by hand",
                    Address::price(&pk, &k),
                    Address::product(product_key),
                    Address::price(&pk, "…")
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
    (out, rest)
}

/// The key proposed for a price billing adopts: its lookup key without the product's key or
/// name in front, else its interval (and currency, when the product's prices have several).
fn proposed_key(
    p: &PriceEntry<'_>,
    product_key: &str,
    natural: Option<&str>,
    several_currencies: bool,
) -> String {
    let from_lookup_key = p.lookup_key.as_deref().and_then(|lk| {
        let stripped = [Some(product_key), natural]
            .into_iter()
            .flatten()
            .find_map(|prefix| lk.strip_prefix(prefix).and_then(|r| r.strip_prefix('_')))
            .filter(|r| !r.is_empty())
            .unwrap_or(lk);
        keys::slug(stripped)
    });
    from_lookup_key.unwrap_or_else(|| {
        let base = keys::interval_key(
            p.live
                .recurring
                .as_ref()
                .map(|r| (r.interval.as_str(), r.interval_count)),
        );
        if several_currencies {
            format!("{base}_{}", p.live.currency)
        } else {
            base
        }
    })
}

/// A price without a lookup key, adopted by id: `id` written first, and the lookup key
/// adoption gives it (`<product>_<price>`) taken, said in a comment and reported.
fn adopted_by_id(
    ctx: &mut Ctx<'_>,
    p: &mut PriceEntry<'_>,
    product_key: &str,
    key: &str,
    taken_lookup_keys: &mut BTreeSet<String>,
) {
    let lookup_key = format!("{product_key}_{key}");
    taken_lookup_keys.insert(lookup_key.clone());
    p.table
        .values
        .insert(0, ("id".to_owned(), Value::Str(p.live.id.to_string())));
    p.table.comment = Some(format!(
        "No lookup key in Stripe: adopting {} gives it {lookup_key:?}.",
        p.live.id
    ));
    ctx.report.without_lookup_key.push(NoLookupKey {
        address: Address::price(product_key, key).to_string(),
        id: p.live.id.to_string(),
        lookup_key,
    });
}
