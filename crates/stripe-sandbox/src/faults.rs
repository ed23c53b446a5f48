//! The deterministic failure hook: "fail the Nth request matching METHOD and PATH with STATUS",
//! optionally with a particular Stripe error code.
//!
//! A failing request is answered before anything else happens (no auth, no state change, no
//! idempotency record), with a Stripe error envelope suited to the status.

use std::fmt;
use std::str::FromStr;
use std::sync::{Arc, Mutex, PoisonError};

use super::error::{ApiError, ErrorType};

/// One failure rule, e.g. `POST /v1/prices 2 500`: the 2nd `POST /v1/prices` gets a 500.
///
/// Grammar (what [`FromStr`] reads and [`Display`](fmt::Display) writes back):
///
/// ```text
/// METHOD PATH N STATUS [CODE]
/// ```
///
/// * `METHOD`: an HTTP method (letters only, any case; kept upper case), e.g. `POST`.
/// * `PATH`: starts with `/`, no query string, no spaces; `*` matches exactly one path segment
///   (`/v1/prices/*`). The query string of a request is not part of the match.
/// * `N`: 1 or more: the Nth matching request fails (counting only matching requests, from when
///   the rule is armed); the others pass.
/// * `STATUS`: an HTTP error status, 400 to 599.
/// * `CODE` (optional): the Stripe error code of the answer, where the status allows a choice:
///   with `429`, `rate_limit` (the default: a rate limit, with a `Stripe-Rate-Limited-Reason`
///   header) or `lock_timeout` (Stripe's error for an object locked by another request: type
///   `invalid_request_error`, no rate-limit header); with `409`, only `idempotency_key_in_use`
///   (the default). Other statuses take no code. A default code is implied, and not written
///   back by `Display`.
///
/// Examples: `POST /v1/prices 2 500`, `GET /v1/products/* 1 503`,
/// `POST /v1/prices 2 429 lock_timeout`.
///
/// Rules are built only by parsing or by [`FailureRule::new`] (plus [`FailureRule::with_code`]),
/// which check all of the above.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FailureRule {
    method: String,
    path: String,
    nth: u32,
    status: u16,
    kind: Kind,
}

/// What a failing request is answered with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    /// A generic error for the status (`api_error` for 5xx).
    Plain,
    /// 429 `rate_limit`.
    RateLimit,
    /// 429 `lock_timeout`.
    LockTimeout,
    /// 409 `idempotency_key_in_use`.
    KeyInUse,
}

impl Kind {
    /// The kind a status implies when no code is given.
    fn default_for(status: u16) -> Kind {
        match status {
            429 => Kind::RateLimit,
            409 => Kind::KeyInUse,
            _ => Kind::Plain,
        }
    }

    /// The kind named by `code`, if the status allows it.
    fn from_code(status: u16, code: &str) -> Option<Kind> {
        match (status, code) {
            (429, "rate_limit") => Some(Kind::RateLimit),
            (429, "lock_timeout") => Some(Kind::LockTimeout),
            (409, "idempotency_key_in_use") => Some(Kind::KeyInUse),
            _ => None,
        }
    }

    fn code(self) -> Option<&'static str> {
        match self {
            Kind::Plain => None,
            Kind::RateLimit => Some("rate_limit"),
            Kind::LockTimeout => Some("lock_timeout"),
            Kind::KeyInUse => Some("idempotency_key_in_use"),
        }
    }
}

/// Why a failure rule did not parse, or could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid failure rule {input:?}: {reason} (expected \"METHOD PATH N STATUS [CODE]\", e.g. \"POST /v1/prices 2 500\" or \"POST /v1/prices 2 429 lock_timeout\")"
)]
pub struct FailureRuleParseError {
    input: String,
    reason: String,
}

impl FailureRule {
    /// A rule failing the `nth` request matching `method` and `path` with `status` (and the
    /// status's default error code). Checked as [`FromStr`] checks a rule.
    pub fn new(
        method: &str,
        path: &str,
        nth: u32,
        status: u16,
    ) -> Result<FailureRule, FailureRuleParseError> {
        let fail = |reason: &str| FailureRuleParseError {
            input: format!("{method} {path} {nth} {status}"),
            reason: reason.to_string(),
        };
        if method.is_empty() || !method.bytes().all(|b| b.is_ascii_alphabetic()) {
            return Err(fail(
                "the method must be a word such as GET, POST or DELETE",
            ));
        }
        if !path.starts_with('/') || path.contains('?') || path.contains(char::is_whitespace) {
            return Err(fail(
                "the path must start with `/` and carry no query string and no spaces",
            ));
        }
        if nth < 1 {
            return Err(fail("N must be a whole number, 1 or more"));
        }
        if !(400..=599).contains(&status) {
            return Err(fail(
                "STATUS must be an HTTP error status between 400 and 599",
            ));
        }
        Ok(FailureRule {
            method: method.to_ascii_uppercase(),
            path: path.to_string(),
            nth,
            status,
            kind: Kind::default_for(status),
        })
    }

    /// The same rule answering with the Stripe error `code`: `rate_limit` or `lock_timeout`
    /// with status 429, `idempotency_key_in_use` with 409.
    pub fn with_code(self, code: &str) -> Result<FailureRule, FailureRuleParseError> {
        match Kind::from_code(self.status, code) {
            Some(kind) => Ok(FailureRule { kind, ..self }),
            None => Err(FailureRuleParseError {
                input: format!("{self} {code}"),
                reason: format!(
                    "CODE `{code}` does not go with status {}: use rate_limit or lock_timeout \
                     with 429, idempotency_key_in_use with 409, and no code otherwise",
                    self.status
                ),
            }),
        }
    }

    /// The method matched (upper case).
    pub fn method(&self) -> &str {
        &self.method
    }

    /// The path matched (`*` matches one segment).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Which matching request fails (1 = the first).
    pub fn nth(&self) -> u32 {
        self.nth
    }

    /// The HTTP status of the failure.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The Stripe error code of the failure (`None`: the status's generic error, no code).
    pub fn code(&self) -> Option<&'static str> {
        self.kind.code()
    }
}

impl FromStr for FailureRule {
    type Err = FailureRuleParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let fail = |reason: &str| FailureRuleParseError {
            input: s.to_string(),
            reason: reason.to_string(),
        };
        let parts: Vec<&str> = s.split_whitespace().collect();
        let (method, path, nth, status, code) = match parts[..] {
            [method, path, nth, status] => (method, path, nth, status, None),
            [method, path, nth, status, code] => (method, path, nth, status, Some(code)),
            _ => return Err(fail("expected four or five fields separated by spaces")),
        };
        let nth: u32 = nth
            .parse()
            .map_err(|_| fail("N must be a whole number, 1 or more"))?;
        let status: u16 = status
            .parse()
            .map_err(|_| fail("STATUS must be an HTTP error status between 400 and 599"))?;
        let rule =
            FailureRule::new(method, path, nth, status).map_err(|e| FailureRuleParseError {
                input: s.to_string(),
                ..e
            })?;
        match code {
            None => Ok(rule),
            Some(code) => rule.with_code(code).map_err(|e| FailureRuleParseError {
                input: s.to_string(),
                ..e
            }),
        }
    }
}

impl fmt::Display for FailureRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {} {}",
            self.method, self.path, self.nth, self.status
        )?;
        match self.kind.code() {
            Some(code) if self.kind != Kind::default_for(self.status) => write!(f, " {code}"),
            _ => Ok(()),
        }
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
    fn error(&self) -> ApiError {
        const INJECTED: &str = "(Injected by the billing sandbox.)";
        match self.kind {
            Kind::RateLimit => rate_limited("global-rate", INJECTED),
            // Stripe's lock timeout is a 429 `invalid_request_error` without a rate-limit
            // reason (docs/stripe-rules.md#errors).
            Kind::LockTimeout => {
                let err = ApiError::lock_timeout();
                ApiError {
                    message: format!("{} {INJECTED}", err.message),
                    ..err
                }
            }
            // The only 409 Stripe answers is a key in flight (with or without a key here: the
            // injected failure stands for a duplicate request).
            Kind::KeyInUse => {
                let err = super::idempotency::in_use();
                ApiError {
                    message: format!("{} {INJECTED}", err.message),
                    ..err
                }
            }
            Kind::Plain => {
                let err = ApiError::invalid(format!(
                    "Injected failure from the billing sandbox: rule `{self}`."
                ))
                .with_status(self.status);
                if self.status >= 500 {
                    err.with_type(ErrorType::Api)
                } else {
                    err
                }
            }
        }
    }
}

/// Stripe's 429 `rate_limit`, with `Stripe-Rate-Limited-Reason: reason` (`global-rate` or
/// `endpoint-rate`, docs/stripe-rules.md#rate-limits-and-retries) and `note` after the message.
pub(crate) fn rate_limited(reason: &'static str, note: &str) -> ApiError {
    ApiError::invalid(format!(
        "Too many requests hit the API too quickly. We recommend an exponential backoff of your \
         requests. {note}"
    ))
    .with_status(429)
    .with_code("rate_limit")
    .with_header("Stripe-Rate-Limited-Reason", reason)
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
    pub(crate) fn check(&self, method: &str, path: &str) -> Option<ApiError> {
        let mut rules = self.rules.lock().unwrap_or_else(PoisonError::into_inner);
        let mut failure = None;
        for armed in rules.iter_mut().filter(|a| a.rule.matches(method, path)) {
            armed.seen = armed.seen.saturating_add(1);
            if armed.seen == armed.rule.nth && failure.is_none() {
                failure = Some(armed.rule.error());
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
            "POST /v1 1 409 lock_timeout",
            "POST /v1 1 429 lock_timeout x",
        ] {
            assert!(bad.parse::<FailureRule>().is_err(), "{bad}");
        }
    }

    #[test]
    fn fails_only_the_nth_match() {
        let faults = Faults::new(vec!["GET /v1/products 2 503".parse().unwrap()]);
        assert!(faults.check("GET", "/v1/products").is_none());
        assert!(faults.check("GET", "/v1/prices").is_none());
        let err = faults.check("GET", "/v1/products").unwrap();
        assert_eq!((err.status, err.kind), (503, ErrorType::Api));
        assert!(faults.check("GET", "/v1/products").is_none());
    }
}
