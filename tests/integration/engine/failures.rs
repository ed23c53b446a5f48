//! Failures: an invalid catalog sends nothing; a failed step stops its dependents; a re-run
//! converges without duplicates.

use stripe_sandbox::{FailureRule, SandboxConfig};

use super::{Env, PRO};

#[test]
fn an_invalid_catalog_sends_zero_requests() {
    let env = Env::new(&PRO.replace("amount = \"79.00\"", "amount = \"79.001\""));
    for args in [&["plan"][..], &["apply", "--yes"][..]] {
        let run = env.billing(args);
        assert_eq!(run.code, 1);
        assert!(
            run.stderr.contains("billing.toml:10:10: error:"),
            "{}",
            run.stderr
        );
        assert!(
            run.stderr.contains("nothing was sent to Stripe"),
            "{}",
            run.stderr
        );
    }
    assert!(
        env.sandbox.requests().is_empty(),
        "{:#?}",
        env.sandbox.requests()
    );
}

#[test]
fn a_failed_step_leaves_its_dependents_undone_and_a_rerun_converges_without_duplicates() {
    // The first product created is the apply lease's (`billing_lease_default`).
    let rule: FailureRule = "POST /v1/products 2 400".parse().unwrap();
    let env = Env::with_config(
        PRO,
        SandboxConfig {
            failures: vec![rule],
            ..SandboxConfig::default()
        },
    );
    let run = env.billing(&["apply", "--yes"]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.has("failed products.pro: create product"),
        "{}",
        run.stdout
    );
    assert!(run.has("not attempted prices.pro.monthly: create price (waits for products.pro: create product)"), "{}", run.stdout);
    assert!(
        run.has(
            "Apply incomplete: 0 created, 0 updated, 0 replaced, 0 archived; 1 failed, 2 not attempted."
        ),
        "{}",
        run.stdout
    );
    // A 400 is Stripe's final word: billing.toml must change, a re-run fails the same way.
    assert!(
        run.stderr.contains("must change before it can succeed"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("re-running is safe"), "{}", run.stderr);
    assert!(env.products().is_empty() && env.prices().is_empty());

    env.converge();
    assert_eq!(env.products().len(), 1);
    assert_eq!(env.prices().len(), 2);
}

#[test]
fn a_failure_in_the_middle_is_retried_with_the_same_key_and_nothing_is_duplicated() {
    // The second price creation fails with a 503 once; the client retries it with the same key.
    let rule: FailureRule = "POST /v1/prices 2 503".parse().unwrap();
    let env = Env::with_config(
        PRO,
        SandboxConfig {
            failures: vec![rule],
            ..SandboxConfig::default()
        },
    );
    env.converge();
    let posts: Vec<_> = env
        .sandbox
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path == "/v1/prices")
        .collect();
    assert_eq!(posts.len(), 3, "{posts:#?}");
    let failed: Vec<_> = posts.iter().filter(|r| r.status == 503).collect();
    assert_eq!(failed.len(), 1, "{posts:#?}");
    let retried = posts
        .iter()
        .filter(|r| r.idempotency_key == failed[0].idempotency_key && r.status == 200);
    assert_eq!(
        retried.count(),
        1,
        "the retry carries the same key: {posts:#?}"
    );
    assert_eq!(env.prices().len(), 2);
}

#[test]
fn a_step_that_keeps_failing_stops_only_its_dependents() {
    // Both price creations fail for good (a 400 is not retried): the product is created, the
    // default price step that needs the monthly price is not attempted.
    let env = Env::new(PRO);
    let mut rules = Vec::new();
    for n in 1..=2 {
        rules.push(
            format!("POST /v1/prices {n} 400")
                .parse::<FailureRule>()
                .unwrap(),
        );
    }
    for rule in rules {
        env.sandbox.fail_nth(rule);
    }
    let run = env.billing(&["apply", "--yes"]);
    assert_eq!(run.code, 1);
    assert!(run.has("2 failed"), "{}", run.stdout);
    assert!(
        run.has("not attempted products.pro: set default_price"),
        "{}",
        run.stdout
    );
    assert_eq!(env.products().len(), 1);
    assert!(env.prices().is_empty());
    env.converge();
    assert_eq!(env.products().len(), 1);
    assert_eq!(env.prices().len(), 2);
}

#[test]
fn apply_refuses_without_confirmation_when_not_on_a_terminal() {
    let env = Env::new(PRO);
    let run = env.billing(&["apply"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains("refusing to apply without confirmation"),
        "{}",
        run.stderr
    );
    assert!(
        run.has("Plan: 3 to create"),
        "the plan is shown first:\n{}",
        run.stdout
    );
    assert_eq!(env.writes(), 0);
}

#[test]
fn a_missing_key_is_an_error_naming_the_variable() {
    let env = Env::new(PRO);
    let mut cmd = env.dir.billing();
    let run: super::Run = cmd
        .args(["plan", "--api-base", &env.sandbox.base_url()])
        .output()
        .unwrap()
        .into();
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("STRIPE_SECRET_KEY is not set"),
        "{}",
        run.stderr
    );
    assert!(env.sandbox.requests().is_empty());
}

#[test]
fn a_product_declared_inactive_is_archived_only_after_its_prices() {
    let env = Env::new(PRO);
    env.converge();
    env.sandbox
        .fail_nth("POST /v1/prices/* 1 400".parse().unwrap());
    env.set_catalog(&PRO.replace("name = \"Pro\"", "name = \"Pro\"\nactive = false"));
    let run = env.billing(&["apply", "--yes"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.has("not attempted products.pro: archive product"),
        "{}",
        run.stdout
    );
    assert_eq!(env.current("products.pro")["active"], true);
    env.converge();
    assert!(env.prices().iter().all(|p| p["active"] == false));
}
