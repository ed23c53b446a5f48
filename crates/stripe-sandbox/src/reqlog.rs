//! The request log: what each request asked and what it was answered, for tests
//! ([`Sandbox::requests`](super::Sandbox::requests)) and for `log_requests` (one line per request
//! on stderr). The `Authorization` header is never kept.
//!
//! Its memory is bounded: it keeps the newest requests whose [`cost`] adds up to at most its
//! byte limit, dropping the oldest first, and bodies only when asked to. A request that fails
//! authentication is neither kept nor printed (see `server.rs`), so an anonymous client cannot
//! fill it.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};

use super::LoggedRequest;

/// The log's default byte limit ([`SandboxConfig::request_log_bytes`](super::SandboxConfig)).
pub const DEFAULT_REQUEST_LOG_BYTES: usize = 8 << 20;

/// What an entry is counted as against the limit: its text, plus a fixed share for the
/// entry's own bookkeeping.
fn cost(entry: &LoggedRequest) -> usize {
    const OVERHEAD: usize = 256;
    OVERHEAD
        + entry.method.len()
        + entry.path.len()
        + entry.query.len()
        + entry.body.len()
        + entry.stripe_version.as_ref().map_or(0, String::len)
        + entry.idempotency_key.as_ref().map_or(0, String::len)
}

#[derive(Debug, Default)]
struct Entries {
    kept: VecDeque<LoggedRequest>,
    /// The sum of the kept entries' [`cost`].
    bytes: usize,
}

#[derive(Debug, Clone)]
pub(crate) struct RequestLog {
    entries: Arc<Mutex<Entries>>,
    to_stderr: bool,
    max_bytes: usize,
    bodies: bool,
}

impl RequestLog {
    /// A log of at most `max_bytes` (0 keeps nothing), with request bodies if `bodies`,
    /// printing each request on stderr if `to_stderr`.
    pub(crate) fn new(to_stderr: bool, max_bytes: usize, bodies: bool) -> RequestLog {
        RequestLog {
            entries: Arc::default(),
            to_stderr,
            max_bytes,
            bodies,
        }
    }

    /// Whether the log keeps request bodies.
    pub(crate) fn keeps_bodies(&self) -> bool {
        self.bodies
    }

    /// Prints `entry` (with `to_stderr`) and keeps it if `authenticated`: a request that failed
    /// authentication is never kept.
    pub(crate) fn record(&self, mut entry: LoggedRequest, request_id: &str, authenticated: bool) {
        if self.to_stderr {
            print(&entry, request_id);
        }
        if !authenticated {
            return;
        }
        if !self.bodies {
            entry.body = String::new();
        }
        let mut cost = cost(&entry);
        if cost > self.max_bytes && !entry.body.is_empty() {
            // Too large to keep whole: kept without its body.
            cost -= entry.body.len();
            entry.body = String::new();
        }
        if cost > self.max_bytes {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        while entries.bytes + cost > self.max_bytes {
            let Some(oldest) = entries.kept.pop_front() else {
                break;
            };
            entries.bytes -= self::cost(&oldest);
        }
        entries.bytes += cost;
        entries.kept.push_back(entry);
    }

    pub(crate) fn snapshot(&self) -> Vec<LoggedRequest> {
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .kept
            .iter()
            .cloned()
            .collect()
    }

    pub(crate) fn clear(&self) {
        *self.entries.lock().unwrap_or_else(PoisonError::into_inner) = Entries::default();
    }
}

/// The request's line on stderr.
fn print(entry: &LoggedRequest, request_id: &str) {
    let query = if entry.query.is_empty() {
        String::new()
    } else {
        format!("?{}", entry.query)
    };
    let key = entry
        .idempotency_key
        .as_ref()
        .map(|k| format!(" idempotency-key={k}"))
        .unwrap_or_default();
    let replayed = if entry.replayed { " (replayed)" } else { "" };
    let fault = entry
        .fault
        .map(|f| format!(" fault={f}"))
        .unwrap_or_default();
    let status = if entry.status == 0 {
        "no response".to_string()
    } else {
        entry.status.to_string()
    };
    eprintln!(
        "billing sandbox: {} {}{query} -> {status} {request_id}{key}{replayed}{fault}",
        entry.method, entry.path
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(i: usize, body: &str) -> LoggedRequest {
        LoggedRequest {
            method: "GET".into(),
            path: "/v1/products".into(),
            query: format!("i={i}"),
            body: body.into(),
            stripe_version: None,
            idempotency_key: None,
            status: 200,
            replayed: false,
            fault: None,
        }
    }

    fn kept_bytes(log: &RequestLog) -> usize {
        log.snapshot().iter().map(cost).sum()
    }

    #[test]
    fn keeps_the_newest_entries_within_its_byte_limit() {
        let log = RequestLog::new(false, 64 * 1024, true);
        for i in 0..10_000 {
            log.record(entry(i, "name=Pro"), "req_1", true);
        }
        let kept = log.snapshot();
        assert!(kept_bytes(&log) <= 64 * 1024);
        assert!(kept.len() > 100, "{}", kept.len());
        assert_eq!(kept.last().unwrap().query, "i=9999");
        let first: usize = kept[0].query[2..].parse().unwrap();
        assert_eq!(first, 10_000 - kept.len(), "the oldest are dropped first");
        assert_eq!(kept[0].body, "name=Pro");
    }

    #[test]
    fn bodies_are_kept_only_when_asked_and_never_beyond_the_limit() {
        let log = RequestLog::new(false, 64 * 1024, false);
        log.record(entry(0, "name=Pro"), "req_1", true);
        assert_eq!(log.snapshot()[0].body, "");
        let log = RequestLog::new(false, 4 * 1024, true);
        log.record(entry(1, &"x".repeat(100_000)), "req_1", true);
        let kept = log.snapshot();
        assert_eq!((kept.len(), kept[0].body.as_str()), (1, ""));
        let none = RequestLog::new(false, 0, true);
        none.record(entry(2, ""), "req_1", true);
        assert!(none.snapshot().is_empty());
    }
}
