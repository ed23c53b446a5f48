//! Validated tax declarations: Stripe Tax settings, registrations, and manual tax rates.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::Serialize;

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

/// A postal address.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PostalAddress {
    pub line1: Option<String>,
    pub line2: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub postal_code: Option<String>,
    /// ISO 3166-1 alpha-2.
    pub country: String,
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

fn decimal_text<S: serde::Serializer>(d: &Decimal, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&d.normalize().to_string())
}

/// Stripe's `defaults[tax_behavior]` values.
pub const DEFAULT_TAX_BEHAVIORS: &[&str] = &["inclusive", "exclusive", "inferred_by_currency"];

/// Stripe's manual tax-rate types (API version 2026-09-30.endive, `stripe_shared::TaxRateTaxType`).
pub const TAX_TYPES: &[&str] = &[
    "amusement_tax",
    "communications_tax",
    "digital_excise_tax",
    "gst",
    "hst",
    "igst",
    "jct",
    "lease_tax",
    "mass_transit_parking_tax",
    "parking_tax",
    "pst",
    "qst",
    "retail_delivery_fee",
    "rst",
    "sales_tax",
    "service_tax",
    "utility_users_tax",
    "vat",
];

/// The registration types Stripe takes in the United States (each with a `state`).
pub const US_REGISTRATION_TYPES: &[&str] = &[
    "admissions_tax",
    "attendance_tax",
    "entertainment_tax",
    "gross_receipts_tax",
    "hospitality_tax",
    "local_amusement_tax",
    "local_lease_tax",
    "luxury_tax",
    "mass_transit_parking_tax",
    "parking_tax",
    "resort_tax",
    "state_communications_tax",
    "state_retail_delivery_fee",
    "state_sales_tax",
    "tourism_tax",
];

/// ISO 3166-1 alpha-2 country codes.
pub const COUNTRIES: &[&str] = &[
    "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW", "AX", "AZ",
    "BA", "BB", "BD", "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ", "BR", "BS",
    "BT", "BV", "BW", "BY", "BZ", "CA", "CC", "CD", "CF", "CG", "CH", "CI", "CK", "CL", "CM", "CN",
    "CO", "CR", "CU", "CV", "CW", "CX", "CY", "CZ", "DE", "DJ", "DK", "DM", "DO", "DZ", "EC", "EE",
    "EG", "EH", "ER", "ES", "ET", "FI", "FJ", "FK", "FM", "FO", "FR", "GA", "GB", "GD", "GE", "GF",
    "GG", "GH", "GI", "GL", "GM", "GN", "GP", "GQ", "GR", "GS", "GT", "GU", "GW", "GY", "HK", "HM",
    "HN", "HR", "HT", "HU", "ID", "IE", "IL", "IM", "IN", "IO", "IQ", "IR", "IS", "IT", "JE", "JM",
    "JO", "JP", "KE", "KG", "KH", "KI", "KM", "KN", "KP", "KR", "KW", "KY", "KZ", "LA", "LB", "LC",
    "LI", "LK", "LR", "LS", "LT", "LU", "LV", "LY", "MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK",
    "ML", "MM", "MN", "MO", "MP", "MQ", "MR", "MS", "MT", "MU", "MV", "MW", "MX", "MY", "MZ", "NA",
    "NC", "NE", "NF", "NG", "NI", "NL", "NO", "NP", "NR", "NU", "NZ", "OM", "PA", "PE", "PF", "PG",
    "PH", "PK", "PL", "PM", "PN", "PR", "PS", "PT", "PW", "PY", "QA", "RE", "RO", "RS", "RU", "RW",
    "SA", "SB", "SC", "SD", "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM", "SN", "SO", "SR", "SS",
    "ST", "SV", "SX", "SY", "SZ", "TC", "TD", "TF", "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO",
    "TR", "TT", "TV", "TW", "TZ", "UA", "UG", "UM", "US", "UY", "UZ", "VA", "VC", "VE", "VG", "VI",
    "VN", "VU", "WF", "WS", "YE", "YT", "ZA", "ZM", "ZW",
];

/// The United States' 50 states and the District of Columbia (ISO 3166-2 codes without the
/// `US-` prefix), sorted.
pub const US_STATES: &[&str] = &[
    "AK", "AL", "AR", "AZ", "CA", "CO", "CT", "DC", "DE", "FL", "GA", "HI", "IA", "ID", "IL", "IN",
    "KS", "KY", "LA", "MA", "MD", "ME", "MI", "MN", "MO", "MS", "MT", "NC", "ND", "NE", "NH", "NJ",
    "NM", "NV", "NY", "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT", "VA", "VT", "WA",
    "WI", "WV", "WY",
];

/// The US registration types without a local jurisdiction: the ones billing.toml declares.
pub const US_STATE_LEVEL_TYPES: &[&str] = &[
    "state_communications_tax",
    "state_retail_delivery_fee",
    "state_sales_tax",
];

/// States that levy a retail delivery fee (Colorado and Minnesota).
pub const RETAIL_DELIVERY_FEE_STATES: &[&str] = &["CO", "MN"];

/// Canadian provinces with a provincial sales tax registration (`province_standard`).
pub const CA_PROVINCES: &[&str] = &["BC", "MB", "QC", "SK"];

/// Countries whose only registration is `standard` (API version 2026-09-30.endive).
const STANDARD_ONLY: &[&str] = &[
    "AE", "AL", "AO", "AU", "AW", "BA", "BB", "BD", "BF", "BH", "BS", "CD", "CH", "ET", "GB", "GN",
    "IS", "JP", "ME", "MK", "MR", "NO", "NZ", "OM", "RS", "SG", "SR", "UY", "ZA", "ZW",
];

/// Countries whose only registration is `simplified`.
const SIMPLIFIED_ONLY: &[&str] = &[
    "AM", "AZ", "BJ", "BY", "CL", "CM", "CO", "CR", "CV", "EC", "EG", "GE", "ID", "IN", "KE", "KG",
    "KH", "KR", "KZ", "LA", "LK", "MA", "MD", "MX", "MY", "NG", "NP", "PE", "PH", "RU", "SA", "SN",
    "TH", "TJ", "TR", "TW", "TZ", "UA", "UG", "UZ", "VN", "ZM",
];

/// EU member states, whose registrations take the EU types.
pub const EU: &[&str] = &[
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IT",
    "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
];

/// What a registration type calls its state option (`state`, `province`), if it takes one.
pub type StateOption = fn(&str) -> Option<&'static str>;

/// The registration types Stripe takes for a country, and whether the type needs a state
/// (`Some("state")` for the US, `Some("province")` for Canada's province_standard).
pub fn registration_types(country: &str) -> (&'static [&'static str], StateOption) {
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
