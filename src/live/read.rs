//! Reading live state: list endpoints only, 100 per page, every page, kinds concurrently.
//!
//! No Search API (it lags writes) and no per-object GET.

use std::collections::BTreeSet;

use futures_util::TryStreamExt;
use stripe_billing::billing_portal_configuration::ListBillingPortalConfiguration;
use stripe_client_core::{RequestBuilder, StripeMethod};
use stripe_misc::tax_settings::RetrieveForMyAccountTaxSettings;
use stripe_product::coupon::ListCoupon;
use stripe_product::price::ListPrice;
use stripe_product::product::ListProduct;
use stripe_product::promotion_code::ListPromotionCode;
use stripe_product::tax_rate::ListTaxRate;

use super::LiveState;
use super::model::{Account, LiveCoupon, LivePrice, LiveProduct, LivePromotionCode};
use super::tax::{LivePortal, LiveRegistration, LiveTaxRate, LiveTaxSettings};
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
    "tax_rate.created",
    "tax_rate.updated",
    "tax.settings.updated",
    "billing_portal.configuration.created",
    "billing_portal.configuration.updated",
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

/// What to read beyond what every plan reads, and what to expand.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReadScope {
    /// Read Stripe Tax settings and registrations (only when the catalog declares `[tax]`:
    /// billing never removes them, so there is nothing to do without it).
    pub tax: bool,
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
            tax: catalog.tax.is_some(),
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

/// The account's Stripe Tax settings.
pub async fn tax_settings(client: &StripeHttp) -> Result<LiveTaxSettings, StripeError> {
    Ok(RetrieveForMyAccountTaxSettings::new()
        .send(client)
        .await?
        .into())
}

/// Every tax registration (whatever its status), read as plain JSON: the typed object has one
/// field per country for `country_options`.
pub async fn tax_registrations(client: &StripeHttp) -> Result<Vec<LiveRegistration>, StripeError> {
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
pub async fn tax_rates(client: &StripeHttp) -> Result<Vec<LiveTaxRate>, StripeError> {
    ListTaxRate::new()
        .limit(PAGE)
        .paginate()
        .stream(client)
        .map_ok(LiveTaxRate::from)
        .try_collect()
        .await
}

/// Every portal configuration, with the products customers may switch between.
pub async fn portals(client: &StripeHttp) -> Result<Vec<LivePortal>, StripeError> {
    ListBillingPortalConfiguration::new()
        .limit(PAGE)
        .expand(vec![
            "data.features.subscription_update.products".to_owned(),
        ])
        .paginate()
        .stream(client)
        .map_ok(LivePortal::from)
        .try_collect()
        .await
}

/// Reads everything the plan needs, kinds concurrently.
pub async fn read(client: &StripeHttp, scope: &ReadScope) -> Result<LiveState, StripeError> {
    // The generation is read first: a write landing while the objects are listed then moves it
    // past what this read saw, never the other way round.
    let generation = generation(client).await?;
    let tax = async {
        if scope.tax {
            let (settings, registrations) =
                tokio::try_join!(tax_settings(client), tax_registrations(client))?;
            Ok::<_, StripeError>((Some(settings), registrations))
        } else {
            Ok((None, Vec::new()))
        }
    };
    let (
        account,
        products,
        active,
        archived,
        coupons,
        promotion_codes,
        tax_rates,
        portals,
        (tax_settings, tax_registrations),
    ) = tokio::try_join!(
        account(client),
        products(client),
        prices_with(client, true, scope),
        prices_with(client, false, scope),
        coupons(client),
        promotion_codes(client),
        tax_rates(client),
        portals(client),
        tax,
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
        tax_settings,
        tax_registrations,
        tax_rates,
        portals,
    })
}
