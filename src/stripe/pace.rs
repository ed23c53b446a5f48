//! Pacing: billing sends requests no faster than Stripe's rate limits, globally and per
//! endpoint, and slows down when Stripe says it is going too fast anyway.
//!
//! Each limit is a token bucket holding one second of requests (its burst), kept as the time
//! the next request may go ("virtual scheduling"): a request goes at the later of the slots the
//! global bucket and its endpoint's offer, and both buckets count it at that time (so neither
//! refills as if it had gone earlier). A 429 `rate_limit` halves the pace, once per second at
//! most (the requests in flight when Stripe pushed back are answered together); every success
//! wins back a little, up to the full rate.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::resource::ResourceKind;

/// Stripe's global limit in test mode, requests per second.
pub(crate) const TEST_RATE: f64 = 25.0;
/// Stripe's global limit in live mode.
pub(crate) const LIVE_RATE: f64 = 100.0;
/// Stripe's per-endpoint limit, in both modes.
pub(crate) const ENDPOINT_RATE: f64 = 25.0;

/// The slowest billing goes after repeated 429s, as a share of the configured rate.
const FLOOR: f64 = 0.05;

/// A token bucket as the generic cell rate algorithm keeps it: the theoretical arrival time
/// of the next request; a request conforms when it is at most one burst ahead of it.
#[derive(Debug)]
struct Bucket {
    tat: Instant,
}

/// A bucket's burst: one second of requests.
const BURST: Duration = Duration::from_secs(1);

/// At most one slow-down per this long: one push-back answers all the requests in flight.
const SLOW_DOWN_WINDOW: Duration = Duration::from_secs(1);

/// The time between two requests at `rate` per second.
fn interval(rate: f64) -> Duration {
    Duration::from_secs_f64(1.0 / rate.max(0.001))
}

impl Bucket {
    /// A full bucket.
    fn new(now: Instant) -> Self {
        Self { tat: now }
    }

    /// The earliest time from `now` a request may go at `rate` per second: idle time earns at
    /// most one second of requests (one request at least, below 1/s).
    fn earliest(&self, now: Instant, rate: f64) -> Instant {
        let interval = interval(rate);
        let tolerance = BURST.max(interval) - interval;
        self.tat
            .checked_sub(tolerance)
            .map_or(now, |at| at.max(now))
    }

    /// Counts a request sent at `at`.
    fn take(&mut self, at: Instant, rate: f64) {
        self.tat = self.tat.max(at) + interval(rate);
    }

    /// Reserves a slot at `rate` per second; returns when it is.
    #[cfg(test)]
    fn reserve(&mut self, now: Instant, rate: f64) -> Instant {
        let slot = self.earliest(now, rate);
        self.take(slot, rate);
        slot.max(now)
    }
}

/// Paces requests to an account.
#[derive(Debug)]
pub(crate) struct Pacer {
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
    /// When the pace was last halved.
    slowed: Option<Instant>,
}

impl Pacer {
    /// Paces at `rate` requests per second overall and `endpoint_rate` per endpoint.
    pub(crate) fn new(rate: f64, endpoint_rate: f64) -> Self {
        let now = Instant::now();
        Self {
            rate,
            endpoint_rate,
            state: Mutex::new(State {
                global: Bucket::new(now),
                endpoints: HashMap::new(),
                share: 1.0,
                slowed: None,
            }),
        }
    }

    /// How long the request to `endpoint` must wait before it goes (the slot is reserved).
    pub(crate) fn reserve(&self, endpoint: &str) -> Duration {
        let now = Instant::now();
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let (rate, endpoint_rate) = (self.rate * state.share, self.endpoint_rate * state.share);
        let State {
            global, endpoints, ..
        } = &mut *state;
        let local = endpoints
            .entry(endpoint.to_owned())
            .or_insert_with(|| Bucket::new(now));
        let slot = global
            .earliest(now, rate)
            .max(local.earliest(now, endpoint_rate));
        global.take(slot, rate);
        local.take(slot, endpoint_rate);
        slot.saturating_duration_since(now)
    }

    /// Waits for a slot for `endpoint`.
    pub(crate) async fn wait(&self, endpoint: &str) {
        let delay = self.reserve(endpoint);
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
    }

    /// Stripe answered 429 `rate_limit`: go at half the pace (once per second at most).
    pub(crate) fn slow_down(&self) {
        self.slow_down_at(Instant::now());
    }

    fn slow_down_at(&self, now: Instant) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if state
            .slowed
            .is_some_and(|at| now.saturating_duration_since(at) < SLOW_DOWN_WINDOW)
        {
            return;
        }
        state.slowed = Some(now);
        state.share = (state.share * 0.5).max(FLOOR);
    }

    /// A request went through: win back a little speed.
    pub(crate) fn speed_up(&self) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.share = (state.share * 1.05).min(1.0);
    }

    /// The share of the configured rates in use.
    #[cfg(test)]
    pub(crate) fn share(&self) -> f64 {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).share
    }
}

/// The words of the API paths billing calls besides its kinds' own paths; any other segment
/// is an object id.
const ROUTE_WORDS: &[&str] = &["v1", "account", "customers", "events"];

/// Whether a path segment is a word of an API path, not an object id.
fn route_word(segment: &str) -> bool {
    ROUTE_WORDS.contains(&segment)
        || ResourceKind::ALL
            .into_iter()
            .any(|kind| kind.api_path().split('/').any(|word| word == segment))
}

/// The endpoint of a request for pacing: the method and the path with ids replaced
/// (`POST /v1/prices/{id}`). Ids are told by what they are not: a route word. (A coupon's id is
/// whatever the catalog pins, `spring` say, so no shape of id can be relied on.)
pub(crate) fn endpoint(method: &str, path: &str) -> String {
    let path = path.split('?').next().unwrap_or_default();
    let mut out = String::from(method);
    out.push(' ');
    for (i, segment) in path.split('/').enumerate() {
        if i > 0 {
            out.push('/');
        }
        if segment.is_empty() || route_word(segment) {
            out.push_str(segment);
        } else {
            out.push_str("{id}");
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
        // Ids without digits: pinned coupon ids, and generated ids that happen to have none.
        assert_eq!(
            endpoint("DELETE", "/v1/coupons/spring"),
            "DELETE /v1/coupons/{id}"
        );
        assert_eq!(
            endpoint("POST", "/v1/products/prod_AbCdEfGhIjKlMn"),
            "POST /v1/products/{id}"
        );
        assert_eq!(
            endpoint("GET", "/v1/prices?limit=100&active=true"),
            "GET /v1/prices"
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
    fn the_pace_halves_on_429_once_a_second_and_recovers_on_success() {
        let pacer = Pacer::new(100.0, 25.0);
        let start = Instant::now();
        // Eight requests in flight answered 429 together: one halving.
        for _ in 0..8 {
            pacer.slow_down_at(start);
        }
        assert!((pacer.share() - 0.5).abs() < 1e-9);
        pacer.slow_down_at(start + Duration::from_millis(1500));
        assert!((pacer.share() - 0.25).abs() < 1e-9);
        for _ in 0..100 {
            pacer.speed_up();
        }
        assert!((pacer.share() - 1.0).abs() < 1e-9);
        for second in 2..30 {
            pacer.slow_down_at(start + Duration::from_secs(second));
        }
        assert!((pacer.share() - FLOOR).abs() < 1e-9);
    }

    #[test]
    fn both_buckets_count_a_request_when_it_goes() {
        // Global 2/s (a burst of 2), 1/s per endpoint. The endpoint holds the second POST back
        // a second; the global bucket counts it then, so at that moment it has room for one
        // more request, not for a fresh burst of two.
        let pacer = Pacer::new(2.0, 1.0);
        assert!(pacer.reserve("POST /v1/prices").is_zero());
        let second = pacer.reserve("POST /v1/prices");
        assert!(second >= Duration::from_millis(990), "{second:?}");
        let third = pacer.reserve("GET /v1/prices");
        assert!(third >= Duration::from_millis(990), "{third:?}");
        let fourth = pacer.reserve("GET /v1/coupons");
        assert!(
            fourth >= third + Duration::from_millis(490),
            "{fourth:?} after {third:?}"
        );
    }

    #[test]
    fn a_rate_below_one_per_second_still_lets_the_first_request_go() {
        let pacer = Pacer::new(0.5, 0.5);
        assert!(pacer.reserve("GET /v1/prices").is_zero());
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
