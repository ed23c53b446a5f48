//! Live state: what the Stripe account holds, read with list endpoints only.

mod entitlement;
#[cfg(test)]
pub(crate) mod fixtures;
mod index;
mod managed;
mod metadata;
mod meter;
mod model;
mod object;
mod partition;
mod portal;
mod read;
mod tax;
mod webhook;
mod words;

pub use entitlement::{LiveAttachment, LiveFeature};
pub(crate) use index::Index;
pub(crate) use managed::Managed;
pub use metadata::Metadata;
pub use meter::LiveMeter;
pub(crate) use model::LEASE_MARKER;
pub use model::ReadScope;
pub(crate) use model::money;
pub(crate) use model::prices;
pub use model::{
    LiveCoupon, LiveCurrencyOption, LivePrice, LiveProduct, LivePromotionCode, LiveRecurring,
    LiveTier,
};
pub(crate) use object::{LiveKind, LiveObject, Objects};
pub(crate) use partition::ListStats;
pub use partition::{BASE_SPLITS, simulate_listing};
pub use portal::LivePortal;
pub use read::Account;
pub(crate) use read::account;
pub(crate) use tax::LiveAddress;
pub use tax::{LiveRegistration, LiveTaxRate, LiveTaxSettings};
pub(crate) use tax::{tax_registrations, tax_settings, tax_status};
pub(crate) use webhook::CONNECT_KEY;
pub use webhook::LiveWebhook;
pub use words::Word;

use serde::Serialize;

use crate::resource::ResourceKind;
use crate::stripe::StripeError;
use crate::stripe::StripeHttp;
use std::collections::BTreeMap;

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
    /// The customers the catalog's promotion codes are restricted to that the account does
    /// not have (or deleted): those codes cannot be created.
    pub missing_customers: std::collections::BTreeSet<String>,
    /// Every webhook endpoint.
    pub webhooks: Vec<LiveWebhook>,
    /// Every entitlement feature, active and archived.
    pub entitlements: Vec<LiveFeature>,
    /// The features attached to the products whose attachments were read, by product id (a
    /// product that was not read is absent; see `entitlement.rs`).
    pub product_features: BTreeMap<String, Vec<LiveAttachment>>,
    /// Every billing meter, active and inactive, when read (the catalog declares meters).
    pub meters: Vec<LiveMeter>,
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
            ResourceKind::WebhookEndpoint => &self.webhooks,
            ResourceKind::EntitlementFeature => &self.entitlements,
            ResourceKind::TaxSettings | ResourceKind::TaxRegistration | ResourceKind::Meter => {
                const NONE: &Vec<LiveTaxRate> = &Vec::new();
                NONE
            }
        }
    }
}

/// How each partitioned list was read by [`read_counted`], by kind (prices are listed active
/// and archived apart).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReadStats {
    lists: BTreeMap<(ResourceKind, bool), ListStats>,
}

impl ReadStats {
    /// How the kind's list was read (for prices, the active ones).
    pub fn of(&self, kind: ResourceKind) -> ListStats {
        self.lists.get(&(kind, false)).copied().unwrap_or_default()
    }

    /// How the kind's archived objects were read, when they are listed apart (prices).
    pub fn archived(&self, kind: ResourceKind) -> ListStats {
        self.lists.get(&(kind, true)).copied().unwrap_or_default()
    }

    /// All lists together.
    pub fn total(&self) -> ListStats {
        let mut total = ListStats::default();
        for s in self.lists.values() {
            total += *s;
        }
        total
    }
}

/// Reads everything the plan needs, kinds concurrently.
pub(crate) async fn read(client: &StripeHttp, scope: &ReadScope) -> Result<LiveState, StripeError> {
    Ok(read_counted(client, scope).await?.0)
}

/// [`read`], and how the partitioned lists were read.
pub async fn read_counted(
    client: &StripeHttp,
    scope: &ReadScope,
) -> Result<(LiveState, ReadStats), StripeError> {
    // The generation is read first: a write landing while the objects are listed then moves it
    // past what this read saw, never the other way round. The account comes with it: its
    // creation time sizes the splits of big lists.
    let (generation, (account, origin)) =
        tokio::try_join!(read::generation(client), read::account_and_origin(client))?;
    let tax = async {
        if scope.tax {
            let (settings, registrations) =
                tokio::try_join!(tax::tax_settings(client), tax::tax_registrations(client))?;
            Ok::<_, StripeError>((Some(settings), registrations))
        } else {
            Ok((None, Vec::new()))
        }
    };
    let meters = async {
        if scope.meters {
            meter::meters(client).await
        } else {
            Ok(Vec::new())
        }
    };
    let (
        (products, products_stats),
        (active, active_stats),
        (archived, archived_stats),
        (coupons, coupons_stats),
        (promotion_codes, codes_stats),
        (tax_rates, tax_rates_stats),
        portals,
        webhooks,
        entitlements,
        (tax_settings, tax_registrations),
        meters,
    ) = tokio::try_join!(
        model::products(client, origin),
        model::prices_with(client, origin, true, scope),
        model::prices_with(client, origin, false, scope),
        model::coupons(client, origin),
        model::promotion_codes(client, origin),
        tax::tax_rates(client, origin),
        portal::portals(client),
        webhook::webhooks(client),
        entitlement::features(client),
        tax,
        meters,
    )?;
    // Decoding the pages touched memory the objects do not keep (at 100,000 prices, 20 MB in
    // pages now free): give it back before planning allocates its own.
    crate::memory::release_free();
    let product_features =
        entitlement::attachments(client, scope, &entitlements, &products).await?;
    let missing_customers = read::missing_customers(client, &scope.customers).await?;
    // A price archived or unarchived between the two lists appears in both (or neither: the
    // next plan sees it). Keep the first sighting.
    // (Each list holds an object once: `list_all` sees to it.)
    let archived: Vec<LivePrice> = {
        let seen: std::collections::HashSet<&str> = active.iter().map(|p| p.id.as_str()).collect();
        archived
            .into_iter()
            .filter(|p| !seen.contains(p.id.as_str()))
            .collect()
    };
    let mut prices = active;
    prices.extend(archived);
    let now = client.server_time().unwrap_or_else(crate::timestamp::now);
    let state = LiveState {
        account,
        generation,
        now,
        products,
        prices,
        coupons,
        promotion_codes,
        tax_settings,
        tax_registrations,
        tax_rates,
        portals,
        missing_customers,
        webhooks,
        entitlements,
        product_features,
        meters,
    };
    let stats = ReadStats {
        lists: BTreeMap::from([
            ((ResourceKind::Product, false), products_stats),
            ((ResourceKind::Price, false), active_stats),
            ((ResourceKind::Price, true), archived_stats),
            ((ResourceKind::Coupon, false), coupons_stats),
            ((ResourceKind::PromotionCode, false), codes_stats),
            ((ResourceKind::TaxRate, false), tax_rates_stats),
        ]),
    };
    Ok((state, stats))
}
