//! `billing validate`: load the catalog, report every problem, or say what it declares.

use std::collections::BTreeMap;
use std::io::Write;

use super::{EXIT_OK, GlobalArgs, Result};
use crate::catalog::{self, Catalog, EnvChoice};
use crate::resource::{Address, ResourceKind};

/// Loads the catalog named by `-c` for the environment `-e` selects (or, for `validate`
/// without `-e`, as every environment sees it); its problems, when it has any, are the error.
pub(crate) fn load(global: &GlobalArgs, every: bool) -> Result<Catalog> {
    let choice = match (&global.environment, every) {
        (None, true) => EnvChoice::All,
        (flag, _) => EnvChoice::Pick(flag.as_deref()),
    };
    Ok(catalog::load_for(&global.config, choice)?)
}

pub(crate) fn run(global: &GlobalArgs, style: super::Style) -> Result<u8> {
    let catalog = load(global, true)?;
    warn_of_dates(global, &catalog, style);
    let mut out = std::io::stdout().lock();
    // Products and prices always, the other kinds when declared (the settings are not an
    // entry one counts).
    let parts: Vec<String> = ResourceKind::ALL
        .into_iter()
        .filter(|kind| *kind != ResourceKind::TaxSettings)
        .map(|kind| (kind, catalog.count(kind)))
        .filter(|(kind, n)| *n > 0 || matches!(kind, ResourceKind::Product | ResourceKind::Price))
        .map(|(kind, n)| kind.count(n))
        .collect();
    writeln!(
        out,
        "{} is valid: {} (namespace \"{}\").",
        global.config.display(),
        parts.join(", "),
        catalog.namespace,
    )?;
    if global.verbose > 0 {
        // Every entry in the order of its kind, a price under its product.
        let entries = ResourceKind::ALL
            .into_iter()
            .flat_map(|k| catalog.summaries(k));
        let (nested, top): (Vec<_>, Vec<_>) = entries.partition(|(a, _)| a.parent().is_some());
        let mut children: BTreeMap<Address, Vec<(Address, String)>> = BTreeMap::new();
        for (address, summary) in nested {
            if let Some(parent) = address.parent() {
                children.entry(parent).or_default().push((address, summary));
            }
        }
        for (address, summary) in top {
            writeln!(out, "  {address}  {summary}")?;
            for (child, summary) in children.get(&address).into_iter().flatten() {
                writeln!(out, "    {child}  {summary}")?;
            }
        }
    }
    Ok(EXIT_OK)
}

/// Warns, on stderr, of each date Stripe would refuse on a new object (a coupon's `redeem_by`,
/// a code's `expires_at`: in the past, or more than five years ahead). Not an error: an object
/// that exists keeps its date, and `billing plan` refuses only to create one with it.
fn warn_of_dates(global: &GlobalArgs, catalog: &Catalog, style: super::Style) {
    let dates = catalog.creation_dates();
    if dates.is_empty() {
        return;
    }
    let Ok(bytes) = crate::files::read_capped(&global.config, catalog::MAX_CATALOG_BYTES) else {
        return;
    };
    let file = catalog::SourceFile::new(
        global.config.display().to_string(),
        String::from_utf8_lossy(&bytes).into_owned(),
    );
    let now = crate::timestamp::now();
    let mut warnings: Vec<catalog::Diagnostic> = dates
        .into_iter()
        .filter_map(|(address, field, at)| {
            let problem = crate::timestamp::creatable_date(at, now)?;
            let span = catalog::locate_field(&file, &address, field)
                .or_else(|| catalog::locate(&file, &address))
                .unwrap_or(0..0);
            Some(catalog::Diagnostic::new(span, format!("{address}: {field} {problem}"))
                .warning()
                .hint(format!(
                    "Stripe accepts `{field}` only between now and five years ahead, when it creates the {}: `billing plan` refuses to create it with this date (one that exists keeps it)",
                    address.kind().noun()
                )))
        })
        .collect();
    // In the order of the file.
    warnings.sort_by_key(|d| d.span.start);
    let mut err = super::style::chatter();
    for warning in warnings {
        let _ = err.write_all(warning.render(&file, style.color()).as_bytes());
    }
}
