//! Webhook endpoints: create, retrieve, update, list, delete and every refusal
//! (docs/stripe-rules.md#webhook-endpoints).

use serde_json::Value;
use stripe_misc::webhook_endpoint::RetrieveWebhookEndpoint;
use stripe_sandbox::Sandbox;

use super::support::{RawResponse, Req, client, event_types, keys, start, start_local};

/// Every key of an endpoint as retrieve, update and list show it (no `secret`).
const KEYS: &[&str] = &[
    "id",
    "object",
    "api_version",
    "application",
    "created",
    "description",
    "enabled_events",
    "livemode",
    "metadata",
    "status",
    "url",
];

const HOOK: &str = "url=https%3A%2F%2Fapp.example%2Fhooks&enabled_events[0]=price.created";

fn post(sandbox: &Sandbox, path: &str, body: &str) -> RawResponse {
    Req::post(path, body).send(sandbox)
}

/// Creates an endpoint and returns its JSON (with its secret).
fn create(sandbox: &Sandbox, body: &str) -> Value {
    let res = post(sandbox, "/v1/webhook_endpoints", body);
    assert_eq!(res.status, 200, "{}", res.body);
    res.json()
}

fn refusal(res: &RawResponse) -> (u16, Option<String>, Option<String>, String) {
    res.refusal()
}

#[tokio::test]
async fn create_shows_the_secret_once_and_never_again() {
    let sandbox = start();
    let created = create(
        &sandbox,
        "url=https%3A%2F%2Fapp.example%2Fhooks&enabled_events[0]=checkout.session.completed\
         &enabled_events[1]=invoice.paid&description=Production&metadata[billing_key]=app\
         &api_version=2026-10-28.endive&connect=false",
    );
    let id = created["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("we_"), "{id}");
    let secret = created["secret"].as_str().unwrap();
    assert!(
        secret.starts_with("whsec_") && secret.len() > 20,
        "{secret}"
    );
    assert_eq!(created["object"], "webhook_endpoint");
    assert_eq!(created["api_version"], "2026-10-28.endive");
    assert_eq!(created["application"], Value::Null);
    assert_eq!(created["status"], "enabled");
    assert_eq!(created["description"], "Production");
    assert_eq!(created["metadata"]["billing_key"], "app");
    assert_eq!(
        created["enabled_events"],
        serde_json::json!(["checkout.session.completed", "invoice.paid"])
    );
    assert_eq!(created["livemode"], false);
    assert!(created.get("connect").is_none());

    let retrieved = Req::get(&format!("/v1/webhook_endpoints/{id}"))
        .send(&sandbox)
        .json();
    assert_eq!(keys(&retrieved), KEYS);
    let listed = Req::get("/v1/webhook_endpoints").send(&sandbox).json();
    assert_eq!(keys(&listed["data"][0]), KEYS);
    let updated = post(
        &sandbox,
        &format!("/v1/webhook_endpoints/{id}"),
        "description=Renamed",
    );
    assert_eq!(keys(&updated.json()), KEYS);
    for body in [&retrieved.to_string(), &listed.to_string(), &updated.body] {
        assert!(!body.contains(secret));
    }

    // async-stripe reads it.
    let typed = RetrieveWebhookEndpoint::new(id.as_str())
        .send(&client(&sandbox))
        .await
        .unwrap();
    assert_eq!(typed.url, "https://app.example/hooks");
    assert_eq!(typed.secret, None);
    assert_eq!(typed.status, "enabled");
}

#[test]
fn no_api_version_means_the_account_default() {
    let sandbox = start();
    let created = create(&sandbox, HOOK);
    assert_eq!(created["api_version"], Value::Null);
}

#[test]
fn update_changes_url_events_description_metadata_and_status_in_place() {
    let sandbox = start_local();
    let created = create(&sandbox, &format!("{HOOK}&metadata[a]=1&metadata[b]=2"));
    let path = format!("/v1/webhook_endpoints/{}", created["id"].as_str().unwrap());
    let res = post(
        &sandbox,
        &path,
        "url=http%3A%2F%2Flocalhost%3A4242%2Fwebhook&enabled_events[0]=*&description=Local\
         &metadata[a]=&disabled=true",
    );
    assert_eq!(res.status, 200, "{}", res.body);
    let updated = res.json();
    assert_eq!(updated["id"], created["id"]);
    assert_eq!(updated["url"], "http://localhost:4242/webhook");
    assert_eq!(updated["enabled_events"], serde_json::json!(["*"]));
    assert_eq!(updated["description"], "Local");
    assert_eq!(updated["metadata"], serde_json::json!({"b": "2"}));
    assert_eq!(updated["status"], "disabled");
    let cleared = post(&sandbox, &path, "description=&metadata=&disabled=false").json();
    assert_eq!(cleared["description"], Value::Null);
    assert_eq!(cleared["metadata"], serde_json::json!({}));
    assert_eq!(cleared["status"], "enabled");
    // Webhook endpoints record no events (Stripe has no event type for them).
    assert!(event_types(&sandbox).is_empty());
}

#[test]
fn api_version_and_connect_cannot_change_and_disabled_exists_only_on_update() {
    let sandbox = start();
    let created = create(&sandbox, HOOK);
    let path = format!("/v1/webhook_endpoints/{}", created["id"].as_str().unwrap());
    for param in ["api_version=2026-10-28.endive", "connect=true"] {
        let name = param.split('=').next().unwrap();
        let (status, code, got, _) = refusal(&post(&sandbox, &path, param));
        assert_eq!(
            (status, code.as_deref(), got.as_deref()),
            (400, Some("parameter_unknown"), Some(name))
        );
    }
    let (status, code, param, _) = refusal(&post(
        &sandbox,
        "/v1/webhook_endpoints",
        &format!("{HOOK}&disabled=true"),
    ));
    assert_eq!(
        (status, code.as_deref(), param.as_deref()),
        (400, Some("parameter_unknown"), Some("disabled"))
    );
}

#[test]
fn enabled_events_is_a_closed_list_and_patterns_are_refused() {
    let sandbox = start();
    let url = "url=https%3A%2F%2Fapp.example%2Fhooks";
    let cases = [
        (
            "enabled_events[0]=customer.subscription.*",
            "enabled_events[0]",
            "Patterns",
        ),
        (
            "enabled_events[0]=price.created&enabled_events[1]=price.craeted",
            "enabled_events[1]",
            "price.craeted",
        ),
        (
            "enabled_events[0]=price.created&enabled_events[1]=price.created",
            "enabled_events[1]",
            "twice",
        ),
        (
            "enabled_events[0]=*&enabled_events[1]=price.created",
            "enabled_events",
            "alone",
        ),
        ("enabled_events[0]=", "enabled_events[0]", ""),
    ];
    for (events, param, says) in cases {
        let res = post(
            &sandbox,
            "/v1/webhook_endpoints",
            &format!("{url}&{events}"),
        );
        let (status, _, got, message) = refusal(&res);
        assert_eq!(
            (status, got.as_deref()),
            (400, Some(param)),
            "{events}: {message}"
        );
        assert!(message.contains(says), "{events}: {message}");
        assert_eq!(
            res.json()["error"]["type"],
            "invalid_request_error",
            "{events}"
        );
    }
    let (status, code, param, _) = refusal(&post(&sandbox, "/v1/webhook_endpoints", url));
    assert_eq!(
        (status, code.as_deref(), param.as_deref()),
        (400, Some("parameter_missing"), Some("enabled_events"))
    );
    // Every event type Stripe lists is accepted, and so is `*` alone.
    let all: String = stripe_facts::EVENT_TYPES
        .iter()
        .enumerate()
        .map(|(i, e)| format!("&enabled_events[{i}]={e}"))
        .collect();
    create(&sandbox, &format!("{url}{all}"));
    create(&sandbox, &format!("{url}&enabled_events[0]=*"));
    assert!(Req::get("/v1/events").send(&sandbox).status == 200);
}

#[test]
fn url_and_api_version_are_checked() {
    let sandbox = start();
    let events = "enabled_events[0]=price.created";
    for url in [
        "http%3A%2F%2Fapp.example%2Fhooks",
        "app.example%2Fhooks",
        "ftp%3A%2F%2Fapp.example%2F",
    ] {
        let res = post(
            &sandbox,
            "/v1/webhook_endpoints",
            &format!("url={url}&{events}"),
        );
        let (status, code, param, message) = refusal(&res);
        assert_eq!(
            (status, code.as_deref(), param.as_deref()),
            (400, Some("url_invalid"), Some("url")),
            "{url}: {message}"
        );
    }
    // As Stripe: an endpoint on the caller's machine is not publicly reachable, in test mode
    // too; a sandbox with local webhooks (`billing sandbox`, the embedded one) takes it.
    let local = start_local();
    for url in [
        "http%3A%2F%2Flocalhost%3A3000%2Fwebhooks",
        "https%3A%2F%2Flocalhost%2Fwebhooks",
        "http%3A%2F%2F127.0.0.1%3A9%2F",
    ] {
        let res = post(
            &sandbox,
            "/v1/webhook_endpoints",
            &format!("url={url}&{events}"),
        );
        let (status, code, _, message) = refusal(&res);
        assert_eq!(
            (status, code.as_deref()),
            (400, Some("url_invalid")),
            "{url}"
        );
        assert!(
            message.contains("URL must be publicly accessible"),
            "{url}: {message}"
        );
        create(&local, &format!("url={url}&{events}"));
    }
    let res = post(
        &sandbox,
        "/v1/webhook_endpoints",
        &format!("{HOOK}&api_version=2026-13-01.endive"),
    );
    let (status, _, param, message) = refusal(&res);
    assert_eq!((status, param.as_deref()), (400, Some("api_version")));
    assert!(message.contains("2026-13-01.endive"), "{message}");
    for version in [
        "2011-01-01",
        "2025-03-31.basil",
        stripe_facts::LATEST_API_VERSION,
    ] {
        let created = create(&sandbox, &format!("{HOOK}&api_version={version}"));
        assert_eq!(created["api_version"], version);
    }
}

#[test]
fn a_live_sandbox_wants_https_even_for_localhost() {
    let sandbox = super::support::start_with(stripe_sandbox::SandboxConfig {
        live: true,
        local_webhooks: true,
        ..Default::default()
    });
    let res = Req::post(
        "/v1/webhook_endpoints",
        "url=http%3A%2F%2Flocalhost%3A3000%2F&enabled_events[0]=price.created",
    )
    .header(
        "Authorization",
        // Built at run time: no live-looking key literal in the repository.
        Some(&format!("Bearer sk_live_{}", "sandboxTests0123456789")),
    )
    .send(&sandbox);
    let (status, code, _, message) = refusal(&res);
    assert_eq!((status, code.as_deref()), (400, Some("url_invalid")));
    assert!(message.contains("live mode"), "{message}");
}

#[test]
fn the_seventeenth_endpoint_is_refused_until_one_is_deleted() {
    let sandbox = start();
    let ids: Vec<String> = (0..16)
        .map(|_| create(&sandbox, HOOK)["id"].as_str().unwrap().to_string())
        .collect();
    let res = post(&sandbox, "/v1/webhook_endpoints", HOOK);
    let (status, _, _, message) = refusal(&res);
    assert_eq!(status, 400);
    assert!(message.contains("16 webhook endpoints"), "{message}");
    assert_eq!(
        Req::get("/v1/webhook_endpoints?limit=100")
            .send(&sandbox)
            .json()["data"]
            .as_array()
            .unwrap()
            .len(),
        16
    );
    let deleted = Req::delete(&format!("/v1/webhook_endpoints/{}", ids[3])).send(&sandbox);
    assert_eq!(deleted.status, 200);
    create(&sandbox, HOOK);
}

#[test]
fn delete_is_for_good() {
    let sandbox = start();
    let id = create(&sandbox, HOOK)["id"].as_str().unwrap().to_string();
    let path = format!("/v1/webhook_endpoints/{id}");
    let res = Req::delete(&path).send(&sandbox);
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(
        res.json(),
        serde_json::json!({"id": id, "object": "webhook_endpoint", "deleted": true})
    );
    for res in [
        Req::get(&path).send(&sandbox),
        Req::delete(&path).send(&sandbox),
        post(&sandbox, &path, "description=x"),
    ] {
        let (status, code, _, message) = refusal(&res);
        assert_eq!((status, code.as_deref()), (404, Some("resource_missing")));
        assert_eq!(message, format!("No such webhook endpoint: '{id}'"));
    }
    assert_eq!(
        Req::get("/v1/webhook_endpoints").send(&sandbox).json()["data"],
        serde_json::json!([])
    );
}

#[test]
fn the_list_pages_newest_first() {
    let sandbox = start();
    let ids: Vec<String> = (0..5)
        .map(|_| create(&sandbox, HOOK)["id"].as_str().unwrap().to_string())
        .collect();
    let page = |query: &str| {
        let body = Req::get(&format!("/v1/webhook_endpoints?{query}"))
            .send(&sandbox)
            .json();
        let ids: Vec<String> = body["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["id"].as_str().unwrap().to_string())
            .collect();
        (ids, body["has_more"].as_bool().unwrap())
    };
    let newest_first: Vec<String> = ids.iter().rev().cloned().collect();
    assert_eq!(page(""), (newest_first.clone(), false));
    assert_eq!(page("limit=2"), (newest_first[..2].to_vec(), true));
    assert_eq!(
        page(&format!("limit=2&starting_after={}", newest_first[1])),
        (newest_first[2..4].to_vec(), true)
    );
    assert_eq!(
        page(&format!("ending_before={}", newest_first[2])),
        (newest_first[..2].to_vec(), false)
    );
    let res = Req::get("/v1/webhook_endpoints?limit=101").send(&sandbox);
    assert_eq!(res.status, 400);
    let res = Req::get("/v1/webhook_endpoints?created[gt]=0").send(&sandbox);
    assert_eq!(res.error().0.as_deref(), Some("parameter_unknown"));
}

#[test]
fn a_replayed_create_returns_the_same_endpoint_and_secret() {
    let sandbox = start();
    let first = Req::post("/v1/webhook_endpoints", HOOK)
        .idempotency_key("hook-1")
        .send(&sandbox);
    let again = Req::post("/v1/webhook_endpoints", HOOK)
        .idempotency_key("hook-1")
        .send(&sandbox);
    assert_eq!(again.header("Idempotent-Replayed"), Some("true"));
    assert_eq!(first.body, again.body);
    assert_eq!(
        Req::get("/v1/webhook_endpoints").send(&sandbox).json()["data"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}
