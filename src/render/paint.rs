//! ANSI colours that turn into plain text when colour is off.

/// Paints text when enabled.
#[derive(Debug, Clone, Copy)]
pub struct Paint(pub bool);

impl Paint {
    fn wrap(self, code: &str, text: &str) -> String {
        if self.0 {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }

    /// Bold.
    pub fn bold(self, text: &str) -> String {
        self.wrap("1", text)
    }

    /// Green: creations.
    pub fn green(self, text: &str) -> String {
        self.wrap("32", text)
    }

    /// Yellow: updates.
    pub fn yellow(self, text: &str) -> String {
        self.wrap("33", text)
    }

    /// Red: archives and failures.
    pub fn red(self, text: &str) -> String {
        self.wrap("31", text)
    }

    /// Magenta: replacements.
    pub fn magenta(self, text: &str) -> String {
        self.wrap("35", text)
    }

    /// Dim: comments and ids.
    pub fn dim(self, text: &str) -> String {
        self.wrap("2", text)
    }
}
