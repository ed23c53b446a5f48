//! Stripe Tax settings and registrations as `[tax]`, and manual tax rates as
//! `[tax_rates.<key>]` (with their `id`, so that billing adopts them).
//!
//! Settings and registrations carry no marker and need no adoption: declared as they are,
//! they plan no change. A setting or registration billing.toml cannot declare is left out,
//! which changes nothing (billing never clears a setting nor touches an undeclared
//! registration).

use super::keys;
use super::place::{adoptable_id, oldest_first, written_at};
use super::write::{Table, Value};
use super::{
    Ctx, Problems, Severity, checked, forgets, metadata_table, nest, number, on_remove, refused,
    text_field,
};
use crate::catalog::parse_decimal;
use crate::live::{LiveRegistration, LiveTaxRate, LiveTaxSettings};
use crate::resource::ResourceKind;

/// `[tax]` settings in a catalog of their own, for the validator.
fn in_tax(entry: &Table) -> Table {
    nest(&["tax"], entry)
}

/// `[tax]`: the settings Stripe holds, and the registrations that have not expired; `None`
/// when there is nothing to declare (or the settings were not read).
pub(crate) fn settings(ctx: &mut Ctx<'_>) -> Option<Table> {
    let live = ctx.live.tax_settings.as_ref()?;
    let (mut t, dropped) = setting_values(live);
    let settings_written = !t.values.is_empty();
    let registrations = registrations(ctx);
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

/// The settings billing.toml accepts, and each one it refuses with why.
fn setting_values(live: &LiveTaxSettings) -> (Table, Vec<(String, String)>) {
    let mut t = Table::default();
    let mut dropped = Vec::new();
    let mut try_value = |field: &str, value: Value| {
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
        try_value("default_tax_behavior", Value::Str(b.clone()));
    }
    if let Some(c) = &live.default_tax_code {
        try_value("default_tax_code", Value::Str(c.clone()));
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
            try_value("head_office", Value::Inline(address));
        }
    }
    (t, dropped)
}

/// The registrations that have not expired, the earliest of each country, type and state
/// (the plan matches the earliest one; the others are left as they are either way); those
/// billing.toml refuses are left out, which changes nothing (reported).
fn registrations(ctx: &mut Ctx<'_>) -> Vec<Value> {
    let mut live_registrations: Vec<&LiveRegistration> = ctx
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
    let mut registrations = Vec::new();
    let mut seen: Vec<(String, String, Option<String>)> = Vec::new();
    for r in live_registrations {
        let label = (r.country.clone(), r.kind.clone(), r.state.clone());
        if seen.contains(&label) {
            continue;
        }
        seen.push(label);
        let entry = registration(r, ctx.live.now);
        let mut alone = Table::default();
        alone.set("registrations", Value::Array(vec![entry.clone()]));
        let messages = refused(&in_tax(&alone));
        if messages.is_empty() {
            registrations.push(entry);
            ctx.report.wrote(ResourceKind::TaxRegistration);
            continue;
        }
        let what = match &r.state {
            Some(s) => format!("{} {} {s}", r.country, r.kind),
            None => format!("{} {}", r.country, r.kind),
        };
        ctx.report.skip(
            ResourceKind::TaxRegistration,
            &format!("{} ({what})", r.id),
            format!(
                "{}: left out, which changes nothing (billing never touches a registration billing.toml does not declare)",
                messages.join("; ")
            ),
        );
    }
    registrations
}

/// A registration as billing.toml writes it (`now`: Stripe's clock, for `active_from`).
fn registration(r: &LiveRegistration, now: i64) -> Value {
    let mut entry = vec![
        ("country".to_owned(), Value::Str(r.country.clone())),
        ("type".to_owned(), Value::Str(r.kind.clone())),
    ];
    if let Some(s) = &r.state {
        entry.push(("state".to_owned(), Value::Str(s.clone())));
    }
    if r.active_from > now {
        entry.push(("active_from".to_owned(), Value::Datetime(r.active_from)));
    }
    if let Some(at) = r.expires_at {
        entry.push(("ends_at".to_owned(), Value::Datetime(at)));
    }
    Value::Inline(entry)
}

/// The rate's fields (not `id`); `None` (with a fatal problem) when it cannot be written.
fn rate_table(
    ctx: &Ctx<'_>,
    r: &LiveTaxRate,
    ours: bool,
    problems: &mut Problems,
) -> Option<Table> {
    let mut t = Table::default();
    t.text("display_name", &r.display_name);
    let percentage = parse_decimal(&r.percentage).map_err(|e| e.to_string());
    let percentage = problems.ok("percentage", percentage)?;
    t.set("percentage", number(&percentage.normalize().to_string()));
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

/// A tax rate in a catalog of its own, for the validator.
fn wrap_rate(entry: &Table) -> Table {
    nest(&["tax_rates", "r"], entry)
}

/// `[tax_rates]`.
pub(crate) fn rates(ctx: &mut Ctx<'_>) -> Table {
    let entries = rate_entries(ctx);
    // Several managed rates at one address: the newest active one is written (else the
    // newest); the plan archives the others.
    ctx.table_of(entries, ("tax rate", "archives"), rate_key, "tax_rate")
}

/// The key a rate billing adopts is given: from its name, country and state.
fn rate_key(r: &LiveTaxRate) -> Option<String> {
    let words = [
        Some(r.display_name.as_str()),
        r.country.as_deref(),
        r.state.as_deref(),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" ");
    keys::slug(&words)
}

/// The rates that can be written, oldest first, each with its key from its marker and its
/// table (`id` first when billing adopts it).
fn rate_entries<'a>(ctx: &mut Ctx<'a>) -> Vec<(&'a LiveTaxRate, Option<String>, Table)> {
    let live = ctx.live;
    let mut entries = Vec::new();
    for r in oldest_first(&live.tax_rates) {
        let Ok(ours) = ctx.place_keyed(r) else {
            continue;
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
        if ours.is_none() && !adoptable_id(&r.id, "txr_") {
            problems.fatal(
                "id",
                format!(
                    "{:?} is not a tax rate id billing.toml can write as `id`",
                    r.id
                ),
            );
        }
        let table = rate_table(ctx, r, ours.is_some(), &mut problems);
        let optional = [("metadata", Severity::Change)];
        let table = checked(table, wrap_rate, &optional, &mut problems);
        let at = written_at(ResourceKind::TaxRate, ours.as_ref(), &r.id);
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
    entries
}
