//! Outputs: the Stripe id of every object the catalog manages in one environment, for the
//! application to read instead of hard-coding ids — as JSON, TOML, a TypeScript module or
//! environment variables. Prices also list the ids they superseded, so that a webhook handler
//! can still recognise a subscription on an old price.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::catalog::{Catalog, env_part};
use crate::document::Origin;
use crate::live::LiveState;
use crate::resource::ResourceKind;
use crate::resource::{Address, Owner, owner};

/// The formats `billing output` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Nested by kind and key.
    Json,
    /// Nested by kind and key.
    Toml,
    /// A TypeScript module exporting the JSON `as const`.
    Ts,
    /// `BILLING_<KIND>_<KEY>=id` lines.
    Env,
}

impl Format {
    /// The format a file's extension names (`outputs = "generated/billing.live.ts"`).
    pub fn from_path(path: &std::path::Path) -> Option<Self> {
        match crate::catalog::output_format(path.to_str()?)? {
            "json" => Some(Self::Json),
            "toml" => Some(Self::Toml),
            "ts" => Some(Self::Ts),
            "env" => Some(Self::Env),
            _ => None,
        }
    }
}

/// A price's ids.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PriceIds {
    /// The current price.
    pub id: String,
    pub lookup_key: Option<String>,
    /// Earlier prices at the same key (replaced or archived), newest first.
    pub superseded: Vec<String>,
}

/// Every managed object's id in one environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Outputs {
    pub environment: String,
    pub account: String,
    pub mode: crate::stripe::KeyMode,
    pub namespace: String,
    pub products: BTreeMap<String, String>,
    /// By product key, then price key.
    pub prices: BTreeMap<String, BTreeMap<String, PriceIds>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub coupons: Option<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub promotion_codes: Option<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tax_rates: Option<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub portals: Option<BTreeMap<String, String>>,
    /// Declared addresses with no object in Stripe yet (not applied).
    #[serde(skip)]
    pub missing: Vec<String>,
}

/// Managed objects by address: `(id, active, created)`, newest first.
fn index<'a, T>(
    objects: &'a [T],
    ns: &str,
    parts: impl Fn(
        &'a T,
    ) -> (
        &'a str,
        &'a std::collections::BTreeMap<String, String>,
        bool,
        i64,
    ),
) -> BTreeMap<String, Vec<(&'a str, bool, i64)>> {
    let mut out: BTreeMap<String, Vec<(&str, bool, i64)>> = BTreeMap::new();
    for o in objects {
        let (id, metadata, active, created) = parts(o);
        if let Owner::Ours(address) = owner(metadata, ns) {
            out.entry(address.to_owned())
                .or_default()
                .push((id, active, created));
        }
    }
    for v in out.values_mut() {
        v.sort_by_key(|(_, _, created)| std::cmp::Reverse(*created));
    }
    out
}

/// The current object at an address: the newest active one, else the newest.
fn current<'a>(at: Option<&Vec<(&'a str, bool, i64)>>) -> Option<&'a str> {
    let at = at?;
    at.iter()
        .find(|(_, active, _)| *active)
        .or_else(|| at.first())
        .map(|(id, _, _)| *id)
}

/// The current id at `address`, or a note that it is missing.
fn pick(
    missing: &mut Vec<String>,
    address: String,
    at: &BTreeMap<String, Vec<(&str, bool, i64)>>,
) -> Option<String> {
    let id = current(at.get(&address)).map(str::to_owned);
    if id.is_none() {
        missing.push(address);
    }
    id
}

/// Collects the ids of what `catalog` declares from `live`.
pub fn collect(catalog: &Catalog, live: &LiveState, origin: &Origin) -> Outputs {
    let ns = catalog.namespace.as_str();
    let mut missing = Vec::new();
    let products_at = index(&live.products, ns, |p| {
        (&p.id, &p.metadata, p.active, p.created)
    });
    let products = catalog
        .products
        .keys()
        .filter_map(|k| {
            pick(&mut missing, Address::product(k).to_string(), &products_at)
                .map(|id| (k.clone(), id))
        })
        .collect();

    let mut prices: BTreeMap<String, BTreeMap<String, PriceIds>> = BTreeMap::new();
    for (pkey, product) in &catalog.products {
        for (key, price) in &product.prices {
            let address = Address::price(pkey, key).to_string();
            let at: Vec<&crate::live::LivePrice> = {
                let mut v: Vec<_> = live
                    .prices
                    .iter()
                    .filter(|p| owner(&p.metadata, ns) == Owner::Ours(address.as_str()))
                    .collect();
                v.sort_by_key(|p| std::cmp::Reverse(p.created));
                v
            };
            // The current price holds the declared lookup key; else the newest active one.
            let chosen = at
                .iter()
                .find(|p| p.active && p.lookup_key.as_deref() == Some(price.lookup_key.as_str()))
                .or_else(|| at.iter().find(|p| p.active))
                .or_else(|| at.first());
            let Some(chosen) = chosen else {
                missing.push(address);
                continue;
            };
            prices.entry(pkey.clone()).or_default().insert(
                key.clone(),
                PriceIds {
                    id: chosen.id.clone(),
                    lookup_key: chosen.lookup_key.clone(),
                    superseded: at
                        .iter()
                        .filter(|p| p.id != chosen.id)
                        .map(|p| p.id.clone())
                        .collect(),
                },
            );
        }
    }

    let coupons_at = index(&live.coupons, ns, |c| (&c.id, &c.metadata, true, c.created));
    let coupons = (!catalog.coupons.is_empty()).then(|| {
        catalog
            .coupons
            .keys()
            .filter_map(|k| {
                pick(
                    &mut missing,
                    Address::new(ResourceKind::Coupon, k).to_string(),
                    &coupons_at,
                )
                .map(|id| (k.clone(), id))
            })
            .collect()
    });
    let codes_at = index(&live.promotion_codes, ns, |c| {
        (&c.id, &c.metadata, c.active, c.created)
    });
    let promotion_codes = (!catalog.promotion_codes.is_empty()).then(|| {
        catalog
            .promotion_codes
            .keys()
            .filter_map(|k| {
                pick(
                    &mut missing,
                    Address::new(ResourceKind::PromotionCode, k).to_string(),
                    &codes_at,
                )
                .map(|id| (k.clone(), id))
            })
            .collect()
    });
    let rates_at = index(&live.tax_rates, ns, |r| {
        (&r.id, &r.metadata, r.active, r.created)
    });
    let tax_rates = (!catalog.tax_rates.is_empty()).then(|| {
        catalog
            .tax_rates
            .keys()
            .filter_map(|k| {
                pick(
                    &mut missing,
                    Address::new(ResourceKind::TaxRate, k).to_string(),
                    &rates_at,
                )
                .map(|id| (k.clone(), id))
            })
            .collect()
    });
    let portals_at = index(&live.portals, ns, |c| {
        (&c.id, &c.metadata, c.active, c.created)
    });
    let default_portal = live.portals.iter().find(|c| c.is_default);
    let portals = (!catalog.portals.is_empty()).then(|| {
        catalog
            .portals
            .iter()
            .filter_map(|(k, p)| {
                let id = if p.account_default {
                    let id = default_portal.map(|c| c.id.clone());
                    if id.is_none() {
                        missing.push(Address::new(ResourceKind::Portal, k).to_string());
                    }
                    id
                } else {
                    pick(
                        &mut missing,
                        Address::new(ResourceKind::Portal, k).to_string(),
                        &portals_at,
                    )
                };
                id.map(|id| (k.clone(), id))
            })
            .collect()
    });
    missing.sort();
    Outputs {
        environment: origin.environment.clone(),
        account: origin.account.clone(),
        mode: origin.mode,
        namespace: catalog.namespace.clone(),
        products,
        prices,
        coupons,
        promotion_codes,
        tax_rates,
        portals,
        missing,
    }
}

/// A value for an env file: bare when it is plainly safe, double-quoted otherwise.
fn env_value(value: &str) -> String {
    let plain = !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-.,:/".contains(c));
    if plain {
        value.to_owned()
    } else {
        let escaped = value
            .replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace('$', "\\$")
            .replace('\n', "\\n");
        format!("\"{escaped}\"")
    }
}

/// The `env` format's lines, `NAME=value`; an error names two keys that would share a name.
fn env_lines(o: &Outputs) -> Result<Vec<(String, String)>, String> {
    let mut lines: Vec<(String, String, String)> = vec![
        (
            "BILLING_ENVIRONMENT".into(),
            o.environment.clone(),
            "environment".into(),
        ),
        (
            "BILLING_ACCOUNT".into(),
            o.account.clone(),
            "account".into(),
        ),
        ("BILLING_MODE".into(), o.mode.to_string(), "mode".into()),
    ];
    for (k, id) in &o.products {
        lines.push((
            format!("BILLING_PRODUCT_{}", env_part(k)),
            id.clone(),
            Address::product(k).to_string(),
        ));
    }
    for (pkey, prices) in &o.prices {
        for (key, ids) in prices {
            let name = format!("BILLING_PRICE_{}__{}", env_part(pkey), env_part(key));
            let address = Address::price(pkey, key).to_string();
            lines.push((name.clone(), ids.id.clone(), address.clone()));
            if let Some(lookup_key) = &ids.lookup_key {
                lines.push((
                    format!("{name}__LOOKUP_KEY"),
                    lookup_key.clone(),
                    address.clone(),
                ));
            }
            lines.push((
                format!("{name}__SUPERSEDED"),
                ids.superseded.join(","),
                address,
            ));
        }
    }
    for (kind, prefix, map) in [
        ("coupons", "COUPON", &o.coupons),
        ("promotion_codes", "PROMOTION_CODE", &o.promotion_codes),
        ("tax_rates", "TAX_RATE", &o.tax_rates),
        ("portals", "PORTAL", &o.portals),
    ] {
        for (k, id) in map.iter().flatten() {
            lines.push((
                format!("BILLING_{prefix}_{}", env_part(k)),
                id.clone(),
                format!("{kind}.{k}"),
            ));
        }
    }
    let mut seen: BTreeMap<&str, &str> = BTreeMap::new();
    for (name, _, address) in &lines {
        if let Some(other) = seen.insert(name, address)
            && other != address
        {
            return Err(format!(
                "{other} and {address} would both be written as {name}: rename one of the keys"
            ));
        }
    }
    Ok(lines.into_iter().map(|(n, v, _)| (n, v)).collect())
}

/// The outputs in `format`, ending with a newline; an error when the env format's names would
/// collide.
pub fn render(o: &Outputs, format: Format) -> Result<String, String> {
    let header = format!(
        "Generated by billing for environment {} (account {}, {} mode, namespace {:?}). Do not edit: run `billing output` again.",
        o.environment, o.account, o.mode, o.namespace
    );
    Ok(match format {
        Format::Json => {
            let mut text = serde_json::to_string_pretty(o).map_err(|e| e.to_string())?;
            text.push('\n');
            text
        }
        Format::Toml => {
            let body = toml::to_string(o).map_err(|e| e.to_string())?;
            format!("# {header}\n{body}")
        }
        Format::Ts => {
            let json = serde_json::to_string_pretty(o).map_err(|e| e.to_string())?;
            format!(
                "// {header}\nexport const billing = {json} as const;\n\nexport type Billing = typeof billing;\nexport default billing;\n"
            )
        }
        Format::Env => {
            let mut text = format!("# {header}\n");
            for (name, value) in env_lines(o)? {
                text.push_str(&format!("{name}={}\n", env_value(&value)));
            }
            text
        }
    })
}
