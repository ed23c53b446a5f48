//! Ownership: unmanaged and foreign objects are counted and never touched; clashes are plan
//! errors; several objects on one address are resolved by the stated rule.

use stripe_sandbox::test_support::{Req, price, product};

use serde_json::Value;

use super::{Env, PRO};

fn snapshot(env: &Env, id: &str) -> serde_json::Value {
    let kind = if id.starts_with("prod_") {
        "products"
    } else {
        "prices"
    };
    let mut res = Req::get(&format!("/v1/{kind}/{id}"))
        .send(&env.sandbox)
        .json();
    if let Some(o) = res.as_object_mut() {
        o.remove("updated");
    }
    res
}

#[test]
fn unmanaged_and_foreign_objects_are_counted_and_never_touched() {
    let env = Env::new(PRO);
    let unmanaged = product(&env.sandbox, "name=Legacy");
    let unmanaged_price = price(
        &env.sandbox,
        &format!("product={unmanaged}&currency=usd&unit_amount=500&lookup_key=legacy"),
    );
    let foreign = product(
        &env.sandbox,
        "name=Other%20team&metadata[billing_key]=products.pro&metadata[billing_ns]=other",
    );
    let before: Vec<_> = [&unmanaged, &unmanaged_price, &foreign]
        .iter()
        .map(|id| snapshot(&env, id))
        .collect();

    let plan = env.plan();
    assert!(
        plan.has("Left alone: 1 product and 1 price without billing's marker."),
        "{}",
        plan.stdout
    );
    assert!(
        plan.has("Left alone: 1 product managed by other namespaces."),
        "{}",
        plan.stdout
    );
    env.converge();
    // Even a catalog that declares nothing leaves them alone.
    env.set_catalog("");
    env.converge();
    let after: Vec<_> = [&unmanaged, &unmanaged_price, &foreign]
        .iter()
        .map(|id| snapshot(&env, id))
        .collect();
    assert_eq!(before, after);
    for r in env.sandbox.requests().iter().filter(|r| r.method == "POST") {
        assert!(
            ![&unmanaged, &unmanaged_price, &foreign]
                .iter()
                .any(|id| r.path.ends_with(id.as_str())),
            "wrote to an object billing does not manage: {r:?}"
        );
    }
}

#[test]
fn two_namespaces_share_an_account_without_touching_each_other() {
    let env = Env::new(&format!("namespace = \"eu\"\n{PRO}"));
    env.converge();
    env.set_catalog(&format!(
        "namespace = \"us\"\n{}",
        PRO.replace("lookup_key", "x")
            .replace(
                "[products.pro.prices.monthly]",
                "[products.pro.prices.monthly]\nlookup_key = \"us_monthly\""
            )
            .replace(
                "[products.pro.prices.annual]",
                "[products.pro.prices.annual]\nlookup_key = \"us_annual\""
            )
    ));
    let plan = env.plan();
    assert!(plan.has("Plan: 3 to create"), "{}", plan.stdout);
    assert!(
        plan.has("1 product and 2 prices managed by other namespaces"),
        "{}",
        plan.stdout
    );
    env.converge();
    assert_eq!(env.products().len(), 2);
    assert!(env.products().iter().all(|p| p["active"] == true));
}

#[test]
fn default_lookup_keys_of_two_namespaces_clash_as_a_plan_error_at_the_entry() {
    let env = Env::new(&format!("namespace = \"eu\"\n{PRO}"));
    env.converge();
    let eu_monthly = env.current("prices.pro.monthly")["id"].clone();
    // The same catalog in another namespace: the same default lookup keys.
    let us = format!("namespace = \"us\"\n{PRO}");
    env.set_catalog(&us);
    let plan = env.plan();
    assert_eq!(plan.code, 1, "{}{}", plan.stdout, plan.stderr);
    // At the entry, as validation reports problems.
    assert!(
        plan.stderr.contains(
            "billing.toml:10:22: error: prices.pro.monthly: lookup key \"pro_monthly\" is held by "
        ) && plan.stderr.contains(
            "which the catalog with namespace \"eu\" in this account manages as prices.pro.monthly"
        ),
        "{}",
        plan.stderr
    );
    assert!(
        plan.stderr.contains(
            "give this price its own, e.g. `lookup_key = \"us_pro_monthly\"` in [products.pro.prices.monthly] (the catalog with namespace \"eu\" keeps \"pro_monthly\")"
        ),
        "{}",
        plan.stderr
    );
    assert!(
        plan.stderr
            .contains("billing.toml:17:22: error: prices.pro.annual"),
        "{}",
        plan.stderr
    );
    // Explicit keys, as the hint says: both catalogs converge, each keeping its own.
    env.set_catalog(
        &us.replace(
            "[products.pro.prices.monthly]",
            "[products.pro.prices.monthly]\nlookup_key = \"us_pro_monthly\"",
        )
        .replace(
            "[products.pro.prices.annual]",
            "[products.pro.prices.annual]\nlookup_key = \"us_pro_annual\"",
        ),
    );
    env.converge();
    let held: Vec<Value> = env
        .prices()
        .into_iter()
        .filter(|p| p["id"] == eu_monthly)
        .map(|p| p["lookup_key"].clone())
        .collect();
    assert_eq!(held, ["pro_monthly"]);
}

#[test]
fn a_lookup_key_held_by_an_unmanaged_price_is_a_plan_error_naming_it() {
    let env = Env::new(PRO);
    let legacy = product(&env.sandbox, "name=Legacy");
    let holder = price(
        &env.sandbox,
        &format!("product={legacy}&currency=usd&unit_amount=500&lookup_key=pro_monthly"),
    );
    let plan = env.plan();
    assert_eq!(plan.code, 1);
    assert!(
        plan.stderr
            .contains(&format!("lookup key \"pro_monthly\" is held by {holder}")),
        "{}",
        plan.stderr
    );
    assert!(
        plan.stderr.contains("prices.pro.monthly"),
        "{}",
        plan.stderr
    );
    assert!(plan.stderr.contains("hint:"), "{}", plan.stderr);
    let apply = env.billing(&["apply", "--yes"]);
    assert_eq!(apply.code, 1);
    assert_eq!(
        env.writes(),
        2,
        "only the two objects this test made by hand"
    );
}

#[test]
fn of_several_prices_on_one_address_the_one_holding_the_lookup_key_stays() {
    let env = Env::new(PRO);
    env.converge();
    let current = env.current("prices.pro.monthly");
    let product_id = current["product"].as_str().unwrap().to_owned();
    // A crash mid-replacement can leave a newer price at the same address, without the key.
    let newer = price(
        &env.sandbox,
        &format!(
            "product={product_id}&currency=usd&unit_amount=7900&recurring[interval]=month&metadata[billing_key]=prices.pro.monthly&metadata[billing_ns]=default"
        ),
    );
    let plan = env.plan();
    assert_eq!(plan.code, 2);
    assert!(
        plan.has("# prices.pro.monthly will be archived: a duplicate at this address"),
        "{}",
        plan.stdout
    );
    assert!(plan.has(&format!("({newer})")), "{}", plan.stdout);
    env.converge();
    assert_eq!(env.current("prices.pro.monthly")["id"], current["id"]);
}

#[test]
fn of_several_products_on_one_address_the_newest_active_stays() {
    let env = Env::new(PRO);
    env.converge();
    let original = env.current("products.pro");
    let duplicate = product(
        &env.sandbox,
        "name=Pro&metadata[billing_key]=products.pro&metadata[billing_ns]=default",
    );
    let plan = env.plan();
    assert!(
        plan.has(&format!(
            "- product \"Pro\"  ({})",
            original["id"].as_str().unwrap()
        )),
        "{}",
        plan.stdout
    );
    env.converge();
    assert_eq!(env.current("products.pro")["id"], duplicate);
    // The prices move to the product that stays: new ones are created there, the old archived.
    assert_eq!(env.current("prices.pro.monthly")["product"], duplicate);
    assert_eq!(
        env.current("products.pro")["default_price"],
        env.current("prices.pro.monthly")["id"]
    );
}

#[test]
fn an_id_pin_cannot_take_over_a_product_another_address_holds() {
    let env = Env::new(PRO);
    env.converge();
    let pro = env.id("products.pro");
    env.set_catalog(&format!(
        "{PRO}\n[products.other]\nname = \"Other\"\nid = \"{pro}\"\n"
    ));
    let plan = env.plan();
    assert_eq!(plan.code, 1);
    assert!(
        plan.stderr.contains(&format!(
            "products.other: product {pro} is already products.pro"
        )),
        "{}",
        plan.stderr
    );
}
