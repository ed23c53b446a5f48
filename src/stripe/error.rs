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

    /// The Stripe error code, when Stripe gave one.
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Api(api) => api.code.as_deref(),
            Self::GaveUp { last, .. } => last.code(),
            _ => None,
        }
    }
}

impl StripeClientErr for StripeError {
    fn deserialize_err(msg: impl fmt::Display) -> Self {
        Self::Decode(msg.to_string())
    }
}
