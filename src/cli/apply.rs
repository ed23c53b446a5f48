//! `billing apply [PLAN]`: make Stripe match billing.toml — from a fresh plan after
//! confirmation, or from a saved plan file after checking it is not stale.

use std::collections::BTreeMap;
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Mutex;

use anyhow::Result;
use clap::Args;
use serde_json::json;

use super::{EXIT_ERROR, EXIT_OK, GlobalArgs, Style, session};
use crate::apply::{self, ApplyReport, Outcome, Progress};
use crate::document::{Operation, PlanDocument};
use crate::plan::Change;
use crate::render;

/// How `apply` reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ApplyFormat {
    /// The plan, progress and a report, for people.
    Text,
    /// One JSON event per line on stdout (docs/plan-json.md).
    Json,
}

/// Options of `billing apply`.
#[derive(Debug, Args)]
pub struct ApplyArgs {
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
}

/// The line a finished operation prints, or `None` for one that did not run.
fn finished_line(op: &Operation, outcome: &Outcome, paint: render::Paint) -> Option<String> {
    Some(match outcome {
        Outcome::Done {
            created: Some(id),
            elapsed,
        } => format!(
            "{} {}: {} → {id} ({} ms)",
            paint.green("done"),
            op.address,
            op.description,
            elapsed.as_millis()
        ),
        Outcome::Done { elapsed, .. } => format!(
            "{} {}: {} ({} ms)",
            paint.green("done"),
            op.address,
            op.description,
            elapsed.as_millis()
        ),
        Outcome::Failed { error } => format!(
            "{} {}: {}: {error}",
            paint.red("failed"),
            op.address,
            op.description
        ),
        Outcome::NotAttempted { .. } => return None,
    })
}

/// Progress for people: a bar on a terminal, one line per finished operation otherwise.
struct Human {
    style: Style,
    bar: Option<indicatif::ProgressBar>,
}

impl Human {
    fn new(style: Style, total: usize) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = indicatif::ProgressBar::new(total as u64);
            bar.set_style(
                indicatif::ProgressStyle::with_template("{spinner} {pos}/{len} {wide_msg}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            bar.enable_steady_tick(std::time::Duration::from_millis(120));
            bar
        });
        Self { style, bar }
    }

    fn done(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl Progress for Human {
    fn started(&self, op: &Operation, _: &Change) {
        if let Some(bar) = &self.bar {
            bar.set_message(format!("{}: {}", op.address, op.description));
        }
    }

    fn finished(&self, op: &Operation, _: &Change, outcome: &Outcome) {
        let Some(line) = finished_line(op, outcome, render::Paint(self.style.color())) else {
            return;
        };
        match &self.bar {
            Some(bar) => {
                bar.println(line);
                bar.inc(1);
            }
            None => {
                let _ = writeln!(std::io::stderr(), "{line}");
            }
        }
    }
}

/// One JSON object per line on stdout.
fn emit(value: &serde_json::Value) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{value}");
    let _ = out.flush();
}

/// Progress as JSON events.
struct Events {
    lock: Mutex<()>,
}

impl Progress for Events {
    fn started(&self, op: &Operation, _: &Change) {
        let _guard = self.lock.lock();
        emit(&json!({
            "event": "started",
            "operation": op.id,
            "address": op.address,
            "description": op.description,
        }));
    }

    fn finished(&self, op: &Operation, _: &Change, outcome: &Outcome) {
        let _guard = self.lock.lock();
        match outcome {
            Outcome::Done { created, elapsed } => emit(&json!({
                "event": "completed",
                "operation": op.id,
                "address": op.address,
                "description": op.description,
                "created": created,
                "elapsed_ms": u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX),
            })),
            Outcome::Failed { error } => emit(&json!({
                "event": "failed",
                "operation": op.id,
                "address": op.address,
                "description": op.description,
                "error": error,
            })),
            Outcome::NotAttempted { .. } => {}
        }
    }
}

/// The Stripe id of each changed address after the apply: the object created for it, or the
/// existing one.
fn outputs(doc: &PlanDocument, report: &ApplyReport) -> BTreeMap<String, String> {
    let mut ids: BTreeMap<String, String> = doc
        .resource_changes
        .iter()
        .filter_map(|c| c.id.clone().map(|id| (c.address.clone(), id)))
        .collect();
    for (op, outcome) in &report.outcomes {
        if let Outcome::Done {
            created: Some(id), ..
        } = outcome
        {
            ids.insert(doc.operations[*op].address.clone(), id.clone());
        }
    }
    ids
}

/// Reads the account again and writes the environment's outputs file.
async fn write_outputs(
    session: &session::Session,
    path: &std::path::Path,
    style: Style,
) -> Result<()> {
    let live = crate::live::read(
        &session.connection.client,
        &crate::live::ReadScope::for_catalog(&session.catalog),
    )
    .await?;
    let outputs = crate::output::collect(&session.catalog, &live, &session.origin());
    super::output::write_file(&outputs, path)?;
    style.note(&format!(
        "wrote the ids of {} to {}",
        outputs.environment,
        path.display()
    ));
    Ok(())
}

fn confirm(style: Style) -> Result<bool> {
    if !std::io::stdin().is_terminal() {
        style.error("refusing to apply without confirmation: stdin is not a terminal");
        style.hint("review the plan above, then run `billing apply --yes`, or apply a saved plan: `billing plan --out plan.json`, then `billing apply plan.json`");
        return Ok(false);
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
        Ok(true)
    } else {
        style.error("apply cancelled: nothing was sent to Stripe");
        Ok(false)
    }
}

/// Reads a saved plan and checks it still applies; `None` when it does not (reported).
async fn saved_plan(
    global: &GlobalArgs,
    path: &std::path::Path,
    lock_timeout: std::time::Duration,
    style: Style,
) -> Result<Option<(session::Session, PlanDocument, super::lock::ApplyLock)>> {
    let doc = match PlanDocument::load(path) {
        Ok(doc) => doc,
        Err(e) => {
            style.error(&e.to_string());
            return Ok(None);
        }
    };
    let Some(opened) = session::open(global, style).await? else {
        return Ok(None);
    };
    let lock = super::lock::acquire(&global.config, &opened.connection.environment, lock_timeout)?;
    let session = opened.read().await?;
    if let Err(stale) = doc.check_fresh(&session.catalog, &session.live, &session.origin()) {
        style.error(&format!(
            "refusing to apply {}: it is {stale}",
            path.display()
        ));
        style.hint(&format!(
            "nothing was sent to Stripe; make a new plan with `billing plan --out {}` and review it",
            path.display()
        ));
        return Ok(None);
    }
    Ok(Some((session, doc, lock)))
}

/// Options of `billing forget`.
#[derive(Debug, Args)]
pub struct ForgetArgs {
    /// The addresses to forget: products.pro (with its prices), prices.pro.monthly,
    /// coupons.launch (with its promotion codes), promotion_codes.LAUNCH20, tax_rates.vat_de,
    /// portals.default. Each must be gone from billing.toml.
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
    };
    let addresses: std::collections::BTreeSet<String> = args.addresses.iter().cloned().collect();
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
    forget: Option<&std::collections::BTreeSet<String>>,
) -> Result<u8> {
    // The lock is held from before the state is read until the apply ends.
    let (session, doc, approved, _lock) = match &args.plan {
        Some(path) => match saved_plan(global, path, args.lock_timeout, style).await? {
            Some((session, doc, lock)) => (session, doc, true, lock),
            None => return Ok(EXIT_ERROR),
        },
        None => {
            let Some(opened) = session::open(global, style).await? else {
                return Ok(EXIT_ERROR);
            };
            let lock = super::lock::acquire(
                &global.config,
                &opened.connection.environment,
                args.lock_timeout,
            )?;
            let session = opened.read().await?;
            let doc = session.plan_with(forget)?;
            (session, doc, args.yes, lock)
        }
    };
    let json = args.format == ApplyFormat::Json;
    if json {
        emit(&json!({
            "event": "plan",
            "environment": doc.origin.environment,
            "account": doc.origin.account,
            "mode": doc.origin.mode,
            "summary": doc.summary,
            "operations": doc.operations.len(),
        }));
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
            super::output::write_file(&outputs, path)?;
            style.note(&format!(
                "wrote the ids of {} to {}",
                outputs.environment,
                path.display()
            ));
        }
        if json {
            emit(
                &json!({"event": "summary", "done": 0, "failed": 0, "not_attempted": 0, "succeeded": true}),
            );
            emit(&json!({"event": "outputs", "objects": {}}));
        }
        return Ok(EXIT_OK);
    }
    let allow_destroy = args.allow_destroy || doc.allow_destroy;
    if let Err(refusal) = apply::check_destroys(&doc, session.connection.mode, allow_destroy) {
        style.error(&refusal.to_string());
        style.hint(if args.plan.is_some() {
            "nothing was sent to Stripe; if that is intended, make the plan with `billing plan --allow-destroy --out …` (or apply it with --allow-destroy)"
        } else {
            "if that is intended, run again with --allow-destroy; nothing was sent to Stripe"
        });
        return Ok(EXIT_ERROR);
    }
    if !approved && !confirm(style)? {
        return Ok(EXIT_ERROR);
    }
    let concurrency = usize::from(args.concurrency);
    let report = if json {
        let events = Events {
            lock: Mutex::new(()),
        };
        apply::apply(&doc, &session.connection.client, concurrency, &events).await
    } else {
        let human = Human::new(style, doc.operations.len());
        let report = apply::apply(&doc, &session.connection.client, concurrency, &human).await;
        human.done();
        report
    };
    let (done, failed, skipped) = report.counts();
    if json {
        for (op, outcome) in &report.outcomes {
            if let Outcome::NotAttempted { blocked_by } = outcome {
                emit(&json!({
                    "event": "not_attempted",
                    "operation": op,
                    "address": doc.operations[*op].address,
                    "description": doc.operations[*op].description,
                    "blocked_by": blocked_by,
                }));
            }
        }
        emit(&json!({
            "event": "summary",
            "done": done,
            "failed": failed,
            "not_attempted": skipped,
            "succeeded": report.succeeded(),
        }));
        emit(&json!({"event": "outputs", "objects": outputs(&doc, &report)}));
    } else {
        let mut out = std::io::stdout().lock();
        writeln!(out)?;
        render::render_apply_report(&doc, &report, style.stdout_color(), &mut out)?;
        out.flush()?;
    }
    if report.succeeded() {
        if let Some(path) = &session.connection.outputs {
            write_outputs(&session, path, style).await?;
        }
        Ok(EXIT_OK)
    } else {
        let again = match &args.plan {
            Some(path) => format!(
                "make a new plan and apply it (`billing plan --out {0}`, then `billing apply {0}`)",
                path.display()
            ),
            None => "run `billing apply` again".to_owned(),
        };
        style.hint(&format!("{again}: plans start from Stripe's state, so what was done is not repeated and re-running is safe"));
        Ok(EXIT_ERROR)
    }
}
