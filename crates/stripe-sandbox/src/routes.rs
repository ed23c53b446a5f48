//! The endpoint table: method, path pattern, parameter table, expansion schema and handler of
//! every route. New resources plug in here.

use serde_json::{Map, Value};

use super::error::ApiError;
use super::expand::{self, Expand, Schema};
use super::params::Field;
use super::store::Tx;
use super::version::ApiVersion;
use super::{
    account, coupons, customers, events, portal, prices, products, promotion_codes, tax_rates,
    tax_registrations, tax_settings,
};

/// What a handler works with: the state (inside the request's transaction), the clock and the
/// API version.
pub(crate) struct Ctx<'a, 'b> {
    pub tx: &'a mut Tx<'b>,
    pub now: i64,
    pub version: &'a ApiVersion,
}

/// One validated call: the `{id}` path segment (if the route has one), the parameters as
/// validated against the route's table, and the requested expansions.
pub(crate) struct Call {
    pub id: String,
    pub params: Map<String, Value>,
    pub expand: Expand,
}

pub(crate) type Handler = fn(&mut Ctx<'_, '_>, &Call) -> Result<Value, ApiError>;

/// One route.
pub(crate) struct Endpoint {
    pub method: &'static str,
    /// `/v1/prices/{id}`: `{id}` matches one path segment.
    pub path: &'static str,
    pub params: &'static [Field],
    /// What `expand[]` may name in the response object (per item for lists).
    pub schema: &'static Schema,
    /// A list endpoint: expansions must start with `data.`.
    pub list: bool,
    pub handler: Handler,
    /// The event type a successful call records (`price.created`), for writes.
    pub event: Option<&'static str>,
}

pub(crate) static ENDPOINTS: &[Endpoint] = &[
    Endpoint {
        method: "GET",
        path: "/v1/events",
        params: events::LIST,
        schema: events::SCHEMA,
        list: true,
        handler: events::list,
        event: None,
    },
    Endpoint {
        method: "GET",
        path: "/v1/events/{id}",
        params: events::RETRIEVE,
        schema: events::SCHEMA,
        list: false,
        handler: events::retrieve,
        event: None,
    },
    Endpoint {
        method: "GET",
        path: "/v1/account",
        params: account::RETRIEVE,
        schema: account::SCHEMA,
        list: false,
        handler: account::retrieve,
        event: None,
    },
    Endpoint {
        method: "POST",
        path: "/v1/products",
        params: products::CREATE,
        schema: &expand::PRODUCT,
        list: false,
        handler: products::create,
        event: Some("product.created"),
    },
    Endpoint {
        method: "GET",
        path: "/v1/products",
        params: products::LIST,
        schema: &expand::PRODUCT,
        list: true,
        handler: products::list,
        event: None,
    },
    Endpoint {
        method: "GET",
        path: "/v1/products/{id}",
        params: products::RETRIEVE,
        schema: &expand::PRODUCT,
        list: false,
        handler: products::retrieve,
        event: None,
    },
    Endpoint {
        method: "POST",
        path: "/v1/products/{id}",
        params: products::UPDATE,
        schema: &expand::PRODUCT,
        list: false,
        handler: products::update,
        event: Some("product.updated"),
    },
    Endpoint {
        method: "DELETE",
        path: "/v1/products/{id}",
        params: products::DELETE,
        schema: &expand::NONE,
        list: false,
        handler: products::delete,
        event: Some("product.deleted"),
    },
    Endpoint {
        method: "POST",
        path: "/v1/prices",
        params: prices::CREATE,
        schema: &expand::PRICE,
        list: false,
        handler: prices::create,
        event: Some("price.created"),
    },
    Endpoint {
        method: "GET",
        path: "/v1/prices",
        params: prices::LIST,
        schema: &expand::PRICE,
        list: true,
        handler: prices::list,
        event: None,
    },
    Endpoint {
        method: "GET",
        path: "/v1/prices/{id}",
        params: prices::RETRIEVE,
        schema: &expand::PRICE,
        list: false,
        handler: prices::retrieve,
        event: None,
    },
    Endpoint {
        method: "POST",
        path: "/v1/prices/{id}",
        params: prices::UPDATE,
        schema: &expand::PRICE,
        list: false,
        handler: prices::update,
        event: Some("price.updated"),
    },
    Endpoint {
        method: "POST",
        path: "/v1/coupons",
        params: coupons::CREATE,
        schema: &expand::COUPON,
        list: false,
        handler: coupons::create,
        event: Some("coupon.created"),
    },
    Endpoint {
        method: "GET",
        path: "/v1/coupons",
        params: coupons::LIST,
        schema: &expand::COUPON,
        list: true,
        handler: coupons::list,
        event: None,
    },
    Endpoint {
        method: "GET",
        path: "/v1/coupons/{id}",
        params: coupons::RETRIEVE,
        schema: &expand::COUPON,
        list: false,
        handler: coupons::retrieve,
        event: None,
    },
    Endpoint {
        method: "POST",
        path: "/v1/coupons/{id}",
        params: coupons::UPDATE,
        schema: &expand::COUPON,
        list: false,
        handler: coupons::update,
        event: Some("coupon.updated"),
    },
    Endpoint {
        method: "DELETE",
        path: "/v1/coupons/{id}",
        params: coupons::DELETE,
        schema: &expand::NONE,
        list: false,
        handler: coupons::delete,
        event: Some("coupon.deleted"),
    },
    Endpoint {
        method: "POST",
        path: "/v1/promotion_codes",
        params: promotion_codes::CREATE,
        schema: &expand::PROMOTION_CODE,
        list: false,
        handler: promotion_codes::create,
        event: Some("promotion_code.created"),
    },
    Endpoint {
        method: "GET",
        path: "/v1/promotion_codes",
        params: promotion_codes::LIST,
        schema: &expand::PROMOTION_CODE,
        list: true,
        handler: promotion_codes::list,
        event: None,
    },
    Endpoint {
        method: "GET",
        path: "/v1/promotion_codes/{id}",
        params: promotion_codes::RETRIEVE,
        schema: &expand::PROMOTION_CODE,
        list: false,
        handler: promotion_codes::retrieve,
        event: None,
    },
    Endpoint {
        method: "POST",
        path: "/v1/promotion_codes/{id}",
        params: promotion_codes::UPDATE,
        schema: &expand::PROMOTION_CODE,
        list: false,
        handler: promotion_codes::update,
        event: Some("promotion_code.updated"),
    },
    Endpoint {
        method: "POST",
        path: "/v1/customers",
        params: customers::CREATE,
        schema: &expand::CUSTOMER,
        list: false,
        handler: customers::create,
        event: Some("customer.created"),
    },
    Endpoint {
        method: "GET",
        path: "/v1/customers/{id}",
        params: customers::RETRIEVE,
        schema: &expand::CUSTOMER,
        list: false,
        handler: customers::retrieve,
        event: None,
    },
    Endpoint {
        method: "GET",
        path: "/v1/tax/settings",
        params: tax_settings::RETRIEVE,
        schema: &expand::NONE,
        list: false,
        handler: tax_settings::retrieve,
        event: None,
    },
    Endpoint {
        method: "POST",
        path: "/v1/tax/settings",
        params: tax_settings::UPDATE,
        schema: &expand::NONE,
        list: false,
        handler: tax_settings::update,
        event: Some("tax.settings.updated"),
    },
    Endpoint {
        method: "POST",
        path: "/v1/tax/registrations",
        params: tax_registrations::CREATE,
        schema: &expand::NONE,
        list: false,
        handler: tax_registrations::create,
        event: None,
    },
    Endpoint {
        method: "GET",
        path: "/v1/tax/registrations",
        params: tax_registrations::LIST,
        schema: &expand::NONE,
        list: true,
        handler: tax_registrations::list,
        event: None,
    },
    Endpoint {
        method: "GET",
        path: "/v1/tax/registrations/{id}",
        params: tax_registrations::RETRIEVE,
        schema: &expand::NONE,
        list: false,
        handler: tax_registrations::retrieve,
        event: None,
    },
    Endpoint {
        method: "POST",
        path: "/v1/tax/registrations/{id}",
        params: tax_registrations::UPDATE,
        schema: &expand::NONE,
        list: false,
        handler: tax_registrations::update,
        event: None,
    },
    Endpoint {
        method: "POST",
        path: "/v1/tax_rates",
        params: tax_rates::CREATE,
        schema: &expand::NONE,
        list: false,
        handler: tax_rates::create,
        event: Some("tax_rate.created"),
    },
    Endpoint {
        method: "GET",
        path: "/v1/tax_rates",
        params: tax_rates::LIST,
        schema: &expand::NONE,
        list: true,
        handler: tax_rates::list,
        event: None,
    },
    Endpoint {
        method: "GET",
        path: "/v1/tax_rates/{id}",
        params: tax_rates::RETRIEVE,
        schema: &expand::NONE,
        list: false,
        handler: tax_rates::retrieve,
        event: None,
    },
    Endpoint {
        method: "POST",
        path: "/v1/tax_rates/{id}",
        params: tax_rates::UPDATE,
        schema: &expand::NONE,
        list: false,
        handler: tax_rates::update,
        event: Some("tax_rate.updated"),
    },
    Endpoint {
        method: "POST",
        path: "/v1/billing_portal/configurations",
        params: portal::CREATE,
        schema: &expand::PORTAL_CONFIGURATION,
        list: false,
        handler: portal::create,
        event: Some("billing_portal.configuration.created"),
    },
    Endpoint {
        method: "GET",
        path: "/v1/billing_portal/configurations",
        params: portal::LIST,
        schema: &expand::PORTAL_CONFIGURATION,
        list: true,
        handler: portal::list,
        event: None,
    },
    Endpoint {
        method: "GET",
        path: "/v1/billing_portal/configurations/{id}",
        params: portal::RETRIEVE,
        schema: &expand::PORTAL_CONFIGURATION,
        list: false,
        handler: portal::retrieve,
        event: None,
    },
    Endpoint {
        method: "POST",
        path: "/v1/billing_portal/configurations/{id}",
        params: portal::UPDATE,
        schema: &expand::PORTAL_CONFIGURATION,
        list: false,
        handler: portal::update,
        event: Some("billing_portal.configuration.updated"),
    },
];

/// Path segments `{id}` never matches: Stripe routes them elsewhere (`/v1/prices/search`),
/// and the sandbox does not implement those routes, so they are unrecognized URLs rather than
/// "no such object".
const RESERVED_SEGMENTS: &[&str] = &["search"];

/// The endpoint for `method` and `path`, with the decoded `{id}` segment (or `""`).
#[cfg(test)]
pub(crate) fn find(method: &str, path: &str) -> Option<(&'static Endpoint, String)> {
    find_in(ENDPOINTS, method, path)
}

/// The endpoint of `table` for `method` and `path`, with the decoded `{id}` segment (or `""`).
pub(crate) fn find_in(
    table: &'static [Endpoint],
    method: &str,
    path: &str,
) -> Option<(&'static Endpoint, String)> {
    table.iter().find_map(|endpoint| {
        if endpoint.method != method {
            return None;
        }
        let mut id = String::new();
        let mut want = endpoint.path.split('/');
        let mut got = path.split('/');
        loop {
            match (want.next(), got.next()) {
                (None, None) => return Some((endpoint, id)),
                (Some("{id}"), Some(segment))
                    if !segment.is_empty() && !RESERVED_SEGMENTS.contains(&segment) =>
                {
                    id = percent_decode(segment);
                }
                (Some(w), Some(g)) if w == g => {}
                _ => return None,
            }
        }
    })
}

fn percent_decode(segment: &str) -> String {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| char::from(b).to_digit(16);
        match (
            bytes[i],
            bytes.get(i + 1).copied().and_then(hex),
            bytes.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(hi), Some(lo)) => {
                out.push(u8::try_from(hi * 16 + lo).unwrap_or(b'?'));
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_routes() {
        assert_eq!(find("GET", "/v1/prices").unwrap().0.path, "/v1/prices");
        let (endpoint, id) = find("POST", "/v1/products/prod%5F1").unwrap();
        assert_eq!(
            (endpoint.path, id.as_str()),
            ("/v1/products/{id}", "prod_1")
        );
        assert!(find("DELETE", "/v1/prices/price_1").is_none());
        assert!(find("GET", "/v1/prices/").is_none());
        assert!(find("GET", "/v1/prices/search").is_none());
        assert!(find("GET", "/v1/foo").is_none());
        assert_eq!(find("DELETE", "/v1/coupons/SPRING").unwrap().1, "SPRING");
        assert!(find("DELETE", "/v1/promotion_codes/promo_1").is_none());
        assert!(find("POST", "/v1/customers/cus_1").is_none());
        let (endpoint, id) = find("POST", "/v1/tax/registrations/taxreg_1").unwrap();
        assert_eq!(
            (endpoint.path, id.as_str()),
            ("/v1/tax/registrations/{id}", "taxreg_1")
        );
        assert!(find("DELETE", "/v1/tax/registrations/taxreg_1").is_none());
        assert!(find("DELETE", "/v1/tax_rates/txr_1").is_none());
        assert!(find("DELETE", "/v1/billing_portal/configurations/bpc_1").is_none());
        assert!(find("DELETE", "/v1/tax/settings").is_none());
    }
}
