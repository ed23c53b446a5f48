//! `billing validate`: load the catalog, report every problem, or say what it declares.

use std::io::Write;

use anyhow::Result;

use super::{EXIT_ERROR, EXIT_OK, GlobalArgs, Style};
use crate::catalog::{self, Catalog, EnvChoice, LoadError};

/// Loads the catalog named by `-c` for the environment `-e` selects (or, for `validate`
/// without `-e`, as every environment sees it), printing diagnostics on stderr; `None` when it
/// is not usable.
pub(crate) fn load(global: &GlobalArgs, style: Style, every: bool) -> Option<Catalog> {
    let choice = match (&global.environment, every) {
        (None, true) => EnvChoice::All,
        (flag, _) => EnvChoice::Pick(flag.as_deref()),
    };
    match catalog::load_for(&global.config, choice) {
        Ok(catalog) => Some(catalog),
        Err(LoadError::Invalid { file, diagnostics }) => {
            let _ = catalog::render_all(
                &file,
                &diagnostics,
                style.color(),
                &mut std::io::stderr().lock(),
            );
            None
        }
        Err(error @ LoadError::Read { .. }) => {
            style.error(&error.to_string());
            style.hint("run billing in the directory that holds billing.toml, or pass -c PATH");
            None
        }
        Err(error) => {
            style.error(&error.to_string());
            None
        }
    }
}

pub(crate) fn run(global: &GlobalArgs, style: Style) -> Result<u8> {
    let Some(catalog) = load(global, style, true) else {
        return Ok(EXIT_ERROR);
    };
    let mut out = std::io::stdout().lock();
    let count =
        |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let mut parts = vec![
        count(catalog.products.len(), "product", "products"),
        count(catalog.price_count(), "price", "prices"),
    ];
    if !catalog.coupons.is_empty() {
        parts.push(count(catalog.coupons.len(), "coupon", "coupons"));
    }
    if !catalog.promotion_codes.is_empty() {
        parts.push(count(
            catalog.promotion_codes.len(),
            "promotion code",
            "promotion codes",
        ));
    }
    let registrations = catalog.tax.as_ref().map_or(0, |t| t.registrations.len());
    for (n, one, many) in [
        (catalog.tax_rates.len(), "tax rate", "tax rates"),
        (registrations, "tax registration", "tax registrations"),
        (
            catalog.portals.len(),
            "portal configuration",
            "portal configurations",
        ),
    ] {
        if n > 0 {
            parts.push(count(n, one, many));
        }
    }
    writeln!(
        out,
        "{} is valid: {} (namespace \"{}\").",
        global.config.display(),
        parts.join(", "),
        catalog.namespace,
    )?;
    if global.verbose > 0 {
        for product in catalog.products.values() {
            writeln!(out, "  products.{}  \"{}\"", product.key, product.name)?;
            for price in product.prices.values() {
                let default = if product.default_price.as_deref() == Some(price.key.as_str()) {
                    "  (default)"
                } else {
                    ""
                };
                writeln!(
                    out,
                    "    prices.{}.{}  {}  lookup_key={}{default}",
                    product.key,
                    price.key,
                    price.amount_summary(),
                    price.lookup_key
                )?;
            }
        }
        for coupon in catalog.coupons.values() {
            writeln!(
                out,
                "  coupons.{}  {}, {}",
                coupon.key,
                coupon.discount.summary(),
                coupon.duration
            )?;
        }
        for code in catalog.promotion_codes.values() {
            writeln!(
                out,
                "  promotion_codes.{}  code {} for coupons.{}",
                code.key, code.code, code.coupon
            )?;
        }
        for rate in catalog.tax_rates.values() {
            writeln!(
                out,
                "  tax_rates.{}  {:?} {}% {}",
                rate.key,
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
            writeln!(out, "  portals.{}{target}", portal.key)?;
        }
    }
    Ok(EXIT_OK)
}
