//! Problems found in a catalog, each pointing at its place in the source, and their rendering.

use std::cell::{Cell, RefCell};
use std::fmt::Write as _;
use std::io;
use std::ops::Range;

use unicode_width::UnicodeWidthStr;

use super::source::SourceFile;
use crate::resource::Address;
use crate::visible::{push_visible, visible};

/// One problem in the catalog: where it is, what is wrong, and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Diagnostic {
    /// Byte range in the source that the problem is about.
    pub span: Range<usize>,
    /// What is wrong, as one sentence.
    pub message: String,
    /// A short note shown under the underlined source, if any.
    pub label: Option<String>,
    /// What to do about it, if there is something useful to say.
    pub hint: Option<String>,
    /// The source line holds a secret: show where, never the line itself.
    pub secret: bool,
    /// Not a problem that makes the catalog invalid: something to look at (`warning:`).
    pub warning: bool,
}

impl Diagnostic {
    /// A problem at `span`.
    pub(crate) fn new(span: Range<usize>, message: impl Into<String>) -> Self {
        Self {
            span,
            message: message.into(),
            label: None,
            hint: None,
            secret: false,
            warning: false,
        }
    }

    /// Makes it a warning: shown as `warning:`, it does not make the catalog invalid.
    #[must_use]
    pub(crate) fn warning(mut self) -> Self {
        self.warning = true;
        self
    }

    /// Marks the source line as holding a secret, so that it is never shown.
    #[must_use]
    pub(crate) fn secret(mut self) -> Self {
        self.secret = true;
        self
    }

    /// Adds a note shown under the underlined source.
    #[must_use]
    pub(crate) fn label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    /// Adds a hint saying what to do.
    #[must_use]
    pub(crate) fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Renders the problem as `FILE:LINE:COL: error: MESSAGE` (`warning:` for a warning), the
    /// source line underlined, and the hint.
    pub(crate) fn render(&self, source: &SourceFile, color: bool) -> String {
        let paint = Paint(color);
        let pos = source.position(self.span.start);
        let (line_start, line) = source.line_at(self.span.start);
        let line_no = pos.line.to_string();
        let gutter = " ".repeat(line_no.len());

        let line_end = line_start + line.len();
        let start = source.floor_boundary(self.span.start.clamp(line_start, line_end));
        let end = source.ceil_boundary(self.span.end.clamp(start, line_end.max(start)));
        let (shown_line, offset, width) = excerpt(line, start - line_start, end - line_start);

        let mut out = String::new();
        let _ = writeln!(
            out,
            "{}: {} {}",
            paint.bold(&format!("{}:{}:{}", source.name(), pos.line, pos.column)),
            if self.warning {
                paint.yellow("warning:")
            } else {
                paint.red("error:")
            },
            paint.bold(&visible(&self.message))
        );
        let _ = writeln!(out, "{} {}", gutter, paint.blue("|"));
        if self.secret {
            let _ = writeln!(
                out,
                "{} {} (the line is not shown: it holds what looks like a secret key)",
                paint.blue(&line_no),
                paint.blue("|"),
            );
        } else {
            let _ = writeln!(
                out,
                "{} {} {}",
                paint.blue(&line_no),
                paint.blue("|"),
                shown_line.trim_end()
            );
            let carets = format!("{}{}", " ".repeat(offset), "^".repeat(width));
            match &self.label {
                Some(label) => {
                    let _ = writeln!(
                        out,
                        "{} {} {} {}",
                        gutter,
                        paint.blue("|"),
                        paint.red(&carets),
                        paint.red(&visible(label))
                    );
                }
                None => {
                    let _ = writeln!(out, "{} {} {}", gutter, paint.blue("|"), paint.red(&carets));
                }
            }
        }
        if let Some(hint) = &self.hint {
            let _ = writeln!(
                out,
                "{} {} {}",
                gutter,
                paint.blue("="),
                paint.cyan(&format!("hint: {}", visible(hint)))
            );
        }
        out
    }
}

/// Source lines wider than this (in columns) are cut to a window around the problem: a line
/// holding a 500-character metadata value is shown whole, a megabyte-long line is not.
const MAX_LINE_COLUMNS: usize = 600;

/// Columns of a cut line shown before the problem.
const CONTEXT_COLUMNS: usize = 40;

/// At most this many problems are shown in full; the summary still counts them all.
pub(crate) const MAX_SHOWN: usize = 100;

/// A source line as shown under a message (see [`push_visible`]), cut to a window around the
/// problem when it is too wide, with `…` where it was cut; and the column where the underline
/// starts and its width. `start..end` is the problem's byte range within the line. Only the
/// window is looked at, so a problem on a huge line costs no more than one on a short line.
fn excerpt(line: &str, start: usize, end: usize) -> (String, usize, usize) {
    // Columns a character takes from the budget: at least one, so that a line of zero-width
    // characters is cut too.
    let cost = |c: char| {
        let mut piece = String::new();
        push_visible(&mut piece, c);
        piece.width().max(1)
    };
    let fits = line
        .chars()
        .scan(0, |columns, c| {
            *columns += cost(c);
            Some(*columns)
        })
        .all(|columns| columns <= MAX_LINE_COLUMNS);
    let from = if fits {
        0
    } else {
        let mut columns = 0;
        line[..start]
            .char_indices()
            .rev()
            .take_while(|&(_, c)| {
                columns += cost(c);
                columns <= CONTEXT_COLUMNS
            })
            .last()
            .map_or(start, |(i, _)| i)
    };
    let mut shown = String::new();
    if from > 0 {
        shown.push('…');
    }
    let (mut columns, mut offset, mut underline) = (usize::from(from > 0), 0, 0);
    for (i, c) in line[from..].char_indices() {
        let mut piece = String::new();
        push_visible(&mut piece, c);
        let w = piece.width();
        columns += w.max(1);
        // A line too wide keeps a column for the `…`.
        if !fits && columns >= MAX_LINE_COLUMNS {
            shown.push('…');
            break;
        }
        if from + i < start {
            offset += w;
        } else if from + i < end {
            underline += w;
        }
        shown.push_str(&piece);
    }
    (shown, offset + usize::from(from > 0), underline.max(1))
}

/// ANSI styling that turns into plain text when colour is off.
struct Paint(bool);

impl Paint {
    fn wrap(&self, code: &str, text: &str) -> String {
        if self.0 {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }
    fn bold(&self, text: &str) -> String {
        self.wrap("1", text)
    }
    fn red(&self, text: &str) -> String {
        self.wrap("1;31", text)
    }
    fn yellow(&self, text: &str) -> String {
        self.wrap("1;33", text)
    }
    fn blue(&self, text: &str) -> String {
        self.wrap("1;34", text)
    }
    fn cyan(&self, text: &str) -> String {
        self.wrap("36", text)
    }
}

/// Problems collected while reading and validating, so that all are reported at once.
#[derive(Debug, Default)]
pub(crate) struct Sink {
    items: RefCell<Vec<Diagnostic>>,
    /// Entries left out of the environment being checked, by table
    /// (`coupons.staff`, `products.pro.prices.annual`), with the environments they are in.
    limited: RefCell<Vec<(String, Vec<String>)>>,
    /// The environment being checked.
    environment: RefCell<Option<String>>,
    /// Character comparisons spent on did-you-mean suggestions (see [`Sink::suggest`]).
    suggestion_work: Cell<u64>,
}

/// A name longer than this gets no did-you-mean: a typo of a real name is short.
const MAX_SUGGESTED_LEN: usize = 64;
/// Character comparisons all the suggestions of one check may cost together (a fraction of
/// a second): past them, problems are reported without a did-you-mean, so that a catalog full
/// of unknown names cannot keep validation busy.
const SUGGESTION_BUDGET: u64 = 200_000_000;

impl Sink {
    /// The known name closest to `name`, if it is close enough to be a likely typo and the
    /// search fits in what is left of the budget.
    pub(crate) fn suggest<'k>(&self, name: &str, known: &[&'k str]) -> Option<&'k str> {
        if name.len() > MAX_SUGGESTED_LEN {
            return None;
        }
        let cost = known
            .iter()
            .map(|k| (k.len() * name.len()) as u64)
            .sum::<u64>();
        let spent = self.suggestion_work.get().saturating_add(cost);
        if spent > SUGGESTION_BUDGET {
            return None;
        }
        self.suggestion_work.set(spent);
        super::reader::suggest(name, known)
    }

    /// The hint that names the known name closest to `name` ([`Self::suggest`]): `did you
    /// mean "…"?`.
    pub(crate) fn did_you_mean(&self, name: &str, known: &[&str]) -> Option<String> {
        self.suggest(name, known)
            .map(|best| format!("did you mean \"{best}\"?"))
    }

    /// Records that the entry declared in `table` (`products.pro.prices.annual`) is left out
    /// of `environment` (it is limited to `envs`).
    pub(crate) fn limited_away(&self, environment: &str, table: String, envs: Vec<String>) {
        *self.environment.borrow_mut() = Some(environment.to_owned());
        self.limited.borrow_mut().push((table, envs));
    }

    /// A problem about a reference to an entry that `resolve` left out of this environment,
    /// when `address` is one: said as such, instead of "unknown".
    pub(crate) fn missing_reference(
        &self,
        span: Range<usize>,
        what: &str,
        address: &Address,
    ) -> bool {
        let table = address.table();
        let limited = self.limited.borrow();
        let Some((_, envs)) = limited.iter().find(|(t, _)| *t == table) else {
            return false;
        };
        let env = self.environment.borrow().clone().unwrap_or_default();
        self.push(
            Diagnostic::new(
                span,
                format!(
                    "{what} is limited to {}, so it is not in environment `{env}`",
                    envs.join(", ")
                ),
            )
            .label("not in this environment")
            .hint(format!(
                "limit this entry the same way (environments = [{}]), or add `{env}` to the other one's",
                envs.iter().map(|e| format!("\"{e}\"")).collect::<Vec<_>>().join(", ")
            )),
        );
        true
    }

    pub(crate) fn push(&self, diagnostic: Diagnostic) {
        self.items.borrow_mut().push(diagnostic);
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.items.borrow().is_empty()
    }

    /// How many problems have been collected so far.
    pub(crate) fn len(&self) -> usize {
        self.items.borrow().len()
    }

    /// The problems in source order (then by message, so the order never depends on map iteration).
    pub(crate) fn into_sorted(self) -> Vec<Diagnostic> {
        let mut items = self.items.into_inner();
        items.sort_by(|a, b| {
            (a.span.start, a.span.end, &a.message).cmp(&(b.span.start, b.span.end, &b.message))
        });
        items.dedup();
        items
    }
}

/// Writes every diagnostic, then a summary line.
pub(crate) fn render_all(
    source: &SourceFile,
    diagnostics: &[Diagnostic],
    color: bool,
    out: &mut impl io::Write,
) -> io::Result<()> {
    render_each(source, diagnostics, color, out)?;
    let count = diagnostics.len();
    writeln!(
        out,
        "{} {} is not valid: {} {} found; nothing was sent to Stripe.",
        Paint(color).red("error:"),
        source.name(),
        count,
        if count == 1 { "problem" } else { "problems" }
    )
}

/// Writes every diagnostic (the first [`MAX_SHOWN`], and how many more there are).
pub(crate) fn render_each(
    source: &SourceFile,
    diagnostics: &[Diagnostic],
    color: bool,
    out: &mut impl io::Write,
) -> io::Result<()> {
    for diagnostic in diagnostics.iter().take(MAX_SHOWN) {
        writeln!(out, "{}", diagnostic.render(source, color))?;
    }
    let paint = Paint(color);
    let count = diagnostics.len();
    if count > MAX_SHOWN {
        writeln!(
            out,
            "{} {} more problems are not shown: fix the first {MAX_SHOWN} and validate again.",
            paint.cyan("note:"),
            count - MAX_SHOWN
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_location_underline_and_hint() {
        let src = SourceFile::new(
            "billing.toml",
            "[products.pro]\nname = \"Pro\"\n\tamount = \"12.001\"\n",
        );
        let at = src.text().find("\"12.001\"").unwrap();
        let d = Diagnostic::new(at..at + 8, "amount is not exact")
            .label("USD has 2 decimal places")
            .hint("use \"12.00\"");
        insta::assert_snapshot!(d.render(&src, false), @r#"
        billing.toml:3:11: error: amount is not exact
          |
        3 |     amount = "12.001"
          |              ^^^^^^^^ USD has 2 decimal places
          = hint: use "12.00"
        "#);
    }

    #[test]
    fn empty_span_gets_one_caret_and_color_is_optional() {
        let src = SourceFile::new("c.toml", "x = ");
        let d = Diagnostic::new(4..4, "missing value");
        assert!(d.render(&src, false).contains("  |     ^\n"));
        assert!(d.render(&src, true).contains("\x1b[1;31m"));
        assert!(!d.render(&src, false).contains('\x1b'));
    }

    #[test]
    fn control_and_invisible_characters_are_shown_not_sent_to_the_terminal() {
        let src = SourceFile::new("c.toml", "name = \"a\u{0}\u{1b}[2J\r\u{202e}b\u{200b}\"\n");
        let at = src.text().find('\u{202e}').unwrap();
        let d = Diagnostic::new(at..at + 3, "key `x\u{1b}]0;pwned\u{7}` is bad")
            .label("\u{0}")
            .hint("\u{9b}31m");
        insta::assert_snapshot!(d.render(&src, false), @r#"
        c.toml:1:16: error: key `x␛]0;pwned␇` is bad
          |
        1 | name = "a␀␛[2J␍<U+202E>b<U+200B>"
          |                ^^^^^^^^ ␀
          = hint: <U+009B>31m
        "#);
    }

    #[test]
    fn a_huge_line_is_cut_to_a_window_around_the_problem() {
        let value = "v".repeat(1_000_000);
        let src = SourceFile::new("c.toml", format!("description = \"{value}\" # é\n"));
        let at = src.text().find('#').unwrap();
        let rendered = Diagnostic::new(at..at + 1, "here").render(&src, false);
        let lines: Vec<&str> = rendered.lines().collect();
        assert_eq!(lines[0], "c.toml:1:1000018: error: here");
        assert_eq!(lines[2], format!("1 | …{}\" # é", "v".repeat(38)));
        assert_eq!(lines[3], format!("  | {}^", " ".repeat(41)));
        // A problem at the start of the line: the window begins there and ends with `…`.
        let rendered = Diagnostic::new(0..11, "start").render(&src, false);
        let shown = rendered.lines().nth(2).unwrap();
        assert!(shown.starts_with("1 | description = \"vvv"), "{shown}");
        assert!(shown.ends_with("v…"), "{shown}");
        assert_eq!(shown.chars().count(), 4 + MAX_LINE_COLUMNS);
        assert!(rendered.contains("\n  | ^^^^^^^^^^^\n"), "{rendered}");
        // A line of exactly the width is shown whole.
        let src = SourceFile::new("c.toml", "x".repeat(MAX_LINE_COLUMNS));
        let rendered = Diagnostic::new(0..1, "x").render(&src, false);
        assert!(rendered.contains(&format!("1 | {}\n", "x".repeat(MAX_LINE_COLUMNS))));
        // A line of zero-width characters is cut too.
        let src = SourceFile::new("c.toml", "\u{301}".repeat(100_000));
        assert!(Diagnostic::new(0..2, "x").render(&src, false).len() < 2 * 2 * MAX_LINE_COLUMNS);
    }

    #[test]
    fn past_a_hundred_problems_the_rest_are_counted_not_shown() {
        let src = SourceFile::new("c.toml", "x = 1\n".repeat(150));
        let all: Vec<Diagnostic> = (0..150)
            .map(|i| Diagnostic::new(i * 6..i * 6 + 1, format!("problem {i}")))
            .collect();
        let mut out = Vec::new();
        render_all(&src, &all, false, &mut out).unwrap();
        let out = String::from_utf8(out).unwrap();
        assert!(out.contains("c.toml:100:1: error: problem 99\n"), "{out}");
        assert!(!out.contains("problem 100\n"), "{out}");
        assert!(out.ends_with(
            "note: 50 more problems are not shown: fix the first 100 and validate again.\n\
             error: c.toml is not valid: 150 problems found; nothing was sent to Stripe.\n"
        ));
    }

    #[test]
    fn spans_inside_a_character_or_past_a_line_never_panic() {
        let src = SourceFile::new("c.toml", "name = \"Zürich\"\r\nx = 1\r\n");
        for start in 0..src.text().len() + 2 {
            for end in start..src.text().len() + 3 {
                let _ = Diagnostic::new(start..end, "x").render(&src, false);
            }
        }
    }
}
