//! Partitioned listing (`billing::live::read_counted`) against the in-process sandbox over
//! HTTP: big lists are read as concurrent cursor chains over disjoint `created` ranges, and
//! must still return every object exactly once, in the order one cursor chain returns them,
//! for about `ceil(objects / 100)` requests.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use billing::ResourceKind;
use billing::{BASE_SPLITS, LiveState, ReadScope, ReadStats, read_counted};
use billing::{ClientSettings, SecretKey, StripeHttp};
use stripe_sandbox::{Chaos, Latency, Sandbox};

use stripe_sandbox::test_support::{KEY, Req, pipelined, product, start};

use crate::support::list_all;

/// A client for `sandbox`; `fast`: no pacing to speak of (the sandbox has no rate limit).
fn client(sandbox: &Sandbox, fast: bool) -> StripeHttp {
    let mut settings = ClientSettings::new(sandbox.base_url(), SecretKey::new(KEY));
    if fast {
        settings.rate = Some(10_000.0);
        settings.endpoint_rate = Some(10_000.0);
    }
    StripeHttp::new(settings).expect("client")
}

async fn read(sandbox: &Sandbox, fast: bool) -> (LiveState, ReadStats) {
    read_counted(&client(sandbox, fast), &ReadScope::default())
        .await
        .expect("the state reads")
}

/// Creates `n` prices of `product` (pipelined, so hundreds share one `created` second);
/// `archived`: created inactive.
fn create_prices(sandbox: &Sandbox, product: &str, n: usize, archived: bool, tag: &str) {
    let requests: Vec<Req> = (0..n)
        .map(|i| {
            Req::post(
                "/v1/prices",
                &format!(
                    "currency=usd&product={product}&unit_amount={}&active={}&metadata[n]={tag}{i}",
                    i + 1,
                    !archived
                ),
            )
        })
        .collect();
    let statuses = pipelined(sandbox, &requests);
    assert_eq!(statuses.len(), n);
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
}

/// Every price with `active` as given, by one cursor chain (the reference order), with the
/// `created` of each.
fn one_chain(sandbox: &Sandbox, active: bool) -> Vec<(String, i64)> {
    list_all(sandbox, &format!("/v1/prices?active={active}"))
        .iter()
        .map(|p| {
            (
                p["id"].as_str().unwrap().to_owned(),
                p["created"].as_i64().unwrap(),
            )
        })
        .collect()
}

fn ids(state: &LiveState, active: bool) -> Vec<String> {
    state
        .prices
        .iter()
        .filter(|p| p.active == active)
        .map(|p| p.id.to_string())
        .collect()
}

/// The `GET /v1/prices` requests of one list (`active=…`) the sandbox logged.
fn price_pages(sandbox: &Sandbox, active: bool) -> Vec<String> {
    sandbox
        .requests()
        .into_iter()
        .filter(|r| r.method == "GET" && r.path == "/v1/prices")
        .filter(|r| r.query.contains(&format!("active={active}")))
        .map(|r| r.query)
        .collect()
}

/// Requests a list of `n` objects may cost: `ceil(n / 100)` pages, plus at most one per split,
/// and splits are capped at `BASE_SPLITS` plus one per 2,000 objects.
fn allowed(n: usize) -> f64 {
    1.1 * n.div_ceil(100) as f64 + BASE_SPLITS as f64
}

/// Thousands of prices, created in bursts that share one second, in sparse trickles and
/// across long gaps, active and archived: the partitioned read returns each exactly once, in
/// exactly the order a single cursor chain returns them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_price_exactly_once_in_list_order_over_bursts_and_gaps() {
    let sandbox = start();
    let prod = product(&sandbox, "name=Listing");
    // Steady, from the account's creation on: 10 prices in each of 200 consecutive seconds, so
    // that splits fall on seconds that hold prices.
    for i in 0..200 {
        create_prices(&sandbox, &prod, 10, false, &format!("a{i}_"));
        sandbox.advance_clock(1).unwrap();
    }
    sandbox.advance_clock(3_600).unwrap();
    // A trickle: one price every ~97 s, some archived.
    for i in 0..40 {
        create_prices(&sandbox, &prod, 1, i % 4 == 0, &format!("b{i}_"));
        sandbox.advance_clock(97).unwrap();
    }
    sandbox.advance_clock(10 * 86_400).unwrap();
    // A burst: 1,500 prices within a second or two.
    create_prices(&sandbox, &prod, 1_500, false, "c");
    sandbox.advance_clock(400 * 86_400).unwrap();
    // Archived ones, enough to be split too, and a final burst.
    create_prices(&sandbox, &prod, 1_200, true, "d");
    sandbox.advance_clock(7).unwrap();
    create_prices(&sandbox, &prod, 700, false, "e");

    let active = one_chain(&sandbox, true);
    let archived = one_chain(&sandbox, false);
    assert_eq!(
        active.len() + archived.len(),
        2_000 + 40 + 1_500 + 1_200 + 700
    );
    let shared = active.windows(2).filter(|w| w[0].1 == w[1].1).count();
    assert!(shared > 1_000, "many prices share a second ({shared})");

    let (state, stats) = read(&sandbox, true).await;
    let reference: Vec<String> = active.iter().map(|(id, _)| id.clone()).collect();
    assert_eq!(
        ids(&state, true),
        reference,
        "active prices, once each, in list order"
    );
    let reference: Vec<String> = archived.iter().map(|(id, _)| id.clone()).collect();
    assert_eq!(
        ids(&state, false),
        reference,
        "archived prices, once each, in list order"
    );
    let unique: HashSet<&str> = state.prices.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(unique.len(), state.prices.len());
    assert_eq!(stats.total().duplicates, 0, "{stats:?}");
    assert_eq!(stats.total().strays, 0, "{stats:?}");
    // The lists were read in parallel, within the request budget.
    assert!(stats.of(ResourceKind::Price).splits >= 2, "{stats:?}");
    assert!(stats.archived(ResourceKind::Price).splits >= 1, "{stats:?}");
    assert!(
        stats.of(ResourceKind::Price).requests as f64 <= allowed(active.len()),
        "{stats:?}"
    );
    assert!(
        stats.archived(ResourceKind::Price).requests as f64 <= allowed(archived.len()),
        "{stats:?}"
    );
}

/// Prices created by another client while the list is read (the clock jumping too): every
/// price that existed before is read exactly once, and none twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prices_created_while_listing_are_never_read_twice() {
    let sandbox = Arc::new(start());
    let prod = product(&sandbox, "name=Listing");
    // 20 prices in each of 150 consecutive seconds.
    for i in 0..150 {
        create_prices(&sandbox, &prod, 20, false, &format!("p{i}_"));
        sandbox.advance_clock(1).unwrap();
    }
    let before: Vec<String> = one_chain(&sandbox, true)
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert_eq!(before.len(), 3_000);

    let stop = Arc::new(AtomicBool::new(false));
    let written = Arc::new(AtomicUsize::new(0));
    let writer = {
        let (sandbox, stop, written, prod) = (
            Arc::clone(&sandbox),
            Arc::clone(&stop),
            Arc::clone(&written),
            prod.clone(),
        );
        std::thread::spawn(move || {
            let mut round = 0;
            while !stop.load(Ordering::Relaxed) {
                create_prices(&sandbox, &prod, 20, false, &format!("new{round}_"));
                written.fetch_add(20, Ordering::Relaxed);
                if round % 3 == 0 {
                    sandbox.advance_clock(1).unwrap();
                }
                round += 1;
            }
        })
    };
    while written.load(Ordering::Relaxed) == 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let at_start = written.load(Ordering::Relaxed);
    // Paced at Stripe's 25 requests per second: the read takes over a second, writes go on.
    let (state, stats) = read(&sandbox, false).await;
    let during = written.load(Ordering::Relaxed) - at_start;
    stop.store(true, Ordering::Relaxed);
    writer.join().unwrap();
    assert!(during > 0, "prices were created while the list was read");

    let listed = ids(&state, true);
    let unique: HashSet<&str> = listed.iter().map(String::as_str).collect();
    assert_eq!(unique.len(), listed.len(), "no price read twice");
    assert_eq!(stats.of(ResourceKind::Price).duplicates, 0, "{stats:?}");
    let mut existing = before.iter().map(String::as_str).collect::<HashSet<_>>();
    for id in &listed {
        existing.remove(id.as_str());
    }
    assert!(existing.is_empty(), "{} prices missed", existing.len());
    assert!(stats.of(ResourceKind::Price).splits >= 2, "{stats:?}");
    // Those read are in list order: newest first.
    let created: Vec<i64> = state.prices.iter().map(|p| p.created).collect();
    assert!(created.windows(2).all(|w| w[0] >= w[1]));
}

/// Request count: listing N prices costs no more than `1.1 × ceil(N / 100) + BASE_SPLITS`
/// requests, counted in the sandbox's log, and more than one chain was used.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listing_costs_about_one_request_per_hundred_objects() {
    let sandbox = start();
    let prod = product(&sandbox, "name=Listing");
    // Stretches of steady creation at different rates, ten minutes apart.
    let mut n = 0;
    for (stretch, (seconds, per_second)) in [(60, 20), (100, 5), (30, 40), (200, 3), (50, 12)]
        .into_iter()
        .enumerate()
    {
        for i in 0..seconds {
            create_prices(
                &sandbox,
                &prod,
                per_second,
                false,
                &format!("r{stretch}_{i}_"),
            );
            n += per_second;
            sandbox.advance_clock(1).unwrap();
        }
        sandbox.advance_clock(600).unwrap();
    }
    // Smaller lists too: one request each for a handful, no split below ten pages.
    for (count, pages_at_most) in [(0, 1), (1, 1), (100, 1), (101, 2)] {
        let small = start();
        let prod = product(&small, "name=Small");
        if count > 0 {
            create_prices(&small, &prod, count, false, "s");
        }
        small.clear_requests();
        let (state, stats) = read(&small, true).await;
        assert_eq!(state.prices.len(), count);
        assert_eq!(price_pages(&small, true).len(), pages_at_most, "{stats:?}");
        assert_eq!(stats.of(ResourceKind::Price).splits, 0);
    }

    sandbox.clear_requests();
    let (state, stats) = read(&sandbox, true).await;
    assert_eq!(state.prices.len(), n);
    let pages = price_pages(&sandbox, true);
    assert_eq!(pages.len(), stats.of(ResourceKind::Price).requests);
    let bound = n.div_ceil(100);
    eprintln!(
        "{n} prices: {} requests (ceil(n/100) = {bound}), {} splits",
        pages.len(),
        stats.of(ResourceKind::Price).splits
    );
    assert!(pages.len() >= bound);
    assert!(pages.len() as f64 <= allowed(n), "{} requests", pages.len());
    // Chains: the first page has no filter; each later chain starts without a cursor.
    let chains = pages
        .iter()
        .filter(|q| q.contains("created") && !q.contains("starting_after"))
        .count();
    assert!(chains >= 3, "{chains} chains besides the first: {pages:#?}");
    assert_eq!(chains, stats.of(ResourceKind::Price).splits);
}

/// Measurement (ignored by default): a no-op plan's read at 10,000 prices over 1,000 products,
/// plus 10% objects nobody manages, paced at 25 requests per second behind 80 ms of latency.
/// Run with `cargo test --test integration listing_at_scale -- --ignored --nocapture`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "slow: creates 12,100 objects and reads them at Stripe's pace"]
async fn listing_at_scale() {
    let sandbox = start();
    let products: Vec<Req> = (0..1_100)
        .map(|i| Req::post("/v1/products", &format!("id=prod_scale{i}&name=P{i}")))
        .collect();
    assert!(pipelined(&sandbox, &products).iter().all(|s| *s == 200));
    // Eleven batches an hour apart, each created at 25 per second (as `billing apply` would).
    for batch in 0..11 {
        let prices: Vec<Req> = (0..1_000)
            .map(|i| {
                let product = (batch * 1_000 + i) % 1_100;
                Req::post(
                    "/v1/prices",
                    &format!(
                        "currency=usd&product=prod_scale{product}&unit_amount={}",
                        i + 1
                    ),
                )
            })
            .collect();
        for chunk in prices.chunks(25) {
            assert!(pipelined(&sandbox, chunk).iter().all(|s| *s == 200));
            sandbox.advance_clock(1).unwrap();
        }
        sandbox.advance_clock(3_600).unwrap();
    }
    sandbox
        .set_chaos(Chaos {
            latency: Some(
                Latency::new(Duration::from_millis(80), Duration::from_millis(80)).unwrap(),
            ),
            ..Chaos::default()
        })
        .unwrap();
    sandbox.clear_requests();
    let started = Instant::now();
    let (state, stats) = read(&sandbox, false).await;
    let elapsed = started.elapsed();
    let requests = sandbox.requests().len();
    let bound = 11_000usize.div_ceil(100) + 1_100usize.div_ceil(100) + 1; // + the default portal
    assert_eq!(state.prices.len(), 11_000);
    assert_eq!(state.products.len(), 1_100);
    eprintln!(
        "read {} prices and {} products: {requests} requests (bound {bound}, target {:.0}), \
         {elapsed:?} (target {:.2} s); {stats:#?}",
        state.prices.len(),
        state.products.len(),
        1.1 * bound as f64 + 10.0,
        1.5 * (requests as f64 / 25.0).max(2.0 * 0.08)
    );
    assert!(requests as f64 <= 1.1 * bound as f64 + 10.0);
}
