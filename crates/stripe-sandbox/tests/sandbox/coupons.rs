//! Coupons: create, retrieve, list, update, delete, every refusal, includable fields, `valid`,
//! events and idempotent replay (docs/stripe-rules.md#coupons).

use std::collections::HashMap;

use serde_json::{Value, json};
use stripe_product::coupon::{
    CreateCoupon, CreateCouponAppliesTo, CurrencyOption, DeleteCoupon, ListCoupon, RetrieveCoupon,
    UpdateCoupon,
};
use stripe_product::{CouponDuration, DeletedCoupon};
use stripe_types::{Currency, RangeQueryTs};

use super::support::{
    Req, client, coupon, event_types, product, promotion_code, start, stripe_error, unix_now,
};

/// Every key of a coupon without includable fields (docs/stripe-rules.md#coupons).
const COUPON_KEYS: &[&str] = &[
    "id",
    "object",
    "amount_off",
    "created",
    "currency",
    "duration",
    "duration_in_months",
    "livemode",
    "max_redemptions",
    "metadata",
    "name",
    "percent_off",
    "redeem_by",
    "times_redeemed",
    "valid",
];

fn post(sandbox: &stripe_sandbox::Sandbox, body: &str) -> super::support::RawResponse {
    Req::post("/v1/coupons", body).send(sandbox)
}

/// `(status, code, param, message)` of a raw error response.
fn refusal(res: &super::support::RawResponse) -> (u16, Option<String>, Option<String>, String) {
    let (code, param, message) = res.error();
    (res.status, code, param, message)
}

#[tokio::test]
async fn create_returns_a_complete_coupon_async_stripe_can_read() {
    let sandbox = start();
    let client = client(&sandbox);
    let redeem_by = unix_now() + 30 * 24 * 3600;
    let created = CreateCoupon::new()
        .id("LAUNCH20")
        .name("Launch: 20% off")
        .percent_off(20.0)
        .duration(CouponDuration::Repeating)
        .duration_in_months(3)
        .max_redemptions(100)
        .redeem_by(redeem_by)
        .metadata(HashMap::from([("billing_key".into(), "launch20".into())]))
        .send(&client)
        .await
        .unwrap();
    assert_eq!(created.id.as_str(), "LAUNCH20");
    assert_eq!(created.percent_off, Some(20.0));
    assert_eq!(created.amount_off, None);
    assert_eq!(created.currency, None);
    assert_eq!(created.duration, CouponDuration::Repeating);
    assert_eq!(created.duration_in_months, Some(3));
    assert_eq!(created.max_redemptions, Some(100));
    assert_eq!(created.redeem_by, Some(redeem_by));
    assert_eq!(created.name.as_deref(), Some("Launch: 20% off"));
    assert_eq!(
        created.metadata.as_ref().unwrap()["billing_key"],
        "launch20"
    );
    assert_eq!((created.times_redeemed, created.valid), (0, true));
    assert!(!created.livemode);
    assert!(created.applies_to.is_none() && created.currency_options.is_none());

    let raw = Req::get("/v1/coupons/LAUNCH20").send(&sandbox).json();
    let keys: Vec<&str> = raw
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, COUPON_KEYS, "{raw}");
    assert_eq!(raw["object"], "coupon");
    assert_eq!(raw["percent_off"], json!(20.0));

    let fetched = RetrieveCoupon::new("LAUNCH20").send(&client).await.unwrap();
    assert_eq!(fetched.created, created.created);

    // Without `id` the coupon gets 8 random uppercase alphanumerics, and `duration` is `once`.
    let generated = CreateCoupon::new()
        .percent_off(12.5)
        .send(&client)
        .await
        .unwrap();
    let id = generated.id.as_str();
    assert!(
        id.len() == 8
            && id
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()),
        "{id}"
    );
    assert_eq!(generated.duration, CouponDuration::Once);
    assert_eq!(generated.duration_in_months, None);
}

#[test]
fn percent_off_and_amount_off_are_exclusive_and_one_is_required() {
    let sandbox = start();
    assert_eq!(
        refusal(&post(&sandbox, "duration=once")),
        (
            400,
            Some("parameter_missing".into()),
            None,
            "Must provide percent_off or amount_off.".into()
        )
    );
    assert_eq!(
        refusal(&post(
            &sandbox,
            "percent_off=10&amount_off=500&currency=usd"
        )),
        (
            400,
            None,
            None,
            "Received both percent_off and amount_off parameters. Please pass in only one.".into()
        )
    );
}

#[test]
fn percent_off_is_between_a_hundredth_and_a_hundred() {
    let sandbox = start();
    assert_eq!(
        refusal(&post(&sandbox, "percent_off=0")),
        (
            400,
            None,
            Some("percent_off".into()),
            "This value must be greater than or equal to 0.01 (it currently is '0.0').".into()
        )
    );
    for bad in ["100.01", "-5", "abc", "12.345", "1e1"] {
        let res = post(&sandbox, &format!("percent_off={bad}"));
        assert_eq!(res.status, 400, "{bad}: {}", res.body);
        assert_eq!(res.error().1.as_deref(), Some("percent_off"), "{bad}");
    }
    for good in ["0.01", "100", "33.33", "10.0"] {
        let res = post(&sandbox, &format!("percent_off={good}"));
        assert_eq!(res.status, 200, "{good}: {}", res.body);
    }
}

#[tokio::test]
async fn amount_off_needs_a_currency_and_takes_amounts_in_other_currencies() {
    let sandbox = start();
    let client = client(&sandbox);
    let created = CreateCoupon::new()
        .id("TENOFF")
        .amount_off(1000)
        .currency(Currency::USD)
        .currency_options(HashMap::from([(Currency::EUR, CurrencyOption::new(900))]))
        .expand(vec!["currency_options".to_string()])
        .send(&client)
        .await
        .unwrap();
    assert_eq!(
        (created.amount_off, created.currency.clone()),
        (Some(1000), Some(Currency::USD))
    );
    // `currency_options`, when included, holds the coupon's own currency too (as for prices).
    let options = created.currency_options.unwrap();
    assert_eq!(options[&Currency::EUR].amount_off, 900);
    assert_eq!(options[&Currency::USD].amount_off, 1000);

    for (body, param, message) in [
        (
            "amount_off=500",
            Some("currency"),
            "You must pass currency when passing amount_off",
        ),
        (
            "percent_off=10&currency_options[eur][amount_off]=5",
            Some("currency_options"),
            "You may only specify one of these parameters: currency_options, percent_off.",
        ),
    ] {
        let res = post(&sandbox, body);
        assert_eq!(
            refusal(&res),
            (400, None, param.map(str::to_string), message.to_string()),
            "{body}"
        );
    }
    for (body, param) in [
        // Stricter readings: a currency with percent_off, the own currency among the options.
        ("percent_off=10&currency=usd", "currency"),
        (
            "amount_off=500&currency=usd&currency_options[usd][amount_off]=400",
            "currency_options[usd]",
        ),
        ("amount_off=0&currency=usd", "amount_off"),
        ("amount_off=100000000&currency=usd", "amount_off"),
        ("amount_off=5.5&currency=usd", "amount_off"),
        ("amount_off=500&currency=xyz", "currency"),
        (
            "amount_off=500&currency=usd&currency_options[eur][amount_off]=0",
            "currency_options[eur][amount_off]",
        ),
        (
            "amount_off=500&currency=usd&currency_options[eur][foo]=1",
            "currency_options[eur][foo]",
        ),
    ] {
        let res = post(&sandbox, body);
        assert_eq!(res.status, 400, "{body}: {}", res.body);
        assert_eq!(
            res.error().1.as_deref(),
            Some(param),
            "{body}: {}",
            res.body
        );
    }
    let top = post(&sandbox, "amount_off=99999999&currency=jpy");
    assert_eq!(top.status, 200, "{}", top.body);
}

#[test]
fn duration_in_months_goes_with_repeating_only() {
    let sandbox = start();
    assert_eq!(
        refusal(&post(&sandbox, "percent_off=10&duration=repeating")),
        (
            400,
            None,
            Some("duration".into()),
            "The duration_in_months param must be set when creating a coupon with a repeating \
             duration"
                .into()
        )
    );
    for (body, param) in [
        (
            "percent_off=10&duration=once&duration_in_months=3",
            "duration_in_months",
        ),
        ("percent_off=10&duration_in_months=3", "duration_in_months"),
        (
            "percent_off=10&duration=repeating&duration_in_months=0",
            "duration_in_months",
        ),
        ("percent_off=10&duration=weekly", "duration"),
    ] {
        let res = post(&sandbox, body);
        assert_eq!(res.status, 400, "{body}: {}", res.body);
        assert_eq!(res.error().1.as_deref(), Some(param), "{body}");
    }
    let forever = post(&sandbox, "percent_off=10&duration=forever").json();
    assert_eq!(forever["duration"], "forever");
    assert_eq!(forever["duration_in_months"], Value::Null);
}

#[test]
fn redeem_by_lies_in_the_next_five_years() {
    let sandbox = start();
    let past = unix_now() - 10;
    assert_eq!(
        refusal(&post(&sandbox, &format!("percent_off=10&redeem_by={past}"))),
        (
            400,
            None,
            Some("redeem_by".into()),
            format!(
                "The parameter `redeem_by` expects a unix timestamp representing a date and time \
                 in the future. You specified the value `{past}` which is in the past."
            )
        )
    );
    let far = unix_now() + 5 * 366 * 24 * 3600;
    assert_eq!(
        refusal(&post(&sandbox, &format!("percent_off=10&redeem_by={far}"))),
        (
            400,
            None,
            Some("redeem_by".into()),
            "Invalid timestamp: can be no more than five years in the future.".into()
        )
    );
    let soon = unix_now() + 3600;
    let ok = post(&sandbox, &format!("percent_off=10&redeem_by={soon}"));
    assert_eq!(ok.status, 200, "{}", ok.body);
}

#[test]
fn max_redemptions_name_and_unknown_parameters() {
    let sandbox = start();
    for (body, param, code) in [
        ("percent_off=10&max_redemptions=0", "max_redemptions", None),
        (
            "percent_off=10&max_redemptions=x",
            "max_redemptions",
            Some("parameter_invalid_integer"),
        ),
        (
            &*format!("percent_off=10&name={}", "n".repeat(41)),
            "name",
            None,
        ),
        (
            "percent_off=10&name=",
            "name",
            Some("parameter_invalid_empty"),
        ),
        (
            "percent_off=10&valid=true",
            "valid",
            Some("parameter_unknown"),
        ),
        (
            "percent_off=10&applies_to[foo]=x",
            "applies_to[foo]",
            Some("parameter_unknown"),
        ),
        (
            "percent_off=10&metadata[a]=b&expand[]=promotion",
            "expand",
            None,
        ),
    ] {
        let res = post(&sandbox, body);
        assert_eq!(res.status, 400, "{body}: {}", res.body);
        let (got_code, got_param, _) = res.error();
        assert_eq!(
            (got_code.as_deref(), got_param.as_deref()),
            (code, Some(param)),
            "{body}: {}",
            res.body
        );
    }
    let named = post(&sandbox, &format!("percent_off=10&name={}", "n".repeat(40)));
    assert_eq!(named.status, 200, "{}", named.body);
    // `metadata` is emptyable on create, unlike other coupon parameters.
    let empty = post(&sandbox, "percent_off=10&metadata=");
    assert_eq!(empty.json()["metadata"], json!({}));
}

#[tokio::test]
async fn applies_to_names_existing_products_and_is_includable() {
    let sandbox = start();
    let client = client(&sandbox);
    let pro = product(&sandbox, "name=Pro");
    let team = product(&sandbox, "name=Team");
    let created = CreateCoupon::new()
        .id("PRO")
        .percent_off(10.0)
        .applies_to(CreateCouponAppliesTo {
            products: Some(vec![pro.clone(), team.clone()]),
        })
        .send(&client)
        .await
        .unwrap();
    // Includable: absent unless expanded.
    assert!(created.applies_to.is_none());
    let plain = Req::get("/v1/coupons/PRO").send(&sandbox).json();
    assert!(plain.get("applies_to").is_none(), "{plain}");
    let expanded = RetrieveCoupon::new("PRO")
        .expand(vec!["applies_to".to_string()])
        .send(&client)
        .await
        .unwrap();
    assert_eq!(expanded.applies_to.unwrap().products, [pro.clone(), team]);
    let listed = Req::get("/v1/coupons?expand[]=data.applies_to")
        .send(&sandbox)
        .json();
    assert_eq!(listed["data"][0]["applies_to"]["products"][0], pro.as_str());
    let res = Req::get("/v1/coupons?expand[]=applies_to").send(&sandbox);
    assert_eq!(
        res.error().2,
        "This property cannot be expanded (applies_to)."
    );
    // A coupon for every product shows `applies_to: null` when included.
    let all = post(&sandbox, "percent_off=5&expand[]=applies_to").json();
    assert_eq!(all["applies_to"], Value::Null);

    let res = post(
        &sandbox,
        &format!("percent_off=10&applies_to[products][0]={pro}&applies_to[products][1]=prod_nope"),
    );
    assert_eq!(
        refusal(&res),
        (
            400,
            Some("resource_missing".into()),
            Some("applies_to[products][1]".into()),
            "No such product: 'prod_nope'".into()
        )
    );
    let gone = product(&sandbox, "name=Gone");
    assert_eq!(
        Req::delete(&format!("/v1/products/{gone}"))
            .send(&sandbox)
            .status,
        200
    );
    let res = post(
        &sandbox,
        &format!("percent_off=10&applies_to[products][]={gone}"),
    );
    assert_eq!(res.error().1.as_deref(), Some("applies_to[products][0]"));
}

#[tokio::test]
async fn custom_ids_are_unique_and_a_deleted_id_is_never_reused() {
    let sandbox = start();
    let client = client(&sandbox);
    CreateCoupon::new()
        .id("SPRING")
        .percent_off(10.0)
        .send(&client)
        .await
        .unwrap();
    let (status, code, param, _, message) = stripe_error(
        CreateCoupon::new()
            .id("SPRING")
            .percent_off(15.0)
            .send(&client)
            .await,
    );
    assert_eq!(
        (status, code.as_deref(), param, message.as_str()),
        (
            400,
            Some("resource_already_exists"),
            None,
            "Coupon already exists."
        )
    );
    DeleteCoupon::new("SPRING").send(&client).await.unwrap();
    // Whether Stripe reuses a deleted coupon's id is unknown: the sandbox never does.
    let (status, code, ..) = stripe_error(
        CreateCoupon::new()
            .id("SPRING")
            .percent_off(10.0)
            .send(&client)
            .await,
    );
    assert_eq!(
        (status, code.as_deref()),
        (400, Some("resource_already_exists"))
    );
    let res = post(&sandbox, "id=a/b&percent_off=10");
    assert_eq!(res.error().1.as_deref(), Some("id"));
}

#[tokio::test]
async fn update_changes_name_metadata_and_currency_options_only() {
    let sandbox = start();
    let client = client(&sandbox);
    coupon(
        &sandbox,
        "id=TEN&amount_off=1000&currency=usd&currency_options[eur][amount_off]=900&metadata[a]=1&metadata[b]=2&name=Ten",
    );
    let updated = UpdateCoupon::new("TEN")
        .name("Ten off")
        .metadata(HashMap::from([
            ("a".to_string(), String::new()),
            ("c".to_string(), "3".to_string()),
        ]))
        .currency_options(HashMap::from([(Currency::GBP, CurrencyOption::new(800))]))
        .expand(vec!["currency_options".to_string()])
        .send(&client)
        .await
        .unwrap();
    assert_eq!(updated.name.as_deref(), Some("Ten off"));
    let metadata = updated.metadata.unwrap();
    assert_eq!(
        (
            metadata.get("a"),
            metadata["b"].as_str(),
            metadata["c"].as_str()
        ),
        (None, "2", "3")
    );
    // Merged per currency: eur kept, gbp added; then eur changed.
    let options = updated.currency_options.unwrap();
    assert_eq!(
        (
            options[&Currency::EUR].amount_off,
            options[&Currency::GBP].amount_off
        ),
        (900, 800)
    );
    let changed = Req::post(
        "/v1/coupons/TEN",
        "currency_options[eur][amount_off]=950&expand[]=currency_options",
    )
    .send(&sandbox)
    .json();
    assert_eq!(changed["currency_options"]["eur"]["amount_off"], 950);
    assert_eq!(changed["currency_options"]["gbp"]["amount_off"], 800);
    let cleared = Req::post("/v1/coupons/TEN", "metadata=")
        .send(&sandbox)
        .json();
    assert_eq!(cleared["metadata"], json!({}));

    for (body, code, param) in [
        ("amount_off=5", Some("parameter_unknown"), "amount_off"),
        ("percent_off=5", Some("parameter_unknown"), "percent_off"),
        ("currency=eur", Some("parameter_unknown"), "currency"),
        ("duration=forever", Some("parameter_unknown"), "duration"),
        (
            "max_redemptions=5",
            Some("parameter_unknown"),
            "max_redemptions",
        ),
        (
            "redeem_by=2000000000",
            Some("parameter_unknown"),
            "redeem_by",
        ),
        (
            "applies_to[products][]=x",
            Some("parameter_unknown"),
            "applies_to",
        ),
        ("id=OTHER", Some("parameter_unknown"), "id"),
        ("name=", Some("parameter_invalid_empty"), "name"),
        (
            "currency_options=",
            Some("parameter_invalid_empty"),
            "currency_options",
        ),
        (
            "currency_options[usd][amount_off]=5",
            None,
            "currency_options[usd]",
        ),
    ] {
        let res = Req::post("/v1/coupons/TEN", body).send(&sandbox);
        assert_eq!(res.status, 400, "{body}: {}", res.body);
        let (got_code, got_param, _) = res.error();
        assert_eq!(
            (got_code.as_deref(), got_param.as_deref()),
            (code, Some(param)),
            "{body}"
        );
    }
    coupon(&sandbox, "id=PCT&percent_off=10");
    let res = Req::post("/v1/coupons/PCT", "currency_options[eur][amount_off]=5").send(&sandbox);
    assert_eq!(res.error().1.as_deref(), Some("currency_options"));
    let res = Req::post("/v1/coupons/NOPE", "name=x").send(&sandbox);
    assert_eq!(
        (res.status, res.error().2.as_str()),
        (404, "No such coupon: 'NOPE'")
    );
}

#[tokio::test]
async fn delete_answers_the_deleted_shape_and_the_coupon_is_gone() {
    let sandbox = start();
    let client = client(&sandbox);
    coupon(&sandbox, "id=BYE&percent_off=10");
    let deleted: DeletedCoupon = DeleteCoupon::new("BYE").send(&client).await.unwrap();
    assert_eq!(deleted.id.as_str(), "BYE");
    let raw = Req::get("/v1/events?type=coupon.deleted")
        .send(&sandbox)
        .json();
    assert_eq!(
        raw["data"][0]["data"]["object"],
        json!({ "id": "BYE", "object": "coupon", "deleted": true })
    );
    for req in [
        Req::get("/v1/coupons/BYE"),
        Req::post("/v1/coupons/BYE", "name=x"),
        Req::delete("/v1/coupons/BYE"),
    ] {
        let res = req.send(&sandbox);
        assert_eq!(
            refusal(&res),
            (
                404,
                Some("resource_missing".into()),
                Some("id".into()),
                "No such coupon: 'BYE'".into()
            )
        );
    }
    let listed = ListCoupon::new().send(&client).await.unwrap();
    assert!(listed.data.is_empty());
}

#[tokio::test]
async fn valid_turns_false_when_redeem_by_passes_or_max_redemptions_is_reached() {
    let sandbox = start();
    let client = client(&sandbox);
    let redeem_by = unix_now() + 100;
    coupon(
        &sandbox,
        &format!("id=SOON&percent_off=10&redeem_by={redeem_by}"),
    );
    assert!(
        RetrieveCoupon::new("SOON")
            .send(&client)
            .await
            .unwrap()
            .valid
    );
    sandbox.advance_clock(100).unwrap();
    assert!(
        !RetrieveCoupon::new("SOON")
            .send(&client)
            .await
            .unwrap()
            .valid
    );

    coupon(&sandbox, "id=TWICE&percent_off=10&max_redemptions=2");
    let code = promotion_code(&sandbox, "promotion[type]=coupon&promotion[coupon]=TWICE");
    sandbox.redeem_promotion_code(&code).unwrap();
    let once = RetrieveCoupon::new("TWICE").send(&client).await.unwrap();
    assert_eq!((once.times_redeemed, once.valid), (1, true));
    sandbox.redeem_promotion_code(&code).unwrap();
    let twice = RetrieveCoupon::new("TWICE").send(&client).await.unwrap();
    assert_eq!((twice.times_redeemed, twice.valid), (2, false));
    // The listed coupons show the same.
    let listed = ListCoupon::new().send(&client).await.unwrap();
    assert!(listed.data.iter().all(|c| !c.valid));
}

#[tokio::test]
async fn list_pages_newest_first_and_filters_on_created() {
    let sandbox = start();
    let client = client(&sandbox);
    let first = coupon(&sandbox, "id=FIRST&percent_off=1");
    sandbox.advance_clock(10).unwrap();
    let second = coupon(&sandbox, "id=SECOND&percent_off=2");
    let third = coupon(&sandbox, "id=THIRD&percent_off=3");
    let page = ListCoupon::new().limit(2).send(&client).await.unwrap();
    let ids: Vec<&str> = page.data.iter().map(|c| c.id.as_str()).collect();
    assert_eq!((ids, page.has_more), (vec![&*third, &*second], true));
    assert_eq!(page.url, "/v1/coupons");
    let next = ListCoupon::new()
        .starting_after(second.clone())
        .send(&client)
        .await
        .unwrap();
    assert_eq!(next.data.len(), 1);
    assert_eq!(next.data[0].id.as_str(), first);
    let before = ListCoupon::new()
        .ending_before(first.clone())
        .limit(1)
        .send(&client)
        .await
        .unwrap();
    assert_eq!(before.data[0].id.as_str(), second);

    let created_first = RetrieveCoupon::new("FIRST")
        .send(&client)
        .await
        .unwrap()
        .created;
    let old = ListCoupon::new()
        .created(RangeQueryTs::lte(created_first))
        .send(&client)
        .await
        .unwrap();
    assert_eq!(old.data.len(), 1);
    assert_eq!(old.data[0].id.as_str(), "FIRST");
    let newer = ListCoupon::new()
        .created(RangeQueryTs::gt(created_first))
        .send(&client)
        .await
        .unwrap();
    assert_eq!(newer.data.len(), 2);

    for query in ["active=true", "limit=101", "currency=usd"] {
        let res = Req::get(&format!("/v1/coupons?{query}")).send(&sandbox);
        assert_eq!(res.status, 400, "{query}: {}", res.body);
    }
    let res = Req::get("/v1/coupons?starting_after=NOPE").send(&sandbox);
    assert_eq!(res.error().2, "No such coupon: 'NOPE'");
}

#[test]
fn every_write_records_one_event() {
    let sandbox = start();
    coupon(&sandbox, "id=EV&percent_off=10");
    assert_eq!(
        Req::post("/v1/coupons/EV", "name=Events")
            .send(&sandbox)
            .status,
        200
    );
    assert_eq!(
        Req::post("/v1/coupons/EV", "percent_off=5")
            .send(&sandbox)
            .status,
        400
    );
    assert_eq!(Req::delete("/v1/coupons/EV").send(&sandbox).status, 200);
    assert_eq!(
        event_types(&sandbox),
        ["coupon.deleted", "coupon.updated", "coupon.created"]
    );
    let updated = Req::get("/v1/events?type=coupon.updated")
        .send(&sandbox)
        .json();
    assert_eq!(updated["data"][0]["data"]["object"]["name"], "Events");
}

#[test]
fn a_create_with_an_idempotency_key_replays() {
    let sandbox = start();
    let send = |body: &str| {
        Req::post("/v1/coupons", body)
            .idempotency_key("coupon-launch")
            .send(&sandbox)
    };
    let first = send("percent_off=20&name=Launch");
    let replay = send("percent_off=20&name=Launch");
    assert_eq!((first.status, replay.status), (200, 200));
    assert_eq!(replay.header("Idempotent-Replayed"), Some("true"));
    assert_eq!(replay.json()["id"], first.json()["id"]);
    let list = Req::get("/v1/coupons").send(&sandbox).json();
    assert_eq!(list["data"].as_array().map(Vec::len), Some(1));
    let other = send("percent_off=25&name=Launch");
    assert_eq!(other.status, 400);
    assert_eq!(other.json()["error"]["type"], "idempotency_error");
    // A refusal after execution began is the key's answer too.
    let taken = Req::post("/v1/coupons", "id=DUP&percent_off=1").send(&sandbox);
    assert_eq!(taken.status, 200);
    let refused = Req::post("/v1/coupons", "id=DUP&percent_off=1")
        .idempotency_key("coupon-dup")
        .send(&sandbox);
    let again = Req::post("/v1/coupons", "id=DUP&percent_off=1")
        .idempotency_key("coupon-dup")
        .send(&sandbox);
    assert_eq!((refused.status, again.status), (400, 400));
    assert_eq!(again.header("Idempotent-Replayed"), Some("true"));
    assert_eq!(event_types(&sandbox), ["coupon.created", "coupon.created"]);
}
