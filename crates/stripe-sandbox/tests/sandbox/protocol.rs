//! Error envelopes, request ids, authentication, `Stripe-Version` and unknown URLs.

use stripe_product::price::RetrievePrice;
use stripe_product::product::{CreateProduct, RetrieveProduct};

use super::support::{KEY, Req, client, start, stripe_error};

#[tokio::test]
async fn async_stripe_parses_the_error_envelope() {
    let sandbox = start();
    let client = client(&sandbox);
    let (status, code, param, kind, message) =
        stripe_error(RetrieveProduct::new("prod_missing").send(&client).await);
    assert_eq!(status, 404);
    assert_eq!(code.as_deref(), Some("resource_missing"));
    assert_eq!(param.as_deref(), Some("id"));
    assert_eq!(kind, "invalid_request_error");
    assert_eq!(message, "No such product: 'prod_missing'");

    let raw = Req::get("/v1/products/prod_missing").send(&sandbox);
    let body = raw.json();
    assert_eq!(
        body["error"]["doc_url"],
        "https://stripe.com/docs/error-codes/resource-missing"
    );
    let request_id = raw.header("Request-Id").expect("Request-Id header");
    assert!(request_id.starts_with("req_"));
    // No link to Stripe's dashboard, which knows nothing of the sandbox's requests.
    assert!(body["error"].get("request_log_url").is_none(), "{body}");
}

#[test]
fn every_response_carries_a_request_id() {
    let sandbox = start();
    for req in [
        Req::get("/v1/products"),
        Req::get("/v1/nothing"),
        Req::get("/v1/products").header("Authorization", None),
        Req::post("/v1/products", "name="),
    ] {
        let res = req.send(&sandbox);
        assert!(
            res.header("Request-Id")
                .is_some_and(|id| id.starts_with("req_")),
            "{res:?}"
        );
        assert_eq!(res.header("Content-Type"), Some("application/json"));
    }
}

#[test]
fn unknown_urls_and_methods_are_404() {
    let sandbox = start();
    let res = Req::get("/v1/foo").send(&sandbox);
    assert_eq!(res.status, 404);
    assert_eq!(
        res.error().2,
        "Unrecognized request URL (GET: /v1/foo). Please see https://stripe.com/docs or we can \
         help at https://support.stripe.com/."
    );
    // Prices cannot be deleted.
    let res = Req::delete("/v1/prices/price_123").send(&sandbox);
    assert_eq!(res.status, 404);
    assert!(
        res.error()
            .2
            .starts_with("Unrecognized request URL (DELETE: /v1/prices/price_123).")
    );
    assert_eq!(Req::new("PUT", "/v1/products").send(&sandbox).status, 404);
    assert_eq!(Req::get("/v1/products/").send(&sandbox).status, 404);
}

#[tokio::test]
async fn unknown_price_id_is_404_resource_missing() {
    let sandbox = start();
    let (status, code, param, _, message) = stripe_error(
        RetrievePrice::new("price_nope")
            .send(&client(&sandbox))
            .await,
    );
    assert_eq!(
        (status, code.as_deref(), param.as_deref()),
        (404, Some("resource_missing"), Some("id"))
    );
    assert_eq!(message, "No such price: 'price_nope'");
}

#[test]
fn test_keys_are_accepted_as_bearer_or_basic() {
    let sandbox = start();
    let ok = |auth: &str| {
        Req::get("/v1/products")
            .header("Authorization", Some(auth))
            .send(&sandbox)
            .status
    };
    assert_eq!(ok(&format!("Bearer {KEY}")), 200);
    assert_eq!(ok("Bearer rk_test_restricted123"), 200);
    // base64("sk_test_abc:")
    assert_eq!(ok("Basic c2tfdGVzdF9hYmM6"), 200);
}

#[test]
fn anything_but_a_test_key_is_401_without_echoing_the_key() {
    let sandbox = start();
    let live = &format!("sk_live_{}", "51AbCdEfGhIjKlMnOpQrStUvWx9876");
    for auth in [
        None,
        Some(format!("Bearer {live}")),
        Some("Bearer garbage-token-value-xyz".to_string()),
        Some("Bearer pk_test_abcdefghijklmnop".to_string()),
        Some("Token sk_test_123".to_string()),
        Some("Bearer sk_test_".to_string()),
    ] {
        let res = Req::get("/v1/products")
            .header("Authorization", auth.as_deref())
            .send(&sandbox);
        assert_eq!(res.status, 401, "{auth:?}");
        let body = res.json();
        assert_eq!(body["error"]["type"], "invalid_request_error");
        assert!(
            !res.body.contains("51AbCdEfGhIjKlMnOpQrStUvWx"),
            "{}",
            res.body
        );
        assert!(!res.body.contains("garbage-token-value"), "{}", res.body);
        assert!(!res.body.contains("dashboard.stripe.com"), "{}", res.body);
    }
    let res = Req::get("/v1/products")
        .header("Authorization", Some(&format!("Bearer {live}")))
        .send(&sandbox);
    assert!(
        res.error().2.contains("sk_live_********9876"),
        "{}",
        res.body
    );
}

#[tokio::test]
async fn a_live_key_through_async_stripe_is_a_401() {
    let sandbox = start();
    let client = stripe::ClientBuilder::new(format!("sk_live_{}", "abcdefghijklmnop1234"))
        .url(sandbox.base_url())
        .build()
        .unwrap();
    let (status, ..) = stripe_error(CreateProduct::new("x").send(&client).await);
    assert_eq!(status, 401);
    // Nothing was created.
    let list = Req::get("/v1/products").send(&sandbox).json();
    assert_eq!(list["data"].as_array().unwrap().len(), 0);
}

#[test]
fn stripe_version_is_checked_and_recorded() {
    let sandbox = start();
    let with = |v: Option<&str>| {
        Req::get("/v1/products")
            .header("Stripe-Version", v)
            .send(&sandbox)
    };
    assert_eq!(with(Some("2026-09-30.endive")).status, 200);
    assert_eq!(with(Some("2026-09-30.endive; foo_beta=v2")).status, 200);
    assert_eq!(with(None).status, 200);
    let bad = with(Some("not-a-version"));
    assert_eq!(bad.status, 400);
    assert!(
        bad.error()
            .2
            .starts_with("Invalid Stripe API version: not-a-version")
    );
    assert_eq!(
        with(Some("2026-02-30")).status,
        400,
        "versions since acacia carry a name"
    );
    let versions: Vec<Option<String>> = sandbox
        .requests()
        .into_iter()
        .map(|r| r.stripe_version)
        .collect();
    assert_eq!(
        versions,
        vec![
            Some("2026-09-30.endive".to_string()),
            Some("2026-09-30.endive; foo_beta=v2".to_string()),
            None,
            Some("not-a-version".to_string()),
            Some("2026-02-30".to_string()),
        ]
    );
}

#[tokio::test]
async fn async_stripe_sends_the_pinned_version() {
    let sandbox = start();
    CreateProduct::new("Pinned")
        .send(&client(&sandbox))
        .await
        .unwrap();
    let logged = sandbox.requests();
    assert_eq!(
        logged[0].stripe_version.as_deref(),
        Some("2026-09-30.endive")
    );
}

#[test]
fn malformed_bodies_get_400_never_a_crash() {
    let sandbox = start();
    for body in [
        "a=1&a[b]=2",
        "name=x&name=y",
        "metadata[a[b]]=1",
        "name=x&tiers[][up_to]=1",
        "%ff%fe=1",
        "[x]=1",
        "name[0]=x",
    ] {
        let res = Req::post("/v1/products", body).send(&sandbox);
        assert_eq!(res.status, 400, "{body}: {}", res.body);
    }
    let res = Req::post("/v1/products", "name=x")
        .header("Content-Type", Some("application/json"))
        .send(&sandbox);
    assert_eq!(res.status, 400);
    // The server is still up.
    assert_eq!(Req::get("/v1/products").send(&sandbox).status, 200);
}

#[test]
fn only_versions_stripe_knows_are_accepted() {
    let sandbox = start();
    let with = |v: &str| {
        Req::get("/v1/products")
            .header("Stripe-Version", Some(v))
            .send(&sandbox)
    };
    for known in [
        "2026-09-30.endive",
        "2026-08-26.dahlia",
        "2025-03-31.basil; foo_beta=v1",
        "2024-06-20",
        "2011-01-01",
    ] {
        let res = with(known);
        assert_eq!(res.status, 200, "{known}: {}", res.body);
        assert_eq!(res.header("Stripe-Version"), Some(known));
    }
    for unknown in [
        "2026-09-31.endive",
        "2026-09-30.dahlia",
        "2030-01-01.zebra",
        "2023-10-17",
        "2026-10-01.endive; foo_beta=v1",
    ] {
        let res = with(unknown);
        assert_eq!(res.status, 400, "{unknown}: {}", res.body);
        assert_eq!(res.json()["error"]["type"], "invalid_request_error");
        assert!(
            res.error()
                .2
                .starts_with(&format!("Invalid Stripe API version: {unknown}")),
            "{}",
            res.body
        );
    }
}
