//! Forgetting: billing's marker is removed and the object stays in Stripe as it is, no longer
//! managed. Asked for with `billing forget ADDRESS`, or recorded on the object by
//! `on_remove = "forget"` and carried out once its entry leaves the catalog.
//!
//! Forgetting runs before the removal planners and takes the forgotten objects out of the
//! builder's indexes, so nothing archives or deletes them. A forgotten product takes its prices
//! with it, and a forgotten coupon its promotion codes.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use super::builder::Builder;
use super::claims::Claims;
use super::error::Conflict;
use super::identity::{MARKER_KEY, MARKER_NAMESPACE, ON_REMOVE_KEY, fingerprint, forget_on_remove};
use super::request::{
    CouponUpdate, ObjRef, PortalUpdate, PriceUpdate, ProductUpdate, PromotionCodeUpdate, Request,
    TaxRateUpdate,
};
use super::value::{FieldChange, FieldValue};
use super::{Action, Change, ResourceKind};
use crate::catalog::Catalog;

/// The addresses the catalog declares, of every kind that carries a marker; answered from the
/// catalog itself, without building a set of a hundred thousand addresses.
#[derive(Clone, Copy)]
pub(crate) struct Declared<'a>(pub &'a Catalog);

impl Declared<'_> {
    /// Whether billing.toml declares `address`.
    pub fn contains(&self, address: &str) -> bool {
        let c = self.0;
        let Some((kind, key)) = address.split_once('.') else {
            return false;
        };
        match kind {
            "products" => c.products.contains_key(key),
            "prices" => key.split_once('.').is_some_and(|(product, price)| {
                c.products
                    .get(product)
                    .is_some_and(|p| p.prices.contains_key(price))
            }),
            "coupons" => c.coupons.contains_key(key),
            "promotion_codes" => c.promotion_codes.contains_key(key),
            "tax_rates" => c.tax_rates.contains_key(key),
            "portals" => c.portals.contains_key(key),
            _ => false,
        }
    }
}

/// The addresses the catalog declares.
pub(crate) fn declared(catalog: &Catalog) -> Declared<'_> {
    Declared(catalog)
}

/// Whether `address` is one billing.toml declares (and so cannot be forgotten: the next plan
/// would create or adopt it again).
pub fn is_declared(catalog: &Catalog, address: &str) -> bool {
    Declared(catalog).contains(address)
}

/// One object to forget: its id, metadata and how a reviewer recognises it.
struct Target<'a> {
    kind: ResourceKind,
    id: &'a str,
    metadata: &'a BTreeMap<String, String>,
    title: String,
}

/// The metadata update that removes the marker (and a recorded `on_remove`).
fn unmark(metadata: &BTreeMap<String, String>) -> BTreeMap<String, Option<String>> {
    [MARKER_KEY, MARKER_NAMESPACE, ON_REMOVE_KEY]
        .into_iter()
        .filter(|k| metadata.contains_key(*k))
        .map(|k| (k.to_owned(), None))
        .collect()
}

fn request(kind: ResourceKind, id: &str, metadata: BTreeMap<String, Option<String>>) -> Request {
    let id = ObjRef::Id(id.to_owned());
    match kind {
        ResourceKind::Product => Request::UpdateProduct {
            product: id,
            update: ProductUpdate {
                metadata,
                ..ProductUpdate::default()
            },
        },
        ResourceKind::Price => Request::UpdatePrice {
            price: id,
            update: PriceUpdate {
                metadata,
                ..PriceUpdate::default()
            },
        },
        ResourceKind::Coupon => Request::UpdateCoupon {
            coupon: id,
            update: CouponUpdate {
                metadata,
                ..CouponUpdate::default()
            },
        },
        ResourceKind::PromotionCode => Request::UpdatePromotionCode {
            code: id,
            update: PromotionCodeUpdate {
                metadata,
                ..PromotionCodeUpdate::default()
            },
        },
        ResourceKind::TaxRate => Request::UpdateTaxRate {
            rate: id,
            update: TaxRateUpdate {
                metadata,
                ..TaxRateUpdate::default()
            },
        },
        // Settings and registrations carry no marker: nothing else reaches here.
        ResourceKind::Portal | ResourceKind::TaxSettings | ResourceKind::TaxRegistration => {
            Request::UpdatePortal {
                portal: id,
                update: PortalUpdate {
                    metadata,
                    ..PortalUpdate::default()
                },
            }
        }
    }
}

/// Adds one change forgetting every object at `address` (the current one first).
fn add(b: &mut Builder<'_>, address: &str, targets: &[Target<'_>], reason: &str) {
    let Some(first) = targets.first() else { return };
    let digest = fingerprint(&targets.iter().map(|t| t.metadata).collect::<Vec<_>>());
    let mut change = Change::new(
        first.kind,
        address,
        Action::Forget,
        Some(first.id.to_owned()),
        first.title.clone(),
        digest,
    );
    change.reason = Some(reason.to_owned());
    for key in [MARKER_KEY, MARKER_NAMESPACE, ON_REMOVE_KEY] {
        if let Some(value) = first.metadata.get(key) {
            change.fields.push(FieldChange::new(
                format!("metadata.{key}"),
                FieldValue::Text(value.clone()),
                FieldValue::None,
            ));
        }
    }
    change
        .notes
        .push("stays in Stripe as it is; billing no longer manages it".to_owned());
    if targets.len() > 1 {
        change.notes.push(format!(
            "{} older objects at this address are forgotten too",
            targets.len() - 1
        ));
    }
    let idx = b.add_change(change);
    for t in targets {
        let what = match t.kind {
            ResourceKind::Product => "product",
            ResourceKind::Price => "price",
            ResourceKind::Coupon => "coupon",
            ResourceKind::PromotionCode => "promotion code",
            ResourceKind::TaxRate => "tax rate",
            _ => "portal configuration",
        };
        b.add_step(
            idx,
            format!("remove billing's marker from the {what}"),
            request(t.kind, t.id, unmark(t.metadata)),
            vec![],
        );
    }
}

/// Takes the objects at `addresses` out of an index, as forget targets.
fn take<'a, T>(
    index: &mut BTreeMap<&'a str, Vec<&'a T>>,
    addresses: Vec<(String, &'static str)>,
    target: impl Fn(&'a T) -> Target<'a>,
) -> Vec<(String, &'static str, Vec<Target<'a>>)> {
    addresses
        .into_iter()
        .filter_map(|(address, reason)| {
            let objects = index.remove(address.as_str())?;
            let targets = objects.into_iter().map(&target).collect();
            Some((address, reason, targets))
        })
        .collect()
}

/// Forgets the objects at `requested` addresses, and at removed addresses whose objects
/// recorded `on_remove = "forget"`. Returns the requested addresses that were found.
pub(crate) fn plan(b: &mut Builder<'_>, requested: &BTreeSet<String>) -> BTreeSet<String> {
    let declared = declared(b.catalog);
    let mut found = BTreeSet::new();
    let mut wanted = |address: &str, on_remove: bool| {
        if declared.contains(address) {
            return None;
        }
        if requested.contains(address) {
            found.insert(address.to_owned());
            return Some("billing forget");
        }
        on_remove.then_some("removed from billing.toml with on_remove = \"forget\"")
    };

    // Products, and with them their prices.
    let mut products: Vec<(String, &'static str)> = Vec::new();
    for (address, objects) in &b.products_at {
        if let Some(reason) = wanted(
            address,
            objects.iter().any(|o| forget_on_remove(&o.metadata)),
        ) {
            products.push(((*address).to_owned(), reason));
        }
    }
    let mut prices: Vec<(String, &'static str)> = Vec::new();
    for (address, objects) in &b.prices_at {
        let of_forgotten_product = products.iter().any(|(p, _)| {
            address
                .strip_prefix("prices.")
                .zip(p.strip_prefix("products."))
                .is_some_and(|(rest, key)| {
                    rest.strip_prefix(key).is_some_and(|r| r.starts_with('.'))
                })
        });
        if of_forgotten_product && !declared.contains(address) {
            prices.push(((*address).to_owned(), "its product is forgotten"));
        } else if let Some(reason) = wanted(
            address,
            objects.iter().any(|o| forget_on_remove(&o.metadata)),
        ) {
            prices.push(((*address).to_owned(), reason));
        }
    }
    // Coupons, and with them their promotion codes.
    let mut coupons: Vec<(String, &'static str)> = Vec::new();
    let mut coupon_ids: HashSet<&str> = HashSet::new();
    for (address, objects) in &b.coupons_at {
        if let Some(reason) = wanted(
            address,
            objects.iter().any(|o| forget_on_remove(&o.metadata)),
        ) {
            coupons.push(((*address).to_owned(), reason));
            coupon_ids.extend(objects.iter().map(|o| o.id.as_str()));
        }
    }
    let mut codes: Vec<(String, &'static str)> = Vec::new();
    for (address, objects) in &b.codes_at {
        if objects
            .iter()
            .any(|o| coupon_ids.contains(o.coupon.as_str()))
            && !declared.contains(address)
        {
            codes.push(((*address).to_owned(), "its coupon is forgotten"));
        } else if let Some(reason) = wanted(
            address,
            objects.iter().any(|o| forget_on_remove(&o.metadata)),
        ) {
            codes.push(((*address).to_owned(), reason));
        }
    }
    let mut rates: Vec<(String, &'static str)> = Vec::new();
    for (address, objects) in &b.tax_rates_at {
        if let Some(reason) = wanted(
            address,
            objects.iter().any(|o| forget_on_remove(&o.metadata)),
        ) {
            rates.push(((*address).to_owned(), reason));
        }
    }
    let mut portals: Vec<(String, &'static str)> = Vec::new();
    // Portal configurations only when asked: they record no `on_remove`.
    for address in b.portals_at.keys() {
        if requested.contains(*address) && !declared.contains(address) {
            found.insert((*address).to_owned());
            portals.push(((*address).to_owned(), "billing forget"));
        }
    }

    let mut taken = take(&mut b.products_at, products, |o| Target {
        kind: ResourceKind::Product,
        id: &o.id,
        metadata: &o.metadata,
        title: format!("product {:?}", o.name),
    });
    taken.extend(take(&mut b.prices_at, prices, |o| Target {
        kind: ResourceKind::Price,
        id: &o.id,
        metadata: &o.metadata,
        title: format!("price {}", super::price::live_summary(o)),
    }));
    taken.extend(take(&mut b.coupons_at, coupons, |o| Target {
        kind: ResourceKind::Coupon,
        id: &o.id,
        metadata: &o.metadata,
        title: format!("coupon {}", o.id),
    }));
    taken.extend(take(&mut b.codes_at, codes, |o| Target {
        kind: ResourceKind::PromotionCode,
        id: &o.id,
        metadata: &o.metadata,
        title: format!("promotion code {}", o.code),
    }));
    taken.extend(take(&mut b.tax_rates_at, rates, |o| Target {
        kind: ResourceKind::TaxRate,
        id: &o.id,
        metadata: &o.metadata,
        title: format!("tax rate {:?} {}%", o.display_name, o.percentage),
    }));
    taken.extend(take(&mut b.portals_at, portals, |o| Target {
        kind: ResourceKind::Portal,
        id: &o.id,
        metadata: &o.metadata,
        title: format!("portal configuration {}", o.id),
    }));
    for (address, reason, targets) in taken {
        add(b, &address, &targets, reason);
    }
    found
}

/// The conflicts of requested addresses that nothing carries, or that billing.toml declares.
pub(crate) fn unmatched(
    catalog: &Catalog,
    claims: &Claims,
    requested: &BTreeSet<String>,
    found: &BTreeSet<String>,
) -> Vec<Conflict> {
    const KINDS: [&str; 6] = [
        "products.",
        "prices.",
        "coupons.",
        "promotion_codes.",
        "tax_rates.",
        "portals.",
    ];
    requested
        .iter()
        .filter(|a| !found.contains(*a))
        .map(|address| {
            if !KINDS.iter().any(|k| address.starts_with(k)) {
                Conflict {
                    address: address.clone(),
                    message: "not an address billing can forget".to_owned(),
                    hint: "forget takes the address of a product, price, coupon, promotion code, tax rate or portal configuration: products.pro, prices.pro.monthly, coupons.launch, promotion_codes.LAUNCH20, tax_rates.vat_de, portals.default".to_owned(),
                }
            } else if let Some(new) = claims.moved_to(address) {
                Conflict {
                    address: address.clone(),
                    message: format!("billing.toml moves its objects to {new}"),
                    hint: format!("remove the entry that names them ({new}, with `moved_from` or `id`) first"),
                }
            } else if is_declared(catalog, address) {
                Conflict {
                    address: address.clone(),
                    message: "billing.toml still declares it".to_owned(),
                    hint: "remove it from billing.toml first (or give it `on_remove = \"forget\"` and remove it): forgetting a declared entry would only make the next plan create or adopt it again".to_owned(),
                }
            } else {
                Conflict {
                    address: address.clone(),
                    message: "no object in this account carries billing's marker for this address".to_owned(),
                    hint: "addresses look like products.pro, prices.pro.monthly, coupons.launch, promotion_codes.LAUNCH20, tax_rates.vat_de, portals.default".to_owned(),
                }
            }
        })
        .collect()
}
