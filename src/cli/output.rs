//! `billing output`: the Stripe id of every object billing.toml declares, in one environment,
//! for the application to read.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;

use super::session::{self, Session};
use super::{EXIT_OK, Error, GlobalArgs, Result, Style};
use crate::output::{self, Format, Outputs};

/// Options of `billing output`.
#[derive(Debug, Args)]
pub(super) struct OutputArgs {
    /// json or toml (nested by kind and key), ts (a module exporting it `as const`), env
    /// (BILLING_PRICE_<PRODUCT>__<PRICE>=price_… lines).
    #[arg(long, value_enum, default_value_t = Format::Json)]
    format: Format,
    /// Write to FILE (atomically) instead of stdout.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

/// Says which declared objects are not in Stripe yet.
fn warn_missing(outputs: &Outputs, style: Style) {
    if !outputs.missing.is_empty() {
        style.warn(&format!(
            "not in Stripe yet, so left out: {} (run `billing apply`)",
            outputs.missing.join(", ")
        ));
    }
}

/// Writes `text`, the ids of `environment`, to `path` (atomically, making its directory),
/// and says so.
fn save(path: &Path, text: &str, environment: &str, style: Style) -> anyhow::Result<()> {
    crate::files::check_writable(path)?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create the directory {}", dir.display()))?;
    }
    crate::files::write_atomically(path, text)?;
    style.note(&format!(
        "wrote the ids of {environment} to {}",
        path.display()
    ));
    Ok(())
}

/// Writes `outputs` to `path` in the format its extension names, and says so.
pub(crate) fn write_file(outputs: &Outputs, path: &Path, style: Style) -> anyhow::Result<()> {
    let format = Format::from_path(path).unwrap_or(Format::Json);
    let text = output::render(outputs, format).map_err(anyhow::Error::msg)?;
    save(path, &text, &outputs.environment, style)
}

/// Reads the account again, after an apply, and writes the environment's outputs file.
pub(crate) async fn refresh(session: &Session, path: &Path, style: Style) -> anyhow::Result<()> {
    let live = crate::live::read(
        &session.connection.client,
        &crate::live::ReadScope::for_catalog(&session.catalog),
    )
    .await?;
    let outputs = output::collect(&session.catalog, &live, &session.origin());
    write_file(&outputs, path, style)
        .context("the apply completed, but the environment's ids could not be written")
}

pub(crate) async fn run(global: &GlobalArgs, args: &OutputArgs, style: Style) -> Result<u8> {
    let session = session::read(global).await?;
    let outputs = output::collect(&session.catalog, &session.live, &session.origin());
    let text = output::render(&outputs, args.format).map_err(Error::new)?;
    match &args.out {
        Some(path) => save(path, &text, &outputs.environment, style)?,
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes())?;
            out.flush()?;
        }
    }
    warn_missing(&outputs, style);
    Ok(EXIT_OK)
}
