//! The fixed values of customer portal configurations (see
//! `docs/stripe-rules.md#portal-configurations`).

/// What customers may update about themselves (`features.customer_update.allowed_updates`).
pub const PORTAL_CUSTOMER_UPDATES: &[&str] =
    &["address", "email", "name", "phone", "shipping", "tax_id"];

/// When a cancellation takes effect (`features.subscription_cancel.mode`).
pub const PORTAL_CANCEL_MODES: &[&str] = &["at_period_end", "immediately"];

/// The reasons customers may give when cancelling
/// (`features.subscription_cancel.cancellation_reason.options`).
pub const PORTAL_CANCEL_REASONS: &[&str] = &[
    "customer_service",
    "low_quality",
    "missing_features",
    "other",
    "switched_service",
    "too_complex",
    "too_expensive",
    "unused",
];

/// What customers may change on a subscription
/// (`features.subscription_update.default_allowed_updates`).
pub const PORTAL_SUBSCRIPTION_UPDATES: &[&str] = &["price", "promotion_code", "quantity"];

/// At most this many products in `features.subscription_update.products`.
pub const PORTAL_MAX_PRODUCTS: usize = 10;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_sorted() {
        for table in [
            PORTAL_CUSTOMER_UPDATES,
            PORTAL_CANCEL_MODES,
            PORTAL_CANCEL_REASONS,
            PORTAL_SUBSCRIPTION_UPDATES,
        ] {
            assert!(table.windows(2).all(|w| w[0] < w[1]), "{table:?}");
        }
    }
}
