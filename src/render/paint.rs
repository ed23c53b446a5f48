//! ANSI colours that turn into plain text when colour is off, and the one way an escape
//! sequence reaches the terminal.
//!
//! Renderings hold text from billing.toml, Stripe and plan files, which may hold control
//! characters of their own (ESC, BEL, a carriage return). So a rendering is made with a mark
//! standing for ESC in the colours it paints, and [`Paint::finish`] shows every control
//! character in it visibly ([`crate::visible`]) before turning the marks, and only them, into
//! ESC. The mark holds a number drawn for each rendering, which no text made before it holds.

/// Paints text when enabled.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Paint {
    color: bool,
    mark: u64,
}

impl Paint {
    /// Colours when `color` is on; plain text otherwise.
    pub(crate) fn new(color: bool) -> Self {
        Self {
            color,
            mark: if color { fastrand::u64(..) } else { 0 },
        }
    }

    /// What stands for ESC until [`Self::finish`]: private-use characters and the number.
    fn mark(self) -> String {
        format!("\u{e000}{:016x}\u{e001}", self.mark)
    }

    fn wrap(self, code: &str, text: &str) -> String {
        if self.color {
            let mark = self.mark();
            format!("{mark}[{code}m{text}{mark}[0m")
        } else {
            text.to_owned()
        }
    }

    /// A rendering made with this paint, as it is safe to print: every control character but
    /// the line break shown visibly, then the colours painted.
    pub(crate) fn finish(self, rendered: &str) -> String {
        let shown = crate::visible::visible(rendered);
        if self.color {
            shown.replace(&self.mark(), "\x1b")
        } else {
            shown
        }
    }

    /// Bold.
    pub(crate) fn bold(self, text: &str) -> String {
        self.wrap("1", text)
    }

    /// Green: creations.
    pub(crate) fn green(self, text: &str) -> String {
        self.wrap("32", text)
    }

    /// Yellow: updates.
    pub(crate) fn yellow(self, text: &str) -> String {
        self.wrap("33", text)
    }

    /// Red: archives and failures.
    pub(crate) fn red(self, text: &str) -> String {
        self.wrap("31", text)
    }

    /// Magenta: replacements.
    pub(crate) fn magenta(self, text: &str) -> String {
        self.wrap("35", text)
    }

    /// Dim: comments and ids.
    pub(crate) fn dim(self, text: &str) -> String {
        self.wrap("2", text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_paints_own_escapes_reach_the_terminal() {
        let hostile = "x\u{1b}]52;c;aGk=\u{7}\u{1b}[2J\ry\u{e000}0000000000000000\u{e001}[31m";
        let paint = Paint::new(true);
        let rendered = format!("{}\n{hostile}", paint.red(hostile));
        let shown = paint.finish(&rendered);
        assert_eq!(shown.matches('\u{1b}').count(), 2, "{shown:?}");
        assert!(
            shown.starts_with("\u{1b}[31mx␛]52;c;aGk=␇␛[2J␍y"),
            "{shown:?}"
        );
        assert!(shown.contains("[31m\u{1b}[0m\nx␛]52"), "{shown:?}");
        assert!(!shown.contains(['\u{7}', '\r']));
        let plain = Paint::new(false);
        assert_eq!(plain.finish(&plain.red("a\u{1b}b")), "a␛b");
    }
}
