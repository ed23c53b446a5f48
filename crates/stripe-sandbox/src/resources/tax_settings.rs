//! Tax settings (`/v1/tax/settings`): the account's one `tax.settings` object, its parameter
//! table, its JSON shape and the retrieve / update handlers (docs/stripe-rules.md#tax-settings).
//!
//! There is nothing to create, list or delete: every account has its settings, and a fresh
//! account has none of them set (status `pending`, waiting for the head office). "All
//! parameters are editable but none can be removed once set": no parameter accepts `""`.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::products;
use crate::countries;
use crate::error::ApiError;
use crate::handler::{Call, Ctx};
use crate::params::{EXPAND, Field, ParamsExt, Ty};

// ---------------------------------------------------------------------------------------------
// The stored record

/// The stored settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct TaxSettings {
    /// `defaults.tax_behavior`: `inclusive`, `exclusive` or `inferred_by_currency`.
    pub tax_behavior: Option<String>,
    /// `defaults.tax_code`.
    pub tax_code: Option<String>,
    /// `head_office.address`.
    pub head_office: Option<Address>,
}

/// A postal address; only `country` is required.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Address {
    pub city: Option<String>,
    pub country: String,
    pub line1: Option<String>,
    pub line2: Option<String>,
    pub postal_code: Option<String>,
    pub state: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// Parameter tables

const LINE: Ty = Ty::String { max: 5000 };

/// `head_office[address]`. Stripe's request type leaves every field optional; an address
/// without a country cannot place the head office, so the sandbox requires it (stricter
/// reading).
const ADDRESS: &[Field] = &[
    Field::new("city", LINE),
    Field::new("country", Ty::String { max: 2 }).required(),
    Field::new("line1", LINE),
    Field::new("line2", LINE),
    Field::new("postal_code", LINE),
    Field::new("state", LINE),
];

const HEAD_OFFICE: &[Field] = &[Field::new("address", Ty::Object(ADDRESS)).required()];

const DEFAULTS: &[Field] = &[
    Field::new(
        "tax_behavior",
        Ty::Enum(&["exclusive", "inclusive", "inferred_by_currency"]),
    ),
    Field::new("tax_code", Ty::String { max: 5000 }),
];

pub(crate) static RETRIEVE: &[Field] = &[EXPAND];

/// `POST /v1/tax/settings`. Nothing is emptyable: a set value cannot be removed.
pub(crate) static UPDATE: &[Field] = &[
    Field::new("defaults", Ty::Object(DEFAULTS)),
    EXPAND,
    Field::new("head_office", Ty::Object(HEAD_OFFICE)),
];

// ---------------------------------------------------------------------------------------------
// Rendering

/// The fields still missing before Stripe Tax can calculate: the head office. Stripe documents
/// that the list "includes the entry `head_office` when the status is `pending`", and names no
/// other field; the defaults are optional.
fn missing_fields(settings: &TaxSettings) -> Vec<&'static str> {
    if settings.head_office.is_some() {
        Vec::new()
    } else {
        vec!["head_office"]
    }
}

fn render_address(a: &Address) -> Value {
    json!({
        "city": a.city,
        "country": a.country,
        "line1": a.line1,
        "line2": a.line2,
        "postal_code": a.postal_code,
        "state": a.state,
    })
}

/// The settings' JSON.
pub(crate) fn render(settings: &TaxSettings) -> Value {
    let missing = missing_fields(settings);
    let (status, details) = if missing.is_empty() {
        ("active", json!({ "active": {} }))
    } else {
        (
            "pending",
            json!({ "pending": { "missing_fields": missing } }),
        )
    };
    json!({
        "object": "tax.settings",
        "defaults": {
            "provider": "stripe",
            "tax_behavior": settings.tax_behavior,
            "tax_code": settings.tax_code,
        },
        "head_office": settings
            .head_office
            .as_ref()
            .map(|a| json!({ "address": render_address(a) })),
        "livemode": false,
        "status": status,
        "status_details": details,
    })
}

// ---------------------------------------------------------------------------------------------
// Handlers

fn address(a: &Map<String, Value>) -> Result<Address, ApiError> {
    let param = "head_office[address][country]";
    let country = a.str_of("country").unwrap_or_default();
    countries::check_country(country, param)?;
    let text = |key: &str| a.str_of(key).map(str::to_string);
    Ok(Address {
        city: text("city"),
        country: country.to_string(),
        line1: text("line1"),
        line2: text("line2"),
        postal_code: text("postal_code"),
        state: text("state"),
    })
}

/// `GET /v1/tax/settings`.
pub(crate) fn retrieve(ctx: &mut Ctx<'_, '_>, _call: &Call) -> Result<Value, ApiError> {
    Ok(render(&ctx.tx.state().tax_settings))
}

/// `POST /v1/tax/settings`. Each value sent replaces the one set before; what is not sent is
/// kept. A new `head_office[address]` replaces the whole address (whether Stripe merges it
/// field by field is unverified; replacing is what a complete address means).
pub(crate) fn update(ctx: &mut Ctx<'_, '_>, call: &Call) -> Result<Value, ApiError> {
    let p = &call.params;
    let mut settings = ctx.tx.state().tax_settings.clone();
    if let Some(defaults) = p.obj_of("defaults") {
        if let Some(behavior) = defaults.str_of("tax_behavior") {
            settings.tax_behavior = Some(behavior.to_string());
        }
        if let Some(code) = defaults.str_of("tax_code") {
            products::check_tax_code(code, "defaults[tax_code]")?;
            settings.tax_code = Some(code.to_string());
        }
    }
    if let Some(a) = p
        .obj_of("head_office")
        .and_then(|office| office.obj_of("address"))
    {
        settings.head_office = Some(address(a)?);
    }
    ctx.tx.put_tax_settings(settings);
    Ok(render(&ctx.tx.state().tax_settings))
}
