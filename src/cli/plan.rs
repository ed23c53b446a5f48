//! `billing plan`: show what apply would change, with an exit code that can say so, and save
//! the plan for `billing apply PLAN`.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;

use super::{EXIT_CHANGES, EXIT_OK, GlobalArgs, PlanFormat, Result, Style, session};
use crate::document::PlanDocument;

/// Options of `billing plan`.
#[derive(Debug, Args)]
pub(super) struct PlanArgs {
    /// Exit 0 when there are no changes, 2 when there are (1 on error).
    #[arg(long)]
    detailed_exitcode: bool,
    /// Also write the plan to FILE (JSON, docs/plan-json.md), for `billing apply FILE`.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Record in the saved plan that it may archive or delete what left billing.toml, in a
    /// live environment too (`billing apply PLAN` then needs no --allow-destroy).
    #[arg(long)]
    allow_destroy: bool,
    /// How to print the plan: text for people, markdown for a pull-request comment, json for
    /// programs.
    #[arg(long, value_enum, default_value_t = PlanFormat::Text)]
    format: PlanFormat,
    /// Plan a new object in place of the one at ADDRESS even though nothing forces it
    /// (webhooks.app rotates its signing secret; prices and tax rates too). Repeatable.
    #[arg(long, value_name = "ADDRESS")]
    replace: Vec<String>,
}

pub(crate) async fn run(global: &GlobalArgs, args: &PlanArgs, style: Style) -> Result<u8> {
    let session = session::read(global).await?;
    // Sealed whatever the format: `plan --format json > FILE` is a plan file too.
    let doc: PlanDocument = session
        .plan_with(None, &args.replace)?
        .with_allow_destroy(args.allow_destroy)
        .sealed(&session.connection.plan_key);
    if let Some(path) = &args.out {
        crate::files::write_atomically(path, &doc.to_json())?;
    }
    let mut out = std::io::stdout().lock();
    super::write_plan(&doc, args.format, style.stdout_color(), &mut out)?;
    out.flush()?;
    drop(out);
    if let Some(path) = &args.out {
        if doc.is_empty() {
            style.note(&format!(
                "saved the plan to {}: it changes nothing",
                path.display()
            ));
        } else {
            style.note(&format!(
                "saved the plan to {}: `billing apply {}` applies exactly this plan, and refuses if Stripe or billing.toml changed meanwhile",
                path.display(),
                path.display()
            ));
        }
    }
    Ok(if args.detailed_exitcode && !doc.is_empty() {
        EXIT_CHANGES
    } else {
        EXIT_OK
    })
}
