//! Currencies Stripe accepts, with the number of decimal places of each one's minor unit.

use std::fmt;

use serde::Serialize;
use stripe_facts::{CURRENCIES as SUPPORTED, minor_unit_exponent};

/// A three-letter currency code Stripe supports, lowercase, with its exponent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency {
    code: &'static str,
}

impl Currency {
    /// The currency for a code in any case (`"USD"`, `"usd"`), if Stripe supports it.
    pub fn parse(code: &str) -> Option<Self> {
        let lower = code.to_ascii_lowercase();
        SUPPORTED
            .iter()
            .find(|c| **c == lower)
            .map(|code| Self { code })
    }

    /// Every supported code, lowercase.
    pub fn supported() -> &'static [&'static str] {
        SUPPORTED
    }

    /// The lowercase code, as Stripe takes it.
    pub fn code(self) -> &'static str {
        self.code
    }

    /// Decimal places of the minor unit Stripe amounts are expressed in (USD 2, JPY 0, KWD 3).
    pub fn exponent(self) -> u32 {
        minor_unit_exponent(self.code)
    }

    /// A symbol placed before the amount, for the few currencies where that is unambiguous.
    pub fn symbol(self) -> Option<&'static str> {
        Some(match self.code {
            "usd" => "$",
            "eur" => "€",
            "gbp" => "£",
            "jpy" => "¥",
            "inr" => "₹",
            "krw" => "₩",
            _ => return None,
        })
    }

    /// The closest supported code to an unknown one (one typo or swap away), for a did-you-mean.
    ///
    /// Ties go to the most used currencies first, so `uds` suggests `usd` rather than `uzs`.
    pub fn suggest(code: &str) -> Option<&'static str> {
        const COMMON: &[&str] = &["usd", "eur", "gbp", "jpy", "cad", "aud", "chf", "inr"];
        // One typo from a three-letter code is at most four letters long.
        if code.len() > 4 {
            return None;
        }
        let lower = code.to_ascii_lowercase();
        SUPPORTED
            .iter()
            .map(|c| (strsim::osa_distance(c, &lower), !COMMON.contains(c), *c))
            .filter(|(d, _, _)| *d == 1)
            .min()
            .map(|(_, _, c)| c)
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.code.to_ascii_uppercase())
    }
}

impl Serialize for Currency {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_case_insensitive_and_lowercase_out() {
        assert_eq!(Currency::parse("USD").unwrap().code(), "usd");
        assert_eq!(Currency::parse("eUr").unwrap().to_string(), "EUR");
        assert!(Currency::parse("xyz").is_none());
        assert!(Currency::parse("").is_none());
    }

    #[test]
    fn exponents_follow_stripe() {
        let exp = |c| Currency::parse(c).unwrap().exponent();
        assert_eq!(
            (exp("usd"), exp("jpy"), exp("kwd"), exp("krw"), exp("bhd")),
            (2, 0, 3, 0, 3)
        );
    }

    #[test]
    fn suggests_close_codes_only() {
        assert_eq!(Currency::suggest("uds"), Some("usd"));
        assert_eq!(Currency::suggest("eru"), Some("eur"));
        assert_eq!(Currency::suggest("usf"), Some("usd"));
        assert_eq!(Currency::suggest("qqqq"), None);
    }
}
