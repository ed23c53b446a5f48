//! Coupons and promotion codes through the binary: creation, in-place changes, replacements
//! with their codes re-created, removals, and codes that Stripe deactivated itself.

use stripe_sandbox::test_support::Req;

use super::{Env, PRO};

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

/// Creates promotion code PARTNER, without billing's marker, on the coupon at `coupons.launch`
/// (a code someone made in the Dashboard); returns the coupon's id.
pub(super) fn partner_code(env: &Env) -> String {
    let coupon = env.id("coupons.launch");
    let res = Req::post(
        "/v1/promotion_codes",
        &format!("promotion[type]=coupon&promotion[coupon]={coupon}&code=PARTNER"),
    )
    .idempotency_key("test-partner-code")
    .send(&env.sandbox);
    assert_eq!(res.status, 200, "{}", res.body);
    coupon
}

#[test]
fn an_unmanaged_code_on_a_coupon_to_replace_blocks_apply() {
    let env = Env::new(&catalog("20", ""));
    env.converge();
    let coupon = partner_code(&env);
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
        plan.has("# promotion_codes.LAUNCH20 will be reactivated"),
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
    billing::format_timestamp(i64::try_from(now).unwrap() + 365 * 86_400)
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
    let kept = env.id("coupons.keep");
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
            .contains("`percent_off` must be between 0.01 and 100"),
        "{}",
        run.stderr
    );
    assert!(env.sandbox.requests().is_empty());
}

const AMOUNTS: &str = r#"
[coupons.ten]
amount_off = "10.00"
currency = "usd"
currency_options = { eur = "9.00" }
max_redemptions = 100

[promotion_codes.TEN]
coupon = "ten"
minimum_amount = "50.00"
minimum_amount_currency = "usd"
currency_options = { eur = "45.00" }
"#;

#[test]
fn amount_coupons_and_minimum_amounts_converge_and_stay() {
    let env = Env::new(AMOUNTS);
    env.converge();
    let coupon = env.current("coupons.ten");
    let code = env.current("promotion_codes.TEN");
    env.converge();
    assert_eq!(env.current("coupons.ten")["id"], coupon["id"]);
    assert_eq!(env.current("promotion_codes.TEN")["id"], code["id"]);
    // Currency options change in place, for both.
    env.set_catalog(
        &AMOUNTS
            .replace("eur = \"9.00\"", "eur = \"8.00\"")
            .replace("eur = \"45.00\"", "eur = \"40.00\""),
    );
    let plan = env.plan();
    assert!(
        plan.has("Plan: 0 to create, 2 to update, 0 to replace"),
        "{}",
        plan.stdout
    );
    env.converge();
    assert_eq!(env.current("coupons.ten")["id"], coupon["id"]);
}

#[test]
fn a_failed_coupon_replacement_leaves_its_codes_working() {
    let env = Env::new(&catalog("20", ""));
    env.converge();
    let code = active_codes(&env, "LAUNCH20").remove(0);
    env.sandbox
        .fail_nth("POST /v1/coupons 1 400".parse().unwrap());
    env.set_catalog(&catalog("25", ""));
    let run = env.billing(&["apply", "--yes"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert_eq!(
        active_codes(&env, "LAUNCH20")[0]["id"],
        code["id"],
        "the old code still works"
    );
    env.converge();
    assert_ne!(active_codes(&env, "LAUNCH20")[0]["id"], code["id"]);
}

#[test]
fn a_new_customer_that_does_not_exist_leaves_the_old_code_working() {
    let env = Env::new(&catalog("20", ""));
    let res = Req::post("/v1/customers", "name=Alice")
        .idempotency_key("test-alice")
        .send(&env.sandbox);
    let alice = res.json()["id"].as_str().unwrap().to_owned();
    env.set_catalog(&catalog("20", &format!("customer = \"{alice}\"\n")));
    env.converge();
    let code = active_codes(&env, "LAUNCH20").remove(0);
    env.set_catalog(&catalog("20", "customer = \"cus_Typo1234567890\"\n"));
    // The plan looks the customer up: it refuses before anything is sent.
    let writes = env.writes();
    let run = env.billing(&["apply", "--yes"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains(
            "promotion code `LAUNCH20` is for customer cus_Typo1234567890, which account"
        ),
        "{}",
        run.stderr
    );
    assert_eq!(env.writes(), writes);
    assert_eq!(active_codes(&env, "LAUNCH20")[0]["id"], code["id"]);
}

#[test]
fn renaming_a_code_key_moves_the_code_without_a_clash() {
    let env = Env::new(&catalog("20", ""));
    env.converge();
    env.set_catalog(&catalog("20", "").replace(
        "[promotion_codes.LAUNCH20]",
        "[promotion_codes.launch_code]\ncode = \"LAUNCH20\"",
    ));
    env.converge();
    let codes = active_codes(&env, "LAUNCH20");
    assert_eq!(codes.len(), 1);
    assert_eq!(
        codes[0]["metadata"]["billing_key"],
        "promotion_codes.launch_code"
    );
}

#[test]
fn a_declared_code_takes_over_an_unmanaged_one_when_its_coupon_is_replaced() {
    let env = Env::new(&catalog("20", ""));
    env.converge();
    let coupon = env.id("coupons.launch");
    let res = Req::post(
        "/v1/promotion_codes",
        &format!("promotion[type]=coupon&promotion[coupon]={coupon}&code=PARTNER"),
    )
    .idempotency_key("test-partner")
    .send(&env.sandbox);
    assert_eq!(res.status, 200, "{}", res.body);
    let with_partner = format!(
        "{}\n[promotion_codes.PARTNER]\ncoupon = \"launch\"\n",
        catalog("25", "")
    );
    env.set_catalog(&with_partner);
    let plan = env.plan();
    // An unmanaged code on the declared coupon is adopted, and replaced with its coupon.
    assert!(
        plan.has("which billing did not manage (named by code \"PARTNER\")"),
        "{}",
        plan.stdout
    );
    env.converge();
    let partner = active_codes(&env, "PARTNER");
    assert_eq!(partner.len(), 1);
    assert_eq!(
        partner[0]["metadata"]["billing_key"],
        "promotion_codes.PARTNER"
    );
}

#[test]
fn removing_a_coupon_with_unmanaged_codes_needs_consent() {
    let env = Env::new(&catalog("20", ""));
    env.converge();
    let coupon = env.id("coupons.launch");
    let res = Req::post(
        "/v1/promotion_codes",
        &format!("promotion[type]=coupon&promotion[coupon]={coupon}&code=PARTNER"),
    )
    .idempotency_key("test-partner-2")
    .send(&env.sandbox);
    assert_eq!(res.status, 200, "{}", res.body);
    env.set_catalog(PRO);
    let run = env.billing(&["apply", "--yes"]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("PARTNER"), "{}", run.stderr);
    assert_eq!(env.billing(&["apply", "--yes", "--allow-destroy"]).code, 0);
}

#[test]
fn an_interrupted_replacement_then_a_revert_keeps_the_original_coupon() {
    let env = Env::new(&catalog("20", ""));
    env.converge();
    let original = env.id("coupons.launch");
    env.sandbox
        .fail_nth("POST /v1/promotion_codes 1 400".parse().unwrap());
    env.set_catalog(&catalog("25", ""));
    assert_eq!(env.billing(&["apply", "--yes"]).code, 1);
    env.set_catalog(&catalog("20", ""));
    let plan = env.plan();
    assert!(
        !plan.has("# coupons.launch will be replaced"),
        "{}",
        plan.stdout
    );
    env.converge();
    assert_eq!(env.current("coupons.launch")["id"], original.as_str());
}
