//! `billing sandbox`: serve the local Stripe-compatible API in the foreground.

use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;

use super::{EXIT_OK, GlobalArgs, Style};
use crate::sandbox::{self, FailureRule, SandboxConfig};

/// Options of `billing sandbox`.
#[derive(Debug, Args)]
pub struct SandboxArgs {
    /// Port to listen on, on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 12111)]
    port: u16,
    /// Keep state in this JSON file (written atomically, shared safely between processes);
    /// without it, state lives in memory and is gone when the sandbox stops.
    #[arg(long, value_name = "FILE")]
    state: Option<PathBuf>,
    /// Fail the Nth request matching METHOD and PATH with STATUS (400-599), before it runs:
    /// "METHOD PATH N STATUS [CODE]", e.g. "POST /v1/prices 2 500" or
    /// "POST /v1/prices/* 1 429 lock_timeout". PATH may use * for one segment; CODE picks
    /// between 429 rate_limit (default) and lock_timeout. Repeatable.
    #[arg(long = "fail", value_name = "RULE")]
    failures: Vec<FailureRule>,
}

pub(crate) async fn run(global: &GlobalArgs, args: &SandboxArgs, style: Style) -> Result<u8> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, args.port));
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    let local = listener.local_addr()?;
    let config = SandboxConfig {
        state: args.state.clone(),
        failures: args.failures.clone(),
        log_requests: global.verbose > 0,
    };
    let state = args
        .state
        .as_ref()
        .map_or("in memory".to_owned(), |p| format!("in {}", p.display()));
    let mut err = std::io::stderr().lock();
    writeln!(
        err,
        "billing sandbox: a local stand-in for Stripe's API (products, prices, coupons, promotion codes, tax, portal configurations), not Stripe.\n\
         Listening on http://{local}/ with state {state}. Any sk_test_ or rk_test_ key is accepted.\n\
         Try: STRIPE_SECRET_KEY=sk_test_local billing --api-base http://{local} plan\n\
         Press Ctrl-C to stop."
    )?;
    drop(err);
    let _ = style;
    sandbox::serve(config, listener, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    let _ = writeln!(std::io::stderr(), "billing sandbox: stopped.");
    Ok(EXIT_OK)
}
