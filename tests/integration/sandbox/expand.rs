//! `expand[]`: expandable ids, includable fields, list prefixes and depth.

use stripe_product::price::{ListPrice, RetrievePrice};
use stripe_product::product::RetrieveProduct;
use stripe_types::Expandable;

use super::support::{Req, client, price, product, start};

const TIERED: &str = "currency=usd&billing_scheme=tiered&tiers_mode=graduated&recurring[interval]=month&tiers[0][up_to]=5&tiers[0][flat_amount]=100&tiers[1][up_to]=inf&tiers[1][unit_amount_decimal]=2.5&currency_options[eur][tiers][0][up_to]=5&currency_options[eur][tiers][0][flat_amount]=90&currency_options[eur][tiers][1][up_to]=inf&currency_options[eur][tiers][1][unit_amount]=2";

#[test]
fn includable_fields_are_omitted_unless_expanded() {
    let sandbox = start();
    let prod = product(&sandbox, "name=Pro");
    let p = price(&sandbox, &format!("{TIERED}&product={prod}"));
    let plain = Req::get(&format!("/v1/prices/{p}")).send(&sandbox).json();
    assert!(plain.get("tiers").is_none() && plain.get("currency_options").is_none());
    assert_eq!(plain["billing_scheme"], "tiered");

    let full = Req::get(&format!(
        "/v1/prices/{p}?expand[]=tiers&expand[]=currency_options"
    ))
    .send(&sandbox)
    .json();
    assert_eq!(
        full["tiers"],
        serde_json::json!([
            {"flat_amount": 100, "flat_amount_decimal": "100", "unit_amount": null, "unit_amount_decimal": null, "up_to": 5},
            {"flat_amount": null, "flat_amount_decimal": null, "unit_amount": null, "unit_amount_decimal": "2.5", "up_to": null}
        ])
    );
    let options = full["currency_options"].as_object().unwrap();
    assert_eq!(options.keys().collect::<Vec<_>>(), ["eur", "usd"]);
    assert_eq!(options["eur"]["tiers"][1]["unit_amount"], 2);
    assert_eq!(options["usd"]["tiers"][0]["flat_amount"], 100);
    assert_eq!(options["usd"]["unit_amount"], serde_json::Value::Null);

    // On lists the expansion is `data.`-prefixed.
    let list = Req::get("/v1/prices?expand[]=data.tiers")
        .send(&sandbox)
        .json();
    assert!(list["data"][0].get("tiers").is_some());
    let res = Req::get("/v1/prices?expand[]=tiers").send(&sandbox);
    assert_eq!(res.error().2, "This property cannot be expanded (tiers).");
}

#[tokio::test]
async fn expandable_ids_embed_objects() {
    let sandbox = start();
    let client = client(&sandbox);
    let prod = product(&sandbox, "name=Pro");
    let p = price(
        &sandbox,
        &format!("currency=usd&product={prod}&unit_amount=100"),
    );
    Req::post(
        &format!("/v1/products/{prod}"),
        &format!("default_price={p}"),
    )
    .send(&sandbox);

    let with_product = RetrievePrice::new(p.as_str())
        .expand(vec!["product.default_price".to_string()])
        .send(&client)
        .await
        .unwrap();
    let Expandable::Object(product) = with_product.product else {
        panic!("product not expanded")
    };
    assert!(
        matches!(product.default_price, Some(Expandable::Object(ref dp)) if dp.id.as_str() == p)
    );

    let with_price = RetrieveProduct::new(prod.as_str())
        .expand(vec!["default_price".to_string()])
        .send(&client)
        .await
        .unwrap();
    assert!(
        matches!(with_price.default_price, Some(Expandable::Object(ref dp)) if dp.unit_amount == Some(100))
    );

    let listed = ListPrice::new()
        .expand(vec!["data.product".to_string()])
        .send(&client)
        .await
        .unwrap();
    assert!(matches!(listed.data[0].product, Expandable::Object(_)));
}

#[test]
fn bad_expansions_are_refused() {
    let sandbox = start();
    let prod = product(&sandbox, "name=Pro");
    let p = price(
        &sandbox,
        &format!("currency=usd&product={prod}&unit_amount=100"),
    );
    let get = |q: &str| Req::get(&format!("/v1/prices/{p}?{q}")).send(&sandbox);
    let res = get("expand[]=foo");
    assert_eq!(
        (res.status, res.error().2.as_str()),
        (400, "This property cannot be expanded (foo).")
    );
    let res = get("expand[]=tiers.up_to");
    assert_eq!(res.status, 400);
    let res = get("expand[]=product.default_price.product.default_price.product");
    assert_eq!(res.status, 400);
    assert!(res.error().2.contains("4 levels"), "{}", res.body);
    assert_eq!(
        get("expand[]=product.default_price.product.default_price").status,
        200
    );
    let res = Req::get(&format!("/v1/products/{prod}?expand[]=data.default_price")).send(&sandbox);
    assert_eq!(res.status, 400);
}
