//! Entitlement features and product features: create, retrieve, update, archive, the list
//! filters, attach, list, retrieve, detach and every refusal
//! (docs/stripe-rules.md#entitlement-features).

use serde_json::Value;
use stripe_sandbox::Sandbox;

use super::support::{RawResponse, Req, create, keys, product, start};

/// Every key of a feature, in Stripe's order (no `created`).
const FEATURE_KEYS: &[&str] = &[
    "id",
    "object",
    "active",
    "livemode",
    "lookup_key",
    "metadata",
    "name",
];
const ATTACHMENT_KEYS: &[&str] = &["id", "object", "entitlement_feature", "livemode"];

fn feature(sandbox: &Sandbox, lookup_key: &str) -> String {
    create(
        sandbox,
        "/v1/entitlements/features",
        &format!("lookup_key={lookup_key}&name=Feature+{lookup_key}"),
    )
}

fn post(sandbox: &Sandbox, path: &str, body: &str) -> RawResponse {
    Req::post(path, body).send(sandbox)
}

fn get(sandbox: &Sandbox, path: &str) -> Value {
    let res = Req::get(path).send(sandbox);
    assert_eq!(res.status, 200, "{}", res.body);
    res.json()
}

fn listed_ids(list: &Value) -> Vec<&str> {
    list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn a_feature_is_created_retrieved_renamed_and_archived() {
    let sandbox = start();
    let res = post(
        &sandbox,
        "/v1/entitlements/features",
        "lookup_key=sso&name=Single+sign-on&metadata[billing_key]=sso",
    );
    assert_eq!(res.status, 200, "{}", res.body);
    let created = res.json();
    let id = created["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("feat_"), "{id}");
    assert_eq!(keys(&created), FEATURE_KEYS);
    assert_eq!(created["object"], "entitlements.feature");
    assert_eq!(created["active"], true);
    assert_eq!(created["livemode"], false);
    assert_eq!(created["lookup_key"], "sso");
    assert_eq!(created["metadata"]["billing_key"], "sso");
    assert_eq!(
        get(&sandbox, &format!("/v1/entitlements/features/{id}")),
        created
    );

    let path = format!("/v1/entitlements/features/{id}");
    let renamed = post(&sandbox, &path, "name=SSO&metadata[team]=core").json();
    assert_eq!(renamed["name"], "SSO");
    assert_eq!(renamed["metadata"]["team"], "core");
    assert_eq!(renamed["metadata"]["billing_key"], "sso");

    // The lookup key cannot change.
    let (status, _, param, _) = post(&sandbox, &path, "lookup_key=other").refusal();
    assert_eq!((status, param.as_deref()), (400, Some("lookup_key")));

    let archived = post(&sandbox, &path, "active=false").json();
    assert_eq!(archived["active"], false);
    // Archiving is for good: no reactivation, no rename.
    for body in ["active=true", "name=Again"] {
        let (status, _, _, message) = post(&sandbox, &path, body).refusal();
        assert_eq!(status, 400, "{body}");
        assert!(message.contains("archived"), "{message}");
    }
    assert_eq!(get(&sandbox, &path)["active"], false);
}

#[tokio::test]
async fn create_refuses_missing_long_and_taken_lookup_keys() {
    let sandbox = start();
    let features = "/v1/entitlements/features";
    for (body, param) in [
        ("name=X", "lookup_key"),
        ("lookup_key=x", "name"),
        ("lookup_key=&name=X", "lookup_key"),
    ] {
        let (status, _, got, _) = post(&sandbox, features, body).refusal();
        assert_eq!((status, got.as_deref()), (400, Some(param)), "{body}");
    }
    let long = "k".repeat(81);
    let (status, _, param, _) =
        post(&sandbox, features, &format!("lookup_key={long}&name=X")).refusal();
    assert_eq!((status, param.as_deref()), (400, Some("lookup_key")));
    assert_eq!(
        post(
            &sandbox,
            features,
            &format!("lookup_key={}&name=X", "k".repeat(80))
        )
        .status,
        200
    );

    let first = feature(&sandbox, "sso");
    let (status, _, param, message) = post(&sandbox, features, "lookup_key=sso&name=Y").refusal();
    assert_eq!((status, param.as_deref()), (400, Some("lookup_key")));
    assert!(message.contains("archive"), "{message}");
    // Once archived, its key can be reused.
    post(
        &sandbox,
        &format!("/v1/entitlements/features/{first}"),
        "active=false",
    );
    let second = feature(&sandbox, "sso");
    assert_ne!(first, second);
}

#[tokio::test]
async fn the_list_filters_by_lookup_key_and_archive_status() {
    let sandbox = start();
    let old = feature(&sandbox, "sso");
    post(
        &sandbox,
        &format!("/v1/entitlements/features/{old}"),
        "active=false",
    );
    let sso = feature(&sandbox, "sso");
    let audit = feature(&sandbox, "audit_log");

    let all = get(&sandbox, "/v1/entitlements/features");
    assert_eq!(all["object"], "list");
    assert_eq!(all["url"], "/v1/entitlements/features");
    assert_eq!(listed_ids(&all), [audit.as_str(), sso.as_str()]);
    assert_eq!(keys(&all["data"][0]), FEATURE_KEYS);
    let archived = get(&sandbox, "/v1/entitlements/features?archived=true");
    assert_eq!(listed_ids(&archived), [old.as_str()]);
    let by_key = get(&sandbox, "/v1/entitlements/features?lookup_key=sso");
    assert_eq!(listed_ids(&by_key), [sso.as_str()]);
    let both = get(
        &sandbox,
        "/v1/entitlements/features?lookup_key=sso&archived=true",
    );
    assert_eq!(listed_ids(&both), [old.as_str()]);
    // No `created` filter on this list.
    let res = Req::get("/v1/entitlements/features?created[gt]=0").send(&sandbox);
    assert_eq!(res.status, 400, "{}", res.body);
}

#[tokio::test]
async fn features_are_attached_listed_retrieved_and_detached() {
    let sandbox = start();
    let pro = product(&sandbox, "name=Pro");
    let sso = feature(&sandbox, "sso");
    let audit = feature(&sandbox, "audit_log");
    let collection = format!("/v1/products/{pro}/features");

    let res = post(&sandbox, &collection, &format!("entitlement_feature={sso}"));
    assert_eq!(res.status, 200, "{}", res.body);
    let attached = res.json();
    let id = attached["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("prodft_"), "{id}");
    assert_eq!(keys(&attached), ATTACHMENT_KEYS);
    assert_eq!(attached["object"], "product_feature");
    assert_eq!(attached["livemode"], false);
    assert_eq!(attached["entitlement_feature"]["id"], sso.as_str());
    assert_eq!(keys(&attached["entitlement_feature"]), FEATURE_KEYS);
    let second = create(
        &sandbox,
        &collection,
        &format!("entitlement_feature={audit}"),
    );

    let list = get(&sandbox, &collection);
    assert_eq!(list["url"], collection.as_str());
    assert_eq!(listed_ids(&list), [second.as_str(), id.as_str()]);
    assert_eq!(get(&sandbox, &format!("{collection}/{id}")), attached);
    // Another product has none.
    let basic = product(&sandbox, "name=Basic");
    let other = get(&sandbox, &format!("/v1/products/{basic}/features"));
    assert!(listed_ids(&other).is_empty());
    let res = Req::get(&format!("/v1/products/{basic}/features/{id}")).send(&sandbox);
    assert_eq!(res.status, 404, "{}", res.body);

    let res = Req::delete(&format!("{collection}/{id}")).send(&sandbox);
    assert_eq!(res.status, 200, "{}", res.body);
    let deleted = res.json();
    assert_eq!(deleted["id"], id.as_str());
    assert_eq!(deleted["object"], "product_feature");
    assert_eq!(deleted["deleted"], true);
    assert_eq!(listed_ids(&get(&sandbox, &collection)), [second.as_str()]);
    let res = Req::delete(&format!("{collection}/{id}")).send(&sandbox);
    assert_eq!(res.status, 404, "{}", res.body);
    // A deleted product takes its attachments with it.
    assert_eq!(
        Req::delete(&format!("/v1/products/{pro}"))
            .send(&sandbox)
            .status,
        200
    );
    let res = Req::get(&format!("{collection}/{second}")).send(&sandbox);
    assert_eq!(res.status, 404, "{}", res.body);
}

#[tokio::test]
async fn attaching_refuses_archived_missing_and_duplicate_features() {
    let sandbox = start();
    let pro = product(&sandbox, "name=Pro");
    let collection = format!("/v1/products/{pro}/features");
    let sso = feature(&sandbox, "sso");
    create(&sandbox, &collection, &format!("entitlement_feature={sso}"));
    let (status, _, param, message) =
        post(&sandbox, &collection, &format!("entitlement_feature={sso}")).refusal();
    assert_eq!(
        (status, param.as_deref()),
        (400, Some("entitlement_feature"))
    );
    assert!(message.contains("already attached"), "{message}");

    let old = feature(&sandbox, "old");
    post(
        &sandbox,
        &format!("/v1/entitlements/features/{old}"),
        "active=false",
    );
    let (status, _, param, message) =
        post(&sandbox, &collection, &format!("entitlement_feature={old}")).refusal();
    assert_eq!(
        (status, param.as_deref()),
        (400, Some("entitlement_feature"))
    );
    assert!(message.contains("archived"), "{message}");

    let (status, code, param, _) =
        post(&sandbox, &collection, "entitlement_feature=feat_missing").refusal();
    assert_eq!(status, 400);
    assert_eq!(code.as_deref(), Some("resource_missing"));
    assert_eq!(param.as_deref(), Some("entitlement_feature"));
    let (status, _, param, _) = post(&sandbox, &collection, "").refusal();
    assert_eq!(
        (status, param.as_deref()),
        (400, Some("entitlement_feature"))
    );

    let res = post(
        &sandbox,
        "/v1/products/prod_missing/features",
        &format!("entitlement_feature={sso}"),
    );
    assert_eq!(res.status, 404, "{}", res.body);
    // Attachments have no update.
    let res = post(&sandbox, &format!("{collection}/prodft_x"), "");
    assert_eq!(res.status, 404, "{}", res.body);
}
