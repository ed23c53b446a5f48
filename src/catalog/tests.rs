//! Tests of the whole catalog stage: each validation rule, with its diagnostics snapshotted.

use super::*;

/// Every diagnostic for `text`, rendered as a user sees it (no colour).
fn problems(text: &str) -> String {
    let source = SourceFile::new("billing.toml", text);
    let parsed = parse(&source);
    schema::check::agrees(text, parsed.as_ref().err().map_or(&[], Vec::as_slice));
    match parsed {
        Ok(_) => "valid".to_owned(),
        Err(diagnostics) => diagnostics
            .iter()
            .map(|d| d.render(&source, false))
            .collect::<Vec<_>>()
            .join("\n"),
    }
}

/// Asserts that the diagnostics for `text` include each of `expected`.
#[track_caller]
fn assert_problems(text: &str, expected: &[&str]) {
    let shown = problems(text);
    for expected in expected {
        assert!(shown.contains(expected), "{expected:?} in:\n{shown}");
    }
}

fn valid(text: &str) -> Catalog {
    let source = SourceFile::new("billing.toml", text);
    match parse(&source) {
        Ok(catalog) => {
            schema::check::agrees(text, &[]);
            catalog
        }
        Err(diagnostics) => panic!(
            "expected a valid catalog, got {} problems:\n{}",
            diagnostics.len(),
            problems(text)
        ),
    }
}

const PRO: &str = "[products.pro]\nname = \"Pro\"\n";

fn with_price(price: &str) -> String {
    format!("{PRO}\n[products.pro.prices.monthly]\n{price}")
}

#[test]
fn repository_catalog_is_valid() {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/billing.toml")).unwrap();
    let catalog = valid(&text);
    assert!(catalog.products.len() >= 3);
    assert!(
        catalog
            .products
            .values()
            .any(|p| p.prices.values().any(|p| !p.is_recurring()))
    );
    assert!(catalog.products.values().any(|p| {
        p.prices
            .values()
            .any(|p| p.recurring.map(|r| r.interval) == Some(Interval::Year))
    }));
}

#[test]
fn amounts_convert_exactly_per_currency() {
    let catalog = valid(
        r#"
[products.pro]
name = "Pro"
default_price = "usd"
[products.pro.prices.usd]
amount = "79.00"
currency = "USD"
interval = "month"
[products.pro.prices.float]
amount = 79.99
currency = "usd"
[products.pro.prices.jpy]
amount = 1000
currency = "jpy"
[products.pro.prices.kwd]
amount = "12.5"
currency = "kwd"
[products.pro.prices.minor]
unit_amount = 7900
currency = "eur"
[products.pro.prices.metered]
unit_amount_decimal = "0.05"
currency = "usd"
interval = "month"
"#,
    );
    let prices = &catalog.products["pro"].prices;
    let unit = |key: &str| match &prices[key].pricing {
        Pricing::PerUnit { unit_amount } => unit_amount.decimal_string(),
        Pricing::Tiered { .. } => unreachable!(),
    };
    assert_eq!(unit("usd"), "7900");
    assert_eq!(prices["usd"].currency.code(), "usd");
    assert_eq!(unit("float"), "7999");
    assert_eq!(unit("jpy"), "1000");
    assert_eq!(unit("kwd"), "12500");
    assert_eq!(unit("minor"), "7900");
    assert_eq!(unit("metered"), "0.05");
    assert_eq!(prices["usd"].amount_summary(), "$79.00 / month");
    assert_eq!(prices["jpy"].amount_summary(), "¥1,000 one-time");
    assert_eq!(prices["usd"].lookup_key, "pro_usd");
    assert_eq!(catalog.namespace, "default");
}

#[test]
fn inexact_amounts() {
    insta::assert_snapshot!(problems(&format!(
        "{PRO}[products.pro.prices.a]\namount = \"12.001\"\ncurrency = \"usd\"\n\
         [products.pro.prices.b]\namount = 1.5\ncurrency = \"jpy\"\n\
         [products.pro.prices.c]\namount = \"1.2345\"\ncurrency = \"kwd\"\n\
         [products.pro.prices.d]\namount = 0.30000000000000004\ncurrency = \"usd\"\n"
    )));
}

#[test]
fn zero_or_two_amount_fields() {
    insta::assert_snapshot!(problems(&format!(
        "{PRO}[products.pro.prices.none]\ncurrency = \"usd\"\n\
         [products.pro.prices.two]\namount = \"1.00\"\nunit_amount = 100\ncurrency = \"usd\"\n"
    )));
}

#[test]
fn negative_and_malformed_amounts() {
    insta::assert_snapshot!(problems(&format!(
        "{PRO}[products.pro.prices.a]\namount = \"-5.00\"\ncurrency = \"usd\"\n\
         [products.pro.prices.b]\nunit_amount = -500\ncurrency = \"usd\"\n\
         [products.pro.prices.c]\namount = \"1,000.00\"\ncurrency = \"usd\"\n\
         [products.pro.prices.d]\nunit_amount_decimal = \"0.0000000000001\"\ncurrency = \"usd\"\n\
         [products.pro.prices.e]\namount = \"1000000.00\"\ncurrency = \"usd\"\n"
    )));
}

#[test]
fn unknown_currency() {
    insta::assert_snapshot!(problems(&with_price(
        "amount = \"1.00\"\ncurrency = \"uds\"\n"
    )));
}

#[test]
fn keys_outside_the_allowed_characters() {
    insta::assert_snapshot!(problems(
        "[products.Pro-Plan]\nname = \"Pro\"\n[products.Pro-Plan.prices.\"Monthly Price\"]\namount = 1\ncurrency = \"usd\"\n"
    ));
}

#[test]
fn keys_that_would_share_an_output_name() {
    // A price's own name can be another's `__LOOKUP_KEY` or `__SUPERSEDED` name, and `p.q__x`
    // and `p__q.x` share all three of theirs.
    let price = "amount = \"1.00\"\ncurrency = \"usd\"\n";
    insta::assert_snapshot!(problems(&format!(
        "[products.p]\nname = \"P\"\n[products.p.prices.x__superseded]\n{price}\
         [products.p.prices.x]\n{price}[products.p.prices.x__lookup_key]\n{price}\
         [products.p.prices.q__x]\n{price}\
         [products.p__q]\nname = \"Q\"\n[products.p__q.prices.x]\n{price}"
    )));
}

#[test]
fn duplicate_lookup_keys_name_the_defaulted_key() {
    insta::assert_snapshot!(problems(
        r#"
[products.a_b]
name = "AB"
[products.a_b.prices.c]
amount = 1
currency = "usd"
[products.a]
name = "A"
[products.a.prices.b_c]
amount = 1
currency = "usd"
[products.x]
name = "X"
[products.x.prices.one]
amount = 1
currency = "usd"
lookup_key = "shared"
[products.x.prices.two]
amount = 2
currency = "usd"
lookup_key = "shared"
"#
    ));
}

#[test]
fn default_price_must_name_a_price_of_the_product() {
    insta::assert_snapshot!(problems(
        "[products.pro]\nname = \"Pro\"\ndefault_price = \"monthy\"\n[products.pro.prices.monthly]\namount = 1\ncurrency = \"usd\"\n\
         [products.free]\nname = \"Free\"\ndefault_price = \"monthly\"\n"
    ));
}

#[test]
fn recurring_fields_on_a_one_time_price() {
    insta::assert_snapshot!(problems(&with_price(
        "amount = 1\ncurrency = \"usd\"\ninterval_count = 3\n"
    )));
}

#[test]
fn interval_limits() {
    insta::assert_snapshot!(problems(&with_price(
        "amount = 1\ncurrency = \"usd\"\ninterval = \"month\"\ninterval_count = 37\n"
    )));
    insta::assert_snapshot!(problems(&with_price(
        "amount = 1\ncurrency = \"usd\"\ninterval = \"monthly\"\n"
    )));
}

#[test]
fn tiers_rules() {
    insta::assert_snapshot!(problems(
        r#"
[products.pro]
name = "Pro"
[products.pro.prices.untiered]
amount = 1
currency = "usd"
interval = "month"
tiers = [{ up_to = 10, amount = "1.00" }, { up_to = "inf", amount = "0.50" }]
[products.pro.prices.one_time]
billing_scheme = "tiered"
tiers_mode = "volume"
currency = "usd"
tiers = [{ up_to = "inf", amount = "1.00" }]
[products.pro.prices.transformed]
billing_scheme = "tiered"
tiers_mode = "graduated"
currency = "usd"
interval = "month"
tiers = [{ up_to = "inf", amount = "1.00" }]
transform_quantity = { divide_by = 1000, round = "up" }
"#
    ));
}

#[test]
fn tier_bounds() {
    insta::assert_snapshot!(problems(
        r#"
[products.pro]
name = "Pro"
[products.pro.prices.monthly]
billing_scheme = "tiered"
currency = "usd"
interval = "month"
tiers = [
  { up_to = 100, amount = "1.00" },
  { up_to = 50, flat_amount = "10.00" },
  { up_to = "inf" },
  { up_to = 1000, amount = "0.10" },
]
"#
    ));
}

#[test]
fn valid_tiers_and_currency_options() {
    let catalog = valid(
        r#"
[products.api]
name = "API"
[products.api.prices.monthly]
billing_scheme = "tiered"
tiers_mode = "graduated"
currency = "usd"
interval = "month"
tiers = [{ up_to = 1000, flat_amount = "10.00" }, { up_to = "inf", unit_amount_decimal = "0.5" }]
currency_options = { eur = { tiers = [{ up_to = 1000, flat_amount = "9" }, { up_to = "inf", amount = "0.01" }] } }
[products.pro]
name = "Pro"
[products.pro.prices.monthly]
amount = "79.00"
currency = "usd"
interval = "month"
interval_count = 3
currency_options = { eur = "72.00", gbp = { unit_amount = 6400, tax_behavior = "exclusive" } }
"#,
    );
    let api = &catalog.products["api"].prices["monthly"];
    let Pricing::Tiered { mode, tiers } = &api.pricing else {
        panic!("tiered")
    };
    assert_eq!(*mode, TiersMode::Graduated);
    assert_eq!(tiers[0].up_to, Some(1000));
    assert_eq!(
        tiers[0].flat_amount.map(|a| a.decimal_string()),
        Some("1000".into())
    );
    assert_eq!(tiers[1].up_to, None);
    assert_eq!(
        tiers[1].unit_amount.map(|a| a.decimal_string()),
        Some("0.5".into())
    );
    let eur = Currency::parse("eur").unwrap();
    assert!(
        matches!(&api.currency_options[&eur].pricing, CurrencyOptionPricing::Tiered(t) if t.len() == 2)
    );
    let pro = &catalog.products["pro"].prices["monthly"];
    assert_eq!(pro.amount_summary(), "$79.00 / 3 months");
    assert_eq!(
        pro.currency_options[&eur].pricing,
        CurrencyOptionPricing::PerUnit(MinorAmount::from_minor(7200).unwrap())
    );
    let gbp = &pro.currency_options[&Currency::parse("gbp").unwrap()];
    assert_eq!(gbp.tax_behavior, Some(TaxBehavior::Exclusive));
}

#[test]
fn currency_option_problems() {
    insta::assert_snapshot!(problems(&with_price(
        "amount = 1\ncurrency = \"usd\"\ncurrency_options = { usd = \"1.00\", eur = \"1.001\", xyz = \"1\", gbp = true, EUR = \"2\" }\n"
    )));
}

#[test]
fn reserved_metadata_keys_and_limits() {
    let many: String = (0..49).map(|i| format!("k{i} = \"v\"\n")).collect();
    insta::assert_snapshot!(problems(&format!(
        "[products.pro]\nname = \"Pro\"\n[products.pro.metadata]\nbilling_key = \"x\"\n\"{}\" = \"v\"\nlong = \"{}\"\nempty = \"\"\nnum = 5\n\
         [products.other]\nname = \"Other\"\n[products.other.metadata]\n{many}",
        "k".repeat(41),
        "v".repeat(501)
    )));
}

#[test]
fn stripe_limits_on_products_and_prices() {
    let features: Vec<String> = (0..16).map(|i| format!("\"feature {i}\"")).collect();
    insta::assert_snapshot!(problems(&format!(
        "[products.pro]\nname = \"Pro\"\nunit_label = \"seats per month\"\nstatement_descriptor = \"ACME <PRO>\"\n\
         tax_code = \"txcd_123\"\nurl = \"acme.example\"\nfeatures = [{}, \"{}\"]\n\
         [products.pro.prices.monthly]\namount = 1\ncurrency = \"usd\"\nlookup_key = \"{}\"\n",
        features.join(", "),
        "x".repeat(81),
        "k".repeat(201)
    )));
}

#[test]
fn unknown_keys_with_did_you_mean() {
    insta::assert_snapshot!(problems(
        r#"
namespce = "acme"
[products.pro]
nmae = "Pro"
marketing_features = ["x"]
[products.pro.prices.monthly]
amount = 1
currency = "usd"
recurring = { interval = "month" }
colour = "blue"
"#
    ));
}

const ENVIRONMENTS: &str = r#"
default_environment = "test"

[environments.local]
sandbox = true

[environments.test]
mode = "test"
secret_key_env = "STRIPE_TEST_SECRET_KEY"
outputs = "generated/billing.test.json"

[environments.live]
mode = "live"
secret_key_env = "STRIPE_LIVE_SECRET_KEY"
account = "acct_1ExampleLive"
api_base = "https://api.stripe.com/"

[products.pro]
name = "Pro"
default_price = "monthly"

[products.pro.overrides.local]
name = "Pro (local)"

[products.pro.prices.monthly]
amount = "79.00"
currency = "usd"
interval = "month"

[products.pro.prices.monthly.overrides.test]
amount = "1.00"

[products.pro.prices.founders]
amount = "49.00"
currency = "usd"
interval = "month"
environments = ["live"]

[coupons.staff]
percent_off = 100
environments = ["local", "test"]
"#;

fn for_env(text: &str, env: Option<&str>) -> Result<Catalog, String> {
    let source = SourceFile::new("billing.toml", text);
    let parsed = parse_for(&source, EnvChoice::Pick(env));
    match &parsed {
        Ok(_) => schema::check::agrees(text, &[]),
        Err(super::load::Rejected::Invalid(diagnostics)) => {
            schema::check::agrees(text, diagnostics);
        }
        Err(super::load::Rejected::Choice(_)) => {}
    }
    parsed.map_err(|rejected| match rejected {
        super::load::Rejected::Invalid(diagnostics) => diagnostics
            .iter()
            .map(|d| d.render(&source, false))
            .collect::<Vec<_>>()
            .join("\n"),
        super::load::Rejected::Choice(choice) => {
            format!("flag error: {}\nhint: {}", choice.message, choice.hint)
        }
    })
}

#[test]
fn environments_resolve_limits_and_overrides() {
    let all = valid(ENVIRONMENTS);
    assert_eq!(all.environment, None);
    assert_eq!(all.environments.len(), 3);
    let live = &all.environments["live"];
    assert_eq!(live.mode, crate::resource::KeyMode::Live);
    assert_eq!(live.account.as_deref(), Some("acct_1ExampleLive"));
    assert_eq!(live.api_base.as_deref(), Some("https://api.stripe.com"));
    assert_eq!(
        all.environments["local"].secret_key_env,
        "STRIPE_SECRET_KEY"
    );
    assert!(all.environments["local"].sandbox);

    // default_environment picks test: its override, not the live-only price.
    let test = for_env(ENVIRONMENTS, None).unwrap();
    assert_eq!(test.environment.as_deref(), Some("test"));
    let pro = &test.products["pro"];
    assert_eq!(pro.name, "Pro");
    assert_eq!(pro.prices["monthly"].amount_summary(), "$1.00 / month");
    assert!(!pro.prices.contains_key("founders"));
    assert!(test.coupons.contains_key("staff"));

    let live = for_env(ENVIRONMENTS, Some("live")).unwrap();
    let pro = &live.products["pro"];
    assert_eq!(pro.prices["monthly"].amount_summary(), "$79.00 / month");
    assert!(pro.prices.contains_key("founders"));
    assert!(live.coupons.is_empty());

    let local = for_env(ENVIRONMENTS, Some("local")).unwrap();
    assert_eq!(local.products["pro"].name, "Pro (local)");
}

#[test]
fn environment_selection() {
    // Without environments: the embedded sandbox, also by name.
    assert_eq!(for_env(PRO, None).unwrap().environment, None);
    assert_eq!(for_env(PRO, Some("sandbox")).unwrap().environment, None);
    // The only test environment is picked; a live one never is.
    let test_and_live =
        "[environments.test]\nmode = \"test\"\n[environments.live]\nmode = \"live\"\n";
    assert_eq!(
        for_env(test_and_live, None).unwrap().environment.as_deref(),
        Some("test")
    );
    insta::assert_snapshot!(
        "environment_selection_refusals",
        [
            for_env("[environments.live]\nmode = \"live\"\n", None).unwrap_err(),
            for_env(
                "[environments.a]\nmode = \"test\"\n[environments.b]\nmode = \"test\"\n",
                None
            )
            .unwrap_err(),
            for_env(test_and_live, Some("stagign")).unwrap_err(),
            for_env(PRO, Some("test")).unwrap_err(),
        ]
        .join("\n---\n")
    );
}

#[test]
fn environment_rules() {
    insta::assert_snapshot!(problems(
        r#"
default_environment = "prod"
[environments.Live]
mode = "live"
[environments.staging]
secret_key_env = "sk_test_123"
[environments.local]
sandbox = true
mode = "live"
api_base = "http://localhost:1"
[environments.live]
mode = "production"
account = "1234"
outputs = "ids.yaml"
[products.pro]
name = "Pro"
environments = ["live", "qa"]
[products.pro.overrides.qa]
name = "Pro QA"
[products.pro.overrides.local]
prices = {}
[products.pro.prices.monthly]
amount = "79.00"
currency = "usd"
[products.pro.prices.monthly.overrides.local]
amount = "-1"
"#
    ));
}

#[test]
fn outputs_stay_inside_the_catalogs_directory() {
    let env = |outputs: &str| {
        format!(
            "[environments.t]\nmode = \"test\"\noutputs = {outputs:?}\n[products.pro]\nname = \"Pro\"\n"
        )
    };
    for inside in [
        "ids.json",
        "generated/ids.json",
        "./a/../ids.env",
        "a/b/../../.env",
    ] {
        assert_eq!(
            valid(&env(inside)).environments["t"].outputs.as_deref(),
            Some(inside)
        );
    }
    for (outside, how) in [
        ("/etc/ids.json", "an absolute path"),
        ("\\\\server\\ids.json", "an absolute path"),
        ("C:\\ids.json", "an absolute path"),
        ("../ids.json", "climbs out with `..`"),
        ("generated/../../ids.json", "climbs out with `..`"),
        ("a\\..\\..\\.env", "climbs out with `..`"),
    ] {
        let text = problems(&env(outside));
        assert!(
            text.contains(&format!(
                "`outputs` {outside:?} must stay inside the directory of billing.toml"
            )),
            "{text}"
        );
        assert!(text.contains("billing.toml:3:11"), "{text}");
        assert!(text.contains(how), "{text}");
    }
}

#[test]
fn wrong_types_and_missing_fields() {
    insta::assert_snapshot!(problems(
        r#"
namespace = 5
[products.pro]
active = "yes"
features = "fast"
[products.pro.prices.monthly]
amount = true
currency = "usd"
[products.free]
description = "no name"
[products.free.prices.monthly]
amount = "0"
"#
    ));
}

#[test]
fn toml_syntax_error_points_at_it() {
    insta::assert_snapshot!(problems("[products.pro]\nname = \"Pro\nnext = 1\n"));
}

#[test]
fn every_problem_is_reported_at_once() {
    let text = r#"
[products.pro]
name = "Pro"
[products.pro.prices.a]
amount = "12.001"
currency = "usd"
[products.pro.prices.b]
amount = 1
currency = "xyz"
[products.pro.prices.c]
amount = "-1"
currency = "usd"
"#;
    let source = SourceFile::new("billing.toml", text);
    let diagnostics = parse(&source).unwrap_err();
    assert_eq!(diagnostics.len(), 3, "{}", problems(text));
    let lines: Vec<usize> = diagnostics
        .iter()
        .map(|d| source.position(d.span.start).line)
        .collect();
    assert_eq!(lines, vec![5, 9, 11]);
}

#[test]
fn namespace_and_ignore_metadata() {
    let catalog = valid(
        "namespace = \"acme-eu\"\ndefault_environment = \"test\"\nignore_metadata = [\"crm_*\", \"hubspot_id\"]\n[environments.test]\nmode = \"test\"\n",
    );
    assert_eq!(catalog.namespace, "acme-eu");
    assert_eq!(catalog.default_environment.as_deref(), Some("test"));
    assert!(catalog.ignores_metadata_key("crm_owner"));
    assert!(catalog.ignores_metadata_key("hubspot_id"));
    assert!(!catalog.ignores_metadata_key("plan"));
    insta::assert_snapshot!(problems(
        "namespace = \"Acme Corp\"\nignore_metadata = [\"\"]\n"
    ));
}

mod properties {
    use proptest::prelude::*;

    /// Lines that look like catalog content, valid or not, to shake the loader with.
    fn fragment() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("[products.pro]".to_owned()),
            Just("[products.pro.prices.monthly]".to_owned()),
            Just("[[products.pro.prices.monthly.tiers]]".to_owned()),
            Just("[coupons.x]".to_owned()),
            "(name|amount|currency|interval|interval_count|unit_amount|unit_amount_decimal|lookup_key|default_price|tiers_mode|billing_scheme|up_to|metadata|features|tax_behavior) = (\"[a-zA-Z0-9 .\\-]{0,12}\"|-?[0-9]{1,25}|[0-9]{1,5}\\.[0-9]{1,20}|true|\\[\\]|\\{\\}|\"inf\")",
            "[a-z_]{1,10} = \"[^\"\\\\]{0,10}\"",
            ".{0,30}",
        ]
    }

    // Each case is checked as the `catalog` fuzz target checks its input.
    proptest! {
        #[test]
        fn arbitrary_text_never_panics(text in ".{0,400}") {
            crate::fuzzing::catalog(text.as_bytes());
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            crate::fuzzing::catalog(&bytes);
        }

        #[test]
        fn catalog_like_text_never_panics_and_every_problem_renders(lines in proptest::collection::vec(fragment(), 0..30)) {
            crate::fuzzing::catalog(lines.join("\n").as_bytes());
        }
    }
}

const COUPONS: &str = r#"
[products.pro]
name = "Pro"

[coupons.launch20]
name = "Launch: 20% off for 3 months"
percent_off = 20
duration = "repeating"
duration_in_months = 3
max_redemptions = 100
redeem_by = 2099-01-31T23:59:59Z
applies_to = ["pro"]

[coupons.ten]
amount_off = "10.00"
currency = "usd"
currency_options = { eur = "9.00", gbp = { unit_amount_off = 800 } }
duration = "forever"
on_remove = "keep"

[promotion_codes.LAUNCH20]
coupon = "launch20"
max_redemptions = 50
expires_at = 2099-01-01T00:00:00Z
first_time_transaction = true
minimum_amount = "50.00"
minimum_amount_currency = "usd"
currency_options = { eur = "45.00" }

[promotion_codes.partner]
code = "PARTNER-TEN"
coupon = "ten"
active = false
customer = "cus_NffrFeUfNV2Hib"
"#;

#[test]
fn coupons_and_promotion_codes_parse() {
    let catalog = valid(COUPONS);
    let launch = &catalog.coupons["launch20"];
    assert_eq!(launch.discount.summary(), "20% off");
    assert_eq!(launch.duration, CouponDuration::Repeating { months: 3 });
    assert_eq!(launch.max_redemptions, Some(100));
    assert_eq!(launch.redeem_by, Some(4_073_587_199));
    assert_eq!(launch.applies_to, ["pro"]);
    assert_eq!(launch.on_remove, OnRemove::Delete);
    let ten = &catalog.coupons["ten"];
    assert_eq!(ten.discount.summary(), "$10.00 off");
    let Discount::AmountOff {
        currency_options, ..
    } = &ten.discount
    else {
        panic!("amount off")
    };
    assert_eq!(
        currency_options[&Currency::parse("gbp").unwrap()],
        MinorAmount::from_minor(800).unwrap()
    );
    assert_eq!(ten.on_remove, OnRemove::Keep);
    let code = &catalog.promotion_codes["LAUNCH20"];
    assert_eq!(
        (code.code.as_str(), code.coupon.as_str(), code.active),
        ("LAUNCH20", "launch20", true)
    );
    assert!(code.first_time_transaction);
    assert_eq!(
        code.minimum_amount.map(|(c, a)| (c.code(), a.as_integer())),
        Some(("usd", Some(5000)))
    );
    let partner = &catalog.promotion_codes["partner"];
    assert_eq!(
        (partner.code.as_str(), partner.active),
        ("PARTNER-TEN", false)
    );
    assert_eq!(partner.customer.as_deref(), Some("cus_NffrFeUfNV2Hib"));
}

#[test]
fn coupon_rules() {
    insta::assert_snapshot!(problems(
        r#"
[products.pro]
name = "Pro"
[coupons.both]
percent_off = 10
amount_off = "5.00"
currency = "usd"
[coupons.none]
name = "Nothing off"
[coupons.too_much]
percent_off = 120
[coupons.no_currency]
amount_off = "5.00"
[coupons.repeating]
percent_off = 10
duration = "repeating"
[coupons.months]
percent_off = 10
duration_in_months = 3
[coupons.refs]
percent_off = 10
applies_to = ["pri"]
max_redemptions = 0
name = "A name that is much too long to be shown to a customer"
[coupons.inexact]
amount_off = "5.001"
currency = "usd"
[coupons.dates]
percent_off = 10
redeem_by = "2027-01-01"
[coupons.precise]
percent_off = 33.333
applies_to = ["pro", "pro"]
[coupons.tiny]
percent_off = 0.001
"#
    ));
}

#[test]
fn promotion_code_rules() {
    insta::assert_snapshot!(problems(
        r#"
[coupons.launch]
percent_off = 10
max_redemptions = 10
redeem_by = 2030-01-01T00:00:00Z
[promotion_codes.LAUNCH]
coupon = "lunch"
[promotion_codes.MORE]
coupon = "launch"
max_redemptions = 20
expires_at = 2031-01-01T00:00:00Z
[promotion_codes."BAD CODE"]
coupon = "launch"
[promotion_codes.MIN]
coupon = "launch"
minimum_amount = "10.00"
[promotion_codes.launch]
coupon = "launch"
customer = "alice"
[promotion_codes.NOCOUPON]
active = true
[promotion_codes.vip_all]
code = "VIP"
coupon = "launch"
[promotion_codes.vip_one]
code = "vip"
coupon = "launch"
customer = "cus_NffrFeUfNV2Hib"
"#
    ));
}

const TAX_AND_PORTAL: &str = r#"
[products.pro]
name = "Pro"
[products.pro.prices.monthly]
amount = "79.00"
currency = "usd"
interval = "month"
[products.pro.prices.annual]
amount = "790.00"
currency = "usd"
interval = "year"
[products.pro.prices.setup]
amount = "100.00"
currency = "usd"

[tax]
default_tax_behavior = "exclusive"
default_tax_code = "txcd_10103001"
head_office = { line1 = "1 Main St", city = "San Francisco", state = "CA", postal_code = "94105", country = "US" }

[[tax.registrations]]
country = "DE"
type = "standard"
active_from = "now"

[[tax.registrations]]
country = "US"
type = "state_sales_tax"
state = "CA"
active_from = 2027-01-01T00:00:00Z
ends_at = 2028-01-01T00:00:00Z

[tax_rates.vat_de]
display_name = "VAT"
percentage = 19.0
inclusive = false
country = "DE"
tax_type = "vat"

[tax_rates.ny]
display_name = "Sales tax"
percentage = "8.875"
inclusive = false
country = "US"
state = "NY"

[portal]
default_return_url = "https://acme.example/account"
[portal.business_profile]
headline = "Manage your Acme subscription"
privacy_policy_url = "https://acme.example/privacy"
terms_of_service_url = "https://acme.example/terms"
[portal.features]
invoice_history = true
payment_method_update = { enabled = true }
customer_update = ["email", "address", "tax_id"]
subscription_cancel = { mode = "at_period_end", reasons = ["too_expensive", "other"] }
subscription_update = { products = ["pro"], proration_behavior = "create_prorations" }

[portals.partners]
target = "default"
[portals.partners.features]
subscription_update = { products = [{ product = "pro", prices = ["annual"] }], default_allowed_updates = ["price", "quantity"] }
"#;

#[test]
fn tax_and_portal_parse() {
    let catalog = valid(TAX_AND_PORTAL);
    let tax = catalog.tax.as_ref().unwrap();
    assert_eq!(tax.default_tax_behavior.as_deref(), Some("exclusive"));
    assert_eq!(tax.head_office.as_ref().unwrap().country, "US");
    assert_eq!(tax.registrations.len(), 2);
    assert_eq!(tax.registrations[0].label(), "DE standard");
    assert_eq!(tax.registrations[1].label(), "US state_sales_tax CA");
    assert_eq!(tax.registrations[1].ends_at, Some(Some(1_830_297_600)));
    assert_eq!(catalog.tax_rates["ny"].percentage.to_string(), "8.875");
    assert_eq!(catalog.tax_rates["vat_de"].percentage.to_string(), "19");
    let portal = &catalog.portals["default"];
    assert!(
        !portal.account_default
            && portal.settings.invoice_history
            && portal.settings.payment_method_update
    );
    assert_eq!(
        portal.settings.customer_update,
        ["email", "address", "tax_id"]
    );
    let update = portal.settings.subscription_update.as_ref().unwrap();
    assert_eq!(
        update.products,
        [(
            "pro".to_owned(),
            vec!["annual".to_owned(), "monthly".to_owned()]
        )]
    );
    assert_eq!(update.default_allowed_updates, ["price"]);
    let partners = &catalog.portals["partners"];
    assert!(partners.account_default);
    assert_eq!(
        partners
            .settings
            .subscription_update
            .as_ref()
            .unwrap()
            .products[0]
            .1,
        ["annual"]
    );
}

#[test]
fn registrations_rates_and_portals_stripe_would_refuse() {
    insta::assert_snapshot!(problems(
        r#"
[products.legacy]
name = "Legacy"
active = false
[products.legacy.prices.monthly]
amount = "5.00"
currency = "usd"
interval = "month"
[tax]
[[tax.registrations]]
country = "US"
type = "local_amusement_tax"
state = "IL"
[[tax.registrations]]
country = "US"
type = "state_retail_delivery_fee"
state = "CA"
[[tax.registrations]]
country = "DE"
type = "standard"
active_from = 2030-01-01T00:00:00Z
ends_at = 2029-01-01T00:00:00Z
[tax_rates.nostate]
display_name = "Sales tax"
percentage = 5
inclusive = false
state = "NY"
[tax_rates.lower]
display_name = "Sales tax"
percentage = 5
inclusive = false
country = "US"
state = "ny"
[portal]
default_return_url = "https:///account"
[portal.features]
subscription_update = { products = ["legacy"] }
"#
    ));
}

#[test]
fn tax_and_portal_rules() {
    insta::assert_snapshot!(problems(
        r#"
[products.pro]
name = "Pro"
[products.pro.prices.setup]
amount = "1.00"
currency = "usd"
[tax]
default_tax_behavior = "excluded"
default_tax_code = "txcd_1"
head_office = { city = "Berlin" }
[[tax.registrations]]
country = "de"
type = "standard"
[[tax.registrations]]
country = "US"
type = "state_sales_tax"
[[tax.registrations]]
country = "FR"
type = "state_sales_tax"
[[tax.registrations]]
country = "BR"
type = "standard"
[[tax.registrations]]
country = "US"
type = "state_sales_tax"
state = "PR"
[products.team]
name = "Team"
[products.team.prices.monthly]
amount = "10.00"
currency = "usd"
interval = "month"
[products.team.prices.monthly_legacy]
amount = "8.00"
currency = "usd"
interval = "month"
[tax_rates.vat]
display_name = "VAT"
percentage = 120
[tax_rates.fine]
display_name = "Fine"
percentage = 8.87512
inclusive = true
tax_type = "vta"
[portal]
default_return_url = "http://acme.example"
target = "everything"
[portal.features]
subscription_cancel = { mode = "at_period_end", proration_behavior = "create_prorations" }
subscription_update = { products = ["pro", "team"] }
customer_update = ["email", "password"]
[portals.empty.features]
subscription_update = { products = [], default_allowed_updates = [] }
"#
    ));
}

#[test]
fn environments_share_lookup_keys_and_codes_only_across_environments() {
    let text = r#"
[environments.t]
mode = "test"
[environments.u]
mode = "test"
[environments.app]
sandbox = true
outputs = "app/.env"
[products.p]
name = "P"
[products.p.prices.a]
amount = "1.00"
currency = "usd"
lookup_key = "p_main"
environments = ["t"]
[products.p.prices.b]
amount = "2.00"
currency = "usd"
lookup_key = "p_main"
environments = ["u", "app"]
[coupons.c]
percent_off = 10
[promotion_codes.k1]
code = "SAVE"
coupon = "c"
environments = ["t"]
[promotion_codes.k2]
code = "SAVE"
coupon = "c"
environments = ["u", "app"]
"#;
    let catalog = valid(text);
    assert_eq!(
        catalog.environments["app"].outputs.as_deref(),
        Some("app/.env")
    );
    // In one environment that shares them, they clash.
    let both = text.replace(
        "environments = [\"u\", \"app\"]",
        "environments = [\"t\", \"u\", \"app\"]",
    );
    insta::assert_snapshot!(problems(&both));
}

#[test]
fn references_to_entries_limited_away() {
    insta::assert_snapshot!(problems(
        r#"
[environments.local]
sandbox = true
[environments.live]
mode = "live"
[products.pro]
name = "Pro"
default_price = "annual"
[products.pro.prices.monthly]
amount = "9.00"
currency = "usd"
interval = "month"
[products.pro.prices.annual]
amount = "90.00"
currency = "usd"
interval = "year"
environments = ["local"]
[products.beta]
name = "Beta"
environments = ["local"]
[coupons.staff]
percent_off = 100
applies_to = ["beta"]
environments = ["local"]
[coupons.staff.overrides.live]
percent_of = 5
[promotion_codes.STAFF]
coupon = "staff"
[promotion_codes.LAUNCH-2]
coupon = "staff"
environments = ["local"]
[promotion_codes.launch_2]
code = "LAUNCHTWO"
coupon = "staff"
environments = ["local"]
"#
    ));
}

#[test]
fn a_key_in_secret_key_env_is_never_shown() {
    let key = format!("sk_live_{}", "0123456789abcdefghij");
    let text = format!("[environments.live]\nmode = \"live\"\nsecret_key_env = \"{key}\"\n");
    let shown = problems(&text);
    assert!(!shown.contains(&key), "{shown}");
    assert!(
        shown.contains("`secret_key_env` holds what looks like a Stripe key"),
        "{shown}"
    );
    assert!(shown.contains("the line is not shown"), "{shown}");
}

#[test]
fn renames_adoption_ids_and_on_remove() {
    let catalog = valid(
        r#"
[products.team]
moved_from = "pro"
on_remove = "forget"
name = "Team"

[products.team.prices.monthly]
moved_from = "month"
on_remove = "forget"
amount = "10.00"
currency = "usd"

[products.team.prices.yearly]
id = "price_1AbcDEF"
amount = "100.00"
currency = "usd"

[coupons.launch]
moved_from = "old_launch"
on_remove = "forget"
percent_off = 10

[tax_rates.vat_de]
id = "txr_1Abc"
display_name = "VAT"
percentage = 19
inclusive = false
"#,
    );
    let team = &catalog.products["team"];
    assert_eq!(team.moved_from.as_deref(), Some("pro"));
    assert_eq!(team.on_remove, OnRemove::Forget);
    let monthly = &team.prices["monthly"];
    assert_eq!(monthly.moved_from.as_deref(), Some("month"));
    assert_eq!(team.prices["yearly"].id.as_deref(), Some("price_1AbcDEF"));
    assert_eq!(catalog.coupons["launch"].on_remove, OnRemove::Forget);
    assert_eq!(catalog.tax_rates["vat_de"].id.as_deref(), Some("txr_1Abc"));

    let bad = problems(
        r#"
[products.pro]
name = "Pro"
on_remove = "keep"

[products.team]
moved_from = "pro"
name = "Team"

[products.team.prices.a]
moved_from = "old"
amount = "1.00"
currency = "usd"

[products.team.prices.b]
moved_from = "old"
id = "prod_notAPrice"
amount = "1.00"
currency = "usd"

[products.solo]
moved_from = "solo"
name = "Solo"
"#,
    );
    for expected in [
        "billing.toml:4:13: error: `on_remove` must be one of \"archive\", \"forget\"",
        "billing.toml:7:14: error: `moved_from = \"pro\"` names [products.pro], which is still declared",
        "billing.toml:16:14: error: [products.team.prices.a] and [products.team.prices.b] both have `moved_from = \"old\"`",
        "billing.toml:17:6: error: `id` must be a Stripe price id such as \"price_1Abc…\"",
        "billing.toml:22:14: error: `moved_from` names [products.solo] itself",
    ] {
        assert!(bad.contains(expected), "missing {expected:?} in:\n{bad}");
    }
}

#[test]
fn adoption_ids_are_unique_and_exclusive_with_moved_from_and_on_remove_takes_a_metadata_key() {
    let metadata: String = (0..48).map(|i| format!("k{i} = \"v\"\n")).collect();
    let bad = problems(&format!(
        r#"
[products.pro]
name = "Pro"
id = "prod_a"
moved_from = "old"

[products.pro.prices.a]
id = "price_same"
amount = "1.00"
currency = "usd"

[products.pro.prices.b]
id = "price_same"
amount = "1.00"
currency = "usd"

[tax_rates.vat]
id = "txr_a"
moved_from = "old_vat"
display_name = "VAT"
percentage = 19
inclusive = false

[products.big]
name = "Big"
on_remove = "forget"

[products.big.metadata]
{metadata}"#
    ));
    for expected in [
        "billing.toml:5:14: error: `id` and `moved_from` cannot both be set",
        "an entry pinned by `id` is found by its id after a rename",
        "billing.toml:13:6: error: [products.pro.prices.a] and [products.pro.prices.b] both have `id = \"price_same\"`",
        "billing.toml:19:14: error: `id` and `moved_from` cannot both be set",
        "48 metadata keys declared; with `on_remove = \"forget\"` at most 47 are allowed",
    ] {
        assert!(bad.contains(expected), "missing {expected:?} in:\n{bad}");
    }
    // 48 keys are fine without on_remove.
    valid(&format!(
        "[products.big]\nname = \"Big\"\n\n[products.big.metadata]\n{metadata}"
    ));
}

#[test]
fn amounts_and_percentages_past_28_places_are_errors_at_their_place_not_rounded() {
    let places = |n: usize| format!("0.{}1", "0".repeat(n - 1));
    let text = format!(
        "{PRO}\n[products.pro.prices.monthly]\nunit_amount_decimal = \"{}\"\ncurrency = \"usd\"\ninterval = \"month\"\n\n[products.pro.prices.once]\namount = \"1.{}1\"\ncurrency = \"usd\"\n\n[tax_rates.vat]\ndisplay_name = \"VAT\"\npercentage = \"19.{}\"\ninclusive = false\n",
        places(30),
        "0".repeat(29),
        "5".repeat(38),
    );
    let problems = problems(&text);
    for (line, column) in [(5, 23), (10, 10), (15, 14)] {
        assert!(
            problems.contains(&format!("billing.toml:{line}:{column}")),
            "line {line} column {column}:\n{problems}"
        );
    }
    assert_eq!(
        problems
            .matches("more digits than billing can hold exactly")
            .count(),
        3,
        "{problems}"
    );
}

const ENVS: &str = r#"
[environments.test]
mode = "test"
[environments.live]
mode = "live"
"#;

#[test]
fn webhook_endpoints_expand_presets_and_resolve_urls_per_environment() {
    let text = format!(
        r#"{ENVS}
[webhooks.app]
url = "https://app.acme.example/hooks"
events = ["invoicing", "invoice.paid", "customer.subscription.*"]
[webhooks.app.overrides.local]
url = "http://localhost:4242/hooks"
[environments.local]
sandbox = true
"#
    );
    let live = for_env(&text, Some("live")).unwrap();
    let app = &live.webhooks["app"];
    assert_eq!(app.url, "https://app.acme.example/hooks");
    assert_eq!(app.secret_file, ".billing/live/webhooks/app.secret");
    // invoice.paid is in the invoicing preset: once.
    assert_eq!(app.events.len(), 4 + 8, "{:?}", app.events);
    assert!(app.events.windows(2).all(|w| w[0] < w[1]));
    let local = for_env(&text, Some("local")).unwrap();
    assert_eq!(local.webhooks["app"].url, "http://localhost:4242/hooks");
    // Stripe's own API refuses an endpoint on this machine, in test mode too.
    let refused = problems(&text.replace("overrides.local", "overrides.test"));
    assert!(
        refused.contains("error: Stripe refuses a webhook endpoint on this machine (localhost, a loopback address), in test mode too: its URL must be publicly reachable (in environment `test`)"),
        "{refused}"
    );
    assert!(refused.contains("stripe listen --forward-to"), "{refused}");
    // "*" stands alone.
    let all =
        valid("[webhooks.a]\nurl = \"https://x.example\"\nevents = [\"*\", \"invoice.paid\"]\n");
    assert_eq!(all.webhooks["a"].events, ["*"]);
}

#[test]
fn webhook_endpoint_problems_point_at_the_value() {
    let text = format!(
        r#"{ENVS}
[webhooks.app]
url = "http://localhost:4242/hooks"
events = ["invoice.payed", "customer.subscriptions.*", "subscription"]
api_version = "2026-13-01"
rotation = "twostep"
secret_file = "../app.secret"
[webhooks.none]
url = "http://example.com/hooks"
events = []
"#
    );
    assert_problems(
        &text,
        &[
            "billing.toml:8:7: error: Stripe refuses a webhook endpoint on this machine (localhost, a loopback address), in test mode too: its URL must be publicly reachable\n",
            "billing.toml:9:11: error: unknown event \"invoice.payed\"",
            "did you mean \"invoice.paid\"?",
            "billing.toml:9:28: error: the pattern \"customer.subscriptions.*\" matches no event type",
            "did you mean \"subscriptions\"?",
            "billing.toml:10:15: error: \"2026-13-01\" is not a Stripe API version",
            "`rotation` must be one of \"immediate\", \"two_step\"",
            "`secret_file` must stay inside billing.toml's directory: \"../app.secret\" (climbs out with `..`)",
            "billing.toml:14:7: error: a webhook endpoint's `url` must be https",
            "billing.toml:15:10: error: `events` cannot be empty",
        ],
    );
}

#[test]
fn a_seventeenth_webhook_endpoint_is_refused() {
    let text: String = (0..17)
        .map(|i| format!("[webhooks.w{i}]\nurl = \"https://x.example/{i}\"\nevents = [\"*\"]\n"))
        .collect();
    let shown = problems(&text);
    assert!(
        shown.contains("billing.toml:49:11: error: 17 webhook endpoints declared; Stripe allows at most 16 per account"),
        "{shown}"
    );
}

#[test]
fn a_secret_file_git_would_commit_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .args(args)
            .current_dir(dir.path())
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false)
    };
    if !git(&["init", "-q"]) {
        return; // no git on this machine: nothing to check against
    }
    std::fs::write(dir.path().join(".gitignore"), "secrets/\n").unwrap();
    let path = dir.path().join("billing.toml");
    let entry = |file: &str| {
        format!(
            "[webhooks.app]\nurl = \"https://x.example\"\nevents = [\"*\"]\nsecret_file = \"{file}\"\n"
        )
    };
    std::fs::write(&path, entry("secrets/app.whsec")).unwrap();
    assert!(load_for(&path, EnvChoice::All).is_ok());
    std::fs::write(&path, entry("app.whsec")).unwrap();
    let Err(LoadError::Invalid { file, diagnostics }) = load_for(&path, EnvChoice::All) else {
        panic!("a secret file git would commit is refused");
    };
    let shown = diagnostics[0].render(&file, false);
    assert!(
        shown.contains(":4:15: error: `secret_file` \"app.whsec\" is not ignored by git"),
        "{shown}"
    );
}

#[test]
fn entitlement_problems_point_at_the_value() {
    let long = "k".repeat(81);
    let text = format!(
        r#"[entitlements.sso]
name = "Single sign-on"
[entitlements.audit]
name = "Audit log"
lookup_key = "{long}"
[entitlements.export]
name = " "
lookup_key = "sso"
[entitlements.spaced]
name = "Spaced"
lookup_key = "two words"
[products.pro]
name = "Pro"
entitlements = ["ssso", "audit", "audit"]
"#
    );
    assert_problems(
        &text,
        &[
            "billing.toml:5:14: error: `lookup_key` is longer than 80 characters",
            "billing.toml:7:8: error: `name` cannot be empty",
            "billing.toml:8:14: error: [entitlements.sso] and [entitlements.export] share the lookup key \"sso\"",
            "billing.toml:11:14: error: `lookup_key` cannot contain spaces or control characters",
            "billing.toml:14:17: error: `entitlements` names `ssso`, which is not declared",
            "did you mean \"sso\"?",
            "billing.toml:14:34: error: `audit` is listed twice",
        ],
    );
}

#[test]
fn meter_and_metered_price_problems_point_at_the_value() {
    let text = r#"[meters.calls]
display_name = "Calls"
event_name = "api_call"
aggregation = "max"
[meters.twice]
display_name = "Twice"
event_name = "api_call"
aggregation = "sum"
event_time_window = "week"
[meters.off]
display_name = "Off"
event_name = "off"
aggregation = "count"
active = false
[products.api]
name = "API"
[products.api.prices.once]
currency = "usd"
amount = "1.00"
meter = "calls"
[products.api.prices.typo]
currency = "usd"
amount = "1.00"
interval = "month"
meter = "cals"
aggregate_usage = "sum"
[products.api.prices.off]
currency = "usd"
amount = "1.00"
interval = "month"
meter = "off"
"#;
    assert_problems(
        text,
        &[
            "billing.toml:4:15: error: `aggregation` must be one of \"count\", \"sum\", \"last\"",
            "billing.toml:7:14: error: meters `calls` and `twice` both declare event_name \"api_call\"",
            "billing.toml:9:21: error: `event_time_window` must be one of \"day\", \"hour\"",
            "billing.toml:20:9: error: `meter` on a one-time price",
            "billing.toml:25:9: error: no meter `cals` is declared",
            "did you mean \"calls\"?",
            "aggregate_usage",
            "billing.toml:31:9: error: meter `off` is declared `active = false`",
        ],
    );
}

#[test]
fn entitlements_default_their_lookup_key_and_products_list_them_sorted() {
    let catalog = valid(
        "[entitlements.sso]\nname = \"SSO\"\n[entitlements.audit]\nname = \"Audit\"\nlookup_key = \"audit_log\"\n[products.pro]\nname = \"Pro\"\nentitlements = [\"sso\", \"audit\"]\n",
    );
    let sso = &catalog.entitlements["sso"];
    assert_eq!(
        (sso.lookup_key.as_str(), sso.lookup_key_written),
        ("sso", false)
    );
    let audit = &catalog.entitlements["audit"];
    assert_eq!(
        (audit.lookup_key.as_str(), audit.lookup_key_written),
        ("audit_log", true)
    );
    assert_eq!(catalog.products["pro"].entitlements, ["audit", "sso"]);
}

#[test]
fn doctor_sells_names_event_presets_and_bad_values_point_at_their_place() {
    let catalog = valid("[doctor]\nsells = [\"invoicing\", \"connect\", \"invoicing\"]\n");
    assert_eq!(catalog.doctor.sells, ["connect", "invoicing"]);
    assert!(valid("").doctor.sells.is_empty());
    assert_problems(
        "[doctor]\nsells = [\"invocing\", 3]\nsell = []\n",
        &[
            "billing.toml:2:10: error: `sells` must be one of \"connect\", \"invoicing\", \"one_time_payments\", \"subscriptions\"",
            "did you mean \"invoicing\"?",
            "billing.toml:2:22: error: `sells` in `doctor` must contain only strings",
            "billing.toml:3:1: error: unknown key `sell` in `doctor`",
            "did you mean `sells`?",
        ],
    );
    let shown = problems("doctor = \"yes\"\n");
    assert!(shown.contains("billing.toml:1:10: error:"), "{shown}");
}
