//! Products: create, retrieve, update, archive, delete, custom ids, field rules and metadata.

use std::collections::HashMap;

use stripe_product::product::{
    CreateProduct, CreateProductDefaultPriceData, CreateProductDefaultPriceDataRecurring,
    CreateProductDefaultPriceDataRecurringInterval, DeleteProduct, Features,
    PackageDimensionsSpecs, RetrieveProduct, UpdateProduct,
};
use stripe_types::{Currency, Expandable};

use super::support::{Req, client, price, product, start, stripe_error};

#[tokio::test]
async fn create_returns_a_complete_product_async_stripe_can_read() {
    let sandbox = start();
    let client = client(&sandbox);
    let created = CreateProduct::new("Pro")
        .description("For teams")
        .images(vec!["https://img.example/pro.png".to_string()])
        .marketing_features(vec![Features::new("Unlimited projects")])
        .metadata(HashMap::from([(
            "billing_key".to_string(),
            "products.pro".to_string(),
        )]))
        .package_dimensions(PackageDimensionsSpecs::new(1.5, 2.0, 3.25, 4.0))
        .shippable(false)
        .statement_descriptor("ACME PRO")
        .tax_code("txcd_10103001")
        .unit_label("seat")
        .url("https://acme.example/pro")
        .send(&client)
        .await
        .unwrap();
    assert!(created.id.as_str().starts_with("prod_") && created.id.as_str().len() == 19);
    assert!(created.active);
    assert!(!created.livemode);
    assert_eq!(created.description.as_deref(), Some("For teams"));
    assert_eq!(
        created.marketing_features[0].name.as_deref(),
        Some("Unlimited projects")
    );
    assert_eq!(created.metadata["billing_key"], "products.pro");
    assert_eq!(created.package_dimensions.as_ref().unwrap().weight, 3.25);
    assert_eq!(created.statement_descriptor.as_deref(), Some("ACME PRO"));
    assert_eq!(created.type_.as_str(), "service");
    assert_eq!(created.updated, created.created);

    let raw = Req::get(&format!("/v1/products/{}", created.id))
        .send(&sandbox)
        .json();
    for key in [
        "id",
        "object",
        "active",
        "created",
        "default_price",
        "description",
        "images",
        "livemode",
        "marketing_features",
        "metadata",
        "name",
        "package_dimensions",
        "shippable",
        "statement_descriptor",
        "tax_code",
        "type",
        "unit_label",
        "updated",
        "url",
    ] {
        assert!(raw.get(key).is_some(), "missing {key}");
    }
    assert_eq!(raw["object"], "product");
    assert_eq!(raw["default_price"], serde_json::Value::Null);

    let fetched = RetrieveProduct::new(created.id.clone())
        .send(&client)
        .await
        .unwrap();
    assert_eq!(fetched.name, "Pro");
}

#[tokio::test]
async fn custom_ids_are_unique_and_never_reused() {
    let sandbox = start();
    let client = client(&sandbox);
    let p = CreateProduct::new("Pro")
        .id("pro")
        .send(&client)
        .await
        .unwrap();
    assert_eq!(p.id.as_str(), "pro");
    let (status, code, param, ..) =
        stripe_error(CreateProduct::new("Again").id("pro").send(&client).await);
    assert_eq!(
        (status, code.as_deref(), param.as_deref()),
        (400, Some("resource_already_exists"), Some("id"))
    );

    let deleted = DeleteProduct::new("pro").send(&client).await.unwrap();
    assert_eq!(deleted.id.as_str(), "pro");
    let (status, code, ..) = stripe_error(RetrieveProduct::new("pro").send(&client).await);
    assert_eq!((status, code.as_deref()), (404, Some("resource_missing")));
    // A deleted product's id is not reused (stricter reading).
    let (status, code, ..) =
        stripe_error(CreateProduct::new("Reborn").id("pro").send(&client).await);
    assert_eq!(
        (status, code.as_deref()),
        (400, Some("resource_already_exists"))
    );

    let (status, _, param, ..) =
        stripe_error(CreateProduct::new("Slash").id("a/b").send(&client).await);
    assert_eq!((status, param.as_deref()), (400, Some("id")));
}

#[test]
fn field_limits() {
    let sandbox = start();
    let post = |body: &str| Req::post("/v1/products", body).send(&sandbox);
    for (body, param) in [
        ("name=x&statement_descriptor=ab<cd", "statement_descriptor"),
        ("name=x&statement_descriptor=12345", "statement_descriptor"),
        ("name=x&statement_descriptor=a\"b", "statement_descriptor"),
        ("name=x&statement_descriptor=a%5Cb", "statement_descriptor"),
        (
            "name=x&statement_descriptor=12345678901234567890abc",
            "statement_descriptor",
        ),
        ("name=x&unit_label=thirteen+char", "unit_label"),
        ("name=x&url=not-a-url", "url"),
        ("name=x&images[0]=ftp://x", "images[0]"),
        ("name=x&tax_code=tax_123", "tax_code"),
        ("name=x&type=good&unit_label=kg", "unit_label"),
        (
            "name=x&package_dimensions[height]=1.234&package_dimensions[length]=1&package_dimensions[weight]=1&package_dimensions[width]=1",
            "package_dimensions[height]",
        ),
    ] {
        let res = post(body);
        assert_eq!(res.status, 400, "{body}: {}", res.body);
        assert_eq!(
            res.error().1.as_deref(),
            Some(param),
            "{body}: {}",
            res.body
        );
    }
    let nine: String = (0..9)
        .map(|i| format!("images[{i}]=https://x.example/{i}.png&"))
        .collect();
    let res = post(&format!("{nine}name=x"));
    assert_eq!(
        (res.status, res.error().1.as_deref()),
        (400, Some("images"))
    );
    let sixteen: String = (0..16)
        .map(|i| format!("marketing_features[{i}][name]=f{i}&"))
        .collect();
    let res = post(&format!("{sixteen}name=x"));
    assert_eq!(
        (res.status, res.error().1.as_deref()),
        (400, Some("marketing_features"))
    );
    let long_feature = "y".repeat(81);
    let res = post(&format!(
        "name=x&marketing_features[0][name]={long_feature}"
    ));
    assert_eq!(
        res.error().1.as_deref(),
        Some("marketing_features[0][name]")
    );
    assert_eq!(
        post("name=x&statement_descriptor=ACME+1&unit_label=twelve+chars").status,
        200
    );
}

#[test]
fn metadata_limits() {
    let sandbox = start();
    let post = |body: &str| Req::post("/v1/products", body).send(&sandbox);
    let long_key = "k".repeat(41);
    let res = post(&format!("name=x&metadata[{long_key}]=v"));
    assert_eq!(res.status, 400);
    assert!(
        res.error()
            .2
            .starts_with("Metadata keys can have up to 40 characters."),
        "{}",
        res.body
    );
    let long_value = "v".repeat(501);
    let res = post(&format!("name=x&metadata[k]={long_value}"));
    assert_eq!(
        (res.status, res.error().1.as_deref()),
        (400, Some("metadata[k]"))
    );
    let fifty_one: String = (0..51).map(|i| format!("metadata[k{i}]=v&")).collect();
    let res = post(&format!("{fifty_one}name=x"));
    assert_eq!(res.error().2, "You can have up to 50 metadata keys.");
    let res = post("name=x&metadata[a][b]=c");
    assert_eq!(res.status, 400);

    // The limit applies to the merged result too.
    let fifty: String = (0..50).map(|i| format!("metadata[k{i}]=v&")).collect();
    let id = product(&sandbox, &format!("{fifty}name=x"));
    let res = Req::post(&format!("/v1/products/{id}"), "metadata[another]=v").send(&sandbox);
    assert_eq!(res.error().2, "You can have up to 50 metadata keys.");
}

#[test]
fn metadata_update_merges() {
    let sandbox = start();
    let id = product(&sandbox, "name=x&metadata[a]=1&metadata[b]=2&metadata[c]=3");
    let update = |body: &str| {
        Req::post(&format!("/v1/products/{id}"), body)
            .send(&sandbox)
            .json()
    };
    let p = update("metadata[b]=&metadata[d]=4&metadata[a]=one");
    assert_eq!(
        p["metadata"],
        serde_json::json!({"a": "one", "c": "3", "d": "4"})
    );
    let p = update("name=y");
    assert_eq!(
        p["metadata"],
        serde_json::json!({"a": "one", "c": "3", "d": "4"})
    );
    let p = update("metadata=");
    assert_eq!(p["metadata"], serde_json::json!({}));
}

#[tokio::test]
async fn update_clears_emptyable_fields_and_bumps_updated() {
    let sandbox = start();
    let id = product(
        &sandbox,
        "name=x&description=d&images[0]=https://i.example/a.png&marketing_features[0][name]=f&tax_code=txcd_10103001&unit_label=seat&url=https://x.example&package_dimensions[height]=1&package_dimensions[length]=1&package_dimensions[weight]=1&package_dimensions[width]=1",
    );
    let before = Req::get(&format!("/v1/products/{id}"))
        .send(&sandbox)
        .json();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let after = Req::post(
        &format!("/v1/products/{id}"),
        "description=&images=&marketing_features=&tax_code=&unit_label=&url=&package_dimensions=&shippable=true&active=false",
    )
    .send(&sandbox)
    .json();
    for key in [
        "description",
        "tax_code",
        "unit_label",
        "url",
        "package_dimensions",
    ] {
        assert_eq!(after[key], serde_json::Value::Null, "{key}");
    }
    assert_eq!(after["images"], serde_json::json!([]));
    assert_eq!(after["marketing_features"], serde_json::json!([]));
    assert_eq!(after["shippable"], true);
    assert_eq!(after["active"], false);
    assert!(after["updated"].as_i64() > before["updated"].as_i64());
    assert_eq!(after["created"], before["created"]);
    let typed = UpdateProduct::new(id.as_str())
        .name("Renamed")
        .send(&client(&sandbox))
        .await
        .unwrap();
    assert_eq!(typed.name, "Renamed");
    assert!(!typed.active);
}

#[tokio::test]
async fn default_price_rules() {
    let sandbox = start();
    let client = client(&sandbox);
    let prod = product(&sandbox, "name=Pro");
    let other = product(&sandbox, "name=Other");
    let mine = price(
        &sandbox,
        &format!("currency=usd&product={prod}&unit_amount=100"),
    );
    let theirs = price(
        &sandbox,
        &format!("currency=usd&product={other}&unit_amount=100"),
    );
    let archived = price(
        &sandbox,
        &format!("currency=usd&product={prod}&unit_amount=200&active=false"),
    );

    let (status, code, param, ..) = stripe_error(
        UpdateProduct::new(prod.as_str())
            .default_price("price_nope")
            .send(&client)
            .await,
    );
    assert_eq!(
        (status, code.as_deref(), param.as_deref()),
        (400, Some("resource_missing"), Some("default_price"))
    );
    let (status, _, param, ..) = stripe_error(
        UpdateProduct::new(prod.as_str())
            .default_price(theirs.as_str())
            .send(&client)
            .await,
    );
    assert_eq!((status, param.as_deref()), (400, Some("default_price")));
    let (status, _, param, ..) = stripe_error(
        UpdateProduct::new(prod.as_str())
            .default_price(archived.as_str())
            .send(&client)
            .await,
    );
    assert_eq!((status, param.as_deref()), (400, Some("default_price")));

    let updated = UpdateProduct::new(prod.as_str())
        .default_price(mine.as_str())
        .send(&client)
        .await
        .unwrap();
    assert!(matches!(updated.default_price, Some(Expandable::Id(ref id)) if id.as_str() == mine));

    // `default_price=` clears it, though Stripe's specification does not mark it emptyable.
    let cleared = Req::post(&format!("/v1/products/{prod}"), "default_price=").send(&sandbox);
    assert_eq!(cleared.status, 200);
    assert_eq!(cleared.json()["default_price"], serde_json::Value::Null);
}

#[tokio::test]
async fn default_price_data_creates_the_default_price() {
    let sandbox = start();
    let client = client(&sandbox);
    let data = CreateProductDefaultPriceData {
        unit_amount: Some(7900),
        recurring: Some(CreateProductDefaultPriceDataRecurring::new(
            CreateProductDefaultPriceDataRecurringInterval::Month,
        )),
        ..CreateProductDefaultPriceData::new(Currency::USD)
    };
    let prod = CreateProduct::new("Pro")
        .default_price_data(data)
        .expand(vec!["default_price".to_string()])
        .send(&client)
        .await
        .unwrap();
    let Some(Expandable::Object(price)) = prod.default_price else {
        panic!("default_price not expanded: {:?}", prod.default_price)
    };
    assert_eq!(price.unit_amount, Some(7900));
    assert!(matches!(&price.product, Expandable::Id(id) if *id == prod.id));
    assert_eq!(price.recurring.unwrap().interval.as_str(), "month");

    let res = Req::post("/v1/products", "name=x&default_price_data[currency]=usd").send(&sandbox);
    assert_eq!(res.status, 400);
    let res = Req::post("/v1/products", "name=x&default_price_data[currency]=usd&default_price_data[unit_amount]=1&default_price_data[lookup_key]=k").send(&sandbox);
    assert_eq!(
        res.error().1.as_deref(),
        Some("default_price_data[lookup_key]")
    );
}

#[test]
fn archiving_a_product_leaves_its_prices_alone() {
    let sandbox = start();
    let prod = product(&sandbox, "name=Pro");
    let p = price(
        &sandbox,
        &format!("currency=usd&product={prod}&unit_amount=100"),
    );
    let res = Req::post(&format!("/v1/products/{prod}"), "active=false").send(&sandbox);
    assert_eq!(res.json()["active"], false);
    assert_eq!(
        Req::get(&format!("/v1/prices/{p}")).send(&sandbox).json()["active"],
        true
    );
}

#[tokio::test]
async fn delete_only_without_prices() {
    let sandbox = start();
    let client = client(&sandbox);
    let prod = product(&sandbox, "name=Pro");
    let p = price(
        &sandbox,
        &format!("currency=usd&product={prod}&unit_amount=100"),
    );
    Req::post(&format!("/v1/prices/{p}"), "active=false").send(&sandbox);
    let (status, code, param, _, message) =
        stripe_error(DeleteProduct::new(prod.as_str()).send(&client).await);
    assert_eq!((status, code, param), (400, None, None));
    assert_eq!(
        message,
        "This product cannot be deleted because it has one or more user-created prices."
    );

    let lonely = product(&sandbox, "name=Lonely");
    let res = Req::delete(&format!("/v1/products/{lonely}")).send(&sandbox);
    assert_eq!(
        res.json(),
        serde_json::json!({"id": lonely, "object": "product", "deleted": true})
    );
    assert_eq!(
        Req::get(&format!("/v1/products/{lonely}"))
            .send(&sandbox)
            .status,
        404
    );
    assert_eq!(
        Req::delete(&format!("/v1/products/{lonely}"))
            .send(&sandbox)
            .status,
        404
    );
    let res = Req::delete(&format!("/v1/products/{prod}?expand[]=x")).send(&sandbox);
    assert_eq!(res.error().0.as_deref(), Some("parameter_unknown"));
}
