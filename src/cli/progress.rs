//! How `apply` reports as it goes: a progress bar, or a line per finished operation, for
//! people; one JSON event per line on stdout for programs (docs/plan-json.md).

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::sync::Mutex;

use serde_json::json;

use super::Style;
use crate::apply::{ApplyReport, Outcome, Progress};
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
pub(super) struct Human {
    style: Style,
    bar: Option<indicatif::ProgressBar>,
}

impl Human {
    pub(super) fn new(style: Style, total: usize) -> Self {
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
        let paint = render::Paint::new(self.style.color());
        let Some(line) = finished_line(op, outcome, paint) else {
            return;
        };
        let line = paint.finish(&line);
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
pub(super) struct Events {
    lock: Mutex<()>,
}

impl Events {
    pub(super) fn new() -> Self {
        Self {
            lock: Mutex::new(()),
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

    /// The last events: the operations not attempted, the summary, and the id of each
    /// changed address.
    pub(super) fn finish(doc: &PlanDocument, report: &ApplyReport) {
        let (done, failed, skipped) = report.counts();
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
