//! Two pipelines at once (issue #22): two checkouts of one repository, each with its own lock
//! directory, apply the same catalog to one account at the same moment. The apply lease held
//! in the account lets one apply at a time, so whatever the timing, nothing is duplicated and
//! both succeed; a holder that died is taken over.

use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;
use stripe_sandbox::test_support::{Req, start_with};
use stripe_sandbox::{Chaos, Latency, Sandbox, SandboxConfig};

use super::chaos::{ENTRIES, large_catalog, wait_until};
use super::{KEY, Run};
use crate::support::{MARKED_LISTS, Workdir, is_lease, list_all};

/// The chaos tests' catalog of every kind (26 products with their prices, one metered,
/// coupons and codes, a tax rate, the portal, a webhook endpoint, a meter, two features
/// attached to a product) in namespace `pipelines`, with an environment on `sandbox`.
fn catalog(sandbox: &Sandbox) -> String {
    format!(
        "namespace = \"pipelines\"\ndefault_environment = \"test\"\n\n[environments.test]\nmode = \"test\"\nsecret_key_env = \"BILLING_TEST_KEY\"\napi_base = \"{}\"\n{}",
        sandbox.base_url(),
        large_catalog().replace("namespace = \"chaos\"\n", "")
    )
}

/// `billing -v apply --yes --lock-timeout 5m` in `dir`, started in the background.
fn spawn_apply(dir: &Workdir) -> Child {
    Command::new(env!("CARGO_BIN_EXE_billing"))
        .current_dir(dir.path())
        .env_remove("STRIPE_SECRET_KEY")
        .env_remove("NO_COLOR")
        .env("BILLING_TEST_KEY", KEY)
        .args(["--rate", "1000", "--endpoint-rate", "1000", "-v", "apply"])
        .args(["--yes", "--lock-timeout", "5m"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("billing starts")
}

fn billing(dir: &Workdir, args: &[&str]) -> Run {
    super::billing_with_keys(dir, args, &[("BILLING_TEST_KEY", KEY)])
}

/// How many objects of each identity the account holds: `kind address` for what carries the
/// `pipelines` marker, `meter EVENT` for meters, `attachment PRODUCT FEATURE` for the features
/// attached to products.
fn census(sandbox: &Sandbox) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    let mut count = |key: String| *out.entry(key).or_insert(0) += 1;
    for path in MARKED_LISTS {
        for object in list_all(sandbox, path) {
            if object["metadata"]["billing_ns"] == "pipelines" {
                count(format!(
                    "{} {}",
                    object["object"].as_str().unwrap_or_default(),
                    object["metadata"]["billing_key"]
                        .as_str()
                        .unwrap_or_default()
                ));
            }
            if object["object"] == "product" {
                let id = object["id"].as_str().unwrap_or_default();
                for attached in list_all(sandbox, &format!("/v1/products/{id}/features")) {
                    count(format!(
                        "attachment {} {}",
                        object["metadata"]["billing_key"],
                        attached["entitlement_feature"]["lookup_key"]
                    ));
                }
            }
        }
    }
    for meter in list_all(sandbox, "/v1/billing/meters") {
        count(format!("meter {}", meter["event_name"]));
    }
    out
}

/// The lease products of namespace `pipelines` (one is made the first time and kept), which
/// [`list_all`] leaves out. The catalogs here hold fewer than 100 products.
fn leases(sandbox: &Sandbox) -> Vec<Value> {
    let page = Req::get("/v1/products?limit=100").send(sandbox).json();
    page["data"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| is_lease(p) && p["metadata"]["billing_lease"] == "pipelines")
        .cloned()
        .collect()
}

/// Trials of the concurrent test: `BILLING_PIPELINE_TRIALS`, else 6 (CI's budget).
fn trials() -> u64 {
    std::env::var("BILLING_PIPELINE_TRIALS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(6)
}

#[test]
fn two_checkouts_applying_at_once_leave_no_duplicate_of_any_kind() {
    let seed = std::env::var("BILLING_PIPELINE_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| fastrand::u64(..1_000_000));
    let mut rng = fastrand::Rng::with_seed(seed);
    // Runs that met the other one: waited for the lease, or found the account changed.
    let mut met = 0;
    for trial in 0..trials() {
        let context = format!("trial {trial} (BILLING_PIPELINE_SEED={seed})");
        let sandbox = start_with(SandboxConfig {
            // The catalog's webhook endpoint is on this machine.
            local_webhooks: true,
            chaos: Chaos {
                seed: Some(seed + trial),
                latency: Some(
                    Latency::new(Duration::from_millis(5), Duration::from_millis(40)).unwrap(),
                ),
                ..Chaos::default()
            },
            ..SandboxConfig::default()
        });
        let text = catalog(&sandbox);
        let (a, b) = (Workdir::with_catalog(&text), Workdir::with_catalog(&text));
        // The second starts once the sandbox has seen a random number of the first's requests:
        // before it took the lease, while it reads, or among its writes.
        let at = rng.usize(0..60);
        let mut first = spawn_apply(&a);
        wait_until_or_ended(&mut first, || sandbox.requests().len() >= at);
        let second = spawn_apply(&b);
        let (first, second): (Run, Run) = (
            first.wait_with_output().unwrap().into(),
            second.wait_with_output().unwrap().into(),
        );
        for (name, run) in [("first", &first), ("second", &second)] {
            assert_eq!(
                run.code, 0,
                "{context}, {name} apply (second started at request {at}):\n{}{}",
                run.stdout, run.stderr
            );
            // A run that found nothing to do when it read the account writes nothing, the
            // lease included.
            let wrote = !run
                .stdout
                .contains("No changes: Stripe matches billing.toml.")
                || run
                    .stderr
                    .contains("Another apply ran while this one waited");
            assert_eq!(
                run.stderr
                    .contains("Took the apply lease of namespace `pipelines`"),
                wrote,
                "{context}: -v says when the lease is taken:\n{}{}",
                run.stdout,
                run.stderr
            );
        }
        for run in [&first, &second] {
            if run
                .stderr
                .contains("Another apply ran while this one waited")
            {
                met += 1;
            }
            if run.stderr.contains("Waiting up to 5m for the apply lease") {
                met += 1;
                assert!(
                    run.stderr.contains("held by pid ") && run.stderr.contains(", since "),
                    "{context}: the waiting run names the holder: {}",
                    run.stderr
                );
            }
        }
        let census = census(&sandbox);
        let duplicated: Vec<_> = census.iter().filter(|(_, n)| **n != 1).collect();
        assert!(
            duplicated.is_empty(),
            "{context}: duplicates {duplicated:?} in {census:#?}"
        );
        // Every entry, the meter and the API product's two attachments.
        assert_eq!(census.len(), ENTRIES + 3, "{context}: {census:#?}");
        let plan = billing(&a, &["plan"]);
        assert_eq!(plan.code, 0, "{context}: {}{}", plan.stdout, plan.stderr);
        let lease = leases(&sandbox);
        assert_eq!(lease.len(), 1, "{context}: {lease:#?}");
        assert_eq!(lease[0]["active"], false, "{context}");
        assert_eq!(lease[0]["metadata"]["state"], "free", "{context}");
    }
    assert!(met > 0, "no trial had one apply meet the other");
}

/// Polls `done` until it holds or `child` ends (at most 30 s).
fn wait_until_or_ended(child: &mut Child, mut done: impl FnMut() -> bool) {
    for _ in 0..3000 {
        if done() || child.try_wait().unwrap().is_some() {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn a_lease_held_elsewhere_refuses_and_one_whose_holder_died_is_taken_over() {
    let sandbox = start_with(SandboxConfig {
        // The catalog's webhook endpoint is on this machine.
        local_webhooks: true,
        chaos: Chaos {
            seed: Some(7),
            latency: Some(
                Latency::new(Duration::from_millis(20), Duration::from_millis(40)).unwrap(),
            ),
            ..Chaos::default()
        },
        ..SandboxConfig::default()
    });
    let text = catalog(&sandbox);
    let (a, b) = (Workdir::with_catalog(&text), Workdir::with_catalog(&text));
    let mut holder = spawn_apply(&a);
    let pid = holder.id();
    wait_until(&mut holder, "holding the lease", || {
        leases(&sandbox).first().is_some_and(|l| {
            l["metadata"]["state"] == "held" && l["metadata"]["pid"] == pid.to_string().as_str()
        })
    });
    // Frozen while it holds the lease: another checkout is refused at once, told who holds it.
    let stop = |signal: &str| {
        let status = Command::new("kill")
            .args([signal, &pid.to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    };
    stop("-STOP");
    let refused = billing(&b, &["apply", "--yes"]);
    assert_eq!(refused.code, 1, "{}{}", refused.stdout, refused.stderr);
    let err = super::squash(&refused.stderr);
    assert!(
        err.contains(&format!(
            "another `billing apply` holds the apply lease of namespace `pipelines` in this account (pid {pid} on "
        )),
        "{err}"
    );
    assert!(err.contains(", since "), "{err}");
    // Killed while holding it: the next apply takes it over at once and finishes the work.
    holder.kill().unwrap();
    holder.wait().unwrap();
    let run = billing(&b, &["apply", "--yes", "--lock-timeout", "5m"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        super::squash(&run.stderr).contains(&format!(
            "Took over the apply lease of namespace `pipelines` from pid {pid} on "
        )),
        "{}",
        run.stderr
    );
    let census = census(&sandbox);
    assert!(census.values().all(|n| *n == 1), "{census:#?}");
    assert_eq!(billing(&a, &["plan"]).code, 0);
}
