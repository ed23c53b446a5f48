//! `GET /v1/account`: the sandbox's one fake Stripe account, generated with the state.

use serde_json::{Value, json};

use crate::error::ApiError;
use crate::handler::{Call, Ctx};
use crate::params::{EXPAND, Field};

pub(crate) static RETRIEVE: &[Field] = &[EXPAND];

const NAME: &str = "Billing Sandbox";

/// `GET /v1/account`. Account objects carry no `livemode` field.
pub(crate) fn retrieve(ctx: &mut Ctx<'_, '_>, _call: &Call) -> Result<Value, ApiError> {
    let account = &ctx.tx.state().account;
    Ok(json!({
        "id": account.id,
        "object": "account",
        "business_profile": {
            "annual_revenue": null,
            "estimated_worker_count": null,
            "mcc": null,
            "name": NAME,
            "product_description": null,
            "support_address": null,
            "support_email": null,
            "support_phone": null,
            "support_url": null,
            "url": null
        },
        "business_type": null,
        "capabilities": {},
        "charges_enabled": true,
        "controller": { "type": "account" },
        "country": "US",
        "created": account.created,
        "default_currency": "usd",
        "details_submitted": true,
        "email": "sandbox@billing.invalid",
        "metadata": {},
        "payouts_enabled": true,
        "settings": {
            "branding": {
                "icon": null,
                "logo": null,
                "primary_color": null,
                "secondary_color": null
            },
            "card_payments": {
                "decline_on": { "avs_failure": false, "cvc_failure": false },
                "statement_descriptor_prefix": null,
                "statement_descriptor_prefix_kana": null,
                "statement_descriptor_prefix_kanji": null
            },
            "dashboard": { "display_name": NAME, "timezone": "Etc/UTC" },
            "payments": {
                "statement_descriptor": null,
                "statement_descriptor_kana": null,
                "statement_descriptor_kanji": null,
                "statement_descriptor_prefix_kana": null,
                "statement_descriptor_prefix_kanji": null
            }
        },
        "type": "standard"
    }))
}
