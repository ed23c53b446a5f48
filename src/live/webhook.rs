//! Live webhook endpoints, in billing's own terms.

use futures_util::TryStreamExt;
use serde::Serialize;
use stripe_misc::webhook_endpoint::ListWebhookEndpoint;

use super::read::PAGE;
use crate::stripe::{StripeError, StripeHttp};

/// Recorded in an endpoint's metadata when it receives Connect events: Stripe does not
/// report `connect`, so this is how billing knows it later.
pub(crate) const CONNECT_KEY: &str = "billing_connect";

/// A webhook endpoint. Stripe never lists its signing secret, and does not say whether it
/// receives Connect events: an endpoint of a Connect application (`application` set) is read
/// as one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LiveWebhook {
    pub id: String,
    pub created: i64,
    pub url: String,
    /// `enabled_events`, sorted, each once.
    pub events: Vec<String>,
    /// `None`: the account's default version.
    pub api_version: Option<String>,
    /// The Connect application it belongs to, if any.
    pub application: Option<String>,
    pub description: Option<String>,
    /// `status = "disabled"`.
    pub disabled: bool,
    pub metadata: super::Metadata,
}

impl LiveWebhook {
    /// Whether it receives events from connected accounts: as billing recorded it, else as
    /// Stripe shows it (an endpoint of a Connect application).
    pub fn connect(&self) -> bool {
        self.metadata.get(CONNECT_KEY).is_some_and(|v| v == "true") || self.application.is_some()
    }
}

impl From<stripe_misc::WebhookEndpoint> for LiveWebhook {
    fn from(w: stripe_misc::WebhookEndpoint) -> Self {
        let mut events = w.enabled_events;
        events.sort();
        events.dedup();
        Self {
            id: w.id.to_string(),
            created: w.created,
            url: w.url,
            events,
            api_version: w.api_version,
            application: w.application,
            description: w.description.filter(|d| !d.is_empty()),
            disabled: w.status == "disabled",
            metadata: w.metadata.into_iter().collect(),
        }
    }
}

super::object::live_kind!(LiveWebhook, WebhookEndpoint, webhooks {
    fn title(&self) -> String {
        format!("webhook endpoint {}", self.url)
    }
    /// A disabled endpoint is still the endpoint: `disabled` is one of its fields.
    fn active(&self) -> bool {
        true
    }
});

/// Every webhook endpoint. One cursor chain: the endpoint has no `created` filter, and an
/// account holds at most 16.
pub(super) async fn webhooks(client: &StripeHttp) -> Result<Vec<LiveWebhook>, StripeError> {
    ListWebhookEndpoint::new()
        .limit(PAGE)
        .paginate()
        .stream(client)
        .map_ok(LiveWebhook::from)
        .try_collect()
        .await
}
