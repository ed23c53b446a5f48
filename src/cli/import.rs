//! `billing import`: write a billing.toml for what an account already holds, so that billing
//! can take it over with a plan of adoptions.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;

use super::{EXIT_OK, Error, GlobalArgs, Result, session, validate};
use crate::catalog::{self, Catalog, EnvChoice, SourceFile};
use crate::environment;
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

/// The current catalog (for its environments, namespace and ignored metadata) and its text,
/// parsed (the import carries its settings over, and fits its entries to its environments).
///
/// Without billing.toml: the account of STRIPE_SECRET_KEY (at `--api-base`, or Stripe's API)
/// as a new environment, written into the imported file so that the next plan reads the same
/// account; without the key or the flag, the embedded sandbox.
fn current(global: &GlobalArgs) -> Result<(Catalog, toml::Table)> {
    if !global.config.exists() {
        if let Some(env) = &global.environment {
            return Err(Error::new(format!(
                "{} does not exist, so it declares no environment `{env}`: declare [environments.{env}] in it first, or use --api-base",
                global.config.display()
            )));
        }
        let mut settings = toml::Table::new();
        let mut selected = None;
        if let Some((name, table)) = environment::takeover(global.api_base.as_deref())? {
            let mut envs = toml::Table::new();
            envs.insert(name.clone(), toml::Value::Table(table));
            settings.insert("environments".into(), toml::Value::Table(envs));
            selected = Some(name);
        }
        let text = toml::to_string(&settings).context("cannot write the environment")?;
        let source = SourceFile::new(global.config.display().to_string(), text);
        let catalog =
            catalog::parse_for(&source, EnvChoice::Pick(selected.as_deref())).map_err(|_| {
                anyhow::anyhow!("the new environment does not validate (a bug in billing)")
            })?;
        return Ok((catalog, settings));
    }
    let catalog = validate::load(global, false)?;
    let text = std::fs::read_to_string(&global.config)
        .with_context(|| format!("cannot read {}", global.config.display()))?;
    let all: toml::Table = toml::from_str(&text)
        .with_context(|| format!("cannot read the settings of {}", global.config.display()))?;
    Ok((catalog, all))
}

/// The command that plans the imported file (`name`, holding `text`) against environment
/// `environment`, the one it was read from: `-c` when it is not billing.toml, `-e` when the
/// file would not choose that environment by itself.
fn next_command(global: &GlobalArgs, out: Option<&Path>, text: &str, environment: &str) -> String {
    let mut command = "billing".to_owned();
    if let Some(out) = out
        && out != global.config.as_path()
    {
        command.push_str(&format!(" -c {}", out.display()));
    }
    let file = SourceFile::new("billing.toml", text.to_owned());
    let chosen = catalog::parse_for(&file, EnvChoice::Pick(None)).ok();
    let declares = catalog::parse_for(&file, EnvChoice::Pick(Some(environment))).is_ok();
    if declares && chosen.is_none_or(|c| c.environment.as_deref() != Some(environment)) {
        command.push_str(&format!(" -e {environment}"));
    }
    command.push_str(" plan");
    command
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
    let (catalog, current) = current(global)?;
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
        .read_with(&live::ReadScope {
            all_product_features: true,
            meters: true,
            ..live::ReadScope::default()
        })
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
            option_tier_currencies,
            ..live::ReadScope::default()
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
    let text = imported.render(&origin, &current);
    let name = args
        .out
        .as_ref()
        .map_or("billing.toml".to_owned(), |p| p.display().to_string());
    if let Err(problems) = import::verify(&name, &text) {
        return Err(Error::new(format!(
            "the imported catalog does not pass billing's own validation, which is a bug in billing import; nothing was written:\n{problems}"
        )));
    }
    // What the plan will show, from the state just read, in the environment read: anything
    // but adoptions is said.
    let declared = current
        .get("environments")
        .and_then(toml::Value::as_table)
        .is_some_and(|envs| envs.contains_key(&origin.environment));
    let read_as = declared.then_some(origin.environment.as_str());
    if let Ok(imported_catalog) = catalog::load_bytes(
        name.clone(),
        text.as_bytes().to_vec(),
        EnvChoice::Pick(read_as),
    ) {
        imported.report.not_adoptions = import::review(&imported_catalog, &state);
    }
    imported.report.next_command = next_command(
        global,
        args.out.as_deref(),
        &text,
        read_as.unwrap_or(catalog::EMBEDDED),
    );
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
        "{} ({}, {} mode){}",
        origin.account,
        crate::catalog::called(&origin.environment),
        origin.mode,
        args.out
            .as_ref()
            .map(|p| format!(" into {}", p.display()))
            .unwrap_or_default()
    );
    // The report quotes what Stripe holds: shown as it is safe to print.
    let mut report = Vec::new();
    imported.report.render(&source, &mut report)?;
    super::style::chatter()
        .write_all(crate::visible::visible(&String::from_utf8_lossy(&report)).as_bytes())?;
    Ok(EXIT_OK)
}
