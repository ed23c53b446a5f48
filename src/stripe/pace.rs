//! Pacing: billing sends requests no faster than Stripe's rate limits, globally and per
//! endpoint, and slows down when Stripe says it is going too fast anyway.
//!
//! Each limit is a token bucket holding one second of requests (its burst), kept as the time
//! the next request may go ("virtual scheduling"): a request reserves a slot in the global
//! bucket and in its endpoint's, and waits for the later of the two. A 429 `rate_limit` halves
//! the pace; every success wins back a little, up to the full rate.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Stripe's global limit in test mode, requests per second.
pub const TEST_RATE: f64 = 25.0;
/// Stripe's global limit in live mode.
pub const LIVE_RATE: f64 = 100.0;
/// Stripe's per-endpoint limit, in both modes.
pub const ENDPOINT_RATE: f64 = 25.0;

/// The slowest billing goes after repeated 429s, as a share of the configured rate.
const FLOOR: f64 = 0.05;

#[derive(Debug)]
struct Bucket {
    /// When the next request may go if the bucket were empty.
    next: Instant,
}

/// A bucket's burst: one second of requests.
const BURST: Duration = Duration::from_secs(1);

impl Bucket {
    /// A full bucket.
    fn new(now: Instant) -> Self {
        Self {
            next: now.checked_sub(BURST).unwrap_or(now),
        }
    }

    /// Reserves a slot at `rate` per second with one second of burst; returns when it is.
    fn reserve(&mut self, now: Instant, rate: f64) -> Instant {
        let interval = Duration::from_secs_f64(1.0 / rate.max(0.001));
        // Idle time earns at most one second of requests.
        let earliest = (now + interval).checked_sub(BURST).unwrap_or(now);
        let slot = self.next.max(earliest);
        self.next = slot + interval;
        slot.max(now)
    }
}

/// Paces requests to an account.
#[derive(Debug)]
pub struct Pacer {
    rate: f64,
    endpoint_rate: f64,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    global: Bucket,
    endpoints: HashMap<String, Bucket>,
    /// Share of the configured rates in use (1.0: full speed).
    share: f64,
}

impl Pacer {
    /// Paces at `rate` requests per second overall and `endpoint_rate` per endpoint.
    pub fn new(rate: f64, endpoint_rate: f64) -> Self {
        let now = Instant::now();
        Self {
            rate,
            endpoint_rate,
            state: Mutex::new(State {
                global: Bucket::new(now),
                endpoints: HashMap::new(),
                share: 1.0,
            }),
        }
    }

    /// How long the request to `endpoint` must wait before it goes (the slot is reserved).
    pub fn reserve(&self, endpoint: &str) -> Duration {
        let now = Instant::now();
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let share = state.share;
        let global = state.global.reserve(now, self.rate * share);
        let local = state
            .endpoints
            .entry(endpoint.to_owned())
            .or_insert_with(|| Bucket::new(now))
            .reserve(now, self.endpoint_rate * share);
        global.max(local).saturating_duration_since(now)
    }

    /// Waits for a slot for `endpoint`.
    pub async fn wait(&self, endpoint: &str) {
        let delay = self.reserve(endpoint);
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
    }

    /// Stripe answered 429 `rate_limit`: go at half the pace.
    pub fn slow_down(&self) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.share = (state.share * 0.5).max(FLOOR);
    }

    /// A request went through: win back a little speed.
    pub fn speed_up(&self) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.share = (state.share * 1.05).min(1.0);
    }

    /// The share of the configured rates in use.
    pub fn share(&self) -> f64 {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).share
    }
}

/// The endpoint of a request for pacing: the method and the path with ids replaced
/// (`POST /v1/prices/{id}`). A segment holding a digit is an id (resource names have none).
pub fn endpoint(method: &str, path: &str) -> String {
    let mut out = String::from(method);
    out.push(' ');
    for (i, segment) in path.split('/').enumerate() {
        if i > 0 {
            out.push('/');
        }
        if i > 1 && segment.bytes().any(|b| b.is_ascii_digit()) {
            out.push_str("{id}");
        } else {
            out.push_str(segment);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_group_requests_by_route() {
        assert_eq!(
            endpoint("POST", "/v1/prices/price_1Ab2"),
            "POST /v1/prices/{id}"
        );
        assert_eq!(endpoint("GET", "/v1/prices"), "GET /v1/prices");
        assert_eq!(
            endpoint("POST", "/v1/tax/settings"),
            "POST /v1/tax/settings"
        );
        assert_eq!(
            endpoint("POST", "/v1/billing_portal/configurations/bpc_9x"),
            "POST /v1/billing_portal/configurations/{id}"
        );
    }

    #[test]
    fn a_bucket_allows_one_second_of_burst_then_the_rate() {
        let now = Instant::now();
        let mut bucket = Bucket::new(now);
        // After a second of idleness, 10 requests at 10/s go at once...
        let later = now + Duration::from_secs(1);
        let slots: Vec<Instant> = (0..10).map(|_| bucket.reserve(later, 10.0)).collect();
        assert!(slots.iter().all(|s| *s == later));
        // ...and the next ones are spaced by 100 ms.
        let next = bucket.reserve(later, 10.0);
        assert_eq!(next - later, Duration::from_millis(100));
        let after = bucket.reserve(later, 10.0);
        assert_eq!(after - next, Duration::from_millis(100));
    }

    #[test]
    fn the_pace_halves_on_429_and_recovers_on_success() {
        let pacer = Pacer::new(100.0, 25.0);
        pacer.slow_down();
        pacer.slow_down();
        assert!((pacer.share() - 0.25).abs() < 1e-9);
        for _ in 0..100 {
            pacer.speed_up();
        }
        assert!((pacer.share() - 1.0).abs() < 1e-9);
        for _ in 0..20 {
            pacer.slow_down();
        }
        assert!((pacer.share() - FLOOR).abs() < 1e-9);
    }

    #[test]
    fn the_endpoint_limit_holds_even_under_the_global_one() {
        let pacer = Pacer::new(1000.0, 10.0);
        // A second of burst at 10/s: the 11th request to one endpoint waits.
        let waits: Vec<Duration> = (0..11).map(|_| pacer.reserve("POST /v1/prices")).collect();
        assert!(waits[..10].iter().all(|w| w.is_zero()), "{waits:?}");
        assert!(waits[10] > Duration::from_millis(50), "{waits:?}");
        // Another endpoint is not held up.
        assert!(pacer.reserve("GET /v1/prices").is_zero());
    }
}
