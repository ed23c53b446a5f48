//! Problems found in a catalog, each pointing at its place in the source, and their rendering.

use std::cell::RefCell;
use std::fmt::Write as _;
use std::io;
use std::ops::Range;

use unicode_width::UnicodeWidthStr;

use super::source::SourceFile;

/// One problem in the catalog: where it is, what is wrong, and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
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
}

impl Diagnostic {
    /// A problem at `span`.
    pub fn new(span: Range<usize>, message: impl Into<String>) -> Self {
        Self {
            span,
            message: message.into(),
            label: None,
            hint: None,
            secret: false,
        }
    }

    /// Marks the source line as holding a secret, so that it is never shown.
    #[must_use]
    pub fn secret(mut self) -> Self {
        self.secret = true;
        self
    }

    /// Adds a note shown under the underlined source.
    #[must_use]
    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    /// Adds a hint saying what to do.
    #[must_use]
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Renders the problem as `FILE:LINE:COL: error: MESSAGE`, the source line underlined, and the hint.
    pub fn render(&self, source: &SourceFile, color: bool) -> String {
        let paint = Paint(color);
        let pos = source.position(self.span.start);
        let (line_start, line) = source.line_at(self.span.start);
        let line_no = pos.line.to_string();
        let gutter = " ".repeat(line_no.len());

        let line_end = line_start + line.len();
        let start = source.floor_boundary(self.span.start.clamp(line_start, line_end));
        let end = source.ceil_boundary(self.span.end.clamp(start, line_end.max(start)));
        let (start_in_line, end_in_line) = (start - line_start, end - line_start);
        let shown_line = line.replace('\t', "    ");
        let offset = display_width(&line[..start_in_line]);
        let width = display_width(&line[start_in_line..end_in_line]).max(1);

        let mut out = String::new();
        let _ = writeln!(
            out,
            "{}: {} {}",
            paint.bold(&format!("{}:{}:{}", source.name(), pos.line, pos.column)),
            paint.red("error:"),
            paint.bold(&self.message)
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
                        paint.red(label)
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
                paint.cyan(&format!("hint: {hint}"))
            );
        }
        out
    }
}

fn display_width(text: &str) -> usize {
    text.replace('\t', "    ").width()
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
    /// Entries left out of the environment being checked, by address
    /// (`coupons.staff`, `products.pro.prices.annual`), with the environments they are in.
    limited: RefCell<Vec<(String, Vec<String>)>>,
    /// The environment being checked.
    environment: RefCell<Option<String>>,
}

impl Sink {
    /// Records that the entry at `address` is left out of `environment` (it is limited to
    /// `envs`).
    pub(crate) fn limited_away(&self, environment: &str, address: String, envs: Vec<String>) {
        *self.environment.borrow_mut() = Some(environment.to_owned());
        self.limited.borrow_mut().push((address, envs));
    }

    /// A problem about a reference to an entry that `resolve` left out of this environment,
    /// when `address` is one: said as such, instead of "unknown".
    pub(crate) fn missing_reference(&self, span: Range<usize>, what: &str, address: &str) -> bool {
        let limited = self.limited.borrow();
        let Some((_, envs)) = limited.iter().find(|(a, _)| a == address) else {
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
pub fn render_all(
    source: &SourceFile,
    diagnostics: &[Diagnostic],
    color: bool,
    out: &mut impl io::Write,
) -> io::Result<()> {
    for diagnostic in diagnostics {
        writeln!(out, "{}", diagnostic.render(source, color))?;
    }
    let paint = Paint(color);
    let count = diagnostics.len();
    writeln!(
        out,
        "{} {} is not valid: {} {} found; nothing was sent to Stripe.",
        paint.red("error:"),
        source.name(),
        count,
        if count == 1 { "problem" } else { "problems" }
    )
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
    fn spans_inside_a_character_or_past_a_line_never_panic() {
        let src = SourceFile::new("c.toml", "name = \"Zürich\"\r\nx = 1\r\n");
        for start in 0..src.text().len() + 2 {
            for end in start..src.text().len() + 3 {
                let _ = Diagnostic::new(start..end, "x").render(&src, false);
            }
        }
    }
}
