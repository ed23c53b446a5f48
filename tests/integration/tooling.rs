//! What fits billing into a user's tools: the editor schema, shell completions, the man page,
//! `billing init` and `--quiet`.

use predicates::prelude::*;

use crate::support::Workdir;

#[test]
fn the_committed_schema_is_what_billing_schema_prints() {
    let printed = Workdir::new().billing().arg("schema").output().unwrap();
    assert!(printed.status.success());
    let committed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/billing.schema.json"))
            .expect("the repository commits billing.schema.json");
    assert!(
        String::from_utf8(printed.stdout).unwrap() == committed,
        "billing.schema.json is stale: regenerate it with `cargo run -- schema > billing.schema.json` and commit it"
    );
}

#[test]
fn the_repository_catalog_names_its_schema() {
    let catalog = crate::support::repository_catalog();
    assert_eq!(
        catalog.lines().next(),
        Some("#:schema ./billing.schema.json"),
        "editors find the schema through the first line"
    );
}

#[test]
fn completions_are_generated_for_every_shell() {
    let dir = Workdir::new();
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let out = dir.billing().args(["completions", shell]).output().unwrap();
        assert!(out.status.success(), "{shell}");
        let script = String::from_utf8(out.stdout).unwrap();
        for word in [
            "billing",
            "validate",
            "init",
            "allow-destroy",
            "detailed-exitcode",
        ] {
            assert!(script.contains(word), "{shell} completions lack {word}");
        }
    }
    dir.billing()
        .args(["completions", "tcsh"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("invalid value 'tcsh'"));
}

#[test]
fn the_man_page_describes_every_command() {
    let out = Workdir::new().billing().arg("man").output().unwrap();
    assert!(out.status.success());
    let page = String::from_utf8(out.stdout).unwrap();
    assert!(
        page.starts_with(".ie") || page.contains(".TH billing 1"),
        "{page}"
    );
    assert!(page.contains(".TH billing 1"));
    for command in ["validate", "plan", "apply", "init", "schema", "completions"] {
        assert!(
            page.contains(&format!("billing\\-{command}")),
            "the man page lacks {command}"
        );
    }
}

#[test]
fn init_writes_a_starter_that_validates_and_plans_in_a_fresh_directory() {
    let dir = Workdir::new();
    dir.billing()
        .arg("init")
        .assert()
        .success()
        .stdout("")
        .stderr(predicate::str::contains(
            "Wrote billing.toml and billing.schema.json",
        ));
    let starter = dir.read("billing.toml");
    assert!(starter.starts_with("#:schema ./billing.schema.json\n"));
    let schema = Workdir::new()
        .billing()
        .arg("schema")
        .output()
        .unwrap()
        .stdout;
    assert_eq!(
        dir.read("billing.schema.json").as_bytes(),
        schema.as_slice()
    );
    dir.billing()
        .arg("validate")
        .assert()
        .success()
        .stdout(predicate::str::starts_with(
            "billing.toml is valid: 1 product, 2 prices, 1 portal configuration, 1 webhook endpoint",
        ));
    for env in ["test", "live"] {
        dir.billing()
            .args(["validate", "-e", env])
            .assert()
            .success();
    }
    dir.billing()
        .arg("plan")
        .assert()
        .success()
        .stdout(predicate::str::contains("+ product \"Pro\""))
        .stdout(predicate::str::contains("webhooks.app will be created"))
        .stdout(predicate::str::contains("Plan: 5 to create"));
}

#[test]
fn init_refuses_to_replace_a_catalog_unless_forced() {
    let dir = Workdir::with_catalog("[products.mine]\nname = \"Mine\"\n");
    dir.billing()
        .arg("init")
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "error: billing.toml already exists: nothing was written",
        ))
        .stderr(predicate::str::contains("--force"));
    assert_eq!(
        dir.read("billing.toml"),
        "[products.mine]\nname = \"Mine\"\n"
    );
    assert!(!dir.path().join("billing.schema.json").exists());
    dir.billing().args(["init", "--force"]).assert().success();
    assert!(dir.read("billing.toml").contains("[products.pro]"));
}

#[test]
fn init_writes_where_c_names() {
    let dir = Workdir::new();
    std::fs::create_dir(dir.path().join("billing")).unwrap();
    dir.billing()
        .args(["init", "-c", "billing/catalog.toml"])
        .assert()
        .success();
    assert!(dir.path().join("billing/billing.schema.json").exists());
    dir.billing()
        .args(["validate", "-c", "billing/catalog.toml"])
        .assert()
        .success();
    // Before the command too; an environment means nothing to it.
    dir.billing()
        .args(["-c", "other.toml", "init"])
        .assert()
        .success();
    assert!(dir.read("other.toml").contains("[products.pro]"));
    dir.billing()
        .args(["-e", "test", "init", "-c", "third.toml"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "`billing init` does not take --env",
        ));
}

#[test]
fn quiet_prints_only_errors_and_leaves_stdout_alone() {
    let dir = Workdir::new();
    dir.billing()
        .args(["init", "-q"])
        .assert()
        .success()
        .stderr("");
    let loud = dir.billing().arg("plan").output().unwrap();
    assert!(!loud.stderr.is_empty(), "plan says what it reads");
    let quiet = dir.billing().args(["plan", "--quiet"]).output().unwrap();
    assert!(quiet.status.success());
    assert_eq!(String::from_utf8_lossy(&quiet.stderr), "");
    assert_eq!(quiet.stdout, loud.stdout);
    dir.write("billing.toml", "[products.pro]\nnmae = \"Pro\"\n");
    dir.billing()
        .args(["-q", "validate"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("unknown key `nmae`"))
        .stderr(predicate::str::contains("did you mean `name`?"));
    dir.billing()
        .args(["-q", "-v", "validate"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("cannot be used with"));
}
