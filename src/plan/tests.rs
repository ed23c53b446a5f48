//! Unit tests of the diff, field by field, against hand-built live state.

use std::collections::BTreeMap;

use super::coupon::CouponWrite;
use super::price::PriceWrite;
use super::product::ProductWrite;
use super::*;
use crate::catalog::{MinorAmount, SourceFile, parse};
use crate::live::LiveCurrencyOption;
use crate::live::fixtures::{live, price, product};
use crate::plan::price::CurrencyOptionsUpdate;
use crate::resource::{MARKER_KEY, MARKER_NAMESPACE, ResourceKind};

fn catalog(text: &str) -> crate::catalog::Catalog {
    parse(&SourceFile::new("billing.toml", text))
        .unwrap_or_else(|d| panic!("invalid test catalog: {d:?}"))
}

const BASE: &str = r#"
[products.pro]
name = "Pro"
description = "For teams"
default_price = "monthly"
[products.pro.prices.monthly]
amount = "79.00"
currency = "usd"
interval = "month"
tax_behavior = "exclusive"
"#;

/// `(address, action, [field: before → after (!)])` of each change.
fn changes(text: &str, state: &LiveState) -> Vec<String> {
    let plan = plan(&catalog(text), state).unwrap_or_else(|e| panic!("{e}"));
    plan.changes
        .iter()
        .map(|c| {
            let fields: Vec<String> = c
                .fields
                .iter()
                .map(|f| {
                    format!(
                        "{}: {} → {}{}",
                        f.field,
                        f.before,
                        f.after,
                        if f.forces_replacement { " (!)" } else { "" }
                    )
                })
                .collect();
            format!("{} {:?} [{}]", c.address, c.action, fields.join("; "))
        })
        .collect()
}

#[test]
fn matching_state_plans_nothing() {
    assert!(changes(BASE, &live(vec![product()], vec![price()])).is_empty());
}

#[test]
fn product_fields_diff_one_by_one() {
    let state = live(vec![product()], vec![price()]);
    let edit = |from: &str, to: &str| changes(&BASE.replace(from, to), &state);
    assert_eq!(
        edit("name = \"Pro\"", "name = \"Pro+\""),
        ["products.pro Update [name: \"Pro\" → \"Pro+\"]"]
    );
    assert_eq!(
        edit("description = \"For teams\"\n", ""),
        ["products.pro Update [description: \"For teams\" → (none)]"]
    );
    assert_eq!(
        edit(
            "description = \"For teams\"",
            "description = \"For teams\"\ntax_code = \"txcd_10103001\"\nunit_label = \"seat\"\nurl = \"https://a.example\""
        ),
        [
            "products.pro Update [tax_code: (none) → txcd_10103001; unit_label: (none) → \"seat\"; url: (none) → \"https://a.example\"]"
        ]
    );
    assert_eq!(
        edit(
            "description = \"For teams\"",
            "description = \"For teams\"\nfeatures = [\"SSO\"]\nimages = [\"https://a.example/p.png\"]"
        ),
        [
            "products.pro Update [images: [] → [\"https://a.example/p.png\"]; features: [] → [\"SSO\"]]"
        ]
    );
    assert_eq!(
        edit(
            "description = \"For teams\"",
            "description = \"For teams\"\nstatement_descriptor = \"ACME PRO\""
        ),
        ["products.pro Update [statement_descriptor: (none) → \"ACME PRO\"]"]
    );
}

#[test]
fn an_omitted_statement_descriptor_is_not_managed() {
    let mut p = product();
    p.statement_descriptor = Some("SET IN DASHBOARD".into());
    assert!(changes(BASE, &live(vec![p], vec![price()])).is_empty());
}

#[test]
fn metadata_is_owned_except_ignored_keys() {
    let mut p = product();
    p.metadata.insert("stray".into(), "x".into());
    p.metadata.insert("crm_id".into(), "7".into());
    let state = live(vec![p], vec![price()]);
    assert_eq!(
        changes(&format!("ignore_metadata = [\"crm_*\"]\n{BASE}"), &state),
        ["products.pro Update [metadata.stray: \"x\" → (none)]"]
    );
}

#[test]
fn each_immutable_price_field_forces_replacement() {
    let state = live(vec![product()], vec![price()]);
    let edit = |from: &str, to: &str| changes(&BASE.replace(from, to), &state);
    let replaced = |v: Vec<String>, field: &str| {
        assert!(
            v.iter().any(|c| c.starts_with("prices.pro.monthly Replace")
                && c.contains(field)
                && c.contains("(!)")),
            "{field}: {v:?}"
        );
    };
    replaced(
        edit("amount = \"79.00\"", "amount = \"80.00\""),
        "unit_amount: $79.00 → $80.00",
    );
    replaced(
        edit("currency = \"usd\"", "currency = \"eur\""),
        "currency: usd → eur",
    );
    replaced(
        edit("interval = \"month\"", "interval = \"year\""),
        "interval: month → year",
    );
    replaced(
        edit(
            "interval = \"month\"",
            "interval = \"month\"\ninterval_count = 3",
        ),
        "interval: month → 3 months",
    );
    replaced(
        edit(
            "tax_behavior = \"exclusive\"",
            "tax_behavior = \"inclusive\"",
        ),
        "tax_behavior: exclusive → inclusive",
    );
    replaced(
        edit(
            "interval = \"month\"",
            "interval = \"month\"\ntransform_quantity = { divide_by = 1000, round = \"up\" }",
        ),
        "transform_quantity",
    );
    replaced(
        edit("interval = \"month\"\n", ""),
        "interval: month → one-time",
    );
}

#[test]
fn mutable_price_fields_update_in_place() {
    let mut p = price();
    p.tax_behavior = Some("unspecified".into());
    p.nickname = Some("old".into());
    let state = live(vec![product()], vec![p]);
    assert_eq!(
        changes(
            &BASE.replace(
                "interval = \"month\"",
                "interval = \"month\"\nnickname = \"new\"\nlookup_key = \"pro_m\""
            ),
            &state
        ),
        [
            "prices.pro.monthly Update [lookup_key: \"pro_monthly\" → \"pro_m\"; nickname: \"old\" → \"new\"; tax_behavior: unspecified → exclusive]"
        ]
    );
    // An omitted nickname is not managed (Stripe may not clear it).
    let mut p = price();
    p.nickname = Some("set elsewhere".into());
    assert!(changes(BASE, &live(vec![product()], vec![p])).is_empty());
}

#[test]
fn currency_options_merge_or_reset() {
    let mut p = price();
    p.currency_options.insert(
        "gbp".into(),
        LiveCurrencyOption {
            unit_amount: Some(MinorAmount::from_minor(6400).unwrap()),
            tiers: vec![],
            tax_behavior: Some("exclusive".into()),
            custom_unit_amount: false,
        },
    );
    let state = live(vec![product()], vec![p]);
    let with = |options: &str| {
        BASE.replace(
            "interval = \"month\"",
            &format!("interval = \"month\"\ncurrency_options = {options}"),
        )
    };
    assert!(changes(&with("{ gbp = \"64.00\" }"), &state).is_empty());
    assert_eq!(
        changes(&with("{ gbp = \"64.00\", eur = \"72.00\" }"), &state),
        ["prices.pro.monthly Update [currency_options.eur: (none) → €72.00]"]
    );
    assert_eq!(
        changes(BASE, &state),
        ["prices.pro.monthly Update [currency_options.gbp: £64.00 → (none)]"]
    );
    let plan = plan(&catalog(BASE), &state).unwrap();
    let Some(PriceWrite::Update { update, .. }) = plan.steps[0].request.downcast::<PriceWrite>()
    else {
        panic!("an update")
    };
    assert_eq!(
        update.currency_options,
        Some(CurrencyOptionsUpdate::Replace(BTreeMap::new()))
    );
}

#[test]
fn a_replacement_moves_the_default_before_archiving_the_old_price() {
    let state = live(vec![product()], vec![price()]);
    let plan = plan(&catalog(&BASE.replace("79.00", "89.00")), &state).unwrap();
    let order: Vec<&str> = plan
        .order
        .iter()
        .map(|&s| plan.steps[s].description.as_str())
        .collect();
    assert_eq!(
        order,
        [
            "create the replacement price",
            "move default_price",
            "archive the replaced price"
        ]
    );
    let archive = plan.order[2];
    assert!(plan.steps[archive].depends_on.contains(&plan.order[1]));
    let Some(PriceWrite::Create(price)) =
        plan.steps[plan.order[0]].request.downcast::<PriceWrite>()
    else {
        panic!("a create")
    };
    assert!(price.transfer_lookup_key);
    assert_eq!(plan.changes.len(), 1, "shown as one change");
}

#[test]
fn an_unmanaged_lookup_key_holder_is_adopted_and_a_foreign_one_is_a_conflict() {
    let mut unmarked = price();
    unmarked.id = "price_x".into();
    unmarked.metadata = BTreeMap::new();
    // The defaulted lookup key does not name it; a written one does.
    assert!(
        plan(
            &catalog(BASE),
            &live(vec![product()], vec![unmarked.clone()])
        )
        .is_err()
    );
    let written = BASE.replace(
        "tax_behavior = \"exclusive\"",
        "tax_behavior = \"exclusive\"\nlookup_key = \"pro_monthly\"",
    );
    let adopted = plan(
        &catalog(&written),
        &live(vec![product()], vec![unmarked.clone()]),
    )
    .unwrap();
    // The product's default price moves to the adopted price too.
    let change = adopted
        .changes
        .iter()
        .find(|c| c.kind == ResourceKind::Price)
        .unwrap();
    assert_eq!(adopted.summary().create, 0);
    assert_eq!(
        (change.action, change.address.as_str(), change.id.as_deref()),
        (Action::Adopt, "prices.pro.monthly", Some("price_x"))
    );
    assert_eq!(
        change.adopts.as_ref().map(|a| a.by.as_str()),
        Some("lookup key \"pro_monthly\"")
    );
    let fields: Vec<&str> = change.fields.iter().map(|f| f.field.as_str()).collect();
    assert_eq!(fields, ["metadata.billing_key", "metadata.billing_ns"]);

    let mut foreign = unmarked;
    foreign.metadata = BTreeMap::from([
        ("billing_key".to_owned(), "prices.x.y".to_owned()),
        ("billing_ns".to_owned(), "other".to_owned()),
    ]);
    let err = plan(&catalog(&written), &live(vec![product()], vec![foreign])).unwrap_err();
    let PlanError::Conflicts(conflicts) = &err else {
        panic!("{err}")
    };
    assert_eq!(conflicts.len(), 1);
    assert_eq!(conflicts[0].address, "prices.pro.monthly");
    assert!(
        conflicts[0].message.contains("price_x"),
        "{}",
        conflicts[0].message
    );
}

#[test]
fn a_product_id_pin_adopts_an_unmarked_product_conflicts_with_a_foreign_one_and_creates_an_absent_one()
 {
    let pinned = BASE.replace("name = \"Pro\"", "name = \"Pro\"\nid = \"prod_pinned\"");
    let plan = plan(&catalog(&pinned), &live(vec![], vec![])).unwrap();
    let Some(ProductWrite::Create(spec)) =
        plan.steps[plan.order[0]].request.downcast::<ProductWrite>()
    else {
        panic!("a create")
    };
    assert_eq!(spec.id.as_deref(), Some("prod_pinned"));
    let mut p = product();
    p.id = "prod_pinned".into();
    p.metadata = BTreeMap::new();
    let adopted = super::plan(&catalog(&pinned), &live(vec![p.clone()], vec![])).unwrap();
    let product_change = adopted
        .changes
        .iter()
        .find(|c| c.address == "products.pro")
        .unwrap();
    assert_eq!(product_change.action, Action::Adopt);
    assert_eq!(product_change.id.as_deref(), Some("prod_pinned"));
    p.metadata = BTreeMap::from([
        ("billing_key".to_owned(), "products.pro".to_owned()),
        ("billing_ns".to_owned(), "elsewhere".to_owned()),
    ]);
    assert!(matches!(
        super::plan(&catalog(&pinned), &live(vec![p], vec![])),
        Err(PlanError::Conflicts(_))
    ));
}

#[test]
fn plans_are_deterministic() {
    let text = crate::catalog::load(std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/billing.toml"
    )))
    .unwrap();
    let empty = live(vec![], vec![]);
    let first = serde_json::to_string(&plan(&text, &empty).unwrap()).unwrap();
    for _ in 0..5 {
        assert_eq!(
            serde_json::to_string(&plan(&text, &empty).unwrap()).unwrap(),
            first
        );
    }
}

fn coupon(percent: &str) -> crate::live::LiveCoupon {
    crate::live::LiveCoupon {
        id: "launch_old".into(),
        created: 100,
        name: Some("Launch".into()),
        percent_off: Some(percent.into()),
        amount_off: None,
        currency: None,
        currency_options: BTreeMap::new(),
        duration: "once".into(),
        duration_in_months: None,
        max_redemptions: None,
        redeem_by: None,
        applies_to: vec![],
        metadata: BTreeMap::from([
            (MARKER_KEY.to_owned(), "coupons.launch".to_owned()),
            (MARKER_NAMESPACE.to_owned(), "default".to_owned()),
        ]),
        valid: true,
        times_redeemed: 3,
    }
}

fn code(coupon: &str) -> crate::live::LivePromotionCode {
    crate::live::LivePromotionCode {
        id: "promo_old".into(),
        created: 100,
        code: "LAUNCH".into(),
        active: true,
        coupon: coupon.into(),
        customer: None,
        expires_at: None,
        max_redemptions: None,
        times_redeemed: 3,
        first_time_transaction: false,
        minimum_amount: None,
        minimum_amount_currency: None,
        currency_options: BTreeMap::new(),
        metadata: BTreeMap::from([
            (MARKER_KEY.to_owned(), "promotion_codes.LAUNCH".to_owned()),
            (MARKER_NAMESPACE.to_owned(), "default".to_owned()),
        ]),
    }
}

const DISCOUNTS: &str = "[coupons.launch]\nname = \"Launch\"\npercent_off = 20\n[promotion_codes.LAUNCH]\ncoupon = \"launch\"\n";

#[test]
fn matching_coupons_and_codes_plan_nothing() {
    let mut state = live(vec![], vec![]);
    state.coupons = vec![coupon("20")];
    state.promotion_codes = vec![code("launch_old")];
    assert!(changes(DISCOUNTS, &state).is_empty());
}

#[test]
fn a_coupon_replacement_recreates_its_codes_before_deleting_the_old_coupon() {
    let mut state = live(vec![], vec![]);
    state.coupons = vec![coupon("10")];
    state.promotion_codes = vec![code("launch_old")];
    let plan = plan(&catalog(DISCOUNTS), &state).unwrap();
    let order: Vec<&str> = plan
        .order
        .iter()
        .map(|&s| plan.steps[s].description.as_str())
        .collect();
    assert_eq!(
        order,
        [
            "create coupon",
            "deactivate the replaced code",
            "create the replacement code",
            "delete the replaced coupon"
        ]
    );
    let delete = *plan.order.last().unwrap();
    for &earlier in &plan.order[..3] {
        assert!(
            plan.steps[delete].depends_on.contains(&earlier),
            "{:?}",
            plan.steps[delete]
        );
    }
    let Some(CouponWrite::Create { coupon }) =
        plan.steps[plan.order[0]].request.downcast::<CouponWrite>()
    else {
        panic!("a create")
    };
    assert!(
        coupon.id.starts_with("launch_") && coupon.id != "launch_old",
        "{}",
        coupon.id
    );
}

#[test]
fn a_code_stripe_deactivated_is_a_notice_not_a_change() {
    let mut state = live(vec![], vec![]);
    state.coupons = vec![coupon("20")];
    let mut expired = code("launch_old");
    expired.active = false;
    expired.expires_at = Some(state.now - 10);
    state.promotion_codes = vec![expired];
    let text = DISCOUNTS.replace(
        "coupon = \"launch\"",
        "coupon = \"launch\"\nexpires_at = 2027-01-01T00:00:00Z",
    );
    let mut c = catalog(&text);
    c.promotion_codes.get_mut("LAUNCH").unwrap().expires_at = Some(state.now - 10);
    let plan = plan(&c, &state).unwrap();
    assert!(plan.is_empty(), "{:?}", plan.changes);
    assert_eq!(plan.notices.len(), 1);
    assert!(
        plan.notices[0].contains("was deactivated by Stripe (expired on"),
        "{}",
        plan.notices[0]
    );
}
