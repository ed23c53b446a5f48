//! Live Stripe objects in billing's own terms, converted from async-stripe's types.
//!
//! Only what the catalog can declare (plus identity and ownership) is kept, so the diff
//! compares like with like.

use std::collections::BTreeMap;

use serde::Serialize;
use smol_str::SmolStr;
use stripe_product::coupon::ListCoupon;
use stripe_product::price::ListPrice;
use stripe_product::product::ListProduct;
use stripe_product::promotion_code::ListPromotionCode;
use stripe_shared::{Price, PriceTier, Product};

use super::partition::ListStats;
use super::read::PAGE;
use super::read::account_and_origin;
use super::words::{Word, word};
use crate::catalog::Catalog;
use crate::catalog::Pricing;
use crate::catalog::{Currency, MinorAmount};
use crate::resource::Address;
use crate::stripe::StripeError;
use crate::stripe::StripeHttp;
use std::collections::BTreeSet;

/// A product as Stripe holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LiveProduct {
    pub id: String,
    pub created: i64,
    pub active: bool,
    pub name: String,
    pub description: Option<String>,
    pub tax_code: Option<String>,
    pub unit_label: Option<String>,
    pub statement_descriptor: Option<String>,
    pub url: Option<String>,
    pub images: Vec<String>,
    pub features: Vec<String>,
    pub metadata: super::Metadata,
    /// The default price's id.
    pub default_price: Option<String>,
}

/// A price as Stripe holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LivePrice {
    /// As async-stripe read it: plans refer to it without copying it.
    pub id: SmolStr,
    pub created: i64,
    pub active: bool,
    /// The product's id (held inline: a product id is shorter than 24 bytes).
    pub product: SmolStr,
    /// Lowercase currency code.
    pub currency: Word,
    /// `per_unit` or `tiered`.
    pub billing_scheme: Word,
    /// Per-unit amount in minor units (`unit_amount_decimal` when fractional).
    pub unit_amount: Option<MinorAmount>,
    /// Pay-what-you-want prices cannot be declared in billing.toml.
    pub custom_unit_amount: bool,
    pub tiers_mode: Option<Word>,
    pub tiers: Vec<LiveTier>,
    pub recurring: Option<LiveRecurring>,
    pub transform_quantity: Option<(u64, Word)>,
    /// Held inline when shorter than 24 bytes, as billing's own lookup keys mostly are.
    pub lookup_key: Option<SmolStr>,
    pub nickname: Option<String>,
    /// `inclusive`, `exclusive` or `unspecified`.
    pub tax_behavior: Option<Word>,
    pub metadata: super::Metadata,
    /// Other currencies (the price's own currency, which Stripe repeats here, is left out).
    pub currency_options: BTreeMap<String, LiveCurrencyOption>,
}

/// A price tier, in the same terms as billing.toml's.
pub type LiveTier = crate::catalog::Tier;

/// A recurring price's period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LiveRecurring {
    pub interval: Word,
    pub interval_count: u64,
    pub usage_type: Word,
    pub meter: Option<String>,
}

/// A price's amount in another currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LiveCurrencyOption {
    pub unit_amount: Option<MinorAmount>,
    pub tiers: Vec<LiveTier>,
    pub tax_behavior: Option<String>,
    pub custom_unit_amount: bool,
}

/// The exact minor amount from Stripe's integer and decimal-string forms.
fn amount(integer: Option<i64>, decimal: Option<&str>) -> Option<MinorAmount> {
    decimal
        .and_then(|d| MinorAmount::from_minor_decimal(d).ok())
        .or_else(|| integer.and_then(|i| MinorAmount::from_minor(i).ok()))
}

fn tiers(tiers: Option<&Vec<PriceTier>>) -> Vec<LiveTier> {
    tiers
        .map(|tiers| {
            tiers
                .iter()
                .map(|t| LiveTier {
                    up_to: t.up_to.and_then(|u| u64::try_from(u).ok()),
                    unit_amount: amount(t.unit_amount, t.unit_amount_decimal.as_deref()),
                    flat_amount: amount(t.flat_amount, t.flat_amount_decimal.as_deref()),
                })
                .collect()
        })
        .unwrap_or_default()
}

fn sorted(map: std::collections::HashMap<String, String>) -> super::Metadata {
    map.into()
}

impl From<Product> for LiveProduct {
    fn from(p: Product) -> Self {
        Self {
            id: p.id.to_string(),
            created: p.created,
            active: p.active,
            name: p.name,
            description: p.description,
            tax_code: p.tax_code.map(|t| t.id().to_string()),
            unit_label: p.unit_label,
            statement_descriptor: p.statement_descriptor,
            url: p.url,
            images: p.images,
            features: p
                .marketing_features
                .into_iter()
                .filter_map(|f| f.name)
                .collect(),
            metadata: sorted(p.metadata),
            default_price: p.default_price.map(|d| d.id().to_string()),
        }
    }
}

impl From<Price> for LivePrice {
    fn from(p: Price) -> Self {
        let currency = p.currency.to_string();
        let currency_options = p
            .currency_options
            .unwrap_or_default()
            .into_iter()
            .map(|(c, o)| (c.to_string(), o))
            .filter(|(c, _)| *c != currency)
            .map(|(c, o)| {
                (
                    c,
                    LiveCurrencyOption {
                        unit_amount: amount(o.unit_amount, o.unit_amount_decimal.as_deref()),
                        tiers: tiers(o.tiers.as_ref()),
                        tax_behavior: o.tax_behavior.map(|t| t.as_str().to_owned()),
                        custom_unit_amount: o.custom_unit_amount.is_some(),
                    },
                )
            })
            .collect();
        Self {
            id: p.id.into_inner(),
            created: p.created,
            active: p.active,
            product: SmolStr::new(p.product.id()),
            currency: word(&currency),
            billing_scheme: word(p.billing_scheme.as_str()),
            unit_amount: amount(p.unit_amount, p.unit_amount_decimal.as_deref()),
            custom_unit_amount: p.custom_unit_amount.is_some(),
            tiers_mode: p.tiers_mode.map(|m| word(m.as_str())),
            tiers: tiers(p.tiers.as_ref()),
            recurring: p.recurring.map(|r| LiveRecurring {
                interval: word(r.interval.as_str()),
                interval_count: r.interval_count,
                usage_type: word(r.usage_type.as_str()),
                meter: r.meter,
            }),
            transform_quantity: p.transform_quantity.map(|t| {
                (
                    u64::try_from(t.divide_by).unwrap_or(0),
                    word(t.round.as_str()),
                )
            }),
            lookup_key: p.lookup_key.map(SmolStr::from),
            nickname: p.nickname,
            tax_behavior: p.tax_behavior.map(|t| word(t.as_str())),
            metadata: sorted(p.metadata),
            currency_options,
        }
    }
}

/// A coupon as Stripe holds it (deleted coupons are gone from the list).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LiveCoupon {
    pub id: String,
    pub created: i64,
    pub name: Option<String>,
    /// Exact decimal text of the percentage (`"25.5"`).
    pub percent_off: Option<String>,
    pub amount_off: Option<i64>,
    pub currency: Option<String>,
    /// Other currencies' `amount_off`.
    pub currency_options: BTreeMap<String, i64>,
    /// `once`, `repeating`, `forever`.
    pub duration: String,
    pub duration_in_months: Option<i64>,
    pub max_redemptions: Option<i64>,
    pub redeem_by: Option<i64>,
    /// Product ids, when the coupon is restricted: a set, sorted (Stripe's list may name a
    /// product twice; billing.toml lists each product once).
    pub applies_to: Vec<String>,
    pub metadata: super::Metadata,
    /// Still redeemable.
    pub valid: bool,
    pub times_redeemed: i64,
}

/// A promotion code as Stripe holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LivePromotionCode {
    pub id: String,
    pub created: i64,
    pub code: String,
    pub active: bool,
    /// The coupon's id.
    pub coupon: String,
    pub customer: Option<String>,
    pub expires_at: Option<i64>,
    pub max_redemptions: Option<i64>,
    pub times_redeemed: i64,
    pub first_time_transaction: bool,
    pub minimum_amount: Option<i64>,
    pub minimum_amount_currency: Option<String>,
    /// Minimum amounts in other currencies.
    pub currency_options: BTreeMap<String, i64>,
    pub metadata: super::Metadata,
}

impl From<stripe_shared::Coupon> for LiveCoupon {
    fn from(c: stripe_shared::Coupon) -> Self {
        Self {
            id: c.id.to_string(),
            created: c.created,
            name: c.name,
            percent_off: c.percent_off.and_then(crate::catalog::float_text),
            amount_off: c.amount_off,
            currency: c.currency.as_ref().map(ToString::to_string),
            // Stripe repeats the coupon's own currency among its options: left out, as for prices.
            currency_options: {
                let own = c.currency.as_ref().map(ToString::to_string);
                c.currency_options
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(k, v)| (k.to_string(), v.amount_off))
                    .filter(|(k, _)| Some(k) != own.as_ref())
                    .collect()
            },
            duration: c.duration.as_str().to_owned(),
            duration_in_months: c.duration_in_months,
            max_redemptions: c.max_redemptions,
            redeem_by: c.redeem_by,
            applies_to: c
                .applies_to
                .map(|a| {
                    let mut products = a.products;
                    products.sort();
                    products.dedup();
                    products
                })
                .unwrap_or_default(),
            metadata: sorted(c.metadata.unwrap_or_default()),
            valid: c.valid,
            times_redeemed: c.times_redeemed,
        }
    }
}

impl From<stripe_shared::PromotionCode> for LivePromotionCode {
    fn from(p: stripe_shared::PromotionCode) -> Self {
        let r = p.restrictions;
        Self {
            id: p.id.to_string(),
            created: p.created,
            code: p.code,
            active: p.active,
            coupon: p
                .promotion
                .coupon
                .map(|c| c.id().to_string())
                .unwrap_or_default(),
            customer: p.customer.map(|c| c.id().to_string()),
            expires_at: p.expires_at,
            max_redemptions: p.max_redemptions,
            times_redeemed: p.times_redeemed,
            first_time_transaction: r.first_time_transaction,
            minimum_amount: r.minimum_amount,
            minimum_amount_currency: r.minimum_amount_currency.as_ref().map(ToString::to_string),
            // The minimum amount's own currency is repeated among the options: left out.
            currency_options: {
                let own = r.minimum_amount_currency.as_ref().map(ToString::to_string);
                r.currency_options
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(k, v)| (k.to_string(), v.minimum_amount))
                    .filter(|(k, _)| Some(k) != own.as_ref())
                    .collect()
            },
            metadata: sorted(p.metadata.unwrap_or_default()),
        }
    }
}

super::object::live_kind!(LiveProduct, Product, products {
    fn title(&self) -> String {
        format!("product {:?}", self.name)
    }
    fn active(&self) -> bool {
        self.active
    }
});

super::object::live_kind!(LivePrice, Price, prices {
    fn title(&self) -> String {
        format!("price {}", self.summary())
    }
    fn active(&self) -> bool {
        self.active
    }
    fn parent_id(&self) -> Option<&str> {
        Some(&self.product)
    }
});

super::object::live_kind!(LiveCoupon, Coupon, coupons {
    fn title(&self) -> String {
        let name = self.name.as_deref().unwrap_or(&self.id);
        format!("coupon {name:?} ({})", self.discount())
    }
    fn active(&self) -> bool {
        true
    }
    fn counters(&self) -> &'static [&'static str] {
        &["times_redeemed"]
    }
});

super::object::live_kind!(LivePromotionCode, PromotionCode, promotion_codes {
    fn title(&self) -> String {
        format!("promotion code {}", self.code)
    }
    fn active(&self) -> bool {
        self.active
    }
    fn counters(&self) -> &'static [&'static str] {
        &["times_redeemed"]
    }
    fn parent_id(&self) -> Option<&str> {
        Some(&self.coupon)
    }
});

/// An amount in a currency as a reviewer reads it (`$79.00`), or in minor units when the
/// currency is one billing does not know.
pub(crate) fn money(amount: MinorAmount, currency: &str) -> String {
    match Currency::parse(currency) {
        Some(c) => amount.format(c),
        None => format!("{amount} {} minor units", currency.to_uppercase()),
    }
}

impl LivePrice {
    /// How often it bills: `month`, `3 months`, `month (metered)`, `one-time`.
    pub fn interval_word(&self) -> String {
        match &self.recurring {
            None => "one-time".to_owned(),
            Some(r) if r.usage_type != "licensed" => format!("{} ({})", r.interval, r.usage_type),
            Some(r) if r.interval_count == 1 => r.interval.to_string(),
            Some(r) => format!("{} {}s", r.interval_count, r.interval),
        }
    }

    /// `$79.00 / month`, `tiered in USD / month`, `$5.00 one-time`.
    pub fn summary(&self) -> String {
        let amount = match (self.billing_scheme.as_str(), self.unit_amount) {
            ("per_unit", Some(a)) => money(a, &self.currency),
            _ => format!("tiered in {}", self.currency.to_uppercase()),
        };
        match self.interval_word().as_str() {
            "one-time" => format!("{amount} one-time"),
            w => format!("{amount} / {w}"),
        }
    }
}

impl LiveCoupon {
    /// `20% off`, `$5.00 off`.
    pub fn discount(&self) -> String {
        match (&self.percent_off, self.amount_off, &self.currency) {
            (Some(p), _, _) => format!("{p}% off"),
            (None, Some(a), Some(cur)) => {
                match (Currency::parse(cur), MinorAmount::from_minor(a)) {
                    (Some(cur), Ok(a)) => format!("{} off", a.format(cur)),
                    _ => format!("{a} {cur} minor units off"),
                }
            }
            _ => "no discount".to_owned(),
        }
    }
}

/// Every product, active and archived.
pub(crate) async fn products(
    client: &StripeHttp,
    origin: i64,
) -> Result<(Vec<LiveProduct>, ListStats), StripeError> {
    let (mut products, stats): (Vec<LiveProduct>, ListStats) =
        super::read::list_all!(client, origin, ListProduct::new().limit(PAGE))?;
    // The apply lease (`billing_lease_<namespace>`) is billing's own bookkeeping, not catalog.
    products.retain(|p| !p.metadata.contains_key(LEASE_MARKER));
    Ok((products, stats))
}

/// The metadata key of the apply lease's product, which live reads leave out.
pub(crate) const LEASE_MARKER: &str = "billing_lease";

/// What to read beyond what every plan reads, and what to expand.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReadScope {
    /// Read Stripe Tax settings and registrations (only when the catalog declares `[tax]`:
    /// billing never removes them, so there is nothing to do without it).
    pub tax: bool,
    /// Read billing meters (only when the catalog declares `[meters]`: billing cannot tell
    /// its meters from others without a declared event name).
    pub meters: bool,
    /// Currencies whose tiers inside `currency_options` are read (Stripe includes a currency
    /// option's tiers only when `currency_options.<currency>.tiers` is expanded).
    pub option_tier_currencies: BTreeSet<String>,
    /// The customers promotion codes are restricted to: each is looked up, since a code for a
    /// customer the account does not have cannot be created.
    pub customers: BTreeSet<String>,
    /// Products whose attached entitlement features are read besides those that carry
    /// billing's features marker: the ones whose entry declares `entitlements`, by address
    /// (`products.pro`) and, when pinned, by `id`.
    pub entitled_products: BTreeSet<String>,
    /// Read the attached features of every product (import).
    pub all_product_features: bool,
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
        let customers = catalog
            .promotion_codes
            .values()
            .filter_map(|c| c.customer.clone())
            .collect();
        let entitled_products = catalog
            .products
            .iter()
            .filter(|(_, p)| !p.entitlements.is_empty())
            .flat_map(|(key, p)| [Some(Address::product(key).to_string()), p.id.clone()])
            .flatten()
            .collect();
        Self {
            tax: catalog.tax.is_some(),
            meters: !catalog.meters.is_empty(),
            option_tier_currencies,
            customers,
            entitled_products,
            all_product_features: false,
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
pub(crate) async fn prices_with(
    client: &StripeHttp,
    origin: i64,
    active: bool,
    scope: &ReadScope,
) -> Result<(Vec<LivePrice>, ListStats), StripeError> {
    let expand = scope.price_expansions();
    super::read::list_all!(
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
pub(crate) async fn prices(
    client: &StripeHttp,
    scope: &ReadScope,
) -> Result<Vec<LivePrice>, StripeError> {
    let (_, origin) = account_and_origin(client).await?;
    let ((active, _), (archived, _)) = tokio::try_join!(
        prices_with(client, origin, true, scope),
        prices_with(client, origin, false, scope),
    )?;
    let mut prices = active;
    let mut seen: std::collections::HashSet<SmolStr> =
        prices.iter().map(|p| p.id.clone()).collect();
    prices.extend(archived.into_iter().filter(|p| seen.insert(p.id.clone())));
    Ok(prices)
}

/// Every coupon, with its products and currency options.
pub(crate) async fn coupons(
    client: &StripeHttp,
    origin: i64,
) -> Result<(Vec<LiveCoupon>, ListStats), StripeError> {
    super::read::list_all!(
        client,
        origin,
        ListCoupon::new().limit(PAGE).expand(vec![
            "data.applies_to".to_owned(),
            "data.currency_options".to_owned(),
        ])
    )
}

/// Every promotion code, active and inactive, with its minimum amounts per currency.
pub(crate) async fn promotion_codes(
    client: &StripeHttp,
    origin: i64,
) -> Result<(Vec<LivePromotionCode>, ListStats), StripeError> {
    super::read::list_all!(
        client,
        origin,
        ListPromotionCode::new()
            .limit(PAGE)
            .expand(vec!["data.restrictions.currency_options".to_owned()])
    )
}
