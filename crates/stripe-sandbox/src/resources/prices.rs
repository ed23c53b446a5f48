//! Prices (`/v1/prices`): parameter tables, the stored record, its JSON shape and the create /
//! retrieve / update / list handlers (docs/stripe-rules.md#prices). Prices cannot be deleted.

use std::collections::BTreeMap;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::meters;
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

/// A stored price.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Price {
    pub id: String,
    pub seq: u64,
    pub active: bool,
    pub billing_scheme: String,
    pub created: i64,
    pub currency: String,
    #[serde(default)]
    pub currency_options: BTreeMap<String, CurrencyOption>,
    pub custom_unit_amount: Option<CustomUnitAmount>,
    pub lookup_key: Option<String>,
    pub metadata: BTreeMap<String, String>,
    pub nickname: Option<String>,
    pub product: String,
    pub recurring: Option<Recurring>,
    pub tax_behavior: String,
    #[serde(default)]
    pub tiers: Vec<Tier>,
    pub tiers_mode: Option<String>,
    pub transform_quantity: Option<TransformQuantity>,
    pub unit_amount: Option<i64>,
    pub unit_amount_decimal: Option<String>,
}

/// The price in one more currency.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct CurrencyOption {
    pub custom_unit_amount: Option<CustomUnitAmount>,
    pub tax_behavior: String,
    #[serde(default)]
    pub tiers: Vec<Tier>,
    pub unit_amount: Option<i64>,
    pub unit_amount_decimal: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct CustomUnitAmount {
    pub maximum: Option<i64>,
    pub minimum: Option<i64>,
    pub preset: Option<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Recurring {
    pub interval: String,
    pub interval_count: i64,
    pub meter: Option<String>,
    pub trial_period_days: Option<i64>,
    pub usage_type: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Tier {
    pub flat_amount: Option<i64>,
    pub flat_amount_decimal: Option<String>,
    pub unit_amount: Option<i64>,
    pub unit_amount_decimal: Option<String>,
    /// `None` is `inf`.
    pub up_to: Option<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct TransformQuantity {
    pub divide_by: i64,
    pub round: String,
}

/// A price id as Stripe generates them: `price_` + 24 alphanumerics.
pub(crate) fn new_id() -> String {
    ids::random("price_", 24)
}

/// What `expand[]` may name in a price.
pub(crate) static SCHEMA: Schema = Schema {
    fields: &[
        ("product", Target::Object(&super::products::SCHEMA)),
        ("tiers", Target::Included),
        (
            "currency_options",
            Target::IncludedCurrencyMap(&CURRENCY_OPTION_SCHEMA),
        ),
    ],
};

/// One entry of `price.currency_options`.
static CURRENCY_OPTION_SCHEMA: Schema = Schema {
    fields: &[("tiers", Target::Included)],
};

impl Price {
    fn kind(&self) -> &'static str {
        if self.recurring.is_some() {
            "recurring"
        } else {
            "one_time"
        }
    }

    fn tiered(&self) -> bool {
        self.billing_scheme == "tiered"
    }

    /// The price's amounts in its own currency, as those in its other currencies are kept.
    fn own_option(&self) -> CurrencyOption {
        CurrencyOption {
            custom_unit_amount: self.custom_unit_amount.clone(),
            tax_behavior: self.tax_behavior.clone(),
            tiers: self.tiers.clone(),
            unit_amount: self.unit_amount,
            unit_amount_decimal: self.unit_amount_decimal.clone(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Parameter tables

/// The largest amount, in minor units. Stripe documents that amounts support "up to eight
/// digits" (99999999 for a USD charge of $999,999.99); whether it applies the same bound to
/// every price amount is unverified, so the sandbox takes the stricter reading and applies it
/// to every amount of a price: `unit_amount`, tier `unit_amount` / `flat_amount`, currency
/// option amounts, `custom_unit_amount` bounds, and the integer part of every `*_decimal`.
const MAX_AMOUNT: i64 = 99_999_999;

pub(crate) const AMOUNT: Ty = Ty::Integer {
    min: 0,
    max: MAX_AMOUNT,
};
pub(crate) const DECIMAL: Ty = Ty::Decimal {
    places: 12,
    non_negative: true,
    max_integer: Some(MAX_AMOUNT.unsigned_abs()),
};
pub(crate) const TAX_BEHAVIOR: Ty = Ty::Enum(&["exclusive", "inclusive", "unspecified"]);
const INTERVAL: Ty = Ty::Enum(&["day", "month", "week", "year"]);
const USAGE_TYPE: Ty = Ty::Enum(&["licensed", "metered"]);
pub(crate) const LOOKUP_KEY: Ty = Ty::String { max: 200 };
pub(crate) const NICKNAME: Ty = Ty::String { max: 5000 };

pub(crate) const CUSTOM_UNIT_AMOUNT: &[Field] = &[
    Field::new("enabled", Ty::Boolean).required(),
    Field::new("maximum", AMOUNT),
    Field::new("minimum", AMOUNT),
    Field::new("preset", AMOUNT),
];

const TIER: &[Field] = &[
    Field::new("flat_amount", AMOUNT),
    Field::new("flat_amount_decimal", DECIMAL),
    Field::new("unit_amount", AMOUNT),
    Field::new("unit_amount_decimal", DECIMAL),
    Field::new("up_to", Ty::UpTo).required(),
];
pub(crate) const TIERS: Ty = Ty::Array {
    item: &Ty::Object(TIER),
    max: 250,
};

const CURRENCY_OPTION: &[Field] = &[
    Field::new("custom_unit_amount", Ty::Object(CUSTOM_UNIT_AMOUNT)),
    Field::new("tax_behavior", TAX_BEHAVIOR),
    Field::new("tiers", TIERS),
    Field::new("unit_amount", AMOUNT),
    Field::new("unit_amount_decimal", DECIMAL),
];
pub(crate) const CURRENCY_OPTIONS: Ty = Ty::CurrencyMap(&Ty::Object(CURRENCY_OPTION));

pub(crate) const RECURRING: &[Field] = &[
    Field::new("interval", INTERVAL).required(),
    Field::new(
        "interval_count",
        Ty::Integer {
            min: 1,
            max: i64::MAX,
        },
    ),
    Field::new("meter", Ty::String { max: 5000 }),
    Field::new("trial_period_days", Ty::Integer { min: 0, max: 730 }),
    Field::new("usage_type", USAGE_TYPE),
];

pub(crate) const TRANSFORM_QUANTITY: &[Field] = &[
    Field::new(
        "divide_by",
        Ty::Integer {
            min: 1,
            max: i64::MAX,
        },
    )
    .required(),
    Field::new("round", Ty::Enum(&["down", "up"])).required(),
];

/// `default_price_data` on product create.
pub(crate) const DEFAULT_PRICE_DATA: &[Field] = &[
    Field::new("currency", Ty::Currency).required(),
    Field::new("currency_options", CURRENCY_OPTIONS),
    Field::new("custom_unit_amount", Ty::Object(CUSTOM_UNIT_AMOUNT)),
    Field::new("metadata", Ty::Metadata),
    Field::new(
        "recurring",
        Ty::Object(&[
            Field::new("interval", INTERVAL).required(),
            Field::new(
                "interval_count",
                Ty::Integer {
                    min: 1,
                    max: i64::MAX,
                },
            ),
        ]),
    ),
    Field::new("tax_behavior", TAX_BEHAVIOR),
    Field::new("unit_amount", AMOUNT),
    Field::new("unit_amount_decimal", DECIMAL),
];

/// `POST /v1/prices/{id}`: everything else is immutable (unknown here). `lookup_key=` clears
/// the key (not marked emptyable by Stripe's specification, but observed to work).
/// `nickname=` is refused: whether Stripe lets it be unset is unverified (stricter reading).
pub(crate) static UPDATE: &[Field] = &[
    Field::new("active", Ty::Boolean),
    Field::new("currency_options", CURRENCY_OPTIONS).emptyable(),
    EXPAND,
    Field::new("lookup_key", LOOKUP_KEY).emptyable(),
    Field::new("metadata", Ty::Metadata).emptyable(),
    Field::new("nickname", NICKNAME),
    Field::new("tax_behavior", TAX_BEHAVIOR),
    Field::new("transfer_lookup_key", Ty::Boolean),
];

pub(crate) static RETRIEVE: &[Field] = &[EXPAND];

/// `GET /v1/prices`.
pub(crate) static LIST: &[Field] = &[
    Field::new("active", Ty::Boolean),
    CREATED,
    Field::new("currency", Ty::Currency),
    ENDING_BEFORE,
    EXPAND,
    LIMIT,
    Field::new(
        "lookup_keys",
        Ty::Array {
            item: &LOOKUP_KEY,
            max: 10,
        },
    ),
    Field::new("product", Ty::String { max: 5000 }),
    Field::new(
        "recurring",
        Ty::Object(&[
            Field::new("interval", INTERVAL),
            Field::new("meter", Ty::String { max: 5000 }),
            Field::new("usage_type", USAGE_TYPE),
        ]),
    ),
    STARTING_AFTER,
    Field::new("type", Ty::Enum(&["one_time", "recurring"])),
];

// ---------------------------------------------------------------------------------------------
// Building prices from parameters

fn sub(prefix: &str, field: &str) -> String {
    if prefix.is_empty() {
        field.to_string()
    } else {
        format!("{prefix}[{field}]")
    }
}

/// An amount as the API shows it: `(integer form if whole, decimal string)`, e.g.
/// `unit_amount` / `unit_amount_decimal`.
type Amount = (Option<i64>, Option<String>);

/// The amount given as an integer.
fn from_integer(n: i64) -> Amount {
    (Some(n), Some(n.to_string()))
}

/// The amount given as a decimal string (normalized: `12.50` → `12.5`, `2000.0` → `2000`).
fn from_decimal(s: &str, param: &str) -> Result<Amount, ApiError> {
    let d = Decimal::from_str(s)
        .map_err(|_| ApiError::invalid(format!("Invalid decimal: {s}")).with_param(param))?
        .normalize();
    // After `normalize`, a whole number has scale 0 and its mantissa is its value.
    let whole = if d.scale() == 0 {
        i64::try_from(d.mantissa()).ok()
    } else {
        None
    };
    Ok((whole, Some(d.abs().to_string())))
}

/// Reads `unit_amount` / `unit_amount_decimal` of `p` (at most one may be present).
fn amount(
    p: &Map<String, Value>,
    int_key: &str,
    decimal_key: &str,
    prefix: &str,
) -> Result<Option<Amount>, ApiError> {
    match (p.int_of(int_key), p.str_of(decimal_key)) {
        (Some(_), Some(_)) => Err(ApiError::exclusive(
            &sub(prefix, int_key),
            &sub(prefix, decimal_key),
        )),
        (Some(n), None) => Ok(Some(from_integer(n))),
        (None, Some(s)) => Ok(Some(from_decimal(s, &sub(prefix, decimal_key))?)),
        (None, None) => Ok(None),
    }
}

fn tiers(values: &[Value], param: &str) -> Result<Vec<Tier>, ApiError> {
    let mut out: Vec<Tier> = Vec::with_capacity(values.len());
    let last = values.len().saturating_sub(1);
    for (i, value) in values.iter().enumerate() {
        let here = format!("{param}[{i}]");
        let t = value.as_object().cloned().unwrap_or_default();
        let unit = amount(&t, "unit_amount", "unit_amount_decimal", &here)?;
        let flat = amount(&t, "flat_amount", "flat_amount_decimal", &here)?;
        if unit.is_none() && flat.is_none() {
            return Err(ApiError::invalid(format!(
                "Each tier needs an amount: set `{here}[unit_amount]`, `{here}[unit_amount_decimal]`, \
                 `{here}[flat_amount]` or `{here}[flat_amount_decimal]`."
            ))
            .with_param(here));
        }
        let up_to = t.int_of("up_to");
        let up_to_param = format!("{here}[up_to]");
        match up_to {
            None if i != last => {
                return Err(
                    ApiError::invalid("Only the final tier can have `up_to=inf`.")
                        .with_param(up_to_param),
                );
            }
            Some(_) if i == last => {
                return Err(ApiError::invalid(
                    "The final tier of a tiered price must have `up_to=inf`.",
                )
                .with_param(up_to_param));
            }
            Some(bound) => {
                if let Some(previous) = out.last().and_then(|t| t.up_to)
                    && bound <= previous
                {
                    return Err(ApiError::invalid(format!(
                        "Tiers must be sorted by ascending `up_to`: {bound} follows {previous}."
                    ))
                    .with_param(up_to_param));
                }
            }
            None => {}
        }
        let (unit_amount, unit_amount_decimal) = unit.unwrap_or((None, None));
        let (flat_amount, flat_amount_decimal) = flat.unwrap_or((None, None));
        out.push(Tier {
            flat_amount,
            flat_amount_decimal,
            unit_amount,
            unit_amount_decimal,
            up_to,
        });
    }
    Ok(out)
}

fn custom_unit_amount(c: &Map<String, Value>, param: &str) -> Result<CustomUnitAmount, ApiError> {
    if c.bool_of("enabled") != Some(true) {
        return Err(ApiError::invalid(format!(
            "`{param}[enabled]` must be `true` when `{param}` is passed."
        ))
        .with_param(format!("{param}[enabled]")));
    }
    let custom = CustomUnitAmount {
        maximum: c.int_of("maximum"),
        minimum: c.int_of("minimum"),
        preset: c.int_of("preset"),
    };
    let ordered = |low: Option<i64>, high: Option<i64>| match (low, high) {
        (Some(l), Some(h)) => l <= h,
        _ => true,
    };
    if !ordered(custom.minimum, custom.maximum)
        || !ordered(custom.minimum, custom.preset)
        || !ordered(custom.preset, custom.maximum)
    {
        return Err(
            ApiError::invalid(format!("`{param}` needs minimum ≤ preset ≤ maximum."))
                .with_param(param),
        );
    }
    Ok(custom)
}

fn recurring(
    state: &State,
    r: &Map<String, Value>,
    version: &ApiVersion,
    param: &str,
) -> Result<Recurring, ApiError> {
    let interval = r.str_of("interval").unwrap_or("month").to_string();
    let interval_count = r.int_of("interval_count").unwrap_or(1);
    let max = match interval.as_str() {
        "day" => 1095,
        "week" => 156,
        "month" => 36,
        _ => 3,
    };
    if interval_count > max {
        return Err(ApiError::invalid(format!(
            "The maximum billing interval is three years: `interval_count` can be at most {max} \
             with `interval={interval}`."
        ))
        .with_param(format!("{param}[interval_count]")));
    }
    let usage_type = r.str_of("usage_type").unwrap_or("licensed").to_string();
    let meter = r.str_of("meter");
    match (usage_type.as_str(), meter) {
        ("metered", None) if version.requires_meters() => {
            return Err(ApiError::invalid(
                "Starting with Stripe version `2025-03-31.basil`, metered prices must be backed \
                 by meters.",
            ));
        }
        ("licensed", Some(_)) => {
            return Err(ApiError::invalid(format!(
                "`{param}[meter]` can only be set on metered prices \
                 (`{param}[usage_type]=metered`)."
            ))
            .with_param(format!("{param}[meter]")));
        }
        (_, Some(meter)) => meters::usable(state, meter, &format!("{param}[meter]"))?,
        _ => {}
    }
    Ok(Recurring {
        interval,
        interval_count,
        meter: meter.map(str::to_string),
        trial_period_days: r.int_of("trial_period_days"),
        usage_type,
    })
}

/// What a currency option must look like, from its price.
struct Shape<'a> {
    tiers: Option<&'a [Tier]>,
    custom: bool,
}

fn tax_behavior_change(current: &str, new: &str, param: &str) -> Result<String, ApiError> {
    if current == new || current == "unspecified" {
        Ok(new.to_string())
    } else {
        Err(ApiError::invalid(format!(
            "The tax behavior is `{current}`: once specified as either `inclusive` or \
             `exclusive`, it cannot be changed."
        ))
        .with_param(param))
    }
}

/// A currency option from its parameters; `existing` is the entry being updated (its amounts
/// are kept unless new ones are sent; its tax behavior can only go from `unspecified` to
/// `inclusive`/`exclusive`).
fn currency_option(
    o: &Map<String, Value>,
    shape: &Shape<'_>,
    existing: Option<&CurrencyOption>,
    param: &str,
) -> Result<CurrencyOption, ApiError> {
    let tax_behavior = match (existing, o.str_of("tax_behavior")) {
        (Some(old), Some(new)) => {
            tax_behavior_change(&old.tax_behavior, new, &format!("{param}[tax_behavior]"))?
        }
        (Some(old), None) => old.tax_behavior.clone(),
        // A new entry without its own tax behavior is `unspecified`. Whether Stripe copies the
        // price's tax behavior instead is undocumented; the stricter reading does not, so a
        // tool that wants a tax behavior on every currency must send it.
        (None, new) => new.unwrap_or("unspecified").to_string(),
    };
    let sends_amount = [
        "unit_amount",
        "unit_amount_decimal",
        "tiers",
        "custom_unit_amount",
    ]
    .iter()
    .any(|k| o.contains_key(*k));
    if let (Some(old), false) = (existing, sends_amount) {
        return Ok(CurrencyOption {
            tax_behavior,
            ..old.clone()
        });
    }
    let mut option = CurrencyOption {
        custom_unit_amount: None,
        tax_behavior,
        tiers: Vec::new(),
        unit_amount: None,
        unit_amount_decimal: None,
    };
    let not_here = |key: &str, why: &str| {
        ApiError::invalid(format!("`{param}[{key}]` cannot be used here: {why}."))
            .with_param(format!("{param}[{key}]"))
    };
    if let Some(main_tiers) = shape.tiers {
        for key in ["unit_amount", "unit_amount_decimal", "custom_unit_amount"] {
            if o.contains_key(key) {
                return Err(not_here(
                    key,
                    "the price is tiered; set amounts on the tiers",
                ));
            }
        }
        let values = o
            .arr_of("tiers")
            .ok_or_else(|| ApiError::missing_parameter(&format!("{param}[tiers]")))?;
        let parsed = tiers(values, &format!("{param}[tiers]"))?;
        let bounds = |ts: &[Tier]| ts.iter().map(|t| t.up_to).collect::<Vec<_>>();
        if bounds(&parsed) != bounds(main_tiers) {
            return Err(ApiError::invalid(format!(
                "`{param}[tiers]` must have the same `up_to` values as the price's `tiers`."
            ))
            .with_param(format!("{param}[tiers]")));
        }
        option.tiers = parsed;
        return Ok(option);
    }
    if o.contains_key("tiers") {
        return Err(not_here("tiers", "the price is not tiered"));
    }
    if shape.custom {
        for key in ["unit_amount", "unit_amount_decimal"] {
            if o.contains_key(key) {
                return Err(not_here(key, "the price uses `custom_unit_amount`"));
            }
        }
        let c = o
            .obj_of("custom_unit_amount")
            .ok_or_else(|| ApiError::missing_parameter(&format!("{param}[custom_unit_amount]")))?;
        option.custom_unit_amount = Some(custom_unit_amount(
            c,
            &format!("{param}[custom_unit_amount]"),
        )?);
        return Ok(option);
    }
    if o.contains_key("custom_unit_amount") {
        return Err(not_here(
            "custom_unit_amount",
            "the price has a fixed amount",
        ));
    }
    let (unit_amount, unit_amount_decimal) =
        amount(o, "unit_amount", "unit_amount_decimal", param)?
            .ok_or_else(|| ApiError::missing_parameter(&format!("{param}[unit_amount]")))?;
    option.unit_amount = unit_amount;
    option.unit_amount_decimal = unit_amount_decimal;
    Ok(option)
}

fn merge_currency_options(
    price: &Price,
    changes: &Map<String, Value>,
    param: &str,
) -> Result<BTreeMap<String, CurrencyOption>, ApiError> {
    let mut merged = price.currency_options.clone();
    let shape = Shape {
        tiers: price.tiered().then_some(price.tiers.as_slice()),
        custom: price.custom_unit_amount.is_some(),
    };
    for (code, value) in changes {
        let here = format!("{param}[{code}]");
        if *code == price.currency {
            return Err(ApiError::invalid(format!(
                "`{here}` is the price's own currency; `currency_options` may only hold other \
                 currencies."
            ))
            .with_param(here));
        }
        let o = value.as_object().cloned().unwrap_or_default();
        let option = currency_option(&o, &shape, merged.get(code), &here)?;
        merged.insert(code.clone(), option);
    }
    Ok(merged)
}

/// Builds a new price for `product_id` from create parameters (`prefix` `""`) or from a
/// product's `default_price_data` (a subset of them). Does not store it and ignores
/// `lookup_key` (see [`create`]).
pub(crate) fn build(
    state: &State,
    p: &Map<String, Value>,
    product_id: &str,
    version: &ApiVersion,
    now: i64,
    prefix: &str,
) -> Result<Price, ApiError> {
    let param = |f: &str| sub(prefix, f);
    let currency = p.str_of("currency").unwrap_or("usd").to_string();
    let billing_scheme = p.str_of("billing_scheme").unwrap_or("per_unit").to_string();
    let recurring = match p.obj_of("recurring") {
        Some(r) => Some(recurring(state, r, version, &param("recurring"))?),
        None => None,
    };
    let mut price = Price {
        id: unused_id::<Price>(state, new_id),
        seq: 0,
        active: p.bool_of("active").unwrap_or(true),
        billing_scheme,
        created: now,
        currency,
        currency_options: BTreeMap::new(),
        custom_unit_amount: None,
        lookup_key: None,
        metadata: metadata::create(p.get("metadata"), &param("metadata"))?,
        nickname: p.str_of("nickname").map(str::to_string),
        product: product_id.to_string(),
        recurring,
        tax_behavior: p
            .str_of("tax_behavior")
            .unwrap_or("unspecified")
            .to_string(),
        tiers: Vec::new(),
        tiers_mode: None,
        transform_quantity: None,
        unit_amount: None,
        unit_amount_decimal: None,
    };
    if price.tiered() {
        for key in ["unit_amount", "unit_amount_decimal", "custom_unit_amount"] {
            if p.contains_key(key) {
                return Err(ApiError::invalid(format!(
                    "`{}` cannot be used with `billing_scheme=tiered`; set the amounts on the \
                     tiers instead.",
                    param(key)
                ))
                .with_param(param(key)));
            }
        }
        let values = p
            .arr_of("tiers")
            .ok_or_else(|| ApiError::missing_parameter(&param("tiers")))?;
        let mode = p
            .str_of("tiers_mode")
            .ok_or_else(|| ApiError::missing_parameter(&param("tiers_mode")))?;
        if price.recurring.is_none() {
            return Err(ApiError::invalid(
                "Prices with `type=one_time` are not supported with tiered billing.",
            )
            .with_param("interval"));
        }
        if p.contains_key("transform_quantity") {
            return Err(ApiError::exclusive(
                &param("transform_quantity"),
                &param("tiers"),
            ));
        }
        price.tiers = tiers(values, &param("tiers"))?;
        price.tiers_mode = Some(mode.to_string());
    } else {
        for key in ["tiers", "tiers_mode"] {
            if p.contains_key(key) {
                return Err(ApiError::invalid(format!(
                    "`{}` can only be used with `billing_scheme=tiered`.",
                    param(key)
                ))
                .with_param(param(key)));
            }
        }
        let fixed = amount(p, "unit_amount", "unit_amount_decimal", prefix)?;
        match (fixed, p.obj_of("custom_unit_amount")) {
            (None, None) => {
                return Err(ApiError::invalid(
                    "Prices require an `unit_amount` or `unit_amount_decimal` parameter to be set.",
                ));
            }
            (Some(_), Some(_)) => {
                let given = if p.contains_key("unit_amount") {
                    "unit_amount"
                } else {
                    "unit_amount_decimal"
                };
                return Err(ApiError::exclusive(
                    &param("custom_unit_amount"),
                    &param(given),
                ));
            }
            (Some((int, decimal)), None) => {
                price.unit_amount = int;
                price.unit_amount_decimal = decimal;
            }
            (None, Some(c)) => {
                // Pay-what-you-want amounts are for one-time purchases (Checkout, Payment
                // Links); recurring ones are refused (stricter reading: Stripe does not say).
                if price.recurring.is_some() {
                    return Err(ApiError::invalid(format!(
                        "`{}` is only supported for one-time prices.",
                        param("custom_unit_amount")
                    ))
                    .with_param(param("custom_unit_amount")));
                }
                price.custom_unit_amount =
                    Some(custom_unit_amount(c, &param("custom_unit_amount"))?);
            }
        }
    }
    if let Some(t) = p.obj_of("transform_quantity") {
        price.transform_quantity = Some(TransformQuantity {
            divide_by: t.int_of("divide_by").unwrap_or(1),
            round: t.str_of("round").unwrap_or("up").to_string(),
        });
    }
    if let Some(options) = p.obj_of("currency_options") {
        price.currency_options =
            merge_currency_options(&price, options, &param("currency_options"))?;
    }
    Ok(price)
}

/// Takes the lookup key off price `holder` (the key moves to another price).
pub(crate) fn release_lookup_key(tx: &mut Tx<'_>, holder: Option<String>) {
    if let Some(mut previous) = holder.and_then(|id| tx.state().prices.get(&id).cloned()) {
        previous.lookup_key = None;
        tx.put(previous);
    }
}

/// The price currently holding `key` (other than `this`): `Ok(None)` if free, `Ok(Some(id))` if
/// held and `transfer` moves it, an error if held and not transferred. Lookup keys are unique
/// across all prices, active or archived.
pub(crate) fn lookup_key_holder(
    state: &State,
    key: &str,
    transfer: bool,
    this: Option<&str>,
) -> Result<Option<String>, ApiError> {
    let holder = state
        .prices
        .values()
        .find(|p| p.lookup_key.as_deref() == Some(key) && Some(p.id.as_str()) != this);
    match holder {
        None => Ok(None),
        Some(h) if transfer => Ok(Some(h.id.clone())),
        Some(h) => Err(ApiError::invalid(format!(
            "A price (`{}`) already uses that lookup key.",
            h.id
        ))
        .with_param("lookup_key")),
    }
}

pub(crate) fn transfer_without_key() -> ApiError {
    ApiError::invalid(
        "`transfer_lookup_key` can only be used together with a non-empty `lookup_key`.",
    )
    .with_param("transfer_lookup_key")
}

// ---------------------------------------------------------------------------------------------
// Rendering

fn render_tiers(tiers: &[Tier]) -> Value {
    Value::Array(
        tiers
            .iter()
            .map(|t| {
                json!({
                    "flat_amount": t.flat_amount,
                    "flat_amount_decimal": t.flat_amount_decimal,
                    "unit_amount": t.unit_amount,
                    "unit_amount_decimal": t.unit_amount_decimal,
                    "up_to": t.up_to,
                })
            })
            .collect(),
    )
}

fn render_custom(c: Option<&CustomUnitAmount>) -> Value {
    c.map_or(
        Value::Null,
        |c| json!({ "maximum": c.maximum, "minimum": c.minimum, "preset": c.preset }),
    )
}

/// One currency's amounts, with its `tiers` when `with_tiers`.
fn render_option(option: &CurrencyOption, with_tiers: bool) -> Value {
    let mut o = Map::new();
    o.insert(
        "custom_unit_amount".into(),
        render_custom(option.custom_unit_amount.as_ref()),
    );
    o.insert("tax_behavior".into(), json!(option.tax_behavior));
    if with_tiers {
        o.insert("tiers".into(), render_tiers(&option.tiers));
    }
    o.insert("unit_amount".into(), json!(option.unit_amount));
    o.insert(
        "unit_amount_decimal".into(),
        json!(option.unit_amount_decimal),
    );
    Value::Object(o)
}

/// `currency_options` when expanded: the price's own currency plus its other currencies.
/// `expand` is the expansion below `currency_options`: each currency's `tiers` are includable
/// (present only when `currency_options.<currency>.tiers` is expanded, and only on tiered
/// prices).
fn render_currency_options(price: &Price, expand: &Expand) -> Value {
    let own = price.own_option();
    let all: BTreeMap<&String, Value> = std::iter::once((&price.currency, &own))
        .chain(&price.currency_options)
        .map(|(code, option)| {
            let with_tiers = price.tiered() && expand.get(code).is_some_and(|e| e.has("tiers"));
            (code, render_option(option, with_tiers))
        })
        .collect();
    Value::Object(all.into_iter().map(|(code, o)| (code.clone(), o)).collect())
}

impl Resource for Price {
    fn render(&self, state: &State, expand: &Expand, now: i64) -> Value {
        render(state, self, expand, now)
    }
}

/// The price's JSON, with `expand` applied. `tiers`, `currency_options` and the `tiers` of each
/// currency option are includable: present only when expanded (and tiers only on tiered
/// prices).
fn render(state: &State, price: &Price, expand: &Expand, now: i64) -> Value {
    let mut o = Map::new();
    o.insert("id".into(), json!(price.id));
    o.insert("object".into(), json!("price"));
    o.insert("active".into(), json!(price.active));
    o.insert("billing_scheme".into(), json!(price.billing_scheme));
    o.insert("created".into(), json!(price.created));
    o.insert("currency".into(), json!(price.currency));
    if let Some(options) = expand.get("currency_options") {
        o.insert(
            "currency_options".into(),
            render_currency_options(price, options),
        );
    }
    o.insert(
        "custom_unit_amount".into(),
        render_custom(price.custom_unit_amount.as_ref()),
    );
    o.insert("livemode".into(), json!(false));
    o.insert("lookup_key".into(), json!(price.lookup_key));
    o.insert("metadata".into(), metadata::render(&price.metadata));
    o.insert("nickname".into(), json!(price.nickname));
    let product = match expand.get("product") {
        Some(sub) => state
            .products
            .get(&price.product)
            .map_or_else(|| json!(price.product), |p| p.render(state, sub, now)),
        None => json!(price.product),
    };
    o.insert("product".into(), product);
    o.insert(
        "recurring".into(),
        price.recurring.as_ref().map_or(Value::Null, |r| {
            json!({
                "interval": r.interval,
                "interval_count": r.interval_count,
                "meter": r.meter,
                "trial_period_days": r.trial_period_days,
                "usage_type": r.usage_type,
            })
        }),
    );
    o.insert("tax_behavior".into(), json!(price.tax_behavior));
    if expand.has("tiers") && price.tiered() {
        o.insert("tiers".into(), render_tiers(&price.tiers));
    }
    o.insert("tiers_mode".into(), json!(price.tiers_mode));
    o.insert(
        "transform_quantity".into(),
        price.transform_quantity.as_ref().map_or(
            Value::Null,
            |t| json!({ "divide_by": t.divide_by, "round": t.round }),
        ),
    );
    o.insert("type".into(), json!(price.kind()));
    o.insert("unit_amount".into(), json!(price.unit_amount));
    o.insert(
        "unit_amount_decimal".into(),
        json!(price.unit_amount_decimal),
    );
    Value::Object(o)
}

// ---------------------------------------------------------------------------------------------
// Handlers

/// `POST /v1/prices/{id}`.
pub(crate) fn update(ctx: &mut Ctx<'_, '_>, call: &Call) -> Result<Value, ApiError> {
    let p = &call.params;
    let state = ctx.tx.state();
    let mut price = find::<Price>(state, &call.id)?.clone();
    if let Some(active) = p.bool_of("active") {
        let is_default = state
            .products
            .get(&price.product)
            .is_some_and(|product| product.default_price.as_deref() == Some(price.id.as_str()));
        if !active && is_default {
            return Err(ApiError::invalid(
                "This price cannot be archived because it is the default price of its product.",
            )
            .with_param("active"));
        }
        price.active = active;
    }
    if p.cleared("currency_options") {
        price.currency_options.clear();
    } else if let Some(changes) = p.obj_of("currency_options") {
        price.currency_options = merge_currency_options(&price, changes, "currency_options")?;
    }
    let transfer = p.bool_of("transfer_lookup_key") == Some(true);
    let mut holder = None;
    if p.cleared("lookup_key") {
        if transfer {
            return Err(transfer_without_key());
        }
        price.lookup_key = None;
    } else if let Some(key) = p.str_of("lookup_key") {
        holder = lookup_key_holder(state, key, transfer, Some(&price.id))?;
        price.lookup_key = Some(key.to_string());
    } else if transfer {
        return Err(transfer_without_key());
    }
    price.metadata = metadata::merge(&price.metadata, p.get("metadata"), "metadata")?;
    if let Some(nickname) = p.str_of("nickname") {
        price.nickname = Some(nickname.to_string());
    }
    if let Some(new) = p.str_of("tax_behavior") {
        price.tax_behavior = tax_behavior_change(&price.tax_behavior, new, "tax_behavior")?;
    }
    release_lookup_key(ctx.tx, holder);
    ctx.save(price, &call.expand)
}

/// `GET /v1/prices`. Without `active`, only active prices are listed: the API reference says
/// "Returns a list of your active prices… For the list of inactive prices, set active to
/// false" (stricter reading: whether Stripe's list really leaves archived prices out is
/// unverified).
pub(crate) fn list(ctx: &mut Ctx<'_, '_>, call: &Call) -> Result<Value, ApiError> {
    let p = &call.params;
    let active = p.bool_of("active").unwrap_or(true);
    let currency = p.str_of("currency");
    let product = p.str_of("product");
    let kind = p.str_of("type");
    let lookup_keys: Option<Vec<&str>> = p
        .arr_of("lookup_keys")
        .map(|keys| keys.iter().filter_map(Value::as_str).collect());
    let recurring = p.obj_of("recurring");
    let interval = recurring.and_then(|r| r.str_of("interval"));
    let usage_type = recurring.and_then(|r| r.str_of("usage_type"));
    let meter = recurring.and_then(|r| r.str_of("meter"));
    let keep = |price: &Price| {
        price.active == active
            && currency.is_none_or(|c| price.currency == c)
            && product.is_none_or(|id| price.product == id)
            && kind.is_none_or(|k| price.kind() == k)
            && lookup_keys.as_ref().is_none_or(|keys| {
                price
                    .lookup_key
                    .as_deref()
                    .is_some_and(|key| keys.contains(&key))
            })
            && interval.is_none_or(|i| price.recurring.as_ref().is_some_and(|r| r.interval == i))
            && usage_type
                .is_none_or(|u| price.recurring.as_ref().is_some_and(|r| r.usage_type == u))
            && meter.is_none_or(|m| {
                price
                    .recurring
                    .as_ref()
                    .is_some_and(|r| r.meter.as_deref() == Some(m))
            })
    };
    handler::page(ctx, call, "/v1/prices", keep)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_amounts_normalize() {
        assert_eq!(
            from_decimal("2000.000", "x").unwrap(),
            (Some(2000), Some("2000".into()))
        );
        assert_eq!(
            from_decimal("12.50", "x").unwrap(),
            (None, Some("12.5".into()))
        );
        assert_eq!(
            from_decimal("0.000000000001", "x").unwrap(),
            (None, Some("0.000000000001".into()))
        );
    }
}
