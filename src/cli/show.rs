//! `billing show PLAN`: print a saved plan file, and say whether it verifies; no network
//! access.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Args;

use super::{EXIT_OK, GlobalArgs, PlanFormat, Result, Style};
use crate::catalog::{self, EnvChoice};
use crate::document::{LoadError, PlanDocument, PlanKey};
use crate::environment;

/// Options of `billing show`.
#[derive(Debug, Args)]
pub(super) struct ShowArgs {
    /// A plan file written by `billing plan --out`. Its MAC is checked with the key of the
    /// environment billing.toml and -e select, as `billing apply` would; without that key, it
    /// is shown as unverified.
    #[arg(value_name = "PLAN_FILE")]
    plan: PathBuf,
    /// How to print it.
    #[arg(long, value_enum, default_value_t = PlanFormat::Text)]
    format: PlanFormat,
}

/// The environment `billing apply` would apply to, and its plan key, found without starting or
/// sending anything; or why there is none.
fn plan_key(global: &GlobalArgs) -> std::result::Result<(String, PlanKey), String> {
    let catalog = catalog::load_for(
        &global.config,
        EnvChoice::Pick(global.environment.as_deref()),
    )
    .map_err(|e| e.to_string())?;
    let target = environment::target(&global.config, &catalog, global.api_base.as_deref())
        .map_err(|e| e.to_string())?;
    let key = target.plan_key();
    Ok((target.environment, key))
}

/// What can be said of the plan file at `path` (holding `text`): the document, and whether it
/// verifies, as a note or a warning.
fn check(global: &GlobalArgs, path: &Path, text: &str) -> Result<(PlanDocument, Verdict)> {
    let (environment, key) = match plan_key(global) {
        Ok(found) => found,
        Err(why) => {
            let doc = PlanDocument::parse(path, text)?;
            return Ok((doc, Verdict::Unverified(why)));
        }
    };
    match PlanDocument::parse_verified(path, text, &key) {
        Ok(doc) => Ok((doc, Verdict::Verified(environment))),
        Err(LoadError::Unverified { reason, .. }) => {
            let doc = PlanDocument::parse(path, text)?;
            let why = if doc.origin.environment == environment {
                format!(
                    "it does not verify with the key of {}: {reason}",
                    catalog::called(&environment)
                )
            } else {
                format!(
                    "it was made for {}, and billing.toml and the flags select {}",
                    catalog::called(&doc.origin.environment),
                    catalog::called(&environment)
                )
            };
            Ok((doc, Verdict::Unverified(why)))
        }
        Err(other) => Err(other.into()),
    }
}

/// Whether a shown plan is the one `billing plan` wrote.
enum Verdict {
    /// Its MAC verifies with this environment's key.
    Verified(String),
    /// It could not be checked, or does not verify: why.
    Unverified(String),
}

pub(crate) fn run(global: &GlobalArgs, args: &ShowArgs, style: Style) -> Result<u8> {
    let path = &args.plan;
    let text = PlanDocument::read(path)?;
    let (doc, verdict) = check(global, path, &text)?;
    let mut out = std::io::stdout().lock();
    super::write_plan(&doc, args.format, style.stdout_color(), &mut out)?;
    out.flush()?;
    drop(out);
    match verdict {
        Verdict::Verified(environment) => style.note(&format!(
            "{} verifies with the key of {}: it is the plan `billing plan` wrote",
            path.display(),
            catalog::called(&environment)
        )),
        Verdict::Unverified(why) => style.warn(&format!(
            "{} is unverified: {why}; what it shows may have been changed since `billing plan` wrote it (`billing apply` refuses a plan file that does not verify with the environment's key)",
            path.display()
        )),
    }
    Ok(EXIT_OK)
}
