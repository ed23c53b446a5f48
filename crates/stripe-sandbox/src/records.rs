//! The stored records: what the state (`state.rs`) keeps of each kind of object, as plain data
//! serialized into the state file. What the records mean, how they are built from requests and
//! how they show in the API is the business of each kind's module (`resources/products.rs`, …),
//! which adds its behaviour to them; this module knows nothing of the state or of requests.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::ids;

// ---------------------------------------------------------------------------------------------
// The account (`account`)

/// The persisted part of the account: its id and creation time.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct AccountRecord {
    pub id: String,
    pub created: i64,
}

impl AccountRecord {
    pub(crate) fn generate() -> AccountRecord {
        AccountRecord {
            id: ids::account(),
            created: ids::now(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Products (`products`)

/// A stored product.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Product {
    pub id: String,
    pub seq: u64,
    pub active: bool,
    pub created: i64,
    pub default_price: Option<String>,
    pub description: Option<String>,
    pub images: Vec<String>,
    pub marketing_features: Vec<String>,
    pub metadata: BTreeMap<String, String>,
    pub name: String,
    pub package_dimensions: Option<PackageDimensions>,
    pub shippable: Option<bool>,
    pub statement_descriptor: Option<String>,
    pub tax_code: Option<String>,
    #[serde(rename = "type")]
    pub kind: String,
    pub unit_label: Option<String>,
    pub updated: i64,
    pub url: Option<String>,
}

/// Package dimensions as sent (decimal strings, at most 2 decimal places).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct PackageDimensions {
    pub height: String,
    pub length: String,
    pub weight: String,
    pub width: String,
}

// ---------------------------------------------------------------------------------------------
// Prices (`prices`)

/// A stored price.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Price {
    pub id: String,
    pub seq: u64,
    pub active: bool,
    pub billing_scheme: String,
    pub created: i64,
    pub currency: String,
    #[serde(default)]
    pub currency_options: BTreeMap<String, CurrencyOption>,
    pub custom_unit_amount: Option<CustomUnitAmount>,
    pub lookup_key: Option<String>,
    pub metadata: BTreeMap<String, String>,
    pub nickname: Option<String>,
    pub product: String,
    pub recurring: Option<Recurring>,
    pub tax_behavior: String,
    #[serde(default)]
    pub tiers: Vec<Tier>,
    pub tiers_mode: Option<String>,
    pub transform_quantity: Option<TransformQuantity>,
    pub unit_amount: Option<i64>,
    pub unit_amount_decimal: Option<String>,
}

/// The price in one more currency.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct CurrencyOption {
    pub custom_unit_amount: Option<CustomUnitAmount>,
    pub tax_behavior: String,
    #[serde(default)]
    pub tiers: Vec<Tier>,
    pub unit_amount: Option<i64>,
    pub unit_amount_decimal: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct CustomUnitAmount {
    pub maximum: Option<i64>,
    pub minimum: Option<i64>,
    pub preset: Option<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Recurring {
    pub interval: String,
    pub interval_count: i64,
    pub meter: Option<String>,
    pub trial_period_days: Option<i64>,
    pub usage_type: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Tier {
    pub flat_amount: Option<i64>,
    pub flat_amount_decimal: Option<String>,
    pub unit_amount: Option<i64>,
    pub unit_amount_decimal: Option<String>,
    /// `None` is `inf`.
    pub up_to: Option<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct TransformQuantity {
    pub divide_by: i64,
    pub round: String,
}

// ---------------------------------------------------------------------------------------------
// Coupons (`coupons`)

/// A stored coupon.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Coupon {
    pub id: String,
    pub seq: u64,
    pub amount_off: Option<i64>,
    /// `applies_to[products]`; `None`: the coupon applies to every product.
    pub applies_to: Option<Vec<String>>,
    pub created: i64,
    pub currency: Option<String>,
    /// `amount_off` in currencies other than `currency`.
    #[serde(default)]
    pub currency_options: BTreeMap<String, i64>,
    pub duration: String,
    pub duration_in_months: Option<i64>,
    pub max_redemptions: Option<i64>,
    pub metadata: BTreeMap<String, String>,
    pub name: Option<String>,
    pub percent_off: Option<f64>,
    pub redeem_by: Option<i64>,
    pub times_redeemed: i64,
}

// ---------------------------------------------------------------------------------------------
// Promotion codes (`promotion_codes`)

/// A stored promotion code.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct PromotionCode {
    pub id: String,
    pub seq: u64,
    /// The `active` flag as last set by create or update; the code reads as active only when
    /// it is also redeemable (see [`is_active`]).
    pub active: bool,
    pub code: String,
    /// The coupon id (`promotion.coupon`).
    pub coupon: String,
    pub created: i64,
    pub customer: Option<String>,
    pub expires_at: Option<i64>,
    pub max_redemptions: Option<i64>,
    pub metadata: BTreeMap<String, String>,
    pub restrictions: Restrictions,
    pub times_redeemed: i64,
}

/// `restrictions`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Restrictions {
    /// `minimum_amount` in currencies other than `minimum_amount_currency`.
    #[serde(default)]
    pub currency_options: BTreeMap<String, i64>,
    pub first_time_transaction: bool,
    pub minimum_amount: Option<i64>,
    pub minimum_amount_currency: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// Customers (`customers`)

/// A stored customer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Customer {
    pub id: String,
    pub seq: u64,
    pub created: i64,
    pub description: Option<String>,
    pub email: Option<String>,
    pub invoice_prefix: String,
    pub metadata: BTreeMap<String, String>,
    pub name: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// Tax settings (`tax_settings`)

/// The stored settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct TaxSettings {
    /// `defaults.tax_behavior`: `inclusive`, `exclusive` or `inferred_by_currency`.
    pub tax_behavior: Option<String>,
    /// `defaults.tax_code`.
    pub tax_code: Option<String>,
    /// `head_office.address`.
    pub head_office: Option<Address>,
}

/// A postal address; only `country` is required.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Address {
    pub city: Option<String>,
    pub country: String,
    pub line1: Option<String>,
    pub line2: Option<String>,
    pub postal_code: Option<String>,
    pub state: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// Tax rates (`tax_rates`)

/// A stored tax rate.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct TaxRate {
    pub id: String,
    pub seq: u64,
    pub active: bool,
    pub country: Option<String>,
    pub created: i64,
    pub description: Option<String>,
    pub display_name: String,
    pub inclusive: bool,
    pub jurisdiction: Option<String>,
    pub metadata: BTreeMap<String, String>,
    /// At most four decimal places, so an `f64` holds it exactly enough to print it back as
    /// sent (`8.875`).
    pub percentage: f64,
    pub state: Option<String>,
    pub tax_type: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// Tax registrations (`tax_registrations`)

/// A stored registration.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct TaxRegistration {
    pub id: String,
    pub seq: u64,
    pub active_from: i64,
    /// Uppercase ISO code (`DE`).
    pub country: String,
    /// The options of `country` as shown in `country_options.<cc>` (`{"type": "standard", …}`).
    pub options: Map<String, Value>,
    pub created: i64,
    pub expires_at: Option<i64>,
}

// ---------------------------------------------------------------------------------------------
// Billing portal configurations (`portal`)

/// A stored configuration.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct PortalConfiguration {
    pub id: String,
    pub seq: u64,
    pub active: bool,
    pub business_profile: BusinessProfile,
    pub created: i64,
    pub default_return_url: Option<String>,
    pub features: Features,
    pub is_default: bool,
    pub login_page: LoginPage,
    /// `None` (shown as `null`) until set: the default configuration has no metadata yet.
    pub metadata: Option<BTreeMap<String, String>>,
    pub name: Option<String>,
    pub updated: i64,
}

/// The stored parts below are serialized with Stripe's field names: the object shows them as
/// they are (less the includable `products`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct BusinessProfile {
    pub headline: Option<String>,
    pub privacy_policy_url: Option<String>,
    pub terms_of_service_url: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct LoginPage {
    pub enabled: bool,
    pub url: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct Features {
    pub customer_update: CustomerUpdate,
    pub invoice_history: Toggle,
    pub payment_method_update: PaymentMethodUpdate,
    pub subscription_cancel: SubscriptionCancel,
    pub subscription_update: SubscriptionUpdate,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct CustomerUpdate {
    pub allowed_updates: Vec<String>,
    pub enabled: bool,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct Toggle {
    pub enabled: bool,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct PaymentMethodUpdate {
    pub enabled: bool,
    pub payment_method_configuration: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct SubscriptionCancel {
    pub cancellation_reason: CancellationReason,
    pub enabled: bool,
    pub mode: String,
    pub proration_behavior: String,
}

impl Default for SubscriptionCancel {
    fn default() -> Self {
        SubscriptionCancel {
            cancellation_reason: CancellationReason::default(),
            enabled: false,
            mode: "at_period_end".into(),
            proration_behavior: "none".into(),
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct CancellationReason {
    pub enabled: bool,
    pub options: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct SubscriptionUpdate {
    /// `null` until set (Stripe's default behaviour is `unchanged`).
    pub billing_cycle_anchor: Option<String>,
    pub default_allowed_updates: Vec<String>,
    pub enabled: bool,
    pub products: Vec<PortalProduct>,
    pub proration_behavior: String,
    pub schedule_at_period_end: Schedule,
    pub trial_update_behavior: String,
}

impl Default for SubscriptionUpdate {
    fn default() -> Self {
        SubscriptionUpdate {
            billing_cycle_anchor: None,
            default_allowed_updates: Vec::new(),
            enabled: false,
            products: Vec::new(),
            proration_behavior: "none".into(),
            schedule_at_period_end: Schedule::default(),
            trial_update_behavior: "end_trial".into(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct PortalProduct {
    pub adjustable_quantity: AdjustableQuantity,
    pub prices: Vec<String>,
    pub product: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct AdjustableQuantity {
    pub enabled: bool,
    pub maximum: Option<i64>,
    pub minimum: i64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct Schedule {
    pub conditions: Vec<Condition>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Condition {
    #[serde(rename = "type")]
    pub kind: String,
}

// ---------------------------------------------------------------------------------------------
// The default configuration

/// The account's default configuration, created with the account. Its id is derived from the
/// account id, so every process that opens a state file without one (an older file) derives
/// the same configuration.
pub(crate) fn default_configuration(account: &AccountRecord) -> PortalConfiguration {
    const ALPHANUMERIC: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let digest = Sha256::digest(format!("billing-portal-default:{}", account.id).as_bytes());
    let suffix: String = digest
        .iter()
        .take(23)
        .map(|b| char::from(ALPHANUMERIC[usize::from(*b) % ALPHANUMERIC.len()]))
        .collect();
    PortalConfiguration {
        id: format!("bpc_1{suffix}"),
        seq: 0,
        active: true,
        business_profile: BusinessProfile::default(),
        created: account.created,
        default_return_url: None,
        features: Features::default(),
        is_default: true,
        login_page: LoginPage::default(),
        metadata: None,
        name: None,
        updated: account.created,
    }
}

// ---------------------------------------------------------------------------------------------
// Events (`events`)

/// How many events the sandbox keeps.
pub(crate) const MAX_EVENTS: usize = 1_000;

/// A stored event.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Event {
    pub id: String,
    pub seq: u64,
    pub created: i64,
    #[serde(rename = "type")]
    pub kind: String,
    pub api_version: String,
    /// The object after the write.
    pub object: Value,
    pub request_id: String,
    pub idempotency_key: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// Idempotency keys (`idempotency`)

/// The stored outcome of the first request that used a key.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct IdempotencyRecord {
    pub method: String,
    pub path: String,
    /// Canonical JSON of the request's parameters.
    pub params: String,
    pub status: u16,
    pub body: String,
    pub request_id: String,
    pub created: i64,
}
