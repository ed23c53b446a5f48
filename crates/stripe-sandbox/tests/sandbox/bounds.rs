//! The sandbox's resources are bounded: the request log in bytes (and never fed by anonymous
//! clients), the connections in number, the state files in size; and a write appends to a
//! journal instead of rewriting the state file, which survives a write cut short.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use stripe_sandbox::{Sandbox, SandboxConfig, SandboxError};

use super::support::{Req, connect, loopback, pipelined, product, start_with};

fn on(path: &Path) -> SandboxConfig {
    SandboxConfig {
        state: Some(path.to_path_buf()),
        ..SandboxConfig::default()
    }
}

/// The ids of every product, through the list (all pages).
fn product_ids(sandbox: &Sandbox) -> Vec<String> {
    let mut ids = Vec::new();
    let mut after = String::new();
    loop {
        let page = Req::get(&format!("/v1/products?limit=100{after}"))
            .send(sandbox)
            .json();
        let data = page["data"].as_array().unwrap();
        ids.extend(data.iter().map(|p| p["id"].as_str().unwrap().to_string()));
        if !page["has_more"].as_bool().unwrap() {
            ids.sort();
            return ids;
        }
        after = format!(
            "&starting_after={}",
            data.last().unwrap()["id"].as_str().unwrap()
        );
    }
}

#[test]
fn thousands_of_unauthenticated_requests_are_not_logged_and_the_server_keeps_answering() {
    let sandbox = start_with(SandboxConfig {
        request_log_bytes: 64 * 1024,
        ..SandboxConfig::default()
    });
    let body = format!("name=Pro&description={}", "x".repeat(16 * 1024));
    let flood: Vec<Req> = (0..3_000)
        .map(|_| Req::post("/v1/products", &body).header("Authorization", None))
        .collect();
    let statuses = pipelined(&sandbox, &flood);
    assert_eq!(statuses.len(), 3_000);
    assert!(statuses.iter().all(|s| *s == 401));
    assert!(
        sandbox.requests().is_empty(),
        "nothing logged before authentication"
    );
    // A wrong key is no authentication either.
    let wrong: Vec<Req> = (0..1_000)
        .map(|_| Req::post("/v1/products", &body).header("Authorization", Some("Bearer pk_test_1")))
        .collect();
    assert!(pipelined(&sandbox, &wrong).iter().all(|s| *s == 401));
    assert!(sandbox.requests().is_empty());
    // Authenticated requests are logged, with their bodies, within the byte limit.
    let kept: Vec<Req> = (0..1_000)
        .map(|_| Req::post("/v1/products", &body))
        .collect();
    assert!(pipelined(&sandbox, &kept).iter().all(|s| *s == 200));
    let log = sandbox.requests();
    let bytes: usize = log
        .iter()
        .map(|r| r.body.len() + r.path.len() + r.query.len())
        .sum();
    assert!(
        !log.is_empty() && bytes <= 64 * 1024,
        "{} entries, {bytes} bytes",
        log.len()
    );
    assert_eq!(log.last().unwrap().body, body);
}

#[test]
fn without_bodies_the_log_keeps_requests_but_not_what_they_sent() {
    let sandbox = start_with(SandboxConfig {
        request_log_bodies: false,
        ..SandboxConfig::default()
    });
    product(&sandbox, "name=Quiet");
    let log = sandbox.requests();
    assert_eq!((log.len(), log[0].body.as_str()), (1, ""));
}

/// Opens a connection that says nothing, or only half a request's headers.
fn idle(sandbox: &Sandbox, half: bool) -> TcpStream {
    let mut stream = connect(sandbox);
    if half {
        stream
            .write_all(b"GET /v1/products HTTP/1.1\r\nHost: x\r\n")
            .unwrap();
    }
    stream
}

#[test]
fn idle_connections_beyond_the_limit_do_not_lock_a_new_client_out() {
    let sandbox = start_with(SandboxConfig {
        max_connections: 8,
        ..SandboxConfig::default()
    });
    let mut idlers: Vec<TcpStream> = (0..64).map(|i| idle(&sandbox, i % 2 == 0)).collect();
    // A new client is served (the read timeout of `connect` turns a hang into a failure).
    for _ in 0..3 {
        let res = Req::get("/v1/products").send(&sandbox);
        assert_eq!(res.status, 200, "{}", res.body);
    }
    // The idle connections made room: the oldest were closed (the newest few may still be open).
    let mut closed = 0;
    for stream in &mut idlers[..64 - 8] {
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let mut buf = [0; 1];
        if matches!(stream.read(&mut buf), Ok(0) | Err(_)) {
            closed += 1;
        }
    }
    assert_eq!(closed, 64 - 8, "the oldest idle connections are closed");
}

#[test]
fn a_connection_busy_with_a_request_finishes_it_before_making_room() {
    let sandbox = start_with(SandboxConfig {
        max_connections: 2,
        ..SandboxConfig::default()
    });
    // A keep-alive connection that has just been served counts as idle; one in the middle
    // of sending its body is busy, and still gets its answer when others push it out.
    let full = Req::post("/v1/products", "name=Slow").bytes();
    let mut slow = connect(&sandbox);
    slow.write_all(&full[..full.len() - 4]).unwrap();
    std::thread::sleep(Duration::from_millis(200));
    for _ in 0..4 {
        let _idle = idle(&sandbox, false);
        assert_eq!(Req::get("/v1/products").send(&sandbox).status, 200);
    }
    slow.write_all(&full[full.len() - 4..]).unwrap();
    let res = super::support::read_response(slow);
    assert_eq!(res.status, 200, "{}", res.body);
}

fn journal_of(path: &Path) -> PathBuf {
    path.with_file_name("state.json.journal")
}

#[test]
fn a_write_appends_to_the_journal_and_closing_folds_it_into_the_state_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    let sandbox = start_with(on(&path));
    product(&sandbox, "name=First");
    let snapshot = std::fs::read(&path).unwrap();
    let journal = std::fs::read_to_string(journal_of(&path)).unwrap();
    product(&sandbox, "name=Second");
    assert_eq!(
        std::fs::read(&path).unwrap(),
        snapshot,
        "the state file is not rewritten"
    );
    let grown = std::fs::read_to_string(journal_of(&path)).unwrap();
    assert!(grown.starts_with(&journal) && grown.len() > journal.len());
    sandbox.shutdown();
    let state: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(state["products"].as_object().unwrap().len(), 2);
    assert_eq!(
        std::fs::read_to_string(journal_of(&path))
            .unwrap()
            .lines()
            .count(),
        1
    );
}

#[test]
fn the_journal_survives_a_write_cut_short() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    let a = start_with(on(&path));
    let first = product(&a, "name=First");
    // Another process died in the middle of appending its write.
    let mut journal = std::fs::OpenOptions::new()
        .append(true)
        .open(journal_of(&path))
        .unwrap();
    journal
        .write_all(br#"{"generation":99,"changes":[{"put":{"table":"products","key":"prod_torn"#)
        .unwrap();
    drop(journal);
    let b = start_with(on(&path));
    assert_eq!(product_ids(&b), std::slice::from_ref(&first));
    let second = product(&b, "name=Second");
    let third = product(&a, "name=Third");
    let mut all = vec![first, second, third];
    all.sort();
    assert_eq!(product_ids(&a), all);
    assert_eq!(product_ids(&b), all);
    // The cut-short bytes are gone: every line is whole.
    let text = std::fs::read_to_string(journal_of(&path)).unwrap();
    for line in text.lines() {
        serde_json::from_str::<serde_json::Value>(line).expect("whole line");
    }
    assert!(!text.contains("prod_torn"));
    drop((a, b));
    let restarted = start_with(on(&path));
    assert_eq!(product_ids(&restarted), all);
}

/// The environment variable that turns [`child_writer_that_dies`] into a writer process.
const CHILD_STATE: &str = "BILLING_SANDBOX_TEST_DYING_CHILD_STATE";

/// Does nothing in a normal run. Re-run by [`a_process_that_dies_leaves_its_writes_in_the_journal`]
/// as a separate process: it creates a product, then exits at once, closing nothing.
#[test]
fn child_writer_that_dies() {
    let Some(path) = std::env::var_os(CHILD_STATE) else {
        return;
    };
    let sandbox = start_with(on(Path::new(&path)));
    product(&sandbox, "name=Orphan");
    std::process::exit(0);
}

#[test]
fn a_process_that_dies_leaves_its_writes_in_the_journal() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    let here = start_with(on(&path));
    let mine = product(&here, "name=Mine");
    let status = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "bounds::child_writer_that_dies", "--quiet"])
        .env(CHILD_STATE, &path)
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let ids = product_ids(&here);
    assert_eq!(ids.len(), 2, "{ids:?}");
    assert!(ids.contains(&mine));
    drop(here);
    assert_eq!(product_ids(&start_with(on(&path))), ids);
}

#[test]
fn an_oversized_state_file_is_refused_with_its_name() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    std::fs::write(&path, vec![b' '; 4096]).unwrap();
    for config in [
        SandboxConfig {
            max_state_bytes: 1024,
            ..on(&path)
        },
        SandboxConfig {
            from: Some(path.clone()),
            max_state_bytes: 1024,
            ..SandboxConfig::default()
        },
    ] {
        let err = Sandbox::start(config, loopback()).unwrap_err();
        assert!(
            matches!(err, SandboxError::StateTooLarge { limit: 1024, .. }),
            "{err:?}"
        );
        let message = err.to_string();
        assert!(message.contains(&path.display().to_string()), "{message}");
        assert!(message.contains("larger than 1024 bytes"), "{message}");
    }
}

#[cfg(unix)]
#[test]
fn an_endless_state_file_is_refused_after_its_cap() {
    let err = Sandbox::start(
        SandboxConfig {
            from: Some(PathBuf::from("/dev/zero")),
            max_state_bytes: 1 << 20,
            ..SandboxConfig::default()
        },
        loopback(),
    )
    .unwrap_err();
    assert!(matches!(err, SandboxError::StateTooLarge { .. }), "{err:?}");
    assert!(err.to_string().contains("/dev/zero"), "{err}");
}
