//! The HTTP layer: the connection loop, and the request pipeline.
//!
//! A request is read whole first, within time limits ([`Timeouts`]): a client that stalls while
//! sending its headers or body is disconnected, and holds nothing meanwhile (its idempotency key
//! is only marked in flight once the body has arrived).
//!
//! Order of checks for every request: the chaos draw (fault and latency; a `reset` closes the
//! connection here), failure hook, rate limiters, injected random errors, idempotency key in
//! flight (409), API key (401), `Stripe-Version` (400), idempotency key format, route (404),
//! then, inside the state transaction (429 `lock_timeout` if the state stays locked):
//! idempotency replay / mismatch, parameter validation (never stored), the handler (its answer,
//! success or error, is stored under the idempotency key; the changes of a handler that fails
//! are undone), persistence. A `lost_response` drops the answer after all that (see
//! [`super::chaos`]).

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use serde_json::Value;

use super::LoggedRequest;
use super::SandboxConfig;
use super::SandboxError;
use super::auth;
use super::chaos::{Chaos, ChaosEngine, ChaosError, Drawn, Fault};
use super::connections::{Connection, Connections};
use super::error::ApiError;
use super::expand::Expand;
use super::faults::{FailureRule, Faults};
use super::form::{self, Node};
use super::handler::{Call, Ctx};
use super::idempotency::{self, InFlight, Lookup};
use super::ids;
use super::params::{self, ParamsExt};
use super::records::{Event, IdempotencyRecord};
use super::reqlog::RequestLog;
use super::resources::{self, promotion_codes};
use super::routes::{self, Endpoint, PathIds};
use super::store::{Store, TxError};
use super::tx::Tx;
use super::version::{ACCOUNT_DEFAULT, ApiVersion};
use super::webhooks::{self, Delivery};

/// Largest accepted request body.
const MAX_BODY: usize = 1 << 20;

/// How long a shutdown waits for open requests before dropping them.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// How long a client may take to send a request.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Timeouts {
    /// To send a request's headers, from when the server starts waiting for them (so also how
    /// long an idle keep-alive connection is kept open).
    pub headers: Duration,
    /// To send a request's body, once its headers are in.
    pub body: Duration,
}

/// How long a connection may stay idle, by default ([`SandboxConfig::idle_timeout`]).
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// How many connections are served at once, by default
/// ([`SandboxConfig::max_connections`]).
pub const DEFAULT_MAX_CONNECTIONS: usize = 256;

impl Timeouts {
    /// Both limits `idle`.
    fn idle(idle: Duration) -> Timeouts {
        Timeouts {
            headers: idle,
            body: idle,
        }
    }
}

/// The sandbox behind the HTTP server.
pub(crate) struct App {
    store: Store,
    faults: Faults,
    /// Replaced whole by [`App::set_chaos`]; a request uses the engine current when it is read.
    chaos: RwLock<Arc<ChaosEngine>>,
    log: RequestLog,
    inflight: InFlight,
    endpoints: &'static [Endpoint],
    /// A live-mode account (see [`SandboxConfig::live`]).
    live: bool,
    /// Webhook endpoints on this machine are accepted ([`SandboxConfig::local_webhooks`]).
    local_webhooks: bool,
    /// The open connections, at most [`SandboxConfig::max_connections`].
    connections: Connections,
    timeouts: Timeouts,
    /// Print one line per webhook delivery attempt ([`SandboxConfig::log_requests`]).
    log_deliveries: bool,
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
    body_problem: Option<BodyProblem>,
}

/// Why a request's body is missing.
#[derive(Debug, Clone, Copy)]
enum BodyProblem {
    /// Larger than [`MAX_BODY`], or the connection failed while sending it.
    Unreadable,
    /// Not received within the body timeout.
    TimedOut(Duration),
}

/// A response before it becomes HTTP.
struct Reply {
    status: u16,
    body: String,
    headers: Vec<(&'static str, String)>,
    request_id: String,
    replayed: bool,
    /// What chaos did to the request.
    fault: Option<Fault>,
    /// The webhook deliveries of the event the request recorded, sent once it is committed.
    deliveries: Vec<Delivery>,
}

impl Reply {
    fn error(err: &ApiError, request_id: &str) -> Reply {
        Reply {
            status: err.status,
            body: pretty(&err.body()),
            headers: err.headers.clone(),
            request_id: request_id.to_string(),
            replayed: false,
            fault: None,
            deliveries: Vec::new(),
        }
    }
}

/// The error of a connection an injected fault closes without a response: the service returns
/// it, and hyper then closes the connection without writing anything more.
#[derive(Debug, thiserror::Error)]
#[error("connection closed by an injected {0} fault")]
pub(crate) struct Dropped(Fault);

/// Sets `livemode: true` on every object in `value` that has the field (objects are stored
/// as test mode; a live sandbox serves them as live).
fn mark_live(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if let Some(flag) = map.get_mut("livemode") {
                *flag = Value::Bool(true);
            }
            map.values_mut().for_each(mark_live);
        }
        Value::Array(items) => items.iter_mut().for_each(mark_live),
        _ => {}
    }
}

fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
}

impl App {
    pub(crate) fn new(config: &SandboxConfig) -> Result<App, SandboxError> {
        Ok(App {
            store: match (&config.from, &config.state) {
                (Some(from), None) => Store::copy_of(from, config.max_state_bytes)?,
                (Some(from), Some(_)) => {
                    return Err(SandboxError::StateIo {
                        path: from.clone(),
                        source: std::io::Error::new(
                            std::io::ErrorKind::InvalidInput,
                            "a sandbox starts from a copy of a state file or uses one, not both",
                        ),
                    });
                }
                (None, state) => Store::open(state.as_deref(), config.max_state_bytes)?,
            },
            faults: Faults::new(config.failures.clone()),
            chaos: RwLock::new(Arc::new(ChaosEngine::new(&config.chaos)?)),
            log: RequestLog::new(
                config.log_requests,
                config.request_log_bytes,
                config.request_log_bodies,
            ),
            inflight: InFlight::default(),
            endpoints: resources::ENDPOINTS,
            live: config.live,
            local_webhooks: config.local_webhooks,
            connections: Connections::new(config.max_connections),
            timeouts: Timeouts::idle(config.idle_timeout),
            log_deliveries: config.log_requests,
        })
    }

    pub(crate) fn requests(&self) -> Vec<LoggedRequest> {
        self.log.snapshot()
    }

    pub(crate) fn clear_requests(&self) {
        self.log.clear();
    }

    /// The chaos engine in force.
    fn chaos(&self) -> Arc<ChaosEngine> {
        Arc::clone(&self.chaos.read().unwrap_or_else(PoisonError::into_inner))
    }

    pub(crate) fn chaos_seed(&self) -> u64 {
        self.chaos().seed()
    }

    /// Replaces the chaos: a new generator (from `chaos.seed`) and full buckets.
    pub(crate) fn set_chaos(&self, chaos: &Chaos) -> Result<(), ChaosError> {
        let engine = Arc::new(ChaosEngine::new(chaos)?);
        *self.chaos.write().unwrap_or_else(PoisonError::into_inner) = engine;
        Ok(())
    }

    pub(crate) fn fail_nth(&self, rule: FailureRule) {
        self.faults.add(rule);
    }

    /// Moves the sandbox's clock forward by `seconds` (test hook).
    pub(crate) fn advance_clock(&self, seconds: i64) -> Result<(), SandboxError> {
        if seconds < 0 {
            return Err(SandboxError::Refused(format!(
                "the sandbox clock only moves forward (asked to move it by {seconds} seconds)"
            )));
        }
        self.hook(|tx| {
            tx.advance_clock(seconds);
            Ok(())
        })
    }

    /// Simulates one redemption of a promotion code (test hook).
    pub(crate) fn redeem_promotion_code(&self, id: &str) -> Result<(), SandboxError> {
        self.hook(|tx| {
            let now = tx.state().now();
            promotion_codes::redeem(tx, id, now)
        })
    }

    /// Runs a test hook as one transaction, like a request (it waits its turn, and with a state
    /// file, persists its change under the file lock); a refusal changes nothing.
    fn hook(&self, f: impl FnOnce(&mut Tx<'_>) -> Result<(), String>) -> Result<(), SandboxError> {
        let outcome = self.store.transaction(|tx| {
            let before = tx.savepoint();
            let result = f(tx);
            if result.is_err() {
                tx.rollback_to(before);
            }
            result
        });
        match outcome {
            Ok(Ok(())) => Ok(()),
            Ok(Err(why)) => Err(SandboxError::Refused(why)),
            Err(TxError::Busy) => Err(SandboxError::Busy),
            Err(TxError::Panicked) => Err(SandboxError::Refused(
                "the sandbox failed while running the test hook; it changed nothing".into(),
            )),
            Err(TxError::Failed(err)) => Err(err),
        }
    }

    /// Runs one request through the pipeline (with the random fault `drawn` for it) and logs it.
    fn process(&self, req: &Incoming, key_in_use: bool, drawn: Option<Drawn>) -> Reply {
        let request_id = ids::request();
        let reply = self.dispatch(req, key_in_use, drawn, &request_id);
        self.record(
            req,
            reply.status,
            reply.replayed,
            reply.fault,
            &reply.request_id,
        );
        reply
    }

    fn record(
        &self,
        req: &Incoming,
        status: u16,
        replayed: bool,
        fault: Option<Fault>,
        request_id: &str,
    ) {
        let authenticated = auth::check(req.authorization.as_deref(), self.live).is_ok();
        let body = if authenticated && self.log.keeps_bodies() {
            String::from_utf8_lossy(&req.body).into_owned()
        } else {
            String::new()
        };
        self.log.record(
            LoggedRequest {
                method: req.method.clone(),
                path: req.path.clone(),
                query: req.query.clone(),
                body,
                stripe_version: req.stripe_version.clone(),
                idempotency_key: req.idempotency_key.clone().flatten(),
                status,
                replayed,
                fault,
            },
            request_id,
            authenticated,
        );
    }

    /// The failure hook, the limiters and the injected errors, then the request itself (whose
    /// answer a `lost_response` marks for dropping).
    fn dispatch(
        &self,
        req: &Incoming,
        key_in_use: bool,
        drawn: Option<Drawn>,
        request_id: &str,
    ) -> Reply {
        if let Some(err) = self.faults.check(&req.method, &req.path) {
            return Reply::error(&err, request_id);
        }
        let chaos = self.chaos();
        if chaos.has_limits() {
            // An endpoint is a method and a route, ids replaced (`POST /v1/prices/{id}`).
            let endpoint = routes::find_in(self.endpoints, &req.method, &req.path).map_or_else(
                || format!("{} (unrecognized)", req.method),
                |(endpoint, _)| format!("{} {}", endpoint.method, endpoint.path),
            );
            if let Some((fault, err)) = chaos.limit(&endpoint) {
                return Reply {
                    fault: Some(fault),
                    ..Reply::error(&err, request_id)
                };
            }
        }
        if let Some((fault, err)) = drawn.and_then(Drawn::error) {
            return Reply {
                fault: Some(fault),
                ..Reply::error(&err, request_id)
            };
        }
        let mut reply = self.execute(req, key_in_use, request_id);
        // `plan` draws lost responses for POST and DELETE only.
        if drawn == Some(Drawn::LostResponse) {
            reply.fault = Some(Fault::LostResponse);
        }
        reply
    }

    /// The request past the faults: its checks outside the state, then its transaction.
    fn execute(&self, req: &Incoming, key_in_use: bool, request_id: &str) -> Reply {
        let fail = |err: ApiError| Reply::error(&err, request_id);
        let accepted = match self.admit(req, key_in_use) {
            Ok(accepted) => accepted,
            Err(err) => return fail(err),
        };
        let outcome = self.store.transaction(|tx| {
            // The sandbox's clock, which tests can move forward (`Sandbox::advance_clock`).
            let now = tx.state().now();
            let mut reply = self.transact(tx, req, &accepted, now, request_id);
            // Stripe's responses carry its clock; the sandbox's is the one that decides
            // expiry, so clients that compare dates must see it.
            reply.headers.push(("Date", http_date(now)));
            reply
        });
        match outcome {
            Ok(mut reply) => {
                // Committed: its event goes out, in the background.
                webhooks::spawn(std::mem::take(&mut reply.deliveries), self.log_deliveries);
                reply
            }
            // Nothing ran and nothing is stored: the client may retry with the same key.
            Err(TxError::Busy) => fail(ApiError::lock_timeout()),
            Err(TxError::Panicked) => fail(ApiError::internal(
                "The billing sandbox failed while handling this request; it changed nothing.",
            )),
            Err(TxError::Failed(err)) => fail(ApiError::internal(format!(
                "The billing sandbox could not use its state: {err}"
            ))),
        }
    }

    /// The checks a request passes before it touches the state, in order: its body arrived,
    /// its idempotency key is not in flight, its API key, its `Stripe-Version`, its idempotency
    /// key's format, its route.
    fn admit(&self, req: &Incoming, key_in_use: bool) -> Result<Accepted, ApiError> {
        match req.body_problem {
            None => {}
            Some(BodyProblem::Unreadable) => {
                return Err(ApiError::invalid(format!(
                    "The request body could not be read (the limit is {MAX_BODY} bytes)."
                ))
                .with_status(413));
            }
            Some(BodyProblem::TimedOut(limit)) => {
                return Err(ApiError::invalid(format!(
                    "The request body was not received within {} seconds.",
                    limit.as_secs_f64()
                ))
                .with_status(408));
            }
        }
        if key_in_use {
            return Err(idempotency::in_use());
        }
        auth::check(req.authorization.as_deref(), self.live)?;
        let version = ApiVersion::parse(req.stripe_version.as_deref())?;
        // Idempotency keys only matter on POST (Stripe ignores them on GET and DELETE).
        let key = match req
            .idempotency_key
            .as_ref()
            .filter(|_| req.method == "POST")
        {
            None => None,
            Some(None) => {
                return Err(ApiError::invalid(
                    "Invalid idempotency key: the header is not valid text.",
                )
                .with_param("Idempotency-Key"));
            }
            Some(Some(key)) => {
                idempotency::check_key(key)?;
                Some(key.clone())
            }
        };
        let Some((endpoint, id)) = routes::find_in(self.endpoints, &req.method, &req.path) else {
            return Err(ApiError::invalid(format!(
                "Unrecognized request URL ({}: {}). Please see https://stripe.com/docs or we can \
                 help at https://support.stripe.com/.",
                req.method, req.path
            ))
            .with_status(404));
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
        Ok(Accepted {
            version,
            key,
            endpoint,
            id,
            decoded,
            canonical,
        })
    }

    /// The request inside its transaction: idempotency replay or mismatch, parameter
    /// validation (never stored), the handler, and its answer stored under the key.
    fn transact(
        &self,
        tx: &mut Tx<'_>,
        req: &Incoming,
        accepted: &Accepted,
        now: i64,
        request_id: &str,
    ) -> Reply {
        if let Some(key) = &accepted.key {
            for stale in idempotency::prune(tx.state(), now) {
                tx.remove_idempotency(&stale);
            }
            let lookup =
                idempotency::lookup(tx.state(), key, &req.method, &req.path, &accepted.canonical);
            match lookup {
                Lookup::Fresh => {}
                Lookup::Replay(record) => {
                    return Reply {
                        status: record.status,
                        body: record.body,
                        headers: vec![("Idempotent-Replayed", "true".to_string())],
                        request_id: record.request_id,
                        replayed: true,
                        fault: None,
                        deliveries: Vec::new(),
                    };
                }
                Lookup::Mismatch(err) => return Reply::error(&err, request_id),
            }
        }
        // Validation failures happen before execution begins: never stored.
        let call = match prepare(accepted.endpoint, &accepted.id, &accepted.decoded) {
            Ok(call) => call,
            Err(err) => return Reply::error(&err, request_id),
        };
        let reply = self.handle_call(tx, accepted, &call, now, request_id);
        if let Some(key) = &accepted.key {
            tx.put_idempotency(
                key.clone(),
                IdempotencyRecord {
                    method: req.method.clone(),
                    path: req.path.clone(),
                    params: accepted.canonical.clone(),
                    status: reply.status,
                    body: reply.body.clone(),
                    request_id: request_id.to_string(),
                    created: now,
                },
            );
        }
        reply
    }

    /// Runs the endpoint's handler: on success, records its event; on failure, undoes whatever
    /// it changed.
    fn handle_call(
        &self,
        tx: &mut Tx<'_>,
        accepted: &Accepted,
        call: &Call,
        now: i64,
        request_id: &str,
    ) -> Reply {
        let before = tx.savepoint();
        let mut ctx = Ctx {
            tx,
            now,
            version: &accepted.version,
            live: self.live,
            local_webhooks: self.local_webhooks,
        };
        match (accepted.endpoint.handler)(&mut ctx, call) {
            Ok(mut value) => {
                if self.live {
                    mark_live(&mut value);
                }
                let mut deliveries = Vec::new();
                if let Some(kind) = accepted.endpoint.event {
                    let seq = tx.take_seq();
                    let event = Event {
                        id: ids::event(),
                        seq,
                        created: now,
                        kind: kind.name(),
                        api_version: accepted.version.as_str().to_owned(),
                        object: value.clone(),
                        request_id: request_id.to_string(),
                        idempotency_key: accepted.key.clone(),
                    };
                    deliveries = webhooks::deliveries(tx.state(), &event, self.live);
                    tx.push_event(event);
                }
                Reply {
                    status: 200,
                    body: pretty(&value),
                    headers: Vec::new(),
                    request_id: request_id.to_string(),
                    replayed: false,
                    fault: None,
                    deliveries,
                }
            }
            Err(err) => {
                // A request that fails changes nothing, whatever its handler did before failing.
                tx.rollback_to(before);
                Reply::error(&err, request_id)
            }
        }
    }
}

/// A request that passed the checks outside the state (see [`App::admit`]).
struct Accepted {
    version: ApiVersion,
    /// The idempotency key, on POST.
    key: Option<String>,
    endpoint: &'static Endpoint,
    /// The ids the path names.
    id: PathIds,
    decoded: Result<BTreeMap<String, Node>, ApiError>,
    /// The request's parameters as its idempotency record keeps them.
    canonical: String,
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
    ids: &PathIds,
    decoded: &Result<BTreeMap<String, Node>, ApiError>,
) -> Result<Call, ApiError> {
    let params = params::validate(endpoint.params, decoded.as_ref().map_err(Clone::clone)?)?;
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
    Ok(Call {
        id: ids.id.clone(),
        parent: ids.parent.clone(),
        params,
        expand,
    })
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

/// Reads and answers one request; an `Err` (an injected reset or lost response) makes hyper
/// close the connection without a response.
async fn handle(app: Arc<App>, timeouts: Timeouts, request: Request) -> Result<Response, Dropped> {
    let (parts, body) = request.into_parts();
    let (body, body_problem) =
        match tokio::time::timeout(timeouts.body, axum::body::to_bytes(body, MAX_BODY)).await {
            Ok(Ok(bytes)) => (bytes.to_vec(), None),
            Ok(Err(_)) => (Vec::new(), Some(BodyProblem::Unreadable)),
            Err(_) => (Vec::new(), Some(BodyProblem::TimedOut(timeouts.body))),
        };
    let idempotency_key = header(&parts.headers, "idempotency-key");
    let incoming = Incoming {
        method: parts.method.as_str().to_string(),
        path: parts.uri.path().to_string(),
        query: parts.uri.query().unwrap_or_default().to_string(),
        authorization: header_lossy(&parts.headers, "authorization"),
        stripe_version: header_lossy(&parts.headers, "stripe-version"),
        idempotency_key,
        content_type: header(&parts.headers, "content-type").flatten(),
        body,
        body_problem,
    };
    // Chaos first: the fault and latency are drawn in the order requests are read.
    let plan = app.chaos().plan(&incoming.method);
    if !plan.latency.is_zero() {
        tokio::time::sleep(plan.latency).await;
    }
    if plan.fault == Some(Drawn::Reset) {
        app.record(&incoming, 0, false, Some(Fault::Reset), &ids::request());
        return Err(Dropped(Fault::Reset));
    }
    // Mark the key as in flight once the whole request is in (a client stalling on its body
    // holds nothing): a second request with the same key arriving while this one executes
    // gets 409 `idempotency_key_in_use`.
    let mut key_in_use = false;
    let mut _guard = None;
    if parts.method == Method::POST
        && incoming.body_problem.is_none()
        && let Some(Some(key)) = &incoming.idempotency_key
        && idempotency::check_key(key).is_ok()
    {
        match app.inflight.acquire(key) {
            Some(guard) => _guard = Some(guard),
            None => key_in_use = true,
        }
    }
    let worker = Arc::clone(&app);
    let joined = tokio::task::spawn_blocking(move || {
        let reply = worker.process(&incoming, key_in_use, plan.fault);
        (reply, incoming)
    })
    .await;
    let (reply, incoming) = match joined {
        Ok(done) => done,
        Err(_) => {
            let request_id = ids::request();
            let err = ApiError::internal("The billing sandbox failed while handling this request.");
            return Ok(respond(Reply::error(&err, &request_id), None, None));
        }
    };
    if reply.fault == Some(Fault::LostResponse) {
        // The request ran and is committed (idempotency record included); its answer is lost.
        return Err(Dropped(Fault::LostResponse));
    }
    Ok(respond(
        reply,
        incoming.stripe_version.as_deref(),
        incoming.idempotency_key.flatten().as_deref(),
    ))
}

/// An HTTP `Date` header value for Unix seconds.
fn http_date(now: i64) -> String {
    let secs = u64::try_from(now).unwrap_or(0);
    httpdate::fmt_http_date(std::time::UNIX_EPOCH + Duration::from_secs(secs))
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
    let timeouts = app.timeouts;
    run_with(app, listener, shutdown, timeouts).await
}

/// [`run`] with the given time limits.
pub(crate) async fn run_with(
    app: Arc<App>,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
    timeouts: Timeouts,
) -> Result<(), SandboxError> {
    // `stop` tells connections to finish; each holds an `open` receiver until it is done.
    let (stop, stopping) = tokio::sync::watch::channel(false);
    let (open_tx, open) = tokio::sync::watch::channel(());
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                // Accept errors concern one connection or are transient (e.g. too many open
                // files): wait a little rather than spin or stop serving.
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let (id, slot) = app.connections.open();
        let app = Arc::clone(&app);
        let stopping = stopping.clone();
        let open = open.clone();
        tokio::spawn(async move {
            serve_connection(&app, stream, &slot, stopping, timeouts).await;
            app.connections.close(id);
            drop(open);
        });
    }
    let _ = stop.send(true);
    drop(open);
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, open_tx.closed()).await;
    Ok(())
}

/// Serves one connection until the client closes it, it times out, the server stops (its
/// request in progress then finishes first) or it must make room for a new one (closed at once
/// when idle, else after its request).
async fn serve_connection(
    app: &Arc<App>,
    stream: tokio::net::TcpStream,
    slot: &Arc<Connection>,
    mut stopping: tokio::sync::watch::Receiver<bool>,
    timeouts: Timeouts,
) {
    let served = Arc::clone(app);
    let busy_slot = Arc::clone(slot);
    let service = hyper::service::service_fn(move |request: hyper::Request<_>| {
        let app = Arc::clone(&served);
        let slot = Arc::clone(&busy_slot);
        async move {
            let _busy = app.connections.busy(&slot);
            handle(Arc::clone(&app), timeouts, request.map(Body::new)).await
        }
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(timeouts.headers);
    let connection = builder.serve_connection(TokioIo::new(stream), service);
    let mut connection = std::pin::pin!(connection);
    tokio::select! {
        _ = connection.as_mut() => {}
        () = async { drop(stopping.wait_for(|stop| *stop).await) } => {
            connection.as_mut().graceful_shutdown();
            let _ = connection.await;
        }
        () = slot.evicted() => {
            if slot.is_busy() {
                connection.as_mut().graceful_shutdown();
                let _ = connection.await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;
    use std::time::Instant;

    use serde_json::Map;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;

    use super::*;
    use crate::expand;
    use crate::resources::products;
    use crate::routes::route;

    const KEY: &str = "Authorization: Bearer sk_test_serverTests\r\n";

    /// Serves `app` on a loopback port until the returned sender is dropped or fired.
    async fn serve(app: App, timeouts: Timeouts) -> (SocketAddr, tokio::sync::oneshot::Sender<()>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let shutdown = async move {
            let _ = stopped.await;
        };
        tokio::spawn(run_with(Arc::new(app), listener, shutdown, timeouts));
        (addr, stop)
    }

    /// Sends `raw` and reads until the server closes the connection (at most 10 s).
    async fn exchange(addr: SocketAddr, raw: &str) -> String {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream.write_all(raw.as_bytes()).await.unwrap();
        read_all(&mut stream).await
    }

    async fn read_all(stream: &mut TcpStream) -> String {
        let mut out = Vec::new();
        tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut out))
            .await
            .expect("the server answers or closes within 10 s")
            .ok();
        String::from_utf8_lossy(&out).into_owned()
    }

    fn post(path: &str, body: &str, key: Option<&str>) -> String {
        let key = key.map_or(String::new(), |k| format!("Idempotency-Key: {k}\r\n"));
        format!(
            "POST {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{KEY}{key}\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
    }

    fn get(path: &str) -> String {
        format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{KEY}\r\n")
    }

    fn status(response: &str) -> u16 {
        response
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0)
    }

    const SHORT: Timeouts = Timeouts {
        headers: Duration::from_millis(300),
        body: Duration::from_millis(300),
    };

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn stalled_headers_are_disconnected() {
        let (addr, _stop) = serve(App::new(&SandboxConfig::default()).unwrap(), SHORT).await;
        let started = Instant::now();
        let answer = exchange(addr, "GET /v1/products HTTP/1.1\r\nHost: x\r\n").await;
        assert!(started.elapsed() < Duration::from_secs(5));
        assert!(!answer.contains("200 OK"), "{answer}");
        // An idle keep-alive connection is closed the same way.
        let mut idle = TcpStream::connect(addr).await.unwrap();
        let started = Instant::now();
        assert_eq!(read_all(&mut idle).await, "");
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_stalled_body_times_out_and_frees_its_key() {
        let (addr, _stop) = serve(App::new(&SandboxConfig::default()).unwrap(), SHORT).await;
        let full = post("/v1/products", "name=Slow", Some("slow"));
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream
            .write_all(&full.as_bytes()[..full.len() - 4])
            .await
            .unwrap();
        let started = Instant::now();
        let answer = read_all(&mut stream).await;
        assert!(started.elapsed() < Duration::from_secs(5));
        assert_eq!(status(&answer), 408, "{answer}");
        assert!(
            answer.contains("was not received within 0.3 seconds"),
            "{answer}"
        );
        let again = exchange(addr, &full).await;
        assert_eq!(status(&again), 200, "{again}");
        assert!(!again.contains("Idempotent-Replayed"), "{again}");
    }

    /// Changes the state (a new product), then fails.
    fn change_then_fail(ctx: &mut Ctx<'_, '_>, _call: &Call) -> Result<Value, ApiError> {
        let mut p = Map::new();
        p.insert("name".into(), Value::from("Half"));
        let product = products::build(ctx.tx.state(), &p, ctx.now, "")?;
        ctx.tx.put_new(product);
        Err(ApiError::invalid("Failed after changing the state."))
    }

    /// Changes the state (a new product), then panics.
    fn change_then_panic(ctx: &mut Ctx<'_, '_>, call: &Call) -> Result<Value, ApiError> {
        let _ = change_then_fail(ctx, call);
        panic!("a handler bug (test)");
    }

    static HALF_DONE: &[Endpoint] = &[
        route(
            "GET",
            "/v1/products",
            products::LIST,
            products::list,
            &products::SCHEMA,
        )
        .list(),
        route("POST", "/v1/fail", &[], change_then_fail, &expand::NONE)
            .event(Some("product"), "updated"),
        route("POST", "/v1/panic", &[], change_then_panic, &expand::NONE)
            .event(Some("product"), "updated"),
    ];

    fn half_done_app(config: &SandboxConfig) -> App {
        App {
            endpoints: HALF_DONE,
            ..App::new(config).unwrap()
        }
    }

    async fn product_count(addr: SocketAddr) -> usize {
        let answer = exchange(addr, &get("/v1/products")).await;
        assert_eq!(status(&answer), 200, "{answer}");
        answer.matches("\"object\": \"product\"").count()
    }

    /// Failing and panicking handlers leave no trace; `check` reads the state after each.
    async fn failed_requests_change_nothing(addr: SocketAddr, check: impl Fn()) {
        let failed = exchange(addr, &post("/v1/fail", "", Some("f"))).await;
        assert_eq!(status(&failed), 400, "{failed}");
        assert_eq!(product_count(addr).await, 0);
        check();
        // The error is still the key's stored answer.
        let replayed = exchange(addr, &post("/v1/fail", "", Some("f"))).await;
        assert!(replayed.contains("idempotent-replayed: true"), "{replayed}");
        let panicked = exchange(addr, &post("/v1/panic", "", Some("p"))).await;
        assert_eq!(status(&panicked), 500, "{panicked}");
        assert_eq!(product_count(addr).await, 0);
        check();
        // Nothing was stored under the key of the request that panicked.
        let again = exchange(addr, &post("/v1/panic", "", Some("p"))).await;
        assert!(!again.contains("idempotent-replayed"), "{again}");
        assert_eq!(product_count(addr).await, 0);
        check();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failing_handler_leaves_no_trace_in_memory() {
        let app = Arc::new(half_done_app(&SandboxConfig::default()));
        let seq = || app.store.transaction(|tx| tx.state().next_seq).ok();
        let before = seq();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(run_with(
            Arc::clone(&app),
            listener,
            std::future::pending(),
            SHORT,
        ));
        failed_requests_change_nothing(addr, || assert_eq!(seq(), before)).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failing_handler_leaves_no_trace_in_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        let config = SandboxConfig {
            state: Some(path.clone()),
            ..SandboxConfig::default()
        };
        let (addr, _stop) = serve(half_done_app(&config), SHORT).await;
        let on_disk = || {
            let state: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
            assert_eq!(state["products"], serde_json::json!({}), "{state}");
            assert_eq!(state["next_seq"], 1, "{state}");
        };
        failed_requests_change_nothing(addr, on_disk).await;
        // Another sandbox on the same file sees nothing either.
        let (other, _stop) = serve(half_done_app(&config), SHORT).await;
        assert_eq!(product_count(other).await, 0);
    }
}
