//! `billing plan`: show what apply would change, with an exit code that can say so.

use std::io::Write;

use anyhow::Result;
use clap::Args;

use super::{EXIT_CHANGES, EXIT_ERROR, EXIT_OK, GlobalArgs, Style, session};
use crate::render;

/// Options of `billing plan`.
#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Exit 0 when there are no changes, 2 when there are (1 on error).
    #[arg(long)]
    detailed_exitcode: bool,
}

pub(crate) async fn run(global: &GlobalArgs, args: &PlanArgs, style: Style) -> Result<u8> {
    let Some(session) = session::prepare(global, style).await? else {
        return Ok(EXIT_ERROR);
    };
    let mut out = std::io::stdout().lock();
    render::render_plan(
        &session.plan,
        &session.target,
        style.stdout_color(),
        &mut out,
    )?;
    out.flush()?;
    Ok(if args.detailed_exitcode && !session.plan.is_empty() {
        EXIT_CHANGES
    } else {
        EXIT_OK
    })
}
