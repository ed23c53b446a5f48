//! The live-mode guard: in a live environment, archiving what left the catalog needs consent.

use crate::plan::Plan;
use crate::stripe::KeyMode;

/// A plan that would destroy objects in a live environment without `--allow-destroy`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "this plan archives {} {} that left billing.toml, in a live environment: {}",
    addresses.len(),
    if addresses.len() == 1 { "object" } else { "objects" },
    addresses.join(", ")
)]
pub struct DestroyRefused {
    /// The addresses that would be archived.
    pub addresses: Vec<String>,
}

/// Refuses a plan that archives objects because they left the catalog, when the key is live and
/// destroys were not allowed. Archiving a replaced price is part of its replacement, not a destroy.
pub fn check_destroys(
    plan: &Plan,
    mode: KeyMode,
    allow_destroy: bool,
) -> Result<(), DestroyRefused> {
    let addresses: Vec<String> = plan.destroys().map(|c| c.address.clone()).collect();
    if mode == KeyMode::Live && !allow_destroy && !addresses.is_empty() {
        Err(DestroyRefused { addresses })
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{SourceFile, parse};
    use crate::live::LiveState;

    fn plan_for(catalog: &str, live: &LiveState) -> Plan {
        let catalog = parse(&SourceFile::new("billing.toml", catalog)).unwrap();
        crate::plan::plan(&catalog, live).unwrap()
    }

    use crate::live::fixtures::{live, price, product};

    fn applied() -> LiveState {
        live(vec![product()], vec![price()])
    }

    const CATALOG: &str = "[products.pro]\nname = \"Pro\"\ndescription = \"For teams\"\ndefault_price = \"monthly\"\n\
        [products.pro.prices.monthly]\namount = \"79.00\"\ncurrency = \"usd\"\ninterval = \"month\"\ntax_behavior = \"exclusive\"\n";

    #[test]
    fn live_destroys_need_consent() {
        let live = applied();
        assert!(plan_for(CATALOG, &live).is_empty());
        let removal = plan_for(
            "[products.pro]\nname = \"Pro\"\ndescription = \"For teams\"\n",
            &live,
        );
        let refused = check_destroys(&removal, KeyMode::Live, false).unwrap_err();
        assert_eq!(refused.addresses, ["prices.pro.monthly"]);
        assert!(
            refused
                .to_string()
                .contains("archives 1 object that left billing.toml")
        );
        assert!(check_destroys(&removal, KeyMode::Live, true).is_ok());
        assert!(check_destroys(&removal, KeyMode::Test, false).is_ok());
    }

    #[test]
    fn a_replacement_is_not_a_destroy() {
        let live = applied();
        let replacement = plan_for(&CATALOG.replace("79.00", "89.00"), &live);
        assert_eq!(replacement.summary().replace, 1);
        assert!(check_destroys(&replacement, KeyMode::Live, false).is_ok());
    }
}
