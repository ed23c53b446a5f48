//! Chaos over real HTTP: random faults, rate limiters, time compression and seeds.

use std::time::Duration;

use stripe_sandbox::{Chaos, Fault, Sandbox, SandboxConfig, SandboxError};

use super::support::{RawResponse, Req, event_types, product, start_with};

fn chaotic(chaos: Chaos) -> Sandbox {
    start_with(SandboxConfig {
        chaos,
        ..SandboxConfig::default()
    })
}

/// The names of the products, newest first.
fn product_names(sandbox: &Sandbox) -> Vec<String> {
    Req::get("/v1/products").send(sandbox).json()["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|p| p["name"].as_str().expect("name").to_string())
        .collect()
}

/// `(status, fault)` of every request logged so far.
fn outcomes(sandbox: &Sandbox) -> Vec<(u16, Option<Fault>)> {
    sandbox
        .requests()
        .iter()
        .map(|r| (r.status, r.fault))
        .collect()
}

#[test]
fn a_lost_response_commits_the_write_and_a_retry_with_its_key_replays_it() {
    let sandbox = chaotic(Chaos {
        seed: Some(1),
        lost_response: 1.0,
        ..Chaos::default()
    });
    let create = Req::post("/v1/products", "name=Lost").idempotency_key("lost-1");
    assert!(
        create.try_send(&sandbox).is_none(),
        "the client gets no response"
    );
    // Reads never lose their response.
    assert_eq!(product_names(&sandbox), ["Lost"], "the write was committed");
    assert_eq!(
        outcomes(&sandbox),
        [(200, Some(Fault::LostResponse)), (200, None)]
    );
    // A DELETE loses its response too, after deleting.
    let doomed = {
        sandbox.set_chaos(Chaos::default()).unwrap();
        let id = product(&sandbox, "name=Doomed");
        sandbox
            .set_chaos(Chaos {
                lost_response: 1.0,
                ..Chaos::default()
            })
            .unwrap();
        id
    };
    assert!(
        Req::delete(&format!("/v1/products/{doomed}"))
            .try_send(&sandbox)
            .is_none()
    );
    assert_eq!(
        Req::get(&format!("/v1/products/{doomed}"))
            .send(&sandbox)
            .status,
        404
    );
    // Chaos off: the retry with the same key replays the committed answer.
    sandbox.set_chaos(Chaos::default()).unwrap();
    let retry = create.send(&sandbox);
    assert_eq!(retry.status, 200, "{}", retry.body);
    assert_eq!(retry.header("Idempotent-Replayed"), Some("true"));
    assert_eq!(product_names(&sandbox), ["Lost"]);
    assert_eq!(
        event_types(&sandbox)
            .iter()
            .filter(|t| *t == "product.created")
            .count(),
        2,
        "Lost and Doomed, each created once"
    );
}

#[test]
fn a_reset_changes_nothing() {
    let sandbox = chaotic(Chaos {
        reset: 1.0,
        ..Chaos::default()
    });
    let create = Req::post("/v1/products", "name=Never").idempotency_key("reset-1");
    for req in [
        create.clone(),
        Req::get("/v1/products"),
        Req::delete("/v1/products/prod_missing"),
    ] {
        assert!(req.try_send(&sandbox).is_none(), "{req:?}");
    }
    assert_eq!(
        outcomes(&sandbox),
        [
            (0, Some(Fault::Reset)),
            (0, Some(Fault::Reset)),
            (0, Some(Fault::Reset))
        ]
    );
    sandbox.set_chaos(Chaos::default()).unwrap();
    assert!(product_names(&sandbox).is_empty());
    assert!(event_types(&sandbox).is_empty());
    // The key was never used: the same request now runs for the first time.
    let res = create.send(&sandbox);
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.header("Idempotent-Replayed"), None);
    assert_eq!(product_names(&sandbox), ["Never"]);
}

#[test]
fn injected_errors_are_stripes_and_change_nothing() {
    let sandbox = chaotic(Chaos {
        rate_limit: 1.0,
        ..Chaos::default()
    });
    let res = Req::post("/v1/products", "name=X").send(&sandbox);
    assert_eq!(res.status, 429);
    assert_eq!(res.error().0.as_deref(), Some("rate_limit"));
    assert_eq!(
        res.header("Stripe-Rate-Limited-Reason"),
        Some("global-rate")
    );

    sandbox
        .set_chaos(Chaos {
            lock_timeout: 1.0,
            ..Chaos::default()
        })
        .unwrap();
    let res = Req::post("/v1/products", "name=X").send(&sandbox);
    assert_eq!(res.status, 429);
    assert_eq!(res.error().0.as_deref(), Some("lock_timeout"));
    assert_eq!(res.json()["error"]["type"], "invalid_request_error");
    assert_eq!(res.header("Stripe-Rate-Limited-Reason"), None);

    sandbox
        .set_chaos(Chaos {
            seed: Some(5),
            server_error: 1.0,
            ..Chaos::default()
        })
        .unwrap();
    let mut statuses = Vec::new();
    for _ in 0..20 {
        let res = Req::post("/v1/products", "name=X").send(&sandbox);
        assert_eq!(res.json()["error"]["type"], "api_error", "{}", res.body);
        statuses.push(res.status);
    }
    assert!(
        statuses.contains(&500) && statuses.contains(&503),
        "{statuses:?}"
    );

    sandbox.set_chaos(Chaos::default()).unwrap();
    assert!(product_names(&sandbox).is_empty());
    let faults: Vec<Option<Fault>> = sandbox.requests().iter().map(|r| r.fault).collect();
    assert_eq!(faults[0], Some(Fault::RateLimit));
    assert_eq!(faults[1], Some(Fault::LockTimeout));
    assert!(faults[2..22].iter().all(|f| *f == Some(Fault::ServerError)));
    assert_eq!(faults[22], None);
}

/// The first `full` answers (a full bucket) are 200; the others 200 or 429 `rate_limit` for
/// `reason`, at least one of them 429.
fn assert_limited(answers: &[RawResponse], full: usize, reason: &str) {
    assert!(answers[..full].iter().all(|r| r.status == 200));
    let limited: Vec<_> = answers.iter().filter(|r| r.status != 200).collect();
    assert!(!limited.is_empty(), "{} requests in a row", answers.len());
    for res in limited {
        assert_eq!(res.status, 429, "{}", res.body);
        assert_eq!(res.error().0.as_deref(), Some("rate_limit"));
        assert_eq!(res.header("Stripe-Rate-Limited-Reason"), Some(reason));
    }
}

#[test]
fn the_endpoint_limiter_answers_429_endpoint_rate() {
    let sandbox = chaotic(Chaos {
        endpoint_rate: Some(2),
        ..Chaos::default()
    });
    // A bucket starts full: two requests pass; at 2 per second, ten in a row cannot all pass.
    let answers: Vec<_> = (0..10)
        .map(|_| Req::get("/v1/products").send(&sandbox))
        .collect();
    assert_limited(&answers, 2, "endpoint-rate");
    // Another endpoint (method and route) has a bucket of its own.
    assert_eq!(Req::get("/v1/prices").send(&sandbox).status, 200);
    assert_eq!(
        Req::get("/v1/products/prod_missing").send(&sandbox).status,
        404
    );
    let limited: Vec<_> = sandbox
        .requests()
        .into_iter()
        .filter(|r| r.status == 429)
        .collect();
    assert!(!limited.is_empty());
    assert!(
        limited
            .iter()
            .all(|r| r.fault == Some(Fault::EndpointRateLimit) && r.path == "/v1/products")
    );
}

#[test]
fn the_global_limiter_answers_429_global_rate() {
    let sandbox = chaotic(Chaos {
        global_rate: Some(3),
        ..Chaos::default()
    });
    let paths = ["/v1/products", "/v1/prices", "/v1/coupons", "/v1/tax_rates"];
    let answers: Vec<_> = (0..12)
        .map(|i| Req::get(paths[i % paths.len()]).send(&sandbox))
        .collect();
    assert_limited(&answers, 3, "global-rate");
    assert!(
        sandbox
            .requests()
            .iter()
            .all(|r| (r.status == 429) == (r.fault == Some(Fault::GlobalRateLimit)))
    );
}

#[test]
fn time_compression_refills_the_buckets_faster() {
    // 2 per second, 20 times faster: a token every 25 ms of real time.
    let sandbox = chaotic(Chaos {
        global_rate: Some(2),
        time_scale: 20.0,
        ..Chaos::default()
    });
    for _ in 0..2 {
        assert_eq!(Req::get("/v1/products").send(&sandbox).status, 200);
    }
    // 200 ms is 4 sandbox seconds: the bucket is full again (at the unscaled rate, it would
    // hold less than half a token).
    for _ in 0..5 {
        std::thread::sleep(Duration::from_millis(200));
        for _ in 0..2 {
            let res = Req::get("/v1/products").send(&sandbox);
            assert_eq!(res.status, 200, "{}", res.body);
        }
    }
}

#[test]
fn a_seed_replays_the_same_faults_for_the_same_sequential_requests() {
    let chaos = Chaos {
        seed: Some(11),
        ..Chaos::spread(0.6)
    };
    let run = |sandbox: &Sandbox| -> Vec<Option<u16>> {
        (0..40)
            .map(|i| {
                let req = if i % 2 == 0 {
                    Req::post("/v1/products", &format!("name=P{i}"))
                } else {
                    Req::get("/v1/products?limit=1")
                };
                req.try_send(sandbox).map(|r| r.status)
            })
            .collect()
    };
    let first = chaotic(chaos.clone());
    let seen = run(&first);
    assert!(
        seen.contains(&None) && seen.contains(&Some(200)),
        "{seen:?}"
    );
    assert!(seen.iter().any(|s| matches!(s, Some(429 | 500 | 503))));
    let faults = outcomes(&first);

    let second = chaotic(chaos.clone());
    assert_eq!(run(&second), seen);
    assert_eq!(outcomes(&second), faults);
    // Setting the same chaos again starts the same draws again.
    first.clear_requests();
    first.set_chaos(chaos).unwrap();
    assert_eq!(first.chaos_seed(), 11);
    let _ = run(&first);
    assert_eq!(
        outcomes(&first).iter().map(|(_, f)| *f).collect::<Vec<_>>(),
        faults.iter().map(|(_, f)| *f).collect::<Vec<_>>()
    );
}

#[test]
fn invalid_chaos_is_refused_by_the_api() {
    let too_much = Chaos {
        reset: 0.7,
        lost_response: 0.7,
        ..Chaos::default()
    };
    let err = Sandbox::start(
        SandboxConfig {
            chaos: too_much.clone(),
            ..SandboxConfig::default()
        },
        super::support::loopback(),
    )
    .unwrap_err();
    assert!(matches!(err, SandboxError::Chaos(_)), "{err}");
    assert!(err.to_string().contains("add up to 1.4"), "{err}");
    let sandbox = chaotic(Chaos::default());
    assert!(matches!(
        sandbox.set_chaos(too_much),
        Err(SandboxError::Chaos(_))
    ));
    // Nothing changed.
    assert_eq!(Req::get("/v1/products").send(&sandbox).status, 200);
}
