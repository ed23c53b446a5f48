//! Live tax state and customer-portal configurations, in billing's own terms.

use std::collections::BTreeMap;

use serde::Serialize;

/// The account's Stripe Tax settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LiveTaxSettings {
    pub default_tax_behavior: Option<String>,
    pub default_tax_code: Option<String>,
    pub head_office: Option<LiveAddress>,
}

/// An address as Stripe holds it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LiveAddress {
    pub line1: Option<String>,
    pub line2: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub postal_code: Option<String>,
    pub country: Option<String>,
}

/// A tax registration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LiveRegistration {
    pub id: String,
    pub country: String,
    /// `country_options[<cc>].type`.
    pub kind: String,
    /// `country_options[<cc>].state` (US) or `.province_standard.province` (CA).
    pub state: Option<String>,
    pub active_from: i64,
    pub expires_at: Option<i64>,
    /// `active`, `scheduled` or `expired`.
    pub status: String,
}

/// A manual tax rate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LiveTaxRate {
    pub id: String,
    pub created: i64,
    pub active: bool,
    pub display_name: String,
    /// Exact decimal text (`"8.875"`).
    pub percentage: String,
    pub inclusive: bool,
    pub country: Option<String>,
    pub state: Option<String>,
    pub jurisdiction: Option<String>,
    pub tax_type: Option<String>,
    pub description: Option<String>,
    pub metadata: BTreeMap<String, String>,
}

/// Products with the ids of the prices customers may switch to.
pub type PortalProducts = Vec<(String, Vec<String>)>;

/// A customer-portal configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LivePortal {
    pub id: String,
    pub created: i64,
    pub active: bool,
    pub is_default: bool,
    pub name: Option<String>,
    pub default_return_url: Option<String>,
    pub headline: Option<String>,
    pub privacy_policy_url: Option<String>,
    pub terms_of_service_url: Option<String>,
    pub login_page: bool,
    pub invoice_history: bool,
    pub payment_method_update: bool,
    /// Allowed updates when enabled; empty when disabled.
    pub customer_update: Vec<String>,
    /// `(mode, proration_behavior, reasons)` when enabled.
    pub subscription_cancel: Option<(String, String, Vec<String>)>,
    /// `(products with their prices, default_allowed_updates, proration_behavior)` when enabled.
    pub subscription_update: Option<(PortalProducts, Vec<String>, String)>,
    pub metadata: BTreeMap<String, String>,
}

impl From<stripe_shared::TaxRate> for LiveTaxRate {
    fn from(r: stripe_shared::TaxRate) -> Self {
        Self {
            id: r.id.to_string(),
            created: r.created,
            active: r.active,
            display_name: r.display_name,
            percentage: crate::catalog::float_text(r.percentage).unwrap_or_default(),
            inclusive: r.inclusive,
            country: r.country,
            state: r.state,
            jurisdiction: r.jurisdiction,
            tax_type: r.tax_type.map(|t| t.as_str().to_owned()),
            description: r.description,
            metadata: r.metadata.unwrap_or_default().into_iter().collect(),
        }
    }
}

impl From<stripe_misc::TaxSettings> for LiveTaxSettings {
    fn from(s: stripe_misc::TaxSettings) -> Self {
        Self {
            default_tax_behavior: s.defaults.tax_behavior.map(|t| t.as_str().to_owned()),
            default_tax_code: s.defaults.tax_code,
            head_office: s.head_office.map(|h| LiveAddress {
                line1: h.address.line1,
                line2: h.address.line2,
                city: h.address.city,
                state: h.address.state,
                postal_code: h.address.postal_code,
                country: h.address.country,
            }),
        }
    }
}

impl From<stripe_billing::BillingPortalConfiguration> for LivePortal {
    fn from(c: stripe_billing::BillingPortalConfiguration) -> Self {
        let f = c.features;
        let cancel = f.subscription_cancel;
        let update = f.subscription_update;
        Self {
            id: c.id.to_string(),
            created: c.created,
            active: c.active,
            is_default: c.is_default,
            name: c.name,
            default_return_url: c.default_return_url,
            headline: c.business_profile.headline,
            privacy_policy_url: c.business_profile.privacy_policy_url,
            terms_of_service_url: c.business_profile.terms_of_service_url,
            login_page: c.login_page.enabled,
            invoice_history: f.invoice_history.enabled,
            payment_method_update: f.payment_method_update.enabled,
            customer_update: if f.customer_update.enabled {
                f.customer_update
                    .allowed_updates
                    .iter()
                    .map(|u| u.as_str().to_owned())
                    .collect()
            } else {
                Vec::new()
            },
            subscription_cancel: cancel.enabled.then(|| {
                let reasons = if cancel.cancellation_reason.enabled {
                    cancel
                        .cancellation_reason
                        .options
                        .iter()
                        .map(|o| o.as_str().to_owned())
                        .collect()
                } else {
                    Vec::new()
                };
                (
                    cancel.mode.as_str().to_owned(),
                    cancel.proration_behavior.as_str().to_owned(),
                    reasons,
                )
            }),
            subscription_update: update.enabled.then(|| {
                (
                    update
                        .products
                        .unwrap_or_default()
                        .into_iter()
                        .map(|p| (p.product, p.prices))
                        .collect(),
                    update
                        .default_allowed_updates
                        .iter()
                        .map(|u| u.as_str().to_owned())
                        .collect(),
                    update.proration_behavior.as_str().to_owned(),
                )
            }),
            metadata: c.metadata.unwrap_or_default().into_iter().collect(),
        }
    }
}
