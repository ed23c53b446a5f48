//! Making a plan document from a plan: each step's requests with references to objects that
//! earlier operations create, and the idempotency keys that cover them.

use sha2::{Digest, Sha256};

use super::{
    FORMAT_VERSION, Operation, Origin, PlanDocument, Reference, catalog_hash, placeholder, read_set,
};
use crate::catalog::Catalog;
use crate::live::LiveState;
use crate::plan::{Change, ObjRef, Plan, StepId, WireRequest};

/// The idempotency key of an operation: the same plan, applied again or retried, sends the
/// same key; a plan made from other content or another live state never does. Everything it
/// covers is in the document, so a saved plan's keys can be checked for consistency (that a
/// saved plan is the one billing made is the MAC's business: see `seal.rs`).
pub(super) fn idempotency_key(
    namespace: &str,
    generation: Option<&str>,
    change: &Change,
    op: &Operation,
    destroy_approved: bool,
) -> String {
    let mut hasher = Sha256::new();
    // A destroy approved by `--allow-destroy` is part of what the key covers: Stripe never
    // answers an approved destroy with the replay of an unapproved one, or the reverse.
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

/// A step's requests with references to created objects as placeholders, and where they are.
fn templated(plan: &Plan, step: StepId, nonce: u64) -> (Vec<WireRequest>, Vec<Reference>) {
    // A marker no catalog text contains (control characters and a random number), swapped
    // for the readable placeholder once the places are known.
    let marker = |s: StepId| format!("\u{1}{nonce}:{s}\u{1}");
    let mut built = plan.steps[step].request.wire(&|r| match r {
        ObjRef::Id(id) => id.to_string(),
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
    pub(crate) fn new(plan: &Plan, catalog: &Catalog, live: &LiveState, origin: Origin) -> Self {
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
        let mut doc = Self {
            format_version: FORMAT_VERSION,
            tool_version: env!("CARGO_PKG_VERSION").to_owned(),
            origin,
            namespace: plan.namespace.clone(),
            catalog_hash: catalog_hash(catalog),
            allow_destroy: false,
            replace: Vec::new(),
            generation: plan.generation.clone(),
            summary: plan.summary(),
            resource_changes: plan.changes.clone(),
            operations,
            order: plan.order.clone(),
            notices: plan.notices.clone(),
            warnings: plan.warnings.clone(),
            unmanaged: plan.unmanaged.clone(),
            foreign: plan.foreign.clone(),
            read: read_set(catalog, live),
            mac: None,
            refusals: Vec::new(),
        };
        doc.refusals = super::guard::ahead(&doc);
        doc
    }

    /// The same plan approved (or not) to archive and delete what left billing.toml
    /// (`billing plan --allow-destroy`): recorded, and covered by the keys of those operations.
    /// Unsealed: a MAC made before covers the plan as it was.
    #[must_use]
    pub(crate) fn with_allow_destroy(mut self, allow: bool) -> Self {
        self.allow_destroy = allow;
        self.mac = None;
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
        self.refusals = super::guard::ahead(&self);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{CATALOG, document};
    use super::*;
    use crate::live::fixtures::live;

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
}
