//! Promotion codes (`/v1/promotion_codes`): parameter tables, the stored record, its JSON shape,
//! the create / retrieve / update / list handlers (docs/stripe-rules.md#promotion-codes), and the
//! simulated redemption behind the test hook `Sandbox::redeem_promotion_code`.
//!
//! Only the request and object shape of API versions 2025-09-30.clover and later is implemented
//! (`promotion[type]=coupon&promotion[coupon]=…`, `promotion.coupon` expandable); requests under
//! older versions are refused (see [`check_version`]).
//!
//! A code is **active** when its own `active` flag is set and it is redeemable: its coupon is
//! neither deleted nor invalid, it has not expired, and it has not reached its
//! `max_redemptions`. The last four turn a code inactive on their own (C5) and for good (time
//! and redemptions only move forward, deleted coupons never return). [`is_active`] is the one
//! definition used everywhere: the object's `active`, the list filter, the uniqueness of
//! `code`, reactivation and redemption.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::coupons::{self, TIMESTAMP};
use super::customers;
use crate::currency;
use crate::error::ApiError;
use crate::expand::{Expand, Schema, Target};
use crate::handler::{self, Call, Ctx, Resource};
use crate::ids;
use crate::list::{CREATED, ENDING_BEFORE, LIMIT, STARTING_AFTER};
use crate::metadata;
use crate::params::{EXPAND, Field, ParamsExt, Ty};
use crate::state::{State, find, unused_id};
use crate::tx::Tx;
use crate::version::ApiVersion;

// ---------------------------------------------------------------------------------------------
// The stored record, its id and its expansions

/// A stored promotion code.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct PromotionCode {
    pub id: String,
    pub seq: u64,
    /// The `active` flag as last set by create or update; the code reads as active only when
    /// it is also redeemable (see [`is_active`]).
    pub active: bool,
    pub code: String,
    /// The coupon id (`promotion.coupon`).
    pub coupon: String,
    pub created: i64,
    pub customer: Option<String>,
    pub expires_at: Option<i64>,
    pub max_redemptions: Option<i64>,
    pub metadata: BTreeMap<String, String>,
    pub restrictions: Restrictions,
    pub times_redeemed: i64,
}

/// `restrictions`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Restrictions {
    /// `minimum_amount` in currencies other than `minimum_amount_currency`.
    #[serde(default)]
    pub currency_options: BTreeMap<String, i64>,
    pub first_time_transaction: bool,
    pub minimum_amount: Option<i64>,
    pub minimum_amount_currency: Option<String>,
}

/// A promotion code id: `promo_` + 24 alphanumerics.
pub(crate) fn new_id() -> String {
    ids::random("promo_", 24)
}

/// A generated customer-facing promotion `code`: 8 uppercase alphanumerics.
fn new_code() -> String {
    ids::random_upper(8)
}

/// What `expand[]` may name in a promotion code.
pub(crate) static SCHEMA: Schema = Schema {
    fields: &[
        ("customer", Target::Object(&super::customers::SCHEMA)),
        ("promotion", Target::Nested(&PROMOTION_SCHEMA)),
        ("restrictions", Target::Nested(&RESTRICTIONS_SCHEMA)),
    ],
};

/// `promotion_code.promotion`: `coupon` expands to the coupon (clover and later).
static PROMOTION_SCHEMA: Schema = Schema {
    fields: &[("coupon", Target::Object(&super::coupons::SCHEMA))],
};

/// `promotion_code.restrictions`.
static RESTRICTIONS_SCHEMA: Schema = Schema {
    fields: &[("currency_options", Target::Included)],
};

// ---------------------------------------------------------------------------------------------
// Activity and uniqueness

/// Why `code` cannot be redeemed at `now`, its own `active` flag aside: its coupon was deleted
/// or is no longer valid, it expired (`expires_at` ≤ now), or it was redeemed
/// `max_redemptions` times. `None`: redeemable.
pub(crate) fn unredeemable(state: &State, code: &PromotionCode, now: i64) -> Option<String> {
    let Some(coupon) = state.coupons.get(&code.coupon) else {
        return Some(format!("its coupon `{}` has been deleted", code.coupon));
    };
    if let Some(why) = coupon.invalid_reason(now) {
        return Some(format!(
            "its coupon `{}` is no longer valid: {why}",
            code.coupon
        ));
    }
    if let Some(at) = code.expires_at
        && now >= at
    {
        return Some(format!("it expired at {at} (`expires_at`)"));
    }
    coupons::exhausted(code.times_redeemed, code.max_redemptions)
}

/// Whether `code` is active at `now`: its flag is set and it is redeemable.
pub(crate) fn is_active(state: &State, code: &PromotionCode, now: i64) -> bool {
    code.active && unredeemable(state, code, now).is_none()
}

/// The active promotion code, other than `this`, that an active `code` for `customer` would
/// clash with.
///
/// Stripe: "Regardless of case, this code must be unique across all active promotion codes for
/// a specific customer." The sandbox's reading: a code restricted to a customer can be entered
/// by that customer only, a code without a customer by every customer, and two active codes
/// clash when one customer could enter the same text (ignoring case) and match both. So codes
/// for two different customers do not clash, but a code without a customer clashes with the
/// same code for any customer. That last part is the stricter reading: the docs do not say, and
/// otherwise what that customer enters would be ambiguous.
fn clash<'s>(
    state: &'s State,
    code: &str,
    customer: Option<&str>,
    this: Option<&str>,
    now: i64,
) -> Option<&'s PromotionCode> {
    state.promotion_codes.values().find(|other| {
        Some(other.id.as_str()) != this
            && other.code.eq_ignore_ascii_case(code)
            && match (customer, other.customer.as_deref()) {
                (Some(a), Some(b)) => a == b,
                _ => true,
            }
            && is_active(state, other, now)
    })
}

fn duplicate(code: &str) -> ApiError {
    ApiError::invalid(format!(
        "An active promotion code with `code: {code}` already exists."
    ))
}

// ---------------------------------------------------------------------------------------------
// Parameter tables

/// Minimum amounts: at least 1 (a minimum of 0 restricts nothing; whether Stripe accepts it is
/// unverified, stricter reading) and at most the eight digits the sandbox allows for amounts.
const MINIMUM_AMOUNT: Ty = Ty::Integer {
    min: 1,
    max: 99_999_999,
};

/// `restrictions[currency_options][<currency>]`: the minimum is required (stricter reading:
/// an entry without one would restrict nothing).
const MINIMUM: &[Field] = &[Field::new("minimum_amount", MINIMUM_AMOUNT).required()];
const RESTRICTION_CURRENCY_OPTIONS: Field =
    Field::new("currency_options", Ty::CurrencyMap(&Ty::Object(MINIMUM)));

const RESTRICTIONS: &[Field] = &[
    RESTRICTION_CURRENCY_OPTIONS,
    Field::new("first_time_transaction", Ty::Boolean),
    Field::new("minimum_amount", MINIMUM_AMOUNT),
    Field::new("minimum_amount_currency", Ty::Currency),
];

/// Only `currency_options` can change; any other key is unknown.
const UPDATE_RESTRICTIONS: &[Field] = &[RESTRICTION_CURRENCY_OPTIONS];

const PROMOTION: &[Field] = &[
    Field::new("coupon", Ty::String { max: 5000 }),
    Field::new("type", Ty::Enum(&["coupon"])).required(),
];

const POSITIVE: Ty = Ty::Integer {
    min: 1,
    max: i64::MAX,
};

/// `POST /v1/promotion_codes`. The pre-clover top-level `coupon` is unknown here.
pub(crate) static CREATE: &[Field] = &[
    Field::new("active", Ty::Boolean),
    Field::new("code", Ty::String { max: 500 }),
    Field::new("customer", Ty::String { max: 5000 }),
    Field::new("customer_account", Ty::String { max: 5000 }),
    EXPAND,
    Field::new("expires_at", TIMESTAMP),
    Field::new("max_redemptions", POSITIVE),
    Field::new("metadata", Ty::Metadata),
    Field::new("promotion", Ty::Object(PROMOTION)).required(),
    Field::new("restrictions", Ty::Object(RESTRICTIONS)),
];

/// `POST /v1/promotion_codes/{id}`: `active`, `metadata` and `restrictions[currency_options]`
/// only.
pub(crate) static UPDATE: &[Field] = &[
    Field::new("active", Ty::Boolean),
    EXPAND,
    Field::new("metadata", Ty::Metadata).emptyable(),
    Field::new("restrictions", Ty::Object(UPDATE_RESTRICTIONS)),
];

pub(crate) static RETRIEVE: &[Field] = &[EXPAND];

/// `GET /v1/promotion_codes`.
pub(crate) static LIST: &[Field] = &[
    Field::new("active", Ty::Boolean),
    Field::new("code", Ty::String { max: 500 }),
    Field::new("coupon", Ty::String { max: 5000 }),
    CREATED,
    Field::new("customer", Ty::String { max: 5000 }),
    Field::new("customer_account", Ty::String { max: 5000 }),
    ENDING_BEFORE,
    EXPAND,
    LIMIT,
    STARTING_AFTER,
];

// ---------------------------------------------------------------------------------------------
// Rules

/// Refuses promotion-code requests under API versions before 2025-09-30.clover, whose
/// promotion codes take and show a top-level `coupon`: the sandbox implements only the newer
/// shape, and refusing is safer than answering in a shape the version does not have.
fn check_version(version: &ApiVersion) -> Result<(), ApiError> {
    if version.polymorphic_promotions() {
        return Ok(());
    }
    Err(ApiError::invalid(format!(
        "The billing sandbox implements promotion codes as of Stripe API version \
         2025-09-30.clover (`promotion[type]=coupon&promotion[coupon]=...`); this request uses \
         {}, whose promotion codes take a top-level `coupon`, which the sandbox does not \
         implement.",
        version.as_str()
    )))
}

/// Customer-facing codes: letters, digits and dashes. Stripe's current documentation says so;
/// a third-party probe saw `_` accepted too, which the sandbox refuses (stricter reading).
fn check_code(code: &str) -> Result<(), ApiError> {
    if code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        Ok(())
    } else {
        Err(ApiError::invalid(format!(
            "This value must match the regex pattern. (/\\A[a-zA-Z0-9\\-]+\\z/ does not match \
             for the value {code})."
        ))
        .with_param("code"))
    }
}

/// Merges `restrictions[currency_options]` changes into `existing`: each currency sets its
/// minimum, and must differ from `minimum_amount_currency`. The code must have a minimum amount
/// to begin with (stricter reading: a minimum in other currencies extends the main one).
fn merge_minimums(
    restrictions: &Restrictions,
    changes: &Map<String, Value>,
) -> Result<BTreeMap<String, i64>, ApiError> {
    let param = "restrictions[currency_options]";
    let Some(main) = restrictions.minimum_amount_currency.as_deref() else {
        return Err(ApiError::invalid(format!(
            "`{param}` can only be used on a promotion code with `restrictions[minimum_amount]` \
             and `restrictions[minimum_amount_currency]`."
        ))
        .with_param(param));
    };
    let own_refused = |here: &str| {
        format!(
            "`{here}`: each currency must be different from \
             `restrictions[minimum_amount_currency]` (`{main}`)."
        )
    };
    currency::merge_amounts(
        &restrictions.currency_options,
        changes,
        param,
        "minimum_amount",
        main,
        own_refused,
    )
}

/// `restrictions` of a new code.
fn restrictions(r: Option<&Map<String, Value>>) -> Result<Restrictions, ApiError> {
    let empty = Map::new();
    let r = r.unwrap_or(&empty);
    let minimum_amount = r.int_of("minimum_amount");
    let minimum_amount_currency = r.str_of("minimum_amount_currency").map(str::to_string);
    match (minimum_amount, &minimum_amount_currency) {
        (Some(_), None) => {
            return Err(ApiError::invalid(
                "You must pass restrictions[minimum_amount_currency] when passing \
                 restrictions[minimum_amount]",
            )
            .with_param("restrictions[minimum_amount_currency]"));
        }
        (None, Some(_)) => {
            return Err(ApiError::invalid(
                "You must pass restrictions[minimum_amount] when passing \
                 restrictions[minimum_amount_currency]",
            )
            .with_param("restrictions[minimum_amount]"));
        }
        _ => {}
    }
    let mut out = Restrictions {
        currency_options: BTreeMap::new(),
        first_time_transaction: r.bool_of("first_time_transaction").unwrap_or(false),
        minimum_amount,
        minimum_amount_currency,
    };
    if let Some(changes) = r.obj_of("currency_options") {
        out.currency_options = merge_minimums(&out, changes)?;
    }
    Ok(out)
}

/// A generated `code` no code clashes with, whatever its customer.
fn generated_code(state: &State, now: i64) -> String {
    loop {
        let code = new_code();
        if clash(state, &code, None, None, now).is_none() {
            return code;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Rendering

fn render_minimums(restrictions: &Restrictions) -> Value {
    let own = (restrictions.minimum_amount_currency.as_ref()).zip(restrictions.minimum_amount);
    currency::render_amounts(own, &restrictions.currency_options, "minimum_amount")
}

impl Resource for PromotionCode {
    fn render(&self, state: &State, expand: &Expand, now: i64) -> Value {
        render(state, self, expand, now)
    }
}

/// The code's JSON at `now`, with `expand` applied: `promotion.coupon` and `customer` are
/// expandable, `restrictions.currency_options` is includable (with the main minimum, as prices
/// and coupons include their own currency; `null` without a minimum amount).
pub(crate) fn render(state: &State, code: &PromotionCode, expand: &Expand, now: i64) -> Value {
    let coupon = match expand.get("promotion").and_then(|e| e.get("coupon")) {
        // A deleted coupon still shows, invalid.
        Some(sub) => state
            .coupons
            .get(&code.coupon)
            .or_else(|| state.deleted_coupons.get(&code.coupon))
            .map_or_else(
                || json!(code.coupon),
                |c| coupons::render(state, c, sub, now),
            ),
        None => json!(code.coupon),
    };
    let customer = match (&code.customer, expand.get("customer")) {
        (Some(id), Some(_)) => state
            .customers
            .get(id)
            .map_or_else(|| json!(id), customers::render),
        (Some(id), None) => json!(id),
        (None, _) => Value::Null,
    };
    let r = &code.restrictions;
    let mut restrictions = Map::new();
    if expand
        .get("restrictions")
        .is_some_and(|e| e.has("currency_options"))
    {
        restrictions.insert("currency_options".into(), render_minimums(r));
    }
    restrictions.insert(
        "first_time_transaction".into(),
        json!(r.first_time_transaction),
    );
    restrictions.insert("minimum_amount".into(), json!(r.minimum_amount));
    restrictions.insert(
        "minimum_amount_currency".into(),
        json!(r.minimum_amount_currency),
    );
    json!({
        "id": code.id,
        "object": "promotion_code",
        "active": is_active(state, code, now),
        "code": code.code,
        "created": code.created,
        "customer": customer,
        "customer_account": null,
        "expires_at": code.expires_at,
        "livemode": false,
        "max_redemptions": code.max_redemptions,
        "metadata": metadata::render(&code.metadata),
        "promotion": { "coupon": coupon, "type": "coupon" },
        "restrictions": restrictions,
        "times_redeemed": code.times_redeemed,
    })
}

// ---------------------------------------------------------------------------------------------
// Handlers

/// `POST /v1/promotion_codes`.
pub(crate) fn create(ctx: &mut Ctx<'_, '_>, call: &Call) -> Result<Value, ApiError> {
    check_version(ctx.version)?;
    let p = &call.params;
    let now = ctx.now;
    let state = ctx.tx.state();
    let coupon_id = p
        .obj_of("promotion")
        .and_then(|promotion| promotion.str_of("coupon"))
        .ok_or_else(|| {
            ApiError::invalid("You must pass promotion.coupon when passing promotion")
                .with_param("promotion.coupon")
        })?;
    // A deleted coupon is no coupon.
    let coupon = state
        .coupons
        .get(coupon_id)
        .ok_or_else(|| ApiError::no_such_in_param("coupon", coupon_id, "promotion[coupon]"))?;
    // Stripe's answer for a coupon that can no longer be redeemed is unverified; a code for it
    // would be inactive from birth, and the sandbox refuses it (stricter reading).
    if let Some(why) = coupon.invalid_reason(now) {
        return Err(ApiError::invalid(format!(
            "The coupon `{coupon_id}` is no longer valid ({why}); promotion codes cannot be \
             created for it."
        ))
        .with_param("promotion[coupon]"));
    }
    if let Some(code) = p.str_of("code") {
        check_code(code)?;
    }
    let customer = match p.str_of("customer") {
        Some(id) if !state.customers.contains_key(id) => {
            return Err(ApiError::no_such_in_param("customer", id, "customer"));
        }
        other => other.map(str::to_string),
    };
    if let Some(account) = p.str_of("customer_account") {
        // Accounts representing customers (Accounts v2) are not modelled: every id is unknown.
        return Err(ApiError::no_such_in_param(
            "account",
            account,
            "customer_account",
        ));
    }
    let expires_at = p.int_of("expires_at");
    if let Some(ts) = expires_at {
        coupons::check_future(ts, now, "expires_at")?;
        if let Some(redeem_by) = coupon.redeem_by
            && ts > redeem_by
        {
            return Err(ApiError::invalid(format!(
                "The promotion code's `expires_at` ({ts}) cannot be later than its coupon's \
                 `redeem_by` ({redeem_by})."
            ))
            .with_param("expires_at"));
        }
    }
    let max_redemptions = p.int_of("max_redemptions");
    if let (Some(max), Some(coupon_max)) = (max_redemptions, coupon.max_redemptions)
        && max > coupon_max
    {
        return Err(ApiError::invalid(format!(
            "The promotion code's `max_redemptions` ({max}) cannot be greater than its coupon's \
             `max_redemptions` ({coupon_max})."
        ))
        .with_param("max_redemptions"));
    }
    let restrictions = restrictions(p.obj_of("restrictions"))?;
    let active = p.bool_of("active").unwrap_or(true);
    let code = match p.str_of("code") {
        Some(code) => {
            if active && clash(state, code, customer.as_deref(), None, now).is_some() {
                return Err(duplicate(code));
            }
            code.to_string()
        }
        None => generated_code(state, now),
    };
    let record = PromotionCode {
        id: unused_id::<PromotionCode>(state, new_id),
        seq: 0,
        active,
        code,
        coupon: coupon_id.to_string(),
        created: now,
        customer,
        expires_at,
        max_redemptions,
        metadata: metadata::create(p.get("metadata"), "metadata")?,
        restrictions,
        times_redeemed: 0,
    };
    ctx.create(record, &call.expand)
}

/// `GET /v1/promotion_codes/{id}`.
pub(crate) fn retrieve(ctx: &mut Ctx<'_, '_>, call: &Call) -> Result<Value, ApiError> {
    check_version(ctx.version)?;
    handler::retrieve::<PromotionCode>(ctx, call)
}

/// `POST /v1/promotion_codes/{id}`. Deactivating always works; reactivating (`active=true` on
/// a code that reads as inactive) only when the code is redeemable again and no other active
/// code clashes with it.
pub(crate) fn update(ctx: &mut Ctx<'_, '_>, call: &Call) -> Result<Value, ApiError> {
    check_version(ctx.version)?;
    let p = &call.params;
    let now = ctx.now;
    let state = ctx.tx.state();
    let mut code = find::<PromotionCode>(state, &call.id)?.clone();
    if let Some(active) = p.bool_of("active") {
        if active && !is_active(state, &code, now) {
            if let Some(why) = unredeemable(state, &code, now) {
                return Err(ApiError::invalid(format!(
                    "This promotion code cannot be reactivated because {why}."
                ))
                .with_param("active"));
            }
            if clash(
                state,
                &code.code,
                code.customer.as_deref(),
                Some(&code.id),
                now,
            )
            .is_some()
            {
                return Err(duplicate(&code.code));
            }
        }
        code.active = active;
    }
    code.metadata = metadata::merge(&code.metadata, p.get("metadata"), "metadata")?;
    if let Some(changes) = p
        .obj_of("restrictions")
        .and_then(|r| r.obj_of("currency_options"))
    {
        code.restrictions.currency_options = merge_minimums(&code.restrictions, changes)?;
    }
    ctx.save(code, &call.expand)
}

/// `GET /v1/promotion_codes`. `active` filters on the code as it reads (see [`is_active`]);
/// `code` matches exactly, ignoring case. No code has a `customer_account`, so filtering on
/// one matches nothing.
pub(crate) fn list(ctx: &mut Ctx<'_, '_>, call: &Call) -> Result<Value, ApiError> {
    check_version(ctx.version)?;
    let p = &call.params;
    let now = ctx.now;
    let state = ctx.tx.state();
    let active = p.bool_of("active");
    let text = p.str_of("code");
    let coupon = p.str_of("coupon");
    let customer = p.str_of("customer");
    let account = p.str_of("customer_account");
    let keep = |code: &PromotionCode| {
        active.is_none_or(|a| is_active(state, code, now) == a)
            && text.is_none_or(|t| code.code.eq_ignore_ascii_case(t))
            && coupon.is_none_or(|c| code.coupon == c)
            && customer.is_none_or(|c| code.customer.as_deref() == Some(c))
            && account.is_none()
    };
    handler::page(ctx, call, "/v1/promotion_codes", keep)
}

// ---------------------------------------------------------------------------------------------
// Test hook

/// Simulates one redemption of promotion code `id` at `now` (what a customer applying the code
/// at checkout does in real Stripe): `times_redeemed` goes up by one on the code and on its
/// coupon. Only an active code can be redeemed; the code's `customer`, `first_time_transaction`
/// and minimum amounts are not checked (there is no checkout to check them against). Records
/// no event. On refusal, returns why and changes nothing.
pub(crate) fn redeem(tx: &mut Tx<'_>, id: &str, now: i64) -> Result<(), String> {
    let state = tx.state();
    let code = state
        .promotion_codes
        .get(id)
        .ok_or_else(|| format!("No such promotion code: '{id}'"))?;
    if !code.active {
        return Err(format!(
            "The promotion code `{id}` cannot be redeemed because it was deactivated."
        ));
    }
    if let Some(why) = unredeemable(state, code, now) {
        return Err(format!(
            "The promotion code `{id}` cannot be redeemed because {why}."
        ));
    }
    let mut code = code.clone();
    let mut coupon = state
        .coupons
        .get(&code.coupon)
        .cloned()
        .ok_or_else(|| format!("The coupon `{}` of `{id}` is missing.", code.coupon))?;
    code.times_redeemed = code.times_redeemed.saturating_add(1);
    coupon.times_redeemed = coupon.times_redeemed.saturating_add(1);
    tx.put(code);
    tx.put(coupon);
    Ok(())
}
