//! The catalog: billing.toml read with spans ([`RawCatalog`]), then validated into a [`Catalog`].
//! This file is where each kind registers: its table in both, the read of that table in
//! [`read_root`], and its arms in the per-kind methods of [`Catalog`].
//!
//! Loading never touches the network. Every problem is collected and reported at once, each
//! pointing at its line and column (past [`MAX_SHOWN`], the rest are counted, not shown); a
//! catalog with any problem is not returned.

mod currency;
mod diagnostic;
mod doctor;
mod entitlement;
mod environments;
mod load;
mod meter;
mod model;
mod money;
mod pieces;
mod place;
mod portal;
mod raw;
mod raw_discount;
mod raw_portal;
mod raw_tax;
mod reader;
mod schema;
mod shape;
mod source;
mod tax;
mod validate;
mod webhook;

#[cfg(test)]
mod tests;

pub(crate) use currency::Currency;
pub(crate) use diagnostic::{Diagnostic, MAX_SHOWN, render_all, render_each};
pub(crate) use doctor::Doctor;
pub(crate) use entitlement::Entitlement;
pub(crate) use environments::{
    DEFAULT_KEY_VAR, EMBEDDED, EnvChoice, Environment, called, output_format, without_version,
};
pub use load::MAX_CATALOG_BYTES;
pub(crate) use load::{LoadError, customer_spans, load_bytes, load_for, parse, parse_for};
pub(crate) use model::{
    Coupon, CouponDuration, CurrencyOption, CurrencyOptionPricing, DEFAULT_NAMESPACE, Discount,
    MetadataPattern, OnRemove, Price, Pricing, Product, PromotionCode, RESERVED_METADATA_PREFIX,
    TaxBehavior, Tier,
};
pub use money::MinorAmount;
pub(crate) use money::{float_text, parse_decimal};
pub(crate) use place::{locate, locate_field};
pub(crate) use portal::{Portal, PortalSettings, SubscriptionCancel};
pub(crate) use reader::suggest;
pub(crate) use source::SourceFile;
pub(crate) use tax::{PostalAddress, Registration, TaxRate};
pub(crate) use validate::env_part;
pub(crate) use webhook::{MAX_ENDPOINTS, Place, Rotation, Webhook, on_this_machine};

/// Entry types the lib names through their own modules and the tests build by hand.
#[cfg(test)]
pub(crate) use {
    model::{Interval, Recurring, TiersMode, TransformQuantity},
    portal::SubscriptionUpdate,
    tax::TaxSettings,
};

use std::collections::BTreeMap;

use serde::Serialize;
use toml::de::{DeTable, DeValue};

use crate::resource::{Address, ResourceKind};
use diagnostic::Sink;
use doctor::{RawDoctor, read_doctor};
use entitlement::{RawEntitlement, read_entitlement};
pub(crate) use meter::{DEFAULT_CUSTOMER_KEY, DEFAULT_VALUE_KEY, Meter};
use meter::{RawMeter, read_meter};
use raw::{DEFAULT_PORTAL, RawProduct, read_product};
use raw_discount::{RawCoupon, RawPromotionCode, read_coupon, read_promotion_code};
use raw_portal::{RawPortal, read_portal};
use raw_tax::{RawTax, RawTaxRate, read_tax, read_tax_rate};
use reader::{Sp, TableReader};
pub(crate) use schema::schema;
use shape::{Key, Table, Ty, field};
use webhook::{RawWebhook, read_webhook};

/// billing.toml as written, before validation.
#[derive(Debug, Default)]
pub(crate) struct RawCatalog {
    /// `namespace`.
    pub namespace: Option<Sp<String>>,
    /// `default_environment`.
    pub default_environment: Option<Sp<String>>,
    /// `ignore_metadata` patterns.
    pub ignore_metadata: Option<Sp<Vec<Sp<String>>>>,
    /// `[products.<key>]` in source order.
    pub products: Vec<RawProduct>,
    /// `[coupons.<key>]` in source order.
    pub coupons: Vec<RawCoupon>,
    /// `[promotion_codes.<CODE>]` in source order.
    pub promotion_codes: Vec<RawPromotionCode>,
    /// `[tax]`.
    pub tax: Option<RawTax>,
    /// `[tax_rates.<key>]` in source order.
    pub tax_rates: Vec<RawTaxRate>,
    /// `[portal]` and `[portals.<key>]`.
    pub portals: Vec<RawPortal>,
    /// `[webhooks.<key>]` in source order.
    pub webhooks: Vec<RawWebhook>,
    /// `[entitlements.<key>]` in source order.
    pub entitlements: Vec<RawEntitlement>,
    /// `[meters.<key>]` in source order.
    pub meters: Vec<RawMeter>,
    /// `[doctor]`.
    pub doctor: RawDoctor,
    /// Where the catalog is and the environment it is resolved for (set after reading).
    pub place: Place,
}

/// billing.toml's top level: every table of the catalog is one field here (its shape is the
/// one the reader checks and `billing schema` describes).
pub(crate) static TOP: Table = Table::of(&[
    field(
        "namespace",
        Ty::Text,
        "Which objects this catalog manages when several catalogs share an account (default \"default\").",
    ),
    field(
        "default_environment",
        Ty::Text,
        "The environment used without -e.",
    ),
    field(
        "ignore_metadata",
        Ty::Texts,
        "Metadata keys (or `prefix*` patterns) other systems write, which billing neither plans nor removes.",
    ),
    field(
        "products",
        Ty::Entries(Key::Catalog, &raw::PRODUCT),
        "Products, as [products.<key>], each with its prices.",
    ),
    field(
        "environments",
        Ty::Entries(Key::Environment, &environments::ENVIRONMENT),
        "The accounts this catalog serves, as [environments.<name>]; without any, the embedded sandbox.",
    ),
    field(
        "coupons",
        Ty::Entries(Key::Catalog, &raw_discount::COUPON),
        "Coupons, as [coupons.<key>].",
    ),
    field(
        "promotion_codes",
        Ty::Entries(Key::Code, &raw_discount::PROMOTION_CODE),
        "Promotion codes customers type, as [promotion_codes.<CODE>].",
    ),
    field(
        "tax",
        Ty::Table(&raw_tax::TAX),
        "Stripe Tax settings and registrations.",
    ),
    field(
        "tax_rates",
        Ty::Entries(Key::Catalog, &raw_tax::TAX_RATE),
        "Manual tax rates, as [tax_rates.<key>].",
    ),
    field(
        "portal",
        Ty::Table(&raw_portal::PORTAL),
        "The customer portal's configuration.",
    ),
    field(
        "portals",
        Ty::Entries(Key::Catalog, &raw_portal::PORTAL),
        "More customer portal configurations, as [portals.<key>].",
    ),
    field(
        "webhooks",
        Ty::Entries(Key::Catalog, &webhook::WEBHOOK),
        "Webhook endpoints, as [webhooks.<key>].",
    ),
    field(
        "entitlements",
        Ty::Entries(Key::Catalog, &entitlement::ENTITLEMENT),
        "Entitlement features, as [entitlements.<key>].",
    ),
    field(
        "meters",
        Ty::Entries(Key::Catalog, &meter::METER),
        "Billing meters for usage-based prices, as [meters.<key>].",
    ),
    field(
        "doctor",
        Ty::Table(&doctor::DOCTOR),
        "What `billing doctor` checks beyond what the prices imply.",
    ),
]);

/// Reads `[products.*]`, taking them out of `root` and dropping each product's tables as soon
/// as they are read: a catalog of 100,000 prices would otherwise hold its parsed tables (about
/// 70 MB) beside what is read from them. A `products` that is not a table is left for the
/// top-level reader to report.
fn read_products(sink: &Sink, root: &mut Sp<DeTable<'_>>) -> Vec<RawProduct> {
    let is_table = |v: &Sp<DeValue<'_>>| matches!(v.get_ref(), DeValue::Table(_));
    if !root.get_ref().get("products").is_some_and(is_table) {
        return Vec::new();
    }
    let Some(DeValue::Table(products)) = root.get_mut().remove("products").map(Sp::into_inner)
    else {
        return Vec::new();
    };
    let mut out = Vec::with_capacity(products.len());
    for (key, value) in products {
        let key = Sp::new(key.span(), key.into_inner().into_owned());
        out.extend(read_product(sink, key, &value));
    }
    out
}

/// Reads resolved tables into a [`RawCatalog`]; shape problems go to `sink`. Takes the tables
/// so that each product's can be dropped as soon as it is read (see [`read_products`]).
pub(crate) fn read_root(mut root: Sp<DeTable<'_>>, sink: &Sink) -> RawCatalog {
    let products = read_products(sink, &mut root);
    let top = TableReader::new(sink, "at the top level", 0..0, root.get_ref(), &TOP);
    let mut raw = RawCatalog {
        namespace: top.string("namespace"),
        default_environment: top.string("default_environment"),
        ignore_metadata: top.strings("ignore_metadata"),
        products,
        coupons: Vec::new(),
        promotion_codes: Vec::new(),
        tax: None,
        tax_rates: Vec::new(),
        portals: Vec::new(),
        webhooks: Vec::new(),
        entitlements: Vec::new(),
        meters: Vec::new(),
        doctor: read_doctor(&top),
        place: Place::default(),
    };
    // A `products` that is a table was read above; this reports one that is not.
    top.map("products");
    if let Some((_, coupons)) = top.map("coupons") {
        for (key, value) in coupons {
            raw.coupons.extend(read_coupon(sink, key, value));
        }
    }
    if let Some((_, codes)) = top.map("promotion_codes") {
        for (key, value) in codes {
            raw.promotion_codes
                .extend(read_promotion_code(sink, key, value));
        }
    }
    raw.tax = read_tax(sink, &top);
    if let Some((_, rates)) = top.map("tax_rates") {
        for (key, value) in rates {
            raw.tax_rates.extend(read_tax_rate(sink, key, value));
        }
    }
    if let Some(value) = top.value("portal") {
        let key_span = root
            .get_ref()
            .get_key_value("portal")
            .map_or(value.span(), |(k, _)| k.span());
        let key = Sp::new(key_span, DEFAULT_PORTAL.to_owned());
        raw.portals
            .extend(read_portal(sink, key, "[portal]".to_owned(), value));
    }
    if let Some((_, portals)) = top.map("portals") {
        for (key, value) in portals {
            let name = Address::new(ResourceKind::Portal, key.get_ref()).declaration();
            if key.get_ref() == DEFAULT_PORTAL
                && raw
                    .portals
                    .iter()
                    .any(|p| p.key.get_ref() == DEFAULT_PORTAL)
            {
                sink.push(
                    Diagnostic::new(
                        key.span(),
                        "[portals.default] is the same configuration as [portal]",
                    )
                    .hint("keep one of them"),
                );
                continue;
            }
            raw.portals.extend(read_portal(sink, key, name, value));
        }
    }
    if let Some((_, webhooks)) = top.map("webhooks") {
        for (key, value) in webhooks {
            raw.webhooks.extend(read_webhook(sink, key, value));
        }
    }
    if let Some((_, entitlements)) = top.map("entitlements") {
        for (key, value) in entitlements {
            raw.entitlements.extend(read_entitlement(sink, key, value));
        }
    }
    if let Some((_, meters)) = top.map("meters") {
        for (key, value) in meters {
            raw.meters.extend(read_meter(sink, key, value));
        }
    }
    top.finish();
    raw
}

/// A validated billing.toml.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Catalog {
    /// What this catalog owns when several catalogs share an account (`billing_ns`).
    pub namespace: String,
    /// The environment used when `-e` is not given.
    pub default_environment: Option<String>,
    /// `[environments.<name>]`.
    pub environments: BTreeMap<String, Environment>,
    /// The environment this catalog was resolved for (`None`: as written, or the embedded
    /// sandbox of a catalog that declares no environments).
    pub environment: Option<String>,
    /// Metadata keys that other systems write and the catalog must leave alone.
    pub ignore_metadata: Vec<MetadataPattern>,
    /// Products by key.
    pub products: BTreeMap<String, Product>,
    /// Coupons by key.
    pub coupons: BTreeMap<String, Coupon>,
    /// Promotion codes by key (usually the customer-facing code).
    pub promotion_codes: BTreeMap<String, PromotionCode>,
    /// `[tax]`, when declared.
    pub tax: Option<tax::TaxSettings>,
    /// Manual tax rates by key.
    pub tax_rates: BTreeMap<String, TaxRate>,
    /// Customer-portal configurations by key (`default` for `[portal]`).
    pub portals: BTreeMap<String, Portal>,
    /// Webhook endpoints by key.
    pub(crate) webhooks: BTreeMap<String, Webhook>,
    /// Entitlement features by key.
    pub(crate) entitlements: BTreeMap<String, Entitlement>,
    /// Billing meters by key.
    pub(crate) meters: BTreeMap<String, Meter>,
    /// `[doctor]`: what `billing doctor` checks beyond what the prices imply. Not part of
    /// the catalog's hash: it changes no plan.
    #[serde(skip)]
    pub(crate) doctor: Doctor,
}

impl Catalog {
    /// How many entries of `kind` it declares.
    pub fn count(&self, kind: ResourceKind) -> usize {
        match kind {
            ResourceKind::Product => self.products.len(),
            ResourceKind::Price => self.price_count(),
            ResourceKind::Coupon => self.coupons.len(),
            ResourceKind::PromotionCode => self.promotion_codes.len(),
            ResourceKind::TaxSettings => usize::from(self.tax.is_some()),
            ResourceKind::TaxRegistration => self.tax.as_ref().map_or(0, |t| t.registrations.len()),
            ResourceKind::TaxRate => self.tax_rates.len(),
            ResourceKind::Portal => self.portals.len(),
            ResourceKind::WebhookEndpoint => self.webhooks.len(),
            ResourceKind::EntitlementFeature => self.entitlements.len(),
            ResourceKind::Meter => self.meters.len(),
        }
    }

    /// The addresses of the entries of `kind` it declares, in key order.
    pub fn addresses(&self, kind: ResourceKind) -> Vec<Address> {
        let keyed = |keys: &mut dyn Iterator<Item = &String>| {
            keys.map(|k| Address::new(kind, k.as_str())).collect()
        };
        match kind {
            ResourceKind::Product => keyed(&mut self.products.keys()),
            ResourceKind::Price => self
                .products
                .iter()
                .flat_map(|(p, product)| product.prices.keys().map(|k| Address::price(p, k)))
                .collect(),
            ResourceKind::Coupon => keyed(&mut self.coupons.keys()),
            ResourceKind::PromotionCode => keyed(&mut self.promotion_codes.keys()),
            ResourceKind::TaxSettings => self.tax.iter().map(|_| Address::tax_settings()).collect(),
            ResourceKind::TaxRegistration => self
                .tax
                .iter()
                .flat_map(|t| t.registrations.iter().map(Registration::address))
                .collect(),
            ResourceKind::TaxRate => keyed(&mut self.tax_rates.keys()),
            ResourceKind::Portal => keyed(&mut self.portals.keys()),
            ResourceKind::WebhookEndpoint => keyed(&mut self.webhooks.keys()),
            ResourceKind::EntitlementFeature => keyed(&mut self.entitlements.keys()),
            ResourceKind::Meter => keyed(&mut self.meters.keys()),
        }
    }

    /// The dates Stripe accepts only on a new object, and only between now and five years
    /// ahead: each coupon's `redeem_by` and each promotion code's `expires_at`, with the
    /// entry and the field that declares it.
    pub(crate) fn creation_dates(&self) -> Vec<(Address, &'static str, i64)> {
        let coupons = self.coupons.iter().filter_map(|(key, c)| {
            Some((
                Address::new(ResourceKind::Coupon, key),
                "redeem_by",
                c.redeem_by?,
            ))
        });
        let codes = self.promotion_codes.iter().filter_map(|(key, p)| {
            Some((
                Address::new(ResourceKind::PromotionCode, key),
                "expires_at",
                p.expires_at?,
            ))
        });
        coupons.chain(codes).collect()
    }

    /// Whether it declares the entry at `address`.
    pub fn declares(&self, address: &str) -> bool {
        let Ok(address) = address.parse::<Address>() else {
            return false;
        };
        let key = address.key();
        match address.kind() {
            ResourceKind::Product => self.products.contains_key(key),
            ResourceKind::Price => address.price_keys().is_some_and(|(product, price)| {
                self.products
                    .get(product)
                    .is_some_and(|p| p.prices.contains_key(price))
            }),
            ResourceKind::Coupon => self.coupons.contains_key(key),
            ResourceKind::PromotionCode => self.promotion_codes.contains_key(key),
            ResourceKind::TaxSettings => self.tax.is_some(),
            ResourceKind::TaxRegistration => self
                .tax
                .as_ref()
                .is_some_and(|t| t.registrations.iter().any(|r| r.address() == address)),
            ResourceKind::TaxRate => self.tax_rates.contains_key(key),
            ResourceKind::Portal => self.portals.contains_key(key),
            ResourceKind::WebhookEndpoint => self.webhooks.contains_key(key),
            ResourceKind::EntitlementFeature => self.entitlements.contains_key(key),
            ResourceKind::Meter => self.meters.contains_key(key),
        }
    }

    /// Each entry of `kind` with a line that says what it is, in key order (`billing validate
    /// -v`): `"Pro"`, `$79.00 / month  lookup_key=pro_monthly  (default)`.
    pub(crate) fn summaries(&self, kind: ResourceKind) -> Vec<(Address, String)> {
        match kind {
            ResourceKind::Product => self
                .products
                .values()
                .map(|p| (Address::product(&p.key), format!("{:?}", p.name)))
                .collect(),
            ResourceKind::Price => self
                .products
                .values()
                .flat_map(|p| p.prices.values().map(move |price| (p, price)))
                .map(|(p, price)| {
                    let default = p.default_price.as_deref() == Some(price.key.as_str());
                    let summary = format!(
                        "{}  lookup_key={}{}",
                        price.amount_summary(),
                        price.lookup_key,
                        if default { "  (default)" } else { "" }
                    );
                    (Address::price(&p.key, &price.key), summary)
                })
                .collect(),
            ResourceKind::Coupon => self
                .coupons
                .values()
                .map(|c| {
                    let summary = format!("{}, {}", c.discount.summary(), c.duration);
                    (Address::new(kind, c.key.as_str()), summary)
                })
                .collect(),
            ResourceKind::PromotionCode => self
                .promotion_codes
                .values()
                .map(|code| {
                    let coupon = Address::new(ResourceKind::Coupon, code.coupon.as_str());
                    let summary = format!("code {} for {coupon}", code.code);
                    (Address::new(kind, code.key.as_str()), summary)
                })
                .collect(),
            // The settings are one object, described by the registrations below them.
            ResourceKind::TaxSettings => Vec::new(),
            ResourceKind::TaxRegistration => self
                .tax
                .iter()
                .flat_map(|t| &t.registrations)
                .map(|r| (r.address(), r.summary()))
                .collect(),
            ResourceKind::TaxRate => self
                .tax_rates
                .values()
                .map(|r| (Address::new(kind, r.key.as_str()), r.summary()))
                .collect(),
            ResourceKind::Portal => self
                .portals
                .values()
                .map(|p| {
                    let summary = if p.account_default {
                        "the account's default configuration"
                    } else {
                        "a configuration billing creates"
                    };
                    (Address::new(kind, p.key.as_str()), summary.to_owned())
                })
                .collect(),
            ResourceKind::WebhookEndpoint => self
                .webhooks
                .values()
                .map(|w| {
                    let events = match w.events.as_slice() {
                        [one] => one.clone(),
                        all => format!("{} events", all.len()),
                    };
                    (
                        Address::new(kind, w.key.as_str()),
                        format!("{}  {events}", w.url),
                    )
                })
                .collect(),
            ResourceKind::EntitlementFeature => self
                .entitlements
                .values()
                .map(|e| {
                    let summary = format!("{:?}  lookup_key={}", e.name, e.lookup_key);
                    (Address::new(kind, e.key.as_str()), summary)
                })
                .collect(),
            ResourceKind::Meter => self
                .meters
                .values()
                .map(|m| {
                    let summary = format!("event {}  {}", m.event_name, m.aggregation);
                    (Address::new(kind, m.key.as_str()), summary)
                })
                .collect(),
        }
    }

    /// The entries of `kind` that pin an object by `id = …`: their addresses and the ids.
    pub(crate) fn pins(&self, kind: ResourceKind) -> Vec<(Address, &str)> {
        self.pins_and_moves(kind)
            .into_iter()
            .filter_map(|(address, id, _)| Some((address, id?)))
            .collect()
    }

    /// The entries of `kind` renamed by `moved_from = …`: their addresses and their old
    /// addresses.
    pub(crate) fn moves(&self, kind: ResourceKind) -> Vec<(Address, Address)> {
        self.pins_and_moves(kind)
            .into_iter()
            .filter_map(|(address, _, old)| Some((address, Address::new(kind, old?))))
            .collect()
    }

    /// Each entry of `kind` with its `id` and `moved_from`, when the kind has them.
    fn pins_and_moves(&self, kind: ResourceKind) -> Vec<(Address, Option<&str>, Option<&str>)> {
        fn entry<'a>(
            kind: ResourceKind,
            key: &str,
            id: &'a Option<String>,
            old: &'a Option<String>,
        ) -> (Address, Option<&'a str>, Option<&'a str>) {
            (Address::new(kind, key), id.as_deref(), old.as_deref())
        }
        match kind {
            ResourceKind::Product => self
                .products
                .values()
                .map(|p| entry(kind, &p.key, &p.id, &p.moved_from))
                .collect(),
            ResourceKind::Coupon => self
                .coupons
                .values()
                .map(|c| entry(kind, &c.key, &c.id, &c.moved_from))
                .collect(),
            ResourceKind::TaxRate => self
                .tax_rates
                .values()
                .map(|r| entry(kind, &r.key, &r.id, &r.moved_from))
                .collect(),
            ResourceKind::WebhookEndpoint => self
                .webhooks
                .values()
                .map(|w| entry(kind, &w.key, &w.id, &w.moved_from))
                .collect(),
            ResourceKind::EntitlementFeature => self
                .entitlements
                .values()
                .map(|e| entry(kind, &e.key, &e.id, &e.moved_from))
                .collect(),
            // A price's `id` and `moved_from` are claimed with its product's (the claims read
            // them there, with its lookup key); codes are found by their code, settings and
            // registrations by what they are, and portal configurations by their marker alone.
            ResourceKind::Price
            | ResourceKind::PromotionCode
            | ResourceKind::TaxSettings
            | ResourceKind::TaxRegistration
            | ResourceKind::Portal
            | ResourceKind::Meter => Vec::new(),
        }
    }

    /// Whether a metadata key is written by another system and must be left alone.
    pub fn ignores_metadata_key(&self, key: &str) -> bool {
        self.ignore_metadata.iter().any(|p| p.matches(key))
    }

    /// The number of prices across all products.
    pub fn price_count(&self) -> usize {
        self.products.values().map(|p| p.prices.len()).sum()
    }
}
