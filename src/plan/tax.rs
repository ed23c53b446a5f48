//! Planning Stripe Tax: the settings singleton (only the fields billing.toml declares, since
//! Stripe cannot clear one), registrations identified by country, type and state (created when
//! missing, ended only when billing.toml says so), and manual tax rates (updated in place,
//! replaced when their percentage or inclusiveness changes, archived when removed).

use super::builder::Builder;
use super::metadata;
use super::request::{
    ObjRef, RegistrationSpec, RegistrationUpdate, Request, TaxRateSpec, TaxRateUpdate,
    TaxSettingsUpdate,
};
use super::value::{FieldChange, FieldValue, push_if_changed};
use super::{Action, Change};
use crate::catalog::{PostalAddress, Registration, TaxRate};
use crate::digest::fingerprint;
use crate::live::LiveObject;
use crate::live::{LiveAddress, LiveRegistration, LiveTaxRate};
use crate::resource::Address;
use crate::resource::{ResourceKind, owned_metadata};
use crate::timestamp::format_timestamp;

/// A value Stripe holds that billing.toml no longer declares: it stays, since Stripe cannot
/// remove it.
fn kept(b: &mut Builder<'_>, field: &str, value: &str) {
    b.notices.push(format!(
        "tax.{field} is {value} in Stripe; billing.toml does not declare it and Stripe cannot remove it, so it stays"
    ));
}

fn address_text(a: &LiveAddress) -> String {
    [
        &a.line1,
        &a.line2,
        &a.city,
        &a.state,
        &a.postal_code,
        &a.country,
    ]
    .into_iter()
    .flatten()
    .cloned()
    .collect::<Vec<_>>()
    .join(", ")
}

/// The declared address fields that differ (an undeclared one is not managed: Stripe cannot
/// clear it).
fn head_office_fields(
    want: &PostalAddress,
    have: Option<&LiveAddress>,
    out: &mut Vec<FieldChange>,
) {
    let empty = LiveAddress::default();
    let have = have.unwrap_or(&empty);
    for (field, want, have) in [
        ("line1", want.line1.as_deref(), have.line1.as_deref()),
        ("line2", want.line2.as_deref(), have.line2.as_deref()),
        ("city", want.city.as_deref(), have.city.as_deref()),
        ("state", want.state.as_deref(), have.state.as_deref()),
        (
            "postal_code",
            want.postal_code.as_deref(),
            have.postal_code.as_deref(),
        ),
        (
            "country",
            Some(want.country.as_str()),
            have.country.as_deref(),
        ),
    ] {
        if want.is_some() {
            push_if_changed(
                out,
                &format!("head_office.{field}"),
                FieldValue::text(have),
                FieldValue::text(want),
            );
        }
    }
}

/// The settings singleton: the declared fields that differ, in one update.
pub(crate) fn plan_settings(b: &mut Builder<'_>) {
    let Some(tax) = &b.catalog.tax else {
        return;
    };
    let live = b.live.tax_settings.clone().unwrap_or_default();
    let mut fields = Vec::new();
    let mut update = TaxSettingsUpdate::default();
    let mut newly_set = Vec::new();
    for (field, want, have, slot) in [
        (
            "default_tax_behavior",
            &tax.default_tax_behavior,
            &live.default_tax_behavior,
            &mut update.default_tax_behavior,
        ),
        (
            "default_tax_code",
            &tax.default_tax_code,
            &live.default_tax_code,
            &mut update.default_tax_code,
        ),
    ] {
        match (want, have) {
            (Some(want), have) if have.as_ref() != Some(want) => {
                fields.push(FieldChange::new(
                    field,
                    FieldValue::word(have.as_deref()),
                    FieldValue::Word(want.clone()),
                ));
                if have.is_none() {
                    newly_set.push(field);
                }
                *slot = Some(want.clone());
            }
            (None, Some(have)) => kept(b, field, have),
            _ => {}
        }
    }
    match (&tax.head_office, &live.head_office) {
        (Some(want), have) => {
            let before = fields.len();
            head_office_fields(want, have.as_ref(), &mut fields);
            if fields.len() > before {
                if have.is_none() {
                    newly_set.push("head_office");
                }
                // Stripe replaces the whole address: the lines billing.toml leaves out are
                // sent as they are, so that they stay.
                let keep = have.clone().unwrap_or_default();
                update.head_office = Some(PostalAddress {
                    line1: want.line1.clone().or(keep.line1),
                    line2: want.line2.clone().or(keep.line2),
                    city: want.city.clone().or(keep.city),
                    state: want.state.clone().or(keep.state),
                    postal_code: want.postal_code.clone().or(keep.postal_code),
                    country: want.country.clone(),
                });
            }
        }
        (None, Some(have)) => kept(b, "head_office", &format!("{:?}", address_text(have))),
        (None, None) => {}
    }
    if fields.is_empty() {
        return;
    }
    let mut change = Change::new(
        ResourceKind::TaxSettings,
        "tax",
        Action::Update,
        None,
        "Stripe Tax settings".to_owned(),
        fingerprint(&[&live]),
    );
    change.fields = fields;
    if !newly_set.is_empty() {
        change.notes.push(format!(
            "once set, Stripe cannot remove {}: later changes can only replace the value",
            newly_set.join(", ")
        ));
    }
    if update.default_tax_behavior.is_some() {
        change.notes.push(
            "prices whose tax_behavior is unspecified are taxed with the new default from now on"
                .to_owned(),
        );
    }
    let idx = b.add_change(change);
    b.add_step(
        idx,
        "update tax settings",
        Request::UpdateTaxSettings { update },
        vec![],
    );
}

/// `tax.registrations.US.state_sales_tax.CA`.
fn registration_address(r: &Registration) -> String {
    r.address().to_string()
}

fn same_registration(r: &Registration, l: &LiveRegistration) -> bool {
    l.country == r.country && l.kind == r.kind && l.state == r.state
}

/// Registrations: created when none that has not expired matches; ended only by `ends_at`;
/// never touched because billing.toml leaves them out (the Dashboard may have made them).
pub(crate) fn plan_registrations(b: &mut Builder<'_>) {
    let Some(tax) = &b.catalog.tax else {
        return;
    };
    let now = b.now;
    for r in &tax.registrations {
        let addr = registration_address(r);
        let title = format!("tax registration {}", r.label());
        // Every registration of this tax, expired ones too: a create's idempotency key must
        // change when one ends (registrations emit no events that would move the generation).
        let same: Vec<&LiveRegistration> = b
            .live
            .tax_registrations
            .iter()
            .filter(|l| same_registration(r, l))
            .collect();
        let mut matching: Vec<&LiveRegistration> = same
            .iter()
            .copied()
            .filter(|l| l.status != "expired")
            .collect();
        matching.sort_by_key(|l| l.active_from);
        // Ending at a moment: past moments end it now, since Stripe takes no past `expires_at`.
        let end = r.ends_at.map(|at| at.filter(|t| *t > now));
        let Some(live) = matching.first().copied() else {
            if r.ends_at.is_some_and(|at| at.is_none_or(|t| t <= now)) {
                continue;
            }
            let spec = RegistrationSpec {
                country: r.country.clone(),
                kind: r.kind.clone(),
                state: r.state.clone(),
                active_from: r.active_from.filter(|t| *t > now),
                expires_at: end.flatten(),
            };
            let mut change = Change::new(
                ResourceKind::TaxRegistration,
                &addr,
                Action::Create,
                None,
                title,
                fingerprint(&same),
            );
            change.fields.push(FieldChange::new(
                "active_from",
                FieldValue::None,
                spec.active_from
                    .map_or(FieldValue::Word("now".to_owned()), |t| {
                        FieldValue::date(Some(t))
                    }),
            ));
            if spec.expires_at.is_some() {
                change.fields.push(FieldChange::new(
                    "expires_at",
                    FieldValue::None,
                    FieldValue::date(spec.expires_at),
                ));
            }
            change.notes.push(
                "Stripe Tax starts collecting tax in this jurisdiction once the registration is active; registrations cannot be deleted, only ended"
                    .to_owned(),
            );
            let idx = b.add_change(change);
            b.add_step(
                idx,
                "create tax registration",
                Request::CreateTaxRegistration { registration: spec },
                vec![],
            );
            continue;
        };
        let now_word = || FieldValue::Word("now".to_owned());
        let scheduled = live.active_from > now;
        let mut fields = Vec::new();
        let mut update = RegistrationUpdate::default();
        let mut cancelled = false;
        match end {
            // Ending a scheduled registration before it starts: Stripe takes no end before the
            // start, so it starts and ends now, and never collects tax.
            Some(at) if scheduled && at.unwrap_or(now) < live.active_from => {
                fields.push(FieldChange::new(
                    "active_from",
                    FieldValue::date(Some(live.active_from)),
                    now_word(),
                ));
                fields.push(FieldChange::new(
                    "expires_at",
                    FieldValue::date(live.expires_at),
                    now_word(),
                ));
                update.active_from = Some(None);
                update.expires_at = Some(None);
                cancelled = true;
            }
            Some(at) if live.expires_at != at || at.is_none() => {
                fields.push(FieldChange::new(
                    "expires_at",
                    FieldValue::date(live.expires_at),
                    at.map_or_else(now_word, |t| FieldValue::date(Some(t))),
                ));
                update.expires_at = Some(at);
            }
            Some(_) => {}
            None => {
                if let Some(at) = live.expires_at {
                    b.notices.push(format!(
                        "{addr}: registration {} ends at {}; billing.toml declares no `ends_at`, so billing leaves that end as it is",
                        live.id,
                        format_timestamp(at)
                    ));
                }
            }
        }
        if !cancelled
            && let Some(from) = r.active_from
            && from != live.active_from
        {
            if scheduled {
                // Still scheduled: the start moves (to now, when billing.toml's has passed).
                let to = (from > now).then_some(from);
                fields.push(FieldChange::new(
                    "active_from",
                    FieldValue::date(Some(live.active_from)),
                    to.map_or_else(now_word, |t| FieldValue::date(Some(t))),
                ));
                update.active_from = Some(to);
            } else if from > now {
                b.notices.push(format!(
                    "{addr}: registration {} is active since {}; Stripe cannot postpone an active registration, so billing.toml's active_from {} is left as it is",
                    live.id,
                    format_timestamp(live.active_from),
                    format_timestamp(from)
                ));
            }
        }
        if fields.is_empty() {
            continue;
        }
        let mut change = Change::new(
            ResourceKind::TaxRegistration,
            &addr,
            Action::Update,
            Some(live.id.clone()),
            title,
            fingerprint(&[live]),
        );
        if cancelled {
            change.reason =
                Some("billing.toml declares `ends_at` before the registration starts".to_owned());
            change.notes.push(
                "the registration starts and ends now: Stripe Tax never collects tax with it"
                    .to_owned(),
            );
        } else if update.expires_at.is_some() {
            change.reason = Some("billing.toml declares `ends_at`".to_owned());
            change.notes.push(
                "Stripe Tax stops collecting tax in this jurisdiction when the registration ends"
                    .to_owned(),
            );
        }
        change.fields = fields;
        let idx = b.add_change(change);
        b.add_step(
            idx,
            if update.expires_at.is_some() {
                "end tax registration"
            } else {
                "update tax registration"
            },
            Request::UpdateTaxRegistration {
                registration: ObjRef::Id(live.id.clone()),
                update,
            },
            vec![],
        );
    }
}

fn rate_address(key: &str) -> String {
    Address::new(ResourceKind::TaxRate, key).to_string()
}

fn percent(text: &str) -> String {
    crate::catalog::parse_decimal(text)
        .map_or_else(|_| text.to_owned(), |d| d.normalize().to_string())
}

fn inclusiveness(inclusive: bool) -> FieldValue {
    FieldValue::Word(if inclusive { "inclusive" } else { "exclusive" }.to_owned())
}

fn rate_title(display_name: &str, percentage: &str, inclusive: bool) -> String {
    let kind = if inclusive { "inclusive" } else { "exclusive" };
    format!(
        "tax rate {display_name:?} ({}%, {kind})",
        percent(percentage)
    )
}

fn rate_spec(b: &Builder<'_>, r: &TaxRate) -> TaxRateSpec {
    TaxRateSpec {
        display_name: r.display_name.clone(),
        percentage: r.percentage.normalize().to_string(),
        inclusive: r.inclusive,
        active: r.active,
        country: r.country.clone(),
        state: r.state.clone(),
        jurisdiction: r.jurisdiction.clone(),
        tax_type: r.tax_type.clone(),
        description: r.description.clone(),
        metadata: owned_metadata(
            &r.metadata,
            &rate_address(&r.key),
            b.namespace,
            r.on_remove.recorded(),
        ),
    }
}

/// The optional text fields of a rate: declared, and live.
fn optional_fields<'r>(
    r: &'r TaxRate,
    live: &'r LiveTaxRate,
) -> [(&'static str, Option<&'r str>, Option<&'r str>); 5] {
    [
        ("country", r.country.as_deref(), live.country.as_deref()),
        ("state", r.state.as_deref(), live.state.as_deref()),
        (
            "jurisdiction",
            r.jurisdiction.as_deref(),
            live.jurisdiction.as_deref(),
        ),
        ("tax_type", r.tax_type.as_deref(), live.tax_type.as_deref()),
        (
            "description",
            r.description.as_deref(),
            live.description.as_deref(),
        ),
    ]
}

/// What only a new rate can change: percentage, inclusiveness, and clearing a field (Stripe's
/// update marks only metadata as clearable; billing takes that reading).
fn shape_diff(r: &TaxRate, live: &LiveTaxRate) -> Vec<FieldChange> {
    let mut out = Vec::new();
    let same_percentage = crate::catalog::parse_decimal(&live.percentage)
        .is_ok_and(|d| d.normalize() == r.percentage.normalize());
    if !same_percentage {
        out.push(FieldChange::replacing(
            "percentage",
            FieldValue::Word(format!("{}%", percent(&live.percentage))),
            FieldValue::Word(format!("{}%", r.percentage.normalize())),
        ));
    }
    if live.inclusive != r.inclusive {
        out.push(FieldChange::replacing(
            "inclusive",
            inclusiveness(live.inclusive),
            inclusiveness(r.inclusive),
        ));
    }
    for (field, want, have) in optional_fields(r, live) {
        if want.is_none() && have.is_some() {
            out.push(FieldChange::replacing(
                field,
                FieldValue::text(have),
                FieldValue::None,
            ));
        }
    }
    out
}

/// The fields Stripe changes in place that differ.
fn mutable_diff(
    b: &Builder<'_>,
    r: &TaxRate,
    live: &LiveTaxRate,
) -> (Vec<FieldChange>, TaxRateUpdate) {
    let mut fields = Vec::new();
    let mut update = TaxRateUpdate::default();
    if live.active != r.active {
        fields.push(FieldChange::new(
            "active",
            FieldValue::Bool(live.active),
            FieldValue::Bool(r.active),
        ));
        update.active = Some(r.active);
    }
    if live.display_name != r.display_name {
        fields.push(FieldChange::new(
            "display_name",
            FieldValue::Text(live.display_name.clone()),
            FieldValue::Text(r.display_name.clone()),
        ));
        update.display_name = Some(r.display_name.clone());
    }
    for (field, want, have) in optional_fields(r, live) {
        if let Some(want) = want
            && have != Some(want)
        {
            fields.push(FieldChange::new(
                field,
                FieldValue::text(have),
                FieldValue::text(Some(want)),
            ));
            let slot = match field {
                "country" => &mut update.country,
                "state" => &mut update.state,
                "jurisdiction" => &mut update.jurisdiction,
                "tax_type" => &mut update.tax_type,
                _ => &mut update.description,
            };
            *slot = Some(want.to_owned());
        }
    }
    let desired = owned_metadata(
        &r.metadata,
        &rate_address(&r.key),
        b.namespace,
        r.on_remove.recorded(),
    );
    update.metadata = metadata::diff(
        &desired,
        &live.metadata,
        |k| b.catalog.ignores_metadata_key(k),
        &mut fields,
    );
    (fields, update)
}

fn creation_fields(spec: &TaxRateSpec) -> Vec<FieldChange> {
    let mut fields = vec![
        FieldChange::new(
            "display_name",
            FieldValue::None,
            FieldValue::Text(spec.display_name.clone()),
        ),
        FieldChange::new(
            "percentage",
            FieldValue::None,
            FieldValue::Word(format!("{}%", spec.percentage)),
        ),
        FieldChange::new("inclusive", FieldValue::None, inclusiveness(spec.inclusive)),
    ];
    for (field, value) in [
        ("country", &spec.country),
        ("state", &spec.state),
        ("jurisdiction", &spec.jurisdiction),
        ("tax_type", &spec.tax_type),
        ("description", &spec.description),
    ] {
        if value.is_some() {
            fields.push(FieldChange::new(
                field,
                FieldValue::None,
                FieldValue::text(value.as_deref()),
            ));
        }
    }
    if !spec.active {
        fields.push(FieldChange::new(
            "active",
            FieldValue::None,
            FieldValue::Bool(false),
        ));
    }
    fields
}

/// Manual tax rates: create, update in place, replace, unarchive, and archive what is not
/// current (duplicates, replaced rates, rates that left billing.toml).
pub(crate) fn plan_rates(b: &mut Builder<'_>) {
    let mut current: Vec<String> = Vec::new();
    let catalog = b.catalog;
    for (key, r) in &catalog.tax_rates {
        let addr = rate_address(key);
        let at: Vec<&LiveTaxRate> = b.managed.at::<LiveTaxRate>(&addr);
        // The current rate: the newest active one, else the newest archived one that only
        // needs unarchiving.
        let live = at
            .iter()
            .find(|l| l.active)
            .or_else(|| at.iter().find(|l| shape_diff(r, l).is_empty()))
            .copied();
        let spec = rate_spec(b, r);
        let title = rate_title(&spec.display_name, &spec.percentage, spec.inclusive);
        let Some(live) = live else {
            let mut change = Change::new(
                ResourceKind::TaxRate,
                &addr,
                Action::Create,
                None,
                title,
                fingerprint(&at),
            );
            change.fields = creation_fields(&spec);
            let idx = b.add_change(change);
            b.add_step(
                idx,
                "create tax rate",
                Request::CreateTaxRate { rate: spec },
                vec![],
            );
            continue;
        };
        current.push(live.id.clone());
        let shape = shape_diff(r, live);
        if !shape.is_empty() {
            let mut change = Change::new(
                ResourceKind::TaxRate,
                &addr,
                Action::Replace,
                Some(live.id.clone()),
                title,
                fingerprint(&[live]),
            );
            let named = |cleared: bool| -> Vec<&str> {
                shape
                    .iter()
                    .filter(|f| (f.after == FieldValue::None) == cleared)
                    .map(|f| f.field.as_str())
                    .collect()
            };
            let (changed, cleared) = (named(false), named(true));
            let mut why = Vec::new();
            if !changed.is_empty() {
                why.push(format!("change a tax rate's {}", changed.join(", ")));
            }
            if !cleared.is_empty() {
                why.push(format!("clear a tax rate's {}", cleared.join(", ")));
            }
            change.reason = Some(format!("Stripe cannot {} in place", why.join(" or ")));
            change.fields = shape;
            let (more, _) = mutable_diff(b, r, live);
            change.fields.extend(
                more.into_iter()
                    .filter(|f| !f.field.starts_with("metadata.")),
            );
            change.notes.push(format!(
                "subscriptions and invoices that use {} keep it; new ones need the new rate's id",
                live.id
            ));
            let idx = b.add_change(change);
            let create = b.add_step(
                idx,
                "create tax rate",
                Request::CreateTaxRate { rate: spec },
                vec![],
            );
            if live.active {
                b.add_step(
                    idx,
                    "archive the replaced tax rate",
                    Request::UpdateTaxRate {
                        rate: ObjRef::Id(live.id.clone()),
                        update: TaxRateUpdate {
                            active: Some(false),
                            ..TaxRateUpdate::default()
                        },
                    },
                    vec![create],
                );
            }
            continue;
        }
        let (fields, update) = mutable_diff(b, r, live);
        if fields.is_empty() {
            continue;
        }
        let action = if !live.active && r.active {
            Action::Unarchive
        } else if live.active && !r.active {
            Action::Archive
        } else {
            Action::Update
        };
        let mut change = Change::new(
            ResourceKind::TaxRate,
            &addr,
            action,
            Some(live.id.clone()),
            title,
            fingerprint(&[live]),
        );
        if action == Action::Archive {
            change.reason = Some("billing.toml declares `active = false`".to_owned());
        }
        change.fields = fields;
        let idx = b.add_change(change);
        b.add_step(
            idx,
            "update tax rate",
            Request::UpdateTaxRate {
                rate: ObjRef::Id(live.id.clone()),
                update,
            },
            vec![],
        );
    }
    // Active managed rates that are not current: duplicates, and rates that left billing.toml.
    let others: Vec<(String, LiveTaxRate)> = b
        .managed
        .all_of::<LiveTaxRate>()
        .map(|(a, o)| (a.to_owned(), o.clone()))
        .filter(|(_, r)| r.active && !current.contains(&r.id))
        .collect();
    for (addr, live) in others {
        let removed = !catalog.tax_rates.keys().any(|k| rate_address(k) == addr);
        let mut change = Change::new(
            ResourceKind::TaxRate,
            &addr,
            Action::Archive,
            Some(live.id.clone()),
            live.title(),
            fingerprint(&[&live]),
        );
        change.fields.push(FieldChange::new(
            "active",
            FieldValue::Bool(true),
            FieldValue::Bool(false),
        ));
        if removed {
            change.reason = Some("removed from billing.toml".to_owned());
            change.destroy = true;
        } else {
            change.reason = Some("a duplicate at this address".to_owned());
        }
        change.notes.push(format!(
            "subscriptions and invoices that use {} keep it; it can no longer be applied to new ones",
            live.id
        ));
        let idx = b.add_change(change);
        b.add_step(
            idx,
            "archive tax rate",
            Request::UpdateTaxRate {
                rate: ObjRef::Id(live.id.clone()),
                update: TaxRateUpdate {
                    active: Some(false),
                    ..TaxRateUpdate::default()
                },
            },
            vec![],
        );
    }
}
