//! Live Stripe Tax state in billing's own terms: the settings, registrations and manual tax
//! rates.

use super::partition::ListStats;
use super::read::PAGE;
use crate::stripe::StripeError;
use crate::stripe::StripeHttp;
use serde::Serialize;
use stripe_client_core::{RequestBuilder, StripeMethod};
use stripe_misc::tax_settings::RetrieveForMyAccountTaxSettings;
use stripe_product::tax_rate::ListTaxRate;

/// The account's Stripe Tax settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LiveTaxSettings {
    pub default_tax_behavior: Option<String>,
    pub default_tax_code: Option<String>,
    pub head_office: Option<LiveAddress>,
}

/// An address as Stripe holds it: its country may be missing.
pub(crate) type LiveAddress = crate::catalog::PostalAddress<Option<String>>;

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
    pub metadata: super::Metadata,
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

super::object::live_kind!(LiveTaxRate, TaxRate, tax_rates {
    fn title(&self) -> String {
        let percentage = crate::catalog::parse_decimal(&self.percentage)
            .map_or_else(|_| self.percentage.clone(), |d| d.normalize().to_string());
        let kind = if self.inclusive { "inclusive" } else { "exclusive" };
        format!("tax rate {:?} ({percentage}%, {kind})", self.display_name)
    }
    fn active(&self) -> bool {
        self.active
    }
});

/// The account's Stripe Tax settings.
pub(crate) async fn tax_settings(client: &StripeHttp) -> Result<LiveTaxSettings, StripeError> {
    Ok(RetrieveForMyAccountTaxSettings::new()
        .send(client)
        .await?
        .into())
}

/// Stripe Tax's status (`active` or `pending`) and, while pending, the fields Stripe still
/// needs (`billing doctor`; plans do not depend on it).
pub(crate) async fn tax_status(client: &StripeHttp) -> Result<(String, Vec<String>), StripeError> {
    let settings = RetrieveForMyAccountTaxSettings::new().send(client).await?;
    let missing = settings
        .status_details
        .pending
        .and_then(|p| p.missing_fields)
        .unwrap_or_default();
    Ok((settings.status.as_str().to_owned(), missing))
}

/// Every tax registration (whatever its status), read as plain JSON: the typed object has one
/// field per country for `country_options`.
pub(crate) async fn tax_registrations(
    client: &StripeHttp,
) -> Result<Vec<LiveRegistration>, StripeError> {
    let mut out = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let mut query = format!("limit={PAGE}&status=all");
        if let Some(a) = &after {
            query.push_str(&format!("&starting_after={a}"));
        }
        let mut request = RequestBuilder::new(StripeMethod::Get, "/tax/registrations");
        request.query = Some(query);
        let page: miniserde::json::Value = request
            .customize::<miniserde::json::Value>()
            .send(client)
            .await?;
        let page: serde_json::Value = serde_json::from_str(&miniserde::json::to_string(&page))
            .map_err(|e| StripeError::Decode(e.to_string()))?;
        let data = page["data"].as_array().cloned().unwrap_or_default();
        for r in &data {
            let country = r["country"].as_str().unwrap_or_default().to_owned();
            let options = &r["country_options"][country.to_ascii_lowercase()];
            let kind = options["type"].as_str().unwrap_or_default().to_owned();
            let state = options["state"]
                .as_str()
                .or_else(|| options["province_standard"]["province"].as_str())
                .map(str::to_owned);
            out.push(LiveRegistration {
                id: r["id"].as_str().unwrap_or_default().to_owned(),
                country,
                kind,
                state,
                active_from: r["active_from"].as_i64().unwrap_or_default(),
                expires_at: r["expires_at"].as_i64(),
                status: r["status"].as_str().unwrap_or_default().to_owned(),
            });
        }
        after = data
            .last()
            .and_then(|r| r["id"].as_str())
            .map(str::to_owned);
        if !page["has_more"].as_bool().unwrap_or(false) || after.is_none() {
            return Ok(out);
        }
    }
}

/// Every tax rate, active and archived.
pub(crate) async fn tax_rates(
    client: &StripeHttp,
    origin: i64,
) -> Result<(Vec<LiveTaxRate>, ListStats), StripeError> {
    super::read::list_all!(client, origin, ListTaxRate::new().limit(PAGE))
}
