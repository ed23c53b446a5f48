//! The currencies Stripe accepts for prices (lowercase ISO 4217 codes), with the number of
//! decimal places of each one's minor unit (see `docs/stripe-rules.md#currencies`).

/// Every presentment currency Stripe documents as supported, lowercase.
pub const CURRENCIES: &[&str] = &[
    "aed", "afn", "all", "amd", "ang", "aoa", "ars", "aud", "awg", "azn", "bam", "bbd", "bdt",
    "bgn", "bhd", "bif", "bmd", "bnd", "bob", "brl", "bsd", "bwp", "byn", "bzd", "cad", "cdf",
    "chf", "clp", "cny", "cop", "crc", "cve", "czk", "djf", "dkk", "dop", "dzd", "egp", "etb",
    "eur", "fjd", "fkp", "gbp", "gel", "gip", "gmd", "gnf", "gtq", "gyd", "hkd", "hnl", "htg",
    "huf", "idr", "ils", "inr", "isk", "jmd", "jod", "jpy", "kes", "kgs", "khr", "kmf", "krw",
    "kwd", "kyd", "kzt", "lak", "lbp", "lkr", "lrd", "lsl", "mad", "mdl", "mga", "mkd", "mmk",
    "mnt", "mop", "mur", "mvr", "mwk", "mxn", "myr", "mzn", "nad", "ngn", "nio", "nok", "npr",
    "nzd", "omr", "pab", "pen", "pgk", "php", "pkr", "pln", "pyg", "qar", "ron", "rsd", "rub",
    "rwf", "sar", "sbd", "scr", "sek", "sgd", "shp", "sle", "sos", "srd", "std", "szl", "thb",
    "tjs", "tnd", "top", "try", "ttd", "twd", "tzs", "uah", "ugx", "usd", "uyu", "uzs", "vnd",
    "vuv", "wst", "xaf", "xcd", "xcg", "xof", "xpf", "yer", "zar", "zmw",
];

/// Stripe treats these as zero-decimal: amounts are whole units (¥1000 is `unit_amount=1000`).
pub const ZERO_DECIMAL_CURRENCIES: &[&str] = &[
    "bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv",
    "xaf", "xof", "xpf",
];

/// Stripe treats these as three-decimal: 1.000 KWD is `unit_amount=1000`.
pub const THREE_DECIMAL_CURRENCIES: &[&str] = &["bhd", "jod", "kwd", "omr", "tnd"];

/// Whether `code` is a supported currency, written as Stripe documents it (lowercase).
pub fn is_currency(code: &str) -> bool {
    CURRENCIES.binary_search(&code).is_ok()
}

/// Decimal places of the minor unit Stripe amounts in `code` are expressed in (USD 2, JPY 0,
/// KWD 3); 2 for every currency outside the zero- and three-decimal tables.
pub fn minor_unit_exponent(code: &str) -> u32 {
    if ZERO_DECIMAL_CURRENCIES.contains(&code) {
        0
    } else if THREE_DECIMAL_CURRENCIES.contains(&code) {
        3
    } else {
        2
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_sorted_lowercase_and_nested() {
        for table in [
            CURRENCIES,
            ZERO_DECIMAL_CURRENCIES,
            THREE_DECIMAL_CURRENCIES,
        ] {
            assert!(table.windows(2).all(|w| w[0] < w[1]));
            assert!(
                table
                    .iter()
                    .all(|c| c.len() == 3 && c.bytes().all(|b| b.is_ascii_lowercase()))
            );
        }
        for code in ZERO_DECIMAL_CURRENCIES
            .iter()
            .chain(THREE_DECIMAL_CURRENCIES)
        {
            assert!(is_currency(code), "{code}");
        }
    }

    #[test]
    fn exponents_follow_stripe() {
        let exponents = ["usd", "jpy", "kwd", "krw", "bhd", "eur"].map(minor_unit_exponent);
        assert_eq!(exponents, [2, 0, 3, 0, 3, 2]);
        assert!(is_currency("usd") && !is_currency("USD") && !is_currency("xyz"));
    }
}
