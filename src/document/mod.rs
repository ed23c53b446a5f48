//! The plan document: what `billing plan --out` writes and `--format json` prints, what
//! `billing show` reads and what `billing apply` executes — the in-process plan too, so that a
//! saved plan and a fresh one run through exactly the same code.
//!
//! It records where the plan applies (account and mode), the catalog it was made from (a hash),
//! a digest of every managed object it read, the changes as a reviewer reads them, and the
//! operations: the HTTP requests each sends, with references to objects created by earlier
//! operations, their dependency edges and their idempotency keys. A saved plan carries a MAC
//! over all of it, made with a key derived from the environment's secret key ([`PlanKey`]).
//! `docs/plan-json.md` documents the format; [`FORMAT_VERSION`] changes whenever it changes
//! incompatibly.

mod build;
mod digest;
mod guard;
mod load;
mod seal;
mod stale;

use serde::{Deserialize, Serialize};
use smol_str::SmolStr;

use crate::plan::{Action, Change, FieldValue, StepId, Summary, Untouched, WireRequest};
use crate::resource::{KeyMode, ResourceKind};

pub(crate) use digest::{catalog_hash, read_set};
pub(crate) use guard::{DestroyRefused, check_destroys};
pub(crate) use load::LoadError;
pub(crate) use seal::PlanKey;

/// The version of the plan document's format: 2 added the MAC.
pub(crate) const FORMAT_VERSION: u32 = 2;

/// One HTTP exchange's worth of work: a step of the plan as the requests it sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Operation {
    /// Its index in [`PlanDocument::operations`].
    pub id: StepId,
    /// The index of its change in [`PlanDocument::resource_changes`].
    pub change: usize,
    /// That change's address, for readers.
    pub address: String,
    /// What it does: `create price`, `archive the replaced price`.
    pub description: String,
    /// Operations that must succeed first.
    pub depends_on: Vec<StepId>,
    /// Whether it creates an object, whose id later operations use.
    pub creates: bool,
    /// The idempotency key of its first request; request `i > 0` adds `-i`.
    pub idempotency_key: String,
    /// The requests, in order. A value or path segment that is another operation's object
    /// reads `${operations.N.id}` and is listed in `references`.
    pub requests: Vec<WireRequest>,
    /// Where the ids of objects created by earlier operations go.
    pub references: Vec<Reference>,
}

/// A place in an operation's requests that takes the id of the object another operation
/// creates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Reference {
    /// The request's index in [`Operation::requests`].
    pub request: usize,
    /// The index of the form field whose value it is, or `None` for the path.
    pub field: Option<usize>,
    /// The operation that creates the object.
    pub operation: StepId,
}

/// A managed object as the plan read it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ReadObject {
    /// `product`, `price`, `coupon`, …
    pub kind: ResourceKind,
    /// Its Stripe id (`account` for the tax settings).
    pub id: SmolStr,
    /// Its catalog address, when it has one.
    pub address: Option<SmolStr>,
    /// A digest of what the plan depends on (counters such as `times_redeemed` left out).
    pub digest: digest::ObjectDigest,
}

/// Everything `apply` needs to make Stripe match, and everything a reviewer reads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct PlanDocument {
    pub format_version: u32,
    /// The billing version that made it.
    pub tool_version: String,
    /// Where it applies: `environment`, `account` and `mode` at the top level of the file.
    #[serde(flatten)]
    pub origin: Origin,
    pub namespace: String,
    /// `sha256:…` of the validated catalog.
    pub catalog_hash: String,
    /// Made with `--allow-destroy`: applying it may archive or delete what left billing.toml,
    /// in a live environment too.
    #[serde(default)]
    pub allow_destroy: bool,
    /// What `billing apply` refuses without `--allow-destroy` (empty when `allow_destroy`).
    #[serde(default)]
    pub refusals: Vec<DestroyRefused>,
    /// The addresses `--replace` asked to replace: a fresh plan made to check this one is made
    /// with them too.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub replace: Vec<String>,
    /// The account's newest catalog event when the plan was made.
    pub generation: Option<String>,
    pub summary: Summary,
    /// One entry per address that changes.
    #[serde(serialize_with = "serialize_changes")]
    pub resource_changes: Vec<Change>,
    pub operations: Vec<Operation>,
    /// Operation ids in the order they are started.
    pub order: Vec<StepId>,
    /// What a reviewer should know that is not a change.
    pub notices: Vec<String>,
    /// What may break something outside billing.toml unless the reviewer acts; shown first.
    #[serde(default)]
    pub warnings: Vec<String>,
    /// Objects without billing's marker, left alone.
    pub unmanaged: Untouched,
    /// Objects of other namespaces, left alone.
    pub foreign: Untouched,
    /// Every managed object read, by address, kind and id.
    pub read: Vec<ReadObject>,
    /// `hmac-sha256:…` over everything else in the file, made with the environment's
    /// [`PlanKey`] ([`PlanDocument::sealed`]); `None` in a plan that is not saved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mac: Option<String>,
}

/// Where a plan applies: made there, checked there before it is applied, and shown at the top
/// of every rendering so that a reviewer knows which account it is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Origin {
    /// The environment's name (`sandbox`, `test`, `live`).
    pub environment: String,
    /// The Stripe account id.
    pub account: String,
    /// Test or live data.
    pub mode: KeyMode,
}

/// A field value as plain JSON, for `before` and `after`.
fn json_value(v: &FieldValue) -> serde_json::Value {
    use serde_json::Value;
    match v {
        FieldValue::None => Value::Null,
        FieldValue::Text(t) | FieldValue::Word(t) | FieldValue::Money(t) | FieldValue::Ref(t) => {
            Value::String(t.clone())
        }
        FieldValue::Bool(b) => Value::Bool(*b),
        FieldValue::Int(i) => Value::from(*i),
        FieldValue::List(items) => Value::from(items.clone()),
        FieldValue::Map(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect(),
        ),
    }
}

/// Terraform's action list for an action.
fn actions(action: Action) -> &'static [&'static str] {
    match action {
        Action::Create => &["create"],
        Action::Adopt | Action::Move => &["update"],
        Action::Forget => &["forget"],
        Action::Update | Action::Unarchive => &["update"],
        Action::Replace => &["create", "delete"],
        Action::Archive | Action::Deactivate | Action::Delete => &["delete"],
    }
}

/// Each change with, besides its own fields, Terraform's shape: `actions`, `before`, `after`
/// (the changed fields only) and `replace_paths`.
fn serialize_changes<S: serde::Serializer>(changes: &[Change], s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::{Error, SerializeSeq};
    let mut seq = s.serialize_seq(Some(changes.len()))?;
    for change in changes {
        let mut value = serde_json::to_value(change).map_err(S::Error::custom)?;
        let before: serde_json::Map<String, serde_json::Value> = change
            .fields
            .iter()
            .map(|f| (f.field.clone(), json_value(&f.before)))
            .collect();
        let after: serde_json::Map<String, serde_json::Value> = change
            .fields
            .iter()
            .map(|f| (f.field.clone(), json_value(&f.after)))
            .collect();
        let replace_paths: Vec<&str> = change
            .fields
            .iter()
            .filter(|f| f.forces_replacement)
            .map(|f| f.field.as_str())
            .collect();
        if let Some(object) = value.as_object_mut() {
            object.insert("actions".into(), actions(change.action).into());
            object.insert("before".into(), before.into());
            object.insert("after".into(), after.into());
            object.insert("replace_paths".into(), replace_paths.into());
        }
        seq.serialize_element(&value)?;
    }
    seq.end()
}

/// What a reference reads as in a request: `${operations.N.id}`.
pub(crate) fn placeholder(operation: StepId) -> String {
    format!("${{operations.{operation}.id}}")
}

impl PlanDocument {
    /// Whether applying would change nothing.
    pub(crate) fn is_empty(&self) -> bool {
        self.resource_changes.is_empty()
    }

    /// The changes that archive or delete objects because they left the catalog.
    pub(crate) fn destroys(&self) -> impl Iterator<Item = &Change> {
        self.resource_changes.iter().filter(|c| c.destroy)
    }

    /// The unmanaged objects some change would break.
    pub(crate) fn blockers(&self) -> impl Iterator<Item = (&Change, &String)> {
        self.resource_changes
            .iter()
            .flat_map(|c| c.blockers.iter().map(move |b| (c, b)))
    }

    /// The document as pretty JSON, ending with a newline.
    pub(crate) fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        text
    }
}

/// A plan made from a small catalog, for the tests of every part of the document.
#[cfg(test)]
pub(crate) mod testing {
    use super::*;
    use crate::catalog::Catalog;
    use crate::live::LiveState;
    pub(crate) use crate::live::fixtures::CATALOG;
    use crate::live::fixtures::catalog;

    pub(super) fn origin(mode: KeyMode) -> Origin {
        Origin {
            environment: "test".into(),
            account: "acct_1".into(),
            mode,
        }
    }

    pub(crate) fn document(text: &str, state: &LiveState) -> (Catalog, PlanDocument) {
        let catalog = catalog(text);
        let plan = crate::plan::plan(&catalog, state).unwrap();
        let doc = PlanDocument::new(&plan, &catalog, state, origin(KeyMode::Test));
        (catalog, doc)
    }
}
