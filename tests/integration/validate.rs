//! `billing validate` through the binary: valid catalogs, every problem at once, exit codes, flags.

use predicates::prelude::*;

use crate::support::{Workdir, repository_catalog};

#[test]
fn the_repository_catalog_is_valid() {
    let dir = Workdir::with_catalog(&repository_catalog());
    dir.billing()
        .arg("validate")
        .assert()
        .success()
        .stdout(predicate::str::starts_with(
            "billing.toml is valid: 4 products, 6 prices, 2 coupons, 1 promotion code, 2 tax registrations, 1 tax rate, 1 portal configuration, 1 webhook endpoint, 4 entitlement features, 1 billing meter (namespace \"acme\").",
        ))
        .stderr("");
}

#[test]
fn verbose_lists_prices_with_formatted_amounts() {
    let dir = Workdir::with_catalog(&repository_catalog());
    dir.billing()
        .args(["validate", "-v"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "prices.pro.monthly  $79.00 / month  lookup_key=pro_monthly  (default)",
        ))
        .stdout(predicate::str::contains(
            "prices.onboarding.once  $499.00 one-time",
        ));
}

const BROKEN: &str = r#"[products.pro]
name = "Pro"
default_price = "monthy"

[products.pro.prices.monthly]
amount = "12.001"
currency = "usd"
interval = "month"

[products.pro.prices.annual]
amount = "120"
currency = "usd"
intervall = "year"
"#;

#[test]
fn a_broken_catalog_reports_every_problem_with_its_place_and_exits_1() {
    let dir = Workdir::with_catalog(BROKEN);
    let output = dir.billing().arg("validate").output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(
        output.stdout.is_empty(),
        "nothing on stdout for an invalid catalog"
    );
    let stderr = String::from_utf8(output.stderr).unwrap();
    insta::assert_snapshot!(stderr);
}

#[test]
fn config_flag_works_before_and_after_the_subcommand() {
    let dir = Workdir::new();
    dir.write("catalog.toml", "[products.a]\nname = \"A\"\n");
    for args in [
        ["-c", "catalog.toml", "validate"],
        ["validate", "-c", "catalog.toml"],
    ] {
        dir.billing()
            .args(args)
            .assert()
            .success()
            .stdout(predicate::str::starts_with(
                "catalog.toml is valid: 1 product, 0 prices",
            ));
    }
    dir.billing()
        .args(["validate", "--config=catalog.toml", "--no-color"])
        .assert()
        .success();
}

#[test]
fn diagnostics_name_the_file_as_given() {
    let dir = Workdir::new();
    std::fs::create_dir(dir.path().join("billing")).unwrap();
    dir.write("billing/prod.toml", "[products.a]\nnam = \"A\"\n");
    dir.billing()
        .args(["validate", "-c", "billing/prod.toml"])
        .assert()
        .code(1)
        .stderr(predicate::str::starts_with(
            "billing/prod.toml:2:1: error: unknown key `nam` in [products.a]",
        ));
}

#[test]
fn a_missing_catalog_says_so_and_how_to_fix_it() {
    let dir = Workdir::new();
    dir.billing()
        .arg("validate")
        .assert()
        .code(1)
        .stderr(predicate::str::contains("error: cannot read billing.toml"))
        .stderr(predicate::str::contains(
            "hint: no billing.toml here or in the directories above (up to the git repository's root): run billing where billing.toml is, or pass -c PATH",
        ));
}

#[test]
fn invalid_utf8_and_nul_bytes_are_diagnostics_not_panics() {
    let dir = Workdir::new();
    dir.write("billing.toml", b"[products.a]\nname = \"A\xff\"\n");
    dir.billing()
        .arg("validate")
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "billing.toml:2:10: error: the file is not valid UTF-8 text",
        ));
    dir.write("billing.toml", b"[products.a]\nname = \"A\0\"\n");
    dir.billing().arg("validate").assert().code(1).stderr(
        predicate::str::contains("billing.toml:2:").and(predicate::str::contains("invalid TOML")),
    );
}

#[test]
fn colour_only_when_asked_for_by_a_terminal() {
    // Output is captured (not a terminal): never colour, whatever NO_COLOR says.
    let dir = Workdir::with_catalog(BROKEN);
    let output = dir.billing().arg("validate").output().unwrap();
    assert!(!String::from_utf8_lossy(&output.stderr).contains('\x1b'));
}

#[test]
fn bad_flags_exit_1_and_help_exits_0() {
    let dir = Workdir::new();
    dir.billing()
        .args(["validate", "--frobnicate"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("--frobnicate"));
    dir.billing().arg("nonsense").assert().code(1);
    dir.billing()
        .arg("--help")
        .assert()
        .success()
        .stdout(predicate::str::contains("validate"))
        .stdout(predicate::str::contains("Exit codes"));
    dir.billing()
        .arg("--version")
        .assert()
        .success()
        .stdout(predicate::str::contains(env!("CARGO_PKG_VERSION")));
}

#[test]
fn each_command_takes_and_lists_only_the_flags_it_uses() {
    let dir = Workdir::with_catalog(&repository_catalog());
    let help = |command: &str| -> String {
        let out = dir.billing().args([command, "--help"]).output().unwrap();
        assert!(out.status.success());
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    for (command, unused, used) in [
        (
            "validate",
            &["--api-base", "--rate", "--endpoint-rate"][..],
            &["--config", "--env", "--verbose", "--no-color"][..],
        ),
        (
            "show",
            &["--rate", "--endpoint-rate"],
            &["--config", "--env", "--api-base"],
        ),
        (
            "sandbox",
            &[
                "--config",
                "--env",
                "--api-base",
                "--rate",
                "--endpoint-rate",
            ],
            &["--verbose", "--no-color"],
        ),
        (
            "plan",
            &[],
            &[
                "--config",
                "--env",
                "--api-base",
                "--rate",
                "--endpoint-rate",
            ],
        ),
    ] {
        let text = help(command);
        for flag in unused {
            assert!(
                !text.contains(&format!("{flag} ")),
                "{command} lists {flag}:\n{text}"
            );
        }
        for flag in used {
            assert!(
                text.contains(flag),
                "{command} does not list {flag}:\n{text}"
            );
        }
    }
    // Refused after the command's name, and before it.
    for args in [
        &["validate", "--rate", "5"][..],
        &["--rate", "5", "validate"],
        &["-e", "live", "sandbox"],
        &["show", "plan.json", "--endpoint-rate", "5"],
    ] {
        let out = dir.billing().args(args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(stderr.contains("error:"), "{args:?}: {stderr}");
        assert!(!stderr.contains("is valid"), "{args:?}: {stderr}");
    }
    // The flags a command uses still work on either side of its name.
    for args in [
        &["-c", "billing.toml", "validate"][..],
        &["validate", "-c", "billing.toml"],
    ] {
        dir.billing().args(args).assert().success();
    }
}

#[test]
fn dates_stripe_would_refuse_on_a_new_object_are_warned_about_at_their_field() {
    let dir = Workdir::with_catalog(
        r#"[products.pro]
name = "Pro"

[coupons.old]
percent_off = 10
duration = "once"
redeem_by = 2020-01-31T00:00:00Z

[coupons.far]
percent_off = 10
duration = "once"
redeem_by = 2199-01-31T00:00:00Z

[coupons.soon]
percent_off = 10
duration = "once"

[promotion_codes.OLD]
coupon = "soon"
expires_at = 2021-06-01T00:00:00Z
"#,
    );
    let out = dir.billing().arg("validate").output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Valid: an existing coupon keeps its date. Each date is pointed at where it is written.
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains(
            "billing.toml:7:1: warning: coupons.old: redeem_by 2020-01-31T00:00:00Z is in the past"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "billing.toml:12:1: warning: coupons.far: redeem_by 2199-01-31T00:00:00Z is more than five years away"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "billing.toml:20:1: warning: promotion_codes.OLD: expires_at 2021-06-01T00:00:00Z is in the past"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("`billing plan` refuses to create it"),
        "{stderr}"
    );
    assert!(!stderr.contains("coupons.soon"), "{stderr}");
    let old = stderr.find("coupons.old").unwrap();
    assert!(
        old < stderr.find("coupons.far").unwrap(),
        "in the file's order"
    );
}

/// Stripe refuses a webhook endpoint on the developer's machine, in test mode too: the local
/// URL belongs to a sandbox environment, and an environment on Stripe's API with one is
/// refused before anything is sent, pointing at `stripe listen`.
#[test]
fn a_local_webhook_url_is_for_sandbox_environments_only() {
    let catalog = |env: &str| {
        format!(
            r#"[environments.local]
sandbox = true

[environments.test]
mode = "test"
secret_key_env = "STRIPE_TEST_SECRET_KEY"

[webhooks.app]
url = "https://app.example.com/hooks"
events = ["subscriptions"]

[webhooks.app.overrides.{env}]
url = "http://localhost:4242/hooks"
"#
        )
    };
    let dir = Workdir::with_catalog(&catalog("local"));
    for env in ["local", "test"] {
        dir.billing()
            .args(["validate", "-e", env])
            .assert()
            .success();
    }
    dir.write("billing.toml", catalog("test"));
    dir.billing()
        .args(["validate", "-e", "test"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "billing.toml:13:7: error: Stripe refuses a webhook endpoint on this machine (localhost, a loopback address), in test mode too: its URL must be publicly reachable",
        ))
        .stderr(predicate::str::contains("stripe listen --forward-to"));
}
