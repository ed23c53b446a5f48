//! Live state: what the Stripe account holds, read with list endpoints only.

#[cfg(test)]
pub(crate) mod fixtures;
mod managed;
mod model;
mod object;
mod partition;
mod portal;
mod read;
mod tax;

pub use managed::Managed;
pub use model::{
    Account, LiveCoupon, LiveCurrencyOption, LivePrice, LiveProduct, LivePromotionCode,
    LiveRecurring, LiveTier, money,
};
pub use object::{LiveKind, LiveObject, Objects};
pub use partition::{BASE_SPLITS, ListStats, MAX_CHAINS, MIN_CHAIN_PAGES, simulate_listing};
pub use portal::{LivePortal, PortalProducts};
pub use read::{
    ReadScope, ReadStats, account, catalog_event_types, generation, prices, read, read_counted,
    tax_registrations, tax_settings,
};
pub use tax::{LiveAddress, LiveRegistration, LiveTaxRate, LiveTaxSettings};

use serde::Serialize;

use crate::resource::ResourceKind;

/// Everything read from one account.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LiveState {
    /// The account the key belongs to.
    pub account: Account,
    /// The newest catalog event when the state was read (see [`generation`]).
    pub generation: Option<String>,
    /// Stripe's clock when the state was read, in Unix seconds (see
    /// [`crate::stripe::StripeHttp::server_time`]).
    pub now: i64,
    /// Every product, active and archived.
    pub products: Vec<LiveProduct>,
    /// Every price, active and archived.
    pub prices: Vec<LivePrice>,
    /// Every coupon.
    pub coupons: Vec<LiveCoupon>,
    /// Every promotion code, active and inactive.
    pub promotion_codes: Vec<LivePromotionCode>,
    /// Stripe Tax settings, when read (the catalog declares `[tax]`).
    pub tax_settings: Option<LiveTaxSettings>,
    /// Tax registrations, when read.
    pub tax_registrations: Vec<LiveRegistration>,
    /// Every manual tax rate.
    pub tax_rates: Vec<LiveTaxRate>,
    /// Every customer-portal configuration.
    pub portals: Vec<LivePortal>,
}

impl LiveState {
    /// Every object of `kind` that was read (none for the kinds without a marker, which are
    /// read as they are: tax settings and registrations).
    pub fn objects(&self, kind: ResourceKind) -> &dyn Objects {
        match kind {
            ResourceKind::Product => &self.products,
            ResourceKind::Price => &self.prices,
            ResourceKind::Coupon => &self.coupons,
            ResourceKind::PromotionCode => &self.promotion_codes,
            ResourceKind::TaxRate => &self.tax_rates,
            ResourceKind::Portal => &self.portals,
            ResourceKind::TaxSettings | ResourceKind::TaxRegistration => {
                const NONE: &Vec<LiveTaxRate> = &Vec::new();
                NONE
            }
        }
    }
}
