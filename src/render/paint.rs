//! ANSI colours that turn into plain text when colour is off.

/// Paints text when enabled.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Paint(pub bool);

impl Paint {
    fn wrap(self, code: &str, text: &str) -> String {
        if self.0 {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
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
