//! Validated tax declarations: Stripe Tax settings, registrations, and manual tax rates.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::Serialize;
pub(crate) use stripe_facts::{
    CA_PROVINCES, COUNTRIES, EU_COUNTRIES as EU, RETAIL_DELIVERY_FEE_STATES, TAX_TYPES,
    US_REGISTRATION_TYPES, US_STATES,
};
use stripe_facts::{
    SIMPLIFIED_ONLY_COUNTRIES as SIMPLIFIED_ONLY, STANDARD_ONLY_COUNTRIES as STANDARD_ONLY,
};

/// `[tax]`: the account's Stripe Tax settings and registrations.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TaxSettings {
    /// `inclusive`, `exclusive` or `inferred_by_currency`; `None`: not managed.
    pub default_tax_behavior: Option<String>,
    /// A `txcd_` code; `None`: not managed.
    pub default_tax_code: Option<String>,
    pub head_office: Option<PostalAddress>,
    pub registrations: Vec<Registration>,
}

/// A postal address. billing.toml requires its country; Stripe may hold one without
/// (`PostalAddress<Option<String>>`, the live head office).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PostalAddress<Country = String> {
    pub line1: Option<String>,
    pub line2: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub postal_code: Option<String>,
    /// ISO 3166-1 alpha-2.
    pub country: Country,
}

/// A tax registration, identified by country, type and state (registrations carry no metadata).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Registration {
    pub country: String,
    /// Stripe's `country_options[<cc>][type]`.
    pub kind: String,
    /// A US state or Canadian province, where the type needs one.
    pub state: Option<String>,
    /// `None` is `now`.
    pub active_from: Option<i64>,
    /// Ends it at that moment (`Some(None)`: now); `None`: never ended by billing.
    pub ends_at: Option<Option<i64>>,
}

impl Registration {
    /// `tax.registrations.US.state_sales_tax.CA`.
    pub fn address(&self) -> crate::resource::Address {
        crate::resource::Address::registration(&self.country, &self.kind, self.state.as_deref())
    }

    /// `DE standard`, `US state_sales_tax CA`.
    pub fn label(&self) -> String {
        match &self.state {
            Some(state) => format!("{} {} {state}", self.country, self.kind),
            None => format!("{} {}", self.country, self.kind),
        }
    }

    /// `DE standard, active from now`, `…, active from 2027-01-01T00:00:00Z until now`.
    pub(crate) fn summary(&self) -> String {
        let from = self
            .active_from
            .map_or_else(|| "now".to_owned(), crate::timestamp::format_timestamp);
        let until = match self.ends_at {
            None => String::new(),
            Some(None) => " until now".to_owned(),
            Some(Some(at)) => format!(" until {}", crate::timestamp::format_timestamp(at)),
        };
        format!("{}, active from {from}{until}", self.label())
    }
}

/// `[tax_rates.<key>]`: a manual tax rate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TaxRate {
    pub key: String,
    /// An existing Stripe tax rate to adopt (`id = "txr_…"`) when billing manages none here.
    pub id: Option<String>,
    /// The key this tax rate had before a rename (`moved_from`).
    pub moved_from: Option<String>,
    /// What happens in Stripe when the tax rate leaves the catalog: archived, or forgotten.
    pub on_remove: super::model::OnRemove,
    pub display_name: String,
    /// Percent out of 100, exact.
    #[serde(serialize_with = "decimal_text")]
    pub percentage: Decimal,
    pub inclusive: bool,
    pub active: bool,
    pub country: Option<String>,
    pub state: Option<String>,
    pub jurisdiction: Option<String>,
    pub tax_type: Option<String>,
    pub description: Option<String>,
    pub metadata: BTreeMap<String, String>,
}

impl TaxRate {
    /// `"VAT" 19% exclusive`.
    pub(crate) fn summary(&self) -> String {
        let inclusive = if self.inclusive {
            "inclusive"
        } else {
            "exclusive"
        };
        format!(
            "{:?} {}% {inclusive}",
            self.display_name,
            self.percentage.normalize()
        )
    }
}

fn decimal_text<S: serde::Serializer>(d: &Decimal, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&d.normalize().to_string())
}

/// Stripe's `defaults[tax_behavior]` values.
pub(super) const DEFAULT_TAX_BEHAVIORS: &[&str] =
    &["inclusive", "exclusive", "inferred_by_currency"];

/// The US registration types without a local jurisdiction: the ones billing.toml declares.
pub(crate) use stripe_facts::US_STATE_LEVEL_TYPES;

/// What a registration type calls its state option (`state`, `province`), if it takes one.
pub(super) type StateOption = fn(&str) -> Option<&'static str>;

/// The registration types Stripe takes for a country, and whether the type needs a state
/// (`Some("state")` for the US, `Some("province")` for Canada's province_standard).
pub(super) fn registration_types(country: &str) -> (&'static [&'static str], StateOption) {
    fn none(_: &str) -> Option<&'static str> {
        None
    }
    fn us(_: &str) -> Option<&'static str> {
        Some("state")
    }
    fn ca(kind: &str) -> Option<&'static str> {
        (kind == "province_standard").then_some("province")
    }
    match country {
        c if EU.contains(&c) => (&["ioss", "oss_non_union", "oss_union", "standard"], none),
        "US" => (US_REGISTRATION_TYPES, us),
        "CA" => (&["province_standard", "simplified", "standard"], ca),
        c if STANDARD_ONLY.contains(&c) => (&["standard"], none),
        c if SIMPLIFIED_ONLY.contains(&c) => (&["simplified"], none),
        // Stripe Tax takes no registration anywhere else.
        _ => (&[], none),
    }
}
