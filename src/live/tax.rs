//! Live Stripe Tax state in billing's own terms: the settings, registrations and manual tax
//! rates.

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
