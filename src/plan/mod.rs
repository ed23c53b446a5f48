//! The plan: the difference between the catalog and live Stripe state, as data.
//!
//! A plan is a list of [`Change`]s (one per catalog address, what a reviewer reads) executed as
//! [`Step`]s (single Stripe writes) in a dependency graph with a deterministic order.

mod action;
mod builder;
mod change;
mod claims;
mod coupon;
mod entitlement;
mod error;
mod forget;
mod graph;
mod lifecycle;
mod metadata;
mod meter;
mod moves;
mod placed;
mod portal;
mod price;
mod product;
mod promotion_code;
mod request;
mod tax_rate;
mod tax_registration;
mod tax_settings;
#[cfg(test)]
mod tests;
mod value;
mod webhook;
mod wire;

pub(crate) use action::{Action, Summary};
pub(crate) use change::{Change, Plan, Untouched};
pub(crate) use claims::find as claims;
pub(crate) use error::{PlanError, render_conflicts};
pub(crate) use request::{ObjRef, StepId};
pub(crate) use value::{FieldChange, FieldValue};
pub(crate) use wire::WireRequest;

use std::collections::BTreeSet;

use crate::resource::ResourceKind;
use builder::Builder;

use crate::catalog::Catalog;
use crate::live::LiveState;

/// The plan that removes billing's marker from the objects at `addresses` and changes nothing
/// else (`billing forget`). Each address must be carried by some object and declared by no
/// entry of `catalog`.
pub(crate) fn forget(
    catalog: &Catalog,
    live: &LiveState,
    addresses: &BTreeSet<String>,
) -> Result<Plan, PlanError> {
    // Renamed and adopted objects are at their new, declared addresses: not forgettable.
    let claims = claims::find(catalog, live);
    let mut b = Builder::new(catalog, live, &claims);
    // What would stop a full plan is not this plan's business.
    b.conflicts.clear();
    let found = forget::plan(&mut b, addresses);
    b.conflicts
        .extend(forget::unmatched(catalog, &claims, addresses, &found));
    b.finish()
}

/// Computes the plan that makes `live` match `catalog`: renames and adoptions are claimed,
/// forgotten objects set aside, then each kind is planned, those whose objects others refer
/// to first.
pub(crate) fn plan(catalog: &Catalog, live: &LiveState) -> Result<Plan, PlanError> {
    plan_replacing(catalog, live, &BTreeSet::new())
}

/// The addresses of `--replace`, each checked: an address billing.toml declares, of a kind
/// whose objects can be replaced. The error names the flag, the address and the kind.
pub(crate) fn check_replace(
    catalog: &Catalog,
    addresses: &[String],
) -> Result<BTreeSet<String>, String> {
    let mut out = BTreeSet::new();
    for text in addresses {
        let address: crate::resource::Address = text
            .parse()
            .map_err(|e| format!("`--replace {text}`: {e}"))?;
        let kind = address.kind();
        if !kind.replaceable() {
            return Err(format!(
                "`--replace {text}`: a {} cannot be replaced (billing changes it in place); only webhook endpoints, prices and tax rates can",
                kind.noun()
            ));
        }
        if !catalog.declares(text) {
            return Err(format!(
                "`--replace {text}`: billing.toml declares no {}",
                address.declaration()
            ));
        }
        out.insert(address.to_string());
    }
    Ok(out)
}

/// [`plan`], replacing the objects at `replace` even where nothing forces it (`--replace`):
/// each must be an address of a kind whose objects can be replaced ([`check_replace`]).
pub(crate) fn plan_replacing(
    catalog: &Catalog,
    live: &LiveState,
    replace: &BTreeSet<String>,
) -> Result<Plan, PlanError> {
    let claims = claims::find(catalog, live);
    let mut b = Builder::new(catalog, live, &claims);
    b.replace.clone_from(replace);
    forget::plan(&mut b, &BTreeSet::new());
    // Products and prices: default prices move before replaced prices are archived, and a
    // product is archived after its prices.
    b.meters = meter::plan(&mut b);
    let products = product::plan_declared(&mut b);
    let prices = price::plan_declared(&mut b, &products);
    let mut defaults = product::plan_default_prices(&mut b, &products, &prices);
    let archiving = product::plan_removed(&mut b, &products, &mut defaults);
    let price_archives = price::plan_archives(&mut b, &prices, &defaults);
    product::archive_removed(&mut b, &products, &archiving, &price_archives);
    meter::plan_deactivations(&mut b);
    // Coupons and their promotion codes: a coupon is deleted after its codes moved away.
    let coupons = coupon::plan_declared(&mut b, &products);
    let deactivations = promotion_code::plan(&mut b, &coupons);
    coupon::plan_deletions(&mut b, &coupons, &deactivations);
    tax_settings::plan(&mut b);
    tax_registration::plan(&mut b);
    // The kinds with the shared lifecycle.
    lifecycle::plan(&mut b, &tax_rate::TaxRates);
    let portals = portal::Portals::new(&b, &products, &prices);
    lifecycle::plan(&mut b, &portals);
    moves::carry_history(&mut b);
    lifecycle::plan(&mut b, &webhook::Webhooks);
    webhook::check_limit(&mut b);
    // Features before the products' attachments, which name the features created here.
    lifecycle::plan(&mut b, &entitlement::Features);
    entitlement::plan_attachments(&mut b, &products);
    claims::relabel(&claims, &mut b.changes);
    claims::rename_hints(&mut b.changes);
    removal_warnings(&mut b);
    b.finish()
}

/// A warning when the plan removes everything billing manages of a kind that billing.toml
/// declares none of, or everything billing manages at all: what an empty or truncated
/// billing.toml, or the wrong one, plans.
fn removal_warnings(b: &mut Builder<'_>) {
    let mut removed: std::collections::BTreeMap<ResourceKind, usize> = Default::default();
    for change in b.changes.iter().filter(|c| c.destroy && c.action.removes()) {
        *removed.entry(change.kind).or_default() += 1;
    }
    if removed.is_empty() {
        return;
    }
    let catalog = b.catalog;
    let listed = |kinds: &mut dyn Iterator<Item = (&ResourceKind, &usize)>| -> String {
        kinds
            .map(|(k, n)| k.count(*n))
            .collect::<Vec<_>>()
            .join(", ")
    };
    const CHECK: &str = "if billing.toml is incomplete (cut short, or the wrong file given with -c), do not apply this plan";
    let keeps_any = ResourceKind::MARKED
        .into_iter()
        .any(|kind| b.managed.addresses(kind).any(|a| catalog.declares(a)));
    if !keeps_any {
        let declared = if ResourceKind::ALL.into_iter().all(|k| catalog.count(k) == 0) {
            "billing.toml declares nothing: this plan removes everything billing manages in this account"
        } else {
            "billing.toml declares none of the objects billing manages in this account: this plan removes all of them"
        };
        b.warnings.push(format!(
            "{declared} ({}); {CHECK}",
            listed(&mut removed.iter())
        ));
        return;
    }
    for (kind, n) in removed.iter().filter(|(k, _)| catalog.count(**k) == 0) {
        b.warnings.push(format!(
            "billing.toml declares no {}: this plan removes every {} billing manages in this account ({}); {CHECK}",
            kind.plural(),
            kind.noun(),
            kind.count(*n)
        ));
    }
}
