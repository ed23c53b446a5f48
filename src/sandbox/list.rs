//! List endpoints (stripe-api.md §1.5): the list envelope, newest-first order, `limit`,
//! `starting_after` / `ending_before` cursors and the `created` filter.

use serde_json::{Map, Value, json};

use super::error::ApiError;
use super::params::{Field, ParamsExt, Ty};

/// An object that can be listed.
pub(crate) trait Listed {
    fn id(&self) -> &str;
    /// `(created, seq)`: newest first means descending order of this key.
    fn order_key(&self) -> (i64, u64);
}

/// Pagination parameters every list endpoint accepts.
pub(crate) const LIMIT: Field = Field::new("limit", Ty::Integer { min: 1, max: 100 });
pub(crate) const STARTING_AFTER: Field = Field::new("starting_after", Ty::String { max: 5000 });
pub(crate) const ENDING_BEFORE: Field = Field::new("ending_before", Ty::String { max: 5000 });
pub(crate) const CREATED: Field = Field::new("created", Ty::Range);

const DEFAULT_LIMIT: usize = 10;

/// One page of `items` (all objects of the type, any order) that pass `keep`, as selected by
/// the validated list `params`. `noun` names the type in `No such …` cursor errors.
pub(crate) fn page<'a, T: Listed>(
    items: impl Iterator<Item = &'a T>,
    keep: impl Fn(&T) -> bool,
    params: &Map<String, Value>,
    noun: &str,
) -> Result<(Vec<&'a T>, bool), ApiError> {
    let limit = params
        .int_of("limit")
        .and_then(|n| usize::try_from(n).ok())
        .unwrap_or(DEFAULT_LIMIT);
    let after = params.str_of("starting_after");
    let before = params.str_of("ending_before");
    if after.is_some() && before.is_some() {
        return Err(ApiError::exclusive("ending_before", "starting_after"));
    }
    let mut all: Vec<&T> = items.collect();
    all.sort_by_key(|o| std::cmp::Reverse(o.order_key()));
    let position = |id: &str, param: &str| {
        all.iter()
            .position(|o| o.id() == id)
            .ok_or_else(|| ApiError::no_such_in_param(noun, id, param))
    };
    if let Some(cursor) = before {
        let at = position(cursor, "ending_before")?;
        let newer: Vec<&T> = all[..at].iter().copied().filter(|o| keep(o)).collect();
        let has_more = newer.len() > limit;
        let start = newer.len().saturating_sub(limit);
        return Ok((newer[start..].to_vec(), has_more));
    }
    let start = match after {
        Some(cursor) => position(cursor, "starting_after")? + 1,
        None => 0,
    };
    let mut matching = all[start..].iter().copied().filter(|o| keep(o));
    let data: Vec<&T> = matching.by_ref().take(limit).collect();
    let has_more = matching.next().is_some();
    Ok((data, has_more))
}

/// Whether `created` passes a validated `created` filter (an integer or a range hash).
pub(crate) fn created_matches(created: i64, filter: Option<&Value>) -> bool {
    match filter {
        None => true,
        Some(Value::Object(bounds)) => bounds.iter().all(|(op, bound)| {
            let Some(b) = bound.as_i64() else {
                return false;
            };
            match op.as_str() {
                "gt" => created > b,
                "gte" => created >= b,
                "lt" => created < b,
                "lte" => created <= b,
                _ => false,
            }
        }),
        Some(exact) => exact.as_i64() == Some(created),
    }
}

/// The list envelope.
pub(crate) fn envelope(url: &str, data: Vec<Value>, has_more: bool) -> Value {
    json!({
        "object": "list",
        "data": data,
        "has_more": has_more,
        "url": url,
    })
}
