//! `billing doctor` through the binary and the sandbox: the score of an empty account and of
//! the same account once billing.toml is applied, the events and prices it names, the webhook
//! probe against handlers that check signatures and handlers that do not, GET requests only,
//! and the JSON report as docs/doctor-json.md documents it.

use serde_json::Value;
use stripe_sandbox::Sandbox;
use stripe_sandbox::test_support::{WebhookReceiver, price, start, start_local};

use crate::engine::{KEY, Run, billing_with_keys};
use crate::support::{Workdir, repository_catalog};

const DOCS: &str = include_str!("../../docs/doctor-json.md");

/// A catalog whose one environment, `test`, is `sandbox`, with `entries`.
fn catalog(sandbox: &Sandbox, entries: &str) -> String {
    format!(
        "{entries}\n[environments.test]\nmode = \"test\"\napi_base = \"{}\"\nsecret_key_env = \"DOCTOR_KEY\"\n",
        sandbox.base_url()
    )
}

fn billing(dir: &Workdir, args: &[&str]) -> Run {
    billing_with_keys(dir, args, &[("DOCTOR_KEY", KEY)])
}

#[track_caller]
fn ok(run: &Run) {
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
}

/// `billing doctor --format json ARGS`: the report, and the exit code.
fn report(dir: &Workdir, args: &[&str]) -> (Value, i32) {
    let mut all = vec!["doctor", "--format", "json"];
    all.extend_from_slice(args);
    let run = billing(dir, &all);
    let json: Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", run.stdout, run.stderr));
    (json, run.code)
}

/// Signal `n` (1 to 8) of a JSON report.
fn signal(report: &Value, n: usize) -> &Value {
    &report["signals"][n - 1]
}

fn statuses(report: &Value) -> Vec<String> {
    report["signals"]
        .as_array()
        .expect("signals")
        .iter()
        .map(|s| s["status"].as_str().expect("status").to_owned())
        .collect()
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect()
}

/// One recurring price, and an endpoint with `events` at `url`.
fn subscription_catalog(sandbox: &Sandbox, url: &str, events: &str) -> String {
    catalog(
        sandbox,
        &format!(
            r#"
[products.pro]
name = "Pro"

[products.pro.prices.monthly]
amount = "19.00"
currency = "usd"
interval = "month"

[webhooks.app]
url = "{url}"
events = {events}
"#
        ),
    )
}

/// [`subscription_catalog`] with the `subscriptions` preset at an https URL.
fn subscriptions_at_https(sandbox: &Sandbox) -> Workdir {
    Workdir::with_catalog(&subscription_catalog(
        sandbox,
        "https://app.example.com/stripe/webhooks",
        "[\"subscriptions\"]",
    ))
}

#[test]
fn a_fresh_clone_scores_low_until_billing_toml_is_applied_to_its_embedded_sandbox() {
    let dir = Workdir::with_catalog(&repository_catalog());
    let before = billing(&dir, &["doctor"]);
    assert_eq!(before.code, 1, "{}\n{}", before.stdout, before.stderr);
    assert!(before.stdout.contains("Score: 1/8"), "{}", before.stdout);
    for failing in [
        "1. fail",
        "3. fail",
        "4. fail",
        "6. fail",
        "8. fail",
        "2. check by hand",
        "5. check by hand",
    ] {
        assert!(
            before.stdout.contains(failing),
            "{failing}: {}",
            before.stdout
        );
    }
    assert!(
        before
            .stderr
            .contains("the score is 1/8, below --min-score 5"),
        "{}",
        before.stderr
    );
    ok(&billing(&dir, &["apply", "--yes"]));
    let after = billing(&dir, &["doctor"]);
    ok(&after);
    assert!(after.stdout.contains("Score: 6/8"), "{}", after.stdout);
    for passing in 1..=8 {
        let expected = if matches!(passing, 2 | 5) {
            "check by hand"
        } else {
            "pass"
        };
        assert!(
            after.stdout.contains(&format!("{passing}. {expected}")),
            "{passing}: {}",
            after.stdout
        );
    }
}

#[test]
fn an_empty_account_fails_what_it_lacks_and_doctor_sends_no_write() {
    // The repository's billing.toml, its `test` environment on a sandbox.
    let sandbox = start();
    let dir = Workdir::with_catalog(&repository_catalog());
    let doctor = |args: &[&str]| {
        let mut cmd = dir.billing();
        cmd.args(["-e", "test", "doctor", "--format", "json", "--api-base"])
            .arg(sandbox.base_url())
            .args(args)
            .env("STRIPE_TEST_SECRET_KEY", KEY);
        let run: Run = cmd.output().expect("billing runs").into();
        assert!(!run.stdout.contains(KEY) && !run.stderr.contains(KEY));
        let json: Value = serde_json::from_str(&run.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}\n{}", run.stdout, run.stderr));
        (json, run.code)
    };
    sandbox.clear_requests();
    let (empty, code) = doctor(&[]);
    assert_eq!(code, 1);
    assert_eq!(
        statuses(&empty),
        [
            "fail",
            "check_by_hand",
            "fail",
            "fail",
            "check_by_hand",
            "fail",
            "pass",
            "fail"
        ]
    );
    assert_eq!(
        (empty["score"].as_u64(), empty["passed"].as_bool()),
        (Some(1), Some(false))
    );
    assert_eq!(empty["environment"], "test");
    assert_eq!(
        strings(&empty["presets"]),
        ["one_time_payments", "subscriptions"]
    );
    let methods: Vec<String> = sandbox.requests().into_iter().map(|r| r.method).collect();
    assert!(!methods.is_empty());
    assert!(methods.iter().all(|m| m == "GET"), "{methods:?}");

    let mut apply = dir.billing();
    apply
        .args(["-e", "test", "apply", "--yes", "--api-base"])
        .arg(sandbox.base_url())
        .env("STRIPE_TEST_SECRET_KEY", KEY);
    ok(&apply.output().expect("billing runs").into());
    sandbox.clear_requests();
    let (applied, code) = doctor(&[]);
    assert_eq!(code, 0, "{applied:#}");
    assert_eq!(applied["score"], 6, "{applied:#}");
    assert!(
        sandbox.requests().iter().all(|r| r.method == "GET"),
        "doctor sent a write"
    );
    let (_, code) = doctor(&["--min-score", "7"]);
    assert_eq!(code, 1, "6/8 is below --min-score 7");
}

#[test]
fn a_missing_invoice_payment_failed_event_fails_signal_1_and_is_named() {
    let sandbox = start();
    let events: Vec<String> = stripe_facts::expand_pattern("customer.subscription.*")
        .into_iter()
        .chain(["invoice.payment_succeeded", "invoice.upcoming"])
        .map(|e| format!("{e:?}"))
        .collect();
    let dir = Workdir::with_catalog(&subscription_catalog(
        &sandbox,
        "https://app.example.com/stripe/webhooks",
        &format!("[{}]", events.join(", ")),
    ));
    ok(&billing(&dir, &["apply", "--yes"]));
    let (json, _) = report(&dir, &[]);
    let first = signal(&json, 1);
    assert_eq!(first["status"], "fail", "{first:#}");
    assert_eq!(strings(&first["missing"]), ["invoice.payment_failed"]);
    assert_eq!(strings(&json["presets"]), ["subscriptions"]);
    let text = billing(&dir, &["doctor"]);
    assert!(
        text.stdout
            .contains("no enabled endpoint receives invoice.payment_failed"),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout
            .contains("in [webhooks.app]: events = [\"subscriptions\"]"),
        "{}",
        text.stdout
    );
    // `[doctor] sells` asks for more: the invoicing preset's events are missing too.
    let mut with_sells = dir.read("billing.toml");
    with_sells.push_str("\n[doctor]\nsells = [\"invoicing\"]\n");
    dir.write("billing.toml", with_sells);
    let (json, _) = report(&dir, &[]);
    assert_eq!(
        strings(&signal(&json, 1)["missing"]),
        [
            "invoice.created",
            "invoice.finalized",
            "invoice.paid",
            "invoice.payment_failed"
        ]
    );
}

#[test]
fn a_price_without_a_lookup_key_fails_signal_8_and_is_named() {
    let sandbox = start();
    let dir = subscriptions_at_https(&sandbox);
    ok(&billing(&dir, &["apply", "--yes"]));
    let (json, _) = report(&dir, &[]);
    assert_eq!(signal(&json, 8)["status"], "pass", "{json:#}");
    let product = crate::support::list_all(&sandbox, "/v1/products")[0]["id"]
        .as_str()
        .expect("a product")
        .to_owned();
    let bare = price(
        &sandbox,
        &format!("product={product}&currency=usd&unit_amount=500"),
    );
    let (json, _) = report(&dir, &[]);
    let eighth = signal(&json, 8);
    assert_eq!(eighth["status"], "fail");
    assert_eq!(strings(&eighth["missing"]), [bare.as_str()]);
    let text = billing(&dir, &["doctor"]);
    assert!(
        text.stdout
            .contains(&format!("1 active price(s) have no lookup key: {bare}")),
        "{}",
        text.stdout
    );
}

#[test]
fn the_webhook_probe_passes_a_handler_that_checks_signatures_and_fails_one_that_does_not() {
    // Any secret: the probe's signature is made with a secret of its own, so it is wrong.
    let checking = WebhookReceiver::verifying("doctor-tests-signing-secret");
    let accepting = WebhookReceiver::start(&[]);
    for (receiver, expected) in [(&checking, "pass"), (&accepting, "fail")] {
        // Endpoints on this machine: a sandbox with local webhooks, as `billing sandbox`.
        let sandbox = start_local();
        let dir = Workdir::with_catalog(&subscription_catalog(
            &sandbox,
            receiver.url(),
            "[\"subscriptions\"]",
        ));
        ok(&billing(&dir, &["apply", "--yes"]));
        let (without, _) = report(&dir, &[]);
        assert_eq!(signal(&without, 2)["status"], "check_by_hand");
        assert!(
            receiver.received().is_empty(),
            "nothing is sent without the flag"
        );
        sandbox.clear_requests();
        let (probed, _) = report(&dir, &["--probe-webhooks"]);
        assert_eq!(signal(&probed, 2)["status"], expected, "{probed:#}");
        // The receiver records a request once it has answered it: wait for the record.
        let got = receiver.wait_for(1);
        assert_eq!(got.len(), 1, "one event per endpoint");
        let sent = &got[0];
        assert!(sent.signature.starts_with("t="), "{}", sent.signature);
        assert_eq!(sent.event()["type"], "invoice.upcoming");
        assert!(
            sandbox.requests().iter().all(|r| r.method == "GET"),
            "the probe goes to the endpoint, never to Stripe"
        );
    }
}

#[test]
fn the_json_report_has_the_documented_fields_and_markdown_fits_a_comment() {
    let sandbox = start();
    let dir = subscriptions_at_https(&sandbox);
    let (json, _) = report(&dir, &[]);
    assert_eq!(json["format_version"], 1);
    assert_eq!(json["out_of"], 8);
    assert_eq!(json["signals"].as_array().map(Vec::len), Some(8));
    let documented = |field: &str| DOCS.contains(&format!("| `{field}` |"));
    for field in json.as_object().expect("an object").keys() {
        assert!(documented(field), "`{field}` is not in docs/doctor-json.md");
    }
    for s in json["signals"].as_array().into_iter().flatten() {
        for field in s.as_object().expect("an object").keys() {
            assert!(documented(field), "`{field}` is not in docs/doctor-json.md");
        }
        let id = s["id"].as_str().expect("id");
        assert!(DOCS.contains(&format!("`{id}`")), "{id} is not documented");
    }
    sandbox.clear_requests();
    let bad = billing(&dir, &["doctor", "--min-score", "9"]);
    assert_eq!(bad.code, 1);
    assert!(bad.stderr.contains("--min-score"), "{}", bad.stderr);
    assert!(sandbox.requests().is_empty(), "a bad flag sends nothing");
    let md = billing(&dir, &["doctor", "--format", "markdown"]);
    assert!(
        md.stdout
            .starts_with("<!-- billing-doctor -->\n### billing doctor: ")
    );
    assert!(
        md.stdout
            .contains("| 1 | A webhook endpoint receives the events that matter | ❌ fail |"),
        "{}",
        md.stdout
    );
    assert!(md.stdout.contains("<details><summary>8. "), "{}", md.stdout);
}
