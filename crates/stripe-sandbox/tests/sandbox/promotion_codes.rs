//! Promotion codes: the pinned request shape, every refusal, `code` uniqueness, automatic
//! deactivation (expired, exhausted, coupon deleted or invalid), reactivation, list filters,
//! expansions, events, idempotent replay, the test hooks, and the minimal customers they can be
//! restricted to (docs/stripe-rules.md#promotion-codes).

use std::collections::HashMap;

use serde_json::{Value, json};
use stripe_product::promotion_code::{
    CreatePromotionCode, CreatePromotionCodePromotion, CreatePromotionCodePromotionType,
    CreatePromotionCodeRestrictions, CurrencyOption, ListPromotionCode, RetrievePromotionCode,
    UpdatePromotionCode, UpdatePromotionCodeRestrictions,
};
use stripe_sandbox::{Sandbox, SandboxConfig, SandboxError};
use stripe_types::{Currency, Expandable};

use super::support::{
    RawResponse, Req, client, coupon, customer, event_types, promotion_code, start, start_with,
    stripe_error, unix_now,
};

/// Every key of a promotion code without includable fields (docs/stripe-rules.md#promotion-codes).
const CODE_KEYS: &[&str] = &[
    "id",
    "object",
    "active",
    "code",
    "created",
    "customer",
    "customer_account",
    "expires_at",
    "livemode",
    "max_redemptions",
    "metadata",
    "promotion",
    "restrictions",
    "times_redeemed",
];

fn promotion(coupon: &str) -> CreatePromotionCodePromotion {
    CreatePromotionCodePromotion {
        coupon: Some(coupon.to_string()),
        type_: CreatePromotionCodePromotionType::Coupon,
    }
}

fn post(sandbox: &Sandbox, body: &str) -> RawResponse {
    Req::post("/v1/promotion_codes", body).send(sandbox)
}

/// `promotion[type]=coupon&promotion[coupon]=<coupon>` followed by `rest`.
fn for_coupon(coupon: &str, rest: &str) -> String {
    format!("promotion[type]=coupon&promotion[coupon]={coupon}{rest}")
}

fn get(sandbox: &Sandbox, id: &str) -> Value {
    let res = Req::get(&format!("/v1/promotion_codes/{id}")).send(sandbox);
    assert_eq!(res.status, 200, "{}", res.body);
    res.json()
}

fn update(sandbox: &Sandbox, id: &str, body: &str) -> RawResponse {
    Req::post(&format!("/v1/promotion_codes/{id}"), body).send(sandbox)
}

/// The ids listed by `GET /v1/promotion_codes?<query>` (one page of up to 100).
fn listed(sandbox: &Sandbox, query: &str) -> Vec<String> {
    let res = Req::get(&format!("/v1/promotion_codes?limit=100&{query}")).send(sandbox);
    assert_eq!(res.status, 200, "{query}: {}", res.body);
    res.json()["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect()
}

fn duplicate(code: &str) -> String {
    format!("An active promotion code with `code: {code}` already exists.")
}

#[tokio::test]
async fn create_returns_a_complete_promotion_code_async_stripe_can_read() {
    let sandbox = start();
    let client = client(&sandbox);
    coupon(&sandbox, "id=LAUNCH&percent_off=20&max_redemptions=100");
    let expires_at = unix_now() + 7 * 24 * 3600;
    let created = CreatePromotionCode::new(promotion("LAUNCH"))
        .code("Launch-20")
        .max_redemptions(50)
        .expires_at(expires_at)
        .restrictions(CreatePromotionCodeRestrictions {
            first_time_transaction: Some(true),
            minimum_amount: Some(5000),
            minimum_amount_currency: Some(Currency::USD),
            ..CreatePromotionCodeRestrictions::new()
        })
        .metadata(HashMap::from([("billing_key".into(), "LAUNCH20".into())]))
        .send(&client)
        .await
        .unwrap();
    let id = created.id.as_str();
    assert!(id.starts_with("promo_") && id.len() == 30, "{id}");
    assert_eq!(created.code, "Launch-20");
    assert!(created.active && !created.livemode);
    assert_eq!(created.expires_at, Some(expires_at));
    assert_eq!(created.max_redemptions, Some(50));
    assert_eq!(created.times_redeemed, 0);
    assert!(created.customer.is_none() && created.customer_account.is_none());
    assert_eq!(
        created.metadata.as_ref().unwrap()["billing_key"],
        "LAUNCH20"
    );
    assert!(matches!(&created.promotion.coupon, Some(Expandable::Id(c)) if c.as_str() == "LAUNCH"));
    assert_eq!(created.promotion.type_.as_str(), "coupon");
    let r = &created.restrictions;
    assert!(r.first_time_transaction);
    assert_eq!(
        (r.minimum_amount, r.minimum_amount_currency.clone()),
        (Some(5000), Some(Currency::USD))
    );
    assert!(r.currency_options.is_none());

    let raw = get(&sandbox, id);
    let keys: Vec<&str> = raw
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, CODE_KEYS, "{raw}");
    assert_eq!(raw["object"], "promotion_code");
    assert_eq!(
        raw["promotion"],
        json!({ "coupon": "LAUNCH", "type": "coupon" })
    );
    assert_eq!(raw["customer_account"], Value::Null);
    assert_eq!(
        raw["restrictions"],
        json!({ "first_time_transaction": true, "minimum_amount": 5000, "minimum_amount_currency": "usd" })
    );

    let fetched = RetrievePromotionCode::new(id).send(&client).await.unwrap();
    assert_eq!(fetched.code, "Launch-20");

    // Without `code`, 8 random uppercase alphanumerics; `active` defaults to true.
    let generated = CreatePromotionCode::new(promotion("LAUNCH"))
        .send(&client)
        .await
        .unwrap();
    assert!(
        generated.code.len() == 8
            && generated
                .code
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()),
        "{}",
        generated.code
    );
    assert!(generated.active);
}

#[test]
fn create_takes_the_pinned_promotion_shape() {
    let sandbox = start();
    coupon(&sandbox, "id=C&percent_off=10");
    for (body, status, code, param, message) in [
        (
            "coupon=C".to_string(),
            400,
            Some("parameter_unknown"),
            Some("coupon"),
            "Received unknown parameter: coupon".to_string(),
        ),
        (
            "code=X".to_string(),
            400,
            Some("parameter_missing"),
            Some("promotion"),
            "Missing required param: promotion.".to_string(),
        ),
        (
            "promotion[type]=coupon".to_string(),
            400,
            None,
            Some("promotion.coupon"),
            "You must pass promotion.coupon when passing promotion".to_string(),
        ),
        (
            "promotion[coupon]=C".to_string(),
            400,
            Some("parameter_missing"),
            Some("promotion[type]"),
            "Missing required param: promotion[type].".to_string(),
        ),
        (
            "promotion[type]=gift&promotion[coupon]=C".to_string(),
            400,
            None,
            Some("promotion[type]"),
            "Invalid promotion[type]: must be one of coupon".to_string(),
        ),
        (
            for_coupon("NOPE", ""),
            400,
            Some("resource_missing"),
            Some("promotion[coupon]"),
            "No such coupon: 'NOPE'".to_string(),
        ),
    ] {
        let res = post(&sandbox, &body);
        let (got_code, got_param, got_message) = res.error();
        assert_eq!(
            (
                res.status,
                got_code.as_deref(),
                got_param.as_deref(),
                got_message
            ),
            (status, code, param, message),
            "{body}"
        );
    }
    // A deleted coupon is no coupon.
    assert_eq!(Req::delete("/v1/coupons/C").send(&sandbox).status, 200);
    let res = post(&sandbox, &for_coupon("C", ""));
    assert_eq!(
        res.error(),
        (
            Some("resource_missing".into()),
            Some("promotion[coupon]".into()),
            "No such coupon: 'C'".into()
        )
    );
    // An invalid coupon takes no new codes (stricter reading).
    coupon(&sandbox, "id=ONCE&percent_off=10&max_redemptions=1");
    let code = promotion_code(&sandbox, &for_coupon("ONCE", ""));
    sandbox.redeem_promotion_code(&code).unwrap();
    let res = post(&sandbox, &for_coupon("ONCE", ""));
    assert_eq!(res.error().1.as_deref(), Some("promotion[coupon]"));
    // Versions before clover had a top-level `coupon`: the sandbox refuses them.
    let old = Req::get("/v1/promotion_codes")
        .header("Stripe-Version", Some("2025-08-27.basil"))
        .send(&sandbox);
    assert_eq!(old.status, 400, "{}", old.body);
    assert!(old.error().2.contains("2025-09-30.clover"), "{}", old.body);
}

#[test]
fn codes_are_letters_digits_and_dashes() {
    let sandbox = start();
    coupon(&sandbox, "id=C&percent_off=10");
    let res = post(&sandbox, &for_coupon("C", "&code=SPRING_25"));
    assert_eq!(
        res.error(),
        (
            None,
            Some("code".into()),
            "This value must match the regex pattern. (/\\A[a-zA-Z0-9\\-]+\\z/ does not match \
             for the value SPRING_25)."
                .into()
        )
    );
    for bad in ["a%20b", "caf%C3%A9", "", &"A".repeat(501)] {
        let res = post(&sandbox, &for_coupon("C", &format!("&code={bad}")));
        assert_eq!(res.status, 400, "{bad}: {}", res.body);
        assert_eq!(res.error().1.as_deref(), Some("code"), "{bad}");
    }
    for good in ["spring-25", "A", &"B".repeat(500)] {
        let res = post(&sandbox, &for_coupon("C", &format!("&code={good}")));
        assert_eq!(res.status, 200, "{good}: {}", res.body);
    }
}

#[tokio::test]
async fn codes_are_unique_among_active_codes_ignoring_case() {
    let sandbox = start();
    let client = client(&sandbox);
    coupon(&sandbox, "id=C&percent_off=10");
    coupon(&sandbox, "id=D&percent_off=20");
    let first = CreatePromotionCode::new(promotion("C"))
        .code("SPRING")
        .send(&client)
        .await
        .unwrap();
    // Another coupon does not help: the code is what customers type.
    let (status, code, param, _, message) = stripe_error(
        CreatePromotionCode::new(promotion("D"))
            .code("spring")
            .send(&client)
            .await,
    );
    assert_eq!(
        (status, code, param, message),
        (400, None, None, duplicate("spring"))
    );
    // An inactive code does not hold the code.
    let inactive = CreatePromotionCode::new(promotion("D"))
        .code("Spring")
        .active(false)
        .send(&client)
        .await
        .unwrap();
    assert!(!inactive.active);
    // Once deactivated, the code is free again...
    let off = UpdatePromotionCode::new(first.id.clone())
        .active(false)
        .send(&client)
        .await
        .unwrap();
    assert!(!off.active);
    let second = CreatePromotionCode::new(promotion("D"))
        .code("sPrInG")
        .send(&client)
        .await
        .unwrap();
    assert!(second.active);
    // ...and neither old code can come back while the new one is active.
    for old in [&first, &inactive] {
        let (status, _, _, _, message) = stripe_error(
            UpdatePromotionCode::new(old.id.clone())
                .active(true)
                .send(&client)
                .await,
        );
        assert_eq!((status, message), (400, duplicate(&old.code)));
    }
    assert_eq!(
        update(&sandbox, second.id.as_str(), "active=false").status,
        200
    );
    let back = UpdatePromotionCode::new(first.id.clone())
        .active(true)
        .send(&client)
        .await
        .unwrap();
    assert!(back.active);
}

#[test]
fn a_code_for_a_customer_clashes_with_the_same_code_for_that_customer_or_for_everyone() {
    let sandbox = start();
    coupon(&sandbox, "id=C&percent_off=10");
    let ada = customer(&sandbox, "name=Ada");
    let bob = customer(&sandbox, "name=Bob");
    promotion_code(
        &sandbox,
        &for_coupon("C", &format!("&code=VIP&customer={ada}")),
    );
    // Another customer: no clash.
    let for_bob = promotion_code(
        &sandbox,
        &for_coupon("C", &format!("&code=vip&customer={bob}")),
    );
    // The same customer: a clash.
    let res = post(
        &sandbox,
        &for_coupon("C", &format!("&code=Vip&customer={ada}")),
    );
    assert_eq!(res.error().2, duplicate("Vip"));
    // A code for everyone clashes with a customer's code, and the other way round (stricter
    // reading: that customer's entry would be ambiguous).
    let res = post(&sandbox, &for_coupon("C", "&code=VIP"));
    assert_eq!((res.status, res.error().2), (400, duplicate("VIP")));
    assert_eq!(update(&sandbox, &for_bob, "active=false").status, 200);
    assert_eq!(
        Req::get(&format!(
            "/v1/promotion_codes?code=vip&active=true&customer={ada}"
        ))
        .send(&sandbox)
        .json()["data"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    let carol = customer(&sandbox, "name=Carol");
    promotion_code(&sandbox, &for_coupon("C", "&code=OPEN"));
    let res = post(
        &sandbox,
        &for_coupon("C", &format!("&code=open&customer={carol}")),
    );
    assert_eq!(res.error().2, duplicate("open"));
}

#[tokio::test]
async fn customers_exist_and_expand() {
    let sandbox = start();
    let client = client(&sandbox);
    coupon(&sandbox, "id=C&percent_off=10");
    let res = Req::post(
        "/v1/customers",
        "name=Ada&email=ada@example.com&description=First&metadata[k]=v",
    )
    .send(&sandbox);
    assert_eq!(res.status, 200, "{}", res.body);
    let raw = res.json();
    let id = raw["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("cus_") && id.len() == 18, "{id}");
    assert_eq!(raw["object"], "customer");
    // The whole object parses as async-stripe's `Customer`.
    let typed: stripe_shared::Customer = miniserde::json::from_str(&res.body).unwrap();
    assert_eq!(
        (typed.name.as_deref(), typed.email.as_deref()),
        (Some("Ada"), Some("ada@example.com"))
    );
    assert_eq!(
        Req::get(&format!("/v1/customers/{id}"))
            .send(&sandbox)
            .json(),
        raw
    );
    let missing = Req::get("/v1/customers/cus_nope").send(&sandbox);
    assert_eq!(
        (missing.status, missing.error().2.as_str()),
        (404, "No such customer: 'cus_nope'")
    );
    for (body, param) in [
        ("email=not-an-email", "email"),
        ("phone=123", "phone"),
        (&*format!("name={}", "n".repeat(257)), "name"),
    ] {
        let res = Req::post("/v1/customers", body).send(&sandbox);
        assert_eq!(res.status, 400, "{body}: {}", res.body);
        assert_eq!(res.error().1.as_deref(), Some(param), "{body}");
    }

    let created = CreatePromotionCode::new(promotion("C"))
        .customer(id.clone())
        .expand(vec!["customer".to_string()])
        .send(&client)
        .await
        .unwrap();
    match &created.customer {
        Some(Expandable::Object(c)) => assert_eq!(c.name.as_deref(), Some("Ada")),
        other => panic!("expected an expanded customer, got {other:?}"),
    }
    let plain = get(&sandbox, created.id.as_str());
    assert_eq!(plain["customer"], id.as_str());

    let (status, code, param, _, message) = stripe_error(
        CreatePromotionCode::new(promotion("C"))
            .customer("cus_nope")
            .send(&client)
            .await,
    );
    assert_eq!(
        (status, code.as_deref(), param.as_deref(), message.as_str()),
        (
            400,
            Some("resource_missing"),
            Some("customer"),
            "No such customer: 'cus_nope'"
        )
    );
    // Accounts representing customers are not modelled: every one is unknown.
    let res = post(&sandbox, &for_coupon("C", "&customer_account=acct_1"));
    assert_eq!(res.error().1.as_deref(), Some("customer_account"));
    assert_eq!(
        event_types(&sandbox),
        [
            "promotion_code.created",
            "customer.created",
            "coupon.created"
        ]
    );
}

#[test]
fn expires_at_lies_in_the_future_within_five_years_and_the_coupon() {
    let sandbox = start();
    let now = unix_now();
    coupon(&sandbox, "id=OPEN&percent_off=10");
    coupon(
        &sandbox,
        &format!("id=DATED&percent_off=10&redeem_by={}", now + 1000),
    );
    let past = now - 1;
    assert_eq!(
        post(
            &sandbox,
            &for_coupon("OPEN", &format!("&expires_at={past}"))
        )
        .error(),
        (
            None,
            Some("expires_at".into()),
            format!(
                "The parameter `expires_at` expects a unix timestamp representing a date and \
                 time in the future. You specified the value `{past}` which is in the past."
            )
        )
    );
    let far = now + 5 * 366 * 24 * 3600;
    assert_eq!(
        post(&sandbox, &for_coupon("OPEN", &format!("&expires_at={far}"))).error(),
        (
            None,
            Some("expires_at".into()),
            "Invalid timestamp: can be no more than five years in the future.".into()
        )
    );
    let res = post(
        &sandbox,
        &for_coupon("DATED", &format!("&expires_at={}", now + 2000)),
    );
    assert_eq!(res.error().1.as_deref(), Some("expires_at"), "{}", res.body);
    let ok = post(
        &sandbox,
        &for_coupon("DATED", &format!("&expires_at={}", now + 1000)),
    );
    assert_eq!(ok.status, 200, "{}", ok.body);
}

#[test]
fn max_redemptions_is_positive_and_within_the_coupons() {
    let sandbox = start();
    coupon(&sandbox, "id=TEN&percent_off=10&max_redemptions=10");
    coupon(&sandbox, "id=ANY&percent_off=10");
    for (coupon, max) in [("TEN", "11"), ("TEN", "0"), ("ANY", "0"), ("ANY", "x")] {
        let res = post(
            &sandbox,
            &for_coupon(coupon, &format!("&max_redemptions={max}")),
        );
        assert_eq!(res.status, 400, "{coupon} {max}: {}", res.body);
        assert_eq!(res.error().1.as_deref(), Some("max_redemptions"));
    }
    for (coupon, max) in [("TEN", "10"), ("ANY", "1000000")] {
        let res = post(
            &sandbox,
            &for_coupon(coupon, &format!("&max_redemptions={max}")),
        );
        assert_eq!(res.status, 200, "{coupon} {max}: {}", res.body);
    }
}

#[tokio::test]
async fn restrictions_take_a_minimum_in_one_or_more_currencies() {
    let sandbox = start();
    let client = client(&sandbox);
    coupon(&sandbox, "id=C&percent_off=10");
    for (rest, param) in [
        (
            "&restrictions[minimum_amount]=500",
            "restrictions[minimum_amount_currency]",
        ),
        (
            "&restrictions[minimum_amount_currency]=usd",
            "restrictions[minimum_amount]",
        ),
        (
            "&restrictions[minimum_amount]=500&restrictions[minimum_amount_currency]=usd&restrictions[currency_options][usd][minimum_amount]=400",
            "restrictions[currency_options][usd]",
        ),
        (
            "&restrictions[currency_options][eur][minimum_amount]=400",
            "restrictions[currency_options]",
        ),
        (
            "&restrictions[minimum_amount]=500&restrictions[minimum_amount_currency]=usd&restrictions[currency_options][eur][foo]=1",
            "restrictions[currency_options][eur][foo]",
        ),
        (
            "&restrictions[minimum_amount]=0&restrictions[minimum_amount_currency]=usd",
            "restrictions[minimum_amount]",
        ),
        (
            "&restrictions[first_time_transaction]=yes",
            "restrictions[first_time_transaction]",
        ),
        ("&restrictions[foo]=1", "restrictions[foo]"),
    ] {
        let res = post(&sandbox, &for_coupon("C", rest));
        assert_eq!(res.status, 400, "{rest}: {}", res.body);
        assert_eq!(
            res.error().1.as_deref(),
            Some(param),
            "{rest}: {}",
            res.body
        );
    }
    let created = CreatePromotionCode::new(promotion("C"))
        .restrictions(CreatePromotionCodeRestrictions {
            minimum_amount: Some(5000),
            minimum_amount_currency: Some(Currency::USD),
            currency_options: Some(HashMap::from([(
                Currency::EUR,
                CurrencyOption {
                    minimum_amount: Some(4500),
                },
            )])),
            ..CreatePromotionCodeRestrictions::new()
        })
        .expand(vec!["restrictions.currency_options".to_string()])
        .send(&client)
        .await
        .unwrap();
    // Includable: present when expanded, with the main minimum too.
    let options = created.restrictions.currency_options.unwrap();
    assert_eq!(
        (
            options[&Currency::EUR].minimum_amount,
            options[&Currency::USD].minimum_amount
        ),
        (4500, 5000)
    );
    let id = created.id.as_str();
    assert!(
        get(&sandbox, id)["restrictions"]
            .get("currency_options")
            .is_none()
    );
    let listed = Req::get("/v1/promotion_codes?expand[]=data.restrictions.currency_options")
        .send(&sandbox)
        .json();
    assert_eq!(
        listed["data"][0]["restrictions"]["currency_options"]["eur"]["minimum_amount"],
        4500
    );
    // Without a minimum, the included field is null.
    let bare = post(
        &sandbox,
        &for_coupon("C", "&expand[]=restrictions.currency_options"),
    )
    .json();
    assert_eq!(bare["restrictions"]["currency_options"], Value::Null);
}

#[tokio::test]
async fn update_changes_active_metadata_and_currency_minimums_only() {
    let sandbox = start();
    let client = client(&sandbox);
    coupon(&sandbox, "id=C&percent_off=10");
    let id = promotion_code(
        &sandbox,
        &for_coupon(
            "C",
            "&code=EDIT&metadata[a]=1&metadata[b]=2&restrictions[minimum_amount]=500&restrictions[minimum_amount_currency]=usd&restrictions[currency_options][eur][minimum_amount]=450",
        ),
    );
    let updated = UpdatePromotionCode::new(id.clone())
        .metadata(HashMap::from([
            ("a".to_string(), String::new()),
            ("c".to_string(), "3".to_string()),
        ]))
        .restrictions(UpdatePromotionCodeRestrictions {
            currency_options: Some(HashMap::from([(
                Currency::GBP,
                CurrencyOption {
                    minimum_amount: Some(400),
                },
            )])),
        })
        .expand(vec!["restrictions.currency_options".to_string()])
        .send(&client)
        .await
        .unwrap();
    let metadata = updated.metadata.unwrap();
    assert_eq!(
        (
            metadata.get("a"),
            metadata["b"].as_str(),
            metadata["c"].as_str()
        ),
        (None, "2", "3")
    );
    let options = updated.restrictions.currency_options.unwrap();
    assert_eq!(
        (
            options[&Currency::EUR].minimum_amount,
            options[&Currency::GBP].minimum_amount
        ),
        (450, 400)
    );
    assert_eq!(
        update(&sandbox, &id, "metadata=").json()["metadata"],
        json!({})
    );

    for (body, code, param) in [
        ("code=OTHER", Some("parameter_unknown"), "code"),
        ("coupon=C", Some("parameter_unknown"), "coupon"),
        (
            "promotion[coupon]=C",
            Some("parameter_unknown"),
            "promotion",
        ),
        ("customer=cus_1", Some("parameter_unknown"), "customer"),
        (
            "expires_at=2000000000",
            Some("parameter_unknown"),
            "expires_at",
        ),
        (
            "max_redemptions=5",
            Some("parameter_unknown"),
            "max_redemptions",
        ),
        (
            "restrictions[minimum_amount]=5",
            Some("parameter_unknown"),
            "restrictions[minimum_amount]",
        ),
        (
            "restrictions[first_time_transaction]=true",
            Some("parameter_unknown"),
            "restrictions[first_time_transaction]",
        ),
        (
            "restrictions[currency_options][usd][minimum_amount]=5",
            None,
            "restrictions[currency_options][usd]",
        ),
        ("active=", Some("parameter_invalid_empty"), "active"),
    ] {
        let res = update(&sandbox, &id, body);
        assert_eq!(res.status, 400, "{body}: {}", res.body);
        let (got_code, got_param, _) = res.error();
        assert_eq!(
            (got_code.as_deref(), got_param.as_deref()),
            (code, Some(param)),
            "{body}"
        );
    }
    // A code without a minimum takes no minimums in other currencies (stricter reading).
    let plain = promotion_code(&sandbox, &for_coupon("C", ""));
    let res = update(
        &sandbox,
        &plain,
        "restrictions[currency_options][eur][minimum_amount]=5",
    );
    assert_eq!(
        res.error().1.as_deref(),
        Some("restrictions[currency_options]")
    );
    let res = update(&sandbox, "promo_nope", "active=false");
    assert_eq!(
        (res.status, res.error().2.as_str()),
        (404, "No such promotion code: 'promo_nope'")
    );
    // There is no delete: deactivation is the way out.
    assert_eq!(
        Req::delete(&format!("/v1/promotion_codes/{id}"))
            .send(&sandbox)
            .status,
        404
    );
}

#[tokio::test]
async fn an_expired_code_deactivates_on_its_own() {
    let sandbox = start();
    let client = client(&sandbox);
    coupon(&sandbox, "id=C&percent_off=10");
    let expires_at = unix_now() + 100;
    let id = promotion_code(
        &sandbox,
        &for_coupon("C", &format!("&code=SOON&expires_at={expires_at}")),
    );
    assert_eq!(get(&sandbox, &id)["active"], true);
    sandbox.advance_clock(100).unwrap();
    // Everywhere: retrieve, list, the `active` filter and the uniqueness of `code`.
    let code = RetrievePromotionCode::new(id.clone())
        .send(&client)
        .await
        .unwrap();
    assert!(!code.active);
    let all = ListPromotionCode::new().send(&client).await.unwrap();
    assert!(!all.data[0].active);
    assert!(listed(&sandbox, "active=true").is_empty());
    assert_eq!(listed(&sandbox, "active=false"), [id.as_str()]);
    let again = promotion_code(&sandbox, &for_coupon("C", "&code=soon"));
    assert_eq!(get(&sandbox, &again)["active"], true);
    assert_eq!(update(&sandbox, &again, "active=false").status, 200);
    // It cannot be reactivated, and cannot be redeemed.
    let res = update(&sandbox, &id, "active=true");
    assert_eq!(
        res.error(),
        (
            None,
            Some("active".into()),
            format!(
                "This promotion code cannot be reactivated because it expired at {expires_at} (`expires_at`)."
            )
        )
    );
    assert!(matches!(
        sandbox.redeem_promotion_code(&id),
        Err(SandboxError::Refused(_))
    ));
    // Deactivating it, or changing its metadata, still works.
    assert_eq!(
        update(&sandbox, &id, "active=false&metadata[k]=v").status,
        200
    );
    // New objects are created on the advanced clock.
    let created = get(&sandbox, &again)["created"].as_i64().unwrap();
    assert!(created >= expires_at, "{created} < {expires_at}");
}

#[tokio::test]
async fn an_exhausted_code_deactivates_on_its_own() {
    let sandbox = start();
    let client = client(&sandbox);
    coupon(&sandbox, "id=C&percent_off=10&max_redemptions=5");
    let id = promotion_code(&sandbox, &for_coupon("C", "&code=TWICE&max_redemptions=2"));
    sandbox.redeem_promotion_code(&id).unwrap();
    let once = RetrievePromotionCode::new(id.clone())
        .expand(vec!["promotion.coupon".to_string()])
        .send(&client)
        .await
        .unwrap();
    assert_eq!((once.times_redeemed, once.active), (1, true));
    match &once.promotion.coupon {
        Some(Expandable::Object(c)) => assert_eq!((c.times_redeemed, c.valid), (1, true)),
        other => panic!("expected an expanded coupon, got {other:?}"),
    }
    sandbox.redeem_promotion_code(&id).unwrap();
    let twice = get(&sandbox, &id);
    assert_eq!(
        (&twice["times_redeemed"], &twice["active"]),
        (&json!(2), &json!(false))
    );
    assert!(listed(&sandbox, "active=true").is_empty());
    let err = sandbox.redeem_promotion_code(&id).unwrap_err();
    assert!(err.to_string().contains("max_redemptions"), "{err}");
    let res = update(&sandbox, &id, "active=true");
    assert_eq!(res.error().1.as_deref(), Some("active"));
    assert!(res.error().2.contains("redeemed 2 times"), "{}", res.body);
    // The code is free again.
    let next = promotion_code(&sandbox, &for_coupon("C", "&code=twice"));
    // Exhausting the coupon deactivates all its codes.
    for _ in 0..3 {
        sandbox.redeem_promotion_code(&next).unwrap();
    }
    let coupon = Req::get("/v1/coupons/C").send(&sandbox).json();
    assert_eq!(
        (&coupon["times_redeemed"], &coupon["valid"]),
        (&json!(5), &json!(false))
    );
    assert_eq!(get(&sandbox, &next)["active"], false);
    let res = update(&sandbox, &next, "active=true");
    assert!(
        res.error().2.contains("its coupon `C` is no longer valid"),
        "{}",
        res.body
    );
}

#[test]
fn a_deleted_or_expired_coupon_deactivates_its_codes() {
    let sandbox = start();
    coupon(&sandbox, "id=GONE&percent_off=10");
    let id = promotion_code(&sandbox, &for_coupon("GONE", "&code=GONE"));
    assert_eq!(Req::delete("/v1/coupons/GONE").send(&sandbox).status, 200);
    let code = get(&sandbox, &id);
    assert_eq!(code["active"], false);
    assert_eq!(code["promotion"]["coupon"], "GONE");
    // Expanded, the deleted coupon still shows, invalid.
    let expanded = Req::get(&format!(
        "/v1/promotion_codes/{id}?expand[]=promotion.coupon"
    ))
    .send(&sandbox)
    .json();
    assert_eq!(expanded["promotion"]["coupon"]["id"], "GONE");
    assert_eq!(expanded["promotion"]["coupon"]["valid"], false);
    let res = update(&sandbox, &id, "active=true");
    assert_eq!(
        res.error().2,
        "This promotion code cannot be reactivated because its coupon `GONE` has been deleted."
    );
    assert!(sandbox.redeem_promotion_code(&id).is_err());
    assert_eq!(listed(&sandbox, "active=false"), [id.as_str()]);
    assert_eq!(listed(&sandbox, "coupon=GONE"), [id]);

    let redeem_by = super::support::unix_now() + 50;
    coupon(
        &sandbox,
        &format!("id=DATED&percent_off=10&redeem_by={redeem_by}"),
    );
    let dated = promotion_code(&sandbox, &for_coupon("DATED", "&code=GONE"));
    assert_eq!(get(&sandbox, &dated)["active"], true);
    sandbox.advance_clock(60).unwrap();
    assert_eq!(get(&sandbox, &dated)["active"], false);
    let res = update(&sandbox, &dated, "active=true");
    assert!(res.error().2.contains("`redeem_by`"), "{}", res.body);
}

#[tokio::test]
async fn a_redeemable_code_can_be_deactivated_and_reactivated() {
    let sandbox = start();
    let client = client(&sandbox);
    coupon(&sandbox, "id=C&percent_off=10");
    let id = promotion_code(&sandbox, &for_coupon("C", "&code=TOGGLE"));
    let off = UpdatePromotionCode::new(id.clone())
        .active(false)
        .send(&client)
        .await
        .unwrap();
    assert!(!off.active);
    let res = sandbox.redeem_promotion_code(&id).unwrap_err();
    assert!(res.to_string().contains("deactivated"), "{res}");
    let on = UpdatePromotionCode::new(id.clone())
        .active(true)
        .send(&client)
        .await
        .unwrap();
    assert!(on.active);
    // `active=true` on an active code changes nothing.
    assert_eq!(update(&sandbox, &id, "active=true").json()["active"], true);
    assert_eq!(
        event_types(&sandbox)[..3],
        [
            "promotion_code.updated",
            "promotion_code.updated",
            "promotion_code.updated"
        ]
    );
}

#[tokio::test]
async fn list_filters_on_active_code_coupon_customer_and_created() {
    let sandbox = start();
    let client = client(&sandbox);
    coupon(&sandbox, "id=A&percent_off=10");
    coupon(&sandbox, "id=B&percent_off=20");
    let ada = customer(&sandbox, "name=Ada");
    let a1 = promotion_code(&sandbox, &for_coupon("A", "&code=ALPHA"));
    sandbox.advance_clock(10).unwrap();
    let a2 = promotion_code(&sandbox, &for_coupon("A", "&code=Beta&active=false"));
    let b1 = promotion_code(
        &sandbox,
        &for_coupon("B", &format!("&code=GAMMA&customer={ada}")),
    );

    let all = ListPromotionCode::new().send(&client).await.unwrap();
    let ids: Vec<&str> = all.data.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, [&*b1, &*a2, &*a1]);
    assert_eq!(all.url, "/v1/promotion_codes");
    let active = ListPromotionCode::new()
        .active(true)
        .send(&client)
        .await
        .unwrap();
    assert_eq!(active.data.len(), 2);
    let by_code = ListPromotionCode::new()
        .code("alpha")
        .send(&client)
        .await
        .unwrap();
    assert_eq!(by_code.data[0].id.as_str(), a1);
    assert_eq!(listed(&sandbox, "code=ALPH"), Vec::<String>::new());
    assert_eq!(listed(&sandbox, "code=BETA"), [a2.as_str()]);
    let by_coupon = ListPromotionCode::new()
        .coupon("A")
        .send(&client)
        .await
        .unwrap();
    assert_eq!(by_coupon.data.len(), 2);
    let by_customer = ListPromotionCode::new()
        .customer(ada.clone())
        .send(&client)
        .await
        .unwrap();
    assert_eq!(by_customer.data[0].id.as_str(), b1);
    let created_a1 = get(&sandbox, &a1)["created"].as_i64().unwrap();
    assert_eq!(
        listed(&sandbox, &format!("created={created_a1}")),
        [a1.as_str()]
    );
    assert_eq!(
        listed(&sandbox, &format!("created[gt]={created_a1}")),
        [b1.clone(), a2.clone()]
    );
    assert!(listed(&sandbox, "customer_account=acct_1").is_empty());
    assert_eq!(
        listed(&sandbox, "coupon=A&active=false&code=beta"),
        [a2.as_str()]
    );
    let page = ListPromotionCode::new()
        .limit(1)
        .starting_after(b1.clone())
        .send(&client)
        .await
        .unwrap();
    assert_eq!((page.data[0].id.as_str(), page.has_more), (&*a2, true));
    for query in [
        "active=yes",
        "limit=0",
        "valid=true",
        "expand[]=promotion.coupon",
    ] {
        let res = Req::get(&format!("/v1/promotion_codes?{query}")).send(&sandbox);
        assert_eq!(res.status, 400, "{query}: {}", res.body);
    }
}

#[tokio::test]
async fn promotion_coupon_expands_to_the_coupon() {
    let sandbox = start();
    let client = client(&sandbox);
    let prod = super::support::product(&sandbox, "name=Pro");
    coupon(
        &sandbox,
        &format!("id=C&amount_off=500&currency=usd&applies_to[products][]={prod}"),
    );
    let id = promotion_code(&sandbox, &for_coupon("C", ""));
    let code = RetrievePromotionCode::new(id.clone())
        .expand(vec![
            "promotion.coupon.applies_to".to_string(),
            "promotion.coupon.currency_options".to_string(),
        ])
        .send(&client)
        .await
        .unwrap();
    match &code.promotion.coupon {
        Some(Expandable::Object(c)) => {
            assert_eq!(c.amount_off, Some(500));
            assert_eq!(c.applies_to.as_ref().unwrap().products, [prod.as_str()]);
            assert_eq!(
                c.currency_options.as_ref().unwrap()[&Currency::USD].amount_off,
                500
            );
        }
        other => panic!("expected an expanded coupon, got {other:?}"),
    }
    let listed = Req::get("/v1/promotion_codes?expand[]=data.promotion.coupon")
        .send(&sandbox)
        .json();
    assert_eq!(listed["data"][0]["promotion"]["coupon"]["object"], "coupon");
    for bad in [
        "promotion",
        "restrictions",
        "coupon",
        "promotion.type",
        "customer.name",
    ] {
        let res = Req::get(&format!("/v1/promotion_codes/{id}?expand[]={bad}")).send(&sandbox);
        assert_eq!(
            (res.status, res.error().2),
            (400, format!("This property cannot be expanded ({bad})."))
        );
    }
}

#[test]
fn a_create_with_an_idempotency_key_replays() {
    let sandbox = start();
    coupon(&sandbox, "id=C&percent_off=10");
    let send = |body: &str| {
        Req::post("/v1/promotion_codes", body)
            .idempotency_key("promo-launch")
            .send(&sandbox)
    };
    let first = send(&for_coupon("C", "&code=ONCE"));
    let replay = send(&for_coupon("C", "&code=ONCE"));
    assert_eq!((first.status, replay.status), (200, 200), "{}", replay.body);
    assert_eq!(replay.header("Idempotent-Replayed"), Some("true"));
    assert_eq!(replay.json()["id"], first.json()["id"]);
    let other = send(&for_coupon("C", "&code=TWICE"));
    assert_eq!(other.json()["error"]["type"], "idempotency_error");
    assert_eq!(listed(&sandbox, "").len(), 1);
    assert_eq!(
        event_types(&sandbox),
        ["promotion_code.created", "coupon.created"]
    );
}

#[test]
fn the_test_hooks_refuse_what_cannot_happen() {
    let sandbox = start();
    let err = sandbox.redeem_promotion_code("promo_nope").unwrap_err();
    assert_eq!(err.to_string(), "No such promotion code: 'promo_nope'");
    let err = sandbox.advance_clock(-1).unwrap_err();
    assert!(matches!(err, SandboxError::Refused(_)), "{err:?}");
    sandbox.advance_clock(0).unwrap();
    // Redemptions record no event.
    coupon(&sandbox, "id=C&percent_off=10");
    let id = promotion_code(&sandbox, &for_coupon("C", ""));
    sandbox.redeem_promotion_code(&id).unwrap();
    assert_eq!(
        event_types(&sandbox),
        ["promotion_code.created", "coupon.created"]
    );
}

#[test]
fn the_clock_and_redemptions_persist_with_the_state_file() {
    let dir = tempfile::tempdir().unwrap();
    let config = SandboxConfig {
        state: Some(dir.path().join("state.json")),
        ..SandboxConfig::default()
    };
    let a = start_with(config.clone());
    let b = start_with(config.clone());
    coupon(&a, "id=C&percent_off=10");
    let expires_at = unix_now() + 3600;
    let id = promotion_code(
        &a,
        &for_coupon(
            "C",
            &format!("&code=SHARED&expires_at={expires_at}&max_redemptions=5"),
        ),
    );
    b.redeem_promotion_code(&id).unwrap();
    assert_eq!(get(&a, &id)["times_redeemed"], 1);
    a.advance_clock(3600).unwrap();
    // The other sandbox on the same file agrees on the time.
    assert_eq!(get(&b, &id)["active"], false);
    drop((a, b));
    let restarted = start_with(config);
    assert_eq!(get(&restarted, &id)["active"], false);
    let state: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("state.json")).unwrap()).unwrap();
    assert_eq!(state["clock_offset"], 3600);
}
