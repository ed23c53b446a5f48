//! The command line: argument parsing, output conventions and exit codes; commands live in submodules.
//!
//! Exit codes: 0 success; 1 any error (bad input, bad flags, failures). Data goes to stdout,
//! everything else (progress, warnings, errors) to stderr.

mod style;
mod validate;

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

pub use style::Style;

/// Exit code for success.
pub const EXIT_OK: u8 = 0;
/// Exit code for any error.
pub const EXIT_ERROR: u8 = 1;

/// Keep your Stripe catalog in code: validate it, see what would change, apply it.
#[derive(Debug, Parser)]
#[command(
    name = "billing",
    version,
    about = "Keep your Stripe catalog (products, prices) in code",
    long_about = "Keep your Stripe catalog (products, prices) in code.\n\n\
        billing reads billing.toml, checks it against Stripe's rules without any network access, \
        and serves a local Stripe-compatible sandbox to develop and test against.",
    after_help = "Exit codes: 0 success, 1 error.\nDocumentation: README.md in the billing repository."
)]
pub struct Cli {
    #[command(flatten)]
    global: GlobalArgs,
    #[command(subcommand)]
    command: Command,
}

/// Options accepted before or after the subcommand.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// The catalog file.
    #[arg(
        short = 'c',
        long = "config",
        value_name = "FILE",
        default_value = "billing.toml",
        global = true
    )]
    config: PathBuf,
    /// Never use colours (colours are also off when NO_COLOR is set or output is not a terminal).
    #[arg(long, global = true)]
    no_color: bool,
    /// Say more about what is happening (repeat for more).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check billing.toml against Stripe's rules; no network access.
    ///
    /// Every problem is reported at once as FILE:LINE:COL with the source line underlined.
    /// Exits 0 when the catalog is valid, 1 otherwise.
    Validate,
}

/// Runs the command line with these arguments and returns the process exit code.
pub fn run(args: impl IntoIterator<Item = impl Into<OsString> + Clone>) -> ExitCode {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return match error.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                    ExitCode::from(EXIT_OK)
                }
                _ => ExitCode::from(EXIT_ERROR),
            };
        }
    };
    let style = Style::detect(cli.global.no_color);
    let result = match cli.command {
        Command::Validate => validate::run(&cli.global, style),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            style.error(&format!("{error:#}"));
            ExitCode::from(EXIT_ERROR)
        }
    }
}
