//! Customer-portal configurations billing already manages, as `[portal]` or
//! `[portals.<key>]`: left out, the plan would deactivate them.
//!
//! Billing cannot adopt a configuration it did not create (and the account's default one is
//! the Dashboard's unless billing.toml says `target = "default"`), so the others are only
//! mentioned in the report.

use std::collections::BTreeMap;

use super::products::Products;
use super::write::{Table, Value};
use super::{Ctx, Problems, Severity, check, metadata_table, strings, text_field};
use crate::catalog::SubscriptionCancel;
use crate::live::LivePortal;
use crate::resource::Address;
use crate::resource::ResourceKind;

/// The key of `[portal]` among `[portals.<key>]`.
const DEFAULT_KEY: &str = "default";

/// The configuration's fields; product and price ids become catalog keys.
fn portal_table(
    ctx: &Ctx<'_>,
    p: &LivePortal,
    products: &Products,
    problems: &mut Problems,
) -> Table {
    // Every field may have its default value: the entry is written all the same.
    let mut t = Table {
        entry: true,
        ..Table::default()
    };
    if p.is_default {
        t.text("target", "default");
    }
    text_field(
        &mut t,
        "name",
        p.settings.name.as_deref(),
        Severity::Change,
        problems,
    );
    text_field(
        &mut t,
        "default_return_url",
        p.settings.default_return_url.as_deref(),
        Severity::Change,
        problems,
    );
    if p.settings.login_page {
        t.set("login_page", Value::Bool(true));
    }
    let mut profile = Table::default();
    for (field, value) in [
        ("headline", &p.settings.headline),
        ("privacy_policy_url", &p.settings.privacy_policy_url),
        ("terms_of_service_url", &p.settings.terms_of_service_url),
    ] {
        text_field(
            &mut profile,
            field,
            value.as_deref(),
            Severity::Change,
            problems,
        );
    }
    t.table("business_profile", profile);
    t.table("features", features(p, products, problems));
    let metadata = ctx.metadata(&p.metadata, ResourceKind::Portal, true, problems);
    t.table("metadata", metadata_table(&metadata));
    t
}

/// `features`: what customers may do in the portal.
fn features(p: &LivePortal, products: &Products, problems: &mut Problems) -> Table {
    let mut features = Table::default();
    if p.settings.invoice_history {
        features.set("invoice_history", Value::Bool(true));
    }
    if p.settings.payment_method_update {
        features.set("payment_method_update", Value::Bool(true));
    }
    if !p.settings.customer_update.is_empty() {
        features.set("customer_update", strings(&p.settings.customer_update));
    }
    if let Some(SubscriptionCancel {
        mode,
        proration_behavior,
        reasons,
    }) = &p.settings.subscription_cancel
    {
        let mut cancel = Table::default();
        cancel.text("mode", mode);
        if let Some(proration) = proration_behavior
            .as_deref()
            .filter(|_| mode == "immediately")
        {
            cancel.text("proration_behavior", proration);
        }
        if !reasons.is_empty() {
            cancel.set("reasons", strings(reasons));
        }
        features.table("subscription_cancel", cancel);
    }
    if let Some((offered, allowed, proration)) = &p.settings.subscription_update {
        let mut update = Table::default();
        update.set("products", offered_keys(offered, products, problems));
        update.set("default_allowed_updates", strings(allowed));
        update.text("proration_behavior", proration);
        features.table("subscription_update", update);
    }
    features
}

/// The products (and their prices) a configuration offers, by catalog key; those not
/// imported are problems (left out, `billing plan` changes the configuration).
fn offered_keys(
    offered: &[(String, Vec<String>)],
    products: &Products,
    problems: &mut Problems,
) -> Value {
    let mut list = Vec::new();
    for (product, prices) in offered {
        let Some(product_key) = products.product_keys.get(product) else {
            problems.add(
                "features.subscription_update",
                format!("it offers product {product}, which is not imported"),
                Severity::Change,
            );
            continue;
        };
        let mut keys = Vec::new();
        for price in prices {
            match products.price_keys.get(price) {
                Some((pk, k)) if pk == product_key => keys.push(Value::Str(k.clone())),
                _ => problems.add(
                    "features.subscription_update",
                    format!("it offers price {price}, which is not imported"),
                    Severity::Change,
                ),
            }
        }
        list.push(Value::Inline(vec![
            ("product".to_owned(), Value::Str(product_key.clone())),
            ("prices".to_owned(), Value::Array(keys)),
        ]));
    }
    Value::Array(list)
}

/// The `[products.<key>]` tables a configuration offers, for the validator.
fn offered_products(entry: &Table, products: &Products) -> Table {
    let mut keys = Vec::new();
    for (name, features) in &entry.tables {
        if name != "features" {
            continue;
        }
        for (name, update) in &features.tables {
            if name != "subscription_update" {
                continue;
            }
            for (field, value) in &update.values {
                if let (true, Value::Array(items)) = (field == "products", value) {
                    for item in items {
                        if let Value::Inline(entries) = item {
                            for (k, v) in entries {
                                if let (true, Value::Str(key)) = (k == "product", v) {
                                    keys.push(key.clone());
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    let mut out = Table::default();
    for (key, table) in &products.table.tables {
        if keys.contains(key) {
            out.table(key, table.clone());
        }
    }
    out
}

/// `(where it goes: "portal" or the key under "portals", table)` for each configuration
/// billing manages.
pub(crate) fn import(ctx: &mut Ctx<'_>, products: &Products) -> Vec<(String, Table)> {
    let live = ctx.live;
    let mut at: BTreeMap<String, Vec<&LivePortal>> = BTreeMap::new();
    let mut default_unmanaged = false;
    let mut others = 0;
    for p in &live.portals {
        match ctx.place_keyed(p) {
            Ok(Some(k)) => at.entry(k).or_default().push(p),
            Ok(None) if p.is_default => default_unmanaged = true,
            Ok(None) if p.active => others += 1,
            Ok(None) | Err(_) => {}
        }
    }
    if others > 0 {
        ctx.report.notes.push(format!(
            "{} left out: billing cannot adopt a portal configuration it did not create; declare [portals.<key>] to have billing create its own",
            ResourceKind::Portal.count(others)
        ));
    }
    if default_unmanaged {
        ctx.report.notes.push(
            "the account's default portal configuration stays the Dashboard's: declare [portal] with target = \"default\" to manage it (see the README)"
                .to_owned(),
        );
    }
    let mut out = Vec::new();
    for (key, mut candidates) in at {
        // The one the plan keeps: the account's default, else the newest active one, else
        // the newest.
        candidates.sort_by(|a, b| (b.created, &b.id).cmp(&(a.created, &a.id)));
        let current = candidates
            .iter()
            .find(|c| c.is_default)
            .or_else(|| candidates.iter().find(|c| c.active))
            .or_else(|| candidates.first())
            .copied();
        // A deactivated one left billing.toml before: declared, it would be reactivated.
        let Some(live) = current.filter(|c| c.active || c.is_default) else {
            continue;
        };
        let mut problems = Problems::default();
        let mut table = portal_table(ctx, live, products, &mut problems);
        let place = if key == DEFAULT_KEY {
            "portal".to_owned()
        } else {
            Address::new(ResourceKind::Portal, &key).to_string()
        };
        let wrap = |entry: &Table| {
            let mut root = Table::default();
            root.table("products", offered_products(entry, products));
            if key == DEFAULT_KEY {
                root.table("portal", entry.clone());
            } else {
                let mut portals = Table::default();
                portals.table(&key, entry.clone());
                root.table("portals", portals);
            }
            root
        };
        check(
            &mut table,
            wrap,
            &[
                ("name", Severity::Change),
                ("default_return_url", Severity::Change),
                ("business_profile", Severity::Change),
                ("features", Severity::Change),
                ("metadata", Severity::Change),
            ],
            &mut problems,
        );
        let address = Address::new(ResourceKind::Portal, key).to_string();
        if !ctx.settle(ResourceKind::Portal, &live.id, &address, true, &problems) {
            continue;
        }
        out.push((place, table));
        ctx.report.wrote(ResourceKind::Portal);
    }
    out
}
