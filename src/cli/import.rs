//! `billing import`: write a billing.toml for what an account already holds, so that billing
//! can take it over with a plan of adoptions.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;

use super::{EXIT_OK, Error, GlobalArgs, Result, session, validate};
use crate::catalog::{self, Catalog, EnvChoice, SourceFile};
use crate::import;
use crate::live;

/// Options of `billing import`.
#[derive(Debug, Args)]
pub(super) struct ImportArgs {
    /// Write the catalog to FILE (atomically) instead of stdout. Refused when FILE exists,
    /// unless --force.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Replace the --out file when it exists.
    #[arg(long, requires = "out")]
    force: bool,
    /// Also write archived products, inactive promotion codes and inactive tax rates, with
    /// `active = false` (archived prices cannot be declared).
    #[arg(long)]
    include_archived: bool,
}

/// Top-level settings of the current billing.toml that are not catalog entries: carried into
/// the imported file, so that it plans against the same environment and namespace.
const CARRIED: &[&str] = &[
    "namespace",
    "default_environment",
    "ignore_metadata",
    "environments",
];

/// The current catalog (for its environments, namespace and ignored metadata) and its
/// settings; an empty one when the file does not exist.
fn current(global: &GlobalArgs) -> Result<(Catalog, toml::Table)> {
    if !global.config.exists() {
        if let Some(env) = &global.environment {
            return Err(Error::new(format!(
                "{} does not exist, so it declares no environment `{env}`: declare [environments.{env}] in it first, or use --api-base",
                global.config.display()
            )));
        }
        let empty = SourceFile::new(global.config.display().to_string(), String::new());
        let catalog = catalog::parse_for(&empty, EnvChoice::Pick(None)).map_err(|_| {
            anyhow::anyhow!("an empty catalog does not validate (a bug in billing)")
        })?;
        return Ok((catalog, toml::Table::new()));
    }
    let catalog = validate::load(global, false)?;
    let text = std::fs::read_to_string(&global.config)
        .with_context(|| format!("cannot read {}", global.config.display()))?;
    let all: toml::Table = toml::from_str(&text)
        .with_context(|| format!("cannot read the settings of {}", global.config.display()))?;
    let settings = all
        .into_iter()
        .filter(|(k, _)| CARRIED.contains(&k.as_str()))
        .collect();
    Ok((catalog, settings))
}

pub(crate) async fn run(global: &GlobalArgs, args: &ImportArgs) -> Result<u8> {
    let refuse_existing = |path: &PathBuf| {
        Error::new(format!(
            "{} already exists: nothing was read or written",
            path.display()
        ))
        .hint("pass --force to replace it, or choose another file with --out")
    };
    // Anything at the path counts, a dangling link too; and what is not a regular file is
    // refused even with --force, before anything is read.
    let exists = |path: &PathBuf| std::fs::symlink_metadata(path).is_ok();
    if let Some(path) = &args.out {
        if exists(path) && !args.force {
            return Err(refuse_existing(path));
        }
        crate::files::check_writable(path)?;
    }
    let (catalog, settings) = current(global)?;
    let options = import::Options {
        namespace: catalog.namespace.clone(),
        ignore_metadata: catalog.ignore_metadata.clone(),
        include_archived: args.include_archived,
        environment: catalog.environment.clone(),
    };
    let session::Session {
        connection,
        live: mut state,
        ..
    } = session::connect(global, catalog)
        .await?
        .read_with(&live::ReadScope::default())
        .await?;
    let client = &connection.client;
    // Stripe includes a currency option's tiers only when asked per currency: once the tiered
    // prices are known, their prices are read again with those currencies expanded.
    let option_tier_currencies: BTreeSet<String> = state
        .prices
        .iter()
        .filter(|p| p.billing_scheme == "tiered")
        .flat_map(|p| p.currency_options.keys().cloned())
        .collect();
    if !option_tier_currencies.is_empty() {
        let scope = live::ReadScope {
            tax: false,
            option_tier_currencies,
        };
        state.prices = live::prices(client, &scope)
            .await
            .context("cannot read the tiers of the prices' currency options")?;
    }
    // Stripe Tax apart: a key without access to it still imports everything else.
    let mut tax_note = None;
    match tokio::try_join!(live::tax_settings(client), live::tax_registrations(client)) {
        Ok((settings, registrations)) => {
            state.tax_settings = Some(settings);
            state.tax_registrations = registrations;
        }
        Err(e) => {
            tax_note = Some(format!(
                "Stripe Tax settings and registrations could not be read ({e}): [tax] is left out"
            ));
        }
    }
    let mut imported = import::import(&state, &options);
    imported.report.notes.extend(tax_note);
    let origin = import::Origin {
        account: state.account.id.clone(),
        account_name: state.account.name.clone(),
        environment: connection.environment.clone(),
        mode: connection.mode.to_string(),
        now: state.now,
    };
    let text = imported.render(&origin, &settings);
    let name = args
        .out
        .as_ref()
        .map_or("billing.toml".to_owned(), |p| p.display().to_string());
    if let Err(problems) = import::verify(&name, &text) {
        return Err(Error::new(format!(
            "the imported catalog does not pass billing's own validation, which is a bug in billing import; nothing was written:\n{problems}"
        )));
    }
    // What the plan will show, from the state just read: anything but adoptions is said.
    if let Ok(imported_catalog) = catalog::load_bytes(
        name.clone(),
        text.as_bytes().to_vec(),
        EnvChoice::Pick(global.environment.as_deref()),
    ) {
        imported.report.not_adoptions = import::review(&imported_catalog, &state);
    }
    match &args.out {
        Some(path) => {
            if exists(path) && !args.force {
                return Err(refuse_existing(path));
            }
            crate::files::write_atomically(path, &text)?;
        }
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes())?;
            out.flush()?;
        }
    }
    let source = format!(
        "{} (environment `{}`, {} mode){}",
        origin.account,
        origin.environment,
        origin.mode,
        args.out
            .as_ref()
            .map(|p| format!(" into {}", p.display()))
            .unwrap_or_default()
    );
    // The report quotes what Stripe holds: shown as it is safe to print.
    let mut report = Vec::new();
    imported.report.render(&source, &mut report)?;
    std::io::stderr()
        .lock()
        .write_all(crate::visible::visible(&String::from_utf8_lossy(&report)).as_bytes())?;
    Ok(EXIT_OK)
}
