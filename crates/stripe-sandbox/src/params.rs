//! The declarative parameter rule table, and the one validator that checks a decoded form
//! against it.
//!
//! Each endpoint declares a static `&[Field]`: the parameters it accepts, their types and limits,
//! which are required and which accept `""` (emptyable, docs/stripe-rules.md#empty-values). The
//! validator reports the first problem with Stripe's error shapes (`parameter_unknown`,
//! `parameter_missing`, `parameter_invalid_empty`, `parameter_invalid_integer`, …) and returns a
//! JSON object holding only known, well-typed values, for handlers to apply business rules to: an
//! absent parameter is absent, an empty one (`x=`) is `null`, integers are numbers, booleans are
//! booleans, decimals stay strings, hashes are objects and arrays are arrays.
//!
//! Update endpoints have their own tables, so immutable fields are simply unknown there.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::currency;
use super::error::ApiError;
use super::form::{self, Node};

/// One accepted parameter.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Field {
    pub name: &'static str,
    pub ty: Ty,
    pub required: bool,
    pub emptyable: bool,
}

impl Field {
    pub(crate) const fn new(name: &'static str, ty: Ty) -> Field {
        Field {
            name,
            ty,
            required: false,
            emptyable: false,
        }
    }

    /// The parameter must be present.
    pub(crate) const fn required(mut self) -> Field {
        self.required = true;
        self
    }

    /// The parameter accepts `""`, meaning "unset" (or "clear" for hashes and arrays).
    pub(crate) const fn emptyable(mut self) -> Field {
        self.emptyable = true;
        self
    }
}

/// The type of a parameter value.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Ty {
    /// A string of at most `max` characters.
    String { max: usize },
    /// A base-10 integer within `min..=max`.
    Integer { min: i64, max: i64 },
    /// A decimal string with at most `places` decimal places and, with `max_integer`, an
    /// integer part (the digits before the point) of at most that value.
    Decimal {
        places: usize,
        non_negative: bool,
        max_integer: Option<u64>,
    },
    /// A decimal number (`25.5`, `10.0`, `20`) within `min..=max`, with at most `places`
    /// decimal places; no exponent notation. Validated as a JSON number.
    Float { min: f64, max: f64, places: usize },
    /// `true` or `false`.
    Boolean,
    /// One of the listed values.
    Enum(&'static [&'static str]),
    /// A supported lowercase currency code.
    Currency,
    /// A string→string hash with Stripe's metadata limits; `key=` removes a key.
    Metadata,
    /// A tier bound: a positive integer or `inf`.
    UpTo,
    /// A timestamp filter: an integer, or a hash of `gt`, `gte`, `lt`, `lte` integers.
    Range,
    /// A Unix timestamp (an integer) or the literal `now` (kept as the string `"now"`), as tax
    /// registrations' `active_from` and `expires_at` take.
    NowOrTimestamp,
    /// A hash with the listed fields.
    Object(&'static [Field]),
    /// A hash keyed by currency code whose values have the given type (e.g. `currency_options`).
    CurrencyMap(&'static Ty),
    /// An array of at most `max` items.
    Array { item: &'static Ty, max: usize },
}

/// Metadata limits (docs/stripe-rules.md#metadata).
pub(crate) const METADATA_MAX_KEYS: usize = 50;
const METADATA_MAX_KEY_LEN: usize = 40;
const METADATA_MAX_VALUE_LEN: usize = 500;

/// The `expand` parameter every endpoint accepts.
pub(crate) const EXPAND: Field = Field::new(
    "expand",
    Ty::Array {
        item: &Ty::String { max: 5000 },
        max: 100,
    },
);

/// Validates a decoded form against an endpoint's table.
pub(crate) fn validate(
    fields: &[Field],
    tree: &BTreeMap<String, Node>,
) -> Result<Map<String, Value>, ApiError> {
    validate_object(fields, tree, "")
}

fn child_path(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}[{key}]")
    }
}

fn validate_object(
    fields: &[Field],
    map: &BTreeMap<String, Node>,
    prefix: &str,
) -> Result<Map<String, Value>, ApiError> {
    if let Some(unknown) = map
        .keys()
        .find(|key| !fields.iter().any(|f| f.name == key.as_str()))
    {
        return Err(ApiError::unknown_parameter(&child_path(prefix, unknown)));
    }
    let mut out = Map::new();
    for field in fields {
        if let Some(node) = map.get(field.name) {
            let path = child_path(prefix, field.name);
            let value = validate_field(field.emptyable, &field.ty, node, &path)?;
            out.insert(field.name.to_string(), value);
        }
    }
    if let Some(missing) = fields
        .iter()
        .find(|f| f.required && !map.contains_key(f.name))
    {
        return Err(ApiError::missing_parameter(&child_path(
            prefix,
            missing.name,
        )));
    }
    Ok(out)
}

fn validate_field(emptyable: bool, ty: &Ty, node: &Node, path: &str) -> Result<Value, ApiError> {
    if matches!(node, Node::Leaf(s) if s.is_empty()) {
        return if emptyable {
            Ok(Value::Null)
        } else {
            Err(ApiError::invalid_empty(path))
        };
    }
    validate_value(ty, node, path)
}

/// `abcdefghij...qrstuvwxyz` for long values, as Stripe abbreviates them in messages.
fn abbreviate(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() <= 23 {
        return s.to_string();
    }
    let head: String = chars[..10].iter().collect();
    let tail: String = chars[chars.len() - 10..].iter().collect();
    format!("{head}...{tail}")
}

fn kind_name(node: &Node) -> &'static str {
    match node {
        Node::Leaf(_) => "a string",
        Node::Map(_) => "a hash",
        Node::List(_) => "an array",
    }
}

fn one_of(values: &[&str]) -> String {
    match values {
        [] => String::new(),
        [one] => (*one).to_string(),
        [a, b] => format!("{a} or {b}"),
        [init @ .., last] => format!("{}, or {last}", init.join(", ")),
    }
}

/// Parses a strict base-10 integer (`-?[0-9]+`).
pub(crate) fn parse_integer(s: &str) -> Option<i64> {
    let digits = s.strip_prefix('-').unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn integer(s: &str, path: &str) -> Result<i64, ApiError> {
    parse_integer(s).ok_or_else(|| {
        ApiError::invalid(format!("Invalid integer: {}", abbreviate(s)))
            .with_code("parameter_invalid_integer")
            .with_param(path)
    })
}

fn leaf<'a>(node: &'a Node, path: &str, what: &str) -> Result<&'a str, ApiError> {
    match node {
        Node::Leaf(s) => Ok(s),
        other => Err(ApiError::invalid(format!(
            "Invalid {what}: {path} must be {what_article}, not {}",
            kind_name(other),
            what_article = article(what)
        ))
        .with_param(path)),
    }
}

fn article(what: &str) -> String {
    match what.chars().next() {
        Some('a' | 'e' | 'i' | 'o' | 'u') => format!("an {what}"),
        _ => format!("a {what}"),
    }
}

fn hash<'a>(node: &'a Node, path: &str) -> Result<&'a BTreeMap<String, Node>, ApiError> {
    match node {
        Node::Map(map) => Ok(map),
        _ => Err(ApiError::invalid("Invalid hash").with_param(path)),
    }
}

fn validate_value(ty: &Ty, node: &Node, path: &str) -> Result<Value, ApiError> {
    match *ty {
        Ty::String { max } => validate_string(leaf(node, path, "string")?, max, path),
        Ty::Integer { min, max } => validate_integer(node, min, max, path),
        Ty::Decimal {
            places,
            non_negative,
            max_integer,
        } => validate_decimal(
            leaf(node, path, "decimal")?,
            places,
            non_negative,
            max_integer,
            path,
        ),
        Ty::Float { min, max, places } => {
            validate_float(leaf(node, path, "float")?, min, max, places, path)
        }
        Ty::Boolean => match leaf(node, path, "boolean")? {
            "true" => Ok(Value::Bool(true)),
            "false" => Ok(Value::Bool(false)),
            other => Err(
                ApiError::invalid(format!("Invalid boolean: {}", abbreviate(other)))
                    .with_param(path),
            ),
        },
        Ty::Enum(values) => {
            let s = leaf(node, path, "string")?;
            if values.contains(&s) {
                Ok(Value::String(s.to_string()))
            } else {
                Err(
                    ApiError::invalid(format!("Invalid {path}: must be one of {}", one_of(values)))
                        .with_param(path),
                )
            }
        }
        Ty::Currency => {
            let s = leaf(node, path, "string")?;
            if currency::is_supported(s) {
                Ok(Value::String(s.to_string()))
            } else {
                Err(
                    ApiError::invalid(currency::unsupported_message(&abbreviate(s)))
                        .with_param(path),
                )
            }
        }
        Ty::Metadata => validate_metadata(node, path),
        Ty::UpTo => validate_up_to(leaf(node, path, "integer")?, path),
        Ty::NowOrTimestamp => validate_now_or_timestamp(leaf(node, path, "timestamp")?, path),
        Ty::Range => validate_range(node, path),
        Ty::Object(fields) => Ok(Value::Object(validate_object(
            fields,
            hash(node, path)?,
            path,
        )?)),
        Ty::CurrencyMap(value_ty) => validate_currency_map(value_ty, node, path),
        Ty::Array { item, max } => validate_array(item, max, node, path),
    }
}

fn validate_string(s: &str, max: usize, path: &str) -> Result<Value, ApiError> {
    if s.chars().count() > max {
        return Err(ApiError::invalid(format!(
            "Invalid string: {}; must be at most {max} characters",
            abbreviate(s)
        ))
        .with_param(path));
    }
    // A whitespace-only value is refused like Stripe's `parameter_invalid_string_blank`
    // (which fields Stripe applies it to is unverified; all of them here, stricter).
    if s.trim().is_empty() {
        return Err(ApiError::invalid(format!(
            "Invalid {path}: the value cannot be blank (only whitespace)."
        ))
        .with_code("parameter_invalid_string_blank")
        .with_param(path));
    }
    Ok(Value::String(s.to_string()))
}

fn validate_integer(node: &Node, min: i64, max: i64, path: &str) -> Result<Value, ApiError> {
    let s = match node {
        Node::Leaf(s) => s.as_str(),
        other => {
            return Err(ApiError::invalid(format!(
                "Invalid integer: {path} must be an integer, not {}",
                kind_name(other)
            ))
            .with_code("parameter_invalid_integer")
            .with_param(path));
        }
    };
    let n = integer(s, path)?;
    check_bounds(n, min, max, path)?;
    Ok(Value::from(n))
}

/// The integer and fraction digits of a plain decimal number (`-12.50`: `("12", "50")`), or
/// `None` when it is not one (or has more than 16 integer digits).
fn decimal_parts(s: &str) -> Option<(&str, &str)> {
    let unsigned = s.strip_prefix('-').unwrap_or(s);
    let (int, frac) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    let digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    if !digits(int) || (unsigned.contains('.') && !digits(frac)) || int.len() > 16 {
        return None;
    }
    Some((int, frac))
}

fn validate_decimal(
    s: &str,
    places: usize,
    non_negative: bool,
    max_integer: Option<u64>,
    path: &str,
) -> Result<Value, ApiError> {
    let Some((int, frac)) = decimal_parts(s) else {
        return Err(
            ApiError::invalid(format!("Invalid decimal: {}", abbreviate(s))).with_param(path),
        );
    };
    if frac.len() > places {
        return Err(ApiError::invalid(format!(
            "Invalid decimal: {}; must have at most {places} decimal places",
            abbreviate(s)
        ))
        .with_param(path));
    }
    if non_negative && s.starts_with('-') && (int.bytes().chain(frac.bytes())).any(|b| b != b'0') {
        return Err(
            ApiError::invalid("This value must be greater than or equal to 0.").with_param(path),
        );
    }
    // At most 16 digits (checked above), so the integer part fits a u64.
    if let Some(max) = max_integer
        && int.parse::<u64>().is_ok_and(|n| n > max)
    {
        return Err(ApiError::invalid(format!(
            "Invalid decimal: {}; the integer part can be at most {max} (amounts have at most {} \
             integer digits).",
            abbreviate(s),
            max.to_string().len()
        ))
        .with_param(path));
    }
    Ok(Value::String(s.to_string()))
}

fn validate_float(
    s: &str,
    min: f64,
    max: f64,
    places: usize,
    path: &str,
) -> Result<Value, ApiError> {
    let invalid =
        || ApiError::invalid(format!("Invalid float: {}", abbreviate(s))).with_param(path);
    let (_, frac) = decimal_parts(s).ok_or_else(invalid)?;
    let value: f64 = s.parse().map_err(|_| invalid())?;
    if value < min {
        return Err(ApiError::invalid(format!(
            "This value must be greater than or equal to {min} (it currently is '{value:?}')."
        ))
        .with_param(path));
    }
    if value > max {
        return Err(ApiError::invalid(format!(
            "This value must be less than or equal to {max} (it currently is '{value:?}')."
        ))
        .with_param(path));
    }
    if frac.len() > places {
        return Err(ApiError::invalid(format!(
            "Invalid float: {}; must have at most {places} decimal places",
            abbreviate(s)
        ))
        .with_param(path));
    }
    serde_json::Number::from_f64(value)
        .map(Value::Number)
        .ok_or_else(invalid)
}

/// A tier's `up_to`: a positive integer or `inf`.
fn validate_up_to(s: &str, path: &str) -> Result<Value, ApiError> {
    if s == "inf" {
        return Ok(Value::String("inf".into()));
    }
    let n = integer(s, path)?;
    check_bounds(n, 1, i64::MAX, path)?;
    Ok(Value::from(n))
}

fn validate_now_or_timestamp(s: &str, path: &str) -> Result<Value, ApiError> {
    if s == "now" {
        return Ok(Value::String("now".into()));
    }
    let n = parse_integer(s).ok_or_else(|| {
        ApiError::invalid(format!(
            "Invalid timestamp: {}; must be a Unix timestamp (an integer) or `now`",
            abbreviate(s)
        ))
        .with_code("parameter_invalid_integer")
        .with_param(path)
    })?;
    check_bounds(n, 0, i64::MAX, path)?;
    Ok(Value::from(n))
}

/// An integer, or a range of them (`created[gte]=…`).
fn validate_range(node: &Node, path: &str) -> Result<Value, ApiError> {
    match node {
        Node::Leaf(s) => Ok(Value::from(integer(s, path)?)),
        Node::Map(map) => {
            let mut out = Map::new();
            for (key, value) in map {
                let sub = child_path(path, key);
                if !matches!(key.as_str(), "gt" | "gte" | "lt" | "lte") {
                    return Err(ApiError::unknown_parameter(&sub));
                }
                let s = leaf(value, &sub, "integer")?;
                if s.is_empty() {
                    return Err(ApiError::invalid_empty(&sub));
                }
                out.insert(key.clone(), Value::from(integer(s, &sub)?));
            }
            Ok(Value::Object(out))
        }
        Node::List(_) => Err(ApiError::invalid("Invalid hash").with_param(path)),
    }
}

fn validate_currency_map(value_ty: &Ty, node: &Node, path: &str) -> Result<Value, ApiError> {
    let mut out = Map::new();
    for (code, value) in hash(node, path)? {
        let sub = child_path(path, code);
        if !currency::is_supported(code) {
            return Err(
                ApiError::invalid(currency::unsupported_message(&abbreviate(code))).with_param(sub),
            );
        }
        out.insert(code.clone(), validate_field(false, value_ty, value, &sub)?);
    }
    Ok(Value::Object(out))
}

fn validate_array(item: &Ty, max: usize, node: &Node, path: &str) -> Result<Value, ApiError> {
    let items: Vec<&Node> = match node {
        Node::List(items) => items.iter().collect(),
        Node::Map(map) => form::indexed_items(map)
            .ok_or_else(|| ApiError::invalid("Invalid array").with_param(path))?,
        Node::Leaf(_) => return Err(ApiError::invalid("Invalid array").with_param(path)),
    };
    if items.len() > max {
        return Err(ApiError::invalid(format!(
            "Invalid {path}: must contain at most {max} elements"
        ))
        .with_param(path));
    }
    let mut out = Vec::with_capacity(items.len());
    for (index, item_node) in items.into_iter().enumerate() {
        let sub = format!("{path}[{index}]");
        out.push(validate_field(false, item, item_node, &sub)?);
    }
    Ok(Value::Array(out))
}

fn check_bounds(n: i64, min: i64, max: i64, path: &str) -> Result<(), ApiError> {
    if n < min {
        return Err(ApiError::invalid(format!(
            "This value must be greater than or equal to {min}."
        ))
        .with_param(path));
    }
    if n > max {
        return Err(
            ApiError::invalid(format!("This value must be less than or equal to {max}."))
                .with_param(path),
        );
    }
    Ok(())
}

fn validate_metadata(node: &Node, path: &str) -> Result<Value, ApiError> {
    let map = hash(node, path)?;
    if map.len() > METADATA_MAX_KEYS {
        return Err(too_many_metadata_keys(path));
    }
    let mut out = Map::new();
    for (key, value) in map {
        let sub = child_path(path, key);
        if key.chars().count() > METADATA_MAX_KEY_LEN {
            return Err(ApiError::invalid(format!(
                "Metadata keys can have up to {METADATA_MAX_KEY_LEN} characters. Key '{}' is longer.",
                abbreviate(key)
            ))
            .with_param(sub));
        }
        if key.contains(['[', ']']) {
            return Err(ApiError::invalid(format!(
                "Metadata keys may not contain `[` or `]`. Key '{}' does.",
                abbreviate(key)
            ))
            .with_param(sub));
        }
        let Node::Leaf(s) = value else {
            return Err(ApiError::invalid(format!(
                "Invalid {sub}: metadata values must be strings, not {}",
                kind_name(value)
            ))
            .with_param(sub));
        };
        if s.is_empty() {
            out.insert(key.clone(), Value::Null);
            continue;
        }
        if s.chars().count() > METADATA_MAX_VALUE_LEN {
            return Err(ApiError::invalid(format!(
                "Metadata values can have up to {METADATA_MAX_VALUE_LEN} characters, but you \
                 passed in a value that is {} characters. Invalid value: {}",
                s.chars().count(),
                abbreviate(s)
            ))
            .with_param(sub));
        }
        out.insert(key.clone(), Value::String(s.clone()));
    }
    Ok(Value::Object(out))
}

/// `You can have up to 50 metadata keys.`
pub(crate) fn too_many_metadata_keys(param: &str) -> ApiError {
    ApiError::invalid(format!(
        "You can have up to {METADATA_MAX_KEYS} metadata keys."
    ))
    .with_param(param)
}

/// Typed access to a validated parameter object.
pub(crate) trait ParamsExt {
    fn str_of(&self, key: &str) -> Option<&str>;
    fn int_of(&self, key: &str) -> Option<i64>;
    fn float_of(&self, key: &str) -> Option<f64>;
    fn bool_of(&self, key: &str) -> Option<bool>;
    fn obj_of(&self, key: &str) -> Option<&Map<String, Value>>;
    fn arr_of(&self, key: &str) -> Option<&Vec<Value>>;
    /// Present with an empty value (`key=`).
    fn cleared(&self, key: &str) -> bool;
    /// Whether the boolean list filter `key` admits an object whose flag is `value` (without
    /// the filter, every object).
    fn admits(&self, key: &str, value: bool) -> bool;
    /// Applies an update of the emptyable string `key` to `field`: `key=` clears it, a value
    /// replaces it once `check` accepts it, and without `key` it stays as it is.
    fn update_str(
        &self,
        key: &str,
        field: &mut Option<String>,
        check: impl FnOnce(&str) -> Result<(), ApiError>,
    ) -> Result<(), ApiError>;
}

impl ParamsExt for Map<String, Value> {
    fn str_of(&self, key: &str) -> Option<&str> {
        self.get(key).and_then(Value::as_str)
    }
    fn int_of(&self, key: &str) -> Option<i64> {
        self.get(key).and_then(Value::as_i64)
    }
    fn float_of(&self, key: &str) -> Option<f64> {
        self.get(key).and_then(Value::as_f64)
    }
    fn bool_of(&self, key: &str) -> Option<bool> {
        self.get(key).and_then(Value::as_bool)
    }
    fn obj_of(&self, key: &str) -> Option<&Map<String, Value>> {
        self.get(key).and_then(Value::as_object)
    }
    fn arr_of(&self, key: &str) -> Option<&Vec<Value>> {
        self.get(key).and_then(Value::as_array)
    }
    fn cleared(&self, key: &str) -> bool {
        matches!(self.get(key), Some(Value::Null))
    }
    fn admits(&self, key: &str, value: bool) -> bool {
        self.bool_of(key).is_none_or(|wanted| wanted == value)
    }
    fn update_str(
        &self,
        key: &str,
        field: &mut Option<String>,
        check: impl FnOnce(&str) -> Result<(), ApiError>,
    ) -> Result<(), ApiError> {
        if self.cleared(key) {
            *field = None;
        } else if let Some(value) = self.str_of(key) {
            check(value)?;
            *field = Some(value.to_string());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::form::decode;

    static RECURRING: &[Field] = &[
        Field::new("interval", Ty::Enum(&["day", "month", "week", "year"])).required(),
        Field::new("interval_count", Ty::Integer { min: 1, max: 1095 }),
    ];
    static TABLE: &[Field] = &[
        Field::new("currency", Ty::Currency).required(),
        Field::new(
            "unit_amount",
            Ty::Integer {
                min: 0,
                max: i64::MAX,
            },
        ),
        Field::new(
            "unit_amount_decimal",
            Ty::Decimal {
                places: 12,
                non_negative: true,
                max_integer: Some(99_999_999),
            },
        ),
        Field::new("active", Ty::Boolean),
        Field::new(
            "percent_off",
            Ty::Float {
                min: 0.01,
                max: 100.0,
                places: 2,
            },
        ),
        Field::new("nickname", Ty::String { max: 5 }),
        Field::new("metadata", Ty::Metadata).emptyable(),
        Field::new("recurring", Ty::Object(RECURRING)),
        EXPAND,
    ];

    fn check(input: &str) -> Result<Map<String, Value>, ApiError> {
        validate(TABLE, &decode(input).unwrap())
    }

    #[test]
    fn reports_stripe_errors() {
        let e = check("currency=usd&recurring[foo]=1").unwrap_err();
        assert_eq!(e.message, "Received unknown parameter: recurring[foo]");
        assert_eq!(e.param.as_deref(), Some("recurring[foo]"));
        let e = check("unit_amount=5").unwrap_err();
        assert_eq!(e.message, "Missing required param: currency.");
        let e = check("currency=usd&unit_amount=abc").unwrap_err();
        assert_eq!(
            (e.code, e.message.as_str()),
            (Some("parameter_invalid_integer"), "Invalid integer: abc")
        );
        let e = check("currency=usd&unit_amount=25.00").unwrap_err();
        assert_eq!(e.code, Some("parameter_invalid_integer"));
        let e = check("currency=usd&recurring[interval]=fortnight").unwrap_err();
        assert_eq!(
            e.message,
            "Invalid recurring[interval]: must be one of day, month, week, or year"
        );
        let e = check("currency=usd&active=True").unwrap_err();
        assert_eq!(e.message, "Invalid boolean: True");
        let e = check("currency=usd&nickname=toolong").unwrap_err();
        assert!(e.message.contains("must be at most 5 characters"));
        let e = check("currency=").unwrap_err();
        assert_eq!(e.code, Some("parameter_invalid_empty"));
        let e = check("currency=usd&unit_amount_decimal=1.0000000000001").unwrap_err();
        assert!(e.message.contains("12 decimal places"));
        let e = check("currency=usd&unit_amount_decimal=100000000.5").unwrap_err();
        assert_eq!(e.param.as_deref(), Some("unit_amount_decimal"));
        assert!(e.message.contains("at most 99999999"), "{}", e.message);
        assert!(check("currency=usd&unit_amount_decimal=99999999.999").is_ok());
        assert!(check("currency=usd&unit_amount_decimal=0099999999").is_ok());
        let e = check("currency=xyz").unwrap_err();
        assert!(e.message.starts_with("Invalid currency: xyz."));
        let e = check("currency=usd&recurring=month").unwrap_err();
        assert_eq!(e.message, "Invalid hash");
        let e = check("currency=usd&expand=product").unwrap_err();
        assert_eq!(e.message, "Invalid array");
        let e = check("currency=usd&percent_off=0").unwrap_err();
        assert_eq!(
            e.message,
            "This value must be greater than or equal to 0.01 (it currently is '0.0')."
        );
        let e = check("currency=usd&percent_off=100.5").unwrap_err();
        assert_eq!(
            e.message,
            "This value must be less than or equal to 100 (it currently is '100.5')."
        );
        for bad in ["abc", "1e2", "1.", ".5", "12.345", "NaN", "inf"] {
            let e = check(&format!("currency=usd&percent_off={bad}")).unwrap_err();
            assert_eq!(e.param.as_deref(), Some("percent_off"), "{bad}");
        }
        let p = check("currency=usd&percent_off=25.5").unwrap();
        assert_eq!(p.float_of("percent_off"), Some(25.5));
        let e = check("currency=usd&nickname=+++").unwrap_err();
        assert_eq!(e.code, Some("parameter_invalid_string_blank"));
    }

    #[test]
    fn returns_typed_values() {
        let p = check("currency=usd&unit_amount=5&active=false&metadata[a]=&expand[0]=x&recurring[interval]=month")
            .unwrap();
        assert_eq!(p.int_of("unit_amount"), Some(5));
        assert_eq!(p.bool_of("active"), Some(false));
        assert_eq!(p.obj_of("metadata").unwrap()["a"], Value::Null);
        assert_eq!(p.arr_of("expand").unwrap()[0], "x");
        assert!(check("currency=usd&metadata=").unwrap().cleared("metadata"));
    }
}
