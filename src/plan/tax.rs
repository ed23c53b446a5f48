//! Planning Stripe Tax: the settings singleton (only the fields billing.toml declares, since
//! Stripe cannot clear one), registrations identified by country, type and state (created when
//! missing, ended only when billing.toml says so), and manual tax rates (updated in place,
//! replaced when their percentage or inclusiveness changes, archived when removed).

use super::builder::Builder;
use super::request::{ObjRef, RegistrationSpec, RegistrationUpdate, Request, TaxSettingsUpdate};
use super::value::{FieldChange, FieldValue, push_if_changed};
use super::{Action, Change};
use crate::catalog::{PostalAddress, Registration};
use crate::digest::fingerprint;
use crate::live::{LiveAddress, LiveRegistration};
use crate::resource::ResourceKind;
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
