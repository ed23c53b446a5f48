//! Creating products and prices. Each can create the other inline: a product its default price
//! (`default_price_data`), a price its product (`product_data`). So their create tables and
//! handlers stand here, above `products.rs` and `prices.rs`, which otherwise know nothing of
//! each other (a product shows its expanded default price, and a price its expanded product,
//! through [`Resource`](crate::handler::Resource)).

use serde_json::Value;

use super::{prices, products};
use crate::error::ApiError;
use crate::handler::{Call, Ctx};
use crate::params::{EXPAND, Field, ParamsExt, Ty};

/// `POST /v1/products`. Nothing is emptyable on create: the spec marks emptyable fields on
/// update only (stricter reading).
pub(crate) static CREATE_PRODUCT: &[Field] = &[
    Field::new("active", Ty::Boolean),
    Field::new("default_price_data", Ty::Object(prices::DEFAULT_PRICE_DATA)),
    Field::new("description", Ty::String { max: 40000 }),
    EXPAND,
    Field::new("id", Ty::String { max: 5000 }),
    Field::new("images", products::IMAGES),
    Field::new("marketing_features", products::MARKETING_FEATURES),
    products::METADATA,
    products::NAME.required(),
    Field::new(
        "package_dimensions",
        Ty::Object(products::PACKAGE_DIMENSIONS),
    ),
    Field::new("shippable", Ty::Boolean),
    products::STATEMENT_DESCRIPTOR,
    Field::new("tax_code", products::TAX_CODE),
    // `tax_details` (newer than the rules the sandbox follows) is not accepted: unverified.
    Field::new("type", Ty::Enum(&["good", "service"])),
    Field::new("unit_label", products::UNIT_LABEL),
    Field::new("url", products::URL),
];

/// `POST /v1/prices`. Nothing is emptyable on create (stricter reading).
pub(crate) static CREATE_PRICE: &[Field] = &[
    Field::new("active", Ty::Boolean),
    Field::new("billing_scheme", Ty::Enum(&["per_unit", "tiered"])),
    Field::new("currency", Ty::Currency).required(),
    Field::new("currency_options", prices::CURRENCY_OPTIONS),
    Field::new("custom_unit_amount", Ty::Object(prices::CUSTOM_UNIT_AMOUNT)),
    EXPAND,
    Field::new("lookup_key", prices::LOOKUP_KEY),
    Field::new("metadata", Ty::Metadata),
    Field::new("nickname", prices::NICKNAME),
    Field::new("product", Ty::String { max: 5000 }),
    Field::new("product_data", Ty::Object(products::PRODUCT_DATA)),
    Field::new("recurring", Ty::Object(prices::RECURRING)),
    Field::new("tax_behavior", prices::TAX_BEHAVIOR),
    Field::new("tiers", prices::TIERS),
    Field::new("tiers_mode", Ty::Enum(&["graduated", "volume"])),
    // Accepted on create too: a replacement price takes over the key in one request.
    Field::new("transfer_lookup_key", Ty::Boolean),
    Field::new("transform_quantity", Ty::Object(prices::TRANSFORM_QUANTITY)),
    Field::new("unit_amount", prices::AMOUNT),
    Field::new("unit_amount_decimal", prices::DECIMAL),
];

/// `POST /v1/products`.
pub(crate) fn create_product(ctx: &mut Ctx<'_, '_>, call: &Call) -> Result<Value, ApiError> {
    let p = &call.params;
    let mut product = products::build(ctx.tx.state(), p, ctx.now, "")?;
    let price = match p.obj_of("default_price_data") {
        Some(data) => Some(prices::build(
            ctx.tx.state(),
            data,
            &product.id,
            ctx.version,
            ctx.now,
            "default_price_data",
        )?),
        None => None,
    };
    product.seq = ctx.tx.take_seq();
    if let Some(price) = price {
        product.default_price = Some(ctx.tx.put_new(price));
    }
    ctx.save(product, &call.expand)
}

/// `POST /v1/prices`.
pub(crate) fn create_price(ctx: &mut Ctx<'_, '_>, call: &Call) -> Result<Value, ApiError> {
    let p = &call.params;
    let state = ctx.tx.state();
    let inline_product = match (p.str_of("product"), p.obj_of("product_data")) {
        (None, None) => {
            return Err(ApiError::invalid(
                "You must specify either `product` or `product_data` when creating a price.",
            ));
        }
        (Some(_), Some(_)) => return Err(ApiError::exclusive("product", "product_data")),
        (Some(id), None) => {
            let product = state
                .products
                .get(id)
                .ok_or_else(|| ApiError::no_such_in_param("product", id, "product"))?;
            // Whether Stripe refuses prices on archived products is unverified; the stricter
            // reading refuses them, so the tool cannot rely on it.
            if !product.active {
                return Err(ApiError::invalid(format!(
                    "The product `{id}` is archived (`active=false`); prices cannot be created \
                     for an archived product."
                ))
                .with_param("product"));
            }
            None
        }
        (None, Some(data)) => Some(products::build(state, data, ctx.now, "product_data")?),
    };
    let product_id = match (&inline_product, p.str_of("product")) {
        (Some(product), _) => product.id.clone(),
        (None, id) => id.unwrap_or_default().to_string(),
    };
    let mut price = prices::build(state, p, &product_id, ctx.version, ctx.now, "")?;
    let transfer = p.bool_of("transfer_lookup_key") == Some(true);
    let holder = match p.str_of("lookup_key") {
        Some(key) => {
            price.lookup_key = Some(key.to_string());
            prices::lookup_key_holder(state, key, transfer, None)?
        }
        None if transfer => return Err(prices::transfer_without_key()),
        None => None,
    };
    if let Some(product) = inline_product {
        ctx.tx.put_new(product);
    }
    prices::release_lookup_key(ctx.tx, holder);
    ctx.create(price, &call.expand)
}
