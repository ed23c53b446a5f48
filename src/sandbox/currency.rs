//! The currencies Stripe accepts for prices (lowercase ISO 4217 codes).

/// Stripe's supported presentment currencies. A price in any other currency is refused.
pub(crate) const SUPPORTED: &[&str] = &[
    "usd", "aed", "afn", "all", "amd", "ang", "aoa", "ars", "aud", "awg", "azn", "bam", "bbd",
    "bdt", "bgn", "bhd", "bif", "bmd", "bnd", "bob", "brl", "bsd", "bwp", "byn", "bzd", "cad",
    "cdf", "chf", "clp", "cny", "cop", "crc", "cve", "czk", "djf", "dkk", "dop", "dzd", "egp",
    "etb", "eur", "fjd", "fkp", "gbp", "gel", "gip", "gmd", "gnf", "gtq", "gyd", "hkd", "hnl",
    "htg", "huf", "idr", "ils", "inr", "isk", "jmd", "jod", "jpy", "kes", "kgs", "khr", "kmf",
    "krw", "kwd", "kyd", "kzt", "lak", "lbp", "lkr", "lrd", "lsl", "mad", "mdl", "mga", "mkd",
    "mmk", "mnt", "mop", "mur", "mvr", "mwk", "mxn", "myr", "mzn", "nad", "ngn", "nio", "nok",
    "npr", "nzd", "omr", "pab", "pen", "pgk", "php", "pkr", "pln", "pyg", "qar", "ron", "rsd",
    "rub", "rwf", "sar", "sbd", "scr", "sek", "sgd", "shp", "sle", "sos", "srd", "std", "szl",
    "thb", "tjs", "tnd", "top", "try", "ttd", "twd", "tzs", "uah", "ugx", "uyu", "uzs", "vnd",
    "vuv", "wst", "xaf", "xcd", "xof", "xpf", "yer", "zar", "zmw",
];

/// Whether `code` is a supported currency. Only lowercase codes are accepted: Stripe documents
/// currencies as lowercase, and whether it folds `USD` is unverified (stricter reading).
pub(crate) fn is_supported(code: &str) -> bool {
    SUPPORTED.contains(&code)
}

/// Stripe's message for an unsupported currency.
pub(crate) fn unsupported_message(code: &str) -> String {
    format!(
        "Invalid currency: {code}. Stripe currently supports these currencies: {}",
        SUPPORTED.join(", ")
    )
}
