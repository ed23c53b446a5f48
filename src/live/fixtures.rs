//! Hand-built live objects for unit tests: a managed product `products.pro` (`prod_1`) whose
//! default price is the managed monthly price `prices.pro.monthly` (`price_m`, $79.00 / month).

use std::collections::BTreeMap;

use super::{Account, LivePrice, LiveProduct, LiveRecurring, LiveState};
use crate::catalog::MinorAmount;
use crate::resource::{MARKER_KEY, MARKER_NAMESPACE};

pub(crate) fn marker(address: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        (MARKER_KEY.to_owned(), address.to_owned()),
        (MARKER_NAMESPACE.to_owned(), "default".to_owned()),
    ])
}

pub(crate) fn product() -> LiveProduct {
    LiveProduct {
        id: "prod_1".into(),
        created: 100,
        active: true,
        name: "Pro".into(),
        description: Some("For teams".into()),
        tax_code: None,
        unit_label: None,
        statement_descriptor: None,
        url: None,
        images: vec![],
        features: vec![],
        metadata: marker("products.pro"),
        default_price: Some("price_m".into()),
    }
}

pub(crate) fn price() -> LivePrice {
    LivePrice {
        id: "price_m".into(),
        created: 100,
        active: true,
        product: "prod_1".into(),
        currency: "usd".into(),
        billing_scheme: "per_unit".into(),
        unit_amount: Some(MinorAmount::from_minor(7900).unwrap()),
        custom_unit_amount: false,
        tiers_mode: None,
        tiers: vec![],
        recurring: Some(LiveRecurring {
            interval: "month".into(),
            interval_count: 1,
            usage_type: "licensed".into(),
            meter: None,
        }),
        transform_quantity: None,
        lookup_key: Some("pro_monthly".into()),
        nickname: None,
        tax_behavior: Some("exclusive".into()),
        metadata: marker("prices.pro.monthly"),
        currency_options: BTreeMap::new(),
    }
}

pub(crate) fn live(products: Vec<LiveProduct>, prices: Vec<LivePrice>) -> LiveState {
    LiveState {
        generation: None,
        now: 1_800_000_000,
        account: Account {
            id: "acct_1".into(),
            name: None,
        },
        products,
        prices,
        coupons: Vec::new(),
        promotion_codes: Vec::new(),
        tax_settings: None,
        tax_registrations: Vec::new(),
        tax_rates: Vec::new(),
        portals: Vec::new(),
    }
}
