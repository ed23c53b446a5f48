//! Amounts as billing.toml writes them: exact decimals in the currency's major unit (`"79.00"`
//! USD, `"1000"` JPY, `"12.345"` KWD), or minor units with decimals for amounts below the
//! minor unit (`unit_amount_decimal = "0.05"`). Every amount is read back the way the
//! catalog reads it before it is written.

use rust_decimal::Decimal;

use crate::catalog::{Currency, MinorAmount};

/// An amount ready to be written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Written {
    /// Major units: `amount = "79.00"`.
    Major(String),
    /// Minor units with decimals: `unit_amount_decimal = "0.05"`.
    MinorDecimal(String),
}

/// `minor` in major units with exactly the currency's decimal places, when that is exact.
pub(crate) fn major_text(minor: MinorAmount, currency: Currency) -> Option<String> {
    let places = currency.exponent();
    if !minor.decimal().fract().is_zero() {
        return None;
    }
    let mut major = minor
        .decimal()
        .checked_div(Decimal::from(10_i64.pow(places)))?;
    major.rescale(places);
    let text = major.to_string();
    // Read back as billing.toml's `amount` is read: it must be the same amount, and one
    // Stripe accepts.
    MinorAmount::from_major(&text, currency)
        .and_then(|m| m.within_stripe_limit(&text))
        .ok()
        .filter(|m| *m == minor)
        .map(|_| text)
}

/// How to write `minor` in `currency`: major units when the amount is whole in minor units,
/// else minor units with decimals; `Err` says why billing.toml cannot hold it.
pub(crate) fn write(minor: MinorAmount, currency: Currency) -> Result<Written, String> {
    if let Some(text) = major_text(minor, currency) {
        return Ok(Written::Major(text));
    }
    let text = minor.decimal_string();
    match MinorAmount::from_minor_decimal(&text).and_then(|m| m.within_stripe_limit(&text)) {
        Ok(m) if m == minor && !minor.decimal().fract().is_zero() => {
            Ok(Written::MinorDecimal(text))
        }
        Ok(_) => Err(format!(
            "{text} {} minor units is not an amount billing.toml can write",
            currency.code().to_uppercase()
        )),
        Err(e) => Err(format!(
            "{text} {} minor units: {e}",
            currency.code().to_uppercase()
        )),
    }
}

/// A whole amount in minor units (coupons, minimum amounts) in major units.
pub(crate) fn whole(minor: i64, currency: Currency) -> Result<String, String> {
    let amount = MinorAmount::from_minor(minor).map_err(|e| format!("{minor}: {e}"))?;
    major_text(amount, currency).ok_or_else(|| {
        format!(
            "{minor} {} minor units is above what billing.toml accepts",
            currency.code().to_uppercase()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ccy(code: &str) -> Currency {
        Currency::parse(code).unwrap()
    }

    fn minor(units: i64) -> MinorAmount {
        MinorAmount::from_minor(units).unwrap()
    }

    #[test]
    fn major_units_with_the_currency_exponent() {
        for (units, code, text) in [
            (7900, "usd", "79.00"),
            (7999, "usd", "79.99"),
            (5, "eur", "0.05"),
            (0, "usd", "0.00"),
            (1000, "jpy", "1000"),
            (1, "jpy", "1"),
            (12345, "kwd", "12.345"),
            (12300, "kwd", "12.300"),
            (99_999_999, "usd", "999999.99"),
        ] {
            assert_eq!(
                major_text(minor(units), ccy(code)).as_deref(),
                Some(text),
                "{units} {code}"
            );
        }
        assert_eq!(
            major_text(minor(100_000_000), ccy("usd")),
            None,
            "above Stripe's limit"
        );
    }

    #[test]
    fn amounts_below_the_minor_unit_are_written_in_minor_units() {
        let half_cent = MinorAmount::from_minor_decimal("0.5").unwrap();
        assert_eq!(
            write(half_cent, ccy("usd")),
            Ok(Written::MinorDecimal("0.5".into()))
        );
        let tiny = MinorAmount::from_minor_decimal("0.000000000001").unwrap();
        assert_eq!(
            write(tiny, ccy("usd")),
            Ok(Written::MinorDecimal("0.000000000001".into()))
        );
        assert_eq!(
            write(minor(7900), ccy("usd")),
            Ok(Written::Major("79.00".into()))
        );
        // A fraction of a yen has no major-unit form either.
        let yen = MinorAmount::from_minor_decimal("12.5").unwrap();
        assert_eq!(
            write(yen, ccy("jpy")),
            Ok(Written::MinorDecimal("12.5".into()))
        );
    }

    #[test]
    fn written_amounts_read_back_exactly() {
        for (units, code) in [
            (7900, "usd"),
            (1, "jpy"),
            (1001, "kwd"),
            (3, "bhd"),
            (0, "eur"),
        ] {
            let text = major_text(minor(units), ccy(code)).unwrap();
            assert_eq!(
                MinorAmount::from_major(&text, ccy(code)),
                Ok(minor(units)),
                "{text} {code}"
            );
        }
    }

    #[test]
    fn whole_amounts_refuse_what_stripe_would() {
        assert_eq!(whole(1000, ccy("usd")).as_deref(), Ok("10.00"));
        assert_eq!(whole(500, ccy("jpy")).as_deref(), Ok("500"));
        assert!(whole(-1, ccy("usd")).is_err());
        assert!(whole(1_000_000_000, ccy("usd")).is_err());
    }
}
