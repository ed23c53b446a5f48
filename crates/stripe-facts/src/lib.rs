//! Stripe's fixed tables, read both by billing's catalog validator and by the sandbox, so that
//! the two never disagree on them: the currencies Stripe accepts and the minor unit of each,
//! ISO country and subdivision codes, the tax types and tax registration types, and the fixed
//! values of customer portal configurations, of the API version billing speaks
//! (2026-09-30.endive), and the webhook event types, API versions and event presets.
//!
//! Every table is sorted, so it can be searched with `binary_search` (the tests check it).

mod currency;
mod portal;
mod tax;
mod webhooks;

pub use currency::{
    CURRENCIES, THREE_DECIMAL_CURRENCIES, ZERO_DECIMAL_CURRENCIES, is_currency, minor_unit_exponent,
};
pub use portal::{
    PORTAL_CANCEL_MODES, PORTAL_CANCEL_REASONS, PORTAL_CUSTOMER_UPDATES, PORTAL_MAX_PRODUCTS,
    PORTAL_SUBSCRIPTION_UPDATES,
};
pub use tax::{
    CA_PROVINCES, COUNTRIES, EU_COUNTRIES, RETAIL_DELIVERY_FEE_STATES, SIMPLIFIED_ONLY_COUNTRIES,
    STANDARD_ONLY_COUNTRIES, TAX_TYPES, US_REGISTRATION_TYPES, US_STATE_LEVEL_TYPES, US_STATES,
};
pub use webhooks::{
    ALL_EVENTS, API_VERSIONS, EVENT_PRESETS, EVENT_TYPES, EventPreset, LATEST_API_VERSION,
    event_preset, expand_pattern, is_api_version, is_event_type, is_local_host,
};
