//! Environments in one catalog: selection, guards, limited entries and overrides, separate
//! sandbox state, and the ids billing writes for the application.

use serde_json::Value;
use stripe_sandbox::Sandbox;
use stripe_sandbox::test_support::{Req, start};

use super::{Run, billing_with_keys, squash, writes};
use crate::support::Workdir;

const TEST_KEY: &str = "sk_test_environmentsTests0123456789";

fn live_key() -> String {
    // Built at run time: no live-looking key literal in the repository.
    format!("sk_live_{}", "environmentsTests0123456789")
}

/// A catalog with a `test` environment on `sandbox`, a `local` embedded sandbox and a `live`
/// one, a product everywhere, a price overridden in test, and a product only in test.
fn catalog(sandbox: &Sandbox, extra: &str) -> String {
    format!(
        r#"namespace = "acme"
default_environment = "test"

[environments.test]
mode = "test"
secret_key_env = "BILLING_TEST_KEY"
api_base = "{base}"
outputs = "generated/test.json"
{extra}
[environments.local]
sandbox = true

[environments.live]
mode = "live"
secret_key_env = "BILLING_LIVE_KEY"
api_base = "{base}"

[products.pro]
name = "Pro"
default_price = "monthly"

[products.pro.prices.monthly]
amount = "79.00"
currency = "usd"
interval = "month"

[products.pro.prices.monthly.overrides.test]
amount = "1.00"

[products.beta]
name = "Beta"
environments = ["test"]
"#,
        base = sandbox.base_url()
    )
}

fn billing(dir: &Workdir, args: &[&str]) -> Run {
    let live = live_key();
    billing_with_keys(
        dir,
        args,
        &[("BILLING_TEST_KEY", TEST_KEY), ("BILLING_LIVE_KEY", &live)],
    )
}

#[test]
fn the_default_environment_with_its_overrides_and_limits() {
    let sandbox = start();
    let dir = Workdir::with_catalog(&catalog(&sandbox, ""));
    let plan = billing(&dir, &["plan"]);
    assert_eq!(plan.code, 0, "{}{}", plan.stdout, plan.stderr);
    let out = squash(&plan.stdout);
    assert!(out.starts_with("Plan for test (account acct_"), "{out}");
    assert!(out.contains("+ price $1.00 / month"), "{out}");
    assert!(out.contains("+ product \"Beta\""), "{out}");

    // The embedded sandbox environment: no override, no test-only product.
    let local = billing(&dir, &["-e", "local", "plan"]);
    assert_eq!(local.code, 0, "{}", local.stderr);
    let out = squash(&local.stdout);
    assert!(out.starts_with("Plan for local (account acct_"), "{out}");
    assert!(out.contains("+ price $79.00 / month"), "{out}");
    assert!(!out.contains("Beta"), "{out}");
    // -e works after the subcommand too, and picks the same environment.
    let after = billing(&dir, &["plan", "-e", "local"]);
    assert_eq!(after.stdout, local.stdout);
    assert!(dir.path().join(".billing/local/state.json").exists());
}

#[test]
fn each_sandbox_environment_has_its_own_account() {
    let dir = Workdir::with_catalog(
        "[environments.one]\nsandbox = true\n[environments.two]\nsandbox = true\n[products.pro]\nname = \"Pro\"\n",
    );
    let account = |env: &str| {
        let run = billing(&dir, &["-e", env, "apply", "--yes"]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        squash(&run.stdout)
            .split_whitespace()
            .find(|w| w.starts_with("acct_"))
            .map(|w| w.trim_end_matches(',').to_owned())
            .unwrap()
    };
    let (one, two) = (account("one"), account("two"));
    assert_ne!(one, two);
    assert_eq!(account("one"), one, "the state persists");
    assert!(dir.path().join(".billing/one/state.json").exists());
    assert!(dir.path().join(".billing/two/state.json").exists());
}

#[test]
fn a_catalog_with_only_a_live_environment_needs_e() {
    let sandbox = start();
    let dir = Workdir::with_catalog(&format!(
        "[environments.live]\nmode = \"live\"\nsecret_key_env = \"BILLING_LIVE_KEY\"\napi_base = \"{}\"\n[products.pro]\nname = \"Pro\"\n",
        sandbox.base_url()
    ));
    let run = billing(&dir, &["plan"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains("billing.toml:1:2: error: no environment chosen: billing.toml declares only live environments (live), and billing never picks a live one by itself"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("pass -e live"), "{}", run.stderr);
    assert!(sandbox.requests().is_empty(), "nothing is sent");
}

#[test]
fn guards_refuse_the_wrong_mode_and_the_wrong_account_before_any_write() {
    let sandbox = start();
    let dir = Workdir::with_catalog(&catalog(&sandbox, ""));
    // A key of the wrong mode, either way round: refused before any request.
    for (args, var, key, message) in [
        (
            &["apply", "--yes"][..],
            "BILLING_TEST_KEY",
            live_key(),
            "environment `test` is in test mode, but BILLING_TEST_KEY holds a live mode key: refusing to use it",
        ),
        (
            &["-e", "live", "plan"][..],
            "BILLING_LIVE_KEY",
            TEST_KEY.to_owned(),
            "environment `live` is in live mode, but BILLING_LIVE_KEY holds a test mode key",
        ),
    ] {
        let run: Run = dir
            .billing()
            .args(args)
            .env(var, &key)
            .output()
            .unwrap()
            .into();
        assert_eq!(run.code, 1);
        assert!(run.stderr.contains(message), "{}", run.stderr);
        assert!(!run.stderr.contains(&key));
        assert!(sandbox.requests().is_empty(), "not even a read");
    }

    // The wrong account.
    dir.write(
        "billing.toml",
        catalog(&sandbox, "account = \"acct_1NotThisOne\"\n"),
    );
    let run = billing(&dir, &["apply", "--yes"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains(
            "environment `test` must be account acct_1NotThisOne, but the key belongs to acct_"
        ),
        "{}",
        run.stderr
    );
    assert_eq!(writes(&sandbox), 0);
    let reads: Vec<String> = sandbox.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(reads, ["/v1/account"], "only the account is read");

    // A missing key names the variable.
    let mut cmd = dir.billing();
    let run: Run = cmd.arg("plan").output().unwrap().into();
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains("BILLING_TEST_KEY is not set: environment `test` needs a Stripe secret key"),
        "{}",
        run.stderr
    );
}

fn outputs_snapshot(name: &str, text: &str) {
    insta::with_settings!({
        filters => vec![
            (r"price_[A-Za-z0-9]{8,}", "[PRICE_ID]"),
            (r"prod_[A-Za-z0-9]{8,}", "[PRODUCT_ID]"),
            (r"acct_[A-Za-z0-9]+", "[ACCOUNT]"),
        ],
        prepend_module_to_snapshot => false,
    }, {
        insta::assert_snapshot!(name, text);
    });
}

#[test]
fn outputs_in_every_format_keep_the_ids_a_price_replaced() {
    let sandbox = start();
    let dir = Workdir::with_catalog(&catalog(&sandbox, ""));
    let run = billing(&dir, &["apply", "--yes"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    // Apply wrote the environment's outputs.
    assert!(
        run.stderr.contains("wrote the ids of test to"),
        "{}",
        run.stderr
    );
    let written: Value = serde_json::from_str(&dir.read("generated/test.json")).unwrap();
    let first = written["prices"]["pro"]["monthly"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        written["prices"]["pro"]["monthly"]["superseded"],
        serde_json::json!([])
    );

    // A replacement: the old id moves to `superseded`.
    dir.write(
        "billing.toml",
        catalog(&sandbox, "").replace("amount = \"1.00\"", "amount = \"2.00\""),
    );
    let run = billing(&dir, &["apply", "--yes"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let written: Value = serde_json::from_str(&dir.read("generated/test.json")).unwrap();
    assert_ne!(written["prices"]["pro"]["monthly"]["id"], first.as_str());
    assert_eq!(
        written["prices"]["pro"]["monthly"]["superseded"],
        serde_json::json!([first])
    );
    assert_eq!(
        written["prices"]["pro"]["monthly"]["lookup_key"],
        "pro_monthly"
    );

    for format in ["json", "toml", "ts", "env"] {
        let run = billing(&dir, &["output", "--format", format]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        outputs_snapshot(&format!("outputs_{format}"), &run.stdout);
    }
    // Written again by an apply with nothing to change (the file was deleted).
    std::fs::remove_file(dir.path().join("generated/test.json")).unwrap();
    let run = billing(&dir, &["apply", "--yes"]);
    assert!(run.stdout.contains("No changes"), "{}", run.stdout);
    let again: Value = serde_json::from_str(&dir.read("generated/test.json")).unwrap();
    assert_eq!(again, written);

    // --out writes the same text.
    let run = billing(
        &dir,
        &["output", "--format", "env", "--out", "ids/billing.env"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let env = billing(&dir, &["output", "--format", "env"]);
    assert_eq!(dir.read("ids/billing.env"), env.stdout);
    // No key in any file billing wrote.
    for file in ["generated/test.json", "ids/billing.env"] {
        assert!(!dir.read(file).contains(TEST_KEY));
    }
}

#[test]
fn outputs_name_what_is_not_in_stripe_yet() {
    let sandbox = start();
    let dir = Workdir::with_catalog(&catalog(&sandbox, ""));
    let run = billing(&dir, &["output"]);
    // Not one id: a failure, with what is missing said first.
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "not in Stripe yet, so left out: prices.pro.monthly, products.beta, products.pro (run `billing apply`)"
        ),
        "{}",
        run.stderr
    );
    assert_eq!(run.stdout, "");
    // A read: nothing written.
    assert_eq!(writes(&sandbox), 0);
    let _ = Req::get("/v1/account").send(&sandbox);
}

/// Every file under `dir`, recursively.
fn files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[test]
fn the_key_appears_in_no_output_and_no_file() {
    let sandbox = start();
    let dir = Workdir::with_catalog(&catalog(&sandbox, ""));
    for args in [
        &["validate"][..],
        &["plan", "--out", "plan.json"],
        &["plan", "--format", "markdown"],
        &["show", "plan.json", "--format", "json"],
        &["apply", "plan.json", "--format", "json"],
        &["output", "--format", "env", "--out", "billing.env"],
        &["-e", "local", "apply", "--yes"],
        &["-v", "plan", "--format", "json"],
    ] {
        // `billing` asserts that neither key is in stdout or stderr.
        let run = billing(&dir, args);
        assert_eq!(run.code, 0, "{args:?}: {}", run.stderr);
    }
    let written = files(dir.path());
    assert!(written.len() >= 5, "{written:?}");
    for path in written {
        let bytes = std::fs::read(&path).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains(TEST_KEY), "the key is in {}", path.display());
        assert!(
            !text.contains(&live_key()),
            "a key is in {}",
            path.display()
        );
    }
}
