//! `billing init`: a commented starter billing.toml, and the schema editors read beside it.

use std::path::{Path, PathBuf};

use std::io::Write;

use clap::Args;

use super::error::{Error, Result};
use super::{EXIT_OK, GlobalArgs};

/// The starter catalog: a SaaS with monthly and annual prices, a portal, tax settings, a
/// webhook endpoint, and local, test and live environments.
pub(super) const STARTER: &str = include_str!("init.toml");

/// The schema's file name, as the starter's `#:schema` line names it.
const SCHEMA_FILE: &str = "billing.schema.json";

#[derive(Debug, Args)]
pub(crate) struct InitArgs {
    /// The catalog file to write [default: billing.toml in the current directory].
    #[arg(short = 'c', long = "config", value_name = "FILE")]
    config: Option<PathBuf>,
    /// Replace billing.toml (and billing.schema.json beside it) if they exist.
    #[arg(long)]
    force: bool,
}

/// The schema file beside the catalog file `config`.
fn schema_path(config: &Path) -> PathBuf {
    config.with_file_name(SCHEMA_FILE)
}

pub(super) fn run(global: &GlobalArgs, args: &InitArgs) -> Result<u8> {
    // `-c` after the command, else before it, else ./billing.toml (never one found above).
    let config = args.config.as_ref().unwrap_or(&global.config);
    let schema = schema_path(config);
    for path in [config, &schema] {
        // Anything at the path counts, a dangling link too.
        if std::fs::symlink_metadata(path).is_ok() && !args.force {
            return Err(Error::new(format!(
                "{} already exists: nothing was written",
                path.display()
            ))
            .hint("pass --force to replace it, or name another catalog file with -c"));
        }
        crate::files::check_writable(path)?;
    }
    let json = super::schema::text();
    crate::files::write_atomically(&schema, &json)?;
    crate::files::write_atomically(config, STARTER)?;
    let mut out = super::style::chatter();
    let _ = writeln!(
        out,
        "Wrote {} and {}. Next: `billing validate`, then `billing plan` (on the embedded sandbox).",
        config.display(),
        schema.display()
    );
    Ok(EXIT_OK)
}
