//! The destruction guard of live environments (docs/stripe-rules.md#environments), for every
//! kind billing manages: an object that leaves the catalog is archived, deleted or deactivated in
//! live mode only with `--allow-destroy`, given to `apply` or recorded in a saved plan by
//! `plan --allow-destroy`.

use stripe_sandbox::Sandbox;
use stripe_sandbox::SandboxConfig;

use super::{
    Run, assert_apply_unverified, assert_shown_unverified, billing_with_keys, squash, writes,
};

use crate::support::{Workdir, forge};
use stripe_sandbox::test_support::start_with;

fn live_key() -> String {
    // Built at run time: no live-looking key literal in the repository.
    format!("sk_live_{}", "destroyGuardTests0123456789")
}

/// Every kind billing destroys: a product with two prices, a coupon with a promotion code, a
/// tax rate and the portal configuration.
const PARTS: &[(&str, &str)] = &[
    (
        "product",
        r#"
[products.extra]
name = "Extra"
[products.extra.prices.once]
amount = "5.00"
currency = "usd"
"#,
    ),
    (
        "price",
        r#"
[products.pro.prices.annual]
amount = "790.00"
currency = "usd"
interval = "year"
"#,
    ),
    (
        "coupon",
        r#"
[coupons.spring]
name = "Spring"
percent_off = 15
duration = "once"
"#,
    ),
    (
        "promotion code",
        r#"
[promotion_codes.LAUNCH]
coupon = "launch"
"#,
    ),
    (
        "tax rate",
        r#"
[tax_rates.vat_de]
display_name = "VAT"
percentage = 19
inclusive = false
country = "DE"
tax_type = "vat"
"#,
    ),
    (
        "portal",
        r#"
[portal]
default_return_url = "https://app.example.com/billing"
[portal.features]
invoice_history = true
"#,
    ),
];

/// The catalog with every part but `without`.
fn catalog(sandbox: &Sandbox, without: Option<&str>) -> String {
    let mut text = format!(
        r#"namespace = "guard"

[environments.live]
mode = "live"
secret_key_env = "BILLING_LIVE_KEY"
api_base = "{}"

[products.pro]
name = "Pro"
default_price = "monthly"
[products.pro.prices.monthly]
amount = "79.00"
currency = "usd"
interval = "month"

[coupons.launch]
name = "Launch"
percent_off = 20
duration = "once"
"#,
        sandbox.base_url()
    );
    for (kind, part) in PARTS {
        if Some(*kind) != without {
            text.push_str(part);
        }
    }
    text
}

/// A sandbox standing in for a live-mode account.
fn live_sandbox() -> Sandbox {
    start_with(SandboxConfig {
        live: true,
        ..SandboxConfig::default()
    })
}

fn billing(dir: &Workdir, args: &[&str]) -> Run {
    let mut all = vec!["-e", "live"];
    all.extend_from_slice(args);
    billing_with_keys(dir, &all, &[("BILLING_LIVE_KEY", &live_key())])
}

#[test]
fn live_destroys_of_every_kind_need_allow_destroy_in_apply_or_in_the_saved_plan() {
    for (kind, _) in PARTS {
        let sandbox = live_sandbox();
        let dir = Workdir::with_catalog(&catalog(&sandbox, None));
        let first = billing(&dir, &["apply", "--yes"]);
        assert_eq!(first.code, 0, "{kind}: {}{}", first.stdout, first.stderr);

        dir.write("billing.toml", catalog(&sandbox, Some(kind)));
        let before = writes(&sandbox);

        // A fresh apply refuses, naming the flag, and sends nothing.
        let refused = billing(&dir, &["apply", "--yes"]);
        assert_eq!(
            refused.code, 1,
            "{kind}: {}{}",
            refused.stdout, refused.stderr
        );
        let err = squash(&refused.stderr);
        assert!(err.contains("live"), "{kind}: {err}");
        assert!(err.contains("--allow-destroy"), "{kind}: {err}");
        assert_eq!(writes(&sandbox), before, "{kind}: a refused apply wrote");

        // A plan saved without approval is refused too, even with --yes.
        let plan = billing(&dir, &["plan", "--out", "plan.json"]);
        assert!(plan.code == 0 || plan.code == 2, "{kind}: {}", plan.stderr);
        let refused = billing(&dir, &["apply", "--yes", "plan.json"]);
        assert_eq!(
            refused.code, 1,
            "{kind}: {}{}",
            refused.stdout, refused.stderr
        );
        assert!(
            squash(&refused.stderr).contains("plan --allow-destroy"),
            "{kind}: {}",
            refused.stderr
        );
        assert_eq!(
            writes(&sandbox),
            before,
            "{kind}: a refused saved plan wrote"
        );

        // Approving by editing the file, with the idempotency keys recomputed to match: every
        // check but the MAC passes (`show` reads it), and apply refuses it, sending nothing.
        let text = dir.read("plan.json");
        assert!(text.contains("\"allow_destroy\": false"), "{kind}: {text}");
        dir.write(
            "forged.json",
            forge(&text, |doc| doc["allow_destroy"] = true.into()),
        );
        assert_shown_unverified(&billing(&dir, &["show", "forged.json"]), "forged.json");
        assert_apply_unverified(&sandbox, "forged.json", || {
            billing(&dir, &["apply", "--yes", "forged.json"])
        });

        // A plan made with --allow-destroy applies, and says it was approved.
        let approved = billing(&dir, &["plan", "--allow-destroy", "--out", "plan.json"]);
        assert!(
            approved.code == 0 || approved.code == 2,
            "{kind}: {}",
            approved.stderr
        );
        assert!(
            dir.read("plan.json").contains("\"allow_destroy\": true"),
            "{kind}"
        );
        let applied = billing(&dir, &["apply", "--yes", "plan.json"]);
        assert_eq!(
            applied.code, 0,
            "{kind}: {}{}",
            applied.stdout, applied.stderr
        );
        // Counted since the requests were cleared.
        assert!(writes(&sandbox) > 0, "{kind}: nothing was destroyed");
        let after = billing(&dir, &["plan", "--detailed-exitcode"]);
        assert_eq!(after.code, 0, "{kind}: {}{}", after.stdout, after.stderr);
    }
}

#[test]
fn apply_allow_destroy_lets_a_fresh_live_plan_destroy() {
    let sandbox = live_sandbox();
    let dir = Workdir::with_catalog(&catalog(&sandbox, None));
    assert_eq!(billing(&dir, &["apply", "--yes"]).code, 0);
    dir.write("billing.toml", catalog(&sandbox, Some("coupon")));
    let run = billing(&dir, &["apply", "--yes", "--allow-destroy"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        squash(&run.stdout).contains("coupons.spring"),
        "{}",
        run.stdout
    );
    let after = billing(&dir, &["plan", "--detailed-exitcode"]);
    assert_eq!(after.code, 0, "{}{}", after.stdout, after.stderr);
}
