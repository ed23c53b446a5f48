//! The engine against real Stripe test mode.
//!
//! Ignored by default: it needs `STRIPE_TEST_SECRET_KEY`, and `.ci/run` runs it (with
//! `--ignored`) when that key is set; run with `--ignored` and no key, it fails saying so.
//! Each run uses its own namespace and lookup keys, and archives what it created at the end,
//! so runs never see each other's objects. `STRIPE_TEST_API_BASE` points it at another
//! Stripe-compatible server (such as a `billing sandbox`) to check the suite itself.
//!
//!     STRIPE_TEST_SECRET_KEY=sk_test_… cargo test --test integration stripe_test_mode -- --ignored

use crate::engine::Run;
use crate::support::Workdir;

const KEY_VAR: &str = "STRIPE_TEST_SECRET_KEY";

/// The test-mode key; a test that runs without one fails, naming the variable.
fn key() -> String {
    std::env::var(KEY_VAR)
        .ok()
        .filter(|k| !k.is_empty())
        .unwrap_or_else(|| {
            panic!(
                "{KEY_VAR} is not set: set it to an sk_test_/rk_test_ key to run the suite against Stripe test mode"
            )
        })
}

fn billing(dir: &Workdir, key: &str, args: &[&str]) -> Run {
    let run: Run = dir
        .billing()
        .args(args)
        .arg("--api-base")
        .arg(
            std::env::var("STRIPE_TEST_API_BASE")
                .unwrap_or_else(|_| "https://api.stripe.com".to_owned()),
        )
        .env("STRIPE_SECRET_KEY", key)
        .output()
        .expect("billing runs")
        .into();
    assert!(
        !run.stdout.contains(key) && !run.stderr.contains(key),
        "the key must never be printed"
    );
    run
}

fn catalog(ns: &str, monthly: &str, percent: u32, rate: &str) -> String {
    format!(
        r#"namespace = "{ns}"

[products.pro]
name = "billing integration test ({ns})"
features = ["Test"]
default_price = "monthly"

[products.pro.prices.monthly]
amount = "{monthly}"
currency = "usd"
interval = "month"
lookup_key = "{ns}_pro_monthly"
currency_options = {{ eur = "9.00" }}

[products.pro.prices.once]
amount = "5.00"
currency = "usd"
lookup_key = "{ns}_pro_once"

[coupons.welcome]
name = "Integration test"
percent_off = {percent}
duration = "once"
applies_to = ["pro"]

[promotion_codes.welcome]
code = "{code}"
coupon = "welcome"
max_redemptions = 5

[tax_rates.sales]
display_name = "Sales tax"
percentage = "{rate}"
inclusive = false
country = "US"
state = "NY"

[portal]
name = "billing integration test ({ns})"
default_return_url = "https://example.com/account"
[portal.features]
invoice_history = true
subscription_update = {{ products = ["pro"] }}
"#,
        code = ns.to_uppercase()
    )
}

#[test]
#[ignore = "needs STRIPE_TEST_SECRET_KEY (real Stripe test mode)"]
fn plan_apply_edit_and_clean_up_against_stripe_test_mode() {
    let key = key();
    assert!(
        key.starts_with("sk_test_") || key.starts_with("rk_test_"),
        "{KEY_VAR} must be a test-mode key"
    );
    let ns = format!("itest-{:08x}", fastrand::u32(..));
    let dir = Workdir::with_catalog(&catalog(&ns, "10.00", 10, "7.5"));

    let plan = billing(&dir, &key, &["plan", "--detailed-exitcode"]);
    assert_eq!(plan.code, 2, "{}{}", plan.stdout, plan.stderr);
    assert!(plan.has("Plan: 7 to create"), "{}", plan.stdout);
    let apply = billing(&dir, &key, &["apply", "--yes"]);
    assert_eq!(apply.code, 0, "{}{}", apply.stdout, apply.stderr);
    let again = billing(&dir, &key, &["plan", "--detailed-exitcode"]);
    assert_eq!(
        again.code, 0,
        "not converged:\n{}{}",
        again.stdout, again.stderr
    );

    dir.write("billing.toml", catalog(&ns, "12.00", 15, "8.875"));
    let plan = billing(&dir, &key, &["plan", "--detailed-exitcode"]);
    assert!(plan.has("-/+ price $12.00 / month"), "{}", plan.stdout);
    assert!(
        plan.has("-/+ coupon \"Integration test\" (15% off, once)"),
        "{}",
        plan.stdout
    );
    assert!(plan.has("-/+ promotion code"), "{}", plan.stdout);
    assert!(
        plan.has("-/+ tax rate \"Sales tax\" (8.875%, exclusive)"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.has("# portals.default will be updated in place"),
        "{}",
        plan.stdout
    );
    assert_eq!(billing(&dir, &key, &["apply", "--yes"]).code, 0);
    assert_eq!(
        billing(&dir, &key, &["plan", "--detailed-exitcode"]).code,
        0
    );

    // Clean up: a catalog with only the namespace archives everything this run made.
    dir.write("billing.toml", format!("namespace = \"{ns}\"\n"));
    let cleanup = billing(&dir, &key, &["apply", "--yes"]);
    assert_eq!(cleanup.code, 0, "{}{}", cleanup.stdout, cleanup.stderr);
    assert_eq!(
        billing(&dir, &key, &["plan", "--detailed-exitcode"]).code,
        0
    );
}

fn renamable(ns: &str, product: &str, price: &str, extra: &str) -> String {
    format!(
        r#"namespace = "{ns}"

[products.{product}]
name = "billing adoption test ({ns})"
{extra}

[products.{product}.prices.{price}]
amount = "3.00"
currency = "usd"
interval = "month"
lookup_key = "{ns}_adoptable"
"#
    )
}

#[test]
#[ignore = "needs STRIPE_TEST_SECRET_KEY (real Stripe test mode)"]
fn move_forget_and_adopt_against_stripe_test_mode() {
    let key = key();
    let ns = format!("itest-{:08x}", fastrand::u32(..));
    let dir = Workdir::with_catalog(&renamable(&ns, "pro", "monthly", ""));
    assert_eq!(billing(&dir, &key, &["apply", "--yes"]).code, 0);

    // A rename with moved_from: only the markers change.
    dir.write(
        "billing.toml",
        renamable(&ns, "team", "month", "moved_from = \"pro\"").replace(
            "[products.team.prices.month]",
            "[products.team.prices.month]\nmoved_from = \"monthly\"",
        ),
    );
    let plan = billing(&dir, &key, &["plan"]);
    assert!(
        plan.has("Plan: 2 to move, 0 to create, 0 to update, 0 to replace, 0 to archive."),
        "{}{}",
        plan.stdout,
        plan.stderr
    );
    assert_eq!(billing(&dir, &key, &["apply", "--yes"]).code, 0);
    let output = billing(&dir, &key, &["output", "--format", "json"]);
    let ids: serde_json::Value = serde_json::from_str(&output.stdout).expect("output JSON");
    let product = ids["products"]["team"]
        .as_str()
        .expect("a product id")
        .to_owned();

    // Forget: the objects stay, unmanaged; the plan of a namespace-only catalog is empty.
    dir.write("billing.toml", format!("namespace = \"{ns}\"\n"));
    let forget = billing(&dir, &key, &["forget", "products.team", "--yes"]);
    assert_eq!(forget.code, 0, "{}{}", forget.stdout, forget.stderr);
    assert_eq!(
        billing(&dir, &key, &["plan", "--detailed-exitcode"]).code,
        0
    );

    // Adopt them back: the product by id, the price by its lookup key.
    dir.write(
        "billing.toml",
        renamable(&ns, "team", "month", &format!("id = \"{product}\"")),
    );
    let plan = billing(&dir, &key, &["plan"]);
    assert!(
        plan.has("Plan: 2 to adopt, 0 to create, 0 to update, 0 to replace, 0 to archive."),
        "{}{}",
        plan.stdout,
        plan.stderr
    );
    assert_eq!(billing(&dir, &key, &["apply", "--yes"]).code, 0);
    assert_eq!(
        billing(&dir, &key, &["plan", "--detailed-exitcode"]).code,
        0
    );

    // Clean up.
    dir.write("billing.toml", format!("namespace = \"{ns}\"\n"));
    assert_eq!(billing(&dir, &key, &["apply", "--yes"]).code, 0);
}

fn endpoint(ns: &str, events: &str, api_version: &str) -> String {
    format!(
        r#"namespace = "{ns}"

[webhooks.app]
url = "https://example.com/billing-integration-test/{ns}"
events = [{events}]
description = "billing integration test ({ns})"
{api_version}
"#
    )
}

#[test]
#[ignore = "needs STRIPE_TEST_SECRET_KEY (real Stripe test mode)"]
fn a_webhook_endpoint_created_updated_replaced_and_deleted_in_stripe_test_mode() {
    let key = key();
    let ns = format!("itest-{:08x}", fastrand::u32(..));
    let secret = ".billing/sandbox/webhooks/app.secret";
    let dir = Workdir::with_catalog(&endpoint(&ns, "\"invoicing\"", ""));
    let apply = billing(&dir, &key, &["apply", "--yes"]);
    assert_eq!(apply.code, 0, "{}{}", apply.stdout, apply.stderr);
    let first = dir.read(secret);
    assert!(first.starts_with("whsec_"));
    assert_eq!(
        billing(&dir, &key, &["plan", "--detailed-exitcode"]).code,
        0
    );

    // Events change in place: the secret stays.
    dir.write(
        "billing.toml",
        endpoint(&ns, "\"invoicing\", \"charge.failed\"", ""),
    );
    let plan = billing(&dir, &key, &["plan"]);
    assert!(plan.has("~ webhook endpoint"), "{}", plan.stdout);
    assert_eq!(billing(&dir, &key, &["apply", "--yes"]).code, 0);
    assert_eq!(dir.read(secret), first);

    // Another API version: a new endpoint, a new secret.
    let pinned = endpoint(
        &ns,
        "\"invoicing\", \"charge.failed\"",
        "api_version = \"2024-06-20\"",
    );
    dir.write("billing.toml", &pinned);
    let plan = billing(&dir, &key, &["plan"]);
    assert!(plan.has("-/+ webhook endpoint"), "{}", plan.stdout);
    let apply = billing(&dir, &key, &["apply", "--yes"]);
    assert_eq!(apply.code, 0, "{}{}", apply.stdout, apply.stderr);
    let second = dir.read(secret);
    assert!(second.starts_with("whsec_") && second != first);
    assert!(!apply.stdout.contains("whsec_") && !apply.stderr.contains("whsec_"));
    assert_eq!(
        billing(&dir, &key, &["plan", "--detailed-exitcode"]).code,
        0
    );

    // Removed: deleted.
    dir.write("billing.toml", format!("namespace = \"{ns}\"\n"));
    let cleanup = billing(&dir, &key, &["apply", "--yes"]);
    assert_eq!(cleanup.code, 0, "{}{}", cleanup.stdout, cleanup.stderr);
    assert!(cleanup.has("- webhook endpoint"), "{}", cleanup.stdout);
    assert_eq!(
        billing(&dir, &key, &["plan", "--detailed-exitcode"]).code,
        0
    );
}

fn entitled(ns: &str, name: &str, attached: &str) -> String {
    format!(
        r#"namespace = "{ns}"

[entitlements.export]
name = "{name}"
lookup_key = "billing_itest_{ns}"

[products.pro]
name = "billing integration test ({ns})"
entitlements = [{attached}]
"#
    )
}

/// Applies billing.toml, then checks that a new plan has nothing to do.
fn applied_and_converged(dir: &Workdir, key: &str) {
    let apply = billing(dir, key, &["apply", "--yes"]);
    assert_eq!(apply.code, 0, "{}{}", apply.stdout, apply.stderr);
    let plan = billing(dir, key, &["plan", "--detailed-exitcode"]);
    assert_eq!(plan.code, 0, "{}{}", plan.stdout, plan.stderr);
}

#[test]
#[ignore = "needs STRIPE_TEST_SECRET_KEY (real Stripe test mode)"]
fn a_feature_created_attached_renamed_detached_and_archived_in_stripe_test_mode() {
    let key = key();
    let ns = format!("itest-{:08x}", fastrand::u32(..));
    let dir = Workdir::with_catalog(&entitled(&ns, "Export", "\"export\""));
    applied_and_converged(&dir, &key);

    // Renamed in place, and detached from the product.
    dir.write("billing.toml", entitled(&ns, "Export (CSV)", ""));
    let plan = billing(&dir, &key, &["plan"]);
    assert!(plan.has("~ entitlement feature"), "{}", plan.stdout);
    assert!(plan.has("next billing period"), "{}", plan.stdout);
    assert!(
        plan.has(&format!("entitlements = [\"billing_itest_{ns}\"] → []")),
        "{}",
        plan.stdout
    );
    applied_and_converged(&dir, &key);

    // Removed: the feature and the product archived.
    dir.write("billing.toml", format!("namespace = \"{ns}\"\n"));
    applied_and_converged(&dir, &key);
}

fn metered(ns: &str, display_name: &str, active: bool, with_price: bool) -> String {
    let event = ns.replace('-', "_");
    let mut text = format!(
        r#"namespace = "{ns}"

[meters.calls]
display_name = "{display_name}"
event_name = "billing_itest_{event}"
aggregation = "sum"
active = {active}

[products.api]
name = "billing integration test ({ns})"
"#
    );
    if with_price {
        text.push_str(&format!(
            r#"
[products.api.prices.usage]
currency = "usd"
interval = "month"
meter = "calls"
unit_amount_decimal = "0.5"
lookup_key = "{ns}_usage"
"#
        ));
    }
    text
}

#[test]
#[ignore = "needs STRIPE_TEST_SECRET_KEY (real Stripe test mode)"]
fn a_meter_and_a_metered_price_created_renamed_and_retired_in_stripe_test_mode() {
    let key = key();
    let ns = format!("itest-{:08x}", fastrand::u32(..));
    let dir = Workdir::with_catalog(&metered(&ns, "API calls", true, true));
    let apply = billing(&dir, &key, &["apply", "--yes"]);
    assert_eq!(apply.code, 0, "{}{}", apply.stdout, apply.stderr);
    assert_eq!(
        billing(&dir, &key, &["plan", "--detailed-exitcode"]).code,
        0
    );

    // The display name changes in place.
    dir.write("billing.toml", metered(&ns, "Requests", true, true));
    let plan = billing(&dir, &key, &["plan"]);
    assert!(plan.has("~ billing meter"), "{}", plan.stdout);
    assert_eq!(billing(&dir, &key, &["apply", "--yes"]).code, 0);

    // The price archived, then the meter deactivated (meters cannot be deleted), and the
    // product archived.
    dir.write("billing.toml", metered(&ns, "Requests", false, false));
    let cleanup = billing(&dir, &key, &["apply", "--yes"]);
    assert_eq!(cleanup.code, 0, "{}{}", cleanup.stdout, cleanup.stderr);
    assert_eq!(
        billing(&dir, &key, &["plan", "--detailed-exitcode"]).code,
        0
    );
    dir.write("billing.toml", format!("namespace = \"{ns}\"\n"));
    let cleanup = billing(&dir, &key, &["apply", "--yes"]);
    assert_eq!(cleanup.code, 0, "{}{}", cleanup.stdout, cleanup.stderr);
}
