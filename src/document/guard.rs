//! The destroy guard: archiving what left the catalog in a live environment, or breaking what
//! billing does not manage in any environment, needs `--allow-destroy`. `billing apply` checks
//! it before sending anything, and every rendering of a plan says ahead which refusals a plan
//! meets: both use the same rules.

use serde::{Deserialize, Serialize};

use super::PlanDocument;
use crate::resource::KeyMode;

/// Why a plan may not be applied without `--allow-destroy`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub(crate) enum DestroyRefused {
    /// It archives or deletes objects that left the catalog, in a live environment.
    #[error(
        "this plan archives or deletes {} {} that left billing.toml, in a live environment: {}",
        addresses.len(),
        if addresses.len() == 1 { "object" } else { "objects" },
        addresses.join(", ")
    )]
    Live {
        /// The addresses that would be archived or deleted.
        addresses: Vec<String>,
    },
    /// It would break objects billing does not manage (in every mode).
    #[error("this plan would stop objects that billing.toml does not declare from working: {}", items.join(", "))]
    Unmanaged {
        /// `address (what it breaks)` for each.
        items: Vec<String>,
    },
}

impl DestroyRefused {
    /// What it refuses, counted, for a plan's line about the refusals ahead: `2 archives or
    /// deletions in live mode (…)`, `1 object billing.toml does not declare would stop
    /// working (…)`.
    pub(crate) fn counted(&self) -> String {
        match self {
            Self::Live { addresses } => format!(
                "{} {} in live mode ({})",
                addresses.len(),
                if addresses.len() == 1 {
                    "archive or deletion"
                } else {
                    "archives or deletions"
                },
                addresses.join(", ")
            ),
            Self::Unmanaged { items } => format!(
                "{} {} billing.toml does not declare would stop working ({})",
                items.len(),
                if items.len() == 1 {
                    "object"
                } else {
                    "objects"
                },
                items.join(", ")
            ),
        }
    }

    /// The line every rendering of a plan shows when apply will refuse it:
    /// `apply will refuse this plan without --allow-destroy: …`, or `None`.
    pub(crate) fn line(refusals: &[Self]) -> Option<String> {
        if refusals.is_empty() {
            return None;
        }
        let parts: Vec<String> = refusals.iter().map(Self::counted).collect();
        Some(format!(
            "apply will refuse this plan without --allow-destroy: {}",
            parts.join("; ")
        ))
    }
}

/// Every refusal `plan` meets without `--allow-destroy` in `mode`, whether or not it was made
/// with it: the unmanaged objects it breaks (any mode), then the objects it archives or
/// deletes because they left the catalog (live mode). Archiving a replaced price is part of
/// its replacement, not a destroy.
fn refusals(plan: &PlanDocument, mode: KeyMode) -> Vec<DestroyRefused> {
    let mut refusals = Vec::new();
    let items: Vec<String> = plan
        .blockers()
        .map(|(c, b)| format!("{} ({b})", c.address))
        .collect();
    if !items.is_empty() {
        refusals.push(DestroyRefused::Unmanaged { items });
    }
    let addresses: Vec<String> = plan.destroys().map(|c| c.address.clone()).collect();
    if mode == KeyMode::Live && !addresses.is_empty() {
        refusals.push(DestroyRefused::Live { addresses });
    }
    refusals
}

/// What `billing apply` will refuse without `--allow-destroy` (nothing when the plan was made
/// with it): [`PlanDocument::refusals`], which the plan's renderings show.
pub(super) fn ahead(plan: &PlanDocument) -> Vec<DestroyRefused> {
    if plan.allow_destroy {
        Vec::new()
    } else {
        refusals(plan, plan.origin.mode)
    }
}

/// Refuses, unless destroys are allowed, a plan that breaks unmanaged objects (any mode) or
/// archives or deletes objects because they left the catalog (live mode).
pub(crate) fn check_destroys(
    plan: &PlanDocument,
    mode: KeyMode,
    allow_destroy: bool,
) -> Result<(), DestroyRefused> {
    if allow_destroy {
        return Ok(());
    }
    match refusals(plan, mode).into_iter().next() {
        Some(refused) => Err(refused),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::live::LiveState;
    use crate::live::fixtures::{CATALOG, catalog, live, price, product};

    fn plan_for(text: &str, live: &LiveState) -> PlanDocument {
        let catalog = catalog(text);
        let plan = crate::plan::plan(&catalog, live).unwrap();
        let origin = crate::document::Origin {
            environment: "test".into(),
            account: live.account.id.clone(),
            mode: KeyMode::Test,
        };
        PlanDocument::new(&plan, &catalog, live, origin)
    }

    fn applied() -> LiveState {
        live(vec![product()], vec![price()])
    }

    #[test]
    fn live_destroys_need_consent() {
        let live = applied();
        assert!(plan_for(CATALOG, &live).is_empty());
        let removal = plan_for(
            "[products.pro]\nname = \"Pro\"\ndescription = \"For teams\"\n",
            &live,
        );
        let refused = check_destroys(&removal, KeyMode::Live, false).unwrap_err();
        assert_eq!(
            refused,
            DestroyRefused::Live {
                addresses: vec!["prices.pro.monthly".to_owned()]
            }
        );
        assert!(
            refused
                .to_string()
                .contains("archives or deletes 1 object that left billing.toml")
        );
        assert!(check_destroys(&removal, KeyMode::Live, true).is_ok());
        assert!(check_destroys(&removal, KeyMode::Test, false).is_ok());
    }

    #[test]
    fn a_plan_records_the_refusals_ahead_of_it() {
        let state = applied();
        let catalog = catalog("[products.pro]\nname = \"Pro\"\ndescription = \"For teams\"\n");
        let plan = crate::plan::plan(&catalog, &state).unwrap();
        let origin = |mode| crate::document::Origin {
            environment: "live".into(),
            account: "acct_1".into(),
            mode,
        };
        let live = PlanDocument::new(&plan, &catalog, &state, origin(KeyMode::Live));
        let expected = DestroyRefused::Live {
            addresses: vec!["prices.pro.monthly".to_owned()],
        };
        assert_eq!(live.refusals, std::slice::from_ref(&expected));
        assert_eq!(
            DestroyRefused::line(&live.refusals).unwrap(),
            "apply will refuse this plan without --allow-destroy: 1 archive or deletion in live mode (prices.pro.monthly)"
        );
        // The same refusal apply meets.
        assert_eq!(check_destroys(&live, KeyMode::Live, false), Err(expected));
        assert!(live.clone().with_allow_destroy(true).refusals.is_empty());
        let test = PlanDocument::new(&plan, &catalog, &state, origin(KeyMode::Test));
        assert!(test.refusals.is_empty());
        assert_eq!(DestroyRefused::line(&test.refusals), None);
    }

    #[test]
    fn a_replacement_is_not_a_destroy() {
        let live = applied();
        let replacement = plan_for(&CATALOG.replace("79.00", "89.00"), &live);
        assert_eq!(replacement.summary.replace, 1);
        assert!(check_destroys(&replacement, KeyMode::Live, false).is_ok());
    }

    #[test]
    fn a_saved_plan_carries_its_destroy_approval_and_it_cannot_be_edited_in() {
        use crate::document::{LoadError, PlanKey};
        let state = live(vec![product()], vec![price()]);
        // The monthly price left billing.toml: archiving it is a destroy.
        let catalog = catalog("[products.pro]\nname = \"Pro\"\ndescription = \"For teams\"\n");
        let plan = crate::plan::plan(&catalog, &state).unwrap();
        let origin = crate::document::Origin {
            environment: "live".into(),
            account: "acct_1".into(),
            mode: KeyMode::Live,
        };
        let key = PlanKey::new(&crate::stripe::SecretKey::new("sk_live_guard"));
        let doc = PlanDocument::new(&plan, &catalog, &state, origin);
        assert!(check_destroys(&doc, KeyMode::Live, doc.allow_destroy).is_err());
        let approved = doc.clone().with_allow_destroy(true).sealed(&key);
        assert!(check_destroys(&approved, KeyMode::Live, approved.allow_destroy).is_ok());
        let path = std::path::Path::new("plan.json");
        let read = PlanDocument::parse_verified(path, &approved.to_json(), &key).unwrap();
        assert!(read.allow_destroy);

        // Approval edited into the file: the keys no longer match...
        let saved = doc.sealed(&key);
        let flipped = saved
            .to_json()
            .replace("\"allow_destroy\": false", "\"allow_destroy\": true");
        let err = PlanDocument::parse(path, &flipped).unwrap_err().to_string();
        assert!(err.contains("was edited after the plan was made"), "{err}");
        // ...and with the keys recomputed as billing computes them, the MAC does not verify.
        let mut forged = saved.clone().with_allow_destroy(true);
        forged.mac.clone_from(&saved.mac);
        assert!(PlanDocument::parse(path, &forged.to_json()).is_ok());
        assert!(matches!(
            PlanDocument::parse_verified(path, &forged.to_json(), &key),
            Err(LoadError::Unverified { .. })
        ));
    }
}
