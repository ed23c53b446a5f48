//! `billing import` against an account built the way the Dashboard builds one (through the
//! sandbox's API, without billing's marker): the file it writes validates, plans only
//! adoptions, applies without creating or replacing anything, and is the same every time.

use std::collections::{BTreeMap, BTreeSet};

use billing::sandbox::SandboxConfig;
use billing::sandbox::seed::{SeedPrice, SeedProduct, write_state};
use serde_json::Value;

use crate::engine::{Env, Run};
use crate::sandbox::support::{
    Req, coupon, customer, price, product, promotion_code, start_with, unix_now,
};
use crate::support::{Workdir, repository_catalog};

/// Every object of a list endpoint, all pages.
fn list(env: &Env, path: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let sep = if path.contains('?') { '&' } else { '?' };
        let mut target = format!("{path}{sep}limit=100");
        if let Some(a) = &after {
            target.push_str(&format!("&starting_after={a}"));
        }
        let res = Req::get(&target).send(&env.sandbox);
        assert_eq!(res.status, 200, "{}", res.body);
        let body = res.json();
        let data = body["data"].as_array().cloned().unwrap_or_default();
        after = data
            .last()
            .and_then(|o| o["id"].as_str())
            .map(str::to_owned);
        out.extend(data);
        if !body["has_more"].as_bool().unwrap_or(false) {
            return out;
        }
    }
}

/// Every catalog object in the account, by id, with its marker (`billing_key`, if any).
fn objects(env: &Env) -> BTreeMap<String, Option<String>> {
    let mut all = Vec::new();
    for path in [
        "/v1/products",
        "/v1/prices?active=true",
        "/v1/prices?active=false",
        "/v1/coupons",
        "/v1/promotion_codes",
        "/v1/tax_rates",
    ] {
        all.extend(list(env, path));
    }
    all.into_iter()
        .map(|o| {
            let id = o["id"].as_str().unwrap_or_default().to_owned();
            let marker = o["metadata"]["billing_key"].as_str().map(str::to_owned);
            (id, marker)
        })
        .collect()
}

fn post(env: &Env, path: &str, body: &str) -> Value {
    let res = Req::post(path, body).send(&env.sandbox);
    assert_eq!(res.status, 200, "POST {path} {body}: {}", res.body);
    res.json()
}

/// What the Dashboard-like account holds, by what the tests call it.
struct Account {
    ids: BTreeMap<&'static str, String>,
}

impl Account {
    fn id(&self, name: &str) -> &str {
        &self.ids[name]
    }
}

/// Builds an account the way a team that never used billing would have it.
fn dashboard_account(env: &Env) -> Account {
    let mut ids = BTreeMap::new();
    let sb = &env.sandbox;
    // Pro: description, marketing features, metadata; a monthly price with a lookup key, a
    // tax behaviour and a euro amount, an annual one without a lookup key, and an archived
    // price from an older pricing.
    let pro = product(
        sb,
        "name=Pro&description=For%20growing%20teams&marketing_features[0][name]=Unlimited%20projects&marketing_features[1][name]=Priority%20support&metadata[tier]=2&tax_code=txcd_10103001",
    );
    let pro_monthly = price(
        sb,
        &format!(
            "product={pro}&currency=usd&unit_amount=7900&recurring[interval]=month&lookup_key=pro_monthly&tax_behavior=exclusive&currency_options[eur][unit_amount]=7200&currency_options[eur][tax_behavior]=exclusive&nickname=Pro%20monthly"
        ),
    );
    let pro_annual = price(
        sb,
        &format!("product={pro}&currency=usd&unit_amount=79000&recurring[interval]=year"),
    );
    let old = price(
        sb,
        &format!(
            "product={pro}&currency=usd&unit_amount=6900&recurring[interval]=month&lookup_key=pro_monthly_2023"
        ),
    );
    post(env, &format!("/v1/prices/{old}"), "active=false");
    post(
        env,
        &format!("/v1/products/{pro}"),
        &format!("default_price={pro_monthly}"),
    );
    // Two products with the same name (made in the same second: the smaller id keeps the
    // plain key), and two without a description.
    let team_a = product(sb, "name=Team");
    let team_b = product(sb, "name=Team");
    let starter = product(sb, "name=Starter");
    let starter_monthly = price(
        sb,
        &format!(
            "product={starter}&currency=usd&unit_amount=1900&recurring[interval]=month&lookup_key=starter_monthly"
        ),
    );
    let starter_eu = product(sb, "name=Starter%20EU&metadata[region]=eu");
    let starter_eu_monthly = price(
        sb,
        &format!("product={starter_eu}&currency=eur&unit_amount=1700&recurring[interval]=month"),
    );
    // A one-time price with a nickname and no lookup key.
    let onboarding = product(
        sb,
        "name=Onboarding%20%22white%20glove%22%20%E2%80%94%20setup",
    );
    let onboarding_once = price(
        sb,
        &format!("product={onboarding}&currency=usd&unit_amount=49900&nickname=Setup%20fee"),
    );
    // Usage: graduated tiers (flat, then fractions of a cent) in two currencies, volume
    // tiers, and a metered price (made with an API version that allowed one without a meter),
    // which billing.toml cannot declare.
    let api = product(sb, "name=API&unit_label=request");
    let graduated = price(
        sb,
        &format!(
            "product={api}&currency=usd&recurring[interval]=month&billing_scheme=tiered&tiers_mode=graduated&lookup_key=api_requests\
             &tiers[0][up_to]=10000&tiers[0][flat_amount]=0\
             &tiers[1][up_to]=inf&tiers[1][unit_amount_decimal]=0.05\
             &currency_options[eur][tiers][0][up_to]=10000&currency_options[eur][tiers][0][flat_amount]=0\
             &currency_options[eur][tiers][1][up_to]=inf&currency_options[eur][tiers][1][unit_amount_decimal]=0.04"
        ),
    );
    let volume = price(
        sb,
        &format!(
            "product={api}&currency=usd&recurring[interval]=year&billing_scheme=tiered&tiers_mode=volume&lookup_key=api_seats\
             &tiers[0][up_to]=10&tiers[0][unit_amount]=1000\
             &tiers[1][up_to]=inf&tiers[1][unit_amount]=800&tiers[1][flat_amount]=500"
        ),
    );
    let res = Req::post(
        "/v1/prices",
        &format!(
            "product={api}&currency=usd&unit_amount=1&recurring[interval]=month&recurring[usage_type]=metered"
        ),
    )
    .header("Stripe-Version", Some("2025-02-24.acacia"))
    .send(sb);
    assert_eq!(res.status, 200, "{}", res.body);
    let metered = res.json()["id"].as_str().unwrap_or_default().to_owned();
    // Yen have no minor unit.
    let japan = product(sb, "name=Pro%20(Japan)");
    let yen = price(
        sb,
        &format!(
            "product={japan}&currency=jpy&unit_amount=9800&recurring[interval]=month&lookup_key=pro_jp_monthly"
        ),
    );
    // An archived product with its archived price.
    let legacy = product(sb, "name=Legacy");
    let legacy_price = price(
        sb,
        &format!("product={legacy}&currency=usd&unit_amount=500&lookup_key=legacy"),
    );
    post(env, &format!("/v1/prices/{legacy_price}"), "active=false");
    post(env, &format!("/v1/products/{legacy}"), "active=false");
    // Another team's catalog in the same account.
    let theirs = product(
        sb,
        "name=Theirs&metadata[billing_key]=products.theirs&metadata[billing_ns]=other",
    );
    price(
        sb,
        &format!(
            "product={theirs}&currency=usd&unit_amount=100&metadata[billing_key]=prices.theirs.once&metadata[billing_ns]=other"
        ),
    );
    // Coupons: a repeating percentage for Pro, an amount in two currencies.
    let now = unix_now();
    let launch = coupon(
        sb,
        &format!(
            "name=Launch%2020&percent_off=20&duration=repeating&duration_in_months=3&max_redemptions=500&redeem_by={}&applies_to[products][0]={pro}",
            now + 60 * 86_400
        ),
    );
    let ten = coupon(
        sb,
        "id=TENOFF&name=Ten%20off&amount_off=1000&currency=usd&currency_options[eur][amount_off]=900&metadata[campaign]=spring",
    );
    // Codes: restrictions, one for a single customer, one deactivated.
    let launch20 = promotion_code(
        sb,
        &format!(
            "promotion[type]=coupon&promotion[coupon]={launch}&code=LAUNCH20&max_redemptions=50&expires_at={}\
             &restrictions[first_time_transaction]=true&restrictions[minimum_amount]=2000&restrictions[minimum_amount_currency]=usd\
             &restrictions[currency_options][eur][minimum_amount]=1800",
            now + 30 * 86_400
        ),
    );
    let alice = customer(sb, "name=Alice");
    let ten_alice = promotion_code(
        sb,
        &format!("promotion[type]=coupon&promotion[coupon]={ten}&code=ALICE10&customer={alice}"),
    );
    let old_code = promotion_code(
        sb,
        &format!("promotion[type]=coupon&promotion[coupon]={ten}&code=OLD10"),
    );
    post(
        env,
        &format!("/v1/promotion_codes/{old_code}"),
        "active=false",
    );
    // Tax: a rate, an archived rate, settings and a registration.
    let vat = post(
        env,
        "/v1/tax_rates",
        "display_name=VAT&percentage=19&inclusive=false&country=DE&tax_type=vat&description=German%20VAT",
    )["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let old_rate = post(
        env,
        "/v1/tax_rates",
        "display_name=Sales%20tax&percentage=8.875&inclusive=false&country=US&state=NY",
    )["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    post(env, &format!("/v1/tax_rates/{old_rate}"), "active=false");
    post(
        env,
        "/v1/tax/settings",
        "defaults[tax_behavior]=exclusive&head_office[address][country]=DE&head_office[address][city]=Berlin",
    );
    post(
        env,
        "/v1/tax/registrations",
        "country=DE&country_options[de][type]=standard&active_from=now",
    );
    for (name, id) in [
        ("pro", pro),
        ("pro_monthly", pro_monthly),
        ("pro_annual", pro_annual),
        ("old", old),
        ("team_a", team_a),
        ("team_b", team_b),
        ("starter", starter),
        ("starter_monthly", starter_monthly),
        ("starter_eu", starter_eu),
        ("starter_eu_monthly", starter_eu_monthly),
        ("onboarding", onboarding),
        ("onboarding_once", onboarding_once),
        ("api", api),
        ("graduated", graduated),
        ("volume", volume),
        ("metered", metered),
        ("japan", japan),
        ("yen", yen),
        ("legacy", legacy),
        ("legacy_price", legacy_price),
        ("theirs", theirs),
        ("launch", launch),
        ("ten", ten),
        ("launch20", launch20),
        ("ten_alice", ten_alice),
        ("old_code", old_code),
        ("vat", vat),
        ("old_rate", old_rate),
    ] {
        ids.insert(name, id);
    }
    Account { ids }
}

/// An environment with no billing.toml at all: `billing import` starts from nothing.
fn empty_env() -> Env {
    let env = Env::new("");
    std::fs::remove_file(env.dir.path().join("billing.toml")).expect("remove billing.toml");
    env
}

/// The objects an import wrote: products, prices, coupons, promotion codes, tax rates.
const IMPORTED: usize = 8 + 8 + 2 + 2 + 1;

#[test]
fn a_dashboard_account_is_imported_and_adopted_without_changing_an_object() {
    let env = empty_env();
    let account = dashboard_account(&env);

    let run = env.billing(&["import", "--out", "billing.toml"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout.is_empty(),
        "the catalog went to the file: {}",
        run.stdout
    );
    let report = &run.stderr;
    assert!(
        report.contains(
            "into billing.toml: 8 products, 8 prices, 2 coupons, 2 promotion codes, 1 tax rate and 1 tax registration, and Stripe Tax settings."
        ),
        "{report}"
    );
    // What was left out, and why.
    assert!(
        report.contains(&format!(
            "  price {}: recurring.usage_type: a metered (usage-based) price, which billing.toml cannot declare",
            account.id("metered")
        )),
        "{report}"
    );
    assert!(
        report.contains("  namespace \"other\": 1 product and 1 price\n"),
        "{report}"
    );
    assert!(
        report.contains(
            "Archived, left out: 1 product, 1 promotion code and 1 tax rate: use --include-archived"
        ),
        "{report}"
    );
    assert!(
        report
            .contains("2 archived prices left out: billing.toml cannot declare an archived price"),
        "{report}"
    );
    // Prices adopted by id, and the lookup key adoption gives them.
    for (address, name, lookup_key) in [
        ("prices.pro.annual", "pro_annual", "pro_annual"),
        (
            "prices.starter_eu.monthly",
            "starter_eu_monthly",
            "starter_eu_monthly",
        ),
        (
            "prices.onboarding_white_glove_setup.one_time",
            "onboarding_once",
            "onboarding_white_glove_setup_one_time",
        ),
    ] {
        assert!(
            report.contains(&format!(
                "  {address} ({}) gets {lookup_key:?}",
                account.id(name)
            )),
            "{address}: {report}"
        );
    }
    let second_team = account.id("team_a").max(account.id("team_b"));
    assert!(
        report.contains(&format!(
            "Renamed (the key was taken):\n  products.team_2 ({second_team}): \"team\" was taken\n"
        )),
        "{report}"
    );
    assert!(
        !report.contains("will show more than adoptions"),
        "the import's own check of the plan: {report}"
    );
    assert!(
        report.ends_with("Run `billing plan` to review the adoptions.\n"),
        "{report}"
    );

    let text = env.dir.read("billing.toml");
    assert!(
        text.starts_with("# Written by `billing import` on "),
        "{text}"
    );
    for expected in [
        format!("[products.pro]\nid = \"{}\"\nname = \"Pro\"\ndescription = \"For growing teams\"\ntax_code = \"txcd_10103001\"\nfeatures = [\"Unlimited projects\", \"Priority support\"]\ndefault_price = \"monthly\"\n", account.id("pro")),
        "[products.pro.prices.monthly]\namount = \"79.00\"\ncurrency = \"usd\"\ninterval = \"month\"\ntax_behavior = \"exclusive\"\nlookup_key = \"pro_monthly\"\nnickname = \"Pro monthly\"\n".to_owned(),
        "[products.pro.prices.monthly.currency_options]\neur = { amount = \"72.00\", tax_behavior = \"exclusive\" }\n".to_owned(),
        "name = \"Onboarding \\\"white glove\\\" — setup\"".to_owned(),
        "[products.pro_japan.prices.pro_jp_monthly]\namount = \"9800\"\ncurrency = \"jpy\"".to_owned(),
        "  { up_to = \"inf\", unit_amount_decimal = \"0.05\" },".to_owned(),
        "[products.api.prices.requests.currency_options.eur]".to_owned(),
        "  { up_to = \"inf\", amount = \"8.00\", flat_amount = \"5.00\" },".to_owned(),
        "[coupons.ten_off]\nid = \"TENOFF\"\nname = \"Ten off\"\namount_off = \"10.00\"\ncurrency = \"usd\"\nduration = \"once\"\n".to_owned(),
        format!("[coupons.launch_20]\nid = \"{}\"", account.id("launch")),
        "applies_to = [\"pro\"]".to_owned(),
        "[promotion_codes.LAUNCH20]\ncoupon = \"launch_20\"\nmax_redemptions = 50\n".to_owned(),
        "first_time_transaction = true\nminimum_amount = \"20.00\"\nminimum_amount_currency = \"usd\"\n\n[promotion_codes.LAUNCH20.currency_options]\neur = \"18.00\"\n".to_owned(),
        format!("[tax_rates.vat_de]\nid = \"{}\"\ndisplay_name = \"VAT\"\npercentage = 19\ninclusive = false\ncountry = \"DE\"\ntax_type = \"vat\"\ndescription = \"German VAT\"\n", account.id("vat")),
        "[tax]\ndefault_tax_behavior = \"exclusive\"\nhead_office = { city = \"Berlin\", country = \"DE\" }\nregistrations = [\n  { country = \"DE\", type = \"standard\" },\n]\n".to_owned(),
    ] {
        assert!(text.contains(&expected), "missing:\n{expected}\nin:\n{text}");
    }
    for absent in [
        "metered",
        "Theirs",
        "Legacy",
        "OLD10",
        "Sales tax",
        "pro_monthly_2023",
    ] {
        assert!(!text.contains(absent), "{absent} must be left out:\n{text}");
    }

    let validate = env.billing(&["validate"]);
    assert_eq!(validate.code, 0, "{}{}", validate.stdout, validate.stderr);

    // The plan adopts each imported object, and does nothing else.
    let before = objects(&env);
    let plan = env.billing(&["plan", "--format", "json"]);
    assert_eq!(plan.code, 0, "{}{}", plan.stdout, plan.stderr);
    let doc: Value = serde_json::from_str(&plan.stdout).expect("the plan is JSON");
    let changes = doc["resource_changes"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let actions: BTreeSet<(String, String)> = changes
        .iter()
        .map(|c| {
            (
                c["action"].as_str().unwrap_or_default().to_owned(),
                c["address"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    assert!(
        actions.iter().all(|(action, _)| action == "adopt"),
        "only adoptions: {actions:#?}"
    );
    assert_eq!(
        changes.len(),
        IMPORTED,
        "one adoption per object: {actions:#?}"
    );
    let adopted: BTreeSet<&str> = changes.iter().filter_map(|c| c["id"].as_str()).collect();
    for name in [
        "pro",
        "pro_annual",
        "yen",
        "graduated",
        "ten",
        "launch20",
        "vat",
    ] {
        assert!(
            adopted.contains(account.id(name)),
            "{name} is adopted: {adopted:?}"
        );
    }

    env.apply();
    let after_plan = env.plan();
    assert_eq!(
        after_plan.code, 0,
        "{}{}",
        after_plan.stdout, after_plan.stderr
    );
    // Every object kept its id: nothing was created, replaced or deleted; the imported ones
    // now carry billing's marker.
    let after = objects(&env);
    assert_eq!(
        before.keys().collect::<Vec<_>>(),
        after.keys().collect::<Vec<_>>(),
        "the same objects, with the same ids"
    );
    for id in &adopted {
        assert!(after[*id].is_some(), "{id} carries billing's marker");
    }
    assert_eq!(after[account.id("metered")], None, "left alone");
    assert_eq!(
        after[account.id("pro_annual")].as_deref(),
        Some("prices.pro.annual")
    );
    // Now billing manages them, importing again gives a catalog that plans nothing.
    let again = env.billing(&["import", "--out", "billing.toml", "--force"]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(env.plan().code, 0, "{}", env.dir.read("billing.toml"));
}

#[test]
fn importing_twice_gives_the_same_bytes_and_an_existing_file_is_kept() {
    let env = empty_env();
    dashboard_account(&env);
    let first: Run = env.billing(&["import"]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    assert!(
        first.stdout.contains("[products.pro]"),
        "the catalog goes to stdout"
    );
    assert!(
        first.stderr.contains("Imported from "),
        "the report goes to stderr"
    );
    assert!(!first.stdout.contains("Imported from "), "{}", first.stdout);
    let second = env.billing(&["import"]);
    assert_eq!(first.stdout, second.stdout, "byte for byte");

    let written = env.billing(&["import", "--out", "catalog.toml"]);
    assert_eq!(written.code, 0, "{}", written.stderr);
    assert_eq!(env.dir.read("catalog.toml"), first.stdout);
    env.dir.write("catalog.toml", "# mine\n");
    let refused = env.billing(&["import", "--out", "catalog.toml"]);
    assert_eq!(refused.code, 1);
    assert!(
        refused
            .stderr
            .contains("catalog.toml already exists: nothing was read or written"),
        "{}",
        refused.stderr
    );
    assert!(refused.stderr.contains("--force"), "{}", refused.stderr);
    assert_eq!(env.dir.read("catalog.toml"), "# mine\n");
    let forced = env.billing(&["import", "--out", "catalog.toml", "--force"]);
    assert_eq!(forced.code, 0, "{}", forced.stderr);
    assert_eq!(env.dir.read("catalog.toml"), first.stdout);
}

#[test]
fn include_archived_writes_archived_objects_inactive() {
    let env = empty_env();
    let account = dashboard_account(&env);
    let run = env.billing(&["import", "--include-archived", "--out", "billing.toml"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let text = env.dir.read("billing.toml");
    assert!(
        text.contains(&format!(
            "[products.legacy]\nid = \"{}\"\nname = \"Legacy\"\nactive = false\n",
            account.id("legacy")
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "[tax_rates.sales_tax_us_ny]\nid = \"{}\"\ndisplay_name = \"Sales tax\"\npercentage = 8.875\ninclusive = false\nactive = false\n",
            account.id("old_rate")
        )),
        "{text}"
    );
    // Prices cannot be declared archived; an inactive code billing does not manage cannot be
    // adopted (codes are adopted by an active code).
    assert!(!text.contains("pro_monthly_2023"), "{text}");
    assert!(!text.contains("OLD10"), "{text}");
    assert!(
        run.stderr.contains(&format!(
            "  promotion code {}: OLD10 is inactive, and billing adopts only active codes",
            account.id("old_code")
        )),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("2 archived prices left out: billing.toml cannot declare an archived price"),
        "{}",
        run.stderr
    );
    let validate = env.billing(&["validate"]);
    assert_eq!(validate.code, 0, "{}{}", validate.stdout, validate.stderr);
    let plan = env.billing(&["plan", "--format", "json"]);
    assert_eq!(plan.code, 0, "{}{}", plan.stdout, plan.stderr);
    let doc: Value = serde_json::from_str(&plan.stdout).expect("the plan is JSON");
    let actions: Vec<(String, String)> = doc["resource_changes"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|c| {
            (
                c["action"].as_str().unwrap_or_default().to_owned(),
                c["address"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    assert!(actions.iter().all(|(a, _)| a == "adopt"), "{actions:#?}");
    assert_eq!(actions.len(), IMPORTED + 2, "{actions:#?}");
}

#[test]
fn duplicate_lookup_keys_are_reported_not_trusted() {
    // Stripe documents lookup keys as unique across an account's prices, and the sandbox
    // enforces it on every write; an account written straight into a state file can still
    // hold a duplicate, and import must not assume it cannot happen.
    let dir = Workdir::new();
    let state = dir.path().join("state.json");
    let now = unix_now();
    let products = [SeedProduct {
        name: "Pro".into(),
        created: now - 100,
        active: true,
        ..SeedProduct::default()
    }];
    let seed_price = |created: i64, interval: &str, lookup_key: &str| SeedPrice {
        product: 0,
        created,
        active: true,
        currency: "usd".into(),
        unit_amount: 1000,
        interval: Some(interval.into()),
        lookup_key: Some(lookup_key.into()),
        ..SeedPrice::default()
    };
    let prices = [
        seed_price(now - 90, "month", "pro"),
        seed_price(now - 80, "year", "pro"),
        seed_price(now - 70, "month", "pro_monthly"),
    ];
    let seeded = write_state(&state, &products, &prices).expect("state written");
    let env = Env {
        dir,
        sandbox: start_with(SandboxConfig {
            from: Some(state),
            ..SandboxConfig::default()
        }),
    };
    let run = env.billing(&["import", "--out", "billing.toml"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let mut dup = [seeded.prices[0].clone(), seeded.prices[1].clone()];
    dup.sort();
    assert!(
        run.stderr.contains(&format!(
            "Duplicate lookup keys (Stripe keeps lookup keys unique; these prices share one, so none of them is written):\n  \"pro\": {}\n",
            dup.join(", ")
        )),
        "{}",
        run.stderr
    );
    let text = env.dir.read("billing.toml");
    assert!(text.contains("lookup_key = \"pro_monthly\""), "{text}");
    assert!(!text.contains("lookup_key = \"pro\""), "{text}");
    assert_eq!(env.billing(&["validate"]).code, 0);
}

#[test]
fn an_account_billing_manages_is_imported_at_its_addresses_and_plans_nothing() {
    // This repository's catalog (every kind of entry, a managed portal configuration, tax
    // settings and registrations), applied to the embedded sandbox, then imported over
    // billing.toml: its settings are carried over and the plan is empty.
    let dir = Workdir::with_catalog(&repository_catalog());
    let billing = |args: &[&str]| -> Run {
        dir.billing()
            .args(args)
            .output()
            .expect("billing runs")
            .into()
    };
    let apply = billing(&["apply", "--yes"]);
    assert_eq!(apply.code, 0, "{}{}", apply.stdout, apply.stderr);
    let import = billing(&["import", "--out", "billing.toml", "--force"]);
    assert_eq!(import.code, 0, "{}", import.stderr);
    assert!(!import.stderr.contains("Skipped"), "{}", import.stderr);
    assert!(
        !import.stderr.contains("will show more than adoptions"),
        "{}",
        import.stderr
    );
    let text = dir.read("billing.toml");
    for expected in [
        "namespace = \"acme\"\ndefault_environment = \"local\"\nignore_metadata = [\"crm_*\"]\n",
        "[environments.live]\nmode = \"live\"",
        "[products.pro.prices.monthly]\namount = \"79.00\"",
        "[coupons.launch20]",
        "[promotion_codes.LAUNCH20]\ncoupon = \"launch20\"",
        "[portal]\nname = \"Self-serve\"",
        "{ product = \"pro\", prices = [\"annual\", \"monthly\"] },",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
    let plan = billing(&["plan", "--detailed-exitcode"]);
    assert_eq!(plan.code, 0, "{}{}\n{text}", plan.stdout, plan.stderr);
    assert!(plan.stdout.contains("No changes"), "{}", plan.stdout);
}

#[test]
fn a_coupon_that_names_a_product_twice_applies_to_it_once() {
    // `applies_to[products]` is a list: a script can name a product twice. billing.toml lists
    // each product once, and the coupon is adopted as it is.
    let env = empty_env();
    let pro = product(&env.sandbox, "name=Pro");
    let twice = coupon(
        &env.sandbox,
        &format!(
            "id=PRO10&percent_off=10&applies_to[products][0]={pro}&applies_to[products][1]={pro}"
        ),
    );
    let run = env.billing(&["import", "--out", "billing.toml"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!run.stderr.contains("Skipped"), "{}", run.stderr);
    let text = env.dir.read("billing.toml");
    assert!(
        text.contains("[coupons.pro10]\nid = \"PRO10\"\npercent_off = 10\nduration = \"once\"\napplies_to = [\"pro\"]\n"),
        "{text}"
    );
    let plan = env.billing(&["plan", "--format", "json"]);
    assert_eq!(plan.code, 0, "{}{}", plan.stdout, plan.stderr);
    let doc: Value = serde_json::from_str(&plan.stdout).expect("the plan is JSON");
    let changes = doc["resource_changes"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let actions: Vec<(&str, &str)> = changes
        .iter()
        .map(|c| {
            (
                c["action"].as_str().unwrap_or_default(),
                c["address"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        actions,
        [("adopt", "products.pro"), ("adopt", "coupons.pro10")],
        "{}",
        plan.stdout
    );
    env.converge();
    assert_eq!(
        env.current("coupons.pro10")["id"],
        twice,
        "the same coupon, not a replacement"
    );
}
