//! The failure hook and the request log.

use stripe_product::product::CreateProduct;
use stripe_sandbox::{FailureRule, SandboxConfig};

use super::support::{KEY, Req, client, product, start, start_with, stripe_error};

#[test]
fn rules_parse_and_display() {
    let rule: FailureRule = "POST /v1/prices 2 500".parse().unwrap();
    assert_eq!(
        rule,
        FailureRule::new("POST", "/v1/prices", 2, 500).unwrap()
    );
    assert_eq!(
        (
            rule.method(),
            rule.path(),
            rule.nth(),
            rule.status(),
            rule.code()
        ),
        ("POST", "/v1/prices", 2, 500, None)
    );
    assert_eq!(rule.to_string(), "POST /v1/prices 2 500");
    let err = "POST /v1/prices two 500"
        .parse::<FailureRule>()
        .unwrap_err();
    assert!(err.to_string().contains("METHOD PATH N STATUS"), "{err}");
    assert!("POST /v1/prices 1 200".parse::<FailureRule>().is_err());
    assert!("POST /v1/prices 0 500".parse::<FailureRule>().is_err());
}

#[test]
fn the_checked_constructor_refuses_what_parsing_refuses() {
    assert!(FailureRule::new("POST", "/v1/prices", 0, 500).is_err());
    assert!(FailureRule::new("POST", "/v1/prices", 1, 200).is_err());
    assert!(FailureRule::new("POST", "/v1/prices", 1, 302).is_err());
    assert!(FailureRule::new("POST", "/v1/prices", 1, 600).is_err());
    assert!(FailureRule::new("PO ST", "/v1/prices", 1, 500).is_err());
    assert!(FailureRule::new("POST", "v1/prices", 1, 500).is_err());
    assert!(FailureRule::new("POST", "/v1/prices?x=1", 1, 500).is_err());
    assert!(FailureRule::new("POST", "/v1/pri ces", 1, 500).is_err());
    let rule = FailureRule::new("post", "/v1/prices/*", 3, 503).unwrap();
    assert_eq!(rule.method(), "POST");
    assert_eq!(rule.to_string().parse::<FailureRule>().unwrap(), rule);
}

#[test]
fn rules_take_an_optional_error_code() {
    let lock: FailureRule = "POST /v1/prices 2 429 lock_timeout".parse().unwrap();
    assert_eq!((lock.status(), lock.code()), (429, Some("lock_timeout")));
    assert_eq!(lock.to_string(), "POST /v1/prices 2 429 lock_timeout");
    assert_eq!(
        FailureRule::new("POST", "/v1/prices", 2, 429)
            .unwrap()
            .with_code("lock_timeout")
            .unwrap(),
        lock
    );
    // The default code of a status is implied and not displayed.
    let rate: FailureRule = "POST /v1/prices 2 429 rate_limit".parse().unwrap();
    assert_eq!(rate, "POST /v1/prices 2 429".parse().unwrap());
    assert_eq!(
        (rate.code(), rate.to_string().as_str()),
        (Some("rate_limit"), "POST /v1/prices 2 429")
    );
    let busy: FailureRule = "POST /v1/prices 1 409".parse().unwrap();
    assert_eq!(busy.code(), Some("idempotency_key_in_use"));
    assert_eq!(
        busy,
        "POST /v1/prices 1 409 idempotency_key_in_use"
            .parse()
            .unwrap()
    );
    for rule in [
        "POST /v1/prices 2 429 lock_timeout",
        "POST /v1/prices 2 429",
        "GET /v1/prices/* 1 409",
        "DELETE /v1/products/* 4 503",
    ] {
        let parsed: FailureRule = rule.parse().unwrap();
        assert_eq!(parsed.to_string(), rule);
        assert_eq!(parsed.to_string().parse::<FailureRule>().unwrap(), parsed);
    }
    for bad in [
        "POST /v1/prices 1 409 lock_timeout",
        "POST /v1/prices 1 500 lock_timeout",
        "POST /v1/prices 1 429 teapot",
        "POST /v1/prices 1 429 lock_timeout extra",
    ] {
        let err = bad.parse::<FailureRule>().unwrap_err();
        assert!(err.to_string().contains("[CODE]"), "{err}");
    }
    assert!(
        FailureRule::new("POST", "/v1/prices", 1, 500)
            .unwrap()
            .with_code("lock_timeout")
            .is_err()
    );
}

#[test]
fn an_injected_lock_timeout_is_a_429_without_a_rate_limit_reason() {
    let sandbox = start();
    let prod = product(&sandbox, "name=Pro");
    sandbox.fail_nth("POST /v1/products/* 1 429 lock_timeout".parse().unwrap());
    sandbox.fail_nth("GET /v1/products/* 1 409".parse().unwrap());
    let res = Req::post(&format!("/v1/products/{prod}"), "name=x").send(&sandbox);
    assert_eq!(res.status, 429);
    assert_eq!(res.header("Stripe-Rate-Limited-Reason"), None);
    let body = res.json();
    assert_eq!(body["error"]["type"], "invalid_request_error");
    assert_eq!(body["error"]["code"], "lock_timeout");
    assert!(
        res.error()
            .2
            .starts_with("This object cannot be accessed right now because another API request"),
        "{}",
        res.body
    );
    // A 409 is always `idempotency_key_in_use`, with or without a key.
    let res = Req::get(&format!("/v1/products/{prod}")).send(&sandbox);
    assert_eq!(
        (res.status, res.error().0.as_deref()),
        (409, Some("idempotency_key_in_use"))
    );
    // Nothing changed.
    assert_eq!(
        Req::get(&format!("/v1/products/{prod}"))
            .send(&sandbox)
            .json()["name"],
        "Pro"
    );
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
        (409, Some("idempotency_key_in_use"))
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
        .header(
            "Authorization",
            Some(&format!("Bearer sk_live_{}", "secretsecret1234")),
        )
        .send(&sandbox);
    let log = sandbox.requests();
    // The request whose key was refused is not logged.
    assert_eq!(log.len(), 2);
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
    let dump = format!("{log:?}");
    assert!(
        !dump.contains(KEY) && !dump.contains("secretsecret"),
        "{dump}"
    );
    sandbox.clear_requests();
    assert!(sandbox.requests().is_empty());
}

#[test]
fn the_request_log_keeps_the_newest_requests_within_its_byte_limit() {
    let sandbox = start_with(SandboxConfig {
        request_log_bytes: 256 * 1024,
        ..SandboxConfig::default()
    });
    let total = 5_000;
    // One keep-alive connection, pipelined, so the order is known.
    let requests: Vec<Req> = (0..total)
        .map(|i| Req::get(&format!("/v1/products?limit=1&created%5Bgt%5D={i}")))
        .collect();
    let statuses = super::support::pipelined(&sandbox, &requests);
    assert_eq!(statuses.len(), total);
    let odd: Vec<_> = statuses
        .iter()
        .enumerate()
        .filter(|(_, s)| **s != 200)
        .take(5)
        .collect();
    assert!(odd.is_empty(), "{odd:?}");
    let log = sandbox.requests();
    // Each entry counts at least 256 bytes: at most 1,024 fit.
    assert!(log.len() > 100 && log.len() <= 1_024, "{}", log.len());
    assert_eq!(
        log[0].query,
        format!("limit=1&created%5Bgt%5D={}", total - log.len())
    );
    assert_eq!(
        log[log.len() - 1].query,
        format!("limit=1&created%5Bgt%5D={}", total - 1)
    );
    sandbox.clear_requests();
    Req::get("/v1/products").send(&sandbox);
    assert_eq!(sandbox.requests().len(), 1);
}
