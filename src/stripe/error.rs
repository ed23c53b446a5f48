//! What can go wrong talking to Stripe, with enough detail to decide whether to retry.

use std::fmt;
use std::time::Duration;

use stripe_client_core::StripeClientErr;

/// A Stripe error response (`{"error": {...}}`) with its HTTP status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub status: u16,
    /// `error.type` (`invalid_request_error`, `api_error`, `idempotency_error`, …).
    pub kind: String,
    /// `error.code`, when present (`resource_missing`, `lock_timeout`, …).
    pub code: Option<String>,
    /// `error.message`.
    pub message: String,
    /// `error.param`, when present.
    pub param: Option<String>,
    /// The `Request-Id` response header.
    pub request_id: Option<String>,
}

/// Why a request to Stripe failed.
#[derive(Debug, thiserror::Error)]
pub enum StripeError {
    /// Stripe answered with an error.
    #[error("{0}")]
    Api(Box<ApiError>),
    /// The server answered with an error body that is not Stripe's (a proxy page, an outage).
    #[error("HTTP {status} with a body that is not a Stripe error: {body}")]
    Http {
        /// HTTP status.
        status: u16,
        /// The start of the body.
        body: String,
    },
    /// The request never got an answer (connection refused, reset, TLS failure).
    #[error("could not reach the Stripe API: {0}")]
    Transport(String),
    /// A connection to this machine was refused: nothing listens at the base URL. Not
    /// retried: a server that is not running does not start by itself.
    #[error("nothing is listening at {base} (connection refused)")]
    NotListening {
        /// The base URL requests go to.
        base: String,
    },
    /// No answer in time.
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    /// The answer could not be read as the expected object.
    #[error("unexpected response: {0}")]
    Decode(String),
    /// The request was refused before sending (a bug or a bad setting, never Stripe's answer).
    #[error("{0}")]
    Refused(String),
    /// Retries ran out (attempts or time); `last` is the last failure.
    #[error("gave up after {attempts} attempts in {seconds:.1} s; the last: {last}")]
    GaveUp {
        attempts: u32,
        seconds: f64,
        last: Box<StripeError>,
    },
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Stripe answered {} ({}", self.status, self.kind)?;
        if let Some(code) = &self.code {
            write!(f, ", {code}")?;
        }
        if let Some(param) = &self.param {
            write!(f, ", param {param}")?;
        }
        write!(f, "): {}", self.message)?;
        if let Some(id) = &self.request_id {
            write!(f, " [{id}]")?;
        }
        Ok(())
    }
}

impl StripeError {
    /// The HTTP status, when there was an answer.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Api(api) => Some(api.status),
            Self::Http { status, .. } => Some(*status),
            Self::GaveUp { last, .. } => last.status(),
            _ => None,
        }
    }

    /// What to do about it, when there is more to say than the message.
    pub(crate) fn hint(&self) -> Option<String> {
        match self {
            Self::NotListening { base } => {
                let port = base
                    .rsplit_once(':')
                    .map(|(_, p)| p.trim_end_matches('/'))
                    .filter(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
                    .unwrap_or("12111");
                Some(format!(
                    "start a local Stripe-compatible API there (`billing sandbox --port {port}`), or point billing at another one: --api-base, BILLING_API_BASE, or the environment's api_base in billing.toml"
                ))
            }
            Self::GaveUp { last, .. } => last.hint(),
            _ => None,
        }
    }

    /// The Stripe error type (`idempotency_error`, `invalid_request_error`, …), when Stripe
    /// gave one.
    pub(crate) fn kind(&self) -> Option<&str> {
        match self {
            Self::Api(api) => Some(api.kind.as_str()),
            Self::GaveUp { last, .. } => last.kind(),
            _ => None,
        }
    }

    /// The Stripe error code, when Stripe gave one.
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Api(api) => api.code.as_deref(),
            Self::GaveUp { last, .. } => last.code(),
            _ => None,
        }
    }

    /// Whether Stripe refused the request for good: a 4xx error of Stripe's other than 409 (a
    /// conflict, such as an idempotency key in use) and 429 (rate and lock limits). Sending it
    /// again unchanged fails the same way; network failures, 5xx and limits may pass next time.
    pub(crate) fn is_permanent(&self) -> bool {
        match self {
            Self::Api(api) => (400..500).contains(&api.status) && !matches!(api.status, 409 | 429),
            Self::GaveUp { last, .. } => last.is_permanent(),
            _ => false,
        }
    }
}

impl StripeClientErr for StripeError {
    fn deserialize_err(msg: impl fmt::Display) -> Self {
        Self::Decode(msg.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(status: u16) -> StripeError {
        StripeError::Api(Box::new(ApiError {
            status,
            kind: "invalid_request_error".into(),
            code: None,
            message: "no".into(),
            param: None,
            request_id: None,
        }))
    }

    #[test]
    fn only_stripes_own_lasting_4xx_are_permanent() {
        assert!(api(400).is_permanent());
        assert!(api(404).is_permanent());
        assert!(!api(409).is_permanent());
        assert!(!api(429).is_permanent());
        assert!(!api(503).is_permanent());
        assert!(!StripeError::Transport("refused".into()).is_permanent());
        let gave_up = StripeError::GaveUp {
            attempts: 5,
            seconds: 6.0,
            last: Box::new(api(429)),
        };
        assert!(!gave_up.is_permanent());
    }
}
