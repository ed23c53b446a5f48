//! Plan and apply through the `billing` binary against an in-process sandbox: creation,
//! convergence, each kind of edit, ownership, failures and re-runs.

mod adopt;
mod apply_reports;
mod chaos;
mod concurrency;
mod converge;
mod destroy_guard;
mod discounts;
mod embedded;
mod entitlements;
mod environments;
mod failures;
mod meters;
mod outputs;
mod ownership;
mod pipelines;
mod plan_files;
mod snapshots;
mod tax_portal;
mod webhooks;

use std::process::Output;

use serde_json::Value;
use stripe_sandbox::test_support::start_with;
use stripe_sandbox::{LoggedRequest, Sandbox, SandboxConfig};

use crate::support::{Workdir, list_all};

/// The key the tests give billing; the sandbox accepts any test key.
pub(crate) const KEY: &str = "sk_test_engineTests0123456789abcdef";

/// A catalog directory and a sandbox, with `billing` pointed at the sandbox.
pub(crate) struct Env {
    pub dir: Workdir,
    pub sandbox: Sandbox,
}

/// What a run of `billing` printed and how it exited.
pub(crate) struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(o: Output) -> Self {
        Self {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

/// Runs of spaces collapsed to one, so assertions do not depend on column alignment.
pub(crate) fn squash(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for (i, part) in text.split(' ').filter(|p| !p.is_empty()).enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(part);
    }
    out.replace("\n ", "\n")
}

impl Run {
    /// Whether stdout contains `text`, ignoring alignment.
    pub(crate) fn has(&self, text: &str) -> bool {
        squash(&self.stdout).contains(&squash(text))
    }
}

impl Env {
    pub(crate) fn new(catalog: &str) -> Self {
        Self::with_config(catalog, SandboxConfig::default())
    }

    pub(crate) fn with_config(catalog: &str, config: SandboxConfig) -> Self {
        Self {
            dir: Workdir::with_catalog(catalog),
            sandbox: start_with(config),
        }
    }

    pub(crate) fn set_catalog(&self, catalog: &str) {
        self.dir.write("billing.toml", catalog);
    }

    /// Runs `billing ARGS --api-base SANDBOX` with the test key.
    pub(crate) fn billing(&self, args: &[&str]) -> Run {
        let mut cmd = self.dir.billing();
        cmd.args(args)
            .arg("--api-base")
            .arg(self.sandbox.base_url())
            .env("STRIPE_SECRET_KEY", KEY);
        let run: Run = cmd.output().expect("billing runs").into();
        assert!(
            !run.stdout.contains(KEY) && !run.stderr.contains(KEY),
            "the secret key must never be printed"
        );
        run
    }

    /// `billing validate`, which takes no connection flags.
    pub(crate) fn validate(&self) -> Run {
        self.dir
            .billing()
            .arg("validate")
            .output()
            .expect("billing runs")
            .into()
    }

    /// `plan --detailed-exitcode`.
    pub(crate) fn plan(&self) -> Run {
        self.billing(&["plan", "--detailed-exitcode"])
    }

    /// `apply --yes`, which must succeed.
    pub(crate) fn apply(&self) -> Run {
        let run = self.billing(&["apply", "--yes"]);
        assert_eq!(run.code, 0, "apply failed:\n{}\n{}", run.stdout, run.stderr);
        run
    }

    /// Applies, then checks that the next plan is empty.
    pub(crate) fn converge(&self) -> Run {
        let run = self.apply();
        let plan = self.plan();
        assert_eq!(
            plan.code, 0,
            "not converged after apply; the next plan is:\n{}{}",
            plan.stdout, plan.stderr
        );
        assert!(plan.stdout.contains("No changes"), "{}", plan.stdout);
        run
    }

    /// Every object of a list endpoint, all pages.
    pub(crate) fn list(&self, path: &str) -> Vec<Value> {
        list_all(&self.sandbox, path)
    }

    /// Every product in the sandbox.
    pub(crate) fn products(&self) -> Vec<Value> {
        self.list("/v1/products")
    }

    /// Every price in the sandbox, active and archived, with includable fields.
    pub(crate) fn prices(&self) -> Vec<Value> {
        let mut all =
            self.list("/v1/prices?active=true&expand[]=data.currency_options&expand[]=data.tiers");
        all.extend(
            self.list("/v1/prices?active=false&expand[]=data.currency_options&expand[]=data.tiers"),
        );
        all
    }

    /// The objects carrying billing's marker for `address`.
    pub(crate) fn at(&self, address: &str) -> Vec<Value> {
        let mut all = self.products();
        all.extend(self.prices());
        all.extend(self.list("/v1/coupons"));
        all.extend(self.list("/v1/promotion_codes"));
        all.into_iter()
            .filter(|o| o["metadata"]["billing_key"] == address)
            .collect()
    }

    /// The one active object at `address`.
    pub(crate) fn current(&self, address: &str) -> Value {
        // Coupons have no `active`: one that exists is current.
        let active: Vec<Value> = self
            .at(address)
            .into_iter()
            .filter(|o| o["active"] == true || o["object"] == "coupon")
            .collect();
        assert_eq!(
            active.len(),
            1,
            "expected one active object at {address}, found {active:#?}"
        );
        active.into_iter().next().unwrap_or_default()
    }

    /// The id of the one active object at `address`.
    pub(crate) fn id(&self, address: &str) -> String {
        let current = self.current(address);
        let id = current["id"].as_str();
        id.unwrap_or_else(|| panic!("{address} has no id: {current:#}"))
            .to_owned()
    }

    /// How many objects at `address` are active.
    pub(crate) fn current_or_none(&self, address: &str) -> usize {
        self.at(address)
            .iter()
            .filter(|o| o["active"] == true)
            .count()
    }

    /// Number of write requests the sandbox received so far.
    pub(crate) fn writes(&self) -> usize {
        writes(&self.sandbox)
    }

    /// The requests the sandbox logged, the apply lease's left out.
    pub(crate) fn requests(&self) -> Vec<LoggedRequest> {
        requests(&self.sandbox)
    }
}

/// Number of write requests `sandbox` received so far, the apply lease's left out.
pub(crate) fn writes(sandbox: &Sandbox) -> usize {
    requests(sandbox)
        .iter()
        .filter(|r| r.method != "GET")
        .count()
}

/// The requests `sandbox` logged, but those that read or move the apply lease (billing's
/// bookkeeping, checked by `pipelines.rs`).
pub(crate) fn requests(sandbox: &Sandbox) -> Vec<LoggedRequest> {
    sandbox
        .requests()
        .into_iter()
        .filter(|r| {
            !r.path.contains("/billing_lease_")
                && !r
                    .idempotency_key
                    .as_deref()
                    .is_some_and(|k| k.starts_with("billing-lease-"))
        })
        .collect()
}

/// `apply`, a run of `billing apply FILE` against `sandbox`, refuses `file` because its MAC
/// does not verify: exit 1, the file and what to do named, and not one request sent.
pub(crate) fn assert_apply_unverified(sandbox: &Sandbox, file: &str, apply: impl FnOnce() -> Run) {
    sandbox.clear_requests();
    let run = apply();
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let err = squash(&run.stderr);
    for expected in [
        format!("error: refusing to apply {file}: it does not verify with the key of "),
        "its MAC does not match its content: the file was changed after `billing plan` wrote it, or it was made with another key".to_owned(),
        format!("hint: nothing was sent to Stripe; make the plan again with `billing plan --out {file}`"),
    ] {
        assert!(err.contains(&expected), "expected {expected:?} in:\n{err}");
    }
    assert!(
        sandbox.requests().is_empty(),
        "{file} reached the sandbox: {:?}",
        sandbox.requests()
    );
}

/// `show`, a run of `billing show FILE` with the environment's key at hand, shows `file` and
/// warns that it does not verify with that key.
pub(crate) fn assert_shown_unverified(show: &Run, file: &str) {
    assert_eq!(show.code, 0, "{}", show.stderr);
    let warning = format!("warning: {file} is unverified: it does not verify with the key of ");
    assert!(show.stderr.contains(&warning), "{}", show.stderr);
}

/// Runs `billing ARGS` in `dir` with each `(variable, key)` set, checking that no key is printed.
pub(crate) fn billing_with_keys(dir: &Workdir, args: &[&str], keys: &[(&str, &str)]) -> Run {
    let mut cmd = dir.billing();
    cmd.args(args);
    for (variable, key) in keys {
        cmd.env(variable, key);
    }
    let run: Run = cmd.output().expect("billing runs").into();
    for (_, key) in keys {
        assert!(
            !run.stdout.contains(key) && !run.stderr.contains(key),
            "a key was printed"
        );
    }
    run
}

/// A small catalog: one product with a monthly and an annual price.
pub(crate) const PRO: &str = r#"
[products.pro]
name = "Pro"
description = "For growing teams"
features = ["Unlimited projects", "Priority support"]
default_price = "monthly"
metadata = { tier = "2" }

[products.pro.prices.monthly]
amount = "79.00"
currency = "usd"
interval = "month"
tax_behavior = "exclusive"
currency_options = { eur = "72.00" }

[products.pro.prices.annual]
amount = "790.00"
currency = "usd"
interval = "year"
"#;
