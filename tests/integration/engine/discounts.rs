//! Coupons and promotion codes through the binary: creation, in-place changes, replacements
//! with their codes re-created, removals, and codes that Stripe deactivated itself.

use super::{Env, PRO};
use crate::sandbox::support::Req;

fn catalog(percent: &str, extra: &str) -> String {
    format!(
        r#"{PRO}
[coupons.launch]
name = "Launch"
percent_off = {percent}
duration = "repeating"
duration_in_months = 3
applies_to = ["pro"]

[promotion_codes.LAUNCH20]
coupon = "launch"
max_redemptions = 50
first_time_transaction = true
{extra}"#
    )
}

fn active_codes(env: &Env, code: &str) -> Vec<serde_json::Value> {
    let res = Req::get(&format!("/v1/promotion_codes?limit=100&code={code}")).send(&env.sandbox);
    res.json()["data"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|c| c["active"] == true)
        .collect()
}

fn coupons(env: &Env) -> Vec<serde_json::Value> {
    Req::get("/v1/coupons?limit=100&expand[]=data.applies_to")
        .send(&env.sandbox)
        .json()["data"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[test]
fn coupons_and_codes_are_created_with_products_made_in_the_same_apply() {
    let env = Env::new(&catalog("20", ""));
    let plan = env.plan();
    assert!(
        plan.has("+ coupon \"Launch\" (20% off, for 3 months)"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.has("+ promotion code LAUNCH20 (coupons.launch)"),
        "{}",
        plan.stdout
    );
    assert!(plan.has("Plan: 5 to create"), "{}", plan.stdout);
    env.converge();
    let coupon = env.current("coupons.launch");
    assert!(
        coupon["id"].as_str().unwrap().starts_with("launch_"),
        "{coupon}"
    );
    let all = coupons(&env);
    assert_eq!(all.len(), 1);
    assert_eq!(all[0]["percent_off"], 20.0);
    assert_eq!(all[0]["duration_in_months"], 3);
    assert_eq!(
        all[0]["applies_to"]["products"][0],
        env.current("products.pro")["id"]
    );
    let codes = active_codes(&env, "LAUNCH20");
    assert_eq!(codes.len(), 1);
    assert_eq!(codes[0]["promotion"]["coupon"], coupon["id"]);
    assert_eq!(codes[0]["max_redemptions"], 50);
    assert_eq!(codes[0]["restrictions"]["first_time_transaction"], true);
}

#[test]
fn a_rename_is_in_place_and_a_new_percentage_replaces_the_coupon_and_its_codes() {
    let env = Env::new(&catalog("20", ""));
    env.converge();
    let old = env.current("coupons.launch");
    let old_code = active_codes(&env, "LAUNCH20").remove(0);

    env.set_catalog(&catalog("20", "").replace("name = \"Launch\"", "name = \"Launch offer\""));
    let plan = env.plan();
    assert!(plan.has("~ coupon \"Launch offer\""), "{}", plan.stdout);
    assert!(
        plan.has("name = \"Launch\" → \"Launch offer\""),
        "{}",
        plan.stdout
    );
    env.converge();
    assert_eq!(env.current("coupons.launch")["id"], old["id"]);

    env.set_catalog(&catalog("25", "").replace("name = \"Launch\"", "name = \"Launch offer\""));
    let plan = env.plan();
    assert!(
        plan.has("-/+ coupon \"Launch offer\" (25% off, for 3 months)"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.has("discount = 20% off → 25% off   # forces replacement"),
        "{}",
        plan.stdout
    );
    assert!(plan.has("keep their discount"), "{}", plan.stdout);
    assert!(plan.has("-/+ promotion code LAUNCH20"), "{}", plan.stdout);
    env.converge();
    let new = env.current("coupons.launch");
    assert_ne!(new["id"], old["id"]);
    let res = Req::get(&format!("/v1/coupons/{}", old["id"].as_str().unwrap())).send(&env.sandbox);
    assert_eq!(res.status, 404, "the old coupon is deleted");
    let codes = active_codes(&env, "LAUNCH20");
    assert_eq!(codes.len(), 1);
    assert_ne!(codes[0]["id"], old_code["id"]);
    assert_eq!(codes[0]["promotion"]["coupon"], new["id"]);
}

#[test]
fn an_unmanaged_code_on_a_coupon_to_replace_blocks_apply() {
    let env = Env::new(&catalog("20", ""));
    env.converge();
    let coupon = env.current("coupons.launch")["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let res = Req::post(
        "/v1/promotion_codes",
        &format!("promotion[type]=coupon&promotion[coupon]={coupon}&code=PARTNER"),
    )
    .idempotency_key("test-partner-code")
    .send(&env.sandbox);
    assert_eq!(res.status, 200, "{}", res.body);
    env.set_catalog(&catalog("25", ""));
    let run = env.billing(&["apply", "--yes"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains("would stop objects that billing.toml does not declare from working"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("PARTNER"), "{}", run.stderr);
    assert_eq!(
        env.current("coupons.launch")["id"],
        coupon.as_str(),
        "nothing was changed"
    );
    let run = env.billing(&["apply", "--yes", "--allow-destroy"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        active_codes(&env, "PARTNER").is_empty(),
        "the partner code died with its coupon"
    );
}

#[test]
fn removed_codes_are_deactivated_and_come_back_reactivated() {
    let env = Env::new(&catalog("20", ""));
    env.converge();
    let code = active_codes(&env, "LAUNCH20").remove(0);
    let without = catalog("20", "").replace("[promotion_codes.LAUNCH20]\ncoupon = \"launch\"\nmax_redemptions = 50\nfirst_time_transaction = true\n", "");
    env.set_catalog(&without);
    let plan = env.plan();
    assert!(
        plan.has("# promotion_codes.LAUNCH20 will be deactivated: removed from billing.toml"),
        "{}",
        plan.stdout
    );
    env.converge();
    assert!(active_codes(&env, "LAUNCH20").is_empty());
    env.set_catalog(&catalog("20", ""));
    let plan = env.plan();
    assert!(
        plan.has("# promotion_codes.LAUNCH20 will be unarchived"),
        "{}",
        plan.stdout
    );
    env.converge();
    assert_eq!(active_codes(&env, "LAUNCH20")[0]["id"], code["id"]);
    // `active = false` deactivates without being a removal.
    env.set_catalog(&catalog("20", "active = false\n"));
    let plan = env.plan();
    assert!(
        plan.has("will be deactivated: declared `active = false`"),
        "{}",
        plan.stdout
    );
    env.converge();
    assert!(active_codes(&env, "LAUNCH20").is_empty());
}

fn in_a_year() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    billing::plan::format_timestamp(i64::try_from(now).unwrap() + 365 * 86_400)
}

#[test]
fn an_expired_code_is_reported_not_replanned() {
    let expiry = in_a_year();
    let env = Env::new(&catalog("20", &format!("expires_at = {expiry}\n")));
    env.converge();
    // Two years later: Stripe has deactivated the code itself.
    env.sandbox.advance_clock(2 * 365 * 86_400).unwrap();
    let plan = env.plan();
    assert_eq!(plan.code, 0, "{}{}", plan.stdout, plan.stderr);
    assert!(plan.has("No changes"), "{}", plan.stdout);
    assert!(
        plan.has(&format!(
            "LAUNCH20 was deactivated by Stripe (expired on {expiry})"
        )),
        "{}",
        plan.stdout
    );
}

#[test]
fn dates_stripe_would_refuse_for_a_new_code_are_plan_errors() {
    let env = Env::new(&catalog("20", "expires_at = 2020-01-01T00:00:00Z\n"));
    let plan = env.plan();
    assert_eq!(plan.code, 1);
    assert!(
        plan.stderr
            .contains("expires_at 2020-01-01T00:00:00Z is in the past"),
        "{}",
        plan.stderr
    );
    env.set_catalog(&catalog("20", "expires_at = 2099-01-01T00:00:00Z\n"));
    let plan = env.plan();
    assert!(
        plan.stderr.contains("is more than five years away"),
        "{}",
        plan.stderr
    );
    assert_eq!(env.writes(), 0);
}

#[test]
fn a_removed_coupon_is_deleted_unless_kept() {
    let env = Env::new(&format!(
        "{}\n[coupons.keep]\npercent_off = 5\non_remove = \"keep\"\n",
        catalog("20", "")
    ));
    env.converge();
    let kept = env.current("coupons.keep")["id"]
        .as_str()
        .unwrap()
        .to_owned();
    env.set_catalog(PRO);
    let plan = env.plan();
    assert!(
        plan.has("# coupons.launch will be deleted: removed from billing.toml"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.has(&format!(
            "Note: coupons.keep: coupon {kept} left billing.toml and is kept"
        )),
        "{}",
        plan.stdout
    );
    assert!(plan.has("1 to delete"), "{}", plan.stdout);
    env.converge();
    let ids: Vec<String> = coupons(&env)
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids, [kept]);
}

#[test]
fn an_invalid_coupon_sends_nothing() {
    let env = Env::new(&catalog("120", ""));
    let run = env.billing(&["apply", "--yes"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains("`percent_off` must be above 0 and at most 100"),
        "{}",
        run.stderr
    );
    assert!(env.sandbox.requests().is_empty());
}
