//! Scale: listing 10,000 prices, in memory and from a state file. Ignored by default (it
//! creates 10,000 prices); run with `cargo test --test integration scale -- --ignored
//! --nocapture` to see the timings.

use std::time::{Duration, Instant};

use stripe_sandbox::Sandbox;
use stripe_sandbox::SandboxConfig;

use super::support::{Req, pipelined, product, start, start_with};

const PRICES: usize = 10_000;

/// Pages through every active price, 100 at a time with includable fields expanded (as the
/// tool reads them); returns how many were listed and the time per page.
fn list_all(sandbox: &Sandbox) -> (usize, Duration) {
    let started = Instant::now();
    let mut seen = 0;
    let mut pages = 0;
    let mut after = String::new();
    loop {
        let page = Req::get(&format!(
            "/v1/prices?limit=100&active=true&expand[]=data.tiers&expand[]=data.currency_options{after}"
        ))
        .send(sandbox);
        assert_eq!(page.status, 200, "{}", page.body);
        let page = page.json();
        let data = page["data"].as_array().unwrap();
        seen += data.len();
        pages += 1;
        if !page["has_more"].as_bool().unwrap() {
            return (seen, started.elapsed() / pages);
        }
        after = format!(
            "&starting_after={}",
            data.last().unwrap()["id"].as_str().unwrap()
        );
    }
}

fn create_prices(sandbox: &Sandbox, prod: &str) {
    let requests: Vec<Req> = (0..PRICES)
        .map(|i| {
            Req::post(
                "/v1/prices",
                &format!(
                    "currency=usd&product={prod}&unit_amount={i}&currency_options[eur][unit_amount]={i}\
                     &lookup_key=k{i}&metadata[n]={i}"
                ),
            )
        })
        .collect();
    let started = Instant::now();
    let statuses = pipelined(sandbox, &requests);
    assert_eq!(statuses.len(), PRICES);
    assert!(statuses.iter().all(|s| *s == 200));
    eprintln!("created {PRICES} prices in {:?}", started.elapsed());
}

#[test]
#[ignore = "slow: creates 10,000 prices; run explicitly to measure"]
fn listing_ten_thousand_prices() {
    let sandbox = start();
    let prod = product(&sandbox, "name=Scale");
    create_prices(&sandbox, &prod);
    let (count, per_page) = list_all(&sandbox);
    assert_eq!(count, PRICES);
    eprintln!("in memory: {count} prices listed, {per_page:?} per page of 100");
    let started = Instant::now();
    for _ in 0..20 {
        let res = Req::get("/v1/prices?limit=1").send(&sandbox);
        assert_eq!(res.status, 200);
    }
    eprintln!(
        "in memory: GET /v1/prices?limit=1 {:?}",
        started.elapsed() / 20
    );

    // The same number of prices in a state file (written directly, which is quicker than
    // creating them one by one). Reads catch up with other processes' writes (a look at the
    // file and its journal); a write appends to the journal.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    let config = SandboxConfig {
        state: Some(path.clone()),
        ..SandboxConfig::default()
    };
    let seed = start_with(config.clone());
    let prod = product(&seed, "name=Scale");
    let first = super::support::price(
        &seed,
        &format!("currency=usd&product={prod}&unit_amount=1&currency_options[eur][unit_amount]=1"),
    );
    seed.shutdown();
    let mut state: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let template = state["prices"][&first].clone();
    let prices = state["prices"].as_object_mut().unwrap();
    for i in 1..PRICES {
        let mut copy = template.clone();
        let id = format!("{first}{i}");
        copy["id"] = id.clone().into();
        copy["seq"] = (10 + i).into();
        copy["lookup_key"] = format!("k{i}").into();
        prices.insert(id, copy);
    }
    state["next_seq"] = (10 + PRICES).into();
    std::fs::write(&path, serde_json::to_vec_pretty(&state).unwrap()).unwrap();
    let size = std::fs::metadata(&path).unwrap().len();

    let filed = start_with(config);
    let (count, per_page) = list_all(&filed);
    assert_eq!(count, PRICES);
    eprintln!(
        "state file ({:.1} MB): {count} prices listed, {per_page:?} per page of 100",
        size as f64 / 1e6
    );
    let started = Instant::now();
    for _ in 0..20 {
        assert_eq!(Req::get("/v1/prices?limit=1").send(&filed).status, 200);
    }
    eprintln!(
        "state file: GET /v1/prices?limit=1 {:?}",
        started.elapsed() / 20
    );
    let started = Instant::now();
    super::support::price(
        &filed,
        &format!("currency=usd&product={prod}&unit_amount=2"),
    );
    eprintln!("state file: one more price {:?}", started.elapsed());
}
