//! The failure hook and the request log.

use billing::sandbox::{FailureRule, SandboxConfig};
use stripe_product::product::CreateProduct;

use super::support::{KEY, Req, client, product, start, start_with, stripe_error};

#[test]
fn rules_parse_and_display() {
    let rule: FailureRule = "POST /v1/prices 2 500".parse().unwrap();
    assert_eq!(
        rule,
        FailureRule {
            method: "POST".into(),
            path: "/v1/prices".into(),
            nth: 2,
            status: 500
        }
    );
    assert_eq!(rule.to_string(), "POST /v1/prices 2 500");
    let err = "POST /v1/prices two 500"
        .parse::<FailureRule>()
        .unwrap_err();
    assert!(err.to_string().contains("METHOD PATH N STATUS"), "{err}");
    assert!("POST /v1/prices 1 200".parse::<FailureRule>().is_err());
    assert!("POST /v1/prices 0 500".parse::<FailureRule>().is_err());
}

#[tokio::test]
async fn only_the_nth_matching_request_fails_and_nothing_changes() {
    let sandbox = start_with(SandboxConfig {
        failures: vec!["POST /v1/products 2 500".parse().unwrap()],
        ..SandboxConfig::default()
    });
    let client = client(&sandbox);
    // GETs do not count.
    Req::get("/v1/products").send(&sandbox);
    CreateProduct::new("First").send(&client).await.unwrap();
    let (status, _, _, kind, _) = stripe_error(CreateProduct::new("Second").send(&client).await);
    assert_eq!((status, kind.as_str()), (500, "api_error"));
    CreateProduct::new("Third").send(&client).await.unwrap();
    let names: Vec<String> = Req::get("/v1/products").send(&sandbox).json()["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        names,
        ["Third", "First"],
        "the failed request changed nothing"
    );
}

#[test]
fn failures_by_status_and_wildcards() {
    let sandbox = start();
    let prod = product(&sandbox, "name=Pro");
    let p = super::support::price(
        &sandbox,
        &format!("currency=usd&product={prod}&unit_amount=1"),
    );
    sandbox.fail_nth("POST /v1/prices/* 1 429".parse().unwrap());
    sandbox.fail_nth("GET /v1/prices/* 1 409".parse().unwrap());
    sandbox.fail_nth("POST /v1/products/* 1 409".parse().unwrap());
    sandbox.fail_nth("DELETE /v1/products/* 1 403".parse().unwrap());

    let res = Req::post(&format!("/v1/prices/{p}"), "active=false").send(&sandbox);
    assert_eq!(res.status, 429);
    assert_eq!(
        res.header("Stripe-Rate-Limited-Reason"),
        Some("global-rate")
    );
    assert_eq!(res.error().0.as_deref(), Some("rate_limit"));

    let res = Req::get(&format!("/v1/prices/{p}")).send(&sandbox);
    assert_eq!(
        (res.status, res.error().0.as_deref()),
        (409, Some("lock_timeout"))
    );
    // The rate-limited update changed nothing.
    assert_eq!(
        Req::get(&format!("/v1/prices/{p}")).send(&sandbox).json()["active"],
        true
    );
    let res = Req::post(&format!("/v1/products/{prod}"), "name=x")
        .idempotency_key("k")
        .send(&sandbox);
    assert_eq!(
        (res.status, res.error().0.as_deref()),
        (409, Some("idempotency_key_in_use"))
    );
    let res = Req::delete(&format!("/v1/products/{prod}")).send(&sandbox);
    assert_eq!(
        (res.status, res.json()["error"]["type"].as_str()),
        (403, Some("invalid_request_error"))
    );
    // A failed idempotent request was not stored: the same key now executes.
    let res = Req::post(&format!("/v1/products/{prod}"), "name=x")
        .idempotency_key("k")
        .send(&sandbox);
    assert_eq!((res.status, res.header("Idempotent-Replayed")), (200, None));
}

#[test]
fn the_request_log_records_requests_but_never_the_key() {
    let sandbox = start();
    Req::post("/v1/products", "name=Logged&metadata[a]=b")
        .idempotency_key("log-key")
        .send(&sandbox);
    Req::get("/v1/products?limit=3")
        .header("Stripe-Version", None)
        .send(&sandbox);
    Req::get("/v1/products")
        .header("Authorization", Some("Bearer sk_live_secretsecret1234"))
        .send(&sandbox);
    let log = sandbox.requests();
    assert_eq!(log.len(), 3);
    assert_eq!(
        (
            log[0].method.as_str(),
            log[0].path.as_str(),
            log[0].body.as_str(),
            log[0].status
        ),
        ("POST", "/v1/products", "name=Logged&metadata[a]=b", 200)
    );
    assert_eq!(log[0].idempotency_key.as_deref(), Some("log-key"));
    assert_eq!(log[0].stripe_version.as_deref(), Some("2026-09-30.endive"));
    assert!(!log[0].replayed);
    assert_eq!(
        (log[1].query.as_str(), log[1].stripe_version.as_deref()),
        ("limit=3", None)
    );
    assert_eq!(log[2].status, 401);
    let dump = format!("{log:?}");
    assert!(
        !dump.contains(KEY) && !dump.contains("secretsecret"),
        "{dump}"
    );
    sandbox.clear_requests();
    assert!(sandbox.requests().is_empty());
}
