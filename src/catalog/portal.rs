//! Validated customer-portal configurations, in Stripe's shape.

use std::collections::BTreeMap;

use serde::Serialize;

/// `[portal]` or `[portals.<key>]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Portal {
    /// `default` for `[portal]`.
    pub key: String,
    /// Manage the account's default configuration (updated in place) instead of creating one.
    pub account_default: bool,
    pub settings: PortalSettings<SubscriptionUpdate>,
    pub metadata: BTreeMap<String, String>,
}

/// Everything a portal configuration shows customers, with the products customers may switch
/// between named as `U` names them: by catalog key in billing.toml, by object in a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PortalSettings<U> {
    pub name: Option<String>,
    pub default_return_url: Option<String>,
    pub headline: Option<String>,
    pub privacy_policy_url: Option<String>,
    pub terms_of_service_url: Option<String>,
    pub login_page: bool,
    pub invoice_history: bool,
    pub payment_method_update: bool,
    /// What customers may update about themselves; empty: they may not.
    pub customer_update: Vec<String>,
    pub subscription_cancel: Option<SubscriptionCancel>,
    pub subscription_update: Option<U>,
}

impl<U> PortalSettings<U> {
    /// The same settings with the switching products named another way.
    pub(crate) fn naming<V>(&self, subscription_update: Option<V>) -> PortalSettings<V> {
        let Self {
            name,
            default_return_url,
            headline,
            privacy_policy_url,
            terms_of_service_url,
            login_page,
            invoice_history,
            payment_method_update,
            customer_update,
            subscription_cancel,
            subscription_update: _,
        } = self;
        PortalSettings {
            name: name.clone(),
            default_return_url: default_return_url.clone(),
            headline: headline.clone(),
            privacy_policy_url: privacy_policy_url.clone(),
            terms_of_service_url: terms_of_service_url.clone(),
            login_page: *login_page,
            invoice_history: *invoice_history,
            payment_method_update: *payment_method_update,
            customer_update: customer_update.clone(),
            subscription_cancel: subscription_cancel.clone(),
            subscription_update,
        }
    }
}

/// Customers may cancel their subscriptions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SubscriptionCancel {
    /// `at_period_end` or `immediately`.
    pub mode: String,
    /// `none` or `create_prorations` (only when cancelling immediately).
    pub proration_behavior: Option<String>,
    /// Cancellation reasons offered; empty: none asked.
    pub reasons: Vec<String>,
}

/// Customers may switch their subscriptions to other prices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SubscriptionUpdate {
    /// Product key and the keys of the prices customers may switch to (at most 10 products).
    pub products: Vec<(String, Vec<String>)>,
    /// `price`, `quantity`, `promotion_code`.
    pub default_allowed_updates: Vec<String>,
    /// `none`, `create_prorations` or `always_invoice`.
    pub proration_behavior: Option<String>,
}

pub(super) use stripe_facts::{
    PORTAL_CANCEL_MODES as CANCEL_MODES, PORTAL_CANCEL_REASONS as CANCEL_REASONS,
    PORTAL_CUSTOMER_UPDATES as CUSTOMER_UPDATES, PORTAL_MAX_PRODUCTS as MAX_PORTAL_PRODUCTS,
    PORTAL_SUBSCRIPTION_UPDATES as ALLOWED_UPDATES,
};
/// Proration when cancelling immediately.
pub(super) const CANCEL_PRORATIONS: &[&str] = &["none", "create_prorations"];
/// Proration when switching.
pub(super) const UPDATE_PRORATIONS: &[&str] = &["none", "create_prorations", "always_invoice"];
