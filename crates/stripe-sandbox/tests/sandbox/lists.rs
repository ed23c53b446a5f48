//! Lists: envelope, newest-first order, pagination with async-stripe, cursors, limits and
//! filters.

use futures_util::TryStreamExt;
use stripe_product::price::{ListPrice, ListPriceRecurring, ListPriceRecurringInterval};
use stripe_product::product::{CreateProduct, ListProduct};
use stripe_shared::PriceType;
use stripe_types::Currency;

use super::support::{Req, client, price, product, start, stripe_error};

fn ids(list: &serde_json::Value) -> Vec<String> {
    list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn paginate_over_more_than_a_hundred_objects() {
    let sandbox = start();
    let client = client(&sandbox);
    let mut created = Vec::new();
    for i in 0..130 {
        created.push(product(&sandbox, &format!("name=P{i}")));
    }
    let listed: Vec<_> = ListProduct::new()
        .limit(100)
        .paginate()
        .stream(&client)
        .try_collect()
        .await
        .unwrap();
    let listed: Vec<String> = listed.iter().map(|p| p.id.to_string()).collect();
    created.reverse();
    assert_eq!(listed, created, "every product once, newest first");
    let pages: Vec<_> = sandbox
        .requests()
        .into_iter()
        .filter(|r| r.method == "GET")
        .map(|r| r.query)
        .collect();
    assert_eq!(pages.len(), 2);
    assert_eq!(pages[1], format!("limit=100&starting_after={}", listed[99]));

    // Small pages too, over prices.
    let prod = product(&sandbox, "name=Pro");
    let mut prices = Vec::new();
    for i in 0..25 {
        prices.push(price(
            &sandbox,
            &format!("currency=usd&product={prod}&unit_amount={i}"),
        ));
    }
    let listed: Vec<String> = ListPrice::new()
        .product(prod.as_str())
        .limit(7)
        .paginate()
        .stream(&client)
        .map_ok(|p| p.id.to_string())
        .try_collect()
        .await
        .unwrap();
    prices.reverse();
    assert_eq!(listed, prices);
}

#[test]
fn envelope_and_cursors() {
    let sandbox = start();
    let mut all: Vec<String> = (0..5)
        .map(|i| product(&sandbox, &format!("name=P{i}")))
        .collect();
    all.reverse();
    let page = Req::get("/v1/products?limit=2").send(&sandbox).json();
    assert_eq!(page["object"], "list");
    assert_eq!(page["url"], "/v1/products");
    assert_eq!(page["has_more"], true);
    assert_eq!(ids(&page), all[..2]);
    let page = Req::get(&format!("/v1/products?limit=2&starting_after={}", all[1]))
        .send(&sandbox)
        .json();
    assert_eq!(
        (ids(&page), page["has_more"].as_bool()),
        (all[2..4].to_vec(), Some(true))
    );
    let page = Req::get(&format!("/v1/products?limit=2&starting_after={}", all[3]))
        .send(&sandbox)
        .json();
    assert_eq!(
        (ids(&page), page["has_more"].as_bool()),
        (all[4..].to_vec(), Some(false))
    );
    let page = Req::get(&format!("/v1/products?limit=2&ending_before={}", all[4]))
        .send(&sandbox)
        .json();
    assert_eq!(
        (ids(&page), page["has_more"].as_bool()),
        (all[2..4].to_vec(), Some(true))
    );
    let page = Req::get(&format!("/v1/products?limit=2&ending_before={}", all[2]))
        .send(&sandbox)
        .json();
    assert_eq!(
        (ids(&page), page["has_more"].as_bool()),
        (all[..2].to_vec(), Some(false))
    );
    let default = Req::get("/v1/products").send(&sandbox).json();
    assert_eq!(ids(&default).len(), 5);

    let res = Req::get(&format!(
        "/v1/products?starting_after={}&ending_before={}",
        all[0], all[1]
    ))
    .send(&sandbox);
    assert_eq!(
        res.error().2,
        "You may only specify one of these parameters: ending_before, starting_after."
    );
    let res = Req::get("/v1/products?starting_after=prod_gone").send(&sandbox);
    assert_eq!(
        res.error(),
        (
            Some("resource_missing".into()),
            Some("starting_after".into()),
            "No such product: 'prod_gone'".into()
        )
    );
}

#[tokio::test]
async fn limit_bounds() {
    let sandbox = start();
    let client = client(&sandbox);
    let (status, _, param, _, message) =
        stripe_error(ListProduct::new().limit(101).send(&client).await);
    assert_eq!(
        (status, param.as_deref(), message.as_str()),
        (
            400,
            Some("limit"),
            "This value must be less than or equal to 100."
        )
    );
    let (_, _, _, _, message) = stripe_error(ListProduct::new().limit(0).send(&client).await);
    assert_eq!(message, "This value must be greater than or equal to 1.");
    let res = Req::get("/v1/products?limit=abc").send(&sandbox);
    assert_eq!(res.error().0.as_deref(), Some("parameter_invalid_integer"));
    let res = Req::get("/v1/products?color=red").send(&sandbox);
    assert_eq!(res.error().0.as_deref(), Some("parameter_unknown"));
}

#[tokio::test]
async fn newest_first_within_one_second() {
    let sandbox = start();
    let client = client(&sandbox);
    let mut made = Vec::new();
    for i in 0..20 {
        made.push(
            CreateProduct::new(format!("Same second {i}"))
                .send(&client)
                .await
                .unwrap()
                .id
                .to_string(),
        );
    }
    let listed = ListProduct::new().limit(100).send(&client).await.unwrap();
    made.reverse();
    assert_eq!(
        listed
            .data
            .iter()
            .map(|p| p.id.to_string())
            .collect::<Vec<_>>(),
        made
    );
}

#[test]
fn product_filters() {
    let sandbox = start();
    let a = product(&sandbox, "name=A&shippable=true&url=https://a.example");
    let b = product(&sandbox, "name=B&active=false");
    let c = product(&sandbox, "name=C");
    let get = |q: &str| ids(&Req::get(&format!("/v1/products?{q}")).send(&sandbox).json());
    assert_eq!(get("active=true"), [c.as_str(), a.as_str()]);
    assert_eq!(get("active=false"), [b.as_str()]);
    assert_eq!(get("shippable=true"), [a.as_str()]);
    assert_eq!(get("url=https://a.example"), [a.as_str()]);
    assert_eq!(
        get(&format!("ids[]={a}&ids[]={b}")),
        [b.as_str(), a.as_str()]
    );
    let created = Req::get(&format!("/v1/products/{a}")).send(&sandbox).json()["created"]
        .as_i64()
        .unwrap();
    assert_eq!(get(&format!("created={created}")).len(), 3);
    assert_eq!(get(&format!("created[gt]={created}")).len(), 0);
    assert_eq!(
        get(&format!("created[gte]={created}&created[lte]={created}")).len(),
        3
    );
    let res = Req::get(&format!("/v1/products?ids[]={a}&starting_after={b}")).send(&sandbox);
    assert_eq!(res.status, 400);
    let res = Req::get("/v1/products?created[after]=1").send(&sandbox);
    assert_eq!(res.error().1.as_deref(), Some("created[after]"));
    let res = Req::get("/v1/products?type=good").send(&sandbox);
    assert_eq!(res.error().0.as_deref(), Some("parameter_unknown"));
}

#[tokio::test]
async fn price_filters_and_active_default() {
    let sandbox = start();
    let client = client(&sandbox);
    let pro = product(&sandbox, "name=Pro");
    let team = product(&sandbox, "name=Team");
    let monthly = price(
        &sandbox,
        &format!(
            "currency=usd&product={pro}&unit_amount=1&recurring[interval]=month&lookup_key=pro_m"
        ),
    );
    let yearly = price(
        &sandbox,
        &format!(
            "currency=usd&product={pro}&unit_amount=1&recurring[interval]=year&lookup_key=pro_y"
        ),
    );
    let euro = price(
        &sandbox,
        &format!("currency=eur&product={team}&unit_amount=1"),
    );
    let archived = price(
        &sandbox,
        &format!("currency=usd&product={team}&unit_amount=1&active=false&lookup_key=old"),
    );

    let get = |q: &str| ids(&Req::get(&format!("/v1/prices?{q}")).send(&sandbox).json());
    // Without `active`, only active prices (docs/stripe-rules.md#stricter-readings).
    assert_eq!(get(""), [euro.as_str(), yearly.as_str(), monthly.as_str()]);
    assert_eq!(get("active=false"), [archived.as_str()]);
    assert_eq!(get("currency=eur"), [euro.as_str()]);
    assert_eq!(
        get(&format!("product={pro}")),
        [yearly.as_str(), monthly.as_str()]
    );
    assert_eq!(get("type=one_time"), [euro.as_str()]);
    assert_eq!(get("recurring[interval]=year"), [yearly.as_str()]);
    assert_eq!(get("recurring[usage_type]=licensed").len(), 2);
    assert_eq!(
        get("lookup_keys[0]=pro_m&lookup_keys[1]=old"),
        [monthly.as_str()]
    );
    assert_eq!(get("lookup_keys[0]=old&active=false"), [archived.as_str()]);
    let eleven: String = (0..11).map(|i| format!("lookup_keys[{i}]=k{i}&")).collect();
    let res = Req::get(&format!("/v1/prices?{eleven}")).send(&sandbox);
    assert_eq!(
        (res.status, res.error().1.as_deref()),
        (400, Some("lookup_keys"))
    );

    let typed = ListPrice::new()
        .currency(Currency::USD)
        .type_(PriceType::Recurring)
        .recurring(ListPriceRecurring {
            interval: Some(ListPriceRecurringInterval::Month),
            ..Default::default()
        })
        .send(&client)
        .await
        .unwrap();
    assert_eq!(typed.url, "/v1/prices");
    assert_eq!(
        typed
            .data
            .iter()
            .map(|p| p.id.to_string())
            .collect::<Vec<_>>(),
        [monthly]
    );
}
