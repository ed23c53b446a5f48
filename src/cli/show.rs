//! `billing show PLAN`: print a saved plan file; no network access.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;

use super::{EXIT_OK, PlanFormat, Result, Style};
use crate::document::PlanDocument;

/// Options of `billing show`.
#[derive(Debug, Args)]
pub(super) struct ShowArgs {
    /// A plan file written by `billing plan --out`.
    #[arg(value_name = "PLAN_FILE")]
    plan: PathBuf,
    /// How to print it.
    #[arg(long, value_enum, default_value_t = PlanFormat::Text)]
    format: PlanFormat,
}

pub(crate) fn run(args: &ShowArgs, style: Style) -> Result<u8> {
    let doc = PlanDocument::load(&args.plan)?;
    let mut out = std::io::stdout().lock();
    super::write_plan(&doc, args.format, style.stdout_color(), &mut out)?;
    out.flush()?;
    Ok(EXIT_OK)
}
