//! Currencies: the ones Stripe accepts for prices (lowercase ISO 4217 codes, the list billing's
//! catalog validates against too), and the amounts per currency that coupons
//! (`currency_options.<cur>.amount_off`) and promotion codes
//! (`restrictions.currency_options.<cur>.minimum_amount`) keep besides their own currency's
//! (docs/stripe-rules.md#currencies).

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};
use stripe_facts::CURRENCIES;

use super::error::ApiError;

/// Whether `code` is a supported currency. Only lowercase codes are accepted: Stripe documents
/// currencies as lowercase, and whether it folds `USD` is unverified (stricter reading).
pub(crate) fn is_supported(code: &str) -> bool {
    stripe_facts::is_currency(code)
}

/// Stripe's message for an unsupported currency.
pub(crate) fn unsupported_message(code: &str) -> String {
    format!(
        "Invalid currency: {code}. Stripe currently supports these currencies: {}",
        CURRENCIES.join(", ")
    )
}

/// Merges `changes` (`{"<cur>": {"<key>": amount}}`, the validated `param`) into `existing`,
/// the amounts in currencies other than the object's `own` one: each change sets its
/// currency's amount. The `own` currency is refused with the message `own_refused` gives for
/// the parameter.
pub(crate) fn merge_amounts(
    existing: &BTreeMap<String, i64>,
    changes: &Map<String, Value>,
    param: &str,
    key: &str,
    own: &str,
    own_refused: impl Fn(&str) -> String,
) -> Result<BTreeMap<String, i64>, ApiError> {
    let mut merged = existing.clone();
    for (code, option) in changes {
        let here = format!("{param}[{code}]");
        if code == own {
            return Err(ApiError::invalid(own_refused(&here)).with_param(here));
        }
        let amount = option
            .get(key)
            .and_then(Value::as_i64)
            .ok_or_else(|| ApiError::missing_parameter(&format!("{here}[{key}]")))?;
        merged.insert(code.clone(), amount);
    }
    Ok(merged)
}

/// The amounts per currency as the object shows them: the `own` currency's amount and the
/// `others`, each as `{"<key>": amount}`, by currency; `null` without an own amount.
pub(crate) fn render_amounts(
    own: Option<(&String, i64)>,
    others: &BTreeMap<String, i64>,
    key: &str,
) -> Value {
    let Some((currency, amount)) = own else {
        return Value::Null;
    };
    let mut all = BTreeMap::new();
    all.insert(currency.clone(), json!({ key: amount }));
    for (code, amount) in others {
        all.insert(code.clone(), json!({ key: amount }));
    }
    Value::Object(all.into_iter().collect())
}
