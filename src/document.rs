//! The plan document: what `billing plan --out` writes and `--format json` prints, what
//! `billing show` reads and what `billing apply` executes — the in-process plan too, so that a
//! saved plan and a fresh one run through exactly the same code.
//!
//! It records where the plan applies (account and mode), the catalog it was made from (a hash),
//! a digest of every managed object it read, the changes as a reviewer reads them, and the
//! operations: the HTTP requests each sends, with references to objects created by earlier
//! operations, their dependency edges and their idempotency keys. `docs/plan-json.md` documents
//! the format; [`FORMAT_VERSION`] changes whenever it changes incompatibly.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::catalog::Catalog;
use crate::live::LiveState;
use crate::plan::{Action, Change, FieldValue, ObjRef, Plan, StepId, Summary, Untouched};
use crate::plan::{WireRequest, requests};
use crate::resource::{Owner, ResourceKind};
use crate::stripe::KeyMode;

/// The version of the plan document's format.
pub const FORMAT_VERSION: u32 = 1;

/// One HTTP exchange's worth of work: a step of the plan as the requests it sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Operation {
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
pub struct Reference {
    /// The request's index in [`Operation::requests`].
    pub request: usize,
    /// The index of the form field whose value it is, or `None` for the path.
    pub field: Option<usize>,
    /// The operation that creates the object.
    pub operation: StepId,
}

/// A managed object as the plan read it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadObject {
    /// `product`, `price`, `coupon`, …
    pub kind: ResourceKind,
    /// Its Stripe id (`account` for the tax settings).
    pub id: String,
    /// Its catalog address, when it has one.
    pub address: Option<String>,
    /// A digest of what the plan depends on (counters such as `times_redeemed` left out).
    pub digest: String,
}

/// Everything `apply` needs to make Stripe match, and everything a reviewer reads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanDocument {
    pub format_version: u32,
    /// The billing version that made it.
    pub tool_version: String,
    /// The environment's name.
    pub environment: String,
    /// The Stripe account it was made against.
    pub account: String,
    pub mode: KeyMode,
    pub namespace: String,
    /// `sha256:…` of the validated catalog.
    pub catalog_hash: String,
    /// Made with `--allow-destroy`: applying it may archive or delete what left billing.toml,
    /// in a live environment too.
    #[serde(default)]
    pub allow_destroy: bool,
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
    /// Objects without billing's marker, left alone.
    pub unmanaged: Untouched,
    /// Objects of other namespaces, left alone.
    pub foreign: Untouched,
    /// Every managed object read, by address, kind and id.
    pub read: Vec<ReadObject>,
}

/// Where a plan applies, as its header says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub environment: String,
    pub account: String,
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

/// A digest of a serialisable value.
fn digest<T: Serialize>(value: &T) -> String {
    crate::digest::hex(&crate::digest::json_sha256(value)[..16])
}

/// `sha256:…` of the validated catalog: formatting and comments do not count.
pub fn catalog_hash(catalog: &Catalog) -> String {
    format!(
        "sha256:{}",
        crate::digest::hex(&crate::digest::json_sha256(catalog))
    )
}

/// A digest of a live object without what moves on its own (redemption counters) or belongs
/// to other systems (metadata keys billing.toml's `ignore_metadata` leaves alone). Hashed as
/// it is, without a copy, when there is nothing to leave out: products and prices, by the
/// hundred thousand.
fn object_digest(object: &dyn crate::live::LiveObject, catalog: &Catalog) -> String {
    let ignored = |k: &String| catalog.ignores_metadata_key(k);
    if object.counters().is_empty() && !object.metadata().keys().any(ignored) {
        return crate::digest::hex(&object.sha256()[..16]);
    }
    let mut value = object.to_json();
    if let Some(map) = value.as_object_mut() {
        for counter in object.counters() {
            map.remove(*counter);
        }
        if let Some(serde_json::Value::Object(metadata)) = map.get_mut("metadata") {
            metadata.retain(|k, _| !catalog.ignores_metadata_key(k));
        }
    }
    digest(&value)
}

/// A digest of an object without what belongs to other systems (see [`object_digest`]).
fn stable_digest<T: Serialize>(object: &T, catalog: &Catalog) -> String {
    let mut value = serde_json::to_value(object).unwrap_or_default();
    if let Some(serde_json::Value::Object(metadata)) = value
        .as_object_mut()
        .and_then(|map| map.get_mut("metadata"))
    {
        metadata.retain(|k, _| !catalog.ignores_metadata_key(k));
    }
    digest(&value)
}

/// Every object the plan depends on: managed objects of every kind, the tax settings and the
/// registrations billing.toml declares (when read), and the account's default portal
/// configuration when billing.toml manages it.
pub fn read_set(catalog: &Catalog, live: &LiveState) -> Vec<ReadObject> {
    let ns = catalog.namespace.as_str();
    // Objects the plan adopts or moves count as managed at their new address.
    let claims = crate::plan::claims(catalog, live);
    let manages_default = catalog.portals.values().any(|p| p.account_default);
    let mut out = Vec::new();
    let mut add = |kind: ResourceKind, id: &str, address: Option<&str>, digest: String| {
        out.push(ReadObject {
            kind,
            id: id.to_owned(),
            address: address.map(str::to_owned),
            digest,
        });
    };
    for kind in ResourceKind::MARKED {
        for o in live.objects(kind).iter() {
            match claims.owner(o.id(), o.metadata(), ns) {
                Owner::Ours(address) => add(kind, o.id(), Some(address), object_digest(o, catalog)),
                // The account's default portal configuration, which billing.toml may manage
                // without its marker.
                _ if o.is_built_in() && manages_default => {
                    add(kind, o.id(), None, object_digest(o, catalog));
                }
                _ => {}
            }
        }
    }
    if let Some(settings) = &live.tax_settings {
        add(
            ResourceKind::TaxSettings,
            "account",
            Some("tax"),
            stable_digest(settings, catalog),
        );
    }
    let declared = catalog.tax.iter().flat_map(|t| &t.registrations);
    for r in &live.tax_registrations {
        if let Some(d) = declared
            .clone()
            .find(|d| d.country == r.country && d.kind == r.kind && d.state == r.state)
        {
            let address = d.address().to_string();
            add(
                ResourceKind::TaxRegistration,
                &r.id,
                Some(&address),
                stable_digest(r, catalog),
            );
        }
    }
    out.sort_by(|a, b| (&a.address, &a.kind, &a.id).cmp(&(&b.address, &b.kind, &b.id)));
    out
}

/// The idempotency key of an operation: the same plan, applied again or retried, sends the
/// same key; a plan made from other content or another live state never does. Everything it
/// covers is in the document, so a saved plan's keys can be checked.
fn idempotency_key(
    namespace: &str,
    generation: Option<&str>,
    change: &Change,
    op: &Operation,
    destroy_approved: bool,
) -> String {
    let mut hasher = Sha256::new();
    // A destroy approved by `--allow-destroy` is part of what the key covers, so that the
    // approval cannot be added to a saved plan by editing it.
    if change.destroy && destroy_approved {
        hasher.update(b"allow-destroy\0");
    }
    for part in [
        namespace,
        generation.unwrap_or_default(),
        change.address.as_str(),
        op.description.as_str(),
        change.fingerprint.as_str(),
    ] {
        hasher.update(part.as_bytes());
        hasher.update([0]);
    }
    hasher.update(op.id.to_le_bytes());
    for request in &op.requests {
        for part in [request.method.as_str(), request.path.as_str()] {
            hasher.update(part.as_bytes());
            hasher.update([0]);
        }
        hasher.update(request.encoded_body().as_bytes());
        hasher.update([0]);
    }
    format!("billing-{}", crate::digest::hex(&hasher.finalize()[..16]))
}

/// What a reference reads as in a request: `${operations.N.id}`.
pub fn placeholder(operation: StepId) -> String {
    format!("${{operations.{operation}.id}}")
}

/// A step's requests with references to created objects as placeholders, and where they are.
fn templated(plan: &Plan, step: StepId, nonce: u64) -> (Vec<WireRequest>, Vec<Reference>) {
    // A marker no catalog text contains (control characters and a random number), swapped
    // for the readable placeholder once the places are known.
    let marker = |s: StepId| format!("\u{1}{nonce}:{s}\u{1}");
    let mut built = requests(&plan.steps[step].request, |r| match r {
        ObjRef::Id(id) => id.clone(),
        ObjRef::Created(s) => marker(*s),
    });
    let mut references = Vec::new();
    let created: Vec<StepId> = plan.steps[step]
        .request
        .references()
        .into_iter()
        .filter_map(|r| match r {
            ObjRef::Created(s) => Some(*s),
            ObjRef::Id(_) => None,
        })
        .collect();
    for (index, request) in built.iter_mut().enumerate() {
        for &s in &created {
            let m = marker(s);
            if request.path.contains(&m) {
                request.path = request.path.replace(&m, &placeholder(s));
                references.push(Reference {
                    request: index,
                    field: None,
                    operation: s,
                });
            }
            for (field, (_, value)) in request.body.iter_mut().enumerate() {
                if *value == m {
                    *value = placeholder(s);
                    references.push(Reference {
                        request: index,
                        field: Some(field),
                        operation: s,
                    });
                }
            }
        }
    }
    references.sort_by_key(|r| (r.request, r.field, r.operation));
    references.dedup();
    (built, references)
}

impl PlanDocument {
    /// The document of `plan`, made from `catalog` against `live` at `origin`.
    pub fn new(plan: &Plan, catalog: &Catalog, live: &LiveState, origin: Origin) -> Self {
        let nonce = {
            use std::hash::{BuildHasher, Hasher};
            std::collections::hash_map::RandomState::new()
                .build_hasher()
                .finish()
        };
        let operations = plan
            .steps
            .iter()
            .map(|step| {
                let (requests, references) = templated(plan, step.id, nonce);
                let mut op = Operation {
                    id: step.id,
                    change: step.change,
                    address: plan.changes[step.change].address.clone(),
                    description: step.description.clone(),
                    depends_on: step.depends_on.clone(),
                    creates: step.request.creates(),
                    idempotency_key: String::new(),
                    requests,
                    references,
                };
                op.idempotency_key = idempotency_key(
                    &plan.namespace,
                    plan.generation.as_deref(),
                    &plan.changes[step.change],
                    &op,
                    false,
                );
                op
            })
            .collect();
        Self {
            format_version: FORMAT_VERSION,
            tool_version: env!("CARGO_PKG_VERSION").to_owned(),
            environment: origin.environment,
            account: origin.account,
            mode: origin.mode,
            namespace: plan.namespace.clone(),
            catalog_hash: catalog_hash(catalog),
            allow_destroy: false,
            generation: plan.generation.clone(),
            summary: plan.summary(),
            resource_changes: plan.changes.clone(),
            operations,
            order: plan.order.clone(),
            notices: plan.notices.clone(),
            unmanaged: plan.unmanaged.clone(),
            foreign: plan.foreign.clone(),
            read: read_set(catalog, live),
        }
    }

    /// The same plan approved (or not) to archive and delete what left billing.toml
    /// (`billing plan --allow-destroy`): recorded, and covered by the keys of those operations.
    #[must_use]
    pub fn with_allow_destroy(mut self, allow: bool) -> Self {
        self.allow_destroy = allow;
        for i in 0..self.operations.len() {
            let change = &self.resource_changes[self.operations[i].change];
            let key = idempotency_key(
                &self.namespace,
                self.generation.as_deref(),
                change,
                &self.operations[i],
                allow,
            );
            self.operations[i].idempotency_key = key;
        }
        self
    }

    /// Whether applying would change nothing.
    pub fn is_empty(&self) -> bool {
        self.resource_changes.is_empty()
    }

    /// Where it applies, as renderers show it.
    pub fn target(&self) -> crate::render::Target {
        crate::render::Target {
            environment: self.environment.clone(),
            account: self.account.clone(),
            mode: self.mode,
        }
    }

    /// The changes that archive or delete objects because they left the catalog.
    pub fn destroys(&self) -> impl Iterator<Item = &Change> {
        self.resource_changes.iter().filter(|c| c.destroy)
    }

    /// The unmanaged objects some change would break.
    pub fn blockers(&self) -> impl Iterator<Item = (&Change, &String)> {
        self.resource_changes
            .iter()
            .flat_map(|c| c.blockers.iter().map(move |b| (c, b)))
    }

    /// The document as pretty JSON, ending with a newline.
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        text
    }

    /// Reads a plan file, checking that this version of billing can apply it.
    pub fn load(path: &Path) -> Result<Self, LoadError> {
        let text = std::fs::read_to_string(path).map_err(|e| LoadError::Read {
            path: path.display().to_string(),
            error: e.to_string(),
        })?;
        Self::parse(path, &text)
    }

    /// Reads the text of a plan file, as [`Self::load`] does once it has read it; errors name
    /// the file `path`.
    pub fn parse(path: &Path, text: &str) -> Result<Self, LoadError> {
        let header: serde_json::Value =
            serde_json::from_str(text).map_err(|e| LoadError::Invalid {
                path: path.display().to_string(),
                error: e.to_string(),
            })?;
        let version = header
            .get("format_version")
            .and_then(serde_json::Value::as_u64);
        if version != Some(u64::from(FORMAT_VERSION)) {
            return Err(LoadError::Version {
                path: path.display().to_string(),
                found: version.map_or("none".to_owned(), |v| v.to_string()),
            });
        }
        let doc: Self = serde_json::from_value(header).map_err(|e| LoadError::Invalid {
            path: path.display().to_string(),
            error: e.to_string(),
        })?;
        if doc.tool_version != env!("CARGO_PKG_VERSION") {
            return Err(LoadError::Tool {
                path: path.display().to_string(),
                found: doc.tool_version,
            });
        }
        doc.check_shape().map_err(|error| LoadError::Invalid {
            path: path.display().to_string(),
            error,
        })?;
        Ok(doc)
    }

    /// Internal consistency: every index points somewhere, every operation is ordered once and
    /// listed by its own change (only), every dependency comes earlier in the order.
    fn check_shape(&self) -> Result<(), String> {
        let n = self.operations.len();
        let mut position = vec![usize::MAX; n];
        for (i, &op) in self.order.iter().enumerate() {
            if op >= n || position[op] != usize::MAX {
                return Err(format!(
                    "`order` names operation {op} twice or out of range"
                ));
            }
            position[op] = i;
        }
        if self.order.len() != n {
            return Err("`order` does not list every operation".to_owned());
        }
        for (i, change) in self.resource_changes.iter().enumerate() {
            if let Some(&step) = change
                .steps
                .iter()
                .find(|&&step| self.operations.get(step).is_none_or(|op| op.change != i))
            {
                return Err(format!(
                    "the change to {} lists operation {step}, which is not one of its own",
                    change.address
                ));
            }
        }
        for (i, op) in self.operations.iter().enumerate() {
            if op.id != i || op.change >= self.resource_changes.len() {
                return Err(format!("operation {i} is out of place"));
            }
            if !self.resource_changes[op.change].steps.contains(&i) {
                return Err(format!("operation {i} is not listed by its change"));
            }
            for &d in &op.depends_on {
                if d >= n || position[d] >= position[i] {
                    return Err(format!(
                        "operation {i} depends on operation {d}, which does not run before it"
                    ));
                }
            }
            for r in &op.references {
                let place = match r.field {
                    None => op.requests.get(r.request).map(|q| q.path.as_str()),
                    Some(f) => op
                        .requests
                        .get(r.request)
                        .and_then(|q| q.body.get(f))
                        .map(|(_, v)| v.as_str()),
                };
                let ok = place.is_some_and(|p| p.contains(&placeholder(r.operation)))
                    && r.operation < n
                    && self.operations[r.operation].creates
                    && op.depends_on.contains(&r.operation);
                if !ok {
                    return Err(format!(
                        "operation {i} refers to operation {} wrongly",
                        r.operation
                    ));
                }
            }
            // Every placeholder is a listed reference.
            for (index, q) in op.requests.iter().enumerate() {
                let places = std::iter::once((None, q.path.as_str())).chain(
                    q.body
                        .iter()
                        .enumerate()
                        .map(|(f, (_, v))| (Some(f), v.as_str())),
                );
                for (field, text) in places {
                    if text.contains("${operations.")
                        && !op
                            .references
                            .iter()
                            .any(|r| r.request == index && r.field == field)
                    {
                        return Err(format!("operation {i} has a reference that is not listed"));
                    }
                }
            }
            let change = &self.resource_changes[op.change];
            if op.idempotency_key
                != idempotency_key(
                    &self.namespace,
                    self.generation.as_deref(),
                    change,
                    op,
                    self.allow_destroy,
                )
            {
                return Err(format!(
                    "operation {i} ({} of {}) was edited after the plan was made",
                    op.description, op.address
                ));
            }
        }
        Ok(())
    }

    /// The addresses whose changes or operations differ in `fresh`, a plan made now from the
    /// same catalog: what a saved plan would do that a new one would not (or the reverse).
    pub fn differences(&self, fresh: &Self) -> Vec<String> {
        let comparable = |doc: &Self| -> BTreeMap<String, (Change, Vec<Operation>)> {
            doc.resource_changes
                .iter()
                .map(|c| {
                    let mut change = c.clone();
                    change.fingerprint.clear();
                    change.steps.clear();
                    let ops = c
                        .steps
                        .iter()
                        .map(|&id| {
                            let mut op = doc.operations[id].clone();
                            op.idempotency_key.clear();
                            op
                        })
                        .collect();
                    (c.address.clone(), (change, ops))
                })
                .collect()
        };
        let (then, now) = (comparable(self), comparable(fresh));
        let mut out: Vec<String> = then
            .keys()
            .chain(now.keys())
            .filter(|a| then.get(*a) != now.get(*a))
            .cloned()
            .collect();
        out.sort();
        out.dedup();
        out
    }

    /// What changed since the plan was made: the account, the mode, the catalog, or the
    /// objects it read. Empty when the plan still applies.
    pub fn staleness(&self, catalog: &Catalog, live: &LiveState, origin: &Origin) -> Vec<String> {
        let mut out = Vec::new();
        let mode = origin.mode;
        if live.account.id != self.account {
            out.push(format!(
                "the plan was made for account {}, but the key belongs to {}",
                self.account, live.account.id
            ));
            return out;
        }
        if mode != self.mode {
            out.push(format!(
                "the plan was made in {} mode, but the key is a {mode} mode key",
                self.mode
            ));
            return out;
        }
        if origin.environment != self.environment {
            out.push(format!(
                "the plan was made for environment {}, this is {}",
                self.environment, origin.environment
            ));
            return out;
        }
        let hash = catalog_hash(catalog);
        if hash != self.catalog_hash {
            out.push("billing.toml changed since the plan was made".to_owned());
        }
        let index = |objects: Vec<ReadObject>| -> BTreeMap<(ResourceKind, String), ReadObject> {
            objects
                .into_iter()
                .map(|o| ((o.kind, o.id.clone()), o))
                .collect()
        };
        let then = index(self.read.clone());
        let now = index(read_set(catalog, live));
        let name = |o: &ReadObject| {
            let kind = o.kind.noun();
            match &o.address {
                Some(a) if o.id == "account" => format!("{a} ({kind})"),
                Some(a) => format!("{a} ({kind} {})", o.id),
                None => format!("{kind} {}", o.id),
            }
        };
        let mut objects = Vec::new();
        for (key, before) in &then {
            match now.get(key) {
                None => objects.push(format!("{} disappeared", name(before))),
                Some(o) if o.digest != before.digest || o.address != before.address => {
                    objects.push(format!("{} changed", name(o)));
                }
                Some(_) => {}
            }
        }
        for (key, o) in &now {
            if !then.contains_key(key) {
                objects.push(format!("{} appeared", name(o)));
            }
        }
        objects.sort();
        const SHOWN: usize = 20;
        if objects.len() > SHOWN {
            let more = objects.len() - SHOWN;
            objects.truncate(SHOWN);
            objects.push(format!("… and {more} more objects"));
        }
        out.extend(objects);
        out
    }
}

/// Why a plan file cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read the plan file {path}: {error}")]
    Read { path: String, error: String },
    #[error("{path} is not a usable billing plan file: {error}")]
    Invalid { path: String, error: String },
    #[error(
        "{path} is a plan file of format version {found}; this billing reads version {FORMAT_VERSION}"
    )]
    Version { path: String, found: String },
    #[error("{path} was made by billing {found}; this is billing {}: make the plan again with this version", env!("CARGO_PKG_VERSION"))]
    Tool { path: String, found: String },
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{SourceFile, parse};
    use crate::live::fixtures::{live, price, product};

    const CATALOG: &str = "[products.pro]\nname = \"Pro\"\ndescription = \"For teams\"\ndefault_price = \"monthly\"\n\
        [products.pro.prices.monthly]\namount = \"79.00\"\ncurrency = \"usd\"\ninterval = \"month\"\ntax_behavior = \"exclusive\"\n";

    fn origin(mode: KeyMode) -> Origin {
        Origin {
            environment: "test".into(),
            account: "acct_1".into(),
            mode,
        }
    }

    fn document(text: &str, state: &LiveState) -> (Catalog, PlanDocument) {
        let catalog = parse(&SourceFile::new("billing.toml", text)).unwrap();
        let plan = crate::plan::plan(&catalog, state).unwrap();
        let doc = PlanDocument::new(&plan, &catalog, state, origin(KeyMode::Test));
        (catalog, doc)
    }

    #[test]
    fn a_plan_applies_only_where_and_as_it_was_made() {
        let state = live(vec![product()], vec![price()]);
        let (catalog, doc) = document(&CATALOG.replace("79.00", "89.00"), &state);
        assert!(
            doc.staleness(&catalog, &state, &origin(KeyMode::Test))
                .is_empty()
        );
        assert_eq!(
            doc.staleness(&catalog, &state, &origin(KeyMode::Live)),
            ["the plan was made in test mode, but the key is a live mode key"]
        );
        let mut elsewhere = origin(KeyMode::Test);
        elsewhere.environment = "staging".into();
        assert_eq!(
            doc.staleness(&catalog, &state, &elsewhere),
            ["the plan was made for environment test, this is staging"]
        );
        // An edit of a managed object makes the plan stale.
        let mut redeemed = state.clone();
        redeemed.products[0].name = "Pro (edited)".into();
        assert_eq!(
            doc.staleness(&catalog, &redeemed, &origin(KeyMode::Test)),
            ["products.pro (product prod_1) changed"]
        );
    }

    #[test]
    fn references_are_placeholders_listed_where_they_are() {
        let (_, doc) = document(CATALOG, &live(vec![], vec![]));
        let default = doc
            .operations
            .iter()
            .find(|o| o.description.contains("default_price"))
            .unwrap();
        assert_eq!(default.references.len(), 2, "{default:#?}");
        for r in &default.references {
            let request = &default.requests[r.request];
            let text = match r.field {
                None => request.path.clone(),
                Some(f) => request.body[f].1.clone(),
            };
            assert!(text.contains(&placeholder(r.operation)), "{text}");
        }
        // A saved document reads back as it was written.
        let json = doc.to_json();
        let back: PlanDocument = serde_json::from_str(&json).unwrap();
        assert_eq!(back, doc);
        assert!(back.check_shape().is_ok());
    }

    /// Plan files as an attacker or a careless edit leaves them: `load` never panics, every
    /// rejection names the file, and whatever it accepts is safe to show and compare.
    mod properties {
        use super::*;
        use proptest::prelude::*;
        use std::sync::OnceLock;

        /// Real documents: creates with references (an empty account), and a replace with an
        /// archive (a managed price whose amount changed).
        fn samples() -> &'static [PlanDocument] {
            static DOCS: OnceLock<Vec<PlanDocument>> = OnceLock::new();
            DOCS.get_or_init(|| {
                vec![
                    document(CATALOG, &live(vec![], vec![])).1,
                    document(
                        &CATALOG.replace("79.00", "89.00"),
                        &live(vec![product()], vec![price()]),
                    )
                    .1,
                ]
            })
        }

        /// A scratch file that every case of a test overwrites.
        struct Scratch {
            _dir: tempfile::TempDir,
            path: std::path::PathBuf,
        }

        impl Scratch {
            fn new() -> Self {
                let dir = tempfile::tempdir().unwrap();
                let path = dir.path().join("plan.json");
                Self { _dir: dir, path }
            }

            /// Writes `bytes` and loads them, checked as the `plan_file` fuzz target checks
            /// them; an accepted document is also compared with the real ones both ways.
            fn load(&self, bytes: &[u8]) -> Option<PlanDocument> {
                std::fs::write(&self.path, bytes).unwrap();
                let outcome = PlanDocument::load(&self.path);
                crate::fuzzing::check_plan_file(&self.path, &outcome);
                let doc = outcome.ok()?;
                for other in samples() {
                    let _ = doc.differences(other);
                    let _ = other.differences(&doc);
                }
                Some(doc)
            }
        }

        /// Raw JSON text put in place of a value: wrong types, numbers past every integer
        /// type, indexes out of range, placeholders, nesting past serde_json's limit.
        fn hostile_value() -> impl Strategy<Value = String> {
            let fixed = prop::sample::select(vec![
                "null",
                "true",
                "-1",
                "0",
                "1",
                "2",
                "4294967296",
                "18446744073709551615",
                "18446744073709551616",
                "99999999999999999999999999999999",
                "1e400",
                "-1e400",
                "1.5",
                "\"\"",
                "\"\\u0000\"",
                "\"\\ud800\"",
                "\"${operations.0.id}\"",
                "\"${operations.1.id}\"",
                "\"${operations.999999.id}\"",
                "\"${operations.\"",
                "[]",
                "{}",
                "[0]",
                "[1, 0]",
                "[0, 0]",
                "[18446744073709551615]",
                "{\"request\": 0, \"field\": null, \"operation\": 0}",
                "{\"request\": 99, \"field\": 99, \"operation\": 99}",
            ])
            .prop_map(str::to_owned);
            prop_oneof![
                28 => fixed,
                1 => Just(format!("{}0{}", "[".repeat(200), "]".repeat(200))),
                1 => "\"[^\"\\\\]{0,20}\"",
                1 => (0..1000u64).prop_map(|n| n.to_string()),
            ]
        }

        /// Every place in a JSON value, as a path of object keys and array indexes.
        fn places(
            value: &serde_json::Value,
            path: &mut Vec<serde_json::Value>,
            out: &mut Vec<Vec<serde_json::Value>>,
        ) {
            out.push(path.clone());
            match value {
                serde_json::Value::Object(map) => {
                    for (k, v) in map {
                        path.push(k.clone().into());
                        places(v, path, out);
                        path.pop();
                    }
                }
                serde_json::Value::Array(items) => {
                    for (i, v) in items.iter().enumerate() {
                        path.push(i.into());
                        places(v, path, out);
                        path.pop();
                    }
                }
                _ => {}
            }
        }

        fn at<'a>(
            value: &'a mut serde_json::Value,
            path: &[serde_json::Value],
        ) -> &'a mut serde_json::Value {
            path.iter().fold(value, |v, seg| match seg {
                serde_json::Value::String(k) => &mut v[k.as_str()],
                other => &mut v[other.as_u64().unwrap() as usize],
            })
        }

        /// What to do to a real document.
        #[derive(Debug, Clone)]
        enum Mutation {
            /// Remove the value at a place (a key from its object, an item from its array).
            Drop(prop::sample::Index),
            /// Put raw JSON text in place of the value at a place.
            Replace(prop::sample::Index, String),
            /// Operation `a` depends on `b` and `b` on `a`.
            Cycle(prop::sample::Index, prop::sample::Index),
            /// The order reversed.
            Reverse,
            /// A change lists an operation that is not its own, or none that exists.
            Steps(prop::sample::Index, usize),
            /// The text cut short.
            Truncate(prop::sample::Index),
        }

        fn mutation() -> impl Strategy<Value = Mutation> {
            prop_oneof![
                any::<prop::sample::Index>().prop_map(Mutation::Drop),
                (any::<prop::sample::Index>(), hostile_value())
                    .prop_map(|(i, v)| Mutation::Replace(i, v)),
                (any::<prop::sample::Index>(), any::<prop::sample::Index>())
                    .prop_map(|(a, b)| Mutation::Cycle(a, b)),
                Just(Mutation::Reverse),
                (
                    any::<prop::sample::Index>(),
                    prop_oneof![0..4usize, Just(usize::MAX)]
                )
                    .prop_map(|(i, s)| Mutation::Steps(i, s)),
                any::<prop::sample::Index>().prop_map(Mutation::Truncate),
            ]
        }

        const HOLE: &str = "\u{1}hole\u{1}";

        /// The document's JSON text with `mutations` applied in turn.
        fn mutated(doc: &PlanDocument, mutations: &[Mutation]) -> String {
            let mut value: serde_json::Value = serde_json::from_str(&doc.to_json()).unwrap();
            let mut raw = Vec::new();
            let mut cut = None;
            for m in mutations {
                let mut all = Vec::new();
                places(&value, &mut Vec::new(), &mut all);
                match m {
                    Mutation::Drop(i) => {
                        let mut path = i.get(&all).clone();
                        if let Some(last) = path.pop() {
                            match (at(&mut value, &path), last) {
                                (serde_json::Value::Object(map), serde_json::Value::String(k)) => {
                                    map.shift_remove(&k);
                                }
                                (serde_json::Value::Array(items), n) => {
                                    items.remove(n.as_u64().unwrap() as usize);
                                }
                                _ => {}
                            }
                        }
                    }
                    Mutation::Replace(i, text) => {
                        *at(&mut value, i.get(&all).as_slice()) =
                            format!("{HOLE}{}", raw.len()).into();
                        raw.push(text.clone());
                    }
                    Mutation::Cycle(a, b) => {
                        if let Some(ops) = value
                            .get_mut("operations")
                            .and_then(|v| v.as_array_mut())
                            .filter(|o| !o.is_empty())
                        {
                            let (a, b) = (a.index(ops.len()), b.index(ops.len()));
                            for (from, to) in [(a, b), (b, a)] {
                                if let Some(deps) = ops[from]
                                    .get_mut("depends_on")
                                    .and_then(|v| v.as_array_mut())
                                {
                                    deps.push(to.into());
                                }
                            }
                        }
                    }
                    Mutation::Reverse => {
                        if let Some(order) = value.get_mut("order").and_then(|v| v.as_array_mut()) {
                            order.reverse();
                        }
                    }
                    Mutation::Steps(i, step) => {
                        if let Some(changes) = value
                            .get_mut("resource_changes")
                            .and_then(|v| v.as_array_mut())
                            .filter(|c| !c.is_empty())
                        {
                            let n = i.index(changes.len());
                            let change = &mut changes[n];
                            if let Some(steps) =
                                change.get_mut("operations").and_then(|v| v.as_array_mut())
                            {
                                steps.push((*step as u64).into());
                            }
                        }
                    }
                    Mutation::Truncate(i) => cut = Some(*i),
                }
            }
            let mut text = value.to_string();
            for (n, snippet) in raw.iter().enumerate() {
                text = text.replace(
                    &format!("\"{}{n}\"", HOLE.replace('\u{1}', "\\u0001")),
                    snippet,
                );
            }
            if let Some(i) = cut {
                let mut at = i.index(text.len() + 1);
                while !text.is_char_boundary(at) {
                    at -= 1;
                }
                text.truncate(at);
            }
            text
        }

        #[test]
        fn a_change_listing_an_operation_not_its_own_is_refused() {
            let scratch = Scratch::new();
            let doc = &samples()[0];
            for steps in ["[18446744073709551615]", "[0, 1]", "[]"] {
                let mut value: serde_json::Value = serde_json::from_str(&doc.to_json()).unwrap();
                value["resource_changes"][1]["operations"] = serde_json::from_str(steps).unwrap();
                std::fs::write(&scratch.path, value.to_string()).unwrap();
                let error = PlanDocument::load(&scratch.path).unwrap_err().to_string();
                assert!(
                    error.contains("is not a usable billing plan file")
                        && error.contains("operation"),
                    "{error}"
                );
            }
        }

        #[test]
        fn a_saved_document_loads_back_as_it_was() {
            let scratch = Scratch::new();
            for doc in samples() {
                let back = scratch.load(doc.to_json().as_bytes());
                assert_eq!(back.as_ref(), Some(doc));
            }
        }

        proptest! {
            #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

            #[test]
            fn arbitrary_bytes_are_rejected_with_the_file_named(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
                let scratch = Scratch::new();
                scratch.load(&bytes);
            }

            #[test]
            fn arbitrary_json_is_rejected_with_the_file_named(value in arbitrary_json()) {
                let scratch = Scratch::new();
                let mut value = value;
                if let Some(map) = value.as_object_mut() {
                    // Past the header checks, to the document's own shape.
                    map.insert("format_version".into(), FORMAT_VERSION.into());
                    map.insert("tool_version".into(), env!("CARGO_PKG_VERSION").into());
                }
                scratch.load(value.to_string().as_bytes());
            }
        }

        proptest! {
            #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

            #[test]
            fn a_mutated_document_never_panics_and_every_rejection_names_the_file(
                which in any::<prop::sample::Index>(),
                mutations in proptest::collection::vec(mutation(), 1..4),
            ) {
                let scratch = Scratch::new();
                let doc = which.get(samples());
                let text = mutated(doc, &mutations);
                scratch.load(text.as_bytes());
            }
        }

        fn arbitrary_json() -> impl Strategy<Value = serde_json::Value> {
            let leaf = prop_oneof![
                Just(serde_json::Value::Null),
                any::<bool>().prop_map(Into::into),
                any::<i64>().prop_map(Into::into),
                any::<u64>().prop_map(Into::into),
                any::<f64>()
                    .prop_map(|f| serde_json::Number::from_f64(f)
                        .map_or(serde_json::Value::Null, Into::into)),
                ".{0,12}".prop_map(Into::into),
                prop::sample::select(
                    &[
                        "create",
                        "update",
                        "product",
                        "price",
                        "test",
                        "live",
                        "POST",
                        "${operations.0.id}"
                    ][..]
                )
                .prop_map(Into::into),
            ];
            leaf.prop_recursive(4, 48, 6, |inner| {
                prop_oneof![
                    proptest::collection::vec(inner.clone(), 0..6).prop_map(Into::into),
                    proptest::collection::vec(
                        (
                            prop::sample::select(
                                &[
                                    "format_version",
                                    "tool_version",
                                    "environment",
                                    "account",
                                    "mode",
                                    "namespace",
                                    "catalog_hash",
                                    "generation",
                                    "summary",
                                    "resource_changes",
                                    "operations",
                                    "order",
                                    "notices",
                                    "unmanaged",
                                    "foreign",
                                    "read",
                                    "id",
                                    "change",
                                    "depends_on",
                                    "requests",
                                    "references",
                                    "steps",
                                    "address",
                                    "kind",
                                    "action",
                                ][..]
                            ),
                            inner,
                        ),
                        0..8,
                    )
                    .prop_map(|entries| {
                        serde_json::Value::Object(
                            entries
                                .into_iter()
                                .map(|(k, v)| (k.to_owned(), v))
                                .collect(),
                        )
                    }),
                ]
            })
        }
    }
}

#[cfg(test)]
mod destroy_tests {
    use super::*;
    use crate::apply::check_destroys;
    use crate::catalog::{SourceFile, parse};
    use crate::live::fixtures::{live, price, product};

    #[test]
    fn a_saved_plan_carries_its_destroy_approval_and_it_cannot_be_edited_in() {
        let state = live(vec![product()], vec![price()]);
        // The monthly price left billing.toml: archiving it is a destroy.
        let catalog = parse(&SourceFile::new(
            "billing.toml",
            "[products.pro]\nname = \"Pro\"\ndescription = \"For teams\"\n",
        ))
        .unwrap();
        let plan = crate::plan::plan(&catalog, &state).unwrap();
        let origin = Origin {
            environment: "live".into(),
            account: "acct_1".into(),
            mode: KeyMode::Live,
        };
        let doc = PlanDocument::new(&plan, &catalog, &state, origin);
        assert!(check_destroys(&doc, KeyMode::Live, doc.allow_destroy).is_err());
        let approved = doc.clone().with_allow_destroy(true);
        assert!(check_destroys(&approved, KeyMode::Live, approved.allow_destroy).is_ok());
        assert!(approved.check_shape().is_ok());

        // Approval edited into the file: the keys no longer match.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plan.json");
        std::fs::write(
            &path,
            doc.to_json()
                .replace("\"allow_destroy\": false", "\"allow_destroy\": true"),
        )
        .unwrap();
        let err = PlanDocument::load(&path).unwrap_err().to_string();
        assert!(err.contains("was edited after the plan was made"), "{err}");
        // The approved plan itself loads.
        std::fs::write(&path, approved.to_json()).unwrap();
        assert!(PlanDocument::load(&path).unwrap().allow_destroy);
    }
}
