//! Partitioned listing: one list endpoint read as up to [`MAX_CHAINS`] concurrent cursor chains
//! over disjoint `created` ranges, so a big list costs about `ceil(objects / 100)` requests
//! sent side by side instead of one after another.
//!
//! Stripe pages follow a cursor, so one chain is one request at a time; a `created` range
//! filter (`created[gte]=a&created[lt]=b`) lets several chains run at once. The first request
//! covers the whole list, with no filter: a small list is done in one request. When there is
//! more, the chain's page tells how densely objects were created (objects per second), and the
//! chain carves off the older part of what remains for a new chain:
//!
//! ```text
//!   chain after its page:     [lo ........................ oldest]  (cursor at `oldest`)
//!   after the split:          [lo ...... mid) new chain | [mid ... oldest] chain + cursor
//! ```
//!
//! The old chain keeps its cursor (the cursor object is inside its range, as Stripe requires),
//! the new chain starts without one. Ranges are half-open whole seconds, so objects created
//! within one second always fall in the same chain. The new chain learns its own density from
//! its first page and may split again, so an uneven history is discovered, not assumed.
//!
//! A split costs at most one request (every chain's last page may be short, or its range
//! empty), so the splits are capped: at most [`MAX_CHAINS`] chains at a time, a split only
//! when both parts are expected to hold [`MIN_CHAIN_PAGES`] pages, and at most
//! [`BASE_SPLITS`] splits plus one per [`OBJECTS_PER_SPLIT`] objects read. Hence, for `n`
//! objects, `requests ≤ ceil(n / 100) + splits ≤ 1.05 × ceil(n / 100) + BASE_SPLITS`.
//!
//! Order: each chain returns its objects in Stripe's list order (newest first) and the chains'
//! ranges are disjoint, so concatenating the chains from the newest range to the oldest gives
//! exactly the order a single cursor chain would have returned, ties within one second
//! included, without knowing how Stripe breaks them.
//!
//! Objects created while the list is read: every chain reads below a cursor or below a past
//! `created` bound, so a new object is seen at most once (only in the very first page), and
//! every object that existed when listing started exactly once.

use std::collections::HashSet;
use std::future::Future;

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use stripe_types::{RangeBoundsTs, RangeQueryTs};

use crate::stripe::StripeError;

/// Most chains of one list in flight at once. At 80 ms per request, 2–3 requests in flight
/// already reach Stripe's 25 requests per second; 8 absorb slower links and uneven chains.
pub(crate) const MAX_CHAINS: usize = 8;

/// A chain splits only when each part is expected to hold at least this many pages.
pub(crate) const MIN_CHAIN_PAGES: f64 = 5.0;

/// Splits every list may make, on top of one per [`OBJECTS_PER_SPLIT`] objects read.
pub const BASE_SPLITS: usize = 7;

/// Objects read that earn one more split (for the tail of a long list, where chains end
/// unevenly).
pub(super) const OBJECTS_PER_SPLIT: usize = 2_000;

/// Objects per page (Stripe's largest).
const PAGE: f64 = 100.0;

/// What one request of a chain asks for: objects created in `[gte, lt)` after the cursor.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Window {
    /// Inclusive lower bound of `created`, in Unix seconds (`None`: unbounded).
    pub gte: Option<i64>,
    /// Exclusive upper bound of `created` (`None`: unbounded).
    pub lt: Option<i64>,
    /// The last object of the previous page.
    pub starting_after: Option<String>,
}

impl Window {
    /// The `created` filter for this window, if it has a bound.
    pub(super) fn created(&self) -> Option<RangeQueryTs> {
        (self.gte.is_some() || self.lt.is_some()).then(|| {
            RangeQueryTs::Bounds(RangeBoundsTs {
                gte: self.gte,
                lt: self.lt,
                ..RangeBoundsTs::default()
            })
        })
    }

    fn contains(&self, created: i64) -> bool {
        self.gte.is_none_or(|lo| created >= lo) && self.lt.is_none_or(|hi| created < hi)
    }
}

/// One page of a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Page<T> {
    pub data: Vec<T>,
    pub has_more: bool,
}

/// What the lister needs to know about an object.
pub(super) trait Listed {
    fn id(&self) -> &str;
    /// Unix seconds.
    fn created(&self) -> i64;
}

impl<T: super::LiveObject> Listed for T {
    fn id(&self) -> &str {
        super::LiveObject::id(self)
    }
    fn created(&self) -> i64 {
        super::LiveObject::created(self)
    }
}

/// How a list was read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ListStats {
    /// Requests sent (pages read).
    pub requests: usize,
    /// Chains started beyond the first.
    pub splits: usize,
    /// Objects that came back twice and were dropped; never expected (the ranges are
    /// disjoint), counted to prove it.
    pub duplicates: usize,
    /// Objects outside the `created` range asked for, dropped; never expected from Stripe.
    pub strays: usize,
}

impl std::ops::AddAssign for ListStats {
    fn add_assign(&mut self, other: Self) {
        self.requests += other.requests;
        self.splits += other.splits;
        self.duplicates += other.duplicates;
        self.strays += other.strays;
    }
}

/// One cursor chain over `window`'s range.
struct Chain<T> {
    window: Window,
    items: Vec<T>,
}

/// Reads every object of a list, splitting it by `created` when it pays. `origin` is the
/// oldest `created` to expect (the account's creation): it only sizes the splits, so a wrong
/// one costs requests, never objects. `fetch` reads one page of a window.
pub(super) async fn list_all<T, F, Fut>(
    origin: i64,
    fetch: F,
) -> Result<(Vec<T>, ListStats), StripeError>
where
    T: Listed,
    F: Fn(Window) -> Fut,
    Fut: Future<Output = Result<Page<T>, StripeError>>,
{
    let mut stats = ListStats::default();
    let mut chains: Vec<Chain<T>> = vec![Chain {
        window: Window::default(),
        items: Vec::new(),
    }];
    let request = |chain: usize, window: Window| {
        let page = fetch(window);
        async move { (chain, page.await) }
    };
    let mut pending = FuturesUnordered::new();
    pending.push(request(0, Window::default()));
    let mut seen = 0usize;
    while let Some((at, page)) = pending.next().await {
        let page = page?;
        stats.requests += 1;
        let chain = &mut chains[at];
        let (newest, oldest) = match (page.data.first(), page.data.last()) {
            (Some(first), Some(last)) => (first.created(), last.created()),
            _ => continue,
        };
        let cursor = page.data.last().map(|o| o.id().to_owned());
        let count = page.data.len();
        seen += count;
        for item in page.data {
            if chain.window.contains(item.created()) {
                chain.items.push(item);
            } else {
                stats.strays += 1;
            }
        }
        if !page.has_more {
            continue;
        }
        chain.window.starting_after = cursor;
        let budget = BASE_SPLITS + seen / OBJECTS_PER_SPLIT;
        // Chains still reading, this one included.
        let running = pending.len() + 1;
        let split = (stats.splits < budget && running < MAX_CHAINS)
            .then(|| {
                split_point(
                    count,
                    newest,
                    oldest,
                    chain.window.gte.unwrap_or(origin),
                    MAX_CHAINS - running,
                )
            })
            .flatten();
        if let Some(mid) = split {
            let new = Window {
                gte: chain.window.gte,
                lt: Some(mid),
                starting_after: None,
            };
            chain.window.gte = Some(mid);
            stats.splits += 1;
            chains.push(Chain {
                window: new.clone(),
                items: Vec::new(),
            });
            pending.push(request(chains.len() - 1, new));
        }
        pending.push(request(at, chains[at].window.clone()));
    }
    // Newest range first; only the oldest chain is unbounded below.
    chains.sort_by_key(|c| std::cmp::Reverse(c.window.gte.unwrap_or(i64::MIN)));
    // Windows do not overlap and each chain keeps only what its window contains, so no object
    // should come twice; checked all the same. The chains are joined into the first one's
    // vector, each dropped once moved: no second copy of the whole list is held (at 100,000
    // prices, that copy alone was 45 MB).
    let mut twice: Vec<(usize, usize)> = Vec::new();
    {
        let mut ids: HashSet<&str> = HashSet::new();
        for (c, chain) in chains.iter().enumerate() {
            for (i, item) in chain.items.iter().enumerate() {
                if !ids.insert(item.id()) {
                    twice.push((c, i));
                }
            }
        }
    }
    stats.duplicates = twice.len();
    for &(c, i) in twice.iter().rev() {
        chains[c].items.remove(i);
    }
    let total: usize = chains.iter().map(|c| c.items.len()).sum();
    let mut chains = chains.into_iter();
    let mut out = chains.next().map(|c| c.items).unwrap_or_default();
    out.reserve_exact(total - out.len());
    for mut chain in chains {
        out.append(&mut chain.items);
    }
    debug_assert_eq!(
        stats.duplicates, 0,
        "partitioned listing saw an object twice"
    );
    Ok((out, stats))
}

/// Where a chain whose last page held `count` objects created from `newest` down to `oldest`
/// should hand the older part of its range to a new chain, given `floor`, the oldest `created`
/// its range may hold, and `free` chains left. `Some(mid)`: the chain keeps `[mid, oldest]`,
/// the new chain takes everything below `mid`.
///
/// Objects are assumed to go on at the page's density: the remaining ones are expected in
/// `[floor, oldest]`. The chain keeps its fair share of them (`1 / (free + 1)`, and at least
/// [`MIN_CHAIN_PAGES`]); the new chain takes the rest, which it may split again.
fn split_point(count: usize, newest: i64, oldest: i64, floor: i64, free: usize) -> Option<i64> {
    if free == 0 || count == 0 || oldest <= floor {
        return None;
    }
    let density = count as f64 / (newest - oldest + 1) as f64;
    let pages = density * (oldest - floor + 1) as f64 / PAGE;
    if pages < 2.0 * MIN_CHAIN_PAGES {
        return None;
    }
    let keep = (pages / (free + 1) as f64).max(MIN_CHAIN_PAGES);
    let seconds = (keep * PAGE / density).ceil().max(1.0);
    let mid = oldest.saturating_sub(seconds as i64).saturating_add(1);
    (mid > floor).then_some(mid)
}

/// A list endpoint over made-up objects that honours windows like Stripe: what the unit tests
/// read, and what [`simulate_listing`] paces like Stripe.
mod simulated {
    use super::{Listed, Page, Window};

    #[derive(Debug, Clone, PartialEq, Eq)]
    pub(super) struct Obj {
        id: String,
        created: i64,
    }

    impl Listed for Obj {
        fn id(&self) -> &str {
            &self.id
        }
        fn created(&self) -> i64 {
            self.created
        }
    }

    /// A page of `objects` (newest first) for `window`.
    pub(super) fn serve(objects: &[Obj], window: &Window) -> Page<Obj> {
        let start = match &window.starting_after {
            Some(id) => {
                let cursor = objects.iter().position(|o| &o.id == id);
                cursor.expect("the cursor is one of the objects") + 1
            }
            None => 0,
        };
        let mut matching = objects[start..]
            .iter()
            .filter(|o| window.contains(o.created))
            .cloned();
        let data: Vec<Obj> = matching.by_ref().take(100).collect();
        let has_more = matching.next().is_some();
        Page { data, has_more }
    }

    /// Objects with these `created`, newest first (ties in the given order).
    pub(super) fn objects(created: impl Iterator<Item = i64>) -> Vec<Obj> {
        let mut out: Vec<Obj> = created
            .enumerate()
            .map(|(i, c)| Obj {
                id: format!("o{i}"),
                created: c,
            })
            .collect();
        out.sort_by_key(|o| std::cmp::Reverse(o.created));
        out
    }
}

/// How [`list_all`] reads a list of objects created at `created` (Unix seconds) from a
/// simulated Stripe that answers each page after `latency`, with the client's own pacer at
/// `rate` requests per second: the objects read and the requests and splits it took. For
/// `benches/scale.rs`, which prints requests and time over history shapes; it sleeps through
/// every request.
pub fn simulate_listing(
    created: &[i64],
    latency: std::time::Duration,
    rate: f64,
) -> (usize, ListStats) {
    use std::sync::Arc;

    let origin = created.iter().copied().min().unwrap_or_default();
    let objects = Arc::new(simulated::objects(created.iter().copied()));
    let pacer = Arc::new(crate::stripe::pace::Pacer::new(rate, rate));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime for the simulation");
    let listed = runtime.block_on(list_all(origin, |window| {
        let (objects, pacer) = (Arc::clone(&objects), Arc::clone(&pacer));
        async move {
            pacer.wait("GET /v1/prices").await;
            tokio::time::sleep(latency).await;
            Ok(simulated::serve(&objects, &window))
        }
    }));
    let (read, stats) = listed.expect("the simulated list never fails");
    (read.len(), stats)
}

#[cfg(test)]
mod tests {
    use super::simulated::{Obj, objects, serve};
    use super::*;

    fn list(objects: &[Obj], origin: i64) -> (Vec<Obj>, ListStats) {
        let run = list_all(origin, |w| {
            let page = serve(objects, &w);
            async move { Ok(page) }
        });
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(run)
            .unwrap()
    }

    fn bound(n: usize) -> usize {
        n.div_ceil(100)
    }

    #[test]
    fn a_small_list_is_one_request() {
        let objs = objects((0..100).map(|i| 1000 + i));
        let (got, stats) = list(&objs, 0);
        assert_eq!(got, objs);
        assert_eq!(stats.requests, 1);
        assert_eq!(stats.splits, 0);
    }

    #[test]
    fn uniform_lists_split_and_keep_the_single_chain_order() {
        for n in [101, 1_000, 2_500, 10_000, 30_000] {
            // Two objects per second, with ties.
            let objs = objects((0..n as i64).map(|i| 1_000_000 + i / 2));
            let (got, stats) = list(&objs, 1_000_000);
            assert_eq!(got, objs, "n={n}");
            assert!(
                stats.requests as f64 <= 1.1 * bound(n) as f64 + BASE_SPLITS as f64,
                "n={n}: {stats:?}"
            );
            if n >= 2_500 {
                assert!(stats.splits >= 3, "n={n}: {stats:?}");
            }
        }
    }

    #[test]
    fn uneven_lists_bursts_and_gaps_are_read_exactly_once_in_order() {
        // A burst of 3,000 in one second, a sparse year, 2,000 over a minute, an old handful.
        let mut created = vec![5_000_000; 3_000];
        created.extend((0..300).map(|i| 4_000_000 + i * 3_000));
        created.extend((0..2_000).map(|i| 3_999_000 + i % 60));
        created.extend((0..7).map(|i| 1_000 + i));
        let n = created.len();
        let objs = objects(created.into_iter());
        for origin in [0, 1_000, 3_000_000, 6_000_000] {
            let (got, stats) = list(&objs, origin);
            assert_eq!(got, objs, "origin={origin}");
            assert_eq!(stats.duplicates + stats.strays, 0);
            assert!(
                stats.requests as f64 <= 1.1 * bound(n) as f64 + BASE_SPLITS as f64,
                "origin={origin}: {stats:?}"
            );
        }
    }

    #[test]
    fn split_points_leave_both_parts_enough_pages() {
        // 100 objects over 10 s: 10 per second; 1,000 s below: ~100 pages, 7 chains free.
        let mid = split_point(100, 2_000, 1_991, 991, 7).unwrap();
        let kept = (1_991 - mid + 1) as f64 * 10.0 / 100.0;
        assert!((12.0..=13.5).contains(&kept), "{mid} keeps {kept} pages");
        // Too little below to be worth a chain.
        assert_eq!(split_point(100, 2_000, 1_991, 1_900, 7), None);
        // No chain free, or nothing below the page.
        assert_eq!(split_point(100, 2_000, 1_991, 0, 0), None);
        assert_eq!(split_point(100, 2_000, 1_991, 1_991, 7), None);
        // One second of 100 objects, 10 s below: the chain keeps 5 pages = 5 s.
        assert_eq!(split_point(100, 500, 500, 490, 7), Some(496));
    }

    #[test]
    fn windows_are_half_open() {
        let w = Window {
            gte: Some(10),
            lt: Some(20),
            starting_after: None,
        };
        assert!(w.contains(10) && w.contains(19) && !w.contains(20) && !w.contains(9));
        assert_eq!(Window::default().created(), None);
    }
}
