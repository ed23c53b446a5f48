//! `billing import` against an account built the way the Dashboard builds one (through the
//! sandbox's API, without billing's marker): the file it writes validates, plans only
//! adoptions, applies without creating or replacing anything, and is the same every time.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;
use stripe_sandbox::SandboxConfig;
use stripe_sandbox::seed::{SeedPrice, SeedProduct, write_state};
use stripe_sandbox::test_support::{
    Req, coupon, customer, price, product, promotion_code, start_with, unix_now,
};

use crate::engine::{Env, Run};
use crate::support::accounts::{Fate, Fuzz, Made};
use crate::support::{MARKED_LISTS, Workdir, repository_catalog};

/// Every catalog object in the account, by id, with its marker (`billing_key`, if any).
fn objects(env: &Env) -> BTreeMap<String, Option<String>> {
    let mut all = Vec::new();
    for path in MARKED_LISTS {
        all.extend(env.list(path));
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
            "into billing.toml: 8 products, 8 prices, 2 coupons, 2 promotion codes, 1 tax registration and 1 tax rate, and Stripe Tax settings."
        ),
        "{report}"
    );
    // What was left out, and why.
    assert!(
        report.contains(&format!(
            "  price {}: recurring.usage_type: a legacy metered price without a meter, which Stripe no longer attaches to new subscriptions",
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
        // The ids of the account read are its environment's: under `overrides.test`.
        "[environments.test]\nmode = \"test\"\nsecret_key_env = \"STRIPE_SECRET_KEY\"\napi_base = \"http://127.0.0.1:".to_owned(),
        "[products.pro]\nname = \"Pro\"\ndescription = \"For growing teams\"\ntax_code = \"txcd_10103001\"\nfeatures = [\"Unlimited projects\", \"Priority support\"]\ndefault_price = \"monthly\"\n".to_owned(),
        format!("[products.pro.overrides.test]\nid = \"{}\"\n", account.id("pro")),
        "[products.pro.prices.monthly]\namount = \"79.00\"\ncurrency = \"usd\"\ninterval = \"month\"\ntax_behavior = \"exclusive\"\nlookup_key = \"pro_monthly\"\nnickname = \"Pro monthly\"\n".to_owned(),
        "[products.pro.prices.monthly.currency_options]\neur = { amount = \"72.00\", tax_behavior = \"exclusive\" }\n".to_owned(),
        "name = \"Onboarding \\\"white glove\\\" — setup\"".to_owned(),
        "[products.pro_japan.prices.pro_jp_monthly]\namount = \"9800\"\ncurrency = \"jpy\"".to_owned(),
        "  { up_to = \"inf\", unit_amount_decimal = \"0.05\" },".to_owned(),
        "[products.api.prices.requests.currency_options.eur]".to_owned(),
        "  { up_to = \"inf\", amount = \"8.00\", flat_amount = \"5.00\" },".to_owned(),
        "[coupons.ten_off]\nname = \"Ten off\"\namount_off = \"10.00\"\ncurrency = \"usd\"\nduration = \"once\"\n".to_owned(),
        "[coupons.ten_off.overrides.test]\nid = \"TENOFF\"\n".to_owned(),
        format!("[coupons.launch_20.overrides.test]\nid = \"{}\"", account.id("launch")),
        "applies_to = [\"pro\"]".to_owned(),
        "[promotion_codes.LAUNCH20]\ncoupon = \"launch_20\"\nmax_redemptions = 50\n".to_owned(),
        "first_time_transaction = true\nminimum_amount = \"20.00\"\nminimum_amount_currency = \"usd\"\n\n[promotion_codes.LAUNCH20.currency_options]\neur = \"18.00\"\n".to_owned(),
        format!("[tax_rates.vat_de]\ndisplay_name = \"VAT\"\npercentage = 19\ninclusive = false\ncountry = \"DE\"\ntax_type = \"vat\"\ndescription = \"German VAT\"\n\n[tax_rates.vat_de.overrides.test]\nid = \"{}\"\n", account.id("vat")),
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

    let validate = env.validate();
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
            "[products.legacy]\nname = \"Legacy\"\nactive = false\n\n[products.legacy.overrides.test]\nid = \"{}\"\n",
            account.id("legacy")
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "[tax_rates.sales_tax_us_ny]\ndisplay_name = \"Sales tax\"\npercentage = 8.875\ninclusive = false\nactive = false\ncountry = \"US\"\nstate = \"NY\"\n\n[tax_rates.sales_tax_us_ny.overrides.test]\nid = \"{}\"\n",
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
    let validate = env.validate();
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
    assert_eq!(env.validate().code, 0);
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
        text.contains("[coupons.pro10]\npercent_off = 10\nduration = \"once\"\napplies_to = [\"pro\"]\n\n[coupons.pro10.overrides.test]\nid = \"PRO10\"\n"),
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

#[test]
fn archived_objects_billing_would_forget_are_written_so_the_plan_stays_empty() {
    // Declared `active = false` with `on_remove = "forget"`, billing archived them and records
    // the forget: left out of the imported file, the plan would forget them (remove their
    // marker) instead of leaving them as they are, with or without --include-archived.
    let catalog = |pro_active: bool| {
        format!(
            "[products.legacy]\nname = \"Legacy\"\nactive = false\non_remove = \"forget\"\n\n\
             [products.pro]\nname = \"Pro\"\nactive = {pro_active}\n\n\
             [products.pro.prices.monthly]\namount = \"9.00\"\ncurrency = \"usd\"\ninterval = \"month\"\non_remove = \"forget\"\n\n\
             [tax_rates.old]\ndisplay_name = \"Old VAT\"\npercentage = 16\ninclusive = false\nactive = false\non_remove = \"forget\"\n"
        )
    };
    let env = Env::new(&catalog(true));
    env.apply();
    env.set_catalog(&catalog(false));
    env.converge();
    for args in [
        &["import", "--out", "billing.toml", "--force"][..],
        &[
            "import",
            "--out",
            "billing.toml",
            "--force",
            "--include-archived",
        ],
    ] {
        let run = env.billing(args);
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert!(
            !run.stderr.contains("will show more than adoptions"),
            "{}",
            run.stderr
        );
        let text = env.dir.read("billing.toml");
        for expected in [
            "name = \"Legacy\"\nactive = false\non_remove = \"forget\"\n",
            "name = \"Pro\"\nactive = false\n",
            "[products.pro.prices.monthly]\namount = \"9.00\"",
            "[tax_rates.old]\ndisplay_name = \"Old VAT\"\npercentage = 16\ninclusive = false\nactive = false\non_remove = \"forget\"\n",
        ] {
            assert!(
                text.contains(expected),
                "{args:?}: missing {expected:?} in:\n{text}"
            );
        }
        let plan = env.plan();
        assert_eq!(
            plan.code, 0,
            "{args:?}: {}{}\n{text}",
            plan.stdout, plan.stderr
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Randomized round trip: random Dashboard-like accounts, imported, planned, applied.

/// The seeds the randomized round trip runs: `BILLING_IMPORT_SEEDS` is a count (`200`: seeds
/// 0 to 199), a range (`40..60`) or a list (`3,17`); 25 seeds by default.
fn import_seeds() -> Vec<u64> {
    let Ok(spec) = std::env::var("BILLING_IMPORT_SEEDS") else {
        return (0..25).collect();
    };
    let spec = spec.trim();
    if let Some((a, b)) = spec.split_once("..") {
        let a: u64 = a
            .trim()
            .parse()
            .expect("BILLING_IMPORT_SEEDS: a range A..B");
        let b: u64 = b
            .trim()
            .parse()
            .expect("BILLING_IMPORT_SEEDS: a range A..B");
        return (a..b).collect();
    }
    if spec.contains(',') {
        return spec
            .split(',')
            .filter(|s| !s.trim().is_empty())
            .map(|s| {
                s.trim()
                    .parse()
                    .expect("BILLING_IMPORT_SEEDS: a list of seeds")
            })
            .collect();
    }
    let n: u64 = spec
        .parse()
        .expect("BILLING_IMPORT_SEEDS: a count, A..B or a list");
    (0..n).collect()
}

/// Every catalog object's marker: id → (`billing_key`, `billing_ns`).
fn markers(env: &Env) -> BTreeMap<String, (Option<String>, Option<String>)> {
    let mut all = Vec::new();
    for path in MARKED_LISTS {
        all.extend(env.list(path));
    }
    all.into_iter()
        .map(|o| {
            let id = o["id"].as_str().unwrap_or_default().to_owned();
            let field = |k: &str| o["metadata"][k].as_str().map(str::to_owned);
            (id, (field("billing_key"), field("billing_ns")))
        })
        .collect()
}

/// The ids in the report's "Skipped" section.
fn skipped_ids(report: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let Some(start) = report.find("\nSkipped (") else {
        return out;
    };
    for line in report[start + 1..].lines().skip(1) {
        let Some(line) = line.strip_prefix("  ") else {
            break;
        };
        let kinds = [
            "promotion code ",
            "tax rate ",
            "tax registration ",
            "portal configuration ",
            "product ",
            "price ",
            "coupon ",
        ];
        let rest = kinds
            .iter()
            .find_map(|k| line.strip_prefix(k))
            .unwrap_or(line);
        if let Some((id, why)) = rest.split_once(": ") {
            out.insert(id.to_owned(), why.to_owned());
        }
    }
    out
}

/// `1 product and 2 prices`, as the report counts.
fn counted(counts: &[(&str, &str, usize)]) -> String {
    let parts: Vec<String> = counts
        .iter()
        .filter(|(_, _, n)| *n > 0)
        .map(|(one, many, n)| format!("{n} {}", if *n == 1 { one } else { many }))
        .collect();
    match parts.len() {
        0 => String::new(),
        1 => parts[0].clone(),
        n => format!("{} and {}", parts[..n - 1].join(", "), parts[n - 1]),
    }
}

/// One random account through import, validate, plan, apply and plan again; `Err` says what
/// went wrong.
fn import_round_trip(seed: u64) -> Result<(), String> {
    let env = empty_env();
    let mut fuzz = Fuzz::new(&env, seed);
    fuzz.account();
    if std::env::var_os("BILLING_IMPORT_DUMP").is_some() {
        for line in fuzz.log.iter().filter(|l| l.contains("-> REFUSED")) {
            eprintln!("seed {seed}: {line}");
        }
    }
    // Imported as namespace `other`, the other team's objects are this catalog's, and the
    // default namespace's are foreign.
    let swap = fuzz.namespace == "other";
    let made: Vec<Made> = fuzz
        .made
        .iter()
        .map(|m| Made {
            fate: match (&m.fate, swap) {
                (Fate::Ours(a) | Fate::OursArchived(a), true) => Fate::Foreign(a.clone()),
                (Fate::Foreign(a), true) => Fate::Ours(a.clone()),
                // Written with `active = false`, or skipped with the reason.
                (Fate::Archived, _) if fuzz.include_archived && m.kind != "price" => {
                    Fate::Unmanaged
                }
                (f, _) => f.clone(),
            },
            ..m.clone()
        })
        .collect();
    let namespace = fuzz.namespace;
    let foreign_ns = if swap { "default" } else { "other" };
    let mut settings = String::new();
    if namespace != "default" {
        settings.push_str(&format!("namespace = \"{namespace}\"\n"));
    }
    if !fuzz.ignore_metadata.is_empty() {
        let patterns: Vec<String> = fuzz
            .ignore_metadata
            .iter()
            .map(|p| format!("\"{p}\""))
            .collect();
        settings.push_str(&format!("ignore_metadata = [{}]\n", patterns.join(", ")));
    }
    let log = fuzz.log.join("\n");
    let fail = |what: String, text: &str, report: &str| -> Result<(), String> {
        Err(format!(
            "seed {seed}: {what}\n--- billing.toml ---\n{text}\n--- import report ---\n{report}\n--- requests ---\n{log}\n"
        ))
    };

    let mut args = vec!["import", "--out", "billing.toml"];
    if fuzz.include_archived {
        args.push("--include-archived");
    }
    if !settings.is_empty() {
        env.dir.write("billing.toml", &settings);
        args.push("--force");
    }
    let run = env.billing(&args);
    let report = run.stderr.clone();
    if std::env::var_os("BILLING_IMPORT_DUMP").is_some() {
        eprintln!("seed {seed} report:\n{report}");
    }
    if run.code != 0 {
        return fail(format!("import exited {}", run.code), "", &report);
    }
    let text = env.dir.read("billing.toml");
    // The same account gives the same file.
    let mut args = vec!["import"];
    if fuzz.include_archived {
        args.push("--include-archived");
    }
    let again = env.billing(&args);
    if again.stdout != text {
        return fail(
            format!("a second import gives another file:\n{}", again.stdout),
            &text,
            &report,
        );
    }
    let validate = env.validate();
    if validate.code != 0 {
        return fail(
            format!(
                "validate exited {}: {}{}",
                validate.code, validate.stdout, validate.stderr
            ),
            &text,
            &report,
        );
    }

    // What the report says was left out, against what was made.
    let skipped = skipped_ids(&report);
    let foreign_count = |kind: &str| {
        made.iter()
            .filter(|m| m.kind == kind && matches!(m.fate, Fate::Foreign(_)))
            .count()
    };
    let foreign = counted(&[
        ("product", "products", foreign_count("product")),
        ("price", "prices", foreign_count("price")),
        ("coupon", "coupons", foreign_count("coupon")),
        (
            "promotion code",
            "promotion codes",
            foreign_count("promotion_code"),
        ),
        ("tax rate", "tax rates", foreign_count("tax_rate")),
        (
            "portal configuration",
            "portal configurations",
            foreign_count("portal"),
        ),
    ]);
    if !foreign.is_empty()
        && !report.contains(&format!("  namespace \"{foreign_ns}\": {foreign}\n"))
    {
        return fail(
            format!("the report should count {foreign} of namespace \"{foreign_ns}\""),
            &text,
            &report,
        );
    }
    let archived_count = |kind: &str| {
        made.iter()
            .filter(|m| m.kind == kind && matches!(m.fate, Fate::Archived | Fate::OursArchived(_)))
            .count()
    };
    // Archived products, codes and rates are counted (without --include-archived), except
    // those billing manages that record `on_remove = "forget"` (written, or the plan would
    // forget them).
    let archived_line = report
        .lines()
        .find_map(|l| l.strip_prefix("Archived, left out: "))
        .and_then(|l| l.split(": ").next())
        .unwrap_or_default();
    let reported = |one: &str, many: &str| {
        archived_line
            .split(", ")
            .flat_map(|part| part.split(" and "))
            .find_map(|part| {
                let (n, noun) = part.split_once(' ')?;
                (noun == one || noun == many).then(|| n.parse::<usize>().ok())?
            })
            .unwrap_or(0)
    };
    if !fuzz.include_archived {
        for (kind, one, many) in [
            ("product", "product", "products"),
            ("promotion_code", "promotion code", "promotion codes"),
            ("tax_rate", "tax rate", "tax rates"),
        ] {
            let unmanaged = made
                .iter()
                .filter(|m| m.kind == kind && m.fate == Fate::Archived)
                .count();
            let all = archived_count(kind);
            let counted = reported(one, many);
            if !(unmanaged..=all).contains(&counted) {
                return fail(
                    format!(
                        "the report counts {counted} archived {many}, not {unmanaged} to {all}"
                    ),
                    &text,
                    &report,
                );
            }
        }
    }
    // Archived prices are counted, except those billing manages of a product it writes
    // `active = false` (written with it).
    let counted_prices = report
        .lines()
        .find_map(|l| l.split_once(" archived price"))
        .and_then(|(n, _)| n.parse::<usize>().ok())
        .unwrap_or(0);
    let unmanaged_prices = made
        .iter()
        .filter(|m| m.kind == "price" && m.fate == Fate::Archived)
        .count();
    let archived_prices = archived_count("price");
    if !(unmanaged_prices..=archived_prices).contains(&counted_prices) {
        return fail(
            format!(
                "the report counts {counted_prices} archived prices, not {unmanaged_prices} to {archived_prices}"
            ),
            &text,
            &report,
        );
    }
    if let Some((id, why)) = skipped.iter().find(|(_, why)| why.contains("invalid TOML")) {
        return fail(
            format!("{id} is skipped for a stand-in catalog the import built wrong: {why}"),
            &text,
            &report,
        );
    }
    for m in &made {
        if skipped.contains_key(&m.id) && !matches!(m.fate, Fate::Unmanaged | Fate::OursArchived(_))
        {
            return fail(
                format!("{} {} ({:?}) is reported as skipped", m.kind, m.id, m.fate),
                &text,
                &report,
            );
        }
    }

    // The plan adopts, and does nothing else.
    let before = markers(&env);
    let plan = env.billing(&["plan", "--format", "json"]);
    if plan.code != 0 {
        return fail(
            format!("plan exited {}: {}", plan.code, plan.stderr),
            &text,
            &report,
        );
    }
    let doc: Value =
        serde_json::from_str(&plan.stdout).map_err(|e| format!("seed {seed}: plan JSON: {e}"))?;
    let changes = doc["resource_changes"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let others: Vec<&Value> = changes.iter().filter(|c| c["action"] != "adopt").collect();
    if !others.is_empty() {
        let shown: Vec<String> = others
            .iter()
            .map(|c| {
                serde_json::to_string_pretty(&serde_json::json!({
                    "action": c["action"], "address": c["address"], "id": c["id"],
                    "reason": c["reason"], "before": c["before"], "after": c["after"],
                }))
                .unwrap_or_default()
            })
            .collect();
        return fail(
            format!("the plan has more than adoptions:\n{}", shown.join("\n")),
            &text,
            &report,
        );
    }
    if report.contains("will show more than adoptions") {
        return fail(
            "the import's own review expects more than adoptions".into(),
            &text,
            &report,
        );
    }
    if std::env::var_os("BILLING_IMPORT_DUMP").is_some() {
        for c in &changes {
            eprintln!(
                "{} {} before={} after={}",
                c["action"], c["address"], c["before"], c["after"]
            );
        }
    }
    // An adoption writes the marker, and the default lookup key of a price adopted by id;
    // any other field it changes is a value the import did not write as Stripe has it.
    for c in &changes {
        let fields: Vec<&String> = c["after"]
            .as_object()
            .map(|o| o.keys().collect())
            .unwrap_or_default();
        let extra: Vec<&&String> = fields
            .iter()
            .filter(|f| {
                let marker = matches!(f.as_str(), "metadata.billing_key" | "metadata.billing_ns");
                let default_lookup_key =
                    f.as_str() == "lookup_key" && c["before"]["lookup_key"].is_null();
                !(marker || default_lookup_key)
            })
            .collect();
        if !extra.is_empty() {
            return fail(
                format!(
                    "{} adopts {} and changes {extra:?}: before {} after {}",
                    c["address"], c["id"], c["before"], c["after"]
                ),
                &text,
                &report,
            );
        }
    }
    let adopted: BTreeMap<String, String> = changes
        .iter()
        .map(|c| {
            (
                c["id"].as_str().unwrap_or_default().to_owned(),
                c["address"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    for (id, address) in &adopted {
        match made.iter().find(|m| m.id == *id) {
            Some(m) if m.fate == Fate::Unmanaged => {}
            other => {
                return fail(
                    format!("{address} adopts {id}, which is {other:?}"),
                    &text,
                    &report,
                );
            }
        }
        if skipped.contains_key(id) {
            return fail(
                format!("{id} is reported as skipped, but {address} adopts it"),
                &text,
                &report,
            );
        }
    }

    let apply = env.billing(&["apply", "--yes"]);
    if apply.code != 0 {
        return fail(
            format!(
                "apply exited {}:\n{}{}",
                apply.code, apply.stdout, apply.stderr
            ),
            &text,
            &report,
        );
    }
    let again = env.plan();
    if again.code != 0 {
        return fail(
            format!(
                "the plan after apply is not empty:\n{}{}",
                again.stdout, again.stderr
            ),
            &text,
            &report,
        );
    }
    let after = markers(&env);
    if before.keys().ne(after.keys()) {
        let gone: Vec<&String> = before.keys().filter(|k| !after.contains_key(*k)).collect();
        let new: Vec<&String> = after.keys().filter(|k| !before.contains_key(*k)).collect();
        return fail(
            format!("objects changed: gone {gone:?}, new {new:?}"),
            &text,
            &report,
        );
    }
    let ours = |m: &(Option<String>, Option<String>)| {
        m.0.is_some() && m.1.as_deref().unwrap_or("default") == namespace
    };
    for m in &made {
        let marker = &after[&m.id];
        let expected = match (&m.fate, adopted.get(&m.id)) {
            (_, Some(address)) => Some(address.clone()),
            (Fate::Ours(address), None) if !skipped.contains_key(&m.id) => Some(address.clone()),
            (Fate::Unmanaged, None) if !skipped.contains_key(&m.id) => {
                return fail(
                    format!(
                        "{} {} is neither written nor reported as skipped",
                        m.kind, m.id
                    ),
                    &text,
                    &report,
                );
            }
            _ => None,
        };
        match expected {
            Some(address) => {
                if !ours(marker) || marker.0.as_deref() != Some(address.as_str()) {
                    return fail(
                        format!(
                            "{} {} should carry the marker {address}, not {marker:?}",
                            m.kind, m.id
                        ),
                        &text,
                        &report,
                    );
                }
            }
            None => {
                if *marker != before[&m.id] {
                    return fail(
                        format!(
                            "{} {} is not written, but its marker changed to {marker:?}",
                            m.kind, m.id
                        ),
                        &text,
                        &report,
                    );
                }
            }
        }
    }

    // Billing manages them now: importing again plans nothing.
    let mut args = vec!["import", "--out", "billing.toml", "--force"];
    if fuzz.include_archived {
        args.push("--include-archived");
    }
    let reimport = env.billing(&args);
    if reimport.code != 0 {
        return fail(
            format!(
                "the second import exited {}: {}",
                reimport.code, reimport.stderr
            ),
            &text,
            &report,
        );
    }
    let last = env.plan();
    if last.code != 0 {
        return fail(
            format!(
                "the plan after a second import is not empty:\n{}{}\n--- second billing.toml ---\n{}",
                last.stdout,
                last.stderr,
                env.dir.read("billing.toml")
            ),
            &text,
            &report,
        );
    }
    Ok(())
}

#[test]
fn random_dashboard_accounts_are_imported_and_adopted_in_place() {
    let seeds = import_seeds();
    let started = std::time::Instant::now();
    let mut failures = Vec::new();
    for &seed in &seeds {
        let outcome = std::panic::catch_unwind(|| import_round_trip(seed));
        match outcome {
            Ok(Ok(())) => {}
            Ok(Err(why)) => failures.push((seed, why)),
            Err(panic) => {
                let why = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                    .unwrap_or_default();
                failures.push((seed, format!("seed {seed} panicked: {why}")));
            }
        }
    }
    eprintln!(
        "{} seeds in {:.1} s",
        seeds.len(),
        started.elapsed().as_secs_f64()
    );
    if !failures.is_empty() {
        let list: Vec<String> = failures
            .iter()
            .map(|(_, w)| w.lines().next().unwrap_or_default().to_owned())
            .collect();
        let details: Vec<&str> = failures.iter().take(3).map(|(_, w)| w.as_str()).collect();
        panic!(
            "{} of {} seeds failed (rerun the first with BILLING_IMPORT_SEEDS={}..{}):\n{}\n\n{}",
            failures.len(),
            seeds.len(),
            failures[0].0,
            failures[0].0 + 1,
            list.join("\n"),
            details.join("\n\n")
        );
    }
}

/// `billing` in `dir` with these variables set (values are not secret: an API base may be
/// printed), checking that `key` is never printed.
fn billing_with(dir: &Workdir, args: &[&str], vars: &[(&str, &str)], key: &str) -> Run {
    let mut cmd = dir.billing();
    cmd.args(args);
    for (name, value) in vars {
        cmd.env(name, value);
    }
    let run: Run = cmd.output().expect("billing runs").into();
    assert!(!run.stdout.contains(key) && !run.stderr.contains(key));
    run
}

/// A sandbox standing in for a live-mode account.
fn live_sandbox() -> stripe_sandbox::Sandbox {
    start_with(SandboxConfig {
        live: true,
        ..SandboxConfig::default()
    })
}

fn base(sandbox: &stripe_sandbox::Sandbox) -> String {
    sandbox.base_url().trim_end_matches('/').to_owned()
}

/// The account id of a sandbox, through a key it accepts.
fn account_id(sandbox: &stripe_sandbox::Sandbox, key: &str) -> String {
    let res = Req::get("/v1/account")
        .header("Authorization", Some(&format!("Bearer {key}")))
        .send(sandbox);
    res.json()["id"].as_str().unwrap_or_default().to_owned()
}

#[test]
fn importing_a_catalog_with_environments_keeps_it_right_for_every_environment() {
    // This repository's catalog applied to a test account, which also holds a product made
    // in the Dashboard; then imported from that account over billing.toml.
    let test = start_with(SandboxConfig::default());
    let live = live_sandbox();
    let test_key = crate::engine::KEY;
    let live_key = format!("sk_live_{}", "importEnvironments0123456789");
    let dir = Workdir::with_catalog(&repository_catalog());
    let (test_base, live_base) = (base(&test), base(&live));
    let in_test = |args: &[&str]| {
        billing_with(
            &dir,
            args,
            &[
                ("STRIPE_TEST_SECRET_KEY", test_key),
                ("BILLING_API_BASE", &test_base),
            ],
            test_key,
        )
    };
    let in_live = |args: &[&str]| {
        billing_with(
            &dir,
            args,
            &[
                ("STRIPE_LIVE_SECRET_KEY", &live_key),
                ("BILLING_API_BASE", &live_base),
            ],
            &live_key,
        )
    };
    let apply = in_test(&["-e", "test", "apply", "--yes"]);
    assert_eq!(apply.code, 0, "{}{}", apply.stdout, apply.stderr);
    let legacy = product(&test, "name=Legacy");
    let import = in_test(&["-e", "test", "import", "--out", "billing.toml", "--force"]);
    assert_eq!(import.code, 0, "{}", import.stderr);
    assert!(
        import
            .stderr
            .ends_with("Run `billing -e test plan` to review the adoptions.\n"),
        "{}",
        import.stderr
    );
    let text = dir.read("billing.toml");
    for expected in [
        // The test account's product, adopted in test only.
        format!("[products.legacy]\nname = \"Legacy\"\n\n[products.legacy.overrides.test]\nid = \"{legacy}\"\n"),
        // The staff coupon keeps its limit.
        "[coupons.staff]\nname = \"Staff\"\npercent_off = 100\nduration = \"forever\"\nenvironments = [\"local\", \"test\"]\n".to_owned(),
    ] {
        assert!(text.contains(&expected), "missing {expected:?} in:\n{text}");
    }
    // Products billing manages are found by their marker: no id anywhere else.
    assert_eq!(text.matches("id = \"prod_").count(), 1, "{text}");

    // Against the account it was read from: only the adoption.
    let plan = in_test(&["-e", "test", "plan", "--format", "json"]);
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    let doc: Value = serde_json::from_str(&plan.stdout).expect("JSON");
    let actions: Vec<(String, String)> = doc["resource_changes"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            (
                c["action"].as_str().unwrap_or_default().to_owned(),
                c["address"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        actions,
        [("adopt".to_owned(), "products.legacy".to_owned())],
        "{text}"
    );

    // Against live: everything is created, with no id of the test account, and no staff
    // coupon.
    let plan = in_live(&["-e", "live", "plan"]);
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    assert!(!plan.stdout.contains(&legacy), "{}", plan.stdout);
    assert!(!plan.stdout.contains("prod_"), "{}", plan.stdout);
    assert!(!plan.stdout.contains("coupons.staff"), "{}", plan.stdout);
    assert!(plan.stdout.contains("coupons.launch20"), "{}", plan.stdout);
    let apply = in_live(&["-e", "live", "apply", "--yes"]);
    assert_eq!(apply.code, 0, "{}{}", apply.stdout, apply.stderr);
    let again = in_live(&["-e", "live", "plan", "--detailed-exitcode"]);
    assert_eq!(again.code, 0, "{}{}", again.stdout, again.stderr);
}

#[test]
fn importing_without_a_catalog_reads_the_account_of_the_key_and_plans_it_next() {
    // The README's takeover, in a directory without billing.toml: the account of
    // STRIPE_SECRET_KEY at the API --api-base (or BILLING_API_BASE) names, declared as an
    // environment so that the next plan reads the same account.
    for live_mode in [false, true] {
        let sandbox = if live_mode {
            live_sandbox()
        } else {
            start_with(SandboxConfig::default())
        };
        let key = if live_mode {
            format!("sk_live_{}", "takeover0123456789")
        } else {
            crate::engine::KEY.to_owned()
        };
        let api = base(&sandbox);
        let made = Req::post("/v1/products", "name=Pro")
            .header("Authorization", Some(&format!("Bearer {key}")))
            .idempotency_key("takeover-pro")
            .send(&sandbox);
        assert_eq!(made.status, 200, "{}", made.body);
        let pro = made.json()["id"].as_str().unwrap_or_default().to_owned();
        let dir = Workdir::new();
        let (flag, vars): (Vec<&str>, Vec<(&str, &str)>) = if live_mode {
            (
                vec![],
                vec![("STRIPE_SECRET_KEY", &key), ("BILLING_API_BASE", &api)],
            )
        } else {
            (vec!["--api-base", &api], vec![("STRIPE_SECRET_KEY", &key)])
        };
        let mut args = vec!["import", "--out", "billing.toml"];
        args.extend(&flag);
        let import = billing_with(&dir, &args, &vars, &key);
        assert_eq!(import.code, 0, "{}", import.stderr);
        let (env, next) = if live_mode {
            ("live", "billing -e live plan")
        } else {
            ("test", "billing plan")
        };
        assert!(
            import
                .stderr
                .starts_with(&format!("Reading environment `{env}` ({env} mode, {api}).")),
            "{}",
            import.stderr
        );
        assert!(
            import.stderr.contains("into billing.toml: 1 product."),
            "{}",
            import.stderr
        );
        assert!(
            import
                .stderr
                .ends_with(&format!("Run `{next}` to review the adoptions.\n")),
            "{}",
            import.stderr
        );
        let text = dir.read("billing.toml");
        assert!(
            text.contains(&format!(
                "[environments.{env}]\nmode = \"{env}\"\nsecret_key_env = \"STRIPE_SECRET_KEY\"\napi_base = \"{api}\"\n"
            )),
            "{text}"
        );
        assert!(
            text.contains(&format!(
                "[products.pro]\nname = \"Pro\"\n\n[products.pro.overrides.{env}]\nid = \"{pro}\"\n"
            )),
            "{text}"
        );
        // The next command reads the same account, with the key alone.
        let mut next_args: Vec<&str> = next.split(' ').skip(1).collect();
        next_args.push("--detailed-exitcode");
        let plan = billing_with(&dir, &next_args, &[("STRIPE_SECRET_KEY", &key)], &key);
        assert_eq!(plan.code, 2, "{}{}", plan.stdout, plan.stderr);
        let account = account_id(&sandbox, &key);
        assert!(
            crate::engine::squash(&plan.stdout)
                .starts_with(&format!("Plan for {env} (account {account}, {env} mode")),
            "{}",
            plan.stdout
        );
        assert!(
            plan.stdout.contains("Plan: 1 to adopt, 0 to create"),
            "{}",
            plan.stdout
        );
    }
}
