//! `GET /v1/account`: a stable fake account per state.

use stripe_client_core::{RequestBuilder, StripeMethod};
use stripe_sandbox::SandboxConfig;

use super::support::{Req, client, start, start_with};

#[tokio::test]
async fn the_account_parses_and_is_stable() {
    let sandbox = start();
    let account: stripe_shared::Account = RequestBuilder::new(StripeMethod::Get, "/account")
        .customize()
        .send(&client(&sandbox))
        .await
        .unwrap();
    assert!(account.id.as_str().starts_with("acct_"));
    assert_eq!(account.country.as_deref(), Some("US"));
    assert_eq!(
        account.default_currency.as_ref().map(|c| c.to_string()),
        Some("usd".to_string())
    );
    assert_eq!(account.type_.as_ref().map(|t| t.as_str()), Some("standard"));
    let settings = account.settings.unwrap();
    assert_eq!(
        settings.dashboard.display_name.as_deref(),
        Some("Billing Sandbox")
    );
    assert_eq!(
        account.business_profile.unwrap().name.as_deref(),
        Some("Billing Sandbox")
    );

    let raw = Req::get("/v1/account").send(&sandbox).json();
    assert_eq!(raw["id"], account.id.as_str());
    assert_eq!(raw["object"], "account");
    assert!(
        raw.get("livemode").is_none(),
        "account objects have no livemode"
    );
    for key in [
        "charges_enabled",
        "payouts_enabled",
        "details_submitted",
        "created",
        "email",
    ] {
        assert!(raw.get(key).is_some(), "{key}");
    }
}

#[test]
fn each_state_file_is_its_own_account() {
    let dir = tempfile::tempdir().unwrap();
    let config = |name: &str| SandboxConfig {
        state: Some(dir.path().join(name).join("state.json")),
        ..SandboxConfig::default()
    };
    let id = |sandbox: &stripe_sandbox::Sandbox| {
        Req::get("/v1/account").send(sandbox).json()["id"].clone()
    };
    let a = start_with(config("a"));
    let first = id(&a);
    a.shutdown();
    let a = start_with(config("a"));
    assert_eq!(id(&a), first, "persisted with the state");
    let b = start_with(config("b"));
    assert_ne!(id(&b), first);
}
