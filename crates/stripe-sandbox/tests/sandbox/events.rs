//! `/v1/events`: one event per successful write, newest first, filterable by type.

use serde_json::Value;

use super::support::{Req, price, product, start};

fn events(sandbox: &stripe_sandbox::Sandbox, query: &str) -> Vec<Value> {
    let res = Req::get(&format!("/v1/events?limit=100{query}")).send(sandbox);
    assert_eq!(res.status, 200, "{}", res.body);
    let body = res.json();
    assert_eq!(body["object"], "list");
    assert_eq!(body["url"], "/v1/events");
    body["data"].as_array().cloned().unwrap_or_default()
}

#[test]
fn every_successful_write_records_one_event_newest_first() {
    let sandbox = start();
    let prod = product(&sandbox, "name=Pro");
    let p = price(
        &sandbox,
        &format!("product={prod}&currency=usd&unit_amount=500"),
    );
    let res = Req::post(&format!("/v1/prices/{p}"), "nickname=Five")
        .idempotency_key("events-update")
        .send(&sandbox);
    assert_eq!(res.status, 200, "{}", res.body);
    let all = events(&sandbox, "");
    let kinds: Vec<&str> = all.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["price.updated", "price.created", "product.created"]);
    assert_eq!(all[0]["object"], "event");
    assert_eq!(all[0]["data"]["object"]["id"], p.as_str());
    assert_eq!(all[0]["data"]["object"]["nickname"], "Five");
    assert_eq!(all[0]["request"]["idempotency_key"], "events-update");
    assert_eq!(all[0]["livemode"], false);
    assert!(all[0]["id"].as_str().unwrap().starts_with("evt_"));

    let one = Req::get(&format!("/v1/events/{}", all[2]["id"].as_str().unwrap())).send(&sandbox);
    assert_eq!(one.status, 200);
    assert_eq!(one.json()["type"], "product.created");
    assert_eq!(Req::get("/v1/events/evt_nope").send(&sandbox).status, 404);
}

#[test]
fn failed_writes_and_replays_record_nothing() {
    let sandbox = start();
    let prod = product(&sandbox, "name=Pro");
    let refused = Req::post(
        "/v1/prices",
        &format!("product={prod}&currency=usd&unit_amount=-1"),
    )
    .idempotency_key("events-refused")
    .send(&sandbox);
    assert_eq!(refused.status, 400);
    let first = Req::post(&format!("/v1/products/{prod}"), "name=Pro2")
        .idempotency_key("events-replay")
        .send(&sandbox);
    let replay = Req::post(&format!("/v1/products/{prod}"), "name=Pro2")
        .idempotency_key("events-replay")
        .send(&sandbox);
    assert_eq!((first.status, replay.status), (200, 200));
    assert_eq!(replay.header("Idempotent-Replayed"), Some("true"));
    let kinds: Vec<String> = events(&sandbox, "")
        .iter()
        .map(|e| e["type"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(kinds, ["product.updated", "product.created"]);
}

#[test]
fn events_filter_by_type_wildcard_and_types() {
    let sandbox = start();
    let prod = product(&sandbox, "name=Pro");
    price(
        &sandbox,
        &format!("product={prod}&currency=usd&unit_amount=500"),
    );
    let only = |q: &str| -> Vec<String> {
        events(&sandbox, q)
            .iter()
            .map(|e| e["type"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(only("&type=price.created"), ["price.created"]);
    assert_eq!(only("&type=product.*"), ["product.created"]);
    assert_eq!(
        only("&types[]=product.created&types[]=price.created"),
        ["price.created", "product.created"]
    );
    assert!(only("&type=coupon.*").is_empty());
    let both = Req::get("/v1/events?type=price.created&types[]=price.created").send(&sandbox);
    assert_eq!(both.status, 400);
    let limit = Req::get("/v1/events?limit=1").send(&sandbox).json();
    assert_eq!(limit["has_more"], true);
    assert_eq!(limit["data"].as_array().map(Vec::len), Some(1));
}
