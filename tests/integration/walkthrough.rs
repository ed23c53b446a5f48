//! The README, walked through in fresh directories as a new user would: the quickstart, the
//! environments, the ids for the application, the takeover of an account, plans in pull
//! requests, and adopting, renaming and forgetting.
//!
//! Every command a step runs is quoted from README.md: the step fails when the README no longer
//! shows that command line, so the README and this walk cannot drift apart. Commands run with
//! the real binary; sandboxes stand in for the Stripe test and live accounts, with
//! `BILLING_API_BASE` pointing each command at the one its environment names (the variable a
//! user never sets against Stripe). `cargo run --` in the README is the `billing`
//! binary here. Where a README command asks for confirmation on a terminal, the step gives
//! `--yes`, the answer a user types.

use std::collections::BTreeMap;

use stripe_sandbox::test_support::{Req, start, start_with};
use stripe_sandbox::{Sandbox, SandboxConfig};

use crate::support::{Workdir, list_all, list_all_live, live_key, repository_catalog};

const README: &str = include_str!("../../README.md");

/// What a command printed and how it exited.
struct Ran {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Ran {
    fn both(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

/// A fresh directory and the variables a user has exported.
struct Walk {
    dir: Workdir,
    vars: BTreeMap<&'static str, String>,
}

impl Walk {
    fn new() -> Self {
        Self {
            dir: Workdir::new(),
            vars: BTreeMap::new(),
        }
    }

    fn export(&mut self, name: &'static str, value: impl Into<String>) {
        self.vars.insert(name, value.into());
    }

    fn unset(&mut self, name: &'static str) {
        self.vars.remove(name);
    }

    /// Runs `line`, a command the README shows (checked), in the directory; it must exit with
    /// `code`. `extra` are arguments the step adds (`--yes` where a terminal would ask).
    fn step_with(&self, line: &str, extra: &[&str], code: i32) -> Ran {
        assert!(
            README.lines().any(|l| {
                let shown = l.split(" # ").next().unwrap_or(l).trim_end();
                shown == line || shown.trim_start() == line
            }),
            "README.md no longer shows the command `{line}`"
        );
        let words: Vec<&str> = line.split_whitespace().collect();
        let args = match words.as_slice() {
            ["cargo", "run", "--", rest @ ..] => rest,
            ["billing", rest @ ..] => rest,
            _ => panic!("`{line}` is not a billing command"),
        };
        let mut cmd = self.dir.billing();
        for var in [
            "STRIPE_TEST_SECRET_KEY",
            "STRIPE_LIVE_SECRET_KEY",
            "BILLING_API_BASE",
        ] {
            cmd.env_remove(var);
        }
        cmd.envs(&self.vars);
        let output = cmd
            .args(args)
            .args(extra)
            .output()
            .expect("run the billing binary");
        let ran = Ran {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        };
        assert_eq!(
            ran.code, code,
            "`{line}` exited {} (expected {code})\nstdout:\n{}\nstderr:\n{}",
            ran.code, ran.stdout, ran.stderr
        );
        ran
    }

    fn step(&self, line: &str, code: i32) -> Ran {
        self.step_with(line, &[], code)
    }
}

/// The README's fenced block of `lang` that follows `heading`.
fn readme_block(heading: &str, lang: &str) -> String {
    let at = README
        .find(heading)
        .unwrap_or_else(|| panic!("README.md has no `{heading}`"));
    let fence = format!("```{lang}\n");
    let start = at + README[at..].find(&fence).expect("a fenced block") + fence.len();
    let len = README[start..].find("```").expect("the block ends");
    README[start..start + len].to_owned()
}

/// This repository's catalog from its first product on: what it sells, without its own
/// environments.
fn repository_products() -> String {
    let catalog = repository_catalog();
    let at = catalog
        .find("[products.")
        .expect("the catalog has products");
    catalog[at..].to_owned()
}

/// A sandbox standing in for a live-mode account.
fn live_account() -> Sandbox {
    start_with(SandboxConfig {
        live: true,
        ..SandboxConfig::default()
    })
}

/// The id of the live-mode account `sandbox` stands in for.
fn account_id(sandbox: &Sandbox) -> String {
    let res = Req::get("/v1/account")
        .header("Authorization", Some(&format!("Bearer {}", live_key())))
        .send(sandbox);
    assert_eq!(res.status, 200, "{}", res.body);
    res.json()["id"].as_str().expect("an account id").to_owned()
}

#[test]
fn the_quickstart_plans_applies_and_converges_on_the_embedded_sandbox() {
    let walk = Walk::new();
    walk.dir.write("billing.toml", repository_catalog());
    let plan = walk.step("cargo run -- plan", 0);
    assert!(plan.stdout.contains("to create"), "{}", plan.stdout);
    walk.step_with("cargo run -- apply --yes", &[], 0);
    let again = walk.step("cargo run -- plan --detailed-exitcode", 0);
    assert!(again.both().contains("No changes"), "{}", again.both());
    let doctor = walk.step("cargo run -- doctor", 0);
    assert!(doctor.stdout.contains("Score: 6/8"), "{}", doctor.stdout);
    // The state lives beside the catalog and stays out of version control.
    let local = walk.dir.path().join(".billing/local");
    assert!(local.join("state.json").exists());
    assert!(walk.dir.path().join(".billing/.gitignore").exists());
}

#[test]
fn a_new_catalog_starts_with_billing_init() {
    let walk = Walk::new();
    walk.step("billing init", 0);
    walk.step("billing init", 1);
    walk.step("billing validate", 0);
    let plan = walk.step("billing plan", 0);
    assert!(plan.stdout.contains("to create"), "{}", plan.stdout);
}

#[test]
fn the_environments_section_plans_test_and_applies_live_with_the_account_guard() {
    let test = start();
    let live = live_account();
    let mut walk = Walk::new();
    let environments = readme_block("### Against Stripe: environments", "toml")
        .replace("acct_1ExampleLive", &account_id(&live));
    walk.dir.write(
        "billing.toml",
        format!("{environments}\n{}", repository_products()),
    );

    // `export STRIPE_TEST_SECRET_KEY=sk_test_...`
    assert!(README.contains("export STRIPE_TEST_SECRET_KEY=sk_test_..."));
    walk.export("STRIPE_TEST_SECRET_KEY", "sk_test_walkthrough");
    walk.export("BILLING_API_BASE", test.base_url());
    let plan = walk.step("billing plan", 0);
    assert!(
        plan.both().contains("test"),
        "the plan names its environment:\n{}",
        plan.both()
    );
    assert!(
        !test.requests().is_empty(),
        "the default environment is test"
    );

    // Live needs its own key: without it, the message names the variable.
    walk.export("BILLING_API_BASE", live.base_url());
    let missing = walk.step("billing -e live plan", 1);
    assert!(
        missing.stderr.contains("STRIPE_LIVE_SECRET_KEY"),
        "{}",
        missing.stderr
    );
    walk.export("STRIPE_LIVE_SECRET_KEY", live_key());
    walk.step("billing -e live plan", 0);
    walk.step_with("billing apply -e live --allow-destroy", &["--yes"], 0);
    assert!(!list_all_live(&live, "/v1/products").is_empty());
    assert!(
        list_all(&test, "/v1/products").is_empty(),
        "planning test wrote nothing to it"
    );
    // The coupon limited to local and test is not in live.
    let coupons = list_all_live(&live, "/v1/coupons");
    assert!(
        coupons.iter().all(|c| c["percent_off"] != 100.0),
        "the staff coupon stays out of live: {coupons:?}"
    );
    // `outputs` wrote the live ids.
    let ids = walk.dir.read("generated/billing.live.json");
    assert!(ids.contains("price_"), "{ids}");

    // Ids for the application.
    walk.step("billing output -e live --format ts --out src/billing.ts", 0);
    let ts = walk.dir.read("src/billing.ts");
    assert!(ts.contains("as const") && ts.contains("price_"), "{ts}");

    // Another account behind the live key is refused before anything is planned.
    let other = live_account();
    walk.export("BILLING_API_BASE", other.base_url());
    let refused = walk.step("billing -e live plan", 1);
    assert!(refused.stderr.contains("acct_"), "{}", refused.stderr);
    assert!(list_all_live(&other, "/v1/products").is_empty());
}

#[test]
fn the_takeover_imports_an_account_plans_only_adoptions_and_converges() {
    // An account made in the Dashboard: a product with two prices, a coupon.
    let account = start();
    let post = |path: &str, body: &str| {
        let res = Req::post(path, body).send(&account);
        assert_eq!(res.status, 200, "{}", res.body);
        res.json()
    };
    let product = post("/v1/products", "name=Pro&description=For+teams");
    let id = product["id"].as_str().unwrap();
    post(
        "/v1/prices",
        &format!(
            "product={id}&currency=usd&unit_amount=7900&recurring[interval]=month&lookup_key=pro_monthly"
        ),
    );
    post(
        "/v1/prices",
        &format!("product={id}&currency=usd&unit_amount=79000&recurring[interval]=year"),
    );
    post("/v1/coupons", "percent_off=20&duration=once&name=Launch");

    let mut walk = Walk::new();
    walk.export("STRIPE_SECRET_KEY", "sk_test_walkthrough");
    walk.export("BILLING_API_BASE", account.base_url());
    walk.step("billing import --out billing.toml", 0);
    let catalog = walk.dir.read("billing.toml");
    assert!(catalog.contains("pro_monthly"), "{catalog}");
    // The file declares the account it came from as an environment (here with the stand-in's
    // `api_base`), so the next commands read that account, not the embedded sandbox.
    walk.unset("BILLING_API_BASE");

    let plan = walk.step("billing plan", 0);
    assert!(plan.stdout.contains("adopt"), "{}", plan.stdout);
    assert!(
        !plan.stdout.contains("will be created"),
        "a takeover creates nothing:\n{}",
        plan.stdout
    );
    walk.step_with("billing apply", &["--yes"], 0);
    let prices = list_all(&account, "/v1/prices");
    assert_eq!(prices.len(), 2, "nothing duplicated: {prices:?}");
    assert!(
        prices
            .iter()
            .all(|p| p["metadata"].as_object().is_some_and(|m| !m.is_empty())),
        "every price carries billing's marker: {prices:?}"
    );
    let after = walk.step_with("billing plan", &["--detailed-exitcode"], 0);
    assert!(after.both().contains("No changes"), "{}", after.both());
}

#[test]
fn plans_travel_as_files_and_entries_are_adopted_renamed_and_forgotten() {
    let walk = Walk::new();
    walk.dir.write("billing.toml", repository_catalog());

    // Plans in pull requests: save, show, apply exactly that plan.
    walk.step("billing plan --out plan.json", 0);
    let shown = walk.step("billing show plan.json --format markdown", 0);
    assert!(
        shown.stdout.starts_with("<!-- billing-plan -->"),
        "{}",
        shown.stdout
    );
    walk.step("billing apply plan.json", 0);
    walk.step_with("billing plan", &["--detailed-exitcode"], 0);
    // Applied once, the file is stale.
    let again = walk.step("billing apply plan.json", 1);
    assert!(again.stderr.contains("plan"), "{}", again.stderr);

    // Rename: `[products.pro]` becomes `[products.team]` with `moved_from`, as the README shows.
    let rename = readme_block("**Rename.**", "toml");
    assert!(rename.contains("moved_from = \"pro\""));
    let catalog = repository_catalog()
        .replace("[products.pro]", "[products.team]\nmoved_from = \"pro\"")
        .replace("[products.pro.", "[products.team.")
        .replace(
            "products = [\"starter\", \"pro\"]",
            "products = [\"starter\", \"team\"]",
        )
        .replace(
            "applies_to = [\"starter\", \"pro\"]",
            "applies_to = [\"starter\", \"team\"]",
        );
    walk.dir.write("billing.toml", &catalog);
    let moved = walk.step("billing plan --out plan.json", 0);
    assert!(moved.stdout.contains("will be moved"), "{}", moved.stdout);
    assert!(
        !moved.stdout.contains("will be created"),
        "a rename creates nothing:\n{}",
        moved.stdout
    );
    walk.step("billing apply plan.json", 0);
    walk.step_with("billing plan", &["--detailed-exitcode"], 0);

    // Forget: the launch coupon and its code leave billing.toml, and billing lets go of them.
    let without = |text: &str, table: &str| {
        let start = text
            .find(table)
            .unwrap_or_else(|| panic!("{table} is declared"));
        let end = text[start..]
            .find("\n\n")
            .map_or(text.len(), |at| start + at + 2);
        format!("{}{}", &text[..start], &text[end..])
    };
    let catalog = without(
        &without(&catalog, "[coupons.launch20]"),
        "[promotion_codes.LAUNCH20]",
    );
    walk.dir.write("billing.toml", &catalog);
    assert!(README.contains("`billing forget ADDRESS...`"));
    let forgot = walk
        .dir
        .billing()
        .args(["forget", "coupons.launch20", "--yes"])
        .output()
        .expect("run billing forget");
    assert!(forgot.status.success(), "{forgot:?}");
    walk.step_with("billing plan", &["--detailed-exitcode"], 0);
}
