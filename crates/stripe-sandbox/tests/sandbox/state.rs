//! Persistence: the state file survives restarts, is shared safely by two sandboxes, and a
//! corrupt file is a clear startup error.

use std::thread;

use stripe_sandbox::{Sandbox, SandboxConfig, SandboxError};

use super::support::{Req, loopback, product, start_with};

fn on(path: &std::path::Path) -> SandboxConfig {
    SandboxConfig {
        state: Some(path.to_path_buf()),
        ..SandboxConfig::default()
    }
}

#[test]
fn state_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(".billing").join("test").join("state.json");
    let first = start_with(on(&path));
    let prod = product(&first, "name=Kept&metadata[k]=v");
    let key = Req::post("/v1/products", "name=Once")
        .idempotency_key("persisted")
        .send(&first);
    first.shutdown();
    assert!(path.exists(), "parent directories are created");
    assert!(dir.path().join(".billing/test/state.json.lock").exists());

    let second = start_with(on(&path));
    let got = Req::get(&format!("/v1/products/{prod}"))
        .send(&second)
        .json();
    assert_eq!(
        (got["name"].as_str(), got["metadata"]["k"].as_str()),
        (Some("Kept"), Some("v"))
    );
    // Idempotency records persist with the state.
    let replay = Req::post("/v1/products", "name=Once")
        .idempotency_key("persisted")
        .send(&second);
    assert_eq!(replay.body, key.body);
    assert_eq!(replay.header("Idempotent-Replayed"), Some("true"));
}

#[test]
fn two_sandboxes_on_one_file_lose_no_writes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    let a = start_with(on(&path));
    let b = start_with(on(&path));
    let per_writer = 15;
    thread::scope(|s| {
        for (name, sandbox) in [("a", &a), ("b", &b)] {
            for t in 0..2 {
                s.spawn(move || {
                    for i in 0..per_writer {
                        product(sandbox, &format!("name={name}{t}-{i}"));
                    }
                });
            }
        }
    });
    // An update through one is visible through the other.
    let listed = |sandbox: &Sandbox| -> Vec<String> {
        let mut ids = Vec::new();
        let mut after = String::new();
        loop {
            let page = Req::get(&format!("/v1/products?limit=100{after}"))
                .send(sandbox)
                .json();
            let data = page["data"].as_array().unwrap();
            ids.extend(data.iter().map(|p| p["id"].as_str().unwrap().to_string()));
            if !page["has_more"].as_bool().unwrap() {
                return ids;
            }
            after = format!("&starting_after={}", ids.last().unwrap());
        }
    };
    let from_a = listed(&a);
    let from_b = listed(&b);
    assert_eq!(from_a.len(), 4 * per_writer);
    assert_eq!(from_a, from_b);
    let target = &from_a[0];
    Req::post(&format!("/v1/products/{target}"), "metadata[via]=a").send(&a);
    let seen = Req::get(&format!("/v1/products/{target}")).send(&b).json();
    assert_eq!(seen["metadata"]["via"], "a");
    // Both see the same account.
    assert_eq!(
        Req::get("/v1/account").send(&a).json()["id"],
        Req::get("/v1/account").send(&b).json()["id"]
    );
}

#[test]
fn a_corrupt_state_file_is_a_startup_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    std::fs::write(&path, "{ this is not json").unwrap();
    let err = Sandbox::start(on(&path), loopback()).unwrap_err();
    assert!(matches!(err, SandboxError::StateCorrupt { .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.contains(&path.display().to_string()), "{message}");
    std::fs::write(&path, "").unwrap();
    assert!(matches!(
        Sandbox::start(on(&path), loopback()),
        Err(SandboxError::StateCorrupt { .. })
    ));
}

#[test]
fn bind_failure_is_reported() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let err = Sandbox::start(SandboxConfig::default(), taken.local_addr().unwrap()).unwrap_err();
    assert!(matches!(err, SandboxError::Bind { .. }), "{err:?}");
}

#[tokio::test]
async fn serve_runs_in_the_foreground_until_shutdown() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(stripe_sandbox::serve(
        SandboxConfig::default(),
        listener,
        async {
            let _ = stopped.await;
        },
    ));
    let res = tokio::task::spawn_blocking(move || {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        s.write_all(b"GET /v1/account HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer sk_test_1\r\n\r\n").unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        out
    })
    .await
    .unwrap();
    assert!(res.starts_with("HTTP/1.1 200"), "{res}");
    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
}

/// The environment variable that turns [`child_writer`] into a writer process.
const CHILD_STATE: &str = "BILLING_SANDBOX_TEST_CHILD_STATE";
const CHILD_WRITES: usize = 15;

/// Does nothing in a normal run. Re-run by [`two_processes_on_one_file_lose_no_writes`] as a
/// separate process, it embeds a sandbox on the given state file and creates products.
#[test]
fn child_writer() {
    let Some(path) = std::env::var_os(CHILD_STATE) else {
        return;
    };
    let sandbox = start_with(on(std::path::Path::new(&path)));
    let tag = std::process::id();
    for i in 0..CHILD_WRITES {
        product(&sandbox, &format!("name=child{tag}-{i}"));
    }
}

#[test]
fn two_processes_on_one_file_lose_no_writes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shared").join("state.json");
    let here = start_with(on(&path));
    let exe = std::env::current_exe().unwrap();
    let children: Vec<_> = (0..2)
        .map(|_| {
            std::process::Command::new(&exe)
                .args(["--exact", "state::child_writer", "--quiet"])
                .env(CHILD_STATE, &path)
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for i in 0..CHILD_WRITES {
        product(&here, &format!("name=parent-{i}"));
    }
    for mut child in children {
        assert!(child.wait().unwrap().success());
    }
    let mut count = 0;
    let mut after = String::new();
    loop {
        let page = Req::get(&format!("/v1/products?limit=100{after}"))
            .send(&here)
            .json();
        let data = page["data"].as_array().unwrap();
        count += data.len();
        if !page["has_more"].as_bool().unwrap() {
            break;
        }
        after = format!(
            "&starting_after={}",
            data.last().unwrap()["id"].as_str().unwrap()
        );
    }
    assert_eq!(count, 3 * CHILD_WRITES);
}

/// Sends `req` on a connection that gives up after `secs` seconds (so that a sandbox that
/// waits forever fails the test instead of hanging it).
fn send_within(sandbox: &Sandbox, req: &Req, secs: u64) -> super::support::RawResponse {
    use std::io::Write;
    let mut stream = super::support::connect(sandbox);
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(secs)))
        .unwrap();
    stream.write_all(&req.bytes()).unwrap();
    super::support::read_response(stream)
}

#[test]
fn a_state_file_locked_elsewhere_is_a_429_lock_timeout_not_a_hang() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    let sandbox = start_with(on(&path));
    let prod = product(&sandbox, "name=Pro");
    let lock = std::fs::File::open(dir.path().join("state.json.lock")).unwrap();
    lock.lock().unwrap();

    // Several requests at once: each gets its answer within the lock deadline, none waits
    // behind another for longer.
    let started = std::time::Instant::now();
    let answers: Vec<_> = thread::scope(|s| {
        let sandbox = &sandbox;
        let prod = &prod;
        let handles: Vec<_> = (0..4)
            .map(|i| {
                s.spawn(move || {
                    let req = if i % 2 == 0 {
                        Req::get(&format!("/v1/products/{prod}"))
                    } else {
                        Req::post(&format!("/v1/products/{prod}"), "name=Changed")
                            .idempotency_key(&format!("locked-{i}"))
                    };
                    send_within(sandbox, &req, 15)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let elapsed = started.elapsed();
    for res in &answers {
        assert_eq!(res.status, 429, "{}", res.body);
        assert_eq!(res.header("Stripe-Rate-Limited-Reason"), None);
        let body = res.json();
        assert_eq!(body["error"]["type"], "invalid_request_error");
        assert_eq!(body["error"]["code"], "lock_timeout");
        assert_eq!(
            body["error"]["message"],
            "This object cannot be accessed right now because another API request or Stripe \
             process is currently accessing it. If you see this error intermittently, retry the \
             request. If you see this error frequently and are making multiple concurrent \
             requests to a single object, make your requests serially or at a lower rate."
        );
    }
    assert!(
        elapsed < std::time::Duration::from_secs(8),
        "answered in {elapsed:?}"
    );

    // Once the lock is free, everything works again, and the refused writes left no trace
    // (their keys are free too).
    lock.unlock().unwrap();
    let got = send_within(&sandbox, &Req::get(&format!("/v1/products/{prod}")), 15);
    assert_eq!(
        (got.status, got.json()["name"].as_str()),
        (200, Some("Pro"))
    );
    let retried = send_within(
        &sandbox,
        &Req::post(&format!("/v1/products/{prod}"), "name=Changed").idempotency_key("locked-1"),
        15,
    );
    assert_eq!(
        (retried.status, retried.header("Idempotent-Replayed")),
        (200, None)
    );
}
