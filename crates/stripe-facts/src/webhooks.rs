//! Stripe's webhook vocabulary: the event types an endpoint may subscribe to, the API versions
//! an endpoint (or a request's `Stripe-Version`) may name, and the presets billing expands into
//! event types.
//!
//! Source of both lists: Stripe's official Python library, stripe-python 16.1.0, file
//! `stripe/params/_webhook_endpoint_create_params.py` (generated from Stripe's OpenAPI
//! specification): the `Literal` types of `enabled_events` (the same list on update) and of
//! `api_version`. Its current API version, `2026-10-28.endive`, is the newest entry. To update,
//! copy both literals from a newer release, keep the lists sorted, and run `cargo test -p
//! stripe-facts`.

/// The wildcard `enabled_events` value: every event (except those Stripe requires to be chosen
/// by name).
pub const ALL_EVENTS: &str = "*";

/// Every concrete event type `enabled_events` accepts (`*` aside), sorted. Stripe's list is closed:
/// it accepts no other name and no pattern.
pub const EVENT_TYPES: &[&str] = &[
    "account.application.authorized",
    "account.application.deauthorized",
    "account.external_account.created",
    "account.external_account.deleted",
    "account.external_account.updated",
    "account.updated",
    "application_fee.created",
    "application_fee.refund.updated",
    "application_fee.refunded",
    "apps.install.created",
    "apps.install.deleted",
    "apps.install.updated",
    "balance.available",
    "balance_settings.updated",
    "billing.alert.triggered",
    "billing.credit_balance_transaction.created",
    "billing.credit_grant.created",
    "billing.credit_grant.updated",
    "billing.meter.created",
    "billing.meter.deactivated",
    "billing.meter.reactivated",
    "billing.meter.updated",
    "billing_portal.configuration.created",
    "billing_portal.configuration.updated",
    "billing_portal.session.created",
    "capability.updated",
    "cash_balance.funds_available",
    "charge.captured",
    "charge.dispute.closed",
    "charge.dispute.created",
    "charge.dispute.funds_reinstated",
    "charge.dispute.funds_withdrawn",
    "charge.dispute.updated",
    "charge.expired",
    "charge.failed",
    "charge.pending",
    "charge.refund.updated",
    "charge.refunded",
    "charge.succeeded",
    "charge.updated",
    "checkout.session.async_payment_failed",
    "checkout.session.async_payment_succeeded",
    "checkout.session.completed",
    "checkout.session.expired",
    "climate.order.canceled",
    "climate.order.created",
    "climate.order.delayed",
    "climate.order.delivered",
    "climate.order.product_substituted",
    "climate.product.created",
    "climate.product.pricing_updated",
    "coupon.created",
    "coupon.deleted",
    "coupon.updated",
    "credit_note.created",
    "credit_note.updated",
    "credit_note.voided",
    "customer.created",
    "customer.deleted",
    "customer.discount.created",
    "customer.discount.deleted",
    "customer.discount.updated",
    "customer.source.created",
    "customer.source.deleted",
    "customer.source.expiring",
    "customer.source.updated",
    "customer.subscription.created",
    "customer.subscription.deleted",
    "customer.subscription.paused",
    "customer.subscription.pending_update_applied",
    "customer.subscription.pending_update_expired",
    "customer.subscription.resumed",
    "customer.subscription.trial_will_end",
    "customer.subscription.updated",
    "customer.tax_id.created",
    "customer.tax_id.deleted",
    "customer.tax_id.updated",
    "customer.updated",
    "customer_cash_balance_transaction.created",
    "entitlements.active_entitlement_summary.updated",
    "file.created",
    "financial_connections.account.account_numbers_updated",
    "financial_connections.account.created",
    "financial_connections.account.deactivated",
    "financial_connections.account.disconnected",
    "financial_connections.account.expected_deactivation_date_updated",
    "financial_connections.account.reactivated",
    "financial_connections.account.refreshed_balance",
    "financial_connections.account.refreshed_ownership",
    "financial_connections.account.refreshed_transactions",
    "financial_connections.account.supported_payment_method_types_updated",
    "financial_connections.account.upcoming_account_number_expiry",
    "financial_connections.account.upcoming_deactivation",
    "financial_connections.authorization.expected_deactivation_date_updated",
    "financial_connections.authorization.upcoming_deactivation",
    "identity.verification_session.canceled",
    "identity.verification_session.created",
    "identity.verification_session.processing",
    "identity.verification_session.redacted",
    "identity.verification_session.requires_input",
    "identity.verification_session.verified",
    "invoice.created",
    "invoice.deleted",
    "invoice.finalization_failed",
    "invoice.finalized",
    "invoice.marked_uncollectible",
    "invoice.overdue",
    "invoice.overpaid",
    "invoice.paid",
    "invoice.payment_action_required",
    "invoice.payment_attempt_required",
    "invoice.payment_failed",
    "invoice.payment_succeeded",
    "invoice.sent",
    "invoice.upcoming",
    "invoice.updated",
    "invoice.voided",
    "invoice.will_be_due",
    "invoice_payment.paid",
    "invoiceitem.created",
    "invoiceitem.deleted",
    "issuing_authorization.created",
    "issuing_authorization.request",
    "issuing_authorization.updated",
    "issuing_card.created",
    "issuing_card.updated",
    "issuing_cardholder.created",
    "issuing_cardholder.updated",
    "issuing_dispute.closed",
    "issuing_dispute.created",
    "issuing_dispute.funds_reinstated",
    "issuing_dispute.funds_rescinded",
    "issuing_dispute.submitted",
    "issuing_dispute.updated",
    "issuing_personalization_design.activated",
    "issuing_personalization_design.deactivated",
    "issuing_personalization_design.rejected",
    "issuing_personalization_design.updated",
    "issuing_token.created",
    "issuing_token.updated",
    "issuing_transaction.created",
    "issuing_transaction.purchase_details_receipt_updated",
    "issuing_transaction.updated",
    "mandate.updated",
    "payment_intent.amount_capturable_updated",
    "payment_intent.canceled",
    "payment_intent.created",
    "payment_intent.partially_funded",
    "payment_intent.payment_failed",
    "payment_intent.processing",
    "payment_intent.requires_action",
    "payment_intent.succeeded",
    "payment_link.created",
    "payment_link.updated",
    "payment_method.attached",
    "payment_method.automatically_updated",
    "payment_method.detached",
    "payment_method.updated",
    "payout.canceled",
    "payout.created",
    "payout.failed",
    "payout.paid",
    "payout.reconciliation_completed",
    "payout.updated",
    "person.created",
    "person.deleted",
    "person.updated",
    "plan.created",
    "plan.deleted",
    "plan.updated",
    "price.created",
    "price.deleted",
    "price.updated",
    "product.created",
    "product.deleted",
    "product.updated",
    "promotion_code.created",
    "promotion_code.updated",
    "quote.accepted",
    "quote.canceled",
    "quote.created",
    "quote.finalized",
    "radar.early_fraud_warning.created",
    "radar.early_fraud_warning.updated",
    "refund.created",
    "refund.failed",
    "refund.updated",
    "reporting.report_run.failed",
    "reporting.report_run.succeeded",
    "reporting.report_type.updated",
    "reserve.hold.created",
    "reserve.hold.updated",
    "reserve.plan.created",
    "reserve.plan.disabled",
    "reserve.plan.expired",
    "reserve.plan.updated",
    "reserve.release.created",
    "review.closed",
    "review.opened",
    "setup_intent.canceled",
    "setup_intent.created",
    "setup_intent.requires_action",
    "setup_intent.setup_failed",
    "setup_intent.succeeded",
    "sigma.scheduled_query_run.created",
    "source.canceled",
    "source.chargeable",
    "source.failed",
    "source.mandate_notification",
    "source.refund_attributes_required",
    "source.transaction.created",
    "source.transaction.updated",
    "subscription_schedule.aborted",
    "subscription_schedule.canceled",
    "subscription_schedule.completed",
    "subscription_schedule.created",
    "subscription_schedule.expiring",
    "subscription_schedule.released",
    "subscription_schedule.updated",
    "tax.settings.updated",
    "tax_rate.created",
    "tax_rate.updated",
    "terminal.reader.action_failed",
    "terminal.reader.action_succeeded",
    "terminal.reader.action_updated",
    "test_helpers.test_clock.advancing",
    "test_helpers.test_clock.created",
    "test_helpers.test_clock.deleted",
    "test_helpers.test_clock.internal_failure",
    "test_helpers.test_clock.ready",
    "three_d_secure.authentication.canceled",
    "three_d_secure.authentication.challenge_started",
    "three_d_secure.authentication.errored",
    "three_d_secure.authentication.failed",
    "three_d_secure.authentication.requires_challenge",
    "three_d_secure.authentication.requires_submission",
    "three_d_secure.authentication.succeeded",
    "topup.canceled",
    "topup.created",
    "topup.failed",
    "topup.reversed",
    "topup.succeeded",
    "transfer.created",
    "transfer.reversed",
    "transfer.updated",
    "treasury.credit_reversal.created",
    "treasury.credit_reversal.posted",
    "treasury.debit_reversal.completed",
    "treasury.debit_reversal.created",
    "treasury.debit_reversal.initial_credit_granted",
    "treasury.financial_account.closed",
    "treasury.financial_account.created",
    "treasury.financial_account.features_status_updated",
    "treasury.inbound_transfer.canceled",
    "treasury.inbound_transfer.created",
    "treasury.inbound_transfer.failed",
    "treasury.inbound_transfer.succeeded",
    "treasury.outbound_payment.canceled",
    "treasury.outbound_payment.created",
    "treasury.outbound_payment.expected_arrival_date_updated",
    "treasury.outbound_payment.failed",
    "treasury.outbound_payment.posted",
    "treasury.outbound_payment.returned",
    "treasury.outbound_payment.tracking_details_updated",
    "treasury.outbound_transfer.canceled",
    "treasury.outbound_transfer.created",
    "treasury.outbound_transfer.expected_arrival_date_updated",
    "treasury.outbound_transfer.failed",
    "treasury.outbound_transfer.posted",
    "treasury.outbound_transfer.returned",
    "treasury.outbound_transfer.tracking_details_updated",
    "treasury.received_credit.created",
    "treasury.received_credit.failed",
    "treasury.received_credit.succeeded",
    "treasury.received_debit.created",
];

/// Every API version Stripe has published, oldest first (which is also their sorted order).
pub const API_VERSIONS: &[&str] = &[
    "2011-01-01",
    "2011-06-21",
    "2011-06-28",
    "2011-08-01",
    "2011-09-15",
    "2011-11-17",
    "2012-02-23",
    "2012-03-25",
    "2012-06-18",
    "2012-06-28",
    "2012-07-09",
    "2012-09-24",
    "2012-10-26",
    "2012-11-07",
    "2013-02-11",
    "2013-02-13",
    "2013-07-05",
    "2013-08-12",
    "2013-08-13",
    "2013-10-29",
    "2013-12-03",
    "2014-01-31",
    "2014-03-13",
    "2014-03-28",
    "2014-05-19",
    "2014-06-13",
    "2014-06-17",
    "2014-07-22",
    "2014-07-26",
    "2014-08-04",
    "2014-08-20",
    "2014-09-08",
    "2014-10-07",
    "2014-11-05",
    "2014-11-20",
    "2014-12-08",
    "2014-12-17",
    "2014-12-22",
    "2015-01-11",
    "2015-01-26",
    "2015-02-10",
    "2015-02-16",
    "2015-02-18",
    "2015-03-24",
    "2015-04-07",
    "2015-06-15",
    "2015-07-07",
    "2015-07-13",
    "2015-07-28",
    "2015-08-07",
    "2015-08-19",
    "2015-09-03",
    "2015-09-08",
    "2015-09-23",
    "2015-10-01",
    "2015-10-12",
    "2015-10-16",
    "2016-02-03",
    "2016-02-19",
    "2016-02-22",
    "2016-02-23",
    "2016-02-29",
    "2016-03-07",
    "2016-06-15",
    "2016-07-06",
    "2016-10-19",
    "2017-01-27",
    "2017-02-14",
    "2017-04-06",
    "2017-05-25",
    "2017-06-05",
    "2017-08-15",
    "2017-12-14",
    "2018-01-23",
    "2018-02-05",
    "2018-02-06",
    "2018-02-28",
    "2018-05-21",
    "2018-07-27",
    "2018-08-23",
    "2018-09-06",
    "2018-09-24",
    "2018-10-31",
    "2018-11-08",
    "2019-02-11",
    "2019-02-19",
    "2019-03-14",
    "2019-05-16",
    "2019-08-14",
    "2019-09-09",
    "2019-10-08",
    "2019-10-17",
    "2019-11-05",
    "2019-12-03",
    "2020-03-02",
    "2020-08-27",
    "2022-08-01",
    "2022-11-15",
    "2023-08-16",
    "2023-10-16",
    "2024-04-10",
    "2024-06-20",
    "2024-09-30.acacia",
    "2024-10-28.acacia",
    "2024-11-20.acacia",
    "2024-12-18.acacia",
    "2025-01-27.acacia",
    "2025-02-24.acacia",
    "2025-03-01.dashboard",
    "2025-03-31.basil",
    "2025-04-30.basil",
    "2025-05-28.basil",
    "2025-06-30.basil",
    "2025-07-30.basil",
    "2025-08-27.basil",
    "2025-09-30.clover",
    "2025-10-29.clover",
    "2025-11-17.clover",
    "2025-12-15.clover",
    "2026-01-28.clover",
    "2026-02-25.clover",
    "2026-03-25.dahlia",
    "2026-04-22.dahlia",
    "2026-05-27.dahlia",
    "2026-06-24.dahlia",
    "2026-07-29.dahlia",
    "2026-08-26.dahlia",
    "2026-09-30.endive",
    "2026-10-28.endive",
];

/// The newest API version in [`API_VERSIONS`].
pub const LATEST_API_VERSION: &str = "2026-10-28.endive";

/// A named set of events a production integration needs. Entries are event types or patterns
/// (`customer.subscription.*`), expanded by [`expand_pattern`].
pub struct EventPreset {
    /// The name billing.toml writes in `events`.
    pub name: &'static str,
    /// What it is for, in a few words.
    pub purpose: &'static str,
    /// Event types and patterns.
    pub events: &'static [&'static str],
}

/// The presets, sorted by name.
pub const EVENT_PRESETS: &[EventPreset] = &[
    EventPreset {
        name: "connect",
        purpose: "a Connect platform: connected accounts, payouts and transfers",
        events: &[
            "account.updated",
            "payout.paid",
            "payout.failed",
            "transfer.created",
        ],
    },
    EventPreset {
        name: "invoicing",
        purpose: "invoices: created, finalized, paid, payment failed",
        events: &[
            "invoice.created",
            "invoice.finalized",
            "invoice.paid",
            "invoice.payment_failed",
        ],
    },
    EventPreset {
        name: "one_time_payments",
        purpose: "Checkout and one-time payments",
        events: &[
            "checkout.session.completed",
            "payment_intent.succeeded",
            "payment_intent.payment_failed",
        ],
    },
    EventPreset {
        name: "subscriptions",
        purpose: "subscriptions and their invoices: access, renewals, dunning",
        events: &[
            "customer.subscription.*",
            "invoice.payment_succeeded",
            "invoice.payment_failed",
            "invoice.upcoming",
        ],
    },
];

/// The preset called `name`.
pub fn event_preset(name: &str) -> Option<&'static EventPreset> {
    EVENT_PRESETS.iter().find(|p| p.name == name)
}

/// Whether `name` is an event type Stripe accepts in `enabled_events` (`*` included).
pub fn is_event_type(name: &str) -> bool {
    name == ALL_EVENTS || EVENT_TYPES.binary_search(&name).is_ok()
}

/// The event types a pattern stands for: itself when it is an event type; for a pattern ending
/// in `.*` (`customer.subscription.*`), every event type under that prefix, sorted; nothing when
/// it matches none. `*` itself is Stripe's wildcard, not a pattern: it stands for itself.
pub fn expand_pattern(pattern: &str) -> Vec<&'static str> {
    if pattern == ALL_EVENTS {
        return vec![ALL_EVENTS];
    }
    match pattern.strip_suffix('*') {
        Some(prefix) if prefix.ends_with('.') => EVENT_TYPES
            .iter()
            .copied()
            .filter(|e| e.starts_with(prefix))
            .collect(),
        Some(_) => Vec::new(),
        None => EVENT_TYPES
            .binary_search(&pattern)
            .map(|i| vec![EVENT_TYPES[i]])
            .unwrap_or_default(),
    }
}

/// Whether `version` is an API version Stripe has published.
pub fn is_api_version(version: &str) -> bool {
    API_VERSIONS.binary_search(&version).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lists_are_sorted_without_duplicates_and_as_long_as_stripes() {
        for list in [EVENT_TYPES, API_VERSIONS] {
            assert!(list.windows(2).all(|w| w[0] < w[1]));
        }
        // 276 values with `*`, 129 versions, in stripe-python 16.1.0.
        assert_eq!(EVENT_TYPES.len() + 1, 276);
        assert_eq!(API_VERSIONS.len(), 129);
        assert_eq!(API_VERSIONS.last(), Some(&LATEST_API_VERSION));
        let names: Vec<_> = EVENT_PRESETS.iter().map(|p| p.name).collect();
        assert!(names.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn every_preset_expands_to_event_types_stripe_accepts() {
        for preset in EVENT_PRESETS {
            for entry in preset.events {
                let expanded = expand_pattern(entry);
                assert!(!expanded.is_empty(), "{}: {entry}", preset.name);
                assert!(expanded.iter().all(|e| is_event_type(e)));
            }
        }
    }

    #[test]
    fn a_pattern_expands_to_every_event_under_its_prefix() {
        assert_eq!(
            expand_pattern("customer.subscription.*"),
            [
                "customer.subscription.created",
                "customer.subscription.deleted",
                "customer.subscription.paused",
                "customer.subscription.pending_update_applied",
                "customer.subscription.pending_update_expired",
                "customer.subscription.resumed",
                "customer.subscription.trial_will_end",
                "customer.subscription.updated",
            ]
        );
        assert_eq!(expand_pattern("invoice.paid"), ["invoice.paid"]);
        assert!(expand_pattern("invoice.nothing").is_empty());
        assert!(expand_pattern("nothing.*").is_empty());
        assert!(expand_pattern("invoice*").is_empty());
        assert_eq!(expand_pattern("*"), ["*"]);
        assert!(is_api_version("2026-10-28.endive") && is_api_version("2011-01-01"));
        assert!(!is_api_version("2026-10-29.endive"));
    }
}

/// Whether a URL's `host` (without its port; an IPv6 address with or without its brackets)
/// names the caller's machine: `localhost`, its subdomains, or a loopback address. Stripe
/// refuses a webhook endpoint there, in test mode too: its URL must be publicly reachable.
pub fn is_local_host(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let lower = host.to_ascii_lowercase();
    lower == "localhost"
        || lower.ends_with(".localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod local_host_tests {
    use super::is_local_host;

    #[test]
    fn localhost_its_subdomains_and_loopback_addresses_are_local() {
        for host in [
            "localhost",
            "LocalHost",
            "app.localhost",
            "127.0.0.1",
            "127.1.2.3",
            "::1",
            "[::1]",
        ] {
            assert!(is_local_host(host), "{host}");
        }
        for host in [
            "example.com",
            "localhost.example.com",
            "10.0.0.1",
            "[::2]",
            "",
        ] {
            assert!(!is_local_host(host), "{host}");
        }
    }
}
