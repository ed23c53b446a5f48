//! Country and subdivision codes shared by tax settings, tax rates and tax registrations.

use super::error::ApiError;

/// Every ISO 3166-1 alpha-2 country code, sorted.
const ISO_3166_1: &[&str] = &[
    "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW", "AX", "AZ",
    "BA", "BB", "BD", "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ", "BR", "BS",
    "BT", "BV", "BW", "BY", "BZ", "CA", "CC", "CD", "CF", "CG", "CH", "CI", "CK", "CL", "CM", "CN",
    "CO", "CR", "CU", "CV", "CW", "CX", "CY", "CZ", "DE", "DJ", "DK", "DM", "DO", "DZ", "EC", "EE",
    "EG", "EH", "ER", "ES", "ET", "FI", "FJ", "FK", "FM", "FO", "FR", "GA", "GB", "GD", "GE", "GF",
    "GG", "GH", "GI", "GL", "GM", "GN", "GP", "GQ", "GR", "GS", "GT", "GU", "GW", "GY", "HK", "HM",
    "HN", "HR", "HT", "HU", "ID", "IE", "IL", "IM", "IN", "IO", "IQ", "IR", "IS", "IT", "JE", "JM",
    "JO", "JP", "KE", "KG", "KH", "KI", "KM", "KN", "KP", "KR", "KW", "KY", "KZ", "LA", "LB", "LC",
    "LI", "LK", "LR", "LS", "LT", "LU", "LV", "LY", "MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK",
    "ML", "MM", "MN", "MO", "MP", "MQ", "MR", "MS", "MT", "MU", "MV", "MW", "MX", "MY", "MZ", "NA",
    "NC", "NE", "NF", "NG", "NI", "NL", "NO", "NP", "NR", "NU", "NZ", "OM", "PA", "PE", "PF", "PG",
    "PH", "PK", "PL", "PM", "PN", "PR", "PS", "PT", "PW", "PY", "QA", "RE", "RO", "RS", "RU", "RW",
    "SA", "SB", "SC", "SD", "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM", "SN", "SO", "SR", "SS",
    "ST", "SV", "SX", "SY", "SZ", "TC", "TD", "TF", "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO",
    "TR", "TT", "TV", "TW", "TZ", "UA", "UG", "UM", "US", "UY", "UZ", "VA", "VC", "VE", "VG", "VI",
    "VN", "VU", "WF", "WS", "YE", "YT", "ZA", "ZM", "ZW",
];

/// The United States' 50 states and the District of Columbia (ISO 3166-2 codes without the
/// `US-` prefix). Whether Stripe Tax registers territories (`PR`, `GU`, …) is unverified; the
/// sandbox refuses them (stricter reading).
pub(crate) const US_STATES: &[&str] = &[
    "AK", "AL", "AR", "AZ", "CA", "CO", "CT", "DC", "DE", "FL", "GA", "HI", "IA", "ID", "IL", "IN",
    "KS", "KY", "LA", "MA", "MD", "ME", "MI", "MN", "MO", "MS", "MT", "NC", "ND", "NE", "NH", "NJ",
    "NM", "NV", "NY", "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT", "VA", "VT", "WA",
    "WI", "WV", "WY",
];

/// Whether `code` is an ISO 3166-1 alpha-2 code, in uppercase.
pub(crate) fn is_country(code: &str) -> bool {
    ISO_3166_1.binary_search(&code).is_ok()
}

/// Checks a country code parameter. Only uppercase ISO 3166-1 alpha-2 codes are accepted:
/// whether Stripe also takes lowercase ones is unverified (stricter reading).
pub(crate) fn check_country(code: &str, param: &str) -> Result<(), ApiError> {
    if is_country(code) {
        Ok(())
    } else {
        Err(ApiError::invalid(format!(
            "Country '{code}' is unknown. Try using a 2-character alphanumeric country code \
             instead, such as 'US', 'EG', or 'GB'. A full list of country codes is available at \
             https://www.iso.org/obp/ui/#search"
        ))
        .with_code("country_code_invalid")
        .with_param(param))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_sorted_and_complete() {
        assert_eq!(ISO_3166_1.len(), 249);
        assert!(ISO_3166_1.windows(2).all(|w| w[0] < w[1]));
        assert!(US_STATES.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(US_STATES.len(), 51);
        assert!(is_country("US") && is_country("DE") && !is_country("us") && !is_country("XX"));
        assert_eq!(
            check_country("XX", "country").unwrap_err().param.as_deref(),
            Some("country")
        );
    }
}
