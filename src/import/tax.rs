//! Stripe Tax settings and registrations as `[tax]`, and manual tax rates as
//! `[tax_rates.<key>]` (with their `id`, so that billing adopts them).
//!
//! Settings and registrations carry no marker and need no adoption: declared as they are,
//! they plan no change. A setting or registration billing.toml cannot declare is left out,
//! which changes nothing (billing never clears a setting nor touches an undeclared
//! registration).

use std::collections::BTreeMap;

use super::keys::{self, KeySpace};
use super::report::Renamed;
use super::write::{Table, Value};
use super::{
    Ctx, Owner, Problems, Severity, check, forgets, held_keys, marker_key, metadata_table, number,
    on_remove, owner, refused, text_field, unknown_address,
};
use crate::catalog::parse_decimal;
use crate::live::LiveTaxRate;
use crate::resource::Address;
use crate::resource::ResourceKind;

fn in_tax(entry: &Table) -> Table {
    let mut root = Table::default();
    root.table("tax", entry.clone());
    root
}

/// `[tax]`: the settings Stripe holds, and the registrations that have not expired; `None`
/// when there is nothing to declare (or the settings were not read).
pub(crate) fn settings(ctx: &mut Ctx<'_>) -> Option<Table> {
    let live = ctx.live.tax_settings.as_ref()?;
    let mut t = Table::default();
    let mut dropped = Vec::new();
    let mut try_value = |t: &mut Table, field: &str, value: Value| {
        let mut alone = Table::default();
        alone.set(field, value.clone());
        let messages = refused(&in_tax(&alone));
        if messages.is_empty() {
            t.set(field, value);
        } else {
            dropped.push((field.to_owned(), messages.join("; ")));
        }
    };
    if let Some(b) = &live.default_tax_behavior {
        try_value(&mut t, "default_tax_behavior", Value::Str(b.clone()));
    }
    if let Some(c) = &live.default_tax_code {
        try_value(&mut t, "default_tax_code", Value::Str(c.clone()));
    }
    if let Some(a) = &live.head_office {
        let mut address = Vec::new();
        for (k, v) in [
            ("line1", &a.line1),
            ("line2", &a.line2),
            ("city", &a.city),
            ("state", &a.state),
            ("postal_code", &a.postal_code),
            ("country", &a.country),
        ] {
            if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
                address.push((k.to_owned(), Value::Str(v.to_owned())));
            }
        }
        if !address.is_empty() {
            try_value(&mut t, "head_office", Value::Inline(address));
        }
    }
    let settings_written = !t.values.is_empty();
    let mut registrations = Vec::new();
    let mut seen: Vec<(String, String, Option<String>)> = Vec::new();
    let mut live_registrations: Vec<_> = ctx
        .live
        .tax_registrations
        .iter()
        .filter(|r| r.status != "expired")
        .collect();
    live_registrations.sort_by(|a, b| {
        (&a.country, &a.kind, &a.state, a.active_from, &a.id).cmp(&(
            &b.country,
            &b.kind,
            &b.state,
            b.active_from,
            &b.id,
        ))
    });
    for r in live_registrations {
        let label = (r.country.clone(), r.kind.clone(), r.state.clone());
        if seen.contains(&label) {
            // The plan matches the earliest one; the others are left as they are either way.
            continue;
        }
        seen.push(label);
        let mut entry = vec![
            ("country".to_owned(), Value::Str(r.country.clone())),
            ("type".to_owned(), Value::Str(r.kind.clone())),
        ];
        if let Some(s) = &r.state {
            entry.push(("state".to_owned(), Value::Str(s.clone())));
        }
        if r.active_from > ctx.live.now {
            entry.push(("active_from".to_owned(), Value::Datetime(r.active_from)));
        }
        if let Some(at) = r.expires_at {
            entry.push(("ends_at".to_owned(), Value::Datetime(at)));
        }
        let entry = Value::Inline(entry);
        let mut alone = Table::default();
        alone.set("registrations", Value::Array(vec![entry.clone()]));
        let messages = refused(&in_tax(&alone));
        let what = match &r.state {
            Some(s) => format!("{} {} {s}", r.country, r.kind),
            None => format!("{} {}", r.country, r.kind),
        };
        if messages.is_empty() {
            registrations.push(entry);
            ctx.report.wrote(ResourceKind::TaxRegistration);
        } else {
            ctx.report.skip(
                ResourceKind::TaxRegistration,
                &format!("{} ({what})", r.id),
                format!(
                    "{}: left out, which changes nothing (billing never touches a registration billing.toml does not declare)",
                    messages.join("; ")
                ),
            );
        }
    }
    for (field, why) in dropped {
        ctx.report.inexpressible(
            "tax",
            &field,
            format!("{why}: left out (billing never clears a tax setting)"),
        );
    }
    if !registrations.is_empty() {
        t.set("registrations", Value::Array(registrations));
    }
    ctx.report.tax_settings = settings_written;
    (!t.values.is_empty()).then_some(t)
}

/// Whether `id` is one billing.toml takes as a tax rate's `id`.
fn adoptable_rate_id(id: &str) -> bool {
    id.strip_prefix("txr_").is_some_and(|rest| {
        !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
    }) && id.len() <= 255
}

fn rate_table(
    ctx: &Ctx<'_>,
    r: &LiveTaxRate,
    ours: bool,
    problems: &mut Problems,
) -> Option<Table> {
    let mut t = Table::default();
    t.text("display_name", &r.display_name);
    match parse_decimal(&r.percentage) {
        Ok(d) => t.set("percentage", number(&d.normalize().to_string())),
        Err(e) => {
            problems.fatal("percentage", e.to_string());
            return None;
        }
    }
    t.set("inclusive", Value::Bool(r.inclusive));
    if !r.active {
        t.set("active", Value::Bool(false));
    }
    // Omitting any of these would clear it, which only a new rate can do.
    for (field, value) in [
        ("country", &r.country),
        ("state", &r.state),
        ("jurisdiction", &r.jurisdiction),
        ("tax_type", &r.tax_type),
        ("description", &r.description),
    ] {
        text_field(&mut t, field, value.as_deref(), Severity::Fatal, problems);
    }
    if ours {
        on_remove(&mut t, &r.metadata, &["forget"], problems);
    }
    let metadata = ctx.metadata(&r.metadata, ResourceKind::TaxRate, ours, problems);
    t.table("metadata", metadata_table(&metadata));
    Some(t)
}

fn wrap_rate(entry: &Table) -> Table {
    let mut rates = Table::default();
    rates.table("r", entry.clone());
    let mut root = Table::default();
    root.table("tax_rates", rates);
    root
}

/// `[tax_rates]`.
pub(crate) fn rates(ctx: &mut Ctx<'_>) -> Table {
    let namespace = ctx.options.namespace.clone();
    let mut live: Vec<&LiveTaxRate> = ctx.live.tax_rates.iter().collect();
    live.sort_by(|a, b| (a.created, &a.id).cmp(&(b.created, &b.id)));
    let mut entries: Vec<(&LiveTaxRate, Option<String>, Table)> = Vec::new();
    for r in live {
        let ours = match owner(&r.metadata, &namespace) {
            Owner::Foreign(ns) => {
                ctx.report.foreign(ns, ResourceKind::TaxRate);
                continue;
            }
            Owner::Ours(address) => match marker_key(address, "tax_rates") {
                Some(k) => Some(k.to_owned()),
                None => {
                    ctx.report
                        .skip(ResourceKind::TaxRate, &r.id, unknown_address(address));
                    continue;
                }
            },
            Owner::Unmanaged => None,
        };
        // Left out, an archived rate billing manages stays as it is, unless it records
        // `on_remove = "forget"`: the plan would forget it.
        let written =
            r.active || ctx.options.include_archived || (ours.is_some() && forgets(&r.metadata));
        if !written {
            ctx.report.archived(ResourceKind::TaxRate);
            continue;
        }
        let mut problems = Problems::default();
        if ours.is_none() && !adoptable_rate_id(&r.id) {
            problems.fatal(
                "id",
                format!(
                    "{:?} is not a tax rate id billing.toml can write as `id`",
                    r.id
                ),
            );
        }
        let table = rate_table(ctx, r, ours.is_some(), &mut problems).map(|mut t| {
            check(
                &mut t,
                wrap_rate,
                &[("metadata", Severity::Change)],
                &mut problems,
            );
            t
        });
        let at = ours.as_ref().map_or(r.id.clone(), |k| {
            Address::new(ResourceKind::TaxRate, k).to_string()
        });
        if !ctx.settle(ResourceKind::TaxRate, &r.id, &at, ours.is_some(), &problems) {
            if !r.active {
                ctx.report.archived(ResourceKind::TaxRate);
            }
            continue;
        }
        let Some(mut table) = table else { continue };
        if ours.is_none() {
            table
                .values
                .insert(0, ("id".to_owned(), Value::Str(r.id.clone())));
        }
        entries.push((r, ours, table));
    }
    // Several managed rates at one address: the newest active one is written (else the
    // newest); the plan archives the others.
    let mut current: BTreeMap<String, &LiveTaxRate> = BTreeMap::new();
    for (r, ours, _) in &entries {
        if let Some(k) = ours {
            let better = current.get(k).is_none_or(|held| {
                (r.active, r.created, &r.id) > (held.active, held.created, &held.id)
            });
            if better {
                current.insert(k.clone(), r);
            }
        }
    }
    let mut space = KeySpace::default();
    let held = held_keys(
        ctx.live.tax_rates.iter().map(|r| &r.metadata),
        &namespace,
        |a| marker_key(a, "tax_rates"),
    );
    for k in current.keys().chain(&held) {
        space.reserve(k);
    }
    let mut table = Table::default();
    for (r, ours, t) in entries {
        let key = match ours {
            Some(k) if current.get(&k).is_some_and(|held| held.id == r.id) => k,
            Some(k) => {
                ctx.report.skip(
                    ResourceKind::TaxRate,
                    &r.id,
                    format!("another tax rate billing manages is tax_rates.{k}: `billing plan` archives this duplicate"),
                );
                continue;
            }
            None => {
                let words = [
                    Some(r.display_name.as_str()),
                    r.country.as_deref(),
                    r.state.as_deref(),
                ]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" ");
                let base = keys::slug(&words)
                    .or_else(|| keys::slug(&r.id))
                    .unwrap_or_else(|| "tax_rate".to_owned());
                let claimed = space.claim(&base, |_| true);
                if let Some(wanted) = claimed.wanted {
                    ctx.report.renamed.push(Renamed {
                        address: Address::new(ResourceKind::TaxRate, &claimed.key).to_string(),
                        id: r.id.clone(),
                        wanted,
                        why: None,
                    });
                }
                claimed.key
            }
        };
        table.table(&key, t);
        ctx.report.wrote(ResourceKind::TaxRate);
    }
    table
}
