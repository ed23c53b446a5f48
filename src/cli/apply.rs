//! `billing apply [PLAN]`: make Stripe match billing.toml — from a fresh plan after
//! confirmation, or from a saved plan file after checking it is not stale.

use std::collections::BTreeSet;
use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;

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
    /// How long to wait for another `billing apply` of the same environment on this machine
    /// to finish (30s, 5m, 1h); by default, refuse at once.
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
) -> Result<(Session, PlanDocument, ApplyLock)> {
    let text = PlanDocument::read(path)?;
    let opened = session::open_unguarded(global)?;
    let connection = &opened.connection;
    let doc = PlanDocument::parse_verified(path, &text, &connection.plan_key).map_err(|error| {
        match error {
            LoadError::Unverified { reason, .. } => Error::new(format!(
                "refusing to apply {}: it does not verify with the key of environment `{}`: {reason}",
                path.display(),
                connection.environment
            ))
            .hint(format!(
                "nothing was sent to Stripe; make the plan again with `billing plan --out {}` and environment `{}`'s key, review it, and apply that file",
                path.display(),
                connection.environment
            )),
            other => Error::from(other),
        }
    })?;
    let opened = opened.guard().await?;
    let lock = lock::acquire(&global.config, &opened.connection.environment, lock_timeout)?;
    let session = opened.read().await?;
    doc.check_fresh(&session.catalog, &session.live, &session.origin())
        .map_err(|stale| {
            Error::new(format!("refusing to apply {}: it is {stale}", path.display())).hint(
                format!(
                    "nothing was sent to Stripe; make a new plan with `billing plan --out {}` and review it",
                    path.display()
                ),
            )
        })?;
    Ok((session, doc, lock))
}

/// A fresh plan of the catalog or, with `forget`, one that forgets those addresses, under the
/// apply lock.
async fn fresh_plan(
    global: &GlobalArgs,
    forget: Option<&BTreeSet<String>>,
    replace: &[String],
    lock_timeout: Duration,
) -> Result<(Session, PlanDocument, ApplyLock)> {
    let opened = session::open(global).await?;
    let lock = lock::acquire(&global.config, &opened.connection.environment, lock_timeout)?;
    let session = opened.read().await?;
    let doc = session.plan_with(forget, replace)?;
    Ok((session, doc, lock))
}

/// Options of `billing forget`.
#[derive(Debug, Args)]
pub(super) struct ForgetArgs {
    /// The addresses to forget: products.pro (with its prices), prices.pro.monthly,
    /// coupons.launch (with its promotion codes), promotion_codes.LAUNCH20, tax_rates.vat_de,
    /// portals.default, webhooks.app. Each must be gone from billing.toml.
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
    let (session, doc, _lock) = match &args.plan {
        Some(path) => saved_plan(global, path, args.lock_timeout).await?,
        None => fresh_plan(global, forget, &args.replace, args.lock_timeout).await?,
    };
    // A saved plan is its own approval.
    let approved = args.plan.is_some() || args.yes;
    let json = args.format == ApplyFormat::Json;
    if json {
        Events::plan(&doc);
    } else {
        let mut out = std::io::stdout().lock();
        render::render_plan(&doc, &doc.origin, style.stdout_color(), &mut out)?;
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
            Events::finish(
                &doc,
                &ApplyReport {
                    outcomes: Vec::new(),
                },
            );
        }
        return Ok(EXIT_OK);
    }
    let allow_destroy = args.allow_destroy || doc.allow_destroy;
    apply::check_destroys(&doc, session.connection.mode, allow_destroy).map_err(|refusal| {
        Error::from(refusal).hint(if args.plan.is_some() {
            "nothing was sent to Stripe; if that is intended, make the plan with `billing plan --allow-destroy --out …` (or apply it with --allow-destroy)"
        } else {
            "if that is intended, run again with --allow-destroy; nothing was sent to Stripe"
        })
    })?;
    if !approved {
        confirm()?;
    }
    let concurrency = usize::from(args.concurrency);
    let client = &session.connection.client;
    let secrets = apply::SecretFiles {
        dir: catalog_dir(&global.config),
        catalog: &session.catalog,
        environment: &session.connection.environment,
    };
    let report = if json {
        let report = apply::apply(&doc, client, concurrency, &Events::new(), &secrets).await;
        Events::finish(&doc, &report);
        report
    } else {
        let human = Human::new(style, doc.operations.len());
        let report = apply::apply(&doc, client, concurrency, &human, &secrets).await;
        human.done();
        let mut out = std::io::stdout().lock();
        writeln!(out)?;
        render::render_apply_report(&doc, &report, style.stdout_color(), &mut out)?;
        out.flush()?;
        report
    };
    if !report.succeeded() {
        let again = match &args.plan {
            Some(path) => format!(
                "make a new plan and apply it (`billing plan --out {0}`, then `billing apply {0}`)",
                path.display()
            ),
            None => "run `billing apply` again".to_owned(),
        };
        return Err(Error::shown().hint(format!("{again}: plans start from Stripe's state, so what was done is not repeated and re-running is safe")));
    }
    if let Some(path) = &session.connection.outputs {
        super::output::refresh(&session, path, style).await?;
    }
    Ok(EXIT_OK)
}
