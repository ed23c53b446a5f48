//! What every handler works with: its context ([`Ctx`]: the request's transaction, the clock,
//! the API version), its validated call ([`Call`]), and the pieces every kind of stored object
//! shares ([`Resource`]: how it shows; retrieve, the answer to a write, a page of a list). The
//! kinds' modules build their handlers from these; `resources/mod.rs` puts them in the route
//! table.

use serde_json::{Map, Value};

use super::error::ApiError;
use super::expand::Expand;
use super::list;
use super::state::{self, Record, State};
use super::tx::Tx;
use super::version::ApiVersion;

/// What a handler works with: the state (inside the request's transaction), the clock, the
/// API version and the mode.
pub(crate) struct Ctx<'a, 'b> {
    pub tx: &'a mut Tx<'b>,
    pub now: i64,
    pub version: &'a ApiVersion,
    /// The sandbox stands in for a live-mode account ([`crate::SandboxConfig::live`]).
    pub live: bool,
    /// Webhook endpoints on this machine are accepted ([`crate::SandboxConfig::local_webhooks`]).
    pub local_webhooks: bool,
}

impl Ctx<'_, '_> {
    /// Stores the new `record` (with the next creation sequence number) and answers with it.
    pub(crate) fn create<T: Resource>(
        &mut self,
        record: T,
        expand: &Expand,
    ) -> Result<Value, ApiError> {
        let id = self.tx.put_new(record);
        answer::<T>(self, &id, expand)
    }

    /// Stores the changed `record` and answers with it.
    pub(crate) fn save<T: Resource>(
        &mut self,
        record: T,
        expand: &Expand,
    ) -> Result<Value, ApiError> {
        let id = self.tx.put(record);
        answer::<T>(self, &id, expand)
    }
}

/// One validated call: the `{id}` path segment (if the route has one) and the `{parent}` one
/// (on a nested route), the parameters as validated against the route's table, and the
/// requested expansions.
pub(crate) struct Call {
    pub id: String,
    pub parent: String,
    pub params: Map<String, Value>,
    pub expand: Expand,
}

pub(crate) type Handler = fn(&mut Ctx<'_, '_>, &Call) -> Result<Value, ApiError>;

// ---------------------------------------------------------------------------------------------
// What the handlers of every kind of stored object share

/// A kind of object the API serves from the state: how it shows.
pub(crate) trait Resource: Record {
    /// The object's JSON at `now`, with `expand` applied.
    fn render(&self, state: &State, expand: &Expand, now: i64) -> Value;
}

/// `GET /v1/<objects>/{id}`.
pub(crate) fn retrieve<T: Resource>(ctx: &mut Ctx<'_, '_>, call: &Call) -> Result<Value, ApiError> {
    let state = ctx.tx.state();
    Ok(state::find::<T>(state, &call.id)?.render(state, &call.expand, ctx.now))
}

/// The answer to a write: the object just stored under `id`.
fn answer<T: Resource>(ctx: &Ctx<'_, '_>, id: &str, expand: &Expand) -> Result<Value, ApiError> {
    let state = ctx.tx.state();
    Ok(state::written::<T>(state, id)?.render(state, expand, ctx.now))
}

/// One page of the objects of kind `T` that pass `keep`, as the list at `url`.
pub(crate) fn page<T: Resource>(
    ctx: &Ctx<'_, '_>,
    call: &Call,
    url: &str,
    keep: impl Fn(&T) -> bool,
) -> Result<Value, ApiError> {
    let state = ctx.tx.state();
    let (items, has_more) = list::page(T::table(state).values(), keep, &call.params, T::NOUN)?;
    let data = items
        .into_iter()
        .map(|item| item.render(state, &call.expand, ctx.now))
        .collect();
    Ok(list::envelope(url, data, has_more))
}
