//! Prices: creation rules, complete objects, lookup keys, tax behavior, currency options and
//! archiving.

use std::collections::HashMap;

use stripe_product::price::{
    CreatePrice, CreatePriceCurrencyOptions, CreatePriceProductData, CreatePriceRecurring,
    CreatePriceRecurringInterval, CreatePriceTiers, CreatePriceTiersUpTo, RetrievePrice,
    UpdatePrice,
};
use stripe_shared::{PriceBillingScheme, PriceTaxBehavior, PriceTiersMode};
use stripe_types::{Currency, Expandable};

use super::support::{Req, client, price, product, start, stripe_error};

fn monthly() -> CreatePriceRecurring {
    CreatePriceRecurring::new(CreatePriceRecurringInterval::Month)
}

#[tokio::test]
async fn create_returns_a_complete_price() {
    let sandbox = start();
    let client = client(&sandbox);
    let prod = product(&sandbox, "name=Pro");
    let created = CreatePrice::new(Currency::USD)
        .product(prod.as_str())
        .unit_amount(2000)
        .recurring(monthly())
        .lookup_key("pro_monthly")
        .nickname("Monthly")
        .send(&client)
        .await
        .unwrap();
    assert!(created.id.as_str().starts_with("price_") && created.id.as_str().len() == 30);
    assert_eq!(created.unit_amount, Some(2000));
    assert_eq!(created.unit_amount_decimal.as_deref(), Some("2000"));
    assert_eq!(created.type_.as_str(), "recurring");
    assert_eq!(created.billing_scheme.as_str(), "per_unit");
    assert_eq!(
        created.tax_behavior.as_ref().map(|t| t.as_str()),
        Some("unspecified")
    );
    let recurring = created.recurring.as_ref().unwrap();
    assert_eq!(
        (recurring.interval.as_str(), recurring.interval_count),
        ("month", 1)
    );
    assert_eq!(recurring.usage_type.as_str(), "licensed");
    assert!(created.tiers.is_none() && created.currency_options.is_none());

    let raw = Req::get(&format!("/v1/prices/{}", created.id))
        .send(&sandbox)
        .json();
    assert_eq!(
        raw["recurring"],
        serde_json::json!({"interval": "month", "interval_count": 1, "meter": null, "trial_period_days": null, "usage_type": "licensed"})
    );
    for key in ["custom_unit_amount", "transform_quantity", "tiers_mode"] {
        assert_eq!(raw[key], serde_json::Value::Null, "{key}");
    }
    for key in ["tiers", "currency_options"] {
        assert!(raw.get(key).is_none(), "{key} is includable");
    }
    assert_eq!(raw["livemode"], false);

    let one_time = price(
        &sandbox,
        &format!("currency=usd&product={prod}&unit_amount_decimal=12.50"),
    );
    let raw = Req::get(&format!("/v1/prices/{one_time}"))
        .send(&sandbox)
        .json();
    assert_eq!(raw["type"], "one_time");
    assert_eq!(raw["recurring"], serde_json::Value::Null);
    assert_eq!(
        (
            raw["unit_amount"].clone(),
            raw["unit_amount_decimal"].clone()
        ),
        (serde_json::Value::Null, serde_json::json!("12.5"))
    );
}

#[tokio::test]
async fn product_xor_product_data() {
    let sandbox = start();
    let client = client(&sandbox);
    let (status, code, param, _, message) = stripe_error(
        CreatePrice::new(Currency::USD)
            .unit_amount(1)
            .send(&client)
            .await,
    );
    assert_eq!((status, code, param), (400, None, None));
    assert_eq!(
        message,
        "You must specify either `product` or `product_data` when creating a price."
    );

    let prod = product(&sandbox, "name=Pro");
    let (_, _, param, _, message) = stripe_error(
        CreatePrice::new(Currency::USD)
            .unit_amount(1)
            .product(prod.as_str())
            .product_data(CreatePriceProductData::new("Inline"))
            .send(&client)
            .await,
    );
    assert_eq!(param.as_deref(), Some("product"));
    assert_eq!(
        message,
        "You may only specify one of these parameters: product, product_data."
    );

    let inline = CreatePrice::new(Currency::EUR)
        .unit_amount(900)
        .product_data(CreatePriceProductData {
            id: Some("inline_prod".into()),
            unit_label: Some("seat".into()),
            ..CreatePriceProductData::new("Inline")
        })
        .expand(vec!["product".to_string()])
        .send(&client)
        .await
        .unwrap();
    let Expandable::Object(p) = inline.product else {
        panic!("product not expanded")
    };
    assert_eq!(
        (p.id.as_str(), p.name.as_str(), p.unit_label.as_deref()),
        ("inline_prod", "Inline", Some("seat"))
    );

    let (status, code, param, _, message) = stripe_error(
        CreatePrice::new(Currency::USD)
            .unit_amount(1)
            .product("prod_missing")
            .send(&client)
            .await,
    );
    assert_eq!(
        (status, code.as_deref(), param.as_deref()),
        (400, Some("resource_missing"), Some("product"))
    );
    assert_eq!(message, "No such product: 'prod_missing'");
}

#[test]
fn archived_products_get_no_new_prices() {
    let sandbox = start();
    let prod = product(&sandbox, "name=Old&active=false");
    let res = Req::post(
        "/v1/prices",
        &format!("currency=usd&product={prod}&unit_amount=1"),
    )
    .send(&sandbox);
    assert_eq!(
        (res.status, res.error().1.as_deref()),
        (400, Some("product"))
    );
}

#[test]
fn amount_rules() {
    let sandbox = start();
    let prod = product(&sandbox, "name=Pro");
    let post = |rest: &str| {
        Req::post("/v1/prices", &format!("currency=usd&product={prod}&{rest}")).send(&sandbox)
    };
    let res = post("nickname=none");
    assert_eq!(
        res.error().2,
        "Prices require an `unit_amount` or `unit_amount_decimal` parameter to be set."
    );
    let res = post("unit_amount=1&unit_amount_decimal=1.5");
    assert_eq!(
        res.error().2,
        "You may only specify one of these parameters: unit_amount, unit_amount_decimal."
    );
    let res = post("unit_amount_decimal=0.0000000000001");
    assert_eq!(
        (res.status, res.error().1.as_deref()),
        (400, Some("unit_amount_decimal"))
    );
    assert_eq!(post("unit_amount_decimal=0.000000000001").status, 200);
    assert_eq!(post("unit_amount=0").status, 200, "free prices are allowed");
    let res = Req::post(
        "/v1/prices",
        &format!("currency=USD&product={prod}&unit_amount=1"),
    )
    .send(&sandbox);
    assert_eq!(res.error().1.as_deref(), Some("currency"));
    let res = Req::post(
        "/v1/prices",
        &format!("currency=xyz&product={prod}&unit_amount=1"),
    )
    .send(&sandbox);
    assert!(res.error().2.starts_with("Invalid currency: xyz."));
    let res = post("unit_amount=1&custom_unit_amount[enabled]=true");
    assert_eq!(res.status, 400);
    let ok = post(
        "custom_unit_amount[enabled]=true&custom_unit_amount[minimum]=100&custom_unit_amount[preset]=500",
    );
    assert_eq!(
        ok.json()["custom_unit_amount"],
        serde_json::json!({"maximum": null, "minimum": 100, "preset": 500})
    );
    let res = post("custom_unit_amount[enabled]=true&recurring[interval]=month");
    assert_eq!(res.error().1.as_deref(), Some("custom_unit_amount"));
}

#[tokio::test]
async fn tiered_rules() {
    let sandbox = start();
    let client = client(&sandbox);
    let prod = product(&sandbox, "name=Pro");
    let tier = |up_to: CreatePriceTiersUpTo, amount: i64| CreatePriceTiers {
        unit_amount: Some(amount),
        ..CreatePriceTiers::new(up_to)
    };
    let created = CreatePrice::new(Currency::USD)
        .product(prod.as_str())
        .billing_scheme(PriceBillingScheme::Tiered)
        .tiers_mode(PriceTiersMode::Graduated)
        .tiers(vec![
            tier(CreatePriceTiersUpTo::I64(10), 500),
            tier(CreatePriceTiersUpTo::Inf, 400),
        ])
        .recurring(monthly())
        .expand(vec!["tiers".to_string()])
        .send(&client)
        .await
        .unwrap();
    assert_eq!(
        (created.unit_amount, created.unit_amount_decimal.as_deref()),
        (None, None)
    );
    let tiers = created.tiers.unwrap();
    assert_eq!((tiers[0].up_to, tiers[1].up_to), (Some(10), None));
    assert_eq!(tiers[0].unit_amount_decimal.as_deref(), Some("500"));
    assert_eq!(tiers[0].flat_amount, None);

    let post = |rest: &str| {
        Req::post("/v1/prices", &format!("currency=usd&product={prod}&{rest}")).send(&sandbox)
    };
    let good_tiers =
        "tiers[0][up_to]=10&tiers[0][unit_amount]=5&tiers[1][up_to]=inf&tiers[1][unit_amount]=4";
    let res = post(&format!(
        "billing_scheme=tiered&tiers_mode=volume&{good_tiers}"
    ));
    assert_eq!(
        res.error().2,
        "Prices with `type=one_time` are not supported with tiered billing."
    );
    let res = post("billing_scheme=tiered&tiers_mode=volume&recurring[interval]=month");
    assert_eq!(res.error().2, "Missing required param: tiers.");
    let res = post(&format!(
        "billing_scheme=tiered&recurring[interval]=month&{good_tiers}"
    ));
    assert_eq!(res.error().2, "Missing required param: tiers_mode.");
    let res = post(&format!(
        "unit_amount=1&recurring[interval]=month&{good_tiers}"
    ));
    assert_eq!(res.error().1.as_deref(), Some("tiers"));
    let res = post(
        "billing_scheme=tiered&tiers_mode=volume&recurring[interval]=month&tiers[0][up_to]=10&tiers[0][unit_amount]=5",
    );
    assert_eq!(res.error().1.as_deref(), Some("tiers[0][up_to]"));
    let res = post(
        "billing_scheme=tiered&tiers_mode=volume&recurring[interval]=month&tiers[0][up_to]=10&tiers[0][unit_amount]=5&tiers[1][up_to]=5&tiers[1][unit_amount]=5&tiers[2][up_to]=inf&tiers[2][unit_amount]=1",
    );
    assert_eq!(res.error().1.as_deref(), Some("tiers[1][up_to]"));
    let res = post(&format!(
        "billing_scheme=tiered&tiers_mode=volume&recurring[interval]=month&{good_tiers}&transform_quantity[divide_by]=10&transform_quantity[round]=up"
    ));
    assert_eq!(res.error().1.as_deref(), Some("transform_quantity"));
    let res = post(&format!(
        "billing_scheme=tiered&tiers_mode=volume&recurring[interval]=month&{good_tiers}&unit_amount=1"
    ));
    assert_eq!(res.error().1.as_deref(), Some("unit_amount"));
    let ok = post("unit_amount=1&transform_quantity[divide_by]=10&transform_quantity[round]=up");
    assert_eq!(
        ok.json()["transform_quantity"],
        serde_json::json!({"divide_by": 10, "round": "up"})
    );
}

#[test]
fn recurring_rules() {
    let sandbox = start();
    let prod = product(&sandbox, "name=Pro");
    let post = |rest: &str| {
        Req::post(
            "/v1/prices",
            &format!("currency=usd&product={prod}&unit_amount=1&{rest}"),
        )
        .send(&sandbox)
    };
    for (interval, max) in [("day", 1095), ("week", 156), ("month", 36), ("year", 3)] {
        assert_eq!(
            post(&format!(
                "recurring[interval]={interval}&recurring[interval_count]={max}"
            ))
            .status,
            200
        );
        let res = post(&format!(
            "recurring[interval]={interval}&recurring[interval_count]={}",
            max + 1
        ));
        assert_eq!(
            res.error().1.as_deref(),
            Some("recurring[interval_count]"),
            "{interval}"
        );
    }
    let res = post("recurring[interval]=month&recurring[usage_type]=metered");
    assert_eq!(
        res.error().2,
        "Starting with Stripe version `2025-03-31.basil`, metered prices must be backed by meters."
    );
    // Before basil, metered prices without a meter were allowed.
    let res = Req::post("/v1/prices", &format!("currency=usd&product={prod}&unit_amount=1&recurring[interval]=month&recurring[usage_type]=metered"))
        .header("Stripe-Version", Some("2025-02-24.acacia"))
        .send(&sandbox);
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.json()["recurring"]["usage_type"], "metered");
    let res =
        post("recurring[interval]=month&recurring[usage_type]=metered&recurring[meter]=mtr_123");
    assert_eq!(
        (res.error().0.as_deref(), res.error().1.as_deref()),
        (Some("resource_missing"), Some("recurring[meter]"))
    );
}

#[tokio::test]
async fn lookup_keys_are_unique_and_transferable() {
    let sandbox = start();
    let client = client(&sandbox);
    let prod = product(&sandbox, "name=Pro");
    let first = price(
        &sandbox,
        &format!("currency=usd&product={prod}&unit_amount=1&lookup_key=pro"),
    );
    // An archived holder still holds the key.
    Req::post(&format!("/v1/prices/{first}"), "active=false").send(&sandbox);
    let (status, code, param, _, message) = stripe_error(
        CreatePrice::new(Currency::USD)
            .product(prod.as_str())
            .unit_amount(2)
            .lookup_key("pro")
            .send(&client)
            .await,
    );
    assert_eq!(
        (status, code, param.as_deref()),
        (400, None, Some("lookup_key"))
    );
    assert_eq!(
        message,
        format!("A price (`{first}`) already uses that lookup key.")
    );

    // Transfer on create: the new price takes the key in the same request.
    let second = CreatePrice::new(Currency::USD)
        .product(prod.as_str())
        .unit_amount(2)
        .lookup_key("pro")
        .transfer_lookup_key(true)
        .send(&client)
        .await
        .unwrap();
    assert_eq!(second.lookup_key.as_deref(), Some("pro"));
    let old = RetrievePrice::new(first.as_str())
        .send(&client)
        .await
        .unwrap();
    assert_eq!(old.lookup_key, None);
    assert!(!old.active);

    // Transfer on update; the previous holder stays active.
    let third = price(
        &sandbox,
        &format!("currency=usd&product={prod}&unit_amount=3"),
    );
    let (status, _, param, ..) = stripe_error(
        UpdatePrice::new(third.as_str())
            .lookup_key("pro")
            .send(&client)
            .await,
    );
    assert_eq!((status, param.as_deref()), (400, Some("lookup_key")));
    let moved = UpdatePrice::new(third.as_str())
        .lookup_key("pro")
        .transfer_lookup_key(true)
        .send(&client)
        .await
        .unwrap();
    assert_eq!(moved.lookup_key.as_deref(), Some("pro"));
    let previous = RetrievePrice::new(second.id.clone())
        .send(&client)
        .await
        .unwrap();
    assert_eq!((previous.lookup_key, previous.active), (None, true));

    // `lookup_key=` clears it.
    let res = Req::post(&format!("/v1/prices/{third}"), "lookup_key=").send(&sandbox);
    assert_eq!(res.json()["lookup_key"], serde_json::Value::Null);
    let res = Req::post(&format!("/v1/prices/{third}"), "transfer_lookup_key=true").send(&sandbox);
    assert_eq!(res.error().1.as_deref(), Some("transfer_lookup_key"));
}

#[tokio::test]
async fn tax_behavior_is_one_way() {
    let sandbox = start();
    let client = client(&sandbox);
    let prod = product(&sandbox, "name=Pro");
    let p = price(
        &sandbox,
        &format!("currency=usd&product={prod}&unit_amount=1"),
    );
    let set = UpdatePrice::new(p.as_str())
        .tax_behavior(PriceTaxBehavior::Exclusive)
        .send(&client)
        .await
        .unwrap();
    assert_eq!(set.tax_behavior.unwrap().as_str(), "exclusive");
    UpdatePrice::new(p.as_str())
        .tax_behavior(PriceTaxBehavior::Exclusive)
        .send(&client)
        .await
        .unwrap();
    for other in [PriceTaxBehavior::Inclusive, PriceTaxBehavior::Unspecified] {
        let (status, _, param, ..) = stripe_error(
            UpdatePrice::new(p.as_str())
                .tax_behavior(other)
                .send(&client)
                .await,
        );
        assert_eq!((status, param.as_deref()), (400, Some("tax_behavior")));
    }
}

#[tokio::test]
async fn currency_options_merge_and_clear() {
    let sandbox = start();
    let client = client(&sandbox);
    let prod = product(&sandbox, "name=Pro");
    let created = CreatePrice::new(Currency::USD)
        .product(prod.as_str())
        .unit_amount(7900)
        .tax_behavior(PriceTaxBehavior::Exclusive)
        .currency_options(HashMap::from([(
            Currency::EUR,
            CreatePriceCurrencyOptions {
                unit_amount: Some(7200),
                tax_behavior: Some(PriceTaxBehavior::Exclusive),
                ..Default::default()
            },
        )]))
        .expand(vec!["currency_options".to_string()])
        .send(&client)
        .await
        .unwrap();
    let options = created.currency_options.unwrap();
    assert_eq!(options.len(), 2, "own currency included");
    assert_eq!(options[&Currency::USD].unit_amount, Some(7900));
    assert_eq!(options[&Currency::EUR].unit_amount, Some(7200));
    assert_eq!(
        options[&Currency::EUR]
            .tax_behavior
            .as_ref()
            .unwrap()
            .as_str(),
        "exclusive"
    );

    let id = created.id.as_str();
    let merged = Req::post(
        &format!("/v1/prices/{id}?expand[]=currency_options"),
        "currency_options[gbp][unit_amount]=6400&currency_options[eur][unit_amount_decimal]=7100.5",
    )
    .send(&sandbox)
    .json();
    assert_eq!(
        merged["currency_options"]["eur"]["unit_amount_decimal"],
        "7100.5"
    );
    assert_eq!(
        merged["currency_options"]["eur"]["unit_amount"],
        serde_json::Value::Null
    );
    assert_eq!(merged["currency_options"]["gbp"]["unit_amount"], 6400);
    let res = Req::post(
        &format!("/v1/prices/{id}"),
        "currency_options[eur][tax_behavior]=inclusive",
    )
    .send(&sandbox);
    assert_eq!(
        res.error().1.as_deref(),
        Some("currency_options[eur][tax_behavior]")
    );
    let res = Req::post(
        &format!("/v1/prices/{id}"),
        "currency_options[usd][unit_amount]=1",
    )
    .send(&sandbox);
    assert_eq!(res.error().1.as_deref(), Some("currency_options[usd]"));
    let res = Req::post(
        &format!("/v1/prices/{id}"),
        "currency_options[jpy][tax_behavior]=exclusive",
    )
    .send(&sandbox);
    assert_eq!(res.error().0.as_deref(), Some("parameter_missing"));
    let res = Req::post(&format!("/v1/prices/{id}"), "currency_options[eur]=").send(&sandbox);
    assert_eq!(res.error().0.as_deref(), Some("parameter_invalid_empty"));
    let cleared = Req::post(
        &format!("/v1/prices/{id}?expand[]=currency_options"),
        "currency_options=",
    )
    .send(&sandbox)
    .json();
    assert_eq!(cleared["currency_options"].as_object().unwrap().len(), 1);
}

#[tokio::test]
async fn the_default_price_cannot_be_archived() {
    let sandbox = start();
    let client = client(&sandbox);
    let prod = product(&sandbox, "name=Pro");
    let p = price(
        &sandbox,
        &format!("currency=usd&product={prod}&unit_amount=1"),
    );
    Req::post(
        &format!("/v1/products/{prod}"),
        &format!("default_price={p}"),
    )
    .send(&sandbox);
    let (status, _, _, _, message) = stripe_error(
        UpdatePrice::new(p.as_str())
            .active(false)
            .send(&client)
            .await,
    );
    assert_eq!(status, 400);
    assert_eq!(
        message,
        "This price cannot be archived because it is the default price of its product."
    );
    Req::post(&format!("/v1/products/{prod}"), "default_price=").send(&sandbox);
    let archived = UpdatePrice::new(p.as_str())
        .active(false)
        .send(&client)
        .await
        .unwrap();
    assert!(!archived.active);
}

#[test]
fn amounts_have_at_most_eight_integer_digits() {
    let sandbox = start();
    let prod = product(&sandbox, "name=Pro");
    let post = |rest: &str| {
        Req::post("/v1/prices", &format!("currency=usd&product={prod}&{rest}")).send(&sandbox)
    };
    let tiered = "billing_scheme=tiered&tiers_mode=graduated&recurring[interval]=month";
    for (body, param) in [
        ("unit_amount=100000000", "unit_amount"),
        ("unit_amount_decimal=100000000", "unit_amount_decimal"),
        ("unit_amount_decimal=100000000.5", "unit_amount_decimal"),
        (
            "unit_amount=1&currency_options[eur][unit_amount]=100000000",
            "currency_options[eur][unit_amount]",
        ),
        (
            "unit_amount=1&currency_options[eur][unit_amount_decimal]=123456789.1",
            "currency_options[eur][unit_amount_decimal]",
        ),
        (
            &format!("{tiered}&tiers[0][up_to]=inf&tiers[0][unit_amount]=100000000"),
            "tiers[0][unit_amount]",
        ),
        (
            &format!("{tiered}&tiers[0][up_to]=inf&tiers[0][flat_amount]=100000000"),
            "tiers[0][flat_amount]",
        ),
        (
            &format!("{tiered}&tiers[0][up_to]=inf&tiers[0][flat_amount_decimal]=100000000"),
            "tiers[0][flat_amount_decimal]",
        ),
        (
            &format!(
                "{tiered}&tiers[0][up_to]=inf&tiers[0][unit_amount]=1\
                 &currency_options[eur][tiers][0][up_to]=inf\
                 &currency_options[eur][tiers][0][unit_amount_decimal]=100000000.000000000001"
            ),
            "currency_options[eur][tiers][0][unit_amount_decimal]",
        ),
    ] {
        let res = post(body);
        assert_eq!(
            (res.status, res.error().1.as_deref()),
            (400, Some(param)),
            "{body}: {}",
            res.body
        );
        assert_eq!(res.json()["error"]["type"], "invalid_request_error");
    }
    // The largest amounts are accepted.
    for body in [
        "unit_amount=99999999",
        "unit_amount_decimal=99999999.999999999999",
        "unit_amount_decimal=0099999999",
        "unit_amount=1&currency_options[eur][unit_amount]=99999999",
    ] {
        let res = post(body);
        assert_eq!(res.status, 200, "{body}: {}", res.body);
    }
    // On update and in a product's default price too.
    let p = price(
        &sandbox,
        &format!("currency=usd&product={prod}&unit_amount=1"),
    );
    let res = Req::post(
        &format!("/v1/prices/{p}"),
        "currency_options[eur][unit_amount]=100000000",
    )
    .send(&sandbox);
    assert_eq!(
        (res.status, res.error().1.as_deref()),
        (400, Some("currency_options[eur][unit_amount]"))
    );
    let res = Req::post(
        "/v1/products",
        "name=Big&default_price_data[currency]=usd&default_price_data[unit_amount]=100000000",
    )
    .send(&sandbox);
    assert_eq!(
        (res.status, res.error().1.as_deref()),
        (400, Some("default_price_data[unit_amount]"))
    );
}

#[test]
fn a_new_currency_option_without_tax_behavior_is_unspecified() {
    // Stricter reading: Stripe documents no inheritance from the price's tax behavior.
    let sandbox = start();
    let prod = product(&sandbox, "name=Pro");
    let created = Req::post(
        "/v1/prices",
        &format!(
            "currency=usd&product={prod}&unit_amount=100&tax_behavior=exclusive\
             &currency_options[eur][unit_amount]=90&expand[]=currency_options"
        ),
    )
    .send(&sandbox)
    .json();
    let options = &created["currency_options"];
    assert_eq!(options["usd"]["tax_behavior"], "exclusive");
    assert_eq!(options["eur"]["tax_behavior"], "unspecified");
    let id = created["id"].as_str().unwrap();
    let updated = Req::post(
        &format!("/v1/prices/{id}?expand[]=currency_options"),
        "currency_options[gbp][unit_amount]=80",
    )
    .send(&sandbox)
    .json();
    assert_eq!(
        updated["currency_options"]["gbp"]["tax_behavior"],
        "unspecified"
    );
    // An unspecified option can then be set once.
    let set = Req::post(
        &format!("/v1/prices/{id}?expand[]=currency_options"),
        "currency_options[eur][tax_behavior]=inclusive",
    )
    .send(&sandbox)
    .json();
    assert_eq!(set["currency_options"]["eur"]["tax_behavior"], "inclusive");
    assert_eq!(set["currency_options"]["eur"]["unit_amount"], 90);
}
