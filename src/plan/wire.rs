//! A plan step as the HTTP requests it sends, built with async-stripe's request types.
//!
//! The generated types cannot express a few of Stripe's "clear this" forms (`images=`,
//! `marketing_features=`, `currency_options=`), which are added as raw form pairs. Bodies are
//! kept as sorted pairs: a canonical form for display and for idempotency keys.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use stripe_client_core::{RequestBuilder, StripeMethod, StripeRequest};
use stripe_product::price::{
    CreatePrice, CreatePriceCurrencyOptions, CreatePriceCurrencyOptionsTiers, CreatePriceRecurring,
    CreatePriceTiers, CreatePriceTransformQuantity, UpdatePrice, UpdatePriceCurrencyOptions,
    UpdatePriceCurrencyOptionsTiers,
};
use stripe_product::product::{CreateProduct, Features, UpdateProduct};

use super::{
    CouponSpec, CouponUpdate, CurrencyOptionsUpdate, ObjRef, PriceSpec, PriceUpdate, ProductSpec,
    ProductUpdate, PromotionCodeSpec, PromotionCodeUpdate, Request,
};
use crate::catalog::{CurrencyOption, CurrencyOptionPricing, MinorAmount, Pricing, Tier};
use crate::resource::ResourceKind;

/// One HTTP request, its form body as sorted pairs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireRequest {
    /// `POST` or `DELETE`.
    pub method: String,
    /// The path after `/v1`, e.g. `/prices/price_123`.
    pub path: String,
    /// Form pairs, sorted by key.
    pub body: Vec<(String, String)>,
}

impl WireRequest {
    /// The request a builder makes, with `extra` form pairs the builder cannot express.
    pub(crate) fn from_builder(builder: RequestBuilder, extra: Vec<(String, String)>) -> Self {
        let method = match builder.method {
            StripeMethod::Get => "GET",
            StripeMethod::Post => "POST",
            StripeMethod::Delete => "DELETE",
        };
        let mut body: Vec<(String, String)> = builder
            .body
            .as_deref()
            .map(|b| form_urlencoded::parse(b.as_bytes()).into_owned().collect())
            .unwrap_or_default();
        body.extend(extra);
        body.retain(|(k, _)| !k.is_empty());
        body.sort();
        body.dedup();
        Self {
            method: method.to_owned(),
            path: builder.path,
            body,
        }
    }

    /// The body, form-encoded.
    pub fn encoded_body(&self) -> String {
        form_urlencoded::Serializer::new(String::new())
            .extend_pairs(self.body.iter())
            .finish()
    }

    /// As a request builder for the transport.
    pub fn builder(&self) -> RequestBuilder {
        let mut builder = RequestBuilder::new(StripeMethod::Post, self.path.clone());
        builder.method = match self.method.as_str() {
            "GET" => StripeMethod::Get,
            "DELETE" => StripeMethod::Delete,
            _ => StripeMethod::Post,
        };
        builder.body = Some(self.encoded_body());
        builder
    }
}

/// A catalog currency as async-stripe's.
pub(crate) fn currency(c: crate::catalog::Currency) -> stripe_types::Currency {
    let Ok(c) = c.code().parse();
    c
}

/// A value of one of async-stripe's string enums (they take any text).
pub(crate) fn parse<T: std::str::FromStr<Err = std::convert::Infallible>>(text: &str) -> T {
    let Ok(value) = text.parse();
    value
}

/// Sets the integer form when the amount is whole, the decimal form otherwise.
pub(crate) fn split(amount: Option<MinorAmount>) -> (Option<i64>, Option<String>) {
    match amount {
        None => (None, None),
        Some(a) => match a.as_integer() {
            Some(i) => (Some(i), None),
            None => (None, Some(a.decimal_string())),
        },
    }
}

macro_rules! tiers {
    ($tiers:expr, $ty:ident, $up_to:ident) => {
        $tiers
            .iter()
            .map(|t: &Tier| {
                let mut out = $ty::new(match t.up_to {
                    Some(n) => $up_to::I64(i64::try_from(n).unwrap_or(i64::MAX)),
                    None => $up_to::Inf,
                });
                (out.unit_amount, out.unit_amount_decimal) = split(t.unit_amount);
                (out.flat_amount, out.flat_amount_decimal) = split(t.flat_amount);
                out
            })
            .collect::<Vec<_>>()
    };
}

fn metadata_map<'a>(
    pairs: impl Iterator<Item = (&'a String, Option<&'a String>)>,
) -> HashMap<String, String> {
    pairs
        .map(|(k, v)| (k.clone(), v.cloned().unwrap_or_default()))
        .collect()
}

/// Metadata to create an object with.
pub(crate) fn metadata_set(
    metadata: &std::collections::BTreeMap<String, String>,
) -> HashMap<String, String> {
    metadata_map(metadata.iter().map(|(k, v)| (k, Some(v))))
}

/// Metadata keys to set, or to remove (sent empty).
pub(crate) fn metadata_update(
    metadata: &std::collections::BTreeMap<String, Option<String>>,
) -> HashMap<String, String> {
    metadata_map(metadata.iter().map(|(k, v)| (k, v.as_ref())))
}

fn create_product(p: &ProductSpec) -> WireRequest {
    let mut r = CreateProduct::new(p.name.clone()).active(p.active);
    if let Some(id) = &p.id {
        r = r.id(id.clone());
    }
    if let Some(d) = &p.description {
        r = r.description(d.clone());
    }
    if let Some(t) = &p.tax_code {
        r = r.tax_code(t.clone());
    }
    if let Some(u) = &p.unit_label {
        r = r.unit_label(u.clone());
    }
    if let Some(s) = &p.statement_descriptor {
        r = r.statement_descriptor(s.clone());
    }
    if let Some(u) = &p.url {
        r = r.url(u.clone());
    }
    if !p.images.is_empty() {
        r = r.images(p.images.clone());
    }
    if !p.features.is_empty() {
        r = r.marketing_features(
            p.features
                .iter()
                .map(|f| Features::new(f.clone()))
                .collect::<Vec<_>>(),
        );
    }
    r = r.metadata(metadata_map(p.metadata.iter().map(|(k, v)| (k, Some(v)))));
    WireRequest::from_builder(r.build(), vec![])
}

fn update_product(
    id: String,
    u: &ProductUpdate,
    resolve: &impl Fn(&ObjRef) -> String,
) -> WireRequest {
    let mut r = UpdateProduct::new(id);
    let mut extra = Vec::new();
    if let Some(name) = &u.name {
        r = r.name(name.clone());
    }
    let clear = |v: &Option<String>| v.clone().unwrap_or_default();
    if let Some(d) = &u.description {
        r = r.description(clear(d));
    }
    if let Some(t) = &u.tax_code {
        r = r.tax_code(clear(t));
    }
    if let Some(l) = &u.unit_label {
        r = r.unit_label(clear(l));
    }
    if let Some(url) = &u.url {
        r = r.url(clear(url));
    }
    if let Some(s) = &u.statement_descriptor {
        r = r.statement_descriptor(s.clone());
    }
    match &u.images {
        Some(images) if images.is_empty() => extra.push(("images".to_owned(), String::new())),
        Some(images) => r = r.images(images.clone()),
        None => {}
    }
    match &u.features {
        Some(features) if features.is_empty() => {
            extra.push(("marketing_features".to_owned(), String::new()))
        }
        Some(features) => {
            r = r.marketing_features(
                features
                    .iter()
                    .map(|f| Features::new(f.clone()))
                    .collect::<Vec<_>>(),
            );
        }
        None => {}
    }
    if !u.metadata.is_empty() {
        r = r.metadata(metadata_map(
            u.metadata.iter().map(|(k, v)| (k, v.as_ref())),
        ));
    }
    if let Some(active) = u.active {
        r = r.active(active);
    }
    if let Some(default) = &u.default_price {
        r = r.default_price(default.as_ref().map(resolve).unwrap_or_default());
    }
    WireRequest::from_builder(r.build(), extra)
}

fn create_options(
    options: &std::collections::BTreeMap<crate::catalog::Currency, CurrencyOption>,
) -> HashMap<stripe_types::Currency, CreatePriceCurrencyOptions> {
    use stripe_product::price::CreatePriceCurrencyOptionsTiersUpTo as UpTo;
    options
        .iter()
        .map(|(c, o)| {
            let mut out = CreatePriceCurrencyOptions::new();
            out.tax_behavior = o.tax_behavior.map(|t| parse(t.as_str()));
            match &o.pricing {
                CurrencyOptionPricing::PerUnit(a) => {
                    (out.unit_amount, out.unit_amount_decimal) = split(Some(*a))
                }
                CurrencyOptionPricing::Tiered(t) => {
                    out.tiers = Some(tiers!(t, CreatePriceCurrencyOptionsTiers, UpTo))
                }
            }
            (currency(*c), out)
        })
        .collect()
}

fn update_options(
    options: &std::collections::BTreeMap<crate::catalog::Currency, CurrencyOption>,
) -> HashMap<stripe_types::Currency, UpdatePriceCurrencyOptions> {
    use stripe_product::price::UpdatePriceCurrencyOptionsTiersUpTo as UpTo;
    options
        .iter()
        .map(|(c, o)| {
            let mut out = UpdatePriceCurrencyOptions::new();
            out.tax_behavior = o.tax_behavior.map(|t| parse(t.as_str()));
            match &o.pricing {
                CurrencyOptionPricing::PerUnit(a) => {
                    (out.unit_amount, out.unit_amount_decimal) = split(Some(*a))
                }
                CurrencyOptionPricing::Tiered(t) => {
                    out.tiers = Some(tiers!(t, UpdatePriceCurrencyOptionsTiers, UpTo))
                }
            }
            (currency(*c), out)
        })
        .collect()
}

fn create_price(product: String, p: &PriceSpec) -> WireRequest {
    use stripe_product::price::CreatePriceTiersUpTo as UpTo;
    let mut r = CreatePrice::new(currency(p.currency)).product(product);
    match &p.pricing {
        Pricing::PerUnit { unit_amount } => match split(Some(*unit_amount)) {
            (Some(i), _) => r = r.unit_amount(i),
            (_, Some(d)) => r = r.unit_amount_decimal(d),
            _ => {}
        },
        Pricing::Tiered { mode, tiers } => {
            r = r
                .billing_scheme(parse::<stripe_shared::PriceBillingScheme>("tiered"))
                .tiers_mode(parse::<stripe_shared::PriceTiersMode>(mode.as_str()))
                .tiers(tiers!(tiers, CreatePriceTiers, UpTo));
        }
    }
    if let Some(rec) = p.recurring {
        let mut recurring = CreatePriceRecurring::new(parse::<
            stripe_product::price::CreatePriceRecurringInterval,
        >(rec.interval.as_str()));
        recurring.interval_count = Some(u64::from(rec.interval_count));
        r = r.recurring(recurring);
    }
    if let Some(t) = p.transform_quantity {
        r = r.transform_quantity(CreatePriceTransformQuantity::new(
            i64::try_from(t.divide_by).unwrap_or(i64::MAX),
            parse::<stripe_product::price::CreatePriceTransformQuantityRound>(t.round.as_str()),
        ));
    }
    r = r.lookup_key(p.lookup_key.clone());
    if p.transfer_lookup_key {
        r = r.transfer_lookup_key(true);
    }
    if let Some(n) = &p.nickname {
        r = r.nickname(n.clone());
    }
    if let Some(t) = p.tax_behavior {
        r = r.tax_behavior(parse::<stripe_shared::PriceTaxBehavior>(t.as_str()));
    }
    if !p.currency_options.is_empty() {
        r = r.currency_options(create_options(&p.currency_options));
    }
    r = r.metadata(metadata_map(p.metadata.iter().map(|(k, v)| (k, Some(v)))));
    WireRequest::from_builder(r.build(), vec![])
}

fn update_price(id: String, u: &PriceUpdate) -> Vec<WireRequest> {
    let mut out = Vec::new();
    let mut r = UpdatePrice::new(id.clone());
    if let Some(active) = u.active {
        r = r.active(active);
    }
    if let Some(key) = &u.lookup_key {
        r = r.lookup_key(key.clone());
        if u.transfer_lookup_key {
            r = r.transfer_lookup_key(true);
        }
    }
    if let Some(n) = &u.nickname {
        r = r.nickname(n.clone());
    }
    if let Some(t) = u.tax_behavior {
        r = r.tax_behavior(parse::<stripe_shared::PriceTaxBehavior>(t.as_str()));
    }
    if !u.metadata.is_empty() {
        r = r.metadata(metadata_map(
            u.metadata.iter().map(|(k, v)| (k, v.as_ref())),
        ));
    }
    match &u.currency_options {
        None => out.push(WireRequest::from_builder(r.build(), vec![])),
        Some(CurrencyOptionsUpdate::Merge(options)) => {
            r = r.currency_options(update_options(options));
            out.push(WireRequest::from_builder(r.build(), vec![]));
        }
        Some(CurrencyOptionsUpdate::Replace(options)) => {
            // Stripe merges currency options per currency, so removing one takes a reset first.
            out.push(WireRequest::from_builder(
                UpdatePrice::new(id.clone()).build(),
                vec![("currency_options".to_owned(), String::new())],
            ));
            if !options.is_empty() {
                r = r.currency_options(update_options(options));
            }
            out.push(WireRequest::from_builder(r.build(), vec![]));
        }
    }
    out.retain(|w| !w.body.is_empty());
    out
}

fn minor(amount: MinorAmount) -> i64 {
    amount.as_integer().unwrap_or_default()
}

fn create_coupon(c: &CouponSpec, resolve: &impl Fn(&ObjRef) -> String) -> WireRequest {
    use stripe_product::coupon::{CreateCoupon, CreateCouponAppliesTo, CurrencyOption as Option_};
    let mut r = CreateCoupon::new()
        .id(c.id.clone())
        .duration(parse::<stripe_shared::CouponDuration>(&c.duration));
    if let Some(p) = c.percent_off {
        r = r.percent_off(p.0.to_string().parse::<f64>().unwrap_or_default());
    }
    if let (Some(amount), Some(currency)) = (c.amount_off, c.currency) {
        r = r
            .amount_off(minor(amount))
            .currency(self::currency(currency));
    }
    if !c.currency_options.is_empty() {
        r = r.currency_options(
            c.currency_options
                .iter()
                .map(|(k, v)| (currency(*k), Option_::new(minor(*v))))
                .collect::<HashMap<_, _>>(),
        );
    }
    if let Some(months) = c.duration_in_months {
        r = r.duration_in_months(i64::from(months));
    }
    if let Some(max) = c.max_redemptions {
        r = r.max_redemptions(i64::try_from(max).unwrap_or(i64::MAX));
    }
    if let Some(at) = c.redeem_by {
        r = r.redeem_by(at);
    }
    if !c.applies_to.is_empty() {
        let mut applies = CreateCouponAppliesTo::new();
        applies.products = Some(c.applies_to.iter().map(resolve).collect());
        r = r.applies_to(applies);
    }
    if let Some(name) = &c.name {
        r = r.name(name.clone());
    }
    r = r.metadata(metadata_map(c.metadata.iter().map(|(k, v)| (k, Some(v)))));
    WireRequest::from_builder(r.build(), vec![])
}

fn update_coupon(id: String, u: &CouponUpdate) -> WireRequest {
    use stripe_product::coupon::{CurrencyOption as Option_, UpdateCoupon};
    let mut r = UpdateCoupon::new(id);
    if let Some(name) = &u.name {
        r = r.name(name.clone());
    }
    if !u.metadata.is_empty() {
        r = r.metadata(metadata_map(
            u.metadata.iter().map(|(k, v)| (k, v.as_ref())),
        ));
    }
    if !u.currency_options.is_empty() {
        r = r.currency_options(
            u.currency_options
                .iter()
                .map(|(k, v)| (currency(*k), Option_::new(minor(*v))))
                .collect::<HashMap<_, _>>(),
        );
    }
    WireRequest::from_builder(r.build(), vec![])
}

fn minimum_options(
    options: &std::collections::BTreeMap<crate::catalog::Currency, MinorAmount>,
) -> HashMap<stripe_types::Currency, stripe_product::promotion_code::CurrencyOption> {
    options
        .iter()
        .map(|(k, v)| {
            let mut option = stripe_product::promotion_code::CurrencyOption::new();
            option.minimum_amount = Some(minor(*v));
            (currency(*k), option)
        })
        .collect()
}

fn create_promotion_code(coupon: String, p: &PromotionCodeSpec) -> WireRequest {
    use stripe_product::promotion_code::{
        CreatePromotionCode, CreatePromotionCodePromotion, CreatePromotionCodePromotionType,
        CreatePromotionCodeRestrictions,
    };
    let mut promotion = CreatePromotionCodePromotion::new(CreatePromotionCodePromotionType::Coupon);
    promotion.coupon = Some(coupon);
    let mut r = CreatePromotionCode::new(promotion)
        .code(p.code.clone())
        .active(p.active);
    if let Some(customer) = &p.customer {
        r = r.customer(customer.clone());
    }
    if let Some(at) = p.expires_at {
        r = r.expires_at(at);
    }
    if let Some(max) = p.max_redemptions {
        r = r.max_redemptions(i64::try_from(max).unwrap_or(i64::MAX));
    }
    let mut restrictions = CreatePromotionCodeRestrictions::new();
    let restricted = p.first_time_transaction || p.minimum_amount.is_some();
    if p.first_time_transaction {
        restrictions.first_time_transaction = Some(true);
    }
    if let Some((c, amount)) = p.minimum_amount {
        restrictions.minimum_amount = Some(minor(amount));
        restrictions.minimum_amount_currency = Some(currency(c));
    }
    if !p.minimum_amount_options.is_empty() {
        restrictions.currency_options = Some(minimum_options(&p.minimum_amount_options));
    }
    if restricted {
        r = r.restrictions(restrictions);
    }
    r = r.metadata(metadata_map(p.metadata.iter().map(|(k, v)| (k, Some(v)))));
    WireRequest::from_builder(r.build(), vec![])
}

fn update_promotion_code(id: String, u: &PromotionCodeUpdate) -> WireRequest {
    use stripe_product::promotion_code::{UpdatePromotionCode, UpdatePromotionCodeRestrictions};
    let mut r = UpdatePromotionCode::new(id);
    if let Some(active) = u.active {
        r = r.active(active);
    }
    if !u.metadata.is_empty() {
        r = r.metadata(metadata_map(
            u.metadata.iter().map(|(k, v)| (k, v.as_ref())),
        ));
    }
    if !u.minimum_amount_options.is_empty() {
        let mut restrictions = UpdatePromotionCodeRestrictions::new();
        restrictions.currency_options = Some(minimum_options(&u.minimum_amount_options));
        r = r.restrictions(restrictions);
    }
    WireRequest::from_builder(r.build(), vec![])
}

/// `POST /v1/<kind>/<id>` with metadata keys to set, or to remove (sent empty).
fn update_metadata(
    kind: ResourceKind,
    id: String,
    metadata: &std::collections::BTreeMap<String, Option<String>>,
) -> WireRequest {
    let mut body: Vec<(String, String)> = metadata
        .iter()
        .map(|(k, v)| (format!("metadata[{k}]"), v.clone().unwrap_or_default()))
        .collect();
    body.sort();
    WireRequest {
        method: "POST".to_owned(),
        path: format!("/{}/{id}", kind.api_path()),
        body,
    }
}

/// The requests a step sends, with references to created objects resolved by `resolve`.
pub fn requests(request: &Request, resolve: impl Fn(&ObjRef) -> String) -> Vec<WireRequest> {
    match request {
        Request::CreateProduct { product } => vec![create_product(product)],
        Request::UpdateProduct { product, update } => {
            vec![update_product(resolve(product), update, &resolve)]
        }
        Request::CreatePrice { product, price } => vec![create_price(resolve(product), price)],
        Request::UpdatePrice { price, update } => update_price(resolve(price), update),
        Request::CreateCoupon { coupon } => vec![create_coupon(coupon, &resolve)],
        Request::UpdateCoupon { coupon, update } => vec![update_coupon(resolve(coupon), update)],
        Request::DeleteCoupon { coupon } => {
            vec![WireRequest::from_builder(
                stripe_product::coupon::DeleteCoupon::new(resolve(coupon)).build(),
                vec![],
            )]
        }
        Request::CreatePromotionCode { coupon, code } => {
            vec![create_promotion_code(resolve(coupon), code)]
        }
        Request::UpdatePromotionCode { code, update } => {
            vec![update_promotion_code(resolve(code), update)]
        }
        Request::UpdateTaxSettings { update } => vec![super::tax_settings::update_request(update)],
        Request::CreateTaxRegistration { registration } => {
            vec![super::tax_registration::create_request(registration)]
        }
        Request::UpdateTaxRegistration {
            registration,
            update,
        } => vec![super::tax_registration::update_request(
            resolve(registration),
            update,
        )],
        Request::CreateTaxRate { rate } => vec![super::tax_rate::create_request(rate)],
        Request::UpdateTaxRate { rate, update } => {
            vec![super::tax_rate::update_request(resolve(rate), update)]
        }
        Request::CreatePortal { settings, metadata } => {
            vec![super::portal::create_request(settings, metadata, &resolve)]
        }
        Request::UpdatePortal { portal, update } => {
            vec![super::portal::update_request(
                resolve(portal),
                update,
                &resolve,
            )]
        }
        Request::UpdateMetadata {
            kind,
            object,
            metadata,
        } => vec![update_metadata(*kind, resolve(object), metadata)],
    }
}
