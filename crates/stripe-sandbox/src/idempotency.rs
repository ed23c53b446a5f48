//! Idempotency keys (docs/stripe-rules.md#idempotency): stored responses, replay, mismatch errors,
//! in-flight tracking and the 24-hour pruning.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};

use super::error::{ApiError, ErrorType};
use super::records::IdempotencyRecord;
use super::state::State;

/// Longest accepted key.
pub(crate) const MAX_KEY_LEN: usize = 255;

/// Records older than this are pruned (Stripe keeps keys for at least 24 hours).
const RETENTION_SECS: i64 = 24 * 60 * 60;

/// What to do with a request carrying a key.
pub(crate) enum Lookup {
    /// First use of the key: execute, then store.
    Fresh,
    /// Same endpoint and parameters: answer the stored response.
    Replay(IdempotencyRecord),
    /// Reused for something else.
    Mismatch(ApiError),
}

/// Checks a key's header value.
pub(crate) fn check_key(key: &str) -> Result<(), ApiError> {
    if key.is_empty() || key.chars().count() > MAX_KEY_LEN {
        return Err(ApiError::invalid(format!(
            "Invalid idempotency key: keys must be between 1 and {MAX_KEY_LEN} characters long \
             (this one has {}).",
            key.chars().count()
        ))
        .with_param("Idempotency-Key"));
    }
    Ok(())
}

pub(crate) fn lookup(state: &State, key: &str, method: &str, path: &str, params: &str) -> Lookup {
    let Some(record) = state.idempotency.get(key) else {
        return Lookup::Fresh;
    };
    if record.method != method || record.path != path {
        return Lookup::Mismatch(
            ApiError::invalid(format!(
                "Keys for idempotent requests can only be used for the same endpoint they were \
                 first used for ('{}' vs '{}'). Try using a key other than '{key}' if you meant \
                 to execute a different request.",
                record.path, path
            ))
            .with_type(ErrorType::Idempotency),
        );
    }
    if record.params != params {
        return Lookup::Mismatch(
            ApiError::invalid(format!(
                "Keys for idempotent requests can only be used with the same parameters they were \
                 first used with. Try using a key other than '{key}' if you meant to execute a \
                 different request."
            ))
            .with_type(ErrorType::Idempotency),
        );
    }
    Lookup::Replay(record.clone())
}

/// The keys of records at least 24 hours old, to be dropped.
pub(crate) fn prune(state: &State, now: i64) -> Vec<String> {
    state
        .idempotency
        .iter()
        .filter(|(_, r)| now - r.created >= RETENTION_SECS)
        .map(|(k, _)| k.clone())
        .collect()
}

/// `409 idempotency_key_in_use`.
pub(crate) fn in_use() -> ApiError {
    ApiError::invalid(
        "The idempotency key provided is currently being used in another request. This occurs \
         if your integration is making duplicate requests simultaneously.",
    )
    .with_code("idempotency_key_in_use")
    .with_status(409)
}

/// Keys of requests currently being processed by this process.
#[derive(Debug, Default, Clone)]
pub(crate) struct InFlight {
    keys: Arc<Mutex<HashSet<String>>>,
}

/// Releases a key when the request is done.
#[derive(Debug)]
pub(crate) struct InFlightGuard {
    keys: Arc<Mutex<HashSet<String>>>,
    key: String,
}

impl InFlight {
    /// Marks `key` as in flight, or `None` if it already is.
    pub(crate) fn acquire(&self, key: &str) -> Option<InFlightGuard> {
        let mut keys = self.keys.lock().unwrap_or_else(PoisonError::into_inner);
        keys.insert(key.to_string()).then(|| InFlightGuard {
            keys: Arc::clone(&self.keys),
            key: key.to_string(),
        })
    }
}

impl Drop for InFlightGuard {
    fn drop(&mut self) {
        self.keys
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&self.key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(created: i64) -> IdempotencyRecord {
        IdempotencyRecord {
            method: "POST".into(),
            path: "/v1/products".into(),
            params: "{}".into(),
            status: 200,
            body: "{}".into(),
            request_id: "req_1".into(),
            created,
        }
    }

    #[test]
    fn records_are_pruned_after_a_day() {
        let mut state = State::fresh();
        let now = 1_000_000;
        state
            .idempotency
            .insert("old".into(), record(now - RETENTION_SECS));
        state
            .idempotency
            .insert("fresh".into(), record(now - RETENTION_SECS + 1));
        assert_eq!(prune(&state, now), vec!["old".to_string()]);
    }

    #[test]
    fn lookup_distinguishes_replay_and_mismatch() {
        let mut state = State::fresh();
        state.idempotency.insert("k".into(), record(0));
        assert!(matches!(
            lookup(&state, "k", "POST", "/v1/products", "{}"),
            Lookup::Replay(_)
        ));
        assert!(matches!(
            lookup(&state, "k", "POST", "/v1/prices", "{}"),
            Lookup::Mismatch(_)
        ));
        assert!(matches!(
            lookup(&state, "k", "POST", "/v1/products", "[]"),
            Lookup::Mismatch(_)
        ));
        assert!(matches!(
            lookup(&state, "x", "POST", "/v1/products", "{}"),
            Lookup::Fresh
        ));
        let two_fifty_six = "k".repeat(MAX_KEY_LEN + 1);
        assert!(check_key(&two_fifty_six).is_err());
        assert!(check_key("").is_err());
    }

    #[test]
    fn in_flight_keys_are_exclusive_until_released() {
        let inflight = InFlight::default();
        let guard = inflight.acquire("k").unwrap();
        assert!(inflight.acquire("k").is_none());
        drop(guard);
        assert!(inflight.acquire("k").is_some());
    }
}
