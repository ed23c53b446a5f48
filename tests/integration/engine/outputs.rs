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
