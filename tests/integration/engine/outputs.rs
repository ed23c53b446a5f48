//! `billing output`: the ids the application reads, after renames, replacements and
//! deactivations, and the files `--out` writes.

use serde_json::{Value, json};

use super::Env;

const BEFORE: &str = r#"
[products.pro]
name = "Pro"

[products.pro.prices.month]
amount = "79.00"
currency = "usd"
interval = "month"
"#;

/// The JSON `billing output` prints, which must succeed.
fn output(env: &Env) -> Value {
    let run = env.billing(&["output"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    serde_json::from_str(&run.stdout).expect("JSON outputs")
}

#[test]
fn superseded_ids_follow_a_renamed_price_and_never_go_to_a_new_entry_at_its_old_key() {
    let env = Env::new(BEFORE);
    env.converge();
    let first = env.id("prices.pro.month");
    // A replacement: the first price is superseded.
    env.set_catalog(&BEFORE.replace("79.00", "89.00"));
    env.converge();
    let second = env.id("prices.pro.month");
    assert_eq!(
        output(&env)["prices"]["pro"]["month"]["superseded"],
        json!([first])
    );

    // Renamed with moved_from: the price keeps its id, and the ids it superseded go with it.
    let renamed = BEFORE
        .replace("79.00", "89.00")
        .replace("prices.month]", "prices.monthly]\nmoved_from = \"month\"");
    env.set_catalog(&renamed);
    let plan = env.plan();
    assert!(
        plan.has("the 1 older price at prices.pro.month (the ids it superseded) moves with it"),
        "{}",
        plan.stdout
    );
    env.converge();
    let ids = output(&env);
    assert_eq!(ids["prices"]["pro"]["monthly"]["id"], second.as_str());
    assert_eq!(
        ids["prices"]["pro"]["monthly"]["superseded"],
        json!([first]),
        "{ids:#}"
    );
    assert!(env.at("prices.pro.month").is_empty(), "nothing left behind");

    // moved_from removed, and an unrelated price takes the old key: it inherits nothing.
    let reused = format!(
        "{}\n[products.pro.prices.month]\namount = \"5.00\"\ncurrency = \"usd\"\ninterval = \"month\"\n",
        renamed.replace("moved_from = \"month\"\n", "")
    );
    env.set_catalog(&reused);
    env.converge();
    let ids = output(&env);
    let third = env.id("prices.pro.month");
    assert!(![first.as_str(), second.as_str()].contains(&third.as_str()));
    assert_eq!(ids["prices"]["pro"]["month"]["id"], third.as_str());
    assert_eq!(
        ids["prices"]["pro"]["month"]["superseded"],
        json!([]),
        "{ids:#}"
    );
    assert_eq!(
        ids["prices"]["pro"]["monthly"]["superseded"],
        json!([first]),
        "{ids:#}"
    );
}

const WITH_CODE: &str = r#"
[products.pro]
name = "Pro"

[coupons.launch]
name = "Launch"
percent_off = 20
duration = "once"

[promotion_codes.SPRING]
coupon = "launch"
max_redemptions = 1

[promotion_codes.SUMMER]
coupon = "launch"
"#;

#[test]
fn a_code_stripe_deactivated_is_left_out_of_the_ids_and_named() {
    let env = Env::new(WITH_CODE);
    env.converge();
    let spring = env.id("promotion_codes.SPRING");
    let ids = output(&env);
    assert_eq!(ids["promotion_codes"]["SPRING"], spring.as_str());
    // Used up: Stripe deactivates the code by itself.
    env.sandbox.redeem_promotion_code(&spring).unwrap();
    let run = env.billing(&["output"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let ids: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(ids["promotion_codes"].get("SPRING"), None, "{ids:#}");
    assert_eq!(
        ids["promotion_codes"]["SUMMER"],
        env.id("promotion_codes.SUMMER").as_str()
    );
    assert!(
        run.stderr.contains(
            "warning: inactive in Stripe, so left out (it cannot be used): promotion_codes.SPRING"
        ),
        "{}",
        run.stderr
    );
}

#[test]
fn output_without_a_single_id_fails_and_writes_nothing() {
    let env = Env::new(BEFORE);
    // Before any apply: nothing billing.toml declares is in Stripe.
    for args in [&["output"][..], &["output", "--out", "ids.json"]] {
        let run = env.billing(args);
        assert_eq!(run.code, 1, "{args:?}: {}{}", run.stdout, run.stderr);
        assert_eq!(run.stdout, "");
        assert!(
            run.stderr.contains(
                "error: nothing billing.toml declares is usable in Stripe yet (--api-base http://"
            ),
            "{}",
            run.stderr
        );
        assert!(
            run.stderr
                .contains("there are no ids to write, and nothing was written"),
            "{}",
            run.stderr
        );
        // No environment is declared: none to name with -e.
        assert!(
            run.stderr.contains("hint: run `billing apply` first"),
            "{}",
            run.stderr
        );
    }
    assert!(!env.dir.path().join("ids.json").exists());
    assert_eq!(env.writes(), 0);

    // A catalog that declares nothing has no ids either.
    env.set_catalog("");
    let run = env.billing(&["output"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr
            .contains("error: billing.toml declares nothing for --api-base http://"),
        "{}",
        run.stderr
    );
}

#[test]
fn output_out_writes_the_format_its_extension_names() {
    let env = Env::new(BEFORE);
    env.converge();
    let price = env.id("prices.pro.month");
    let run = env.billing(&["output", "--out", "src/ids.ts"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let ts = env.dir.read("src/ids.ts");
    assert!(ts.contains("export const billing = {"), "{ts}");
    assert!(ts.contains(&price), "{ts}");
    for (file, holds) in [
        ("app/.env", format!("BILLING_PRICE_PRO__MONTH={price}")),
        ("ids.env", format!("BILLING_PRICE_PRO__MONTH={price}")),
        ("ids.toml", format!("id = \"{price}\"")),
        ("ids.json", format!("\"id\": \"{price}\"")),
    ] {
        let run = env.billing(&["output", "--out", file]);
        assert_eq!(run.code, 0, "{file}: {}", run.stderr);
        let text = env.dir.read(file);
        assert!(text.contains(&holds), "{file}: {text}");
    }
    // Only the format the file's extension names, and --format for a name that names none.
    let run = env.billing(&["output", "--format", "env", "--out", "ids.txt"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        env.dir
            .read("ids.txt")
            .contains("BILLING_PRICE_PRO__MONTH=")
    );
    env.sandbox.clear_requests();
    for (args, says) in [
        (
            &["output", "--out", "ids.yaml"][..],
            "error: --out ids.yaml: its extension names no format billing writes (.json, .toml, .ts, .env)",
        ),
        (
            &["output", "--format", "json", "--out", "ids2.ts"],
            "error: --format json contradicts --out ids2.ts, whose extension names ts",
        ),
    ] {
        let run = env.billing(args);
        assert_eq!(run.code, 1, "{args:?}");
        assert!(run.stderr.contains(says), "{}", run.stderr);
        assert!(run.stderr.contains("hint: "), "{}", run.stderr);
    }
    assert!(!env.dir.path().join("ids.yaml").exists());
    assert!(!env.dir.path().join("ids2.ts").exists());
    assert!(env.sandbox.requests().is_empty(), "refused before reading");
}

#[test]
fn every_out_makes_its_directory_and_errors_name_the_file_asked_for() {
    let env = Env::new(BEFORE);
    env.converge();
    for (args, file) in [
        (
            &["plan", "--out", "plans/new/plan.json"][..],
            "plans/new/plan.json",
        ),
        (&["output", "--out", "ids/new/ids.json"], "ids/new/ids.json"),
        (
            &["import", "--out", "imported/new/billing.toml"],
            "imported/new/billing.toml",
        ),
    ] {
        let run = env.billing(args);
        assert_eq!(run.code, 0, "{args:?}: {}", run.stderr);
        assert!(!env.dir.read(file).is_empty(), "{file}");
    }
    // A file where a directory should be: the error names what was asked for, never the
    // temporary file billing writes first.
    env.dir.write("taken", "");
    for command in ["plan", "output", "import"] {
        let run = env.billing(&[command, "--out", "taken/out.json"]);
        assert_eq!(run.code, 1, "{command}: {}", run.stderr);
        assert!(
            run.stderr
                .contains("error: cannot write taken/out.json: taken is not a directory"),
            "{command}: {}",
            run.stderr
        );
        assert!(!run.stderr.contains(".tmp"), "{command}: {}", run.stderr);
    }
}

/// Applies with an `outputs` file that cannot be written (`block` puts something in its way):
/// the apply completes, and the error says that, `why` the file is not written, and how to
/// write it once fixed.
fn apply_with_blocked_outputs(block: impl FnOnce(&Env), why: &str) -> Env {
    let env = Env::new(&format!(
        "[environments.test]\nmode = \"test\"\noutputs = \"generated/ids.json\"\n{BEFORE}"
    ));
    block(&env);
    let run = env.billing(&["apply", "--yes"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let error = format!(
        "error: the apply completed and Stripe was changed, but the ids of test could not be written: cannot write ./generated/ids.json: {why}"
    );
    assert!(run.stderr.contains(&error), "{}", run.stderr);
    assert!(!run.stderr.contains("os error"), "{}", run.stderr);
    let hint = "hint: once that is fixed, `billing output -e test --out ./generated/ids.json` writes the file";
    assert!(run.stderr.contains(hint), "{}", run.stderr);
    assert_eq!(
        env.current_or_none("prices.pro.month"),
        1,
        "Stripe was changed"
    );
    env
}

#[test]
fn an_outputs_path_through_a_file_names_it_and_says_stripe_was_changed() {
    // A file where the outputs' directory should be.
    let block = |env: &Env| drop(env.dir.write("generated", "not a directory"));
    apply_with_blocked_outputs(block, "./generated is not a directory");
}

#[test]
fn an_outputs_file_that_cannot_be_written_after_apply_says_how_to_write_it() {
    // A directory where the file goes.
    let block =
        |env: &Env| std::fs::create_dir_all(env.dir.path().join("generated/ids.json")).unwrap();
    let env = apply_with_blocked_outputs(block, "it is a directory");

    // The hint's command writes the file.
    std::fs::remove_dir(env.dir.path().join("generated/ids.json")).unwrap();
    let run = env.billing(&["output", "-e", "test", "--out", "./generated/ids.json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let ids: Value = serde_json::from_str(&env.dir.read("generated/ids.json")).unwrap();
    assert_eq!(
        ids["prices"]["pro"]["month"]["id"],
        env.id("prices.pro.month").as_str()
    );
}
