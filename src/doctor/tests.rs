//! The signals judged on accounts built from catalogs (`LiveState::matching`), one fact
//! changed at a time.

use super::*;
use crate::live::fixtures::catalog;

const SELLS: &str = r#"
[products.pro]
name = "Pro"

[products.pro.prices.monthly]
amount = "19.00"
currency = "usd"
interval = "month"

[products.setup]
name = "Setup"

[products.setup.prices.once]
amount = "99.00"
currency = "usd"

[webhooks.app]
url = "https://app.example.com/hooks"
events = ["subscriptions", "one_time_payments"]
"#;

fn inputs<'a>(catalog: &'a Catalog, live: &'a LiveState, mode: KeyMode) -> Inputs<'a> {
    Inputs {
        catalog,
        live,
        environment: "test",
        mode,
        test_data: mode == KeyMode::Test,
        key: KeyKind::Secret,
        tax: TaxStatus {
            status: "pending".to_owned(),
            missing_fields: vec!["head_office".to_owned()],
        },
        probes: None,
    }
}

/// The report on `live` for `catalog`, read with a key of `mode` (five passes to pass).
fn examined(catalog: &Catalog, live: &LiveState, mode: KeyMode) -> Report {
    examine(&inputs(catalog, live, mode), 5)
}

fn status(report: &Report, n: usize) -> Status {
    report.signals[n - 1].status
}

#[test]
fn presets_follow_what_the_catalog_sells() {
    assert_eq!(
        presets(&catalog(SELLS)),
        ["one_time_payments", "subscriptions"]
    );
    let more = catalog(&format!("{SELLS}\n[doctor]\nsells = [\"connect\"]\n"));
    assert_eq!(
        presets(&more),
        ["connect", "one_time_payments", "subscriptions"]
    );
    assert!(presets(&catalog("")).is_empty());
}

#[test]
fn an_endpoint_counts_when_enabled_and_https_or_loopback_in_test_mode() {
    let c = catalog(SELLS);
    let mut live = LiveState::matching(&c);
    let report = examined(&c, &live, KeyMode::Test);
    assert_eq!(status(&report, 1), Status::Pass);
    assert_eq!(status(&report, 6), Status::Pass);
    live.webhooks[0].url = "http://localhost:4242/hooks".to_owned();
    assert_eq!(status(&examined(&c, &live, KeyMode::Test), 1), Status::Pass);
    let report = examined(&c, &live, KeyMode::Live);
    assert_eq!(status(&report, 1), Status::Fail);
    assert!(
        report.signals[0].evidence[0].contains("on this machine, which live events never reach")
    );
    live.webhooks[0].url = "http://app.example.com/hooks".to_owned();
    let report = examined(&c, &live, KeyMode::Test);
    assert!(report.signals[0].evidence[0].contains("not https"));
    live.webhooks[0].url = "https://app.example.com/hooks".to_owned();
    live.webhooks[0].disabled = true;
    let report = examined(&c, &live, KeyMode::Test);
    assert_eq!(
        (status(&report, 1), status(&report, 6)),
        (Status::Fail, Status::Fail)
    );
}

#[test]
fn the_wildcard_covers_every_event_and_a_missing_one_is_named() {
    let c = catalog(SELLS);
    let mut live = LiveState::matching(&c);
    live.webhooks[0]
        .events
        .retain(|e| e != "payment_intent.succeeded");
    let report = examined(&c, &live, KeyMode::Test);
    assert_eq!(report.signals[0].missing, ["payment_intent.succeeded"]);
    assert!(
        report.signals[0].fix[0]
            .contains("in [webhooks.app]: events = [\"one_time_payments\", \"subscriptions\"]")
    );
    live.webhooks[0].events = vec!["*".to_owned()];
    let report = examined(&c, &live, KeyMode::Test);
    assert_eq!(status(&report, 1), Status::Pass);
}

#[test]
fn an_endpoint_on_the_accounts_default_version_fails_signal_6() {
    let c = catalog(SELLS);
    let mut live = LiveState::matching(&c);
    live.webhooks[0].api_version = None;
    let report = examined(&c, &live, KeyMode::Test);
    assert_eq!(status(&report, 6), Status::Fail);
    assert_eq!(report.signals[5].missing, [live.webhooks[0].id.clone()]);
}

#[test]
fn only_a_4xx_to_the_probe_passes_and_without_it_signatures_are_checked_by_hand() {
    let c = catalog(SELLS);
    let live = LiveState::matching(&c);
    let mut given = inputs(&c, &live, KeyMode::Test);
    assert_eq!(status(&examine(&given, 5), 2), Status::CheckByHand);
    let probe = |outcome| Probe {
        endpoint: "we_app".to_owned(),
        url: "https://app.example.com/hooks".to_owned(),
        event: "invoice.upcoming".to_owned(),
        outcome,
    };
    for (outcome, expected) in [
        (Ok(400), Status::Pass),
        (Ok(401), Status::Pass),
        (Ok(200), Status::Fail),
        (Ok(500), Status::Fail),
        (Err("could not reach it".to_owned()), Status::Fail),
    ] {
        given.probes = Some(vec![probe(outcome)]);
        assert_eq!(status(&examine(&given, 5), 2), expected);
    }
    given.probes = Some(Vec::new());
    assert_eq!(status(&examine(&given, 5), 2), Status::Fail);
}

#[test]
fn dunning_is_never_passed_and_the_score_counts_passes_only() {
    let c = catalog(SELLS);
    let live = LiveState::matching(&c);
    let report = examine(&inputs(&c, &live, KeyMode::Test), 3);
    assert_eq!(status(&report, 5), Status::CheckByHand);
    let passes = report
        .signals
        .iter()
        .filter(|s| s.status == Status::Pass)
        .count();
    assert_eq!(report.score, passes);
    assert_eq!(report.passed, report.score >= 3);
}

#[test]
fn test_and_live_apart_needs_both_modes_with_keys_of_their_own() {
    let envs = |live_var: &str| {
        format!(
            "[environments.test]\nmode = \"test\"\nsecret_key_env = \"TEST_KEY\"\n[environments.live]\nmode = \"live\"\nsecret_key_env = \"{live_var}\"\n"
        )
    };
    let apart = catalog(&envs("LIVE_KEY"));
    let live = LiveState::matching(&apart);
    let report = examined(&apart, &live, KeyMode::Test);
    assert_eq!(status(&report, 7), Status::Pass);
    assert!(
        report.signals[6]
            .evidence
            .iter()
            .any(|e| e.contains("restricted key (rk_)"))
    );
    let shared = catalog(&envs("TEST_KEY"));
    let report = examined(&shared, &live, KeyMode::Test);
    assert_eq!(status(&report, 7), Status::Fail);
    assert!(
        report.signals[6]
            .summary
            .contains("same variable, TEST_KEY")
    );
    let none = catalog("");
    let report = examined(&none, &live, KeyMode::Test);
    assert_eq!(
        report.signals[6].missing,
        ["billing.toml declares no environments"]
    );
}

#[test]
fn tax_passes_with_stripe_tax_and_a_registration_or_a_manual_rate() {
    let c = catalog(
        "[tax]\nhead_office = { line1 = \"1 Main St\", city = \"SF\", state = \"CA\", postal_code = \"94105\", country = \"US\" }\n[[tax.registrations]]\ncountry = \"US\"\ntype = \"state_sales_tax\"\nstate = \"CA\"\n",
    );
    let live = LiveState::matching(&c);
    let mut given = inputs(&c, &live, KeyMode::Test);
    assert_eq!(status(&examine(&given, 5), 4), Status::Fail);
    given.tax.status = "active".to_owned();
    given.tax.missing_fields.clear();
    assert_eq!(status(&examine(&given, 5), 4), Status::Pass);
    let rates = catalog(
        "[tax_rates.vat]\ndisplay_name = \"VAT\"\npercentage = 19\ninclusive = false\ncountry = \"DE\"\n",
    );
    let live = LiveState::matching(&rates);
    assert_eq!(
        status(&examined(&rates, &live, KeyMode::Test), 4),
        Status::Pass
    );
}

#[test]
fn a_summary_lists_ten_names_and_counts_the_rest() {
    let c = catalog(SELLS);
    let mut live = LiveState::matching(&c);
    let template = live.prices[0].clone();
    live.prices = (0..25)
        .map(|i| {
            let mut p = template.clone();
            p.id = format!("price_{i:02}").into();
            p.lookup_key = None;
            p
        })
        .collect();
    let report = examined(&c, &live, KeyMode::Test);
    let eighth = &report.signals[7];
    assert_eq!(eighth.missing.len(), 25);
    assert!(
        eighth
            .summary
            .ends_with("price_00, price_01, price_02, price_03, price_04, price_05, price_06, price_07, price_08, price_09 and 15 more"),
        "{}",
        eighth.summary
    );
}
