//! Helpers for tests that talk to a sandbox over HTTP (the `test-support` feature): starting
//! sandboxes, the async-stripe client, raw HTTP requests (for what the typed client cannot
//! express), error assertions, and a webhook handler that keeps what it receives and checks
//! signatures ([`WebhookReceiver`]). The sandbox's own tests use them, and so do billing's.
//!
//! Test code: the helpers panic (with a message) on anything unexpected.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use serde_json::Value;
use stripe::{Client, ClientBuilder, StripeError};

use crate::{Sandbox, SandboxConfig};

/// The test key every helper uses.
pub const KEY: &str = "sk_test_sandboxTests0123456789";

/// The API version async-stripe pins.
pub const VERSION: &str = "2026-09-30.endive";

pub fn loopback() -> SocketAddr {
    "127.0.0.1:0".parse().expect("loopback address")
}

/// An in-memory sandbox on an ephemeral port.
pub fn start() -> Sandbox {
    start_with(SandboxConfig::default())
}

/// An in-memory sandbox that accepts webhook endpoints on this machine, as `billing sandbox`
/// does ([`SandboxConfig::local_webhooks`]): for tests that deliver to a [`WebhookReceiver`].
pub fn start_local() -> Sandbox {
    start_with(SandboxConfig {
        local_webhooks: true,
        ..SandboxConfig::default()
    })
}

pub fn start_with(config: SandboxConfig) -> Sandbox {
    Sandbox::start(config, loopback()).expect("sandbox starts")
}

/// The bundled async-stripe client pointed at `sandbox`.
pub fn client(sandbox: &Sandbox) -> Client {
    ClientBuilder::new(KEY)
        .url(sandbox.base_url())
        .build()
        .expect("client builds")
}

/// `(status, code, param, type, message)` of a Stripe error returned by the typed client.
pub fn stripe_error<T: std::fmt::Debug>(
    result: Result<T, StripeError>,
) -> (u16, Option<String>, Option<String>, String, String) {
    match result {
        Err(StripeError::Stripe(api, status)) => (
            status,
            api.code.as_ref().map(|c| c.as_str().to_string()),
            api.param.clone(),
            api.type_.as_str().to_string(),
            api.message.clone().unwrap_or_default(),
        ),
        other => panic!("expected a Stripe API error, got {other:?}"),
    }
}

/// A raw HTTP response.
#[derive(Debug)]
pub struct RawResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl RawResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("response is not JSON ({e}): {}", self.body))
    }

    /// `(status, error.code, error.param, error.message)` of an error response.
    pub fn refusal(&self) -> (u16, Option<String>, Option<String>, String) {
        let (code, param, message) = self.error();
        (self.status, code, param, message)
    }

    /// `error.code`, `error.param` and `error.message` of an error body.
    pub fn error(&self) -> (Option<String>, Option<String>, String) {
        let body = self.json();
        let e = &body["error"];
        (
            e["code"].as_str().map(str::to_string),
            e["param"].as_str().map(str::to_string),
            e["message"].as_str().unwrap_or_default().to_string(),
        )
    }
}

/// A raw request, authenticated with [`KEY`] and pinned to [`VERSION`] unless overridden.
#[derive(Debug, Clone)]
pub struct Req {
    method: String,
    target: String,
    headers: Vec<(String, String)>,
    body: String,
}

impl Req {
    pub fn new(method: &str, target: &str) -> Req {
        Req {
            method: method.to_string(),
            target: target.to_string(),
            headers: vec![
                ("Authorization".into(), format!("Bearer {KEY}")),
                ("Stripe-Version".into(), VERSION.into()),
            ],
            body: String::new(),
        }
    }

    pub fn get(target: &str) -> Req {
        Req::new("GET", target)
    }

    pub fn post(target: &str, body: &str) -> Req {
        let mut req = Req::new("POST", target);
        req.body = body.to_string();
        req.headers.push((
            "Content-Type".into(),
            "application/x-www-form-urlencoded".into(),
        ));
        req
    }

    pub fn delete(target: &str) -> Req {
        Req::new("DELETE", target)
    }

    /// Sets (or, with `None`, removes) a header.
    pub fn header(mut self, name: &str, value: Option<&str>) -> Req {
        self.headers.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
        if let Some(value) = value {
            self.headers.push((name.to_string(), value.to_string()));
        }
        self
    }

    pub fn idempotency_key(self, key: &str) -> Req {
        self.header("Idempotency-Key", Some(key))
    }

    /// The request bytes, up to and including the body.
    pub fn bytes(&self) -> Vec<u8> {
        let mut head = format!(
            "{} {} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: {}\r\n",
            self.method,
            self.target,
            self.body.len()
        );
        for (k, v) in &self.headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str("\r\n");
        let mut bytes = head.into_bytes();
        bytes.extend_from_slice(self.body.as_bytes());
        bytes
    }

    pub fn send(&self, sandbox: &Sandbox) -> RawResponse {
        self.try_send(sandbox)
            .expect("the sandbox answers instead of closing the connection")
    }

    /// [`Req::send`], but `None` when the connection is closed without a response (an injected
    /// reset or lost response).
    pub fn try_send(&self, sandbox: &Sandbox) -> Option<RawResponse> {
        let mut stream = connect(sandbox);
        stream.write_all(&self.bytes()).expect("request written");
        try_read_response(stream)
    }
}

pub fn connect(sandbox: &Sandbox) -> TcpStream {
    let stream = TcpStream::connect(sandbox.addr()).expect("connects");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout set");
    stream
}

/// Reads one `Connection: close` response.
pub fn read_response(stream: TcpStream) -> RawResponse {
    try_read_response(stream).expect("the sandbox answers instead of closing the connection")
}

/// Reads one `Connection: close` response; `None` when the connection is closed (or reset)
/// before any byte of a response.
pub fn try_read_response(mut stream: TcpStream) -> Option<RawResponse> {
    let mut raw = Vec::new();
    match stream.read_to_end(&mut raw) {
        Ok(_) => {}
        Err(err) if raw.is_empty() && err.kind() == std::io::ErrorKind::ConnectionReset => {
            return None;
        }
        Err(err) => panic!("response read: {err}"),
    }
    if raw.is_empty() {
        return None;
    }
    let split = head_end(&raw).expect("response has a header block");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut body = raw[split + 4..].to_vec();
    let status = status_of(&head);
    let mut lines = head.split("\r\n");
    lines.next();
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let chunked = headers.iter().any(|(k, v)| {
        k.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked")
    });
    if chunked {
        body = dechunk(&body);
    }
    Some(RawResponse {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

/// Where the header block of the response at the start of `raw` ends (its `\r\n\r\n`).
fn head_end(raw: &[u8]) -> Option<usize> {
    raw.windows(4).position(|w| w == b"\r\n\r\n")
}

/// The status code of a response's header block.
fn status_of(head: &str) -> u16 {
    head.split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status code")
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(end) = data.windows(2).position(|w| w == b"\r\n") {
        let size =
            usize::from_str_radix(String::from_utf8_lossy(&data[..end]).trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        let start = end + 2;
        out.extend_from_slice(&data[start..start + size]);
        data = &data[start + size + 2..];
    }
    out
}

/// Creates an object with a raw `POST path` and returns its id.
pub fn create(sandbox: &Sandbox, path: &str, body: &str) -> String {
    let res = Req::post(path, body).send(sandbox);
    assert_eq!(res.status, 200, "{}", res.body);
    res.json()["id"].as_str().expect("id").to_string()
}

/// Creates a product over raw HTTP and returns its id.
pub fn product(sandbox: &Sandbox, body: &str) -> String {
    create(sandbox, "/v1/products", body)
}

/// Creates a price over raw HTTP and returns its id.
pub fn price(sandbox: &Sandbox, body: &str) -> String {
    create(sandbox, "/v1/prices", body)
}

/// Sends `requests` on one keep-alive connection, pipelined (in order, without waiting for
/// answers), and returns the status of every response, in order.
pub fn pipelined(sandbox: &Sandbox, requests: &[Req]) -> Vec<u16> {
    let mut stream = connect(sandbox);
    let mut reader = stream.try_clone().expect("stream clones");
    let read = std::thread::spawn(move || {
        let mut raw = Vec::new();
        reader.read_to_end(&mut raw).expect("responses read");
        raw
    });
    let mut batch = Vec::new();
    for (i, req) in requests.iter().enumerate() {
        let mut bytes = req.bytes();
        if i + 1 < requests.len() {
            let head = String::from_utf8_lossy(&bytes).replacen("Connection: close\r\n", "", 1);
            bytes = head.into_bytes();
        }
        batch.extend_from_slice(&bytes);
        if batch.len() > 64 * 1024 {
            stream.write_all(&batch).expect("requests written");
            batch.clear();
        }
    }
    stream.write_all(&batch).expect("requests written");
    let raw = read.join().expect("reader thread");
    // Split the responses by their `Content-Length`.
    let mut statuses = Vec::new();
    let mut rest = &raw[..];
    while let Some(end) = head_end(rest) {
        let head = String::from_utf8_lossy(&rest[..end]).to_ascii_lowercase();
        let status = status_of(&head);
        let length: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse().ok())
            .expect("content-length");
        statuses.push(status);
        rest = rest.get(end + 4 + length..).unwrap_or_default();
    }
    statuses
}

/// Creates a coupon over raw HTTP and returns its id.
pub fn coupon(sandbox: &Sandbox, body: &str) -> String {
    create(sandbox, "/v1/coupons", body)
}

/// Creates a promotion code over raw HTTP and returns its id.
pub fn promotion_code(sandbox: &Sandbox, body: &str) -> String {
    create(sandbox, "/v1/promotion_codes", body)
}

/// Creates a customer over raw HTTP and returns its id.
pub fn customer(sandbox: &Sandbox, body: &str) -> String {
    create(sandbox, "/v1/customers", body)
}

/// The keys of a JSON object, in order.
pub fn keys(value: &Value) -> Vec<&str> {
    value
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect()
}

/// The system clock in Unix seconds (a fresh sandbox's clock, until advanced).
pub fn unix_now() -> i64 {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("the clock is after 1970");
    i64::try_from(since.as_secs()).expect("seconds fit an i64")
}

/// The types of the events recorded so far, newest first.
pub fn event_types(sandbox: &Sandbox) -> Vec<String> {
    let res = Req::get("/v1/events?limit=100").send(sandbox);
    assert_eq!(res.status, 200, "{}", res.body);
    res.json()["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|e| e["type"].as_str().expect("type").to_string())
        .collect()
}

// ---------------------------------------------------------------------------------------------
// A webhook handler for tests

/// One POST a [`WebhookReceiver`] got.
#[derive(Debug, Clone)]
pub struct Delivered {
    pub path: String,
    /// The `Stripe-Signature` header.
    pub signature: String,
    pub content_type: String,
    pub body: String,
}

impl Delivered {
    /// The body, an Event object.
    pub fn event(&self) -> Value {
        serde_json::from_str(&self.body).expect("an event is JSON")
    }
}

/// How a [`WebhookReceiver`] answers.
enum Answer {
    /// The next of these statuses, then 200.
    Statuses(std::collections::VecDeque<u16>),
    /// 200 when [`verify_signature`] accepts the request with this secret, else 400.
    Verify(String),
}

/// An application's webhook handler on a loopback port, in a thread of its own: it keeps every
/// POST it receives, and answers as told.
pub struct WebhookReceiver {
    url: String,
    got: std::sync::Arc<std::sync::Mutex<Vec<Delivered>>>,
}

impl WebhookReceiver {
    /// Answers each request with the next of `statuses` (200 once they run out).
    pub fn start(statuses: &[u16]) -> WebhookReceiver {
        Self::serve(Answer::Statuses(statuses.iter().copied().collect()))
    }

    /// Answers 200 to a request signed with `secret`, 400 to any other (as a handler that
    /// checks signatures does).
    pub fn verifying(secret: &str) -> WebhookReceiver {
        Self::serve(Answer::Verify(secret.to_string()))
    }

    fn serve(mut answer: Answer) -> WebhookReceiver {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let addr = listener.local_addr().expect("its address");
        let url = format!("http://{addr}/stripe/webhooks");
        let got: std::sync::Arc<std::sync::Mutex<Vec<Delivered>>> = std::sync::Arc::default();
        let kept = std::sync::Arc::clone(&got);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let delivered = read_post(&stream);
                let status = match (&mut answer, &delivered) {
                    (Answer::Statuses(next), _) => next.pop_front().unwrap_or(200),
                    (Answer::Verify(secret), Some(d))
                        if verify_signature(secret, &d.signature, &d.body) =>
                    {
                        200
                    }
                    (Answer::Verify(_), _) => 400,
                };
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                );
                if let Some(delivered) = delivered {
                    kept.lock().expect("not poisoned").push(delivered);
                }
            }
        });
        WebhookReceiver { url, got }
    }

    /// `http://127.0.0.1:PORT/stripe/webhooks`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// What arrived so far.
    pub fn received(&self) -> Vec<Delivered> {
        self.got.lock().expect("not poisoned").clone()
    }

    /// Waits (up to 10 s) until `n` requests arrived, then returns all of them.
    pub fn wait_for(&self, n: usize) -> Vec<Delivered> {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            let got = self.received();
            if got.len() >= n || std::time::Instant::now() > deadline {
                return got;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// Reads one HTTP request (headers and a `Content-Length` body).
fn read_post(stream: &TcpStream) -> Option<Delivered> {
    use std::io::BufRead;
    let mut reader = std::io::BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let path = line.split_whitespace().nth(1)?.to_string();
    let (mut length, mut signature, mut content_type) = (0, String::new(), String::new());
    loop {
        line.clear();
        reader.read_line(&mut line).ok()?;
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        let (name, value) = header.split_once(':')?;
        match name.to_ascii_lowercase().as_str() {
            "content-length" => length = value.trim().parse().ok()?,
            "stripe-signature" => signature = value.trim().to_string(),
            "content-type" => content_type = value.trim().to_string(),
            _ => {}
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(Delivered {
        path,
        signature,
        content_type,
        body: String::from_utf8(body).ok()?,
    })
}

/// Checks a `Stripe-Signature` header as Stripe's libraries do
/// (https://docs.stripe.com/webhooks/signature), written apart from the sandbox's signing: `t`
/// within five minutes of now, and one `v1` equal to the hex HMAC-SHA256 of `"{t}.{body}"`
/// keyed by the secret.
pub fn verify_signature(secret: &str, header: &str, body: &str) -> bool {
    use hmac::{Hmac, Mac};
    let mut t = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.split_once('=') {
            Some(("t", value)) => t = value.parse::<i64>().ok(),
            Some(("v1", value)) => signatures.push(value.to_string()),
            _ => {}
        }
    }
    let Some(t) = t else { return false };
    if (unix_now() - t).abs() > 300 {
        return false;
    }
    let mut mac =
        Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(format!("{t}.{body}").as_bytes());
    let expected: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    signatures.contains(&expected)
}
