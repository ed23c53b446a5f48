//! Coupons (`/v1/coupons`): parameter tables, the stored record, its JSON shape and the
//! create / retrieve / update / delete / list handlers (docs/stripe-rules.md#coupons).
//!
//! A coupon takes `percent_off` or `amount_off` (with `currency`, and optionally amounts in other
//! currencies); only `name`, `metadata` and `currency_options` can change afterwards. `valid` is
//! computed when the coupon is shown: false once `redeem_by` has passed, once `times_redeemed`
//! reaches `max_redemptions`, or once the coupon is deleted. Deleted coupons leave the API (404)
//! but are kept apart in the state: their ids are never reused, and a promotion code can still
//! show its deleted coupon when `promotion.coupon` is expanded.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::currency;
use crate::error::ApiError;
use crate::expand::{Expand, Schema, Target};
use crate::handler::{self, Call, Ctx, Resource};
use crate::ids;
use crate::list::{CREATED, ENDING_BEFORE, LIMIT, STARTING_AFTER};
use crate::metadata;
use crate::params::{EXPAND, Field, ParamsExt, Ty};
use crate::state::{State, find};

// ---------------------------------------------------------------------------------------------
// The stored record, its id and its expansions

/// A stored coupon.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Coupon {
    pub id: String,
    pub seq: u64,
    pub amount_off: Option<i64>,
    /// `applies_to[products]`; `None`: the coupon applies to every product.
    pub applies_to: Option<Vec<String>>,
    pub created: i64,
    pub currency: Option<String>,
    /// `amount_off` in currencies other than `currency`.
    #[serde(default)]
    pub currency_options: BTreeMap<String, i64>,
    pub duration: String,
    pub duration_in_months: Option<i64>,
    pub max_redemptions: Option<i64>,
    pub metadata: BTreeMap<String, String>,
    pub name: Option<String>,
    pub percent_off: Option<f64>,
    pub redeem_by: Option<i64>,
    pub times_redeemed: i64,
}

/// A generated coupon id: 8 uppercase alphanumerics, no prefix (e.g. `Z4OV52SU`).
pub(crate) fn new_id() -> String {
    ids::random_upper(8)
}

/// What `expand[]` may name in a coupon.
pub(crate) static SCHEMA: Schema = Schema {
    fields: &[
        ("applies_to", Target::Included),
        ("currency_options", Target::Included),
    ],
};

impl Coupon {
    /// Why this coupon can no longer be redeemed at `now`, deletion aside (a deleted coupon is
    /// not among the live ones): its `redeem_by` has passed (at that very second already,
    /// stricter), or it was redeemed `max_redemptions` times.
    pub(crate) fn invalid_reason(&self, now: i64) -> Option<String> {
        if let Some(at) = self.redeem_by
            && now >= at
        {
            return Some(format!("its `redeem_by` ({at}) has passed"));
        }
        exhausted(self.times_redeemed, self.max_redemptions)
    }
}

/// Why a coupon or promotion code redeemed `times` times can no longer be redeemed, if it has
/// reached its `max_redemptions`.
pub(crate) fn exhausted(times: i64, max_redemptions: Option<i64>) -> Option<String> {
    max_redemptions
        .filter(|max| times >= *max)
        .map(|_| format!("it has been redeemed {times} times, its `max_redemptions`"))
}

/// Whether `coupon` is valid at `now`: live (not deleted) and still redeemable.
pub(crate) fn valid(state: &State, coupon: &Coupon, now: i64) -> bool {
    state.coupons.contains_key(&coupon.id) && coupon.invalid_reason(now).is_none()
}

// ---------------------------------------------------------------------------------------------
// Parameter tables

/// The largest `amount_off`, in minor units: the eight digits the sandbox allows for every
/// price amount (stricter reading, see `prices.rs`).
const MAX_AMOUNT: i64 = 99_999_999;

/// Five years of 365 days, the shortest reading of Stripe's "no more than five years in the
/// future" (stricter).
pub(crate) const FIVE_YEARS: i64 = 5 * 365 * 24 * 60 * 60;

const AMOUNT_OFF: Ty = Ty::Integer {
    min: 1,
    max: MAX_AMOUNT,
};

/// `percent_off`: 0.01 to 100. Stripe documents no precision; the sandbox takes at most two
/// decimal places, as the Dashboard does (stricter reading).
const PERCENT_OFF: Ty = Ty::Float {
    min: 0.01,
    max: 100.0,
    places: 2,
};

/// A Unix timestamp; whether it is in the future is checked by [`check_future`].
pub(crate) const TIMESTAMP: Ty = Ty::Integer {
    min: i64::MIN,
    max: i64::MAX,
};

const CURRENCY_OPTION: &[Field] = &[Field::new("amount_off", AMOUNT_OFF).required()];
const CURRENCY_OPTIONS: Ty = Ty::CurrencyMap(&Ty::Object(CURRENCY_OPTION));

/// `applies_to[products]`. Stripe documents no limit on the number of products; the sandbox
/// takes at most 100 (stricter reading).
const APPLIES_TO: &[Field] = &[Field::new(
    "products",
    Ty::Array {
        item: &Ty::String { max: 5000 },
        max: 100,
    },
)
.required()];

const NAME: Ty = Ty::String { max: 40 };

const POSITIVE: Ty = Ty::Integer {
    min: 1,
    max: i64::MAX,
};

/// `POST /v1/coupons`. `metadata` is emptyable on create too (docs/stripe-rules.md#empty-values).
pub(crate) static CREATE: &[Field] = &[
    Field::new("amount_off", AMOUNT_OFF),
    Field::new("applies_to", Ty::Object(APPLIES_TO)),
    Field::new("currency", Ty::Currency),
    Field::new("currency_options", CURRENCY_OPTIONS),
    Field::new("duration", Ty::Enum(&["forever", "once", "repeating"])),
    Field::new("duration_in_months", POSITIVE),
    EXPAND,
    Field::new("id", Ty::String { max: 5000 }),
    Field::new("max_redemptions", POSITIVE),
    Field::new("metadata", Ty::Metadata).emptyable(),
    Field::new("name", NAME),
    Field::new("percent_off", PERCENT_OFF),
    Field::new("redeem_by", TIMESTAMP),
];

/// `POST /v1/coupons/{id}`: everything else is immutable (unknown here). `name=` is refused:
/// whether Stripe lets a name be unset is unverified (only `metadata` is emptyable, stricter
/// reading). `currency_options` merges per currency and cannot be cleared (it is not emptyable).
pub(crate) static UPDATE: &[Field] = &[
    Field::new("currency_options", CURRENCY_OPTIONS),
    EXPAND,
    Field::new("metadata", Ty::Metadata).emptyable(),
    Field::new("name", NAME),
];

pub(crate) static RETRIEVE: &[Field] = &[EXPAND];

/// `DELETE /v1/coupons/{id}` takes no parameters.
pub(crate) static DELETE: &[Field] = &[];

/// `GET /v1/coupons`: `created` and cursors only.
pub(crate) static LIST: &[Field] = &[CREATED, ENDING_BEFORE, EXPAND, LIMIT, STARTING_AFTER];

// ---------------------------------------------------------------------------------------------
// Rules shared with promotion codes

/// A timestamp parameter that must lie in the future, and at most five years ahead.
pub(crate) fn check_future(ts: i64, now: i64, param: &str) -> Result<(), ApiError> {
    // Exactly now is not "in the future" (stricter).
    if ts <= now {
        return Err(ApiError::invalid(format!(
            "The parameter `{param}` expects a unix timestamp representing a date and time in the \
             future. You specified the value `{ts}` which is in the past."
        ))
        .with_param(param));
    }
    if ts > now.saturating_add(FIVE_YEARS) {
        return Err(ApiError::invalid(
            "Invalid timestamp: can be no more than five years in the future.",
        )
        .with_param(param));
    }
    Ok(())
}

/// Whether a coupon, live or deleted, has id `id`.
fn taken(state: &State, id: &str) -> bool {
    state.coupons.contains_key(id) || state.deleted_coupons.contains_key(id)
}

/// Merges `currency_options` changes into `existing` for a coupon in `currency`: each entry
/// sets that currency's `amount_off`. The coupon's own currency is refused: its amount is
/// `amount_off`, which is immutable (stricter reading, as for prices).
fn merge_currency_options(
    existing: &BTreeMap<String, i64>,
    changes: &Map<String, Value>,
    currency: &str,
) -> Result<BTreeMap<String, i64>, ApiError> {
    let own_refused = |here: &str| {
        format!(
            "`{here}` is the coupon's own currency; `currency_options` may only hold other \
             currencies (the amount in `{currency}` is `amount_off`)."
        )
    };
    currency::merge_amounts(
        existing,
        changes,
        "currency_options",
        "amount_off",
        currency,
        own_refused,
    )
}

// ---------------------------------------------------------------------------------------------
// Rendering

/// `currency_options` when included: the coupon's own currency plus its other currencies, as
/// for prices; `null` for a percentage coupon, which has no amounts.
fn render_currency_options(coupon: &Coupon) -> Value {
    let own = coupon.currency.as_ref().zip(coupon.amount_off);
    currency::render_amounts(own, &coupon.currency_options, "amount_off")
}

impl Resource for Coupon {
    fn render(&self, state: &State, expand: &Expand, now: i64) -> Value {
        render(state, self, expand, now)
    }
}

/// The coupon's JSON at `now`, with `expand` applied: `applies_to` and `currency_options` are
/// includable (present only when expanded).
pub(crate) fn render(state: &State, coupon: &Coupon, expand: &Expand, now: i64) -> Value {
    let mut o = Map::new();
    o.insert("id".into(), json!(coupon.id));
    o.insert("object".into(), json!("coupon"));
    o.insert("amount_off".into(), json!(coupon.amount_off));
    if expand.has("applies_to") {
        o.insert(
            "applies_to".into(),
            coupon
                .applies_to
                .as_ref()
                .map_or(Value::Null, |products| json!({ "products": products })),
        );
    }
    o.insert("created".into(), json!(coupon.created));
    o.insert("currency".into(), json!(coupon.currency));
    if expand.has("currency_options") {
        o.insert("currency_options".into(), render_currency_options(coupon));
    }
    o.insert("duration".into(), json!(coupon.duration));
    o.insert(
        "duration_in_months".into(),
        json!(coupon.duration_in_months),
    );
    o.insert("livemode".into(), json!(false));
    o.insert("max_redemptions".into(), json!(coupon.max_redemptions));
    o.insert("metadata".into(), metadata::render(&coupon.metadata));
    o.insert("name".into(), json!(coupon.name));
    o.insert("percent_off".into(), json!(coupon.percent_off));
    o.insert("redeem_by".into(), json!(coupon.redeem_by));
    o.insert("times_redeemed".into(), json!(coupon.times_redeemed));
    o.insert("valid".into(), json!(valid(state, coupon, now)));
    Value::Object(o)
}

// ---------------------------------------------------------------------------------------------
// Handlers

/// `POST /v1/coupons`.
pub(crate) fn create(ctx: &mut Ctx<'_, '_>, call: &Call) -> Result<Value, ApiError> {
    let p = &call.params;
    let state = ctx.tx.state();
    let now = ctx.now;
    let percent_off = p.float_of("percent_off");
    let amount_off = p.int_of("amount_off");
    match (percent_off, amount_off) {
        (None, None) => {
            return Err(ApiError::invalid("Must provide percent_off or amount_off.")
                .with_code("parameter_missing"));
        }
        (Some(_), Some(_)) => {
            return Err(ApiError::invalid(
                "Received both percent_off and amount_off parameters. Please pass in only one.",
            ));
        }
        _ => {}
    }
    let currency = p.str_of("currency");
    let mut currency_options = BTreeMap::new();
    if let Some(options) = p.obj_of("currency_options") {
        if percent_off.is_some() {
            return Err(ApiError::exclusive("currency_options", "percent_off"));
        }
        if let Some(currency) = currency {
            currency_options = merge_currency_options(&BTreeMap::new(), options, currency)?;
        }
    }
    if amount_off.is_some() && currency.is_none() {
        return Err(
            ApiError::invalid("You must pass currency when passing amount_off")
                .with_param("currency"),
        );
    }
    // Stripe documents `currency` as the currency of `amount_off`; whether it accepts one with
    // `percent_off` is unverified, so the sandbox refuses it (stricter reading).
    if percent_off.is_some() && currency.is_some() {
        return Err(ApiError::invalid(
            "`currency` can only be used with `amount_off`: a `percent_off` coupon has no \
             currency.",
        )
        .with_param("currency"));
    }
    let duration = p.str_of("duration").unwrap_or("once");
    let duration_in_months = p.int_of("duration_in_months");
    match (duration, duration_in_months) {
        ("repeating", None) => {
            return Err(ApiError::invalid(
                "The duration_in_months param must be set when creating a coupon with a \
                 repeating duration",
            )
            .with_param("duration"));
        }
        // Stripe documents the parameter as "required only if duration is repeating";
        // whether it accepts one otherwise is unverified (stricter reading: refused).
        (other, Some(_)) if other != "repeating" => {
            return Err(ApiError::invalid(format!(
                "`duration_in_months` can only be used with `duration=repeating` (not \
                 `{other}`)."
            ))
            .with_param("duration_in_months"));
        }
        _ => {}
    }
    if let Some(ts) = p.int_of("redeem_by") {
        check_future(ts, now, "redeem_by")?;
    }
    let applies_to = match p.obj_of("applies_to").and_then(|a| a.arr_of("products")) {
        Some(values) => {
            let mut products = Vec::with_capacity(values.len());
            for (i, value) in values.iter().enumerate() {
                let id = value.as_str().unwrap_or_default();
                if !state.products.contains_key(id) {
                    return Err(ApiError::no_such_in_param(
                        "product",
                        id,
                        &format!("applies_to[products][{i}]"),
                    ));
                }
                products.push(id.to_string());
            }
            Some(products)
        }
        None => None,
    };
    let id = match p.str_of("id") {
        Some(id) => {
            ids::check_custom(id, "Coupon", "id")?;
            // Whether a deleted coupon's id can be used again is not documented: never
            // (stricter reading).
            if taken(state, id) {
                return Err(ApiError::invalid("Coupon already exists.")
                    .with_code("resource_already_exists"));
            }
            id.to_string()
        }
        None => ids::unused(new_id, |id| taken(state, id)),
    };
    let coupon = Coupon {
        id,
        seq: 0,
        amount_off,
        applies_to,
        created: now,
        currency: currency.map(str::to_string),
        currency_options,
        duration: duration.to_string(),
        duration_in_months,
        max_redemptions: p.int_of("max_redemptions"),
        metadata: metadata::create(p.get("metadata"), "metadata")?,
        name: p.str_of("name").map(str::to_string),
        percent_off,
        redeem_by: p.int_of("redeem_by"),
        times_redeemed: 0,
    };
    ctx.create(coupon, &call.expand)
}

/// `POST /v1/coupons/{id}`.
pub(crate) fn update(ctx: &mut Ctx<'_, '_>, call: &Call) -> Result<Value, ApiError> {
    let p = &call.params;
    let mut coupon = find::<Coupon>(ctx.tx.state(), &call.id)?.clone();
    if let Some(name) = p.str_of("name") {
        coupon.name = Some(name.to_string());
    }
    coupon.metadata = metadata::merge(&coupon.metadata, p.get("metadata"), "metadata")?;
    if let Some(changes) = p.obj_of("currency_options") {
        let Some(currency) = coupon.currency.clone() else {
            return Err(ApiError::invalid(
                "`currency_options` can only be set on a coupon with `amount_off`; this coupon \
                 has `percent_off`.",
            )
            .with_param("currency_options"));
        };
        coupon.currency_options =
            merge_currency_options(&coupon.currency_options, changes, &currency)?;
    }
    ctx.save(coupon, &call.expand)
}

/// `DELETE /v1/coupons/{id}`: no new redemptions, directly or through promotion codes (they
/// read as inactive from now on); the id is never used again.
pub(crate) fn delete(ctx: &mut Ctx<'_, '_>, call: &Call) -> Result<Value, ApiError> {
    find::<Coupon>(ctx.tx.state(), &call.id)?;
    ctx.tx.delete_coupon(&call.id);
    Ok(json!({ "id": call.id, "object": "coupon", "deleted": true }))
}

/// `GET /v1/coupons`.
pub(crate) fn list(ctx: &mut Ctx<'_, '_>, call: &Call) -> Result<Value, ApiError> {
    handler::page(ctx, call, "/v1/coupons", |_: &Coupon| true)
}
