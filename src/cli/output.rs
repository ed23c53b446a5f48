//! `billing output`: the Stripe id of every object billing.toml declares, in one environment,
//! for the application to read.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;

use super::session::{self, Session};
use super::{EXIT_OK, Error, GlobalArgs, Result, Style};
use crate::catalog::Catalog;
use crate::output::{self, FileFormat, Format, Outputs};

/// Options of `billing output`.
#[derive(Debug, Args)]
pub(super) struct OutputArgs {
    /// json or toml (nested by kind and key), ts (a module exporting it `as const`), env
    /// (BILLING_PRICE_<PRODUCT>__<PRICE>=price_… lines). Default: json on stdout; with --out,
    /// the format the file's extension names (.json, .toml, .ts, .env), as for `outputs`, and
    /// --format only for a file named otherwise (one that contradicts the extension is an
    /// error).
    #[arg(long, value_enum)]
    format: Option<Format>,
    /// Write to FILE (atomically, making its directory) instead of stdout, in the format its
    /// extension names.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

/// The format to write in: `--format`, else the one `--out`'s extension names, else json; an
/// error naming the flags when they disagree or the extension names no format.
fn format(args: &OutputArgs) -> Result<Format> {
    let Some(path) = &args.out else {
        return Ok(args.format.unwrap_or(Format::Json));
    };
    let formats = "json, toml, ts or env";
    Format::for_file(path, args.format).map_err(|problem| match (problem, args.format) {
        (FileFormat::Contradicts(named), Some(given)) => Error::new(format!(
            "--format {} contradicts --out {}, whose extension names {}",
            given.name(),
            path.display(),
            named.name()
        ))
        .hint(
            "leave out --format (the extension decides), or name the file for the format you want",
        ),
        _ => Error::new(format!(
            "--out {}: its extension names no format billing writes (.json, .toml, .ts, .env)",
            path.display()
        ))
        .hint(format!(
            "name the file for its format (ids.ts, .env, …), or pass --format {formats}"
        )),
    })
}

/// Says which declared objects are not in Stripe yet, and which cannot be used.
fn warn_left_out(outputs: &Outputs, style: Style) {
    if !outputs.missing.is_empty() {
        style.warn(&format!(
            "not in Stripe yet, so left out: {} (run `billing apply`)",
            outputs.missing.join(", ")
        ));
    }
    if !outputs.inactive.is_empty() {
        style.warn(&format!(
            "inactive in Stripe, so left out (it cannot be used): {}",
            outputs.inactive.join(", ")
        ));
    }
}

/// The error of an outputs without a single id: nothing is written, as an application that
/// reads the file expects ids.
fn no_ids(outputs: &Outputs, catalog: &Catalog) -> Error {
    let environment = &outputs.environment;
    // `-e` only names an environment billing.toml declares.
    let apply = if catalog.environments.contains_key(environment) {
        format!("billing apply -e {environment}")
    } else {
        "billing apply".to_owned()
    };
    if outputs.missing.is_empty() && outputs.inactive.is_empty() {
        return Error::new(format!(
            "billing.toml declares nothing for {}: there are no ids to write, and nothing was written",
            crate::catalog::called(environment)
        ));
    }
    Error::new(format!(
        "nothing billing.toml declares is usable in Stripe yet ({}, account {}): there are no ids to write, and nothing was written",
        crate::catalog::called(environment),
        outputs.account
    ))
    .hint(format!(
        "run `{apply}` first, or pass -e with the environment you meant"
    ))
}

/// Writes `text`, the ids of `environment`, to `path` (atomically, making its directory),
/// and says so.
fn save(path: &Path, text: &str, environment: &str, style: Style) -> anyhow::Result<()> {
    crate::files::write_atomically(path, text)?;
    style.note(&format!(
        "wrote the ids of {environment} to {}",
        path.display()
    ));
    Ok(())
}

/// Writes `outputs` to the environment's `outputs` file at `path`, in the format its extension
/// names, and says so.
fn write_outputs(outputs: &Outputs, path: &Path, style: Style) -> anyhow::Result<()> {
    let format = Format::for_file(path, None).map_err(|_| {
        anyhow::anyhow!(
            "cannot write {}: its extension names no format",
            path.display()
        )
    })?;
    let text = output::render(outputs, format).map_err(anyhow::Error::msg)?;
    save(path, &text, &outputs.environment, style)
}

/// How to write the `outputs` file again once what stopped it is fixed.
fn rewrite_hint(environment: &str, path: &Path) -> String {
    format!(
        "once that is fixed, `billing output -e {environment} --out {}` writes the file",
        path.display()
    )
}

/// Writes the environment's `outputs` file after an apply with nothing to change; an error
/// says how to write it again.
pub(crate) fn write_file(outputs: &Outputs, path: &Path, style: Style) -> Result<()> {
    write_outputs(outputs, path, style)
        .map_err(|e| Error::from(e).hint(rewrite_hint(&outputs.environment, path)))
}

/// Reads the account again, after an apply that changed Stripe, and writes the environment's
/// outputs file; an error says that Stripe was changed all the same, and how to write the file.
pub(crate) async fn refresh(session: &Session, path: &Path, style: Style) -> Result<()> {
    let environment = &session.connection.environment;
    let written = async {
        let live = crate::live::read(
            &session.connection.client,
            &crate::live::ReadScope::for_catalog(&session.catalog),
        )
        .await
        .context("cannot read the account again")?;
        let outputs = output::collect(&session.catalog, &live, &session.origin());
        write_outputs(&outputs, path, style)
    };
    written.await.map_err(|e| {
        Error::new(format!(
            "the apply completed and Stripe was changed, but the ids of {environment} could not be written: {e:#}"
        ))
        .hint(rewrite_hint(environment, path))
    })
}

pub(crate) async fn run(global: &GlobalArgs, args: &OutputArgs, style: Style) -> Result<u8> {
    // The flags are checked before anything is read: what is at the path first.
    if let Some(path) = &args.out {
        crate::files::check_writable(path)?;
    }
    let format = format(args)?;
    let session = session::read(global).await?;
    let outputs = output::collect(&session.catalog, &session.live, &session.origin());
    warn_left_out(&outputs, style);
    if !outputs.has_ids() {
        return Err(no_ids(&outputs, &session.catalog));
    }
    let text = output::render(&outputs, format).map_err(Error::new)?;
    match &args.out {
        Some(path) => save(path, &text, &outputs.environment, style)?,
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes())?;
            out.flush()?;
        }
    }
    Ok(EXIT_OK)
}
