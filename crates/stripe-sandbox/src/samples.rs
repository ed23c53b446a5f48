//! Sample `data.object`s for `billing sandbox trigger` (see `webhooks::sample_event`): a
//! plausible object for each family of events an application's webhook handler usually
//! handles (Checkout sessions, payment intents, subscriptions, invoices, accounts, payouts,
//! transfers), its status following the event (`payment_intent.payment_failed`: a payment
//! intent that needs a new payment method); for any other type, an object with an id and its
//! `object` name. Sample data: ids are random, amounts and customers made up.

use serde_json::{Value, json};

use super::ids;

/// A sample object for an event of type `kind` (an event type Stripe accepts) at `now`.
pub(crate) fn object(kind: &str, now: i64) -> Value {
    let (family, verb) = kind.rsplit_once('.').unwrap_or((kind, ""));
    match family {
        "checkout.session" => checkout_session(verb, now),
        "payment_intent" => payment_intent(verb, now),
        "customer.subscription" => subscription(verb, now),
        "invoice" => invoice(verb, now),
        "account" => json!({
            "id": ids::random("acct_1", 15),
            "object": "account",
            "charges_enabled": true,
            "country": "US",
            "default_currency": "usd",
            "details_submitted": true,
            "payouts_enabled": true,
            "type": "express",
        }),
        "payout" => payout(verb, now),
        "transfer" => json!({
            "id": ids::random("tr_1", 23),
            "object": "transfer",
            "amount": 1500,
            "created": now,
            "currency": "usd",
            "destination": ids::random("acct_1", 15),
            "livemode": false,
            "reversed": verb == "reversed",
        }),
        // `customer.tax_id.created` is about a `tax_id`, `price.created` about a `price`.
        other => {
            let name = other.rsplit('.').next().unwrap_or(other);
            json!({ "id": ids::random(&format!("{name}_"), 24), "object": name })
        }
    }
}

fn customer() -> String {
    ids::random("cus_", 14)
}

fn checkout_session(verb: &str, now: i64) -> Value {
    let (status, payment_status) = match verb {
        "expired" => ("expired", "unpaid"),
        "async_payment_failed" => ("complete", "unpaid"),
        _ => ("complete", "paid"),
    };
    json!({
        "id": ids::random("cs_test_", 58),
        "object": "checkout.session",
        "amount_subtotal": 2000,
        "amount_total": 2000,
        "client_reference_id": null,
        "created": now,
        "currency": "usd",
        "customer": customer(),
        "livemode": false,
        "metadata": {},
        "mode": "payment",
        "payment_intent": ids::random("pi_3", 23),
        "payment_status": payment_status,
        "status": status,
    })
}

fn payment_intent(verb: &str, now: i64) -> Value {
    let status = match verb {
        "succeeded" => "succeeded",
        "canceled" => "canceled",
        "processing" => "processing",
        "requires_action" => "requires_action",
        "amount_capturable_updated" => "requires_capture",
        _ => "requires_payment_method",
    };
    let last_payment_error = (verb == "payment_failed").then(|| {
        json!({
            "code": "card_declined",
            "decline_code": "generic_decline",
            "message": "Your card was declined.",
            "type": "card_error",
        })
    });
    json!({
        "id": ids::random("pi_3", 23),
        "object": "payment_intent",
        "amount": 2000,
        "amount_received": if status == "succeeded" { 2000 } else { 0 },
        "created": now,
        "currency": "usd",
        "customer": customer(),
        "last_payment_error": last_payment_error,
        "livemode": false,
        "metadata": {},
        "status": status,
    })
}

fn subscription(verb: &str, now: i64) -> Value {
    let status = match verb {
        "deleted" => "canceled",
        "paused" => "paused",
        "trial_will_end" => "trialing",
        _ => "active",
    };
    let month = 30 * 24 * 3600;
    json!({
        "id": ids::random("sub_1", 23),
        "object": "subscription",
        "cancel_at_period_end": false,
        "canceled_at": if status == "canceled" { Some(now) } else { None },
        "created": now,
        "currency": "usd",
        "customer": customer(),
        "items": {
            "object": "list",
            "data": [{
                "id": ids::random("si_", 14),
                "object": "subscription_item",
                "current_period_end": now + month,
                "current_period_start": now,
                "price": { "id": ids::random("price_1", 23), "object": "price" },
                "quantity": 1,
            }],
            "has_more": false,
        },
        "livemode": false,
        "metadata": {},
        "status": status,
        "trial_end": if status == "trialing" { Some(now + 3 * 24 * 3600) } else { None },
    })
}

fn invoice(verb: &str, now: i64) -> Value {
    let (status, paid) = match verb {
        "paid" | "payment_succeeded" => ("paid", true),
        "created" | "deleted" | "upcoming" => ("draft", false),
        "voided" => ("void", false),
        "marked_uncollectible" => ("uncollectible", false),
        _ => ("open", false),
    };
    json!({
        "id": ids::random("in_1", 23),
        "object": "invoice",
        "amount_due": 2000,
        "amount_paid": if paid { 2000 } else { 0 },
        "amount_remaining": if paid { 0 } else { 2000 },
        "attempt_count": u8::from(verb == "payment_failed" || paid),
        "attempted": verb == "payment_failed" || paid,
        "billing_reason": "subscription_cycle",
        "created": now,
        "currency": "usd",
        "customer": customer(),
        "livemode": false,
        "metadata": {},
        "status": status,
    })
}

fn payout(verb: &str, now: i64) -> Value {
    let status = match verb {
        "paid" | "reconciliation_completed" => "paid",
        "failed" => "failed",
        "canceled" => "canceled",
        _ => "pending",
    };
    json!({
        "id": ids::random("po_1", 23),
        "object": "payout",
        "amount": 10000,
        "arrival_date": now + 2 * 24 * 3600,
        "created": now,
        "currency": "usd",
        "failure_code": if status == "failed" { Some("account_closed") } else { None },
        "livemode": false,
        "method": "standard",
        "status": status,
    })
}
