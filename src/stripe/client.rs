//! Our HTTP transport for async-stripe's request types: pinned API version, pooled connections,
//! an Idempotency-Key on every POST, bounded retries with that same key, and errors that keep
//! their HTTP status even when the body is not Stripe's.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue, USER_AGENT};
use hyper::{Method, Request, Uri};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use stripe_client_core::{CustomizedStripeRequest, StripeClient, StripeMethod};

use super::error::{ApiError, StripeError};
use super::key::SecretKey;
use super::pace::{self, Pacer};
use crate::resource::KeyMode;

/// The Stripe API version billing speaks: the one async-stripe's types are generated for.
pub fn api_version() -> &'static str {
    stripe_client_core::VERSION.as_str()
}

/// One HTTP exchange, reported to an observer (for `-v` and request accounting).
#[derive(Debug, Clone)]
pub struct Exchange {
    /// `GET`, `POST` or `DELETE`.
    pub method: &'static str,
    /// The path, e.g. `/v1/prices`.
    pub path: String,
    /// The HTTP status, or `None` when there was no answer.
    pub status: Option<u16>,
    /// 1 for the first attempt.
    pub attempt: u32,
    /// Time until the answer.
    pub elapsed: Duration,
}

/// Receives every exchange.
pub(crate) type Observer = Arc<dyn Fn(&Exchange) + Send + Sync>;

/// How to reach Stripe.
#[derive(Clone)]
pub struct ClientSettings {
    /// `https://api.stripe.com/` or a compatible server such as the sandbox.
    pub base_url: String,
    /// The secret key.
    pub key: SecretKey,
    /// Attempts per request, the first included.
    pub max_attempts: u32,
    /// Time allowed for each attempt.
    pub timeout: Duration,
    /// First backoff delay; it doubles per retry, with jitter, up to `max_backoff`.
    pub base_backoff: Duration,
    /// Longest backoff delay.
    pub max_backoff: Duration,
    /// Time from a request's first attempt after which no retry starts (an attempt under way
    /// still runs to its `timeout`).
    pub max_retry_time: Duration,
    /// Requests per second overall; `None`: Stripe's limit for the key's mode (25 test, 100
    /// live).
    pub rate: Option<f64>,
    /// Requests per second to one endpoint; `None`: Stripe's 25.
    pub endpoint_rate: Option<f64>,
    /// Called after every exchange.
    pub observer: Option<Observer>,
}

impl ClientSettings {
    /// Defaults for `base_url` and `key`: 10 attempts, 30 s each, backoff from 0.5 s to 8 s,
    /// at most 2 minutes per request, Stripe's rate limits. Ten attempts make a request that
    /// meets faults four times in ten give up once in ten thousand, so an apply under such
    /// faults finishes its work in two runs.
    pub fn new(base_url: impl Into<String>, key: SecretKey) -> Self {
        Self {
            base_url: base_url.into(),
            key,
            max_attempts: 10,
            timeout: Duration::from_secs(30),
            base_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(8),
            max_retry_time: Duration::from_secs(120),
            rate: None,
            endpoint_rate: None,
            observer: None,
        }
    }
}

/// A Stripe client for async-stripe's generated request types. Cheap to clone.
#[derive(Clone)]
pub struct StripeHttp {
    inner: Arc<Inner>,
}

struct Inner {
    /// Unix seconds of the server's clock, from the latest response's `Date` header (0: none yet).
    server_time: std::sync::atomic::AtomicI64,
    http: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    base: String,
    /// Whether `base` is this machine (a refused connection then means nothing listens).
    loopback: bool,
    authorization: HeaderValue,
    settings: ClientSettings,
    pacer: Pacer,
}

/// Whether a URL's host is this machine.
fn is_loopback(uri: &Uri) -> bool {
    uri.host().is_some_and(stripe_facts::is_local_host)
}

impl StripeHttp {
    /// A client for `settings`; refuses a live key for a host that is neither https nor loopback.
    pub fn new(settings: ClientSettings) -> Result<Self, StripeError> {
        let base = settings.base_url.trim_end_matches('/').to_owned();
        let uri: Uri = base
            .parse()
            .map_err(|_| StripeError::Refused(format!("`{}` is not a URL", settings.base_url)))?;
        let scheme = uri.scheme_str().unwrap_or_default();
        if !matches!(scheme, "http" | "https") || uri.host().is_none() {
            return Err(StripeError::Refused(format!(
                "`{}` is not an http(s) URL with a host",
                settings.base_url
            )));
        }
        if settings.key.mode() == Some(KeyMode::Live) && scheme != "https" && !is_loopback(&uri) {
            return Err(StripeError::Refused(format!(
                "refusing to send a live key to {base}: live keys only go to https or loopback hosts"
            )));
        }
        let mut authorization = HeaderValue::from_str(&format!("Bearer {}", settings.key.expose()))
            .map_err(|_| {
                StripeError::Refused(
                    "the secret key contains characters that cannot be sent".to_owned(),
                )
            })?;
        authorization.set_sensitive(true);
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_webpki_roots()
            .https_or_http()
            .enable_http1()
            .build();
        let http = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .build(https);
        let rate = settings.rate.unwrap_or(match settings.key.mode() {
            Some(KeyMode::Live) => pace::LIVE_RATE,
            _ => pace::TEST_RATE,
        });
        let pacer = Pacer::new(rate, settings.endpoint_rate.unwrap_or(pace::ENDPOINT_RATE));
        Ok(Self {
            inner: Arc::new(Inner {
                server_time: std::sync::atomic::AtomicI64::new(0),
                http,
                loopback: is_loopback(&uri),
                base,
                authorization,
                settings,
                pacer,
            }),
        })
    }

    /// The base URL requests go to.
    pub fn base_url(&self) -> &str {
        &self.inner.base
    }

    /// The server's clock as of the latest response (its `Date` header), in Unix seconds.
    ///
    /// Expiry is Stripe's to judge: comparing dates against this instead of the local clock keeps
    /// billing consistent with it even when the machine's clock is off.
    pub fn server_time(&self) -> Option<i64> {
        let t = self
            .inner
            .server_time
            .load(std::sync::atomic::Ordering::Relaxed);
        (t > 0).then_some(t)
    }

    /// The key's mode, from its prefix.
    pub fn key_mode(&self) -> Option<KeyMode> {
        self.inner.settings.key.mode()
    }

    /// Whether the key is a restricted one (`rk_…`).
    pub(crate) fn key_restricted(&self) -> bool {
        self.inner.settings.key.restricted()
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let s = &self.inner.settings;
        let exp = s
            .base_backoff
            .saturating_mul(1 << attempt.saturating_sub(1).min(16));
        let capped = exp.min(s.max_backoff);
        // Full delay at most, half at least: spreads out retries from concurrent operations.
        capped.mul_f64(0.5 + fastrand::f64() * 0.5)
    }

    async fn attempt(
        &self,
        method: &Method,
        url: &str,
        body: &Option<String>,
        idempotency_key: Option<&str>,
    ) -> Result<(u16, Option<bool>, Option<String>, Bytes), StripeError> {
        let inner = &self.inner;
        let mut request = Request::builder()
            .method(method.clone())
            .uri(url)
            .header(AUTHORIZATION, inner.authorization.clone())
            .header("Stripe-Version", api_version())
            .header(USER_AGENT, concat!("billing/", env!("CARGO_PKG_VERSION")));
        if let Some(key) = idempotency_key {
            request = request.header("Idempotency-Key", key);
        }
        let payload = match body {
            Some(body) => {
                request = request.header(CONTENT_TYPE, "application/x-www-form-urlencoded");
                Bytes::from(body.clone())
            }
            None => Bytes::new(),
        };
        let request = request
            .body(Full::new(payload))
            .map_err(|e| StripeError::Refused(format!("cannot build the request: {e}")))?;
        let timeout = inner.settings.timeout;
        let exchange = async {
            let response = inner.http.request(request).await.map_err(|e| {
                if inner.loopback && refused(&e) {
                    return StripeError::NotListening {
                        base: inner.base.clone(),
                    };
                }
                StripeError::Transport(inner.settings.key.redact(&error_chain(&e)))
            })?;
            let status = response.status().as_u16();
            let header = |name: &str| {
                response
                    .headers()
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned)
            };
            let should_retry = header("Stripe-Should-Retry").map(|v| v == "true");
            if let Some(date) = header("Date")
                .and_then(|d| httpdate::parse_http_date(&d).ok())
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .and_then(|d| i64::try_from(d.as_secs()).ok())
            {
                inner
                    .server_time
                    .store(date, std::sync::atomic::Ordering::Relaxed);
            }
            let request_id = header("Request-Id").map(|id| inner.settings.key.redact(&id));
            let bytes = Limited::new(response.into_body(), MAX_RESPONSE_BYTES)
                .collect()
                .await
                .map_err(|e| match e.downcast::<LengthLimitError>() {
                    Ok(_) => StripeError::Decode(format!(
                        "the answer is larger than {} MiB: refused unread",
                        MAX_RESPONSE_BYTES >> 20
                    )),
                    Err(e) => StripeError::Transport(inner.settings.key.redact(&e.to_string())),
                })?
                .to_bytes();
            Ok((
                status,
                should_retry,
                request_id,
                scrub(bytes, &inner.settings.key),
            ))
        };
        match tokio::time::timeout(timeout, exchange).await {
            Ok(result) => result,
            Err(_) => Err(StripeError::Timeout(timeout)),
        }
    }

    fn error_from(&self, status: u16, request_id: Option<String>, body: &[u8]) -> StripeError {
        #[derive(serde::Deserialize)]
        struct Envelope {
            error: Body,
        }
        #[derive(serde::Deserialize)]
        struct Body {
            #[serde(rename = "type")]
            kind: String,
            code: Option<String>,
            message: Option<String>,
            param: Option<String>,
        }
        // The body has had the key scrubbed out (see `scrub`): nothing here can show it.
        match serde_json::from_slice::<Envelope>(body) {
            Ok(Envelope { error }) => StripeError::Api(Box::new(ApiError {
                status,
                kind: error.kind,
                code: error.code,
                message: error.message.unwrap_or_default(),
                param: error.param,
                request_id,
            })),
            Err(_) => {
                let text = String::from_utf8_lossy(body);
                StripeError::Http {
                    status,
                    body: text.chars().take(500).collect(),
                }
            }
        }
    }
}

/// Whether a failed attempt may be repeated (with the same idempotency key for writes).
/// The largest answer read: a page of 100 objects is far smaller; a larger one is refused
/// before it can fill the memory.
const MAX_RESPONSE_BYTES: usize = 32 << 20;

/// The answer with every occurrence of the secret key replaced: a server that echoes the key
/// (in an error's message, type, code or param, or in any object) cannot get it printed,
/// decoded into an error message, or written into a plan.
fn scrub(body: Bytes, key: &SecretKey) -> Bytes {
    let needle = key.expose().as_bytes();
    if needle.len() < 8 || !body.windows(needle.len()).any(|w| w == needle) {
        return body;
    }
    let mut out = Vec::with_capacity(body.len());
    let mut rest = &body[..];
    while let Some(at) = rest.windows(needle.len()).position(|w| w == needle) {
        out.extend_from_slice(&rest[..at]);
        out.extend_from_slice(b"[REDACTED]");
        rest = &rest[at + needle.len()..];
    }
    out.extend_from_slice(rest);
    Bytes::from(out)
}

fn retryable(status: Option<u16>, should_retry: Option<bool>) -> bool {
    match (should_retry, status) {
        (Some(false), _) => false,
        (Some(true), _) => true,
        // No answer at all: the request may or may not have happened; the key makes it safe.
        (None, None) => true,
        (None, Some(status)) => matches!(status, 409 | 429 | 500..=599),
    }
}

/// Whether a request failed because the connection was refused.
fn refused(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = cause {
        if e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::ConnectionRefused)
        {
            return true;
        }
        cause = e.source();
    }
    false
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Drops empty pairs from a query string (async-stripe sends `?=` for parameterless lists).
fn clean_query(query: Option<String>) -> Option<String> {
    let query = query?;
    let kept: Vec<&str> = query
        .split('&')
        .filter(|pair| !pair.is_empty() && !pair.starts_with('='))
        .collect();
    (!kept.is_empty()).then(|| kept.join("&"))
}

impl StripeClient for StripeHttp {
    type Err = StripeError;

    async fn execute(&self, request: CustomizedStripeRequest) -> Result<Bytes, StripeError> {
        let (builder, config) = request.into_pieces();
        let (method, name) = match builder.method {
            StripeMethod::Get => (Method::GET, "GET"),
            StripeMethod::Post => (Method::POST, "POST"),
            StripeMethod::Delete => (Method::DELETE, "DELETE"),
        };
        let idempotency_key = config
            .request_strategy
            .as_ref()
            .and_then(|s| s.get_key())
            .map(|k| k.as_str().to_owned());
        if matches!(method, Method::POST) && idempotency_key.is_none() {
            return Err(StripeError::Refused(format!(
                "POST {} without an Idempotency-Key: billing sends every write with one",
                builder.path
            )));
        }
        let path = format!("/v1{}", builder.path);
        let mut url = format!("{}{path}", self.inner.base);
        if let Some(query) = clean_query(builder.query) {
            url.push('?');
            url.push_str(&query);
        }
        let settings = &self.inner.settings;
        let endpoint = pace::endpoint(name, &path);
        let first = Instant::now();
        let mut attempt = 0;
        loop {
            attempt += 1;
            self.inner.pacer.wait(&endpoint).await;
            let started = Instant::now();
            let outcome = self
                .attempt(&method, &url, &builder.body, idempotency_key.as_deref())
                .await;
            let (status, should_retry, result) = match outcome {
                Ok((status, should_retry, request_id, bytes)) => {
                    let result = if (200..300).contains(&status) {
                        Ok(bytes)
                    } else {
                        Err(self.error_from(status, request_id, &bytes))
                    };
                    (Some(status), should_retry, result)
                }
                // A request that could not even be built fails the same way every time, a
                // server on this machine that refuses connections is not running, and an
                // answer past the size limit would be as large again.
                Err(
                    error @ (StripeError::Refused(_)
                    | StripeError::NotListening { .. }
                    | StripeError::Decode(_)),
                ) => {
                    return Err(error);
                }
                Err(error) => (None, None, Err(error)),
            };
            if let Some(observer) = &settings.observer {
                observer(&Exchange {
                    method: name,
                    path: path.clone(),
                    status,
                    attempt,
                    elapsed: started.elapsed(),
                });
            }
            match result {
                Ok(bytes) => {
                    self.inner.pacer.speed_up();
                    return Ok(bytes);
                }
                Err(error) => {
                    if status == Some(429) && error.code() != Some("lock_timeout") {
                        self.inner.pacer.slow_down();
                    }
                    if !retryable(status, should_retry) {
                        return Err(error);
                    }
                    let delay = self.backoff(attempt);
                    let spent = first.elapsed();
                    if attempt >= settings.max_attempts || spent + delay > settings.max_retry_time {
                        return Err(StripeError::GaveUp {
                            attempts: attempt,
                            seconds: spent.as_secs_f64(),
                            last: Box::new(error),
                        });
                    }
                    tokio::time::sleep(delay).await;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn live_keys_only_go_to_https_or_loopback() {
        let live = SecretKey::new(format!("sk_live_{}", "abcdefgh"));
        let refused = StripeHttp::new(ClientSettings::new(
            "http://stripe.example.com",
            live.clone(),
        ));
        assert!(
            matches!(refused, Err(StripeError::Refused(m)) if m.contains("live keys only go to https"))
        );
        for ok in [
            "https://api.stripe.com/",
            "http://127.0.0.1:12111",
            "http://localhost:1/",
            "http://[::1]:9/",
        ] {
            assert!(
                StripeHttp::new(ClientSettings::new(ok, live.clone())).is_ok(),
                "{ok}"
            );
        }
        let test = SecretKey::new("sk_test_abcdefgh");
        assert!(StripeHttp::new(ClientSettings::new("http://stripe.example.com", test)).is_ok());
    }

    #[test]
    fn base_urls_must_be_http_urls() {
        let key = SecretKey::new("sk_test_x");
        for bad in ["127.0.0.1:12111", "ftp://x", "not a url", ""] {
            assert!(
                StripeHttp::new(ClientSettings::new(bad, key.clone())).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn the_key_is_scrubbed_from_every_answer() {
        let key = SecretKey::new("sk_test_0123456789abcdef");
        let body = Bytes::from("a sk_test_0123456789abcdef b sk_test_0123456789abcdef");
        assert_eq!(scrub(body, &key), Bytes::from("a [REDACTED] b [REDACTED]"));
        let clean = Bytes::from("nothing here");
        assert_eq!(scrub(clean.clone(), &key), clean);
    }

    #[test]
    fn retry_rules() {
        assert!(retryable(Some(429), None));
        assert!(retryable(Some(409), None));
        assert!(retryable(Some(503), None));
        assert!(retryable(None, None));
        assert!(!retryable(Some(400), None));
        assert!(!retryable(Some(500), Some(false)));
        assert!(retryable(Some(400), Some(true)));
    }

    #[test]
    fn empty_query_pairs_are_dropped() {
        assert_eq!(clean_query(Some("=".into())), None);
        assert_eq!(clean_query(Some(String::new())), None);
        assert_eq!(
            clean_query(Some("limit=100&=".into())).as_deref(),
            Some("limit=100")
        );
    }
}
