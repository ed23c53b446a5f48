//! Reading live state: list endpoints only, 100 per page, every page, kinds concurrently, big
//! lists split by `created` into concurrent chains (see [`super::partition`]).
//!
//! No Search API (it lags writes) and no per-object GET.

use std::collections::{BTreeMap, BTreeSet};

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
use super::partition::{self, ListStats, Page, Window};
use super::portal::LivePortal;
use super::tax::{LiveRegistration, LiveTaxRate, LiveTaxSettings};
use crate::catalog::{Catalog, Pricing};
use crate::resource::ResourceKind;
use crate::stripe::{StripeError, StripeHttp};

/// Stripe's largest page.
const PAGE: i64 = 100;

/// The oldest `created` assumed when the account does not say when it was created: Stripe's
/// public launch (2011-01-01). It only sizes the splits of big lists (see
/// [`partition::list_all`]); no object is missed if it is wrong.
const STRIPE_EPOCH: i64 = 1_293_840_000;

#[derive(miniserde::Deserialize)]
struct AccountWire {
    id: String,
    created: Option<i64>,
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

/// Event types that record a change to an object a catalog manages:
/// `product.created`, `tax.settings.updated`, …
pub fn catalog_event_types() -> impl Iterator<Item = String> {
    ResourceKind::ALL.into_iter().flat_map(|kind| {
        kind.events()
            .iter()
            .map(move |event| format!("{}.{event}", kind.stripe_object()))
    })
}

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
    for (i, kind) in catalog_event_types().enumerate() {
        query.append_pair(&format!("types[{i}]"), &kind);
    }
    let mut request = RequestBuilder::new(StripeMethod::Get, "/events");
    request.query = Some(query.finish());
    let page: EventPage = request.customize::<EventPage>().send(client).await?;
    Ok(page.data.into_iter().next().map(|e| e.id))
}

/// GET /v1/account: which account the key belongs to.
pub async fn account(client: &StripeHttp) -> Result<Account, StripeError> {
    Ok(account_and_origin(client).await?.0)
}

/// The account, and when it was created (the oldest `created` its objects can have).
async fn account_and_origin(client: &StripeHttp) -> Result<(Account, i64), StripeError> {
    let wire: AccountWire = RequestBuilder::new(StripeMethod::Get, "/account")
        .customize::<AccountWire>()
        .send(client)
        .await?;
    let account = Account {
        id: wire.id,
        name: wire
            .settings
            .and_then(|s| s.dashboard)
            .and_then(|d| d.display_name),
    };
    Ok((account, wire.created.unwrap_or(STRIPE_EPOCH)))
}

/// One page of a list request type, converted.
async fn page<T, O>(
    list: impl std::future::Future<Output = Result<stripe_types::List<O>, StripeError>>,
) -> Result<Page<T>, StripeError>
where
    T: From<O>,
{
    let list = list.await?;
    Ok(Page {
        data: list.data.into_iter().map(T::from).collect(),
        has_more: list.has_more,
    })
}

/// Reads a whole list with [`partition::list_all`], one async-stripe list request per page:
/// the request types all spell the `created` range and the cursor the same way.
macro_rules! list_all {
    ($client:expr, $origin:expr, $request:expr) => {
        partition::list_all($origin, |window: Window| {
            let mut request = $request;
            if let Some(created) = window.created() {
                request = request.created(created);
            }
            if let Some(after) = window.starting_after {
                request = request.starting_after(after);
            }
            async move { page(request.send($client)).await }
        })
        .await
    };
}

/// Every product, active and archived.
async fn products(
    client: &StripeHttp,
    origin: i64,
) -> Result<(Vec<LiveProduct>, ListStats), StripeError> {
    list_all!(client, origin, ListProduct::new().limit(PAGE))
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
    origin: i64,
    active: bool,
    scope: &ReadScope,
) -> Result<(Vec<LivePrice>, ListStats), StripeError> {
    let expand = scope.price_expansions();
    list_all!(
        client,
        origin,
        ListPrice::new()
            .limit(PAGE)
            .active(active)
            .expand(expand.clone())
    )
}

/// Every price, active and archived, as [`read_counted`] reads them, with the expansions of
/// `scope`: a second pass once it is known which currency options hold tiers (`billing
/// import`, which has no catalog to say so beforehand).
pub async fn prices(client: &StripeHttp, scope: &ReadScope) -> Result<Vec<LivePrice>, StripeError> {
    let (_, origin) = account_and_origin(client).await?;
    let ((active, _), (archived, _)) = tokio::try_join!(
        prices_with(client, origin, true, scope),
        prices_with(client, origin, false, scope),
    )?;
    let mut prices = active;
    let mut seen: std::collections::HashSet<String> = prices.iter().map(|p| p.id.clone()).collect();
    prices.extend(archived.into_iter().filter(|p| seen.insert(p.id.clone())));
    Ok(prices)
}

/// Every coupon, with its products and currency options.
async fn coupons(
    client: &StripeHttp,
    origin: i64,
) -> Result<(Vec<LiveCoupon>, ListStats), StripeError> {
    list_all!(
        client,
        origin,
        ListCoupon::new().limit(PAGE).expand(vec![
            "data.applies_to".to_owned(),
            "data.currency_options".to_owned(),
        ])
    )
}

/// Every promotion code, active and inactive, with its minimum amounts per currency.
async fn promotion_codes(
    client: &StripeHttp,
    origin: i64,
) -> Result<(Vec<LivePromotionCode>, ListStats), StripeError> {
    list_all!(
        client,
        origin,
        ListPromotionCode::new()
            .limit(PAGE)
            .expand(vec!["data.restrictions.currency_options".to_owned()])
    )
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
async fn tax_rates(
    client: &StripeHttp,
    origin: i64,
) -> Result<(Vec<LiveTaxRate>, ListStats), StripeError> {
    list_all!(client, origin, ListTaxRate::new().limit(PAGE))
}

/// Every portal configuration, with the products customers may switch between. One cursor
/// chain: the endpoint has no `created` filter, and accounts hold a handful.
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
pub async fn read(client: &StripeHttp, scope: &ReadScope) -> Result<LiveState, StripeError> {
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
        tokio::try_join!(generation(client), account_and_origin(client))?;
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
        (products, products_stats),
        (active, active_stats),
        (archived, archived_stats),
        (coupons, coupons_stats),
        (promotion_codes, codes_stats),
        (tax_rates, tax_rates_stats),
        portals,
        (tax_settings, tax_registrations),
    ) = tokio::try_join!(
        products(client, origin),
        prices_with(client, origin, true, scope),
        prices_with(client, origin, false, scope),
        coupons(client, origin),
        promotion_codes(client, origin),
        tax_rates(client, origin),
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
