//! Properties over real HTTP: arbitrary bodies never break the server, and pagination returns
//! every object once, newest first.

use proptest::prelude::*;

use super::support::{Req, coupon, price, product, promotion_code, start};

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

/// Parameter names of the tax and portal endpoints (and a few they refuse).
const TAX_AND_PORTAL_KEYS: &[&str] = &[
    "defaults[tax_behavior]",
    "defaults[tax_code]",
    "head_office[address][country]",
    "head_office[address][line1]",
    "country",
    "active_from",
    "expires_at",
    "country_options[de][type]",
    "country_options[de][standard][place_of_supply_scheme]",
    "country_options[us][state]",
    "country_options[us][type]",
    "country_options[us][local_amusement_tax][jurisdiction]",
    "country_options[us][state_sales_tax][elections][0][type]",
    "country_options[ca][province_standard][province]",
    "display_name",
    "inclusive",
    "percentage",
    "state",
    "tax_type",
    "active",
    "metadata[k]",
    "features[invoice_history][enabled]",
    "features[customer_update][enabled]",
    "features[customer_update][allowed_updates][0]",
    "features[subscription_cancel][enabled]",
    "features[subscription_cancel][mode]",
    "features[subscription_cancel][proration_behavior]",
    "features[subscription_cancel][cancellation_reason][enabled]",
    "features[subscription_cancel][cancellation_reason][options][0]",
    "features[subscription_update][enabled]",
    "features[subscription_update][default_allowed_updates][0]",
    "features[subscription_update][products][0][product]",
    "features[subscription_update][products][0][prices][0]",
    "features[subscription_update][products][0][adjustable_quantity][enabled]",
    "features[subscription_update][products][0][adjustable_quantity][maximum]",
    "features[subscription_update][products]",
    "business_profile[headline]",
    "default_return_url",
    "login_page[enabled]",
    "is_default",
    "name",
    "expand[]",
];

/// Values for them: empty, numbers, enums, codes, ids (`P`, `M` become the product and price).
const TAX_AND_PORTAL_VALUES: &[&str] = &[
    "",
    "0",
    "1",
    "-1",
    "8.875",
    "100.00001",
    "9223372036854775807",
    "99999999999999999999",
    "now",
    "true",
    "false",
    "DE",
    "US",
    "de",
    "CA",
    "BC",
    "standard",
    "simplified",
    "oss_union",
    "state_sales_tax",
    "local_amusement_tax",
    "14000",
    "exclusive",
    "txcd_10103001",
    "immediately",
    "at_period_end",
    "always_invoice",
    "price",
    "email",
    "P",
    "M",
    "https://acme.example",
    "http://acme.example",
    "features.subscription_update.products",
    "data.features.subscription_update.products",
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
    fn arbitrary_tax_and_portal_requests_get_a_stripe_answer(
        pairs in proptest::collection::vec(
            (0..TAX_AND_PORTAL_KEYS.len(), 0..TAX_AND_PORTAL_VALUES.len()),
            0..8,
        ),
    ) {
        let sandbox = start();
        let prod = product(&sandbox, "name=Pro");
        let monthly = price(
            &sandbox,
            &format!("product={prod}&currency=usd&unit_amount=100&recurring[interval]=month"),
        );
        let body = pairs
            .iter()
            .map(|&(k, v)| {
                let value = match TAX_AND_PORTAL_VALUES[v] {
                    "P" => prod.as_str(),
                    "M" => monthly.as_str(),
                    other => other,
                };
                format!("{}={}", TAX_AND_PORTAL_KEYS[k], value)
            })
            .collect::<Vec<_>>()
            .join("&");
        let rate = Req::post("/v1/tax_rates", "display_name=VAT&inclusive=false&percentage=19")
            .send(&sandbox)
            .json()["id"]
            .as_str()
            .map(str::to_string)
            .unwrap_or_default();
        let registration = Req::post(
            "/v1/tax/registrations",
            "country=DE&country_options[de][type]=standard&active_from=now",
        )
        .send(&sandbox)
        .json()["id"]
            .as_str()
            .map(str::to_string)
            .unwrap_or_default();
        let listed = Req::get("/v1/billing_portal/configurations").send(&sandbox).json();
        let config = listed["data"][0]["id"].as_str().map(str::to_string).unwrap_or_default();
        let paths = [
            "/v1/tax/settings".to_string(),
            "/v1/tax/registrations".to_string(),
            format!("/v1/tax/registrations/{registration}"),
            "/v1/tax_rates".to_string(),
            format!("/v1/tax_rates/{rate}"),
            "/v1/billing_portal/configurations".to_string(),
            format!("/v1/billing_portal/configurations/{config}"),
        ];
        for path in &paths {
            let res = Req::post(path, &body).send(&sandbox);
            prop_assert!(res.status == 200 || res.status == 400, "{} {} {}: {}", res.status, path, body, res.body);
            if res.status == 400 {
                prop_assert!(res.json()["error"]["type"].is_string());
            }
            let query = format!("{path}?{body}");
            let res = Req::get(&query).send(&sandbox);
            prop_assert!(res.status == 200 || res.status == 400, "{} {}: {}", res.status, query, res.body);
        }
        sandbox.advance_clock(86_400).ok();
        for path in &paths {
            prop_assert_eq!(Req::get(path).send(&sandbox).status, 200, "{}", path);
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
