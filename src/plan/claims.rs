//! Claims: live objects the catalog takes at an address their marker does not name yet.
//!
//! Two things claim an object before planning starts, so that every per-kind planner sees it at
//! its new address like any object billing manages:
//! - a rename (`moved_from`): objects marked with the old address move to the new one, and a
//!   renamed product's prices move with it;
//! - an adoption: an object without any marker that a catalog entry names explicitly (an `id`,
//!   a price's lookup key, a promotion code's code). Never by name alone.
//!
//! The planners then add the marker as part of their ordinary metadata diff, and [`relabel`]
//! names the resulting changes for what they are.

use std::collections::{HashMap, HashSet};

use super::action::Action;
use super::change::{Adoption, Change};
use super::error::Conflict;
use crate::catalog::Catalog;
use crate::live::{LiveObject, LivePrice, LiveState};
use crate::resource::IdPin;
use crate::resource::ResourceKind;
use crate::resource::{Address, Owner, owner};

/// Why an object is claimed at an address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Origin {
    /// Its marker names `from`, which billing.toml no longer declares, and billing.toml names
    /// it here: `by` says how (`moved_from = "pro"`, `id price_…`).
    Moved { from: String, by: String },
    /// It has no marker, and the catalog names it: `by` says how (`id price_…`,
    /// `lookup key "pro_monthly"`, `code "SPRING"`).
    Adopted { by: String },
}

/// A live object claimed at an address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Claim {
    pub address: String,
    pub origin: Origin,
}

/// Every claim, by live object id, and the conflicts found while claiming.
#[derive(Debug, Default)]
pub(crate) struct Claims {
    by_id: HashMap<String, Claim>,
    pub(crate) conflicts: Vec<Conflict>,
}

impl Claims {
    /// Who manages a live object once renames and adoptions are taken into account.
    pub(crate) fn owner<'a>(
        &'a self,
        id: &str,
        metadata: &'a crate::live::Metadata,
        namespace: &str,
    ) -> Owner<'a> {
        match self.by_id.get(id) {
            Some(claim) => Owner::Ours(&claim.address),
            None => owner(metadata, namespace),
        }
    }

    /// Where the objects marked with `address` move to, when billing.toml renames it.
    pub(crate) fn moved_to(&self, address: &str) -> Option<&str> {
        self.by_id.values().find_map(|c| match &c.origin {
            Origin::Moved { from, .. } if from == address => Some(c.address.as_str()),
            _ => None,
        })
    }

    /// The claim on a live object, if any.
    pub(crate) fn get(&self, id: &str) -> Option<&Claim> {
        self.by_id.get(id)
    }

    /// Claims an object billing.toml names by `id` for `address`: adopted when it has no
    /// marker, moved when billing manages it at an address billing.toml no longer declares.
    /// Any other owner is returned as a problem for the caller to report.
    fn claim_named(
        &mut self,
        named: &dyn LiveObject,
        ns: &str,
        address: &str,
        declared: &Catalog,
    ) -> Result<(), String> {
        if let Some(other) = self.by_id.get(named.id()) {
            return if other.address == address {
                Ok(())
            } else {
                Err(format!(
                    "{}, which {} already takes ({})",
                    named.id(),
                    other.address,
                    match &other.origin {
                        Origin::Moved { by, .. } | Origin::Adopted { by } => by,
                    }
                ))
            };
        }
        match owner(named.metadata(), ns) {
            Owner::Unmanaged => {
                self.claim(
                    named.id(),
                    address,
                    Origin::Adopted {
                        by: format!("id {}", named.id()),
                    },
                );
                Ok(())
            }
            Owner::Ours(at) if at == address => Ok(()),
            Owner::Ours(at) if !declared.declares(at) => {
                self.claim(
                    named.id(),
                    address,
                    Origin::Moved {
                        from: at.to_owned(),
                        by: format!("id {}", named.id()),
                    },
                );
                Ok(())
            }
            Owner::Ours(at) => Err(format!(
                "{}, which billing manages at {at}, still declared in billing.toml",
                named.id()
            )),
            Owner::Foreign(ns) => Err(format!(
                "{}, which the catalog with namespace {ns:?} manages",
                named.id()
            )),
        }
    }

    fn claim(&mut self, id: &str, address: &str, origin: Origin) -> bool {
        if let Some(other) = self.by_id.get(id) {
            if other.address != address {
                self.conflicts.push(Conflict {
                    address: address.to_owned(),
                    message: format!("{id} is already claimed by {}", other.address),
                    hint: "one Stripe object can be managed at one address only".to_owned(),
                });
            }
            return false;
        }
        self.by_id.insert(
            id.to_owned(),
            Claim {
                address: address.to_owned(),
                origin,
            },
        );
        true
    }
}

/// Finds every rename and adoption of `catalog` in `live`.
pub(crate) fn find(catalog: &Catalog, live: &LiveState) -> Claims {
    let ns = catalog.namespace.as_str();
    let mut claims = Claims::default();
    let moves = renames(catalog, live);
    // Objects marked with a renamed address are claimed at the new one. (Nothing to look at in
    // the usual plan, which renames nothing.)
    if !moves.is_empty() {
        for o in marked(live) {
            if let Owner::Ours(address) = owner(o.metadata(), ns)
                && let Some((new, by)) = moves.get(address)
            {
                let from = address.to_owned();
                let by = by.clone();
                claims.claim(o.id(), new, Origin::Moved { from, by });
            }
        }
    }
    // Prices without a marker that hold a lookup key: the only ones a lookup key can adopt.
    let unmarked_keys: HashMap<&str, &LivePrice> = live
        .prices
        .iter()
        .filter_map(|p| {
            let key = p.lookup_key.as_deref()?;
            (owner(&p.metadata, ns) == Owner::Unmanaged).then_some((key, p))
        })
        .collect();
    let managed = held(catalog, live, &moves, &unmarked_keys);
    for kind in ResourceKind::ALL {
        if let Some(pin) = kind.id_pin() {
            adopt_pinned(live, ns, kind, pin, &managed, catalog, &mut claims);
        }
        // Prices and codes are adopted after the products and coupons they hang on.
        if kind == ResourceKind::Price {
            adopt_prices(
                catalog,
                live,
                &managed,
                catalog,
                &unmarked_keys,
                &mut claims,
            );
        } else if kind == ResourceKind::PromotionCode {
            adopt_codes(catalog, live, &managed, &mut claims);
        } else if kind == ResourceKind::EntitlementFeature {
            adopt_features(catalog, live, &managed, &mut claims);
        }
    }
    claims
}

/// Renames, old address → (new address, what says so): `moved_from` on products, prices,
/// coupons and tax rates, and a product pinned by `id` found at an address billing.toml no
/// longer declares. A renamed product's prices move with it.
fn renames(catalog: &Catalog, live: &LiveState) -> HashMap<String, (String, String)> {
    let ns = catalog.namespace.as_str();
    let pinned_products: HashMap<&str, &crate::live::Metadata> =
        if catalog.products.values().any(|p| p.id.is_some()) {
            live.products
                .iter()
                .map(|p| (p.id.as_str(), &p.metadata))
                .collect()
        } else {
            HashMap::new()
        };
    let mut moves: HashMap<String, (String, String)> = HashMap::new();
    for (key, product) in &catalog.products {
        // A product pinned by `id` is found by it after a rename: its prices move with it, as
        // with `moved_from`.
        let renamed = match (&product.moved_from, &product.id) {
            (Some(old), _) => Some((old.clone(), format!("moved_from = {old:?}"))),
            (None, Some(id)) => {
                pinned_products
                    .get(id.as_str())
                    .and_then(|metadata| match owner(metadata, ns) {
                        Owner::Ours(at) if !catalog.declares(at) => at
                            .parse::<Address>()
                            .ok()
                            .filter(|a| a.kind() == ResourceKind::Product)
                            .map(|old| (old.key().to_owned(), format!("id {id}"))),
                        _ => None,
                    })
            }
            (None, None) => None,
        };
        let old_product = renamed
            .as_ref()
            .map_or(key.as_str(), |(old, _)| old.as_str());
        if let Some((old, by)) = &renamed {
            moves.insert(
                Address::product(old).to_string(),
                (Address::product(key).to_string(), by.clone()),
            );
        }
        for (price_key, price) in &product.prices {
            let old_price = price.moved_from.as_deref().unwrap_or(price_key);
            let by = match (&price.moved_from, &renamed) {
                (Some(old), _) => format!("moved_from = {old:?}"),
                (None, Some((_, by))) => format!("its product's {by}"),
                (None, None) => continue,
            };
            moves.insert(
                Address::price(old_product, old_price).to_string(),
                (Address::price(key, price_key).to_string(), by),
            );
        }
    }
    // Kinds renamed entry by entry (a product's rename above carries its prices).
    for kind in ResourceKind::ALL {
        if matches!(kind, ResourceKind::Product | ResourceKind::Price) {
            continue;
        }
        for (new, old) in catalog.moves(kind) {
            let by = format!("moved_from = {:?}", old.key());
            moves.insert(old.to_string(), (new.to_string(), by));
        }
    }
    moves
}

/// Of the addresses where something may be adopted, the ones a marked object already holds
/// (after renames): adoption is for addresses billing manages nothing at.
fn held(
    catalog: &Catalog,
    live: &LiveState,
    moves: &HashMap<String, (String, String)>,
    unmarked_keys: &HashMap<&str, &LivePrice>,
) -> HashSet<String> {
    let ns = catalog.namespace.as_str();
    let candidates = adoption_candidates(catalog, live, unmarked_keys);
    let mut held = HashSet::new();
    if candidates.is_empty() {
        return held;
    }
    for o in marked(live) {
        if let Owner::Ours(address) = owner(o.metadata(), ns) {
            let address = moves.get(address).map_or(address, |(new, _)| new.as_str());
            if candidates.contains(address) {
                held.insert(address.to_owned());
            }
        }
    }
    held
}

/// Every live object that can carry a marker.
fn marked(live: &LiveState) -> impl Iterator<Item = &dyn LiveObject> {
    ResourceKind::MARKED
        .into_iter()
        .flat_map(|kind| live.objects(kind).iter())
}

/// The addresses of prices, promotion codes and tax rates that something in the account may
/// be adopted at: a price or tax rate with an `id`, a price whose written lookup key an
/// unmarked price holds, a code an unmarked active code has.
fn adoption_candidates(
    catalog: &Catalog,
    live: &LiveState,
    unmarked_keys: &HashMap<&str, &LivePrice>,
) -> HashSet<String> {
    let mut out = HashSet::new();
    for (pkey, product) in catalog.products.iter().filter(|(_, p)| p.active) {
        for (key, price) in &product.prices {
            if price.id.is_some()
                || (price.lookup_key_declared
                    && unmarked_keys.contains_key(price.lookup_key.as_str()))
            {
                out.insert(Address::price(pkey, key).to_string());
            }
        }
    }
    let ns = catalog.namespace.as_str();
    let unmarked_codes: Vec<&str> = live
        .promotion_codes
        .iter()
        .filter(|c| c.active && owner(&c.metadata, ns) == Owner::Unmanaged)
        .map(|c| c.code.as_str())
        .collect();
    for (key, code) in &catalog.promotion_codes {
        if unmarked_codes
            .iter()
            .any(|c| c.eq_ignore_ascii_case(&code.code))
        {
            out.insert(Address::new(ResourceKind::PromotionCode, key).to_string());
        }
    }
    out.extend(
        catalog
            .entitlements
            .values()
            .filter(|e| unmarked_feature(live, ns, e).is_some())
            .map(|e| Address::new(ResourceKind::EntitlementFeature, &e.key).to_string()),
    );
    for kind in ResourceKind::ALL {
        if kind
            .id_pin()
            .is_some_and(|pin| pin.only_unmanaged_addresses)
        {
            out.extend(catalog.pins(kind).iter().map(|(a, _)| a.to_string()));
        }
    }
    out
}

/// What to do about an `id` that names no object of the account read. Most often the plan
/// reads another account than the one the id comes from (the embedded sandbox, another
/// environment): removing `id` would then create a second object beside the real one.
fn missing_id_hint(noun: &str) -> String {
    format!(
        "plan against the account the id comes from (-e picks the environment; --api-base the API); an id of one environment's account goes under `overrides.<env>` of the entry. Removing `id` adopts nothing: apply would create a new {noun} in this account"
    )
}

/// Objects named by an explicit `id`: adopted when unmarked, moved when managed at an address
/// no longer declared. A pin on an object another entry or catalog takes is a conflict.
fn adopt_pinned(
    live: &LiveState,
    ns: &str,
    kind: ResourceKind,
    pin: IdPin,
    managed: &HashSet<String>,
    declared: &Catalog,
    claims: &mut Claims,
) {
    let pins = declared.pins(kind);
    if pins.is_empty() {
        return;
    }
    let noun = kind.noun();
    let by_id: HashMap<&str, &dyn LiveObject> =
        live.objects(kind).iter().map(|o| (o.id(), o)).collect();
    for (address, id) in pins {
        let address = address.to_string();
        if pin.only_unmanaged_addresses && managed.contains(address.as_str()) {
            continue;
        }
        let Some(named) = by_id.get(id) else {
            if !pin.created_when_missing {
                claims.conflicts.push(Conflict {
                    address,
                    message: format!(
                        "`id = \"{id}\"` names no {noun} of account {}",
                        live.account.id
                    ),
                    hint: missing_id_hint(noun),
                });
            }
            continue;
        };
        let taken = claims.get(id).is_some_and(|c| c.address != address);
        if let Err(problem) = claims.claim_named(*named, ns, &address, declared)
            && (!pin.planner_reports || taken)
        {
            claims.conflicts.push(Conflict {
                address,
                message: format!("`id` names {noun} {problem}"),
                hint: format!("one Stripe object can be managed at one address only: name a {noun} that no other entry or catalog manages, or remove `id`"),
            });
        }
    }
}

/// A price with an `id`, or whose lookup key a price without a marker holds on the product the
/// catalog puts it on, at an address no managed price holds. (A holder on another product is
/// somebody else's price: the price planner reports the clash rather than archive it.)
fn adopt_prices(
    catalog: &Catalog,
    live: &LiveState,
    managed: &HashSet<String>,
    declared: &Catalog,
    unmarked_keys: &HashMap<&str, &LivePrice>,
    claims: &mut Claims,
) {
    let ns = catalog.namespace.as_str();
    // The live products at each product address, renames and adoptions included.
    let mut product_ids: HashMap<String, Vec<&str>> = HashMap::new();
    for p in &live.products {
        if let Owner::Ours(address) = claims.owner(&p.id, &p.metadata, ns) {
            product_ids
                .entry(address.to_owned())
                .or_default()
                .push(&p.id);
        }
    }
    let declared_ids: HashSet<&str> = catalog
        .products
        .values()
        .flat_map(|p| p.prices.values().filter_map(|price| price.id.as_deref()))
        .collect();
    let by_id: HashMap<&str, &LivePrice> = if declared_ids.is_empty() {
        HashMap::new()
    } else {
        live.prices
            .iter()
            .filter(|p| declared_ids.contains(p.id.as_str()))
            .map(|p| (p.id.as_str(), p))
            .collect()
    };
    let by_lookup_key = unmarked_keys;
    for (pkey, product) in &catalog.products {
        // Prices of a product declared inactive are only archived: nothing to adopt.
        if !product.active {
            continue;
        }
        let on_product = |l: &LivePrice| {
            product_ids
                .get(&Address::product(pkey).to_string())
                .is_some_and(|ids| ids.contains(&l.product.as_str()))
        };
        for (key, price) in &product.prices {
            if price.id.is_none()
                && !(price.lookup_key_declared
                    && by_lookup_key.contains_key(price.lookup_key.as_str()))
            {
                continue;
            }
            let address = Address::price(pkey, key).to_string();
            if managed.contains(address.as_str()) {
                continue;
            }
            let (found, by) = match &price.id {
                Some(id) => match by_id.get(id.as_str()) {
                    Some(l) if !on_product(l) => {
                        claims.conflicts.push(Conflict {
                            address: address.clone(),
                            message: format!(
                                "`id = \"{id}\"` names a price of product {}, not of {}",
                                l.product,
                                Address::product(pkey)
                            ),
                            hint: format!("a price cannot change products: declare it under the product it is on (pin that product with `id = \"{}\"`), or remove `id` to create a new price", l.product),
                        });
                        continue;
                    }
                    Some(l) => (*l, format!("id {id}")),
                    None => {
                        claims.conflicts.push(Conflict {
                            address: address.clone(),
                            message: format!(
                                "`id = \"{id}\"` names no price of account {}",
                                live.account.id
                            ),
                            hint: missing_id_hint("price"),
                        });
                        continue;
                    }
                },
                // Only a lookup key written in billing.toml names a price: a defaulted one
                // (`<product>_<price>`) is made of catalog keys, and adopting by it would be
                // adopting by name.
                None if !price.lookup_key_declared => continue,
                None => match by_lookup_key.get(price.lookup_key.as_str()) {
                    Some(l) if on_product(l) => (*l, format!("lookup key {:?}", price.lookup_key)),
                    _ => continue,
                },
            };
            if price.id.is_some() {
                if let Err(problem) = claims.claim_named(found, ns, &address, declared) {
                    claims.conflicts.push(Conflict {
                        address,
                        message: format!("`id` names price {problem}"),
                        hint: "one Stripe object can be managed at one address only: name a price that no other entry or catalog manages, or remove `id`".to_owned(),
                    });
                }
            } else if owner(&found.metadata, ns) == Owner::Unmanaged {
                // A lookup key held by a marked price is the price planner's business.
                claims.claim(&found.id, &address, Origin::Adopted { by });
            }
        }
    }
}

/// A declared promotion code whose code an active code without a marker has (same text, same
/// customer restriction) on the coupon the catalog puts it on, at an address no managed code
/// holds. A code on another coupon is not adopted: it is somebody else's code that happens to
/// clash (the promotion-code planner reports it).
fn adopt_codes(
    catalog: &Catalog,
    live: &LiveState,
    managed: &HashSet<String>,
    claims: &mut Claims,
) {
    let ns = catalog.namespace.as_str();
    for (key, code) in &catalog.promotion_codes {
        let address = Address::new(ResourceKind::PromotionCode, key).to_string();
        if managed.contains(address.as_str()) {
            continue;
        }
        let coupon_address = Address::new(ResourceKind::Coupon, &code.coupon).to_string();
        let on_its_coupon = |coupon_id: &str| {
            live.coupons.iter().any(|c| {
                c.id == coupon_id
                    && claims.owner(&c.id, &c.metadata, ns) == Owner::Ours(&coupon_address)
            })
        };
        if let Some(l) = live.promotion_codes.iter().find(|l| {
            l.active
                && l.code.eq_ignore_ascii_case(&code.code)
                && l.customer == code.customer
                && owner(&l.metadata, ns) == Owner::Unmanaged
                && on_its_coupon(&l.coupon)
        }) {
            claims.claim(
                &l.id,
                &address,
                Origin::Adopted {
                    by: format!("code {:?}", l.code),
                },
            );
        }
    }
}

/// The active feature without a marker that holds the lookup key `entry` writes explicitly:
/// the one feature a written lookup key adopts (Stripe keeps lookup keys unique among active
/// features).
fn unmarked_feature<'l>(
    live: &'l LiveState,
    ns: &str,
    entry: &crate::catalog::Entitlement,
) -> Option<&'l crate::live::LiveFeature> {
    if !entry.lookup_key_written {
        return None;
    }
    live.entitlements.iter().find(|f| {
        f.active && f.lookup_key == entry.lookup_key && owner(&f.metadata, ns) == Owner::Unmanaged
    })
}

/// Features named by a written `lookup_key`, where billing manages none yet.
fn adopt_features(
    catalog: &Catalog,
    live: &LiveState,
    managed: &HashSet<String>,
    claims: &mut Claims,
) {
    let ns = catalog.namespace.as_str();
    for (key, entry) in &catalog.entitlements {
        let address = Address::new(ResourceKind::EntitlementFeature, key).to_string();
        if managed.contains(address.as_str()) || entry.id.is_some() {
            continue;
        }
        if let Some(f) = unmarked_feature(live, ns, entry) {
            let by = format!("lookup key {:?}", f.lookup_key);
            claims.claim(&f.id, &address, Origin::Adopted { by });
        }
    }
}

/// Names the changes of claimed objects: an in-place update of an adopted object is an
/// adoption, of a moved one a move; any other action keeps its name and says what it adopts
/// or where the object moved from.
pub(crate) fn relabel(claims: &Claims, changes: &mut [Change]) {
    for change in changes {
        let Some(claim) = change.id.as_deref().and_then(|id| claims.get(id)) else {
            continue;
        };
        if claim.address != change.address {
            continue;
        }
        let id = change.id.clone().unwrap_or_default();
        match &claim.origin {
            Origin::Adopted { by } => {
                change.adopts = Some(Adoption {
                    id: id.clone(),
                    by: by.clone(),
                });
            }
            Origin::Moved { from, .. } => change.previous_address = Some(from.clone()),
        }
        match (&claim.origin, change.action) {
            (Origin::Adopted { by }, Action::Update) => {
                change.action = Action::Adopt;
                change.reason = Some(format!(
                    "{id} has no billing marker; billing.toml names it by {by}"
                ));
            }
            (Origin::Adopted { by }, _) => change.notes.push(format!(
                "adopts {id}, which billing did not manage (named by {by})"
            )),
            (Origin::Moved { from, by }, Action::Update) => {
                change.action = Action::Move;
                change.reason = Some(format!("{from} is now {} ({by})", change.address));
            }
            (Origin::Moved { from, by }, _) => change
                .notes
                .push(format!("{id} moves here from {from} ({by})")),
        }
    }
}

/// After a rename without `moved_from`, the plan archives the old object and creates a new
/// one; when a destroyed and a created change look alike (same kind and title, and for a
/// price the same product), the creation says how to keep the object instead.
pub(crate) fn rename_hints(changes: &mut [Change]) {
    let destroyed: Vec<(usize, String)> = changes
        .iter()
        .enumerate()
        .filter(|(_, c)| c.destroy)
        .map(|(i, c)| (i, c.address.clone()))
        .collect();
    let mut hints: Vec<(usize, String)> = Vec::new();
    for (i, created) in changes.iter().enumerate() {
        if created.action != Action::Create {
            continue;
        }
        let Some((parent, _)) = created.address.rsplit_once('.') else {
            continue;
        };
        let alike: Vec<&str> = destroyed
            .iter()
            .map(|(j, _)| &changes[*j])
            .filter(|d| {
                d.kind == created.kind
                    && d.title == created.title
                    && d.address.rsplit_once('.').map(|(p, _)| p) == Some(parent)
            })
            .map(|d| d.address.as_str())
            .collect();
        if let [old] = alike.as_slice() {
            let old_key = old.rsplit_once('.').map_or(*old, |(_, k)| k);
            hints.push((
                i,
                format!(
                    "if this is {old} renamed, add `moved_from = \"{old_key}\"` to it in billing.toml: the Stripe object is kept and only its marker changes, instead of an archive and a create"
                ),
            ));
        }
    }
    for (i, hint) in hints {
        changes[i].notes.push(hint);
    }
}
