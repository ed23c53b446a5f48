//! Products (`/v1/products`): parameter tables, the stored record, its JSON shape and the
//! create / retrieve / update / delete / list handlers (docs/stripe-rules.md#products).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::error::ApiError;
use crate::expand::{Expand, NONE, Schema, Target};
use crate::handler::{self, Call, Ctx, Resource};
use crate::ids;
use crate::list::{CREATED, ENDING_BEFORE, LIMIT, STARTING_AFTER};
use crate::metadata;
use crate::params::{EXPAND, Field, ParamsExt, Ty};
use crate::state::{State, find};

/// A stored product.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Product {
    pub id: String,
    pub seq: u64,
    pub active: bool,
    pub created: i64,
    pub default_price: Option<String>,
    pub description: Option<String>,
    pub images: Vec<String>,
    pub marketing_features: Vec<String>,
    pub metadata: BTreeMap<String, String>,
    pub name: String,
    pub package_dimensions: Option<PackageDimensions>,
    pub shippable: Option<bool>,
    pub statement_descriptor: Option<String>,
    pub tax_code: Option<String>,
    #[serde(rename = "type")]
    pub kind: String,
    pub unit_label: Option<String>,
    pub updated: i64,
    pub url: Option<String>,
}

/// Package dimensions as sent (decimal strings, at most 2 decimal places).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct PackageDimensions {
    pub height: String,
    pub length: String,
    pub weight: String,
    pub width: String,
}

/// A product id as Stripe generates them: `prod_` + 14 alphanumerics.
pub(crate) fn new_id() -> String {
    ids::random("prod_", 14)
}

/// What `expand[]` may name in a product.
pub(crate) static SCHEMA: Schema = Schema {
    fields: &[
        ("default_price", Target::Object(&super::prices::SCHEMA)),
        ("tax_code", Target::Object(&NONE)),
    ],
};

const DIMENSION: Ty = Ty::Decimal {
    places: 2,
    non_negative: true,
    max_integer: None,
};
pub(crate) const PACKAGE_DIMENSIONS: &[Field] = &[
    Field::new("height", DIMENSION).required(),
    Field::new("length", DIMENSION).required(),
    Field::new("weight", DIMENSION).required(),
    Field::new("width", DIMENSION).required(),
];
const MARKETING_FEATURE: &[Field] = &[Field::new("name", Ty::String { max: 80 }).required()];
pub(crate) const IMAGES: Ty = Ty::Array {
    item: &Ty::String { max: 2048 },
    max: 8,
};
pub(crate) const MARKETING_FEATURES: Ty = Ty::Array {
    item: &Ty::Object(MARKETING_FEATURE),
    max: 15,
};
pub(crate) const NAME: Field = Field::new("name", Ty::String { max: 5000 });
pub(crate) const STATEMENT_DESCRIPTOR: Field =
    Field::new("statement_descriptor", Ty::String { max: 22 });
pub(crate) const TAX_CODE: Ty = Ty::String { max: 5000 };
pub(crate) const UNIT_LABEL: Ty = Ty::String { max: 12 };
pub(crate) const URL: Ty = Ty::String { max: 5000 };
pub(crate) const METADATA: Field = Field::new("metadata", Ty::Metadata);

/// `POST /v1/products/{id}`: `id`, `type` and `default_price_data` are immutable (unknown here).
/// `default_price` accepts `""` to clear it (docs/stripe-rules.md#products).
pub(crate) static UPDATE: &[Field] = &[
    Field::new("active", Ty::Boolean),
    Field::new("default_price", Ty::String { max: 5000 }).emptyable(),
    Field::new("description", Ty::String { max: 40000 }).emptyable(),
    EXPAND,
    Field::new("images", IMAGES).emptyable(),
    Field::new("marketing_features", MARKETING_FEATURES).emptyable(),
    METADATA.emptyable(),
    NAME,
    Field::new("package_dimensions", Ty::Object(PACKAGE_DIMENSIONS)).emptyable(),
    Field::new("shippable", Ty::Boolean),
    STATEMENT_DESCRIPTOR,
    Field::new("tax_code", TAX_CODE).emptyable(),
    Field::new("unit_label", UNIT_LABEL).emptyable(),
    Field::new("url", URL).emptyable(),
];

/// `product_data` on price create (an inline product).
pub(crate) const PRODUCT_DATA: &[Field] = &[
    Field::new("active", Ty::Boolean),
    Field::new("id", Ty::String { max: 5000 }),
    METADATA,
    NAME.required(),
    STATEMENT_DESCRIPTOR,
    Field::new("tax_code", TAX_CODE),
    Field::new("unit_label", UNIT_LABEL),
];

pub(crate) static RETRIEVE: &[Field] = &[EXPAND];

/// `DELETE /v1/products/{id}` takes no parameters.
pub(crate) static DELETE: &[Field] = &[];

/// `GET /v1/products`. The legacy `type` filter is not accepted.
pub(crate) static LIST: &[Field] = &[
    Field::new("active", Ty::Boolean),
    CREATED,
    ENDING_BEFORE,
    EXPAND,
    Field::new(
        "ids",
        Ty::Array {
            item: &Ty::String { max: 5000 },
            max: 100,
        },
    ),
    LIMIT,
    Field::new("shippable", Ty::Boolean),
    STARTING_AFTER,
    Field::new("url", URL),
];

fn sub(prefix: &str, field: &str) -> String {
    if prefix.is_empty() {
        field.to_string()
    } else {
        format!("{prefix}[{field}]")
    }
}

/// Statement descriptors: at most 22 characters (the table), Latin characters only, none of
/// `< > \ " '`, at least one letter.
pub(crate) fn check_statement_descriptor(s: &str, param: &str) -> Result<(), ApiError> {
    if let Some(bad) = s
        .chars()
        .find(|c| matches!(c, '<' | '>' | '\\' | '"' | '\''))
    {
        return Err(ApiError::invalid(format!(
            "Invalid {param}: the statement descriptor contains the character `{bad}`; it cannot \
             contain any of < > \\ \" '."
        ))
        .with_param(param));
    }
    if !s.chars().all(|c| c.is_ascii_graphic() || c == ' ') {
        return Err(ApiError::invalid(format!(
            "Invalid {param}: statement descriptors may only contain Latin characters."
        ))
        .with_param(param));
    }
    if !s.chars().any(|c| c.is_ascii_alphabetic()) {
        return Err(ApiError::invalid(format!(
            "Invalid {param}: statement descriptors must contain at least one letter."
        ))
        .with_param(param));
    }
    Ok(())
}

/// URLs (`url`, `images[]`): absolute http(s) URLs without whitespace.
fn check_url(s: &str, param: &str) -> Result<(), ApiError> {
    let rest = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"));
    match rest {
        Some(host) if !host.is_empty() && !s.chars().any(char::is_whitespace) => Ok(()),
        _ => Err(ApiError::invalid(format!("Not a valid URL: {s}"))
            .with_code("url_invalid")
            .with_param(param)),
    }
}

/// Tax codes look like `txcd_` followed by 8 digits; the sandbox knows no tax code catalogue,
/// so any code of that shape exists and any other does not.
pub(crate) fn check_tax_code(s: &str, param: &str) -> Result<(), ApiError> {
    let ok = s
        .strip_prefix("txcd_")
        .is_some_and(|d| d.len() == 8 && d.bytes().all(|b| b.is_ascii_digit()));
    if ok {
        Ok(())
    } else {
        Err(ApiError::no_such_in_param("tax code", s, param))
    }
}

fn service_only(kind: &str, field: &str, prefix: &str) -> Result<(), ApiError> {
    if kind == "service" {
        Ok(())
    } else {
        Err(ApiError::invalid(format!(
            "The `{field}` parameter can only be set on products of type `service`."
        ))
        .with_param(sub(prefix, field)))
    }
}

fn images(values: &[Value], prefix: &str) -> Result<Vec<String>, ApiError> {
    let mut out = Vec::with_capacity(values.len());
    for (i, value) in values.iter().enumerate() {
        let url = value.as_str().unwrap_or_default();
        check_url(url, &format!("{}[{i}]", sub(prefix, "images")))?;
        out.push(url.to_string());
    }
    Ok(out)
}

fn features(values: &[Value]) -> Vec<String> {
    values
        .iter()
        .filter_map(|v| v.get("name").and_then(Value::as_str).map(str::to_string))
        .collect()
}

fn dimensions(obj: &Map<String, Value>) -> PackageDimensions {
    let get = |k: &str| obj.str_of(k).unwrap_or("0").to_string();
    PackageDimensions {
        height: get("height"),
        length: get("length"),
        weight: get("weight"),
        width: get("width"),
    }
}

/// Whether a product, live or deleted, has id `id`.
fn taken(state: &State, id: &str) -> bool {
    state.products.contains_key(id) || state.deleted_products.contains(id)
}

/// Builds a new product from create parameters (`prefix` = `""`) or from a price's
/// `product_data` (`prefix` = `"product_data"`). Does not store it.
pub(crate) fn build(
    state: &State,
    p: &Map<String, Value>,
    now: i64,
    prefix: &str,
) -> Result<Product, ApiError> {
    let id = match p.str_of("id") {
        Some(id) => {
            ids::check_custom(id, "Product", &sub(prefix, "id"))?;
            // A deleted product's id is never reused: whether Stripe allows it is unknown
            // (stricter reading).
            if taken(state, id) {
                return Err(ApiError::invalid("Product already exists.")
                    .with_code("resource_already_exists")
                    .with_param(sub(prefix, "id")));
            }
            id.to_string()
        }
        None => ids::unused(new_id, |id| taken(state, id)),
    };
    let kind = p.str_of("type").unwrap_or("service").to_string();
    let statement_descriptor = match p.str_of("statement_descriptor") {
        Some(s) => {
            check_statement_descriptor(s, &sub(prefix, "statement_descriptor"))?;
            service_only(&kind, "statement_descriptor", prefix)?;
            Some(s.to_string())
        }
        None => None,
    };
    let unit_label = match p.str_of("unit_label") {
        Some(s) => {
            service_only(&kind, "unit_label", prefix)?;
            Some(s.to_string())
        }
        None => None,
    };
    let tax_code = match p.str_of("tax_code") {
        Some(code) => {
            check_tax_code(code, &sub(prefix, "tax_code"))?;
            Some(code.to_string())
        }
        None => None,
    };
    let url = match p.str_of("url") {
        Some(u) => {
            check_url(u, &sub(prefix, "url"))?;
            Some(u.to_string())
        }
        None => None,
    };
    Ok(Product {
        id,
        seq: 0,
        active: p.bool_of("active").unwrap_or(true),
        created: now,
        default_price: None,
        description: p.str_of("description").map(str::to_string),
        images: images(p.arr_of("images").map_or(&[][..], Vec::as_slice), prefix)?,
        marketing_features: features(
            p.arr_of("marketing_features")
                .map_or(&[][..], Vec::as_slice),
        ),
        metadata: metadata::create(p.get("metadata"), &sub(prefix, "metadata"))?,
        name: p.str_of("name").unwrap_or_default().to_string(),
        package_dimensions: p.obj_of("package_dimensions").map(dimensions),
        shippable: p.bool_of("shippable"),
        statement_descriptor,
        tax_code,
        kind,
        unit_label,
        updated: now,
        url,
    })
}

fn number(decimal: &str) -> Value {
    decimal
        .parse::<f64>()
        .ok()
        .and_then(serde_json::Number::from_f64)
        .map_or(Value::Null, Value::Number)
}

fn tax_code_object(code: &str) -> Value {
    json!({
        "id": code,
        "object": "tax_code",
        "description": format!("Tax code {code} (the billing sandbox does not model tax code details)."),
        "name": code,
        "requirements": null,
    })
}

impl Resource for Product {
    fn render(&self, state: &State, expand: &Expand, now: i64) -> Value {
        render(state, self, expand, now)
    }
}

/// The product's JSON, with `expand` applied.
fn render(state: &State, p: &Product, expand: &Expand, now: i64) -> Value {
    let default_price = match (&p.default_price, expand.get("default_price")) {
        (Some(id), Some(sub)) => state
            .prices
            .get(id)
            .map_or_else(|| json!(id), |price| price.render(state, sub, now)),
        (Some(id), None) => json!(id),
        (None, _) => Value::Null,
    };
    let tax_code = match &p.tax_code {
        Some(code) if expand.has("tax_code") => tax_code_object(code),
        Some(code) => json!(code),
        None => Value::Null,
    };
    json!({
        "id": p.id,
        "object": "product",
        "active": p.active,
        "created": p.created,
        "default_price": default_price,
        "description": p.description,
        "images": p.images,
        "livemode": false,
        "marketing_features": p.marketing_features.iter().map(|name| json!({ "name": name })).collect::<Vec<_>>(),
        "metadata": metadata::render(&p.metadata),
        "name": p.name,
        "package_dimensions": p.package_dimensions.as_ref().map(|d| json!({
            "height": number(&d.height),
            "length": number(&d.length),
            "weight": number(&d.weight),
            "width": number(&d.width),
        })),
        "shippable": p.shippable,
        "statement_descriptor": p.statement_descriptor,
        "tax_code": tax_code,
        "type": p.kind,
        "unit_label": p.unit_label,
        "updated": p.updated,
        "url": p.url,
    })
}

/// Checks that price `price_id` can be the default price of product `product`: Stripe's rules
/// here are not documented; the stricter reading: it must be an active price
/// of this very product.
fn check_default_price(state: &State, product: &str, price_id: &str) -> Result<(), ApiError> {
    let price = state
        .prices
        .get(price_id)
        .ok_or_else(|| ApiError::no_such_in_param("price", price_id, "default_price"))?;
    if price.product != product {
        return Err(ApiError::invalid(format!(
            "The price `{price_id}` belongs to product `{}`, not `{product}`: a product's \
             default price must be one of its own prices.",
            price.product
        ))
        .with_param("default_price"));
    }
    if !price.active {
        return Err(ApiError::invalid(format!(
            "The price `{price_id}` is archived: a product's default price must be active."
        ))
        .with_param("default_price"));
    }
    Ok(())
}

/// `POST /v1/products/{id}`.
pub(crate) fn update(ctx: &mut Ctx<'_, '_>, call: &Call) -> Result<Value, ApiError> {
    let p = &call.params;
    let state = ctx.tx.state();
    let mut product = find::<Product>(state, &call.id)?.clone();
    if let Some(name) = p.str_of("name") {
        product.name = name.to_string();
    }
    if let Some(active) = p.bool_of("active") {
        // Archiving a product leaves its prices as they are (they stay `active`).
        product.active = active;
    }
    p.update_str("default_price", &mut product.default_price, |price_id| {
        check_default_price(state, &product.id, price_id)
    })?;
    p.update_str("description", &mut product.description, |_| Ok(()))?;
    if p.cleared("images") {
        product.images.clear();
    } else if let Some(values) = p.arr_of("images") {
        product.images = images(values, "")?;
    }
    if p.cleared("marketing_features") {
        product.marketing_features.clear();
    } else if let Some(values) = p.arr_of("marketing_features") {
        product.marketing_features = features(values);
    }
    product.metadata = metadata::merge(&product.metadata, p.get("metadata"), "metadata")?;
    if p.cleared("package_dimensions") {
        product.package_dimensions = None;
    } else if let Some(obj) = p.obj_of("package_dimensions") {
        product.package_dimensions = Some(dimensions(obj));
    }
    if let Some(shippable) = p.bool_of("shippable") {
        product.shippable = Some(shippable);
    }
    if let Some(s) = p.str_of("statement_descriptor") {
        check_statement_descriptor(s, "statement_descriptor")?;
        service_only(&product.kind, "statement_descriptor", "")?;
        product.statement_descriptor = Some(s.to_string());
    }
    p.update_str("tax_code", &mut product.tax_code, |code| {
        check_tax_code(code, "tax_code")
    })?;
    p.update_str("unit_label", &mut product.unit_label, |_| {
        service_only(&product.kind, "unit_label", "")
    })?;
    p.update_str("url", &mut product.url, |url| check_url(url, "url"))?;
    product.updated = ctx.now;
    ctx.save(product, &call.expand)
}

/// `DELETE /v1/products/{id}`: only for a product that never had a price.
pub(crate) fn delete(ctx: &mut Ctx<'_, '_>, call: &Call) -> Result<Value, ApiError> {
    let state = ctx.tx.state();
    find::<Product>(state, &call.id)?;
    if state.prices.values().any(|price| price.product == call.id) {
        return Err(ApiError::invalid(
            "This product cannot be deleted because it has one or more user-created prices.",
        ));
    }
    // Its attached features go with it (what Stripe does with them is undocumented: a
    // deleted product lists nothing).
    let attached: Vec<String> = state
        .product_features
        .values()
        .filter(|a| a.product == call.id)
        .map(|a| a.id.clone())
        .collect();
    for id in attached {
        ctx.tx
            .delete::<super::entitlement_features::ProductFeature>(&id);
    }
    ctx.tx.delete_product(&call.id);
    Ok(json!({ "id": call.id, "object": "product", "deleted": true }))
}

/// `GET /v1/products`.
pub(crate) fn list(ctx: &mut Ctx<'_, '_>, call: &Call) -> Result<Value, ApiError> {
    let p = &call.params;
    let ids: Option<Vec<&str>> = p
        .arr_of("ids")
        .map(|values| values.iter().filter_map(Value::as_str).collect());
    if ids.is_some() {
        for cursor in ["starting_after", "ending_before"] {
            if p.contains_key(cursor) {
                return Err(ApiError::exclusive("ids", cursor));
            }
        }
    }
    let shippable = p.bool_of("shippable");
    let url = p.str_of("url");
    let keep = |product: &Product| {
        p.admits("active", product.active)
            && shippable.is_none_or(|s| product.shippable == Some(s))
            && url.is_none_or(|u| product.url.as_deref() == Some(u))
            && ids
                .as_ref()
                .is_none_or(|ids| ids.contains(&product.id.as_str()))
    };
    handler::page(ctx, call, "/v1/products", keep)
}
