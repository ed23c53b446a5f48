//! Terminal styling for messages on stderr: colour only on a terminal, never with NO_COLOR or --no-color.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};

/// `--quiet`: set once by [`super::run`] before a command runs.
static QUIET: AtomicBool = AtomicBool::new(false);

/// Turns `--quiet` on: only errors (with their hints) go to stderr from then on.
pub(crate) fn set_quiet(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
}

/// Whether `--quiet` is on.
pub(crate) fn quiet() -> bool {
    QUIET.load(Ordering::Relaxed)
}

/// Where messages that are not errors go (progress, notes, warnings, reports): stderr, or
/// nowhere with `--quiet`. Data on stdout is the same either way.
pub(crate) fn chatter() -> Box<dyn Write> {
    if quiet() {
        Box::new(std::io::sink())
    } else {
        Box::new(std::io::stderr())
    }
}

/// Whether stderr and stdout get colours.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Style {
    color: bool,
    stdout_color: bool,
}

impl Style {
    /// Colour when stderr is a terminal, `NO_COLOR` is unset or empty, and `--no-color` was not given.
    pub(crate) fn detect(no_color_flag: bool) -> Self {
        let no_color_env = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let allowed = !no_color_flag && !no_color_env;
        Self {
            color: allowed && std::io::stderr().is_terminal(),
            stdout_color: allowed && std::io::stdout().is_terminal(),
        }
    }

    /// Whether colours are on for stderr.
    pub(crate) fn color(self) -> bool {
        self.color
    }

    /// Whether colours are on for stdout.
    pub(crate) fn stdout_color(self) -> bool {
        self.stdout_color
    }

    /// Prints `LABEL: MESSAGE` to stderr, the label in the ANSI style `code` when colours are
    /// on, the message as it is safe to print (it may quote Stripe, billing.toml or a plan
    /// file: see [`crate::visible`]).
    fn say(self, code: &str, label: &str, message: &str) {
        let label = if self.color {
            format!("\x1b[{code}m{label}:\x1b[0m")
        } else {
            format!("{label}:")
        };
        let message = crate::visible::visible(message);
        let _ = writeln!(std::io::stderr(), "{label} {message}");
    }

    /// Prints `error: MESSAGE` to stderr.
    pub(crate) fn error(self, message: &str) {
        self.say("1;31", "error", message);
    }

    /// Prints `warning: MESSAGE` to stderr (not with `--quiet`).
    pub(crate) fn warn(self, message: &str) {
        if !quiet() {
            self.say("1;33", "warning", message);
        }
    }

    /// Prints `hint: MESSAGE` to stderr.
    pub(crate) fn hint(self, message: &str) {
        self.say("36", "hint", message);
    }

    /// Prints `note: MESSAGE` to stderr (not with `--quiet`).
    pub(crate) fn note(self, message: &str) {
        if !quiet() {
            self.say("1", "note", message);
        }
    }
}
