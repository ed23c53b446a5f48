//! Live customer-portal configurations, in billing's own terms.

use super::read::PAGE;
use crate::stripe::StripeError;
use crate::stripe::StripeHttp;
use futures_util::TryStreamExt;
use serde::Serialize;

use crate::catalog::{PortalSettings, SubscriptionCancel};
use stripe_billing::billing_portal_configuration::ListBillingPortalConfiguration;

/// Products with the ids of the prices customers may switch to.
pub(crate) type PortalProducts = Vec<(String, Vec<String>)>;

/// A customer-portal configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LivePortal {
    pub id: String,
    pub created: i64,
    pub active: bool,
    pub is_default: bool,
    /// What it shows customers (a cancellation's proration as Stripe states it, always set).
    pub settings: PortalSettings<LiveSubscriptionUpdate>,
    pub metadata: super::Metadata,
}

/// `(products with their prices, default_allowed_updates, proration_behavior)`.
pub(crate) type LiveSubscriptionUpdate = (PortalProducts, Vec<String>, String);

impl From<stripe_billing::BillingPortalConfiguration> for LivePortal {
    fn from(c: stripe_billing::BillingPortalConfiguration) -> Self {
        let f = c.features;
        let cancel = f.subscription_cancel;
        let update = f.subscription_update;
        let settings = PortalSettings {
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
                SubscriptionCancel {
                    mode: cancel.mode.as_str().to_owned(),
                    proration_behavior: Some(cancel.proration_behavior.as_str().to_owned()),
                    reasons,
                }
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
        };
        Self {
            id: c.id.to_string(),
            created: c.created,
            active: c.active,
            is_default: c.is_default,
            settings,
            metadata: c.metadata.unwrap_or_default().into_iter().collect(),
        }
    }
}

super::object::live_kind!(LivePortal, Portal, portals {
    fn title(&self) -> String {
        match &self.settings.name {
            Some(name) => format!("portal configuration {name:?}"),
            None => format!("portal configuration {}", self.id),
        }
    }
    fn active(&self) -> bool {
        self.active
    }
    fn is_built_in(&self) -> bool {
        self.is_default
    }
});

/// Every portal configuration, with the products customers may switch between. One cursor
/// chain: the endpoint has no `created` filter, and accounts hold a handful.
pub(super) async fn portals(client: &StripeHttp) -> Result<Vec<LivePortal>, StripeError> {
    ListBillingPortalConfiguration::new()
        .limit(PAGE)
        .expand(vec![
            "data.features.subscription_update.products".to_owned(),
        ])
        .paginate()
        .stream(client)
        .map_ok(LivePortal::from)
        .try_collect()
        .await
}
