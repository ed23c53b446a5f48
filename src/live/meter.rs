//! Live billing meters, in billing's own terms. Meters carry no metadata: billing knows one by
//! its event name (see `plan/meter.rs`).

use futures_util::TryStreamExt;
use serde::Serialize;
use stripe_billing::billing_meter::ListBillingMeter;

use super::read::PAGE;
use crate::stripe::{StripeError, StripeHttp};

/// A billing meter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LiveMeter {
    pub id: String,
    pub created: i64,
    pub display_name: String,
    pub event_name: String,
    /// `count`, `sum` or `last`.
    pub aggregation: String,
    pub customer_mapping_key: String,
    pub value_key: String,
    pub event_time_window: Option<String>,
    /// `status = "active"`.
    pub active: bool,
}

impl From<stripe_billing::BillingMeter> for LiveMeter {
    fn from(m: stripe_billing::BillingMeter) -> Self {
        Self {
            id: m.id.to_string(),
            created: m.created,
            display_name: m.display_name,
            event_name: m.event_name,
            aggregation: m.default_aggregation.formula.as_str().to_owned(),
            customer_mapping_key: m.customer_mapping.event_payload_key,
            value_key: m.value_settings.event_payload_key,
            event_time_window: m.event_time_window.map(|w| w.as_str().to_owned()),
            active: m.status == stripe_billing::BillingMeterStatus::Active,
        }
    }
}

/// Every meter, active and inactive (one cursor chain: the list has no `created` filter).
pub(super) async fn meters(client: &StripeHttp) -> Result<Vec<LiveMeter>, StripeError> {
    ListBillingMeter::new()
        .limit(PAGE)
        .paginate()
        .stream(client)
        .map_ok(LiveMeter::from)
        .try_collect()
        .await
}
