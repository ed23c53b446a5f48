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
            .starts_with("error: no environment chosen: billing.toml declares only live environments (live), and billing never picks a live one by itself"),
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

#[test]
fn a_plan_applied_in_another_environment_is_refused_naming_both() {
    let sandbox = start();
    // `staging` shares the test key and account: the plan's MAC verifies there.
    let staging = format!(
        "\n[environments.staging]\nmode = \"test\"\nsecret_key_env = \"BILLING_TEST_KEY\"\napi_base = \"{}\"\n",
        sandbox.base_url()
    );
    let dir = Workdir::with_catalog(&catalog(&sandbox, &staging));
    let plan = billing(&dir, &["plan", "--out", "plan.json"]);
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    let refused = |run: &Run, here: &str| {
        assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
        assert!(
            run.stderr.contains(&format!(
                "refusing to apply plan.json: it was made for environment `test`, and this run is for environment `{here}`"
            )) && run.stderr.contains("`billing apply plan.json -e test`"),
            "{}",
            run.stderr
        );
        assert!(!run.stderr.contains("stale"), "{}", run.stderr);
        assert_eq!(writes(&sandbox), 0);
    };
    // -e names another environment: one with the same key, the embedded sandbox, live.
    for here in ["staging", "local", "live"] {
        refused(&billing(&dir, &["apply", "plan.json", "-e", here]), here);
    }
    // The default environment changed since the plan was made.
    let text = dir.read("billing.toml");
    dir.write(
        "billing.toml",
        text.replace(
            "default_environment = \"test\"",
            "default_environment = \"staging\"",
        ),
    );
    refused(&billing(&dir, &["apply", "plan.json"]), "staging");
    // In its own environment, it applies.
    dir.write("billing.toml", text);
    let applied = billing(&dir, &["apply", "plan.json", "-e", "test"]);
    assert_eq!(applied.code, 0, "{}", applied.stderr);
    assert!(writes(&sandbox) > 0);
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

/// The repository's billing.toml in a scratch directory: `local` (the embedded sandbox,
/// the default), `test` (STRIPE_TEST_SECRET_KEY) and `live` (STRIPE_LIVE_SECRET_KEY), none
/// with an `api_base`.
fn repository() -> Workdir {
    Workdir::with_catalog(&crate::support::repository_catalog())
}

/// A sandbox standing in for a live-mode account.
fn live_sandbox() -> Sandbox {
    stripe_sandbox::test_support::start_with(stripe_sandbox::SandboxConfig {
        live: true,
        ..stripe_sandbox::SandboxConfig::default()
    })
}

#[test]
fn e_mistakes_are_flag_errors_naming_the_declared_environments() {
    let sandbox = start();
    let dir = Workdir::with_catalog(&catalog(&sandbox, ""));
    for args in [&["-e", "tset", "plan"][..], &["validate", "--env", "tset"]] {
        let run = billing(&dir, args);
        assert_eq!(run.code, 1, "{args:?}: {}", run.stderr);
        assert!(
            run.stderr.starts_with(
                "error: -e/--env tset: billing.toml declares no environment `tset` (it declares `live`, `local` and `test`)\nhint: did you mean `-e test`?\n"
            ),
            "{args:?}: {}",
            run.stderr
        );
        // Not reported as a problem of billing.toml, which is valid.
        assert!(!run.stderr.contains("billing.toml:"), "{}", run.stderr);
    }
    let validate = billing(&dir, &["validate"]);
    assert_eq!(validate.code, 0, "{}", validate.stderr);
    // Without environments, -e names the embedded sandbox only.
    let plain = Workdir::with_catalog("[products.pro]\nname = \"Pro\"\n");
    let run = billing(&plain, &["plan", "-e", "test"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.starts_with("error: -e/--env test: billing.toml declares no environments; without any, billing uses the embedded sandbox (`-e sandbox`)"),
        "{}",
        run.stderr
    );
    assert!(sandbox.requests().is_empty(), "nothing is sent");
}

#[test]
fn api_base_is_refused_on_a_sandbox_environment_and_read_from_billing_api_base() {
    let test = start();
    let live = live_sandbox();
    let trimmed = |s: &Sandbox| s.base_url().trim_end_matches('/').to_owned();
    let (test_base, live_base) = (trimmed(&test), trimmed(&live));
    let dir = repository();
    // The flag, or the variable, on the default environment, `local`: refused, naming both.
    for (args, variable) in [
        (vec!["plan", "--api-base", test_base.as_str()], None),
        (vec!["plan"], Some(test_base.as_str())),
    ] {
        let mut cmd = dir.billing();
        cmd.args(&args).env("STRIPE_TEST_SECRET_KEY", TEST_KEY);
        if let Some(base) = variable {
            cmd.env("BILLING_API_BASE", base);
        }
        let run: Run = cmd.output().unwrap().into();
        assert_eq!(run.code, 1, "{args:?}: {}{}", run.stdout, run.stderr);
        assert!(
            run.stderr.contains(&format!(
                "error: --api-base {} cannot be used with environment `local`: it is the embedded sandbox (sandbox = true in billing.toml)",
                test_base
            )),
            "{}",
            run.stderr
        );
        assert!(
            run.stderr
                .contains("hint: pass -e with an environment that talks to an API (live, test)"),
            "{}",
            run.stderr
        );
    }
    assert!(test.requests().is_empty(), "nothing is sent");
    assert!(
        !dir.path().join(".billing/local").exists(),
        "nothing started"
    );

    // `-e live` with the catalog's own key variable, pointed at a loopback sandbox by
    // BILLING_API_BASE.
    let key = live_key();
    let live_run = |args: &[&str]| -> Run {
        let run: Run = dir
            .billing()
            .args(args)
            .env("STRIPE_LIVE_SECRET_KEY", &key)
            .env("BILLING_API_BASE", &live_base)
            .output()
            .unwrap()
            .into();
        assert!(!run.stdout.contains(&key) && !run.stderr.contains(&key));
        run
    };
    let apply = live_run(&["-e", "live", "apply", "--yes"]);
    assert_eq!(apply.code, 0, "{}{}", apply.stdout, apply.stderr);
    assert!(
        squash(&apply.stdout).starts_with("Plan for live (account acct_"),
        "{}",
        apply.stdout
    );
    assert!(
        apply.stderr.contains(&format!(
            "Reading environment `live` (live mode, {live_base})."
        )),
        "{}",
        apply.stderr
    );
    // The staff coupon is limited to local and test: not created in live.
    assert!(
        apply.stdout.contains("coupons.launch20"),
        "{}",
        apply.stdout
    );
    assert!(!apply.stdout.contains("coupons.staff"), "{}", apply.stdout);
    let plan = live_run(&["-e", "live", "plan", "--detailed-exitcode"]);
    assert_eq!(plan.code, 0, "{}{}", plan.stdout, plan.stderr);

    let help: Run = dir.billing().arg("--help").output().unwrap().into();
    assert!(
        help.stdout.contains("[env: BILLING_API_BASE="),
        "{}",
        help.stdout
    );
}

#[test]
fn network_and_key_errors_say_what_to_do() {
    let sandbox = start();
    let base = sandbox.base_url().trim_end_matches('/').to_owned();
    let dir = repository();
    let test_key = [("STRIPE_TEST_SECRET_KEY", TEST_KEY)];

    // An API base written with /v1.
    let versioned = format!("{base}/v1");
    let run = billing_with_keys(
        &dir,
        &["-e", "test", "plan", "--api-base", &versioned],
        &test_key,
    );
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains(&format!(
            "error: --api-base {versioned} ends in /v1, which billing adds to every request itself\nhint: use --api-base {base}\n"
        )),
        "{}",
        run.stderr
    );
    assert!(sandbox.requests().is_empty());

    // Nothing listening on this machine: at once, not after retries, with what to start.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let closed = format!("http://127.0.0.1:{port}");
    let started = std::time::Instant::now();
    let run = billing_with_keys(
        &dir,
        &["-e", "test", "plan", "--api-base", &closed],
        &test_key,
    );
    assert_eq!(run.code, 1);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(3),
        "took {:?}",
        started.elapsed()
    );
    assert!(
        run.stderr.contains(&format!(
            "error: cannot read the Stripe state of environment `test`: nothing is listening at {closed} (connection refused)"
        )),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(&format!(
            "hint: start a local Stripe-compatible API there (`billing sandbox --port {port}`)"
        )),
        "{}",
        run.stderr
    );

    // A missing key: the variable, and the environments -e picks from.
    let run = billing_with_keys(&dir, &["-e", "test", "plan"], &[]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("error: STRIPE_TEST_SECRET_KEY is not set: environment `test` needs a Stripe secret key to talk to https://api.stripe.com\nhint: set STRIPE_TEST_SECRET_KEY to the secret key of environment `test` (keys are read from environment variables only); -e picks another environment: `live` (STRIPE_LIVE_SECRET_KEY)\n"),
        "{}",
        run.stderr
    );

    // Without environments, the API a flag names is not called an environment by its URL.
    let plain = Workdir::with_catalog("[products.pro]\nname = \"Pro\"\n");
    let run = billing_with_keys(&plain, &["plan", "--api-base", base.as_str()], &[]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains(&format!(
            "error: STRIPE_SECRET_KEY is not set: --api-base {base} needs a Stripe secret key to talk to {base}"
        )),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("environment `http"), "{}", run.stderr);
    let run = billing_with_keys(
        &plain,
        &["plan", "--api-base", base.as_str()],
        &[("STRIPE_SECRET_KEY", TEST_KEY)],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        squash(&run.stdout).starts_with(&format!("Plan for --api-base {base} (account acct_")),
        "{}",
        run.stdout
    );

    // Where keys come from.
    let help: Run = dir.billing().arg("--help").output().unwrap().into();
    let help = help.stdout.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        help.contains("Secret keys are read from environment variables, never from a flag or a file: each environment's secret_key_env (STRIPE_SECRET_KEY unless billing.toml names another)"),
        "{help}"
    );
}

#[test]
fn a_stripe_secret_key_the_embedded_sandbox_leaves_unused_is_warned_about() {
    let key = [("STRIPE_SECRET_KEY", TEST_KEY)];
    // No environments: the embedded sandbox, and how to use the key instead.
    let plain = Workdir::with_catalog("[products.pro]\nname = \"Pro\"\n");
    let run = billing_with_keys(&plain, &["plan"], &key);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.starts_with("warning: STRIPE_SECRET_KEY is set but not used: billing.toml declares no environments, so billing uses the embedded sandbox; to use the key, pass --api-base https://api.stripe.com (or set BILLING_API_BASE)"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("Reading environment `sandbox` (the embedded sandbox, state in "),
        "{}",
        run.stderr
    );
    // The repository's catalog: `local` by default, and the environments that read keys.
    let run = billing_with_keys(&repository(), &["plan"], &key);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("warning: STRIPE_SECRET_KEY is set but not used: environment `local` is the embedded sandbox, and no environment of billing.toml reads its key from STRIPE_SECRET_KEY; to read an account, pass -e live (key in STRIPE_LIVE_SECRET_KEY) or -e test (key in STRIPE_TEST_SECRET_KEY)"),
        "{}",
        run.stderr
    );
    // Without the key, no warning.
    let run = billing_with_keys(&plain, &["plan"], &[]);
    assert!(!run.stderr.contains("warning"), "{}", run.stderr);
}
