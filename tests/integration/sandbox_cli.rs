//! `billing sandbox` as a command: the chaos it prints and the flags it refuses.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use predicates::prelude::*;

use crate::support::Workdir;

#[test]
fn billing_sandbox_prints_its_chaos_and_seed() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_billing"))
        .args(["sandbox", "--port", "0", "--chaos", "0.2", "--seed", "7"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("billing sandbox starts");
    let stderr = child.stderr.take().expect("stderr piped");
    let mut lines = BufReader::new(stderr).lines();
    let mut seen = Vec::new();
    let chaos_line = loop {
        let Some(Ok(line)) = lines.next() else {
            let _ = child.kill();
            panic!("no chaos line in {seen:#?}");
        };
        if line.starts_with("Chaos:") {
            break line;
        }
        seen.push(line);
    };
    child.kill().expect("billing sandbox stops");
    let _ = child.wait();
    assert!(
        seen.iter()
            .any(|l| l.starts_with("Listening on http://127.0.0.1:")),
        "{seen:#?}"
    );
    assert_eq!(
        chaos_line,
        "Chaos: faults rate_limit 0.04, lock_timeout 0.04, server_error 0.04, reset 0.04, \
         lost_response 0.04; seed 7 (--seed 7 draws the same faults again)."
    );
}

#[test]
fn bad_chaos_flags_exit_1_naming_the_flag() {
    let dir = Workdir::new();
    for (args, flag) in [
        (&["--chaos", "1.5"][..], "--chaos"),
        (&["--latency", "50..5"][..], "--latency"),
        (&["--latency", "fast"][..], "--latency"),
        (&["--fault-5xx=-0.1"][..], "--fault-5xx"),
        (&["--time-scale", "0.5"][..], "--time-scale"),
        (&["--rate-limit", "0"][..], "--rate-limit"),
        // Alone it would change nothing.
        (&["--time-scale", "10"][..], "--time-scale"),
    ] {
        dir.billing()
            .arg("sandbox")
            .args(["--port", "0"])
            .args(args)
            .timeout(Duration::from_secs(30))
            .assert()
            .code(1)
            .stderr(predicate::str::contains(flag))
            .stderr(predicate::str::contains("panicked").not());
    }
    // Each flag valid, together too much.
    dir.billing()
        .args([
            "sandbox",
            "--port",
            "0",
            "--chaos",
            "0.5",
            "--fault-reset",
            "0.8",
        ])
        .timeout(Duration::from_secs(30))
        .assert()
        .code(1)
        .stderr(predicate::str::contains("add up to 1.2"))
        .stderr(predicate::str::contains("--chaos"));
}
