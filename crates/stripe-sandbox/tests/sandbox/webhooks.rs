//! Webhook delivery: the events the sandbox records reach the endpoints that subscribe to
//! them, signed as Stripe signs, retried after a failure (docs/stripe-rules.md#webhook-endpoints).
//! A receiver on a loopback port stands in for an application, and the test checks signatures
//! with an HMAC computation of its own (`test_support::verify_signature`).

use std::time::{Duration, Instant};

use stripe_sandbox::Sandbox;
use stripe_sandbox::test_support::{WebhookReceiver as Receiver, verify_signature as verify};

use super::support::{Req, product, start_local as start};

fn encode(url: &str) -> String {
    url.replace(':', "%3A").replace('/', "%2F")
}

/// Creates an endpoint for `receiver` with `params` and returns `(id, secret)`.
fn endpoint(sandbox: &Sandbox, receiver: &Receiver, params: &str) -> (String, String) {
    let res = Req::post(
        "/v1/webhook_endpoints",
        &format!("url={}&{params}", encode(receiver.url())),
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
