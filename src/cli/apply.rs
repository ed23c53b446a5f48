//! `billing apply [PLAN]`: make Stripe match billing.toml — from a fresh plan after
//! confirmation, or from a saved plan file after checking it is not stale.

use std::collections::BTreeSet;
use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;

use super::lease::{self, Lease, Seen};
use super::lock::{self, ApplyLock};
use super::progress::{Events, Human};
use super::session::{self, Session};
use super::{EXIT_OK, Error, GlobalArgs, Result, Style};
use crate::apply::{self, ApplyReport};
use crate::document::{LoadError, PlanDocument};
use crate::render;

/// How `apply` reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(super) enum ApplyFormat {
    /// The plan, progress and a report, for people.
    Text,
    /// One JSON event per line on stdout (docs/plan-json.md).
    Json,
}

/// Options of `billing apply`.
#[derive(Debug, Args)]
pub(super) struct ApplyArgs {
    /// A plan file written by `billing plan --out`: apply exactly that plan, without asking
    /// (the file is the approval), unless Stripe or billing.toml changed since it was made.
    #[arg(value_name = "PLAN_FILE")]
    plan: Option<PathBuf>,
    /// Apply without asking for confirmation (required when stdin is not a terminal).
    #[arg(long, short = 'y')]
    yes: bool,
    /// Allow archiving objects that left billing.toml in a live environment, and breaking
    /// objects billing.toml does not declare.
    #[arg(long)]
    allow_destroy: bool,
    /// How many independent writes may be in flight at once.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=64))]
    concurrency: u16,
    /// How to report: text for people, json for one event per line.
    #[arg(long, value_enum, default_value_t = ApplyFormat::Text)]
    format: ApplyFormat,
    /// How long to wait for another `billing apply` of the same environment (on this machine:
    /// the lock; from any checkout: the account's apply lease) to finish (30s, 5m, 1h); by
    /// default, refuse at once.
    #[arg(long, value_name = "DURATION", default_value = "0s", value_parser = super::lock::parse_duration)]
    lock_timeout: std::time::Duration,
    /// Replace the object at ADDRESS even though nothing forces it (webhooks.app rotates its
    /// signing secret; prices and tax rates too). Repeatable; not with a saved plan, which
    /// says what it replaces.
    #[arg(long, value_name = "ADDRESS", conflicts_with = "plan")]
    replace: Vec<String>,
}

/// The directory of billing.toml, which the paths it names are relative to.
fn catalog_dir(config: &Path) -> PathBuf {
    match config.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_owned(),
        _ => PathBuf::from("."),
    }
}

/// Asks on the terminal whether to apply: an error unless the answer is `yes`, or when there
/// is no terminal to ask.
fn confirm() -> Result<()> {
    if !std::io::stdin().is_terminal() {
        return Err(Error::new(
            "refusing to apply without confirmation: stdin is not a terminal",
        )
        .hint("review the plan above, then run `billing apply --yes`, or apply a saved plan: `billing plan --out plan.json`, then `billing apply plan.json`"));
    }
    let mut err = std::io::stderr().lock();
    write!(
        err,
        "Apply these changes to Stripe? Only 'yes' will be accepted: "
    )?;
    err.flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    if answer.trim() == "yes" {
        Ok(())
    } else {
        Err(Error::new("apply cancelled: nothing was sent to Stripe"))
    }
}

/// Reads a saved plan, checks its MAC with the environment's key before anything is sent,
/// then that it still applies, under the apply lock.
async fn saved_plan(
    global: &GlobalArgs,
    path: &Path,
    lock_timeout: Duration,
) -> Result<(Session, PlanDocument, Held)> {
    let text = PlanDocument::read(path)?;
    let opened = session::open_unguarded(global)?;
    let connection = &opened.connection;
    let doc = PlanDocument::parse_for(
        path,
        &text,
        &connection.environment,
        &connection.plan_key,
    ).map_err(|error| {
        match error {
            LoadError::Unverified { reason, .. } => Error::new(format!(
                "refusing to apply {}: it does not verify with the key of {}: {reason}",
                path.display(),
                crate::catalog::called(&connection.environment)
            ))
            .hint(format!(
                "nothing was sent to Stripe; make the plan again with `billing plan --out {}` and the key of {}, review it, and apply that file",
                path.display(),
                crate::catalog::called(&connection.environment)
            )),
            LoadError::Elsewhere { made, here, .. } => {
                Error::elsewhere(path, &made, &here, &opened.catalog)
            }
            other => Error::from(other),
        }
    })?;
    let opened = opened.guard().await?;
    let lock = lock::acquire(&global.config, &opened.connection.environment, lock_timeout)?;
    let seen = peek(&opened).await?;
    let session = opened.read().await?;
    check_fresh(&doc, &session, path)?;
    Ok((session, doc, Held { _lock: lock, seen }))
}

/// Refuses a saved plan that no longer applies to the account as `session` read it.
fn check_fresh(doc: &PlanDocument, session: &Session, path: &Path) -> Result<()> {
    doc.check_fresh(&session.catalog, &session.live, &session.origin())
        .map_err(|stale| {
            Error::new(format!("refusing to apply {}: it is {stale}", path.display())).hint(format!(
                "nothing was sent to Stripe; make a new plan with `billing plan --out {}` and review it",
                path.display()
            ))
        })
}

/// What an apply holds from before it reads Stripe until it ends: the local lock and, against
/// an account other checkouts may share, what it saw of the apply lease before reading.
struct Held {
    _lock: ApplyLock,
    seen: Option<Seen>,
}

/// The apply lease of the catalog's namespace as it is before the account is read, unless
/// the run talks to the embedded sandbox (which belongs to this checkout alone).
async fn peek(opened: &session::Opened) -> Result<Option<Seen>> {
    if opened.connection.embedded() {
        return Ok(None);
    }
    Ok(Some(
        lease::peek(&opened.connection.client, &opened.catalog.namespace).await?,
    ))
}

/// `result`, the lease released first when it is an error.
async fn released_on_error<T>(result: Result<T>, lease: &Lease) -> Result<T> {
    if result.is_err() {
        lease.release().await;
    }
    result
}

/// A fresh plan of the catalog or, with `forget`, one that forgets those addresses, under the
/// apply lock.
async fn fresh_plan(
    global: &GlobalArgs,
    forget: Option<&BTreeSet<String>>,
    replace: &[String],
    lock_timeout: Duration,
) -> Result<(Session, PlanDocument, Held)> {
    let opened = session::open(global).await?;
    let lock = lock::acquire(&global.config, &opened.connection.environment, lock_timeout)?;
    let seen = peek(&opened).await?;
    let session = opened.read().await?;
    let doc = session.plan_with(forget, replace)?;
    Ok((session, doc, Held { _lock: lock, seen }))
}

/// Exit code of an apply stopped by SIGINT or SIGTERM (128 + SIGINT, as shells report it).
const EXIT_INTERRUPTED: u8 = 130;

/// Listens for SIGINT and SIGTERM (Ctrl-C; a CI job cancelled): the first turns the returned
/// flag true, so that the apply starts no more writes, waits for those in flight and reports;
/// a second one, or one once the flag's receivers are gone, ends the process at once with
/// exit code 130. The apply lock is the operating system's file lock: it goes with the process.
fn interrupts() -> Result<tokio::sync::watch::Receiver<bool>> {
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let mut signals = Signals::new()?;
    tokio::spawn(async move {
        signals.next().await;
        if stop.send(true).is_ok() {
            signals.next().await;
        }
        let _ = writeln!(
            std::io::stderr(),
            "interrupted again: stopping at once; writes in flight may or may not have been made: `billing apply` again finishes the work (re-running is safe)"
        );
        std::process::exit(i32::from(EXIT_INTERRUPTED));
    });
    Ok(stopped)
}

/// SIGINT and SIGTERM (Ctrl-C elsewhere), once listened for.
struct Signals {
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
}

impl Signals {
    #[cfg(unix)]
    fn new() -> std::io::Result<Self> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Self {
            interrupt: signal(SignalKind::interrupt())?,
            terminate: signal(SignalKind::terminate())?,
        })
    }

    #[cfg(not(unix))]
    fn new() -> std::io::Result<Self> {
        Ok(Self {})
    }

    /// Waits for the next signal.
    async fn next(&mut self) {
        #[cfg(unix)]
        tokio::select! {
            _ = self.interrupt.recv() => {}
            _ = self.terminate.recv() => {}
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// The error of an apply that did not do everything: interrupted (exit 130), refused for good
/// by Stripe (billing.toml or the account must change first), or failed in a way that a
/// re-run may get past.
fn unfinished(doc: &PlanDocument, report: &ApplyReport, plan: Option<&Path>) -> Error {
    let again = match plan {
        Some(path) => format!(
            "make a new plan and apply it (`billing plan --out {0}`, then `billing apply {0}`)",
            path.display()
        ),
        None => "run `billing apply` again".to_owned(),
    };
    let safe =
        "plans start from Stripe's state, so what was done is not repeated and re-running is safe";
    if report.interrupted {
        let counts = report.counts();
        return Error::shown()
            .hint(format!(
                "the apply was interrupted: {} of {} writes done, {} not started; to finish, {again}: {safe}",
                counts.done,
                report.outcomes.len(),
                counts.not_started
            ))
            .exit_code(EXIT_INTERRUPTED);
    }
    let refused: Vec<_> = report.permanent_failures().collect();
    let counts = report.counts();
    let mut error = Error::shown();
    for (op, why) in &refused {
        let op = &doc.operations[*op];
        error = error.hint(format!(
            "Stripe refused {} ({}): {why}",
            op.address, op.description
        ));
    }
    if !refused.is_empty() {
        error = error.hint(format!(
            "{} refused for good: billing.toml (or the account) must change before {} can succeed; applying again unchanged fails the same way",
            if refused.len() == 1 { "that write was" } else { "those writes were" },
            if refused.len() == 1 { "it" } else { "they" },
        ));
    }
    if counts.failed > refused.len() {
        error = error.hint(format!(
            "the other failures may pass next time (network, Stripe errors, rate limits): {again}: {safe}"
        ));
    } else if refused.is_empty() {
        error = error.hint(format!("{again}: {safe}"));
    }
    error
}

/// Options of `billing forget`.
#[derive(Debug, Args)]
pub(super) struct ForgetArgs {
    /// The addresses to forget: products.pro (with its prices), prices.pro.monthly,
    /// coupons.launch (with its promotion codes), promotion_codes.LAUNCH20, tax_rates.vat_de,
    /// portals.default, webhooks.app, entitlements.sso. Each must be gone from billing.toml.
    #[arg(value_name = "ADDRESS", required = true)]
    addresses: Vec<String>,
    /// Forget without asking for confirmation (required when stdin is not a terminal).
    #[arg(long, short = 'y')]
    yes: bool,
    /// How to report: text for people, json for one event per line.
    #[arg(long, value_enum, default_value_t = ApplyFormat::Text)]
    format: ApplyFormat,
    /// How long to wait for a `billing apply` of the same environment on this machine to
    /// finish (30s, 5m, 1h); by default, refuse at once.
    #[arg(long, value_name = "DURATION", default_value = "0s", value_parser = super::lock::parse_duration)]
    lock_timeout: std::time::Duration,
}

/// `billing forget`: the marker-removal plan for some addresses, shown, confirmed and applied
/// like `billing apply`.
pub(crate) async fn forget(global: &GlobalArgs, args: &ForgetArgs, style: Style) -> Result<u8> {
    let apply_args = ApplyArgs {
        plan: None,
        yes: args.yes,
        allow_destroy: false,
        concurrency: 8,
        format: args.format,
        lock_timeout: args.lock_timeout,
        replace: Vec::new(),
    };
    let addresses: BTreeSet<String> = args.addresses.iter().cloned().collect();
    apply_fresh_or_saved(global, &apply_args, style, Some(&addresses)).await
}

pub(crate) async fn run(global: &GlobalArgs, args: &ApplyArgs, style: Style) -> Result<u8> {
    apply_fresh_or_saved(global, args, style, None).await
}

/// Applies a saved plan, a fresh plan of the catalog, or (with `forget`) a fresh plan that
/// forgets those addresses.
async fn apply_fresh_or_saved(
    global: &GlobalArgs,
    args: &ApplyArgs,
    style: Style,
    forget: Option<&BTreeSet<String>>,
) -> Result<u8> {
    // The lock is held from before the state is read until the apply ends.
    let (mut session, mut doc, held) = match &args.plan {
        Some(path) => saved_plan(global, path, args.lock_timeout).await?,
        None => fresh_plan(global, forget, &args.replace, args.lock_timeout).await?,
    };
    if !approve(args, style, &session, &doc)? {
        return Ok(EXIT_OK);
    }
    // The lease is taken before the first write; when another apply took it since this run
    // read the account, the account is read again under the lease.
    let lease = match held.seen {
        None => None,
        Some(seen) => {
            let client = &session.connection.client;
            let namespace = &session.catalog.namespace;
            let verbose = global.verbose > 0;
            let lease =
                Lease::acquire(client, namespace, &seen, args.lock_timeout, verbose).await?;
            if !lease.unchanged_since(&seen) {
                let again = plan_again(args, style, forget, &mut session, &mut doc).await;
                if !released_on_error(again, &lease).await? {
                    lease.release().await;
                    return Ok(EXIT_OK);
                }
            }
            Some(lease)
        }
    };
    let result = apply_planned(global, args, style, &session, &doc).await;
    if let Some(lease) = &lease {
        lease.release().await;
    }
    result
}

/// Reads the account again once the lease is taken from an apply that ran since it was read:
/// a saved plan must still apply; a fresh plan is made again, shown and approved again.
/// `false` when there is nothing left to do.
async fn plan_again(
    args: &ApplyArgs,
    style: Style,
    forget: Option<&BTreeSet<String>>,
    session: &mut Session,
    doc: &mut PlanDocument,
) -> Result<bool> {
    let _ = writeln!(
        super::style::chatter(),
        "Another apply ran while this one waited for the lease: reading the account again."
    );
    let scope = crate::live::ReadScope::for_catalog(&session.catalog);
    session.live = crate::live::read(&session.connection.client, &scope)
        .await
        .map_err(|e| Error::new(format!("cannot read the Stripe state again: {e}")))?;
    if let Some(path) = &args.plan {
        check_fresh(doc, session, path)?;
        return Ok(true);
    }
    *doc = session.plan_with(forget, &args.replace)?;
    approve(args, style, session, doc)
}

/// Shows the plan and checks it may be applied (the destroy guard, the confirmation):
/// `false` when it is empty, once the environment's ids are written.
fn approve(args: &ApplyArgs, style: Style, session: &Session, doc: &PlanDocument) -> Result<bool> {
    // A saved plan is its own approval.
    let approved = args.plan.is_some() || args.yes;
    let json = args.format == ApplyFormat::Json;
    if json {
        Events::plan(doc);
    } else {
        let mut out = std::io::stdout().lock();
        render::render_plan(doc, &doc.origin, style.stdout_color(), &mut out)?;
        out.flush()?;
    }
    if doc.is_empty() {
        // Nothing to change; the environment's ids are still written (the file may be new,
        // or deleted since).
        if let Some(path) = &session.connection.outputs {
            let outputs =
                crate::output::collect(&session.catalog, &session.live, &session.origin());
            super::output::write_file(&outputs, path, style)?;
        }
        if json {
            Events::finish(doc, &ApplyReport::default());
        }
        return Ok(false);
    }
    let allow_destroy = args.allow_destroy || doc.allow_destroy;
    apply::check_destroys(doc, session.connection.mode, allow_destroy).map_err(|refusal| {
        Error::from(refusal).hint(if args.plan.is_some() {
            "nothing was sent to Stripe; if that is intended, make the plan with `billing plan --allow-destroy --out …` (or apply it with --allow-destroy)"
        } else {
            "if that is intended, run again with --allow-destroy; nothing was sent to Stripe"
        })
    })?;
    if !approved {
        confirm()?;
    }
    Ok(true)
}

/// Applies `doc` and reports.
async fn apply_planned(
    global: &GlobalArgs,
    args: &ApplyArgs,
    style: Style,
    session: &Session,
    doc: &PlanDocument,
) -> Result<u8> {
    let json = args.format == ApplyFormat::Json;
    let concurrency = usize::from(args.concurrency);
    let client = &session.connection.client;
    let secrets = apply::SecretFiles {
        dir: catalog_dir(&global.config),
        catalog: &session.catalog,
        environment: &session.connection.environment,
    };
    // From the first write on, SIGINT and SIGTERM stop the apply gracefully.
    let stop = interrupts()?;
    let report = if json {
        let report = apply::apply(
            doc,
            client,
            concurrency,
            &Events::new(style),
            &stop,
            &secrets,
        )
        .await;
        Events::finish(doc, &report);
        report
    } else {
        let human = Human::new(style, doc.operations.len());
        let report = apply::apply(doc, client, concurrency, &human, &stop, &secrets).await;
        human.done();
        let mut out = std::io::stdout().lock();
        writeln!(out)?;
        render::render_apply_report(doc, &report, style.stdout_color(), &mut out)?;
        out.flush()?;
        report
    };
    // Another signal now ends the process at once.
    drop(stop);
    if !report.succeeded() {
        return Err(unfinished(doc, &report, args.plan.as_deref()));
    }
    if let Some(path) = &session.connection.outputs {
        super::output::refresh(session, path, style).await?;
    }
    Ok(EXIT_OK)
}
