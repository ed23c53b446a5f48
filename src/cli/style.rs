//! Terminal styling for messages on stderr: colour only on a terminal, never with NO_COLOR or --no-color.

use std::io::{IsTerminal, Write};

/// Whether stderr gets colours.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    color: bool,
}

impl Style {
    /// Colour when stderr is a terminal, `NO_COLOR` is unset or empty, and `--no-color` was not given.
    pub fn detect(no_color_flag: bool) -> Self {
        let no_color_env = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Self {
            color: !no_color_flag && !no_color_env && std::io::stderr().is_terminal(),
        }
    }

    /// Plain text, whatever the terminal.
    pub fn plain() -> Self {
        Self { color: false }
    }

    /// Whether colours are on.
    pub fn color(self) -> bool {
        self.color
    }

    /// Prints `error: MESSAGE` to stderr.
    pub fn error(self, message: &str) {
        let label = if self.color {
            "\x1b[1;31merror:\x1b[0m"
        } else {
            "error:"
        };
        let _ = writeln!(std::io::stderr(), "{label} {message}");
    }

    /// Prints `hint: MESSAGE` to stderr.
    pub fn hint(self, message: &str) {
        let label = if self.color {
            "\x1b[36mhint:\x1b[0m"
        } else {
            "hint:"
        };
        let _ = writeln!(std::io::stderr(), "{label} {message}");
    }
}
