//! Billing meters (`/v1/billing/meters`): parameter tables, the stored record, its JSON shape
//! and the create / retrieve / update / list / deactivate / reactivate handlers
//! (docs/stripe-rules.md#billing-meters).
//!
//! Only `display_name` changes after creation (every other field is an unknown parameter on
//! update); there is no delete, only deactivation; an event name belongs to one meter for ever,
//! deactivated or not (stricter reading). Whether a price may name a meter is [`usable`].

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::error::ApiError;
use crate::expand::Expand;
use crate::handler::{self, Call, Ctx, Resource};
use crate::ids;
use crate::list::{ENDING_BEFORE, LIMIT, STARTING_AFTER};
use crate::params::{EXPAND, Field, ParamsExt, Ty};
use crate::state::{State, find, unused_id};

// ---------------------------------------------------------------------------------------------
// The stored record, its id

/// A stored billing meter.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Meter {
    pub id: String,
    pub seq: u64,
    pub created: i64,
    pub updated: i64,
    pub display_name: String,
    pub event_name: String,
    /// `count`, `sum` or `last`.
    pub formula: String,
    /// `customer_mapping[event_payload_key]`.
    pub customer_key: String,
    /// `value_settings[event_payload_key]`.
    pub value_key: String,
    /// `day`, `hour`, or none.
    pub event_time_window: Option<String>,
    pub active: bool,
    pub deactivated_at: Option<i64>,
}

/// A meter id: `mtr_` + 24 alphanumerics (the shape of real ones; Stripe's are longer test
/// ids, `mtr_test_…`, which the sandbox does not imitate).
pub(crate) fn new_id() -> String {
    ids::random("mtr_", 24)
}

/// Whether a new price may name the meter `id` (sent as `param`): it exists and is active.
pub(crate) fn usable(state: &State, id: &str, param: &str) -> Result<(), ApiError> {
    let meter = state
        .meters
        .get(id)
        .ok_or_else(|| ApiError::no_such_in_param("billing meter", id, param))?;
    if meter.active {
        return Ok(());
    }
    Err(ApiError::invalid(format!(
        "The meter `{id}` is inactive: a deactivated meter cannot be attached to a price. \
         Reactivate it first."
    ))
    .with_param(param))
}

// ---------------------------------------------------------------------------------------------
// Parameter tables

/// Stripe: at most 250 characters.
const DISPLAY_NAME: Ty = Ty::String { max: 250 };
/// At most 100 characters.
const EVENT_NAME: Ty = Ty::String { max: 100 };
const PAYLOAD_KEY: Ty = Ty::String { max: 100 };
const FORMULA: Ty = Ty::Enum(&["count", "last", "sum"]);

/// `POST /v1/billing/meters`.
pub(crate) static CREATE: &[Field] = &[
    Field::new(
        "customer_mapping",
        Ty::Object(&[
            Field::new("event_payload_key", PAYLOAD_KEY).required(),
            Field::new("type", Ty::Enum(&["by_id"])).required(),
        ]),
    ),
    Field::new(
        "default_aggregation",
        Ty::Object(&[Field::new("formula", FORMULA).required()]),
    )
    .required(),
    Field::new("display_name", DISPLAY_NAME).required(),
    Field::new("event_name", EVENT_NAME).required(),
    Field::new("event_time_window", Ty::Enum(&["day", "hour"])),
    EXPAND,
    Field::new(
        "value_settings",
        Ty::Object(&[Field::new("event_payload_key", PAYLOAD_KEY).required()]),
    ),
];

/// `POST /v1/billing/meters/{id}`: the display name only.
pub(crate) static UPDATE: &[Field] = &[Field::new("display_name", DISPLAY_NAME), EXPAND];

/// Retrieve, deactivate and reactivate take nothing but `expand`.
pub(crate) static RETRIEVE: &[Field] = &[EXPAND];

/// `GET /v1/billing/meters`: cursors and `status` (no `created` filter).
pub(crate) static LIST: &[Field] = &[
    ENDING_BEFORE,
    EXPAND,
    LIMIT,
    STARTING_AFTER,
    Field::new("status", Ty::Enum(&["active", "inactive"])),
];

// ---------------------------------------------------------------------------------------------
// Rendering

impl Resource for Meter {
    fn render(&self, _state: &State, _expand: &Expand, _now: i64) -> Value {
        let mut o = Map::new();
        o.insert("id".into(), json!(self.id));
        o.insert("object".into(), json!("billing.meter"));
        o.insert("created".into(), json!(self.created));
        o.insert(
            "customer_mapping".into(),
            json!({ "event_payload_key": self.customer_key, "type": "by_id" }),
        );
        o.insert(
            "default_aggregation".into(),
            json!({ "formula": self.formula }),
        );
        o.insert("display_name".into(), json!(self.display_name));
        o.insert("event_name".into(), json!(self.event_name));
        o.insert("event_time_window".into(), json!(self.event_time_window));
        o.insert("livemode".into(), json!(false));
        let status = if self.active { "active" } else { "inactive" };
        o.insert("status".into(), json!(status));
        o.insert(
            "status_transitions".into(),
            json!({ "deactivated_at": self.deactivated_at }),
        );
        o.insert("updated".into(), json!(self.updated));
        o.insert(
            "value_settings".into(),
            json!({ "event_payload_key": self.value_key }),
        );
        Value::Object(o)
    }
}

// ---------------------------------------------------------------------------------------------
// Handlers

/// `POST /v1/billing/meters`: the event name must be new to the account.
pub(crate) fn create(ctx: &mut Ctx<'_, '_>, call: &Call) -> Result<Value, ApiError> {
    let p = &call.params;
    let event_name = p.str_of("event_name").unwrap_or_default();
    let state = ctx.tx.state();
    if let Some(holder) = state.meters.values().find(|m| m.event_name == event_name) {
        return Err(ApiError::invalid(format!(
            "A meter with the event name `{event_name}` already exists ({}). An event name can \
             be used by only one meter, even after it is deactivated.",
            holder.id
        ))
        .with_param("event_name"));
    }
    let key_of = |field: &str, default: &str| {
        p.obj_of(field)
            .and_then(|o| o.str_of("event_payload_key"))
            .unwrap_or(default)
            .to_string()
    };
    let meter = Meter {
        id: unused_id::<Meter>(state, new_id),
        seq: 0,
        created: ctx.now,
        updated: ctx.now,
        display_name: p.str_of("display_name").unwrap_or_default().to_string(),
        event_name: event_name.to_string(),
        formula: p
            .obj_of("default_aggregation")
            .and_then(|o| o.str_of("formula"))
            .unwrap_or("count")
            .to_string(),
        customer_key: key_of("customer_mapping", "stripe_customer_id"),
        value_key: key_of("value_settings", "value"),
        event_time_window: p.str_of("event_time_window").map(str::to_string),
        active: true,
        deactivated_at: None,
    };
    ctx.create(meter, &call.expand)
}

/// `POST /v1/billing/meters/{id}`.
pub(crate) fn update(ctx: &mut Ctx<'_, '_>, call: &Call) -> Result<Value, ApiError> {
    let mut meter = find::<Meter>(ctx.tx.state(), &call.id)?.clone();
    if let Some(name) = call.params.str_of("display_name") {
        meter.display_name = name.to_string();
    }
    meter.updated = ctx.now;
    ctx.save(meter, &call.expand)
}

/// `POST /v1/billing/meters/{id}/deactivate` and `/reactivate`: `active` is the status
/// wanted; asking for the status the meter already has is refused (stricter reading).
fn set_status(ctx: &mut Ctx<'_, '_>, call: &Call, active: bool) -> Result<Value, ApiError> {
    let mut meter = find::<Meter>(ctx.tx.state(), &call.id)?.clone();
    if meter.active == active {
        let status = if active { "active" } else { "inactive" };
        return Err(ApiError::invalid(format!(
            "The meter `{}` is already {status}.",
            meter.id
        )));
    }
    meter.active = active;
    meter.deactivated_at = (!active).then_some(ctx.now);
    meter.updated = ctx.now;
    ctx.save(meter, &call.expand)
}

pub(crate) fn deactivate(ctx: &mut Ctx<'_, '_>, call: &Call) -> Result<Value, ApiError> {
    set_status(ctx, call, false)
}

pub(crate) fn reactivate(ctx: &mut Ctx<'_, '_>, call: &Call) -> Result<Value, ApiError> {
    set_status(ctx, call, true)
}

/// `GET /v1/billing/meters`.
pub(crate) fn list(ctx: &mut Ctx<'_, '_>, call: &Call) -> Result<Value, ApiError> {
    let status = call.params.str_of("status").map(|s| s == "active");
    handler::page(ctx, call, "/v1/billing/meters", |m: &Meter| {
        status.is_none_or(|active| m.active == active)
    })
}
