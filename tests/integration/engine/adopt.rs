//! Taking over what an account already has: adoption of unmarked objects the catalog names
//! explicitly, renames with `moved_from` that change only the marker, and forgetting.

use serde_json::Value;
use stripe_sandbox::test_support::{Req, coupon, price, product, promotion_code};

use super::Env;

/// The sandbox's object, without the fields every write changes.
fn object(env: &Env, path: &str) -> Value {
    let mut res = Req::get(path).send(&env.sandbox).json();
    if let Some(o) = res.as_object_mut() {
        o.remove("updated");
        o.remove("metadata");
    }
    res
}

/// The marker an object carries: `(billing_key, billing_ns)`.
fn marker(env: &Env, path: &str) -> (Value, Value) {
    let res = Req::get(path).send(&env.sandbox).json();
    (
        res["metadata"]["billing_key"].clone(),
        res["metadata"]["billing_ns"].clone(),
    )
}

/// The actions of a JSON plan, by address.
fn actions(env: &Env) -> Vec<(String, String)> {
    let run = env.billing(&["plan", "--format", "json"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let doc: Value = serde_json::from_str(&run.stdout).expect("a JSON plan");
    doc["resource_changes"]
        .as_array()
        .expect("changes")
        .iter()
        .map(|c| {
            (
                c["address"].as_str().unwrap_or_default().to_owned(),
                c["action"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

/// The form bodies of every POST since the `from`th request.
fn posts_since(env: &Env, from: usize) -> Vec<String> {
    env.requests()[from..]
        .iter()
        .filter(|r| r.method == "POST")
        .map(|r| format!("{} {}", r.path, r.body))
        .collect()
}

/// Whether a form body sets only metadata keys.
fn only_metadata(body: &str) -> bool {
    let decoded = body.replace("%5B", "[").replace("%5D", "]");
    decoded
        .split('&')
        .filter(|p| !p.is_empty())
        .all(|p| p.starts_with("metadata["))
}

#[test]
fn objects_named_by_id_lookup_key_and_code_are_adopted_with_their_ids() {
    let env = Env::new("");
    let prod = product(&env.sandbox, "name=Pro&id=prod_dashboard_pro");
    let monthly = price(
        &env.sandbox,
        &format!(
            "product={prod}&currency=usd&unit_amount=7900&recurring[interval]=month&lookup_key=pro_monthly"
        ),
    );
    let annual = price(
        &env.sandbox,
        &format!("product={prod}&currency=usd&unit_amount=79000&recurring[interval]=year"),
    );
    let launch = coupon(&env.sandbox, "id=launch&percent_off=20&duration=once");
    let code = promotion_code(
        &env.sandbox,
        "promotion[type]=coupon&promotion[coupon]=launch&code=LAUNCH",
    );
    let rate = Req::post(
        "/v1/tax_rates",
        "display_name=VAT&percentage=19&inclusive=false&country=DE",
    )
    .send(&env.sandbox)
    .json()["id"]
        .as_str()
        .expect("a tax rate id")
        .to_owned();
    // Same name as a declared product, but not named by `id`: never adopted.
    let lookalike = product(&env.sandbox, "name=Team");
    let paths = [
        format!("/v1/products/{prod}"),
        format!("/v1/prices/{monthly}"),
        format!("/v1/prices/{annual}"),
        format!("/v1/coupons/{launch}"),
        format!("/v1/promotion_codes/{code}"),
        format!("/v1/tax_rates/{rate}"),
    ];
    let before: Vec<Value> = paths.iter().map(|p| object(&env, p)).collect();

    env.set_catalog(&format!(
        r#"
[products.pro]
id = "{prod}"
name = "Pro"
default_price = "monthly"

[products.pro.prices.monthly]
amount = "79.00"
currency = "usd"
interval = "month"
lookup_key = "pro_monthly"

[products.pro.prices.annual]
id = "{annual}"
amount = "790.00"
currency = "usd"
interval = "year"
lookup_key = "pro_annual"

[products.team]
name = "Team"

[coupons.launch]
id = "launch"
percent_off = 20
duration = "once"

[promotion_codes.LAUNCH]
coupon = "launch"

[tax_rates.vat_de]
id = "{rate}"
display_name = "VAT"
percentage = 19
inclusive = false
country = "DE"
"#
    ));
    let mut planned = actions(&env);
    planned.sort();
    assert_eq!(
        planned,
        [
            ("coupons.launch", "adopt"),
            ("prices.pro.annual", "adopt"),
            ("prices.pro.monthly", "adopt"),
            ("products.pro", "adopt"),
            ("products.team", "create"),
            ("promotion_codes.LAUNCH", "adopt"),
            ("tax_rates.vat_de", "adopt"),
        ]
        .map(|(a, b)| (a.to_owned(), b.to_owned()))
    );
    let text = env.plan();
    assert_eq!(text.code, 2);
    assert!(
        text.has("# prices.pro.monthly will be adopted: ")
            && text.has("billing.toml names it by lookup key \"pro_monthly\""),
        "{}",
        text.stdout
    );
    assert!(
        text.has(&format!("names it by id {annual}")),
        "{}",
        text.stdout
    );
    assert!(
        text.has("Plan: 6 to adopt, 1 to create, 0 to update, 0 to replace, 0 to archive."),
        "{}",
        text.stdout
    );
    let markdown = env.billing(&["plan", "--format", "markdown"]);
    assert!(
        markdown.has("<summary><code>&lt;</code> adopt <code>products.pro</code>")
            && markdown.has("| | adopt | create |"),
        "{}",
        markdown.stdout
    );

    env.converge();
    let after: Vec<Value> = paths.iter().map(|p| object(&env, p)).collect();
    for (b, a) in before.iter().zip(&after) {
        // Only the marker, the annual price's lookup key and the product's default price moved.
        let mut a = a.clone();
        let mut b = b.clone();
        for o in [&mut a, &mut b] {
            if let Some(o) = o.as_object_mut() {
                o.remove("lookup_key");
                o.remove("default_price");
            }
        }
        assert_eq!(b, a, "only markers and declared fields change");
    }
    for (path, address) in paths.iter().zip([
        "products.pro",
        "prices.pro.monthly",
        "prices.pro.annual",
        "coupons.launch",
        "promotion_codes.LAUNCH",
        "tax_rates.vat_de",
    ]) {
        assert_eq!(
            marker(&env, path),
            (Value::from(address), Value::from("default")),
            "{path}"
        );
    }
    // The lookalike was left alone, and a new product was created for `team`.
    assert_eq!(
        marker(&env, &format!("/v1/products/{lookalike}")),
        (Value::Null, Value::Null)
    );
    assert_ne!(env.current("products.team")["id"], Value::from(lookalike));
}

#[test]
fn an_adopted_price_with_another_amount_is_replaced_and_the_lookup_key_moves() {
    let env = Env::new("");
    let prod = product(&env.sandbox, "name=Pro&id=prod_pro");
    let old = price(
        &env.sandbox,
        &format!(
            "product={prod}&currency=usd&unit_amount=7900&recurring[interval]=month&lookup_key=pro_monthly&nickname=Old"
        ),
    );
    let catalog = r#"
[products.pro]
id = "prod_pro"
name = "Pro"

[products.pro.prices.monthly]
amount = "89.00"
currency = "usd"
interval = "month"
lookup_key = "pro_monthly"
nickname = "Old"
"#;
    env.set_catalog(catalog);
    let plan = env.plan();
    assert!(
        plan.has("# prices.pro.monthly will be replaced"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.has(&format!("adopts {old}, which billing did not manage")),
        "{}",
        plan.stdout
    );
    env.converge();
    let current = env.current("prices.pro.monthly");
    assert_ne!(current["id"], Value::from(old.as_str()));
    assert_eq!(current["lookup_key"], "pro_monthly");
    assert_eq!(current["unit_amount"], 8900);
    let replaced = Req::get(&format!("/v1/prices/{old}"))
        .send(&env.sandbox)
        .json();
    assert_eq!(replaced["active"], false);
    assert_eq!(replaced["lookup_key"], Value::Null);
}

#[test]
fn a_price_id_that_does_not_exist_is_a_plan_error_naming_it_at_its_entry() {
    let env = Env::new(
        r#"
[products.pro]
name = "Pro"

[products.pro.prices.monthly]
id = "price_doesNotExist"
amount = "79.00"
currency = "usd"
interval = "month"
"#,
    );
    let run = env.plan();
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stderr.contains(
            // At the entry, like validation's problems.
            "billing.toml:5:22: error: prices.pro.monthly: `id = \"price_doesNotExist\"` names no price of account acct_"
        ),
        "{}",
        run.stderr
    );
    // The id may well be of another account (a plan against the wrong environment): the
    // hint says so first, and never suggests removing `id` as the way to take a price over.
    assert!(
        run.stderr
            .contains("plan against the account the id comes from (-e picks the environment"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("Removing `id` adopts nothing: apply would create a new price"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("remove `id` to create a new price"));
    assert_eq!(env.writes(), 0);
}

const BEFORE_RENAME: &str = r#"
[products.pro]
name = "Pro"
default_price = "monthly"

[products.pro.prices.monthly]
amount = "79.00"
currency = "usd"
interval = "month"
lookup_key = "pro_monthly"

[coupons.launch]
percent_off = 20
duration = "once"

[promotion_codes.LAUNCH]
coupon = "launch"

[tax_rates.vat]
display_name = "VAT"
percentage = 19
inclusive = false
country = "DE"
"#;

const AFTER_RENAME: &str = r#"
[products.team]
moved_from = "pro"
name = "Pro"
default_price = "month"

[products.team.prices.month]
moved_from = "monthly"
amount = "79.00"
currency = "usd"
interval = "month"
lookup_key = "pro_monthly"

[coupons.launch_2026]
moved_from = "launch"
percent_off = 20
duration = "once"

[promotion_codes.LAUNCH]
coupon = "launch_2026"

[tax_rates.vat_de]
moved_from = "vat"
display_name = "VAT"
percentage = 19
inclusive = false
country = "DE"
"#;

#[test]
fn moved_from_changes_nothing_but_the_marker() {
    let env = Env::new(BEFORE_RENAME);
    env.converge();
    let ids: Vec<String> = ["products.pro", "prices.pro.monthly", "coupons.launch"]
        .iter()
        .map(|a| env.id(a))
        .collect();

    env.set_catalog(AFTER_RENAME);
    let mut planned = actions(&env);
    planned.sort();
    assert_eq!(
        planned,
        [
            ("coupons.launch_2026", "move"),
            ("prices.team.month", "move"),
            ("products.team", "move"),
            ("tax_rates.vat_de", "move"),
        ]
        .map(|(a, b)| (a.to_owned(), b.to_owned()))
    );
    let plan = env.plan();
    assert!(
        plan.has("# products.team will be moved: products.pro is now products.team (moved_from = \"pro\")"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.has("Plan: 4 to move, 0 to create, 0 to update, 0 to replace, 0 to archive."),
        "{}",
        plan.stdout
    );
    let from = env.requests().len();
    env.converge();
    let posts = posts_since(&env, from);
    assert_eq!(posts.len(), 4, "{posts:#?}");
    for post in &posts {
        let body = post.split_once(' ').map_or("", |(_, b)| b);
        assert!(only_metadata(body), "a move sends only metadata: {post}");
    }
    let now: Vec<String> = ["products.team", "prices.team.month", "coupons.launch_2026"]
        .iter()
        .map(|a| env.id(a))
        .collect();
    assert_eq!(ids, now, "the same Stripe objects, at the new addresses");
    // The renamed keys stay in billing.toml harmlessly: the next plans are empty.
    assert_eq!(env.plan().code, 0);
}

#[test]
fn a_rename_that_changes_a_default_lookup_key_warns_in_every_format() {
    let starter = "[products.starter]\nname = \"Starter\"\n\n[products.starter.prices.monthly]\namount = \"9.00\"\ncurrency = \"usd\"\ninterval = \"month\"\n";
    let env = Env::new(starter);
    env.converge();
    assert_eq!(
        env.current("prices.starter.monthly")["lookup_key"],
        "starter_monthly"
    );
    let renamed = "[products.basic]\nmoved_from = \"starter\"\nname = \"Starter\"\n\n[products.basic.prices.monthly]\namount = \"9.00\"\ncurrency = \"usd\"\ninterval = \"month\"\n";
    env.set_catalog(renamed);
    let warning = "prices.basic.monthly (moved from prices.starter.monthly) changes its lookup key from \"starter_monthly\" to \"basic_monthly\", the default for its new address: applications that look the price up by \"starter_monthly\" will not find it; to keep the old key, write `lookup_key = \"starter_monthly\"` in [products.basic.prices.monthly]";
    let plan = env.plan();
    assert!(plan.has(&format!("Warning: {warning}")), "{}", plan.stdout);
    let markdown = env.billing(&["plan", "--format", "markdown"]);
    assert!(
        markdown.stdout.contains("> [!CAUTION]")
            && markdown
                .stdout
                .contains("changes its lookup key from \"starter_monthly\" to \"basic_monthly\""),
        "{}",
        markdown.stdout
    );
    let json = env.billing(&["plan", "--format", "json"]);
    let doc: Value = serde_json::from_str(&json.stdout).expect("a JSON plan");
    assert_eq!(doc["warnings"], serde_json::json!([warning]));
    // Keeping the old key as the warning says: a move with no warning and no key change.
    env.set_catalog(&renamed.replace(
        "interval = \"month\"\n",
        "interval = \"month\"\nlookup_key = \"starter_monthly\"\n",
    ));
    let json = env.billing(&["plan", "--format", "json"]);
    let doc: Value = serde_json::from_str(&json.stdout).expect("a JSON plan");
    assert_eq!(doc["warnings"], serde_json::json!([]), "{}", json.stdout);
    env.converge();
    assert_eq!(
        env.current("prices.basic.monthly")["lookup_key"],
        "starter_monthly"
    );
}

#[test]
fn a_rename_without_moved_from_archives_and_creates_and_says_how_to_keep_the_object() {
    let env = Env::new(BEFORE_RENAME);
    env.converge();
    env.set_catalog(
        &BEFORE_RENAME
            .replace("[products.pro]", "[products.team]")
            .replace(
                "[products.pro.prices.monthly]",
                "[products.team.prices.monthly]",
            ),
    );
    let plan = env.plan();
    assert!(plan.has("# products.pro will be archived: removed from billing.toml"));
    assert!(
        plan.has(
            "if this is products.pro renamed, add `moved_from = \"pro\"` to it in billing.toml"
        ),
        "{}",
        plan.stdout
    );
}

#[test]
fn forget_removes_the_marker_and_leaves_the_objects_as_they_are() {
    let env = Env::new(BEFORE_RENAME);
    env.converge();
    let prod = env.id("products.pro");
    let monthly = env.id("prices.pro.monthly");
    let launch = env.id("coupons.launch");
    let paths = [
        format!("/v1/products/{prod}"),
        format!("/v1/prices/{monthly}"),
        format!("/v1/coupons/{launch}"),
    ];
    let before: Vec<Value> = paths.iter().map(|p| object(&env, p)).collect();

    // Still declared: refused, nothing sent.
    let writes = env.writes();
    let refused = env.billing(&["forget", "products.pro", "--yes"]);
    assert_eq!(refused.code, 1);
    assert!(
        refused
            .stderr
            .contains("products.pro: billing.toml still declares it"),
        "{}",
        refused.stderr
    );
    let unknown = env.billing(&["forget", "products.nothing", "--yes"]);
    assert_eq!(unknown.code, 1);
    assert!(
        unknown
            .stderr
            .contains("no object in this account carries billing's marker"),
        "{}",
        unknown.stderr
    );
    assert_eq!(env.writes(), writes);

    // Gone from billing.toml: a plan would archive and delete; forget keeps them instead.
    env.set_catalog(
        r#"
[tax_rates.vat]
display_name = "VAT"
percentage = 19
inclusive = false
country = "DE"
"#,
    );
    let forget = env.billing(&["forget", "products.pro", "coupons.launch", "--yes"]);
    assert_eq!(forget.code, 0, "{}{}", forget.stdout, forget.stderr);
    assert!(
        forget.has("Plan: 0 to create, 0 to update, 0 to replace, 0 to archive, 4 to forget."),
        "{}",
        forget.stdout
    );
    let after: Vec<Value> = paths.iter().map(|p| object(&env, p)).collect();
    assert_eq!(before, after, "forgetting touches nothing but the marker");
    for path in &paths {
        assert_eq!(marker(&env, path), (Value::Null, Value::Null), "{path}");
    }
    let plan = env.plan();
    assert_eq!(plan.code, 0, "{}", plan.stdout);
    assert!(
        plan.has("Left alone: 1 product, 1 price, 1 coupon and 1 promotion code without billing's marker."),
        "{}",
        plan.stdout
    );
}

#[test]
fn on_remove_forget_is_recorded_and_carried_out_when_the_entry_leaves() {
    let env = Env::new(
        &BEFORE_RENAME.replace("[tax_rates.vat]", "[tax_rates.vat]\non_remove = \"forget\""),
    );
    env.converge();
    let rate = Req::get("/v1/tax_rates").send(&env.sandbox).json()["data"][0].clone();
    assert_eq!(rate["metadata"]["billing_on_remove"], "forget");
    let id = rate["id"].as_str().unwrap_or_default().to_owned();

    let without = BEFORE_RENAME
        .split("[tax_rates.vat]")
        .next()
        .unwrap_or_default()
        .to_owned();
    env.set_catalog(&without);
    let plan = env.plan();
    assert!(
        plan.has("# tax_rates.vat will be forgotten (left in Stripe, no longer managed): removed from billing.toml with on_remove = \"forget\""),
        "{}",
        plan.stdout
    );
    env.converge();
    let after = Req::get(&format!("/v1/tax_rates/{id}"))
        .send(&env.sandbox)
        .json();
    assert_eq!(after["active"], true, "not archived");
    assert_eq!(after["metadata"], serde_json::json!({}));
}

#[test]
fn an_id_naming_a_managed_price_moves_it_from_a_removed_address_and_clashes_with_a_declared_one() {
    let env = Env::new(BEFORE_RENAME);
    env.converge();
    let monthly = env.id("prices.pro.monthly");
    let moved = BEFORE_RENAME.replace(
        "[products.pro.prices.monthly]",
        &format!("[products.pro.prices.month]\nid = \"{monthly}\""),
    );
    env.set_catalog(&moved.replace("default_price = \"monthly\"", "default_price = \"month\""));
    let plan = env.plan();
    assert!(
        plan.has(&format!(
            "# prices.pro.month will be moved: prices.pro.monthly is now prices.pro.month (id {monthly})"
        )),
        "{}",
        plan.stdout
    );
    assert!(plan.has("Plan: 1 to move, 0 to create"), "{}", plan.stdout);

    // Both keys declared: the id cannot take the price from the other entry.
    let both = format!(
        "{BEFORE_RENAME}\n[products.pro.prices.month]\nid = \"{monthly}\"\namount = \"79.00\"\ncurrency = \"usd\"\ninterval = \"month\"\nlookup_key = \"pro_month\"\n"
    );
    env.set_catalog(&both);
    let clash = env.plan();
    assert_eq!(clash.code, 1, "{}", clash.stdout);
    assert!(
        clash.stderr.contains(&format!(
            "prices.pro.month: `id` names price {monthly}, which billing manages at prices.pro.monthly, still declared in billing.toml"
        )),
        "{}",
        clash.stderr
    );
}

#[test]
fn one_object_cannot_be_taken_by_two_entries() {
    let env = Env::new("[coupons.old]\npercent_off = 10\n");
    env.converge();
    let id = env.id("coupons.old");
    env.set_catalog(&format!(
        "[coupons.a]\nmoved_from = \"old\"\npercent_off = 10\n\n[coupons.b]\nid = \"{id}\"\npercent_off = 10\n"
    ));
    let run = env.plan();
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stderr.contains(&format!(
            "coupons.b: `id` names coupon {id}, which coupons.a already takes (moved_from = \"old\")"
        )),
        "{}",
        run.stderr
    );
    assert_eq!(env.writes(), 1, "only the first apply's coupon");
}

#[test]
fn a_price_is_adopted_only_on_its_own_product_and_only_by_a_written_lookup_key() {
    let env = Env::new("");
    let pro = product(&env.sandbox, "name=Pro&id=prod_pro");
    let other = product(&env.sandbox, "name=Other");
    let on_other = price(
        &env.sandbox,
        &format!("product={other}&currency=usd&unit_amount=300&lookup_key=other_key"),
    );
    let dashboard = price(
        &env.sandbox,
        &format!(
            "product={pro}&currency=usd&unit_amount=9900&recurring[interval]=month&lookup_key=pro_monthly"
        ),
    );
    let catalog = |price: &str| {
        format!(
            "[products.pro]\nid = \"prod_pro\"\nname = \"Pro\"\n\n[products.pro.prices.monthly]\namount = \"99.00\"\ncurrency = \"usd\"\ninterval = \"month\"\n{price}"
        )
    };
    // An `id` naming a price of another product.
    env.set_catalog(&catalog(&format!("id = \"{on_other}\"\n")));
    let run = env.plan();
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains(&format!(
            "`id = \"{on_other}\"` names a price of product {other}, not of products.pro"
        )),
        "{}",
        run.stderr
    );
    // The defaulted lookup key `pro_monthly` is made of catalog keys: not a name for adoption.
    env.set_catalog(&catalog(""));
    let run = env.plan();
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains(&format!(
            "to adopt {dashboard}, write `lookup_key = \"pro_monthly\"`"
        )),
        "{}",
        run.stderr
    );
    // Written out, it names the price.
    env.set_catalog(&catalog("lookup_key = \"pro_monthly\"\n"));
    assert!(
        env.plan()
            .has("Plan: 2 to adopt, 0 to create, 0 to update, 0 to replace, 0 to archive."),
    );
    assert_eq!(env.writes(), 4, "only the objects this test made");
}

#[test]
fn a_product_pinned_by_id_keeps_its_prices_when_its_key_is_renamed() {
    let pinned = BEFORE_RENAME.replace("[products.pro]", "[products.pro]\nid = \"prod_pinned\"");
    let env = Env::new(&pinned);
    env.converge();
    let monthly = env.current("prices.pro.monthly")["id"].clone();
    env.set_catalog(
        &pinned.replace("[products.pro]", "[products.team]").replace(
            "[products.pro.prices.monthly]",
            "[products.team.prices.monthly]",
        ),
    );
    let plan = env.plan();
    assert!(
        plan.has("# prices.team.monthly will be moved: prices.pro.monthly is now prices.team.monthly (its product's id prod_pinned)"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.has("Plan: 2 to move, 0 to create, 0 to update, 0 to replace, 0 to archive."),
        "{}",
        plan.stdout
    );
    env.converge();
    assert_eq!(env.current("prices.team.monthly")["id"], monthly);
}

#[test]
fn forget_refuses_an_address_billing_toml_moves_elsewhere() {
    let env = Env::new(BEFORE_RENAME);
    env.converge();
    env.set_catalog(AFTER_RENAME);
    let run = env.billing(&["forget", "products.pro", "--yes"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains("products.pro: billing.toml moves its objects to products.team"),
        "{}",
        run.stderr
    );
    let run = env.billing(&["forget", "tax", "--yes"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains("tax: not an address billing can forget"),
        "{}",
        run.stderr
    );
}
