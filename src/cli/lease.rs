//! The apply lease: one `billing apply` at a time per account and namespace, from any machine.
//!
//! The local lock (`lock.rs`) serialises the applies of one checkout; two checkouts (two CI
//! machines) share only the Stripe account, so the lease lives there: one archived product per
//! namespace, `billing_lease_<namespace>`, whose metadata says who holds it and since when.
//! Every change to it moves its `turn` from `n` to `n + 1` and is sent with the idempotency key
//! `billing-lease-<namespace>-<created>-<n + 1>`. Stripe runs the first request with a key and
//! answers a request with the same key and other parameters (another run's) with an
//! idempotency error, so of the runs that read turn `n`, exactly one moves it: taking,
//! renewing, releasing and breaking the lease are one compare-and-swap
//! (docs/stripe-rules.md#idempotency). A holder renews every 15 s; a waiter that sees the same
//! turn held for 60 s (or held by a process of its own machine that has ended) takes it over.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use stripe_client_core::{IdempotencyKey, RequestBuilder, RequestStrategy, StripeMethod};
use tokio::sync::Mutex;

use crate::stripe::{StripeError, StripeHttp};

use crate::live::LEASE_MARKER as MARKER;

/// How long a waiter sees the same turn held before it takes the lease over.
const EXPIRY: Duration = Duration::from_secs(60);
/// How often the holder renews the lease.
const RENEW_EVERY: Duration = Duration::from_secs(15);
/// How often a waiter reads the lease again.
const POLL: Duration = Duration::from_millis(500);
/// A turn read longer ago than this is read again before it is moved: Stripe keeps an
/// idempotency key for 24 hours at least, so a move from a turn read within the hour is refused
/// if another run made it.
const FRESH: Duration = Duration::from_secs(3600);

/// The lease product as billing reads it.
#[derive(miniserde::Deserialize)]
struct Wire {
    id: String,
    created: i64,
    metadata: BTreeMap<String, String>,
}

impl Wire {
    fn get(&self, key: &str) -> &str {
        self.metadata.get(key).map_or("", String::as_str)
    }

    fn turn(&self) -> u64 {
        self.get("turn").parse().unwrap_or(0)
    }

    fn held(&self) -> bool {
        self.get("state") == "held"
    }

    /// `pid 4242 on ci-3, since 2026-12-06T13:00:00Z`.
    fn holder(&self) -> String {
        format!(
            "pid {} on {}, since {}",
            self.get("pid"),
            self.get("host"),
            self.get("since")
        )
    }

    /// Whether its holder is a process of this machine that has ended.
    fn holder_ended(&self, me: &Me) -> bool {
        let pid = self.get("pid").parse::<u32>().ok();
        self.get("host") == me.host && pid.is_some_and(|pid| pid != me.pid && !alive(pid))
    }
}

/// This run, as the lease records its holder.
#[derive(Clone)]
struct Me {
    run: String,
    host: String,
    pid: u32,
    since: String,
}

impl Me {
    fn new() -> Self {
        Self {
            run: format!("{:016x}", fastrand::u64(..)),
            host: host(),
            pid: std::process::id(),
            since: crate::timestamp::format_timestamp(crate::timestamp::now()),
        }
    }
}

/// The lease as a run saw it before reading the account.
#[derive(Debug, Clone)]
pub(crate) struct Seen {
    turn: u64,
    held: bool,
    /// The lease product's id and creation time, when there is one.
    product: Option<(String, i64)>,
    at: Instant,
}

/// The lease of `namespace` as it is now (free at turn 0 when the account has none yet): read
/// before the account, so that a run which then takes it from that same turn knows no apply
/// ran in between.
pub(crate) async fn peek(client: &StripeHttp, namespace: &str) -> Result<Seen> {
    let id = product_id(namespace);
    match get(client, &id).await {
        Ok(lease) => Ok(Seen {
            turn: lease.turn(),
            held: lease.held(),
            product: Some((lease.id, lease.created)),
            at: Instant::now(),
        }),
        Err(e) if e.status() == Some(404) => Ok(Seen {
            turn: 0,
            held: false,
            product: None,
            at: Instant::now(),
        }),
        Err(e) => Err(e).with_context(|| {
            format!("cannot read the apply lease of namespace `{namespace}` ({id})")
        }),
    }
}

/// A held lease: renewed in the background until [`Lease::release`].
pub(crate) struct Lease {
    /// The turn it was taken from.
    from: u64,
    client: StripeHttp,
    namespace: String,
    id: String,
    created: i64,
    me: Me,
    /// The turn this run holds; `None` once released or lost.
    turn: Arc<Mutex<Option<u64>>>,
    renewal: tokio::task::JoinHandle<()>,
    verbose: bool,
}

/// The lease product's id for `namespace`.
fn product_id(namespace: &str) -> String {
    format!("billing_lease_{namespace}")
}

impl Lease {
    /// Whether no apply took the lease between `seen` and this run taking it: the account
    /// then holds nothing another apply wrote since it was read.
    pub(crate) fn unchanged_since(&self, seen: &Seen) -> bool {
        !seen.held && seen.turn == self.from
    }

    /// Takes the lease of `namespace`, waiting up to `wait` for its holder to release it; first
    /// from the turn `seen`, without reading it again, when it was free then.
    pub(crate) async fn acquire(
        client: &StripeHttp,
        namespace: &str,
        seen: &Seen,
        wait: Duration,
        verbose: bool,
    ) -> Result<Self> {
        let me = Me::new();
        if let Some((id, created)) = &seen.product
            && !seen.held
            && seen.at.elapsed() < FRESH
        {
            let lease = Wire {
                id: id.clone(),
                created: *created,
                metadata: BTreeMap::from([("turn".to_owned(), seen.turn.to_string())]),
            };
            if step(client, namespace, &lease, &me, "held").await? {
                return Ok(Self::held(
                    client,
                    namespace,
                    &lease,
                    me,
                    seen.turn + 1,
                    verbose,
                ));
            }
        }
        let deadline = Instant::now() + wait;
        let mut told = false;
        // The held turn being watched, and since when.
        let mut watched: Option<(u64, Instant)> = None;
        loop {
            let read_at = Instant::now();
            let lease = read_or_create(client, namespace).await?;
            let turn = lease.turn();
            let stale = watched.is_some_and(|(t, since)| t == turn && since.elapsed() >= EXPIRY);
            let ended = lease.held() && lease.holder_ended(&me);
            if !lease.held() || stale || ended {
                if read_at.elapsed() >= FRESH {
                    continue;
                }
                if step(client, namespace, &lease, &me, "held").await? {
                    if lease.held() {
                        let why = if ended {
                            "that process has ended"
                        } else {
                            "it was not renewed for 60 s"
                        };
                        let _ = writeln!(
                            super::style::chatter(),
                            "Took over the apply lease of namespace `{namespace}` from {}: {why}.",
                            lease.holder()
                        );
                    }
                    return Ok(Self::held(client, namespace, &lease, me, turn + 1, verbose));
                }
                // Another run moved the turn first: read it again.
                continue;
            }
            if watched.map(|(t, _)| t) != Some(turn) {
                watched = Some((turn, Instant::now()));
            }
            let now = Instant::now();
            if now >= deadline {
                bail!(
                    "another `billing apply` holds the apply lease of namespace `{namespace}` in this account ({}): no change was sent to Stripe; wait for it, or pass --lock-timeout 5m to wait here",
                    lease.holder()
                );
            }
            if !told {
                told = true;
                let _ = writeln!(
                    super::style::chatter(),
                    "Waiting up to {} for the apply lease of namespace `{namespace}` in this account, held by {}; Ctrl-C to stop (no change is sent meanwhile).",
                    super::lock::describe(wait),
                    lease.holder()
                );
            }
            tokio::time::sleep(POLL.min(deadline - now)).await;
        }
    }

    /// The lease just taken at `turn`, renewed from now on.
    fn held(
        client: &StripeHttp,
        namespace: &str,
        lease: &Wire,
        me: Me,
        turn: u64,
        verbose: bool,
    ) -> Self {
        if verbose {
            let _ = writeln!(
                super::style::chatter(),
                "Took the apply lease of namespace `{namespace}` (product {}, turn {turn}): renewed every 15 s, released when the apply ends.",
                lease.id
            );
        }
        let held = Arc::new(Mutex::new(Some(turn)));
        let renewal = tokio::spawn(renew(
            client.clone(),
            namespace.to_owned(),
            lease.id.clone(),
            lease.created,
            me.clone(),
            Arc::clone(&held),
        ));
        Self {
            from: turn - 1,
            client: client.clone(),
            namespace: namespace.to_owned(),
            id: lease.id.clone(),
            created: lease.created,
            me,
            turn: held,
            renewal,
            verbose,
        }
    }

    /// Releases the lease (a renewal in flight finishes first). A release that fails leaves
    /// the lease to expire: it is reported, never an error of the apply.
    pub(crate) async fn release(&self) {
        let mut turn = self.turn.lock().await;
        self.renewal.abort();
        let Some(held) = turn.take() else {
            return;
        };
        let lease = Wire {
            id: self.id.clone(),
            created: self.created,
            metadata: BTreeMap::from([("turn".to_owned(), held.to_string())]),
        };
        match step(&self.client, &self.namespace, &lease, &self.me, "free").await {
            Ok(true) if self.verbose => {
                let _ = writeln!(
                    super::style::chatter(),
                    "Released the apply lease of namespace `{}` (turn {}).",
                    self.namespace,
                    held + 1
                );
            }
            Ok(_) => {}
            Err(e) => {
                let _ = writeln!(
                    super::style::chatter(),
                    "warning: could not release the apply lease of namespace `{}` ({e}): the next apply takes it over after 60 s",
                    self.namespace
                );
            }
        }
    }
}

/// Renews the lease every [`RENEW_EVERY`] while this run holds it.
async fn renew(
    client: StripeHttp,
    namespace: String,
    id: String,
    created: i64,
    me: Me,
    held: Arc<Mutex<Option<u64>>>,
) {
    loop {
        tokio::time::sleep(RENEW_EVERY).await;
        let mut turn = held.lock().await;
        let Some(current) = *turn else { return };
        let lease = Wire {
            id: id.clone(),
            created,
            metadata: BTreeMap::from([("turn".to_owned(), current.to_string())]),
        };
        match step(&client, &namespace, &lease, &me, "held").await {
            Ok(true) => *turn = Some(current + 1),
            Ok(false) => {
                *turn = None;
                let _ = writeln!(
                    super::style::chatter(),
                    "warning: another run took over the apply lease of namespace `{namespace}` (this apply had not renewed it for 60 s): it may be applying at the same time"
                );
                return;
            }
            // Tried again at the next renewal.
            Err(_) => {}
        }
    }
}

/// Moves the lease from the turn read in `lease` to the next one, `state` (`held` or `free`)
/// by `me`: `true` when this request moved it, `false` when another run moved that turn.
async fn step(
    client: &StripeHttp,
    namespace: &str,
    lease: &Wire,
    me: &Me,
    state: &str,
) -> Result<bool> {
    let next = lease.turn() + 1;
    let (next_text, pid) = (next.to_string(), me.pid.to_string());
    let body = form(&[
        ("metadata[turn]", next_text.as_str()),
        ("metadata[state]", state),
        ("metadata[host]", me.host.as_str()),
        ("metadata[pid]", pid.as_str()),
        ("metadata[since]", me.since.as_str()),
        ("metadata[run]", me.run.as_str()),
    ]);
    let key = format!("billing-lease-{namespace}-{}-{next}", lease.created);
    match post(client, &format!("/products/{}", lease.id), body, &key).await? {
        Ok(now) => Ok(now.get("run") == me.run && now.turn() == next),
        Err(e) if lost(&e) => Ok(false),
        Err(e) => Err(e).context(format!(
            "cannot update the apply lease of namespace `{namespace}`"
        )),
    }
}

/// Whether the move was refused because another run made it (the key carried other
/// parameters), or is making it now (409 once retries ran out).
fn lost(e: &StripeError) -> bool {
    e.kind() == Some("idempotency_error") || e.status() == Some(409)
}

/// The lease product of `namespace`, made (free, archived) when the account has none.
async fn read_or_create(client: &StripeHttp, namespace: &str) -> Result<Wire> {
    let id = product_id(namespace);
    let context = || format!("cannot read the apply lease of namespace `{namespace}` ({id})");
    match get(client, &id).await {
        Ok(wire) => return Ok(wire),
        Err(e) if e.status() == Some(404) => {}
        Err(e) => return Err(e).with_context(context),
    }
    let marker = format!("metadata[{MARKER}]");
    let name = format!("billing apply lease ({namespace})");
    let body = form(&[
        ("id", id.as_str()),
        ("name", name.as_str()),
        ("active", "false"),
        (marker.as_str(), namespace),
        ("metadata[turn]", "0"),
        ("metadata[state]", "free"),
    ]);
    // A key of its own: two runs creating it at once get one product and one refusal.
    let key = format!("billing-lease-{namespace}-new-{:016x}", fastrand::u64(..));
    match post(client, "/products", body, &key).await? {
        Ok(wire) => Ok(wire),
        Err(e) if e.code() == Some("resource_already_exists") => {
            get(client, &id).await.map_err(|e| {
                anyhow::anyhow!(
                    "{e}: the apply lease of namespace `{namespace}` ({id}) was deleted from the account, and Stripe does not give a deleted product's id again"
                )
            })
        }
        Err(e) => Err(e).with_context(context),
    }
}

/// POST `body` to `path` with the idempotency key `key`: the lease product as it is after, or
/// Stripe's refusal (the outer error is a key billing could not send).
async fn post(
    client: &StripeHttp,
    path: &str,
    body: String,
    key: &str,
) -> Result<Result<Wire, StripeError>> {
    let key = IdempotencyKey::new(key).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut request = RequestBuilder::new(StripeMethod::Post, path);
    request.body = Some(body);
    Ok(request
        .customize::<Wire>()
        .request_strategy(RequestStrategy::Idempotent(key))
        .send(client)
        .await)
}

/// `pairs` as a form body.
fn form(pairs: &[(&str, &str)]) -> String {
    let mut body = form_urlencoded::Serializer::new(String::new());
    body.extend_pairs(pairs);
    body.finish()
}

async fn get(client: &StripeHttp, id: &str) -> Result<Wire, StripeError> {
    RequestBuilder::new(StripeMethod::Get, format!("/products/{id}"))
        .customize::<Wire>()
        .send(client)
        .await
}

/// This machine's name, as the lease records its holder.
fn host() -> String {
    #[cfg(unix)]
    {
        let mut buf = [0u8; 256];
        // SAFETY: the buffer is writable for its whole length, which is passed.
        if unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) } == 0 {
            let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
            if let Ok(name) = std::str::from_utf8(&buf[..end]) {
                return name.to_owned();
            }
        }
    }
    "unknown host".to_owned()
}

/// Whether process `pid` of this machine is running (unknown counts as running).
fn alive(pid: u32) -> bool {
    #[cfg(unix)]
    {
        let Ok(pid) = libc::pid_t::try_from(pid) else {
            return true;
        };
        // SAFETY: signal 0 checks that the process exists; nothing is sent.
        if unsafe { libc::kill(pid, 0) } == 0 {
            return true;
        }
        std::io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
    }
    #[cfg(not(unix))]
    {
        let _ = pid;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_process_that_ended_on_this_machine_no_longer_holds_it() {
        let me = Me::new();
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let gone = child.id();
        child.wait().unwrap();
        let lease = |host: &str, pid: u32| Wire {
            id: product_id("x"),
            created: 1,
            metadata: BTreeMap::from([
                ("state".to_owned(), "held".to_owned()),
                ("host".to_owned(), host.to_owned()),
                ("pid".to_owned(), pid.to_string()),
            ]),
        };
        assert!(lease(&me.host, gone).holder_ended(&me));
        assert!(!lease(&me.host, me.pid).holder_ended(&me));
        assert!(!lease("elsewhere", gone).holder_ended(&me));
    }
}
