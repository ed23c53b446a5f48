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
    // Tiers inside a currency option are includable too: absent unless expanded.
    assert!(options["eur"].get("tiers").is_none(), "{}", full);
    assert!(options["usd"].get("tiers").is_none(), "{}", full);
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

#[test]
fn tiers_inside_currency_options_are_includable_per_currency() {
    let sandbox = start();
    let prod = product(&sandbox, "name=Pro");
    let p = price(&sandbox, &format!("{TIERED}&product={prod}"));
    let get = |q: &str| Req::get(&format!("/v1/prices/{p}?{q}")).send(&sandbox);

    // Expanding one currency's tiers includes `currency_options` and only that currency's tiers.
    let eur = get("expand[]=currency_options.eur.tiers");
    assert_eq!(eur.status, 200, "{}", eur.body);
    let eur = eur.json();
    let options = eur["currency_options"].as_object().unwrap();
    assert_eq!(options.keys().collect::<Vec<_>>(), ["eur", "usd"]);
    assert_eq!(options["eur"]["tiers"][0]["flat_amount"], 90);
    assert_eq!(options["eur"]["tiers"][1]["unit_amount"], 2);
    assert!(options["usd"].get("tiers").is_none());
    assert!(eur.get("tiers").is_none(), "top-level tiers stay separate");

    // The price's own currency follows the same rule.
    let usd = get("expand[]=currency_options.usd.tiers&expand[]=tiers").json();
    assert_eq!(
        usd["currency_options"]["usd"]["tiers"][0]["flat_amount"],
        100
    );
    assert!(usd["currency_options"]["eur"].get("tiers").is_none());
    assert_eq!(usd["tiers"][0]["flat_amount"], 100);

    // Any supported currency may be named, even one the price does not have.
    let gbp = get("expand[]=currency_options.gbp.tiers").json();
    assert!(gbp["currency_options"].get("gbp").is_none());

    // Lists: `data.` plus four levels in all.
    let list = Req::get("/v1/prices?expand[]=data.currency_options.eur.tiers").send(&sandbox);
    assert_eq!(list.status, 200, "{}", list.body);
    let list = list.json();
    assert_eq!(
        list["data"][0]["currency_options"]["eur"]["tiers"][1]["unit_amount"],
        2
    );
    assert!(
        list["data"][0]["currency_options"]["usd"]
            .get("tiers")
            .is_none()
    );

    // Through an expanded default price (four levels).
    Req::post(
        &format!("/v1/products/{prod}"),
        &format!("default_price={p}"),
    )
    .send(&sandbox);
    let product = Req::get(&format!(
        "/v1/products/{prod}?expand[]=default_price.currency_options.eur.tiers"
    ))
    .send(&sandbox);
    assert_eq!(product.status, 200, "{}", product.body);
    assert_eq!(
        product.json()["default_price"]["currency_options"]["eur"]["tiers"][0]["up_to"],
        5
    );

    // On create and update too.
    let created = Req::post(
        "/v1/prices",
        &format!("{TIERED}&product={prod}&expand[]=currency_options.eur.tiers"),
    )
    .send(&sandbox);
    assert_eq!(created.status, 200, "{}", created.body);
    assert_eq!(
        created.json()["currency_options"]["eur"]["tiers"][0]["flat_amount"],
        90
    );
    let updated = Req::post(
        &format!("/v1/prices/{p}"),
        "metadata[a]=b&expand[0]=currency_options.usd.tiers",
    )
    .send(&sandbox);
    assert_eq!(updated.status, 200, "{}", updated.body);
    assert_eq!(
        updated.json()["currency_options"]["usd"]["tiers"][1]["unit_amount_decimal"],
        "2.5"
    );

    // What cannot be expanded.
    for bad in [
        "expand[]=currency_options.eur",
        "expand[]=currency_options.xyz.tiers",
        "expand[]=currency_options.EUR.tiers",
        "expand[]=currency_options.eur.unit_amount",
        "expand[]=currency_options.eur.tiers.up_to",
        "expand[]=currency_options.tiers",
    ] {
        let res = get(bad);
        assert_eq!(
            (res.status, res.error().1.as_deref()),
            (400, Some("expand")),
            "{bad}: {}",
            res.body
        );
    }
    let res = Req::get("/v1/prices?expand[]=currency_options.eur.tiers").send(&sandbox);
    assert_eq!(res.status, 400, "lists need the data. prefix");
}
