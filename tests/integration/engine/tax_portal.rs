//! Tax settings, tax registrations, tax rates and customer-portal configurations through the
//! binary and the sandbox.

use serde_json::Value;
use stripe_sandbox::test_support::Req;

use super::{Env, PRO};

const SETTINGS: &str = r#"
[tax]
default_tax_behavior = "exclusive"
default_tax_code = "txcd_10103001"
head_office = { line1 = "1 Main St", city = "San Francisco", state = "CA", postal_code = "94105", country = "US" }
"#;

fn get(env: &Env, path: &str) -> Value {
    let res = Req::get(path).send(&env.sandbox);
    assert_eq!(res.status, 200, "{}", res.body);
    res.json()
}

fn registrations(env: &Env) -> Vec<Value> {
    get(env, "/v1/tax/registrations?status=all&limit=100")["data"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn tax_rates(env: &Env, address: &str) -> Vec<Value> {
    get(env, "/v1/tax_rates?limit=100")["data"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|r| r["metadata"]["billing_key"] == address)
        .collect()
}

fn portals(env: &Env) -> Vec<Value> {
    get(
        env,
        "/v1/billing_portal/configurations?limit=100&expand[]=data.features.subscription_update.products",
    )["data"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn portal_at(env: &Env, address: &str) -> Value {
    let found: Vec<Value> = portals(env)
        .into_iter()
        .filter(|c| c["metadata"]["billing_key"] == address && c["active"] == true)
        .collect();
    assert_eq!(found.len(), 1, "{found:#?}");
    found.into_iter().next().unwrap_or_default()
}

/// `(product id, sorted price ids)` offered by a configuration.
fn offered(config: &Value) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = config["features"]["subscription_update"]["products"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|p| {
            let mut prices: Vec<String> = p["prices"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_str().unwrap().to_owned())
                .collect();
            prices.sort();
            (p["product"].as_str().unwrap().to_owned(), prices)
        })
        .collect();
    out.sort();
    out
}

#[test]
fn tax_settings_converge_and_a_dropped_value_stays_with_a_note() {
    let env = Env::new(SETTINGS);
    let plan = env.plan();
    assert_eq!(plan.code, 2, "{}{}", plan.stdout, plan.stderr);
    assert!(plan.has("~ Stripe Tax settings"), "{}", plan.stdout);
    assert!(
        plan.has("default_tax_behavior = (none) → exclusive"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.has("head_office.city = (none) → \"San Francisco\""),
        "{}",
        plan.stdout
    );
    env.converge();
    let settings = get(&env, "/v1/tax/settings");
    assert_eq!(settings["defaults"]["tax_behavior"], "exclusive");
    assert_eq!(settings["defaults"]["tax_code"], "txcd_10103001");
    assert_eq!(settings["head_office"]["address"]["postal_code"], "94105");

    // A changed value is updated in place.
    env.set_catalog(&SETTINGS.replace(
        "default_tax_behavior = \"exclusive\"",
        "default_tax_behavior = \"inclusive\"",
    ));
    let plan = env.plan();
    assert!(
        plan.has("default_tax_behavior = exclusive → inclusive"),
        "{}",
        plan.stdout
    );
    env.converge();
    assert_eq!(
        get(&env, "/v1/tax/settings")["defaults"]["tax_behavior"],
        "inclusive"
    );

    // Stripe cannot remove a value: dropping it from billing.toml plans nothing, with a note.
    env.set_catalog("[tax]\ndefault_tax_behavior = \"inclusive\"\n");
    let writes = env.writes();
    let plan = env.plan();
    assert_eq!(plan.code, 0, "{}{}", plan.stdout, plan.stderr);
    assert!(plan.has("No changes"), "{}", plan.stdout);
    assert!(
        plan.has("tax.default_tax_code is txcd_10103001 in Stripe; billing.toml does not declare it and Stripe cannot remove it, so it stays"),
        "{}",
        plan.stdout
    );
    env.apply();
    assert_eq!(env.writes(), writes, "nothing is sent");
    assert_eq!(
        get(&env, "/v1/tax/settings")["defaults"]["tax_code"],
        "txcd_10103001"
    );
}

#[test]
fn registrations_are_created_when_missing_and_ended_only_when_declared() {
    let declared = "[tax]\n[[tax.registrations]]\ncountry = \"DE\"\ntype = \"standard\"\n";
    let env = Env::new(declared);
    // One registration made in the Dashboard, which billing.toml never mentions.
    let res = Req::post(
        "/v1/tax/registrations",
        "country=GB&country_options[gb][type]=standard&active_from=now",
    )
    .send(&env.sandbox);
    assert_eq!(res.status, 200, "{}", res.body);
    let dashboard = res.json()["id"].as_str().unwrap().to_owned();

    let plan = env.plan();
    assert!(
        plan.has("+ tax registration DE standard"),
        "{}",
        plan.stdout
    );
    assert!(plan.has("Plan: 1 to create"), "{}", plan.stdout);
    env.converge();
    let all = registrations(&env);
    let de: Vec<&Value> = all.iter().filter(|r| r["country"] == "DE").collect();
    assert_eq!(de.len(), 1);
    assert_eq!(de[0]["country_options"]["de"]["type"], "standard");
    assert_eq!(de[0]["status"], "active");

    // Leaving it out of billing.toml ends nothing: it may have been made in the Dashboard.
    env.set_catalog("[tax]\n");
    let plan = env.plan();
    assert_eq!(plan.code, 0, "{}{}", plan.stdout, plan.stderr);
    assert!(plan.has("No changes"), "{}", plan.stdout);

    // Saying so ends it (a day later: Stripe ends a registration only after it started).
    env.sandbox.advance_clock(86_400).unwrap();
    env.set_catalog(&format!("{declared}ends_at = \"now\"\n"));
    let plan = env.plan();
    assert!(
        plan.has("# tax.registrations.DE.standard will be updated in place: billing.toml declares `ends_at`"),
        "{}",
        plan.stdout
    );
    assert!(plan.has("ends_at = (none) → now"), "{}", plan.stdout);
    env.converge();
    let all = registrations(&env);
    let de = all.iter().find(|r| r["country"] == "DE").unwrap();
    assert!(de["expires_at"].is_i64(), "{de}");
    assert_eq!(de["status"], "expired");
    let gb = all.iter().find(|r| r["id"] == dashboard.as_str()).unwrap();
    assert_eq!(
        gb["status"], "active",
        "the Dashboard's registration is untouched"
    );
    assert!(gb["expires_at"].is_null());
}

#[test]
fn a_us_registration_in_the_future_is_created_with_its_state() {
    let env = Env::new(
        "[tax]\n[[tax.registrations]]\ncountry = \"US\"\ntype = \"state_sales_tax\"\nstate = \"CA\"\nactive_from = 2031-01-01T00:00:00Z\n",
    );
    env.converge();
    let all = registrations(&env);
    assert_eq!(all.len(), 1);
    assert_eq!(all[0]["country_options"]["us"]["state"], "CA");
    assert_eq!(all[0]["country_options"]["us"]["type"], "state_sales_tax");
    assert_eq!(all[0]["active_from"], 1_924_992_000);
    assert_eq!(all[0]["status"], "scheduled");
}

const RATES: &str = r#"
[tax_rates.vat_de]
display_name = "VAT"
percentage = 19
inclusive = false
country = "DE"
tax_type = "vat"

[tax_rates.ny]
display_name = "Sales tax"
percentage = "8.875"
inclusive = false
country = "US"
state = "NY"
"#;

#[test]
fn tax_rates_update_in_place_and_a_percentage_change_replaces() {
    let env = Env::new(RATES);
    let plan = env.plan();
    assert!(
        plan.has("+ tax rate \"Sales tax\" (8.875%, exclusive)"),
        "{}",
        plan.stdout
    );
    env.converge();
    let ny = tax_rates(&env, "tax_rates.ny");
    assert_eq!(ny.len(), 1);
    assert_eq!(ny[0]["percentage"], 8.875);
    assert_eq!(ny[0]["state"], "NY");

    // A new display name is an update in place.
    env.set_catalog(&RATES.replace("display_name = \"VAT\"", "display_name = \"MwSt\""));
    let plan = env.plan();
    assert!(
        plan.has("display_name = \"VAT\" → \"MwSt\""),
        "{}",
        plan.stdout
    );
    assert!(plan.has("1 to update, 0 to replace"), "{}", plan.stdout);
    env.converge();
    let vat = tax_rates(&env, "tax_rates.vat_de");
    assert_eq!(vat.len(), 1);
    assert_eq!(vat[0]["display_name"], "MwSt");
    let old = vat[0]["id"].as_str().unwrap().to_owned();

    // A new percentage is a new rate; the old one is archived after it exists.
    env.set_catalog(
        &RATES
            .replace("display_name = \"VAT\"", "display_name = \"MwSt\"")
            .replace("percentage = 19", "percentage = 20"),
    );
    let plan = env.plan();
    assert!(
        plan.has("# tax_rates.vat_de will be replaced: Stripe cannot change a tax rate's percentage in place"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.has("percentage = 19% → 20%   # forces replacement"),
        "{}",
        plan.stdout
    );
    env.sandbox.clear_requests();
    env.converge();
    let writes: Vec<(String, String)> = env
        .sandbox
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST")
        .map(|r| (r.path, r.body))
        .collect();
    assert!(
        writes
            .iter()
            .all(|(_, body)| !body.contains("percentage") || body.contains("display_name")),
        "percentage is only ever sent on create: {writes:?}"
    );
    let create = writes
        .iter()
        .position(|(p, _)| p == "/v1/tax_rates")
        .unwrap();
    let archive = writes
        .iter()
        .position(|(p, _)| *p == format!("/v1/tax_rates/{old}"))
        .unwrap();
    assert!(create < archive, "{writes:?}");
    let vat = tax_rates(&env, "tax_rates.vat_de");
    assert_eq!(vat.len(), 2);
    let active: Vec<&Value> = vat.iter().filter(|r| r["active"] == true).collect();
    assert_eq!(active.len(), 1);
    assert_eq!(active[0]["percentage"], 20.0);
    assert!(
        vat.iter()
            .any(|r| r["id"] == old.as_str() && r["active"] == false)
    );

    // Removed from billing.toml: archived.
    env.set_catalog(
        &RATES[..RATES.find("[tax_rates.ny]").unwrap()]
            .replace("percentage = 19", "percentage = 20")
            .replace("display_name = \"VAT\"", "display_name = \"MwSt\""),
    );
    let plan = env.plan();
    assert!(
        plan.has("# tax_rates.ny will be archived: removed from billing.toml"),
        "{}",
        plan.stdout
    );
    env.converge();
    assert_eq!(tax_rates(&env, "tax_rates.ny")[0]["active"], false);
}

fn portal_catalog(extra: &str) -> String {
    format!(
        r#"{PRO}
[portal]
name = "Self-serve"
default_return_url = "https://acme.example/account"
[portal.business_profile]
headline = "Manage your Acme subscription"
privacy_policy_url = "https://acme.example/privacy"
[portal.features]
invoice_history = true
payment_method_update = true
customer_update = ["email", "address"]
subscription_cancel = {{ mode = "at_period_end", reasons = ["too_expensive", "other"] }}
subscription_update = {{ products = ["pro"], proration_behavior = "create_prorations" }}
{extra}"#
    )
}

#[test]
fn a_portal_is_created_with_its_products_and_prices() {
    let env = Env::new(&portal_catalog(""));
    let plan = env.plan();
    assert!(
        plan.has("+ portal configuration \"Self-serve\""),
        "{}",
        plan.stdout
    );
    assert!(
        plan.has("Stripe never makes an API-created configuration the account's default"),
        "{}",
        plan.stdout
    );
    env.converge();
    let config = portal_at(&env, "portals.default");
    assert_eq!(config["is_default"], false);
    assert_eq!(config["name"], "Self-serve");
    assert_eq!(config["default_return_url"], "https://acme.example/account");
    assert_eq!(
        config["business_profile"]["headline"],
        "Manage your Acme subscription"
    );
    assert_eq!(config["features"]["invoice_history"]["enabled"], true);
    assert_eq!(
        config["features"]["subscription_cancel"]["mode"],
        "at_period_end"
    );
    assert_eq!(
        config["features"]["subscription_update"]["proration_behavior"],
        "create_prorations"
    );
    let product = env.id("products.pro");
    let mut prices = vec![env.id("prices.pro.monthly"), env.id("prices.pro.annual")];
    prices.sort();
    assert_eq!(offered(&config), vec![(product, prices)]);

    // A feature turned off is an update in place of the same configuration.
    env.set_catalog(
        &portal_catalog("").replace("invoice_history = true", "invoice_history = false"),
    );
    let plan = env.plan();
    assert!(
        plan.has("features.invoice_history = true → false"),
        "{}",
        plan.stdout
    );
    env.converge();
    let updated = portal_at(&env, "portals.default");
    assert_eq!(updated["id"], config["id"]);
    assert_eq!(updated["features"]["invoice_history"]["enabled"], false);

    // Removed from billing.toml: deactivated.
    env.set_catalog(PRO);
    let plan = env.plan();
    assert!(
        plan.has("# portals.default will be deactivated: removed from billing.toml"),
        "{}",
        plan.stdout
    );
    env.converge();
    assert!(
        portals(&env)
            .iter()
            .any(|c| c["id"] == config["id"] && c["active"] == false)
    );
}

#[test]
fn a_replaced_price_is_repointed_in_the_portal_in_the_same_apply() {
    let env = Env::new(&portal_catalog(""));
    env.converge();
    let old = env.id("prices.pro.monthly");
    let config = portal_at(&env, "portals.default");
    let id = config["id"].as_str().unwrap().to_owned();

    env.set_catalog(&portal_catalog("").replace("amount = \"79.00\"", "amount = \"89.00\""));
    let plan = env.plan();
    assert!(plan.has("-/+ price $89.00 / month"), "{}", plan.stdout);
    assert!(
        plan.has("# portals.default will be updated in place"),
        "{}",
        plan.stdout
    );
    assert!(plan.has("(new prices.pro.monthly)"), "{}", plan.stdout);
    env.sandbox.clear_requests();
    env.converge();
    let new = env.id("prices.pro.monthly");
    assert_ne!(new, old);
    let offered = offered(&portal_at(&env, "portals.default"));
    assert!(offered[0].1.contains(&new), "{offered:?}");
    assert!(!offered[0].1.contains(&old), "{offered:?}");

    // New price, then the configuration, then the old price archived.
    let writes: Vec<(String, String)> = env
        .sandbox
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.status == 200)
        .map(|r| (r.path, r.body))
        .collect();
    let create = writes.iter().position(|(p, _)| p == "/v1/prices").unwrap();
    let repoint = writes
        .iter()
        .position(|(p, _)| *p == format!("/v1/billing_portal/configurations/{id}"))
        .unwrap();
    let archive = writes
        .iter()
        .position(|(p, b)| *p == format!("/v1/prices/{old}") && b.contains("active=false"))
        .unwrap();
    assert!(create < repoint && repoint < archive, "{writes:#?}");
}

#[test]
fn target_default_updates_the_accounts_default_configuration_in_place() {
    let catalog = format!(
        "{PRO}\n[portal]\ntarget = \"default\"\nbusiness_profile = {{ headline = \"Acme billing\" }}\n[portal.features]\ninvoice_history = true\nsubscription_update = {{ products = [{{ product = \"pro\", prices = [\"annual\"] }}] }}\n"
    );
    let env = Env::new(&catalog);
    let before = portals(&env);
    assert_eq!(
        before.len(),
        1,
        "every account starts with its default configuration"
    );
    let default_id = before[0]["id"].as_str().unwrap().to_owned();
    let plan = env.plan();
    assert!(
        plan.has(&format!(
            "~ the account's default portal configuration ({default_id})"
        )),
        "{}",
        plan.stdout
    );
    assert!(
        plan.has("billing takes over the account's default configuration"),
        "{}",
        plan.stdout
    );
    env.converge();
    let after = portals(&env);
    assert_eq!(after.len(), 1, "no configuration is created: {after:#?}");
    assert_eq!(after[0]["is_default"], true);
    assert_eq!(after[0]["features"]["invoice_history"]["enabled"], true);
    let annual = env.id("prices.pro.annual");
    assert_eq!(offered(&after[0])[0].1, vec![annual]);

    // Leaving billing.toml: released, never deactivated.
    env.set_catalog(PRO);
    let plan = env.plan();
    assert!(
        plan.has("the account's default configuration stays as it is; billing stops managing it"),
        "{}",
        plan.stdout
    );
    env.converge();
    let after = portals(&env);
    assert_eq!(after[0]["active"], true);
    assert!(
        after[0]["metadata"]["billing_key"].is_null(),
        "{}",
        after[0]
    );
}

#[test]
fn a_changed_head_office_line_keeps_the_lines_billing_toml_leaves_out() {
    let env = Env::new("[tax]\nhead_office = { city = \"Berlin\", country = \"DE\" }\n");
    env.converge();
    // The Dashboard completes the address.
    let res = Req::post(
        "/v1/tax/settings",
        "head_office[address][line1]=Unter den Linden 1&head_office[address][postal_code]=10117&head_office[address][city]=Berlin&head_office[address][country]=DE",
    )
    .send(&env.sandbox);
    assert_eq!(res.status, 200, "{}", res.body);
    env.set_catalog("[tax]\nhead_office = { city = \"Munich\", country = \"DE\" }\n");
    let plan = env.plan();
    assert!(
        plan.has("head_office.city = \"Berlin\" → \"Munich\""),
        "{}",
        plan.stdout
    );
    env.converge();
    let address = &get(&env, "/v1/tax/settings")["head_office"]["address"];
    assert_eq!(address["city"], "Munich");
    assert_eq!(address["line1"], "Unter den Linden 1", "{address}");
    assert_eq!(address["postal_code"], "10117", "{address}");
}

#[test]
fn an_ended_registration_declared_again_is_registered_again() {
    let declared = "[tax]\n[[tax.registrations]]\ncountry = \"DE\"\ntype = \"standard\"\n";
    let env = Env::new(declared);
    env.converge();
    env.sandbox.advance_clock(86_400).unwrap();
    env.set_catalog(&format!("{declared}ends_at = \"now\"\n"));
    env.converge();
    env.sandbox.advance_clock(86_400).unwrap();
    env.set_catalog(declared);
    let plan = env.plan();
    assert!(
        plan.has("+ tax registration DE standard"),
        "{}",
        plan.stdout
    );
    env.converge();
    let all = registrations(&env);
    assert_eq!(all.len(), 2, "{all:#?}");
    assert_eq!(
        all.iter().filter(|r| r["status"] == "active").count(),
        1,
        "{all:#?}"
    );
}

#[test]
fn a_scheduled_registration_ended_before_it_starts_never_starts() {
    let declared = "[tax]\n[[tax.registrations]]\ncountry = \"DE\"\ntype = \"standard\"\nactive_from = 2031-01-01T00:00:00Z\n";
    let env = Env::new(declared);
    env.converge();
    assert_eq!(registrations(&env)[0]["status"], "scheduled");
    env.set_catalog(&format!("{declared}ends_at = \"now\"\n"));
    let plan = env.plan();
    assert!(
        plan.has("billing.toml declares `ends_at` before the registration starts"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.has("active_from = 2031-01-01T00:00:00Z → now"),
        "{}",
        plan.stdout
    );
    env.converge();
    assert_eq!(registrations(&env)[0]["status"], "expired");
}

#[test]
fn a_portal_without_cancellation_reasons_is_created() {
    let env = Env::new(&format!(
        "{PRO}\n[portal]\n[portal.features]\nsubscription_cancel = true\ncustomer_update = []\n"
    ));
    env.converge();
    let config = portal_at(&env, "portals.default");
    assert_eq!(config["features"]["subscription_cancel"]["enabled"], true);
    assert_eq!(
        config["features"]["subscription_cancel"]["cancellation_reason"]["enabled"],
        false
    );
    // Reasons added, then removed again: updates in place.
    env.set_catalog(&format!(
        "{PRO}\n[portal]\n[portal.features]\nsubscription_cancel = {{ reasons = [\"other\"] }}\n"
    ));
    env.converge();
    env.set_catalog(&format!(
        "{PRO}\n[portal]\n[portal.features]\nsubscription_cancel = true\n"
    ));
    env.converge();
}

#[test]
fn two_catalogs_cannot_both_manage_the_default_configuration() {
    let portal = "\n[portal]\ntarget = \"default\"\n[portal.features]\ninvoice_history = true\n";
    let env = Env::new(&format!("namespace = \"a\"\n{portal}"));
    env.converge();
    env.set_catalog(&format!("namespace = \"b\"\n{portal}"));
    let plan = env.plan();
    assert_eq!(plan.code, 1, "{}{}", plan.stdout, plan.stderr);
    assert!(
        plan.stderr
            .contains("is managed by the catalog with namespace \"a\""),
        "{}",
        plan.stderr
    );
}
