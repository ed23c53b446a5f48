//! What `plan` and `apply` share: load the catalog, connect, read live state, compute the plan.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result};

use super::{GlobalArgs, validate};
use crate::catalog::{Catalog, Diagnostic, SourceFile};
use crate::document::{Origin, PlanDocument};
use crate::environment::{self, Connection};
use crate::live::{self, LiveState};
use crate::plan::{self, Action};
use crate::resource::{Address, ResourceKind};
use crate::stripe::{Exchange, Observer};

/// The catalog file's name, looked for when `-c` is not given.
pub(super) const CATALOG_FILE: &str = "billing.toml";

/// Where the catalog is when `-c` is not given: `billing.toml` in `start` or the nearest
/// directory above it that holds one, as cargo finds Cargo.toml. The search stops at the root
/// of the git repository `start` is in (a directory holding `.git`), else at the filesystem
/// root. The path is relative to `start` (`../../billing.toml`), as messages show it; `None`
/// when there is none (commands then report `billing.toml` missing here).
pub(super) fn discover(start: &std::path::Path) -> Option<std::path::PathBuf> {
    let mut relative = std::path::PathBuf::new();
    for dir in start.ancestors() {
        let candidate = dir.join(CATALOG_FILE);
        if candidate.is_file() {
            return Some(relative.join(CATALOG_FILE));
        }
        if dir.join(".git").exists() {
            return None;
        }
        relative.push("..");
    }
    None
}

/// A catalog, a connection to its account, and what the account holds.
pub(crate) struct Session {
    pub connection: Connection,
    pub catalog: Catalog,
    pub live: LiveState,
    verbose: u8,
    /// The catalog's file, for the places of problems found while planning.
    config: PathBuf,
}

impl Session {
    /// Where plans made in this session apply.
    pub(super) fn origin(&self) -> Origin {
        Origin {
            environment: self.connection.environment.clone(),
            account: self.live.account.id.clone(),
            mode: self.connection.mode,
        }
    }

    /// The plan that makes the account match the catalog, replacing the objects at the
    /// addresses of `--replace` (`replace`) even where nothing forces it; or, with `forget`,
    /// the plan that only removes billing's marker from the objects at those addresses
    /// (`billing forget`).
    pub(super) fn plan_with(
        &self,
        forget: Option<&std::collections::BTreeSet<String>>,
        replace: &[String],
    ) -> super::Result<PlanDocument> {
        let started = Instant::now();
        let replace = plan::check_replace(&self.catalog, replace).map_err(super::Error::new)?;
        let plan = match forget {
            None => plan::plan_replacing(&self.catalog, &self.live, &replace),
            Some(addresses) => plan::forget(&self.catalog, &self.live, addresses),
        }
        .map_err(|e| super::Error::planning(e, &self.config))?;
        let mut doc = PlanDocument::new(&plan, &self.catalog, &self.live, self.origin());
        doc.replace = replace.into_iter().collect();
        self.check_customers(&doc)?;
        if self.verbose > 0 {
            let _ = writeln!(
                std::io::stderr(),
                "Planned {} changes in {} steps (diff and dependency graph) in {} ms.",
                doc.resource_changes.len(),
                doc.operations.len(),
                started.elapsed().as_millis()
            );
        }
        Ok(doc)
    }
}

impl Session {
    /// Refuses a plan that creates promotion codes for customers the account does not have
    /// (Stripe would refuse each), pointing at each code's `customer` in the catalog.
    fn check_customers(&self, doc: &PlanDocument) -> super::Result<()> {
        let missing = &self.live.missing_customers;
        if missing.is_empty() {
            return Ok(());
        }
        let refused: Vec<(String, String)> = doc
            .resource_changes
            .iter()
            .filter(|c| c.kind == ResourceKind::PromotionCode)
            .filter(|c| matches!(c.action, Action::Create | Action::Replace))
            .filter_map(|c| {
                let address: Address = c.address.parse().ok()?;
                let code = self.catalog.promotion_codes.get(address.key())?;
                let customer = code.customer.as_ref().filter(|id| missing.contains(*id))?;
                Some((code.key.clone(), customer.clone()))
            })
            .collect();
        if refused.is_empty() {
            return Ok(());
        }
        let text = crate::files::read_capped(&self.config, crate::catalog::MAX_CATALOG_BYTES)
            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
            .unwrap_or_default();
        let file = SourceFile::new(self.config.display().to_string(), text);
        let spans = crate::catalog::customer_spans(&file, self.catalog.environment.as_deref());
        let account = &self.live.account.id;
        let diagnostics = refused
            .into_iter()
            .map(|(key, customer)| {
                let span = spans.get(&key).cloned().unwrap_or(0..0);
                Diagnostic::new(
                    span,
                    format!(
                        "promotion code `{key}` is for customer {customer}, which account {account} does not have: Stripe would refuse to create it"
                    ),
                )
                .label(format!("no such customer in {account}"))
                .hint(format!(
                    "create the customer in {account} first, or change or remove `customer` (customer ids differ between accounts, and between test and live mode)"
                ))
            })
            .collect();
        Err(super::Error::located(file, diagnostics))
    }
}

/// With `-v`, one line per HTTP exchange on stderr.
fn observer(verbose: u8) -> Option<Observer> {
    (verbose > 0).then(|| {
        Arc::new(|e: &Exchange| {
            let status = e.status.map_or("no answer".to_owned(), |s| s.to_string());
            let retry = if e.attempt > 1 {
                format!(" (attempt {})", e.attempt)
            } else {
                String::new()
            };
            let _ = writeln!(
                std::io::stderr(),
                "  {} {} → {status} in {} ms{retry}",
                e.method,
                e.path,
                e.elapsed.as_millis()
            );
        }) as Observer
    })
}

/// A catalog and a connection to its environment, guarded, before anything else is read.
pub(crate) struct Opened {
    pub connection: Connection,
    pub catalog: Catalog,
    verbose: u8,
    config: PathBuf,
}

/// Loads and connects, checking the guards (the key's mode, then the account).
pub(crate) async fn open(global: &GlobalArgs) -> super::Result<Opened> {
    Ok(open_unguarded(global)?.guard().await?)
}

/// Loads and connects, checking the key's mode but not yet the account: nothing is sent.
pub(crate) fn open_unguarded(global: &GlobalArgs) -> super::Result<Opened> {
    let started = Instant::now();
    let catalog = validate::load(global, false)?;
    if global.verbose > 0 {
        let peak = crate::memory::peak_mb()
            .map(|mb| format!(" (peak memory so far {mb:.1} MB)"))
            .unwrap_or_default();
        let _ = writeln!(
            std::io::stderr(),
            "Loaded {} in {} ms{peak}.",
            global.config.display(),
            started.elapsed().as_millis()
        );
    }
    Ok(connect_unguarded(global, catalog)?)
}

/// Connects to the environment `catalog` was resolved for, checking the guards (the key's
/// mode, then the account) before anything else is read.
pub(crate) async fn connect(global: &GlobalArgs, catalog: Catalog) -> Result<Opened> {
    connect_unguarded(global, catalog)?.guard().await
}

/// Connects to the environment `catalog` was resolved for, checking the key's mode: nothing
/// is sent yet.
fn connect_unguarded(global: &GlobalArgs, catalog: Catalog) -> Result<Opened> {
    let tuning = environment::Tuning {
        observer: observer(global.verbose),
        rate: global.rate,
        endpoint_rate: global.endpoint_rate,
    };
    let connection = environment::connect(
        &global.config,
        &catalog,
        global.api_base.as_deref(),
        &tuning,
    )?;
    // Which account a run reads is never left to guess.
    if let Some(warning) = &connection.warning {
        super::Style::detect(global.no_color).warn(warning);
    }
    let _ = writeln!(super::style::chatter(), "Reading {}.", connection.reading);
    Ok(Opened {
        connection,
        catalog,
        verbose: global.verbose,
        config: global.config.clone(),
    })
}

impl Opened {
    /// The account guard, before anything else is read: the key must belong to the account
    /// billing.toml names for the environment, when it names one.
    pub(crate) async fn guard(self) -> Result<Self> {
        if let Some(expected) = &self.connection.expected_account {
            let account = live::account(&self.connection.client)
                .await
                .with_context(|| {
                    format!(
                        "cannot read the account of {}",
                        environment::called(&self.connection.environment)
                    )
                })?;
            if &account.id != expected {
                anyhow::bail!(
                    "environment `{}` must be account {expected}, but the key belongs to {}: refusing to plan or apply",
                    self.connection.environment,
                    account.id
                );
            }
        }
        Ok(self)
    }

    /// Reads the account's state, as the catalog needs it.
    pub(crate) async fn read(self) -> Result<Session> {
        let scope = live::ReadScope::for_catalog(&self.catalog);
        self.read_with(&scope).await
    }

    /// Reads the account's state with `scope`.
    pub(crate) async fn read_with(self, scope: &live::ReadScope) -> Result<Session> {
        let Opened {
            connection,
            catalog,
            verbose,
            config,
        } = self;
        let started = Instant::now();
        let (live, stats) = live::read_counted(&connection.client, scope)
            .await
            .with_context(|| {
                format!(
                    "cannot read the Stripe state of {}",
                    environment::called(&connection.environment)
                )
            })?;
        if verbose > 0 {
            let lists = stats.total();
            let _ = writeln!(
                std::io::stderr(),
                "Read {} products and {} prices from {} in {} ms ({} list pages, {} split off by `created`).",
                live.products.len(),
                live.prices.len(),
                live.account.id,
                started.elapsed().as_millis(),
                lists.requests,
                lists.splits
            );
        }
        Ok(Session {
            connection,
            catalog,
            live,
            verbose,
            config,
        })
    }
}

/// Loads, connects and reads.
pub(crate) async fn read(global: &GlobalArgs) -> super::Result<Session> {
    Ok(open(global).await?.read().await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalog_is_found_above_and_not_past_a_repository_root() {
        let dir = tempfile::tempdir().unwrap();
        let deep = dir.path().join("a/b/c");
        std::fs::create_dir_all(&deep).unwrap();
        assert_eq!(discover(&deep), None);
        std::fs::write(dir.path().join("a").join(CATALOG_FILE), "").unwrap();
        assert_eq!(
            discover(&deep),
            Some(std::path::PathBuf::from("../../billing.toml"))
        );
        std::fs::write(deep.join(CATALOG_FILE), "").unwrap();
        assert_eq!(
            discover(&deep),
            Some(std::path::PathBuf::from("billing.toml"))
        );
        std::fs::remove_file(deep.join(CATALOG_FILE)).unwrap();
        std::fs::create_dir(dir.path().join("a/b/.git")).unwrap();
        assert_eq!(discover(&deep), None);
    }
}
