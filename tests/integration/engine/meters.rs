//! Billing meters and metered prices through the sandbox: a meter and its price created in
//! one apply, the display name changed in place, an immutable change refused before anything
//! is sent, deactivation after the prices on it are archived, a price moved to another meter
//! (a replacement that takes the lookup key), and import.

use serde_json::Value;

use super::Env;

const PRODUCT: &str = r#"
[products.api]
name = "API"
"#;

/// A meter `key` counting `event`, with extra lines.
fn meter(key: &str, event: &str, extra: &str) -> String {
    format!(
        "\n[meters.{key}]\ndisplay_name = \"API calls\"\nevent_name = \"{event}\"\naggregation = \"sum\"\n{extra}\n"
    )
}

/// The metered price `prices.api.usage` on `meter`.
fn usage(meter: &str) -> String {
    format!(
        "\n[products.api.prices.usage]\ncurrency = \"usd\"\ninterval = \"month\"\nmeter = \"{meter}\"\nunit_amount_decimal = \"0.5\"\nlookup_key = \"api_usage\"\n"
    )
}

fn meters(env: &Env) -> Vec<Value> {
    env.list("/v1/billing/meters")
}

fn meter_named(env: &Env, event: &str) -> Value {
    meters(env)
        .into_iter()
        .find(|m| m["event_name"] == event)
        .unwrap_or_else(|| panic!("no meter for {event}"))
}

#[test]
fn a_meter_and_its_metered_price_are_created_in_one_apply() {
    let env = Env::new(&format!(
        "{PRODUCT}{}{}",
        meter("calls", "api_call", ""),
        usage("calls")
    ));
    let plan = env.billing(&["plan"]);
    assert_eq!(plan.code, 0, "{}{}", plan.stdout, plan.stderr);
    assert!(plan.stdout.contains("meters.calls"), "{}", plan.stdout);
    env.converge();
    let m = meter_named(&env, "api_call");
    assert_eq!(m["default_aggregation"]["formula"], "sum");
    assert_eq!(
        m["customer_mapping"]["event_payload_key"],
        "stripe_customer_id"
    );
    let price = env.current("prices.api.usage");
    assert_eq!(price["recurring"]["usage_type"], "metered");
    assert_eq!(price["recurring"]["meter"], m["id"]);
}

#[test]
fn the_display_name_changes_in_place() {
    let env = Env::new(&format!(
        "{PRODUCT}{}{}",
        meter("calls", "api_call", ""),
        usage("calls")
    ));
    env.converge();
    let id = meter_named(&env, "api_call")["id"].clone();
    let renamed = format!(
        "{PRODUCT}{}{}",
        meter("calls", "api_call", ""),
        usage("calls")
    )
    .replace(
        "display_name = \"API calls\"",
        "display_name = \"Requests\"",
    );
    env.set_catalog(&renamed);
    let plan = env.billing(&["plan"]);
    assert!(plan.stdout.contains("display_name"), "{}", plan.stdout);
    env.converge();
    let m = meter_named(&env, "api_call");
    assert_eq!(
        (m["id"].clone(), m["display_name"].clone()),
        (id, "Requests".into())
    );
    assert_eq!(meters(&env).len(), 1);
}

#[test]
fn an_immutable_change_is_refused_with_nothing_sent() {
    let env = Env::new(&format!(
        "{PRODUCT}{}{}",
        meter("calls", "api_call", ""),
        usage("calls")
    ));
    env.converge();
    let changed = format!(
        "{PRODUCT}{}{}",
        meter("calls", "api_call", ""),
        usage("calls")
    )
    .replace("aggregation = \"sum\"", "aggregation = \"count\"");
    env.set_catalog(&changed);
    let writes = env.writes();
    for args in [&["plan"][..], &["apply", "--yes"][..]] {
        let run = env.billing(args);
        assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
        let all = format!("{}{}", run.stdout, run.stderr);
        assert!(
            all.contains("`aggregation` from \"sum\" to \"count\""),
            "{all}"
        );
        assert!(all.contains("new event_name"), "{all}");
        assert!(all.contains("active = false"), "{all}");
    }
    assert_eq!(env.writes(), writes, "nothing sent");
}

#[test]
fn a_meter_is_deactivated_after_the_prices_on_it_are_archived() {
    let env = Env::new(&format!(
        "{PRODUCT}{}{}",
        meter("calls", "api_call", ""),
        usage("calls")
    ));
    env.converge();
    let price = env.id("prices.api.usage");
    // The price leaves billing.toml and the meter is switched off in the same apply.
    env.set_catalog(&format!(
        "{PRODUCT}{}",
        meter("calls", "api_call", "active = false")
    ));
    env.converge();
    let m = meter_named(&env, "api_call");
    assert_eq!(m["status"], "inactive");
    let archived = env
        .prices()
        .into_iter()
        .find(|p| p["id"] == price.as_str())
        .unwrap();
    assert_eq!(archived["active"], false);
    let order: Vec<String> = env
        .sandbox
        .requests()
        .iter()
        .filter(|r| r.method == "POST")
        .map(|r| r.path.clone())
        .collect();
    let archive = order
        .iter()
        .position(|p| p == &format!("/v1/prices/{price}"))
        .unwrap();
    let off = order
        .iter()
        .position(|p| p.ends_with("/deactivate"))
        .unwrap();
    assert!(archive < off, "{order:?}");
    // Back on.
    env.set_catalog(&format!("{PRODUCT}{}", meter("calls", "api_call", "")));
    env.converge();
    assert_eq!(meter_named(&env, "api_call")["status"], "active");
}

#[test]
fn deactivating_a_meter_a_declared_price_still_uses_is_refused() {
    let env = Env::new(&format!(
        "{PRODUCT}{}{}",
        meter("calls", "api_call", ""),
        usage("calls")
    ));
    env.converge();
    env.set_catalog(&format!(
        "{PRODUCT}{}{}",
        meter("calls", "api_call", "active = false"),
        usage("calls")
    ));
    let run = env.validate();
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("billing.toml:"), "{}", run.stderr);
    assert!(run.stderr.contains("`active = false`"), "{}", run.stderr);
}

#[test]
fn a_price_moved_to_another_meter_is_replaced_and_keeps_its_lookup_key() {
    let both = |on: &str| {
        format!(
            "{PRODUCT}{}{}{}",
            meter("calls", "api_call", ""),
            meter("tokens", "token", ""),
            usage(on)
        )
    };
    let env = Env::new(&both("calls"));
    env.converge();
    let old = env.id("prices.api.usage");
    env.set_catalog(&both("tokens"));
    let plan = env.billing(&["plan"]);
    assert!(plan.stdout.contains("meter"), "{}", plan.stdout);
    env.converge();
    let new = env.current("prices.api.usage");
    assert_ne!(new["id"], old.as_str());
    assert_eq!(new["lookup_key"], "api_usage");
    assert_eq!(new["recurring"]["meter"], meter_named(&env, "token")["id"]);
}

#[test]
fn import_writes_meters_and_metered_prices_and_the_result_plans_nothing() {
    let env = Env::new("");
    let made = |path: &str, body: &str| {
        let res = stripe_sandbox::test_support::Req::post(path, body).send(&env.sandbox);
        assert_eq!(res.status, 200, "{}", res.body);
        res.json()["id"].as_str().unwrap().to_owned()
    };
    let meter = made(
        "/v1/billing/meters",
        "display_name=Tokens&event_name=llm.tokens&default_aggregation[formula]=sum\
         &value_settings[event_payload_key]=count&event_time_window=hour",
    );
    let product = made("/v1/products", "name=LLM");
    made(
        "/v1/prices",
        &format!(
            "product={product}&currency=usd&unit_amount_decimal=0.02&recurring[interval]=month\
             &recurring[usage_type]=metered&recurring[meter]={meter}&lookup_key=llm_tokens"
        ),
    );
    // A legacy metered price without a meter (made under an older API version) is left out.
    let legacy = stripe_sandbox::test_support::Req::post(
        "/v1/prices",
        &format!(
            "product={product}&currency=usd&unit_amount=1&recurring[interval]=month\
             &recurring[usage_type]=metered"
        ),
    )
    .header("Stripe-Version", Some("2025-02-24.acacia"))
    .send(&env.sandbox);
    assert_eq!(legacy.status, 200, "{}", legacy.body);
    let imported = env.billing(&["import", "--out", "imported.toml"]);
    assert_eq!(imported.code, 0, "{}{}", imported.stdout, imported.stderr);
    let text = env.dir.read("imported.toml");
    assert!(
        text.contains("[meters.llm_tokens]"),
        "{text}\n{}{}",
        imported.stdout,
        imported.stderr
    );
    assert!(text.contains("event_name = \"llm.tokens\""), "{text}");
    assert!(text.contains("value_key = \"count\""), "{text}");
    assert!(text.contains("event_time_window = \"hour\""), "{text}");
    assert!(text.contains("meter = \"llm_tokens\""), "{text}");
    let all = format!("{}{}", imported.stdout, imported.stderr);
    assert!(
        all.contains("legacy metered price without a meter"),
        "{all}"
    );
    env.set_catalog(&text);
    let plan = env.plan();
    assert_eq!(
        plan.code, 2,
        "adoption only: {}{}",
        plan.stdout, plan.stderr
    );
    env.converge();
    assert_eq!(meters(&env).len(), 1, "no second meter");
    let output = env.billing(&["output", "--format", "env"]);
    assert_eq!(output.code, 0, "{}", output.stderr);
    assert!(
        output
            .stdout
            .contains(&format!("BILLING_METER_LLM_TOKENS={meter}\n")),
        "{}",
        output.stdout
    );
    assert!(
        output
            .stdout
            .contains("BILLING_METER_LLM_TOKENS__EVENT_NAME=llm.tokens\n"),
        "{}",
        output.stdout
    );
}

#[test]
fn a_saved_plan_creates_the_meter_then_the_price_that_names_it() {
    let env = Env::new(&format!(
        "{PRODUCT}{}{}",
        meter("calls", "api_call", ""),
        usage("calls")
    ));
    let run = env.billing(&["plan", "--out", "plan.json"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let run = env.billing(&["apply", "plan.json"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let price = env.current("prices.api.usage");
    assert_eq!(
        price["recurring"]["meter"],
        meter_named(&env, "api_call")["id"]
    );
    assert_eq!(env.plan().code, 0);
}
