//! `[entitlements.<key>]`: an entitlement feature. How its table is read (with spans), the
//! validated entry, and its validation: the name, the lookup key (the key unless written; at
//! most 80 characters, fixed once the feature exists), and the products' `entitlements` lists
//! that name the entries.

use std::collections::BTreeMap;
use std::ops::Range;

use serde::Serialize;
use toml::de::DeValue;

use super::diagnostic::{Diagnostic, Sink};
use super::raw::{RawMetadata, RawProduct, read_metadata};
use super::reader::{Sp, TableReader};
use super::shape::{ID, METADATA, MOVED_FROM, Table, Ty, field};
use super::validate::fields;
use crate::resource::{Address, ResourceKind};

/// Stripe's limit on a feature's `lookup_key` ("This may be up to 80 characters") and `name`.
const MAX_LOOKUP_KEY: usize = 80;
const MAX_NAME: usize = 80;

/// `[entitlements.<key>]` as written.
#[derive(Debug)]
pub(crate) struct RawEntitlement {
    pub key: Sp<String>,
    pub span: Range<usize>,
    pub id: Option<Sp<String>>,
    pub moved_from: Option<Sp<String>>,
    pub name: Option<Sp<String>>,
    pub lookup_key: Option<Sp<String>>,
    pub metadata: Option<RawMetadata>,
    pub incomplete: bool,
}

/// `[entitlements.<key>]`.
pub(super) static ENTITLEMENT: Table = Table::entry(&[
    field("name", Ty::Text, "The feature's name (required)."),
    field(
        "lookup_key",
        Ty::Text,
        "The key the application checks entitlements by (default: the entry's key).",
    ),
    METADATA,
    ID,
    MOVED_FROM,
]);

/// Keys written the way Stripe's API spells them, or meaning something billing does otherwise.
const ALIASES: &[(&str, &str)] = &[(
    "active",
    "a feature leaves billing.toml to be archived (Stripe cannot reactivate it)",
)];

/// Reads `[entitlements.<key>]`.
pub(crate) fn read_entitlement(
    sink: &Sink,
    key: Sp<String>,
    value: &Sp<DeValue<'_>>,
) -> Option<RawEntitlement> {
    let t = TableReader::entry(
        sink,
        ResourceKind::EntitlementFeature,
        key.get_ref(),
        value,
        &ENTITLEMENT,
    )?
    .with_aliases(ALIASES);
    let mut raw = RawEntitlement {
        span: value.span(),
        id: t.string("id"),
        moved_from: t.string("moved_from"),
        name: t.string("name"),
        lookup_key: t.string("lookup_key"),
        metadata: read_metadata(&t),
        incomplete: false,
        key,
    };
    raw.incomplete = t.incomplete();
    t.finish();
    Some(raw)
}

/// `[entitlements.<key>]`: an entitlement feature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Entitlement {
    pub key: String,
    /// An existing feature to adopt (`id = "feat_…"`) when billing manages none here.
    pub id: Option<String>,
    /// The key this entry had before a rename (`moved_from`).
    pub moved_from: Option<String>,
    pub name: String,
    /// The feature's `lookup_key`: the key unless written.
    pub lookup_key: String,
    /// Whether `lookup_key` is written: only then does an active feature billing does not
    /// manage, holding that key, get adopted.
    pub lookup_key_written: bool,
    pub metadata: BTreeMap<String, String>,
}

/// `lookup_key`: 1 to 80 characters, no whitespace or control characters (the application
/// asks Stripe for entitlements by this key).
fn lookup_key(sink: &Sink, value: &Sp<String>, written: bool) -> bool {
    let text = value.get_ref();
    let problem = if text.is_empty() {
        "`lookup_key` cannot be empty".to_owned()
    } else if fields::chars(text) > MAX_LOOKUP_KEY {
        format!("`lookup_key` is longer than {MAX_LOOKUP_KEY} characters")
    } else if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
        "`lookup_key` cannot contain spaces or control characters".to_owned()
    } else {
        return true;
    };
    let hint = if written {
        "a lookup key such as \"sso\" or \"audit_log\": the application checks entitlements by it"
    } else {
        "the key is the default lookup key: set a shorter `lookup_key`"
    };
    sink.push(
        Diagnostic::new(value.span(), problem)
            .label("Stripe refuses this lookup key")
            .hint(hint),
    );
    false
}

/// Validates one `[entitlements.<key>]`.
fn entitlement(sink: &Sink, raw: RawEntitlement) -> Option<Entitlement> {
    let key_ok = fields::check_key(sink, &raw.key, "entitlement");
    let key = raw.key.get_ref().clone();
    let name = fields::required(sink, raw.name, raw.incomplete, || {
        Diagnostic::new(
            raw.span.clone(),
            format!("entitlement `{key}` has no `name`"),
        )
        .label("missing `name`")
        .hint("add `name = \"Single sign-on\"`: the feature's name in Stripe's Dashboard")
    })
    .and_then(|name| fields::nonblank(sink, "name", name, MAX_NAME, |d| d));
    let written = raw.lookup_key.is_some();
    let lookup = raw.lookup_key.unwrap_or_else(|| raw.key.clone());
    let lookup_ok = lookup_key(sink, &lookup, written);
    fields::id_or_moved_from(sink, raw.id.as_ref(), raw.moved_from.as_ref(), false);
    let metadata = fields::metadata(sink, raw.metadata);
    let entry = Entitlement {
        id: fields::adopt_id(sink, raw.id, "feat_", "entitlement feature"),
        moved_from: fields::moved_from(sink, raw.moved_from, "entitlement"),
        name: name?,
        lookup_key: lookup.into_inner(),
        lookup_key_written: written,
        metadata,
        key,
    };
    (key_ok && lookup_ok).then_some(entry)
}

fn address(key: &str) -> Address {
    Address::new(ResourceKind::EntitlementFeature, key)
}

/// Entitlement features by key: each `id` adopted once, renames naming one entry each, each
/// lookup key declared once.
pub(crate) fn entitlements(sink: &Sink, raw: Vec<RawEntitlement>) -> BTreeMap<String, Entitlement> {
    let ids = raw
        .iter()
        .map(|e| (&e.key, e.id.as_ref(), e.moved_from.as_ref()));
    fields::ids_and_renames(sink, address, ids);
    fields::unique_values(
        sink,
        &raw.iter()
            .map(|e| {
                let lookup = e.lookup_key.as_ref().unwrap_or(&e.key);
                (address(e.key.get_ref()), lookup)
            })
            .collect::<Vec<_>>(),
        |first, this, lookup| {
            format!(
                "{} and {} share the lookup key \"{lookup}\"",
                first.declaration(),
                this.declaration()
            )
        },
        (
            "lookup key taken",
            "Stripe keeps a lookup key unique among active features: give each entry its own",
        ),
    );
    raw.into_iter()
        .filter_map(|e| entitlement(sink, e))
        .map(|e| (e.key.clone(), e))
        .collect()
}

/// Each product's `entitlements`: declared entries, each named once.
pub(crate) fn check_product_entitlements(
    sink: &Sink,
    products: &[RawProduct],
    declared: &[RawEntitlement],
) {
    let keys: Vec<&str> = declared.iter().map(|e| e.key.get_ref().as_str()).collect();
    for product in products {
        let Some(list) = &product.entitlements else {
            continue;
        };
        let mut seen: Vec<&str> = Vec::new();
        for item in list.get_ref() {
            let name = item.get_ref().as_str();
            if seen.contains(&name) {
                sink.push(
                    Diagnostic::new(item.span(), format!("`{name}` is listed twice"))
                        .label("listed twice")
                        .hint("a feature is attached to a product once"),
                );
                continue;
            }
            seen.push(name);
            if keys.contains(&name) {
                continue;
            }
            let d = Diagnostic::new(
                item.span(),
                format!("`entitlements` names `{name}`, which is not declared"),
            )
            .label("no such entitlement");
            let d =
                d.hint(sink.did_you_mean(name, &keys).unwrap_or_else(|| {
                    format!("declare it: [entitlements.{name}] with name = \"…\"")
                }));
            sink.push(d);
        }
    }
}
