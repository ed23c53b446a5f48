//! Persistence cost per write on a file-backed sandbox (`SandboxConfig::state`): creates N
//! products one request at a time over one keep-alive connection, for a few N, and prints the
//! time per product. With a cost per write that grows with the state (rewriting the whole file
//! on every request), the time per product grows with N; with a journal it stays flat.
//!
//!     cargo bench -p stripe-sandbox --bench persist            # N = 100, 1,000
//!     cargo bench -p stripe-sandbox --bench persist -- 100 1000 3000
//!
//! It prints figures and asserts nothing about time.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Instant;

use stripe_sandbox::{Sandbox, SandboxConfig};

/// Sends one request on `stream` and reads its response; returns the status.
fn send(stream: &mut BufReader<TcpStream>, method: &str, path: &str, body: &str) -> u16 {
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer sk_test_bench\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream
        .get_mut()
        .write_all(request.as_bytes())
        .expect("request sent");
    let mut status_line = String::new();
    stream.read_line(&mut status_line).expect("status line");
    let status = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let mut length = 0;
    loop {
        let mut line = String::new();
        stream.read_line(&mut line).expect("header line");
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().expect("content length");
        }
    }
    let mut body = vec![0; length];
    stream.read_exact(&mut body).expect("body");
    status
}

fn file_size(path: &std::path::Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}

fn main() {
    let counts: Vec<usize> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .filter_map(|a| a.parse().ok())
        .collect();
    let counts = if counts.is_empty() {
        vec![100, 1_000]
    } else {
        counts
    };
    println!("file-backed sandbox: N products created one request at a time");
    println!(
        "{:>7} {:>10} {:>13} {:>12} {:>12}",
        "N", "total ms", "ms / product", "state bytes", "journal bytes"
    );
    for n in counts {
        let dir = tempfile::tempdir().expect("temporary directory");
        let path = dir.path().join("state.json");
        let config = SandboxConfig {
            state: Some(path.clone()),
            ..SandboxConfig::default()
        };
        let sandbox = Sandbox::start(config, "127.0.0.1:0".parse().unwrap()).expect("starts");
        let stream = TcpStream::connect(sandbox.addr()).expect("connects");
        let mut stream = BufReader::new(stream);
        let started = Instant::now();
        for i in 0..n {
            let body = format!("name=Product+{i}&metadata[billing_address]=products.p{i}");
            let status = send(&mut stream, "POST", "/v1/products", &body);
            assert_eq!(status, 200, "product {i}");
        }
        let elapsed = started.elapsed();
        let journal = path.with_file_name("state.json.journal");
        let (state_bytes, journal_bytes) = (file_size(&path), file_size(&journal));
        drop(stream);
        sandbox.shutdown();
        println!(
            "{n:>7} {:>10.0} {:>13.3} {state_bytes:>12} {journal_bytes:>12}",
            elapsed.as_secs_f64() * 1e3,
            elapsed.as_secs_f64() * 1e3 / n as f64,
        );
    }
}
