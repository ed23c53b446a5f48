//! A move carries an address's history: when billing.toml renames an address (`moved_from`, or
//! an `id` found under a new key), every object marked with the old address moves, not only
//! the current one. The older objects (prices a replacement archived, an archived tax rate)
//! get the new marker too, so that `billing output` still lists them as the ids the entry
//! superseded, and an unrelated entry that later takes the old key inherits none of them.
//!
//! The current object's marker changes with its own update (its metadata diff); this pass adds
//! a marker-only write for each other moved object whose marker no change rewrites.

use std::collections::BTreeMap;

use super::action::Action;
use super::builder::Builder;
use super::change::Change;
use super::claims::Origin;
use super::forget::MetadataWrite;
use super::request::ObjRef;
use super::value::{FieldChange, FieldValue};
use crate::digest::fingerprint;
use crate::live::LiveObject;
use crate::resource::{MARKER_KEY, ResourceKind};

/// The moved objects at one new address whose marker no change rewrites yet, newest first,
/// with the address they move from.
struct Left<'a> {
    kind: ResourceKind,
    address: &'a str,
    from: String,
    objects: Vec<&'a dyn LiveObject>,
}

/// Adds the marker writes that move the older objects of every renamed address (before
/// [`super::claims::relabel`] names the changes).
pub(super) fn carry_history<'a>(b: &mut Builder<'a>) {
    let marker_field = format!("metadata.{MARKER_KEY}");
    let rewritten = |id: &str| {
        b.changes.iter().any(|c| {
            c.id.as_deref() == Some(id) && c.fields.iter().any(|f| f.field == marker_field)
        })
    };
    let mut left: Vec<Left<'a>> = Vec::new();
    for kind in ResourceKind::MARKED {
        for address in b.managed.addresses(kind) {
            let mut at: Option<Left<'a>> = None;
            for object in b.managed.objects_at(kind, address) {
                let Some(Origin::Moved { from, .. }) = b.claims.get(object.id()).map(|c| &c.origin)
                else {
                    continue;
                };
                if object.metadata().get(MARKER_KEY) == Some(address) || rewritten(object.id()) {
                    continue;
                }
                at.get_or_insert_with(|| Left {
                    kind,
                    address,
                    from: from.clone(),
                    objects: Vec::new(),
                })
                .objects
                .push(object);
            }
            left.extend(at);
        }
    }
    for Left {
        kind,
        address,
        from,
        objects,
    } in left
    {
        let (idx, older) = match b
            .changes
            .iter()
            .position(|c| c.kind == kind && c.address == address)
        {
            Some(idx) => (idx, objects.as_slice()),
            // Nothing else changes at the address (its current object moved in an earlier
            // apply): a change of its own, for the newest of them, which `relabel` calls a move.
            None => {
                let Some((first, rest)) = objects.split_first() else {
                    continue;
                };
                let mut change = Change::new(
                    kind,
                    address,
                    Action::Update,
                    Some(first.id().to_owned()),
                    first.title(),
                    fingerprint(&objects.iter().map(|o| o.metadata()).collect::<Vec<_>>()),
                );
                change.fields.push(FieldChange::new(
                    marker_field.clone(),
                    FieldValue::text(first.metadata().get(MARKER_KEY)),
                    FieldValue::Text(address.to_owned()),
                ));
                (b.add_change(change), rest)
            }
        };
        if !older.is_empty() {
            let n = older.len();
            b.changes[idx].notes.push(format!(
                "the {n} older {} at {from} (the ids it superseded) {} with it",
                if n == 1 { kind.noun() } else { kind.plural() },
                if n == 1 { "moves" } else { "move" },
            ));
        }
        for object in objects {
            b.add_step(
                idx,
                format!("move the older {} {} here", kind.noun(), object.id()),
                MetadataWrite {
                    kind,
                    object: ObjRef::Id(object.id().into()),
                    metadata: BTreeMap::from([(MARKER_KEY.to_owned(), Some(address.to_owned()))]),
                },
                vec![],
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::live::LivePrice;
    use crate::live::fixtures::{CATALOG, catalog, live, marker, price, product};
    use crate::plan::{Action, plan};

    /// An archived price the current one replaced, still marked with `address`.
    fn archived(address: &str) -> LivePrice {
        LivePrice {
            id: "price_old".into(),
            active: false,
            lookup_key: None,
            created: 50,
            metadata: marker(address).into(),
            ..price()
        }
    }

    #[test]
    fn a_rename_moves_the_older_prices_with_the_current_one() {
        let renamed = CATALOG
            .replace("prices.monthly]", "prices.month]\nmoved_from = \"monthly\"")
            .replace("default_price = \"monthly\"", "default_price = \"month\"");
        let state = live(
            vec![product()],
            vec![price(), archived("prices.pro.monthly")],
        );
        let plan = plan(&catalog(&renamed), &state).unwrap();
        let [change] = plan.changes.as_slice() else {
            panic!("{:#?}", plan.changes);
        };
        assert_eq!(
            (change.address.as_str(), change.action),
            ("prices.pro.month", Action::Move)
        );
        assert!(
            change.notes.contains(
                &"the 1 older price at prices.pro.monthly (the ids it superseded) moves with it"
                    .to_owned()
            ),
            "{:?}",
            change.notes
        );
        let steps = plan.step_descriptions(change);
        assert!(
            steps.contains(&"move the older price price_old here"),
            "{steps:?}"
        );
    }

    /// A rename an earlier build applied moved only the current price: while `moved_from` is
    /// in billing.toml, the next plan moves what it left behind.
    #[test]
    fn what_an_earlier_rename_left_behind_is_moved_on_its_own() {
        let renamed = CATALOG
            .replace("prices.monthly]", "prices.month]\nmoved_from = \"monthly\"")
            .replace("default_price = \"monthly\"", "default_price = \"month\"");
        let current = LivePrice {
            lookup_key: Some("pro_month".into()),
            metadata: marker("prices.pro.month").into(),
            ..price()
        };
        let state = live(
            vec![product()],
            vec![current, archived("prices.pro.monthly")],
        );
        let plan = plan(&catalog(&renamed), &state).unwrap();
        let [change] = plan.changes.as_slice() else {
            panic!("{:#?}", plan.changes);
        };
        assert_eq!(change.action, Action::Move);
        assert_eq!(change.id.as_deref(), Some("price_old"));
        assert_eq!(
            change.reason.as_deref(),
            Some("prices.pro.monthly is now prices.pro.month (moved_from = \"monthly\")")
        );
        assert_eq!(change.steps.len(), 1);
    }
}
