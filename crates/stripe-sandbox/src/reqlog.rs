//! The request log: what each request asked and what it was answered, for tests and for
//! `log_requests` (one line per request on stderr). The `Authorization` header is never kept.
//! Only the last [`CAPACITY`] requests are kept, so a long-running sandbox does not grow
//! without bound.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};

use super::LoggedRequest;

/// How many requests the log keeps (the oldest are dropped first).
pub(crate) const CAPACITY: usize = 10_000;

#[derive(Debug, Default, Clone)]
pub(crate) struct RequestLog {
    entries: Arc<Mutex<VecDeque<LoggedRequest>>>,
    to_stderr: bool,
}

impl RequestLog {
    pub(crate) fn new(to_stderr: bool) -> RequestLog {
        RequestLog {
            entries: Arc::default(),
            to_stderr,
        }
    }

    pub(crate) fn record(&self, entry: LoggedRequest, request_id: &str) {
        if self.to_stderr {
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
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        while entries.len() >= CAPACITY {
            entries.pop_front();
        }
        entries.push_back(entry);
    }

    pub(crate) fn snapshot(&self) -> Vec<LoggedRequest> {
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .cloned()
            .collect()
    }

    pub(crate) fn clear(&self) {
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(i: usize) -> LoggedRequest {
        LoggedRequest {
            method: "GET".into(),
            path: "/v1/products".into(),
            query: format!("i={i}"),
            body: String::new(),
            stripe_version: None,
            idempotency_key: None,
            status: 200,
            replayed: false,
            fault: None,
        }
    }

    #[test]
    fn keeps_the_last_entries_only() {
        let log = RequestLog::new(false);
        for i in 0..CAPACITY + 5 {
            log.record(entry(i), "req_1");
        }
        let kept = log.snapshot();
        assert_eq!(kept.len(), CAPACITY);
        assert_eq!(kept[0].query, "i=5");
        assert_eq!(kept[CAPACITY - 1].query, format!("i={}", CAPACITY + 4));
    }
}
