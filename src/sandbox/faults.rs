//! The deterministic failure hook: "fail the Nth request matching METHOD and PATH with STATUS".
//!
//! A failing request is answered before anything else happens (no auth, no state change, no
//! idempotency record), with a Stripe error envelope suited to the status.

use std::fmt;
use std::str::FromStr;
use std::sync::{Arc, Mutex, PoisonError};

use super::error::{ApiError, ErrorType};

/// One failure rule, e.g. `POST /v1/prices 2 500`: the 2nd `POST /v1/prices` gets a 500.
///
/// `path` may use `*` for exactly one path segment (`/v1/prices/*`); the query string is not
/// part of the match. Counting starts at 1 and counts only matching requests.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FailureRule {
    pub method: String,
    pub path: String,
    pub nth: u32,
    pub status: u16,
}

/// Why a failure rule did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid failure rule {input:?}: {reason} (expected \"METHOD PATH N STATUS\", e.g. \"POST /v1/prices 2 500\")"
)]
pub struct FailureRuleParseError {
    input: String,
    reason: String,
}

impl FromStr for FailureRule {
    type Err = FailureRuleParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let fail = |reason: &str| FailureRuleParseError {
            input: s.to_string(),
            reason: reason.to_string(),
        };
        let parts: Vec<&str> = s.split_whitespace().collect();
        let [method, path, nth, status] = parts[..] else {
            return Err(fail("expected four fields separated by spaces"));
        };
        if method.is_empty() || !method.bytes().all(|b| b.is_ascii_alphabetic()) {
            return Err(fail(
                "the method must be a word such as GET, POST or DELETE",
            ));
        }
        if !path.starts_with('/') || path.contains('?') {
            return Err(fail(
                "the path must start with `/` and carry no query string",
            ));
        }
        let nth: u32 = nth
            .parse()
            .ok()
            .filter(|n| *n >= 1)
            .ok_or_else(|| fail("N must be a whole number, 1 or more"))?;
        let status: u16 = status
            .parse()
            .ok()
            .filter(|s| (400..=599).contains(s))
            .ok_or_else(|| fail("STATUS must be an HTTP error status between 400 and 599"))?;
        Ok(FailureRule {
            method: method.to_ascii_uppercase(),
            path: path.to_string(),
            nth,
            status,
        })
    }
}

impl fmt::Display for FailureRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {} {}",
            self.method, self.path, self.nth, self.status
        )
    }
}

impl FailureRule {
    fn matches(&self, method: &str, path: &str) -> bool {
        if !self.method.eq_ignore_ascii_case(method) {
            return false;
        }
        let mut want = self.path.split('/');
        let mut got = path.split('/');
        loop {
            match (want.next(), got.next()) {
                (None, None) => return true,
                (Some("*"), Some(seg)) if !seg.is_empty() => {}
                (Some(w), Some(g)) if w == g => {}
                _ => return false,
            }
        }
    }

    /// The error answered by a failing request.
    fn error(&self, has_idempotency_key: bool) -> ApiError {
        let base = ApiError::invalid(format!(
            "Injected failure from the billing sandbox: rule `{self}`."
        ))
        .with_status(self.status);
        match self.status {
            429 => ApiError::invalid(
                "Too many requests hit the API too quickly. We recommend an exponential backoff \
                 of your requests. (Injected by the billing sandbox.)",
            )
            .with_status(429)
            .with_code("rate_limit")
            .with_header("Stripe-Rate-Limited-Reason", "global-rate"),
            409 if has_idempotency_key => ApiError {
                message: "The idempotency key provided is currently being used in another \
                          request. This occurs if your integration is making duplicate requests \
                          simultaneously. (Injected by the billing sandbox.)"
                    .into(),
                ..base.with_code("idempotency_key_in_use")
            },
            409 => ApiError {
                message: "This object cannot be accessed right now because another API request \
                          or Stripe process is currently accessing it. If you see this error \
                          intermittently, retry the request. (Injected by the billing sandbox.)"
                    .into(),
                ..base.with_code("lock_timeout")
            },
            500..=599 => base.with_type(ErrorType::Api),
            _ => base,
        }
    }
}

#[derive(Debug)]
struct Armed {
    rule: FailureRule,
    seen: u32,
}

/// The armed rules and their counters.
#[derive(Debug, Default, Clone)]
pub(crate) struct Faults {
    rules: Arc<Mutex<Vec<Armed>>>,
}

impl Faults {
    pub(crate) fn new(rules: Vec<FailureRule>) -> Faults {
        Faults {
            rules: Arc::new(Mutex::new(
                rules
                    .into_iter()
                    .map(|rule| Armed { rule, seen: 0 })
                    .collect(),
            )),
        }
    }

    pub(crate) fn add(&self, rule: FailureRule) {
        self.rules
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Armed { rule, seen: 0 });
    }

    /// Counts this request against every matching rule; the error of the first rule whose
    /// count reaches its N.
    pub(crate) fn check(
        &self,
        method: &str,
        path: &str,
        has_idempotency_key: bool,
    ) -> Option<ApiError> {
        let mut rules = self.rules.lock().unwrap_or_else(PoisonError::into_inner);
        let mut failure = None;
        for armed in rules.iter_mut().filter(|a| a.rule.matches(method, path)) {
            armed.seen = armed.seen.saturating_add(1);
            if armed.seen == armed.rule.nth && failure.is_none() {
                failure = Some(armed.rule.error(has_idempotency_key));
            }
        }
        failure
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_displays() {
        let rule: FailureRule = "post /v1/prices/* 2 500".parse().unwrap();
        assert_eq!(rule.to_string(), "POST /v1/prices/* 2 500");
        assert!(rule.matches("POST", "/v1/prices/price_1"));
        assert!(!rule.matches("POST", "/v1/prices"));
        assert!(!rule.matches("POST", "/v1/prices/a/b"));
        for bad in [
            "",
            "POST /v1/prices 0 500",
            "POST v1 1 500",
            "POST /v1 1 200",
            "POST /v1 1",
        ] {
            assert!(bad.parse::<FailureRule>().is_err(), "{bad}");
        }
    }

    #[test]
    fn fails_only_the_nth_match() {
        let faults = Faults::new(vec!["GET /v1/products 2 503".parse().unwrap()]);
        assert!(faults.check("GET", "/v1/products", false).is_none());
        assert!(faults.check("GET", "/v1/prices", false).is_none());
        let err = faults.check("GET", "/v1/products", false).unwrap();
        assert_eq!((err.status, err.kind), (503, ErrorType::Api));
        assert!(faults.check("GET", "/v1/products", false).is_none());
    }
}
