//! The account's Stripe Tax settings, a singleton: only the fields billing.toml declares are
//! managed, since Stripe cannot clear one.

use serde::Serialize;
use stripe_client_core::StripeRequest;

use super::action::Action;
use super::builder::Builder;
use super::change::Change;
use super::request::{ObjRef, Write, rank};
use super::value::{FieldChange, FieldValue, push_if_changed};
use super::wire::{WireRequest, parse};
use crate::catalog::PostalAddress;
use crate::digest::fingerprint;
use crate::live::LiveAddress;
use crate::plan::request::Resolve;
use crate::resource::ResourceKind;

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
pub(crate) fn plan(b: &mut Builder<'_>) {
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
        TaxSettingsWrite { update },
        vec![],
    );
}

/// Tax settings to change; `None` leaves a field alone (Stripe cannot clear one).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub(super) struct TaxSettingsUpdate {
    pub default_tax_behavior: Option<String>,
    pub default_tax_code: Option<String>,
    /// The whole address (Stripe replaces it): declared lines, and the others as they are.
    pub head_office: Option<PostalAddress>,
}

/// `POST /v1/tax/settings`.
pub(crate) fn update_request(u: &TaxSettingsUpdate) -> WireRequest {
    use stripe_misc::tax_settings::{
        UpdateTaxSettings, UpdateTaxSettingsDefaults, UpdateTaxSettingsHeadOffice,
        UpdateTaxSettingsHeadOfficeAddress,
    };
    let mut r = UpdateTaxSettings::new();
    if u.default_tax_behavior.is_some() || u.default_tax_code.is_some() {
        let mut defaults = UpdateTaxSettingsDefaults::new();
        defaults.tax_behavior = u.default_tax_behavior.as_deref().map(parse);
        defaults.tax_code = u.default_tax_code.clone();
        r = r.defaults(defaults);
    }
    if let Some(a) = &u.head_office {
        // Stripe cannot clear an address line: the plan sends the lines to keep.
        let mut address = UpdateTaxSettingsHeadOfficeAddress::new();
        address.line1.clone_from(&a.line1);
        address.line2.clone_from(&a.line2);
        address.city.clone_from(&a.city);
        address.state.clone_from(&a.state);
        address.postal_code.clone_from(&a.postal_code);
        address.country = Some(a.country.clone());
        r = r.head_office(UpdateTaxSettingsHeadOffice::new(address));
    }
    WireRequest::from_builder(r.build(), vec![])
}

/// A write to the account's tax settings.
#[derive(Debug, Clone)]
pub(crate) struct TaxSettingsWrite {
    pub update: TaxSettingsUpdate,
}

impl Write for TaxSettingsWrite {
    fn target(&self) -> Option<&ObjRef> {
        None
    }

    fn rank(&self) -> u8 {
        rank::CREATE
    }

    fn wire(&self, _resolve: Resolve<'_>) -> Vec<WireRequest> {
        vec![update_request(&self.update)]
    }
}
