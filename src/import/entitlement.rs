//! Entitlement features as `[entitlements.<key>]`, and the features attached to each imported
//! product as its `entitlements`.
//!
//! Only active features are written: Stripe cannot reactivate an archived one, so billing.toml
//! has no way to declare it. A feature billing does not manage is written with its
//! `lookup_key`, which adopts it (the key is unique among active features); one it manages
//! writes `lookup_key` only when it differs from the entry's key. What is written plans no
//! change.

use std::collections::BTreeMap;

use super::keys::{self, KeySpace};
use super::place::oldest_first;
use super::write::Table;
use super::{Ctx, Problems, Severity, checked, metadata_table, nest, strings};
use crate::live::LiveFeature;
use crate::resource::ResourceKind;

/// A feature in a catalog of its own, for the validator.
fn wrap(entry: &Table) -> Table {
    nest(&["entitlements", "e"], entry)
}

/// The feature's fields.
fn feature_table(
    ctx: &Ctx<'_>,
    f: &LiveFeature,
    key: Option<&str>,
    problems: &mut Problems,
) -> Table {
    let mut t = Table::default();
    t.text("name", &f.name);
    if key != Some(f.lookup_key.as_str()) {
        t.text("lookup_key", &f.lookup_key);
    }
    let metadata = ctx.metadata(
        &f.metadata,
        ResourceKind::EntitlementFeature,
        key.is_some(),
        problems,
    );
    t.table("metadata", metadata_table(&metadata));
    t
}

/// `[entitlements]`, and the key each written feature has, by its id.
pub(crate) fn features(ctx: &mut Ctx<'_>) -> (Table, BTreeMap<String, String>) {
    let live = ctx.live;
    let mut space = KeySpace::default();
    for k in &ctx.held::<LiveFeature>() {
        space.reserve(k);
    }
    let mut table = Table::default();
    let mut written = BTreeMap::new();
    for f in oldest_first(&live.entitlements)
        .into_iter()
        .filter(|f| f.active)
    {
        let Ok(ours) = ctx.place_keyed(f) else {
            continue;
        };
        let mut problems = Problems::default();
        let entry = feature_table(ctx, f, ours.as_deref(), &mut problems);
        let optional = [("metadata", Severity::Change)];
        let entry = checked(Some(entry), wrap, &optional, &mut problems);
        let at = super::place::written_at(ResourceKind::EntitlementFeature, ours.as_ref(), &f.id);
        let settled = ctx.settle(
            ResourceKind::EntitlementFeature,
            &f.id,
            &at,
            ours.is_some(),
            &problems,
        );
        let Some(entry) = entry.filter(|_| settled) else {
            continue;
        };
        let key = match ours {
            Some(k) => k,
            None => {
                let base = keys::slug(&f.lookup_key)
                    .or_else(|| keys::slug(&f.name))
                    .unwrap_or_else(|| "feature".to_owned());
                let kind = ResourceKind::EntitlementFeature;
                ctx.claim(&mut space, kind, &f.id, &base, |_| true)
            }
        };
        written.insert(f.id.clone(), key.clone());
        table.table(&key, entry);
        ctx.report.wrote(ResourceKind::EntitlementFeature);
    }
    (table, written)
}

/// Adds `entitlements` to each written product (`product_keys`: product id → key) that has
/// written features attached (`feature_keys`: feature id → key).
pub(crate) fn attach(
    ctx: &Ctx<'_>,
    products: &mut Table,
    product_keys: &BTreeMap<String, String>,
    feature_keys: &BTreeMap<String, String>,
) {
    for (product_id, attached) in &ctx.live.product_features {
        let Some(product_key) = product_keys.get(product_id) else {
            continue;
        };
        let mut names: Vec<String> = attached
            .iter()
            .filter_map(|a| feature_keys.get(&a.feature).cloned())
            .collect();
        if names.is_empty() {
            continue;
        }
        names.sort();
        if let Some((_, t)) = products.tables.iter_mut().find(|(k, _)| k == product_key) {
            let at = t.values.iter().position(|(k, _)| k == "features");
            let value = ("entitlements".to_owned(), strings(&names));
            match at {
                Some(i) => t.values.insert(i + 1, value),
                None => t.values.push(value),
            }
        }
    }
}
