//! Webhook endpoints (`/v1/webhook_endpoints`): parameter tables, the stored record, its JSON
//! shape and the create / retrieve / update / list / delete handlers
//! (docs/stripe-rules.md#webhook-endpoints). Which endpoints an event is delivered to is
//! [`subscribers`]; the delivery itself is `webhooks.rs`.
//!
//! `enabled_events` is a closed list (Stripe's event types, or `*`); `api_version` and `connect`
//! are fixed at creation (unknown parameters on update); `disabled` exists only on update; the
//! signing secret is shown once, in the create response; an account has at most
//! [`MAX_ENDPOINTS`]. Deletion is a hard delete.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::error::ApiError;
use crate::expand::Expand;
use crate::handler::{self, Call, Ctx, Resource};
use crate::ids;
use crate::list::{ENDING_BEFORE, LIMIT, STARTING_AFTER};
use crate::metadata;
use crate::params::{EXPAND, Field, ParamsExt, Ty};
use crate::state::{State, find, unused_id};

// ---------------------------------------------------------------------------------------------
// The stored record, its id

/// A stored webhook endpoint.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct WebhookEndpoint {
    pub id: String,
    pub seq: u64,
    /// `None`: events use the account's default version.
    pub api_version: Option<String>,
    /// Kept, never shown: Stripe's object has no `connect` field.
    pub connect: bool,
    pub created: i64,
    pub description: Option<String>,
    /// Event types, or `["*"]`.
    pub enabled_events: Vec<String>,
    pub metadata: BTreeMap<String, String>,
    /// The signing secret (`whsec_…`): shown in the create response only, kept to sign
    /// deliveries.
    pub secret: String,
    pub disabled: bool,
    pub url: String,
}

/// A webhook endpoint id: `we_1` + 23 alphanumerics (the shape of real ones).
pub(crate) fn new_id() -> String {
    ids::random("we_1", 23)
}

/// A signing secret: `whsec_` + 32 alphanumerics.
pub(crate) fn new_secret() -> String {
    ids::random("whsec_", 32)
}

/// Stripe's limit: "You can register up to 16 webhook endpoints on each Stripe account."
pub(crate) const MAX_ENDPOINTS: usize = 16;

impl WebhookEndpoint {
    /// Whether this endpoint receives events of type `kind`: enabled, and subscribed to the
    /// type or to `*`.
    fn receives(&self, kind: &str) -> bool {
        !self.disabled
            && self
                .enabled_events
                .iter()
                .any(|e| e == stripe_facts::ALL_EVENTS || e == kind)
    }
}

/// The endpoints an event of type `kind` is delivered to, oldest first.
pub(crate) fn subscribers<'s>(
    state: &'s State,
    kind: &str,
) -> impl Iterator<Item = &'s WebhookEndpoint> {
    let mut endpoints: Vec<&WebhookEndpoint> = state
        .webhook_endpoints
        .values()
        .filter(|e| e.receives(kind))
        .collect();
    endpoints.sort_by_key(|e| (e.created, e.seq));
    endpoints.into_iter()
}

// ---------------------------------------------------------------------------------------------
// Parameter tables

/// Stripe documents no length limit for `url`; 5000 characters, as for its other strings.
const URL: Ty = Ty::String { max: 5000 };
const DESCRIPTION: Ty = Ty::String { max: 5000 };
/// An event type (checked against Stripe's list by [`enabled_events`]), at most as many as
/// there are.
const ENABLED_EVENTS: Ty = Ty::Array {
    item: &Ty::String { max: 5000 },
    max: stripe_facts::EVENT_TYPES.len() + 1,
};
/// An API version (checked against Stripe's list by [`check_api_version`]).
const API_VERSION: Ty = Ty::String { max: 5000 };

/// `POST /v1/webhook_endpoints`. `disabled` is unknown here: Stripe takes it only on update.
pub(crate) static CREATE: &[Field] = &[
    Field::new("api_version", API_VERSION),
    Field::new("connect", Ty::Boolean),
    Field::new("description", DESCRIPTION).emptyable(),
    Field::new("enabled_events", ENABLED_EVENTS).required(),
    EXPAND,
    Field::new("metadata", Ty::Metadata).emptyable(),
    Field::new("url", URL).required(),
];

/// `POST /v1/webhook_endpoints/{id}`: `api_version` and `connect` cannot change (unknown here).
pub(crate) static UPDATE: &[Field] = &[
    Field::new("description", DESCRIPTION).emptyable(),
    Field::new("disabled", Ty::Boolean),
    Field::new("enabled_events", ENABLED_EVENTS),
    EXPAND,
    Field::new("metadata", Ty::Metadata).emptyable(),
    Field::new("url", URL),
];

pub(crate) static RETRIEVE: &[Field] = &[EXPAND];

/// `DELETE /v1/webhook_endpoints/{id}` takes no parameters.
pub(crate) static DELETE: &[Field] = &[];

/// `GET /v1/webhook_endpoints`: cursors only (no `created` filter).
pub(crate) static LIST: &[Field] = &[ENDING_BEFORE, EXPAND, LIMIT, STARTING_AFTER];

// ---------------------------------------------------------------------------------------------
// Rules

/// `enabled_events` as sent: each an event type Stripe accepts, or `*` alone. Stripe's list is
/// closed, so a pattern (`customer.subscription.*`) is refused. Whether Stripe accepts `*`
/// beside other types, an empty list or a type twice is unverified: refused (stricter).
fn enabled_events(values: &[Value]) -> Result<Vec<String>, ApiError> {
    if values.is_empty() {
        return Err(ApiError::invalid(
            "Invalid enabled_events: must contain at least one event type (or `*`).",
        )
        .with_param("enabled_events"));
    }
    let mut events: Vec<String> = Vec::with_capacity(values.len());
    for (i, value) in values.iter().enumerate() {
        let param = format!("enabled_events[{i}]");
        let name = value.as_str().unwrap_or_default();
        if !stripe_facts::is_event_type(name) {
            let hint = if name.ends_with('*') {
                " Patterns are not accepted: list the event types, or use `*` alone for every \
                 event."
            } else {
                ""
            };
            return Err(ApiError::invalid(format!(
                "Invalid {param}: `{name}` is not an event type webhook endpoints accept.{hint}"
            ))
            .with_param(param));
        }
        if events.iter().any(|e| e == name) {
            return Err(
                ApiError::invalid(format!("Invalid {param}: `{name}` is listed twice."))
                    .with_param(param),
            );
        }
        events.push(name.to_string());
    }
    if events.len() > 1 && events.iter().any(|e| e == stripe_facts::ALL_EVENTS) {
        return Err(ApiError::invalid(
            "Invalid enabled_events: `*` already enables every event; send it alone.",
        )
        .with_param("enabled_events"));
    }
    Ok(events)
}

/// An endpoint's `api_version`: one Stripe has published.
fn check_api_version(version: &str) -> Result<(), ApiError> {
    if stripe_facts::is_api_version(version) {
        return Ok(());
    }
    Err(ApiError::invalid(format!(
        "Invalid api_version: `{version}` is not a Stripe API version (such as `{}`).",
        stripe_facts::LATEST_API_VERSION
    ))
    .with_param("api_version"))
}

/// Where an endpoint may point, besides publicly reachable https URLs.
#[derive(Debug, Clone, Copy)]
struct UrlRules {
    /// A live-mode account: https only.
    live: bool,
    /// Hosts on this machine are accepted ([`crate::SandboxConfig::local_webhooks`]).
    local: bool,
}

/// `url`: an absolute `https://` URL with a publicly reachable host. Stripe refuses hosts on
/// the caller's machine (`localhost`, loopback addresses), in test mode too, pointing to the
/// Stripe CLI for local testing; a sandbox with local webhooks accepts them, over `http://`
/// too in test mode, because its handler runs next to it. Any other `http://` URL is refused
/// (stricter than Stripe's test mode may be).
fn check_url(url: &str, rules: UrlRules) -> Result<(), ApiError> {
    let invalid = |why: &str| {
        ApiError::invalid(format!("Invalid URL: {why}"))
            .with_code("url_invalid")
            .with_param("url")
    };
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| invalid("an absolute URL (https://…) is required."))?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.contains('@') {
        return Err(invalid(
            "a URL with credentials (user@host) is not accepted.",
        ));
    }
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(invalid("the URL contains spaces or control characters."));
    }
    let host = host_of(authority).ok_or_else(|| invalid("the URL has no valid host."))?;
    let scheme = scheme.to_ascii_lowercase();
    if stripe_facts::is_local_host(host)
        && !rules.local
        && matches!(scheme.as_str(), "http" | "https")
    {
        return Err(invalid(
            "URL must be publicly accessible. Consider using a tool like the Stripe CLI to test webhooks locally.",
        ));
    }
    match scheme.as_str() {
        "https" => Ok(()),
        "http" if !rules.live && stripe_facts::is_local_host(host) => Ok(()),
        "http" if rules.live => Err(invalid("URL must use https in live mode.")),
        "http" => Err(invalid(
            "URL must use https (http is accepted only for localhost and loopback addresses).",
        )),
        _ => Err(invalid("URL must use https.")),
    }
}

/// The URL rules of the account `ctx` serves.
fn url_rules(ctx: &Ctx<'_, '_>) -> UrlRules {
    UrlRules {
        live: ctx.live,
        local: ctx.local_webhooks,
    }
}

/// The host of an authority (`host`, `host:port`, `[v6]:port`), if it is one.
fn host_of(authority: &str) -> Option<&str> {
    let (host, port) = match authority.strip_prefix('[') {
        Some(v6) => {
            let (host, after) = v6.split_once(']')?;
            host.parse::<std::net::Ipv6Addr>().ok()?;
            (host, after.strip_prefix(':'))
        }
        None => match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        },
    };
    let name_ok = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b':'));
    let port_ok = port.is_none_or(|p| p.parse::<u16>().is_ok_and(|n| n > 0));
    (name_ok && port_ok).then_some(host)
}

// ---------------------------------------------------------------------------------------------
// Rendering

impl Resource for WebhookEndpoint {
    fn render(&self, _state: &State, _expand: &Expand, _now: i64) -> Value {
        let mut o = Map::new();
        o.insert("id".into(), json!(self.id));
        o.insert("object".into(), json!("webhook_endpoint"));
        o.insert("api_version".into(), json!(self.api_version));
        // The id of a Connect application; the sandbox has none.
        o.insert("application".into(), Value::Null);
        o.insert("created".into(), json!(self.created));
        o.insert("description".into(), json!(self.description));
        o.insert("enabled_events".into(), json!(self.enabled_events));
        o.insert("livemode".into(), json!(false));
        o.insert("metadata".into(), metadata::render(&self.metadata));
        let status = if self.disabled { "disabled" } else { "enabled" };
        o.insert("status".into(), json!(status));
        o.insert("url".into(), json!(self.url));
        Value::Object(o)
    }
}

// ---------------------------------------------------------------------------------------------
// Handlers

/// `POST /v1/webhook_endpoints`: the answer is the one that shows the secret.
pub(crate) fn create(ctx: &mut Ctx<'_, '_>, call: &Call) -> Result<Value, ApiError> {
    let p = &call.params;
    let url = p.str_of("url").unwrap_or_default();
    check_url(url, url_rules(ctx))?;
    let events = enabled_events(p.arr_of("enabled_events").map_or(&[], Vec::as_slice))?;
    if let Some(version) = p.str_of("api_version") {
        check_api_version(version)?;
    }
    let state = ctx.tx.state();
    let count = state.webhook_endpoints.len();
    if count >= MAX_ENDPOINTS {
        return Err(ApiError::invalid(format!(
            "You have reached the maximum of {MAX_ENDPOINTS} webhook endpoints on this account \
             ({count} exist). Delete one before creating another."
        ))
        .with_param("url"));
    }
    let endpoint = WebhookEndpoint {
        id: unused_id::<WebhookEndpoint>(state, new_id),
        seq: 0,
        api_version: p.str_of("api_version").map(str::to_string),
        connect: p.bool_of("connect").unwrap_or(false),
        created: ctx.now,
        description: p.str_of("description").map(str::to_string),
        enabled_events: events,
        metadata: metadata::create(p.get("metadata"), "metadata")?,
        secret: new_secret(),
        disabled: false,
        url: url.to_string(),
    };
    let secret = endpoint.secret.clone();
    let mut answer = ctx.create(endpoint, &call.expand)?;
    if let Value::Object(o) = &mut answer {
        o.insert("secret".into(), json!(secret));
    }
    Ok(answer)
}

/// `POST /v1/webhook_endpoints/{id}`.
pub(crate) fn update(ctx: &mut Ctx<'_, '_>, call: &Call) -> Result<Value, ApiError> {
    let p = &call.params;
    let mut endpoint = find::<WebhookEndpoint>(ctx.tx.state(), &call.id)?.clone();
    if let Some(url) = p.str_of("url") {
        check_url(url, url_rules(ctx))?;
        endpoint.url = url.to_string();
    }
    if let Some(values) = p.arr_of("enabled_events") {
        endpoint.enabled_events = enabled_events(values)?;
    }
    if let Some(disabled) = p.bool_of("disabled") {
        endpoint.disabled = disabled;
    }
    p.update_str("description", &mut endpoint.description, |_| Ok(()))?;
    endpoint.metadata = metadata::merge(&endpoint.metadata, p.get("metadata"), "metadata")?;
    ctx.save(endpoint, &call.expand)
}

/// `DELETE /v1/webhook_endpoints/{id}`: gone for good (its id answers 404 afterwards).
pub(crate) fn delete(ctx: &mut Ctx<'_, '_>, call: &Call) -> Result<Value, ApiError> {
    find::<WebhookEndpoint>(ctx.tx.state(), &call.id)?;
    ctx.tx.delete::<WebhookEndpoint>(&call.id);
    Ok(json!({ "id": call.id, "object": "webhook_endpoint", "deleted": true }))
}

/// `GET /v1/webhook_endpoints`.
pub(crate) fn list(ctx: &mut Ctx<'_, '_>, call: &Call) -> Result<Value, ApiError> {
    handler::page(ctx, call, "/v1/webhook_endpoints", |_: &WebhookEndpoint| {
        true
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEST: UrlRules = UrlRules {
        live: false,
        local: false,
    };
    const LOCAL: UrlRules = UrlRules {
        live: false,
        local: true,
    };
    const LIVE_LOCAL: UrlRules = UrlRules {
        live: true,
        local: true,
    };

    #[test]
    fn urls_are_public_https_or_local_http_in_a_local_test_mode_sandbox() {
        let local = [
            "http://localhost:3000/webhooks",
            "http://127.0.0.1:9/x",
            "http://[::1]:80/",
            "http://app.localhost/",
            "https://localhost/hooks",
        ];
        for ok in local {
            assert!(check_url(ok, LOCAL).is_ok(), "{ok}");
            // As Stripe: a host on the caller's machine is not publicly reachable.
            let err = check_url(ok, TEST).unwrap_err();
            assert!(err.message.contains("publicly accessible"), "{ok}");
        }
        for ok in [
            "https://example.com/hooks",
            "https://example.com:8443/a?b=c",
        ] {
            assert!(check_url(ok, TEST).is_ok(), "{ok}");
            assert!(check_url(ok, LOCAL).is_ok(), "{ok}");
        }
        for bad in [
            "example.com/hooks",
            "http://example.com/hooks",
            "ftp://example.com/",
            "https://",
            "https://user:pw@example.com/",
            "https://exa mple.com/",
            "https://example.com:0/",
            "https://[nope]/",
        ] {
            let err = check_url(bad, LOCAL).unwrap_err();
            assert_eq!(err.code, Some("url_invalid"), "{bad}");
        }
        assert!(check_url("http://localhost:3000/", LIVE_LOCAL).is_err());
        assert!(check_url("https://localhost:3000/", LIVE_LOCAL).is_ok());
        assert!(check_url("https://example.com/", LIVE_LOCAL).is_ok());
    }
}
