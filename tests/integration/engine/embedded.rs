//! The embedded sandbox: the repository's default environment, and the environment of a
//! catalog that declares none, with state beside the catalog.

use crate::support::{Workdir, repository_catalog};

#[test]
fn plan_and_apply_work_with_no_stripe_account_at_all() {
    let dir = Workdir::with_catalog(&repository_catalog());
    let plan = dir
        .billing()
        .args(["plan", "--detailed-exitcode"])
        .env("STRIPE_SECRET_KEY", "sk_live_notused")
        .output()
        .unwrap();
    assert_eq!(
        plan.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&plan.stderr)
    );
    let stdout = String::from_utf8_lossy(&plan.stdout);
    assert!(
        stdout.starts_with("Plan for local (account acct_"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Plan: 23 to create, 1 to update, 0 to replace, 0 to archive."),
        "{stdout}"
    );
    assert!(dir.path().join(".billing/local/state.json").exists());
    assert_eq!(
        std::fs::read_to_string(dir.path().join(".billing/.gitignore")).unwrap(),
        "*\n"
    );

    let apply = dir.billing().args(["apply", "--yes"]).output().unwrap();
    assert_eq!(
        apply.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&apply.stderr)
    );
    assert!(
        String::from_utf8_lossy(&apply.stdout)
            .contains("Apply complete: 23 created, 1 updated, 0 replaced, 0 archived.")
    );
    // The sandbox environment has no outputs file; the test and live ones were not touched.
    assert!(!dir.path().join("generated").exists());

    let again = dir
        .billing()
        .args(["plan", "--detailed-exitcode"])
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&again.stdout);
    assert!(
        stdout.contains("No changes: Stripe matches billing.toml."),
        "{stdout}"
    );
    // The account is the same across runs: the state persisted.
    let account = |s: &str| {
        s.split_whitespace()
            .find(|w| w.starts_with("acct_"))
            .map(str::to_owned)
    };
    assert_eq!(
        account(&stdout),
        account(&String::from_utf8_lossy(&plan.stdout))
    );
}

#[test]
fn the_state_lives_beside_the_catalog_named_by_c() {
    let dir = Workdir::new();
    std::fs::create_dir(dir.path().join("billing")).unwrap();
    dir.write("billing/catalog.toml", "[products.a]\nname = \"A\"\n");
    let run = dir
        .billing()
        .args(["-c", "billing/catalog.toml", "apply", "--yes"])
        .output()
        .unwrap();
    assert_eq!(
        run.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(
        dir.path()
            .join("billing/.billing/sandbox/state.json")
            .exists()
    );
    assert!(!dir.path().join(".billing").exists());
}

#[test]
fn a_corrupt_state_file_is_named_with_how_to_start_afresh() {
    let dir = Workdir::with_catalog("[products.a]\nname = \"A\"\n");
    std::fs::create_dir_all(dir.path().join(".billing/sandbox")).unwrap();
    dir.write(
        ".billing/sandbox/state.json",
        "{\"format\": 1, \"products\": [",
    );
    let run = dir.billing().arg("plan").output().unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(".billing/sandbox/state.json is corrupt")
            && stderr.contains("to start again from an empty sandbox, delete it"),
        "{stderr}"
    );
    std::fs::remove_file(dir.path().join(".billing/sandbox/state.json")).unwrap();
    let run = dir.billing().arg("plan").output().unwrap();
    assert_eq!(
        run.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
}
