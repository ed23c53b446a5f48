//! Webhook delivery: the events the sandbox records reach the endpoints that subscribe to
//! them, signed as Stripe signs, retried after a failure (docs/stripe-rules.md#webhook-endpoints).
//! A receiver on a loopback port stands in for an application, and checks signatures with its
//! own HMAC computation.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;
use stripe_sandbox::Sandbox;

use super::support::{Req, product, start};

/// One POST the receiver got.
#[derive(Debug, Clone)]
struct Received {
    path: String,
    signature: String,
    content_type: String,
    body: String,
}

impl Received {
    fn event(&self) -> Value {
        serde_json::from_str(&self.body).expect("an event is JSON")
    }
}

/// An application's webhook handler on a loopback port: it answers each request with the next
/// of `statuses` (200 once they run out) and keeps what it received.
struct Receiver {
    url: String,
    got: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    fn start(statuses: &[u16]) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/stripe/webhooks", listener.local_addr().unwrap());
        let got = Arc::new(Mutex::new(Vec::new()));
        let kept = Arc::clone(&got);
        let mut statuses = statuses.to_vec().into_iter();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let received = read_request(&stream);
                let status = statuses.next().unwrap_or(200);
                let mut stream = stream;
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                );
                if let Some(received) = received {
                    kept.lock().unwrap().push(received);
                }
            }
        });
        Receiver { url, got }
    }

    /// Waits (up to 10 s) until `n` requests arrived, then returns all of them.
    fn wait_for(&self, n: usize) -> Vec<Received> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let got = self.got.lock().unwrap().clone();
            if got.len() >= n || Instant::now() > deadline {
                return got;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// What arrived so far.
    fn received(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }

    fn url_param(&self) -> String {
        self.url.replace(':', "%3A").replace('/', "%2F")
    }
}

fn read_request(stream: &std::net::TcpStream) -> Option<Received> {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let path = line.split_whitespace().nth(1)?.to_string();
    let (mut length, mut signature, mut content_type) = (0, String::new(), String::new());
    loop {
        line.clear();
        reader.read_line(&mut line).ok()?;
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        let (name, value) = header.split_once(':')?;
        match name.to_ascii_lowercase().as_str() {
            "content-length" => length = value.trim().parse().ok()?,
            "stripe-signature" => signature = value.trim().to_string(),
            "content-type" => content_type = value.trim().to_string(),
            _ => {}
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(Received {
        path,
        signature,
        content_type,
        body: String::from_utf8(body).ok()?,
    })
}

/// Checks a `Stripe-Signature` header as Stripe's libraries do: `t` within five minutes of
/// now, and a `v1` equal to the hex HMAC-SHA256 of `"{t}.{body}"` keyed by the secret.
fn verify(secret: &str, header: &str, body: &str) -> bool {
    let mut t = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.split_once('=') {
            Some(("t", value)) => t = value.parse::<i64>().ok(),
            Some(("v1", value)) => signatures.push(value.to_string()),
            _ => {}
        }
    }
    let Some(t) = t else { return false };
    let now = super::support::unix_now();
    if (now - t).abs() > 300 {
        return false;
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.{body}").as_bytes());
    let expected: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    signatures.contains(&expected)
}

/// Creates an endpoint for `receiver` with `params` and returns `(id, secret)`.
fn endpoint(sandbox: &Sandbox, receiver: &Receiver, params: &str) -> (String, String) {
    let res = Req::post(
        "/v1/webhook_endpoints",
        &format!("url={}&{params}", receiver.url_param()),
    )
    .send(sandbox);
    assert_eq!(res.status, 200, "{}", res.body);
    let body = res.json();
    let text = |key: &str| body[key].as_str().unwrap().to_string();
    (text("id"), text("secret"))
}

#[test]
fn a_recorded_event_reaches_its_endpoint_signed_with_its_secret() {
    let sandbox = start();
    let receiver = Receiver::start(&[]);
    let (_, secret) = endpoint(&sandbox, &receiver, "enabled_events[0]=product.created");
    let res = Req::post("/v1/products", "name=Pro")
        .idempotency_key("create-pro")
        .send(&sandbox);
    assert_eq!(res.status, 200);
    let got = receiver.wait_for(1);
    assert_eq!(got.len(), 1, "{got:?}");
    let delivery = &got[0];
    assert_eq!(delivery.path, "/stripe/webhooks");
    assert!(delivery.content_type.starts_with("application/json"));
    assert!(
        verify(&secret, &delivery.signature, &delivery.body),
        "{}",
        delivery.signature
    );
    assert!(!verify("whsec_wrong", &delivery.signature, &delivery.body));
    let event = delivery.event();
    assert!(event["id"].as_str().unwrap().starts_with("evt_"));
    assert_eq!(event["object"], "event");
    assert_eq!(event["type"], "product.created");
    assert_eq!(event["api_version"], "2026-09-30.endive");
    assert_eq!(event["livemode"], false);
    assert_eq!(event["pending_webhooks"], 1);
    assert_eq!(event["data"]["object"], res.json());
    assert_eq!(
        event["request"]["id"].as_str(),
        res.header("Request-Id"),
        "{event}"
    );
    assert_eq!(event["request"]["idempotency_key"], "create-pro");
    // The same event as `/v1/events` lists it.
    let listed = Req::get("/v1/events?type=product.created")
        .send(&sandbox)
        .json();
    assert_eq!(listed["data"][0]["id"], event["id"]);
    // A replayed request records no new event, so nothing more is delivered.
    let again = Req::post("/v1/products", "name=Pro")
        .idempotency_key("create-pro")
        .send(&sandbox);
    assert_eq!(again.header("Idempotent-Replayed"), Some("true"));
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(receiver.received().len(), 1);
}

#[test]
fn each_endpoint_gets_the_event_in_its_api_version_signed_with_its_own_secret() {
    let sandbox = start();
    let old = Receiver::start(&[]);
    let new = Receiver::start(&[]);
    let (_, old_secret) = endpoint(
        &sandbox,
        &old,
        "enabled_events[0]=*&api_version=2025-03-31.basil",
    );
    let (_, new_secret) = endpoint(&sandbox, &new, "enabled_events[0]=coupon.created");
    assert_ne!(old_secret, new_secret);
    Req::post("/v1/coupons", "percent_off=10").send(&sandbox);
    let (to_old, to_new) = (old.wait_for(1), new.wait_for(1));
    assert_eq!(to_old[0].event()["api_version"], "2025-03-31.basil");
    assert_eq!(to_new[0].event()["api_version"], "2026-09-30.endive");
    assert_eq!(to_old[0].event()["id"], to_new[0].event()["id"]);
    assert_eq!(to_old[0].event()["pending_webhooks"], 2);
    assert!(verify(&old_secret, &to_old[0].signature, &to_old[0].body));
    assert!(verify(&new_secret, &to_new[0].signature, &to_new[0].body));
    assert!(!verify(&old_secret, &to_new[0].signature, &to_new[0].body));
}

#[test]
fn a_failed_delivery_is_retried_until_the_endpoint_answers_2xx() {
    let sandbox = start();
    let receiver = Receiver::start(&[500]);
    let (_, secret) = endpoint(&sandbox, &receiver, "enabled_events[0]=product.created");
    let started = Instant::now();
    product(&sandbox, "name=Pro");
    let got = receiver.wait_for(2);
    assert_eq!(got.len(), 2, "{got:?}");
    // The first retry waits a second.
    assert!(started.elapsed() >= Duration::from_secs(1));
    assert_eq!(got[0].event()["id"], got[1].event()["id"]);
    assert!(verify(&secret, &got[1].signature, &got[1].body));
    // Answered 200: no third attempt.
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(receiver.received().len(), 2);
}

#[test]
fn unsubscribed_types_disabled_and_deleted_endpoints_get_nothing() {
    let sandbox = start();
    let prices_only = Receiver::start(&[]);
    let disabled = Receiver::start(&[]);
    let deleted = Receiver::start(&[]);
    endpoint(&sandbox, &prices_only, "enabled_events[0]=price.created");
    let (id, _) = endpoint(&sandbox, &disabled, "enabled_events[0]=*");
    let res = Req::post(&format!("/v1/webhook_endpoints/{id}"), "disabled=true").send(&sandbox);
    assert_eq!(res.status, 200);
    let (id, _) = endpoint(&sandbox, &deleted, "enabled_events[0]=*");
    assert_eq!(
        Req::delete(&format!("/v1/webhook_endpoints/{id}"))
            .send(&sandbox)
            .status,
        200
    );
    let prod = product(&sandbox, "name=Pro");
    Req::post(&format!("/v1/products/{prod}"), "name=Pro+2").send(&sandbox);
    Req::post(
        "/v1/prices",
        &format!("product={prod}&currency=usd&unit_amount=500"),
    )
    .send(&sandbox);
    let got = prices_only.wait_for(1);
    std::thread::sleep(Duration::from_millis(500));
    let got_all = prices_only.received();
    assert_eq!(got.len(), 1);
    assert_eq!(got_all.len(), 1, "{got_all:?}");
    assert_eq!(got_all[0].event()["type"], "price.created");
    assert!(disabled.received().is_empty());
    assert!(deleted.received().is_empty());
}
