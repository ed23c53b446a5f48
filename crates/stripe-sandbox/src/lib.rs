//! The sandbox: a local, stateful, Stripe-compatible HTTP server for products, prices, coupons,
//! promotion codes, tax settings, tax registrations, tax rates, billing portal configurations,
//! webhook endpoints (with delivery of the events it records) and (minimal) customers.
//!
//! It is what billing's tests and its default environment run against, so it follows
//! Stripe's rules as `docs/stripe-rules.md` (in the repository root) states them and, where
//! Stripe's behaviour is uncertain, takes the stricter reading (each such place says so in a
//! comment). It is not Stripe.
//!
//! Public API: [`Sandbox`] (start on a thread of its own, inspect the request log, inject
//! failures, simulate time and redemptions for tests, shut down), [`serve`] (run in the
//! foreground on a bound listener), [`SandboxConfig`], [`FailureRule`], [`Chaos`] (random
//! faults, latency, rate limits), [`LoggedRequest`] and [`SandboxError`]; and [`files`], how the
//! sandbox (and billing) write files without following links or replacing special files; and
//! [`webhooks`], signed sample events for testing a webhook handler.

mod auth;
mod changes;
mod chaos;
mod connections;
mod countries;
mod currency;
mod error;
mod expand;
mod faults;
mod form;
mod handler;
mod idempotency;
mod ids;
mod list;
mod metadata;
mod params;
mod records;
mod reqlog;
mod resources;
mod routes;
mod samples;
pub mod seed;
mod server;
mod state;
mod store;
#[cfg(feature = "test-support")]
pub mod test_support;
mod tx;
mod version;
pub mod webhooks;

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

pub use chaos::{Chaos, ChaosError, Fault, Latency, parse_probability, parse_time_scale};
pub use faults::{FailureRule, FailureRuleParseError};
pub use reqlog::DEFAULT_REQUEST_LOG_BYTES;
pub use server::{DEFAULT_IDLE_TIMEOUT, DEFAULT_MAX_CONNECTIONS};
pub use store::DEFAULT_MAX_STATE_BYTES;

/// How to run a sandbox. [`SandboxConfig::default`]: state in memory, no failures, no chaos,
/// test mode, and the default bounds below.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// The state file; `None` keeps the state in memory only.
    pub state: Option<PathBuf>,
    /// Start from a copy of this state file, kept in memory (the file is never written);
    /// excludes `state`. For benchmarks on large seeded accounts (see [`seed`]), served again
    /// and again unchanged.
    pub from: Option<PathBuf>,
    /// Failures to inject (see [`FailureRule`]).
    pub failures: Vec<FailureRule>,
    /// The largest state file (or journal beside it) the sandbox reads, in bytes: a larger one
    /// is refused with an error naming it. Default [`DEFAULT_MAX_STATE_BYTES`].
    pub max_state_bytes: u64,
    /// Print one line per request to stderr.
    pub log_requests: bool,
    /// The most memory the request log ([`Sandbox::requests`]) takes, in bytes (counting each
    /// request's text plus a fixed share per request); the oldest requests are dropped first,
    /// and 0 keeps none. Default [`DEFAULT_REQUEST_LOG_BYTES`].
    pub request_log_bytes: usize,
    /// Keep each request's body in the request log ([`LoggedRequest::body`] is empty
    /// otherwise). Default `true`, for tests that inspect what was sent; `billing sandbox` keeps
    /// them only with `-v`.
    pub request_log_bodies: bool,
    /// The most connections served at once. A new connection beyond it closes the idlest
    /// one (a connection between requests, or still sending its request's headers) to make
    /// room, so that a new client is always served. Default [`DEFAULT_MAX_CONNECTIONS`].
    pub max_connections: usize,
    /// How long a connection may stay idle between requests (or take to send a request's
    /// headers, or its body) before it is closed. Default [`DEFAULT_IDLE_TIMEOUT`].
    pub idle_timeout: Duration,
    /// Random faults, added latency, rate limits and time compression (see [`Chaos`]); the
    /// default has none of them.
    pub chaos: Chaos,
    /// Stand in for a live-mode account: accept only live keys (`sk_live_…`, `rk_live_…`) and
    /// serve objects with `livemode: true`. For tests of live-mode behaviour (the destruction
    /// guard); `billing sandbox` has no such flag, so a real live key is never sent to a
    /// sandbox by mistake.
    pub live: bool,
    /// Accept webhook endpoints on this machine (`localhost`, loopback addresses), over http
    /// too in test mode, and deliver to them. Stripe refuses endpoint URLs that are not
    /// publicly reachable, in test mode too; a sandbox on a developer's machine stands in for it
    /// next to the application's handler, so `billing sandbox` and the embedded sandbox turn
    /// this on. Default `false`, as Stripe.
    pub local_webhooks: bool,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            state: None,
            from: None,
            failures: Vec::new(),
            max_state_bytes: DEFAULT_MAX_STATE_BYTES,
            log_requests: false,
            request_log_bytes: DEFAULT_REQUEST_LOG_BYTES,
            request_log_bodies: true,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            chaos: Chaos::default(),
            live: false,
            local_webhooks: false,
        }
    }
}

/// One request as the sandbox received and answered it (never its `Authorization` header).
/// Only requests whose API key was accepted are logged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedRequest {
    pub method: String,
    pub path: String,
    /// The raw query string, without `?`.
    pub query: String,
    /// The raw form body; empty unless [`SandboxConfig::request_log_bodies`].
    pub body: String,
    pub stripe_version: Option<String>,
    pub idempotency_key: Option<String>,
    pub status: u16,
    /// Answered from a stored idempotent response.
    pub replayed: bool,
    /// What [`Chaos`] did to the request, if anything: a random fault or a limiter's 429. With
    /// [`Fault::Reset`], `status` is 0 (the request was not handled); with
    /// [`Fault::LostResponse`], `status` is that of the answer the client never got.
    pub fault: Option<Fault>,
}

/// Why the sandbox could not start or run.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot read or write the sandbox state file {}: {source}", path.display())]
    StateIo {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "the sandbox state file {} is corrupt: {message}; to start again from an empty sandbox, delete it (and the .journal file beside it, if any)",
        path.display()
    )]
    StateCorrupt { path: PathBuf, message: String },
    /// A state file (or the journal beside it) is larger than
    /// [`SandboxConfig::max_state_bytes`].
    #[error(
        "the sandbox state file {} is larger than {limit} bytes, the most the sandbox reads",
        path.display()
    )]
    StateTooLarge { path: PathBuf, limit: u64 },
    #[error("cannot lock the sandbox state file {}: {source}", path.display())]
    Lock {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The [`Chaos`] configuration was refused.
    #[error("invalid sandbox chaos configuration: {0}")]
    Chaos(#[from] ChaosError),
    #[error("cannot start the sandbox runtime: {0}")]
    Runtime(#[source] std::io::Error),
    #[error("the sandbox server failed: {0}")]
    Serve(#[source] std::io::Error),
    /// The state stayed locked (by requests, or another process holding the state file) past
    /// the deadline a request would wait; nothing changed.
    #[error("the sandbox state stayed locked by other requests or processes; nothing changed")]
    Busy,
    /// A test hook ([`Sandbox::advance_clock`], [`Sandbox::redeem_promotion_code`]) was
    /// refused; nothing changed.
    #[error("{0}")]
    Refused(String),
}

/// A sandbox serving on a thread of its own; stopped by [`Sandbox::shutdown`] or on drop.
pub struct Sandbox {
    addr: SocketAddr,
    app: Arc<server::App>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sandbox")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl Sandbox {
    /// Bind `addr` (port 0 = ephemeral) before returning, then serve on a dedicated thread with
    /// its own tokio runtime, so it works from sync tests and from inside another runtime alike.
    pub fn start(config: SandboxConfig, addr: SocketAddr) -> Result<Sandbox, SandboxError> {
        let app = Arc::new(server::App::new(&config)?);
        let bind_error = |source| SandboxError::Bind { addr, source };
        let listener = std::net::TcpListener::bind(addr).map_err(bind_error)?;
        listener.set_nonblocking(true).map_err(bind_error)?;
        let local = listener.local_addr().map_err(bind_error)?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("billing-sandbox")
            .enable_all()
            .build()
            .map_err(SandboxError::Runtime)?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let served = Arc::clone(&app);
        let thread = std::thread::Builder::new()
            .name("billing-sandbox".into())
            .spawn(move || {
                runtime.block_on(async move {
                    match tokio::net::TcpListener::from_std(listener) {
                        Ok(listener) => {
                            let shutdown = async move {
                                let _ = stopped.await;
                            };
                            if let Err(err) = server::run(served, listener, shutdown).await {
                                eprintln!("billing sandbox: {err}");
                            }
                        }
                        Err(err) => eprintln!("billing sandbox: cannot serve on {local}: {err}"),
                    }
                });
                runtime.shutdown_timeout(std::time::Duration::from_secs(1));
            })
            .map_err(SandboxError::Runtime)?;
        Ok(Sandbox {
            addr: local,
            app,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// The address the sandbox listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT/` (a loopback address when bound to an unspecified one).
    pub fn base_url(&self) -> String {
        let ip = match self.addr.ip() {
            IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
            ip => ip,
        };
        format!("http://{}/", SocketAddr::new(ip, self.addr.port()))
    }

    /// The requests received so far whose API key was accepted, oldest first: the newest
    /// that fit in [`SandboxConfig::request_log_bytes`].
    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.app.requests()
    }

    /// Forgets the requests logged so far.
    pub fn clear_requests(&self) {
        self.app.clear_requests();
    }

    /// The seed of the random faults and latencies ([`Chaos::seed`], or the one picked when it
    /// is `None`): set it as `Chaos::seed` to meet the same faults again.
    pub fn chaos_seed(&self) -> u64 {
        self.app.chaos_seed()
    }

    /// Replaces the chaos from the next request on (e.g. `Chaos::default()` to turn it off for a
    /// final check): a new generator seeded with `chaos.seed` (a random seed when `None`, see
    /// [`Sandbox::chaos_seed`]) and full rate-limit buckets. Requests already being handled keep
    /// the fault drawn for them. An invalid `chaos` is [`SandboxError::Chaos`] and changes
    /// nothing.
    pub fn set_chaos(&self, chaos: Chaos) -> Result<(), SandboxError> {
        Ok(self.app.set_chaos(&chaos)?)
    }

    /// Arms one more failure rule (counting matching requests from now on).
    pub fn fail_nth(&self, rule: FailureRule) {
        self.app.fail_nth(rule);
    }

    /// **Test-only simulation** of time passing, which real Stripe cannot be asked to do: moves the
    /// sandbox's clock forward by `seconds`, for every time-dependent rule (coupon `redeem_by` and
    /// `valid`, promotion code `expires_at` and `active`, tax registration `status`, "in the
    /// future" checks, idempotency key pruning) and for the `created` of new objects and events.
    /// The offset is kept with the state, so every process sharing a state file agrees on the time.
    /// The clock never moves back: a negative `seconds` is [`SandboxError::Refused`].
    pub fn advance_clock(&self, seconds: i64) -> Result<(), SandboxError> {
        self.app.advance_clock(seconds)
    }

    /// **Test-only simulation** of a customer redeeming promotion code `id` (`promo_…`), as a
    /// checkout would in real Stripe: `times_redeemed` goes up by one on the code and on its
    /// coupon, which can exhaust either (the code then reads as inactive, and so do all codes of
    /// an exhausted coupon). Only an active code can be redeemed; its customer, first-time and
    /// minimum-amount restrictions are not checked, and no event is recorded. A refusal (no such
    /// code, or an inactive one) is [`SandboxError::Refused`] and changes nothing.
    pub fn redeem_promotion_code(&self, id: &str) -> Result<(), SandboxError> {
        self.app.redeem_promotion_code(id)
    }

    /// Stops serving and waits for the server thread (also done on drop).
    pub fn shutdown(mut self) {
        self.stop_and_join();
    }

    fn stop_and_join(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        self.stop_and_join();
    }
}

/// Serve on an already-bound listener until `shutdown` resolves (used by `billing sandbox` in
/// the foreground).
pub async fn serve(
    config: SandboxConfig,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), SandboxError> {
    let app = Arc::new(server::App::new(&config)?);
    server::run(app, listener, shutdown).await
}
