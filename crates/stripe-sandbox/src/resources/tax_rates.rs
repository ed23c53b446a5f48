//! Tax rates (`/v1/tax_rates`): parameter tables, the stored record, its JSON shape and the create
//! / retrieve / update / list handlers (docs/stripe-rules.md#tax-rates). Tax rates cannot be
//! deleted; they are archived with `active=false`. `percentage` and `inclusive` are immutable
//! (unknown parameters on update).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::countries;
use crate::error::ApiError;
use crate::expand::Expand;
use crate::handler::{self, Call, Ctx, Resource};
use crate::ids;
use crate::list::{CREATED, ENDING_BEFORE, LIMIT, STARTING_AFTER};
use crate::metadata;
use crate::params::{EXPAND, Field, ParamsExt, Ty};
use crate::state::{State, find, unused_id};

// ---------------------------------------------------------------------------------------------
// The stored record, its id

/// A stored tax rate.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct TaxRate {
    pub id: String,
    pub seq: u64,
    pub active: bool,
    pub country: Option<String>,
    pub created: i64,
    pub description: Option<String>,
    pub display_name: String,
    pub inclusive: bool,
    pub jurisdiction: Option<String>,
    pub metadata: BTreeMap<String, String>,
    /// At most four decimal places, so an `f64` holds it exactly enough to print it back as
    /// sent (`8.875`).
    pub percentage: f64,
    pub state: Option<String>,
    pub tax_type: Option<String>,
}

/// A tax rate id: `txr_` + 24 alphanumerics.
fn new_id() -> String {
    ids::random("txr_", 24)
}

// ---------------------------------------------------------------------------------------------
// Parameter tables

/// `percentage`: 0 to 100. Stripe documents no precision; the sandbox takes at most four
/// decimal places (stricter reading).
const PERCENTAGE: Ty = Ty::Float {
    min: 0.0,
    max: 100.0,
    places: 4,
};

/// `tax_type`: the types of the API version async-stripe speaks (2026-09-30.endive,
/// `stripe_shared::TaxRateTaxType`), which include `digital_excise_tax` and `utility_users_tax`.
const TAX_TYPE: Ty = Ty::Enum(stripe_facts::TAX_TYPES);

const DISPLAY_NAME: Ty = Ty::String { max: 50 };
const JURISDICTION: Ty = Ty::String { max: 50 };
const DESCRIPTION: Ty = Ty::String { max: 5000 };
const COUNTRY: Ty = Ty::String { max: 2 };
const STATE: Ty = Ty::String { max: 3 };

/// `POST /v1/tax_rates`. Only `metadata` is emptyable (docs/stripe-rules.md#empty-values), and not
/// on create (stricter reading).
pub(crate) static CREATE: &[Field] = &[
    Field::new("active", Ty::Boolean),
    Field::new("country", COUNTRY),
    Field::new("description", DESCRIPTION),
    Field::new("display_name", DISPLAY_NAME).required(),
    EXPAND,
    Field::new("inclusive", Ty::Boolean).required(),
    Field::new("jurisdiction", JURISDICTION),
    Field::new("metadata", Ty::Metadata),
    Field::new("percentage", PERCENTAGE).required(),
    Field::new("state", STATE),
    Field::new("tax_type", TAX_TYPE),
];

/// `POST /v1/tax_rates/{id}`: `percentage` and `inclusive` are immutable (unknown here).
/// Whether `country`, `state`, `jurisdiction` or `description` can be unset with `""` is
/// unverified (the spec marks only `metadata` emptyable): refused (stricter reading).
pub(crate) static UPDATE: &[Field] = &[
    Field::new("active", Ty::Boolean),
    Field::new("country", COUNTRY),
    Field::new("description", DESCRIPTION),
    Field::new("display_name", DISPLAY_NAME),
    EXPAND,
    Field::new("jurisdiction", JURISDICTION),
    Field::new("metadata", Ty::Metadata).emptyable(),
    Field::new("state", STATE),
    Field::new("tax_type", TAX_TYPE),
];

pub(crate) static RETRIEVE: &[Field] = &[EXPAND];

/// `GET /v1/tax_rates`: without `active`, active and archived rates alike.
pub(crate) static LIST: &[Field] = &[
    Field::new("active", Ty::Boolean),
    CREATED,
    ENDING_BEFORE,
    EXPAND,
    Field::new("inclusive", Ty::Boolean),
    LIMIT,
    STARTING_AFTER,
];

// ---------------------------------------------------------------------------------------------
// Rules

/// `state` is an ISO 3166-2 subdivision code without its country prefix (`NY`): one to three
/// uppercase letters or digits. It only means something within a country, so a rate with a
/// state must have a `country` too (Stripe's own check is unverified; stricter reading).
fn check_location(rate: &TaxRate) -> Result<(), ApiError> {
    if let Some(state) = &rate.state {
        if !state
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        {
            return Err(ApiError::invalid(format!(
                "Invalid state: '{state}'. Use an ISO 3166-2 subdivision code without the \
                 country prefix, such as 'NY'."
            ))
            .with_param("state"));
        }
        if rate.country.is_none() {
            return Err(
                ApiError::invalid("A tax rate with a `state` must also have a `country`.")
                    .with_param("state"),
            );
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Rendering

/// A percentage as a JSON number: whole numbers as integers (`19`, as Stripe shows them),
/// others as the shortest decimal that reads back the same (`8.875`).
fn number(value: f64) -> Value {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        // Whole and small: exact as an integer.
        return json!(value as i64);
    }
    serde_json::Number::from_f64(value).map_or(Value::Null, Value::Number)
}

impl Resource for TaxRate {
    fn render(&self, _state: &State, _expand: &Expand, _now: i64) -> Value {
        render(self)
    }
}

/// The rate's JSON. Manual rates have a `percentage` rate type, no flat amount and no
/// jurisdiction level; their effective percentage is their percentage.
pub(crate) fn render(rate: &TaxRate) -> Value {
    json!({
        "id": rate.id,
        "object": "tax_rate",
        "active": rate.active,
        "country": rate.country,
        "created": rate.created,
        "description": rate.description,
        "display_name": rate.display_name,
        "effective_percentage": number(rate.percentage),
        "flat_amount": null,
        "inclusive": rate.inclusive,
        "jurisdiction": rate.jurisdiction,
        "jurisdiction_level": null,
        "livemode": false,
        "metadata": metadata::render(&rate.metadata),
        "percentage": number(rate.percentage),
        "rate_type": "percentage",
        "state": rate.state,
        "tax_type": rate.tax_type,
    })
}

// ---------------------------------------------------------------------------------------------
// Handlers

/// `POST /v1/tax_rates`.
pub(crate) fn create(ctx: &mut Ctx<'_, '_>, call: &Call) -> Result<Value, ApiError> {
    let p = &call.params;
    if let Some(country) = p.str_of("country") {
        countries::check_country(country, "country")?;
    }
    let text = |key: &str| p.str_of(key).map(str::to_string);
    let state = ctx.tx.state();
    let rate = TaxRate {
        id: unused_id::<TaxRate>(state, new_id),
        seq: 0,
        active: p.bool_of("active").unwrap_or(true),
        country: text("country"),
        created: ctx.now,
        description: text("description"),
        display_name: text("display_name").unwrap_or_default(),
        inclusive: p.bool_of("inclusive").unwrap_or(false),
        jurisdiction: text("jurisdiction"),
        metadata: metadata::create(p.get("metadata"), "metadata")?,
        percentage: p.float_of("percentage").unwrap_or(0.0),
        state: text("state"),
        tax_type: text("tax_type"),
    };
    check_location(&rate)?;
    ctx.create(rate, &call.expand)
}

/// `POST /v1/tax_rates/{id}`.
pub(crate) fn update(ctx: &mut Ctx<'_, '_>, call: &Call) -> Result<Value, ApiError> {
    let p = &call.params;
    let mut rate = find::<TaxRate>(ctx.tx.state(), &call.id)?.clone();
    if let Some(active) = p.bool_of("active") {
        rate.active = active;
    }
    if let Some(country) = p.str_of("country") {
        countries::check_country(country, "country")?;
        rate.country = Some(country.to_string());
    }
    let set = |field: &mut Option<String>, key: &str| {
        if let Some(value) = p.str_of(key) {
            *field = Some(value.to_string());
        }
    };
    set(&mut rate.description, "description");
    set(&mut rate.jurisdiction, "jurisdiction");
    set(&mut rate.state, "state");
    set(&mut rate.tax_type, "tax_type");
    if let Some(name) = p.str_of("display_name") {
        rate.display_name = name.to_string();
    }
    rate.metadata = metadata::merge(&rate.metadata, p.get("metadata"), "metadata")?;
    check_location(&rate)?;
    ctx.save(rate, &call.expand)
}

/// `GET /v1/tax_rates`.
pub(crate) fn list(ctx: &mut Ctx<'_, '_>, call: &Call) -> Result<Value, ApiError> {
    let p = &call.params;
    let keep =
        |rate: &TaxRate| p.admits("active", rate.active) && p.admits("inclusive", rate.inclusive);
    handler::page(ctx, call, "/v1/tax_rates", keep)
}

#[cfg(test)]
mod tests {
    use super::number;

    #[test]
    fn percentages_print_as_sent() {
        assert_eq!(number(19.0).to_string(), "19");
        assert_eq!(number(8.875).to_string(), "8.875");
        assert_eq!(number(0.0001).to_string(), "0.0001");
        assert_eq!(number(99.9999).to_string(), "99.9999");
    }
}
