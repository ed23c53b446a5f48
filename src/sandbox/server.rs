//! The HTTP layer: axum glue and the request pipeline.
//!
//! Order of checks for every request: failure hook, idempotency key in flight (409), API key
//! (401), `Stripe-Version` (400), idempotency key format, route (404), then, inside the state
//! transaction: idempotency replay / mismatch, parameter validation (never stored), the
//! handler (its answer, success or error, is stored under the idempotency key), persistence.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::LoggedRequest;
use super::SandboxConfig;
use super::SandboxError;
use super::auth;
use super::error::ApiError;
use super::expand::Expand;
use super::faults::{FailureRule, Faults};
use super::form::{self, Node};
use super::idempotency::{self, IdempotencyRecord, InFlight, Lookup};
use super::ids;
use super::params::{self, ParamsExt};
use super::reqlog::RequestLog;
use super::routes::{self, Call, Ctx, Endpoint};
use super::store::Store;
use super::version::{ACCOUNT_DEFAULT, ApiVersion};

/// Largest accepted request body.
const MAX_BODY: usize = 1 << 20;

/// How long a shutdown waits for open requests before dropping them.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// The sandbox behind the HTTP server.
pub(crate) struct App {
    store: Store,
    faults: Faults,
    log: RequestLog,
    inflight: InFlight,
}

/// A request as the pipeline sees it.
struct Incoming {
    method: String,
    path: String,
    query: String,
    /// Only checked, never logged or stored.
    authorization: Option<String>,
    stripe_version: Option<String>,
    /// `Some(None)`: the header is present but not valid text.
    idempotency_key: Option<Option<String>>,
    content_type: Option<String>,
    body: Vec<u8>,
    body_unreadable: bool,
}

/// A response before it becomes HTTP.
struct Reply {
    status: u16,
    body: String,
    headers: Vec<(&'static str, String)>,
    request_id: String,
    replayed: bool,
}

impl Reply {
    fn error(err: &ApiError, request_id: &str) -> Reply {
        Reply {
            status: err.status,
            body: pretty(&err.body(request_id)),
            headers: err.headers.clone(),
            request_id: request_id.to_string(),
            replayed: false,
        }
    }
}

fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
}

impl App {
    pub(crate) fn new(config: &SandboxConfig) -> Result<App, SandboxError> {
        Ok(App {
            store: Store::open(config.state.as_deref())?,
            faults: Faults::new(config.failures.clone()),
            log: RequestLog::new(config.log_requests),
            inflight: InFlight::default(),
        })
    }

    pub(crate) fn requests(&self) -> Vec<LoggedRequest> {
        self.log.snapshot()
    }

    pub(crate) fn clear_requests(&self) {
        self.log.clear();
    }

    pub(crate) fn fail_nth(&self, rule: FailureRule) {
        self.faults.add(rule);
    }

    /// Runs one request through the pipeline and logs it.
    fn process(&self, req: &Incoming, key_in_use: bool) -> Reply {
        let request_id = ids::request();
        let reply = self.dispatch(req, key_in_use, &request_id);
        self.log.record(
            LoggedRequest {
                method: req.method.clone(),
                path: req.path.clone(),
                query: req.query.clone(),
                body: String::from_utf8_lossy(&req.body).into_owned(),
                stripe_version: req.stripe_version.clone(),
                idempotency_key: req.idempotency_key.clone().flatten(),
                status: reply.status,
                replayed: reply.replayed,
            },
            &reply.request_id,
        );
        reply
    }

    fn dispatch(&self, req: &Incoming, key_in_use: bool, request_id: &str) -> Reply {
        let fail = |err: ApiError| Reply::error(&err, request_id);
        // Idempotency keys only matter on POST (Stripe ignores them on GET and DELETE).
        let key = if req.method == "POST" {
            req.idempotency_key.as_ref()
        } else {
            None
        };
        if let Some(err) = self.faults.check(&req.method, &req.path) {
            return fail(err);
        }
        if req.body_unreadable {
            return fail(
                ApiError::invalid(format!(
                    "The request body could not be read (the limit is {MAX_BODY} bytes)."
                ))
                .with_status(413),
            );
        }
        if key_in_use {
            return fail(idempotency::in_use());
        }
        if let Err(err) = auth::check(req.authorization.as_deref()) {
            return fail(err);
        }
        let version = match ApiVersion::parse(req.stripe_version.as_deref()) {
            Ok(version) => version,
            Err(err) => return fail(err),
        };
        let key = match key {
            None => None,
            Some(None) => {
                return fail(
                    ApiError::invalid("Invalid idempotency key: the header is not valid text.")
                        .with_param("Idempotency-Key"),
                );
            }
            Some(Some(key)) => match idempotency::check_key(key) {
                Ok(()) => Some(key.clone()),
                Err(err) => return fail(err),
            },
        };
        let Some((endpoint, id)) = routes::find(&req.method, &req.path) else {
            return fail(
                ApiError::invalid(format!(
                    "Unrecognized request URL ({}: {}). Please see https://stripe.com/docs or we \
                     can help at https://support.stripe.com/.",
                    req.method, req.path
                ))
                .with_status(404),
            );
        };
        let decoded = decode(req);
        let canonical = match &decoded {
            Ok(tree) => Node::Map(tree.clone()).canonical().to_string(),
            Err(_) => format!(
                "undecodable:{}&{}",
                req.query,
                String::from_utf8_lossy(&req.body)
            ),
        };
        let now = ids::now();
        let outcome = self.store.transaction(|tx| {
            if let Some(key) = &key {
                let stale = idempotency::prune(tx.state(), now);
                if !stale.is_empty() {
                    let state = tx.state_mut();
                    for k in stale {
                        state.idempotency.remove(&k);
                    }
                }
                match idempotency::lookup(tx.state(), key, &req.method, &req.path, &canonical) {
                    Lookup::Fresh => {}
                    Lookup::Replay(record) => {
                        return Reply {
                            status: record.status,
                            body: record.body,
                            headers: vec![("Idempotent-Replayed", "true".to_string())],
                            request_id: record.request_id,
                            replayed: true,
                        };
                    }
                    Lookup::Mismatch(err) => return Reply::error(&err, request_id),
                }
            }
            // Validation failures happen before execution begins: never stored.
            let call = match prepare(endpoint, id, decoded) {
                Ok(call) => call,
                Err(err) => return Reply::error(&err, request_id),
            };
            let mut ctx = Ctx {
                tx,
                now,
                version: &version,
            };
            let reply = match (endpoint.handler)(&mut ctx, &call) {
                Ok(value) => Reply {
                    status: 200,
                    body: pretty(&value),
                    headers: Vec::new(),
                    request_id: request_id.to_string(),
                    replayed: false,
                },
                Err(err) => Reply::error(&err, request_id),
            };
            if let Some(key) = &key {
                tx.state_mut().idempotency.insert(
                    key.clone(),
                    IdempotencyRecord {
                        method: req.method.clone(),
                        path: req.path.clone(),
                        params: canonical.clone(),
                        status: reply.status,
                        body: reply.body.clone(),
                        request_id: request_id.to_string(),
                        created: now,
                    },
                );
            }
            reply
        });
        outcome.unwrap_or_else(|err| {
            fail(ApiError::internal(format!(
                "The billing sandbox could not use its state: {err}"
            )))
        })
    }
}

/// The parameters of a request: its query string, plus its form body on POST.
fn decode(req: &Incoming) -> Result<BTreeMap<String, Node>, ApiError> {
    let mut tree = form::decode(&req.query)?;
    if req.method == "POST" && !req.body.is_empty() {
        if let Some(ct) = &req.content_type
            && !ct
                .to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        {
            return Err(ApiError::invalid(format!(
                "Invalid request: the body must be sent as application/x-www-form-urlencoded, \
                 not {ct}."
            )));
        }
        let body = std::str::from_utf8(&req.body)
            .map_err(|_| ApiError::invalid("Invalid request: the body is not valid UTF-8."))?;
        form::decode_into(body, &mut tree)?;
    }
    Ok(tree)
}

/// Validates a decoded request against the endpoint's parameter table and expansion schema.
fn prepare(
    endpoint: &Endpoint,
    id: String,
    decoded: Result<BTreeMap<String, Node>, ApiError>,
) -> Result<Call, ApiError> {
    let params = params::validate(endpoint.params, &decoded?)?;
    let paths: Vec<String> = params
        .arr_of("expand")
        .map(|values| {
            values
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    let expand = Expand::parse(&paths, endpoint.schema, endpoint.list)?;
    Ok(Call { id, params, expand })
}

/// A header's value: `Some(None)` when present but not visible ASCII.
fn header(headers: &HeaderMap, name: &str) -> Option<Option<String>> {
    headers
        .get(name)
        .map(|v| v.to_str().ok().map(str::to_string))
}

/// A header's value, with bytes that are not text replaced (so that a garbled value is
/// refused by the checks rather than mistaken for an absent header).
fn header_lossy(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
}

async fn handle(State(app): State<Arc<App>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let idempotency_key = header(&parts.headers, "idempotency-key");
    // Mark the key as in flight before reading the body: a second request with the same key
    // arriving meanwhile gets 409 `idempotency_key_in_use`.
    let mut key_in_use = false;
    let mut _guard = None;
    if parts.method == Method::POST
        && let Some(Some(key)) = &idempotency_key
        && idempotency::check_key(key).is_ok()
    {
        match app.inflight.acquire(key) {
            Some(guard) => _guard = Some(guard),
            None => key_in_use = true,
        }
    }
    let (body, body_unreadable) = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(bytes) => (bytes.to_vec(), false),
        Err(_) => (Vec::new(), true),
    };
    let incoming = Incoming {
        method: parts.method.as_str().to_string(),
        path: parts.uri.path().to_string(),
        query: parts.uri.query().unwrap_or_default().to_string(),
        authorization: header_lossy(&parts.headers, "authorization"),
        stripe_version: header_lossy(&parts.headers, "stripe-version"),
        idempotency_key,
        content_type: header(&parts.headers, "content-type").flatten(),
        body,
        body_unreadable,
    };
    let worker = Arc::clone(&app);
    let joined = tokio::task::spawn_blocking(move || {
        let reply = worker.process(&incoming, key_in_use);
        (reply, incoming)
    })
    .await;
    let (reply, incoming) = match joined {
        Ok(done) => done,
        Err(_) => {
            let request_id = ids::request();
            let err = ApiError::internal("The billing sandbox failed while handling this request.");
            return respond(Reply::error(&err, &request_id), None, None);
        }
    };
    respond(
        reply,
        incoming.stripe_version.as_deref(),
        incoming.idempotency_key.flatten().as_deref(),
    )
}

fn respond(reply: Reply, version: Option<&str>, key: Option<&str>) -> Response {
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (status, Body::from(reply.body)).into_response();
    let headers = response.headers_mut();
    let mut set = |name: &str, value: &str| {
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(name), HeaderValue::from_str(value)) {
            headers.insert(name, value);
        }
    };
    set("content-type", "application/json");
    set("request-id", &reply.request_id);
    set("cache-control", "no-cache, no-store");
    set(
        "stripe-version",
        version
            .filter(|v| ApiVersion::parse(Some(v)).is_ok())
            .unwrap_or(ACCOUNT_DEFAULT),
    );
    if let Some(key) = key {
        set("idempotency-key", key);
    }
    for (name, value) in &reply.headers {
        set(name, value);
    }
    response
}

/// Serves `app` on `listener` until `shutdown` resolves; open requests then get a short grace
/// period.
pub(crate) async fn run(
    app: Arc<App>,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), SandboxError> {
    let router = Router::new().fallback(handle).with_state(app);
    let (signal, mut graceful) = tokio::sync::watch::channel(false);
    let mut deadline = signal.subscribe();
    tokio::spawn(async move {
        shutdown.await;
        let _ = signal.send(true);
    });
    let server = axum::serve(listener, router).with_graceful_shutdown(async move {
        let _ = graceful.wait_for(|stop| *stop).await;
    });
    tokio::select! {
        result = server => result.map_err(SandboxError::Serve),
        () = async move {
            let _ = deadline.wait_for(|stop| *stop).await;
            tokio::time::sleep(SHUTDOWN_GRACE).await;
        } => Ok(()),
    }
}
