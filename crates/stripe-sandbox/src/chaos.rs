//! Chaos: random faults, added latency and Stripe-like rate limiters, reproducible with a seed,
//! with time compression for the limiters and the latency (see [`Chaos`]).
//!
//! What a request meets, in order (after its body has been read):
//!
//! 1. one draw from the seeded generator decides its fault (at most one) and its latency;
//! 2. the latency is waited;
//! 3. a `reset` closes the connection: nothing else happens (no `--fail` rule counts it, no
//!    limiter sees it, nothing changes);
//! 4. the `--fail` rules ([`FailureRule`](super::FailureRule)) are counted and may answer;
//! 5. the limiters (global, then per endpoint) may answer 429 `rate_limit`;
//! 6. an injected `rate_limit`, `lock_timeout` or 5xx answers;
//! 7. otherwise the request runs as usual; with a `lost_response` (POST and DELETE only) its
//!    answer is then dropped and the connection closed.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::error::{ApiError, ErrorType};
use super::faults;

/// Longest latency accepted, in milliseconds (a minute: beyond, clients time out anyway).
const MAX_LATENCY_MS: u64 = 60_000;

/// Faults, latency, rate limits and time compression for a sandbox; the default (no faults, no
/// latency, no limits, time scale 1) leaves the sandbox as it is without them.
///
/// **Faults.** Each request gets at most one fault, drawn with the probabilities below (each 0.0 to
/// 1.0, adding up to at most 1.0). Every request the server reads is drawn for (reads and writes
/// alike, whatever its route or outcome); a `lost_response` drawn for a GET is no fault. The
/// sandbox has no HTTP test hooks ([`Sandbox::advance_clock`](super::Sandbox::advance_clock) and
/// [`Sandbox::redeem_promotion_code`](super::Sandbox::redeem_promotion_code) are Rust calls), so
/// faults never touch them.
///
/// **Reproducibility.** All draws come from one generator seeded with [`Chaos::seed`] (a random
/// seed without one), in the order requests arrive (once their body is read). The same seed
/// and the same requests *sent one after another* meet the same faults and latencies; with
/// concurrent requests, arrival order varies, so a seed reproduces the mix of faults, not which
/// request meets which.
///
/// **Limits.** Token buckets like Stripe's (docs/stripe-rules.md#rate-limits-and-retries): one for
/// all requests ([`Chaos::global_rate`]; Stripe allows 25/s in test mode, 100/s in live mode) and
/// one per endpoint ([`Chaos::endpoint_rate`]; Stripe: 25/s). An endpoint is a method and a route
/// with its id replaced, e.g. `POST /v1/prices/{id}` (unrecognized URLs share one bucket per
/// method). A bucket holds one second of tokens (its rate; it starts full) and refills
/// continuously; a request takes one token from each bucket, and only when both have one. A request
/// beyond them is answered 429 `rate_limit` with `Stripe-Rate-Limited-Reason: global-rate` or
/// `endpoint-rate` (the global limit is checked first), takes no token and changes nothing.
///
/// **Time scale** ([`Chaos::time_scale`], K ≥ 1) runs the sandbox's notion of time K times
/// faster *for the limiters and the latency only*: buckets refill K times faster (a 25/s
/// bucket refills 25·K tokens per real second, and still holds at most 25 — one sandbox second),
/// and latencies are divided by K. Over a real second a 25/s limiter then admits about 25·K
/// requests (25·(K+1) counting a full bucket at the start), so a client pacing itself at its
/// rates multiplied by K meets the limits as it would meet Stripe's at K = 1. The sandbox's
/// clock (`created`, expiry), idempotency retention and the HTTP timeouts are not scaled.
#[derive(Debug, Clone, PartialEq)]
pub struct Chaos {
    /// Seeds the fault and latency draws; `None`: a random seed (see
    /// [`Sandbox::chaos_seed`](super::Sandbox::chaos_seed)).
    pub seed: Option<u64>,
    /// 429 `rate_limit` (`Stripe-Rate-Limited-Reason: global-rate`), before anything changes.
    pub rate_limit: f64,
    /// 429 `lock_timeout` (no rate-limit reason), before anything changes.
    pub lock_timeout: f64,
    /// 500 or 503 (even odds) `api_error`, before anything changes.
    pub server_error: f64,
    /// The connection is closed before any response, and nothing changes.
    pub reset: f64,
    /// POST and DELETE only: the request runs (and commits, idempotency record included), then
    /// the connection is closed without its response.
    pub lost_response: f64,
    /// Added to every request before it is handled (divided by the time scale).
    pub latency: Option<Latency>,
    /// Requests per second for all requests together; `None`: no limit.
    pub global_rate: Option<u32>,
    /// Requests per second for each endpoint; `None`: no limit.
    pub endpoint_rate: Option<u32>,
    /// K ≥ 1: limiter rates multiplied by K, latencies divided by K.
    pub time_scale: f64,
}

impl Default for Chaos {
    fn default() -> Chaos {
        Chaos {
            seed: None,
            rate_limit: 0.0,
            lock_timeout: 0.0,
            server_error: 0.0,
            reset: 0.0,
            lost_response: 0.0,
            latency: None,
            global_rate: None,
            endpoint_rate: None,
            time_scale: 1.0,
        }
    }
}

/// Why a [`Chaos`] (or one of its values) is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ChaosError(String);

impl Chaos {
    /// `p` spread evenly over the five kinds of fault (`p / 5` each), e.g. `Chaos::spread(0.1)`.
    pub fn spread(p: f64) -> Chaos {
        let each = p / 5.0;
        Chaos {
            rate_limit: each,
            lock_timeout: each,
            server_error: each,
            reset: each,
            lost_response: each,
            ..Chaos::default()
        }
    }

    /// The five fault probabilities, in drawing order, with their names.
    fn probabilities(&self) -> [(&'static str, f64); 5] {
        [
            ("rate_limit", self.rate_limit),
            ("lock_timeout", self.lock_timeout),
            ("server_error", self.server_error),
            ("reset", self.reset),
            ("lost_response", self.lost_response),
        ]
    }

    /// Whether any fault can be drawn.
    pub fn has_faults(&self) -> bool {
        self.probabilities().iter().any(|(_, p)| *p > 0.0)
    }

    /// Whether this changes anything at all.
    pub fn is_active(&self) -> bool {
        self.has_faults()
            || self.latency.is_some()
            || self.global_rate.is_some()
            || self.endpoint_rate.is_some()
    }

    /// Checks every value: probabilities in [0, 1] adding up to at most 1, rates of 1 or more,
    /// a latency range with MIN ≤ MAX ≤ 60000 ms, a finite time scale of 1 or more.
    pub fn validate(&self) -> Result<(), ChaosError> {
        let mut sum = 0.0;
        for (name, p) in self.probabilities() {
            check_probability(p).map_err(|why| ChaosError(format!("{name}: {why}")))?;
            sum += p;
        }
        if sum > 1.0 + 1e-9 {
            return Err(ChaosError(format!(
                "the fault probabilities add up to {}; they must add up to at most 1",
                round(sum)
            )));
        }
        if let Some(latency) = &self.latency {
            Latency::new(latency.min, latency.max)?;
        }
        for (name, rate) in [
            ("global_rate", self.global_rate),
            ("endpoint_rate", self.endpoint_rate),
        ] {
            if rate == Some(0) {
                return Err(ChaosError(format!(
                    "{name}: a rate must be 1 request per second or more (no limit: None)"
                )));
            }
        }
        check_time_scale(self.time_scale).map_err(ChaosError)?;
        Ok(())
    }
}

fn round(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

fn check_probability(p: f64) -> Result<(), String> {
    if p.is_finite() && (0.0..=1.0).contains(&p) {
        Ok(())
    } else {
        Err(format!("a probability must be between 0 and 1, not {p}"))
    }
}

fn check_time_scale(k: f64) -> Result<(), String> {
    if k.is_finite() && k >= 1.0 {
        Ok(())
    } else {
        Err(format!(
            "the time scale must be a number of 1 or more, not {k}"
        ))
    }
}

/// Parses a probability (`0`, `0.05`, `1`): for `--fault-…` and `--chaos`.
pub fn parse_probability(s: &str) -> Result<f64, ChaosError> {
    parse_number(s, "a probability between 0 and 1", check_probability)
}

/// Parses a time scale (a number, 1 or more): for `--time-scale`.
pub fn parse_time_scale(s: &str) -> Result<f64, ChaosError> {
    parse_number(s, "a number (a time scale of 1 or more)", check_time_scale)
}

/// Parses a number that `check` accepts; `what` names it when `s` is not a number.
fn parse_number(
    s: &str,
    what: &str,
    check: fn(f64) -> Result<(), String>,
) -> Result<f64, ChaosError> {
    let x: f64 = s
        .trim()
        .parse()
        .map_err(|_| ChaosError(format!("`{s}` is not {what}")))?;
    check(x).map_err(ChaosError)?;
    Ok(x)
}

impl fmt::Display for Chaos {
    /// A one-line summary, e.g. `faults reset 0.1; latency 5..50 ms; global rate 25/s; seed 7`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        let faults: Vec<String> = self
            .probabilities()
            .iter()
            .filter(|(_, p)| *p > 0.0)
            .map(|(name, p)| format!("{name} {}", round(*p)))
            .collect();
        if !faults.is_empty() {
            parts.push(format!("faults {}", faults.join(", ")));
        }
        if let Some(latency) = &self.latency {
            parts.push(format!("latency {latency} ms"));
        }
        if let Some(rate) = self.global_rate {
            parts.push(format!("global rate {rate}/s"));
        }
        if let Some(rate) = self.endpoint_rate {
            parts.push(format!("endpoint rate {rate}/s"));
        }
        if self.time_scale != 1.0 {
            parts.push(format!("time scale {}", self.time_scale));
        }
        if let Some(seed) = self.seed {
            parts.push(format!("seed {seed}"));
        }
        if parts.is_empty() {
            f.write_str("none")
        } else {
            f.write_str(&parts.join("; "))
        }
    }
}

/// A latency range, both ends included: `MIN..MAX` in whole milliseconds, e.g. `5..50`
/// (`10..10` for a fixed 10 ms). Each request waits a duration drawn uniformly from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Latency {
    min: Duration,
    max: Duration,
}

impl Latency {
    /// Checks MIN ≤ MAX ≤ 60 s.
    pub fn new(min: Duration, max: Duration) -> Result<Latency, ChaosError> {
        if min > max {
            return Err(ChaosError(format!(
                "the latency range {}..{} ms is empty: MIN must not exceed MAX",
                min.as_millis(),
                max.as_millis()
            )));
        }
        if max > Duration::from_millis(MAX_LATENCY_MS) {
            return Err(ChaosError(format!(
                "a latency of {} ms is too long: at most {MAX_LATENCY_MS} ms",
                max.as_millis()
            )));
        }
        Ok(Latency { min, max })
    }

    pub fn min(&self) -> Duration {
        self.min
    }

    pub fn max(&self) -> Duration {
        self.max
    }

    /// The latency at `u` in [0, 1) along the range.
    fn at(&self, u: f64) -> Duration {
        self.min + (self.max - self.min).mul_f64(u)
    }
}

impl FromStr for Latency {
    type Err = ChaosError;

    fn from_str(s: &str) -> Result<Latency, ChaosError> {
        let fail = || {
            ChaosError(format!(
                "invalid latency range `{s}`: expected MIN..MAX in milliseconds, e.g. 5..50"
            ))
        };
        let (min, max) = s.trim().split_once("..").ok_or_else(fail)?;
        let ms = |v: &str| v.trim().parse::<u64>().map_err(|_| fail());
        Latency::new(
            Duration::from_millis(ms(min)?),
            Duration::from_millis(ms(max)?),
        )
    }
}

impl fmt::Display for Latency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}..{}", self.min.as_millis(), self.max.as_millis())
    }
}

/// Why the sandbox, rather than the request itself, decided a request's fate; recorded in
/// [`LoggedRequest::fault`](super::LoggedRequest::fault).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Fault {
    /// A random 429 `rate_limit`.
    RateLimit,
    /// A random 429 `lock_timeout`.
    LockTimeout,
    /// A random 500 or 503 `api_error`.
    ServerError,
    /// The connection was closed before any response; nothing changed.
    Reset,
    /// The request ran, then its response was dropped with the connection.
    LostResponse,
    /// The global limiter answered 429 (`global-rate`).
    GlobalRateLimit,
    /// The per-endpoint limiter answered 429 (`endpoint-rate`).
    EndpointRateLimit,
}

impl Fault {
    /// `rate_limit`, `lock_timeout`, `server_error`, `reset`, `lost_response`,
    /// `global_rate_limit` or `endpoint_rate_limit`.
    pub fn as_str(self) -> &'static str {
        match self {
            Fault::RateLimit => "rate_limit",
            Fault::LockTimeout => "lock_timeout",
            Fault::ServerError => "server_error",
            Fault::Reset => "reset",
            Fault::LostResponse => "lost_response",
            Fault::GlobalRateLimit => "global_rate_limit",
            Fault::EndpointRateLimit => "endpoint_rate_limit",
        }
    }

    /// Whether the client gets no response at all.
    pub fn drops_connection(self) -> bool {
        matches!(self, Fault::Reset | Fault::LostResponse)
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The random fault drawn for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Drawn {
    RateLimit,
    LockTimeout,
    ServerError(u16),
    Reset,
    LostResponse,
}

impl Drawn {
    /// The error answered for an injected error fault (none for reset and lost response).
    /// No `Stripe-Should-Retry` header: Stripe's clients obey it before their own rules, and
    /// when Stripe sends it on a 429 or 5xx is not documented
    /// (docs/stripe-rules.md#rate-limits-and-retries).
    pub(crate) fn error(self) -> Option<(Fault, ApiError)> {
        const INJECTED: &str = "(Injected at random by the billing sandbox; nothing changed.)";
        match self {
            Drawn::RateLimit => Some((
                Fault::RateLimit,
                faults::rate_limited("global-rate", INJECTED),
            )),
            Drawn::LockTimeout => {
                let err = ApiError::lock_timeout();
                Some((
                    Fault::LockTimeout,
                    ApiError {
                        message: format!("{} {INJECTED}", err.message),
                        ..err
                    },
                ))
            }
            Drawn::ServerError(status) => Some((
                Fault::ServerError,
                ApiError::invalid(format!("An unknown error occurred. {INJECTED}"))
                    .with_status(status)
                    .with_type(ErrorType::Api),
            )),
            Drawn::Reset | Drawn::LostResponse => None,
        }
    }
}

/// What was drawn for one request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Plan {
    pub latency: Duration,
    pub fault: Option<Drawn>,
}

/// The running chaos of a sandbox: the generator and the buckets.
#[derive(Debug)]
pub(crate) struct ChaosEngine {
    config: Chaos,
    seed: u64,
    rng: Mutex<fastrand::Rng>,
    limiters: Limiters,
}

impl ChaosEngine {
    pub(crate) fn new(config: &Chaos) -> Result<ChaosEngine, ChaosError> {
        config.validate()?;
        let seed = config.seed.unwrap_or_else(|| fastrand::u64(..));
        Ok(ChaosEngine {
            config: config.clone(),
            seed,
            rng: Mutex::new(fastrand::Rng::with_seed(seed)),
            limiters: Limiters::new(config, Instant::now()),
        })
    }

    /// The seed of the draws.
    pub(crate) fn seed(&self) -> u64 {
        self.seed
    }

    /// Draws the fault and the latency of the next request (a fixed number of draws per
    /// request, so that the sequence only depends on the order of requests).
    pub(crate) fn plan(&self, method: &str) -> Plan {
        let config = &self.config;
        if !config.has_faults() && config.latency.is_none() {
            return Plan::default();
        }
        let (u, odd, l) = {
            let mut rng = self.rng.lock().unwrap_or_else(PoisonError::into_inner);
            (rng.f64(), rng.bool(), rng.f64())
        };
        let latency = config.latency.map_or(Duration::ZERO, |range| {
            range.at(l).div_f64(config.time_scale)
        });
        let status = if odd { 503 } else { 500 };
        let mut edge = 0.0;
        let mut fault = None;
        for (kind, p) in [
            (Drawn::RateLimit, config.rate_limit),
            (Drawn::LockTimeout, config.lock_timeout),
            (Drawn::ServerError(status), config.server_error),
            (Drawn::Reset, config.reset),
            (Drawn::LostResponse, config.lost_response),
        ] {
            edge += p;
            if u < edge {
                fault = Some(kind);
                break;
            }
        }
        if fault == Some(Drawn::LostResponse) && method != "POST" && method != "DELETE" {
            fault = None;
        }
        Plan { latency, fault }
    }

    /// Whether a limiter is on.
    pub(crate) fn has_limits(&self) -> bool {
        self.config.global_rate.is_some() || self.config.endpoint_rate.is_some()
    }

    /// Takes a token for `endpoint` (`METHOD /route/{id}`) from the buckets, or answers why not.
    pub(crate) fn limit(&self, endpoint: &str) -> Option<(Fault, ApiError)> {
        self.limiters.admit(endpoint, Instant::now()).err()
    }
}

/// The token buckets.
#[derive(Debug)]
struct Limiters {
    global: Option<f64>,
    endpoint: Option<f64>,
    scale: f64,
    buckets: Mutex<Buckets>,
}

#[derive(Debug)]
struct Buckets {
    global: Bucket,
    endpoints: HashMap<String, Bucket>,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl Bucket {
    /// Refills at `rate · scale` tokens per real second, up to `rate` tokens.
    fn refill(&mut self, rate: f64, scale: f64, now: Instant) {
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        self.tokens = (self.tokens + elapsed * rate * scale).min(rate);
        self.at = self.at.max(now);
    }
}

impl Limiters {
    fn new(config: &Chaos, now: Instant) -> Limiters {
        let global = config.global_rate.map(f64::from);
        Limiters {
            global,
            endpoint: config.endpoint_rate.map(f64::from),
            scale: config.time_scale,
            buckets: Mutex::new(Buckets {
                global: Bucket {
                    tokens: global.unwrap_or(0.0),
                    at: now,
                },
                endpoints: HashMap::new(),
            }),
        }
    }

    fn admit(&self, endpoint: &str, now: Instant) -> Result<(), (Fault, ApiError)> {
        if self.global.is_none() && self.endpoint.is_none() {
            return Ok(());
        }
        let mut buckets = self.buckets.lock().unwrap_or_else(PoisonError::into_inner);
        let Buckets { global, endpoints } = &mut *buckets;
        if let Some(rate) = self.global {
            global.refill(rate, self.scale, now);
            if global.tokens < 1.0 {
                return Err(limited(Fault::GlobalRateLimit, "global-rate", "", rate));
            }
        }
        let mut per_endpoint = None;
        if let Some(rate) = self.endpoint {
            let bucket = endpoints.entry(endpoint.to_string()).or_insert(Bucket {
                tokens: rate,
                at: now,
            });
            bucket.refill(rate, self.scale, now);
            if bucket.tokens < 1.0 {
                return Err(limited(
                    Fault::EndpointRateLimit,
                    "endpoint-rate",
                    &format!(" for {endpoint}"),
                    rate,
                ));
            }
            per_endpoint = Some(bucket);
        }
        if let Some(bucket) = per_endpoint {
            bucket.tokens -= 1.0;
        }
        if self.global.is_some() {
            global.tokens -= 1.0;
        }
        Ok(())
    }
}

fn limited(fault: Fault, reason: &'static str, scope: &str, rate: f64) -> (Fault, ApiError) {
    let note =
        format!("(The billing sandbox's {reason} limit{scope}: {rate} requests per second.)");
    (fault, faults::rate_limited(reason, &note))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drawn(chaos: &Chaos, method: &str, n: usize) -> Vec<Option<Drawn>> {
        let engine = ChaosEngine::new(chaos).unwrap();
        (0..n).map(|_| engine.plan(method).fault).collect()
    }

    #[test]
    fn validates_and_parses() {
        assert!(Chaos::default().validate().is_ok());
        assert!(!Chaos::default().is_active());
        assert!(Chaos::spread(1.0).validate().is_ok());
        let too_much = Chaos {
            reset: 0.6,
            lost_response: 0.6,
            ..Chaos::default()
        };
        assert!(
            too_much
                .validate()
                .unwrap_err()
                .to_string()
                .contains("add up to 1.2")
        );
        for bad in [
            Chaos {
                reset: 1.5,
                ..Chaos::default()
            },
            Chaos {
                reset: f64::NAN,
                ..Chaos::default()
            },
            Chaos {
                global_rate: Some(0),
                ..Chaos::default()
            },
            Chaos {
                time_scale: 0.5,
                ..Chaos::default()
            },
        ] {
            assert!(bad.validate().is_err(), "{bad:?}");
        }
        let latency: Latency = "5..50".parse().unwrap();
        assert_eq!(
            (latency.min(), latency.max()),
            (Duration::from_millis(5), Duration::from_millis(50))
        );
        assert_eq!(latency.to_string(), "5..50");
        for bad in ["50..5", "5", "a..b", "1..60001", "-1..3"] {
            assert!(bad.parse::<Latency>().is_err(), "{bad}");
        }
        assert_eq!(parse_probability("0.25").unwrap(), 0.25);
        assert!(parse_probability("2").is_err());
        assert!(parse_probability("x").is_err());
        assert!(parse_time_scale("0.5").is_err());
        assert_eq!(parse_time_scale("10").unwrap(), 10.0);
    }

    #[test]
    fn seeded_draws_repeat_and_lost_responses_are_for_writes_only() {
        let chaos = Chaos {
            seed: Some(42),
            ..Chaos::spread(0.8)
        };
        let first = drawn(&chaos, "POST", 200);
        assert_eq!(first, drawn(&chaos, "POST", 200));
        assert!(first.contains(&Some(Drawn::LostResponse)));
        assert!(first.contains(&Some(Drawn::ServerError(500))));
        assert!(first.contains(&Some(Drawn::ServerError(503))));
        assert!(first.contains(&None));
        let reads = drawn(&chaos, "GET", 200);
        assert!(!reads.contains(&Some(Drawn::LostResponse)));
        // The same draws: only lost responses turn into no fault.
        for (w, r) in first.iter().zip(&reads) {
            match w {
                Some(Drawn::LostResponse) => assert_eq!(*r, None),
                other => assert_eq!(r, other),
            }
        }
        let always = Chaos {
            reset: 1.0,
            ..Chaos::default()
        };
        assert!(
            drawn(&always, "GET", 50)
                .iter()
                .all(|d| *d == Some(Drawn::Reset))
        );
    }

    #[test]
    fn probabilities_are_honoured_over_many_draws() {
        let chaos = Chaos {
            seed: Some(7),
            rate_limit: 0.1,
            lock_timeout: 0.2,
            server_error: 0.05,
            reset: 0.15,
            lost_response: 0.1,
            ..Chaos::default()
        };
        let n = 20_000;
        let draws = drawn(&chaos, "DELETE", n);
        let share = |want: fn(&Option<Drawn>) -> bool| {
            draws.iter().filter(|d| want(d)).count() as f64 / n as f64
        };
        for (name, got, p) in [
            ("rate_limit", share(|d| *d == Some(Drawn::RateLimit)), 0.1),
            (
                "lock_timeout",
                share(|d| *d == Some(Drawn::LockTimeout)),
                0.2,
            ),
            (
                "server_error",
                share(|d| matches!(d, Some(Drawn::ServerError(_)))),
                0.05,
            ),
            ("reset", share(|d| *d == Some(Drawn::Reset)), 0.15),
            (
                "lost_response",
                share(|d| *d == Some(Drawn::LostResponse)),
                0.1,
            ),
            ("none", share(Option::is_none), 0.4),
            ("500", share(|d| *d == Some(Drawn::ServerError(500))), 0.025),
            ("503", share(|d| *d == Some(Drawn::ServerError(503))), 0.025),
        ] {
            // Five standard deviations at most for n = 20 000.
            assert!((got - p).abs() < 0.02, "{name}: {got} drawn, {p} asked");
        }
        // Another seed, other draws; no faults, no draws at all.
        let other = Chaos {
            seed: Some(8),
            ..chaos.clone()
        };
        assert_ne!(drawn(&other, "DELETE", 100), draws[..100]);
        assert!(
            drawn(&Chaos::default(), "POST", 100)
                .iter()
                .all(Option::is_none)
        );
    }

    #[test]
    fn a_seed_repeats_the_latencies_too() {
        let chaos = Chaos {
            seed: Some(3),
            latency: Some("0..1000".parse().unwrap()),
            reset: 0.5,
            ..Chaos::default()
        };
        let plans = |chaos: &Chaos| {
            let engine = ChaosEngine::new(chaos).unwrap();
            assert_eq!(engine.seed(), 3);
            (0..50).map(|_| engine.plan("GET")).collect::<Vec<_>>()
        };
        let first = plans(&chaos);
        assert_eq!(first, plans(&chaos));
        assert!(first.iter().any(|p| p.latency != first[0].latency));
        // Without a seed, one is picked and reported.
        let unseeded = ChaosEngine::new(&Chaos::spread(0.5)).unwrap();
        let again = ChaosEngine::new(&Chaos {
            seed: Some(unseeded.seed()),
            ..Chaos::spread(0.5)
        })
        .unwrap();
        let faults = |engine: &ChaosEngine| {
            (0..50)
                .map(|_| engine.plan("POST").fault)
                .collect::<Vec<_>>()
        };
        assert_eq!(faults(&unseeded), faults(&again));
    }

    #[test]
    fn latency_is_in_range_and_scaled() {
        let chaos = Chaos {
            latency: Some("10..20".parse().unwrap()),
            time_scale: 2.0,
            ..Chaos::default()
        };
        let engine = ChaosEngine::new(&chaos).unwrap();
        for _ in 0..100 {
            let plan = engine.plan("GET");
            assert_eq!(plan.fault, None);
            assert!(
                plan.latency >= Duration::from_millis(5)
                    && plan.latency <= Duration::from_millis(10),
                "{plan:?}"
            );
        }
    }

    #[test]
    fn buckets_hold_one_second_and_refill_with_the_time_scale() {
        let start = Instant::now();
        let chaos = Chaos {
            global_rate: Some(10),
            endpoint_rate: Some(4),
            time_scale: 5.0,
            ..Chaos::default()
        };
        let limiters = Limiters::new(&chaos, start);
        // `n` requests to `endpoint` at `at` pass; then one is refused by `refusal`, if any.
        let admits = |endpoint: &str, at: Instant, n: usize, refusal: Option<Fault>| {
            for i in 0..n {
                let result = limiters.admit(endpoint, at);
                assert!(result.is_ok(), "{endpoint} #{i}: {:?}", result.err());
            }
            if let Some(fault) = refusal {
                let refused = limiters.admit(endpoint, at).err().map(|(f, _)| f);
                assert_eq!(refused, Some(fault), "{endpoint} #{n}");
            }
        };
        admits("GET /v1/products", start, 4, Some(Fault::EndpointRateLimit));
        admits("GET /v1/prices", start, 4, None);
        admits("GET /v1/tax_rates", start, 2, None);
        // The global bucket (10) is empty; a refused request took no token.
        admits("GET /v1/coupons", start, 0, Some(Fault::GlobalRateLimit));
        // 0.1 real s at scale 5 = 0.5 sandbox s: 5 global tokens, 2 per endpoint.
        let later = start + Duration::from_millis(100);
        admits("GET /v1/products", later, 2, Some(Fault::EndpointRateLimit));
        admits("GET /v1/coupons", later, 3, Some(Fault::GlobalRateLimit));
        // Never more than one second of tokens.
        let much_later = start + Duration::from_secs(60);
        let admitted = (0..20)
            .filter(|_| limiters.admit("GET /v1/customers", much_later).is_ok())
            .count();
        assert_eq!(admitted, 4);
    }
}
