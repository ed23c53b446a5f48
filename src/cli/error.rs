//! The command line's one error channel: what a command could not do, the hints that go with
//! it and its exit code, printed on stderr by [`super::run`] and nowhere else.

use std::io;

use super::{EXIT_ERROR, EXIT_OK, Style};
use crate::apply::DestroyRefused;
use crate::catalog::{self, Diagnostic, SourceFile};
use crate::document;
use crate::environment::ConnectError;
use crate::stripe::StripeError;

/// A command's result: an exit code, or the error that ends it.
pub(super) type Result<T, E = Error> = std::result::Result<T, E>;

/// Why a command stopped: printed as `error: …` (or a catalog's problems), then `hint: …`
/// lines, and the process exits with its code.
#[derive(Debug)]
pub(super) struct Error {
    what: What,
    hints: Vec<String>,
    code: u8,
}

/// What an error prints before its hints.
#[derive(Debug)]
enum What {
    /// `error: MESSAGE`.
    Message(String),
    /// A catalog's problems, each with its place in the source (boxed: a source file is
    /// large, and most errors are not this one).
    Catalog(Box<(SourceFile, Vec<Diagnostic>)>),
    /// Problems of a valid catalog with the account it applies to (a customer it names that the
    /// account does not have), each at its place in the source.
    Located(Box<(SourceFile, Vec<Diagnostic>)>),
    /// Nothing: the output already says what went wrong (an apply report), or nobody reads
    /// it any more (a closed pipe).
    Shown,
}

impl Error {
    /// An error that prints `error: MESSAGE` and exits 1.
    pub(super) fn new(message: impl Into<String>) -> Self {
        Self {
            what: What::Message(message.into()),
            hints: Vec::new(),
            code: EXIT_ERROR,
        }
    }

    /// Problems at places in a valid catalog (each printed as `FILE:LINE:COL: error: …` with
    /// its line), exit 1.
    pub(super) fn located(file: SourceFile, diagnostics: Vec<Diagnostic>) -> Self {
        Self {
            what: What::Located(Box::new((file, diagnostics))),
            hints: Vec::new(),
            code: EXIT_ERROR,
        }
    }

    /// A failure the output already shows: only its hints are printed, and it exits 1.
    pub(super) fn shown() -> Self {
        Self {
            what: What::Shown,
            hints: Vec::new(),
            code: EXIT_ERROR,
        }
    }

    /// The same error, with `hint` printed after it.
    #[must_use]
    pub(super) fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hints.push(hint.into());
        self
    }

    /// The same error, ending the process with `code` instead of 1.
    #[must_use]
    pub(super) fn exit_code(mut self, code: u8) -> Self {
        self.code = code;
        self
    }

    /// Prints it on stderr, styled, and returns its exit code.
    pub(super) fn report(&self, style: Style) -> u8 {
        match &self.what {
            What::Message(message) => style.error(message),
            What::Catalog(problems) => {
                let (file, diagnostics) = problems.as_ref();
                let _ =
                    catalog::render_all(file, diagnostics, style.color(), &mut io::stderr().lock());
            }
            What::Located(problems) => {
                let (file, diagnostics) = problems.as_ref();
                let mut err = io::stderr().lock();
                for diagnostic in diagnostics {
                    let _ = io::Write::write_all(
                        &mut err,
                        diagnostic.render(file, style.color()).as_bytes(),
                    );
                }
            }
            What::Shown => {}
        }
        for hint in &self.hints {
            style.hint(hint);
        }
        self.code
    }

    /// The reader went away (`billing plan | head`): nothing more to say, and not a failure.
    fn closed_pipe() -> Self {
        Self {
            what: What::Shown,
            hints: Vec::new(),
            code: EXIT_OK,
        }
    }
}

impl From<anyhow::Error> for Error {
    fn from(error: anyhow::Error) -> Self {
        if error
            .downcast_ref::<io::Error>()
            .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
        {
            return Self::closed_pipe();
        }
        // What the connection or Stripe's transport knows to suggest.
        let hint = error.chain().find_map(|cause| {
            cause
                .downcast_ref::<ConnectError>()
                .and_then(ConnectError::hint)
                .or_else(|| {
                    cause
                        .downcast_ref::<StripeError>()
                        .and_then(StripeError::hint)
                })
        });
        let error = Self::new(format!("{error:#}"));
        match hint {
            Some(hint) => error.hint(hint),
            None => error,
        }
    }
}

impl From<ConnectError> for Error {
    fn from(error: ConnectError) -> Self {
        anyhow::Error::from(error).into()
    }
}

impl From<io::Error> for Error {
    fn from(error: io::Error) -> Self {
        anyhow::Error::from(error).into()
    }
}

impl From<catalog::LoadError> for Error {
    fn from(error: catalog::LoadError) -> Self {
        match error {
            catalog::LoadError::Invalid { file, diagnostics } => Self {
                what: What::Catalog(Box::new((file, diagnostics))),
                hints: Vec::new(),
                code: EXIT_ERROR,
            },
            catalog::LoadError::Read {
                ref path,
                ref source,
            } => {
                let hint = if source.kind() != io::ErrorKind::NotFound {
                    None
                } else if path.as_os_str() == super::session::CATALOG_FILE {
                    Some(format!(
                        "no {0} here or in the directories above (up to the git repository's root): run billing where {0} is, or pass -c PATH",
                        super::session::CATALOG_FILE
                    ))
                } else {
                    Some(format!(
                        "-c {} names no file: check the path (a relative one starts from the current directory)",
                        path.display()
                    ))
                };
                let error = Self::new(error.to_string());
                match hint {
                    Some(hint) => error.hint(hint),
                    None => error,
                }
            }
            catalog::LoadError::TooLarge { .. } => Self::new(error.to_string()),
            catalog::LoadError::Choice(choice) => Self::new(choice.message).hint(choice.hint),
        }
    }
}

impl From<document::LoadError> for Error {
    fn from(error: document::LoadError) -> Self {
        Self::new(error.to_string())
    }
}

impl From<DestroyRefused> for Error {
    fn from(error: DestroyRefused) -> Self {
        Self::new(error.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_closed_pipe_is_no_failure_and_says_nothing() {
        let pipe = || io::Error::new(io::ErrorKind::BrokenPipe, "closed");
        assert_eq!(Error::from(pipe()).code, EXIT_OK);
        let wrapped = anyhow::Error::from(pipe()).context("writing the plan");
        assert!(matches!(Error::from(wrapped).what, What::Shown));
        assert_eq!(Error::from(io::Error::other("disk full")).code, EXIT_ERROR);
    }

    #[test]
    fn a_message_keeps_its_causes_and_its_hints_in_order() {
        let error = Error::from(anyhow::anyhow!("refused").context("cannot apply"))
            .hint("first")
            .hint("second");
        assert!(matches!(&error.what, What::Message(m) if m == "cannot apply: refused"));
        assert_eq!(error.hints, ["first", "second"]);
    }
}
