//! Planning customer-portal configurations: create (or, with `target = "default"`, take over
//! the account's default configuration), update in place, deactivate what left billing.toml.
//!
//! A configuration refers to products and prices by id. When one of its prices is replaced in
//! the same apply, the configuration is updated after the new price exists and before the old
//! one is archived, so that customers never see an archived price in the portal.

use std::collections::BTreeMap;

use super::builder::Builder;
use super::error::Conflict;
use super::metadata;
use super::price::PriceState;
use super::product::Products;
use super::request::{
    ObjRef, PortalSettings, PortalSubscriptionUpdate, PortalUpdate, Request, StepId,
};
use super::value::{FieldChange, FieldValue, push_if_changed};
use super::{Action, Change};
use crate::catalog::Portal;
use crate::digest::fingerprint;
use crate::live::LiveObject;
use crate::live::LivePortal;
use crate::resource::Address;
use crate::resource::{MARKER_KEY, MARKER_NAMESPACE, Owner, ResourceKind, owner, with_marker};

fn address(key: &str) -> String {
    Address::new(ResourceKind::Portal, key).to_string()
}

fn title(p: &Portal) -> String {
    match (&p.name, p.account_default) {
        (Some(name), _) => format!("portal configuration {name:?}"),
        (None, true) => "the account's default portal configuration".to_owned(),
        (None, false) => format!("portal configuration {}", p.key),
    }
}

/// How an object reads in a plan: its id, or the address of the step that creates it.
fn show(r: &ObjRef, addresses: &BTreeMap<StepId, String>) -> String {
    match r {
        ObjRef::Id(id) => id.clone(),
        ObjRef::Created(step) => match addresses.get(step) {
            Some(a) => format!("(new {a})"),
            None => "(new)".to_owned(),
        },
    }
}

/// The desired settings with the catalog's products and prices as Stripe objects, and the
/// steps after which those objects can be offered (creations and unarchivings).
fn settings(
    p: &Portal,
    products: &Products<'_>,
    prices: &BTreeMap<(&str, &str), PriceState<'_>>,
) -> (PortalSettings, Vec<StepId>) {
    let mut ready = Vec::new();
    let subscription_update = p.subscription_update.as_ref().map(|u| {
        let products = u
            .products
            .iter()
            .filter_map(|(pkey, keys)| {
                let product = products.states.get(pkey.as_str())?;
                ready.extend(product.ready);
                let prices: Vec<ObjRef> = keys
                    .iter()
                    .filter_map(|k| prices.get(&(pkey.as_str(), k.as_str())))
                    .map(|s| {
                        ready.extend(s.ready);
                        s.obj.clone()
                    })
                    .collect();
                Some((product.obj.clone(), prices))
            })
            .collect();
        PortalSubscriptionUpdate {
            products,
            default_allowed_updates: u.default_allowed_updates.clone(),
            proration_behavior: u
                .proration_behavior
                .clone()
                .unwrap_or_else(|| "none".to_owned()),
        }
    });
    let settings = PortalSettings {
        name: p.name.clone(),
        default_return_url: p.default_return_url.clone(),
        headline: p.headline.clone(),
        privacy_policy_url: p.privacy_policy_url.clone(),
        terms_of_service_url: p.terms_of_service_url.clone(),
        login_page: p.login_page,
        invoice_history: p.invoice_history,
        payment_method_update: p.payment_method_update,
        customer_update: p.customer_update.clone(),
        subscription_cancel: p.subscription_cancel.clone(),
        subscription_update,
    };
    ready.sort_unstable();
    ready.dedup();
    (settings, ready)
}

fn sorted(items: &[String]) -> Vec<String> {
    let mut v = items.to_vec();
    v.sort();
    v
}

/// `prod_1: price_a, price_b` per product, sorted, so that order never shows as a change.
fn product_lines(
    products: &[(ObjRef, Vec<ObjRef>)],
    addresses: &BTreeMap<StepId, String>,
) -> Vec<String> {
    let mut lines: Vec<String> = products
        .iter()
        .map(|(product, prices)| {
            let prices: Vec<String> = sorted(
                &prices
                    .iter()
                    .map(|p| show(p, addresses))
                    .collect::<Vec<_>>(),
            );
            format!("{}: {}", show(product, addresses), prices.join(", "))
        })
        .collect();
    lines.sort();
    lines
}

/// Field by field, what differs between the desired settings and `live` (or everything, for
/// a new configuration).
fn settings_diff(
    want: &PortalSettings,
    live: Option<&LivePortal>,
    addresses: &BTreeMap<StepId, String>,
) -> Vec<FieldChange> {
    let mut out = Vec::new();
    let text = |v: &Option<String>| FieldValue::text(v.as_deref());
    let flag = |on: bool| FieldValue::Bool(on);
    let have = |f: fn(&LivePortal) -> FieldValue, default: FieldValue| live.map_or(default, f);
    for (field, before, after) in [
        (
            "name",
            have(|l| FieldValue::text(l.name.as_deref()), FieldValue::None),
            text(&want.name),
        ),
        (
            "default_return_url",
            have(
                |l| FieldValue::text(l.default_return_url.as_deref()),
                FieldValue::None,
            ),
            text(&want.default_return_url),
        ),
        (
            "business_profile.headline",
            have(
                |l| FieldValue::text(l.headline.as_deref()),
                FieldValue::None,
            ),
            text(&want.headline),
        ),
        (
            "business_profile.privacy_policy_url",
            have(
                |l| FieldValue::text(l.privacy_policy_url.as_deref()),
                FieldValue::None,
            ),
            text(&want.privacy_policy_url),
        ),
        (
            "business_profile.terms_of_service_url",
            have(
                |l| FieldValue::text(l.terms_of_service_url.as_deref()),
                FieldValue::None,
            ),
            text(&want.terms_of_service_url),
        ),
        (
            "login_page",
            have(|l| FieldValue::Bool(l.login_page), FieldValue::None),
            flag(want.login_page),
        ),
        (
            "features.invoice_history",
            have(|l| FieldValue::Bool(l.invoice_history), FieldValue::None),
            flag(want.invoice_history),
        ),
        (
            "features.payment_method_update",
            have(
                |l| FieldValue::Bool(l.payment_method_update),
                FieldValue::None,
            ),
            flag(want.payment_method_update),
        ),
        (
            "features.customer_update",
            have(
                |l| FieldValue::List(sorted(&l.customer_update)),
                FieldValue::None,
            ),
            FieldValue::List(sorted(&want.customer_update)),
        ),
    ] {
        if live.is_none() && matches!(after, FieldValue::None | FieldValue::Bool(false)) {
            continue;
        }
        if live.is_none() && after == FieldValue::List(vec![]) {
            continue;
        }
        push_if_changed(&mut out, field, before, after);
    }
    let cancel = |c: Option<(&str, &str, Vec<String>)>| match c {
        None => (
            FieldValue::Bool(false),
            FieldValue::None,
            FieldValue::None,
            FieldValue::None,
        ),
        Some((mode, proration, reasons)) => (
            FieldValue::Bool(true),
            FieldValue::Word(mode.to_owned()),
            // Nothing is prorated at the period's end.
            if mode == "immediately" {
                FieldValue::Word(proration.to_owned())
            } else {
                FieldValue::None
            },
            FieldValue::List(sorted(&reasons)),
        ),
    };
    let want_cancel = cancel(want.subscription_cancel.as_ref().map(|c| {
        (
            c.mode.as_str(),
            c.proration_behavior.as_deref().unwrap_or("none"),
            c.reasons.clone(),
        )
    }));
    let have_cancel = live.map(|l| {
        cancel(
            l.subscription_cancel
                .as_ref()
                .map(|(m, p, r)| (m.as_str(), p.as_str(), r.clone())),
        )
    });
    let update = |u: Option<(Vec<String>, Vec<String>, &str)>| match u {
        None => (
            FieldValue::Bool(false),
            FieldValue::None,
            FieldValue::None,
            FieldValue::None,
        ),
        Some((products, allowed, proration)) => (
            FieldValue::Bool(true),
            FieldValue::List(products),
            FieldValue::List(sorted(&allowed)),
            FieldValue::Word(proration.to_owned()),
        ),
    };
    let want_update = update(want.subscription_update.as_ref().map(|u| {
        (
            product_lines(&u.products, addresses),
            u.default_allowed_updates.clone(),
            u.proration_behavior.as_str(),
        )
    }));
    let have_update = live.map(|l| {
        update(
            l.subscription_update
                .as_ref()
                .map(|(products, allowed, proration)| {
                    let products: Vec<(ObjRef, Vec<ObjRef>)> = products
                        .iter()
                        .map(|(p, prices)| {
                            (
                                ObjRef::Id(p.clone()),
                                prices.iter().map(|x| ObjRef::Id(x.clone())).collect(),
                            )
                        })
                        .collect();
                    (
                        product_lines(&products, addresses),
                        allowed.clone(),
                        proration.as_str(),
                    )
                }),
        )
    });
    for (prefix, names, want, have) in [
        (
            "features.subscription_cancel",
            ["mode", "proration_behavior", "reasons"],
            want_cancel,
            have_cancel,
        ),
        (
            "features.subscription_update",
            ["products", "default_allowed_updates", "proration_behavior"],
            want_update,
            have_update,
        ),
    ] {
        let enabled = want.0 == FieldValue::Bool(true);
        match have {
            None if !enabled => {}
            None => {
                for (name, value) in names.iter().zip([want.1, want.2, want.3]) {
                    if value == FieldValue::None {
                        continue;
                    }
                    out.push(FieldChange::new(
                        format!("{prefix}.{name}"),
                        FieldValue::None,
                        value,
                    ));
                }
            }
            Some(have) if have.0 != want.0 => {
                out.push(FieldChange::new(
                    format!("{prefix}.enabled"),
                    have.0,
                    want.0,
                ));
                if enabled {
                    for (name, value) in names.iter().zip([want.1, want.2, want.3]) {
                        if value == FieldValue::None {
                            continue;
                        }
                        out.push(FieldChange::new(
                            format!("{prefix}.{name}"),
                            FieldValue::None,
                            value,
                        ));
                    }
                }
            }
            Some(have) => {
                for (name, (before, after)) in
                    names
                        .iter()
                        .zip([(have.1, want.1), (have.2, want.2), (have.3, want.3)])
                {
                    push_if_changed(&mut out, &format!("{prefix}.{name}"), before, after);
                }
            }
        }
    }
    out
}

/// The products and prices a configuration offers.
fn offered(live: &LivePortal) -> Vec<&String> {
    live.subscription_update
        .iter()
        .flat_map(|(products, _, _)| products.iter())
        .flat_map(|(p, prices)| std::iter::once(p).chain(prices.iter()))
        .collect()
}

/// The product or price a step archives, if it archives one.
fn archived_by(request: &Request) -> Option<&String> {
    match request {
        Request::UpdatePrice {
            price: ObjRef::Id(id),
            update,
        } if update.active == Some(false) => Some(id),
        Request::UpdateProduct {
            product: ObjRef::Id(id),
            update,
        } if update.active == Some(false) => Some(id),
        _ => None,
    }
}

/// Every product and price this plan archives.
fn archives(b: &Builder<'_>) -> Vec<String> {
    b.steps
        .iter()
        .filter_map(|s| archived_by(&s.request).cloned())
        .collect()
}

/// Adds an edge from each step that archives a product or price `live` offers to `step`: the
/// configuration stops offering it first.
fn archive_after(b: &mut Builder<'_>, live: &LivePortal, step: StepId) {
    let offered = offered(live);
    for other in &mut b.steps {
        if archived_by(&other.request).is_some_and(|id| offered.contains(&id))
            && !other.depends_on.contains(&step)
        {
            other.depends_on.push(step);
        }
    }
}

fn deactivate(b: &mut Builder<'_>, addr: &str, live: &LivePortal, reason: &str, destroy: bool) {
    let mut change = Change::new(
        ResourceKind::Portal,
        addr,
        Action::Deactivate,
        Some(live.id.clone()),
        live.title(),
        fingerprint(&[live]),
    );
    change.reason = Some(reason.to_owned());
    change.destroy = destroy;
    change.notes.push(format!(
        "portal sessions can no longer be created with {}; sessions already open keep working until they expire",
        live.id
    ));
    let idx = b.add_change(change);
    let step = b.add_step(
        idx,
        "deactivate portal configuration",
        Request::UpdatePortal {
            portal: ObjRef::Id(live.id.clone()),
            update: PortalUpdate {
                active: Some(false),
                ..PortalUpdate::default()
            },
        },
        vec![],
    );
    archive_after(b, live, step);
}

/// Plans every declared configuration, then deactivates managed ones that are not current.
pub(crate) fn plan(
    b: &mut Builder<'_>,
    products: &Products<'_>,
    prices: &BTreeMap<(&str, &str), PriceState<'_>>,
) {
    // The catalog address of each object a step creates, for showing references.
    let addresses: BTreeMap<StepId, String> = b
        .steps
        .iter()
        .filter(|s| s.request.creates())
        .map(|s| (s.id, b.changes[s.change].address.clone()))
        .collect();
    let catalog = b.catalog;
    let mut current: Vec<String> = Vec::new();
    for (key, p) in &catalog.portals {
        let addr = address(key);
        let at: Vec<&LivePortal> = b.managed.at::<LivePortal>(&addr);
        let live = if p.account_default {
            let Some(default) = b.live.portals.iter().find(|c| c.is_default) else {
                b.conflicts.push(Conflict {
                    address: addr.clone(),
                    message: "the account has no default portal configuration to manage".to_owned(),
                    hint: "save the customer portal settings once in the Stripe Dashboard, or remove `target = \"default\"` so that billing creates a configuration of its own".to_owned(),
                });
                continue;
            };
            if matches!(owner(&default.metadata, b.namespace), Owner::Foreign(_)) {
                let ns = default
                    .metadata
                    .get(MARKER_NAMESPACE)
                    .cloned()
                    .unwrap_or_default();
                b.conflicts.push(Conflict {
                    address: addr.clone(),
                    message: format!(
                        "the account's default portal configuration {} is managed by the catalog with namespace {ns:?}",
                        default.id
                    ),
                    hint: "only one catalog can manage it: remove `target = \"default\"` here or there".to_owned(),
                });
                continue;
            }
            Some(default)
        } else {
            at.iter()
                .find(|c| c.active && !c.is_default)
                .or_else(|| at.iter().find(|c| !c.is_default))
                .copied()
        };
        let (want, ready) = settings(p, products, prices);
        let desired_metadata = with_marker(&p.metadata, &addr, b.namespace);
        let Some(live) = live else {
            let mut change = Change::new(
                ResourceKind::Portal,
                &addr,
                Action::Create,
                None,
                title(p),
                fingerprint(&at),
            );
            change.fields = settings_diff(&want, None, &addresses);
            change.notes.push(
                "Stripe never makes an API-created configuration the account's default: pass its id as `configuration` when creating portal sessions"
                    .to_owned(),
            );
            let idx = b.add_change(change);
            b.add_step(
                idx,
                "create portal configuration",
                Request::CreatePortal {
                    settings: want,
                    metadata: desired_metadata,
                },
                ready,
            );
            continue;
        };
        current.push(live.id.clone());
        let mut fields = settings_diff(&want, Some(live), &addresses);
        let settings_changed = !fields.is_empty();
        if !live.active {
            fields.insert(
                0,
                FieldChange::new("active", FieldValue::Bool(false), FieldValue::Bool(true)),
            );
        }
        let metadata = metadata::diff(
            &desired_metadata,
            &live.metadata,
            |k| catalog.ignores_metadata_key(k),
            &mut fields,
        );
        if fields.is_empty() {
            continue;
        }
        let action = if live.active {
            Action::Update
        } else {
            Action::Unarchive
        };
        let mut change = Change::new(
            ResourceKind::Portal,
            &addr,
            action,
            Some(live.id.clone()),
            title(p),
            fingerprint(&[live]),
        );
        if p.account_default && !live.metadata.contains_key(MARKER_KEY) {
            change.notes.push(
                "billing takes over the account's default configuration: changes made in the Dashboard will be undone by the next apply"
                    .to_owned(),
            );
        }
        change.fields = fields;
        let idx = b.add_change(change);
        let step = b.add_step(
            idx,
            "update portal configuration",
            Request::UpdatePortal {
                portal: ObjRef::Id(live.id.clone()),
                update: PortalUpdate {
                    settings: settings_changed.then_some(want),
                    metadata,
                    active: (!live.active).then_some(true),
                },
            },
            ready,
        );
        archive_after(b, live, step);
    }
    // Managed configurations that are not current.
    let others: Vec<(String, LivePortal)> = b
        .managed
        .all_of::<LivePortal>()
        .map(|(a, o)| (a.to_owned(), o.clone()))
        .filter(|(_, c)| !current.contains(&c.id))
        .collect();
    for (addr, live) in others {
        let removed = !catalog.portals.keys().any(|k| address(k) == addr);
        if live.is_default {
            // The default configuration cannot be deactivated: billing lets go of it.
            let mut fields = Vec::new();
            let mut release = BTreeMap::new();
            for key in [MARKER_KEY, MARKER_NAMESPACE] {
                if let Some(value) = live.metadata.get(key) {
                    fields.push(FieldChange::new(
                        format!("metadata.{key}"),
                        FieldValue::Text(value.clone()),
                        FieldValue::None,
                    ));
                    release.insert(key.to_owned(), None);
                }
            }
            let mut change = Change::new(
                ResourceKind::Portal,
                &addr,
                Action::Update,
                Some(live.id.clone()),
                "the account's default portal configuration".to_owned(),
                fingerprint(&[&live]),
            );
            let archived: Vec<&String> = offered(&live)
                .into_iter()
                .filter(|id| archives(b).contains(id))
                .collect();
            if !archived.is_empty() {
                change.notes.push(format!(
                    "it offers {}, which this apply archives: remove them from it in the Dashboard",
                    archived
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            change.reason = Some(if removed {
                "removed from billing.toml".to_owned()
            } else {
                "billing.toml no longer targets the account's default configuration".to_owned()
            });
            change.notes.push(
                "the account's default configuration stays as it is; billing stops managing it"
                    .to_owned(),
            );
            change.fields = fields;
            let idx = b.add_change(change);
            b.add_step(
                idx,
                "release the default portal configuration",
                Request::UpdatePortal {
                    portal: ObjRef::Id(live.id.clone()),
                    update: PortalUpdate {
                        metadata: release,
                        ..PortalUpdate::default()
                    },
                },
                vec![],
            );
            continue;
        }
        if !live.active {
            continue;
        }
        let now_default = catalog
            .portals
            .iter()
            .any(|(k, p)| address(k) == addr && p.account_default);
        if removed {
            deactivate(b, &addr, &live, "removed from billing.toml", true);
        } else if now_default {
            deactivate(
                b,
                &addr,
                &live,
                "billing.toml now manages the account's default configuration here (`target = \"default\"`)",
                false,
            );
        } else {
            deactivate(b, &addr, &live, "a duplicate at this address", false);
        }
    }
}
