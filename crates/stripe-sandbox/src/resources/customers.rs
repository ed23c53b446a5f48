//! Customers (`/v1/customers`), minimal: create and retrieve, so that promotion codes can be
//! restricted to a customer. The object is complete enough for async-stripe's `Customer` type;
//! payment details, balances, discounts, tax and the rest of Stripe's customer are not modelled
//! (they show as Stripe shows them on a new customer).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::expand::{Expand, Schema};
use crate::handler::{Call, Ctx, Resource};
use crate::ids;
use crate::metadata;
use crate::params::{EXPAND, Field, ParamsExt, Ty};
use crate::state::{State, unused_id};

/// A stored customer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Customer {
    pub id: String,
    pub seq: u64,
    pub created: i64,
    pub description: Option<String>,
    pub email: Option<String>,
    pub invoice_prefix: String,
    pub metadata: BTreeMap<String, String>,
    pub name: Option<String>,
}

/// A customer id: `cus_` + 14 alphanumerics.
pub(crate) fn new_id() -> String {
    ids::random("cus_", 14)
}

/// A customer's invoice prefix: 8 uppercase alphanumerics.
fn new_invoice_prefix() -> String {
    ids::random_upper(8)
}

/// Customers: the sandbox models none of their expandable fields.
pub(crate) static SCHEMA: Schema = Schema { fields: &[] };

/// `POST /v1/customers`: the sandbox accepts only these parameters of Stripe's many.
pub(crate) static CREATE: &[Field] = &[
    Field::new("description", Ty::String { max: 5000 }),
    Field::new("email", Ty::String { max: 512 }),
    EXPAND,
    Field::new("metadata", Ty::Metadata),
    Field::new("name", Ty::String { max: 256 }),
];

pub(crate) static RETRIEVE: &[Field] = &[EXPAND];

/// Email addresses: one `@` with something on both sides, a dot in the domain, no whitespace.
/// Stripe's exact rules are undocumented; this is a plausible minimum.
fn check_email(email: &str) -> Result<(), ApiError> {
    let ok = match email.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !email.chars().any(char::is_whitespace)
        }
        None => false,
    };
    if ok {
        Ok(())
    } else {
        Err(ApiError::invalid(format!("Invalid email address: {email}"))
            .with_code("email_invalid")
            .with_param("email"))
    }
}

impl Resource for Customer {
    fn render(&self, _state: &State, _expand: &Expand, _now: i64) -> Value {
        render(self)
    }
}

/// The customer's JSON (nothing of it is expandable in the sandbox).
pub(crate) fn render(customer: &Customer) -> Value {
    json!({
        "id": customer.id,
        "object": "customer",
        "address": null,
        "balance": 0,
        "business_name": null,
        "created": customer.created,
        "currency": null,
        "customer_account": null,
        "default_source": null,
        "delinquent": false,
        "description": customer.description,
        "discount": null,
        "email": customer.email,
        "individual_name": null,
        "invoice_prefix": customer.invoice_prefix,
        "invoice_settings": {
            "custom_fields": null,
            "default_payment_method": null,
            "footer": null,
            "rendering_options": null
        },
        "livemode": false,
        "metadata": metadata::render(&customer.metadata),
        "name": customer.name,
        "next_invoice_sequence": 1,
        "phone": null,
        "preferred_locales": [],
        "shipping": null,
        "tax_exempt": "none",
        "test_clock": null,
    })
}

/// `POST /v1/customers`.
pub(crate) fn create(ctx: &mut Ctx<'_, '_>, call: &Call) -> Result<Value, ApiError> {
    let p = &call.params;
    if let Some(email) = p.str_of("email") {
        check_email(email)?;
    }
    let customer = Customer {
        id: unused_id::<Customer>(ctx.tx.state(), new_id),
        seq: 0,
        created: ctx.now,
        description: p.str_of("description").map(str::to_string),
        email: p.str_of("email").map(str::to_string),
        invoice_prefix: new_invoice_prefix(),
        metadata: metadata::create(p.get("metadata"), "metadata")?,
        name: p.str_of("name").map(str::to_string),
    };
    ctx.create(customer, &call.expand)
}
