//! Country and subdivision codes shared by tax settings, tax rates and tax registrations.

use super::error::ApiError;

/// Every ISO 3166-1 alpha-2 country code, sorted (the catalog validates against the same list).
use stripe_facts::COUNTRIES as ISO_3166_1;
/// The United States' 50 states and the District of Columbia (ISO 3166-2 codes without the
/// `US-` prefix). Whether Stripe Tax registers territories (`PR`, `GU`, …) is unverified; the
/// sandbox refuses them (stricter reading).
pub(crate) use stripe_facts::US_STATES;

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
