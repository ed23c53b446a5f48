//! `billing schema`: billing.toml's shape ([`super::shape`]) as a JSON Schema (draft 2020-12),
//! which TOML editors (Taplo, Even Better TOML) use for completion and inline errors.
//!
//! Everything here is derived from the shape the readers check, so a field added to a table
//! appears in the schema without a second edit. The schema refuses what the readers refuse
//! for its shape (an unknown key, a value of the wrong type, a value outside a closed set); the
//! rules between fields and against Stripe stay `billing validate`'s. Editors hand a TOML
//! datetime to the schema as a string: one written in quotes passes it, and only `billing
//! validate` says to write it without them.

use serde_json::{Map, Value, json};
use stripe_facts::{ALL_EVENTS, EVENT_PRESETS, EVENT_TYPES};

use super::currency::Currency;
use super::shape::{Key, Table, Ty};

/// The schema of billing.toml.
pub(crate) fn schema() -> Value {
    let mut root = Map::new();
    root.insert(
        "$schema".into(),
        json!("https://json-schema.org/draft/2020-12/schema"),
    );
    root.insert("title".into(), json!("billing.toml"));
    root.insert(
        "description".into(),
        json!(
            "A Stripe catalog kept in code by billing (`billing validate` checks the rules between fields and against Stripe)."
        ),
    );
    root.extend(object(&super::TOP));
    root.insert(
        "$defs".into(),
        json!({ "currency": currency(), "event": events() }),
    );
    Value::Object(root)
}

/// A table of known fields: no other key is allowed.
fn object(table: &Table) -> Map<String, Value> {
    let mut properties = Map::new();
    for f in table.fields {
        let mut value = of(&f.ty);
        if let Value::Object(map) = &mut value {
            map.insert("description".into(), json!(f.doc));
        }
        properties.insert(f.name.into(), value);
    }
    if table.entry {
        properties.insert("environments".into(), environments());
        properties.insert("overrides".into(), overrides(table));
    }
    let mut out = Map::new();
    out.insert("type".into(), json!("object"));
    out.insert("properties".into(), Value::Object(properties));
    out.insert("additionalProperties".into(), json!(false));
    out
}

/// An entry's `environments`.
fn environments() -> Value {
    json!({
        "type": "array",
        "items": { "type": "string", "pattern": Key::Environment.pattern() },
        "description": "The environments this entry exists in (default: all of them).",
    })
}

/// An entry's `overrides`: per environment, fields of the entry (not the tables of entries it
/// holds).
fn overrides(table: &Table) -> Value {
    let fields: Map<String, Value> = table
        .fields
        .iter()
        .filter(|f| !matches!(f.ty, Ty::Entries(..)))
        .map(|f| (f.name.to_owned(), of(&f.ty)))
        .collect();
    json!({
        "type": "object",
        "propertyNames": { "pattern": Key::Environment.pattern() },
        "additionalProperties": {
            "type": "object",
            "properties": fields,
            "additionalProperties": false,
        },
        "description": "Fields that differ in one environment, as [<entry>.overrides.<env>].",
    })
}

/// Where the schema defines a currency code, once.
const CURRENCY: &str = "#/$defs/currency";

/// The schema of one type.
fn of(ty: &Ty) -> Value {
    match ty {
        Ty::Text => json!({ "type": "string" }),
        Ty::Word(all) => json!({ "type": "string", "enum": all }),
        Ty::Exactly(text) => json!({ "const": text }),
        Ty::Bool => json!({ "type": "boolean" }),
        Ty::Integer => json!({ "type": "integer" }),
        Ty::Amount => json!({ "type": ["string", "number"] }),
        Ty::Datetime => json!({ "type": "string", "format": "date-time" }),
        Ty::Texts => json!({ "type": "array", "items": { "type": "string" } }),
        Ty::Words(all) => json!({ "type": "array", "items": { "type": "string", "enum": all } }),
        Ty::Metadata => json!({ "type": "object", "additionalProperties": { "type": "string" } }),
        Ty::Currency => json!({ "$ref": CURRENCY }),
        Ty::Events => json!({ "type": "array", "items": { "$ref": "#/$defs/event" } }),
        Ty::Presets => json!({ "type": "array", "items": presets() }),
        Ty::Table(table) => Value::Object(object(table)),
        Ty::Entries(key, table) => json!({
            "type": "object",
            "propertyNames": { "pattern": key.pattern() },
            "additionalProperties": object(table),
        }),
        Ty::Tables(table) => json!({ "type": "array", "items": object(table) }),
        Ty::List(item) => json!({ "type": "array", "items": of(item) }),
        Ty::CurrencyOptions(table) => json!({
            "type": "object",
            "propertyNames": { "$ref": CURRENCY },
            "additionalProperties": { "anyOf": [of(&Ty::Amount), object(table)] },
        }),
        Ty::Either(all) => json!({ "anyOf": all.iter().map(of).collect::<Vec<_>>() }),
    }
}

/// A currency code Stripe supports, in lowercase or capitals.
fn currency() -> Value {
    let lower = Currency::supported();
    let codes: Vec<String> = lower
        .iter()
        .map(|c| (*c).to_owned())
        .chain(lower.iter().map(|c| c.to_ascii_uppercase()))
        .collect();
    json!({ "type": "string", "enum": codes })
}

/// An event preset's name, each described.
fn presets() -> Value {
    let presets: Vec<Value> = EVENT_PRESETS
        .iter()
        .map(|p| json!({ "const": p.name, "description": p.purpose }))
        .collect();
    json!({ "anyOf": presets })
}

/// One item of a webhook endpoint's `events`: a preset, an event type, or a `prefix.*`
/// pattern.
fn events() -> Value {
    let types: Vec<&str> = std::iter::once(ALL_EVENTS)
        .chain(EVENT_TYPES.iter().copied())
        .collect();
    json!({
        "anyOf": [
            presets(),
            { "type": "string", "enum": types },
            { "type": "string", "pattern": "^[a-z_]+(\\.[a-z_]+)*\\.\\*$" },
        ]
    })
}

/// An independent JSON Schema validator's view of catalogs, for the tests: every catalog the
/// catalog tests find valid must satisfy the schema, and every one refused for an unknown key
/// or a value of the wrong type must not.
#[cfg(test)]
pub(super) mod check {
    use std::sync::OnceLock;

    use serde_json::Value;

    use super::super::Diagnostic;

    /// TOML as JSON, the way editors hand it to a schema: datetimes as strings.
    fn json(value: toml::Value) -> Value {
        match value {
            toml::Value::String(s) => Value::String(s),
            toml::Value::Integer(i) => Value::from(i),
            toml::Value::Float(f) => Value::from(f),
            toml::Value::Boolean(b) => Value::Bool(b),
            toml::Value::Datetime(d) => Value::String(d.to_string()),
            toml::Value::Array(items) => Value::Array(items.into_iter().map(json).collect()),
            toml::Value::Table(t) => {
                Value::Object(t.into_iter().map(|(k, v)| (k, json(v))).collect())
            }
        }
    }

    fn validator() -> &'static jsonschema::Validator {
        static VALIDATOR: OnceLock<jsonschema::Validator> = OnceLock::new();
        VALIDATOR.get_or_init(|| {
            jsonschema::draft202012::new(&super::schema())
                .expect("the schema is a valid JSON Schema")
        })
    }

    /// The schema's errors for `text` (empty: it satisfies the schema); `None` when the text
    /// is not TOML.
    pub(crate) fn errors(text: &str) -> Option<Vec<String>> {
        let table: toml::Table = toml::from_str(text).ok()?;
        let instance = json(toml::Value::Table(table));
        Some(
            validator()
                .iter_errors(&instance)
                .map(|e| format!("{} at {}", e, e.instance_path()))
                .collect(),
        )
    }

    /// A problem the schema describes too: an unknown key, or a value of the wrong type
    /// (but a date and time in quotes: editors hand TOML datetimes to the schema as strings,
    /// so it cannot tell them apart).
    fn shape_problem(d: &Diagnostic) -> bool {
        !d.warning
            && (d.message.starts_with("unknown key ")
                || (d.message.contains(", not a") && !d.message.contains("date and time"))
                || d.message.contains("must contain only strings"))
    }

    /// Checks the schema agrees with the catalog's verdict on `text` (`problems`: the
    /// catalog's problems, empty when valid).
    pub(crate) fn agrees(text: &str, problems: &[Diagnostic]) {
        let Some(errors) = errors(text) else {
            return;
        };
        if problems.iter().all(|d| d.warning) {
            assert!(
                errors.is_empty(),
                "a valid catalog fails billing.schema.json:\n{}\n---\n{text}",
                errors.join("\n")
            );
        } else if let Some(d) = problems.iter().find(|d| shape_problem(d)) {
            assert!(
                !errors.is_empty(),
                "billing.schema.json accepts a catalog refused for `{}`:\n{text}",
                d.message
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{SourceFile, parse};

    /// The catalogs kept as files in the repository: its own, `billing init`'s starter, the
    /// fuzz seeds and the hostile inputs.
    fn repository_catalogs() -> Vec<std::path::PathBuf> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = vec![root.join("billing.toml"), root.join("src/cli/init.toml")];
        for dir in ["tests/hostile", "fuzz/corpus/catalog"] {
            let entries = std::fs::read_dir(root.join(dir)).expect("a catalog directory");
            files.extend(entries.map(|e| e.expect("a directory entry").path()));
        }
        files
    }

    #[test]
    fn the_schema_agrees_with_validate_on_the_repository_catalogs() {
        let mut checked = 0;
        for path in repository_catalogs() {
            let Ok(text) = String::from_utf8(std::fs::read(&path).expect("a catalog file")) else {
                continue;
            };
            let verdict = parse(&SourceFile::new("billing.toml", text.clone()));
            super::check::agrees(&text, verdict.as_ref().err().map_or(&[], Vec::as_slice));
            checked += 1;
        }
        assert!(checked >= 10, "only {checked} catalogs read");
    }

    #[test]
    fn the_schema_refuses_unknown_keys_and_wrong_types_at_every_depth() {
        for text in [
            "colour = \"blue\"",
            "[products.pro]\nname = \"Pro\"\nnmae = \"x\"",
            "[products.pro]\nname = 5",
            "[products.pro]\nname = \"Pro\"\n[products.pro.prices.m]\ncurrency = \"usd\"\namount = \"1\"\nrecurring = \"month\"",
            "[products.pro]\nname = \"Pro\"\n[products.pro.prices.m]\ncurrency = \"usd\"\namount = true",
            "[products.pro]\nname = \"Pro\"\n[products.pro.prices.m]\ncurrency = \"usd\"\nbilling_scheme = \"tiered\"\ntiers_mode = \"volume\"\ntiers = [{ up_to = \"inf\", amount = \"1\", colour = 1 }]",
            "[products.pro]\nname = \"Pro\"\n[products.pro.prices.m]\ncurrency = \"usd\"\namount = \"1\"\ncurrency_options = { eur = { amount = \"1\", colour = 1 } }",
            "[portal.features]\ninvoice_history = \"yes\"",
            "[portal.features.subscription_cancel]\nmod = \"immediately\"",
            "[webhooks.app]\nurl = \"https://example.com\"\nevents = \"subscriptions\"",
            "[meters.m]\ndisplay_name = \"M\"\nevent_name = \"m\"\nmetadata = {}",
            "[environments.test]\nmode = \"test\"\nkey = \"STRIPE\"",
            "[environments.test]\nmode = \"test\"\n[products.pro]\nname = \"Pro\"\n[products.pro.overrides.test]\nnmae = \"Pro (test)\"",
            "[tax]\nhead_office = { country = \"US\", street = \"x\" }",
            "[[tax.registrations]]\ncountry = \"DE\"\ntype = \"standard\"\nactive_from = 5",
            "[doctor]\nsell = [\"invoicing\"]",
        ] {
            let verdict = parse(&SourceFile::new("billing.toml", text));
            let problems = verdict.err().unwrap_or_default();
            assert!(
                problems
                    .iter()
                    .any(|d| d.message.starts_with("unknown key ")
                        || d.message.contains(", not a")
                        || d.message.contains("must be true, false")
                        || d.message.contains("must be \"now\"")),
                "validate should refuse the shape of:\n{text}"
            );
            let errors = super::check::errors(text).expect("TOML");
            assert!(!errors.is_empty(), "the schema accepts:\n{text}");
        }
    }
}
