//! A server that echoes the secret key back: in a Stripe error's type, code, param and
//! message and the Request-Id header, deep in a body that is not JSON, and inside an object
//! that does not decode. Stripe never does this, so the sandbox cannot; a proxy or an
//! impostor at `--api-base` could. billing must print none of it.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::time::Duration;

use crate::support::{Workdir, repository_catalog};

/// A test-mode key long enough that any 12 characters of it identify it.
const SECRET: &str = "sk_test_51EchoEchoEchoEchoEchoEchoEchoEchoEchoEchoEchoEchoEchoEchoEchoEchoEchoEchoEchoEchoEcho0123456789";

/// How the server puts the key it was sent into its answer.
#[derive(Clone, Copy)]
enum Echo {
    /// A 400 Stripe error with the key in every field and in the Request-Id header.
    ErrorFields,
    /// A 502 proxy page with the key past its 500th character (saying not to retry).
    LongPage,
    /// A 200 whose object holds the key where a number belongs.
    Undecodable,
    /// A 200 larger than any answer billing reads (40 MiB).
    Huge,
}

/// Serves every connection with `echo` on a loopback port, in a thread of its own.
fn echoing_server(echo: Echo) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut key = String::new();
            let mut length = 0;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                let lower = line.to_ascii_lowercase();
                if let Some(value) = lower.strip_prefix("authorization: bearer ") {
                    key = line[line.len() - value.len()..].trim().to_owned();
                }
                if let Some(value) = lower.strip_prefix("content-length: ") {
                    length = value.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            let (status, headers, body) = match echo {
                Echo::ErrorFields => (
                    "400 Bad Request",
                    format!("Content-Type: application/json\r\nRequest-Id: req_{key}\r\n"),
                    format!(
                        r#"{{"error":{{"type":"{key}","code":"{key}","param":"{key}","message":"bad key {key}"}}}}"#
                    ),
                ),
                Echo::LongPage => (
                    "502 Bad Gateway",
                    // Not retried: the test is about what is printed, not about waiting.
                    "Content-Type: text/html\r\nStripe-Should-Retry: false\r\n".to_owned(),
                    format!("<html>{}{key}</html>", "x".repeat(490)),
                ),
                Echo::Undecodable => (
                    "200 OK",
                    "Content-Type: application/json\r\n".to_owned(),
                    format!(r#"{{"id":"acct_1","object":"account","created":"{key}"}}"#),
                ),
                Echo::Huge => (
                    "200 OK",
                    "Content-Type: application/json\r\n".to_owned(),
                    format!("{{\"pad\":\"{}\"}}", "x".repeat(40 << 20)),
                ),
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    port
}

/// `billing [ARGS] -e test plan` with this repository's catalog, against the server at `port`.
fn plan_against(port: u16, args: &[&str]) -> std::process::Output {
    let dir = Workdir::with_catalog(&repository_catalog());
    dir.billing()
        .args(args)
        .args(["-e", "test", "plan", "--api-base"])
        .arg(format!("http://127.0.0.1:{port}"))
        .env("STRIPE_TEST_SECRET_KEY", SECRET)
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap()
}

#[test]
fn a_server_that_echoes_the_key_never_gets_it_printed() {
    for echo in [Echo::ErrorFields, Echo::LongPage, Echo::Undecodable] {
        let output = plan_against(echoing_server(echo), &["-v"]);
        let said = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        assert_eq!(output.status.code(), Some(1), "{said}");
        for piece in SECRET.as_bytes().chunks(12) {
            let piece = std::str::from_utf8(piece).unwrap();
            if piece.len() == 12 {
                assert!(!said.contains(piece), "{piece:?} of the key in:\n{said}");
            }
        }
        if matches!(echo, Echo::ErrorFields) {
            assert!(
                said.contains("[REDACTED]"),
                "the echo is shown redacted:\n{said}"
            );
        }
    }
}

#[test]
fn an_answer_past_the_size_limit_is_refused_unread() {
    let output = plan_against(echoing_server(Echo::Huge), &[]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    // Asked again, the server would answer as much again: billing does not retry.
    assert!(!stderr.contains("gave up after"), "{stderr}");
    assert!(
        stderr.contains("the answer is larger than 32 MiB: refused unread"),
        "{stderr}"
    );
}
