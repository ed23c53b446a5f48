//! What `plan` and `apply` share: load the catalog, connect, read live state, compute the plan.

use std::io::Write;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result};

use super::{GlobalArgs, validate};
use crate::catalog::Catalog;
use crate::document::{Origin, PlanDocument};
use crate::environment::{self, Connection};
use crate::live::{self, LiveState};
use crate::plan;
use crate::stripe::{Exchange, Observer};

/// A catalog, a connection to its account, and what the account holds.
pub(crate) struct Session {
    pub connection: Connection,
    pub catalog: Catalog,
    pub live: LiveState,
    verbose: u8,
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
    ) -> Result<PlanDocument> {
        let started = Instant::now();
        let replace = plan::check_replace(&self.catalog, replace).map_err(anyhow::Error::msg)?;
        let plan = match forget {
            None => plan::plan_replacing(&self.catalog, &self.live, &replace)?,
            Some(addresses) => plan::forget(&self.catalog, &self.live, addresses)?,
        };
        let mut doc = PlanDocument::new(&plan, &self.catalog, &self.live, self.origin());
        doc.replace = replace.into_iter().collect();
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
        let _ = writeln!(
            std::io::stderr(),
            "Loaded {} in {} ms.",
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
    Ok(Opened {
        connection,
        catalog,
        verbose: global.verbose,
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
                    format!("cannot read the account of {}", self.connection.environment)
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
        } = self;
        let started = Instant::now();
        let (live, stats) = live::read_counted(&connection.client, scope)
            .await
            .with_context(|| {
                format!("cannot read the Stripe state of {}", connection.environment)
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
        })
    }
}

/// Loads, connects and reads.
pub(crate) async fn read(global: &GlobalArgs) -> super::Result<Session> {
    Ok(open(global).await?.read().await?)
}
