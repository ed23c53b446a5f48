//! `billing doctor`'s report as text for people and as Markdown for a pull-request comment
//! (its JSON is the report serialised: docs/doctor-json.md).

use std::io::{self, Write};

use super::Paint;
use super::markdown::{code, inline};
use crate::doctor::{Report, Signal, Status};

/// Keeps a long report within what a pull-request comment holds (GitHub's limit is 65,536
/// characters): each list is cut to this many items.
const MAX_ITEMS: usize = 30;

fn painted(status: Status, paint: Paint) -> String {
    let label = status.label();
    match status {
        Status::Pass => paint.green(label),
        Status::Fail => paint.red(label),
        Status::CheckByHand => paint.yellow(label),
    }
}

/// The last line: the score, and whether it reaches the minimum.
fn verdict(report: &Report) -> String {
    format!(
        "Score: {}/{} (only passes count; --min-score {}): {}.",
        report.score,
        report.out_of,
        report.min_score,
        if report.passed {
            "reached"
        } else {
            "below the minimum"
        }
    )
}

/// The report for people.
pub(crate) fn render_doctor_text(
    report: &Report,
    color: bool,
    out: &mut impl Write,
) -> io::Result<()> {
    let paint = Paint::new(color);
    let mut text = format!(
        "{} environment `{}` ({} mode), account {}\n",
        paint.bold("billing doctor:"),
        report.environment,
        report.mode,
        report.account
    );
    for s in &report.signals {
        // Padded before painting: colour codes take no room on screen.
        let status = format!("{:<13}", s.status.label());
        let status = status.replacen(s.status.label(), &painted(s.status, paint), 1);
        text.push_str(&format!(
            "\n{}. {status}  {}\n   {}\n",
            s.number,
            paint.bold(s.title),
            s.summary
        ));
        for line in &s.evidence {
            text.push_str(&format!("     - {line}\n"));
        }
        if !s.fix.is_empty() {
            text.push_str(&format!("   {}\n", paint.bold("fix:")));
            for line in &s.fix {
                text.push_str(&format!("     - {line}\n"));
            }
        }
    }
    text.push('\n');
    text.push_str(&verdict(report));
    text.push('\n');
    out.write_all(paint.finish(&text).as_bytes())
}

fn badge(status: Status) -> &'static str {
    match status {
        Status::Pass => "✅ pass",
        Status::Fail => "❌ fail",
        Status::CheckByHand => "👀 check by hand",
    }
}

/// One signal's details, folded.
fn details(s: &Signal) -> String {
    let mut out = format!(
        "<details><summary>{}. {} ({})</summary>\n\n",
        s.number,
        s.title,
        s.status.label()
    );
    for line in s.evidence.iter().take(MAX_ITEMS) {
        out.push_str(&format!("- {}\n", inline(line)));
    }
    if s.evidence.len() > MAX_ITEMS {
        out.push_str(&format!("- … and {} more\n", s.evidence.len() - MAX_ITEMS));
    }
    if !s.fix.is_empty() {
        out.push_str("\n**Fix:**\n\n");
        for line in &s.fix {
            out.push_str(&format!("- {}\n", inline(line)));
        }
    }
    out.push_str("\n</details>\n");
    out
}

/// The report as a pull-request comment.
pub(crate) fn render_doctor_markdown(report: &Report, out: &mut impl Write) -> io::Result<()> {
    let mut md = format!(
        "<!-- billing-doctor -->\n### billing doctor: {}/{} for {} ({} mode, account {})\n\n",
        report.score,
        report.out_of,
        code(&report.environment),
        report.mode,
        code(&report.account)
    );
    md.push_str("| # | Signal | Status | Why |\n|---|---|---|---|\n");
    for s in &report.signals {
        md.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            s.number,
            s.title,
            badge(s.status),
            inline(&s.summary)
        ));
    }
    md.push('\n');
    for s in &report.signals {
        md.push_str(&details(s));
        md.push('\n');
    }
    md.push_str(&verdict(report).replace("--min-score", "`--min-score`"));
    md.push('\n');
    out.write_all(md.as_bytes())
}
