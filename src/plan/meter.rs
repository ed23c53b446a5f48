//! Billing meters, identified by event name (meters carry no metadata): created when none has
//! the declared event name; only the display name changes in place; any other difference is
//! a plan error, since an event name stays bound to its meter for ever. `active = false`
//! deactivates a meter once every price billing archives on it is archived; `true`
//! reactivates it. A meter billing.toml no longer declares is left as it is.

use std::collections::BTreeMap;

use serde::Serialize;
use stripe_billing::billing_meter::{
    CreateBillingMeter, CreateBillingMeterCustomerMapping, CreateBillingMeterCustomerMappingType,
    CreateBillingMeterDefaultAggregation, CreateBillingMeterValueSettings, DeactivateBillingMeter,
    ReactivateBillingMeter, UpdateBillingMeter,
};
use stripe_client_core::StripeRequest;

use super::action::Action;
use super::builder::Builder;
use super::change::Change;
use super::error::Conflict;
use super::request::{Encode, ObjRef, Resolve, StepId, Writes, rank};
use super::value::{FieldChange, FieldValue};
use super::wire::{WireRequest, parse};
use crate::catalog::Meter;
use crate::digest::fingerprint;
use crate::live::LiveMeter;
use crate::resource::{Address, ResourceKind};

/// The meter each declared meter key stands for in this plan: an existing one, or the one a
/// step creates.
pub(crate) type MeterRefs = BTreeMap<String, ObjRef>;

fn address(key: &str) -> String {
    Address::new(ResourceKind::Meter, key).to_string()
}

fn title(m: &Meter) -> String {
    format!("billing meter {}", m.event_name)
}

/// A change to the existing meter `live`, declared as `m`.
fn change_of(m: &Meter, action: Action, live: &LiveMeter) -> Change {
    Change::new(
        ResourceKind::Meter,
        &address(&m.key),
        action,
        Some(live.id.clone()),
        title(m),
        fingerprint(&[live]),
    )
}

/// The fields Stripe cannot change that differ: `(field, live, declared)`.
fn immutable_diff(m: &Meter, live: &LiveMeter) -> Vec<(&'static str, String, String)> {
    let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "none".to_owned());
    [
        (
            "aggregation",
            live.aggregation.clone(),
            m.aggregation.clone(),
        ),
        (
            "customer_mapping_key",
            live.customer_mapping_key.clone(),
            m.customer_mapping_key.clone(),
        ),
        ("value_key", live.value_key.clone(), m.value_key.clone()),
        (
            "event_time_window",
            show(&live.event_time_window),
            show(&m.event_time_window),
        ),
    ]
    .into_iter()
    .filter(|(_, a, b)| a != b)
    .collect()
}

/// Plans every declared meter (before prices, which name them); returns what each key
/// stands for, and notes the meters that managed prices use but billing.toml no longer
/// declares.
pub(crate) fn plan(b: &mut Builder<'_>) -> MeterRefs {
    let mut refs = MeterRefs::new();
    let catalog = b.catalog;
    for m in catalog.meters.values() {
        let live = b.live.meters.iter().find(|l| l.event_name == m.event_name);
        match live {
            None if m.active => {
                let step = create(b, m);
                refs.insert(m.key.clone(), ObjRef::Created(step));
            }
            None => {}
            Some(live) => {
                refs.insert(m.key.clone(), ObjRef::Id(live.id.as_str().into()));
                let changed = immutable_diff(m, live);
                if changed.is_empty() {
                    update(b, m, live);
                } else {
                    refuse(b, m, live, &changed);
                }
            }
        }
    }
    for live in &b.live.meters {
        let declared = catalog
            .meters
            .values()
            .any(|m| m.event_name == live.event_name);
        let used = b
            .managed
            .all_of::<crate::live::LivePrice>()
            .any(|(_, p)| p.recurring.as_ref().and_then(|r| r.meter.as_deref()) == Some(&live.id));
        if !declared && used && live.active {
            b.notices.push(format!(
                "billing meter {} (event {}) is no longer declared: billing leaves it as it is (meters carry no marker, so billing cannot prove it made it); deactivate it in the Dashboard when nothing uses it",
                live.id, live.event_name
            ));
        }
    }
    refs
}

/// A new meter.
fn create(b: &mut Builder<'_>, m: &Meter) -> StepId {
    let mut change = Change::new(
        ResourceKind::Meter,
        &address(&m.key),
        Action::Create,
        None,
        title(m),
        fingerprint(&b.live.meters.iter().collect::<Vec<_>>()),
    );
    let mut add = |field: &str, value: &str| {
        change.fields.push(FieldChange::new(
            field,
            FieldValue::None,
            FieldValue::Text(value.to_owned()),
        ));
    };
    add("display_name", &m.display_name);
    add("event_name", &m.event_name);
    add("aggregation", &m.aggregation);
    add("customer_mapping_key", &m.customer_mapping_key);
    add("value_key", &m.value_key);
    if let Some(w) = &m.event_time_window {
        add("event_time_window", w);
    }
    change
        .notes
        .push("only the display name of a meter can change later".to_owned());
    let idx = b.add_change(change);
    b.add_step(
        idx,
        "create billing meter",
        MeterWrite::Create(m.clone()),
        vec![],
    )
}

/// The display name changed in place; a reactivation. (Deactivation waits for the prices:
/// [`plan_deactivations`].)
fn update(b: &mut Builder<'_>, m: &Meter, live: &LiveMeter) {
    if live.display_name != m.display_name {
        let mut change = change_of(m, Action::Update, live);
        change.fields.push(FieldChange::new(
            "display_name",
            FieldValue::Text(live.display_name.clone()),
            FieldValue::Text(m.display_name.clone()),
        ));
        let update = MeterUpdate::DisplayName(m.display_name.clone());
        add_update(b, change, "update billing meter", live, update, vec![]);
    }
    if m.active && !live.active {
        let mut change = change_of(m, Action::Unarchive, live);
        change.fields.push(FieldChange::active(false, true));
        change
            .notes
            .push("the meter accepts meter events again".to_owned());
        let update = MeterUpdate::Reactivate;
        add_update(b, change, "reactivate billing meter", live, update, vec![]);
    }
}

/// Adds `change` with the step that sends `update` to `live`, after `deps`.
fn add_update(
    b: &mut Builder<'_>,
    change: Change,
    description: &str,
    live: &LiveMeter,
    update: MeterUpdate,
    deps: Vec<StepId>,
) {
    let idx = b.add_change(change);
    let object = ObjRef::Id(live.id.as_str().into());
    b.add_step(
        idx,
        description,
        MeterWrite::Update { object, update },
        deps,
    );
}

/// A difference Stripe cannot make: a plan error that says what to do instead.
fn refuse(b: &mut Builder<'_>, m: &Meter, live: &LiveMeter, changed: &[(&str, String, String)]) {
    let what = changed
        .iter()
        .map(|(f, a, d)| format!("`{f}` from \"{a}\" to \"{d}\""))
        .collect::<Vec<_>>()
        .join(", ");
    b.conflicts.push(Conflict {
        address: address(&m.key),
        message: format!(
            "billing meter {} (event \"{}\") cannot change {what}: Stripe changes only a meter's display name, and its event name stays bound to it even when deactivated",
            live.id, m.event_name
        ),
        hint: format!(
            "declare a new meter with a new event_name and these settings, point the prices at it (`meter = \"<new key>\"`), and set `active = false` on [meters.{}]; or put the old values back",
            m.key
        ),
    });
}

/// Deactivates each declared `active = false` meter that is active, after the steps that
/// archive the prices billing manages on it; an active price nothing here archives is a plan
/// error.
pub(crate) fn plan_deactivations(b: &mut Builder<'_>) {
    let catalog = b.catalog;
    for m in catalog.meters.values().filter(|m| !m.active) {
        let Some(live) = b.live.meters.iter().find(|l| l.event_name == m.event_name) else {
            continue;
        };
        if !live.active {
            continue;
        }
        let on_meter: Vec<&str> = b
            .live
            .prices
            .iter()
            .filter(|p| p.active)
            .filter(|p| p.recurring.as_ref().and_then(|r| r.meter.as_deref()) == Some(&live.id))
            .map(|p| p.id.as_str())
            .collect();
        let mut deps = Vec::new();
        let mut in_use = Vec::new();
        for id in on_meter {
            let archived = b.steps.iter().find(|s| s.request.archives() == Some(id));
            match archived {
                Some(step) => deps.push(step.id),
                None => in_use.push(id),
            }
        }
        if !in_use.is_empty() {
            b.conflicts.push(Conflict {
                address: address(&m.key),
                message: format!(
                    "billing meter {} cannot be deactivated: active prices still use it ({})",
                    live.id,
                    in_use.join(", ")
                ),
                hint: "remove those prices from billing.toml (or archive the ones billing does not manage in the Dashboard) before setting `active = false`".to_owned(),
            });
            continue;
        }
        let mut change = change_of(m, Action::Deactivate, live);
        change.fields.push(FieldChange::active(true, false));
        change.reason = Some("billing.toml declares `active = false`".to_owned());
        change.notes.push(format!(
            "Stripe refuses meter events named \"{}\" once the meter is inactive",
            m.event_name
        ));
        let update = MeterUpdate::Deactivate;
        add_update(b, change, "deactivate billing meter", live, update, deps);
    }
}

/// What changes on an existing meter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum MeterUpdate {
    DisplayName(String),
    Deactivate,
    Reactivate,
}

/// A write to a billing meter.
pub(crate) type MeterWrite = Writes<Meter>;

/// A meter to create is its entry.
impl Encode for Meter {
    type Update = MeterUpdate;

    fn create(&self, _resolve: Resolve<'_>) -> Vec<WireRequest> {
        let mut r = CreateBillingMeter::new(
            CreateBillingMeterDefaultAggregation::new(parse::<
                stripe_billing::billing_meter::CreateBillingMeterDefaultAggregationFormula,
            >(&self.aggregation)),
            self.display_name.clone(),
            self.event_name.clone(),
        )
        .customer_mapping(CreateBillingMeterCustomerMapping::new(
            self.customer_mapping_key.clone(),
            CreateBillingMeterCustomerMappingType::ById,
        ))
        .value_settings(CreateBillingMeterValueSettings::new(self.value_key.clone()));
        if let Some(w) = &self.event_time_window {
            r = r.event_time_window(parse::<stripe_billing::BillingMeterEventTimeWindow>(w));
        }
        vec![WireRequest::from_builder(r.build(), vec![])]
    }

    fn update(id: String, update: &MeterUpdate, _resolve: Resolve<'_>) -> Vec<WireRequest> {
        let builder = match update {
            MeterUpdate::DisplayName(name) => UpdateBillingMeter::new(id)
                .display_name(name.clone())
                .build(),
            MeterUpdate::Deactivate => DeactivateBillingMeter::new(id).build(),
            MeterUpdate::Reactivate => ReactivateBillingMeter::new(id).build(),
        };
        vec![WireRequest::from_builder(builder, vec![])]
    }

    /// Created before the prices that name it.
    fn create_rank(&self) -> u8 {
        rank::CREATE_PARENT
    }

    fn archives(update: &MeterUpdate) -> bool {
        *update == MeterUpdate::Deactivate
    }
}
