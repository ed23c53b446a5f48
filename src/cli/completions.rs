//! `billing completions SHELL` and `billing man`: generated from the command line's own
//! definition, so they list every command and flag there is.

use clap::{Args, CommandFactory};

use super::error::Result;
use super::{Cli, EXIT_OK};

#[derive(Debug, Args)]
pub(crate) struct CompletionsArgs {
    /// The shell to complete in.
    #[arg(value_enum)]
    shell: clap_complete::Shell,
}

pub(super) fn run(args: &CompletionsArgs) -> Result<u8> {
    let mut cmd = Cli::command();
    clap_complete::generate(
        args.shell,
        &mut cmd,
        "billing",
        &mut std::io::stdout().lock(),
    );
    Ok(EXIT_OK)
}

/// The man page of billing and its commands, in roff, on stdout.
pub(super) fn man() -> Result<u8> {
    let cmd = Cli::command();
    clap_mangen::Man::new(cmd).render(&mut std::io::stdout().lock())?;
    Ok(EXIT_OK)
}
