//! Reading live state: list endpoints only, 100 per page, every page, kinds concurrently.
//!
//! No Search API (it lags writes) and no per-object GET.

use std::collections::BTreeSet;

use futures_util::TryStreamExt;
use stripe_client_core::{RequestBuilder, StripeMethod};
use stripe_product::coupon::ListCoupon;
use stripe_product::price::ListPrice;
use stripe_product::product::ListProduct;
use stripe_product::promotion_code::ListPromotionCode;

use super::LiveState;
use super::model::{Account, LiveCoupon, LivePrice, LiveProduct, LivePromotionCode};
use crate::catalog::{Catalog, Pricing};
use crate::stripe::{StripeError, StripeHttp};

/// Stripe's largest page.
const PAGE: i64 = 100;

#[derive(miniserde::Deserialize)]
struct AccountWire {
    id: String,
    settings: Option<SettingsWire>,
}

#[derive(miniserde::Deserialize)]
struct SettingsWire {
    dashboard: Option<DashboardWire>,
}

#[derive(miniserde::Deserialize)]
struct DashboardWire {
    display_name: Option<String>,
}

/// Event types that record a change to an object a catalog manages.
pub const CATALOG_EVENT_TYPES: &[&str] = &[
    "product.created",
    "product.updated",
    "product.deleted",
    "price.created",
    "price.updated",
    "price.deleted",
    "coupon.created",
    "coupon.updated",
    "coupon.deleted",
    "promotion_code.created",
    "promotion_code.updated",
];

#[derive(miniserde::Deserialize)]
struct EventPage {
    data: Vec<EventId>,
}

#[derive(miniserde::Deserialize)]
struct EventId {
    id: String,
}

/// The id of the newest catalog event (`None` in an account without any): it changes with
/// every write to a product or price, so idempotency keys derived from it never repeat across
/// writes, even when the objects themselves return to an earlier state.
pub async fn generation(client: &StripeHttp) -> Result<Option<String>, StripeError> {
    let mut query = form_urlencoded::Serializer::new(String::new());
    query.append_pair("limit", "1");
    for (i, kind) in CATALOG_EVENT_TYPES.iter().enumerate() {
        query.append_pair(&format!("types[{i}]"), kind);
    }
    let mut request = RequestBuilder::new(StripeMethod::Get, "/events");
    request.query = Some(query.finish());
    let page: EventPage = request.customize::<EventPage>().send(client).await?;
    Ok(page.data.into_iter().next().map(|e| e.id))
}

/// GET /v1/account: which account the key belongs to.
pub async fn account(client: &StripeHttp) -> Result<Account, StripeError> {
    let wire: AccountWire = RequestBuilder::new(StripeMethod::Get, "/account")
        .customize::<AccountWire>()
        .send(client)
        .await?;
    Ok(Account {
        id: wire.id,
        name: wire
            .settings
            .and_then(|s| s.dashboard)
            .and_then(|d| d.display_name),
    })
}

/// Every product, active and archived.
pub async fn products(client: &StripeHttp) -> Result<Vec<LiveProduct>, StripeError> {
    ListProduct::new()
        .limit(PAGE)
        .paginate()
        .stream(client)
        .map_ok(LiveProduct::from)
        .try_collect()
        .await
}

/// What to expand beyond the defaults when reading prices.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReadScope {
    /// Currencies whose tiers inside `currency_options` are read (Stripe includes a currency
    /// option's tiers only when `currency_options.<currency>.tiers` is expanded).
    pub option_tier_currencies: BTreeSet<String>,
}

impl ReadScope {
    /// What a catalog needs: the option currencies of its tiered prices.
    pub fn for_catalog(catalog: &Catalog) -> Self {
        let option_tier_currencies = catalog
            .products
            .values()
            .flat_map(|p| p.prices.values())
            .filter(|p| matches!(p.pricing, Pricing::Tiered { .. }))
            .flat_map(|p| p.currency_options.keys().map(|c| c.code().to_owned()))
            .collect();
        Self {
            option_tier_currencies,
        }
    }

    fn price_expansions(&self) -> Vec<String> {
        let mut expand = vec!["data.tiers".to_owned(), "data.currency_options".to_owned()];
        expand.extend(
            self.option_tier_currencies
                .iter()
                .map(|c| format!("data.currency_options.{c}.tiers")),
        );
        expand
    }
}

/// Every price with `active` as given, tiers and currency options expanded.
async fn prices_with(
    client: &StripeHttp,
    active: bool,
    scope: &ReadScope,
) -> Result<Vec<LivePrice>, StripeError> {
    let list = ListPrice::new()
        .limit(PAGE)
        .active(active)
        .expand(scope.price_expansions());
    list.paginate()
        .stream(client)
        .map_ok(LivePrice::from)
        .try_collect()
        .await
}

/// Every coupon, with its products and currency options.
pub async fn coupons(client: &StripeHttp) -> Result<Vec<LiveCoupon>, StripeError> {
    ListCoupon::new()
        .limit(PAGE)
        .expand(vec![
            "data.applies_to".to_owned(),
            "data.currency_options".to_owned(),
        ])
        .paginate()
        .stream(client)
        .map_ok(LiveCoupon::from)
        .try_collect()
        .await
}

/// Every promotion code, active and inactive, with its minimum amounts per currency.
pub async fn promotion_codes(client: &StripeHttp) -> Result<Vec<LivePromotionCode>, StripeError> {
    ListPromotionCode::new()
        .limit(PAGE)
        .expand(vec!["data.restrictions.currency_options".to_owned()])
        .paginate()
        .stream(client)
        .map_ok(LivePromotionCode::from)
        .try_collect()
        .await
}

/// Reads everything the plan needs, kinds concurrently.
pub async fn read(client: &StripeHttp, scope: &ReadScope) -> Result<LiveState, StripeError> {
    // The generation is read first: a write landing while the objects are listed then moves it
    // past what this read saw, never the other way round.
    let generation = generation(client).await?;
    let (account, products, active, archived, coupons, promotion_codes) = tokio::try_join!(
        account(client),
        products(client),
        prices_with(client, true, scope),
        prices_with(client, false, scope),
        coupons(client),
        promotion_codes(client),
    )?;
    // A price archived or unarchived between the two lists appears in both (or neither: the
    // next plan sees it). Keep the first sighting.
    let mut prices = active;
    let mut seen: std::collections::HashSet<String> = prices.iter().map(|p| p.id.clone()).collect();
    prices.extend(archived.into_iter().filter(|p| seen.insert(p.id.clone())));
    let now = client.server_time().unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
    });
    Ok(LiveState {
        account,
        generation,
        now,
        products,
        prices,
        coupons,
        promotion_codes,
    })
}
