//! Unit tests of the diff, field by field, against hand-built live state.

use std::collections::BTreeMap;

use super::coupon::CouponWrite;
use super::price::PriceWrite;
use super::product::ProductWrite;
use super::*;
use crate::catalog::Catalog;
use crate::live::fixtures::{CATALOG, catalog, code, coupon, live, price, product, unit_option};
use crate::plan::price::CurrencyOptionsUpdate;
use crate::resource::{MARKER_KEY, ResourceKind};

/// `field: before → after` of each field of a change, `(!)` marking those that force a
/// replacement.
fn field_list(c: &Change) -> String {
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
    fields.join("; ")
}

/// `(address, action, [field: before → after (!)])` of each change.
fn changes(text: &str, state: &LiveState) -> Vec<String> {
    let plan = plan(&catalog(text), state).unwrap_or_else(|e| panic!("{e}"));
    plan.changes
        .iter()
        .map(|c| format!("{} {:?} [{}]", c.address, c.action, field_list(c)))
        .collect()
}

/// What each step of the plan does, in the order they run.
fn step_order(plan: &Plan) -> Vec<&str> {
    plan.order
        .iter()
        .map(|&s| plan.steps[s].description.as_str())
        .collect()
}

#[test]
fn matching_state_plans_nothing() {
    assert!(changes(CATALOG, &live(vec![product()], vec![price()])).is_empty());
}

#[test]
fn product_fields_diff_one_by_one() {
    let state = live(vec![product()], vec![price()]);
    let edit = |from: &str, to: &str| changes(&CATALOG.replace(from, to), &state);
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
    assert!(changes(CATALOG, &live(vec![p], vec![price()])).is_empty());
}

#[test]
fn metadata_is_owned_except_ignored_keys() {
    let mut p = product();
    p.metadata.insert("stray".into(), "x".into());
    p.metadata.insert("crm_id".into(), "7".into());
    let state = live(vec![p], vec![price()]);
    assert_eq!(
        changes(&format!("ignore_metadata = [\"crm_*\"]\n{CATALOG}"), &state),
        ["products.pro Update [metadata.stray: \"x\" → (none)]"]
    );
}

#[test]
fn each_immutable_price_field_forces_replacement() {
    let state = live(vec![product()], vec![price()]);
    let edit = |from: &str, to: &str| changes(&CATALOG.replace(from, to), &state);
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
    p.tax_behavior = Some(crate::live::Word::new("unspecified"));
    p.nickname = Some("old".into());
    let state = live(vec![product()], vec![p]);
    assert_eq!(
        changes(
            &CATALOG.replace(
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
    assert!(changes(CATALOG, &live(vec![product()], vec![p])).is_empty());
}

#[test]
fn currency_options_merge_or_reset() {
    let mut p = price();
    p.currency_options
        .insert("gbp".into(), unit_option(6400, Some("exclusive")));
    let state = live(vec![product()], vec![p]);
    let with = |options: &str| {
        CATALOG.replace(
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
        changes(CATALOG, &state),
        ["prices.pro.monthly Update [currency_options.gbp: £64.00 → (none)]"]
    );
    let plan = plan(&catalog(CATALOG), &state).unwrap();
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
    let plan = plan(&catalog(&CATALOG.replace("79.00", "89.00")), &state).unwrap();
    assert_eq!(
        step_order(&plan),
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
    unmarked.metadata = BTreeMap::new().into();
    // The defaulted lookup key does not name it; a written one does.
    assert!(
        plan(
            &catalog(CATALOG),
            &live(vec![product()], vec![unmarked.clone()])
        )
        .is_err()
    );
    let written = CATALOG.replace(
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
    ])
    .into();
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
    let pinned = CATALOG.replace("name = \"Pro\"", "name = \"Pro\"\nid = \"prod_pinned\"");
    let plan = plan(&catalog(&pinned), &live(vec![], vec![])).unwrap();
    let Some(ProductWrite::Create(spec)) =
        plan.steps[plan.order[0]].request.downcast::<ProductWrite>()
    else {
        panic!("a create")
    };
    assert_eq!(spec.product.id.as_deref(), Some("prod_pinned"));
    let mut p = product();
    p.id = "prod_pinned".into();
    p.metadata = BTreeMap::new().into();
    let adopted = super::plan(&catalog(&pinned), &live(vec![p.clone()], vec![])).unwrap();
    let product_change = adopted.change_at("products.pro");
    assert_eq!(product_change.action, Action::Adopt);
    assert_eq!(product_change.id.as_deref(), Some("prod_pinned"));
    p.metadata = BTreeMap::from([
        ("billing_key".to_owned(), "products.pro".to_owned()),
        ("billing_ns".to_owned(), "elsewhere".to_owned()),
    ])
    .into();
    assert!(matches!(
        super::plan(&catalog(&pinned), &live(vec![p], vec![])),
        Err(PlanError::Conflicts(_))
    ));
}

/// The repository's own billing.toml, as every environment sees it.
fn repository_catalog() -> Catalog {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/billing.toml");
    crate::catalog::load_for(std::path::Path::new(path), crate::catalog::EnvChoice::All).unwrap()
}

#[test]
fn plans_are_deterministic() {
    let text = repository_catalog();
    let empty = live(vec![], vec![]);
    let first = serde_json::to_string(&plan(&text, &empty).unwrap()).unwrap();
    for _ in 0..5 {
        assert_eq!(
            serde_json::to_string(&plan(&text, &empty).unwrap()).unwrap(),
            first
        );
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
    assert_eq!(
        step_order(&plan),
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

// Every kind the same way: an account that exactly matches a catalog (`LiveState::matching`)
// plans nothing; one field changed in Stripe plans the update or replacement that undoes it.

/// Products with every field, an archived one pinned by `id`, and what a product records of
/// `on_remove`.
const PRODUCTS: &str = r#"
[products.pro]
name = "Pro"
description = "For teams"
tax_code = "txcd_10103001"
unit_label = "seat"
statement_descriptor = "ACME PRO"
url = "https://acme.example/pro"
images = ["https://acme.example/pro.png"]
features = ["SSO", "Audit log"]
default_price = "monthly"
metadata = { tier = "2" }
on_remove = "forget"
[products.pro.prices.monthly]
amount = "79.00"
currency = "usd"
interval = "month"

[products.legacy]
id = "prod_pinned"
name = "Legacy"
active = false
[products.legacy.prices.once]
amount = "5.00"
currency = "usd"
"#;

/// Per-unit, tiered and one-time prices with lookup keys, nicknames, tax behavior, currency
/// options (per-unit and tiered), transform_quantity and metadata.
const PRICES: &str = r#"
[products.api]
name = "API"
default_price = "monthly"
[products.api.prices.monthly]
amount = "79.00"
currency = "usd"
interval = "month"
interval_count = 3
nickname = "Quarterly"
lookup_key = "api_quarterly"
tax_behavior = "exclusive"
currency_options = { eur = "72.00", gbp = { unit_amount = 6400, tax_behavior = "exclusive" } }
metadata = { plan = "api" }
on_remove = "forget"
[products.api.prices.usage]
currency = "usd"
interval = "month"
billing_scheme = "tiered"
tiers_mode = "graduated"
tiers = [{ up_to = 1000, flat_amount = "10.00" }, { up_to = "inf", unit_amount_decimal = "0.5" }]
currency_options = { eur = { tiers = [{ up_to = 1000, flat_amount = "9" }, { up_to = "inf", amount = "0.01" }] } }
[products.api.prices.setup]
amount = "100.00"
currency = "usd"
transform_quantity = { divide_by = 1000, round = "up" }
"#;

/// Percent and amount coupons, and codes with every restriction.
const DISCOUNT_FIELDS: &str = r#"
[products.pro]
name = "Pro"

[coupons.launch]
name = "Launch"
percent_off = 20
duration = "repeating"
duration_in_months = 3
max_redemptions = 100
redeem_by = 2030-01-31T23:59:59Z
applies_to = ["pro"]
metadata = { campaign = "launch" }

[coupons.ten]
amount_off = "10.00"
currency = "usd"
currency_options = { eur = "9.00", gbp = { unit_amount_off = 800 } }
duration = "forever"
on_remove = "keep"

[promotion_codes.LAUNCH]
coupon = "launch"
max_redemptions = 50
expires_at = 2030-01-01T00:00:00Z
first_time_transaction = true
minimum_amount = "50.00"
minimum_amount_currency = "usd"
currency_options = { eur = "45.00" }
metadata = { channel = "newsletter" }

[promotion_codes.partner]
code = "PARTNER-TEN"
coupon = "ten"
active = false
customer = "cus_NffrFeUfNV2Hib"
"#;

/// Settings with every field; registrations active, scheduled, ending and ended.
const TAX: &str = r#"
[tax]
default_tax_behavior = "exclusive"
default_tax_code = "txcd_10103001"
head_office = { line1 = "548 Market St", line2 = "Suite 1", city = "San Francisco", state = "CA", postal_code = "94104", country = "US" }

[[tax.registrations]]
country = "US"
type = "state_sales_tax"
state = "CA"

[[tax.registrations]]
country = "DE"
type = "standard"
active_from = 2031-01-01T00:00:00Z

[[tax.registrations]]
country = "CA"
type = "province_standard"
province = "BC"
ends_at = 2031-01-01T00:00:00Z

[[tax.registrations]]
country = "FR"
type = "standard"
ends_at = "now"
"#;

/// A rate with every field, and an inactive one pinned by `id`.
const TAX_RATES: &str = r#"
[tax_rates.vat_de]
display_name = "VAT"
percentage = 19
inclusive = false
country = "DE"
jurisdiction = "DE"
tax_type = "vat"
description = "German VAT"
metadata = { region = "eu" }
on_remove = "forget"

[tax_rates.ny]
id = "txr_pinned"
display_name = "Sales tax"
percentage = 8.875
inclusive = true
active = false
country = "US"
state = "NY"
"#;

/// The account's default configuration with every setting, and one of billing's own.
const PORTALS: &str = r#"
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

[portal]
target = "default"
name = "Self-serve"
default_return_url = "https://app.acme.example/billing"
login_page = true
business_profile = { headline = "Acme billing", privacy_policy_url = "https://acme.example/privacy", terms_of_service_url = "https://acme.example/terms" }
metadata = { team = "growth" }
[portal.features]
invoice_history = true
payment_method_update = true
customer_update = ["email", "address"]
subscription_cancel = { mode = "immediately", proration_behavior = "create_prorations", reasons = ["too_expensive", "other"] }
subscription_update = { products = [{ product = "pro", prices = ["monthly", "annual"] }], default_allowed_updates = ["price", "quantity"], proration_behavior = "always_invoice" }

[portals.partners]
name = "Partners"
[portals.partners.features]
subscription_cancel = { mode = "at_period_end" }
subscription_update = { products = ["pro"] }
"#;

/// Webhook endpoints: presets and event types, a Connect endpoint created disabled, one
/// adopted by id on the account's default API version.
const WEBHOOKS: &str = r#"
[webhooks.app]
url = "https://app.acme.example/stripe/webhooks"
events = ["subscriptions", "checkout.session.completed"]
description = "Main app"
metadata = { team = "growth" }

[webhooks.platform]
url = "https://app.acme.example/stripe/connect"
events = ["connect"]
connect = true
disabled = true
rotation = "two_step"

[webhooks.local]
id = "we_pinned"
url = "http://localhost:4242/webhooks"
events = ["*"]
api_version = "account_default"
"#;

/// Entitlement features: one with the default lookup key attached to two products, one with
/// a written lookup key and metadata, one adopted by id.
const ENTITLEMENTS: &str = r#"
[entitlements.sso]
name = "Single sign-on"

[entitlements.audit]
name = "Audit log"
lookup_key = "audit_log"
metadata = { team = "security" }

[entitlements.legacy]
id = "feat_pinned"
name = "Legacy export"

[products.starter]
name = "Starter"
entitlements = ["sso"]

[products.pro]
name = "Pro"
entitlements = ["sso", "audit", "legacy"]
"#;

const METERS: &str = r#"
[meters.calls]
display_name = "API calls"
event_name = "api_call"
aggregation = "sum"

[meters.tokens]
display_name = "Tokens"
event_name = "token"
aggregation = "last"
customer_mapping_key = "customer"
value_key = "n"
event_time_window = "hour"

[meters.old]
display_name = "Old"
event_name = "old_call"
aggregation = "count"
active = false

[products.api]
name = "API"

[products.api.prices.usage]
currency = "usd"
interval = "month"
meter = "calls"
unit_amount_decimal = "0.5"
"#;

/// A catalog that exercises `kind`'s fields: a new kind does not build until it has one.
fn exercising(kind: ResourceKind) -> &'static str {
    match kind {
        ResourceKind::Product => PRODUCTS,
        ResourceKind::Price => PRICES,
        ResourceKind::Coupon | ResourceKind::PromotionCode => DISCOUNT_FIELDS,
        ResourceKind::TaxSettings | ResourceKind::TaxRegistration => TAX,
        ResourceKind::TaxRate => TAX_RATES,
        ResourceKind::Portal => PORTALS,
        ResourceKind::WebhookEndpoint => WEBHOOKS,
        ResourceKind::EntitlementFeature => ENTITLEMENTS,
        ResourceKind::Meter => METERS,
    }
}

/// Asserts that planning `catalog` against the account that matches it plans nothing at all.
fn assert_matches(name: &str, catalog: &Catalog) {
    let plan =
        plan(catalog, &LiveState::matching(catalog)).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert!(plan.is_empty(), "{name}: {:#?}", plan.changes);
    assert!(plan.notices.is_empty(), "{name}: {:?}", plan.notices);
    assert!(
        plan.unmanaged.is_empty() && plan.foreign.is_empty(),
        "{name}: every object is managed here"
    );
}

#[test]
fn a_matching_account_plans_nothing_for_every_kind() {
    for kind in ResourceKind::ALL {
        let catalog = catalog(exercising(kind));
        assert_ne!(catalog.count(kind), 0, "{kind:?}");
        assert_matches(kind.name(), &catalog);
    }
    let repository = repository_catalog();
    assert_matches("billing.toml", &repository);
}

/// `kind address action [field: before → after (!)]` of each change of the plan.
fn described(catalog: &Catalog, live: &LiveState) -> Vec<String> {
    let plan = plan(catalog, live).unwrap_or_else(|e| panic!("{e}"));
    plan.changes
        .iter()
        .map(|c| {
            let line = format!("{} {:?} [{}]", c.address, c.action, field_list(c));
            format!("{} {line}", c.kind.name())
        })
        .collect()
}

/// The changes planning `text` makes against the account that matches it, once `edit` has
/// changed that account (as the Dashboard would).
fn edited(text: &str, edit: impl FnOnce(&mut LiveState)) -> Vec<String> {
    let catalog = catalog(text);
    let mut live = LiveState::matching(&catalog);
    edit(&mut live);
    described(&catalog, &live)
}

/// The changes planning `text` with `from` replaced by `to` makes against the account that
/// matches `text`: what editing billing.toml does.
fn rewritten(text: &str, from: &str, to: &str) -> Vec<String> {
    assert!(text.contains(from), "{from:?} is not in the catalog");
    let live = LiveState::matching(&catalog(text));
    described(&catalog(&text.replace(from, to)), &live)
}

/// The managed object at `address` among `objects`.
fn at<'a, T: crate::live::LiveObject>(objects: &'a mut [T], address: &str) -> &'a mut T {
    objects
        .iter_mut()
        .find(|o| o.metadata().get(MARKER_KEY).is_some_and(|a| a == address))
        .unwrap_or_else(|| panic!("nothing at {address}"))
}

/// What the Dashboard changes in an account.
type DashboardEdit = fn(&mut LiveState);

#[test]
fn a_field_changed_in_stripe_is_put_back_in_place() {
    let cases: [(&str, DashboardEdit, &str); 7] = [
        (
            PRODUCTS,
            |live| at(&mut live.products, "products.pro").unit_label = Some("user".into()),
            "product products.pro Update [unit_label: \"user\" → \"seat\"]",
        ),
        (
            PRICES,
            |live| at(&mut live.prices, "prices.api.monthly").nickname = Some("Old".into()),
            "price prices.api.monthly Update [nickname: \"Old\" → \"Quarterly\"]",
        ),
        (
            DISCOUNT_FIELDS,
            |live| at(&mut live.coupons, "coupons.launch").name = Some("Launch!".into()),
            "coupon coupons.launch Update [name: \"Launch!\" → \"Launch\"]",
        ),
        (
            DISCOUNT_FIELDS,
            |live| {
                let code = at(&mut live.promotion_codes, "promotion_codes.LAUNCH");
                code.metadata.insert("channel".into(), "ads".into());
            },
            "promotion_code promotion_codes.LAUNCH Update [metadata.channel: \"ads\" → \"newsletter\"]",
        ),
        (
            TAX,
            |live| {
                let settings = live.tax_settings.as_mut().unwrap();
                settings.default_tax_behavior = Some("inclusive".into());
            },
            "tax_settings tax Update [default_tax_behavior: inclusive → exclusive]",
        ),
        (
            TAX_RATES,
            |live| at(&mut live.tax_rates, "tax_rates.vat_de").display_name = "MwSt".into(),
            "tax_rate tax_rates.vat_de Update [display_name: \"MwSt\" → \"VAT\"]",
        ),
        (
            PORTALS,
            |live| {
                at(&mut live.portals, "portals.default").settings.headline =
                    Some("Old headline".into())
            },
            "portal portals.default Update [business_profile.headline: \"Old headline\" → \"Acme billing\"]",
        ),
    ];
    for (text, edit, expected) in cases {
        assert_eq!(edited(text, edit), [expected]);
    }
}

#[test]
fn a_field_changed_in_billing_toml_is_updated_or_replaced() {
    for (text, from, to, expected) in [
        (
            PRICES,
            "amount = \"100.00\"",
            "amount = \"90.00\"",
            "price prices.api.setup Replace [unit_amount: $100.00 → $90.00 (!)]",
        ),
        (
            DISCOUNT_FIELDS,
            "max_redemptions = 50",
            "max_redemptions = 10",
            "promotion_code promotion_codes.LAUNCH Replace [max_redemptions: 50 → 10 (!)]",
        ),
        // A registration given `ends_at` is ended.
        (
            TAX,
            "state = \"CA\"\n",
            "state = \"CA\"\nends_at = 2032-01-01T00:00:00Z\n",
            "tax_registration tax.registrations.US.state_sales_tax.CA Update [ends_at: (none) → 2032-01-01T00:00:00Z]",
        ),
        (
            TAX_RATES,
            "percentage = 19",
            "percentage = 16",
            "tax_rate tax_rates.vat_de Replace [percentage: 19% → 16% (!)]",
        ),
        // In billing.toml's words: `inclusive = false → true`.
        (
            TAX_RATES,
            "inclusive = false",
            "inclusive = true",
            "tax_rate tax_rates.vat_de Replace [inclusive: false → true (!)]",
        ),
    ] {
        assert_eq!(rewritten(text, from, to), [expected]);
    }
}

#[test]
fn a_coupon_replaced_in_billing_toml_is_replaced_with_its_codes() {
    let changed = rewritten(DISCOUNT_FIELDS, "percent_off = 20", "percent_off = 25");
    assert_eq!(changed.len(), 2, "{changed:#?}");
    assert!(
        changed[0].starts_with("coupon coupons.launch Replace [id: launch_")
            && changed[0].ends_with("(!); discount: 20% off → 25% off (!)]"),
        "{}",
        changed[0]
    );
    assert!(
        changed[1].starts_with("promotion_code promotion_codes.LAUNCH Replace [coupon: "),
        "{}",
        changed[1]
    );
}

/// The descriptions of the steps of each change, by address.
fn step_lists(catalog: &Catalog, live: &LiveState, replace: &[&str]) -> Vec<String> {
    let replace = replace.iter().map(|a| (*a).to_owned()).collect();
    let plan = plan_replacing(catalog, live, &replace).unwrap_or_else(|e| panic!("{e}"));
    plan.changes
        .iter()
        .map(|c| {
            let steps = plan.step_descriptions(c).join(", ");
            format!("{} {:?}: {}", c.address, c.action, steps)
        })
        .collect()
}

#[test]
fn webhook_endpoints_are_created_with_their_presets_expanded_and_disabled_after() {
    let catalog = catalog(WEBHOOKS);
    // The exact list is checked through the sandbox (tests/integration/engine/webhooks.rs).
    let app = &catalog.webhooks["app"];
    assert_eq!(app.events.len(), 12, "{:?}", app.events);
    assert!(app.events.windows(2).all(|w| w[0] < w[1]));
    let mut live = LiveState::matching(&catalog);
    live.webhooks.retain(|w| w.id == "we_pinned");
    let plan = plan(&catalog, &live).unwrap();
    let platform = plan.change_at("webhooks.platform");
    assert_eq!(
        plan.step_descriptions(platform),
        [
            "create webhook endpoint",
            "disable the new webhook endpoint"
        ]
    );
    let create = plan.steps[platform.steps[0]]
        .request
        .wire(&|_| "we_new".to_owned());
    assert!(
        create[0]
            .body
            .contains(&("connect".to_owned(), "true".to_owned()))
    );
    assert!(
        !create[0].body.iter().any(|(k, _)| k == "disabled"),
        "{create:?}"
    );
    let disable = plan.steps[platform.steps[1]]
        .request
        .wire(&|_| "we_new".to_owned());
    assert_eq!(disable[0].path, "/webhook_endpoints/we_new");
    assert_eq!(
        disable[0].body,
        [("disabled".to_owned(), "true".to_owned())]
    );
    assert!(
        platform
            .notes
            .iter()
            .any(|n| n.contains(".billing/sandbox/webhooks/platform.secret")),
        "{:?}",
        platform.notes
    );
}

#[test]
fn webhook_events_url_and_status_change_in_place() {
    let changed = edited(WEBHOOKS, |live| {
        let app = at(&mut live.webhooks, "webhooks.app");
        app.events.retain(|e| e != "invoice.upcoming");
        app.events.push("charge.failed".into());
        app.events.sort();
        at(&mut live.webhooks, "webhooks.platform").disabled = false;
    });
    assert_eq!(changed.len(), 2, "{changed:#?}");
    assert!(
        changed[0].starts_with("webhook_endpoint webhooks.app Update [events: ["),
        "{}",
        changed[0]
    );
    assert_eq!(
        changed[1],
        "webhook_endpoint webhooks.platform Update [disabled: false → true]"
    );
    // The same events in another order are the same set.
    assert!(
        edited(WEBHOOKS, |live| at(&mut live.webhooks, "webhooks.app")
            .events
            .reverse())
        .len()
            == 1
    );
    assert_eq!(
        rewritten(
            WEBHOOKS,
            "https://app.acme.example/stripe/webhooks",
            "https://acme.example/hooks"
        ),
        [
            "webhook_endpoint webhooks.app Update [url: \"https://app.acme.example/stripe/webhooks\" → \"https://acme.example/hooks\"]"
        ]
    );
}

#[test]
fn a_webhook_api_version_or_connect_change_replaces_it_and_says_the_secret_changes() {
    let changed = rewritten(
        WEBHOOKS,
        "api_version = \"account_default\"",
        "api_version = \"2024-06-20\"",
    );
    assert_eq!(
        changed,
        ["webhook_endpoint webhooks.local Replace [api_version: account default → 2024-06-20 (!)]"]
    );
    let catalog_text = WEBHOOKS.replace("connect = true\n", "");
    let live = LiveState::matching(&catalog(WEBHOOKS));
    let catalog = catalog(&catalog_text);
    let plan = plan(&catalog, &live).unwrap();
    let change = plan.change_at("webhooks.platform");
    assert_eq!(change.action, Action::Replace);
    assert!(change.notes.iter().any(|n| n.starts_with("the signing secret changes: deploy the new secret before the old endpoint we_platform is deleted")), "{:?}", change.notes);
    // Rotated in two steps: the old endpoint stays until the next apply.
    assert_eq!(
        step_lists(&catalog, &live, &[]),
        ["webhooks.platform Replace: create webhook endpoint, disable the new webhook endpoint"]
    );
}

#[test]
fn replace_rotates_a_webhook_and_two_step_leaves_the_old_one_to_the_next_apply() {
    let catalog = catalog(WEBHOOKS);
    let live = LiveState::matching(&catalog);
    assert_eq!(
        step_lists(&catalog, &live, &["webhooks.app"]),
        ["webhooks.app Replace: create webhook endpoint, delete the replaced webhook endpoint"]
    );
    assert_eq!(
        step_lists(&catalog, &live, &["webhooks.platform"]),
        ["webhooks.platform Replace: create webhook endpoint, disable the new webhook endpoint"]
    );
    // The next plan: two endpoints at the address, the newer one current.
    let mut after = live.clone();
    let mut newer = at(&mut after.webhooks, "webhooks.platform").clone();
    newer.id = "we_newer".into();
    newer.created += 10;
    after.webhooks.insert(0, newer);
    let plan = plan(&catalog, &after).unwrap();
    assert_eq!(plan.changes.len(), 1, "{:#?}", plan.changes);
    let change = &plan.changes[0];
    assert_eq!(
        (change.action, change.id.as_deref(), change.destroy),
        (Action::Delete, Some("we_platform"), false)
    );
    assert!(
        change
            .reason
            .as_deref()
            .unwrap()
            .starts_with("superseded by the newer endpoint")
    );
    // A price is replaced too, its lookup key moved; a product cannot be.
    let prices = super::tests::catalog(CATALOG);
    let replaced = step_lists(
        &prices,
        &LiveState::matching(&prices),
        &["prices.pro.monthly"],
    );
    assert!(
        replaced
            .iter()
            .any(|c| c.starts_with("prices.pro.monthly Replace: create the replacement price")),
        "{replaced:#?}"
    );
    let error = check_replace(&prices, &["products.pro".to_owned()]).unwrap_err();
    assert!(
        error.starts_with("`--replace products.pro`: a product cannot be replaced"),
        "{error}"
    );
    let error = check_replace(&catalog, &["webhooks.nope".to_owned()]).unwrap_err();
    assert_eq!(
        error,
        "`--replace webhooks.nope`: billing.toml declares no [webhooks.nope]"
    );
}

#[test]
fn a_removed_webhook_is_deleted_as_a_destroy_and_unmanaged_ones_are_left_alone() {
    let catalog = catalog(WEBHOOKS);
    let mut live = LiveState::matching(&catalog);
    let mut unmanaged = live.webhooks[0].clone();
    unmanaged.id = "we_dashboard".into();
    unmanaged.metadata.clear();
    live.webhooks.push(unmanaged);
    let without = super::tests::catalog(WEBHOOKS.split("[webhooks.local]").next().unwrap());
    let plan = plan(&without, &live).unwrap();
    let deleted: Vec<(&str, Action, bool)> = plan
        .changes
        .iter()
        .filter(|c| c.action == Action::Delete)
        .map(|c| (c.address.as_str(), c.action, c.destroy))
        .collect();
    assert_eq!(deleted, [("webhooks.local", Action::Delete, true)]);
    assert!(
        plan.changes
            .iter()
            .all(|c| c.id.as_deref() != Some("we_dashboard"))
    );
    let unmanaged: Vec<_> = plan.unmanaged.iter().filter(|(_, n)| *n > 0).collect();
    assert_eq!(unmanaged, [(ResourceKind::WebhookEndpoint, 1)]);
}

#[test]
fn an_adopted_endpoint_is_not_replaced_over_connect_and_the_plan_says_why() {
    let catalog = catalog(WEBHOOKS);
    let mut live = LiveState::matching(&catalog);
    let platform = at(&mut live.webhooks, "webhooks.platform");
    platform.metadata.clear();
    platform.id = "we_dashboard".into();
    let text = WEBHOOKS.replace(
        "rotation = \"two_step\"",
        "rotation = \"two_step\"\nid = \"we_dashboard\"",
    );
    let plan = plan(&super::tests::catalog(&text), &live).unwrap();
    let change = plan.change_at("webhooks.platform");
    assert_eq!(change.action, Action::Adopt, "{change:#?}");
    assert!(change.fields.iter().all(|f| !f.forces_replacement));
    assert!(
        change
            .notes
            .iter()
            .any(|n| n
                .contains("Stripe does not report whether an endpoint receives Connect events")),
        "{:?}",
        change.notes
    );
}

#[test]
fn more_than_sixteen_endpoints_with_unmanaged_ones_is_a_conflict() {
    let catalog = catalog(WEBHOOKS);
    let mut live = LiveState::matching(&catalog);
    live.webhooks.clear();
    for i in 0..14 {
        let mut w = LiveState::matching(&catalog).webhooks[0].clone();
        w.id = format!("we_other{i}");
        w.metadata.clear();
        live.webhooks.push(w);
    }
    let error = plan(&catalog, &live).unwrap_err().to_string();
    assert!(error.contains("the account has 14 webhook endpoints and this plan creates 3 more: Stripe allows at most 16"), "{error}");
}

#[test]
fn a_feature_name_changes_in_place_and_a_new_lookup_key_replaces_it() {
    assert_eq!(
        rewritten(ENTITLEMENTS, "Single sign-on", "SSO"),
        ["entitlement_feature entitlements.sso Update [name: \"Single sign-on\" → \"SSO\"]"]
    );
    let text = ENTITLEMENTS.replace("lookup_key = \"audit_log\"", "lookup_key = \"audit_trail\"");
    let live = LiveState::matching(&catalog(ENTITLEMENTS));
    let steps = step_lists(&catalog(&text), &live, &[]);
    assert_eq!(
        steps,
        [
            "products.pro Update: attach feature audit_trail, detach feature audit_log",
            "entitlements.audit Replace: create entitlement feature, archive the replaced entitlement feature",
        ]
    );
    let plan = plan(&catalog(&text), &live).unwrap();
    let pro = plan.change_at("products.pro");
    assert_eq!(
        field_list(pro),
        "entitlements: [\"audit_log\", \"legacy\", \"sso\"] → [\"audit_trail\", \"legacy\", \"sso\"]"
    );
    assert!(
        pro.notes.iter().any(|n| n.contains("next billing period")),
        "{:?}",
        pro.notes
    );
    // The new feature is attached by the step that creates it.
    let attach = &plan.steps[pro.steps[0]];
    assert!(
        attach
            .depends_on
            .iter()
            .any(|d| plan.steps[*d].description == "create entitlement feature"),
        "{:?}",
        attach.depends_on
    );
}

#[test]
fn a_removed_feature_is_archived_and_detached_where_listed() {
    let text = ENTITLEMENTS
        .replace("[entitlements.sso]\nname = \"Single sign-on\"\n", "")
        .replace("entitlements = [\"sso\"]", "entitlements = []")
        .replace(
            "[\"sso\", \"audit\", \"legacy\"]",
            "[\"audit\", \"legacy\"]",
        );
    let live = LiveState::matching(&catalog(ENTITLEMENTS));
    let mut steps = step_lists(&catalog(&text), &live, &[]);
    steps.sort();
    assert_eq!(
        steps,
        [
            "entitlements.sso Archive: archive entitlement feature",
            "products.pro Update: detach feature sso",
            "products.starter Update: detach feature sso, remove the features marker",
        ]
    );
}
