//! The plan and the apply report as text, in Terraform's idiom: `+`, `~`, `-/+`, `-`.

use std::io::{self, Write};

use similar::{ChangeTag, TextDiff};

use super::{Paint, counts};
use crate::apply::{ApplyReport, ChangeOutcome, Outcome};
use crate::document::{DestroyRefused, Origin, PlanDocument};
use crate::plan::{Action, Change, FieldChange, FieldValue, Summary};

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

/// Renders with `render` into memory, then writes the rendering as it is safe to print (see
/// [`Paint::finish`]).
fn finished(
    color: bool,
    out: &mut impl Write,
    render: impl FnOnce(&mut Vec<u8>, Paint) -> io::Result<()>,
) -> io::Result<()> {
    let paint = Paint::new(color);
    let mut rendered = Vec::new();
    render(&mut rendered, paint)?;
    out.write_all(paint.finish(&String::from_utf8_lossy(&rendered)).as_bytes())
}

/// Writes the plan: where it applies (`origin`), each change, then the summary line.
pub(crate) fn render_plan(
    plan: &PlanDocument,
    origin: &Origin,
    color: bool,
    out: &mut impl Write,
) -> io::Result<()> {
    finished(color, out, |out, paint| {
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
        if let Some(line) = DestroyRefused::line(&plan.refusals) {
            writeln!(out, "{} {line}.", paint.yellow("Warning:"))?;
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
    })
}

/// Writes what an apply did beyond the line each write printed as it ended: the writes not
/// attempted (behind a failure) or not started (an interruption), then a summary line in the
/// plan's units (`3 created, 1 updated, 0 replaced, 0 archived`).
pub(crate) fn render_apply_report(
    plan: &PlanDocument,
    report: &ApplyReport,
    color: bool,
    out: &mut impl Write,
) -> io::Result<()> {
    finished(color, out, |out, paint| {
        for (id, outcome) in &report.outcomes {
            let step = &plan.operations[*id];
            let address = &step.address;
            match outcome {
                Outcome::Done { .. } | Outcome::Failed { .. } => {}
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
                Outcome::NotStarted => {
                    writeln!(
                        out,
                        "{} {address}: {} (interrupted)",
                        paint.yellow("not started"),
                        step.description,
                    )?;
                }
            }
        }
        let changes = report.changes(plan);
        let done: Summary = changes
            .iter()
            .filter(|(_, o)| *o == ChangeOutcome::Done)
            .map(|(c, _)| c.action)
            .collect();
        let count = |what: ChangeOutcome| changes.iter().filter(|(_, o)| *o == what).count();
        let undone: Vec<String> = [
            (ChangeOutcome::Failed, "failed"),
            (ChangeOutcome::NotAttempted, "not attempted"),
            (ChangeOutcome::NotStarted, "not started"),
        ]
        .into_iter()
        .map(|(what, words)| (count(what), words))
        .filter(|(n, _)| *n > 0)
        .map(|(n, words)| format!("{n} {words}"))
        .collect();
        let headline = if report.interrupted {
            "Apply interrupted:"
        } else if undone.is_empty() {
            "Apply complete:"
        } else {
            "Apply incomplete:"
        };
        let rest = if undone.is_empty() {
            String::new()
        } else {
            format!("; {}", undone.join(", "))
        };
        writeln!(out, "{} {}{rest}.", paint.bold(headline), done.done_line())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::testing::{CATALOG, document};
    use crate::live::fixtures::{live, price, product};

    /// A description that would clear the screen, write the clipboard (OSC 52) and ring the
    /// bell, over two lines.
    const HOSTILE: &str = r"line one\u001b]52;c;aGk=\u0007\nline two\r\u001b[2J\u009b31m";

    /// Every ESC in `text` opens one of the paint's own SGR sequences.
    fn only_colours(text: &str) -> bool {
        text.split('\u{1b}').skip(1).all(|rest| {
            let code = rest.strip_prefix('[').and_then(|r| r.split_once('m'));
            code.is_some_and(|(code, _)| code.chars().all(|c| c.is_ascii_digit() || c == ';'))
        })
    }

    #[test]
    fn a_multi_line_diff_shows_control_characters_and_keeps_its_lines() {
        let state = live(vec![product()], vec![price()]);
        let (_, doc) = document(
            &CATALOG.replace("\"For teams\"", &format!("\"{HOSTILE}\"")),
            &state,
        );
        for color in [false, true] {
            let mut out = Vec::new();
            render_plan(&doc, &doc.origin, color, &mut out).unwrap();
            let text = String::from_utf8(out).unwrap();
            assert!(only_colours(&text), "{text:?}");
            assert!(!text.contains(['\u{7}', '\r', '\u{9b}']), "{text:?}");
            assert_eq!(text.contains('\u{1b}'), color, "{text:?}");
            let plain = text
                .split('\u{1b}')
                .enumerate()
                .map(|(i, part)| {
                    if i == 0 {
                        part
                    } else {
                        part.split_once('m').map_or(part, |(_, rest)| rest)
                    }
                })
                .collect::<String>();
            assert!(plain.contains("        - For teams\n"), "{plain}");
            assert!(
                plain.contains("        + line one␛]52;c;aGk=␇\n"),
                "{plain}"
            );
            // A carriage return ends a line for the diff, and is shown where it was.
            assert!(plain.contains("        + line two␍\n"), "{plain}");
            assert!(plain.contains("        + ␛[2J<U+009B>31m\n"), "{plain}");
        }
    }
}
