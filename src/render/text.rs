//! The plan and the apply report as text, in Terraform's idiom: `+`, `~`, `-/+`, `-`.

use std::io::{self, Write};

use similar::{ChangeTag, TextDiff};

use super::{Paint, counts};
use crate::apply::{ApplyReport, Outcome};
use crate::document::{Origin, PlanDocument};
use crate::plan::{Action, Change, FieldChange, FieldValue};

/// The action's symbol, right-aligned in three columns and coloured by what it does.
fn symbol(action: Action, paint: Paint) -> String {
    let symbol = format!("{:>3}", action.symbol());
    match action {
        Action::Create | Action::Adopt => paint.green(&symbol),
        Action::Move | Action::Forget | Action::Update | Action::Unarchive => paint.yellow(&symbol),
        Action::Replace => paint.magenta(&symbol),
        Action::Archive | Action::Deactivate | Action::Delete => paint.red(&symbol),
    }
}

/// `# prices.pro.monthly will be replaced: why`.
fn headline(change: &Change) -> String {
    let what = change.action.phrase(change.kind);
    match &change.reason {
        Some(reason) => format!("# {} {what}: {reason}", change.address),
        None => format!("# {} {what}", change.address),
    }
}

fn write_field(
    out: &mut impl Write,
    field: &FieldChange,
    width: usize,
    create: bool,
    paint: Paint,
) -> io::Result<()> {
    let name = format!("{:width$}", field.field);
    if create {
        return writeln!(out, "      {name} = {}", field.after);
    }
    let comment = if field.forces_replacement {
        format!("   {}", paint.magenta("# forces replacement"))
    } else {
        String::new()
    };
    if field.before.is_long_text() || field.after.is_long_text() {
        writeln!(out, "      {}:{comment}", field.field)?;
        let text = |v: &FieldValue| match v {
            FieldValue::Text(t) => t.clone(),
            FieldValue::None => String::new(),
            other => other.to_string(),
        };
        let (before, after) = (text(&field.before), text(&field.after));
        for change in TextDiff::from_lines(&before, &after).iter_all_changes() {
            let line = change.value().trim_end_matches('\n');
            match change.tag() {
                ChangeTag::Delete => writeln!(out, "        {}", paint.red(&format!("- {line}")))?,
                ChangeTag::Insert => {
                    writeln!(out, "        {}", paint.green(&format!("+ {line}")))?
                }
                ChangeTag::Equal => writeln!(out, "          {line}")?,
            }
        }
        return Ok(());
    }
    writeln!(
        out,
        "      {name} = {} → {}{comment}",
        field.before, field.after
    )
}

fn write_change(out: &mut impl Write, change: &Change, paint: Paint) -> io::Result<()> {
    writeln!(out, "  {}", paint.dim(&headline(change)))?;
    let id = change
        .id
        .as_deref()
        .map(|id| format!("  {}", paint.dim(&format!("({id})"))))
        .unwrap_or_default();
    writeln!(
        out,
        "{} {}{id}",
        symbol(change.action, paint),
        paint.bold(&change.title)
    )?;
    let width = change
        .fields
        .iter()
        .map(|f| f.field.len())
        .max()
        .unwrap_or(0);
    let removal = change.action.removes();
    if !removal || change.fields.len() > 1 {
        for field in &change.fields {
            if removal && field.field == "active" {
                continue;
            }
            write_field(out, field, width, change.action == Action::Create, paint)?;
        }
    }
    for note in &change.notes {
        writeln!(out, "      {} {note}", paint.yellow("!"))?;
    }
    writeln!(out)
}

/// Writes the plan: where it applies (`origin`), each change, then the summary line.
pub(crate) fn render_plan(
    plan: &PlanDocument,
    origin: &Origin,
    color: bool,
    out: &mut impl Write,
) -> io::Result<()> {
    let paint = Paint(color);
    writeln!(
        out,
        "Plan for {} (account {}, {} mode, namespace {:?})",
        origin.environment, origin.account, origin.mode, plan.namespace
    )?;
    writeln!(out)?;
    if plan.is_empty() {
        writeln!(out, "No changes: Stripe matches billing.toml.")?;
    } else {
        for change in &plan.resource_changes {
            write_change(out, change, paint)?;
        }
        writeln!(out, "{} {}", paint.bold("Plan:"), plan.summary.line())?;
    }
    if plan.allow_destroy && plan.destroys().next().is_some() {
        writeln!(
            out,
            "{} this plan was made with --allow-destroy: applying it archives or deletes what left billing.toml.",
            paint.yellow("Note:")
        )?;
    }
    for notice in &plan.notices {
        writeln!(out, "{} {notice}", paint.yellow("Note:"))?;
    }
    let (u, f) = (&plan.unmanaged, &plan.foreign);
    if !u.is_empty() {
        writeln!(out, "Left alone: {} without billing's marker.", counts(u))?;
    }
    if !f.is_empty() {
        writeln!(
            out,
            "Left alone: {} managed by other namespaces.",
            counts(f)
        )?;
    }
    Ok(())
}

/// Writes what an apply did: failures with their errors, what was not attempted, created ids,
/// and a summary line.
pub(crate) fn render_apply_report(
    plan: &PlanDocument,
    report: &ApplyReport,
    color: bool,
    out: &mut impl Write,
) -> io::Result<()> {
    let paint = Paint(color);
    let (done, failed, skipped) = report.counts();
    for (id, outcome) in &report.outcomes {
        let step = &plan.operations[*id];
        let address = &step.address;
        match outcome {
            Outcome::Done {
                created: Some(new), ..
            } => {
                writeln!(
                    out,
                    "{} {address}: {} → {new}",
                    paint.green("created"),
                    step.description
                )?;
            }
            Outcome::Done { .. } => {}
            Outcome::Failed { error } => {
                writeln!(
                    out,
                    "{} {address}: {}: {error}",
                    paint.red("failed"),
                    step.description
                )?;
            }
            Outcome::NotAttempted { blocked_by } => {
                let blocker = &plan.operations[*blocked_by];
                writeln!(
                    out,
                    "{} {address}: {} (waits for {}: {})",
                    paint.yellow("not attempted"),
                    step.description,
                    blocker.address,
                    blocker.description
                )?;
            }
        }
    }
    writeln!(
        out,
        "{} {done} done, {failed} failed, {skipped} not attempted.",
        paint.bold(if failed + skipped == 0 {
            "Apply complete:"
        } else {
            "Apply incomplete:"
        })
    )
}
