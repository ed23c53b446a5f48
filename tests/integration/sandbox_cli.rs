//! `billing sandbox` as a command: the chaos it prints and the flags it refuses; `billing
//! sandbox trigger`, a signed sample event sent to a webhook handler.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use predicates::prelude::*;

use stripe_sandbox::test_support::{WebhookReceiver, verify_signature};

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

/// A signing secret for the tests (built at run time: no secret-looking literal in the
/// repository).
fn secret() -> String {
    format!("whsec_{}", "triggerTests0123456789abcdef")
}

#[test]
fn trigger_sends_a_signed_sample_event_the_handler_accepts() {
    let dir = Workdir::new();
    dir.write("hook.secret", format!("{}\n", secret()));
    let handler = WebhookReceiver::verifying(&secret());
    for (event, object) in [
        ("checkout.session.completed", "checkout.session"),
        ("payment_intent.payment_failed", "payment_intent"),
        ("customer.subscription.deleted", "subscription"),
        ("invoice.payment_failed", "invoice"),
        ("account.updated", "account"),
        ("payout.paid", "payout"),
        ("transfer.created", "transfer"),
    ] {
        let output = dir
            .billing()
            .args(["sandbox", "trigger", event, "--to", handler.url()])
            .args(["--secret-file", "hook.secret"])
            .timeout(Duration::from_secs(30))
            .assert()
            .code(0)
            .get_output()
            .clone();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            stdout.contains(&format!("Sent {event} (signed) to {}", handler.url()))
                && stdout.contains("answered 200"),
            "{stdout}"
        );
        let all = format!("{stdout}{}", String::from_utf8_lossy(&output.stderr));
        assert!(
            !all.contains("triggerTests"),
            "the secret was printed: {all}"
        );
        let delivered = handler.received().pop().expect("the handler got the event");
        let body = delivered.event();
        assert_eq!(body["type"], event);
        assert_eq!(body["object"], "event");
        assert!(body["id"].as_str().unwrap().starts_with("evt_"));
        assert_eq!(body["data"]["object"]["object"], object);
        assert!(verify_signature(
            &secret(),
            &delivered.signature,
            &delivered.body
        ));
    }
    assert_eq!(handler.received().len(), 7);
    // The secret may also be given on the command line.
    dir.billing()
        .args(["sandbox", "trigger", "invoice.paid", "--to", handler.url()])
        .args(["--secret", &secret()])
        .assert()
        .code(0)
        .stdout(predicate::str::contains(secret()).not());
}

#[test]
fn a_badly_signed_event_is_refused_by_the_handler_and_exits_1() {
    let dir = Workdir::new();
    let handler = WebhookReceiver::verifying(&secret());
    dir.billing()
        .args(["sandbox", "trigger", "payment_intent.succeeded"])
        .args([
            "--to",
            handler.url(),
            "--secret",
            &secret(),
            "--bad-signature",
        ])
        .timeout(Duration::from_secs(30))
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "Sent payment_intent.succeeded (badly signed on purpose)",
        ))
        .stdout(predicate::str::contains("answered 400"))
        .stdout(predicate::str::contains("triggerTests").not())
        .stderr(predicate::str::contains("triggerTests").not());
    let delivered = handler.received().pop().expect("the handler got the event");
    assert!(!verify_signature(
        &secret(),
        &delivered.signature,
        &delivered.body
    ));
    assert!(
        delivered.signature.starts_with("t="),
        "{}",
        delivered.signature
    );
}

#[test]
fn trigger_refuses_bad_input_before_sending_anything() {
    let dir = Workdir::new();
    let handler = WebhookReceiver::start(&[]);
    let url = handler.url().to_string();
    dir.write("empty.secret", "");
    dir.write("wrong.secret", "sk_test_notAWebhookSecret\n");
    let cases: &[(&[&str], &str)] = &[
        (
            &["price.craeted", "--to", &url, "--secret", &secret()],
            "did you mean `price.created`?",
        ),
        (
            &[
                "customer.subscription.*",
                "--to",
                &url,
                "--secret",
                &secret(),
            ],
            "customer.subscription.created",
        ),
        (&["*", "--to", &url, "--secret", &secret()], "name its type"),
        (
            &[
                "invoice.paid",
                "--to",
                "localhost:3000",
                "--secret",
                &secret(),
            ],
            "--to localhost:3000",
        ),
        (&["invoice.paid", "--to", &url], "--secret-file"),
        (
            &[
                "invoice.paid",
                "--to",
                &url,
                "--secret-file",
                "missing.secret",
            ],
            "missing.secret",
        ),
        (
            &[
                "invoice.paid",
                "--to",
                &url,
                "--secret-file",
                "empty.secret",
            ],
            "whsec_",
        ),
        (
            &[
                "invoice.paid",
                "--to",
                &url,
                "--secret-file",
                "wrong.secret",
            ],
            "whsec_",
        ),
        (
            &[
                "invoice.paid",
                "--to",
                &url,
                "--secret",
                "whsec_x",
                "--secret-file",
                "wrong.secret",
            ],
            "--secret-file",
        ),
    ];
    for (args, says) in cases {
        dir.billing()
            .args(["sandbox", "trigger"])
            .args(*args)
            .timeout(Duration::from_secs(30))
            .assert()
            .code(1)
            .stderr(predicate::str::contains(*says))
            .stderr(predicate::str::contains("notAWebhookSecret").not())
            .stderr(predicate::str::contains("panicked").not());
    }
    // Nobody answers on a closed port: exit 1, saying so.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    dir.billing()
        .args(["sandbox", "trigger", "invoice.paid", "--secret", &secret()])
        .args(["--to", &format!("http://127.0.0.1:{port}/hook")])
        .timeout(Duration::from_secs(30))
        .assert()
        .code(1)
        .stderr(predicate::str::contains("could not reach"));
    assert!(handler.received().is_empty());
}
