//! The request log: what each request asked and what it was answered, for tests and for
//! `log_requests` (one line per request on stderr). The `Authorization` header is never kept.

use std::sync::{Arc, Mutex, PoisonError};

use super::LoggedRequest;

#[derive(Debug, Default, Clone)]
pub(crate) struct RequestLog {
    entries: Arc<Mutex<Vec<LoggedRequest>>>,
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
            eprintln!(
                "billing sandbox: {} {}{query} -> {} {request_id}{key}{replayed}",
                entry.method, entry.path, entry.status
            );
        }
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(entry);
    }

    pub(crate) fn snapshot(&self) -> Vec<LoggedRequest> {
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub(crate) fn clear(&self) {
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }
}
