//! Each kind of edit is planned as expected and converges after apply.

use super::{Env, PRO};

#[test]
fn first_apply_creates_everything_and_the_next_plan_is_empty() {
    let env = Env::new(PRO);
    let plan = env.plan();
    assert_eq!(plan.code, 2, "{}{}", plan.stdout, plan.stderr);
    assert!(
        plan.has("Plan: 3 to create, 0 to update, 0 to replace, 0 to archive."),
        "{}",
        plan.stdout
    );
    assert_eq!(env.writes(), 0, "plan must not write");

    env.converge();
    let product = env.current("products.pro");
    assert_eq!(product["name"], "Pro");
    assert_eq!(product["metadata"]["billing_ns"], "default");
    assert_eq!(product["metadata"]["tier"], "2");
    assert_eq!(product["marketing_features"][1]["name"], "Priority support");
    let monthly = env.current("prices.pro.monthly");
    assert_eq!(monthly["unit_amount"], 7900);
    assert_eq!(monthly["lookup_key"], "pro_monthly");
    assert_eq!(monthly["recurring"]["interval"], "month");
    assert_eq!(monthly["tax_behavior"], "exclusive");
    assert_eq!(monthly["currency_options"]["eur"]["unit_amount"], 7200);
    assert_eq!(monthly["product"], product["id"]);
    assert_eq!(product["default_price"], monthly["id"]);
    let annual = env.current("prices.pro.annual");
    assert_eq!(annual["unit_amount"], 79000);
    assert_eq!(annual["lookup_key"], "pro_annual");
    assert_eq!(env.products().len(), 1);
    assert_eq!(env.prices().len(), 2);
}

#[test]
fn every_write_carries_an_idempotency_key_and_the_pinned_version() {
    let env = Env::new(PRO);
    env.converge();
    let requests = env.requests();
    assert!(!requests.is_empty());
    for r in &requests {
        assert_eq!(
            r.stripe_version.as_deref(),
            Some(billing::api_version()),
            "{r:?}"
        );
        if r.method == "POST" {
            let key = r.idempotency_key.as_deref().unwrap_or_default();
            assert!(key.starts_with("billing-") && key.len() <= 255, "{r:?}");
        }
    }
    // Reads are lists, 100 per page, never a per-object GET or the Search API; the only other
    // reads are the account and the newest catalog event.
    for r in requests.iter().filter(|r| r.method == "GET") {
        // The generation: the newest catalog event (see `live::generation`).
        let generation = r.path == "/v1/events" && r.query.starts_with("limit=1&");
        assert!(
            r.path == "/v1/account"
                || generation
                || (r.query.contains("limit=100") && !r.path.contains("search")),
            "unexpected read {r:?}"
        );
        assert!(
            !r.path.starts_with("/v1/products/") && !r.path.starts_with("/v1/prices/"),
            "{r:?}"
        );
    }
}

#[test]
fn product_fields_update_in_place_sending_only_what_changed() {
    let env = Env::new(&format!("ignore_metadata = [\"crm_*\"]\n{PRO}"));
    env.converge();
    let before = env.current("products.pro");
    let id = before["id"].as_str().unwrap().to_owned();
    // Another system writes a key the catalog ignores, and one it does not.
    let res = stripe_sandbox::test_support::Req::post(
        &format!("/v1/products/{id}"),
        "metadata[crm_owner]=alice&metadata[stray]=x",
    )
    .idempotency_key("test-stray-metadata")
    .send(&env.sandbox);
    assert_eq!(res.status, 200, "{}", res.body);

    env.set_catalog(
        &format!("ignore_metadata = [\"crm_*\"]\n{PRO}")
            .replace("name = \"Pro\"", "name = \"Pro plan\"")
            .replace("description = \"For growing teams\"\n", "")
            .replace(
                "metadata = { tier = \"2\" }",
                "metadata = { tier = \"3\", segment = \"smb\" }",
            ),
    );
    let plan = env.plan();
    assert_eq!(plan.code, 2);
    assert!(plan.has("~ product \"Pro plan\""), "{}", plan.stdout);
    assert!(
        plan.has("name                 = \"Pro\" → \"Pro plan\""),
        "{}",
        plan.stdout
    );
    assert!(
        plan.has("metadata.stray       = \"x\" → (none)"),
        "{}",
        plan.stdout
    );
    assert!(
        !plan.has("crm_owner"),
        "ignored metadata is not diffed:\n{}",
        plan.stdout
    );
    assert!(plan.has("Plan: 0 to create, 1 to update, 0 to replace, 0 to archive."));

    env.sandbox.clear_requests();
    env.converge();
    let writes: Vec<_> = env
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST")
        .collect();
    assert_eq!(writes.len(), 1, "{writes:#?}");
    assert_eq!(writes[0].path, format!("/v1/products/{id}"));
    let body = form(&writes[0].body);
    assert_eq!(
        body,
        vec![
            ("description".to_owned(), String::new()),
            ("metadata[segment]".to_owned(), "smb".to_owned()),
            ("metadata[stray]".to_owned(), String::new()),
            ("metadata[tier]".to_owned(), "3".to_owned()),
            ("name".to_owned(), "Pro plan".to_owned()),
        ]
    );
    let after = env.current("products.pro");
    assert_eq!(after["id"], before["id"]);
    assert_eq!(after["description"], serde_json::Value::Null);
    assert_eq!(after["metadata"]["crm_owner"], "alice");
}

/// Form pairs, decoded and sorted.
fn form(body: &str) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect();
    pairs.sort();
    pairs
}

#[test]
fn an_amount_change_replaces_the_price_and_moves_lookup_key_and_default() {
    let env = Env::new(PRO);
    env.converge();
    let old = env.current("prices.pro.monthly");

    env.set_catalog(&PRO.replace("amount = \"79.00\"", "amount = \"89.00\""));
    let plan = env.plan();
    assert_eq!(plan.code, 2);
    assert!(plan.has("-/+ price $89.00 / month"), "{}", plan.stdout);
    assert!(
        plan.has("unit_amount = $79.00 → $89.00   # forces replacement"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.has("existing subscriptions stay on"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.has("Plan: 0 to create, 0 to update, 1 to replace, 0 to archive."),
        "{}",
        plan.stdout
    );
    assert!(
        plan.has("default_price of products.pro = prices.pro.monthly ("),
        "{}",
        plan.stdout
    );

    env.converge();
    let new = env.current("prices.pro.monthly");
    assert_ne!(new["id"], old["id"]);
    assert_eq!(new["unit_amount"], 8900);
    assert_eq!(new["lookup_key"], "pro_monthly");
    assert_eq!(new["currency_options"]["eur"]["unit_amount"], 7200);
    let old_now = env
        .prices()
        .into_iter()
        .find(|p| p["id"] == old["id"])
        .unwrap();
    assert_eq!(old_now["active"], false);
    assert_eq!(old_now["lookup_key"], serde_json::Value::Null);
    assert_eq!(env.current("products.pro")["default_price"], new["id"]);
}

#[test]
fn interval_currency_and_tiers_changes_replace() {
    let tiered = r#"
[products.api]
name = "API"
[products.api.prices.usage]
currency = "usd"
interval = "month"
billing_scheme = "tiered"
tiers_mode = "graduated"
tiers = [{ up_to = 1000, amount = "0" }, { up_to = "inf", unit_amount_decimal = "0.5" }]
[products.api.prices.flat]
amount = "10.00"
currency = "usd"
interval = "month"
"#;
    let env = Env::new(tiered);
    env.converge();
    let edited = tiered
        .replace(
            "{ up_to = 1000, amount = \"0\" }",
            "{ up_to = 5000, amount = \"0\" }",
        )
        .replace(
            "amount = \"10.00\"\ncurrency = \"usd\"\ninterval = \"month\"",
            "amount = \"10.00\"\ncurrency = \"eur\"\ninterval = \"year\"",
        );
    env.set_catalog(&edited);
    let plan = env.plan();
    assert!(
        plan.has("tiers ") && plan.has("up to 5000"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.has("currency = usd → eur   # forces replacement"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.has("interval = month → year   # forces replacement"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.has("Plan: 0 to create, 0 to update, 2 to replace, 0 to archive."),
        "{}",
        plan.stdout
    );
    env.converge();
    assert_eq!(env.current("prices.api.usage")["tiers"][0]["up_to"], 5000);
    assert_eq!(env.current("prices.api.flat")["currency"], "eur");
    assert_eq!(env.at("prices.api.flat").len(), 2);
}

#[test]
fn mutable_price_fields_change_in_place() {
    let env = Env::new(PRO);
    env.converge();
    let before = env.current("prices.pro.monthly");
    let edited = PRO.replace(
        "currency_options = { eur = \"72.00\" }",
        "currency_options = { eur = \"75.00\", gbp = \"64.00\" }\nnickname = \"Pro monthly (2026)\"\nlookup_key = \"pro_monthly_v2\"\nmetadata = { campaign = \"fall\" }",
    );
    env.set_catalog(&edited);
    let plan = env.plan();
    assert!(
        plan.has("currency_options.eur = €72.00 → €75.00"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.has("currency_options.gbp = (none) → £64.00"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.has("lookup_key           = \"pro_monthly\" → \"pro_monthly_v2\""),
        "{}",
        plan.stdout
    );
    assert!(
        plan.has("Plan: 0 to create, 1 to update, 0 to replace, 0 to archive."),
        "{}",
        plan.stdout
    );
    env.converge();
    let after = env.current("prices.pro.monthly");
    assert_eq!(after["id"], before["id"]);
    assert_eq!(after["lookup_key"], "pro_monthly_v2");
    assert_eq!(after["nickname"], "Pro monthly (2026)");
    assert_eq!(after["currency_options"]["eur"]["unit_amount"], 7500);
    assert_eq!(after["currency_options"]["gbp"]["unit_amount"], 6400);
    assert_eq!(after["metadata"]["campaign"], "fall");

    // Removing a currency option is also done in place.
    env.set_catalog(&edited.replace(", gbp = \"64.00\"", ""));
    let plan = env.plan();
    assert!(
        plan.has("currency_options.gbp = £64.00 → (none)"),
        "{}",
        plan.stdout
    );
    env.converge();
    let after = env.current("prices.pro.monthly");
    assert_eq!(after["id"], before["id"]);
    assert!(after["currency_options"].get("gbp").is_none(), "{after:#}");
}

#[test]
fn tax_behavior_is_set_once_in_place_then_only_by_replacement() {
    let env = Env::new(PRO);
    env.converge();
    let annual = env.current("prices.pro.annual");
    assert_eq!(annual["tax_behavior"], "unspecified");
    let exclusive = PRO.replace(
        "interval = \"year\"",
        "interval = \"year\"\ntax_behavior = \"exclusive\"",
    );
    env.set_catalog(&exclusive);
    let plan = env.plan();
    assert!(
        plan.has("tax_behavior = unspecified → exclusive"),
        "{}",
        plan.stdout
    );
    assert!(plan.has("1 to update, 0 to replace"), "{}", plan.stdout);
    env.converge();
    assert_eq!(env.current("prices.pro.annual")["id"], annual["id"]);

    env.set_catalog(&exclusive.replace(
        "interval = \"year\"\ntax_behavior = \"exclusive\"",
        "interval = \"year\"\ntax_behavior = \"inclusive\"",
    ));
    let plan = env.plan();
    assert!(
        plan.has("tax_behavior = exclusive → inclusive   # forces replacement"),
        "{}",
        plan.stdout
    );
    env.converge();
    let replaced = env.current("prices.pro.annual");
    assert_ne!(replaced["id"], annual["id"]);
    assert_eq!(replaced["tax_behavior"], "inclusive");
}

#[test]
fn removing_the_default_price_moves_the_default_then_archives_it() {
    let env = Env::new(PRO);
    env.converge();
    let monthly = env.current("prices.pro.monthly");
    let annual = env.current("prices.pro.annual");
    let without_monthly = PRO
        .replace("default_price = \"monthly\"", "default_price = \"annual\"")
        .replace(
            "[products.pro.prices.monthly]\namount = \"79.00\"\ncurrency = \"usd\"\ninterval = \"month\"\ntax_behavior = \"exclusive\"\ncurrency_options = { eur = \"72.00\" }\n",
            "",
        );
    env.set_catalog(&without_monthly);
    let plan = env.plan();
    assert!(
        plan.has("# prices.pro.monthly will be archived: removed from billing.toml"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.has("default_price = prices.pro.monthly"),
        "{}",
        plan.stdout
    );
    env.converge();
    assert!(
        env.at("prices.pro.monthly")
            .iter()
            .all(|p| p["active"] == false)
    );
    assert_eq!(env.current("products.pro")["default_price"], annual["id"]);
    assert_eq!(
        env.prices()
            .iter()
            .find(|p| p["id"] == monthly["id"])
            .unwrap()["active"],
        false
    );

    // With no default at all, the default is cleared before the last price is archived.
    let no_default = without_monthly.replace("default_price = \"annual\"\n", "").replace(
        "[products.pro.prices.annual]\namount = \"790.00\"\ncurrency = \"usd\"\ninterval = \"year\"\n",
        "",
    );
    env.set_catalog(&no_default);
    env.converge();
    let product = env.current("products.pro");
    assert_eq!(product["default_price"], serde_json::Value::Null);
    assert!(env.prices().iter().all(|p| p["active"] == false));
}

#[test]
fn a_removed_product_is_archived_with_its_prices_and_comes_back_unarchived() {
    let two = format!(
        "{PRO}\n[products.team]\nname = \"Team\"\ndefault_price = \"monthly\"\n[products.team.prices.monthly]\namount = \"29\"\ncurrency = \"usd\"\ninterval = \"month\"\n"
    );
    let env = Env::new(&two);
    env.converge();
    let team = env.current("products.team");
    let team_price = env.current("prices.team.monthly");

    env.set_catalog(PRO);
    let plan = env.plan();
    assert!(
        plan.has("# products.team will be archived: removed from billing.toml"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.has(
            "# prices.team.monthly will be archived: its product was removed from billing.toml"
        ),
        "{}",
        plan.stdout
    );
    assert!(
        plan.has("Plan: 0 to create, 0 to update, 0 to replace, 2 to archive."),
        "{}",
        plan.stdout
    );
    env.converge();
    assert!(env.at("products.team").iter().all(|p| p["active"] == false));
    assert!(
        env.at("prices.team.monthly")
            .iter()
            .all(|p| p["active"] == false)
    );

    env.set_catalog(&two);
    let plan = env.plan();
    assert!(
        plan.has("# products.team will be unarchived"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.has("# prices.team.monthly will be unarchived"),
        "{}",
        plan.stdout
    );
    env.converge();
    assert_eq!(env.current("products.team")["id"], team["id"]);
    assert_eq!(env.current("prices.team.monthly")["id"], team_price["id"]);
    assert_eq!(
        env.current("products.team")["default_price"],
        team_price["id"]
    );
}

#[test]
fn a_product_declared_inactive_is_archived_with_its_prices() {
    let env = Env::new(PRO);
    env.converge();
    env.set_catalog(&PRO.replace("name = \"Pro\"", "name = \"Pro\"\nactive = false"));
    let plan = env.plan();
    assert!(
        plan.has("# products.pro will be archived: declared `active = false`"),
        "{}",
        plan.stdout
    );
    env.converge();
    assert_eq!(env.current_or_none("products.pro"), 0);
    assert!(env.prices().iter().all(|p| p["active"] == false));
    env.set_catalog(PRO);
    env.converge();
    assert_eq!(
        env.current("products.pro")["default_price"],
        env.current("prices.pro.monthly")["id"]
    );
}

#[test]
fn pinning_an_existing_product_to_a_new_id_moves_its_prices_to_the_new_product() {
    let env = Env::new(PRO);
    env.converge();
    let old = env.current("products.pro");
    env.set_catalog(&PRO.replace("name = \"Pro\"", "name = \"Pro\"\nid = \"prod_pinnedpro\""));
    let plan = env.plan();
    assert!(plan.has("product = "), "{}", plan.stdout);
    assert!(
        plan.has("(new product)   # forces replacement"),
        "{}",
        plan.stdout
    );
    env.converge();
    assert_eq!(env.current("products.pro")["id"], "prod_pinnedpro");
    for address in ["prices.pro.monthly", "prices.pro.annual"] {
        assert_eq!(env.current(address)["product"], "prod_pinnedpro");
    }
    // Nothing active is left on the archived product.
    assert!(
        env.prices()
            .iter()
            .filter(|p| p["product"] == old["id"])
            .all(|p| p["active"] == false)
    );
}

#[test]
fn a_product_archived_by_hand_then_removed_converges() {
    let env = Env::new(PRO);
    env.converge();
    let id = env.id("products.pro");
    let res =
        stripe_sandbox::test_support::Req::post(&format!("/v1/products/{id}"), "active=false")
            .idempotency_key("test-archive-by-hand")
            .send(&env.sandbox);
    assert_eq!(res.status, 200, "{}", res.body);
    env.set_catalog("");
    let plan = env.plan();
    assert!(
        plan.has(
            "# products.pro will be updated in place: an archived product keeps a default price"
        ),
        "{}",
        plan.stdout
    );
    env.converge();
    assert!(env.prices().iter().all(|p| p["active"] == false));
}

#[test]
fn tiered_prices_with_currency_options_converge() {
    let catalog = r#"
[products.api]
name = "API"
[products.api.prices.usage]
currency = "usd"
interval = "month"
billing_scheme = "tiered"
tiers_mode = "volume"
tiers = [{ up_to = 1000, flat_amount = "10.00" }, { up_to = "inf", unit_amount_decimal = "0.5" }]
currency_options = { eur = { tiers = [{ up_to = 1000, flat_amount = "9.00" }, { up_to = "inf", amount = "0.01" }] } }
"#;
    let env = Env::new(catalog);
    env.converge();
    let usage = env.current("prices.api.usage");
    assert_eq!(usage["tiers"][0]["flat_amount"], 1000);
    // A change of the euro tiers is made in place, and converges too.
    env.set_catalog(&catalog.replace("flat_amount = \"9.00\"", "flat_amount = \"9.50\""));
    let plan = env.plan();
    assert!(plan.has("currency_options.eur"), "{}", plan.stdout);
    assert!(plan.has("0 to replace"), "{}", plan.stdout);
    env.converge();
    assert_eq!(env.current("prices.api.usage")["id"], usage["id"]);
}

#[test]
fn going_back_and_forth_is_never_answered_by_an_old_replay() {
    // Each edit returns Stripe to a state it had before: the same request must not be
    // answered with the response stored for its earlier twin.
    let env = Env::new(PRO);
    env.converge();
    let renamed = PRO.replace("name = \"Pro\"", "name = \"Pro X\"");
    let without_annual = PRO.replace("[products.pro.prices.annual]\namount = \"790.00\"\ncurrency = \"usd\"\ninterval = \"year\"\n", "");
    for catalog in [
        renamed.as_str(),
        PRO,
        renamed.as_str(),
        PRO,
        without_annual.as_str(),
        PRO,
        without_annual.as_str(),
    ] {
        env.set_catalog(catalog);
        env.converge();
    }
    assert_eq!(env.current("products.pro")["name"], "Pro");
    assert!(
        env.at("prices.pro.annual")
            .iter()
            .all(|p| p["active"] == false)
    );
    let replays = env
        .sandbox
        .requests()
        .into_iter()
        .filter(|r| r.replayed)
        .count();
    assert_eq!(replays, 0);
}

#[test]
fn an_empty_or_truncated_catalog_warns_before_removing_everything() {
    let with_coupon = format!("{PRO}\n[coupons.launch]\npercent_off = 20\nduration = \"once\"\n");
    let env = Env::new(&with_coupon);
    env.converge();
    let check = "if billing.toml is incomplete (cut short, or the wrong file given with -c), do not apply this plan";

    // Cut short before its coupons: they would all go.
    env.set_catalog(PRO);
    let plan = env.plan();
    assert!(
        plan.stdout.contains(&format!(
            "Warning: billing.toml declares no coupons: this plan removes every coupon billing manages in this account (1 coupon); {check}"
        )),
        "{}",
        plan.stdout
    );

    // Empty: every managed object would go, said first, in every format.
    env.set_catalog("");
    let plan = env.plan();
    let everything = format!(
        "billing.toml declares nothing: this plan removes everything billing manages in this account (1 product, 2 prices, 1 coupon); {check}"
    );
    assert!(
        plan.stdout.lines().nth(2) == Some(format!("Warning: {everything}").as_str()),
        "{}",
        plan.stdout
    );
    let markdown = env.billing(&["plan", "--format", "markdown"]);
    assert!(
        markdown
            .stdout
            .contains(&format!("> [!CAUTION]\n> - {everything}")),
        "{}",
        markdown.stdout
    );
    let json = env.billing(&["plan", "--format", "json"]);
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).expect("a JSON plan");
    assert_eq!(doc["warnings"], serde_json::json!([everything]));

    // A catalog that keeps what it declares warns of nothing.
    env.set_catalog(&with_coupon);
    let json = env.billing(&["plan", "--format", "json"]);
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).expect("a JSON plan");
    assert_eq!(doc["warnings"], serde_json::json!([]));
}
