//! List endpoints (docs/stripe-rules.md#lists): the list envelope, newest-first order, `limit`,
//! `starting_after` / `ending_before` cursors and the `created` filter.

use std::collections::BinaryHeap;

use serde_json::{Map, Value, json};

use super::error::ApiError;
use super::params::{Field, ParamsExt, Ty};

/// An object that can be listed.
pub(crate) trait Listed {
    fn id(&self) -> &str;
    /// `(created, seq)`: newest first means descending order of this key.
    fn order_key(&self) -> (i64, u64);
}

/// Implements [`Listed`] for a type with `id`, `created` and `seq` fields.
macro_rules! listed_by_creation {
    ($kind:ty) => {
        impl $crate::list::Listed for $kind {
            fn id(&self) -> &str {
                &self.id
            }
            fn order_key(&self) -> (i64, u64) {
                (self.created, self.seq)
            }
        }
    };
}
pub(crate) use listed_by_creation;

/// Pagination parameters every list endpoint accepts.
pub(crate) const LIMIT: Field = Field::new("limit", Ty::Integer { min: 1, max: 100 });
pub(crate) const STARTING_AFTER: Field = Field::new("starting_after", Ty::String { max: 5000 });
pub(crate) const ENDING_BEFORE: Field = Field::new("ending_before", Ty::String { max: 5000 });
pub(crate) const CREATED: Field = Field::new("created", Ty::Range);

const DEFAULT_LIMIT: usize = 10;

/// One page of `items` (all objects of the type, any order) that pass `keep` and the
/// `created` filter (if the endpoint takes one), as selected by the validated list `params`.
/// `noun` names the type in `No such …` cursor errors.
///
/// List order is newest first: descending [`Listed::order_key`], ties in the order of `items`.
/// A page is chosen in one or two passes over `items` keeping only the best `limit + 1`
/// candidates, without sorting every object: over 100,000 objects, sorting them all for each
/// page would cost more than answering it.
pub(crate) fn page<'a, T: Listed>(
    items: impl Iterator<Item = &'a T> + Clone,
    keep: impl Fn(&T) -> bool,
    params: &Map<String, Value>,
    noun: &str,
) -> Result<(Vec<&'a T>, bool), ApiError> {
    let created = params.get("created");
    let keep = |o: &T| keep(o) && created_matches(o.order_key().0, created);
    let limit = params
        .int_of("limit")
        .and_then(|n| usize::try_from(n).ok())
        .unwrap_or(DEFAULT_LIMIT);
    let after = params.str_of("starting_after");
    let before = params.str_of("ending_before");
    if after.is_some() && before.is_some() {
        return Err(ApiError::exclusive("ending_before", "starting_after"));
    }
    // An object's place in list order: smaller comes first.
    let rank = |index: usize, o: &T| (std::cmp::Reverse(o.order_key()), index);
    let cursor = |id: &str, param: &str| {
        items
            .clone()
            .enumerate()
            .find(|(_, o)| o.id() == id)
            .map(|(i, o)| rank(i, o))
            .ok_or_else(|| ApiError::no_such_in_param(noun, id, param))
    };
    if let Some(id) = before {
        // The `limit` objects just before the cursor, and whether there are more.
        let at = cursor(id, "ending_before")?;
        let mut newer = 0usize;
        let mut best = BinaryHeap::with_capacity(limit + 1);
        for (i, o) in items.enumerate() {
            let r = rank(i, o);
            if r >= at || !keep(o) {
                continue;
            }
            newer += 1;
            // Largest ranks wanted: a min-heap of them.
            best.push(std::cmp::Reverse((r, Slot(o))));
            if best.len() > limit {
                best.pop();
            }
        }
        // Ascending `Reverse` is descending rank: reversed, list order.
        let data = best.into_sorted_vec().into_iter().rev();
        let data = data.map(|std::cmp::Reverse((_, o))| o.0).collect();
        return Ok((data, newer > limit));
    }
    let from = match after {
        Some(id) => Some(cursor(id, "starting_after")?),
        None => None,
    };
    // The `limit + 1` first objects after the cursor: a max-heap of the smallest ranks.
    let mut best = BinaryHeap::with_capacity(limit + 2);
    for (i, o) in items.enumerate() {
        let r = rank(i, o);
        if from.is_some_and(|f| r <= f) {
            continue;
        }
        if best.len() > limit && best.peek().is_some_and(|(top, _)| r >= *top) {
            continue;
        }
        if !keep(o) {
            continue;
        }
        best.push((r, Slot(o)));
        if best.len() > limit + 1 {
            best.pop();
        }
    }
    let mut data = best.into_sorted_vec();
    let has_more = data.len() > limit;
    data.truncate(limit);
    Ok((data.into_iter().map(|(_, o)| o.0).collect(), has_more))
}

/// An object in a heap ordered by its rank alone (ranks are unique: they hold the index).
struct Slot<'a, T>(&'a T);

impl<T> PartialEq for Slot<'_, T> {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl<T> Eq for Slot<'_, T> {}

impl<T> PartialOrd for Slot<'_, T> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl<T> Ord for Slot<'_, T> {
    fn cmp(&self, _: &Self) -> std::cmp::Ordering {
        std::cmp::Ordering::Equal
    }
}

/// Whether `created` passes a validated `created` filter (an integer or a range hash).
fn created_matches(created: i64, filter: Option<&Value>) -> bool {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, Eq)]
    struct Obj {
        id: String,
        key: (i64, u64),
        even: bool,
    }

    impl Listed for Obj {
        fn id(&self) -> &str {
            &self.id
        }
        fn order_key(&self) -> (i64, u64) {
            self.key
        }
    }

    /// The reference: sort every object, then walk from the cursor.
    fn sorted_page<'a>(
        items: &'a [Obj],
        keep: impl Fn(&Obj) -> bool,
        limit: usize,
        after: Option<&str>,
        before: Option<&str>,
    ) -> (Vec<&'a str>, bool) {
        let mut all: Vec<&Obj> = items.iter().collect();
        all.sort_by_key(|o| std::cmp::Reverse(o.order_key()));
        let at = |id: &str| all.iter().position(|o| o.id == id).unwrap();
        if let Some(id) = before {
            let newer: Vec<&Obj> = all[..at(id)].iter().copied().filter(|o| keep(o)).collect();
            let start = newer.len().saturating_sub(limit);
            return (
                newer[start..].iter().map(|o| o.id.as_str()).collect(),
                newer.len() > limit,
            );
        }
        let start = after.map_or(0, |id| at(id) + 1);
        let matching: Vec<&Obj> = all[start..].iter().copied().filter(|o| keep(o)).collect();
        (
            matching.iter().take(limit).map(|o| o.id.as_str()).collect(),
            matching.len() > limit,
        )
    }

    fn params(limit: usize, cursor: Option<(&str, &str)>) -> Map<String, Value> {
        let mut p = Map::new();
        p.insert("limit".into(), json!(limit));
        if let Some((k, v)) = cursor {
            p.insert(k.into(), json!(v));
        }
        p
    }

    #[test]
    fn pages_match_sorting_everything() {
        let mut rng = fastrand::Rng::with_seed(7);
        for round in 0..200 {
            let n = rng.usize(0..300);
            // Few distinct seconds and sequence numbers: many ties, even full ones.
            let items: Vec<Obj> = (0..n)
                .map(|i| Obj {
                    id: format!("o{}", rng.u32(..)),
                    key: (rng.i64(0..5), rng.u64(0..(n as u64 / 2 + 1))),
                    even: i % 2 == 0,
                })
                .collect();
            let limit = rng.usize(1..=12);
            let keep = |o: &Obj| round % 3 == 0 || o.even;
            let cursor = (!items.is_empty() && rng.bool())
                .then(|| items[rng.usize(0..items.len())].id.clone());
            for param in ["starting_after", "ending_before"] {
                let p = params(limit, cursor.as_deref().map(|c| (param, c)));
                let (got, more) = page(items.iter(), keep, &p, "object").unwrap();
                let got: Vec<&str> = got.iter().map(|o| o.id.as_str()).collect();
                let (after, before) = if param == "starting_after" {
                    (cursor.as_deref(), None)
                } else {
                    (None, cursor.as_deref())
                };
                let want = sorted_page(&items, keep, limit, after, before);
                assert_eq!((got, more), want, "round {round}, {param}={cursor:?}");
            }
        }
    }

    #[test]
    fn unknown_cursors_and_both_cursors_are_refused() {
        let items = [Obj {
            id: "a".into(),
            key: (1, 1),
            even: true,
        }];
        let p = params(10, Some(("starting_after", "zzz")));
        assert!(page(items.iter(), |_| true, &p, "object").is_err());
        let mut p = params(10, Some(("starting_after", "a")));
        p.insert("ending_before".into(), json!("a"));
        assert!(page(items.iter(), |_| true, &p, "object").is_err());
    }
}
