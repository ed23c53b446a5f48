//! billing keeps a Stripe catalog in code.
//!
//! The crate is a pipeline of stages, each with its own type:
//! `billing.toml` → `catalog::RawCatalog` (values with their source spans) →
//! `catalog::Catalog` (validated, normalised, no network) → live Stripe state → plan → apply.
//! The tool's tests and its default environment run against the `stripe-sandbox` crate, a
//! local, stateful, Stripe-compatible HTTP server (`environment` embeds it, `billing sandbox`
//! serves it). The `billing` binary is a thin layer over [`run`].

mod apply;
mod catalog;
mod cli;
mod digest;
mod doctor;
mod document;
mod environment;
mod files;
pub mod fuzzing;
mod import;
mod live;
mod memory;
mod output;
mod plan;
mod render;
mod resource;
mod stripe;
mod timestamp;
mod visible;

pub use cli::run;

// Below the CLI, the benchmarks and the integration tests drive these directly: reading an
// account (and the listing model the scale benchmark simulates), the import, and the
// limits and formats the tests check against.
pub use catalog::{MAX_CATALOG_BYTES, MinorAmount};
pub use import::{
    Import, Options as ImportOptions, Origin as ImportOrigin, import, verify as verify_import,
};
pub use live::{
    Account, BASE_SPLITS, LiveAttachment, LiveCoupon, LiveCurrencyOption, LiveFeature, LiveMeter,
    LivePortal, LivePrice, LiveProduct, LivePromotionCode, LiveRecurring, LiveRegistration,
    LiveState, LiveTaxRate, LiveTaxSettings, LiveTier, LiveWebhook, Metadata, ReadScope, ReadStats,
    Word, read_counted, simulate_listing,
};
pub use resource::ResourceKind;
pub use stripe::{ClientSettings, SecretKey, StripeHttp, api_version};
pub use timestamp::format_timestamp;

/// The rate-limit bucket Stripe counts a request against (`GET /v1/prices` and
/// `GET /v1/prices/{id}` share one), as the scale benchmark paces its simulated requests.
pub fn rate_limit_bucket(method: &str, path: &str) -> String {
    stripe::pace::endpoint(method, path)
}
