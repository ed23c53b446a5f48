//! `billing apply`: compute the plan, show it, confirm, and make Stripe match.

use std::io::{BufRead, IsTerminal, Write};

use anyhow::Result;
use clap::Args;

use super::{EXIT_ERROR, EXIT_OK, GlobalArgs, Style, session};
use crate::apply::{self, Outcome, Progress};
use crate::plan::{Change, Step};
use crate::render;

/// Options of `billing apply`.
#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// Apply without asking for confirmation (required when stdin is not a terminal).
    #[arg(long, short = 'y')]
    yes: bool,
    /// Allow archiving objects that left billing.toml in a live environment.
    #[arg(long)]
    allow_destroy: bool,
    /// How many independent writes may be in flight at once.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=64))]
    concurrency: u16,
}

/// One line per finished step on stderr.
struct Lines {
    style: Style,
}

impl Progress for Lines {
    fn started(&self, _: &Step, _: &Change) {}

    fn finished(&self, step: &Step, change: &Change, outcome: &Outcome) {
        let paint = render::Paint(self.style.color());
        let line = match outcome {
            Outcome::Done {
                created: Some(id),
                elapsed,
            } => format!(
                "{} {}: {} → {id} ({} ms)",
                paint.green("done"),
                change.address,
                step.description,
                elapsed.as_millis()
            ),
            Outcome::Done { elapsed, .. } => format!(
                "{} {}: {} ({} ms)",
                paint.green("done"),
                change.address,
                step.description,
                elapsed.as_millis()
            ),
            Outcome::Failed { error } => format!(
                "{} {}: {}: {error}",
                paint.red("failed"),
                change.address,
                step.description
            ),
            Outcome::NotAttempted { .. } => return,
        };
        let _ = writeln!(std::io::stderr(), "{line}");
    }
}

fn confirm(style: Style) -> Result<bool> {
    if !std::io::stdin().is_terminal() {
        style.error("refusing to apply without confirmation: stdin is not a terminal");
        style.hint("review the plan above, then run `billing apply --yes`");
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

pub(crate) async fn run(global: &GlobalArgs, args: &ApplyArgs, style: Style) -> Result<u8> {
    let Some(session) = session::prepare(global, style).await? else {
        return Ok(EXIT_ERROR);
    };
    let plan = &session.plan;
    let mut out = std::io::stdout().lock();
    render::render_plan(plan, &session.target, style.stdout_color(), &mut out)?;
    out.flush()?;
    drop(out);
    if plan.is_empty() {
        return Ok(EXIT_OK);
    }
    if let Err(refusal) = apply::check_destroys(plan, session.connection.mode, args.allow_destroy) {
        style.error(&refusal.to_string());
        style.hint(
            "if that is intended, run again with --allow-destroy; nothing was sent to Stripe",
        );
        return Ok(EXIT_ERROR);
    }
    if !args.yes && !confirm(style)? {
        return Ok(EXIT_ERROR);
    }
    let progress = Lines { style };
    let report = apply::apply(
        plan,
        &session.connection.client,
        usize::from(args.concurrency),
        &progress,
    )
    .await;
    let mut out = std::io::stdout().lock();
    writeln!(out)?;
    render::render_apply_report(plan, &report, style.stdout_color(), &mut out)?;
    out.flush()?;
    if report.succeeded() {
        Ok(EXIT_OK)
    } else {
        style.hint("run `billing apply` again: it plans from Stripe's state, so what was done is not repeated and re-running is safe");
        Ok(EXIT_ERROR)
    }
}
