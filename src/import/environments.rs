//! An import into a catalog that declares environments: the file serves every environment,
//! but the import read one account. So what belongs to that account alone goes under
//! `overrides.<env>` of each entry (the `id` that adopts an object), and what the current
//! billing.toml says about environments is kept: each entry's `environments` limit, its
//! overrides (the values of the environment read go back under its override, the entry keeps
//! the values the others share), and the entries limited to other environments, which the
//! account read cannot hold.

use super::write::{self, Table, Value};
use crate::resource::ResourceKind;

/// Fits the imported `entries` (read from environment `environment`) to a catalog whose
/// current text is `current` (parsed; empty when there is none).
pub(crate) fn fit(entries: &mut Table, environment: &str, current: &toml::Table) {
    each_entry(entries, &mut |path, entry| {
        let declared = at(current, path);
        fit_entry(entry, environment, declared);
    });
    carry_limited_away(entries, environment, current);
    fit_registrations(entries, environment, current);
}

/// The tables of the catalog's keyed entries, by table name: `products` (whose entries nest
/// `prices`), `coupons`, …, from the kind vocabulary.
fn keyed_tables() -> impl Iterator<Item = &'static str> {
    ResourceKind::ALL
        .into_iter()
        .filter_map(ResourceKind::keyed_table)
}

/// Calls `f` with the path (`["products", "pro", "prices", "monthly"]`) and the table of every
/// entry of `root`: the keyed tables' entries, each product's prices, and `[portal]`.
fn each_entry(root: &mut Table, f: &mut impl FnMut(&[&str], &mut Table)) {
    for (name, table) in &mut root.tables {
        if name == "portal" {
            f(&["portal"], table);
            continue;
        }
        let Some(kind_table) = keyed_tables().find(|t| t == name) else {
            continue;
        };
        for (key, entry) in &mut table.tables {
            f(&[kind_table, key], entry);
            if kind_table != "products" {
                continue;
            }
            for (nested, prices) in &mut entry.tables {
                if nested != "prices" {
                    continue;
                }
                for (price, table) in &mut prices.tables {
                    f(&[kind_table, key, "prices", price], table);
                }
            }
        }
    }
}

/// The table at `path` in `current`.
fn at<'c>(current: &'c toml::Table, path: &[&str]) -> Option<&'c toml::Table> {
    let mut table = current;
    for part in path {
        table = table.get(*part)?.as_table()?;
    }
    Some(table)
}

/// Takes field `name` (a value or a sub-table) out of `table`.
fn take(table: &mut Table, name: &str) -> Option<Field> {
    if let Some(i) = table.values.iter().position(|(k, _)| k == name) {
        return Some(Field::Value(table.values.remove(i).1));
    }
    let i = table.tables.iter().position(|(k, _)| k == name)?;
    Some(Field::Table(table.tables.remove(i).1))
}

/// Replaces field `name` of `table` with `with` (at its place, when it was there), and
/// returns what it was.
fn swap(table: &mut Table, name: &str, with: Option<Field>) -> Option<Field> {
    let value_at = table.values.iter().position(|(k, _)| k == name);
    let table_at = table.tables.iter().position(|(k, _)| k == name);
    let was = take(table, name);
    match with {
        Some(Field::Value(v)) => {
            let at = value_at.unwrap_or(table.values.len());
            table.values.insert(at, (name.to_owned(), v));
        }
        Some(Field::Table(t)) => {
            let at = table_at.unwrap_or(table.tables.len());
            table.tables.insert(at, (name.to_owned(), t));
        }
        None => {}
    }
    was
}

/// A field of an entry as the writer holds it.
enum Field {
    Value(Value),
    Table(Table),
}

impl Field {
    /// A field carried over from billing.toml as written.
    fn carried(value: &toml::Value) -> Self {
        match value {
            toml::Value::Table(t) => Self::Table(write::carried_table(t)),
            other => Self::Value(write::carried(other)),
        }
    }

    /// Adds it to `table` as `name`.
    fn put(self, table: &mut Table, name: &str) {
        match self {
            Self::Value(v) => table.set(name, v),
            Self::Table(t) => table.table(name, t),
        }
    }
}

/// One entry: its `id` under `overrides.<environment>`; from `declared` (the entry in the
/// current billing.toml, when it has one) its `environments` limit and its overrides.
fn fit_entry(entry: &mut Table, environment: &str, declared: Option<&toml::Table>) {
    let mut own = Table::default();
    let mut overrides: Vec<(String, Table)> = Vec::new();
    if let Some(declared) = declared {
        if let Some(limit) = declared.get("environments") {
            entry.set("environments", write::carried(limit));
        }
        let declared_overrides = declared.get("overrides").and_then(toml::Value::as_table);
        for (env, fields) in declared_overrides.into_iter().flatten() {
            let Some(fields) = fields.as_table() else {
                continue;
            };
            if env != environment {
                overrides.push((env.clone(), write::carried_table(fields)));
                continue;
            }
            // The account read has the overridden values: they stay its own, and the entry
            // keeps what the other environments share.
            for name in fields.keys() {
                let shared = declared.get(name).map(Field::carried);
                if let Some(value) = swap(entry, name, shared) {
                    value.put(&mut own, name);
                }
            }
        }
    }
    if let Some(Field::Value(id)) = take(entry, "id") {
        own.values.insert(0, ("id".to_owned(), id));
    }
    if !own.is_empty() {
        overrides.push((environment.to_owned(), own));
    }
    if overrides.is_empty() {
        return;
    }
    overrides.sort_by(|a, b| a.0.cmp(&b.0));
    let table = Table {
        tables: overrides,
        ..Table::default()
    };
    // Before the prices a product nests, so that it reads with its product.
    let at = entry
        .tables
        .iter()
        .position(|(k, _)| k == "prices")
        .unwrap_or(entry.tables.len());
    entry.tables.insert(at, ("overrides".to_owned(), table));
}

/// Whether an entry of the current billing.toml is limited to environments other than
/// `environment`: the account read cannot hold it, and the import keeps it as it is.
fn limited_away(declared: &toml::Table, environment: &str) -> bool {
    declared
        .get("environments")
        .and_then(toml::Value::as_array)
        .is_some_and(|limit| !limit.iter().any(|e| e.as_str() == Some(environment)))
}

/// An entry of the current billing.toml kept as written, with a comment saying why.
fn kept(declared: &toml::Table, environment: &str) -> Table {
    let mut table = write::carried_table(declared);
    table.entry = true;
    table.comment = Some(format!(
        "Not in environment `{environment}`, which was read: kept from billing.toml as it was."
    ));
    table
}

/// Adds the entries of the current billing.toml that are limited away from `environment`
/// where the import wrote nothing at their address.
fn carry_limited_away(entries: &mut Table, environment: &str, current: &toml::Table) {
    let missing = |table: &Table, key: &str| !table.tables.iter().any(|(k, _)| k == key);
    for name in keyed_tables() {
        let Some(declared) = current.get(name).and_then(toml::Value::as_table) else {
            continue;
        };
        let i = match entries.tables.iter().position(|(k, _)| k == name) {
            Some(i) => i,
            None => {
                entries.table(name, Table::default());
                entries.tables.len() - 1
            }
        };
        let table = &mut entries.tables[i].1;
        for (key, entry) in declared {
            let Some(entry_table) = entry.as_table() else {
                continue;
            };
            if limited_away(entry_table, environment) {
                if missing(table, key) {
                    table.table(key, kept(entry_table, environment));
                }
                continue;
            }
            // A product that is here: its prices limited away.
            let (Some(prices), Some((_, product))) = (
                entry_table.get("prices").and_then(toml::Value::as_table),
                table.tables.iter_mut().find(|(k, _)| k == key),
            ) else {
                continue;
            };
            for (price, declared_price) in prices {
                let Some(price_table) = declared_price.as_table() else {
                    continue;
                };
                if !limited_away(price_table, environment) {
                    continue;
                }
                let j = match product.tables.iter().position(|(k, _)| k == "prices") {
                    Some(j) => j,
                    None => {
                        product.table("prices", Table::default());
                        product.tables.len() - 1
                    }
                };
                let written = &mut product.tables[j].1;
                if missing(written, price) {
                    written.table(price, kept(price_table, environment));
                }
            }
        }
    }
    if let Some(portal) = current.get("portal").and_then(toml::Value::as_table)
        && limited_away(portal, environment)
        && missing(entries, "portal")
    {
        entries.table("portal", kept(portal, environment));
    }
}

/// A tax registration's identity: country, type and state.
fn identity<'v>(fields: impl Fn(&str) -> Option<&'v str>) -> [Option<&'v str>; 3] {
    [fields("country"), fields("type"), fields("state")]
}

/// `[[tax.registrations]]`: each written registration keeps its `environments` limit, and
/// those limited away from `environment` are kept as they were.
fn fit_registrations(entries: &mut Table, environment: &str, current: &toml::Table) {
    let declared: Vec<&toml::Table> = current
        .get("tax")
        .and_then(|t| t.get("registrations"))
        .and_then(toml::Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(toml::Value::as_table)
        .collect();
    if declared.is_empty() {
        return;
    }
    let Some((_, tax)) = entries.tables.iter_mut().find(|(k, _)| k == "tax") else {
        return;
    };
    let Some((_, Value::Array(written))) =
        tax.values.iter_mut().find(|(k, _)| k == "registrations")
    else {
        return;
    };
    let mut found = vec![false; declared.len()];
    for item in written.iter_mut() {
        let Value::Inline(fields) = item else {
            continue;
        };
        let get = |name: &str| {
            fields.iter().find_map(|(k, v)| match v {
                Value::Str(s) if k == name => Some(s.clone()),
                _ => None,
            })
        };
        let own = [get("country"), get("type"), get("state")];
        let own = own.each_ref().map(Option::as_deref);
        let Some(i) = declared
            .iter()
            .position(|d| identity(|name| d.get(name).and_then(toml::Value::as_str)) == own)
        else {
            continue;
        };
        found[i] = true;
        if let Some(limit) = declared[i].get("environments") {
            fields.push(("environments".to_owned(), write::carried(limit)));
        }
    }
    for (d, found) in declared.iter().zip(found) {
        if !found && limited_away(d, environment) {
            written.push(write::carried(&toml::Value::Table((*d).clone())));
        }
    }
}
