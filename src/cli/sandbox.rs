//! `billing sandbox`: serve the local Stripe-compatible API in the foreground; `billing sandbox
//! trigger`: send a signed sample webhook event to an application's handler.

use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Subcommand};
use stripe_sandbox::{
    Chaos, DEFAULT_IDLE_TIMEOUT, DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_STATE_BYTES,
    DEFAULT_REQUEST_LOG_BYTES, FailureRule, Latency, SandboxConfig, parse_probability,
    parse_time_scale,
};

use super::{EXIT_ERROR, EXIT_OK, Error, GlobalArgs, Result, Style};
use crate::catalog::suggest;
use crate::files::{ReadError, read_capped};

/// What `billing sandbox --help` says after the options: the sandbox's bounds.
const BOUNDS: &str = "\
Bounds (so that a long-running or probed sandbox cannot exhaust the machine):
  - At most --max-connections connections at once; a new one beyond it closes the idlest.
    Connections idle for --idle-timeout seconds are closed.
  - Request bodies up to 1 MiB; with all connections sending one, at most
    --max-connections MiB of bodies in memory at once.
  - The state file and its journal are read up to --max-state-mib MiB each.
  - The request log holds at most 8 MiB (the oldest requests are dropped first), without
    request bodies unless -v; a request whose API key is refused is never kept.
  - With --state, a write appends one line to FILE.journal; the journal is folded back into
    FILE once it outgrows it, and when the sandbox stops.";

/// Options of `billing sandbox`.
#[derive(Debug, Args)]
#[command(after_help = BOUNDS, args_conflicts_with_subcommands = true)]
pub(super) struct SandboxArgs {
    #[command(subcommand)]
    command: Option<SandboxCommand>,
    /// Port to listen on, on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 12111)]
    port: u16,
    /// Keep state in this JSON file (shared safely between processes under FILE.lock; each
    /// write appends to FILE.journal, folded into FILE when it outgrows it and on stop);
    /// without it, state lives in memory and is gone when the sandbox stops.
    #[arg(long, value_name = "FILE")]
    state: Option<PathBuf>,
    /// Start from a copy of this state file and keep changes in memory only (the file is
    /// never written): a large seeded account can be served again and again unchanged.
    #[arg(long, value_name = "FILE", conflicts_with = "state")]
    from: Option<PathBuf>,
    /// Fail the Nth request matching METHOD and PATH with STATUS (400-599), before it runs:
    /// "METHOD PATH N STATUS [CODE]", e.g. "POST /v1/prices 2 500" or
    /// "POST /v1/prices/* 1 429 lock_timeout". PATH may use * for one segment; CODE picks
    /// between 429 rate_limit (default) and lock_timeout. Repeatable.
    #[arg(long = "fail", value_name = "RULE")]
    failures: Vec<FailureRule>,
    /// Most connections served at once; a new connection beyond it closes the idlest one (or,
    /// when all are handling a request, the oldest after its request).
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_CONNECTIONS as u32, value_parser = clap::value_parser!(u32).range(1..))]
    max_connections: u32,
    /// Seconds a connection may stay idle between requests (or take to send a request's
    /// headers, or its body) before it is closed.
    #[arg(long, value_name = "SECONDS", default_value_t = DEFAULT_IDLE_TIMEOUT.as_secs(), value_parser = clap::value_parser!(u64).range(1..))]
    idle_timeout: u64,
    /// Largest state file (and journal) read, in MiB: a larger one is refused.
    #[arg(long, value_name = "MIB", default_value_t = DEFAULT_MAX_STATE_BYTES >> 20, value_parser = clap::value_parser!(u64).range(1..=1 << 20))]
    max_state_mib: u64,
    /// Seed of the random faults and latencies: the same seed and the same requests, sent one
    /// after another, meet the same faults (concurrent requests arrive in varying order, so a
    /// seed then reproduces the mix of faults, not which request meets which). Without it, a
    /// random seed is picked and printed.
    #[arg(long, value_name = "N", help_heading = "Chaos")]
    seed: Option<u64>,
    /// Probability (0-1) of a random 429 rate_limit (Stripe-Rate-Limited-Reason: global-rate),
    /// answered before the request changes anything.
    #[arg(long, value_name = "P", value_parser = parse_probability, help_heading = "Chaos")]
    fault_rate_limit: Option<f64>,
    /// Probability (0-1) of a random 429 lock_timeout, answered before the request changes
    /// anything.
    #[arg(long, value_name = "P", value_parser = parse_probability, help_heading = "Chaos")]
    fault_lock_timeout: Option<f64>,
    /// Probability (0-1) of a random 500 or 503 api_error, answered before the request changes
    /// anything.
    #[arg(long = "fault-5xx", value_name = "P", value_parser = parse_probability, help_heading = "Chaos")]
    fault_server_error: Option<f64>,
    /// Probability (0-1) that the connection is closed before any response, the request
    /// changing nothing.
    #[arg(long, value_name = "P", value_parser = parse_probability, help_heading = "Chaos")]
    fault_reset: Option<f64>,
    /// Probability (0-1) that a POST or DELETE runs (and commits) but the connection is closed
    /// without its response.
    #[arg(long, value_name = "P", value_parser = parse_probability, help_heading = "Chaos")]
    fault_lost_response: Option<f64>,
    /// Shorthand: P (0-1) spread evenly over the five kinds of fault (P/5 each); a --fault-…
    /// flag overrides its kind's share. All probabilities must add up to at most 1.
    #[arg(long, value_name = "P", value_parser = parse_probability, help_heading = "Chaos")]
    chaos: Option<f64>,
    /// Added latency per request, drawn uniformly from MIN..MAX milliseconds (e.g. 5..50),
    /// divided by --time-scale.
    #[arg(long, value_name = "MIN..MAX", help_heading = "Chaos")]
    latency: Option<Latency>,
    /// Global rate limit in requests per second (Stripe: 25 in test mode, 100 in live mode); a
    /// token bucket holding one second of requests. Beyond it: 429 rate_limit with
    /// Stripe-Rate-Limited-Reason: global-rate.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..), help_heading = "Chaos")]
    rate_limit: Option<u32>,
    /// Rate limit per endpoint (method and route, e.g. POST /v1/prices/{id}) in requests per
    /// second, 0 for none; default 25 (as Stripe) with --rate-limit, none otherwise. Beyond it:
    /// 429 rate_limit with Stripe-Rate-Limited-Reason: endpoint-rate.
    #[arg(long, value_name = "N", help_heading = "Chaos")]
    endpoint_rate_limit: Option<u32>,
    /// Runs time K times faster (K >= 1) for the rate limiters and the latency: limiter rates
    /// are multiplied by K (buckets still hold one unscaled second of requests), latencies
    /// divided by K. The sandbox's clock is not affected.
    #[arg(long, value_name = "K", value_parser = parse_time_scale, help_heading = "Chaos")]
    time_scale: Option<f64>,
}

/// Stripe's default rate limit per endpoint, in requests per second
/// (docs/stripe-rules.md#rate-limits-and-retries).
const STRIPE_ENDPOINT_RATE: u32 = 25;

impl SandboxArgs {
    /// The chaos the flags ask for (checked: probabilities adding up to at most 1).
    fn chaos(&self) -> anyhow::Result<Chaos> {
        let spread = Chaos::spread(self.chaos.unwrap_or(0.0));
        let mut chaos = Chaos {
            seed: self.seed,
            rate_limit: self.fault_rate_limit.unwrap_or(spread.rate_limit),
            lock_timeout: self.fault_lock_timeout.unwrap_or(spread.lock_timeout),
            server_error: self.fault_server_error.unwrap_or(spread.server_error),
            reset: self.fault_reset.unwrap_or(spread.reset),
            lost_response: self.fault_lost_response.unwrap_or(spread.lost_response),
            latency: self.latency,
            global_rate: self.rate_limit,
            endpoint_rate: match (self.endpoint_rate_limit, self.rate_limit) {
                (Some(0), _) | (None, None) => None,
                (Some(n), _) => Some(n),
                (None, Some(_)) => Some(STRIPE_ENDPOINT_RATE),
            },
            time_scale: self.time_scale.unwrap_or(1.0),
        };
        if self.time_scale.is_some()
            && chaos.latency.is_none()
            && chaos.global_rate.is_none()
            && chaos.endpoint_rate.is_none()
        {
            anyhow::bail!(
                "--time-scale speeds up only --latency and the rate limits: add --latency MIN..MAX or --rate-limit N, or drop --time-scale"
            );
        }
        // Pick and show the seed, so that a run can be reproduced.
        if chaos.seed.is_none() && (chaos.has_faults() || chaos.latency.is_some()) {
            chaos.seed = Some(fastrand::u64(..));
        }
        // The flags' parsers check each value; only their sum is left to check.
        chaos
            .validate()
            .context("invalid --chaos and --fault-… probabilities")?;
        Ok(chaos)
    }
}

pub(crate) async fn run(global: &GlobalArgs, args: &SandboxArgs, style: Style) -> Result<u8> {
    if let Some(SandboxCommand::Trigger(trigger)) = &args.command {
        return run_trigger(trigger).await;
    }
    let chaos = args.chaos()?;
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, args.port));
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    let local = listener.local_addr()?;
    let config = SandboxConfig {
        state: args.state.clone(),
        from: args.from.clone(),
        failures: args.failures.clone(),
        max_state_bytes: args.max_state_mib << 20,
        log_requests: global.verbose > 0,
        // No one reads the log of this process: it keeps no request bodies unless asked for
        // verbosity.
        request_log_bytes: DEFAULT_REQUEST_LOG_BYTES,
        request_log_bodies: global.verbose > 0,
        max_connections: usize::try_from(args.max_connections).unwrap_or(usize::MAX),
        idle_timeout: Duration::from_secs(args.idle_timeout),
        chaos,
        live: false,
        // A local stand-in for Stripe delivers to handlers on this machine.
        local_webhooks: true,
    };
    let state = match (&args.state, &args.from) {
        (Some(path), _) => format!("in {}", path.display()),
        (None, Some(from)) => format!("in memory, from a copy of {}", from.display()),
        (None, None) => "in memory".to_owned(),
    };
    let mut err = super::style::chatter();
    writeln!(
        err,
        "billing sandbox: a local stand-in for Stripe's API (products, prices, coupons, promotion codes, tax, portal configurations, webhook endpoints), not Stripe.\n\
         Listening on http://{local}/ with state {state}. Any sk_test_ or rk_test_ key is accepted.\n\
         Try: STRIPE_SECRET_KEY=sk_test_local billing --api-base http://{local} plan\n\
         Press Ctrl-C to stop."
    )?;
    if config.chaos.is_active() {
        let again = match config.chaos.seed {
            Some(seed) => format!(" (--seed {seed} draws the same faults again)"),
            None => String::new(),
        };
        writeln!(err, "Chaos: {}{again}.", config.chaos)?;
    }
    drop(err);
    let _ = style;
    stripe_sandbox::serve(config, listener, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
    .map_err(anyhow::Error::from)?;
    let _ = writeln!(super::style::chatter(), "billing sandbox: stopped.");
    Ok(EXIT_OK)
}

// ---------------------------------------------------------------------------------------------
// `billing sandbox trigger`

/// Subcommands of `billing sandbox`.
#[derive(Debug, Subcommand)]
enum SandboxCommand {
    /// Send one signed sample event to a webhook handler, as Stripe would, and print what it
    /// answered (exit 0 on 2xx, 1 otherwise).
    ///
    /// The event is Stripe's Event object with a made-up data.object of its type (a Checkout
    /// session, payment intent, subscription, invoice, account, payout, transfer, ...), signed
    /// with the endpoint's secret (Stripe-Signature: t=...,v1=HMAC-SHA256). The secret is
    /// never printed.
    Trigger(TriggerArgs),
}

/// Options of `billing sandbox trigger`.
#[derive(Debug, Args)]
struct TriggerArgs {
    /// The event type, e.g. checkout.session.completed, invoice.payment_failed,
    /// customer.subscription.deleted (any type a webhook endpoint accepts).
    #[arg(value_name = "EVENT")]
    event: String,
    /// The handler's URL, e.g. http://localhost:3000/stripe/webhooks.
    #[arg(long, value_name = "URL")]
    to: String,
    /// The signing secret the handler checks with (whsec_...). Prefer --secret-file: a value
    /// on the command line can be seen by other users of the machine.
    #[arg(long, value_name = "WHSEC", conflicts_with = "secret_file")]
    secret: Option<String>,
    /// A file holding the signing secret (e.g. the one billing apply wrote).
    #[arg(long, value_name = "PATH")]
    secret_file: Option<PathBuf>,
    /// Sign with a wrong secret on purpose, to check that the handler refuses the event.
    #[arg(long)]
    bad_signature: bool,
}

/// The largest secret file read: a secret is a short line.
const MAX_SECRET_FILE: u64 = 4096;

/// The event type `name` names, or why it names none (with a did-you-mean).
fn trigger_event(name: &str) -> Result<&str> {
    if stripe_facts::is_event_type(name) && name != stripe_facts::ALL_EVENTS {
        return Ok(name);
    }
    let error = Error::new(format!(
        "`{name}` is not an event type a webhook endpoint receives"
    ));
    let expanded = stripe_facts::expand_pattern(name);
    Err(if name == stripe_facts::ALL_EVENTS {
        error.hint("trigger sends one event: name its type, e.g. checkout.session.completed")
    } else if !expanded.is_empty() {
        error.hint(format!(
            "`{name}` stands for {}: name one of them",
            expanded.join(", ")
        ))
    } else if let Some(close) =
        suggest(name, stripe_facts::EVENT_TYPES).filter(|_| name.len() <= 64)
    {
        error.hint(format!("did you mean `{close}`?"))
    } else {
        error.hint("see https://docs.stripe.com/api/events/types for the event types")
    })
}

/// The secret to sign with: the one given, or (with --bad-signature) a random wrong one.
fn trigger_secret(args: &TriggerArgs) -> Result<String> {
    let given = match (&args.secret, &args.secret_file) {
        (Some(secret), _) => Some(secret.trim().to_string()),
        (None, Some(path)) => {
            let bytes = read_capped(path, MAX_SECRET_FILE).map_err(|err| {
                Error::new(match err {
                    ReadError::Io(err) => format!("cannot read {}: {err}", path.display()),
                    ReadError::TooLarge => format!(
                        "{} is too large for a signing secret (at most {MAX_SECRET_FILE} bytes)",
                        path.display()
                    ),
                })
            })?;
            Some(String::from_utf8_lossy(&bytes).trim().to_string())
        }
        (None, None) => None,
    };
    if let Some(secret) = &given
        && !(secret.starts_with("whsec_") && secret.len() > "whsec_".len())
    {
        let from = match &args.secret_file {
            Some(path) if args.secret.is_none() => format!("the secret in {}", path.display()),
            _ => "--secret".to_owned(),
        };
        return Err(Error::new(format!(
            "{from} is not a webhook signing secret: those start with whsec_"
        )));
    }
    match given {
        _ if args.bad_signature => Ok(wrong_secret()),
        Some(secret) => Ok(secret),
        None => Err(Error::new("no signing secret to sign the event with").hint(
            "give the endpoint's secret with --secret-file PATH (or --secret whsec_...), or \
             send a badly signed event with --bad-signature",
        )),
    }
}

/// A signing secret made up for one run: an event signed with it has a wrong signature
/// whatever the endpoint's secret is (`trigger --bad-signature`, `doctor --probe-webhooks`).
pub(super) fn wrong_secret() -> String {
    format!("whsec_wrong{:016x}", fastrand::u64(..))
}

/// `billing sandbox trigger`.
async fn run_trigger(args: &TriggerArgs) -> Result<u8> {
    let event = trigger_event(&args.event)?;
    if !(args.to.starts_with("http://") || args.to.starts_with("https://")) {
        return Err(Error::new(format!(
            "--to {}: the handler's URL must start with http:// or https://",
            args.to
        )));
    }
    let secret = trigger_secret(args)?;
    let payload = stripe_sandbox::webhooks::sample_event(event)
        .ok_or_else(|| Error::new(format!("no sample event of type `{event}`")))?;
    let status = stripe_sandbox::webhooks::send_event(&args.to, &secret, &payload)
        .await
        .map_err(|err| Error::new(err.to_string()))?;
    let signed = if args.bad_signature {
        "badly signed on purpose"
    } else {
        "signed"
    };
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "Sent {event} ({signed}) to {}: the handler answered {status}.",
        args.to
    )?;
    Ok(if (200..300).contains(&status) {
        EXIT_OK
    } else {
        EXIT_ERROR
    })
}
