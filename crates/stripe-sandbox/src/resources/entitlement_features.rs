//! Entitlement features (`/v1/entitlements/features`) and their attachments to products
//! (`/v1/products/{product}/features`): parameter tables, the stored records, their JSON shapes
//! and handlers (docs/stripe-rules.md#entitlement-features).
//!
//! A feature's `lookup_key` is fixed at creation (unknown on update) and unique among active
//! features; archiving (`active=false`) is for good: an archived feature takes no further
//! update and cannot be attached. A feature has no `created` field (the sandbox keeps one, for
//! list order, and never shows it) and is never deleted. An attachment has no update; it is
//! detached by `DELETE`, and a feature is attached to a product at most once.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::error::ApiError;
use crate::expand::Expand;
use crate::handler::{self, Call, Ctx, Resource};
use crate::ids;
use crate::list::{ENDING_BEFORE, LIMIT, STARTING_AFTER};
use crate::metadata;
use crate::params::{EXPAND, Field, ParamsExt, Ty};
use crate::resources::products::Product;
use crate::state::{State, find, unused_id};

// ---------------------------------------------------------------------------------------------
// The stored records, their ids

/// A stored entitlement feature.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Feature {
    pub id: String,
    pub seq: u64,
    /// Kept for list order only: Stripe's object has no `created`.
    pub created: i64,
    pub active: bool,
    pub lookup_key: String,
    pub metadata: BTreeMap<String, String>,
    pub name: String,
}

/// A stored attachment of a feature to a product.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ProductFeature {
    pub id: String,
    pub seq: u64,
    /// Kept for list order only: Stripe's object has no `created`.
    pub created: i64,
    /// Not shown either: the product is only the path parameter.
    pub product: String,
    pub feature: String,
}

/// A feature id: `feat_` + 24 alphanumerics (the shape of real ones).
pub(crate) fn new_feature_id() -> String {
    ids::random("feat_", 24)
}

/// An attachment id: `prodft_` + 24 alphanumerics.
pub(crate) fn new_attachment_id() -> String {
    ids::random("prodft_", 24)
}

// ---------------------------------------------------------------------------------------------
// Parameter tables

/// "This may be up to 80 characters."
const LOOKUP_KEY: Ty = Ty::String { max: 80 };
/// At most 80 characters, as Stripe's Dashboard allows.
const NAME: Ty = Ty::String { max: 80 };

/// `POST /v1/entitlements/features`.
pub(crate) static CREATE: &[Field] = &[
    EXPAND,
    Field::new("lookup_key", LOOKUP_KEY).required(),
    Field::new("metadata", Ty::Metadata),
    Field::new("name", NAME).required(),
];

/// `POST /v1/entitlements/features/{id}`: `lookup_key` cannot change (unknown here).
pub(crate) static UPDATE: &[Field] = &[
    Field::new("active", Ty::Boolean),
    EXPAND,
    Field::new("metadata", Ty::Metadata).emptyable(),
    Field::new("name", NAME),
];

pub(crate) static RETRIEVE: &[Field] = &[EXPAND];

/// `GET /v1/entitlements/features`: no `created` filter.
pub(crate) static LIST: &[Field] = &[
    Field::new("archived", Ty::Boolean),
    ENDING_BEFORE,
    EXPAND,
    LIMIT,
    Field::new("lookup_key", LOOKUP_KEY),
    STARTING_AFTER,
];

/// `POST /v1/products/{product}/features`.
pub(crate) static ATTACH: &[Field] = &[
    Field::new("entitlement_feature", Ty::String { max: 5000 }).required(),
    EXPAND,
];

/// `GET /v1/products/{product}/features`: cursors only.
pub(crate) static LIST_ATTACHED: &[Field] = &[ENDING_BEFORE, EXPAND, LIMIT, STARTING_AFTER];

/// `DELETE /v1/products/{product}/features/{id}` takes no parameters.
pub(crate) static DETACH: &[Field] = &[];

// ---------------------------------------------------------------------------------------------
// Rendering

impl Resource for Feature {
    fn render(&self, _state: &State, _expand: &Expand, _now: i64) -> Value {
        let mut o = Map::new();
        o.insert("id".into(), json!(self.id));
        o.insert("object".into(), json!("entitlements.feature"));
        o.insert("active".into(), json!(self.active));
        o.insert("livemode".into(), json!(false));
        o.insert("lookup_key".into(), json!(self.lookup_key));
        o.insert("metadata".into(), metadata::render(&self.metadata));
        o.insert("name".into(), json!(self.name));
        Value::Object(o)
    }
}

impl Resource for ProductFeature {
    fn render(&self, state: &State, expand: &Expand, now: i64) -> Value {
        let feature = state
            .entitlement_features
            .get(&self.feature)
            .map_or(Value::Null, |f| f.render(state, expand, now));
        json!({
            "id": self.id,
            "object": "product_feature",
            "entitlement_feature": feature,
            "livemode": false,
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Handlers: features

/// An active feature other than `except` that holds `lookup_key`.
fn key_taken(state: &State, lookup_key: &str, except: &str) -> bool {
    state
        .entitlement_features
        .values()
        .any(|f| f.active && f.lookup_key == lookup_key && f.id != except)
}

fn key_in_use(lookup_key: &str) -> ApiError {
    ApiError::invalid(format!(
        "A feature with lookup_key `{lookup_key}` already exists. Lookup keys are unique among \
         active features: archive that feature first to reuse its key."
    ))
    .with_param("lookup_key")
}

/// `POST /v1/entitlements/features`.
pub(crate) fn create(ctx: &mut Ctx<'_, '_>, call: &Call) -> Result<Value, ApiError> {
    let p = &call.params;
    let lookup_key = p.str_of("lookup_key").unwrap_or_default();
    let name = p.str_of("name").unwrap_or_default();
    for (param, value) in [("lookup_key", lookup_key), ("name", name)] {
        if value.is_empty() {
            return Err(ApiError::invalid_empty(param));
        }
    }
    let state = ctx.tx.state();
    if key_taken(state, lookup_key, "") {
        return Err(key_in_use(lookup_key));
    }
    let feature = Feature {
        id: unused_id::<Feature>(state, new_feature_id),
        seq: 0,
        created: ctx.now,
        active: true,
        lookup_key: lookup_key.to_string(),
        metadata: metadata::create(p.get("metadata"), "metadata")?,
        name: name.to_string(),
    };
    ctx.create(feature, &call.expand)
}

/// `POST /v1/entitlements/features/{id}`: an archived feature takes no update (archiving is
/// "permanent"; whether Stripe still changes its name or metadata is unverified: refused).
pub(crate) fn update(ctx: &mut Ctx<'_, '_>, call: &Call) -> Result<Value, ApiError> {
    let p = &call.params;
    let mut feature = find::<Feature>(ctx.tx.state(), &call.id)?.clone();
    if !feature.active {
        return Err(ApiError::invalid(format!(
            "Feature {} is archived: an archived feature cannot be updated or reactivated.",
            feature.id
        )));
    }
    if let Some(name) = p.str_of("name") {
        if name.is_empty() {
            return Err(ApiError::invalid_empty("name"));
        }
        feature.name = name.to_string();
    }
    if let Some(active) = p.bool_of("active") {
        feature.active = active;
    }
    feature.metadata = metadata::merge(&feature.metadata, p.get("metadata"), "metadata")?;
    ctx.save(feature, &call.expand)
}

/// `GET /v1/entitlements/features`: active features, or with `archived=true` archived ones.
pub(crate) fn list(ctx: &mut Ctx<'_, '_>, call: &Call) -> Result<Value, ApiError> {
    let p = &call.params;
    let archived = p.bool_of("archived").unwrap_or(false);
    let lookup_key = p.str_of("lookup_key");
    let keep = |f: &Feature| f.active != archived && lookup_key.is_none_or(|k| f.lookup_key == k);
    handler::page(ctx, call, "/v1/entitlements/features", keep)
}

// ---------------------------------------------------------------------------------------------
// Handlers: product features

/// `POST /v1/products/{product}/features`. Attaching a feature the product already has is
/// refused: Stripe does not document it (stricter reading).
pub(crate) fn attach(ctx: &mut Ctx<'_, '_>, call: &Call) -> Result<Value, ApiError> {
    let state = ctx.tx.state();
    find::<Product>(state, &call.parent)?;
    let feature_id = call
        .params
        .str_of("entitlement_feature")
        .unwrap_or_default();
    let feature = state
        .entitlement_features
        .get(feature_id)
        .ok_or_else(|| ApiError::no_such_in_param("feature", feature_id, "entitlement_feature"))?;
    if !feature.active {
        return Err(ApiError::invalid(format!(
            "Feature {feature_id} is archived: archived features cannot be attached to products."
        ))
        .with_param("entitlement_feature"));
    }
    let attached = state
        .product_features
        .values()
        .any(|a| a.product == call.parent && a.feature == feature_id);
    if attached {
        return Err(ApiError::invalid(format!(
            "Feature {feature_id} is already attached to product {}.",
            call.parent
        ))
        .with_param("entitlement_feature"));
    }
    let attachment = ProductFeature {
        id: unused_id::<ProductFeature>(state, new_attachment_id),
        seq: 0,
        created: ctx.now,
        product: call.parent.clone(),
        feature: feature_id.to_string(),
    };
    ctx.create(attachment, &call.expand)
}

/// The attachment `{id}` of product `{parent}`.
fn attachment<'s>(state: &'s State, call: &Call) -> Result<&'s ProductFeature, ApiError> {
    find::<Product>(state, &call.parent)?;
    find::<ProductFeature>(state, &call.id)
        .ok()
        .filter(|a| a.product == call.parent)
        .ok_or_else(|| ApiError::no_such_in_path("product feature", &call.id))
}

/// `GET /v1/products/{product}/features/{id}`.
pub(crate) fn retrieve(ctx: &mut Ctx<'_, '_>, call: &Call) -> Result<Value, ApiError> {
    let state = ctx.tx.state();
    Ok(attachment(state, call)?.render(state, &call.expand, ctx.now))
}

/// `DELETE /v1/products/{product}/features/{id}`.
pub(crate) fn detach(ctx: &mut Ctx<'_, '_>, call: &Call) -> Result<Value, ApiError> {
    attachment(ctx.tx.state(), call)?;
    ctx.tx.delete::<ProductFeature>(&call.id);
    Ok(json!({ "id": call.id, "object": "product_feature", "deleted": true }))
}

/// `GET /v1/products/{product}/features`.
pub(crate) fn list_attached(ctx: &mut Ctx<'_, '_>, call: &Call) -> Result<Value, ApiError> {
    find::<Product>(ctx.tx.state(), &call.parent)?;
    let url = format!("/v1/products/{}/features", call.parent);
    handler::page(ctx, call, &url, |a: &ProductFeature| {
        a.product == call.parent
    })
}
