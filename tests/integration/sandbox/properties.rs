//! Properties over real HTTP: arbitrary bodies never break the server, and pagination returns
//! every object once, newest first.

use proptest::prelude::*;

use super::support::{Req, coupon, product, promotion_code, start};

/// Parameter names of the coupon and promotion-code endpoints (and a few they refuse).
const DISCOUNT_KEYS: &[&str] = &[
    "percent_off",
    "amount_off",
    "currency",
    "currency_options[eur][amount_off]",
    "currency_options[usd][amount_off]",
    "duration",
    "duration_in_months",
    "redeem_by",
    "max_redemptions",
    "id",
    "name",
    "applies_to[products][0]",
    "metadata[k]",
    "metadata",
    "promotion[type]",
    "promotion[coupon]",
    "coupon",
    "code",
    "active",
    "customer",
    "expires_at",
    "restrictions[first_time_transaction]",
    "restrictions[minimum_amount]",
    "restrictions[minimum_amount_currency]",
    "restrictions[currency_options][eur][minimum_amount]",
    "restrictions[currency_options][usd][minimum_amount]",
    "expand[]",
];

/// Values meant to find edges: empty, signs, overflow, floats, enums, ids, far timestamps.
const DISCOUNT_VALUES: &[&str] = &[
    "",
    "0",
    "1",
    "-1",
    "0.001",
    "10.5",
    "100",
    "1e3",
    "99999999",
    "100000000",
    "9223372036854775807",
    "-9223372036854775808",
    "99999999999999999999",
    "usd",
    "eur",
    "once",
    "repeating",
    "forever",
    "coupon",
    "C",
    "P",
    "true",
    "false",
    "SPRING",
    "a_b",
    "4102444800",
    "1700000000",
    "promotion.coupon",
    "restrictions.currency_options",
    "applies_to",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_form_bodies_get_a_stripe_answer(body in "[a-z_\\[\\]=&%0-9+.-]{0,80}") {
        let sandbox = start();
        for path in ["/v1/products", "/v1/prices"] {
            let res = Req::post(path, &body).send(&sandbox);
            prop_assert!(res.status == 200 || res.status == 400, "{} {}: {}", res.status, body, res.body);
            let json = res.json();
            if res.status == 400 {
                prop_assert!(json["error"]["type"].is_string());
            }
        }
        prop_assert_eq!(Req::get("/v1/products").send(&sandbox).status, 200);
    }

    #[test]
    fn arbitrary_coupon_and_promotion_code_requests_get_a_stripe_answer(
        pairs in proptest::collection::vec(
            (0..DISCOUNT_KEYS.len(), 0..DISCOUNT_VALUES.len()),
            0..8,
        ),
    ) {
        let sandbox = start();
        coupon(&sandbox, "id=C&amount_off=500&currency=usd&max_redemptions=3");
        let code = promotion_code(
            &sandbox,
            "promotion[type]=coupon&promotion[coupon]=C&code=P&restrictions[minimum_amount]=100&restrictions[minimum_amount_currency]=usd",
        );
        let body = pairs
            .iter()
            .map(|&(k, v)| format!("{}={}", DISCOUNT_KEYS[k], DISCOUNT_VALUES[v]))
            .collect::<Vec<_>>()
            .join("&");
        let promo_path = format!("/v1/promotion_codes/{code}");
        for path in ["/v1/coupons", "/v1/coupons/C", "/v1/promotion_codes", promo_path.as_str()] {
            let res = Req::post(path, &body).send(&sandbox);
            prop_assert!(res.status == 200 || res.status == 400, "{} {} {}: {}", res.status, path, body, res.body);
            if res.status == 400 {
                prop_assert!(res.json()["error"]["type"].is_string());
            }
        }
        sandbox.redeem_promotion_code(&code).ok();
        for path in ["/v1/coupons", "/v1/promotion_codes", "/v1/coupons/C", promo_path.as_str()] {
            let query = format!("{path}?{body}");
            let res = Req::get(&query).send(&sandbox);
            prop_assert!(res.status == 200 || res.status == 400 || res.status == 404, "{} {}: {}", res.status, query, res.body);
        }
    }

    #[test]
    fn pagination_returns_each_object_once_newest_first(
        count in 0usize..40,
        limit in 1usize..12,
        archived in proptest::collection::vec(any::<bool>(), 40),
    ) {
        let sandbox = start();
        let mut expected = Vec::new();
        for (i, archive) in archived.iter().take(count).enumerate() {
            let id = product(&sandbox, &format!("name=P{i}&active={}", !archive));
            if !archive {
                expected.push(id);
            }
        }
        expected.reverse();
        let mut seen = Vec::new();
        let mut cursor = String::new();
        loop {
            let page = Req::get(&format!("/v1/products?active=true&limit={limit}{cursor}")).send(&sandbox).json();
            let data = page["data"].as_array().unwrap();
            prop_assert!(data.len() <= limit);
            seen.extend(data.iter().map(|p| p["id"].as_str().unwrap().to_string()));
            if !page["has_more"].as_bool().unwrap() {
                break;
            }
            cursor = format!("&starting_after={}", seen.last().unwrap());
        }
        prop_assert_eq!(seen, expected);
    }
}
