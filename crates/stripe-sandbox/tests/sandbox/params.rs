//! The parameter rule table as a client sees it: unknown, immutable, empty, missing and
//! malformed parameters.

use stripe_product::price::{CreatePrice, CreatePriceRecurring, CreatePriceRecurringInterval};
use stripe_product::product::CreateProduct;
use stripe_types::Currency;

use super::support::{Req, client, product, start, stripe_error};

#[test]
fn unknown_nested_parameter_is_parameter_unknown() {
    let sandbox = start();
    let prod = product(&sandbox, "name=Gold");
    let res = Req::post(
        "/v1/prices",
        &format!(
            "currency=usd&product={prod}&unit_amount=100&recurring[interval]=month&recurring[foo]=1"
        ),
    )
    .send(&sandbox);
    assert_eq!(res.status, 400);
    assert_eq!(
        res.error(),
        (
            Some("parameter_unknown".into()),
            Some("recurring[foo]".into()),
            "Received unknown parameter: recurring[foo]".into()
        )
    );
    assert_eq!(
        res.json()["error"]["doc_url"],
        "https://stripe.com/docs/error-codes/parameter-unknown"
    );
}

#[test]
fn immutable_fields_are_unknown_on_update() {
    let sandbox = start();
    let prod = product(&sandbox, "name=Gold");
    let price = super::support::price(
        &sandbox,
        &format!("currency=usd&product={prod}&unit_amount=100"),
    );
    for (body, param) in [
        ("unit_amount=200", "unit_amount"),
        ("currency=eur", "currency"),
        ("recurring[interval]=year", "recurring"),
        ("product=prod_other", "product"),
    ] {
        let res = Req::post(&format!("/v1/prices/{price}"), body).send(&sandbox);
        assert_eq!(res.status, 400, "{body}");
        assert_eq!(res.error().0.as_deref(), Some("parameter_unknown"));
        assert_eq!(res.error().1.as_deref(), Some(param));
    }
    for (body, param) in [
        ("id=prod_new", "id"),
        ("type=good", "type"),
        ("default_price_data[currency]=usd", "default_price_data"),
    ] {
        let res = Req::post(&format!("/v1/products/{prod}"), body).send(&sandbox);
        assert_eq!(res.status, 400, "{body}");
        assert_eq!(res.error().1.as_deref(), Some(param));
    }
}

#[test]
fn empty_value_on_a_non_emptyable_field() {
    let sandbox = start();
    let prod = product(&sandbox, "name=Gold");
    let res = Req::post(&format!("/v1/products/{prod}"), "name=").send(&sandbox);
    assert_eq!(res.status, 400);
    assert_eq!(
        res.error(),
        (
            Some("parameter_invalid_empty".into()),
            Some("name".into()),
            "You passed an empty string for 'name'. We assume empty values are an attempt to \
             unset a parameter; however 'name' cannot be unset. You should remove 'name' from \
             your request or supply a non-empty value."
                .into()
        )
    );
    // statement_descriptor cannot be unset either; description can.
    let res = Req::post(&format!("/v1/products/{prod}"), "statement_descriptor=").send(&sandbox);
    assert_eq!(res.error().0.as_deref(), Some("parameter_invalid_empty"));
    let res = Req::post(&format!("/v1/products/{prod}"), "description=").send(&sandbox);
    assert_eq!(res.status, 200);
}

#[tokio::test]
async fn missing_required_parameter() {
    let sandbox = start();
    let res = Req::post("/v1/prices", "unit_amount=100").send(&sandbox);
    assert_eq!(
        res.error(),
        (
            Some("parameter_missing".into()),
            Some("currency".into()),
            "Missing required param: currency.".into()
        )
    );
    let res = Req::post("/v1/products", "").send(&sandbox);
    assert_eq!(res.error().2, "Missing required param: name.");
    let res = Req::post("/v1/products", "name=x&marketing_features[0][foo]=y").send(&sandbox);
    assert_eq!(res.error().1.as_deref(), Some("marketing_features[0][foo]"));
    let res = Req::post("/v1/products", "name=x&package_dimensions[height]=1").send(&sandbox);
    assert_eq!(
        res.error().2,
        "Missing required param: package_dimensions[length]."
    );
    let _ = client(&sandbox);
}

#[tokio::test]
async fn malformed_values() {
    let sandbox = start();
    let prod = product(&sandbox, "name=Gold");
    let post = |body: String| Req::post("/v1/prices", &body).send(&sandbox);

    let res = post(format!("currency=usd&product={prod}&unit_amount=abc"));
    assert_eq!(
        res.error(),
        (
            Some("parameter_invalid_integer".into()),
            Some("unit_amount".into()),
            "Invalid integer: abc".into()
        )
    );
    let res = post(format!("currency=usd&product={prod}&unit_amount=25.00"));
    assert_eq!(res.error().0.as_deref(), Some("parameter_invalid_integer"));

    let res = post(format!(
        "currency=usd&product={prod}&unit_amount=1&recurring[interval]=fortnight"
    ));
    assert_eq!(res.error().1.as_deref(), Some("recurring[interval]"));
    assert_eq!(
        res.error().2,
        "Invalid recurring[interval]: must be one of day, month, week, or year"
    );

    let res = post(format!(
        "currency=usd&product={prod}&unit_amount=1&active=yes"
    ));
    assert_eq!(
        (res.error().1.as_deref(), res.error().2.as_str()),
        (Some("active"), "Invalid boolean: yes")
    );

    let res = post(format!("currency=usd&product={prod}&unit_amount=-1"));
    assert_eq!(
        res.error().2,
        "This value must be greater than or equal to 0."
    );

    let res = post(format!(
        "currency=usd&product={prod}&unit_amount=1&recurring=month"
    ));
    assert_eq!(res.error().2, "Invalid hash");

    let res = post(format!(
        "currency=usd&product={prod}&unit_amount=1&expand=product"
    ));
    assert_eq!(res.error().2, "Invalid array");

    let (status, code, param, _, message) = stripe_error(
        CreateProduct::new("Gold")
            .statement_descriptor("THIS IS WAY TOO LONG FOR A DESCRIPTOR")
            .send(&client(&sandbox))
            .await,
    );
    assert_eq!(
        (status, code, param.as_deref()),
        (400, None, Some("statement_descriptor"))
    );
    assert!(
        message.contains("must be at most 22 characters"),
        "{message}"
    );

    let (status, _, param, _, _) = stripe_error(
        CreatePrice::new(Currency::USD)
            .product(prod.as_str())
            .unit_amount(100)
            .recurring(CreatePriceRecurring::new(
                CreatePriceRecurringInterval::Unknown("hour".into()),
            ))
            .send(&client(&sandbox))
            .await,
    );
    assert_eq!(
        (status, param.as_deref()),
        (400, Some("recurring[interval]"))
    );
}

#[test]
fn empty_query_key_is_refused() {
    // async-stripe's paginator sends `?=` for a list without parameters.
    let sandbox = start();
    let res = Req::get("/v1/products?=").send(&sandbox);
    assert_eq!(res.status, 400);
    assert_eq!(res.error().0.as_deref(), Some("parameter_unknown"));
    assert_eq!(Req::get("/v1/products?").send(&sandbox).status, 200);
}

#[test]
fn array_styles_are_equivalent() {
    let sandbox = start();
    let prod = product(
        &sandbox,
        "name=Gold&images[]=https://a.example/1.png&images[]=https://a.example/2.png",
    );
    let a = Req::get(&format!("/v1/products/{prod}"))
        .send(&sandbox)
        .json();
    assert_eq!(a["images"].as_array().unwrap().len(), 2);
    let res = Req::post(
        &format!("/v1/products/{prod}"),
        "images[1]=https://b.example/2.png&images[0]=https://b.example/1.png",
    )
    .send(&sandbox);
    assert_eq!(res.json()["images"][0], "https://b.example/1.png");
    let res = Req::post(
        &format!("/v1/products/{prod}"),
        "images[a]=https://b.example/1.png",
    )
    .send(&sandbox);
    assert_eq!(res.error().2, "Invalid array");
}
