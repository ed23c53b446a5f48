//! Properties over real HTTP: arbitrary bodies never break the server, and pagination returns
//! every object once, newest first.

use proptest::prelude::*;

use super::support::{Req, product, start};

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
