//! `billing output`: the Stripe id of every object billing.toml declares, in one environment,
//! for the application to read.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Result;
use clap::Args;

use super::{EXIT_ERROR, EXIT_OK, GlobalArgs, Style, session};
use crate::output::{self, Format, Outputs};

/// Options of `billing output`.
#[derive(Debug, Args)]
pub struct OutputArgs {
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

/// Writes `outputs` to `path` in the format its extension names.
pub(crate) fn write_file(outputs: &Outputs, path: &Path) -> Result<()> {
    let format = Format::from_path(path).unwrap_or(Format::Json);
    let text = output::render(outputs, format).map_err(anyhow::Error::msg)?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    super::plan::write_atomically(path, &text)
}

pub(crate) async fn run(global: &GlobalArgs, args: &OutputArgs, style: Style) -> Result<u8> {
    let Some(session) = session::read(global, style).await? else {
        return Ok(EXIT_ERROR);
    };
    let outputs = output::collect(&session.catalog, &session.live, &session.origin());
    let text = match output::render(&outputs, args.format) {
        Ok(text) => text,
        Err(e) => {
            style.error(&e);
            return Ok(EXIT_ERROR);
        }
    };
    match &args.out {
        Some(path) => {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)?;
            }
            super::plan::write_atomically(path, &text)?;
            style.note(&format!(
                "wrote the ids of {} to {}",
                outputs.environment,
                path.display()
            ));
        }
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes())?;
            out.flush()?;
        }
    }
    warn_missing(&outputs, style);
    Ok(EXIT_OK)
}
