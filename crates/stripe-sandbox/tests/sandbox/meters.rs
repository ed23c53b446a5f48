//! Billing meters and metered prices: create, retrieve, update, list, deactivate, reactivate,
//! and every refusal (docs/stripe-rules.md#billing-meters).

use serde_json::{Value, json};
use stripe_sandbox::Sandbox;

use super::support::{RawResponse, Req, event_types, keys, product, start};

/// Every key of a meter.
const KEYS: &[&str] = &[
    "id",
    "object",
    "created",
    "customer_mapping",
    "default_aggregation",
    "display_name",
    "event_name",
    "event_time_window",
    "livemode",
    "status",
    "status_transitions",
    "updated",
    "value_settings",
];

const CALLS: &str = "display_name=API+calls&event_name=api_call&default_aggregation[formula]=sum";

fn post(sandbox: &Sandbox, path: &str, body: &str) -> RawResponse {
    Req::post(path, body).send(sandbox)
}

fn create(sandbox: &Sandbox, body: &str) -> Value {
    let res = post(sandbox, "/v1/billing/meters", body);
    assert_eq!(res.status, 200, "{}", res.body);
    res.json()
}

fn metered_price(sandbox: &Sandbox, product: &str, meter: &str) -> RawResponse {
    post(
        sandbox,
        "/v1/prices",
        &format!(
            "currency=usd&product={product}&unit_amount_decimal=0.5&recurring[interval]=month\
             &recurring[usage_type]=metered&recurring[meter]={meter}"
        ),
    )
}

#[tokio::test]
async fn a_meter_has_stripes_shape_and_defaults() {
    let sandbox = start();
    let meter = create(&sandbox, CALLS);
    let id = meter["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("mtr_"), "{id}");
    assert_eq!(keys(&meter), KEYS);
    assert_eq!(meter["object"], "billing.meter");
    assert_eq!(meter["status"], "active");
    assert_eq!(meter["default_aggregation"], json!({"formula": "sum"}));
    assert_eq!(
        meter["customer_mapping"],
        json!({"event_payload_key": "stripe_customer_id", "type": "by_id"})
    );
    assert_eq!(
        meter["value_settings"],
        json!({"event_payload_key": "value"})
    );
    assert_eq!(meter["event_time_window"], Value::Null);
    assert_eq!(meter["status_transitions"], json!({"deactivated_at": null}));
    let got = Req::get(&format!("/v1/billing/meters/{id}"))
        .send(&sandbox)
        .json();
    assert_eq!(got, meter);
    let custom = create(
        &sandbox,
        "display_name=Tokens&event_name=tokens&default_aggregation[formula]=last\
         &customer_mapping[event_payload_key]=customer&customer_mapping[type]=by_id\
         &value_settings[event_payload_key]=n&event_time_window=hour",
    );
    assert_eq!(custom["customer_mapping"]["event_payload_key"], "customer");
    assert_eq!(custom["value_settings"]["event_payload_key"], "n");
    assert_eq!(custom["event_time_window"], "hour");
    assert!(event_types(&sandbox).contains(&"billing.meter.created".to_string()));
}

#[tokio::test]
async fn create_refuses_missing_fields_unknown_formulas_and_a_taken_event_name() {
    let sandbox = start();
    let res = post(
        &sandbox,
        "/v1/billing/meters",
        "display_name=X&event_name=x",
    );
    assert_eq!(res.error().1.as_deref(), Some("default_aggregation"));
    let res = post(
        &sandbox,
        "/v1/billing/meters",
        "display_name=X&event_name=x&default_aggregation[formula]=max",
    );
    assert_eq!(
        res.error().1.as_deref(),
        Some("default_aggregation[formula]")
    );
    let res = post(
        &sandbox,
        "/v1/billing/meters",
        "display_name=X&event_name=x&default_aggregation[formula]=sum&customer_mapping[type]=by_id",
    );
    assert_eq!(res.status, 400);
    let first = create(&sandbox, CALLS);
    let res = post(&sandbox, "/v1/billing/meters", CALLS);
    assert_eq!(res.error().1.as_deref(), Some("event_name"), "{}", res.body);
    // Deactivated, the meter still holds its event name.
    let id = first["id"].as_str().unwrap();
    let res = post(&sandbox, &format!("/v1/billing/meters/{id}/deactivate"), "");
    assert_eq!(res.status, 200, "{}", res.body);
    let res = post(&sandbox, "/v1/billing/meters", CALLS);
    assert_eq!(res.error().1.as_deref(), Some("event_name"));
}

#[tokio::test]
async fn only_the_display_name_changes() {
    let sandbox = start();
    let meter = create(&sandbox, CALLS);
    let path = format!("/v1/billing/meters/{}", meter["id"].as_str().unwrap());
    let res = post(&sandbox, &path, "display_name=Requests");
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.json()["display_name"], "Requests");
    assert_eq!(res.json()["event_name"], "api_call");
    for immutable in [
        "event_name=other",
        "default_aggregation[formula]=count",
        "customer_mapping[event_payload_key]=c",
        "value_settings[event_payload_key]=v",
        "event_time_window=day",
    ] {
        let res = post(&sandbox, &path, immutable);
        assert_eq!(
            res.error().0.as_deref(),
            Some("parameter_unknown"),
            "{immutable}"
        );
    }
    let res = Req::delete(&path).send(&sandbox);
    assert_eq!(res.status, 404, "meters have no delete");
}

#[tokio::test]
async fn deactivation_and_reactivation_show_in_status_and_list() {
    let sandbox = start();
    let a = create(&sandbox, CALLS);
    create(
        &sandbox,
        "display_name=Seats&event_name=seat&default_aggregation[formula]=last",
    );
    let id = a["id"].as_str().unwrap();
    let res = post(&sandbox, &format!("/v1/billing/meters/{id}/deactivate"), "");
    let off = res.json();
    assert_eq!(off["status"], "inactive");
    assert!(off["status_transitions"]["deactivated_at"].is_i64());
    let res = post(&sandbox, &format!("/v1/billing/meters/{id}/deactivate"), "");
    assert_eq!(res.status, 400, "already inactive");
    let names = |query: &str| -> Vec<String> {
        let list = Req::get(&format!("/v1/billing/meters{query}"))
            .send(&sandbox)
            .json();
        assert_eq!(list["url"], "/v1/billing/meters");
        list["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["event_name"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(names("?status=inactive"), ["api_call"]);
    assert_eq!(names("?status=active"), ["seat"]);
    assert_eq!(names("").len(), 2);
    let res = post(&sandbox, &format!("/v1/billing/meters/{id}/reactivate"), "");
    assert_eq!(res.json()["status"], "active");
    assert_eq!(
        res.json()["status_transitions"]["deactivated_at"],
        Value::Null
    );
    let types = event_types(&sandbox);
    for t in ["billing.meter.deactivated", "billing.meter.reactivated"] {
        assert!(types.contains(&t.to_string()), "{t}: {types:?}");
    }
    let res = post(&sandbox, "/v1/billing/meters/mtr_nope/deactivate", "");
    assert_eq!(res.status, 404);
}

#[tokio::test]
async fn a_metered_price_names_an_active_meter() {
    let sandbox = start();
    let prod = product(&sandbox, "name=API");
    let meter = create(&sandbox, CALLS);
    let id = meter["id"].as_str().unwrap();
    let res = metered_price(&sandbox, &prod, id);
    assert_eq!(res.status, 200, "{}", res.body);
    let price = res.json();
    assert_eq!(price["recurring"]["meter"], id);
    assert_eq!(price["recurring"]["usage_type"], "metered");
    let listed = Req::get(&format!("/v1/prices?recurring[meter]={id}"))
        .send(&sandbox)
        .json();
    assert_eq!(listed["data"][0]["id"], price["id"]);
    let res = metered_price(&sandbox, &prod, "mtr_missing");
    assert_eq!(
        (res.error().0.as_deref(), res.error().1.as_deref()),
        (Some("resource_missing"), Some("recurring[meter]"))
    );
    post(&sandbox, &format!("/v1/billing/meters/{id}/deactivate"), "");
    let res = metered_price(&sandbox, &prod, id);
    assert_eq!(
        res.error().1.as_deref(),
        Some("recurring[meter]"),
        "{}",
        res.body
    );
    assert!(res.error().2.contains("inactive"), "{}", res.body);
    post(&sandbox, &format!("/v1/billing/meters/{id}/reactivate"), "");
    assert_eq!(metered_price(&sandbox, &prod, id).status, 200);
    // A licensed price cannot name a meter; aggregate_usage is gone.
    let res = post(
        &sandbox,
        "/v1/prices",
        &format!(
            "currency=usd&product={prod}&unit_amount=1&recurring[interval]=month&recurring[meter]={id}"
        ),
    );
    assert_eq!(res.error().1.as_deref(), Some("recurring[meter]"));
    let res = post(
        &sandbox,
        "/v1/prices",
        &format!(
            "currency=usd&product={prod}&unit_amount=1&recurring[interval]=month\
             &recurring[usage_type]=metered&recurring[meter]={id}&recurring[aggregate_usage]=sum"
        ),
    );
    assert_eq!(
        res.error().0.as_deref(),
        Some("parameter_unknown"),
        "{}",
        res.body
    );
}
