//! The MAC of a plan file, which makes a saved plan the one `billing plan` wrote: HMAC-SHA256
//! over the file's whole content but the `mac` field itself, keyed by a [`PlanKey`] derived
//! from the environment's secret key. Whoever can edit the file but does not hold the key
//! cannot make a MAC that verifies; the plan and apply jobs, which both hold the key, can.

use std::fmt;

use hmac::Mac;
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::Value;

use super::PlanDocument;
use crate::stripe::SecretKey;

/// What a plan key is derived for: one secret key makes one plan key, used for nothing else.
const PURPOSE: &str = "billing plan file v1";

/// How a MAC reads in the file: this prefix, then 64 lowercase hexadecimal digits.
const PREFIX: &str = "hmac-sha256:";

/// The field that holds the MAC, at the top level of the document.
const FIELD: &str = "mac";

/// The key that makes and checks the MACs of an environment's plan files:
/// HMAC-SHA256(secret key, "billing plan file v1"). It is never written anywhere, and tells
/// nothing about the secret key.
#[derive(Clone)]
pub(crate) struct PlanKey([u8; 32]);

impl PlanKey {
    /// The plan key of an environment whose requests authenticate with `secret`.
    pub(crate) fn new(secret: &SecretKey) -> Self {
        Self(secret.derive(PURPOSE))
    }

    /// The MAC of a document (as JSON) with this key, finished but for the comparison.
    fn mac(&self, document: &Value) -> hmac::Hmac<sha2::Sha256> {
        self.mac_of(&Content(document))
    }

    /// The MAC of `content` as compact JSON.
    fn mac_of<T: Serialize + ?Sized>(&self, content: &T) -> hmac::Hmac<sha2::Sha256> {
        let mut mac = crate::digest::hmac(&self.0);
        crate::digest::feed_json(&mut mac, content);
        mac
    }
}

impl fmt::Debug for PlanKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PlanKey([REDACTED])")
    }
}

/// What a MAC covers: the document as compact JSON, every field in the order the file has it,
/// but for `mac` at the top level. It is the file's content as read, not as this billing
/// understands it: a field no one listed (one a later version adds, one this version ignores)
/// is covered all the same.
struct Content<'a>(&'a Value);

impl Serialize for Content<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let Value::Object(fields) = self.0 else {
            return self.0.serialize(s);
        };
        let mut map = s.serialize_map(None)?;
        for (name, value) in fields.iter().filter(|(name, _)| name.as_str() != FIELD) {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

/// Why a plan file's MAC does not verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum MacError {
    /// No `mac` field, or not one this billing writes.
    #[error("it carries no MAC of billing's (`\"mac\": \"{PREFIX}…\"`)")]
    Missing,
    /// A MAC that another key made, or made over other content.
    #[error(
        "its MAC does not match its content: the file was changed after `billing plan` wrote it, or it was made with another key"
    )]
    Mismatch,
}

impl PlanDocument {
    /// The same document with a MAC made with `key`: what `billing plan` shows and saves.
    #[must_use]
    pub(crate) fn sealed(mut self, key: &PlanKey) -> Self {
        // Without a MAC the document serialises as the file will read without its `mac`
        // field (fields in the same order: serde_json keeps a file's order), so it is fed to
        // the MAC straight, with no copy of it as a JSON tree.
        self.mac = None;
        let mac = key.mac_of(&self).finalize().into_bytes();
        self.mac = Some(format!("{PREFIX}{}", crate::digest::hex(&mac)));
        self
    }
}

/// Checks that `document`, a plan file as read, carries the MAC `key` makes of its content.
pub(super) fn verify(document: &Value, key: &PlanKey) -> Result<(), MacError> {
    let recorded = document
        .get(FIELD)
        .and_then(Value::as_str)
        .and_then(|mac| mac.strip_prefix(PREFIX))
        .and_then(crate::digest::unhex)
        .ok_or(MacError::Missing)?;
    key.mac(document)
        .verify_slice(&recorded)
        .map_err(|_| MacError::Mismatch)
}

#[cfg(test)]
mod tests {
    use serde_json::Map;

    use super::super::testing::{CATALOG, document};
    use super::*;
    use crate::live::fixtures::{live, price, product};

    fn key(secret: &str) -> PlanKey {
        PlanKey::new(&SecretKey::new(secret))
    }

    fn sealed() -> PlanDocument {
        let state = live(vec![product()], vec![price()]);
        document(&CATALOG.replace("79.00", "89.00"), &state)
            .1
            .sealed(&key("sk_test_one"))
    }

    /// The document as the file holds it, read back.
    fn as_read(doc: &PlanDocument) -> Value {
        serde_json::from_str(&doc.to_json()).unwrap()
    }

    /// Its top-level fields, in the file's order.
    fn fields(doc: &PlanDocument) -> Map<String, Value> {
        match as_read(doc) {
            Value::Object(map) => map,
            other => panic!("a document is an object, not {other}"),
        }
    }

    #[test]
    fn a_sealed_plan_verifies_with_its_key_only() {
        let doc = sealed();
        let mac = doc.mac.clone().unwrap();
        assert!(
            mac.starts_with(PREFIX) && mac.len() == PREFIX.len() + 64,
            "{mac}"
        );
        assert_eq!(verify(&as_read(&doc), &key("sk_test_one")), Ok(()));
        assert_eq!(
            verify(&as_read(&doc), &key("sk_test_two")),
            Err(MacError::Mismatch)
        );
        // Sealing again gives the same MAC: it covers the content, not the moment.
        assert_eq!(doc.clone().sealed(&key("sk_test_one")).mac, Some(mac));
        // Formatting does not count: the same content, compact.
        let compact: Value = serde_json::from_str(&as_read(&doc).to_string()).unwrap();
        assert_eq!(verify(&compact, &key("sk_test_one")), Ok(()));
    }

    #[test]
    fn every_field_is_covered_without_being_listed() {
        let doc = sealed();
        let read = as_read(&doc);
        let names: Vec<String> = fields(&doc).keys().cloned().collect();
        assert!(names.len() > 15, "{names:?}");
        for name in names.iter().filter(|n| *n != FIELD) {
            let mut edited = read.clone();
            let value = &mut edited[name.as_str()];
            *value = match value {
                Value::Bool(b) => Value::Bool(!*b),
                Value::Null => Value::String("evt_forged".into()),
                _ => Value::Null,
            };
            assert_eq!(
                verify(&edited, &key("sk_test_one")),
                Err(MacError::Mismatch),
                "an edit of `{name}` went unnoticed"
            );
        }
        // A field this version does not know is covered too.
        let mut added = read.clone();
        added["comment"] = Value::String("approved".into());
        assert_eq!(verify(&added, &key("sk_test_one")), Err(MacError::Mismatch));
        // So is a reordering.
        let reordered: Map<String, Value> = fields(&doc)
            .into_iter()
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        assert_eq!(
            verify(&Value::Object(reordered), &key("sk_test_one")),
            Err(MacError::Mismatch)
        );
    }

    #[test]
    fn a_missing_or_malformed_mac_is_missing() {
        let read = as_read(&sealed());
        for mac in [
            Value::Null,
            Value::from(7),
            Value::from("sha256:00"),
            Value::from(format!("{PREFIX}zz")),
            Value::from(format!("{PREFIX}abc")),
        ] {
            let mut edited = read.clone();
            edited[FIELD] = mac.clone();
            assert_eq!(
                verify(&edited, &key("sk_test_one")),
                Err(MacError::Missing),
                "{mac}"
            );
        }
        let mut truncated = read.clone();
        truncated[FIELD] = Value::from(format!("{PREFIX}00"));
        assert_eq!(
            verify(&truncated, &key("sk_test_one")),
            Err(MacError::Mismatch)
        );
        assert_eq!(crate::digest::unhex("0fa0"), Some(vec![0x0f, 0xa0]));
        assert!(!format!("{:?}", key("sk_test_one")).contains("sk_test"));
    }
}
