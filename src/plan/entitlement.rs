//! Entitlement features and their attachments to products.
//!
//! A feature lives on the shared lifecycle ([`super::lifecycle`]): created, its name and
//! metadata updated in place, replaced when its lookup key changes (Stripe fixes it at
//! creation: a new feature, the old one archived), archived when removed. Stripe cannot
//! reactivate an archived feature, so an archived one is never current: a feature declared
//! again is a new one.
//!
//! A product's `entitlements` are a set, diffed once products and features are planned
//! ([`plan_attachments`]): a feature missing from the product is attached (naming a feature
//! this plan creates by the step that creates it), one no longer listed is detached. The
//! steps belong to the product's change (a new change when the product has none).

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use stripe_client_core::StripeRequest;

use super::action::Action;
use super::builder::Builder;
use super::change::Change;
use super::lifecycle::{Blocked, Lifecycle, Planned, update_by_id};
use super::placed::{ProductState, Products};
use super::request::{Encode, ObjRef, Request, Resolve, StepId, Write, Writes, rank};
use super::value::{FieldChange, FieldValue};
use super::wire::{WireRequest, metadata_set, metadata_update};
use crate::catalog::{Catalog, Entitlement};
use crate::digest::fingerprint;
use crate::live::{LiveAttachment, LiveFeature};
use crate::resource::{Address, FEATURES_KEY, FEATURES_VALUE, Owner, ResourceKind, owned_metadata};

/// What a plan says about every change of a product's features.
pub(super) const NEXT_PERIOD_NOTE: &str = "existing subscriptions see a change of the product's features at their next billing period; new ones at once";

/// A feature to create: the declared entry, with the metadata it is created with (declared
/// plus billing's marker).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct FeatureSpec {
    pub entry: Entitlement,
    pub metadata: BTreeMap<String, String>,
}

/// The fields of a feature to change.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub(super) struct FeatureUpdate {
    pub name: Option<String>,
    /// `Some(false)` archives it (for good).
    pub active: Option<bool>,
    /// Keys to set (`Some`) or remove (`None`).
    pub metadata: BTreeMap<String, Option<String>>,
}

/// The entitlement-feature kind on the shared lifecycle.
pub(crate) struct Features;

fn lookup_value(key: &str) -> FieldValue {
    FieldValue::Word(key.to_owned())
}

impl<'a> Lifecycle<'a> for Features {
    type Entry = Entitlement;
    type Live = LiveFeature;

    fn entries(&self, catalog: &'a Catalog) -> &'a BTreeMap<String, Entitlement> {
        &catalog.entitlements
    }

    fn title(&self, e: &Entitlement) -> String {
        format!("entitlement feature {}", e.lookup_key)
    }

    /// The newest active feature at the address; archived ones cannot come back. A lookup key
    /// an active feature billing does not manage holds cannot be created: written explicitly
    /// it adopts that feature (see `claims`), otherwise it is a conflict.
    fn current(
        &self,
        b: &mut Builder<'a>,
        address: &str,
        e: &'a Entitlement,
        at: &[&'a LiveFeature],
    ) -> Result<Option<&'a LiveFeature>, Blocked> {
        if let Some(live) = at.iter().find(|l| l.active) {
            return Ok(Some(live));
        }
        let holder = b.live.entitlements.iter().find(|f| {
            f.active
                && f.lookup_key == e.lookup_key
                && b.owner(&f.id, &f.metadata) == Owner::Unmanaged
        });
        if let Some(holder) = holder {
            b.conflicts.push(super::error::Conflict {
                address: address.to_owned(),
                message: format!(
                    "the feature {} holds the lookup key {:?}, and billing does not manage it",
                    holder.id, e.lookup_key
                ),
                hint: format!(
                    "write `lookup_key = {:?}` (or `id = {:?}`) in [{address}] to adopt it, or archive it in Stripe's Dashboard",
                    e.lookup_key, holder.id
                ),
            });
            return Err(Blocked);
        }
        Ok(None)
    }

    fn create(&self, b: &Builder<'a>, address: &str, e: &'a Entitlement) -> Planned {
        let spec = FeatureSpec {
            entry: e.clone(),
            metadata: owned_metadata(&e.metadata, address, b.namespace, None),
        };
        Planned::new(
            vec![
                FieldChange::new("name", FieldValue::None, FieldValue::Text(e.name.clone())),
                FieldChange::new("lookup_key", FieldValue::None, lookup_value(&e.lookup_key)),
            ],
            Vec::new(),
            Writes::Create(spec),
        )
    }

    /// The lookup key: Stripe fixes it at creation.
    fn shape_diff(&self, e: &Entitlement, live: &LiveFeature) -> Vec<FieldChange> {
        if e.lookup_key == live.lookup_key {
            return Vec::new();
        }
        vec![FieldChange::replacing(
            "lookup_key",
            lookup_value(&live.lookup_key),
            lookup_value(&e.lookup_key),
        )]
    }

    fn replaced_note(&self, live: &LiveFeature) -> Option<String> {
        Some(format!(
            "the application checks entitlements by lookup key: {:?} stops being granted once {} is archived",
            live.lookup_key, live.id
        ))
    }

    fn update(
        &self,
        b: &Builder<'a>,
        address: &str,
        e: &'a Entitlement,
        live: &'a LiveFeature,
    ) -> Option<Planned> {
        let mut fields = Vec::new();
        let mut update = FeatureUpdate::default();
        if live.name != e.name {
            fields.push(FieldChange::new(
                "name",
                FieldValue::Text(live.name.clone()),
                FieldValue::Text(e.name.clone()),
            ));
            update.name = Some(e.name.clone());
        }
        let desired = owned_metadata(&e.metadata, address, b.namespace, None);
        update.metadata = b.metadata_update(&desired, &live.metadata, &mut fields);
        Planned::changes(
            fields,
            Vec::new(),
            update_by_id::<FeatureSpec>(&live.id, update),
        )
    }

    fn retire(&self, live: &LiveFeature) -> (Action, Request) {
        let update = FeatureUpdate {
            active: Some(false),
            ..FeatureUpdate::default()
        };
        (
            Action::Archive,
            update_by_id::<FeatureSpec>(&live.id, update).into(),
        )
    }

    fn retired_note(&self, live: &LiveFeature) -> String {
        format!(
            "Stripe cannot reactivate an archived feature: {:?} can no longer be attached to products; existing subscriptions lose it at their next billing period",
            live.lookup_key
        )
    }
}

/// A write to a feature that creates or changes it.
impl Encode for FeatureSpec {
    type Update = FeatureUpdate;

    fn create(&self, _resolve: Resolve<'_>) -> Vec<WireRequest> {
        use stripe_misc::entitlements_feature::CreateEntitlementsFeature;
        let e = &self.entry;
        let r = CreateEntitlementsFeature::new(e.lookup_key.clone(), e.name.clone())
            .metadata(metadata_set(&self.metadata));
        vec![WireRequest::from_builder(r.build(), vec![])]
    }

    fn update(id: String, u: &FeatureUpdate, _resolve: Resolve<'_>) -> Vec<WireRequest> {
        use stripe_misc::entitlements_feature::UpdateEntitlementsFeature;
        let FeatureUpdate {
            name,
            active,
            metadata,
        } = u;
        let mut r = UpdateEntitlementsFeature::new(id);
        if let Some(name) = name {
            r = r.name(name.clone());
        }
        if let Some(active) = active {
            r = r.active(*active);
        }
        if !metadata.is_empty() {
            r = r.metadata(metadata_update(metadata));
        }
        vec![WireRequest::from_builder(r.build(), vec![])]
    }

    fn archives(update: &FeatureUpdate) -> bool {
        update.active == Some(false)
    }
}

/// `POST /v1/products/{product}/features`: attaches a feature.
#[derive(Debug, Clone)]
pub(super) struct Attach {
    product: ObjRef,
    feature: ObjRef,
}

impl Write for Attach {
    fn target(&self) -> Option<&ObjRef> {
        Some(&self.product)
    }

    fn references(&self) -> Vec<&ObjRef> {
        vec![&self.product, &self.feature]
    }

    fn rank(&self) -> u8 {
        rank::LATE_UPDATE
    }

    fn wire(&self, resolve: Resolve<'_>) -> Vec<WireRequest> {
        let request = stripe_product::product_feature::CreateProductProductFeature::new(
            resolve(&self.product),
            resolve(&self.feature),
        );
        vec![WireRequest::from_builder(request.build(), vec![])]
    }
}

/// `DELETE /v1/products/{product}/features/{id}`: detaches a feature.
#[derive(Debug, Clone)]
pub(super) struct Detach {
    product: ObjRef,
    attachment: String,
}

impl Write for Detach {
    fn target(&self) -> Option<&ObjRef> {
        Some(&self.product)
    }

    fn rank(&self) -> u8 {
        rank::LATE_UPDATE
    }

    fn wire(&self, resolve: Resolve<'_>) -> Vec<WireRequest> {
        let request = stripe_product::product_feature::DeleteProductFeature::new(
            self.attachment.clone(),
            resolve(&self.product),
        );
        vec![WireRequest::from_builder(request.build(), vec![])]
    }
}

/// The feature the entry `key` names once the plan is applied: the one a step of this plan
/// creates, else the active feature holding its lookup key; `None` when the entry is blocked.
fn feature_ref(b: &Builder<'_>, key: &str) -> Option<ObjRef> {
    let entry = b.catalog.entitlements.get(key)?;
    let address = Address::new(ResourceKind::EntitlementFeature, key).to_string();
    let created = b.steps.iter().find(|s| {
        let change = &b.changes[s.change];
        change.kind == ResourceKind::EntitlementFeature
            && change.address == address
            && s.request.creates()
    });
    if let Some(step) = created {
        return Some(ObjRef::Created(step.id));
    }
    b.live
        .entitlements
        .iter()
        .find(|f| f.active && f.lookup_key == entry.lookup_key)
        .map(|f| ObjRef::Id(f.id.as_str().into()))
}

/// Attaches and detaches the features of every declared product.
pub(super) fn plan_attachments(b: &mut Builder<'_>, products: &Products<'_>) {
    for (key, state) in &products.states {
        plan_product(b, key, state);
    }
}

/// One product's attachments: the missing features attached, the ones no longer listed
/// detached once the new ones are attached.
fn plan_product(b: &mut Builder<'_>, key: &str, state: &ProductState<'_>) {
    let attached: &[LiveAttachment] = state
        .live
        .and_then(|live| b.live.product_features.get(&live.id))
        .map_or(&[], Vec::as_slice);
    let mut keep: BTreeSet<&str> = BTreeSet::new();
    let mut attach: Vec<(ObjRef, String)> = Vec::new();
    for entitlement in &state.declared.entitlements {
        let Some(feature) = feature_ref(b, entitlement) else {
            continue;
        };
        let lookup_key = b.catalog.entitlements[entitlement].lookup_key.clone();
        let kept = attached
            .iter()
            .find(|a| feature == ObjRef::Id(a.feature.as_str().into()));
        match kept {
            Some(a) => {
                keep.insert(a.feature.as_str());
            }
            None => attach.push((feature, lookup_key)),
        }
    }
    let detach: Vec<&LiveAttachment> = attached
        .iter()
        .filter(|a| !keep.contains(a.feature.as_str()))
        .collect();
    if attach.is_empty() && detach.is_empty() {
        return;
    }
    let listed = |keys: &mut dyn Iterator<Item = String>| {
        let mut keys: Vec<String> = keys.collect();
        keys.sort();
        FieldValue::List(keys)
    };
    let before = listed(&mut attached.iter().map(|a| a.lookup_key.clone()));
    let after = listed(
        &mut attached
            .iter()
            .filter(|a| keep.contains(a.feature.as_str()))
            .map(|a| a.lookup_key.clone())
            .chain(attach.iter().map(|(_, k)| k.clone())),
    );
    let change = product_change(b, key, state, attached);
    b.changes[change]
        .fields
        .push(FieldChange::new("entitlements", before, after));
    // A new product has no subscriptions yet.
    if b.changes[change].action != Action::Create {
        b.changes[change].notes.push(NEXT_PERIOD_NOTE.to_owned());
    }
    let ready: Vec<StepId> = state.ready.into_iter().collect();
    let mut attached_now = Vec::new();
    for (feature, lookup_key) in attach {
        let write = Attach {
            product: state.obj.clone(),
            feature,
        };
        let step = b.add_step(
            change,
            format!("attach feature {lookup_key}"),
            write,
            ready.clone(),
        );
        attached_now.push(step);
    }
    let mut detached = Vec::new();
    for a in &detach {
        let write = Detach {
            product: state.obj.clone(),
            attachment: a.id.clone(),
        };
        let step = format!("detach feature {}", a.lookup_key);
        detached.push(b.add_step(change, step, write, attached_now.clone()));
    }
    // The last feature detached: the features marker goes once the detaches succeeded (the
    // product's own update keeps it, see `product::desired_metadata`).
    let marked = state
        .live
        .is_some_and(|live| live.metadata.contains_key(FEATURES_KEY));
    if state.declared.entitlements.is_empty() && marked && !detach.is_empty() {
        let unmark = Unmark {
            product: state.obj.clone(),
        };
        b.add_step(change, "remove the features marker", unmark, detached);
        b.changes[change].fields.push(FieldChange::new(
            format!("metadata.{FEATURES_KEY}"),
            FieldValue::Text(FEATURES_VALUE.to_owned()),
            FieldValue::None,
        ));
    }
}

/// `POST /v1/products/{product}` removing the features marker, after the last detach.
#[derive(Debug, Clone)]
pub(super) struct Unmark {
    product: ObjRef,
}

impl Write for Unmark {
    fn target(&self) -> Option<&ObjRef> {
        Some(&self.product)
    }

    fn rank(&self) -> u8 {
        rank::ARCHIVE
    }

    fn wire(&self, resolve: Resolve<'_>) -> Vec<WireRequest> {
        let update = super::product::ProductUpdate {
            metadata: BTreeMap::from([(FEATURES_KEY.to_owned(), None)]),
            ..Default::default()
        };
        vec![super::product::update_request(
            resolve(&self.product),
            &update,
            &resolve,
        )]
    }
}

/// The change the product's attachments belong to: its own when it has one, else a new
/// update. Writes to attachments record no event, so the account's generation does not move
/// with them: the change's fingerprint also covers the plan's clock and the attachments read,
/// so that a feature attached again after a detach is never answered with a replay.
fn product_change(
    b: &mut Builder<'_>,
    key: &str,
    state: &ProductState<'_>,
    attached: &[LiveAttachment],
) -> usize {
    let covered = fingerprint(&[&(b.now, attached)]);
    if let Some(change) = state.change {
        let c = &mut b.changes[change];
        if c.action != Action::Create {
            c.fingerprint = fingerprint(&[&(c.fingerprint.as_str(), covered.as_str())]);
        }
        return change;
    }
    let address = Address::product(key).to_string();
    let id = state.live.map(|l| l.id.clone());
    let title = format!("product {:?}", state.declared.name);
    b.add_change(Change::new(
        ResourceKind::Product,
        &address,
        Action::Update,
        id,
        title,
        covered,
    ))
}
