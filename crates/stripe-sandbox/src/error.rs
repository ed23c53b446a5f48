//! Stripe's error envelope: `{"error": {"code", "doc_url", "message", "param", "type"}}`
//! (Stripe's `request_log_url` links to its dashboard, which knows nothing of the sandbox).
//!
//! Absent fields are omitted (as Stripe does), never sent as `null`; `type` is always present
//! because async-stripe cannot parse an error without it.

use serde_json::{Map, Value, json};

/// The `type` of a Stripe error (v1 API).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ErrorType {
    InvalidRequest,
    Api,
    Idempotency,
}

impl ErrorType {
    fn as_str(self) -> &'static str {
        match self {
            ErrorType::InvalidRequest => "invalid_request_error",
            ErrorType::Api => "api_error",
            ErrorType::Idempotency => "idempotency_error",
        }
    }
}

/// One error response, before it is rendered for a particular request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ApiError {
    pub status: u16,
    pub kind: ErrorType,
    pub code: Option<&'static str>,
    pub message: String,
    pub param: Option<String>,
    /// Extra response headers (e.g. `Stripe-Rate-Limited-Reason`).
    pub headers: Vec<(&'static str, String)>,
}

impl ApiError {
    /// A 400 `invalid_request_error` with no code and no param.
    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        ApiError {
            status: 400,
            kind: ErrorType::InvalidRequest,
            code: None,
            message: message.into(),
            param: None,
            headers: Vec::new(),
        }
    }

    pub(crate) fn with_param(mut self, param: impl Into<String>) -> Self {
        self.param = Some(param.into());
        self
    }

    pub(crate) fn with_code(mut self, code: &'static str) -> Self {
        self.code = Some(code);
        self
    }

    pub(crate) fn with_status(mut self, status: u16) -> Self {
        self.status = status;
        self
    }

    pub(crate) fn with_type(mut self, kind: ErrorType) -> Self {
        self.kind = kind;
        self
    }

    pub(crate) fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// `Received unknown parameter: x` (400 `parameter_unknown`).
    pub(crate) fn unknown_parameter(param: &str) -> Self {
        ApiError::invalid(format!("Received unknown parameter: {param}"))
            .with_code("parameter_unknown")
            .with_param(param)
    }

    /// `Missing required param: x.` (400 `parameter_missing`).
    pub(crate) fn missing_parameter(param: &str) -> Self {
        ApiError::invalid(format!("Missing required param: {param}."))
            .with_code("parameter_missing")
            .with_param(param)
    }

    /// An empty value for a field that cannot be unset (400 `parameter_invalid_empty`).
    pub(crate) fn invalid_empty(param: &str) -> Self {
        ApiError::invalid(format!(
            "You passed an empty string for '{param}'. We assume empty values are an attempt to \
             unset a parameter; however '{param}' cannot be unset. You should remove '{param}' from \
             your request or supply a non-empty value."
        ))
        .with_code("parameter_invalid_empty")
        .with_param(param)
    }

    /// `You may only specify one of these parameters: a, b.`
    pub(crate) fn exclusive(a: &str, b: &str) -> Self {
        let (first, second) = if a <= b { (a, b) } else { (b, a) };
        ApiError::invalid(format!(
            "You may only specify one of these parameters: {first}, {second}."
        ))
        .with_param(a)
    }

    /// 404 `resource_missing` for an id in the URL path (`param: "id"`).
    pub(crate) fn no_such_in_path(noun: &str, id: &str) -> Self {
        ApiError::invalid(format!("No such {noun}: '{id}'"))
            .with_code("resource_missing")
            .with_param("id")
            .with_status(404)
    }

    /// 400 `resource_missing` for an id referenced by a request parameter.
    pub(crate) fn no_such_in_param(noun: &str, id: &str, param: &str) -> Self {
        ApiError::invalid(format!("No such {noun}: '{id}'"))
            .with_code("resource_missing")
            .with_param(param)
    }

    /// 429 `lock_timeout`: Stripe's answer when the object a request needs is locked by another
    /// request for too long (an `invalid_request_error`, without a `Stripe-Rate-Limited-Reason`
    /// header; docs/stripe-rules.md#errors).
    pub(crate) fn lock_timeout() -> Self {
        ApiError::invalid(
            "This object cannot be accessed right now because another API request or Stripe \
             process is currently accessing it. If you see this error intermittently, retry the \
             request. If you see this error frequently and are making multiple concurrent \
             requests to a single object, make your requests serially or at a lower rate.",
        )
        .with_code("lock_timeout")
        .with_status(429)
    }

    /// A 500 `api_error` describing a sandbox-internal failure.
    pub(crate) fn internal(message: impl Into<String>) -> Self {
        ApiError::invalid(message)
            .with_status(500)
            .with_type(ErrorType::Api)
    }

    /// The JSON body for this error. Stripe's envelope also links to the request in its
    /// dashboard (`request_log_url`); the sandbox has no dashboard, so it leaves that out (the
    /// request is in its log, by the `Request-Id` header).
    pub(crate) fn body(&self) -> Value {
        let mut error = Map::new();
        if let Some(code) = self.code {
            error.insert("code".into(), json!(code));
            error.insert(
                "doc_url".into(),
                json!(format!(
                    "https://stripe.com/docs/error-codes/{}",
                    code.replace('_', "-")
                )),
            );
        }
        error.insert("message".into(), json!(self.message));
        if let Some(param) = &self.param {
            error.insert("param".into(), json!(param));
        }
        error.insert("type".into(), json!(self.kind.as_str()));
        json!({ "error": error })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doc_url_uses_dashes_and_absent_fields_are_omitted() {
        let body = ApiError::unknown_parameter("recurring[foo]").body();
        assert_eq!(
            body["error"]["doc_url"],
            "https://stripe.com/docs/error-codes/parameter-unknown"
        );
        let plain = ApiError::invalid("x").body();
        assert!(plain["error"].get("code").is_none());
        assert!(plain["error"].get("param").is_none());
        assert_eq!(plain["error"]["type"], "invalid_request_error");
    }
}
