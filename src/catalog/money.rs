//! Exact money: decimal amounts in major units converted to Stripe's minor units per currency.

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::Serialize;

use super::currency::Currency;

/// Stripe accepts `unit_amount_decimal` with at most this many decimal places.
pub(super) const MAX_MINOR_DECIMALS: u32 = 12;

/// Stripe amounts have at most eight integer digits in minor units (99,999,999 = $999,999.99).
pub(super) const MAX_MINOR_UNITS: i64 = 99_999_999;

/// An exact amount in a currency's minor unit (cents for USD), never negative.
///
/// Usually whole (`unit_amount`); fractional only for prices below the minor unit
/// (`unit_amount_decimal`, e.g. 0.5 cents per API call).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MinorAmount(Decimal);

/// Why a written amount is not a usable amount.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    /// Not a plain decimal number.
    #[error("`{0}` is not a decimal number")]
    NotANumber(String),
    /// Below zero.
    #[error("amounts cannot be negative")]
    Negative,
    /// More decimal places than the currency's minor unit has.
    #[error("{text} is not exact in {currency}, which has {places} decimal {unit}", unit = if *places == 1 { "place" } else { "places" })]
    Inexact {
        /// The amount as written.
        text: String,
        /// The currency.
        currency: Currency,
        /// Its decimal places.
        places: u32,
    },
    /// A fractional minor amount with more than 12 decimal places.
    #[error("at most {MAX_MINOR_DECIMALS} decimal places are allowed")]
    TooPrecise,
    /// Too large to represent.
    #[error("the amount is too large")]
    TooLarge,
    /// More digits than a decimal holds exactly (it would be rounded).
    #[error(
        "`{0}` has more digits than billing can hold exactly (at most 28 decimal places, 28 digits in all)"
    )]
    Unrepresentable(String),
    /// Above what Stripe accepts.
    #[error("{0} is above Stripe's maximum of {max} minor units", max = MAX_MINOR_UNITS)]
    AboveMaximum(String),
}

/// Parses a plain decimal (`"79"`, `"79.00"`, `"0.005"`); no sign, exponent, separators or spaces.
pub(crate) fn parse_decimal(text: &str) -> Result<Decimal, AmountError> {
    if let Some(rest) = text.strip_prefix('-') {
        return match parse_decimal(rest) {
            Ok(d) if d.is_zero() => Ok(Decimal::ZERO),
            Ok(_) => Err(AmountError::Negative),
            Err(e) => Err(e),
        };
    }
    let (int, frac) = text.split_once('.').unwrap_or((text, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if int.is_empty() || !digits(int) || !digits(frac) || (text.contains('.') && frac.is_empty()) {
        return Err(AmountError::NotANumber(text.to_owned()));
    }
    // Trailing zeros add nothing; past them, every digit must be held exactly: a decimal that
    // would be rounded (more than 28 places, or too many digits in all) is refused, never
    // rounded.
    let exact = if frac.is_empty() {
        int.to_owned()
    } else {
        let frac = frac.trim_end_matches('0');
        if frac.is_empty() {
            int.to_owned()
        } else {
            format!("{int}.{frac}")
        }
    };
    Decimal::from_str_exact(&exact).map_err(|_| {
        if Decimal::from_str(int).is_err() {
            AmountError::TooLarge
        } else {
            AmountError::Unrepresentable(text.to_owned())
        }
    })
}

/// Reads a TOML float through its shortest decimal form, so `79.99` stays `79.99`.
pub(crate) fn float_text(value: f64) -> Option<String> {
    value.is_finite().then(|| format!("{value}"))
}

impl MinorAmount {
    /// A whole number of minor units.
    pub fn from_minor(units: i64) -> Result<Self, AmountError> {
        if units < 0 {
            return Err(AmountError::Negative);
        }
        Ok(Self(Decimal::from(units)))
    }

    /// A major-unit decimal (`"79.00"` USD) converted exactly to minor units (7900).
    pub fn from_major(text: &str, currency: Currency) -> Result<Self, AmountError> {
        let major = parse_decimal(text)?;
        let places = currency.exponent();
        let minor = major
            .checked_mul(Decimal::from(10_i64.pow(places)))
            .ok_or(AmountError::TooLarge)?
            .normalize();
        if !minor.fract().is_zero() {
            return Err(AmountError::Inexact {
                text: text.to_owned(),
                currency,
                places,
            });
        }
        Ok(Self(minor))
    }

    /// A minor-unit decimal (`unit_amount_decimal`, `"0.5"` = half a cent), at most 12 decimal places.
    pub fn from_minor_decimal(text: &str) -> Result<Self, AmountError> {
        let minor = parse_decimal(text)?.normalize();
        if minor.scale() > MAX_MINOR_DECIMALS {
            return Err(AmountError::TooPrecise);
        }
        Ok(Self(minor))
    }

    /// Refuses amounts above [`MAX_MINOR_UNITS`] (Stripe's eight integer digits).
    pub fn within_stripe_limit(self, written: &str) -> Result<Self, AmountError> {
        if self.0.trunc() > Decimal::from(MAX_MINOR_UNITS) {
            Err(AmountError::AboveMaximum(written.to_owned()))
        } else {
            Ok(self)
        }
    }

    /// The amount as a whole number of minor units, when it is one (`unit_amount`).
    pub fn as_integer(self) -> Option<i64> {
        if self.0.fract().is_zero() {
            i64::try_from(self.0).ok()
        } else {
            None
        }
    }

    /// The exact value in minor units.
    pub fn decimal(self) -> Decimal {
        self.0
    }

    /// The amount in the shape Stripe's `*_decimal` fields use (`"0.5"`, `"7900"`).
    pub fn decimal_string(self) -> String {
        self.0.normalize().to_string()
    }

    /// Formats in major units with the currency's decimals: `$79.00`, `¥1,000`, `12.500 KWD`.
    pub fn format(self, currency: Currency) -> String {
        let places = currency.exponent();
        let mut major = self.0 / Decimal::from(10_i64.pow(places));
        let scale = major.normalize().scale().max(places);
        major.rescale(scale);
        let text = major.to_string();
        let (int, frac) = text.split_once('.').unwrap_or((&text, ""));
        let mut grouped = String::new();
        for (i, ch) in int.chars().enumerate() {
            if i > 0 && (int.len() - i) % 3 == 0 {
                grouped.push(',');
            }
            grouped.push(ch);
        }
        let number = if frac.is_empty() {
            grouped
        } else {
            format!("{grouped}.{frac}")
        };
        match currency.symbol() {
            Some(symbol) => format!("{symbol}{number}"),
            None => format!("{number} {currency}"),
        }
    }
}

impl fmt::Display for MinorAmount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.decimal_string())
    }
}

impl Serialize for MinorAmount {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.decimal_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ccy(code: &str) -> Currency {
        Currency::parse(code).unwrap()
    }

    #[test]
    fn major_to_minor_per_exponent() {
        let minor = |t, c| MinorAmount::from_major(t, ccy(c)).map(|m| m.as_integer());
        assert_eq!(minor("79.00", "usd"), Ok(Some(7900)));
        assert_eq!(minor("79.9", "usd"), Ok(Some(7990)));
        assert_eq!(minor("79", "usd"), Ok(Some(7900)));
        assert_eq!(minor("0", "usd"), Ok(Some(0)));
        assert_eq!(minor("1000", "jpy"), Ok(Some(1000)));
        assert_eq!(minor("1.000", "jpy"), Ok(Some(1)));
        assert_eq!(minor("12.345", "kwd"), Ok(Some(12345)));
        assert_eq!(minor("12.3", "kwd"), Ok(Some(12300)));
    }

    #[test]
    fn inexact_amounts_are_refused() {
        for (text, code, places) in [
            ("12.001", "usd", 2),
            ("1.5", "jpy", 0),
            ("1.2345", "kwd", 3),
        ] {
            assert_eq!(
                MinorAmount::from_major(text, ccy(code)),
                Err(AmountError::Inexact {
                    text: text.into(),
                    currency: ccy(code),
                    places
                })
            );
        }
        let msg = MinorAmount::from_major("12.001", ccy("usd"))
            .unwrap_err()
            .to_string();
        assert_eq!(
            msg,
            "12.001 is not exact in USD, which has 2 decimal places"
        );
    }

    #[test]
    fn digits_past_what_a_decimal_holds_are_refused_not_rounded() {
        let places = |n: usize| format!("1.{}1", "0".repeat(n - 1));
        assert_eq!(
            parse_decimal(&places(28)).unwrap().to_string(),
            places(28),
            "28 places are held exactly"
        );
        for text in [
            places(29),
            places(30),
            format!("0.{}", "3".repeat(39)),
            format!("{}.5", "9".repeat(28)),
        ] {
            assert_eq!(
                parse_decimal(&text),
                Err(AmountError::Unrepresentable(text.clone())),
                "{text}"
            );
        }
        let zeros = format!("12.5{}", "0".repeat(40));
        assert_eq!(parse_decimal(&zeros).unwrap().to_string(), "12.5");
    }

    #[test]
    fn only_plain_decimals_parse() {
        for bad in [
            "", ".5", "5.", "1e3", "+5", " 5", "1,000.00", "12.0.0", "abc", "0x10",
        ] {
            assert!(
                matches!(parse_decimal(bad), Err(AmountError::NotANumber(_))),
                "{bad:?}"
            );
        }
        assert_eq!(parse_decimal("-1"), Err(AmountError::Negative));
        assert_eq!(parse_decimal("-0.00"), Ok(Decimal::ZERO));
        assert_eq!(
            parse_decimal("99999999999999999999999999999999"),
            Err(AmountError::TooLarge)
        );
    }

    #[test]
    fn minor_decimals_up_to_twelve_places() {
        let half = MinorAmount::from_minor_decimal("0.5").unwrap();
        assert_eq!(
            (half.as_integer(), half.decimal_string()),
            (None, "0.5".to_string())
        );
        assert_eq!(
            MinorAmount::from_minor_decimal("100.000")
                .unwrap()
                .as_integer(),
            Some(100)
        );
        assert!(MinorAmount::from_minor_decimal("0.000000000001").is_ok());
        assert_eq!(
            MinorAmount::from_minor_decimal("0.0000000000001"),
            Err(AmountError::TooPrecise)
        );
        assert_eq!(MinorAmount::from_minor(-1), Err(AmountError::Negative));
    }

    #[test]
    fn stripe_takes_at_most_eight_integer_digits() {
        let ok = MinorAmount::from_major("999999.99", ccy("usd")).unwrap();
        assert!(ok.within_stripe_limit("999999.99").is_ok());
        let big = MinorAmount::from_major("1000000", ccy("usd")).unwrap();
        assert_eq!(
            big.within_stripe_limit("1000000"),
            Err(AmountError::AboveMaximum("1000000".into()))
        );
        let decimal = MinorAmount::from_minor_decimal("99999999.5").unwrap();
        assert!(decimal.within_stripe_limit("99999999.5").is_ok());
    }

    #[test]
    fn floats_keep_their_shortest_form() {
        assert_eq!(float_text(79.99).as_deref(), Some("79.99"));
        assert_eq!(float_text(1e3).as_deref(), Some("1000"));
        assert_eq!(
            float_text(0.1 + 0.2).as_deref(),
            Some("0.30000000000000004")
        );
        assert_eq!(float_text(f64::NAN), None);
    }

    #[test]
    fn formats_in_major_units() {
        let fmt = |t, c| MinorAmount::from_major(t, ccy(c)).unwrap().format(ccy(c));
        assert_eq!(fmt("79", "usd"), "$79.00");
        assert_eq!(fmt("1234567.5", "usd"), "$1,234,567.50");
        assert_eq!(fmt("1000", "jpy"), "¥1,000");
        assert_eq!(fmt("12.5", "kwd"), "12.500 KWD");
        assert_eq!(fmt("72", "eur"), "€72.00");
        let half_cent = MinorAmount::from_minor_decimal("0.5").unwrap();
        assert_eq!(half_cent.format(ccy("usd")), "$0.005");
    }
}
