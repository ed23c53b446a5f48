//! Stripe secret keys: read from the environment, never printed, and told apart by mode.

use std::fmt;

use crate::resource::KeyMode;

/// A Stripe API key. Its `Debug` and `Display` never show it; only [`SecretKey::expose`] does.
#[derive(Clone)]
pub struct SecretKey(String);

impl SecretKey {
    /// Wraps a key as given.
    pub fn new(key: impl Into<String>) -> Self {
        Self(key.into())
    }

    /// Reads the key from the environment variable `var`; `None` when unset or empty.
    pub fn from_env(var: &str) -> Option<Self> {
        std::env::var(var)
            .ok()
            .map(|k| k.trim().to_owned())
            .filter(|k| !k.is_empty())
            .map(Self)
    }

    /// The mode the key's prefix says, if it looks like a Stripe secret or restricted key.
    pub fn mode(&self) -> Option<KeyMode> {
        let k = self.0.as_str();
        if k.starts_with("sk_test_") || k.starts_with("rk_test_") {
            Some(KeyMode::Test)
        } else if k.starts_with("sk_live_") || k.starts_with("rk_live_") {
            Some(KeyMode::Live)
        } else {
            None
        }
    }

    /// Whether it is a restricted key (`rk_…`), limited to the permissions it was given.
    pub(crate) fn restricted(&self) -> bool {
        self.0.starts_with("rk_")
    }

    /// The key itself, for the Authorization header only.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// A 32-byte key for one `purpose`, derived from this key (HMAC-SHA256 keyed by it): what
    /// holds this key can make it, and it tells nothing about this key.
    pub(crate) fn derive(&self, purpose: &str) -> [u8; 32] {
        use hmac::Mac;
        let mut mac = crate::digest::hmac(self.0.as_bytes());
        mac.update(purpose.as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// Removes every occurrence of the key from `text` (for error bodies and messages).
    pub fn redact(&self, text: &str) -> String {
        if self.0.len() < 8 {
            return text.to_owned();
        }
        text.replace(&self.0, "[REDACTED]")
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey([REDACTED])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_follow_prefixes() {
        assert_eq!(SecretKey::new("sk_test_abc").mode(), Some(KeyMode::Test));
        assert_eq!(SecretKey::new("rk_live_abc").mode(), Some(KeyMode::Live));
        assert_eq!(SecretKey::new("pk_test_abc").mode(), None);
    }

    #[test]
    fn derived_keys_depend_on_the_key_and_the_purpose() {
        let (a, b) = (SecretKey::new("sk_test_a"), SecretKey::new("sk_test_b"));
        assert_eq!(a.derive("x"), SecretKey::new("sk_test_a").derive("x"));
        assert_ne!(a.derive("x"), b.derive("x"));
        assert_ne!(a.derive("x"), a.derive("y"));
        // RFC 4231, test case 2: HMAC-SHA256 keyed by "Jefe".
        assert_eq!(
            crate::digest::hex(&SecretKey::new("Jefe").derive("what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn never_shown() {
        let key = SecretKey::new(format!("sk_live_{}", "51SecretValue"));
        assert!(!format!("{key:?}").contains("SecretValue"));
        assert_eq!(
            key.redact(&format!("bad key sk_live_{}!", "51SecretValue")),
            "bad key [REDACTED]!"
        );
    }
}
