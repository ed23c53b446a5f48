//! `billing import`: a billing.toml for what an account already holds, written so that the
//! plan right after it shows adoptions and nothing else.
//!
//! [`import`] is a pure function of the live state (read with list endpoints only): the same
//! account gives the same file, byte for byte. Each object is mapped field by field
//! (`products.rs`, `discounts.rs`, `tax.rs`, `portal.rs`), every entry is checked by
//! billing.toml's own validator before it is kept, keys are proposed by `keys.rs`, amounts
//! written by `amount.rs`, the text by `write.rs`, and `report.rs` says what was left out and
//! why.
//!
//! An object that carries this namespace's marker is written at the address in its marker;
//! one without a marker is written so that billing adopts it (products, coupons and tax rates
//! by `id`, prices by lookup key or `id`, promotion codes by their code); one of another
//! namespace is left out. Portal configurations cannot be adopted: only those billing manages
//! are written. An object billing.toml cannot express exactly (a metered price, a value the
//! validator refuses, a coupon for a product that is not imported) is left out with the
//! reason, or only the field is, when leaving it out changes nothing.

mod amount;
mod discounts;
mod entitlement;
mod environments;
mod keys;
mod meter;
mod place;
mod portal;
mod products;
mod report;
mod tax;
mod webhook;
mod write;

use std::collections::{BTreeMap, BTreeSet};

pub(crate) use report::Report;

use crate::catalog::{
    self, DEFAULT_NAMESPACE, MetadataPattern, RESERVED_METADATA_PREFIX, SourceFile,
};
use crate::live::{LiveState, Metadata};
use crate::resource::ResourceKind;
use crate::resource::{FEATURES_KEY, MARKER_KEY, MARKER_NAMESPACE, ON_REMOVE_KEY};
use write::{Table, Value};

/// How to import.
#[derive(Debug, Clone)]
pub struct Options {
    /// The namespace whose marked objects are this catalog's (others are foreign).
    pub namespace: String,
    /// Metadata keys other systems write: left out of the written metadata, as the plan
    /// leaves them alone.
    pub ignore_metadata: Vec<MetadataPattern>,
    /// Write archived products, inactive promotion codes and tax rates with `active = false`.
    pub include_archived: bool,
    /// The declared environment the account is read for, if any: an entry only such an
    /// environment accepts (a webhook endpoint on http://localhost) is limited to it.
    pub environment: Option<String>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            namespace: DEFAULT_NAMESPACE.to_owned(),
            ignore_metadata: Vec::new(),
            include_archived: false,
            environment: None,
        }
    }
}

/// What an import found: the catalog entries to write, and the report.
#[derive(Debug, Clone)]
pub struct Import {
    entries: Table,
    pub report: Report,
}

/// Where an import read its account, for the file's header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// `acct_…`.
    pub account: String,
    /// The account's display name, when it has one.
    pub account_name: Option<String>,
    /// The environment's name (`sandbox`, `test`, or `--api-base URL` without environments).
    pub environment: String,
    /// `test` or `live`.
    pub mode: String,
    /// Stripe's clock when the account was read (Unix seconds).
    pub now: i64,
}

impl Import {
    /// The billing.toml text: a header saying where and when it was imported from, the
    /// top-level settings carried over from the current billing.toml (`current`, parsed, or
    /// empty: namespace, default_environment, ignore_metadata, environments), then the entries.
    ///
    /// When the catalog declares environments, the entries are fitted to them (see
    /// `environments.rs`): ids of the account read under `overrides.<environment>`, and each
    /// entry's limit and overrides kept from `current`.
    pub fn render(&self, origin: &Origin, current: &toml::Table) -> String {
        let day = crate::timestamp::format_timestamp(origin.now);
        let day = day.split('T').next().unwrap_or_default();
        let name = origin
            .account_name
            .as_ref()
            .map(|n| format!(" ({})", write::quote(n)))
            .unwrap_or_default();
        let declared = current
            .get("environments")
            .and_then(toml::Value::as_table)
            .is_some_and(|envs| envs.contains_key(&origin.environment));
        let plan = if declared {
            format!("billing -e {} plan", origin.environment)
        } else {
            "billing plan".to_owned()
        };
        let header = format!(
            "Written by `billing import` on {day} (UTC) from Stripe account {}{name},\n\
             environment `{}` ({} mode). Review it, then run `{plan}`: it should show\n\
             only adoptions (objects billing starts to manage, marked in their metadata).",
            origin.account, origin.environment, origin.mode
        );
        let mut root = Table::default();
        for key in ["namespace", "default_environment", "ignore_metadata"] {
            if let Some(v) = current.get(key) {
                root.set(key, write::carried(v));
            }
        }
        let mut entries = self.entries.clone();
        if let Some(toml::Value::Table(envs)) = current.get("environments") {
            root.table("environments", write::carried_table(envs));
        }
        if declared {
            environments::fit(&mut entries, &origin.environment, current);
        }
        root.values.extend(entries.values);
        root.tables.extend(entries.tables);
        write::render(&header, &root)
    }
}

/// Reads `live` into catalog entries (see the module documentation).
pub fn import(live: &LiveState, options: &Options) -> Import {
    let mut ctx = Ctx {
        live,
        options,
        report: Report {
            include_archived: options.include_archived,
            ..Report::default()
        },
        meter_keys: meter::Keys::new(),
    };
    let (meters, meter_keys) = meter::meters(&ctx);
    ctx.meter_keys = meter_keys;
    let mut entries = Table::default();
    if let Some(tax) = tax::settings(&mut ctx) {
        entries.table("tax", tax);
    }
    let (features, feature_keys) = entitlement::features(&mut ctx);
    let mut catalog = products::import(&mut ctx);
    let (coupons, codes) = discounts::import(&mut ctx, &catalog.product_keys);
    let rates = tax::rates(&mut ctx);
    let portals = portal::import(&mut ctx, &catalog);
    // After the portals, whose products are checked in a catalog of their own: one without
    // the features the products' `entitlements` name.
    entitlement::attach(
        &ctx,
        &mut catalog.table,
        &catalog.product_keys,
        &feature_keys,
    );
    entries.table("products", catalog.table);
    entries.table("coupons", coupons);
    entries.table("promotion_codes", codes);
    entries.table("tax_rates", rates);
    let mut more = Table::default();
    for (place, table) in portals {
        match place.strip_prefix("portals.") {
            Some(key) => more.table(key, table),
            None => entries.table(&place, table),
        }
    }
    entries.table("portals", more);
    entries.table("webhooks", webhook::endpoints(&mut ctx));
    entries.table("entitlements", features);
    entries.table("meters", meters);
    Import {
        entries,
        report: ctx.report,
    }
}

/// Checks the text of an imported catalog with billing.toml's own loader and validator;
/// `Err` holds the rendered problems (an import that writes a catalog `billing validate`
/// refuses is a bug).
pub fn verify(name: &str, text: &str) -> Result<(), String> {
    match catalog::load_bytes(
        name.to_owned(),
        text.as_bytes().to_vec(),
        catalog::EnvChoice::All,
    ) {
        Ok(_) => Ok(()),
        Err(catalog::LoadError::Invalid { file, diagnostics }) => Err(diagnostics
            .iter()
            .map(|d| d.render(&file, false))
            .collect::<Vec<_>>()
            .join("\n")),
        Err(other) => Err(other.to_string()),
    }
}

/// What `billing plan` will show for an imported catalog besides adoptions, one line each:
/// changes that are not adoptions (an object billing manages that already differs, a value
/// that had to be left out), or the conflicts that stop the plan. Empty when the plan adopts
/// and does nothing else.
pub(crate) fn review(catalog: &catalog::Catalog, live: &LiveState) -> Vec<String> {
    match crate::plan::plan(catalog, live) {
        Ok(plan) => plan
            .changes
            .iter()
            .filter(|c| c.action != crate::plan::Action::Adopt)
            .map(|c| {
                let action = format!("{:?}", c.action).to_lowercase();
                match &c.reason {
                    Some(why) => format!("{action} {} ({}): {why}", c.address, c.title),
                    None => format!("{action} {} ({})", c.address, c.title),
                }
            })
            .collect(),
        Err(crate::plan::PlanError::Conflicts(conflicts)) => conflicts
            .iter()
            .map(|c| format!("refused: {}: {}", c.address, c.message))
            .collect(),
        Err(other) => vec![other.to_string()],
    }
}

/// Who manages a live object, by its marker: the planner's own reading.
pub(crate) use crate::resource::{Owner, owner};

/// The key of a marker address of the form `<table>.<key>` (`products.pro` → `pro`), when it
/// is one billing.toml can declare.
pub(crate) fn marker_key<'a>(address: &'a str, table: &str) -> Option<&'a str> {
    address
        .strip_prefix(table)
        .and_then(|rest| rest.strip_prefix('.'))
        .filter(|k| keys::is_key(k))
}

/// The keys that this namespace's markers hold on the live objects of one kind (`key` reads a
/// key from a marker address), archived, inactive and left-out objects included. The plan
/// counts each such address as one billing manages and adopts nothing there, so no other
/// object is written under these keys.
pub(crate) fn held_keys<'a>(
    metadata: impl IntoIterator<Item = &'a Metadata>,
    namespace: &str,
    key: impl Fn(&'a str) -> Option<&'a str>,
) -> BTreeSet<String> {
    metadata
        .into_iter()
        .filter_map(|m| match owner(m, namespace) {
            Owner::Ours(address) => key(address),
            _ => None,
        })
        .map(str::to_owned)
        .collect()
}

/// Whether an object billing manages records `on_remove = "forget"`: left out of
/// billing.toml, it would not be left as it is (archived objects are) but forgotten.
pub(crate) fn forgets(metadata: &Metadata) -> bool {
    metadata.get(ON_REMOVE_KEY) == Some("forget")
}

/// Why an object whose marker names an address billing.toml cannot declare is left out.
pub(crate) fn unknown_address(address: &str) -> String {
    format!("its marker names {address:?}, not an address billing.toml can declare")
}

/// What leaving a field out of billing.toml does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Severity {
    /// Nothing: omitted, the field is not managed.
    Drop,
    /// The plan changes the object (an omitted clearable field is cleared).
    Change,
    /// The object cannot be written at all.
    Fatal,
}

/// A live value billing.toml cannot hold as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Problem {
    pub field: String,
    pub why: String,
    pub severity: Severity,
}

/// The problems of one object.
#[derive(Debug, Clone, Default)]
pub(crate) struct Problems(pub Vec<Problem>);

impl Problems {
    pub(crate) fn add(&mut self, field: &str, why: impl Into<String>, severity: Severity) {
        self.0.push(Problem {
            field: field.to_owned(),
            why: why.into(),
            severity,
        });
    }

    /// The object cannot be written.
    pub(crate) fn fatal(&mut self, field: &str, why: impl Into<String>) {
        self.add(field, why, Severity::Fatal);
    }

    /// The value of `field`, or `None` with a fatal problem saying why there is none.
    pub(crate) fn ok<T>(&mut self, field: &str, value: Result<T, String>) -> Option<T> {
        value.map_err(|why| self.fatal(field, why)).ok()
    }

    /// Whether an object with these problems is left out (`ours`: billing manages it).
    pub(crate) fn skips(&self, ours: bool) -> bool {
        self.0
            .iter()
            .any(|p| p.severity == Severity::Fatal || (p.severity == Severity::Change && !ours))
    }

    fn reasons(&self, ours: bool) -> String {
        self.0
            .iter()
            .filter(|p| p.severity == Severity::Fatal || (p.severity == Severity::Change && !ours))
            .map(|p| {
                if p.field.is_empty() {
                    p.why.clone()
                } else {
                    format!("{}: {}", p.field, p.why)
                }
            })
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// The state of an import in progress.
pub(crate) struct Ctx<'a> {
    pub live: &'a LiveState,
    pub options: &'a Options,
    pub report: Report,
    /// The key written for each meter, by id (metered prices name it).
    pub meter_keys: meter::Keys,
}

impl Ctx<'_> {
    /// Settles an object's problems: `true` when it is written (the fields left out are
    /// reported), `false` when it is left out (reported as skipped). `at` is where it would
    /// be written (its id when it has no address yet).
    pub(crate) fn settle(
        &mut self,
        kind: ResourceKind,
        id: &str,
        at: &str,
        ours: bool,
        problems: &Problems,
    ) -> bool {
        if problems.skips(ours) {
            let mut why = problems.reasons(ours);
            if ours {
                why.push_str(&format!(
                    " (billing manages it as {at}: `billing plan` treats it as removed from billing.toml)"
                ));
            }
            self.report.skip(kind, id, why);
            return false;
        }
        for p in &problems.0 {
            let consequence = match p.severity {
                Severity::Drop => "left out (billing.toml leaves it unmanaged when omitted)",
                _ => "left out, so `billing plan` changes it",
            };
            self.report
                .inexpressible(at, &p.field, format!("{}: {consequence}", p.why));
        }
        true
    }

    /// The metadata billing.toml declares for a live object of `kind`: billing's marker (and,
    /// on an object billing manages, the `on_remove` it records; see [`on_remove`]) and the
    /// keys `ignore_metadata` matches left out, as the plan leaves them alone. Another key
    /// billing reserves is a problem: leaving it out would remove it. The validator checks
    /// the rest (limits, empty values) in [`check`].
    pub(crate) fn metadata(
        &self,
        live: &Metadata,
        kind: ResourceKind,
        ours: bool,
        problems: &mut Problems,
    ) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        let mut ignored_keys = 0;
        for (k, v) in live {
            let reserved = k.starts_with(RESERVED_METADATA_PREFIX);
            let billings = k == MARKER_KEY || k == MARKER_NAMESPACE || k == FEATURES_KEY;
            if billings || (ours && k == ON_REMOVE_KEY) {
                continue;
            }
            // The coupon plan never ignores billing's own keys; the others ignore any match.
            let ignored = self.options.ignore_metadata.iter().any(|p| p.matches(k))
                && !(kind == ResourceKind::Coupon && reserved);
            if ignored {
                ignored_keys += 1;
                continue;
            }
            if reserved {
                problems.add(
                    &format!("metadata.{k}"),
                    "keys starting with `billing_` are reserved for billing's marker",
                    Severity::Change,
                );
                continue;
            }
            out.insert(k.to_owned(), v.to_owned());
        }
        // Adopting an object adds the two marker keys to what Stripe holds, and the keys
        // `ignore_metadata` matches stay there: together they can pass Stripe's limit when
        // what billing.toml declares does not (the validator refuses more than that itself).
        let held = live
            .keys()
            .filter(|k| *k != MARKER_KEY && *k != MARKER_NAMESPACE)
            .count();
        if !ours
            && ignored_keys > 0
            && held + 2 > STRIPE_METADATA_KEYS
            && out.len() + 2 <= STRIPE_METADATA_KEYS
        {
            problems.add(
                "metadata",
                format!(
                    "{held} keys in Stripe, {ignored_keys} of them matched by `ignore_metadata` (billing leaves those in place): adopting it adds billing's 2 marker keys, and Stripe allows {STRIPE_METADATA_KEYS}"
                ),
                Severity::Change,
            );
        }
        out
    }
}

/// Stripe's limit on an object's metadata keys.
const STRIPE_METADATA_KEYS: usize = 50;

/// `on_remove` of an object billing manages, from the metadata key billing records it in
/// (`keep` or `forget`; the kind's default is not recorded). `allowed` are the values the
/// kind takes.
pub(crate) fn on_remove(
    table: &mut Table,
    live: &Metadata,
    allowed: &[&str],
    problems: &mut Problems,
) {
    if let Some(v) = live.get(ON_REMOVE_KEY) {
        if allowed.contains(&v) {
            table.text("on_remove", v);
        } else {
            problems.add(
                &format!("metadata.{ON_REMOVE_KEY}"),
                format!("{v:?} is not an `on_remove` billing.toml takes here"),
                Severity::Change,
            );
        }
    }
}

/// The sentences billing.toml's validator says about `root` (a catalog of a few entries):
/// empty when it accepts it.
pub(crate) fn refused(root: &Table) -> Vec<String> {
    let text = write::render("", root);
    match catalog::parse(&SourceFile::new("import", text)) {
        Ok(_) => Vec::new(),
        Err(diagnostics) => diagnostics.into_iter().map(|d| d.message).collect(),
    }
}

/// Checks an entry with the validator, leaving out the optional fields it refuses.
///
/// `wrap` puts the entry into a small catalog (with the entries it refers to); `optional`
/// names the fields that may be left out and what leaving each out does. Every refused field
/// goes to `problems`; whatever the validator still refuses without them is fatal.
pub(crate) fn check(
    entry: &mut Table,
    wrap: impl Fn(&Table) -> Table,
    optional: &[(&str, Severity)],
    problems: &mut Problems,
) {
    if refused(&wrap(entry)).is_empty() {
        return;
    }
    let is_optional = |name: &str| optional.iter().any(|(f, _)| *f == name);
    let mut required = entry.clone();
    required.values.retain(|(k, _)| !is_optional(k));
    required.tables.retain(|(k, _)| !is_optional(k));
    let messages = refused(&wrap(&required));
    if !messages.is_empty() {
        problems.fatal(
            "",
            format!("billing.toml would refuse it: {}", messages.join("; ")),
        );
        return;
    }
    for (field, severity) in optional {
        let value = entry.values.iter().find(|(k, _)| k == field).cloned();
        let table = entry.tables.iter().find(|(k, _)| k == field).cloned();
        if value.is_none() && table.is_none() {
            continue;
        }
        let mut alone = required.clone();
        alone.values.extend(value);
        alone.tables.extend(table);
        let messages = refused(&wrap(&alone));
        if !messages.is_empty() {
            entry.values.retain(|(k, _)| k != field);
            entry.tables.retain(|(k, _)| k != field);
            problems.add(field, messages.join("; "), *severity);
        }
    }
    let messages = refused(&wrap(entry));
    if !messages.is_empty() {
        problems.fatal(
            "",
            format!("billing.toml would refuse it: {}", messages.join("; ")),
        );
    }
}

/// [`check`] for an entry that could be read (`None`, with a fatal problem, when it could
/// not).
pub(crate) fn checked(
    mut entry: Option<Table>,
    wrap: impl Fn(&Table) -> Table,
    optional: &[(&str, Severity)],
    problems: &mut Problems,
) -> Option<Table> {
    if let Some(t) = &mut entry {
        check(t, wrap, optional, problems);
    }
    entry
}

/// `key = "text"` unless the live text is empty, which billing.toml cannot write (an empty
/// text reads as no text): then a problem of `severity`.
pub(crate) fn text_field(
    table: &mut Table,
    field: &str,
    live: Option<&str>,
    severity: Severity,
    problems: &mut Problems,
) {
    match live {
        None => {}
        Some("") => problems.add(
            field,
            "an empty text, which billing.toml reads as none",
            severity,
        ),
        Some(text) => table.text(field, text),
    }
}

/// Metadata as a sub-table (empty metadata writes nothing).
pub(crate) fn metadata_table(metadata: &BTreeMap<String, String>) -> Table {
    let mut t = Table::default();
    for (k, v) in metadata {
        t.text(k, v);
    }
    t
}

/// `entry` under the tables `path` names (`["products", "p"]`: `[products.p]`).
pub(crate) fn nest(path: &[&str], entry: &Table) -> Table {
    let mut table = entry.clone();
    for name in path.iter().rev() {
        let mut parent = Table::default();
        parent.table(name, table);
        table = parent;
    }
    table
}

/// A list of texts as a TOML array.
pub(crate) fn strings(items: &[String]) -> Value {
    Value::Array(items.iter().map(|s| Value::Str(s.clone())).collect())
}

/// A decimal as a TOML number (`20`, `25.5`); it reads back through its shortest form.
pub(crate) fn number(text: &str) -> Value {
    Value::Raw(text.to_owned())
}

#[cfg(test)]
mod tests;
