//! Idempotency keys: replay, mismatches, what is stored and what is not, keys in flight.

use std::io::Write;
use std::time::Duration;

use stripe::{IdempotencyKey, RequestStrategy, StripeRequest};
use stripe_product::product::{CreateProduct, ListProduct};

use super::support::{Req, client, connect, product, read_response, start, stripe_error};

fn key(k: &str) -> RequestStrategy {
    RequestStrategy::Idempotent(IdempotencyKey::new(k).unwrap())
}

#[tokio::test]
async fn same_key_same_params_replays_the_first_response() {
    let sandbox = start();
    let client = client(&sandbox);
    let first = CreateProduct::new("Pro")
        .customize()
        .request_strategy(key("create-pro"))
        .send(&client)
        .await
        .unwrap();
    let again = CreateProduct::new("Pro")
        .customize()
        .request_strategy(key("create-pro"))
        .send(&client)
        .await
        .unwrap();
    assert_eq!(first.id, again.id);
    let all = ListProduct::new().send(&client).await.unwrap();
    assert_eq!(all.data.len(), 1, "no duplicate");

    let raw1 = Req::post("/v1/products", "name=Raw")
        .idempotency_key("raw")
        .send(&sandbox);
    let raw2 = Req::post("/v1/products", "name=Raw")
        .idempotency_key("raw")
        .send(&sandbox);
    assert_eq!((raw1.status, raw2.status), (200, 200));
    assert_eq!(raw1.body, raw2.body);
    assert_eq!(
        raw1.header("Request-Id"),
        raw2.header("Request-Id"),
        "original Request-Id kept"
    );
    assert_eq!(raw2.header("Idempotent-Replayed"), Some("true"));
    assert_eq!(raw1.header("Idempotent-Replayed"), None);
    assert_eq!(raw2.header("Idempotency-Key"), Some("raw"));
    let replayed: Vec<bool> = sandbox.requests().iter().map(|r| r.replayed).collect();
    assert_eq!(replayed, [false, true, false, false, true]);
}

#[tokio::test]
async fn same_key_other_params_or_endpoint_is_an_idempotency_error() {
    let sandbox = start();
    let client = client(&sandbox);
    CreateProduct::new("Pro")
        .customize()
        .request_strategy(key("k1"))
        .send(&client)
        .await
        .unwrap();
    let (status, code, _, kind, message) = stripe_error(
        CreateProduct::new("Other")
            .customize()
            .request_strategy(key("k1"))
            .send(&client)
            .await,
    );
    assert_eq!(
        (status, code, kind.as_str()),
        (400, None, "idempotency_error")
    );
    assert_eq!(
        message,
        "Keys for idempotent requests can only be used with the same parameters they were first \
         used with. Try using a key other than 'k1' if you meant to execute a different request."
    );
    let res = Req::post("/v1/prices", "currency=usd")
        .idempotency_key("k1")
        .send(&sandbox);
    assert_eq!(res.status, 400);
    assert_eq!(res.json()["error"]["type"], "idempotency_error");
    assert!(
        res.error().2.contains("('/v1/products' vs '/v1/prices')"),
        "{}",
        res.body
    );
}

#[test]
fn validation_failures_are_not_stored_but_business_errors_are() {
    let sandbox = start();
    // A parameter error: the key stays free.
    let bad = Req::post("/v1/products", "name=")
        .idempotency_key("v1")
        .send(&sandbox);
    assert_eq!(bad.status, 400);
    let good = Req::post("/v1/products", "name=Fixed")
        .idempotency_key("v1")
        .send(&sandbox);
    assert_eq!(good.status, 200);

    // An unknown URL or a bad key is not stored either.
    let res = Req::post("/v1/products/prod_x/nope", "")
        .idempotency_key("v2")
        .send(&sandbox);
    assert_eq!(res.status, 404);
    assert_eq!(
        Req::post("/v1/products", "name=Two")
            .idempotency_key("v2")
            .send(&sandbox)
            .status,
        200
    );

    // A business-rule error once execution began is stored and replayed, even after the cause
    // is gone.
    let prod = product(&sandbox, "name=Pro");
    let body = format!("currency=usd&product={prod}&unit_amount=1&lookup_key=taken");
    super::support::price(
        &sandbox,
        &format!("currency=usd&product={prod}&unit_amount=1&lookup_key=taken&active=false"),
    );
    let first = Req::post("/v1/prices", &body)
        .idempotency_key("b1")
        .send(&sandbox);
    assert_eq!(first.status, 400);
    let holder = first.error().2.split('`').nth(1).unwrap().to_string();
    Req::post(&format!("/v1/prices/{holder}"), "lookup_key=").send(&sandbox);
    let replay = Req::post("/v1/prices", &body)
        .idempotency_key("b1")
        .send(&sandbox);
    assert_eq!(
        (replay.status, replay.body.as_str()),
        (400, first.body.as_str())
    );
    assert_eq!(replay.header("Idempotent-Replayed"), Some("true"));
    // A 404 for an unknown object is stored too.
    let missing = Req::post("/v1/products/prod_nope", "name=x")
        .idempotency_key("b2")
        .send(&sandbox);
    let again = Req::post("/v1/products/prod_nope", "name=x")
        .idempotency_key("b2")
        .send(&sandbox);
    assert_eq!(
        (missing.status, again.header("Idempotent-Replayed")),
        (404, Some("true"))
    );
}

#[test]
fn key_length_is_checked() {
    let sandbox = start();
    let long = "k".repeat(256);
    let res = Req::post("/v1/products", "name=x")
        .idempotency_key(&long)
        .send(&sandbox);
    assert_eq!(
        (res.status, res.error().1.as_deref()),
        (400, Some("Idempotency-Key"))
    );
    let max = "k".repeat(255);
    assert_eq!(
        Req::post("/v1/products", "name=x")
            .idempotency_key(&max)
            .send(&sandbox)
            .status,
        200
    );
    // Keys on GET and DELETE are ignored.
    assert_eq!(
        Req::get("/v1/products")
            .idempotency_key(&long)
            .send(&sandbox)
            .status,
        200
    );
}

#[test]
fn a_key_in_flight_is_409() {
    // Hold the state file's lock from outside, so that whichever of two requests with the same
    // key arrives first stays in execution (waiting for the lock) while the other arrives. No
    // sleep decides which is first: the one answered while the lock is held must be the 409.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    let sandbox = super::support::start_with(stripe_sandbox::SandboxConfig {
        state: Some(path.clone()),
        ..Default::default()
    });
    let lock = std::fs::File::open(dir.path().join("state.json.lock")).unwrap();
    lock.lock().unwrap();
    let req = Req::post("/v1/products", "name=Slow+product").idempotency_key("busy");
    let (answered, answers) = std::sync::mpsc::channel();
    for _ in 0..2 {
        let (req, answered) = (req.clone(), answered.clone());
        let mut stream = connect(&sandbox);
        stream.write_all(&req.bytes()).unwrap();
        std::thread::spawn(move || answered.send(read_response(stream)));
    }
    let busy = answers.recv_timeout(Duration::from_secs(120)).unwrap();
    assert_eq!(busy.status, 409, "{}", busy.body);
    assert_eq!(busy.error().0.as_deref(), Some("idempotency_key_in_use"));
    lock.unlock().unwrap();
    let done = answers.recv_timeout(Duration::from_secs(120)).unwrap();
    assert_eq!(done.status, 200, "{}", done.body);
    let after = req.send(&sandbox);
    assert_eq!(
        (after.status, after.header("Idempotent-Replayed")),
        (200, Some("true"))
    );
    assert_eq!(after.body, done.body);
}

#[test]
fn a_stalled_body_does_not_hold_its_idempotency_key() {
    let sandbox = start();
    // Send the headers and half of the body, then hold the connection.
    let req = Req::post("/v1/products", "name=Slow+product").idempotency_key("stalled");
    let bytes = req.bytes();
    let mut slow = connect(&sandbox);
    slow.write_all(&bytes[..bytes.len() - 4]).unwrap();
    slow.flush().unwrap();
    std::thread::sleep(Duration::from_millis(300));

    // The key is not in use until the body has arrived: the same request executes.
    let other = req.send(&sandbox);
    assert_eq!(
        (other.status, other.header("Idempotent-Replayed")),
        (200, None),
        "{}",
        other.body
    );
    // The stalled request, once complete, is a replay of it.
    slow.write_all(&bytes[bytes.len() - 4..]).unwrap();
    let done = read_response(slow);
    assert_eq!(
        (done.status, done.header("Idempotent-Replayed")),
        (200, Some("true"))
    );
    assert_eq!(done.body, other.body);
    let all = Req::get("/v1/products").send(&sandbox).json();
    assert_eq!(all["data"].as_array().unwrap().len(), 1);
}
