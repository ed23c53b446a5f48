//! Tax registrations, identified by country, type and state (registrations carry no
//! metadata): created when missing, ended only when billing.toml says so, never touched
//! because billing.toml leaves them out (the Dashboard may have made them).

use serde::Serialize;
use stripe_client_core::StripeRequest;

use super::action::Action;
use super::builder::Builder;
use super::change::Change;
use super::lifecycle::update_by_id;
use super::request::{Encode, Writes};
use super::value::{FieldChange, FieldValue};
use super::wire::WireRequest;
use crate::catalog::Registration;
use crate::digest::fingerprint;
use crate::live::LiveRegistration;
use crate::plan::request::Resolve;
use crate::resource::ResourceKind;
use crate::timestamp::format_timestamp;

/// `tax.registrations.US.state_sales_tax.CA`.
fn registration_address(r: &Registration) -> String {
    r.address().to_string()
}

fn same_registration(r: &Registration, l: &LiveRegistration) -> bool {
    l.country == r.country && l.kind == r.kind && l.state == r.state
}

/// Registrations: created when none that has not expired matches; ended only by `ends_at`;
/// never touched because billing.toml leaves them out (the Dashboard may have made them).
pub(crate) fn plan(b: &mut Builder<'_>) {
    let Some(tax) = &b.catalog.tax else {
        return;
    };
    for r in &tax.registrations {
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
        match matching.first() {
            None => create(b, r, &same),
            Some(live) => update(b, r, live),
        }
    }
}

fn title(r: &Registration) -> String {
    format!("tax registration {}", r.label())
}

/// When billing.toml ends a registration: at a future moment, or now (`Some(None)`) for one
/// that has passed, since Stripe takes no past `expires_at`.
fn end(r: &Registration, now: i64) -> Option<Option<i64>> {
    r.ends_at.map(|at| at.filter(|t| *t > now))
}

/// A registration none matches: created, unless billing.toml has already ended it.
fn create(b: &mut Builder<'_>, r: &Registration, same: &[&LiveRegistration]) {
    let now = b.now;
    if r.ends_at.is_some_and(|at| at.is_none_or(|t| t <= now)) {
        return;
    }
    let spec = RegistrationSpec {
        country: r.country.clone(),
        kind: r.kind.clone(),
        state: r.state.clone(),
        active_from: r.active_from.filter(|t| *t > now),
        expires_at: end(r, now).flatten(),
    };
    let mut change = Change::new(
        ResourceKind::TaxRegistration,
        &registration_address(r),
        Action::Create,
        None,
        title(r),
        fingerprint(same),
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
            "ends_at",
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
        RegistrationWrite::Create(spec),
        vec![],
    );
}

/// The fields of a matching registration to change, and whether the change cancels it (ends
/// it before it starts).
fn changes(
    b: &mut Builder<'_>,
    r: &Registration,
    live: &LiveRegistration,
) -> (Vec<FieldChange>, RegistrationUpdate, bool) {
    let now = b.now;
    let addr = registration_address(r);
    let now_word = || FieldValue::Word("now".to_owned());
    let scheduled = live.active_from > now;
    let mut fields = Vec::new();
    let mut update = RegistrationUpdate::default();
    let mut cancelled = false;
    match end(r, now) {
        // Ending a scheduled registration before it starts: Stripe takes no end before the
        // start, so it starts and ends now, and never collects tax.
        Some(at) if scheduled && at.unwrap_or(now) < live.active_from => {
            fields.push(FieldChange::new(
                "active_from",
                FieldValue::date(Some(live.active_from)),
                now_word(),
            ));
            fields.push(FieldChange::new(
                "ends_at",
                FieldValue::date(live.expires_at),
                now_word(),
            ));
            update.active_from = Some(None);
            update.expires_at = Some(None);
            cancelled = true;
        }
        Some(at) if live.expires_at != at || at.is_none() => {
            fields.push(FieldChange::new(
                "ends_at",
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
    (fields, update, cancelled)
}

/// A matching registration: its start moved or its end set, as billing.toml declares.
fn update(b: &mut Builder<'_>, r: &Registration, live: &LiveRegistration) {
    let (fields, update, cancelled) = changes(b, r, live);
    if fields.is_empty() {
        return;
    }
    let mut change = Change::new(
        ResourceKind::TaxRegistration,
        &registration_address(r),
        Action::Update,
        Some(live.id.clone()),
        title(r),
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
        update_by_id::<RegistrationSpec>(&live.id, update),
        vec![],
    );
}

/// A tax registration to create.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(super) struct RegistrationSpec {
    pub country: String,
    /// `country_options[<cc>][type]`.
    pub kind: String,
    /// The US state or Canadian province, for the types that take one.
    pub state: Option<String>,
    /// `None` is `now`.
    pub active_from: Option<i64>,
    pub expires_at: Option<i64>,
}

/// The fields of a tax registration to change.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub(super) struct RegistrationUpdate {
    /// `Some(None)` is `now`.
    pub active_from: Option<Option<i64>>,
    /// `Some(None)` is `now`.
    pub expires_at: Option<Option<i64>>,
}

/// `POST /v1/tax/registrations`.
pub(crate) fn create_request(r: &RegistrationSpec) -> WireRequest {
    use stripe_misc::tax_registration::{
        CreateTaxRegistration, CreateTaxRegistrationActiveFrom, CreateTaxRegistrationCountryOptions,
    };
    let active_from = r.active_from.map_or(
        CreateTaxRegistrationActiveFrom::Now,
        CreateTaxRegistrationActiveFrom::Timestamp,
    );
    let mut req = CreateTaxRegistration::new(
        active_from,
        r.country.clone(),
        CreateTaxRegistrationCountryOptions::new(),
    );
    if let Some(at) = r.expires_at {
        req = req.expires_at(at);
    }
    // async-stripe types `country_options` with one struct per country; the form fields are
    // the same shape for every country, so they are written directly.
    let cc = r.country.to_ascii_lowercase();
    let mut extra = vec![(format!("country_options[{cc}][type]"), r.kind.clone())];
    if let Some(state) = &r.state {
        if r.country == "CA" {
            extra.push((
                format!("country_options[{cc}][province_standard][province]"),
                state.clone(),
            ));
        } else {
            extra.push((format!("country_options[{cc}][state]"), state.clone()));
        }
    }
    WireRequest::from_builder(req.build(), extra)
}

/// `POST /v1/tax/registrations/{id}`.
pub(crate) fn update_request(id: String, u: &RegistrationUpdate) -> WireRequest {
    use stripe_misc::tax_registration::{
        UpdateTaxRegistration, UpdateTaxRegistrationActiveFrom, UpdateTaxRegistrationExpiresAt,
    };
    let mut r = UpdateTaxRegistration::new(id);
    if let Some(at) = u.active_from {
        r = r.active_from(at.map_or(
            UpdateTaxRegistrationActiveFrom::Now,
            UpdateTaxRegistrationActiveFrom::Timestamp,
        ));
    }
    if let Some(at) = u.expires_at {
        r = r.expires_at(at.map_or(
            UpdateTaxRegistrationExpiresAt::Now,
            UpdateTaxRegistrationExpiresAt::Timestamp,
        ));
    }
    WireRequest::from_builder(r.build(), vec![])
}

/// A write to a tax registration.
pub(crate) type RegistrationWrite = Writes<RegistrationSpec>;

impl Encode for RegistrationSpec {
    type Update = RegistrationUpdate;

    fn create(&self, _resolve: Resolve<'_>) -> Vec<WireRequest> {
        vec![create_request(self)]
    }

    fn update(id: String, update: &RegistrationUpdate, _resolve: Resolve<'_>) -> Vec<WireRequest> {
        vec![update_request(id, update)]
    }
}
