//! Apply under faults (issue #8): random 429s, lock timeouts, 5xx, connection resets and lost
//! responses from the sandbox; `billing apply` killed at random points; two applies at once.
//! In every case a few re-runs converge, and each catalog entry ends up as exactly one object
//! in Stripe (no duplicate, active or archived) with the declared fields (an empty plan).

use std::collections::BTreeMap;
use std::process::{Child, Stdio};
use std::time::Duration;

use serde_json::Value;
use stripe_sandbox::{Chaos, Fault, Latency, SandboxConfig};

use super::{Env, KEY, Run, squash};
use crate::support::MARKED_LISTS;

/// Products in the large catalog: each has three prices, so with the coupons, promotion codes,
/// the tax rate, the portal and the newer kinds (`NEWER_KINDS`: a product and its metered
/// price, a webhook endpoint, two entitlement features; the meter carries no marker) there are
/// `ENTRIES` objects with billing's marker.
const PRODUCTS: usize = 25;
const COUPONS: usize = 5;
pub(super) const ENTRIES: usize = PRODUCTS * 4 + COUPONS * 2 + 2 + 5;
/// The entries `edited_catalog` replaces: their predecessors stay, archived.
const REPLACED: &[&str] = &[
    "prices.p3.monthly",
    "prices.p7.annual",
    "promotion_codes.CODE2",
];

/// A catalog of `ENTRIES` objects of every kind, with references between them.
pub(super) fn large_catalog() -> String {
    let mut text = String::from("namespace = \"chaos\"\n");
    for i in 0..PRODUCTS {
        text.push_str(&format!(
            r#"
[products.p{i}]
name = "Product {i}"
description = "Plan number {i}"
default_price = "monthly"
metadata = {{ rank = "{i}" }}

[products.p{i}.prices.monthly]
amount = "{i}.50"
currency = "usd"
interval = "month"
lookup_key = "p{i}_monthly"

[products.p{i}.prices.annual]
amount = "{i}0.00"
currency = "usd"
interval = "year"
currency_options = {{ eur = "{i}1.00" }}

[products.p{i}.prices.once]
amount = "{i}9.99"
currency = "eur"
"#
        ));
    }
    for i in 0..COUPONS {
        text.push_str(&format!(
            r#"
[coupons.c{i}]
name = "Coupon {i}"
percent_off = {}
duration = "once"
applies_to = ["p{i}"]

[promotion_codes.CODE{i}]
coupon = "c{i}"
max_redemptions = 10
"#,
            10 + i
        ));
    }
    text.push_str(
        r#"
[tax_rates.vat_de]
display_name = "VAT"
percentage = 19
inclusive = false
country = "DE"
tax_type = "vat"

[portal]
default_return_url = "https://app.example.com/billing"
[portal.features]
invoice_history = true
subscription_update = { products = ["p0", "p1"], proration_behavior = "none" }
"#,
    );
    text.push_str(NEWER_KINDS);
    text
}

/// Runs billing with fast client rates (the sandbox has no limiter unless a test sets one).
fn run(env: &Env, args: &[&str]) -> Run {
    let mut all = vec!["--rate", "1000", "--endpoint-rate", "1000"];
    all.extend_from_slice(args);
    env.billing(&all)
}

/// Every object carrying the `chaos` namespace's marker, by address.
fn managed(env: &Env) -> BTreeMap<String, Vec<Value>> {
    // Prices with the fields they compare expanded; every other list as it is.
    let mut all = env.prices();
    let others = MARKED_LISTS.iter().filter(|p| !p.starts_with("/v1/prices"));
    for path in others {
        all.extend(env.list(path));
    }
    let mut by_address: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for object in all {
        if object["metadata"]["billing_ns"] == "chaos"
            && let Some(address) = object["metadata"]["billing_key"].as_str()
        {
            by_address
                .entry(address.to_owned())
                .or_default()
                .push(object);
        }
    }
    by_address
}

/// Whether an object is current: active, a coupon (coupons have no `active`), or an enabled
/// webhook endpoint.
fn is_current(object: &Value) -> bool {
    object["active"] == true
        || object["object"] == "coupon"
        || (object["object"] == "webhook_endpoint" && object["status"] == "enabled")
}

/// The plan is empty (every field as declared) and each entry is exactly one current object;
/// the only other managed objects are the archived predecessors of `replaced` entries, one each.
fn assert_converged(env: &Env, context: &str, replaced: &[&str]) {
    env.sandbox.set_chaos(Chaos::default()).expect("no chaos");
    let plan = env.plan();
    assert_eq!(
        plan.code, 0,
        "{context}: not converged; the plan is:\n{}{}",
        plan.stdout, plan.stderr
    );
    let managed = managed(env);
    let wrong: Vec<_> = managed
        .iter()
        .filter(|(address, objects)| {
            let current = objects.iter().filter(|o| is_current(o)).count();
            let archived = objects.len() - current;
            let expected = usize::from(replaced.contains(&address.as_str()));
            current != 1 || archived != expected
        })
        .map(|(address, objects)| {
            let ids: Vec<_> = objects
                .iter()
                .map(|o| format!("{} active={}", o["id"], o["active"]))
                .collect();
            format!("{address}: {ids:?}")
        })
        .collect();
    assert!(
        wrong.is_empty(),
        "{context}: duplicated or missing: {wrong:#?}"
    );
    assert_eq!(managed.len(), ENTRIES, "{context}: {:#?}", managed.keys());
    // The meter (no marker: found by its event name) and the API product's two features.
    let meters = env.list("/v1/billing/meters");
    assert_eq!(meters.len(), 1, "{context}: {meters:#?}");
    let api = env.id("products.api");
    let attached = env.list(&format!("/v1/products/{api}/features"));
    assert_eq!(attached.len(), 2, "{context}: {attached:#?}");
}

/// Applies up to `runs` times; returns the exit codes.
fn apply_until_clean(env: &Env, runs: usize, context: &str) -> Vec<i32> {
    let mut codes = Vec::new();
    for _ in 0..runs {
        let run = run(env, &["apply", "--yes"]);
        codes.push(run.code);
        assert!(
            run.code == 0 || run.code == 1,
            "{context}: apply exited {}:\n{}{}",
            run.code,
            run.stdout,
            run.stderr
        );
        assert!(
            !run.stderr.contains("panicked"),
            "{context}: {}",
            run.stderr
        );
        if run.code == 0 {
            break;
        }
        // A failed apply says what failed and that a re-run is safe.
        assert!(
            squash(&run.stderr).contains("re-running is safe"),
            "{context}: {}",
            run.stderr
        );
    }
    codes
}

fn chaos(seed: u64, p: f64) -> Chaos {
    Chaos {
        seed: Some(seed),
        latency: Some(Latency::new(Duration::ZERO, Duration::from_millis(3)).unwrap()),
        ..Chaos::spread(p)
    }
}

/// Applies the catalog (at most `runs` times) under a share `p` of faults drawn from `seed`,
/// checks the result, and returns the applies it took and the faults met.
fn converge_under_chaos(catalog: &str, seed: u64, p: f64, runs: usize) -> (usize, Vec<Fault>) {
    let env = Env::with_config(
        catalog,
        SandboxConfig {
            // The catalog's webhook endpoint is on this machine.
            local_webhooks: true,
            chaos: chaos(seed, p),
            ..SandboxConfig::default()
        },
    );
    let context = format!("seed {seed}, {:.0}% faults", p * 100.0);
    let codes = apply_until_clean(&env, runs, &context);
    assert_eq!(codes.last(), Some(&0), "{context}: exit codes {codes:?}");
    let faults = env
        .sandbox
        .requests()
        .iter()
        .filter_map(|r| r.fault)
        .collect();
    assert_converged(&env, &context, &[]);
    (codes.len(), faults)
}

/// [`converge_under_chaos`] for each of `seeds` on `threads` threads (most of the time is
/// spent in backoff, not on the CPU).
fn converge_seeds(
    seeds: std::ops::Range<u64>,
    threads: u64,
    p: f64,
    runs: usize,
) -> Vec<(usize, Vec<Fault>)> {
    let catalog = large_catalog();
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|worker| {
                let (catalog, seeds) = (&catalog, seeds.clone());
                scope.spawn(move || {
                    seeds
                        .filter(|seed| seed % threads == worker)
                        .map(|seed| converge_under_chaos(catalog, seed, p, runs))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().expect("a seed failed"))
            .collect()
    })
}

#[test]
fn twenty_seeds_of_twenty_percent_faults_converge_within_three_applies() {
    let results = converge_seeds(1..21, 4, 0.2, 3);
    let runs_needed: Vec<usize> = results.iter().map(|(runs, _)| *runs).collect();
    let mut faults = BTreeMap::new();
    for fault in results.iter().flat_map(|(_, faults)| faults) {
        *faults.entry(fault.to_string()).or_insert(0usize) += 1;
    }
    // Every kind of fault was met (over thousands of requests, each kind is ~4% of them).
    for kind in [
        "rate_limit",
        "lock_timeout",
        "server_error",
        "reset",
        "lost_response",
    ] {
        assert!(
            faults.keys().any(|k| k.contains(kind)),
            "no {kind} fault in {faults:?}"
        );
    }
    eprintln!("applies needed per seed: {runs_needed:?}; faults met: {faults:?}");
}

/// A count from the environment variable `name`, else `default`: the long variants of these
/// tests run more seeds or trials than CI's budget allows.
fn count_from_env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

#[test]
fn forty_percent_faults_converge_within_two_applies() {
    // 2 seeds in CI (each meets about a hundred faults); BILLING_CHAOS_SEEDS=40 for the long
    // variant.
    let seeds = count_from_env("BILLING_CHAOS_SEEDS", 2);
    let results = converge_seeds(100..100 + seeds, 2, 0.4, 2);
    let faults: usize = results.iter().map(|(_, faults)| faults.len()).sum();
    let runs_needed: Vec<usize> = results.iter().map(|(runs, _)| *runs).collect();
    assert!(faults > 0, "the faults this test is about were met");
    eprintln!("applies needed per seed: {runs_needed:?}; {faults} faults met");
}

#[test]
fn stripe_like_rate_limits_are_met_by_pacing_and_slowing_down() {
    // The sandbox limits like Stripe's test mode (25/s overall, 25/s per endpoint); the client
    // is told to pace at 2,000/s, so it meets 429s (however slow this machine is, it sends
    // well over 25 requests a second) and slows down.
    let env = Env::with_config(
        &large_catalog(),
        SandboxConfig {
            // The catalog's webhook endpoint is on this machine.
            local_webhooks: true,
            chaos: Chaos {
                seed: Some(8),
                global_rate: Some(25),
                endpoint_rate: Some(25),
                ..Chaos::default()
            },
            ..SandboxConfig::default()
        },
    );
    let apply = env.billing(&[
        "--rate",
        "2000",
        "--endpoint-rate",
        "2000",
        "apply",
        "--yes",
    ]);
    assert_eq!(apply.code, 0, "{}{}", apply.stdout, apply.stderr);
    let limited = env
        .sandbox
        .requests()
        .iter()
        .filter(|r| r.status == 429)
        .count();
    assert!(limited > 0, "the limiter never answered 429");
    assert_converged(&env, "rate limits", &[]);
}

/// `billing apply --yes EXTRA…` started in the background.
pub(super) fn spawn_apply(env: &Env, extra: &[&str]) -> Child {
    // A std Command (assert_cmd's runs to completion): the same binary, directory and variables.
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_billing"));
    cmd.current_dir(env.dir.path())
        .env_remove("NO_COLOR")
        .args([
            "--rate",
            "1000",
            "--endpoint-rate",
            "1000",
            "apply",
            "--yes",
        ])
        .args(extra)
        .arg("--api-base")
        .arg(env.sandbox.base_url())
        .env("STRIPE_SECRET_KEY", KEY)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd.spawn().expect("billing starts")
}

/// `large_catalog` edited: two new amounts (price replacements), a renamed product (an update)
/// and a coupon's new limit (the coupon and its promotion code replaced).
fn edited_catalog() -> String {
    large_catalog()
        .replace("amount = \"3.50\"", "amount = \"3.75\"")
        .replace("amount = \"70.00\"", "amount = \"75.00\"")
        .replace("name = \"Product 5\"", "name = \"Product Five\"")
        .replace("percent_off = 12", "percent_off = 12\nmax_redemptions = 30")
}

#[test]
fn killed_applies_at_random_points_are_finished_by_the_next_one() {
    let seed = std::env::var("BILLING_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| fastrand::u64(..));
    let mut rng = fastrand::Rng::with_seed(seed);
    // Ten random moments in CI; BILLING_CRASH_TRIALS=100 for the long variant.
    for trial in 0..count_from_env("BILLING_CRASH_TRIALS", 10) {
        let context = format!("trial {trial} (BILLING_CRASH_SEED={seed})");
        let env = Env::with_config(
            &large_catalog(),
            SandboxConfig {
                // The catalog's webhook endpoint is on this machine.
                local_webhooks: true,
                chaos: Chaos {
                    seed: Some(seed + trial),
                    latency: Some(
                        Latency::new(Duration::from_millis(2), Duration::from_millis(20)).unwrap(),
                    ),
                    ..Chaos::default()
                },
                ..SandboxConfig::default()
            },
        );
        // Odd trials kill an apply of edits to an applied catalog (replacements half done).
        if trial % 2 == 1 {
            assert_eq!(run(&env, &["apply", "--yes"]).code, 0, "{context}");
            env.set_catalog(&edited_catalog());
        }
        // Killed once the sandbox has seen a random number of its writes, at least three before
        // the last (one at a time, each taking 2 ms or more): always mid-apply, however late the
        // kill lands after the count is seen.
        let total = planned_writes(&env);
        let before = env.writes();
        let most = if trial % 2 == 1 { 8 } else { 100 };
        let at = before + rng.usize(1..=most.min(total.saturating_sub(3)).max(1));
        let mut child = spawn_apply(&env, &["--concurrency", "1"]);
        while env.writes() < at && child.try_wait().unwrap().is_none() {
            std::thread::sleep(Duration::from_millis(1));
        }
        let _ = child.kill(); // SIGKILL
        let status = child.wait().unwrap();
        assert!(
            status.code().is_none(),
            "{context}: the apply ended ({status}) before its write {at}"
        );
        let context = format!("{context}, killed at write {} ({status})", env.writes());
        // The kill left work undone, and the next apply finishes it.
        assert_eq!(env.plan().code, 2, "{context}: nothing left to do");
        let codes = apply_until_clean(&env, 2, &context);
        assert_eq!(codes.last(), Some(&0), "{context}: codes {codes:?}");
        let replaced = if trial % 2 == 1 { REPLACED } else { &[] };
        assert_converged(&env, &context, replaced);
    }
}

/// How many write requests an apply of `env`'s catalog would send now, by its plan.
fn planned_writes(env: &Env) -> usize {
    let run = env.billing(&["plan", "--format", "json"]);
    let plan: serde_json::Value = serde_json::from_str(&run.stdout).expect("a JSON plan");
    plan["operations"]
        .as_array()
        .expect("operations")
        .iter()
        .map(|op| op["requests"].as_array().map_or(0, Vec::len))
        .sum()
}

/// Waits until `child` holds an apply lock under `dir` (its pid written in the lock file).
fn wait_for_lock(dir: &std::path::Path, child: &mut Child) {
    let holder = format!("pid {},", child.id());
    wait_until(child, "holding the lock", || {
        std::fs::read_dir(dir.join(".billing/locks"))
            .into_iter()
            .flatten()
            .flatten()
            .any(|e| std::fs::read_to_string(e.path()).is_ok_and(|t| t.contains(&holder)))
    });
}

/// Polls `done` until it holds, while the apply `child` runs (at most 30 s).
pub(super) fn wait_until(child: &mut Child, what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..3000 {
        if done() {
            return;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the apply ended before it was seen {what}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("the apply was never seen {what}");
}

fn slow() -> Option<Latency> {
    Some(Latency::new(Duration::from_millis(30), Duration::from_millis(60)).unwrap())
}

#[test]
fn two_applies_at_once_never_duplicate() {
    let env = Env::with_config(
        &large_catalog(),
        SandboxConfig {
            // The catalog's webhook endpoint is on this machine.
            local_webhooks: true,
            chaos: Chaos {
                seed: Some(2),
                latency: slow(),
                ..Chaos::default()
            },
            ..SandboxConfig::default()
        },
    );
    // The second starts while the first holds the lock: refused at once, before any request.
    let mut first = spawn_apply(&env, &[]);
    wait_for_lock(env.dir.path(), &mut first);
    let second = spawn_apply(&env, &[]).wait_with_output().unwrap();
    let first = first.wait_with_output().unwrap();
    let (first, second): (Run, Run) = (first.into(), second.into());
    assert_eq!(first.code, 0, "{}{}", first.stdout, first.stderr);
    assert_eq!(second.code, 1, "{}{}", second.stdout, second.stderr);
    let err = squash(&second.stderr);
    assert!(err.contains("another `billing apply` is running"), "{err}");
    assert!(err.contains("pid "), "the holder is named: {err}");
    assert_converged(&env, "refused", &[]);

    // With --lock-timeout the second waits, then finds nothing left to do.
    env.sandbox
        .set_chaos(Chaos {
            seed: Some(3),
            latency: slow(),
            ..Chaos::default()
        })
        .unwrap();
    env.set_catalog(&edited_catalog());
    let mut first = spawn_apply(&env, &[]);
    wait_for_lock(env.dir.path(), &mut first);
    let second = spawn_apply(&env, &["--lock-timeout", "2m"])
        .wait_with_output()
        .unwrap();
    let first = first.wait_with_output().unwrap();
    let (first, second): (Run, Run) = (first.into(), second.into());
    assert_eq!(first.code, 0, "{}{}", first.stdout, first.stderr);
    assert_eq!(second.code, 0, "{}{}", second.stdout, second.stderr);
    assert!(
        second.stdout.contains("No changes"),
        "the second found the work done: {}",
        second.stdout
    );
    assert_converged(&env, "waited", REPLACED);
}

#[test]
fn a_delete_whose_answer_was_lost_is_done_when_the_retry_finds_nothing() {
    // Stripe ignores idempotency keys on DELETE: the retry of a delete that committed gets a
    // 404. Every read draws from the seeded faults before the delete does, in a fixed number,
    // so each seed decides whether the delete's first answer is lost and its retry answered.
    let catalog = "namespace = \"chaos\"\n[coupons.spring]\nname = \"Spring\"\npercent_off = 15\nduration = \"once\"\n";
    for seed in 0..64 {
        let env = Env::new(catalog);
        env.apply();
        env.set_catalog("namespace = \"chaos\"\n");
        env.sandbox
            .set_chaos(Chaos {
                seed: Some(seed),
                lost_response: 0.5,
                ..Chaos::default()
            })
            .unwrap();
        let run = env.billing(&["apply", "--yes"]);
        let deletes: Vec<(u16, Option<Fault>)> = env
            .sandbox
            .requests()
            .iter()
            .filter(|r| r.method == "DELETE")
            .map(|r| (r.status, r.fault))
            .collect();
        if deletes.len() < 2 || deletes[0].1 != Some(Fault::LostResponse) || deletes[1].1.is_some()
        {
            continue;
        }
        assert_eq!(deletes[1].0, 404, "seed {seed}: {deletes:?}");
        assert_eq!(run.code, 0, "seed {seed}: {}{}", run.stdout, run.stderr);
        assert!(run.stdout.contains(", 1 deleted."), "{}", run.stdout);
        env.sandbox.set_chaos(Chaos::default()).unwrap();
        assert!(env.list("/v1/coupons").is_empty());
        assert_eq!(env.plan().code, 0);
        return;
    }
    panic!("no seed in 0..64 lost the delete's first answer and answered its retry");
}

/// The kinds added after the large catalog was written, beside one product: a billing meter
/// and the metered price on it, two entitlement features attached to the product, and a
/// webhook endpoint.
const NEWER_KINDS: &str = r#"
[meters.calls]
display_name = "API calls"
event_name = "api_call"
aggregation = "count"

[entitlements.sso]
name = "Single sign-on"

[entitlements.audit]
name = "Audit log"

[webhooks.app]
url = "http://localhost:9/stripe/webhooks"
events = ["subscriptions"]

[products.api]
name = "API"
entitlements = ["sso", "audit"]

[products.api.prices.usage]
currency = "usd"
interval = "month"
meter = "calls"
unit_amount_decimal = "0.5"
"#;

#[test]
fn meters_features_and_webhook_endpoints_converge_under_faults_and_exist_once() {
    let mut faults = 0;
    for seed in 1..=8u64 {
        let context = format!("seed {seed}");
        let env = Env::with_config(
            NEWER_KINDS,
            SandboxConfig {
                chaos: chaos(seed, 0.2),
                // The endpoint is on this machine, as `billing sandbox` accepts.
                local_webhooks: true,
                ..SandboxConfig::default()
            },
        );
        let codes = apply_until_clean(&env, 4, &context);
        assert_eq!(codes.last(), Some(&0), "{context}: exit codes {codes:?}");
        faults += env
            .sandbox
            .requests()
            .iter()
            .filter(|r| r.fault.is_some())
            .count();
        env.sandbox.set_chaos(Chaos::default()).unwrap();
        let plan = env.plan();
        assert_eq!(plan.code, 0, "{context}: {}{}", plan.stdout, plan.stderr);
        // Each entry is exactly one object, wired to the others.
        let list = |path: &str| super::super::support::list_all(&env.sandbox, path);
        let meters = list("/v1/billing/meters");
        assert_eq!(meters.len(), 1, "{context}: {meters:?}");
        let features = list("/v1/entitlements/features");
        assert_eq!(features.len(), 2, "{context}: {features:?}");
        let endpoints = list("/v1/webhook_endpoints");
        assert_eq!(endpoints.len(), 1, "{context}: {endpoints:?}");
        let products = list("/v1/products");
        assert_eq!(products.len(), 1, "{context}: {products:?}");
        let prices = list("/v1/prices");
        assert_eq!(prices.len(), 1, "{context}: {prices:?}");
        assert_eq!(
            prices[0]["recurring"]["meter"], meters[0]["id"],
            "{context}"
        );
        let product = products[0]["id"].as_str().unwrap();
        let attached = list(&format!("/v1/products/{product}/features"));
        assert_eq!(attached.len(), 2, "{context}: {attached:?}");
    }
    assert!(faults > 0, "the faults this test is about were met");
}
