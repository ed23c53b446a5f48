//! What `apply` tells its user (issue #17): an interruption reported and exit 130; permanent
//! refusals told apart from failures a re-run gets past; refusals ahead shown by the plan; the
//! lock wait said; each write printed once; counts in the plan's units. And where billing
//! finds billing.toml.

use std::process::Child;
use std::time::Duration;

use serde_json::Value;
use stripe_sandbox::test_support::Req;
use stripe_sandbox::{Chaos, Latency, SandboxConfig};

use super::{Env, PRO, Run, squash};
use crate::support::Workdir;

/// Five products with two prices each: 20 writes (the product, its prices, then its default
/// price), applied one at a time when `--concurrency 1` is given.
fn many_products() -> String {
    (0..5)
        .map(|i| {
            format!(
                r#"
[products.p{i}]
name = "Product {i}"
default_price = "monthly"
[products.p{i}.prices.monthly]
amount = "{i}.50"
currency = "usd"
interval = "month"
[products.p{i}.prices.annual]
amount = "{i}5.00"
currency = "usd"
interval = "year"
"#
            )
        })
        .collect()
}

/// The writes of `many_products`.
const WRITES: usize = 20;

/// `billing apply --yes --concurrency 1 EXTRA…` started in the background against `env`.
fn spawn_apply(env: &Env, extra: &[&str]) -> Child {
    let mut args = vec!["--concurrency", "1"];
    args.extend_from_slice(extra);
    super::chaos::spawn_apply(env, &args)
}

/// Sends `signal` (`TERM`, `INT`) to `child`.
fn signal(child: &Child, signal: &str) {
    let status = std::process::Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(child.id().to_string())
        .status()
        .expect("kill runs");
    assert!(status.success());
}

/// A sandbox that answers every request after 150–200 ms: an apply of `many_products` one
/// write at a time takes seconds.
fn slow_env() -> Env {
    Env::with_config(
        &many_products(),
        SandboxConfig {
            chaos: Chaos {
                seed: Some(17),
                latency: Some(
                    Latency::new(Duration::from_millis(150), Duration::from_millis(200)).unwrap(),
                ),
                ..Chaos::default()
            },
            ..SandboxConfig::default()
        },
    )
}

/// Waits until the sandbox has answered `n` writes.
fn wait_for_writes(env: &Env, child: &mut Child, n: usize) {
    super::chaos::wait_until(child, &format!("making {n} writes"), || env.writes() >= n);
}

#[test]
fn sigterm_during_apply_finishes_the_write_in_flight_reports_and_exits_130() {
    for format in ["text", "json"] {
        let env = slow_env();
        let mut child = spawn_apply(&env, &["--format", format]);
        wait_for_writes(&env, &mut child, 2);
        signal(&child, "TERM");
        let run: Run = child.wait_with_output().unwrap().into();
        assert_eq!(run.code, 130, "{format}: {}{}", run.stdout, run.stderr);
        let done = env.writes();
        assert!(done < WRITES, "{format}: the apply went on to the end");
        let err = squash(&run.stderr);
        assert!(
            err.contains("interrupted: starting no more writes"),
            "{format}: {err}"
        );
        assert!(
            err.contains(&format!(
                "the apply was interrupted: {done} of {WRITES} writes done, {} not started",
                WRITES - done
            )),
            "{format}: the write in flight was finished, the others not started: {err}"
        );
        if format == "text" {
            assert!(
                run.has("not started prices.p4.annual: create price (interrupted)"),
                "{}",
                run.stdout
            );
            assert!(run.has("Apply interrupted: "), "{}", run.stdout);
            assert!(run.has(" not started."), "{}", run.stdout);
        } else {
            let events: Vec<Value> = run
                .stdout
                .lines()
                .map(|l| serde_json::from_str(l).expect("one JSON event per line"))
                .collect();
            let summary = events
                .iter()
                .find(|e| e["event"] == "summary")
                .expect("a summary event");
            assert_eq!(summary["interrupted"], true, "{summary}");
            assert_eq!(summary["done"], done, "{summary}");
            assert_eq!(summary["not_started"], WRITES - done, "{summary}");
            assert!(events.iter().any(|e| e["event"] == "interrupted"));
        }
        // The lock went with the process, and the next apply finishes the work.
        env.sandbox.set_chaos(Chaos::default()).unwrap();
        env.converge();
        assert_eq!(env.products().len(), 5);
        assert_eq!(env.prices().len(), 10);
    }
}

#[test]
fn a_second_signal_stops_at_once() {
    let env = slow_env();
    let mut child = spawn_apply(&env, &[]);
    // Stderr read as it comes, so the second signal is sent only once the first was taken.
    let stderr = child.stderr.take().expect("stderr is piped");
    let (lines, said) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut all = String::new();
        for line in std::io::BufRead::lines(std::io::BufReader::new(stderr)) {
            let line = line.expect("stderr is text");
            let _ = lines.send(line.clone());
            all.push_str(&line);
            all.push('\n');
        }
        all
    });
    wait_for_writes(&env, &mut child, 1);
    // From now on each request takes three seconds: once the second write is answered, the one
    // in flight when the signals come is still in flight after both, however loaded the machine.
    env.sandbox
        .set_chaos(Chaos {
            latency: Some(Latency::new(Duration::from_secs(3), Duration::from_secs(3)).unwrap()),
            ..Chaos::default()
        })
        .unwrap();
    wait_for_writes(&env, &mut child, 2);
    signal(&child, "INT");
    loop {
        let line = said
            .recv_timeout(Duration::from_secs(30))
            .expect("the first interrupt is reported");
        if line.contains("interrupted: starting no more writes") {
            break;
        }
    }
    signal(&child, "INT");
    let status = child.wait().unwrap();
    let stderr = reader.join().unwrap();
    assert_eq!(status.code(), Some(130), "{stderr}");
    assert!(
        stderr.contains("interrupted again: stopping at once"),
        "{stderr}"
    );
    env.sandbox.set_chaos(Chaos::default()).unwrap();
    env.converge();
}

/// The catalog of the discount tests: a coupon with one promotion code, `extra` added to it.
fn with_code(extra: &str) -> String {
    format!(
        r#"{PRO}
[coupons.launch]
name = "Launch"
percent_off = 20
duration = "once"

[promotion_codes.LAUNCH20]
coupon = "launch"
{extra}"#
    )
}

#[test]
fn a_code_for_a_customer_the_account_does_not_have_is_a_plan_error_at_its_line() {
    let env = Env::new(&with_code("customer = \"cus_Typo1234567890\"\n"));
    for args in [&["plan"][..], &["apply", "--yes"][..]] {
        let run = env.billing(args);
        assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
        let err = squash(&run.stderr);
        assert!(
            err.contains("billing.toml:28:12: error: promotion code `LAUNCH20` is for customer cus_Typo1234567890, which account acct_"),
            "{err}"
        );
        assert!(err.contains("nothing was sent to Stripe"), "{err}");
        assert!(!err.contains("is not valid"), "{err}");
    }
    assert_eq!(env.writes(), 0);
    // Once the customer exists, the same entry applies.
    let res = Req::post("/v1/customers", "name=Alice")
        .idempotency_key("test-alice")
        .send(&env.sandbox);
    let alice = res.json()["id"].as_str().unwrap().to_owned();
    env.set_catalog(&with_code(&format!("customer = \"{alice}\"\n")));
    env.converge();
}

#[test]
fn a_permanent_refusal_says_what_must_change_and_not_to_run_again() {
    let env = Env::new(PRO);
    env.sandbox
        .fail_nth("POST /v1/prices 1 400".parse().unwrap());
    let run = env.billing(&["apply", "--yes"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let err = squash(&run.stderr);
    assert!(err.contains("hint: Stripe refused prices.pro."), "{err}");
    assert!(
        err.contains("billing.toml (or the account) must change before it can succeed"),
        "{err}"
    );
    assert!(!err.contains("run `billing apply` again"), "{err}");
    assert!(!err.contains("re-running is safe"), "{err}");
}

#[test]
fn the_plan_says_which_refusals_lie_ahead() {
    let env = Env::new(&with_code(""));
    env.converge();
    super::discounts::partner_code(&env);
    env.set_catalog(&with_code("").replace("percent_off = 20", "percent_off = 25"));
    let expected = "apply will refuse this plan without --allow-destroy: 1 object billing.toml does not declare would stop working (coupons.launch (PARTNER (promo_";
    let text = env.billing(&["plan"]);
    assert_eq!(text.code, 0, "{}", text.stderr);
    assert!(text.has(&format!("Warning: {expected}")), "{}", text.stdout);
    let markdown = env.billing(&["plan", "--format", "markdown"]);
    assert!(
        markdown
            .stdout
            .contains("**Warning:** apply will refuse this plan without --allow-destroy: 1 object"),
        "{}",
        markdown.stdout
    );
    let json = env.billing(&["plan", "--format", "json"]);
    let doc: Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(doc["refusals"][0]["reason"], "unmanaged", "{doc:#}");
    assert!(
        doc["refusals"][0]["items"][0]
            .as_str()
            .is_some_and(|i| i.starts_with("coupons.launch (PARTNER (promo_")),
        "{doc:#}"
    );
    // With --allow-destroy recorded, nothing is refused.
    let allowed = env.billing(&["plan", "--allow-destroy", "--format", "json"]);
    let doc: Value = serde_json::from_str(&allowed.stdout).unwrap();
    assert_eq!(doc["refusals"], serde_json::json!([]), "{doc:#}");
    assert!(
        !env.billing(&["plan", "--allow-destroy"])
            .has("Warning: apply will refuse")
    );
}

#[test]
fn each_write_is_printed_once_and_counted_in_the_plans_units() {
    let env = Env::new(PRO);
    let run = env.apply();
    assert!(
        run.has("Plan: 3 to create, 0 to update, 0 to replace, 0 to archive."),
        "{}",
        run.stdout
    );
    assert!(
        run.has("Apply complete: 3 created, 0 updated, 0 replaced, 0 archived."),
        "{}",
        run.stdout
    );
    let id = env.id("prices.pro.monthly");
    let all = format!("{}{}", run.stdout, run.stderr);
    assert_eq!(all.matches(&id).count(), 1, "{all}");
}

#[test]
fn waiting_for_the_lock_says_who_holds_it() {
    let env = Env::new(PRO);
    env.converge();
    let locks = env.dir.path().join(".billing/locks");
    let lock = std::fs::read_dir(&locks).unwrap().next().unwrap().unwrap();
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(lock.path())
        .unwrap();
    file.lock().unwrap();
    std::fs::write(lock.path(), "pid 4242, since 2026-01-01T00:00:00Z").unwrap();
    let run = env.billing(&["apply", "--yes", "--lock-timeout", "1s"]);
    assert_eq!(run.code, 1);
    let err = squash(&run.stderr);
    assert!(
        err.contains("Waiting up to 1s for the apply lock of --api-base http://")
            && err.contains("held by pid 4242, since 2026-01-01T00:00:00Z; Ctrl-C to stop"),
        "{err}"
    );
    assert!(err.contains("another `billing apply` is running"), "{err}");
}

#[test]
fn billing_toml_is_found_in_the_directories_above_up_to_the_repository_root() {
    let dir = Workdir::with_catalog(PRO);
    let validate_in = |sub: &str| -> Run {
        std::fs::create_dir_all(dir.path().join(sub)).unwrap();
        let mut cmd = dir.billing();
        cmd.current_dir(dir.path().join(sub)).arg("validate");
        cmd.output().unwrap().into()
    };
    let run = validate_in("a/b");
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("../../billing.toml is valid"),
        "{}",
        run.stdout
    );
    // A git repository below the catalog: the search stops at its root.
    std::fs::create_dir_all(dir.path().join("repo/.git")).unwrap();
    let run = validate_in("repo/src");
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stderr.contains(
            "no billing.toml here or in the directories above (up to the git repository's root)"
        ),
        "{}",
        run.stderr
    );
}

#[test]
fn a_missing_c_path_is_named_in_the_hint() {
    let dir = Workdir::with_catalog(PRO);
    let run: Run = dir
        .billing()
        .args(["validate", "-c", "conf/prod.toml"])
        .output()
        .unwrap()
        .into();
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("hint: -c conf/prod.toml names no file"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("billing.toml"), "{}", run.stderr);
}
