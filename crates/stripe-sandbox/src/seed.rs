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
use super::resources::prices::{self, Price, Recurring};
use super::resources::products::{self, Product};
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
