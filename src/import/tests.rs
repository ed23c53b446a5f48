//! Unit tests of the import: hand-built accounts in, catalog text and report out.

use std::collections::BTreeMap;

use super::report::NoLookupKey;
use super::*;
use crate::catalog::{Catalog, CouponDuration, Discount, MinorAmount, Pricing};
// In these tests a product, price, coupon or code is one the Dashboard made; billing's own
// are `fixtures::product()` and `fixtures::price()`.
use crate::live::fixtures::{
    self, marker, monthly, unit_option, unmarked_code as code, unmarked_coupon as coupon,
    unmarked_price as price, unmarked_product as product,
};
use crate::live::{LiveCurrencyOption, LivePrice, LiveTaxRate, LiveTier};
use crate::resource::ResourceKind;

fn annual(mut p: LivePrice) -> LivePrice {
    p = monthly(p);
    if let Some(r) = &mut p.recurring {
        r.interval = crate::live::Word::new("year");
    }
    p
}

fn keyed(mut p: LivePrice, lookup_key: &str) -> LivePrice {
    p.lookup_key = Some(lookup_key.into());
    p
}

/// A tax rate of 19% VAT, exclusive, as the Dashboard makes it: no country, type or
/// description, without billing's marker.
fn tax_rate(id: &str, created: i64) -> LiveTaxRate {
    LiveTaxRate {
        id: id.into(),
        created,
        active: true,
        display_name: "VAT".into(),
        percentage: "19".into(),
        inclusive: false,
        country: None,
        state: None,
        jurisdiction: None,
        tax_type: None,
        description: None,
        metadata: BTreeMap::new().into(),
    }
}

fn origin() -> Origin {
    Origin {
        account: "acct_1".into(),
        account_name: Some("Acme \"Inc\"\nLtd".into()),
        environment: "sandbox".into(),
        mode: "test".into(),
        now: 1_800_000_000,
    }
}

/// Imports `live`, checks the text with the validator, and returns it, the catalog it reads
/// as and the report.
fn run_with(live: &LiveState, options: &Options) -> (String, Catalog, Report) {
    let imported = import(live, options);
    let text = imported.render(&origin(), &toml::Table::new());
    if let Err(problems) = verify("billing.toml", &text) {
        panic!("the imported catalog does not validate:\n{problems}\n{text}");
    }
    let catalog = crate::catalog::parse(&SourceFile::new("billing.toml", text.clone()))
        .expect("it validates");
    (text, catalog, imported.report)
}

fn run(live: &LiveState) -> (String, Catalog, Report) {
    run_with(live, &Options::default())
}

/// Asserts that the imported `text` has each of `parts`.
#[track_caller]
fn assert_written(text: &str, parts: &[&str]) {
    for part in parts {
        assert!(text.contains(part), "{part:?} in:\n{text}");
    }
}

/// `(id, why)` of each object the import skipped, in the order it skipped them.
fn skips(report: &Report) -> Vec<(&str, &str)> {
    report
        .skipped
        .iter()
        .map(|s| (s.id.as_str(), s.why.as_str()))
        .collect()
}

#[test]
fn products_are_adopted_by_id_and_prices_by_lookup_key_or_id() {
    let mut pro = product("prod_pro", "Pro", 10);
    pro.description = Some("For growing teams".into());
    pro.features = vec!["Unlimited projects".into(), "Priority support".into()];
    pro.metadata = BTreeMap::from([("tier".into(), "2".into())]).into();
    pro.default_price = Some("price_m".into());
    let live = fixtures::live(
        vec![pro],
        vec![
            keyed(
                monthly(price("price_m", "prod_pro", 11, "usd", 7900)),
                "pro_monthly",
            ),
            annual(price("price_a", "prod_pro", 12, "usd", 79000)),
        ],
    );
    let (text, catalog, report) = run(&live);
    let p = &catalog.products["pro"];
    assert_eq!(p.id.as_deref(), Some("prod_pro"));
    assert_eq!(p.description.as_deref(), Some("For growing teams"));
    assert_eq!(p.features.len(), 2);
    assert_eq!(p.metadata["tier"], "2");
    assert_eq!(p.default_price.as_deref(), Some("monthly"));
    assert_eq!(p.prices["monthly"].lookup_key, "pro_monthly");
    assert_eq!(p.prices["annual"].lookup_key, "pro_annual");
    assert_written(
        &text,
        &[
            "[products.pro.prices.annual]\nid = \"price_a\"\namount = \"790.00\"",
            "# No lookup key in Stripe: adopting price_a gives it \"pro_annual\".",
        ],
    );
    assert_eq!(
        report.without_lookup_key,
        vec![NoLookupKey {
            address: "prices.pro.annual".into(),
            id: "price_a".into(),
            lookup_key: "pro_annual".into()
        }]
    );
    assert_eq!(report.written[&ResourceKind::Product], 1);
    assert_eq!(report.written[&ResourceKind::Price], 2);
    assert!(report.skipped.is_empty(), "{:?}", report.skipped);
    // The plan adopts the three, and does nothing else.
    assert_eq!(review(&catalog, &live), Vec::<String>::new());
    let plan = crate::plan::plan(&catalog, &live).expect("plans");
    let adopted: Vec<&str> = plan
        .changes
        .iter()
        .filter(|c| c.action == crate::plan::Action::Adopt)
        .map(|c| c.address.as_str())
        .collect();
    assert_eq!(
        adopted,
        ["products.pro", "prices.pro.annual", "prices.pro.monthly"]
    );
}

#[test]
fn the_header_names_the_account_without_breaking_the_file() {
    let live = fixtures::live(vec![product("prod_1", "Pro", 1)], vec![]);
    let (text, _, _) = run(&live);
    assert!(
        text.starts_with("# Written by `billing import` on 2027-01-15 (UTC) from Stripe account acct_1 (\"Acme \\\"Inc\\\"\\nLtd\"),\n# environment `sandbox` (test mode)."),
        "{text}"
    );
    assert!(!text.contains("sk_"), "no key in the file");
}

#[test]
fn default_lookup_keys_never_collide_with_the_accounts_or_the_catalogs() {
    // `pro_annual` is held by an archived price elsewhere, and `pro_annual_2` by a price of
    // another product: the annual price without a lookup key gets the next free key.
    let mut old = keyed(
        annual(price("price_old", "prod_x", 1, "usd", 100)),
        "pro_annual",
    );
    old.active = false;
    let other = keyed(
        monthly(price("price_o", "prod_x", 2, "usd", 100)),
        "pro_annual_2",
    );
    let live = fixtures::live(
        vec![product("prod_x", "Other", 1), product("prod_pro", "Pro", 3)],
        vec![
            old,
            other,
            annual(price("price_a", "prod_pro", 4, "usd", 79000)),
        ],
    );
    let (_, catalog, report) = run(&live);
    let p = &catalog.products["pro"];
    assert_eq!(p.prices.keys().collect::<Vec<_>>(), ["annual_3"]);
    assert_eq!(p.prices["annual_3"].lookup_key, "pro_annual_3");
    assert_eq!(report.renamed[0].address, "prices.pro.annual_3");
    assert_eq!(report.renamed[0].wanted, "annual");
    let text = report.rendered("acct_1");
    assert!(
        text.contains("  prices.pro.annual_3 (price_a): not \"annual\": the lookup key adoption would give it, \"pro_annual\", is already one of the account or of this file\n"),
        "{text}"
    );
}

#[test]
fn lookup_keys_become_price_keys_without_the_product_prefix() {
    let live = fixtures::live(
        vec![product("prod_t", "Team", 1)],
        vec![
            keyed(
                monthly(price("price_1", "prod_t", 2, "usd", 100)),
                "team_monthly_2024",
            ),
            keyed(
                monthly(price("price_2", "prod_t", 3, "usd", 100)),
                "Legacy Team Monthly",
            ),
        ],
    );
    let (_, catalog, _) = run(&live);
    let keys: Vec<&String> = catalog.products["team"].prices.keys().collect();
    assert_eq!(keys, ["legacy_team_monthly", "monthly_2024"]);
    assert_eq!(
        catalog.products["team"].prices["legacy_team_monthly"].lookup_key,
        "Legacy Team Monthly"
    );
}

#[test]
fn colliding_keys_are_numbered_and_reported() {
    let live = fixtures::live(
        vec![
            product("prod_b", "Pro", 2),
            product("prod_a", "Pro", 1),
            product("prod_c", "PRO!", 3),
        ],
        vec![],
    );
    let (_, catalog, report) = run(&live);
    assert_eq!(
        catalog.products["pro"].id.as_deref(),
        Some("prod_a"),
        "the oldest keeps it"
    );
    assert_eq!(catalog.products["pro_2"].id.as_deref(), Some("prod_b"));
    assert_eq!(catalog.products["pro_3"].id.as_deref(), Some("prod_c"));
    let renamed: Vec<(&str, &str)> = report
        .renamed
        .iter()
        .map(|r| (r.address.as_str(), r.id.as_str()))
        .collect();
    assert_eq!(
        renamed,
        [("products.pro_2", "prod_b"), ("products.pro_3", "prod_c")]
    );
}

#[test]
fn names_in_any_script_round_trip_and_keys_fall_back_to_ids() {
    let name = "プロ \"Pro\"\nline two\\ 🚀";
    let live = fixtures::live(
        vec![
            product("prod_jp", name, 1),
            product("prod_fr", "Crème Brûlée", 2),
        ],
        vec![],
    );
    let (_, catalog, _) = run(&live);
    assert_eq!(catalog.products["pro_line_two"].name, name);
    assert_eq!(catalog.products["creme_brulee"].name, "Crème Brûlée");
    let live = fixtures::live(vec![product("prod_JP1", "日本語", 1)], vec![]);
    let (_, catalog, _) = run(&live);
    assert_eq!(catalog.products["prod_jp1"].name, "日本語");
}

#[test]
fn the_same_account_gives_the_same_file_whatever_the_order_read() {
    let products = vec![
        product("prod_b", "Basic", 5),
        product("prod_p", "Pro", 5),
        product("prod_p2", "Pro", 5),
    ];
    let prices = vec![
        monthly(price("price_1", "prod_p", 6, "usd", 100)),
        monthly(price("price_2", "prod_p", 6, "eur", 100)),
        annual(price("price_3", "prod_p2", 6, "usd", 100)),
        price("price_4", "prod_b", 7, "jpy", 500),
    ];
    let a = run(&fixtures::live(products.clone(), prices.clone())).0;
    let mut reversed = fixtures::live(products, prices);
    reversed.products.reverse();
    reversed.prices.reverse();
    assert_eq!(a, run(&reversed).0);
    assert_written(
        &a,
        &[
            "[products.pro.prices.monthly_eur]",
            "[products.pro.prices.monthly_usd]",
            "[products.basic.prices.one_time]",
        ],
    );
}

#[test]
fn amounts_are_exact_in_each_currencys_unit() {
    let mut sub_cent = monthly(price("price_c", "prod_1", 4, "usd", 0));
    sub_cent.unit_amount = Some(MinorAmount::from_minor_decimal("0.05").unwrap());
    let mut options = monthly(price("price_o", "prod_1", 5, "usd", 7900));
    options.currency_options = BTreeMap::from([
        ("eur".into(), unit_option(7200, Some("exclusive"))),
        ("jpy".into(), unit_option(12000, None)),
    ]);
    let live = fixtures::live(
        vec![product("prod_1", "World", 1)],
        vec![
            keyed(price("price_j", "prod_1", 2, "jpy", 1000), "yen"),
            keyed(price("price_k", "prod_1", 3, "kwd", 12345), "dinar"),
            keyed(sub_cent, "per_call"),
            keyed(options, "multi"),
        ],
    );
    let (text, catalog, _) = run(&live);
    assert_written(
        &text,
        &[
            "amount = \"1000\"\ncurrency = \"jpy\"",
            "amount = \"12.345\"\ncurrency = \"kwd\"",
            "unit_amount_decimal = \"0.05\"",
            "[products.world.prices.multi.currency_options]\neur = { amount = \"72.00\", tax_behavior = \"exclusive\" }\njpy = \"12000\"\n",
        ],
    );
    let prices = &catalog.products["world"].prices;
    let unit = |k: &str| match &prices[k].pricing {
        Pricing::PerUnit { unit_amount } => unit_amount.decimal_string(),
        other => panic!("{other:?}"),
    };
    assert_eq!(unit("yen"), "1000");
    assert_eq!(unit("dinar"), "12345");
    assert_eq!(unit("per_call"), "0.05");
}

#[test]
fn tiered_prices_keep_their_tiers_in_every_currency() {
    let tiers = |unit: i64| {
        vec![
            LiveTier {
                up_to: Some(1000),
                unit_amount: None,
                flat_amount: Some(MinorAmount::from_minor(1000).unwrap()),
            },
            LiveTier {
                up_to: None,
                unit_amount: Some(MinorAmount::from_minor_decimal(&format!("0.{unit}")).unwrap()),
                flat_amount: None,
            },
        ]
    };
    let mut p = monthly(price("price_t", "prod_api", 2, "usd", 0));
    p.billing_scheme = crate::live::Word::new("tiered");
    p.unit_amount = None;
    p.tiers_mode = Some(crate::live::Word::new("graduated"));
    p.tiers = tiers(5);
    p.currency_options = BTreeMap::from([(
        "eur".into(),
        LiveCurrencyOption {
            unit_amount: None,
            tiers: tiers(4),
            tax_behavior: None,
            custom_unit_amount: false,
        },
    )]);
    let live = fixtures::live(
        vec![product("prod_api", "API", 1)],
        vec![keyed(p, "api_calls")],
    );
    let (text, catalog, _) = run(&live);
    assert_written(
        &text,
        &[
            "tiers = [\n  { up_to = 1000, flat_amount = \"10.00\" },\n  { up_to = \"inf\", unit_amount_decimal = \"0.5\" },\n]",
            "[products.api.prices.calls.currency_options.eur]",
        ],
    );
    assert!(matches!(
        catalog.products["api"].prices["calls"].pricing,
        Pricing::Tiered { .. }
    ));
}

#[test]
fn what_billing_toml_cannot_express_is_skipped_and_said() {
    let mut metered = monthly(price("price_meter", "prod_1", 3, "usd", 1));
    if let Some(r) = &mut metered.recurring {
        r.usage_type = crate::live::Word::new("metered");
    }
    let mut pwyw = price("price_pwyw", "prod_1", 4, "usd", 0);
    pwyw.custom_unit_amount = true;
    let mut foreign = product("prod_f", "Theirs", 2);
    foreign.metadata = marker("products.x").into();
    foreign.metadata.insert("billing_ns".into(), "other".into());
    let mut on_foreign = price("price_f", "prod_f", 5, "usd", 100);
    on_foreign.lookup_key = Some("theirs".into());
    let mut bad_url = product("prod_u", "Bad URL", 6);
    bad_url.url = Some("ftp://example.com".into());
    let mut reserved = product("prod_r", "Reserved", 7);
    reserved.metadata = BTreeMap::from([("billing_plan".into(), "x".into())]).into();
    let mut crowded = product("prod_m", "Crowded", 9);
    crowded.metadata = (0..49).map(|i| (format!("k{i}"), "v".to_owned())).collect();
    let mut descriptor = product("prod_d", "Descriptor", 8);
    descriptor.statement_descriptor = Some("<bad>".into());
    let live = fixtures::live(
        vec![
            product("prod_1", "Usage", 1),
            foreign,
            bad_url,
            reserved,
            descriptor,
            crowded,
        ],
        vec![metered, pwyw, on_foreign],
    );
    let (text, catalog, report) = run(&live);
    let skipped: BTreeMap<&str, &str> = skips(&report).into_iter().collect();
    for (id, why) in [
        ("price_meter", "legacy metered price without a meter"),
        ("price_pwyw", "pay-what-you-want"),
        (
            "price_f",
            "its product prod_f is not imported (managed by namespace \"other\")",
        ),
        ("prod_u", "url"),
        ("prod_r", "metadata.billing_plan"),
        (
            "prod_m",
            "49 metadata keys declared; at most 48 are allowed",
        ),
    ] {
        assert!(skipped[id].contains(why), "{id}: {skipped:?}");
    }
    assert_eq!(report.foreign["other"][&ResourceKind::Product], 1);
    // A statement descriptor billing.toml refuses is only left out: omitted, it is not managed.
    assert!(catalog.products.contains_key("descriptor"), "{text}");
    assert!(!text.contains("<bad>"), "{text}");
    assert_eq!(report.inexpressible[0].at, "prod_d");
    assert_eq!(report.inexpressible[0].field, "statement_descriptor");
    assert_eq!(catalog.products.len(), 2, "{text}");
}

#[test]
fn a_product_whose_default_price_is_left_out_is_left_out_with_its_prices() {
    let mut p = product("prod_1", "Usage", 1);
    p.default_price = Some("price_meter".into());
    let mut metered = monthly(price("price_meter", "prod_1", 2, "usd", 1));
    if let Some(r) = &mut metered.recurring {
        r.usage_type = crate::live::Word::new("metered");
    }
    let live = fixtures::live(
        vec![p],
        vec![
            metered,
            keyed(monthly(price("price_ok", "prod_1", 3, "usd", 1)), "ok"),
        ],
    );
    let (_, catalog, report) = run(&live);
    assert!(catalog.products.is_empty());
    let ids: Vec<&str> = report.skipped.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, ["price_meter", "prod_1", "price_ok"]);
    assert!(
        report.skipped[1]
            .why
            .contains("its default price price_meter is not imported")
    );
}

#[test]
fn duplicate_lookup_keys_are_reported_and_not_written() {
    let live = fixtures::live(
        vec![product("prod_1", "Pro", 1)],
        vec![
            keyed(monthly(price("price_a", "prod_1", 2, "usd", 100)), "dup"),
            keyed(annual(price("price_b", "prod_1", 3, "usd", 100)), "dup"),
            keyed(annual(price("price_c", "prod_1", 4, "usd", 100)), "fine"),
        ],
    );
    let (_, catalog, report) = run(&live);
    assert_eq!(
        report.duplicate_lookup_keys["dup"],
        vec!["price_a".to_owned(), "price_b".to_owned()]
    );
    assert_eq!(
        catalog.products["pro"].prices.keys().collect::<Vec<_>>(),
        ["fine"]
    );
}

#[test]
fn archived_objects_are_counted_or_written_inactive() {
    let mut old = product("prod_old", "Old", 1);
    old.active = false;
    let mut archived_price = keyed(monthly(price("price_x", "prod_1", 3, "usd", 100)), "x");
    archived_price.active = false;
    let live = fixtures::live(vec![old, product("prod_1", "Pro", 2)], vec![archived_price]);
    let (_, catalog, report) = run(&live);
    assert!(!catalog.products.contains_key("old"));
    assert_eq!(report.archived[&ResourceKind::Product], 1);
    assert_eq!(report.archived[&ResourceKind::Price], 1);
    let options = Options {
        include_archived: true,
        ..Options::default()
    };
    let (text, catalog, report) = run_with(&live, &options);
    assert!(!catalog.products["old"].active, "{text}");
    assert!(
        text.contains("[products.old]\nid = \"prod_old\"\nname = \"Old\"\nactive = false\n"),
        "{text}"
    );
    assert!(!report.archived.contains_key(&ResourceKind::Product));
    assert_eq!(
        report.archived[&ResourceKind::Price],
        1,
        "archived prices cannot be declared"
    );
}

#[test]
fn objects_billing_manages_are_written_at_their_address_and_plan_nothing() {
    let mut pro = fixtures::product();
    pro.metadata
        .insert(crate::resource::ON_REMOVE_KEY.into(), "forget".into());
    let mut live = fixtures::live(vec![pro], vec![fixtures::price()]);
    let mut c = coupon("launch_0a1b2c3d", "Launch", 5);
    c.metadata = marker("coupons.launch").into();
    c.metadata
        .insert(crate::resource::ON_REMOVE_KEY.into(), "keep".into());
    live.coupons.push(c);
    let mut p = code("promo_1", "LAUNCH", "launch_0a1b2c3d", 6);
    p.metadata = marker("promotion_codes.LAUNCH").into();
    live.promotion_codes.push(p);
    live.tax_rates.push(LiveTaxRate {
        country: Some("DE".into()),
        tax_type: Some("vat".into()),
        metadata: marker("tax_rates.vat_de").into(),
        ..tax_rate("txr_1", 7)
    });
    let (text, catalog, report) = run(&live);
    assert_written(
        &text,
        &[
            "[products.pro]\nname = \"Pro\"",
            "[products.pro.prices.monthly]",
            "on_remove = \"keep\"",
            "[promotion_codes.LAUNCH]\ncoupon = \"launch\"",
            "[tax_rates.vat_de]\ndisplay_name = \"VAT\"",
        ],
    );
    assert!(
        !text.contains("lookup_key"),
        "the default lookup key needs no line: {text}"
    );
    assert!(
        !text.contains("prod_1"),
        "the marker finds a product billing manages: no id is pinned: {text}"
    );
    assert!(
        text.contains("[coupons.launch]\nname = \"Launch\""),
        "a generated id is not pinned: {text}"
    );
    assert!(
        !text.contains("features = []") && text.contains("on_remove = \"forget\""),
        "{text}"
    );
    assert!(report.skipped.is_empty(), "{:?}", report.skipped);
    let plan = crate::plan::plan(&catalog, &live).expect("plans");
    assert!(plan.changes.is_empty(), "{:#?}", plan.changes);
}

#[test]
fn addresses_billing_manages_are_not_given_to_other_objects() {
    // What billing archived when it left billing.toml keeps its marker: products.legacy with
    // its price prices.legacy.monthly, the code promotion_codes.SPRING, tax_rates.vat. The plan
    // counts those addresses as managed and adopts nothing there, so the Dashboard's "Legacy"
    // product with a monthly price, its "SPRING" code and its "VAT" rate go under other keys.
    let mut legacy = fixtures::product();
    legacy.id = "prod_old".into();
    legacy.active = false;
    legacy.default_price = None;
    legacy.metadata = marker("products.legacy").into();
    let mut old_price = fixtures::price();
    old_price.id = "price_old".into();
    old_price.product = "prod_old".into();
    old_price.active = false;
    old_price.lookup_key = None;
    old_price.metadata = marker("prices.legacy.monthly").into();
    let products = fixtures::live(
        vec![legacy, product("prod_new", "Legacy", 10)],
        vec![
            old_price,
            monthly(price("price_new", "prod_new", 10, "usd", 500)),
        ],
    );
    let mut codes = fixtures::live(vec![], vec![]);
    codes.coupons.push(coupon("SAVE", "Save", 11));
    let mut old_code = code("promo_old", "SPRING", "SAVE", 11);
    old_code.active = false;
    old_code.metadata = marker("promotion_codes.SPRING").into();
    codes.promotion_codes.push(old_code);
    codes
        .promotion_codes
        .push(code("promo_new", "SPRING", "SAVE", 12));
    let mut rates = fixtures::live(vec![], vec![]);
    rates.tax_rates.push(LiveTaxRate {
        active: false,
        metadata: marker("tax_rates.vat").into(),
        ..tax_rate("txr_old", 13)
    });
    rates.tax_rates.push(tax_rate("txr_new", 13));
    for include_archived in [false, true] {
        let options = Options {
            include_archived,
            ..Options::default()
        };
        let (text, catalog, _) = run_with(&products, &options);
        let written = &catalog.products["legacy_2"];
        assert_eq!(written.id.as_deref(), Some("prod_new"), "{text}");
        assert!(written.prices.contains_key("monthly"), "{text}");
        let changes = review(&catalog, &products);
        assert!(changes.is_empty(), "{changes:#?}\n{text}");

        let (text, catalog, _) = run_with(&codes, &options);
        assert_eq!(catalog.promotion_codes["SPRING_2"].code, "SPRING", "{text}");
        let changes = review(&catalog, &codes);
        assert!(changes.is_empty(), "{changes:#?}\n{text}");

        let (text, catalog, _) = run_with(&rates, &options);
        assert_eq!(
            catalog.tax_rates["vat_2"].id.as_deref(),
            Some("txr_new"),
            "{text}"
        );
        let changes = review(&catalog, &rates);
        assert!(changes.is_empty(), "{changes:#?}\n{text}");
    }
}

#[test]
fn a_portal_configuration_with_every_feature_off_is_still_declared() {
    // Nothing but its marker differs from the defaults: the entry has no line of its own,
    // and must still be written, or the plan would deactivate the configuration.
    let portal = |id: &str, key: &str| crate::live::LivePortal {
        id: id.into(),
        created: 1,
        active: true,
        is_default: false,
        settings: crate::catalog::PortalSettings {
            name: None,
            default_return_url: None,
            headline: None,
            privacy_policy_url: None,
            terms_of_service_url: None,
            login_page: false,
            invoice_history: false,
            payment_method_update: false,
            customer_update: vec![],
            subscription_cancel: None,
            subscription_update: None,
        },
        metadata: marker(&format!("portals.{key}")).into(),
    };
    let mut live = fixtures::live(vec![], vec![]);
    live.portals = vec![portal("bpc_1", "default"), portal("bpc_2", "team")];
    let (text, catalog, report) = run(&live);
    assert_written(&text, &["\n[portal]\n", "\n[portals.team]\n"]);
    assert_eq!(
        catalog.portals.keys().collect::<Vec<_>>(),
        ["default", "team"],
        "{text}"
    );
    assert_eq!(report.written.get(&ResourceKind::Portal), Some(&2));
    let changes = review(&catalog, &live);
    assert!(changes.is_empty(), "{changes:#?}\n{text}");
}

#[test]
fn coupons_need_their_products_and_codes_their_coupons() {
    let mut c = coupon("SUMMER", "Summer", 1);
    c.applies_to = vec!["prod_gone".into()];
    let mut amount = coupon("TENOFF", "Ten off", 2);
    amount.percent_off = None;
    amount.amount_off = Some(1000);
    amount.currency = Some("usd".into());
    amount.currency_options = BTreeMap::from([("eur".into(), 900)]);
    amount.duration = "repeating".into();
    amount.duration_in_months = Some(3);
    let live = LiveState {
        coupons: vec![c, amount],
        promotion_codes: vec![
            code("promo_1", "SUMMER20", "SUMMER", 3),
            code("promo_2", "TEN", "TENOFF", 4),
        ],
        ..fixtures::live(vec![], vec![])
    };
    let (text, catalog, report) = run(&live);
    let skipped = skips(&report);
    assert!(
        skipped[0]
            .1
            .contains("it applies to prod_gone, which is not imported"),
        "{skipped:?}"
    );
    assert_eq!(skipped[1].0, "promo_1");
    assert!(
        skipped[1]
            .1
            .contains("its coupon SUMMER is not imported (skipped)"),
        "{skipped:?}"
    );
    let c = &catalog.coupons["ten_off"];
    assert_eq!(c.id.as_deref(), Some("TENOFF"));
    assert_eq!(c.duration, CouponDuration::Repeating { months: 3 });
    assert!(
        matches!(&c.discount, Discount::AmountOff { currency_options, .. } if currency_options.len() == 1)
    );
    assert!(
        text.contains("amount_off = \"10.00\"\ncurrency = \"usd\""),
        "{text}"
    );
    assert_eq!(catalog.promotion_codes["TEN"].coupon, "ten_off");
}

#[test]
fn codes_that_share_an_output_name_get_keys_of_their_own() {
    let mut a = code("promo_a", "SAVE", "C1", 2);
    a.customer = Some("cus_a".into());
    let mut b = code("promo_b", "save", "C1", 3);
    b.customer = Some("cus_b".into());
    let live = LiveState {
        coupons: vec![coupon("C1", "Save", 1)],
        promotion_codes: vec![b, a],
        ..fixtures::live(vec![], vec![])
    };
    let (text, catalog, report) = run(&live);
    assert_eq!(catalog.promotion_codes["SAVE"].code, "SAVE");
    assert_eq!(catalog.promotion_codes["save_2"].code, "save");
    assert!(
        text.contains("[promotion_codes.save_2]\ncode = \"save\""),
        "{text}"
    );
    assert_eq!(report.renamed[0].address, "promotion_codes.save_2");
}

#[test]
fn ignored_metadata_is_left_to_the_system_that_writes_it() {
    let mut p = product("prod_1", "Pro", 1);
    p.metadata =
        BTreeMap::from([("crm_id".into(), "42".into()), ("tier".into(), "2".into())]).into();
    let live = fixtures::live(vec![p], vec![]);
    let options = Options {
        ignore_metadata: vec![crate::catalog::MetadataPattern::new("crm_*")],
        ..Options::default()
    };
    let (_, catalog, _) = run_with(&live, &options);
    assert_eq!(
        catalog.products["pro"].metadata,
        BTreeMap::from([("tier".to_owned(), "2".to_owned())])
    );
}

#[test]
fn an_object_whose_ignored_metadata_leaves_no_room_for_the_marker_is_not_adopted() {
    // 49 keys in Stripe, one of them ignored: the 48 declared pass the validator, but adopting
    // the product would give it 51 keys (the ignored one stays), which Stripe refuses.
    let mut full = product("prod_1", "Full", 1);
    full.metadata = (0..48)
        .map(|i| (format!("key_{i}"), i.to_string()))
        .collect();
    full.metadata.insert("crm_id".into(), "42".into());
    let mut room = product("prod_2", "Room", 2);
    room.metadata = (0..47)
        .map(|i| (format!("key_{i}"), i.to_string()))
        .collect();
    room.metadata.insert("crm_id".into(), "42".into());
    let live = fixtures::live(vec![full, room], vec![]);
    let options = Options {
        ignore_metadata: vec![crate::catalog::MetadataPattern::new("crm_*")],
        ..Options::default()
    };
    let (text, catalog, report) = run_with(&live, &options);
    assert!(!text.contains("prod_1"), "{text}");
    assert_eq!(catalog.products["room"].metadata.len(), 47);
    assert_eq!(report.skipped.len(), 1, "{:?}", report.skipped);
    assert_eq!(report.skipped[0].id, "prod_1");
    assert!(
        report.skipped[0].why.starts_with(
            "metadata: 49 keys in Stripe, 1 of them matched by `ignore_metadata` (billing leaves those in place): adopting it adds billing's 2 marker keys, and Stripe allows 50"
        ),
        "{:?}",
        report.skipped
    );
    assert!(review(&catalog, &live).is_empty());
}

#[test]
fn the_review_says_what_the_plan_will_show_besides_adoptions() {
    // A key billing reserves on a product billing manages cannot be declared: it is left out,
    // and the plan removes it, which the review says.
    let mut pro = fixtures::product();
    pro.metadata.insert("billing_extra".into(), "x".into());
    let live = fixtures::live(vec![pro], vec![fixtures::price()]);
    let (_, catalog, report) = run(&live);
    assert_eq!(report.inexpressible[0].at, "products.pro");
    assert_eq!(report.inexpressible[0].field, "metadata.billing_extra");
    assert!(
        report.inexpressible[0]
            .why
            .ends_with("left out, so `billing plan` changes it"),
        "{:?}",
        report.inexpressible
    );
    let review = review(&catalog, &live);
    assert_eq!(review.len(), 1, "{review:?}");
    assert!(
        review[0].starts_with("update products.pro (product \"Pro\")"),
        "{review:?}"
    );
}

/// The current billing.toml of the environments test: three environments, billing's Pro
/// (`fixtures::CATALOG`), its price overridden in test and live, a product only in live, and a
/// coupon limited to two environments.
fn with_environments() -> String {
    format!("{ENVIRONMENTS}{}{ENVIRONMENT_ENTRIES}", fixtures::CATALOG)
}

const ENVIRONMENTS: &str = r#"
namespace = "default"
default_environment = "local"

[environments.local]
sandbox = true

[environments.test]
mode = "test"

[environments.live]
mode = "live"
"#;

const ENVIRONMENT_ENTRIES: &str = r#"
[products.pro.prices.monthly.overrides.test]
amount = "1.00"

[products.pro.prices.monthly.overrides.live]
nickname = "Pro"

[products.enterprise]
name = "Enterprise"
environments = ["live"]

[coupons.staff]
name = "Staff"
percent_off = 100
duration = "forever"
environments = ["local", "test"]
"#;

#[test]
fn with_environments_ids_go_under_the_environment_read_and_limits_and_overrides_stay() {
    // The test account: billing's Pro at $1.00 (the test override), its staff coupon, and a
    // product made in the Dashboard, adopted by id.
    let mut test_price = fixtures::price();
    test_price.unit_amount = Some(MinorAmount::from_minor(100).unwrap());
    let mut live = fixtures::live(
        vec![fixtures::product(), product("prod_legacy", "Legacy", 50)],
        vec![test_price],
    );
    let mut staff = coupon("staff_0a1b2c3d", "Staff", 5);
    staff.percent_off = Some("100".into());
    staff.duration = "forever".into();
    staff.metadata = marker("coupons.staff").into();
    live.coupons.push(staff);
    let current: toml::Table = toml::from_str(&with_environments()).unwrap();
    let origin = Origin {
        environment: "test".into(),
        ..origin()
    };
    let text = import(&live, &Options::default()).render(&origin, &current);
    verify("billing.toml", &text).unwrap_or_else(|p| panic!("{p}\n{text}"));
    assert_written(
        &text,
        &[
            "then run `billing -e test plan`",
            // The Dashboard's product is this account's: adopted in test only.
            "[products.legacy]\nname = \"Legacy\"\n\n[products.legacy.overrides.test]\nid = \"prod_legacy\"\n",
            // The shared amount stays; the test account's goes under its override, and the
            // live override is kept.
            "[products.pro.prices.monthly]\namount = \"79.00\"",
            "[products.pro.prices.monthly.overrides.live]\nnickname = \"Pro\"\n",
            "[products.pro.prices.monthly.overrides.test]\namount = \"1.00\"\n",
            "[coupons.staff]\nname = \"Staff\"\npercent_off = 100\nduration = \"forever\"\nenvironments = [\"local\", \"test\"]\n",
            // Limited to live, which was not read: kept as it was.
            "# Not in environment `test`, which was read: kept from billing.toml as it was.\n[products.enterprise]\nname = \"Enterprise\"\nenvironments = [\"live\"]\n",
        ],
    );
    assert!(!text.contains("prod_1"), "{text}");
    let load = |env: &str| {
        crate::catalog::load_bytes(
            "billing.toml".into(),
            text.clone().into_bytes(),
            crate::catalog::EnvChoice::Pick(Some(env)),
        )
        .unwrap_or_else(|e| panic!("{e}\n{text}"))
    };
    // Planned against the account it was read from: only the adoption.
    let plan = crate::plan::plan(&load("test"), &live).expect("plans");
    let actions: Vec<_> = plan
        .changes
        .iter()
        .map(|c| (c.address.to_string(), c.action))
        .collect();
    assert_eq!(
        actions,
        [("products.legacy".to_owned(), crate::plan::Action::Adopt)],
        "{text}"
    );
    // In live: no id of the test account, no staff coupon, the shared amount.
    let in_live = load("live");
    assert!(in_live.coupons.is_empty());
    assert_eq!(in_live.products["legacy"].id, None);
    assert!(in_live.products.contains_key("enterprise"));
    assert_eq!(
        in_live.products["pro"].prices["monthly"].pricing,
        Pricing::PerUnit {
            unit_amount: MinorAmount::from_minor(7900).unwrap()
        }
    );
}

#[test]
fn webhook_endpoints_are_adopted_by_id_and_plan_no_change_not_even_over_connect() {
    let dashboard = |id: &str, url: &str, events: &[&str]| crate::live::LiveWebhook {
        id: id.into(),
        created: 10,
        url: url.into(),
        events: events.iter().map(|e| (*e).to_owned()).collect(),
        api_version: None,
        application: None,
        description: None,
        disabled: false,
        metadata: BTreeMap::new().into(),
    };
    let mut live = fixtures::live(Vec::new(), Vec::new());
    let mut platform = dashboard(
        "we_platform",
        "https://acme.example/connect",
        &["account.updated"],
    );
    platform.application = Some("ca_123".into());
    platform.disabled = true;
    platform.api_version = Some("2024-06-20".into());
    live.webhooks = vec![
        dashboard(
            "we_app",
            "https://app.acme.example/stripe",
            &["invoice.paid", "invoice.payment_failed"],
        ),
        platform,
    ];
    let (text, catalog, _) = run(&live);
    assert_written(
        &text,
        &[
            "[webhooks.app_acme_example_stripe]\nid = \"we_app\"\nurl = \"https://app.acme.example/stripe\"",
            "api_version = \"account_default\"",
            "api_version = \"2024-06-20\"\nconnect = true\ndisabled = true",
        ],
    );
    let plan = crate::plan::plan(&catalog, &live).unwrap();
    assert!(
        plan.changes
            .iter()
            .all(|c| c.action == crate::plan::Action::Adopt),
        "{:#?}",
        plan.changes
    );
    assert!(
        plan.changes
            .iter()
            .all(|c| c.fields.iter().all(|f| f.field.starts_with("metadata.")))
    );
}
