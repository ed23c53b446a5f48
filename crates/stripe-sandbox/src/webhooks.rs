//! Webhook delivery (docs/stripe-rules.md#webhook-endpoints): an event the sandbox records is
//! POSTed, as Stripe's Event object, to every enabled endpoint that subscribes to its type,
//! signed as Stripe signs (`Stripe-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">`,
//! keyed by the endpoint's secret), in a background task, retried on failure.
//!
//! Public for `billing sandbox trigger`: [`sample_event`] (a signed sample event of any type a
//! webhook endpoint accepts) and [`send_event`] (one signed POST).

use std::time::Duration;

use hmac::{Hmac, Mac};
use http_body_util::Full;
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};
use sha2::Sha256;

use super::ids;
use super::records::Event;
use super::resources::webhook_endpoints;
use super::samples;
use super::state::State;
use super::version::ACCOUNT_DEFAULT;

/// How long a delivery waits before each retry: four attempts in all, the last about half a
/// minute after the event. (Stripe retries for up to three days in live mode and a few hours in
/// test mode; a local sandbox scales that down.)
pub const RETRY_DELAYS: [Duration; 3] = [
    Duration::from_secs(1),
    Duration::from_secs(5),
    Duration::from_secs(25),
];

/// How long one attempt waits for the endpoint's answer.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);

/// The most delivery attempts under way at once, across all endpoints: one per endpoint an
/// account can have. Stripe delivers from its own machines; a sandbox delivers from the one
/// that serves the API, and unbounded, a burst of events to many endpoints starved the API (40
/// product creates with 16 endpoints on unresolvable hosts took 10 s instead of 0.6 s; with this
/// bound, 0.8 s). The other attempts wait their turn.
const DELIVERIES_AT_ONCE: usize = 16;

/// Turns for delivery attempts ([`DELIVERIES_AT_ONCE`]).
fn delivery_turns() -> &'static tokio::sync::Semaphore {
    static TURNS: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    TURNS.get_or_init(|| tokio::sync::Semaphore::new(DELIVERIES_AT_ONCE))
}

/// Why an event could not be sent (never names the secret).
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("{0} is not an http:// or https:// URL")]
    Url(String),
    #[error("could not reach {url}: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("{url} did not answer within {seconds} seconds")]
    TimedOut { url: String, seconds: u64 },
}

/// One event on its way to one endpoint.
#[derive(Debug, Clone)]
pub(crate) struct Delivery {
    pub url: String,
    pub secret: String,
    pub event_id: String,
    pub kind: String,
    /// The Event object, as sent.
    pub payload: String,
}

/// The deliveries of `event` (just recorded in `state`): one per enabled endpoint subscribed to
/// its type, each with the event in the endpoint's API version (the account's default when it
/// has none). `pending_webhooks` counts them.
pub(crate) fn deliveries(state: &State, event: &Event, live: bool) -> Vec<Delivery> {
    let endpoints: Vec<_> = webhook_endpoints::subscribers(state, &event.kind).collect();
    let pending = endpoints.len();
    endpoints
        .into_iter()
        .map(|endpoint| {
            let version = endpoint.api_version.as_deref().unwrap_or(ACCOUNT_DEFAULT);
            let object = event_object(event, version, pending, live);
            Delivery {
                url: endpoint.url.clone(),
                secret: endpoint.secret.clone(),
                event_id: event.id.clone(),
                kind: event.kind.clone(),
                payload: pretty(&object),
            }
        })
        .collect()
}

/// Stripe's Event object for `event`, in API version `version`.
pub(crate) fn event_object(event: &Event, version: &str, pending: usize, live: bool) -> Value {
    json!({
        "id": event.id,
        "object": "event",
        "api_version": version,
        "created": event.created,
        "data": { "object": event.object },
        "livemode": live,
        "pending_webhooks": pending,
        "request": { "id": event.request_id, "idempotency_key": event.idempotency_key },
        "type": event.kind,
    })
}

fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
}

/// Sends `deliveries` in the background, each with its retries (nothing when there is no
/// runtime to run them on). With `log`, one line per attempt on stderr.
pub(crate) fn spawn(deliveries: Vec<Delivery>, log: bool) {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return;
    };
    for delivery in deliveries {
        runtime.spawn(deliver(delivery, log));
    }
}

/// Sends one delivery until the endpoint answers 2xx or the attempts run out.
async fn deliver(delivery: Delivery, log: bool) {
    let attempts = RETRY_DELAYS.len() + 1;
    for attempt in 1..=attempts {
        let outcome = {
            // The semaphore is never closed, so a turn always comes.
            let _turn = delivery_turns().acquire().await;
            send_event(&delivery.url, &delivery.secret, &delivery.payload).await
        };
        let done = matches!(outcome, Ok(status) if (200..300).contains(&status));
        if log {
            let result = match &outcome {
                Ok(status) => format!("answered {status}"),
                Err(err) => err.to_string(),
            };
            let next = match RETRY_DELAYS.get(attempt - 1) {
                Some(delay) if !done => format!("; retrying in {} s", delay.as_secs()),
                None if !done => "; giving up".to_string(),
                _ => String::new(),
            };
            eprintln!(
                "webhook {} {} to {}: attempt {attempt}/{attempts} {result}{next}",
                delivery.event_id, delivery.kind, delivery.url
            );
        }
        match RETRY_DELAYS.get(attempt - 1) {
            Some(delay) if !done => tokio::time::sleep(*delay).await,
            _ => return,
        }
    }
}

/// The `Stripe-Signature` header for `payload` sent at `timestamp`, keyed by `secret` (the
/// whole `whsec_…` string, as Stripe's libraries use it).
pub(crate) fn signature(secret: &str, timestamp: i64, payload: &str) -> String {
    // An HMAC takes a key of any length.
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(payload.as_bytes());
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("t={timestamp},v1={hex}")
}

/// POSTs `payload` (an Event object) to `url`, signed with `secret` at the current time (the
/// system clock, which the receiver checks the timestamp against, not the sandbox's), and
/// returns the HTTP status the endpoint answered.
pub async fn send_event(url: &str, secret: &str, payload: &str) -> Result<u16, SendError> {
    send_event_within(url, secret, payload, ATTEMPT_TIMEOUT).await
}

/// [`send_event`], waiting up to `timeout` for the answer.
pub async fn send_event_within(
    url: &str,
    secret: &str,
    payload: &str,
    timeout: Duration,
) -> Result<u16, SendError> {
    let uri: hyper::Uri = url.parse().map_err(|_| SendError::Url(url.to_string()))?;
    if !matches!(uri.scheme_str(), Some("http" | "https")) || uri.host().is_none() {
        return Err(SendError::Url(url.to_string()));
    }
    let request = hyper::Request::post(uri)
        .header("content-type", "application/json; charset=utf-8")
        .header(
            "user-agent",
            "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
        )
        .header("stripe-signature", signature(secret, ids::now(), payload))
        .body(Full::new(Bytes::from(payload.to_string())))
        .map_err(|_| SendError::Url(url.to_string()))?;
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_webpki_roots()
        .https_or_http()
        .enable_http1()
        .build();
    let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build(https);
    match tokio::time::timeout(timeout, client.request(request)).await {
        Ok(Ok(response)) => Ok(response.status().as_u16()),
        Ok(Err(err)) => Err(SendError::Unreachable {
            url: url.to_string(),
            reason: reason(&err),
        }),
        Err(_) => Err(SendError::TimedOut {
            url: url.to_string(),
            seconds: timeout.as_secs(),
        }),
    }
}

/// The innermost cause of a client error (`Connection refused (os error 111)`).
fn reason(err: &(dyn std::error::Error + 'static)) -> String {
    let mut inner = err;
    while let Some(source) = inner.source() {
        inner = source;
    }
    inner.to_string()
}

/// A sample event of type `kind` (any type a webhook endpoint accepts, `*` aside) as Stripe
/// would send it, with a plausible `data.object` for its family; `None` for an unknown type.
pub fn sample_event(kind: &str) -> Option<String> {
    if kind == stripe_facts::ALL_EVENTS || !stripe_facts::is_event_type(kind) {
        return None;
    }
    let now = ids::now();
    let event = Event {
        id: ids::event(),
        seq: 0,
        created: now,
        kind: kind.to_string(),
        api_version: ACCOUNT_DEFAULT.to_string(),
        object: samples::object(kind, now),
        request_id: String::new(),
        idempotency_key: None,
    };
    let mut object = event_object(&event, ACCOUNT_DEFAULT, 1, false);
    // Not caused by an API request: Stripe sends `request.id` null.
    object["request"]["id"] = Value::Null;
    Some(pretty(&object))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_match_stripes_published_scheme() {
        // HMAC-SHA256 keyed by "whsec_test" of "1700000000.{}", computed with Python's hmac.
        let header = signature("whsec_test", 1_700_000_000, "{}");
        assert_eq!(
            header,
            "t=1700000000,v1=35495024f4ef3f94e5a93e22221544c4b75e9a42300cd965ab81cb85cd994e91"
        );
        assert_ne!(signature("whsec_other", 1_700_000_000, "{}"), header);
    }

    #[test]
    fn every_event_type_has_a_sample() {
        for kind in stripe_facts::EVENT_TYPES {
            let event: Value = serde_json::from_str(&sample_event(kind).unwrap()).unwrap();
            assert_eq!(event["type"], *kind);
            assert!(event["data"]["object"]["id"].is_string(), "{kind}");
        }
        assert!(sample_event("*").is_none());
        assert!(sample_event("price.craeted").is_none());
    }
}
