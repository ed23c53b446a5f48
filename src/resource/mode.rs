//! Test or live: the two worlds of a Stripe account, which a key, an environment and a plan
//! each belong to.

use std::fmt;

/// Whether a key acts on test data or live data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyMode {
    /// `sk_test_…` / `rk_test_…`.
    Test,
    /// `sk_live_…` / `rk_live_…`.
    Live,
}

impl fmt::Display for KeyMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Test => "test",
            Self::Live => "live",
        })
    }
}
