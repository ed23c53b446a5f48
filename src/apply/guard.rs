//! The destroy guard: archiving what left the catalog in a live environment, or breaking what
//! billing does not manage in any environment, needs `--allow-destroy`.

use crate::document::PlanDocument;
use crate::resource::KeyMode;

/// Why a plan may not be applied without `--allow-destroy`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
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
        /// `address: object` for each.
        items: Vec<String>,
    },
}

/// Refuses, unless destroys are allowed, a plan that breaks unmanaged objects (any mode) or
/// archives or deletes objects because they left the catalog (live mode). Archiving a replaced
/// price is part of its replacement, not a destroy.
pub(crate) fn check_destroys(
    plan: &PlanDocument,
    mode: KeyMode,
    allow_destroy: bool,
) -> Result<(), DestroyRefused> {
    if allow_destroy {
        return Ok(());
    }
    let items: Vec<String> = plan
        .blockers()
        .map(|(c, b)| format!("{} ({b})", c.address))
        .collect();
    if !items.is_empty() {
        return Err(DestroyRefused::Unmanaged { items });
    }
    let addresses: Vec<String> = plan.destroys().map(|c| c.address.clone()).collect();
    if mode == KeyMode::Live && !addresses.is_empty() {
        return Err(DestroyRefused::Live { addresses });
    }
    Ok(())
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
