//! Accounts written straight into a state file, not through the API: benchmarks need accounts
//! of 100,000 prices with `created` times spread over years, which the API (25 writes per
//! second in Stripe, the sandbox's clock for `created`) cannot make quickly.
//!
//! A seeded state file is an ordinary one: `billing sandbox --state FILE` serves and updates
//! it, `billing sandbox --from FILE` serves a copy in memory.

use std::collections::BTreeMap;
use std::path::Path;

use super::SandboxError;
use super::ids;
use super::records::AccountRecord;
use super::resources::entitlement_features::{self, Feature, ProductFeature};
use super::resources::meters::{self, Meter};
use super::resources::prices::{self, Price, Recurring};
use super::resources::products::{self, Product};
use super::resources::webhook_endpoints::{self, WebhookEndpoint};
use super::state::{Record, State};

/// A product to seed.
#[derive(Debug, Clone, Default)]
pub struct SeedProduct {
    pub name: String,
    /// Unix seconds.
    pub created: i64,
    pub active: bool,
    pub metadata: BTreeMap<String, String>,
    /// Index in the seeded prices of the product's default price (one of its own).
    pub default_price: Option<usize>,
}

/// A price to seed (a flat `per_unit` amount).
#[derive(Debug, Clone, Default)]
pub struct SeedPrice {
    /// Index of its product in the seeded products.
    pub product: usize,
    /// Unix seconds.
    pub created: i64,
    pub active: bool,
    pub currency: String,
    pub unit_amount: i64,
    /// `month`, `year`…; `None`: a one-time price.
    pub interval: Option<String>,
    pub lookup_key: Option<String>,
    pub metadata: BTreeMap<String, String>,
}

/// A webhook endpoint to seed (enabled, the account's default API version, no metadata).
#[derive(Debug, Clone, Default)]
pub struct SeedWebhook {
    pub url: String,
    /// Event types, or `["*"]`.
    pub events: Vec<String>,
}

/// A billing meter to seed (active; the customer in `stripe_customer_id`, the value in
/// `value`, no time window).
#[derive(Debug, Clone, Default)]
pub struct SeedMeter {
    pub display_name: String,
    pub event_name: String,
    /// `count`, `sum` or `last`.
    pub aggregation: String,
}

/// An active entitlement feature to seed.
#[derive(Debug, Clone, Default)]
pub struct SeedFeature {
    pub lookup_key: String,
    pub name: String,
    pub metadata: BTreeMap<String, String>,
}

/// The kinds beside products and prices: all made after them, in this order.
#[derive(Debug, Clone, Default)]
pub struct SeedExtras {
    pub webhooks: Vec<SeedWebhook>,
    pub meters: Vec<SeedMeter>,
    pub features: Vec<SeedFeature>,
    /// `(product, feature)`: feature `feature` (an index in `features`) attached to seeded
    /// product `product`.
    pub attachments: Vec<(usize, usize)>,
}

/// The ids given to the seeded objects, in the order they were given.
#[derive(Debug, Clone)]
pub struct SeededIds {
    pub account: String,
    pub products: Vec<String>,
    pub prices: Vec<String>,
}

/// Writes a fresh account holding `products` and `prices` (and nothing else but the default
/// portal configuration every account has) to the state file `path`, replacing it. The
/// account is created a day before the oldest object.
pub fn write_state(
    path: &Path,
    products: &[SeedProduct],
    prices: &[SeedPrice],
) -> Result<SeededIds, SandboxError> {
    write_state_with(path, products, prices, &SeedExtras::default())
}

/// [`write_state`], with webhook endpoints, meters, entitlement features and their
/// attachments to the seeded products, made a second after the newest product or price.
pub fn write_state_with(
    path: &Path,
    products: &[SeedProduct],
    prices: &[SeedPrice],
    extras: &SeedExtras,
) -> Result<SeededIds, SandboxError> {
    let mut state = State::fresh();
    let oldest = products
        .iter()
        .map(|p| p.created)
        .chain(prices.iter().map(|p| p.created))
        .min()
        .unwrap_or_else(ids::now);
    state.account = AccountRecord {
        id: state.account.id.clone(),
        created: oldest - 86_400,
    };
    let product_ids: Vec<String> = products.iter().map(|_| products::new_id()).collect();
    let price_ids: Vec<String> = prices.iter().map(|_| prices::new_id()).collect();
    // Sequence numbers follow `created`, as if each object had been made through the API.
    let mut order: Vec<(i64, bool, usize)> = products
        .iter()
        .enumerate()
        .map(|(i, p)| (p.created, true, i))
        .chain(
            prices
                .iter()
                .enumerate()
                .map(|(i, p)| (p.created, false, i)),
        )
        .collect();
    order.sort_unstable();
    for (created, is_product, i) in order {
        let seq = state.next_seq;
        state.next_seq += 1;
        if is_product {
            let p = &products[i];
            let default_price = match p.default_price {
                Some(at) => Some(price_of(&price_ids, prices, at, i, path)?),
                None => None,
            };
            insert(
                &mut state,
                Product {
                    id: product_ids[i].clone(),
                    seq,
                    active: p.active,
                    created,
                    default_price,
                    description: None,
                    images: Vec::new(),
                    marketing_features: Vec::new(),
                    metadata: p.metadata.clone(),
                    name: p.name.clone(),
                    package_dimensions: None,
                    shippable: None,
                    statement_descriptor: None,
                    tax_code: None,
                    kind: "service".to_owned(),
                    unit_label: None,
                    updated: created,
                    url: None,
                },
            );
        } else {
            let p = &prices[i];
            let product = product_ids.get(p.product).ok_or_else(|| {
                invalid(
                    path,
                    format!("price {i} names product {}, not seeded", p.product),
                )
            })?;
            insert(
                &mut state,
                Price {
                    id: price_ids[i].clone(),
                    seq,
                    active: p.active,
                    billing_scheme: "per_unit".to_owned(),
                    created,
                    currency: p.currency.clone(),
                    currency_options: BTreeMap::new(),
                    custom_unit_amount: None,
                    lookup_key: p.lookup_key.clone(),
                    metadata: p.metadata.clone(),
                    nickname: None,
                    product: product.clone(),
                    recurring: p.interval.as_ref().map(|interval| Recurring {
                        interval: interval.clone(),
                        interval_count: 1,
                        meter: None,
                        trial_period_days: None,
                        usage_type: "licensed".to_owned(),
                    }),
                    tax_behavior: "unspecified".to_owned(),
                    tiers: Vec::new(),
                    tiers_mode: None,
                    transform_quantity: None,
                    unit_amount: Some(p.unit_amount),
                    unit_amount_decimal: Some(p.unit_amount.to_string()),
                },
            );
        }
    }
    seed_extras(&mut state, extras, &product_ids, path)?;
    let mut bytes = serde_json::to_vec(&state).map_err(|e| invalid(path, e.to_string()))?;
    bytes.push(b'\n');
    safe_fs::replace(path, &bytes, safe_fs::Access::Private).map_err(|source| {
        SandboxError::StateIo {
            path: path.to_path_buf(),
            source,
        }
    })?;
    Ok(SeededIds {
        account: state.account.id,
        products: product_ids,
        prices: price_ids,
    })
}

/// Stores `extras` in `state`, after every object already there.
fn seed_extras(
    state: &mut State,
    extras: &SeedExtras,
    product_ids: &[String],
    path: &Path,
) -> Result<(), SandboxError> {
    let newest = state.products.values().map(|p| p.created);
    let created = newest.chain(state.prices.values().map(|p| p.created)).max();
    let created = created.unwrap_or_else(ids::now) + 1;
    let mut seq = || {
        state.next_seq += 1;
        state.next_seq - 1
    };
    let mut records = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for w in &extras.webhooks {
        records.0.push(WebhookEndpoint {
            id: webhook_endpoints::new_id(),
            seq: seq(),
            api_version: None,
            connect: false,
            created,
            description: None,
            enabled_events: w.events.clone(),
            metadata: BTreeMap::new(),
            secret: webhook_endpoints::new_secret(),
            disabled: false,
            url: w.url.clone(),
        });
    }
    for m in &extras.meters {
        records.1.push(Meter {
            id: meters::new_id(),
            seq: seq(),
            created,
            updated: created,
            display_name: m.display_name.clone(),
            event_name: m.event_name.clone(),
            formula: m.aggregation.clone(),
            customer_key: "stripe_customer_id".to_owned(),
            value_key: "value".to_owned(),
            event_time_window: None,
            active: true,
            deactivated_at: None,
        });
    }
    for f in &extras.features {
        records.2.push(Feature {
            id: entitlement_features::new_feature_id(),
            seq: seq(),
            created,
            active: true,
            lookup_key: f.lookup_key.clone(),
            metadata: f.metadata.clone(),
            name: f.name.clone(),
        });
    }
    for &(product, feature) in &extras.attachments {
        let (Some(product), Some(feature)) = (product_ids.get(product), records.2.get(feature))
        else {
            return Err(invalid(
                path,
                format!("attachment ({product}, {feature}) names no seeded product or feature"),
            ));
        };
        records.3.push(ProductFeature {
            id: entitlement_features::new_attachment_id(),
            seq: seq(),
            created,
            product: product.clone(),
            feature: feature.id.clone(),
        });
    }
    let (webhooks, meters, features, attachments) = records;
    webhooks.into_iter().for_each(|r| insert(state, r));
    meters.into_iter().for_each(|r| insert(state, r));
    features.into_iter().for_each(|r| insert(state, r));
    attachments.into_iter().for_each(|r| insert(state, r));
    Ok(())
}

/// The id of seeded price `at`, which must belong to product `product`.
fn price_of(
    ids: &[String],
    prices: &[SeedPrice],
    at: usize,
    product: usize,
    path: &Path,
) -> Result<String, SandboxError> {
    match prices.get(at) {
        Some(price) if price.product == product && price.active => Ok(ids[at].clone()),
        _ => Err(invalid(
            path,
            format!("product {product}'s default price {at} is not one of its active prices"),
        )),
    }
}

/// Stores `record` in its map of the state, as a write through the API would.
fn insert<T: Record>(state: &mut State, record: T) {
    T::table_mut(state).insert(record.id().to_string(), record);
}

fn invalid(path: &Path, message: String) -> SandboxError {
    SandboxError::StateIo {
        path: path.to_path_buf(),
        source: std::io::Error::new(std::io::ErrorKind::InvalidInput, message),
    }
}
