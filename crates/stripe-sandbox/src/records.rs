//! The records the sandbox keeps of its own, besides the kinds of objects (each kind's stored
//! record is in its module in `resources/`): the account, events and idempotency keys, as plain
//! data serialized into the state file (`state.rs`).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::ids;

// ---------------------------------------------------------------------------------------------
// The account (`account`)

/// The persisted part of the account: its id and creation time.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct AccountRecord {
    pub id: String,
    pub created: i64,
}

impl AccountRecord {
    pub(crate) fn generate() -> AccountRecord {
        AccountRecord {
            id: ids::account(),
            created: ids::now(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Events (`events`)

/// How many events the sandbox keeps.
pub(crate) const MAX_EVENTS: usize = 1_000;

/// A stored event.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Event {
    pub id: String,
    pub seq: u64,
    pub created: i64,
    #[serde(rename = "type")]
    pub kind: String,
    pub api_version: String,
    /// The object after the write.
    pub object: Value,
    pub request_id: String,
    pub idempotency_key: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// Idempotency keys (`idempotency`)

/// The stored outcome of the first request that used a key.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct IdempotencyRecord {
    pub method: String,
    pub path: String,
    /// Canonical JSON of the request's parameters.
    pub params: String,
    pub status: u16,
    pub body: String,
    pub request_id: String,
    pub created: i64,
}
