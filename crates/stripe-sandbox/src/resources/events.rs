//! `/v1/events`: one event per successful write (`product.created`, `price.updated`, …),
//! listed newest first, filterable by `type` (with a `.*` wildcard) or `types[]`.
//!
//! Stripe keeps events for 30 days; the sandbox keeps the newest [`MAX_EVENTS`]. Each event is
//! also delivered to the webhook endpoints that subscribe to it (`webhooks.rs`).

use serde_json::{Value, json};

use crate::error::ApiError;
use crate::handler::{Call, Ctx};
use crate::list::{self, CREATED, ENDING_BEFORE, LIMIT, STARTING_AFTER, listed_by_creation};
use crate::params::{EXPAND, Field, ParamsExt, Ty};
use crate::records::Event;

listed_by_creation!(Event);

pub(crate) static LIST: &[Field] = &[
    CREATED,
    Field::new("delivery_success", Ty::Boolean),
    ENDING_BEFORE,
    EXPAND,
    LIMIT,
    STARTING_AFTER,
    Field::new("type", Ty::String { max: 5000 }),
    Field::new(
        "types",
        Ty::Array {
            item: &Ty::String { max: 5000 },
            max: 20,
        },
    ),
];

pub(crate) static RETRIEVE: &[Field] = &[EXPAND];

fn render(event: &Event) -> Value {
    json!({
        "id": event.id,
        "object": "event",
        "api_version": event.api_version,
        "created": event.created,
        "data": { "object": event.object },
        "livemode": false,
        "pending_webhooks": 0,
        "request": { "id": event.request_id, "idempotency_key": event.idempotency_key },
        "type": event.kind,
    })
}

/// Whether an event type matches a `type` filter: exact, or `prefix.*`.
fn matches(kind: &str, filter: &str) -> bool {
    match filter.strip_suffix(".*") {
        Some(prefix) => kind
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.starts_with('.')),
        None => kind == filter,
    }
}

/// `GET /v1/events`.
pub(crate) fn list(ctx: &mut Ctx<'_, '_>, call: &Call) -> Result<Value, ApiError> {
    let p = &call.params;
    let single = p.str_of("type");
    let many: Option<Vec<&str>> = p
        .arr_of("types")
        .map(|values| values.iter().filter_map(Value::as_str).collect());
    if single.is_some() && many.is_some() {
        return Err(ApiError::exclusive("type", "types"));
    }
    let delivered = p.bool_of("delivery_success");
    let keep = |event: &Event| {
        single.is_none_or(|t| matches(&event.kind, t))
            && many.as_ref().is_none_or(|types| types.contains(&event.kind.as_str()))
            // Deliveries to webhook endpoints are not tracked per event: every event reads as
            // delivered, with zero pending webhooks.
            && delivered.is_none_or(|d| d)
    };
    let state = ctx.tx.state();
    let (items, has_more) = list::page(state.events.iter(), keep, p, "event")?;
    Ok(list::envelope(
        "/v1/events",
        items.into_iter().map(render).collect(),
        has_more,
    ))
}

/// `GET /v1/events/{id}`.
pub(crate) fn retrieve(ctx: &mut Ctx<'_, '_>, call: &Call) -> Result<Value, ApiError> {
    ctx.tx
        .state()
        .events
        .iter()
        .find(|e| e.id == call.id)
        .map(render)
        .ok_or_else(|| ApiError::no_such_in_path("event", &call.id))
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn type_filters_take_a_wildcard() {
        assert!(matches("price.updated", "price.updated"));
        assert!(matches("price.updated", "price.*"));
        assert!(!matches("product.updated", "price.*"));
        assert!(!matches("prices.updated", "price.*"));
    }
}
