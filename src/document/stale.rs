//! Whether a saved plan still applies: made where it is applied, from the same catalog,
//! against objects that read the same, and the plan that would be made now.

use std::collections::BTreeMap;

use smol_str::SmolStr;

use super::{Operation, Origin, PlanDocument, ReadObject, catalog_hash, read_set};
use crate::catalog::Catalog;
use crate::live::LiveState;
use crate::plan::Change;
use crate::resource::ResourceKind;

impl PlanDocument {
    /// The addresses whose changes or operations differ in `fresh`, a plan made now from the
    /// same catalog: what a saved plan would do that a new one would not (or the reverse).
    pub(crate) fn differences(&self, fresh: &Self) -> Vec<String> {
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
    pub(crate) fn staleness(
        &self,
        catalog: &Catalog,
        live: &LiveState,
        origin: &Origin,
    ) -> Vec<String> {
        let mut out = Vec::new();
        let (made, mode) = (&self.origin, origin.mode);
        if live.account.id != made.account {
            out.push(format!(
                "the plan was made for account {}, but the key belongs to {}",
                made.account, live.account.id
            ));
            return out;
        }
        if mode != made.mode {
            out.push(format!(
                "the plan was made in {} mode, but the key is a {mode} mode key",
                made.mode
            ));
            return out;
        }
        if origin.environment != made.environment {
            out.push(format!(
                "the plan was made for environment {}, this is {}",
                made.environment, origin.environment
            ));
            return out;
        }
        let hash = catalog_hash(catalog);
        if hash != self.catalog_hash {
            out.push("billing.toml changed since the plan was made".to_owned());
        }
        let index = |objects: Vec<ReadObject>| -> BTreeMap<(ResourceKind, SmolStr), ReadObject> {
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

    /// Whether the plan may still be applied as it is: [`Self::staleness`], then what the plan
    /// depends on beyond the objects it read (an unmanaged object taking a lookup key or a
    /// code, a code put on a coupon it deletes), checked by planning again as of the plan's
    /// generation and comparing.
    pub(crate) fn check_fresh(
        &self,
        catalog: &Catalog,
        live: &LiveState,
        origin: &Origin,
    ) -> Result<(), Stale> {
        let mut reasons = self.staleness(catalog, live, origin);
        if reasons.is_empty() {
            let mut live = live.clone();
            live.generation.clone_from(&self.generation);
            let replace = self.replace.iter().cloned().collect();
            match crate::plan::plan_replacing(catalog, &live, &replace) {
                Err(e) => reasons.push(format!("a new plan fails: {e}")),
                Ok(fresh) => {
                    let fresh = Self::new(&fresh, catalog, &live, origin.clone());
                    let differ = self.differences(&fresh);
                    if !differ.is_empty() {
                        reasons.push(format!(
                            "a plan made now would differ at {} (something it depends on changed in Stripe)",
                            differ.join(", ")
                        ));
                    }
                }
            }
        }
        if reasons.is_empty() {
            Ok(())
        } else {
            Err(Stale { reasons })
        }
    }
}

/// Why a saved plan may no longer be applied: what changed since it was made, one reason a
/// line. Reads `stale (2 changes since it was made):` and the reasons as a list.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "stale ({} {} since it was made):\n  - {}",
    reasons.len(),
    if reasons.len() == 1 { "change" } else { "changes" },
    reasons.join("\n  - ")
)]
pub(crate) struct Stale {
    /// What changed, most telling first.
    pub reasons: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::super::testing::{CATALOG, document, origin};
    use crate::live::fixtures::{live, price, product};
    use crate::resource::KeyMode;

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
    fn a_fresh_plan_passes_and_a_stale_one_says_why() {
        let state = live(vec![product()], vec![price()]);
        let (catalog, doc) = document(&CATALOG.replace("79.00", "89.00"), &state);
        assert_eq!(
            doc.check_fresh(&catalog, &state, &origin(KeyMode::Test)),
            Ok(())
        );
        let mut edited = state.clone();
        edited.products[0].name = "Pro (edited)".into();
        let stale = doc
            .check_fresh(&catalog, &edited, &origin(KeyMode::Test))
            .unwrap_err();
        assert_eq!(
            stale.to_string(),
            "stale (1 change since it was made):\n  - products.pro (product prod_1) changed"
        );
    }
}
