//! `billing validate`: load the catalog, report every problem, or say what it declares.

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

pub(crate) fn run(global: &GlobalArgs) -> Result<u8> {
    let catalog = load(global, true)?;
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
        for product in catalog.products.values() {
            writeln!(
                out,
                "  {}  \"{}\"",
                Address::product(&product.key),
                product.name
            )?;
            for price in product.prices.values() {
                let default = if product.default_price.as_deref() == Some(price.key.as_str()) {
                    "  (default)"
                } else {
                    ""
                };
                writeln!(
                    out,
                    "    {}  {}  lookup_key={}{default}",
                    Address::price(&product.key, &price.key),
                    price.amount_summary(),
                    price.lookup_key
                )?;
            }
        }
        for coupon in catalog.coupons.values() {
            writeln!(
                out,
                "  {}  {}, {}",
                Address::new(ResourceKind::Coupon, coupon.key.as_str()),
                coupon.discount.summary(),
                coupon.duration
            )?;
        }
        for code in catalog.promotion_codes.values() {
            writeln!(
                out,
                "  {}  code {} for {}",
                Address::new(ResourceKind::PromotionCode, code.key.as_str()),
                code.code,
                Address::new(ResourceKind::Coupon, code.coupon.as_str())
            )?;
        }
        for rate in catalog.tax_rates.values() {
            writeln!(
                out,
                "  {}  {:?} {}% {}",
                Address::new(ResourceKind::TaxRate, rate.key.as_str()),
                rate.display_name,
                rate.percentage.normalize(),
                if rate.inclusive {
                    "inclusive"
                } else {
                    "exclusive"
                }
            )?;
        }
        for r in catalog.tax.iter().flat_map(|t| &t.registrations) {
            writeln!(out, "  tax registration {}", r.label())?;
        }
        for portal in catalog.portals.values() {
            let target = if portal.account_default {
                "  (the account's default configuration)"
            } else {
                ""
            };
            writeln!(
                out,
                "  {}{target}",
                Address::new(ResourceKind::Portal, portal.key.as_str())
            )?;
        }
    }
    Ok(EXIT_OK)
}
