//! Customer-portal configurations: created (or, with `target = "default"`, the account's
//! default configuration taken over), updated in place, deactivated when they leave
//! billing.toml. Their life is the shared one ([`super::lifecycle`]).
//!
//! A configuration refers to products and prices by id. When one of its prices is replaced in
//! the same apply, the configuration is updated after the new price exists and before the old
//! one is archived, so that customers never see an archived price in the portal.

use std::collections::BTreeMap;

use serde::Serialize;
use stripe_client_core::StripeRequest;

use super::action::Action;
use super::builder::Builder;
use super::change::Change;
use super::error::Conflict;
use super::lifecycle::{self, Blocked, Lifecycle, Planned, update_by_id};
use super::placed::PriceStates;
use super::placed::Products;
use super::request::{Encode, Writes};
use super::request::{ObjRef, Request, StepId};
use super::value::{FieldChange, FieldValue, push_if_changed};
use super::wire::{WireRequest, metadata_set, metadata_update, parse};
use crate::catalog::{Catalog, Portal, SubscriptionCancel};
use crate::live::LivePortal;
use crate::plan::request::Resolve;
use crate::resource::{MARKER_KEY, MARKER_NAMESPACE, Owner, owner, with_marker};

/// Customers may switch their subscriptions between these products' prices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(super) struct PortalSubscriptionUpdate {
    /// Each product with the prices customers may switch to.
    pub products: Vec<(ObjRef, Vec<ObjRef>)>,
    pub default_allowed_updates: Vec<String>,
    pub proration_behavior: String,
}

/// Everything a portal configuration shows customers, products named by object: sent whole on
/// create and on update.
pub(super) type PortalSettings = crate::catalog::PortalSettings<PortalSubscriptionUpdate>;

/// Changes to a portal configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub(super) struct PortalUpdate {
    /// The whole desired configuration, when any of it differs.
    pub settings: Option<PortalSettings>,
    /// Keys to set (`Some`) or remove (`None`).
    pub metadata: BTreeMap<String, Option<String>>,
    pub active: Option<bool>,
}

/// The portal kind on the shared lifecycle, with the products and prices the plan has placed.
pub(crate) struct Portals<'p, 'a> {
    products: &'p Products<'a>,
    prices: &'p PriceStates<'a>,
    /// The catalog address of each object a step creates, for showing references.
    addresses: BTreeMap<StepId, String>,
}

impl<'p, 'a> Portals<'p, 'a> {
    pub(crate) fn new(
        b: &Builder<'_>,
        products: &'p Products<'a>,
        prices: &'p PriceStates<'a>,
    ) -> Self {
        let addresses = b
            .steps
            .iter()
            .filter(|s| s.request.creates())
            .map(|s| (s.id, b.changes[s.change].address.clone()))
            .collect();
        Self {
            products,
            prices,
            addresses,
        }
    }

    /// The account's default configuration, for an entry that manages it; a conflict when
    /// there is none or another catalog manages it.
    fn account_default<'l>(&self, b: &mut Builder<'l>, address: &str) -> Option<&'l LivePortal> {
        let Some(default) = b.live.portals.iter().find(|c| c.is_default) else {
            b.conflicts.push(Conflict {
                address: address.to_owned(),
                message: "the account has no default portal configuration to manage".to_owned(),
                hint: "save the customer portal settings once in the Stripe Dashboard, or remove `target = \"default\"` so that billing creates a configuration of its own".to_owned(),
            });
            return None;
        };
        if let Owner::Foreign(ns) = owner(&default.metadata, b.namespace) {
            b.conflicts.push(Conflict {
                address: address.to_owned(),
                message: format!(
                    "the account's default portal configuration {} is managed by the catalog with namespace {ns:?}",
                    default.id
                ),
                hint: "only one catalog can manage it: remove `target = \"default\"` here or there"
                    .to_owned(),
            });
            return None;
        }
        Some(default)
    }

    /// The default configuration, which cannot be deactivated, is let go of: billing's marker
    /// is removed and nothing else changes.
    fn release(&self, b: &mut Builder<'_>, address: &str, live: &LivePortal, removed: bool) {
        let mut fields = Vec::new();
        let mut release = BTreeMap::new();
        for key in [MARKER_KEY, MARKER_NAMESPACE] {
            if let Some(value) = live.metadata.get(key) {
                fields.push(FieldChange::new(
                    format!("metadata.{key}"),
                    FieldValue::Text(value.to_owned()),
                    FieldValue::None,
                ));
                release.insert(key.to_owned(), None);
            }
        }
        let mut change = Change {
            title: "the account's default portal configuration".to_owned(),
            ..Change::of_live(address, Action::Update, live)
        };
        let archives = archives(b);
        let archived: Vec<&str> = offered(live)
            .into_iter()
            .filter(|id| archives.contains(id))
            .map(String::as_str)
            .collect();
        if !archived.is_empty() {
            change.notes.push(format!(
                "it offers {}, which this apply archives: remove them from it in the Dashboard",
                archived.join(", ")
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
            update_by_id::<PortalSpec>(
                &live.id,
                PortalUpdate {
                    metadata: release,
                    ..PortalUpdate::default()
                },
            ),
            vec![],
        );
    }
}

impl<'a> Lifecycle<'a> for Portals<'_, 'a> {
    type Entry = Portal;
    type Live = LivePortal;

    fn entries(&self, catalog: &'a Catalog) -> &'a BTreeMap<String, Portal> {
        &catalog.portals
    }

    fn title(&self, p: &Portal) -> String {
        match (&p.settings.name, p.account_default) {
            (Some(name), _) => format!("portal configuration {name:?}"),
            (None, true) => "the account's default portal configuration".to_owned(),
            (None, false) => format!("portal configuration {}", p.key),
        }
    }

    /// The account's default configuration for `target = "default"`; else the newest active
    /// configuration billing made here, else the newest one.
    fn current(
        &self,
        b: &mut Builder<'a>,
        address: &str,
        p: &'a Portal,
        at: &[&'a LivePortal],
    ) -> Result<Option<&'a LivePortal>, Blocked> {
        if p.account_default {
            return self.account_default(b, address).map(Some).ok_or(Blocked);
        }
        Ok(at
            .iter()
            .find(|c| c.active && !c.is_default)
            .or_else(|| at.iter().find(|c| !c.is_default))
            .copied())
    }

    fn create(&self, b: &Builder<'a>, address: &str, p: &'a Portal) -> Planned {
        let (want, ready) = settings(p, self.products, self.prices);
        Planned {
            fields: settings_diff(&want, None, &self.addresses),
            notes: vec![
                "Stripe never makes an API-created configuration the account's default: pass its id as `configuration` when creating portal sessions"
                    .to_owned(),
            ],
            request: PortalWrite::Create(PortalSpec {
                settings: want,
                metadata: with_marker(&p.metadata, address, b.namespace),
            })
            .into(),
            depends_on: ready,
        }
    }

    fn update(
        &self,
        b: &Builder<'a>,
        address: &str,
        p: &'a Portal,
        live: &'a LivePortal,
    ) -> Option<Planned> {
        let (want, ready) = settings(p, self.products, self.prices);
        let mut fields = settings_diff(&want, Some(live), &self.addresses);
        let settings_changed = !fields.is_empty();
        if !live.active {
            fields.insert(0, FieldChange::active(false, true));
        }
        let metadata = b.metadata_update(
            &with_marker(&p.metadata, address, b.namespace),
            &live.metadata,
            &mut fields,
        );
        if fields.is_empty() {
            return None;
        }
        let mut notes = Vec::new();
        if p.account_default && !live.metadata.contains_key(MARKER_KEY) {
            notes.push(
                "billing takes over the account's default configuration: changes made in the Dashboard will be undone by the next apply"
                    .to_owned(),
            );
        }
        Some(Planned {
            fields,
            notes,
            request: update_by_id::<PortalSpec>(
                &live.id,
                PortalUpdate {
                    settings: settings_changed.then_some(want),
                    metadata,
                    active: (!live.active).then_some(true),
                },
            )
            .into(),
            depends_on: ready,
        })
    }

    fn retire(&self, live: &LivePortal) -> (Action, Request) {
        let update = PortalUpdate {
            active: Some(false),
            ..PortalUpdate::default()
        };
        (
            Action::Deactivate,
            update_by_id::<PortalSpec>(&live.id, update).into(),
        )
    }

    fn retired_note(&self, live: &LivePortal) -> String {
        format!(
            "portal sessions can no longer be created with {}; sessions already open keep working until they expire",
            live.id
        )
    }

    /// The default configuration is released, never deactivated; a configuration billing made
    /// is deactivated when `target = "default"` now takes its address.
    fn surplus(
        &self,
        b: &mut Builder<'a>,
        address: &str,
        declared: Option<&'a Portal>,
        live: &'a LivePortal,
    ) {
        if live.is_default {
            self.release(b, address, live, declared.is_none());
            return;
        }
        if !live.active {
            return;
        }
        let reason = match declared {
            None => "removed from billing.toml",
            Some(p) if p.account_default => {
                "billing.toml now manages the account's default configuration here (`target = \"default\"`)"
            }
            Some(_) => "a duplicate at this address",
        };
        lifecycle::retire(b, self, address, live, reason, declared.is_none());
    }

    /// The configuration stops offering a product or price before it is archived.
    fn after(&self, b: &mut Builder<'a>, live: &LivePortal, step: StepId) {
        archive_after(b, live, step);
    }
}

/// How an object reads in a plan: its id, or the address of the step that creates it.
fn show(r: &ObjRef, addresses: &BTreeMap<StepId, String>) -> String {
    match r {
        ObjRef::Id(id) => id.to_string(),
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
    prices: &PriceStates<'_>,
) -> (PortalSettings, Vec<StepId>) {
    let mut ready = Vec::new();
    let subscription_update = p.settings.subscription_update.as_ref().map(|u| {
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
    let settings = p.settings.naming(subscription_update);
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

/// A feature that is on or off, with its three settings: `(enabled, settings)`.
type Feature = (FieldValue, [FieldValue; 3]);

/// A feature that is off.
fn off() -> Feature {
    (
        FieldValue::Bool(false),
        [FieldValue::None, FieldValue::None, FieldValue::None],
    )
}

/// The settings that are one value each: name, live value (`None` for a new configuration)
/// and desired value.
fn plain_settings(
    want: &PortalSettings,
    live: Option<&LivePortal>,
) -> [(&'static str, Option<FieldValue>, FieldValue); 9] {
    fn text(v: &Option<String>) -> FieldValue {
        FieldValue::text(v.as_deref())
    }
    let have = |f: fn(&LivePortal) -> FieldValue| live.map(f);
    [
        ("name", have(|l| text(&l.settings.name)), text(&want.name)),
        (
            "default_return_url",
            have(|l| text(&l.settings.default_return_url)),
            text(&want.default_return_url),
        ),
        (
            "business_profile.headline",
            have(|l| text(&l.settings.headline)),
            text(&want.headline),
        ),
        (
            "business_profile.privacy_policy_url",
            have(|l| text(&l.settings.privacy_policy_url)),
            text(&want.privacy_policy_url),
        ),
        (
            "business_profile.terms_of_service_url",
            have(|l| text(&l.settings.terms_of_service_url)),
            text(&want.terms_of_service_url),
        ),
        (
            "login_page",
            have(|l| FieldValue::Bool(l.settings.login_page)),
            FieldValue::Bool(want.login_page),
        ),
        (
            "features.invoice_history",
            have(|l| FieldValue::Bool(l.settings.invoice_history)),
            FieldValue::Bool(want.invoice_history),
        ),
        (
            "features.payment_method_update",
            have(|l| FieldValue::Bool(l.settings.payment_method_update)),
            FieldValue::Bool(want.payment_method_update),
        ),
        (
            "features.customer_update",
            have(|l| FieldValue::List(sorted(&l.settings.customer_update))),
            FieldValue::List(sorted(&want.customer_update)),
        ),
    ]
}

/// Cancellation as a feature: mode, proration (only when cancelling immediately: nothing is
/// prorated at the period's end) and reasons.
fn cancel_feature(cancel: Option<(&str, &str, &[String])>) -> Feature {
    match cancel {
        None => off(),
        Some((mode, proration, reasons)) => (
            FieldValue::Bool(true),
            [
                FieldValue::Word(mode.to_owned()),
                if mode == "immediately" {
                    FieldValue::Word(proration.to_owned())
                } else {
                    FieldValue::None
                },
                FieldValue::List(sorted(reasons)),
            ],
        ),
    }
}

/// Switching plans as a feature: products, default allowed updates and proration.
fn update_feature(
    update: Option<&PortalSubscriptionUpdate>,
    addresses: &BTreeMap<StepId, String>,
) -> Feature {
    match update {
        None => off(),
        Some(u) => (
            FieldValue::Bool(true),
            [
                FieldValue::List(product_lines(&u.products, addresses)),
                FieldValue::List(sorted(&u.default_allowed_updates)),
                FieldValue::Word(u.proration_behavior.clone()),
            ],
        ),
    }
}

/// A live configuration's plan switching, in the desired settings' terms.
fn live_update(live: &LivePortal) -> Option<PortalSubscriptionUpdate> {
    live.settings
        .subscription_update
        .as_ref()
        .map(|(products, allowed, proration)| PortalSubscriptionUpdate {
            products: products
                .iter()
                .map(|(p, prices)| {
                    (
                        ObjRef::Id(p.as_str().into()),
                        prices
                            .iter()
                            .map(|x| ObjRef::Id(x.as_str().into()))
                            .collect(),
                    )
                })
                .collect(),
            default_allowed_updates: allowed.clone(),
            proration_behavior: proration.clone(),
        })
}

/// Adds the fields of one feature that differ: everything it turns on for a new
/// configuration, whether it is enabled, and its settings when it stays enabled.
fn feature_diff(
    out: &mut Vec<FieldChange>,
    prefix: &str,
    names: [&str; 3],
    want: Feature,
    have: Option<Feature>,
) {
    let enabled = want.0 == FieldValue::Bool(true);
    let added = |out: &mut Vec<FieldChange>, values: [FieldValue; 3]| {
        for (name, value) in names.iter().zip(values) {
            if value != FieldValue::None {
                out.push(FieldChange::new(
                    format!("{prefix}.{name}"),
                    FieldValue::None,
                    value,
                ));
            }
        }
    };
    match have {
        None if !enabled => {}
        None => added(out, want.1),
        Some(have) if have.0 != want.0 => {
            out.push(FieldChange::new(
                format!("{prefix}.enabled"),
                have.0,
                want.0,
            ));
            if enabled {
                added(out, want.1);
            }
        }
        Some(have) => {
            for (name, (before, after)) in names.iter().zip(have.1.into_iter().zip(want.1)) {
                push_if_changed(out, &format!("{prefix}.{name}"), before, after);
            }
        }
    }
}

/// Field by field, what differs between the desired settings and `live` (or everything, for
/// a new configuration).
fn settings_diff(
    want: &PortalSettings,
    live: Option<&LivePortal>,
    addresses: &BTreeMap<StepId, String>,
) -> Vec<FieldChange> {
    let mut out = Vec::new();
    for (field, before, after) in plain_settings(want, live) {
        match before {
            // A new configuration shows what is turned on.
            None if matches!(&after, FieldValue::None | FieldValue::Bool(false))
                || after == FieldValue::List(vec![]) => {}
            None => push_if_changed(&mut out, field, FieldValue::None, after),
            Some(before) => push_if_changed(&mut out, field, before, after),
        }
    }
    fn cancel(c: &SubscriptionCancel) -> (&str, &str, &[String]) {
        (
            c.mode.as_str(),
            c.proration_behavior.as_deref().unwrap_or("none"),
            c.reasons.as_slice(),
        )
    }
    feature_diff(
        &mut out,
        "features.subscription_cancel",
        ["mode", "proration_behavior", "reasons"],
        cancel_feature(want.subscription_cancel.as_ref().map(cancel)),
        live.map(|l| cancel_feature(l.settings.subscription_cancel.as_ref().map(cancel))),
    );
    feature_diff(
        &mut out,
        "features.subscription_update",
        ["products", "default_allowed_updates", "proration_behavior"],
        update_feature(want.subscription_update.as_ref(), addresses),
        live.map(|l| update_feature(live_update(l).as_ref(), addresses)),
    );
    out
}

/// The products and prices a configuration offers.
fn offered(live: &LivePortal) -> Vec<&String> {
    live.settings
        .subscription_update
        .iter()
        .flat_map(|(products, _, _)| products.iter())
        .flat_map(|(p, prices)| std::iter::once(p).chain(prices.iter()))
        .collect()
}

/// Every product and price this plan archives.
fn archives(b: &Builder<'_>) -> Vec<String> {
    b.steps
        .iter()
        .filter_map(|s| s.request.archives().map(str::to_owned))
        .collect()
}

/// Adds an edge from each step that archives a product or price `live` offers to `step`: the
/// configuration stops offering it first.
fn archive_after(b: &mut Builder<'_>, live: &LivePortal, step: StepId) {
    let offered = offered(live);
    for other in &mut b.steps {
        if other
            .request
            .archives()
            .is_some_and(|id| offered.iter().any(|o| *o == id))
            && !other.depends_on.contains(&step)
        {
            other.depends_on.push(step);
        }
    }
}

/// A portal configuration's settings as form pairs, built with the create request's types
/// (an update takes the same fields). With `clear`, unset texts are sent empty so that an
/// update removes them.
fn portal_pairs(
    s: &PortalSettings,
    resolve: &impl Fn(&ObjRef) -> String,
    clear: bool,
) -> Vec<(String, String)> {
    use stripe_billing::billing_portal_configuration::{
        CreateBillingPortalConfiguration as Create,
        CreateBillingPortalConfigurationBusinessProfile as Profile,
        CreateBillingPortalConfigurationFeatures as Features,
        CreateBillingPortalConfigurationFeaturesCustomerUpdate as CustomerUpdate,
        CreateBillingPortalConfigurationFeaturesSubscriptionCancel as Cancel,
        CreateBillingPortalConfigurationFeaturesSubscriptionCancelCancellationReason as Reason,
        CreateBillingPortalConfigurationFeaturesSubscriptionUpdate as Update,
        CreateBillingPortalConfigurationLoginPage as LoginPage, InvoiceListParam,
        PaymentMethodUpdateParam, SubscriptionUpdateProductParam,
    };
    let mut extra = Vec::new();
    let mut features = Features::new();
    let mut customer = CustomerUpdate::new(!s.customer_update.is_empty());
    if !s.customer_update.is_empty() {
        customer.allowed_updates = Some(s.customer_update.iter().map(|u| parse(u)).collect());
    }
    features.customer_update = Some(customer);
    features.invoice_history = Some(InvoiceListParam::new(s.invoice_history));
    features.payment_method_update = Some(PaymentMethodUpdateParam::new(s.payment_method_update));
    let mut cancel = Cancel::new(s.subscription_cancel.is_some());
    if let Some(c) = &s.subscription_cancel {
        cancel.mode = Some(parse(&c.mode));
        if c.mode == "immediately" {
            cancel.proration_behavior =
                Some(parse(c.proration_behavior.as_deref().unwrap_or("none")));
        }
        if !c.reasons.is_empty() {
            cancel.cancellation_reason = Some(Reason::new(
                true,
                c.reasons.iter().map(|r| parse(r)).collect::<Vec<_>>(),
            ));
        } else if clear {
            // Stripe takes no empty list on create; an update turns the question off.
            cancel.cancellation_reason = Some(Reason::new(false, Vec::new()));
            extra.push((
                "features[subscription_cancel][cancellation_reason][options]".to_owned(),
                String::new(),
            ));
        }
    }
    features.subscription_cancel = Some(cancel);
    let mut update = Update::new(s.subscription_update.is_some());
    if let Some(u) = &s.subscription_update {
        update.default_allowed_updates =
            Some(u.default_allowed_updates.iter().map(|a| parse(a)).collect());
        update.proration_behavior = Some(parse(&u.proration_behavior));
        update.products = Some(
            u.products
                .iter()
                .map(|(product, prices)| {
                    SubscriptionUpdateProductParam::new(
                        prices.iter().map(resolve).collect::<Vec<_>>(),
                        resolve(product),
                    )
                })
                .collect(),
        );
    }
    features.subscription_update = Some(update);
    let mut r = Create::new(features).login_page(LoginPage::new(s.login_page));
    let text = |v: &Option<String>| {
        if clear {
            Some(v.clone().unwrap_or_default())
        } else {
            v.clone()
        }
    };
    let mut profile = Profile::new();
    profile.headline = text(&s.headline);
    profile.privacy_policy_url = text(&s.privacy_policy_url);
    profile.terms_of_service_url = text(&s.terms_of_service_url);
    if profile != Profile::new() {
        r = r.business_profile(profile);
    }
    if let Some(url) = text(&s.default_return_url) {
        r = r.default_return_url(url);
    }
    if let Some(name) = text(&s.name) {
        r = r.name(name);
    }
    let mut pairs = WireRequest::from_builder(r.build(), vec![]).body;
    pairs.extend(extra);
    pairs
}

/// `POST /v1/billing_portal/configurations`.
pub(crate) fn create_request(
    s: &PortalSettings,
    metadata: &std::collections::BTreeMap<String, String>,
    resolve: &impl Fn(&ObjRef) -> String,
) -> WireRequest {
    let mut w = WireRequest::from_builder(
        stripe_billing::billing_portal_configuration::CreateBillingPortalConfiguration::new(
            stripe_billing::billing_portal_configuration::CreateBillingPortalConfigurationFeatures::new(),
        )
        .metadata(metadata_set(metadata))
        .build(),
        portal_pairs(s, resolve, false),
    );
    w.body.sort();
    w.body.dedup();
    w
}

/// `POST /v1/billing_portal/configurations/{id}`.
pub(crate) fn update_request(
    id: String,
    u: &PortalUpdate,
    resolve: &impl Fn(&ObjRef) -> String,
) -> WireRequest {
    use stripe_billing::billing_portal_configuration::UpdateBillingPortalConfiguration;
    let mut r = UpdateBillingPortalConfiguration::new(id);
    if let Some(active) = u.active {
        r = r.active(active);
    }
    if !u.metadata.is_empty() {
        r = r.metadata(metadata_update(&u.metadata));
    }
    let extra = u
        .settings
        .as_ref()
        .map(|s| portal_pairs(s, resolve, true))
        .unwrap_or_default();
    WireRequest::from_builder(r.build(), extra)
}

/// The objects a configuration's settings refer to: the products and prices it offers.
fn settings_refs(settings: &PortalSettings) -> impl Iterator<Item = &ObjRef> {
    settings
        .subscription_update
        .iter()
        .flat_map(|u| u.products.iter())
        .flat_map(|(product, prices)| std::iter::once(product).chain(prices.iter()))
}

/// A portal configuration to create: its settings, and the metadata it is created with
/// (declared plus billing's ownership marker).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct PortalSpec {
    pub settings: PortalSettings,
    pub metadata: BTreeMap<String, String>,
}

/// A write to a portal configuration.
pub(crate) type PortalWrite = Writes<PortalSpec>;

impl Encode for PortalSpec {
    type Update = PortalUpdate;

    fn create(&self, resolve: Resolve<'_>) -> Vec<WireRequest> {
        vec![create_request(&self.settings, &self.metadata, &resolve)]
    }

    fn update(id: String, update: &PortalUpdate, resolve: Resolve<'_>) -> Vec<WireRequest> {
        vec![update_request(id, update, &resolve)]
    }

    fn names(&self) -> Vec<&ObjRef> {
        settings_refs(&self.settings).collect()
    }

    fn update_names(update: &PortalUpdate) -> Vec<&ObjRef> {
        update.settings.iter().flat_map(settings_refs).collect()
    }

    fn archives(update: &PortalUpdate) -> bool {
        update.active == Some(false)
    }
}
