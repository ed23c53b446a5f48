//! How `apply` reports as it goes: for people, a line per finished operation on stdout (once:
//! the report at the end does not repeat them) and, on a terminal, a progress bar on stderr;
//! for programs, one JSON event per line on stdout (docs/plan-json.md).

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::sync::Mutex;

use serde_json::json;

use super::Style;
use crate::apply::{ApplyReport, ChangeOutcome, Outcome, Progress};
use crate::document::{Operation, PlanDocument};
use crate::plan::Change;
use crate::render;

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
        Outcome::Failed { error, .. } => format!(
            "{} {}: {}: {error}",
            paint.red("failed"),
            op.address,
            op.description
        ),
        Outcome::NotAttempted { .. } | Outcome::NotStarted => return None,
    })
}

/// What an interruption prints on stderr, for people (in both formats).
fn interrupted_line(in_flight: usize) -> String {
    format!(
        "interrupted: starting no more writes; waiting for the {in_flight} in flight to finish (interrupt again to stop at once)"
    )
}

/// Progress for people: one line per finished operation on stdout, and a bar on stderr when it
/// is a terminal.
pub(super) struct Human {
    style: Style,
    bar: Option<indicatif::ProgressBar>,
}

impl Human {
    pub(super) fn new(style: Style, total: usize) -> Self {
        let bar = (std::io::stderr().is_terminal() && !super::style::quiet()).then(|| {
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

    pub(super) fn done(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl Progress for Human {
    fn started(&self, op: &Operation, _: &Change) {
        if let Some(bar) = &self.bar {
            bar.set_message(crate::visible::visible(&format!(
                "{}: {}",
                op.address, op.description
            )));
        }
    }

    fn finished(&self, op: &Operation, _: &Change, outcome: &Outcome) {
        let paint = render::Paint::new(self.style.stdout_color());
        let Some(line) = finished_line(op, outcome, paint) else {
            return;
        };
        let line = paint.finish(&line);
        let print = || {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{line}");
            let _ = out.flush();
        };
        match &self.bar {
            Some(bar) => {
                bar.suspend(print);
                bar.inc(1);
            }
            None => print(),
        }
    }

    fn interrupted(&self, in_flight: usize) {
        let line = interrupted_line(in_flight);
        match &self.bar {
            Some(bar) => bar.suspend(|| self.style.warn(&line)),
            None => self.style.warn(&line),
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
pub(super) struct Events {
    lock: Mutex<()>,
    style: Style,
}

impl Events {
    pub(super) fn new(style: Style) -> Self {
        Self {
            lock: Mutex::new(()),
            style,
        }
    }

    /// The first event: where the plan applies and what it holds.
    pub(super) fn plan(doc: &PlanDocument) {
        emit(&json!({
            "event": "plan",
            "environment": doc.origin.environment,
            "account": doc.origin.account,
            "mode": doc.origin.mode,
            "summary": doc.summary,
            "operations": doc.operations.len(),
        }));
    }

    /// The last events: the operations not attempted or not started, the summary, and the id
    /// of each changed address.
    pub(super) fn finish(doc: &PlanDocument, report: &ApplyReport) {
        let counts = report.counts();
        for (op, outcome) in &report.outcomes {
            let (address, description) = (
                &doc.operations[*op].address,
                &doc.operations[*op].description,
            );
            match outcome {
                Outcome::NotAttempted { blocked_by } => emit(&json!({
                    "event": "not_attempted",
                    "operation": op,
                    "address": address,
                    "description": description,
                    "blocked_by": blocked_by,
                })),
                Outcome::NotStarted => emit(&json!({
                    "event": "not_started",
                    "operation": op,
                    "address": address,
                    "description": description,
                })),
                Outcome::Done { .. } | Outcome::Failed { .. } => {}
            }
        }
        let changes = report.changes(doc);
        let done: crate::plan::Summary = changes
            .iter()
            .filter(|(_, o)| *o == ChangeOutcome::Done)
            .map(|(c, _)| c.action)
            .collect();
        let count = |what: ChangeOutcome| changes.iter().filter(|(_, o)| *o == what).count();
        emit(&json!({
            "event": "summary",
            "done": counts.done,
            "failed": counts.failed,
            "not_attempted": counts.not_attempted,
            "not_started": counts.not_started,
            "interrupted": report.interrupted,
            "succeeded": report.succeeded(),
            "changes": {
                "done": done,
                "failed": count(ChangeOutcome::Failed),
                "not_attempted": count(ChangeOutcome::NotAttempted),
                "not_started": count(ChangeOutcome::NotStarted),
            },
        }));
        emit(&json!({"event": "outputs", "objects": outputs(doc, report)}));
    }
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
            Outcome::Failed { error, permanent } => emit(&json!({
                "event": "failed",
                "operation": op.id,
                "address": op.address,
                "description": op.description,
                "error": error,
                "permanent": permanent,
            })),
            Outcome::NotAttempted { .. } | Outcome::NotStarted => {}
        }
    }

    fn interrupted(&self, in_flight: usize) {
        let _guard = self.lock.lock();
        emit(&json!({"event": "interrupted", "in_flight": in_flight}));
        self.style.warn(&interrupted_line(in_flight));
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
