//! Metadata semantics shared by every resource: create sets, update merges
//! (docs/stripe-rules.md#metadata).

use std::collections::BTreeMap;

use serde_json::Value;

use super::error::ApiError;
use super::params::{METADATA_MAX_KEYS, too_many_metadata_keys};

/// Applies a validated `metadata` parameter to `existing`: `metadata=` (null) removes every key,
/// `metadata[k]=` (null) removes `k`, `metadata[k]=v` sets `k`; keys not sent are untouched.
/// Fails if the result would hold more than 50 keys.
pub(crate) fn merge(
    existing: &BTreeMap<String, String>,
    param: Option<&Value>,
    param_name: &str,
) -> Result<BTreeMap<String, String>, ApiError> {
    let mut merged = existing.clone();
    match param {
        None => {}
        Some(Value::Object(changes)) => {
            for (key, value) in changes {
                match value {
                    Value::String(s) => {
                        merged.insert(key.clone(), s.clone());
                    }
                    _ => {
                        merged.remove(key);
                    }
                }
            }
        }
        Some(_) => merged.clear(),
    }
    if merged.len() > METADATA_MAX_KEYS {
        return Err(too_many_metadata_keys(param_name));
    }
    Ok(merged)
}

/// Metadata for a new object (no existing keys; removals are no-ops).
pub(crate) fn create(
    param: Option<&Value>,
    param_name: &str,
) -> Result<BTreeMap<String, String>, ApiError> {
    merge(&BTreeMap::new(), param, param_name)
}

/// The JSON form of stored metadata.
pub(crate) fn render(metadata: &BTreeMap<String, String>) -> Value {
    Value::Object(
        metadata
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect(),
    )
}
