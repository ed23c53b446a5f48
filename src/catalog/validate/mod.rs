//! The second stage: a [`RawCatalog`] checked against Stripe's rules and turned into a [`Catalog`].
//!
//! Every problem is reported, not only the first; nothing here touches the network.

mod discount;
pub(super) mod fields;
mod portal;
mod price;
mod product;
mod tax;

use std::collections::BTreeMap;
use std::ops::Range;

use super::Catalog;
use super::RawCatalog;
use super::diagnostic::{Diagnostic, Sink};
use super::model::{Coupon, DEFAULT_NAMESPACE, MetadataPattern, Product, PromotionCode};
use super::raw::RawProduct;
use super::raw_discount::{RawCoupon, RawPromotionCode};
use super::reader::Sp;
use crate::resource::{Address, ResourceKind};
use price::LookupKeyOrigin;

/// `pro` → `PRO`, `LAUNCH-20` → `LAUNCH_20`: a key as part of an environment-variable name.
pub(crate) fn env_part(key: &str) -> String {
    key.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect()
}

/// The names `billing output --format env` writes must not collide: two keys that would share
/// one are a problem here, before anything is applied.
///
/// A catalog of 100,000 prices makes 300,000 names: each is hashed as it is made and only
/// names whose hashes meet are made again and compared, so they are never all held at once.
fn env_names(sink: &Sink, raw: &RawCatalog) {
    // Each key that names variables: its kind and, for a price, its product's key.
    type Named<'a> = (ResourceKind, Option<&'a Sp<String>>, &'a Sp<String>);
    let mut keys: Vec<Named<'_>> = Vec::new();
    for p in &raw.products {
        keys.push((ResourceKind::Product, None, &p.key));
        let prices = p.prices.iter();
        keys.extend(prices.map(|price| (ResourceKind::Price, Some(&p.key), &price.key)));
    }
    let keyed = [
        (
            ResourceKind::Coupon,
            raw.coupons.iter().map(|c| &c.key).collect::<Vec<_>>(),
        ),
        (
            ResourceKind::PromotionCode,
            raw.promotion_codes.iter().map(|c| &c.key).collect(),
        ),
        (
            ResourceKind::TaxRate,
            raw.tax_rates.iter().map(|r| &r.key).collect(),
        ),
        (
            ResourceKind::Portal,
            raw.portals.iter().map(|p| &p.key).collect(),
        ),
        (
            ResourceKind::WebhookEndpoint,
            raw.webhooks.iter().map(|w| &w.key).collect(),
        ),
        (
            ResourceKind::EntitlementFeature,
            raw.entitlements.iter().map(|e| &e.key).collect(),
        ),
        (
            ResourceKind::Meter,
            raw.meters.iter().map(|m| &m.key).collect(),
        ),
    ];
    for (kind, of_kind) in keyed {
        keys.extend(of_kind.into_iter().map(|key| (kind, None, key)));
    }
    let suffixes = |kind| match kind {
        ResourceKind::Price => &["", "__LOOKUP_KEY", "__SUPERSEDED"][..],
        _ => &[""][..],
    };
    let name = |at: u32, suffix: u8| {
        let (kind, product, key) = keys[at as usize];
        let prefix = kind.env_prefix().unwrap_or_default();
        let suffix = suffixes(kind)[usize::from(suffix)];
        match product {
            Some(product) => format!(
                "{prefix}_{}__{}{suffix}",
                env_part(product.get_ref()),
                env_part(key.get_ref())
            ),
            None => format!("{prefix}_{}{suffix}", env_part(key.get_ref())),
        }
    };
    let hasher = std::hash::RandomState::new();
    let hash = |name: String| std::hash::BuildHasher::hash_one(&hasher, name);
    // (hash, key, suffix): sorted, equal names sit together in the order they are made.
    let mut made: Vec<(u64, u32, u8)> = Vec::new();
    for (at, &(kind, ..)) in (0u32..).zip(&keys) {
        for suffix in (0u8..).take(suffixes(kind).len()) {
            made.push((hash(name(at, suffix)), at, suffix));
        }
    }
    made.sort_unstable();
    let mut found = Vec::new();
    for same_hash in made.chunk_by(|a, b| a.0 == b.0).filter(|g| g.len() > 1) {
        let names: Vec<String> = same_hash.iter().map(|&(_, at, s)| name(at, s)).collect();
        for (i, &(_, at, suffix)) in same_hash.iter().enumerate() {
            let Some(first) = names[..i].iter().position(|n| *n == names[i]) else {
                continue;
            };
            let (first, key) = (keys[same_hash[first].1 as usize].2, keys[at as usize].2);
            if first.span() != key.span() {
                found.push(((at, suffix), first, key, names[i].clone()));
            }
        }
    }
    // In the order the names are made, as a problem found name by name would be.
    found.sort_by_key(|f| f.0);
    for (_, first, key, name) in found {
        sink.push(
            Diagnostic::new(
                key.span(),
                format!(
                    "`{}` and `{}` would share the output name BILLING_{name}",
                    first.get_ref(),
                    key.get_ref()
                ),
            )
            .label("same name as another key")
            .hint("`billing output --format env` writes one variable per key: rename one of them"),
        );
    }
}

/// Validates `raw`; problems go to `sink`, and the catalog is only meaningful when there are
/// none.
pub(crate) fn validate(sink: &Sink, raw: RawCatalog) -> Catalog {
    env_names(sink, &raw);
    let namespace = raw.namespace.map_or_else(
        || DEFAULT_NAMESPACE.to_owned(),
        |ns| {
            slug(sink, "namespace", &ns);
            ns.into_inner()
        },
    );
    let default_environment = raw.default_environment.map(|env| {
        slug(sink, "default_environment", &env);
        env.into_inner()
    });
    let ignore_metadata = raw
        .ignore_metadata
        .map(|patterns| ignore_metadata(sink, patterns))
        .unwrap_or_default();

    let product_keys = declared(&raw.products, |p| &p.key);
    let declared_products: Vec<&str> = product_keys.iter().map(String::as_str).collect();
    let coupon_keys = declared(&raw.coupons, |c| &c.key);
    let coupon_keys: Vec<&str> = coupon_keys.iter().map(String::as_str).collect();
    super::entitlement::check_product_entitlements(sink, &raw.products, &raw.entitlements);
    super::meter::price_meters(sink, &raw.products, &raw.meters);
    let meters = super::meter::meters(sink, raw.meters);
    let products = products(sink, raw.products);
    let coupons = coupons(sink, raw.coupons, &declared_products);
    let promotion_codes = promotion_codes(sink, raw.promotion_codes, &coupons, &coupon_keys);
    let tax = raw.tax.map(|t| tax::settings(sink, t));
    let tax_rates = tax::tax_rates(sink, raw.tax_rates);
    let mut portals = BTreeMap::new();
    for raw_portal in raw.portals {
        if let Some(p) = portal::portal(sink, raw_portal, &products, &declared_products) {
            portals.insert(p.key.clone(), p);
        }
    }
    let webhooks = super::webhook::webhooks(sink, raw.webhooks, &raw.place);
    let entitlements = super::entitlement::entitlements(sink, raw.entitlements);
    let doctor = super::doctor::doctor(sink, raw.doctor);
    if portals.values().filter(|p| p.account_default).count() > 1 {
        sink.push(Diagnostic::new(
            0..0,
            "only one portal configuration can have `target = \"default\"`",
        ));
    }

    Catalog {
        namespace,
        default_environment,
        environments: BTreeMap::new(),
        environment: None,
        ignore_metadata,
        products,
        coupons,
        promotion_codes,
        tax,
        tax_rates,
        portals,
        webhooks,
        entitlements,
        meters,
        doctor,
    }
}

/// The keys of the entries of one kind as declared, valid or not (references are checked
/// against them, so that one problem in an entry does not surface again where it is named).
fn declared<T>(entries: &[T], key: impl Fn(&T) -> &Sp<String>) -> Vec<String> {
    entries.iter().map(|e| key(e).get_ref().clone()).collect()
}

/// `ignore_metadata`: patterns of 1 to 40 characters.
fn ignore_metadata(sink: &Sink, patterns: Sp<Vec<Sp<String>>>) -> Vec<MetadataPattern> {
    patterns
        .into_inner()
        .into_iter()
        .filter_map(|p| {
            if p.get_ref().is_empty() || p.get_ref().chars().count() > 40 {
                sink.push(
                    Diagnostic::new(p.span(), "an `ignore_metadata` pattern must be 1 to 40 characters long")
                        .hint("patterns match metadata keys; `*` matches any run of characters, e.g. \"crm_*\""),
                );
                return None;
            }
            Some(MetadataPattern::new(p.into_inner()))
        })
        .collect()
}

/// Products by key, with their prices: renames, ids and lookup keys each name one entry.
fn products(sink: &Sink, raw: Vec<RawProduct>) -> BTreeMap<String, Product> {
    let moves = raw.iter().map(|p| (&p.key, p.moved_from.as_ref()));
    fields::renames(sink, Address::product, moves);
    fields::unique_ids(
        sink,
        &raw.iter()
            .flat_map(|p| {
                p.prices.iter().filter_map(move |price| {
                    Some((
                        Address::price(p.key.get_ref(), price.key.get_ref()),
                        price.more().id.as_ref()?,
                    ))
                })
            })
            .collect::<Vec<_>>(),
    );
    let mut products = BTreeMap::new();
    let mut lookup_keys: BTreeMap<String, (String, LookupKeyOrigin)> = BTreeMap::new();
    let mut ids: BTreeMap<String, String> = BTreeMap::new();
    for raw_product in raw {
        let id_span = raw_product.id.as_ref().map(Sp::span);
        let Some(checked) = product::validate(sink, raw_product) else {
            continue;
        };
        let product = checked.product;
        pinned_once(
            sink,
            &mut ids,
            "products",
            &product.key,
            (product.id.as_ref(), id_span),
        );
        for (price_key, lookup_key, origin) in checked.lookup_keys {
            let address = crate::resource::Address::price(&product.key, &price_key).to_string();
            match lookup_keys.get(&lookup_key) {
                Some((first, first_origin)) => sink.push(lookup_key_collision(
                    &lookup_key,
                    first,
                    first_origin,
                    &address,
                    &origin,
                )),
                None => {
                    lookup_keys.insert(lookup_key, (address, origin));
                }
            }
        }
        products.insert(product.key.clone(), product);
    }
    products
}

/// Coupons by key (`products`: every declared product key): renames and ids each name one
/// coupon.
fn coupons(sink: &Sink, raw: Vec<RawCoupon>, products: &[&str]) -> BTreeMap<String, Coupon> {
    let moves = raw.iter().map(|c| (&c.key, c.moved_from.as_ref()));
    fields::renames(sink, |k| Address::new(ResourceKind::Coupon, k), moves);
    let mut coupons = BTreeMap::new();
    let mut ids: BTreeMap<String, String> = BTreeMap::new();
    for raw_coupon in raw {
        let id_span = raw_coupon.id.as_ref().map(Sp::span);
        if let Some(coupon) = discount::coupon(sink, raw_coupon, products) {
            pinned_once(
                sink,
                &mut ids,
                "coupons",
                &coupon.key,
                (coupon.id.as_ref(), id_span),
            );
            coupons.insert(coupon.key.clone(), coupon);
        }
    }
    coupons
}

/// An entry pinned to an `id` (with its span) another entry of `table` is pinned to too
/// (`ids`: the key pinned to each id so far) is a problem.
fn pinned_once(
    sink: &Sink,
    ids: &mut BTreeMap<String, String>,
    table: &str,
    key: &str,
    (id, span): (Option<&String>, Option<Range<usize>>),
) {
    if let (Some(id), Some(span)) = (id, span)
        && let Some(other) = ids.insert(id.clone(), key.to_owned())
    {
        sink.push(
            Diagnostic::new(
                span,
                format!("{table} `{other}` and `{key}` are both pinned to id \"{id}\""),
            )
            .label("duplicate id"),
        );
    }
}

/// Promotion codes by key; their codes are unique, checked over every declared code, valid
/// or not.
fn promotion_codes(
    sink: &Sink,
    raw: Vec<RawPromotionCode>,
    coupons: &BTreeMap<String, Coupon>,
    coupon_keys: &[&str],
) -> BTreeMap<String, PromotionCode> {
    let codes: Vec<(String, Option<String>, Range<usize>)> = raw
        .iter()
        .map(|c| {
            let code = c.code.as_ref().unwrap_or(&c.key);
            (
                code.get_ref().clone(),
                c.customer.as_ref().map(|x| x.get_ref().clone()),
                code.span(),
            )
        })
        .collect();
    let mut promotion_codes = BTreeMap::new();
    for raw_code in raw {
        if let Some(code) = discount::promotion_code(sink, raw_code, coupons, coupon_keys) {
            promotion_codes.insert(code.key.clone(), code);
        }
    }
    discount::unique_codes(sink, &codes);
    promotion_codes
}

fn describe(address: &str, origin: &LookupKeyOrigin) -> String {
    if origin.defaulted {
        format!("{address} (defaulted from `<product>_<price>`)")
    } else {
        address.to_owned()
    }
}

fn lookup_key_collision(
    key: &str,
    first: &str,
    first_origin: &LookupKeyOrigin,
    second: &str,
    second_origin: &LookupKeyOrigin,
) -> Diagnostic {
    let d = Diagnostic::new(
        second_origin.span.clone(),
        format!(
            "lookup key `{key}` of {} is also the lookup key of {}",
            describe(second, second_origin),
            describe(first, first_origin)
        ),
    )
    .label("duplicate lookup key");
    if second_origin.defaulted || first_origin.defaulted {
        d.hint("default lookup keys join product and price keys with `_`, so they can collide: set `lookup_key` explicitly on one of them")
    } else {
        d.hint(
            "lookup keys are unique across all prices in a Stripe account: give each price its own",
        )
    }
}

/// Names that end up in metadata and file paths: `[a-z0-9_-]`, up to 40 characters.
fn slug(sink: &Sink, field: &str, value: &Sp<String>) {
    let text = value.get_ref();
    let valid = !text.is_empty()
        && text.len() <= 40
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    if !valid {
        sink.push(
            Diagnostic::new(
                value.span(),
                format!("`{field}` must be 1 to 40 lowercase letters, digits, `_` or `-`"),
            )
            .label("invalid name"),
        );
    }
}
