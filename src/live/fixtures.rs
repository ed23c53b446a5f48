//! Hand-built live objects for unit tests: a managed product `products.pro` (`prod_1`) whose
//! default price is the managed monthly price `prices.pro.monthly` (`price_m`, $79.00 / month),
//! and [`CATALOG`], the catalog they match; a managed coupon and promotion code; objects as the
//! Dashboard makes them, without billing's marker; and [`LiveState::matching`], the account
//! that exactly matches a catalog, of every kind.

use std::collections::BTreeMap;

use super::{
    Account, LiveAddress, LiveCoupon, LiveCurrencyOption, LivePortal, LivePrice, LiveProduct,
    LivePromotionCode, LiveRecurring, LiveRegistration, LiveState, LiveTaxRate, LiveTaxSettings,
    LiveTier, LiveWebhook,
};
use super::{LiveAttachment, LiveFeature};
use crate::catalog::{
    Catalog, Coupon, CouponDuration, CurrencyOption, CurrencyOptionPricing, Discount, Entitlement,
    MinorAmount, Portal, PostalAddress, Price, Pricing, Product, PromotionCode, Recurring,
    Registration, SubscriptionUpdate, TaxBehavior, TaxRate, TaxSettings, Tier, TransformQuantity,
    Webhook,
};
use crate::resource::{
    Address, FEATURES_KEY, FEATURES_VALUE, MARKER_KEY, MARKER_NAMESPACE, ResourceKind,
    owned_metadata, with_marker,
};

pub(crate) fn marker(address: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        (MARKER_KEY.to_owned(), address.to_owned()),
        (MARKER_NAMESPACE.to_owned(), "default".to_owned()),
    ])
}

/// The catalog [`product`] and [`price`] match: planned against them, it plans nothing.
pub(crate) const CATALOG: &str = r#"
[products.pro]
name = "Pro"
description = "For teams"
default_price = "monthly"
[products.pro.prices.monthly]
amount = "79.00"
currency = "usd"
interval = "month"
tax_behavior = "exclusive"
"#;

/// `text`, a catalog a test wrote, validated.
pub(crate) fn catalog(text: &str) -> Catalog {
    crate::catalog::parse(&crate::catalog::SourceFile::new("billing.toml", text))
        .unwrap_or_else(|d| panic!("invalid test catalog: {d:?}"))
}

/// A product as the Dashboard makes it: active, named, nothing else, without billing's marker.
pub(crate) fn unmarked_product(id: &str, name: &str, created: i64) -> LiveProduct {
    LiveProduct {
        id: id.into(),
        created,
        active: true,
        name: name.into(),
        description: None,
        tax_code: None,
        unit_label: None,
        statement_descriptor: None,
        url: None,
        images: vec![],
        features: vec![],
        metadata: BTreeMap::new().into(),
        default_price: None,
    }
}

/// A one-time price of `minor` units of `currency` per unit, as the Dashboard makes it: no
/// lookup key, an unspecified tax behavior, without billing's marker.
pub(crate) fn unmarked_price(
    id: &str,
    product: &str,
    created: i64,
    currency: &str,
    minor: i64,
) -> LivePrice {
    LivePrice {
        id: id.into(),
        created,
        active: true,
        product: product.into(),
        currency: super::words::word(currency),
        billing_scheme: super::words::word("per_unit"),
        unit_amount: Some(MinorAmount::from_minor(minor).unwrap()),
        custom_unit_amount: false,
        tiers_mode: None,
        tiers: vec![],
        recurring: None,
        transform_quantity: None,
        lookup_key: None,
        nickname: None,
        tax_behavior: Some(super::words::word("unspecified")),
        metadata: BTreeMap::new().into(),
        currency_options: BTreeMap::new(),
    }
}

/// `p`, billed every month.
pub(crate) fn monthly(mut p: LivePrice) -> LivePrice {
    p.recurring = Some(LiveRecurring {
        interval: super::words::word("month"),
        interval_count: 1,
        usage_type: super::words::word("licensed"),
        meter: None,
    });
    p
}

/// A price's option in another currency: `minor` units of it per unit.
pub(crate) fn unit_option(minor: i64, tax_behavior: Option<&str>) -> LiveCurrencyOption {
    LiveCurrencyOption {
        unit_amount: Some(MinorAmount::from_minor(minor).unwrap()),
        tiers: vec![],
        tax_behavior: tax_behavior.map(str::to_owned),
        custom_unit_amount: false,
    }
}

/// A coupon of 20% off, once, as the Dashboard makes it: never redeemed, without billing's
/// marker.
pub(crate) fn unmarked_coupon(id: &str, name: &str, created: i64) -> LiveCoupon {
    LiveCoupon {
        id: id.into(),
        created,
        name: Some(name.into()),
        percent_off: Some("20".into()),
        amount_off: None,
        currency: None,
        currency_options: BTreeMap::new(),
        duration: "once".into(),
        duration_in_months: None,
        max_redemptions: None,
        redeem_by: None,
        applies_to: vec![],
        metadata: BTreeMap::new().into(),
        valid: true,
        times_redeemed: 0,
    }
}

/// An active promotion code `code` of `coupon`, without restrictions, as the Dashboard makes
/// it: never redeemed, without billing's marker.
pub(crate) fn unmarked_code(id: &str, code: &str, coupon: &str, created: i64) -> LivePromotionCode {
    LivePromotionCode {
        id: id.into(),
        created,
        code: code.into(),
        active: true,
        coupon: coupon.into(),
        customer: None,
        expires_at: None,
        max_redemptions: None,
        times_redeemed: 0,
        first_time_transaction: false,
        minimum_amount: None,
        minimum_amount_currency: None,
        currency_options: BTreeMap::new(),
        metadata: BTreeMap::new().into(),
    }
}

/// The managed product `products.pro` (`prod_1`), with its default price [`price`].
pub(crate) fn product() -> LiveProduct {
    LiveProduct {
        description: Some("For teams".into()),
        metadata: marker("products.pro").into(),
        default_price: Some("price_m".into()),
        ..unmarked_product("prod_1", "Pro", 100)
    }
}

/// The managed price `prices.pro.monthly` (`price_m`): $79.00 a month, tax exclusive, with
/// its default lookup key.
pub(crate) fn price() -> LivePrice {
    LivePrice {
        lookup_key: Some("pro_monthly".into()),
        tax_behavior: Some(super::words::word("exclusive")),
        metadata: marker("prices.pro.monthly").into(),
        ..monthly(unmarked_price("price_m", "prod_1", 100, "usd", 7900))
    }
}

/// The managed coupon `coupons.launch` (`launch_old`, "Launch", `percent`% off once),
/// redeemed 3 times.
pub(crate) fn coupon(percent: &str) -> LiveCoupon {
    LiveCoupon {
        percent_off: Some(percent.into()),
        metadata: marker("coupons.launch").into(),
        times_redeemed: 3,
        ..unmarked_coupon("launch_old", "Launch", 100)
    }
}

/// The managed promotion code `promotion_codes.LAUNCH` (`promo_old`) of `coupon`, redeemed 3
/// times.
pub(crate) fn code(coupon: &str) -> LivePromotionCode {
    LivePromotionCode {
        metadata: marker("promotion_codes.LAUNCH").into(),
        times_redeemed: 3,
        ..unmarked_code("promo_old", "LAUNCH", coupon, 100)
    }
}

pub(crate) fn live(products: Vec<LiveProduct>, prices: Vec<LivePrice>) -> LiveState {
    LiveState {
        generation: None,
        now: 1_800_000_000,
        account: Account {
            id: "acct_1".into(),
            name: None,
        },
        products,
        prices,
        coupons: Vec::new(),
        promotion_codes: Vec::new(),
        tax_settings: None,
        tax_registrations: Vec::new(),
        tax_rates: Vec::new(),
        portals: Vec::new(),
        missing_customers: std::collections::BTreeSet::new(),
        webhooks: Vec::new(),
        entitlements: Vec::new(),
        product_features: BTreeMap::new(),
        meters: Vec::new(),
    }
}

/// When the objects of [`LiveState::matching`] were created (Unix seconds, before `now`).
const CREATED: i64 = 1_700_000_000;

impl LiveState {
    /// The account a catalog leaves behind once applied: for every entry, the live object
    /// billing would have created, carrying billing's marker (and `billing_on_remove` where the
    /// entry records one), and nothing else. Objects are given ids billing.toml pins, else
    /// made-up ones (`prod_<key>`, `price_<product>_<key>`, `<coupon key>_00000000`, …).
    /// Planning the catalog against it plans nothing.
    ///
    /// Every catalog struct is destructured field by field, so that a field added to the
    /// catalog fails to build here until the fixture says what Stripe holds for it.
    pub(crate) fn matching(catalog: &Catalog) -> Self {
        let Catalog {
            namespace,
            default_environment: _,
            environments: _,
            environment: _,
            ignore_metadata: _,
            products,
            coupons,
            promotion_codes,
            tax,
            tax_rates,
            portals,
            webhooks,
            entitlements,
            meters,
            doctor: _,
        } = catalog;
        let mut state = live(Vec::new(), Vec::new());
        let ids = Ids::of(catalog);
        for (key, product) in products {
            let (p, prices) = matching_product(namespace, &ids, key, product);
            state.products.push(p);
            state.prices.extend(prices);
        }
        state.coupons = coupons
            .iter()
            .map(|(key, c)| matching_coupon(namespace, &ids, key, c))
            .collect();
        state.promotion_codes = promotion_codes
            .iter()
            .map(|(key, p)| matching_promotion_code(namespace, &ids, key, p))
            .collect();
        if let Some(tax) = tax {
            let (settings, registrations) = matching_tax(tax, state.now);
            state.tax_settings = Some(settings);
            state.tax_registrations = registrations;
        }
        state.tax_rates = tax_rates
            .iter()
            .map(|(key, r)| matching_tax_rate(namespace, key, r))
            .collect();
        state.portals = portals
            .iter()
            .map(|(key, p)| matching_portal(namespace, &ids, key, p))
            .collect();
        state.webhooks = webhooks
            .iter()
            .map(|(key, w)| matching_webhook(namespace, key, w))
            .collect();
        state.entitlements = entitlements
            .iter()
            .map(|(key, e)| matching_feature(namespace, key, e))
            .collect();
        for (key, product) in products {
            let attached = product
                .entitlements
                .iter()
                .filter_map(|e| {
                    state
                        .entitlements
                        .iter()
                        .zip(entitlements)
                        .find(|(_, (k, _))| *k == e)
                })
                .map(|(f, (k, _))| LiveAttachment {
                    id: format!("prodft_{key}_{k}"),
                    feature: f.id.clone(),
                    lookup_key: f.lookup_key.clone(),
                })
                .collect();
            state.product_features.insert(ids.product(key), attached);
        }
        state.meters = meters.values().map(matching_meter).collect();
        state
    }
}

/// The ids [`LiveState::matching`] gives products, prices and coupons, which other objects
/// refer to.
struct Ids {
    products: BTreeMap<String, String>,
    prices: BTreeMap<(String, String), String>,
    coupons: BTreeMap<String, String>,
}

impl Ids {
    fn of(catalog: &Catalog) -> Self {
        let mut ids = Self {
            products: BTreeMap::new(),
            prices: BTreeMap::new(),
            coupons: BTreeMap::new(),
        };
        for (key, product) in &catalog.products {
            let id = product.id.clone().unwrap_or_else(|| format!("prod_{key}"));
            ids.products.insert(key.clone(), id);
            for (price_key, price) in &product.prices {
                let id = price
                    .id
                    .clone()
                    .unwrap_or_else(|| format!("price_{key}_{price_key}"));
                ids.prices.insert((key.clone(), price_key.clone()), id);
            }
        }
        for (key, coupon) in &catalog.coupons {
            ids.coupons.insert(key.clone(), coupon_id(coupon));
        }
        ids
    }

    fn product(&self, key: &str) -> String {
        self.products[key].clone()
    }

    fn price(&self, product: &str, key: &str) -> String {
        self.prices[&(product.to_owned(), key.to_owned())].clone()
    }
}

/// A coupon's id: the pinned one, else one of the shape billing chooses (`<key>_<8 hex
/// digits>`, see `plan::coupon`); objects are matched by their marker, not by this id.
fn coupon_id(coupon: &Coupon) -> String {
    coupon
        .id
        .clone()
        .unwrap_or_else(|| format!("{}_00000000", coupon.key))
}

fn address(kind: ResourceKind, key: &str) -> String {
    Address::new(kind, key).to_string()
}

fn live_tiers(tiers: &[Tier]) -> Vec<LiveTier> {
    tiers
        .iter()
        .map(|tier| {
            let Tier {
                up_to,
                unit_amount,
                flat_amount,
            } = tier;
            LiveTier {
                up_to: *up_to,
                unit_amount: *unit_amount,
                flat_amount: *flat_amount,
            }
        })
        .collect()
}

/// Stripe's word for a tax behavior billing.toml leaves unmanaged.
fn tax_behavior(declared: Option<TaxBehavior>) -> Option<String> {
    Some(
        declared
            .unwrap_or(TaxBehavior::Unspecified)
            .as_str()
            .to_owned(),
    )
}

fn matching_product(
    namespace: &str,
    ids: &Ids,
    key: &str,
    product: &Product,
) -> (LiveProduct, Vec<LivePrice>) {
    let Product {
        key: _,
        id: _,
        name,
        description,
        active,
        tax_code,
        unit_label,
        statement_descriptor,
        url,
        images,
        features,
        // Attachments are listed apart: see `LiveState::matching`; they come with the
        // features marker.
        entitlements,
        metadata,
        default_price,
        prices,
        moved_from: _,
        on_remove,
    } = product;
    let address = Address::product(key).to_string();
    let mut metadata = owned_metadata(metadata, &address, namespace, on_remove.recorded());
    if !entitlements.is_empty() {
        metadata.insert(FEATURES_KEY.to_owned(), FEATURES_VALUE.to_owned());
    }
    let live = LiveProduct {
        id: ids.product(key),
        created: CREATED,
        active: *active,
        name: name.clone(),
        description: description.clone(),
        tax_code: tax_code.clone(),
        unit_label: unit_label.clone(),
        statement_descriptor: statement_descriptor.clone(),
        url: url.clone(),
        images: images.clone(),
        features: features.clone(),
        metadata: metadata.into(),
        // An archived product has no default price.
        default_price: default_price
            .as_deref()
            .filter(|_| *active)
            .map(|price| ids.price(key, price)),
    };
    let prices = prices
        .iter()
        .map(|(price_key, price)| matching_price(namespace, ids, (key, price_key), *active, price))
        .collect();
    (live, prices)
}

fn matching_price(
    namespace: &str,
    ids: &Ids,
    (product, key): (&str, &str),
    active: bool,
    price: &Price,
) -> LivePrice {
    let Price {
        key: _,
        id: _,
        moved_from: _,
        on_remove,
        currency,
        pricing,
        recurring,
        meter,
        nickname,
        lookup_key,
        lookup_key_declared: _,
        tax_behavior: declared_tax_behavior,
        metadata,
        transform_quantity,
        currency_options,
    } = price;
    let (billing_scheme, unit_amount, tiers_mode, tiers) = match pricing {
        Pricing::PerUnit { unit_amount } => ("per_unit", Some(*unit_amount), None, Vec::new()),
        Pricing::Tiered { mode, tiers } => ("tiered", None, Some(mode.as_str()), live_tiers(tiers)),
    };
    let currency_options = currency_options
        .iter()
        .map(|(currency, option)| {
            let CurrencyOption {
                pricing,
                tax_behavior: option_tax_behavior,
            } = option;
            let (unit_amount, tiers) = match pricing {
                CurrencyOptionPricing::PerUnit(amount) => (Some(*amount), Vec::new()),
                CurrencyOptionPricing::Tiered(tiers) => (None, live_tiers(tiers)),
            };
            let live = LiveCurrencyOption {
                unit_amount,
                tiers,
                tax_behavior: tax_behavior(*option_tax_behavior),
                custom_unit_amount: false,
            };
            (currency.code().to_owned(), live)
        })
        .collect();
    let address = Address::price(product, key).to_string();
    LivePrice {
        id: ids.price(product, key).into(),
        created: CREATED,
        // The prices of an archived product are archived with it.
        active,
        product: ids.product(product).into(),
        currency: super::words::word(currency.code()),
        billing_scheme: super::words::word(billing_scheme),
        unit_amount,
        custom_unit_amount: false,
        tiers_mode: tiers_mode.map(super::words::word),
        tiers,
        recurring: recurring.map(|r| {
            let Recurring {
                interval,
                interval_count,
            } = r;
            LiveRecurring {
                interval: super::words::word(interval.as_str()),
                interval_count: u64::from(interval_count),
                usage_type: super::words::word(if meter.is_some() {
                    "metered"
                } else {
                    "licensed"
                }),
                meter: meter.as_deref().map(meter_id),
            }
        }),
        transform_quantity: transform_quantity.map(|t| {
            let TransformQuantity { divide_by, round } = t;
            (divide_by, super::words::word(round.as_str()))
        }),
        lookup_key: Some(lookup_key.into()),
        nickname: nickname.clone(),
        tax_behavior: Some(super::words::word(
            declared_tax_behavior
                .unwrap_or(TaxBehavior::Unspecified)
                .as_str(),
        )),
        metadata: owned_metadata(metadata, &address, namespace, on_remove.recorded()).into(),
        currency_options,
    }
}

/// The id [`LiveState::matching`] gives the meter `key`.
fn meter_id(key: &str) -> String {
    format!("mtr_{key}")
}

fn matching_meter(meter: &crate::catalog::Meter) -> crate::live::LiveMeter {
    let crate::catalog::Meter {
        key,
        display_name,
        event_name,
        aggregation,
        customer_mapping_key,
        value_key,
        event_time_window,
        active,
    } = meter;
    crate::live::LiveMeter {
        id: meter_id(key),
        created: CREATED,
        display_name: display_name.clone(),
        event_name: event_name.clone(),
        aggregation: aggregation.clone(),
        customer_mapping_key: customer_mapping_key.clone(),
        value_key: value_key.clone(),
        event_time_window: event_time_window.clone(),
        active: *active,
    }
}

fn minor(amount: MinorAmount) -> i64 {
    amount.as_integer().expect("a whole number of minor units")
}

fn matching_coupon(namespace: &str, ids: &Ids, key: &str, coupon: &Coupon) -> LiveCoupon {
    let Coupon {
        key: _,
        id: _,
        name,
        discount,
        duration,
        max_redemptions,
        redeem_by,
        applies_to,
        metadata,
        on_remove,
        moved_from: _,
    } = coupon;
    let (percent_off, amount_off, currency, currency_options) = match discount {
        Discount::PercentOff(percent) => (
            Some(percent.0.normalize().to_string()),
            None,
            None,
            BTreeMap::new(),
        ),
        Discount::AmountOff {
            currency,
            amount,
            currency_options,
        } => (
            None,
            Some(minor(*amount)),
            Some(currency.code().to_owned()),
            currency_options
                .iter()
                .map(|(c, a)| (c.code().to_owned(), minor(*a)))
                .collect(),
        ),
    };
    let (duration, duration_in_months) = match duration {
        CouponDuration::Once => ("once", None),
        CouponDuration::Repeating { months } => ("repeating", Some(i64::from(*months))),
        CouponDuration::Forever => ("forever", None),
    };
    let mut applies_to: Vec<String> = applies_to.iter().map(|p| ids.product(p)).collect();
    applies_to.sort();
    let address = address(ResourceKind::Coupon, key);
    LiveCoupon {
        id: ids.coupons[key].clone(),
        created: CREATED,
        name: name.clone(),
        percent_off,
        amount_off,
        currency,
        currency_options,
        duration: duration.to_owned(),
        duration_in_months,
        max_redemptions: max_redemptions.map(count),
        redeem_by: *redeem_by,
        applies_to,
        metadata: owned_metadata(metadata, &address, namespace, on_remove.recorded()).into(),
        valid: true,
        times_redeemed: 0,
    }
}

fn count(n: u64) -> i64 {
    i64::try_from(n).expect("a count Stripe takes")
}

fn matching_promotion_code(
    namespace: &str,
    ids: &Ids,
    key: &str,
    code: &PromotionCode,
) -> LivePromotionCode {
    let PromotionCode {
        key: _,
        code,
        coupon,
        active,
        max_redemptions,
        expires_at,
        first_time_transaction,
        minimum_amount,
        minimum_amount_options,
        customer,
        metadata,
    } = code;
    let address = address(ResourceKind::PromotionCode, key);
    LivePromotionCode {
        id: format!("promo_{key}"),
        created: CREATED,
        code: code.clone(),
        active: *active,
        coupon: ids.coupons[coupon].clone(),
        customer: customer.clone(),
        expires_at: *expires_at,
        max_redemptions: max_redemptions.map(count),
        times_redeemed: 0,
        first_time_transaction: *first_time_transaction,
        minimum_amount: minimum_amount.map(|(_, a)| minor(a)),
        minimum_amount_currency: minimum_amount.map(|(c, _)| c.code().to_owned()),
        currency_options: minimum_amount_options
            .iter()
            .map(|(c, a)| (c.code().to_owned(), minor(*a)))
            .collect(),
        metadata: with_marker(metadata, &address, namespace).into(),
    }
}

/// The settings, and a registration for each declared one: active since it was created (or
/// scheduled from its `active_from`), ending at its `ends_at` (expired when that has passed).
fn matching_tax(tax: &TaxSettings, now: i64) -> (LiveTaxSettings, Vec<LiveRegistration>) {
    let TaxSettings {
        default_tax_behavior,
        default_tax_code,
        head_office,
        registrations,
    } = tax;
    let settings = LiveTaxSettings {
        default_tax_behavior: default_tax_behavior.clone(),
        default_tax_code: default_tax_code.clone(),
        head_office: head_office.as_ref().map(|a| {
            let PostalAddress {
                line1,
                line2,
                city,
                state,
                postal_code,
                country,
            } = a;
            LiveAddress {
                line1: line1.clone(),
                line2: line2.clone(),
                city: city.clone(),
                state: state.clone(),
                postal_code: postal_code.clone(),
                country: Some(country.clone()),
            }
        }),
    };
    let registrations = registrations
        .iter()
        .map(|r| {
            let Registration {
                country,
                kind,
                state,
                active_from,
                ends_at,
            } = r;
            let active_from = active_from.unwrap_or(CREATED);
            // Ended "now" when applied: by the time the state is read, a moment ago.
            let expires_at = ends_at.map(|at| at.unwrap_or(now - 1));
            let status = match expires_at {
                Some(at) if at <= now => "expired",
                _ if active_from > now => "scheduled",
                _ => "active",
            };
            LiveRegistration {
                id: format!("taxreg_{}", r.address().key().replace('.', "_")),
                country: country.clone(),
                kind: kind.clone(),
                state: state.clone(),
                active_from,
                expires_at,
                status: status.to_owned(),
            }
        })
        .collect();
    (settings, registrations)
}

fn matching_tax_rate(namespace: &str, key: &str, rate: &TaxRate) -> LiveTaxRate {
    let TaxRate {
        key: _,
        id,
        moved_from: _,
        on_remove,
        display_name,
        percentage,
        inclusive,
        active,
        country,
        state,
        jurisdiction,
        tax_type,
        description,
        metadata,
    } = rate;
    let address = address(ResourceKind::TaxRate, key);
    LiveTaxRate {
        id: id.clone().unwrap_or_else(|| format!("txr_{key}")),
        created: CREATED,
        active: *active,
        display_name: display_name.clone(),
        percentage: percentage.normalize().to_string(),
        inclusive: *inclusive,
        country: country.clone(),
        state: state.clone(),
        jurisdiction: jurisdiction.clone(),
        tax_type: tax_type.clone(),
        description: description.clone(),
        metadata: owned_metadata(metadata, &address, namespace, on_remove.recorded()).into(),
    }
}

/// A configuration billing created, or with `target = "default"` the account's default one,
/// taken over.
fn matching_portal(namespace: &str, ids: &Ids, key: &str, portal: &Portal) -> LivePortal {
    let Portal {
        key: _,
        account_default,
        settings,
        metadata,
    } = portal;
    let address = address(ResourceKind::Portal, key);
    let update = settings.subscription_update.as_ref().map(|u| {
        let SubscriptionUpdate {
            products,
            default_allowed_updates,
            proration_behavior,
        } = u;
        let products = products
            .iter()
            .map(|(product, prices)| {
                let prices = prices.iter().map(|p| ids.price(product, p)).collect();
                (ids.product(product), prices)
            })
            .collect();
        (
            products,
            default_allowed_updates.clone(),
            proration_behavior
                .clone()
                .unwrap_or_else(|| "none".to_owned()),
        )
    });
    let mut settings = settings.naming(update);
    // Stripe states a cancellation's proration whether or not billing.toml does.
    if let Some(cancel) = &mut settings.subscription_cancel {
        cancel
            .proration_behavior
            .get_or_insert_with(|| "none".to_owned());
    }
    LivePortal {
        id: format!("bpc_{key}"),
        created: CREATED,
        active: true,
        is_default: *account_default,
        settings,
        metadata: with_marker(metadata, &address, namespace).into(),
    }
}

/// A feature billing created.
fn matching_feature(namespace: &str, key: &str, entitlement: &Entitlement) -> LiveFeature {
    let Entitlement {
        key: _,
        id,
        moved_from: _,
        name,
        lookup_key,
        lookup_key_written: _,
        metadata,
    } = entitlement;
    let address = address(ResourceKind::EntitlementFeature, key);
    LiveFeature {
        id: id.clone().unwrap_or_else(|| format!("feat_{key}")),
        created: 0,
        active: true,
        lookup_key: lookup_key.clone(),
        name: name.clone(),
        metadata: with_marker(metadata, &address, namespace).into(),
    }
}

/// An endpoint billing created: Stripe reports neither its secret nor `connect`, which
/// billing records in its metadata.
fn matching_webhook(namespace: &str, key: &str, webhook: &Webhook) -> LiveWebhook {
    let Webhook {
        key: _,
        id,
        moved_from: _,
        url,
        events,
        api_version,
        description,
        connect,
        disabled,
        metadata,
        secret_file: _,
        secret_command: _,
        rotation: _,
    } = webhook;
    let address = address(ResourceKind::WebhookEndpoint, key);
    let mut metadata = with_marker(metadata, &address, namespace);
    if *connect {
        metadata.insert(super::CONNECT_KEY.to_owned(), "true".to_owned());
    }
    LiveWebhook {
        id: id.clone().unwrap_or_else(|| format!("we_{key}")),
        created: CREATED,
        url: url.clone(),
        events: events.clone(),
        api_version: api_version.resolve(crate::stripe::api_version()),
        application: None,
        description: description.clone(),
        disabled: *disabled,
        metadata: metadata.into(),
    }
}
