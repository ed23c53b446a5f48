//! Forgetting: billing's marker is removed and the object stays in Stripe as it is, no longer
//! managed. Asked for with `billing forget ADDRESS`, or recorded on the object by
//! `on_remove = "forget"` and carried out once its entry leaves the catalog.
//!
//! Forgetting runs before the per-kind planners and takes the forgotten objects out of the
//! builder's index, so nothing archives or deletes them. An object goes with the one it belongs
//! to: a forgotten product takes its prices along, a forgotten coupon its promotion codes.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use super::action::Action;
use super::builder::Builder;
use super::change::Change;
use super::claims::Claims;
use super::error::Conflict;
use super::request::{ObjRef, Write, rank};
use super::value::{FieldChange, FieldValue};
use super::wire::WireRequest;
use crate::catalog::{Catalog, OnRemove};
use crate::digest::fingerprint;
use crate::live::LiveObject;
use crate::plan::request::Resolve;
use crate::resource::{Address, MARKER_KEY, MARKER_NAMESPACE, ON_REMOVE_KEY, ResourceKind, unmark};

/// Adds one change forgetting every object at `address` (the current one first).
fn add(b: &mut Builder<'_>, address: &str, objects: &[&dyn LiveObject], reason: &str) {
    let Some(first) = objects.first() else { return };
    let digest = fingerprint(&objects.iter().map(|o| o.metadata()).collect::<Vec<_>>());
    let kind = first.kind();
    let mut change = Change::new(
        kind,
        address,
        Action::Forget,
        Some(first.id().to_owned()),
        first.title(),
        digest,
    );
    change.reason = Some(reason.to_owned());
    for key in [MARKER_KEY, MARKER_NAMESPACE, ON_REMOVE_KEY] {
        if let Some(value) = first.metadata().get(key) {
            change.fields.push(FieldChange::new(
                format!("metadata.{key}"),
                FieldValue::Text(value.to_owned()),
                FieldValue::None,
            ));
        }
    }
    change
        .notes
        .push("stays in Stripe as it is; billing no longer manages it".to_owned());
    if objects.len() > 1 {
        change.notes.push(format!(
            "{} older objects at this address are forgotten too",
            objects.len() - 1
        ));
    }
    let idx = b.add_change(change);
    for o in objects {
        b.add_step(
            idx,
            format!("remove billing's marker from the {}", kind.noun()),
            MetadataWrite {
                kind,
                object: ObjRef::Id(o.id().into()),
                metadata: unmark(o.metadata()),
            },
            vec![],
        );
    }
}

/// Forgets the objects at `requested` addresses, and at removed addresses whose objects
/// recorded `on_remove = "forget"`, with the objects that belong to them. Returns the
/// requested addresses that were found.
pub(crate) fn plan(b: &mut Builder<'_>, requested: &BTreeSet<String>) -> BTreeSet<String> {
    let catalog = b.catalog;
    let mut found = BTreeSet::new();
    // Ids of the objects forgotten so far: a kind comes after the kind its objects belong to.
    let mut forgotten: HashSet<String> = HashSet::new();
    for kind in ResourceKind::MARKED {
        let mut chosen: Vec<(String, String)> = Vec::new();
        for address in b.managed.addresses(kind) {
            if catalog.declares(address) {
                continue;
            }
            let objects = b.managed.objects_at(kind, address);
            let asked = requested.contains(address);
            if asked {
                found.insert(address.to_owned());
            }
            let parent_forgotten = objects
                .iter()
                .any(|o| o.parent_id().is_some_and(|p| forgotten.contains(p)));
            let reason = match kind.parent() {
                Some(parent) if parent_forgotten => format!("its {} is forgotten", parent.noun()),
                _ if asked => "billing forget".to_owned(),
                _ if objects
                    .iter()
                    .any(|o| OnRemove::of(o.metadata()) == Some(OnRemove::Forget)) =>
                {
                    "removed from billing.toml with on_remove = \"forget\"".to_owned()
                }
                _ => continue,
            };
            chosen.push((address.to_owned(), reason));
        }
        for (address, reason) in chosen {
            let objects = b.managed.remove(kind, &address);
            forgotten.extend(objects.iter().map(|o| o.id().to_owned()));
            add(b, &address, &objects, &reason);
        }
    }
    found
}

/// The conflicts of requested addresses that nothing carries, or that billing.toml declares.
pub(crate) fn unmatched(
    catalog: &Catalog,
    claims: &Claims,
    requested: &BTreeSet<String>,
    found: &BTreeSet<String>,
) -> Vec<Conflict> {
    let examples = || {
        ResourceKind::MARKED
            .map(|kind| Address::new(kind, kind.example_key()).to_string())
            .join(", ")
    };
    requested
        .iter()
        .filter(|a| !found.contains(*a))
        .map(|address| {
            let kind = address.parse::<Address>().ok().map(|a| a.kind());
            if !kind.is_some_and(ResourceKind::is_marked) {
                let nouns: Vec<&str> = ResourceKind::MARKED.map(ResourceKind::noun).to_vec();
                let (last, rest) = nouns.split_last().unwrap_or((&"", &[]));
                Conflict {
                    address: address.clone(),
                    message: "not an address billing can forget".to_owned(),
                    hint: format!(
                        "forget takes the address of a {} or {last}: {}",
                        rest.join(", "),
                        examples()
                    ),
                }
            } else if let Some(new) = claims.moved_to(address) {
                Conflict {
                    address: address.clone(),
                    message: format!("billing.toml moves its objects to {new}"),
                    hint: format!("remove the entry that names them ({new}, with `moved_from` or `id`) first"),
                }
            } else if catalog.declares(address) {
                Conflict {
                    address: address.clone(),
                    message: "billing.toml still declares it".to_owned(),
                    hint: "remove it from billing.toml first (or give it `on_remove = \"forget\"` and remove it): forgetting a declared entry would only make the next plan create or adopt it again".to_owned(),
                }
            } else {
                Conflict {
                    address: address.clone(),
                    message: "no object in this account carries billing's marker for this address".to_owned(),
                    hint: format!("addresses look like {}", examples()),
                }
            }
        })
        .collect()
}

/// A write that changes only an object's metadata, on any kind that has it: forgetting removes
/// the marker this way, and a move rewrites it on the objects an address superseded.
#[derive(Debug, Clone)]
pub(super) struct MetadataWrite {
    pub(super) kind: ResourceKind,
    pub(super) object: ObjRef,
    /// Keys to set (`Some`) or remove (`None`).
    pub(super) metadata: BTreeMap<String, Option<String>>,
}

impl Write for MetadataWrite {
    fn target(&self) -> Option<&ObjRef> {
        Some(&self.object)
    }

    fn rank(&self) -> u8 {
        rank::UPDATE
    }

    /// `POST /v1/<kind>/<id>` with the metadata keys to set, or to remove (sent empty).
    fn wire(&self, resolve: Resolve<'_>) -> Vec<WireRequest> {
        let mut body: Vec<(String, String)> = self
            .metadata
            .iter()
            .map(|(k, v)| (format!("metadata[{k}]"), v.clone().unwrap_or_default()))
            .collect();
        body.sort();
        vec![WireRequest {
            method: "POST".to_owned(),
            path: format!("/{}/{}", self.kind.api_path(), resolve(&self.object)),
            body,
        }]
    }
}
