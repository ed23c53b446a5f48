//! The currencies Stripe accepts for prices (lowercase ISO 4217 codes): the catalog's list.

use stripe_facts::CURRENCIES;

/// Whether `code` is a supported currency. Only lowercase codes are accepted: Stripe documents
/// currencies as lowercase, and whether it folds `USD` is unverified (stricter reading).
pub(crate) fn is_supported(code: &str) -> bool {
    stripe_facts::is_currency(code)
}

/// Stripe's message for an unsupported currency.
pub(crate) fn unsupported_message(code: &str) -> String {
    format!(
        "Invalid currency: {code}. Stripe currently supports these currencies: {}",
        CURRENCIES.join(", ")
    )
}
