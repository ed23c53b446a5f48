//! Two applies at once: the per-environment apply lock stops the second before it reads
//! Stripe, or makes it wait with `--lock-timeout`; either way nothing is duplicated.

use std::fs::{File, OpenOptions};
use std::time::Duration;

use stripe_sandbox::Sandbox;
use stripe_sandbox::test_support::start;

use super::{KEY, Run, billing_with_keys, squash};
use crate::support::Workdir;

/// A catalog with a `test` environment on `sandbox`: its lock is `.billing/locks/test.lock`.
fn catalog(sandbox: &Sandbox) -> String {
    let mut text = format!(
        "namespace = \"locks\"\ndefault_environment = \"test\"\n\n[environments.test]\nmode = \"test\"\nsecret_key_env = \"BILLING_TEST_KEY\"\napi_base = \"{}\"\n",
        sandbox.base_url()
    );
    for i in 0..8 {
        text.push_str(&format!(
            "\n[products.p{i}]\nname = \"Product {i}\"\ndefault_price = \"monthly\"\n[products.p{i}.prices.monthly]\namount = \"{i}.00\"\ncurrency = \"usd\"\ninterval = \"month\"\n"
        ));
    }
    text
}

fn billing(dir: &Workdir, args: &[&str]) -> Run {
    billing_with_keys(dir, args, &[("BILLING_TEST_KEY", KEY)])
}

/// Holds the apply lock of `test` as another `billing apply` would.
fn hold_lock(dir: &Workdir) -> File {
    let locks = dir.path().join(".billing/locks");
    std::fs::create_dir_all(&locks).unwrap();
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(locks.join("test.lock"))
        .unwrap();
    file.try_lock().expect("the lock is free");
    file
}

/// Products and prices carrying billing's marker, active or not.
fn managed(sandbox: &Sandbox) -> usize {
    let mut count = 0;
    for path in [
        "/v1/products?limit=100",
        "/v1/prices?limit=100&active=true",
        "/v1/prices?limit=100&active=false",
    ] {
        let res = stripe_sandbox::test_support::Req::get(path).send(sandbox);
        let body = res.json();
        count += body["data"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|o| o["metadata"]["billing_ns"] == "locks")
            .count();
    }
    count
}

#[test]
fn a_held_lock_stops_a_second_apply_before_it_reads_stripe() {
    let sandbox = start();
    let dir = Workdir::with_catalog(&catalog(&sandbox));
    let held = hold_lock(&dir);

    let refused = billing(&dir, &["apply", "--yes"]);
    assert_eq!(refused.code, 1, "{}{}", refused.stdout, refused.stderr);
    let err = squash(&refused.stderr);
    assert!(
        err.contains("another `billing apply` is running for environment `test`"),
        "{err}"
    );
    assert!(err.contains("--lock-timeout"), "{err}");
    assert!(
        sandbox.requests().is_empty(),
        "a locked-out apply must not even read Stripe: {:?}",
        sandbox.requests()
    );

    // A short wait is not enough while the lock is held.
    let waited = billing(&dir, &["apply", "--yes", "--lock-timeout", "1s"]);
    assert_eq!(waited.code, 1, "{}", waited.stderr);
    assert!(sandbox.requests().is_empty());

    // A saved plan takes the same lock.
    let plan = billing(&dir, &["plan", "--out", "plan.json"]);
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    sandbox.clear_requests();
    let saved = billing(&dir, &["apply", "plan.json"]);
    assert_eq!(saved.code, 1, "{}", saved.stderr);
    assert!(
        squash(&saved.stderr).contains("another `billing apply` is running"),
        "{}",
        saved.stderr
    );
    assert!(sandbox.requests().iter().all(|r| r.method == "GET"));

    // Released while the next one waits: it goes ahead.
    let release = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(500));
        drop(held);
    });
    let run = billing(&dir, &["apply", "--yes", "--lock-timeout", "1m"]);
    release.join().unwrap();
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(managed(&sandbox), 16);
}

#[test]
fn a_bad_lock_timeout_is_refused_naming_the_flag() {
    let sandbox = start();
    let dir = Workdir::with_catalog(&catalog(&sandbox));
    let run = billing(&dir, &["apply", "--yes", "--lock-timeout", "soon"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("--lock-timeout"), "{}", run.stderr);
    assert!(sandbox.requests().is_empty());
}

#[test]
fn a_lock_directory_blocked_by_a_file_is_named_and_nothing_is_sent() {
    let sandbox = start();
    let dir = Workdir::with_catalog(&catalog(&sandbox));
    dir.write(".billing", "not a directory");
    let run = billing(&dir, &["apply", "--yes"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("cannot make the apply lock")
            && run.stderr.contains(".billing is not a directory"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("os error"), "{}", run.stderr);
    assert_eq!(super::writes(&sandbox), 0, "nothing was sent");
}
