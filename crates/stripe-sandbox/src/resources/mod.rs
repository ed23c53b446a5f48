//! The kinds of objects the sandbox serves, one module each (its parameter tables, rules,
//! rendering and handlers), and the route table: where each kind lives ([`Paths`]) and its
//! endpoints. A new kind plugs in here (its `mod` line and its routes) and in `state.rs` (its
//! map); the routing itself is in `routes.rs`.

mod account;
mod catalog;
pub(crate) mod coupons;
pub(crate) mod customers;
pub(crate) mod entitlement_features;
mod events;
pub(crate) mod meters;
pub(crate) mod portal;
pub(crate) mod prices;
pub(crate) mod products;
pub(crate) mod promotion_codes;
pub(crate) mod tax_rates;
pub(crate) mod tax_registrations;
pub(crate) mod tax_settings;
pub(crate) mod webhook_endpoints;

use crate::expand::NONE;
use crate::handler::retrieve;
use crate::routes::{Endpoint, Paths, route};
use coupons::Coupon;
use customers::Customer;
use entitlement_features::Feature;
use meters::Meter;
use portal::PortalConfiguration;
use prices::Price;
use products::Product;
use tax_rates::TaxRate;
use tax_registrations::TaxRegistration;
use webhook_endpoints::WebhookEndpoint;

const EVENTS: Paths = Paths::new("/v1/events", "/v1/events/{id}", &NONE);
const ACCOUNT: Paths = Paths::singleton("/v1/account");
const PRODUCTS: Paths =
    Paths::new("/v1/products", "/v1/products/{id}", &products::SCHEMA).events("product");
const PRICES: Paths = Paths::new("/v1/prices", "/v1/prices/{id}", &prices::SCHEMA).events("price");
const COUPONS: Paths =
    Paths::new("/v1/coupons", "/v1/coupons/{id}", &coupons::SCHEMA).events("coupon");
const PROMOTION_CODES: Paths = Paths::new(
    "/v1/promotion_codes",
    "/v1/promotion_codes/{id}",
    &promotion_codes::SCHEMA,
)
.events("promotion_code");
const CUSTOMERS: Paths =
    Paths::new("/v1/customers", "/v1/customers/{id}", &customers::SCHEMA).events("customer");
const TAX_SETTINGS: Paths = Paths::singleton("/v1/tax/settings").events("tax.settings");
/// Tax registrations record no events (Stripe documents none for them).
const TAX_REGISTRATIONS: Paths =
    Paths::new("/v1/tax/registrations", "/v1/tax/registrations/{id}", &NONE);
const TAX_RATES: Paths =
    Paths::new("/v1/tax_rates", "/v1/tax_rates/{id}", &NONE).events("tax_rate");
const PORTAL_CONFIGURATIONS: Paths = Paths::new(
    "/v1/billing_portal/configurations",
    "/v1/billing_portal/configurations/{id}",
    &portal::SCHEMA,
)
.events("billing_portal.configuration");
/// Webhook endpoints record no events (Stripe has no event type for them).
const WEBHOOK_ENDPOINTS: Paths =
    Paths::new("/v1/webhook_endpoints", "/v1/webhook_endpoints/{id}", &NONE);
const METERS: Paths =
    Paths::new("/v1/billing/meters", "/v1/billing/meters/{id}", &NONE).events("billing.meter");

/// Entitlement features record no events (Stripe documents none for them).
const FEATURES: Paths = Paths::new(
    "/v1/entitlements/features",
    "/v1/entitlements/features/{id}",
    &NONE,
);
/// A product's features: nested under the product, no update, no events.
const PRODUCT_FEATURES: &str = "/v1/products/{parent}/features";
const PRODUCT_FEATURE: &str = "/v1/products/{parent}/features/{id}";

pub(crate) static ENDPOINTS: &[Endpoint] = &[
    EVENTS.list(events::LIST, events::list),
    EVENTS.retrieve(events::RETRIEVE, events::retrieve),
    ACCOUNT.retrieve(account::RETRIEVE, account::retrieve),
    PRODUCTS.create(catalog::CREATE_PRODUCT, catalog::create_product),
    PRODUCTS.list(products::LIST, products::list),
    PRODUCTS.retrieve(products::RETRIEVE, retrieve::<Product>),
    PRODUCTS.update(products::UPDATE, products::update),
    PRODUCTS.delete(products::DELETE, products::delete),
    PRICES.create(catalog::CREATE_PRICE, catalog::create_price),
    PRICES.list(prices::LIST, prices::list),
    PRICES.retrieve(prices::RETRIEVE, retrieve::<Price>),
    PRICES.update(prices::UPDATE, prices::update),
    COUPONS.create(coupons::CREATE, coupons::create),
    COUPONS.list(coupons::LIST, coupons::list),
    COUPONS.retrieve(coupons::RETRIEVE, retrieve::<Coupon>),
    COUPONS.update(coupons::UPDATE, coupons::update),
    COUPONS.delete(coupons::DELETE, coupons::delete),
    PROMOTION_CODES.create(promotion_codes::CREATE, promotion_codes::create),
    PROMOTION_CODES.list(promotion_codes::LIST, promotion_codes::list),
    PROMOTION_CODES.retrieve(promotion_codes::RETRIEVE, promotion_codes::retrieve),
    PROMOTION_CODES.update(promotion_codes::UPDATE, promotion_codes::update),
    CUSTOMERS.create(customers::CREATE, customers::create),
    CUSTOMERS.retrieve(customers::RETRIEVE, retrieve::<Customer>),
    TAX_SETTINGS.retrieve(tax_settings::RETRIEVE, tax_settings::retrieve),
    TAX_SETTINGS.update(tax_settings::UPDATE, tax_settings::update),
    TAX_REGISTRATIONS.create(tax_registrations::CREATE, tax_registrations::create),
    TAX_REGISTRATIONS.list(tax_registrations::LIST, tax_registrations::list),
    TAX_REGISTRATIONS.retrieve(tax_registrations::RETRIEVE, retrieve::<TaxRegistration>),
    TAX_REGISTRATIONS.update(tax_registrations::UPDATE, tax_registrations::update),
    TAX_RATES.create(tax_rates::CREATE, tax_rates::create),
    TAX_RATES.list(tax_rates::LIST, tax_rates::list),
    TAX_RATES.retrieve(tax_rates::RETRIEVE, retrieve::<TaxRate>),
    TAX_RATES.update(tax_rates::UPDATE, tax_rates::update),
    PORTAL_CONFIGURATIONS.create(portal::CREATE, portal::create),
    PORTAL_CONFIGURATIONS.list(portal::LIST, portal::list),
    PORTAL_CONFIGURATIONS.retrieve(portal::RETRIEVE, retrieve::<PortalConfiguration>),
    PORTAL_CONFIGURATIONS.update(portal::UPDATE, portal::update),
    WEBHOOK_ENDPOINTS.create(webhook_endpoints::CREATE, webhook_endpoints::create),
    WEBHOOK_ENDPOINTS.list(webhook_endpoints::LIST, webhook_endpoints::list),
    WEBHOOK_ENDPOINTS.retrieve(webhook_endpoints::RETRIEVE, retrieve::<WebhookEndpoint>),
    WEBHOOK_ENDPOINTS.update(webhook_endpoints::UPDATE, webhook_endpoints::update),
    WEBHOOK_ENDPOINTS.delete(webhook_endpoints::DELETE, webhook_endpoints::delete),
    FEATURES.create(entitlement_features::CREATE, entitlement_features::create),
    FEATURES.list(entitlement_features::LIST, entitlement_features::list),
    FEATURES.retrieve(entitlement_features::RETRIEVE, retrieve::<Feature>),
    FEATURES.update(entitlement_features::UPDATE, entitlement_features::update),
    route(
        "POST",
        PRODUCT_FEATURES,
        entitlement_features::ATTACH,
        entitlement_features::attach,
        &NONE,
    ),
    route(
        "GET",
        PRODUCT_FEATURES,
        entitlement_features::LIST_ATTACHED,
        entitlement_features::list_attached,
        &NONE,
    )
    .list(),
    route(
        "GET",
        PRODUCT_FEATURE,
        entitlement_features::RETRIEVE,
        entitlement_features::retrieve,
        &NONE,
    ),
    route(
        "DELETE",
        PRODUCT_FEATURE,
        entitlement_features::DETACH,
        entitlement_features::detach,
        &NONE,
    ),
    METERS.create(meters::CREATE, meters::create),
    METERS.list(meters::LIST, meters::list),
    METERS.retrieve(meters::RETRIEVE, retrieve::<Meter>),
    METERS.update(meters::UPDATE, meters::update),
    route(
        "POST",
        "/v1/billing/meters/{id}/deactivate",
        meters::RETRIEVE,
        meters::deactivate,
        &NONE,
    )
    .event(Some("billing.meter"), "deactivated"),
    route(
        "POST",
        "/v1/billing/meters/{id}/reactivate",
        meters::RETRIEVE,
        meters::reactivate,
        &NONE,
    )
    .event(Some("billing.meter"), "reactivated"),
];
