//! Tax registrations (`/v1/tax/registrations`): parameter tables, the stored record, its JSON shape
//! and the create / retrieve / update / list handlers (docs/stripe-rules.md#tax-registrations).
//!
//! A registration is identified by its country and its `country_options` (type, and the US
//! state, Canadian province or US local jurisdiction); it carries no metadata, cannot be
//! deleted (there is no DELETE route: 404 unrecognized URL) and ends with `expires_at`. Only
//! `active_from` and `expires_at` can change. Its `status` is derived from the sandbox clock:
//! `scheduled` before `active_from`, `expired` from `expires_at` on, `active` in between.
//! No events are recorded (Stripe has no event type for tax registrations).
//!
//! Which countries take which `country_options` is the table of the API version async-stripe
//! speaks (2026-09-30.endive: `stripe_misc::tax_registration::CreateTaxRegistrationCountryOptions`
//! and the `TaxProductRegistrationsResourceCountryOptions*` object types):
//!
//! - EU member states: `type` ∈ `ioss`, `oss_non_union`, `oss_union`, `standard`, with
//!   `standard[place_of_supply_scheme]` ∈ `inbound_goods`, `small_seller`, `standard`;
//! - countries with a standard registration (GB, AU, CH, NO, JP, NZ, SG, AE, and others):
//!   `type=standard`, with `standard[place_of_supply_scheme]` ∈ `inbound_goods`, `standard`
//!   (in endive these countries take no `simplified` registration, so it is refused);
//! - countries with a simplified registration only (e.g. IN, MX, KR, TR, TH): `type=simplified`;
//! - CA: `province_standard` (with `province_standard[province]`), `simplified`, `standard`;
//! - US: `state`, and a `type` among the state and local taxes, the local ones with
//!   `<type>[jurisdiction]`, `state_sales_tax` with optional `state_sales_tax[elections]`.
//!
//! Every other country is refused.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::countries::{self, US_STATES};
use crate::error::ApiError;
use crate::expand::Expand;
use crate::handler::{self, Call, Ctx, Resource};
use crate::ids;
use crate::list::{ENDING_BEFORE, LIMIT, STARTING_AFTER};
use crate::params::{EXPAND, Field, ParamsExt, Ty};
use crate::state::{State, find, unused_id};

// ---------------------------------------------------------------------------------------------
// The stored record, its id

/// A stored registration.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct TaxRegistration {
    pub id: String,
    pub seq: u64,
    pub active_from: i64,
    /// Uppercase ISO code (`DE`).
    pub country: String,
    /// The options of `country` as shown in `country_options.<cc>` (`{"type": "standard", …}`).
    pub options: Map<String, Value>,
    pub created: i64,
    pub expires_at: Option<i64>,
}

/// A tax registration id: `taxreg_` + 24 alphanumerics.
fn new_id() -> String {
    ids::random("taxreg_", 24)
}

impl TaxRegistration {
    /// `scheduled`, `active` or `expired` at `now`.
    pub(crate) fn status(&self, now: i64) -> &'static str {
        if self.expires_at.is_some_and(|at| now >= at) {
            "expired"
        } else if now < self.active_from {
            "scheduled"
        } else {
            "active"
        }
    }

    /// What two registrations must share to cover the same tax: country, type, and US state,
    /// Canadian province or local jurisdiction.
    fn identity(
        &self,
    ) -> (
        String,
        Option<&str>,
        Option<&str>,
        Option<&str>,
        Option<&str>,
    ) {
        let kind = self.options.str_of("type");
        let jurisdiction = kind
            .and_then(|k| self.options.obj_of(k))
            .and_then(|o| o.str_of("jurisdiction"));
        let province = self
            .options
            .obj_of("province_standard")
            .and_then(|o| o.str_of("province"));
        (
            self.country.clone(),
            kind,
            self.options.str_of("state"),
            province,
            jurisdiction,
        )
    }

    /// Whether `[active_from, expires_at)` overlaps the other registration's period (an empty
    /// period, ended at its start, overlaps nothing).
    fn overlaps(&self, other: &TaxRegistration) -> bool {
        let end = |r: &TaxRegistration| r.expires_at.unwrap_or(i64::MAX);
        self.active_from < end(self)
            && other.active_from < end(other)
            && self.active_from < end(other)
            && other.active_from < end(self)
    }
}

// ---------------------------------------------------------------------------------------------
// Country classes (the table `COUNTRY_OPTIONS` follows them and those of `stripe_facts`; the
// tests check it does)

/// Countries whose registration object shows `standard[place_of_supply_scheme]`.
#[cfg(test)]
const INBOUND_GOODS_COUNTRIES: &[&str] = &["ae", "au", "ch", "gb", "jp", "no", "nz", "sg"];

/// Countries with a `standard` registration whose object shows only its type: the request
/// takes `standard[place_of_supply_scheme]`, the object has no place for it.
const DEFAULT_COUNTRIES: &[&str] = &[
    "al", "ao", "aw", "ba", "bb", "bd", "bf", "bh", "bs", "cd", "et", "gn", "is", "me", "mk", "mr",
    "om", "rs", "sr", "uy", "za", "zw",
];

/// Canadian provinces with a provincial sales tax registration (`province_standard`): British
/// Columbia, Manitoba, Québec and Saskatchewan. Stripe documents the parameter as any two-letter
/// province code; the others have no provincial registration, so the sandbox refuses them
/// (stricter reading).
use stripe_facts::CA_PROVINCES;

/// States that levy a retail delivery fee (Colorado and Minnesota, as Stripe's documentation
/// of `state_retail_delivery_fee` lists them). Which other types each state has is not
/// modelled.
use stripe_facts::RETAIL_DELIVERY_FEE_STATES;
/// The US types without a local jurisdiction; the others are local taxes and take
/// `<type>[jurisdiction]`.
use stripe_facts::US_STATE_LEVEL_TYPES;

// ---------------------------------------------------------------------------------------------
// Parameter tables

const TYPE: &str = "type";

/// `standard` of an EU registration: the scheme is required when `standard` is sent.
const EU_STANDARD: &[Field] = &[Field::new(
    "place_of_supply_scheme",
    Ty::Enum(&["inbound_goods", "small_seller", "standard"]),
)
.required()];

const EUROPE: Ty = Ty::Object(&[
    Field::new("standard", Ty::Object(EU_STANDARD)),
    Field::new(
        TYPE,
        Ty::Enum(&["ioss", "oss_non_union", "oss_union", "standard"]),
    )
    .required(),
]);

/// `standard` of other countries. Stripe's request leaves the scheme optional but the object
/// requires one; a `standard` hash without it is refused (stricter reading).
const DEFAULT_STANDARD: &[Field] = &[Field::new(
    "place_of_supply_scheme",
    Ty::Enum(&["inbound_goods", "standard"]),
)
.required()];

const STANDARD: Ty = Ty::Object(&[
    Field::new("standard", Ty::Object(DEFAULT_STANDARD)),
    Field::new(TYPE, Ty::Enum(&["standard"])).required(),
]);

const SIMPLIFIED: Ty = Ty::Object(&[Field::new(TYPE, Ty::Enum(&["simplified"])).required()]);

const CANADA: Ty = Ty::Object(&[
    Field::new(
        "province_standard",
        Ty::Object(&[Field::new("province", Ty::String { max: 2 }).required()]),
    ),
    Field::new(
        TYPE,
        Ty::Enum(&["province_standard", "simplified", "standard"]),
    )
    .required(),
]);

const JURISDICTION: Ty =
    Ty::Object(&[Field::new("jurisdiction", Ty::String { max: 5 }).required()]);

/// `state_sales_tax[elections][]`. Stripe documents no limit on their number; the sandbox takes
/// at most 10 (stricter reading).
const ELECTION: &[Field] = &[
    Field::new("jurisdiction", Ty::String { max: 5 }),
    Field::new(
        TYPE,
        Ty::Enum(&[
            "local_use_tax",
            "simplified_sellers_use_tax",
            "single_local_use_tax",
        ]),
    )
    .required(),
];

const UNITED_STATES: Ty = Ty::Object(&[
    Field::new("admissions_tax", JURISDICTION),
    Field::new("attendance_tax", JURISDICTION),
    Field::new("entertainment_tax", JURISDICTION),
    Field::new("gross_receipts_tax", JURISDICTION),
    Field::new("hospitality_tax", JURISDICTION),
    Field::new("local_amusement_tax", JURISDICTION),
    Field::new("local_lease_tax", JURISDICTION),
    Field::new("luxury_tax", JURISDICTION),
    Field::new("mass_transit_parking_tax", JURISDICTION),
    Field::new("parking_tax", JURISDICTION),
    Field::new("resort_tax", JURISDICTION),
    Field::new("state", Ty::String { max: 2 }).required(),
    Field::new(
        "state_sales_tax",
        Ty::Object(&[Field::new(
            "elections",
            Ty::Array {
                item: &Ty::Object(ELECTION),
                max: 10,
            },
        )
        .required()]),
    ),
    Field::new("tourism_tax", JURISDICTION),
    Field::new(TYPE, Ty::Enum(stripe_facts::US_REGISTRATION_TYPES)).required(),
]);

/// `country_options`: one entry per country that takes registrations, keyed by lowercase code.
const COUNTRY_OPTIONS: &[Field] = &[
    Field::new("ae", STANDARD),
    Field::new("al", STANDARD),
    Field::new("am", SIMPLIFIED),
    Field::new("ao", STANDARD),
    Field::new("at", EUROPE),
    Field::new("au", STANDARD),
    Field::new("aw", STANDARD),
    Field::new("az", SIMPLIFIED),
    Field::new("ba", STANDARD),
    Field::new("bb", STANDARD),
    Field::new("bd", STANDARD),
    Field::new("be", EUROPE),
    Field::new("bf", STANDARD),
    Field::new("bg", EUROPE),
    Field::new("bh", STANDARD),
    Field::new("bj", SIMPLIFIED),
    Field::new("bs", STANDARD),
    Field::new("by", SIMPLIFIED),
    Field::new("ca", CANADA),
    Field::new("cd", STANDARD),
    Field::new("ch", STANDARD),
    Field::new("cl", SIMPLIFIED),
    Field::new("cm", SIMPLIFIED),
    Field::new("co", SIMPLIFIED),
    Field::new("cr", SIMPLIFIED),
    Field::new("cv", SIMPLIFIED),
    Field::new("cy", EUROPE),
    Field::new("cz", EUROPE),
    Field::new("de", EUROPE),
    Field::new("dk", EUROPE),
    Field::new("ec", SIMPLIFIED),
    Field::new("ee", EUROPE),
    Field::new("eg", SIMPLIFIED),
    Field::new("es", EUROPE),
    Field::new("et", STANDARD),
    Field::new("fi", EUROPE),
    Field::new("fr", EUROPE),
    Field::new("gb", STANDARD),
    Field::new("ge", SIMPLIFIED),
    Field::new("gn", STANDARD),
    Field::new("gr", EUROPE),
    Field::new("hr", EUROPE),
    Field::new("hu", EUROPE),
    Field::new("id", SIMPLIFIED),
    Field::new("ie", EUROPE),
    Field::new("in", SIMPLIFIED),
    Field::new("is", STANDARD),
    Field::new("it", EUROPE),
    Field::new("jp", STANDARD),
    Field::new("ke", SIMPLIFIED),
    Field::new("kg", SIMPLIFIED),
    Field::new("kh", SIMPLIFIED),
    Field::new("kr", SIMPLIFIED),
    Field::new("kz", SIMPLIFIED),
    Field::new("la", SIMPLIFIED),
    Field::new("lk", SIMPLIFIED),
    Field::new("lt", EUROPE),
    Field::new("lu", EUROPE),
    Field::new("lv", EUROPE),
    Field::new("ma", SIMPLIFIED),
    Field::new("md", SIMPLIFIED),
    Field::new("me", STANDARD),
    Field::new("mk", STANDARD),
    Field::new("mr", STANDARD),
    Field::new("mt", EUROPE),
    Field::new("mx", SIMPLIFIED),
    Field::new("my", SIMPLIFIED),
    Field::new("ng", SIMPLIFIED),
    Field::new("nl", EUROPE),
    Field::new("no", STANDARD),
    Field::new("np", SIMPLIFIED),
    Field::new("nz", STANDARD),
    Field::new("om", STANDARD),
    Field::new("pe", SIMPLIFIED),
    Field::new("ph", SIMPLIFIED),
    Field::new("pl", EUROPE),
    Field::new("pt", EUROPE),
    Field::new("ro", EUROPE),
    Field::new("rs", STANDARD),
    Field::new("ru", SIMPLIFIED),
    Field::new("sa", SIMPLIFIED),
    Field::new("se", EUROPE),
    Field::new("sg", STANDARD),
    Field::new("si", EUROPE),
    Field::new("sk", EUROPE),
    Field::new("sn", SIMPLIFIED),
    Field::new("sr", STANDARD),
    Field::new("th", SIMPLIFIED),
    Field::new("tj", SIMPLIFIED),
    Field::new("tr", SIMPLIFIED),
    Field::new("tw", SIMPLIFIED),
    Field::new("tz", SIMPLIFIED),
    Field::new("ua", SIMPLIFIED),
    Field::new("ug", SIMPLIFIED),
    Field::new("us", UNITED_STATES),
    Field::new("uy", STANDARD),
    Field::new("uz", SIMPLIFIED),
    Field::new("vn", SIMPLIFIED),
    Field::new("za", STANDARD),
    Field::new("zm", SIMPLIFIED),
    Field::new("zw", STANDARD),
];

/// `POST /v1/tax/registrations`.
pub(crate) static CREATE: &[Field] = &[
    Field::new("active_from", Ty::NowOrTimestamp).required(),
    Field::new("country", Ty::String { max: 2 }).required(),
    Field::new("country_options", Ty::Object(COUNTRY_OPTIONS)).required(),
    EXPAND,
    Field::new(
        "expires_at",
        Ty::Integer {
            min: 0,
            max: i64::MAX,
        },
    ),
];

/// `POST /v1/tax/registrations/{id}`: only the period can change; `expires_at=` removes the
/// end (docs/stripe-rules.md#empty-values).
pub(crate) static UPDATE: &[Field] = &[
    Field::new("active_from", Ty::NowOrTimestamp),
    EXPAND,
    Field::new("expires_at", Ty::NowOrTimestamp).emptyable(),
];

pub(crate) static RETRIEVE: &[Field] = &[EXPAND];

/// `GET /v1/tax/registrations`. Stripe documents no default for `status`; the sandbox lists
/// every registration without it (`all`), as the filter's values suggest. A caller that needs
/// a particular set should send `status` explicitly.
pub(crate) static LIST: &[Field] = &[
    ENDING_BEFORE,
    EXPAND,
    LIMIT,
    STARTING_AFTER,
    Field::new(
        "status",
        Ty::Enum(&["active", "all", "expired", "scheduled"]),
    ),
];

// ---------------------------------------------------------------------------------------------
// Rules

/// A local jurisdiction is a FIPS code. Stripe lists the codes it supports per tax; the sandbox
/// knows no list and takes any five digits (and nothing else, stricter reading).
fn check_fips(code: &str, param: &str) -> Result<(), ApiError> {
    if code.len() == 5 && code.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(ApiError::invalid(format!(
            "Invalid jurisdiction: '{code}'. Use the five-digit FIPS code of the local \
             jurisdiction."
        ))
        .with_param(param))
    }
}

/// Only the hash of the chosen `type` may be sent with it: `standard` with `standard`,
/// `province_standard` with `province_standard`, `local_amusement_tax` with
/// `local_amusement_tax`, … Whether Stripe ignores the others is unverified; they are refused
/// (stricter reading).
fn check_type_hashes(
    options: &Map<String, Value>,
    kind: &str,
    prefix: &str,
) -> Result<(), ApiError> {
    for key in options.keys() {
        if key == TYPE || key == "state" || key == kind {
            continue;
        }
        return Err(ApiError::invalid(format!(
            "`{prefix}[{key}]` can only be sent with `{prefix}[type]={key}` (not `{kind}`)."
        ))
        .with_param(format!("{prefix}[{key}]")));
    }
    Ok(())
}

/// Checks `country_options[<cc>]` beyond its parameter table, and returns it as the object
/// shows it.
fn country_options(cc: &str, options: &Map<String, Value>) -> Result<Map<String, Value>, ApiError> {
    let prefix = format!("country_options[{cc}]");
    let kind = options.str_of(TYPE).unwrap_or_default();
    check_type_hashes(options, kind, &prefix)?;
    let mut shown = options.clone();
    match cc {
        "ca" if kind == "province_standard" => {
            let param = format!("{prefix}[province_standard][province]");
            let province = options
                .obj_of("province_standard")
                .and_then(|p| p.str_of("province"))
                .ok_or_else(|| ApiError::missing_parameter(&param))?;
            if !CA_PROVINCES.contains(&province) {
                return Err(ApiError::invalid(format!(
                    "Invalid province: '{province}'. Provincial registrations exist for {}.",
                    CA_PROVINCES.join(", ")
                ))
                .with_param(param));
            }
        }
        "us" => {
            let state = options.str_of("state").unwrap_or_default();
            if !US_STATES.contains(&state) {
                return Err(ApiError::invalid(format!(
                    "Invalid state: '{state}'. Use the two-letter code of a US state or DC, \
                     such as 'CA'."
                ))
                .with_param(format!("{prefix}[state]")));
            }
            if kind == "state_retail_delivery_fee" && !RETAIL_DELIVERY_FEE_STATES.contains(&state) {
                return Err(ApiError::invalid(format!(
                    "A `state_retail_delivery_fee` registration is only available in {} (not \
                     {state}).",
                    RETAIL_DELIVERY_FEE_STATES.join(" and ")
                ))
                .with_param(format!("{prefix}[type]")));
            }
            if !US_STATE_LEVEL_TYPES.contains(&kind) {
                let param = format!("{prefix}[{kind}][jurisdiction]");
                let jurisdiction = options
                    .obj_of(kind)
                    .and_then(|o| o.str_of("jurisdiction"))
                    .ok_or_else(|| ApiError::missing_parameter(&param))?;
                check_fips(jurisdiction, &param)?;
            }
            let elections = options
                .obj_of("state_sales_tax")
                .and_then(|s| s.arr_of("elections"));
            // The object shows every election's `jurisdiction`, `null` when none was given.
            if let Some(list) = elections {
                let shown_elections: Vec<Value> = list
                    .iter()
                    .map(|e| {
                        json!({
                            "jurisdiction": e.get("jurisdiction").cloned().unwrap_or(Value::Null),
                            "type": e.get(TYPE).cloned().unwrap_or(Value::Null),
                        })
                    })
                    .collect();
                shown.insert(
                    "state_sales_tax".into(),
                    json!({ "elections": shown_elections }),
                );
            }
            for (i, election) in elections.into_iter().flatten().enumerate() {
                let here = format!("{prefix}[state_sales_tax][elections][{i}]");
                let election = election.as_object().cloned().unwrap_or_default();
                match election.str_of("jurisdiction") {
                    Some(code) => check_fips(code, &format!("{here}[jurisdiction]"))?,
                    // A local use tax is owed to a locality: which one must be said (stricter
                    // reading; Stripe's requiredness is unverified).
                    None if election.str_of(TYPE) == Some("local_use_tax") => {
                        return Err(ApiError::missing_parameter(&format!(
                            "{here}[jurisdiction]"
                        )));
                    }
                    None => {}
                }
            }
        }
        _ if DEFAULT_COUNTRIES.contains(&cc) => {
            // The object of these countries has no `standard`.
            shown.shift_remove("standard");
        }
        _ => {}
    }
    Ok(shown)
}

/// `active_from` or `expires_at` as sent (`now` or a timestamp) at `now`. A timestamp before
/// now is refused: Stripe documents `now` or a future timestamp.
fn moment(value: &Value, now: i64, param: &str) -> Result<i64, ApiError> {
    let ts = match value {
        Value::String(s) if s == "now" => return Ok(now),
        other => other.as_i64().unwrap_or_default(),
    };
    if ts < now {
        return Err(ApiError::invalid(format!(
            "The parameter `{param}` expects `now` or a unix timestamp in the future. You \
             specified the value `{ts}` which is in the past."
        ))
        .with_param(param));
    }
    Ok(ts)
}

/// Checks the period of a registration about to be stored (created or changed).
///
/// The end cannot come before the start. Ending a registration before it starts is refused
/// (Stripe's answer is unverified; stricter reading); ending it at its start is allowed, so a
/// scheduled registration is cancelled with `active_from=now&expires_at=now` (it reads as
/// expired, having never been active).
///
/// Two registrations for the same tax (see [`TaxRegistration::identity`]) cannot cover the
/// same time. Stripe's rule is unverified; overlapping registrations would make the
/// registration in force ambiguous, so the sandbox refuses them (stricter reading).
fn check_period(state: &State, registration: &TaxRegistration) -> Result<(), ApiError> {
    if let Some(end) = registration.expires_at
        && end < registration.active_from
    {
        return Err(ApiError::invalid(format!(
            "`expires_at` ({end}) cannot be earlier than `active_from` ({}).",
            registration.active_from
        ))
        .with_param("expires_at"));
    }
    let identity = registration.identity();
    if let Some(other) = state.tax_registrations.values().find(|other| {
        other.id != registration.id && other.identity() == identity && other.overlaps(registration)
    }) {
        return Err(ApiError::invalid(format!(
            "A registration for the same tax already covers this period (`{}`). End it with \
             `expires_at` before this one starts.",
            other.id
        )));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Rendering

impl Resource for TaxRegistration {
    fn render(&self, _state: &State, _expand: &Expand, now: i64) -> Value {
        render(self, now)
    }
}

/// The registration's JSON at `now`.
pub(crate) fn render(registration: &TaxRegistration, now: i64) -> Value {
    let mut options = Map::new();
    options.insert(
        registration.country.to_ascii_lowercase(),
        Value::Object(registration.options.clone()),
    );
    json!({
        "id": registration.id,
        "object": "tax.registration",
        "active_from": registration.active_from,
        "country": registration.country,
        "country_options": options,
        "created": registration.created,
        "expires_at": registration.expires_at,
        "livemode": false,
        "status": registration.status(now),
    })
}

// ---------------------------------------------------------------------------------------------
// Handlers

/// `POST /v1/tax/registrations`.
pub(crate) fn create(ctx: &mut Ctx<'_, '_>, call: &Call) -> Result<Value, ApiError> {
    let p = &call.params;
    let now = ctx.now;
    let country = p.str_of("country").unwrap_or_default();
    countries::check_country(country, "country")?;
    let cc = country.to_ascii_lowercase();
    if !COUNTRY_OPTIONS.iter().any(|f| f.name == cc) {
        return Err(ApiError::invalid(format!(
            "Tax registrations are not supported in {country}."
        ))
        .with_param("country"));
    }
    let all_options = p.obj_of("country_options").cloned().unwrap_or_default();
    if let Some(other) = all_options.keys().find(|k| **k != cc) {
        return Err(ApiError::invalid(format!(
            "`country_options` may only hold the options of `country` ({country}), not \
             `{other}`."
        ))
        .with_param(format!("country_options[{other}]")));
    }
    let options = all_options
        .get(&cc)
        .and_then(Value::as_object)
        .ok_or_else(|| ApiError::missing_parameter(&format!("country_options[{cc}]")))?;
    let options = country_options(&cc, options)?;
    let active_from = moment(
        p.get("active_from").unwrap_or(&Value::Null),
        now,
        "active_from",
    )?;
    let expires_at = p.int_of("expires_at");
    if let Some(ts) = expires_at
        && ts <= now
    {
        return Err(ApiError::invalid(format!(
            "The parameter `expires_at` expects a unix timestamp in the future. You specified \
             the value `{ts}` which is in the past."
        ))
        .with_param("expires_at"));
    }
    let state = ctx.tx.state();
    let registration = TaxRegistration {
        id: unused_id::<TaxRegistration>(state, new_id),
        seq: 0,
        active_from,
        country: country.to_string(),
        options,
        created: now,
        expires_at,
    };
    check_period(state, &registration)?;
    ctx.create(registration, &call.expand)
}

/// `POST /v1/tax/registrations/{id}`. An expired registration cannot change any more, and
/// `active_from` can only move while the registration is scheduled: Stripe's rules are
/// unverified, and moving the start of a registration already in force would rewrite its past
/// (stricter reading).
pub(crate) fn update(ctx: &mut Ctx<'_, '_>, call: &Call) -> Result<Value, ApiError> {
    let p = &call.params;
    let now = ctx.now;
    let state = ctx.tx.state();
    let mut registration = find::<TaxRegistration>(state, &call.id)?.clone();
    let status = registration.status(now);
    if status == "expired" && (p.contains_key("active_from") || p.contains_key("expires_at")) {
        return Err(ApiError::invalid(format!(
            "The registration `{}` has expired and can no longer be changed.",
            registration.id
        )));
    }
    if let Some(value) = p.get("active_from") {
        if status != "scheduled" {
            return Err(ApiError::invalid(format!(
                "`active_from` can only be changed before the registration becomes active; \
                 `{}` is {status}.",
                registration.id
            ))
            .with_param("active_from"));
        }
        registration.active_from = moment(value, now, "active_from")?;
    }
    match p.get("expires_at") {
        None => {}
        Some(Value::Null) => registration.expires_at = None,
        Some(value) => registration.expires_at = Some(moment(value, now, "expires_at")?),
    }
    check_period(state, &registration)?;
    ctx.save(registration, &call.expand)
}

/// `GET /v1/tax/registrations`.
pub(crate) fn list(ctx: &mut Ctx<'_, '_>, call: &Call) -> Result<Value, ApiError> {
    let p = &call.params;
    let now = ctx.now;
    let status = p.str_of("status").unwrap_or("all");
    let keep = |r: &TaxRegistration| status == "all" || r.status(now) == status;
    handler::page(ctx, call, "/v1/tax/registrations", keep)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn country_tables_are_sorted_and_disjoint() {
        assert!(COUNTRY_OPTIONS.windows(2).all(|w| w[0].name < w[1].name));
        // The standard-only countries split into those whose object shows the scheme and the
        // others.
        let mut standard: Vec<String> = INBOUND_GOODS_COUNTRIES
            .iter()
            .chain(DEFAULT_COUNTRIES)
            .map(|cc| cc.to_ascii_uppercase())
            .collect();
        standard.sort();
        assert_eq!(standard, stripe_facts::STANDARD_ONLY_COUNTRIES);
        let classes = [
            stripe_facts::EU_COUNTRIES,
            stripe_facts::STANDARD_ONLY_COUNTRIES,
            stripe_facts::SIMPLIFIED_ONLY_COUNTRIES,
        ];
        let listed: usize = classes.iter().map(|c| c.len()).sum();
        // Every country of a class has a table entry, and only CA and US have none.
        assert_eq!(listed + 2, COUNTRY_OPTIONS.len());
        for class in classes {
            for cc in class {
                let lower = cc.to_ascii_lowercase();
                assert!(COUNTRY_OPTIONS.iter().any(|f| f.name == lower), "{cc}");
                assert!(countries::is_country(cc), "{cc}");
            }
        }
    }

    #[test]
    fn status_follows_the_clock() {
        let r = TaxRegistration {
            id: "taxreg_1".into(),
            seq: 0,
            active_from: 100,
            country: "DE".into(),
            options: Map::new(),
            created: 0,
            expires_at: Some(200),
        };
        assert_eq!(r.status(99), "scheduled");
        assert_eq!(r.status(100), "active");
        assert_eq!(r.status(199), "active");
        assert_eq!(r.status(200), "expired");
    }
}
