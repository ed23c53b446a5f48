//! Manual tax rates: created, updated in place, replaced when their percentage, inclusiveness
//! or a field Stripe cannot clear changes, archived when declared inactive or removed. Their
//! whole life is the shared one ([`super::lifecycle`]).

use std::collections::BTreeMap;

use serde::Serialize;
use stripe_client_core::StripeRequest;

use super::action::Action;
use super::builder::Builder;
use super::lifecycle::{Lifecycle, Planned, update_by_id};
use super::request::Request;
use super::request::{Encode, Writes};
use super::value::{FieldChange, FieldValue};
use super::wire::{WireRequest, metadata_set, metadata_update, parse};
use crate::catalog::{Catalog, TaxRate};
use crate::live::LiveTaxRate;
use crate::plan::request::Resolve;
use crate::resource::owned_metadata;

/// A manual tax rate to create: the declared rate, with the metadata it is created with
/// (declared plus billing's ownership marker).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct TaxRateSpec {
    pub rate: TaxRate,
    pub metadata: BTreeMap<String, String>,
}

/// The fields of a tax rate to change (Stripe changes all but percentage and inclusive).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub(super) struct TaxRateUpdate {
    pub active: Option<bool>,
    pub display_name: Option<String>,
    pub country: Option<String>,
    pub state: Option<String>,
    pub jurisdiction: Option<String>,
    pub tax_type: Option<String>,
    pub description: Option<String>,
    /// Keys to set (`Some`) or remove (`None`).
    pub metadata: BTreeMap<String, Option<String>>,
}

/// The tax-rate kind on the shared lifecycle.
pub(crate) struct TaxRates;

fn percent(text: &str) -> String {
    crate::catalog::parse_decimal(text)
        .map_or_else(|_| text.to_owned(), |d| d.normalize().to_string())
}

/// `inclusive` as billing.toml writes it: `true` or `false`.
fn inclusiveness(inclusive: bool) -> FieldValue {
    FieldValue::Bool(inclusive)
}

/// The optional text fields of a rate, declared and live, by name.
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

impl TaxRates {
    fn spec(b: &Builder<'_>, address: &str, r: &TaxRate) -> TaxRateSpec {
        TaxRateSpec {
            rate: r.clone(),
            metadata: owned_metadata(&r.metadata, address, b.namespace, r.on_remove.recorded()),
        }
    }

    /// The fields a new rate shows: every declared one.
    fn creation_fields(r: &TaxRate) -> Vec<FieldChange> {
        let TaxRate {
            key: _,
            id: _,
            moved_from: _,
            on_remove: _,
            display_name,
            percentage,
            inclusive,
            active,
            country,
            state,
            jurisdiction,
            tax_type,
            description,
            metadata: _,
        } = r;
        let mut fields = vec![
            FieldChange::new(
                "display_name",
                FieldValue::None,
                FieldValue::Text(display_name.clone()),
            ),
            FieldChange::new(
                "percentage",
                FieldValue::None,
                FieldValue::Word(format!("{}%", percentage.normalize())),
            ),
            FieldChange::new("inclusive", FieldValue::None, inclusiveness(*inclusive)),
        ];
        for (field, value) in [
            ("country", country),
            ("state", state),
            ("jurisdiction", jurisdiction),
            ("tax_type", tax_type),
            ("description", description),
        ] {
            if value.is_some() {
                fields.push(FieldChange::new(
                    field,
                    FieldValue::None,
                    FieldValue::text(value.as_deref()),
                ));
            }
        }
        if !active {
            fields.push(FieldChange::new(
                "active",
                FieldValue::None,
                FieldValue::Bool(false),
            ));
        }
        fields
    }
}

impl<'a> Lifecycle<'a> for TaxRates {
    type Entry = TaxRate;
    type Live = LiveTaxRate;

    fn entries(&self, catalog: &'a Catalog) -> &'a BTreeMap<String, TaxRate> {
        &catalog.tax_rates
    }

    fn title(&self, r: &TaxRate) -> String {
        format!(
            "tax rate {:?} ({}%, {})",
            r.display_name,
            r.percentage.normalize(),
            if r.inclusive {
                "inclusive"
            } else {
                "exclusive"
            }
        )
    }

    fn active(&self, r: &TaxRate) -> bool {
        r.active
    }

    fn create(&self, b: &Builder<'a>, address: &str, r: &'a TaxRate) -> Planned {
        let spec = Self::spec(b, address, r);
        Planned::new(
            Self::creation_fields(r),
            Vec::new(),
            TaxRateWrite::Create(spec),
        )
    }

    /// Percentage and inclusiveness, and clearing a field: Stripe's update marks only
    /// metadata as clearable, and billing takes that reading.
    fn shape_diff(&self, r: &TaxRate, live: &LiveTaxRate) -> Vec<FieldChange> {
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

    fn replaced_note(&self, live: &LiveTaxRate) -> Option<String> {
        Some(format!(
            "subscriptions and invoices that use {} keep it; new ones need the new rate's id",
            live.id
        ))
    }

    fn update(
        &self,
        b: &Builder<'a>,
        address: &str,
        r: &'a TaxRate,
        live: &'a LiveTaxRate,
    ) -> Option<Planned> {
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
        let TaxRateUpdate {
            country,
            state,
            jurisdiction,
            tax_type,
            description,
            ..
        } = &mut update;
        let slots = [country, state, jurisdiction, tax_type, description];
        for ((field, want, have), slot) in optional_fields(r, live).into_iter().zip(slots) {
            if let Some(want) = want
                && have != Some(want)
            {
                fields.push(FieldChange::new(
                    field,
                    FieldValue::text(have),
                    FieldValue::text(Some(want)),
                ));
                *slot = Some(want.to_owned());
            }
        }
        let desired = owned_metadata(&r.metadata, address, b.namespace, r.on_remove.recorded());
        update.metadata = b.metadata_update(&desired, &live.metadata, &mut fields);
        Planned::changes(
            fields,
            Vec::new(),
            update_by_id::<TaxRateSpec>(&live.id, update),
        )
    }

    fn retire(&self, live: &LiveTaxRate) -> (Action, Request) {
        let update = TaxRateUpdate {
            active: Some(false),
            ..TaxRateUpdate::default()
        };
        (
            Action::Archive,
            update_by_id::<TaxRateSpec>(&live.id, update).into(),
        )
    }

    fn retired_note(&self, live: &LiveTaxRate) -> String {
        format!(
            "subscriptions and invoices that use {} keep it; it can no longer be applied to new ones",
            live.id
        )
    }
}

/// `POST /v1/tax_rates`.
pub(crate) fn create_request(spec: &TaxRateSpec) -> WireRequest {
    use stripe_product::tax_rate::CreateTaxRate;
    let TaxRate {
        key: _,
        id: _,
        moved_from: _,
        on_remove: _,
        display_name,
        percentage,
        inclusive,
        active,
        country,
        state,
        jurisdiction,
        tax_type,
        description,
        metadata: _,
    } = &spec.rate;
    let percentage = percentage.normalize().to_string();
    let mut r = CreateTaxRate::new(
        display_name.clone(),
        *inclusive,
        percentage.parse::<f64>().unwrap_or_default(),
    )
    .active(*active);
    if let Some(c) = country {
        r = r.country(c.clone());
    }
    if let Some(s) = state {
        r = r.state(s.clone());
    }
    if let Some(j) = jurisdiction {
        r = r.jurisdiction(j.clone());
    }
    if let Some(d) = description {
        r = r.description(d.clone());
    }
    if let Some(k) = tax_type {
        r = r.tax_type(parse::<stripe_shared::TaxRateTaxType>(k));
    }
    r = r.metadata(metadata_set(&spec.metadata));
    // The percentage as written, not as a float prints it.
    let mut w = WireRequest::from_builder(r.build(), vec![]);
    for (k, v) in &mut w.body {
        if k == "percentage" {
            v.clone_from(&percentage);
        }
    }
    w
}

/// `POST /v1/tax_rates/{id}`.
pub(crate) fn update_request(id: String, u: &TaxRateUpdate) -> WireRequest {
    use stripe_product::tax_rate::UpdateTaxRate;
    let TaxRateUpdate {
        active,
        display_name,
        country,
        state,
        jurisdiction,
        tax_type,
        description,
        metadata,
    } = u;
    let mut r = UpdateTaxRate::new(id);
    if let Some(active) = active {
        r = r.active(*active);
    }
    if let Some(n) = display_name {
        r = r.display_name(n.clone());
    }
    if let Some(c) = country {
        r = r.country(c.clone());
    }
    if let Some(s) = state {
        r = r.state(s.clone());
    }
    if let Some(j) = jurisdiction {
        r = r.jurisdiction(j.clone());
    }
    if let Some(d) = description {
        r = r.description(d.clone());
    }
    if let Some(k) = tax_type {
        r = r.tax_type(parse::<stripe_shared::TaxRateTaxType>(k));
    }
    if !metadata.is_empty() {
        r = r.metadata(metadata_update(metadata));
    }
    WireRequest::from_builder(r.build(), vec![])
}

/// A write to a tax rate.
pub(crate) type TaxRateWrite = Writes<TaxRateSpec>;

impl Encode for TaxRateSpec {
    type Update = TaxRateUpdate;

    fn create(&self, _resolve: Resolve<'_>) -> Vec<WireRequest> {
        vec![create_request(self)]
    }

    fn update(id: String, update: &TaxRateUpdate, _resolve: Resolve<'_>) -> Vec<WireRequest> {
        vec![update_request(id, update)]
    }

    fn archives(update: &TaxRateUpdate) -> bool {
        update.active == Some(false)
    }
}
