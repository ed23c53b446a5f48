//! Routing: an endpoint ([`Endpoint`]: method, path pattern, parameter table, expansion schema
//! and handler), the [`Paths`] of a kind of object that build its endpoints, and how a request
//! finds its route. The route table itself is in `resources/mod.rs`, beside the kinds' modules;
//! what handlers share is in `handler.rs`.

use super::expand::{NONE, Schema};
use super::handler::Handler;
use super::params::Field;

/// One route.
pub(crate) struct Endpoint {
    pub method: &'static str,
    /// `/v1/prices/{id}`: `{id}` matches one path segment; a nested route
    /// (`/v1/products/{parent}/features/{id}`) names its parent's segment `{parent}`.
    pub path: &'static str,
    pub params: &'static [Field],
    /// What `expand[]` may name in the response object (per item for lists).
    pub schema: &'static Schema,
    /// A list endpoint: expansions must start with `data.`.
    pub list: bool,
    pub handler: Handler,
    /// The event a successful call records, for writes.
    pub event: Option<EventType>,
}

/// An event type: `price.created` is the verb `created` of the object `price`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct EventType {
    pub object: &'static str,
    pub verb: &'static str,
}

impl EventType {
    /// `price.created`.
    pub(crate) fn name(self) -> String {
        format!("{}.{}", self.object, self.verb)
    }
}

/// A route for `method` on `path`, answered by `handler` with the parameters checked against
/// `params`, its response expanding as `schema` allows; no list, no event.
pub(crate) const fn route(
    method: &'static str,
    path: &'static str,
    params: &'static [Field],
    handler: Handler,
    schema: &'static Schema,
) -> Endpoint {
    Endpoint {
        method,
        path,
        params,
        schema,
        list: false,
        handler,
        event: None,
    }
}

impl Endpoint {
    /// The route lists objects: expansions name fields of its items (`data.…`).
    pub(crate) const fn list(self) -> Endpoint {
        Endpoint { list: true, ..self }
    }

    /// When the route succeeds, it records the event `verb` of `object` (if the object has
    /// events).
    pub(crate) const fn event(self, object: Option<&'static str>, verb: &'static str) -> Endpoint {
        let event = match object {
            Some(object) => Some(EventType { object, verb }),
            None => None,
        };
        Endpoint { event, ..self }
    }
}

/// Where one kind of object lives: its collection (`/v1/prices`), each object
/// (`/v1/prices/{id}`), what its responses may expand, and what its events call it (`price`:
/// `price.created`, `price.updated`, `price.deleted`; `None`: writes record no event). A
/// singleton (the account, the tax settings) is its own collection.
pub(crate) struct Paths {
    collection: &'static str,
    object: &'static str,
    schema: &'static Schema,
    events: Option<&'static str>,
}

impl Paths {
    pub(crate) const fn new(
        collection: &'static str,
        object: &'static str,
        schema: &'static Schema,
    ) -> Self {
        Paths {
            collection,
            object,
            schema,
            events: None,
        }
    }

    pub(crate) const fn singleton(path: &'static str) -> Self {
        Paths::new(path, path, &NONE)
    }

    /// Writes record events of type `<object>.<verb>`.
    pub(crate) const fn events(self, object: &'static str) -> Self {
        Paths {
            events: Some(object),
            ..self
        }
    }

    /// `POST` on the collection.
    pub(crate) const fn create(&self, params: &'static [Field], handler: Handler) -> Endpoint {
        route("POST", self.collection, params, handler, self.schema).event(self.events, "created")
    }

    /// `GET` on the collection.
    pub(crate) const fn list(&self, params: &'static [Field], handler: Handler) -> Endpoint {
        route("GET", self.collection, params, handler, self.schema).list()
    }

    /// `GET` on an object.
    pub(crate) const fn retrieve(&self, params: &'static [Field], handler: Handler) -> Endpoint {
        route("GET", self.object, params, handler, self.schema)
    }

    /// `POST` on an object (or a singleton).
    pub(crate) const fn update(&self, params: &'static [Field], handler: Handler) -> Endpoint {
        route("POST", self.object, params, handler, self.schema).event(self.events, "updated")
    }

    /// `DELETE` on an object: the answer is a deletion stub, which expands nothing.
    pub(crate) const fn delete(&self, params: &'static [Field], handler: Handler) -> Endpoint {
        route("DELETE", self.object, params, handler, &NONE).event(self.events, "deleted")
    }
}

/// Path segments `{id}` never matches: Stripe routes them elsewhere (`/v1/prices/search`),
/// and the sandbox does not implement those routes, so they are unrecognized URLs rather than
/// "no such object".
const RESERVED_SEGMENTS: &[&str] = &["search"];

/// The ids a request's path names: its `{id}` segment and, on a nested route, its `{parent}`
/// segment (each decoded, or `""`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct PathIds {
    pub id: String,
    pub parent: String,
}

/// The endpoint for `method` and `path`, with the decoded `{id}` segment (or `""`).
#[cfg(test)]
pub(crate) fn find(method: &str, path: &str) -> Option<(&'static Endpoint, String)> {
    find_in(super::resources::ENDPOINTS, method, path).map(|(endpoint, ids)| (endpoint, ids.id))
}

/// The endpoint of `table` for `method` and `path`, with the ids its path names.
pub(crate) fn find_in(
    table: &'static [Endpoint],
    method: &str,
    path: &str,
) -> Option<(&'static Endpoint, PathIds)> {
    table.iter().find_map(|endpoint| {
        if endpoint.method != method {
            return None;
        }
        let mut ids = PathIds::default();
        let mut want = endpoint.path.split('/');
        let mut got = path.split('/');
        loop {
            match (want.next(), got.next()) {
                (None, None) => return Some((endpoint, ids)),
                (Some(slot @ ("{id}" | "{parent}")), Some(segment))
                    if !segment.is_empty() && !RESERVED_SEGMENTS.contains(&segment) =>
                {
                    let decoded = percent_decode(segment);
                    if slot == "{id}" {
                        ids.id = decoded;
                    } else {
                        ids.parent = decoded;
                    }
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
        // A nested route: the last `{id}` is the object's, `{parent}` its product's.
        let (endpoint, ids) = find_in(
            super::super::resources::ENDPOINTS,
            "DELETE",
            "/v1/products/prod_1/features/prodft_2",
        )
        .unwrap();
        assert_eq!(endpoint.path, "/v1/products/{parent}/features/{id}");
        assert_eq!(
            (ids.parent.as_str(), ids.id.as_str()),
            ("prod_1", "prodft_2")
        );
        assert!(find("POST", "/v1/products/prod_1/features/prodft_2").is_none());
    }
}
