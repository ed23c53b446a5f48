//! Ownership: which live objects this catalog manages, by the marker billing writes in metadata.

use std::collections::BTreeMap;

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::catalog::OnRemove;

/// Metadata key holding an object's catalog address (`prices.pro.monthly`).
pub const MARKER_KEY: &str = "billing_key";
/// Metadata key holding the namespace of the catalog that manages the object.
pub const MARKER_NAMESPACE: &str = "billing_ns";

/// Who manages a live object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner<'a> {
    /// This catalog, at this address.
    Ours(&'a str),
    /// A catalog with another namespace: this one.
    Foreign(&'a str),
    /// Nobody: no marker.
    Unmanaged,
}

/// Reads the ownership marker; a marker without a namespace belongs to the default namespace.
pub fn owner<'a>(metadata: &'a BTreeMap<String, String>, namespace: &str) -> Owner<'a> {
    match metadata.get(MARKER_KEY) {
        None => Owner::Unmanaged,
        Some(address) => {
            let ns = metadata
                .get(MARKER_NAMESPACE)
                .map_or(crate::catalog::DEFAULT_NAMESPACE, String::as_str);
            if ns == namespace {
                Owner::Ours(address)
            } else {
                Owner::Foreign(ns)
            }
        }
    }
}

/// The address of a product: `products.<key>`.
pub fn product_address(key: &str) -> String {
    format!("products.{key}")
}

/// The address of a price: `prices.<product>.<price>`.
pub fn price_address(product: &str, price: &str) -> String {
    format!("prices.{product}.{price}")
}

/// Declared metadata plus the ownership marker.
pub fn with_marker(
    metadata: &BTreeMap<String, String>,
    address: &str,
    namespace: &str,
) -> BTreeMap<String, String> {
    let mut out = metadata.clone();
    out.insert(MARKER_KEY.to_owned(), address.to_owned());
    out.insert(MARKER_NAMESPACE.to_owned(), namespace.to_owned());
    out
}

/// Metadata key recording, on the object itself, what happens when its entry leaves the
/// catalog (`on_remove = "keep"` or `"forget"`): by then the catalog no longer says.
pub const ON_REMOVE_KEY: &str = "billing_on_remove";

/// Declared metadata plus the ownership marker and, unless it is the kind's default, what
/// happens to the object when its entry leaves the catalog.
pub fn owned_metadata(
    metadata: &BTreeMap<String, String>,
    address: &str,
    namespace: &str,
    on_remove: OnRemove,
) -> BTreeMap<String, String> {
    let mut out = with_marker(metadata, address, namespace);
    if matches!(on_remove, OnRemove::Keep | OnRemove::Forget) {
        out.insert(ON_REMOVE_KEY.to_owned(), on_remove.as_str().to_owned());
    }
    out
}

/// Whether a managed object asks to be forgotten, not archived or deleted, once its entry
/// leaves the catalog.
pub fn forget_on_remove(metadata: &BTreeMap<String, String>) -> bool {
    metadata.get(ON_REMOVE_KEY).map(String::as_str) == Some(OnRemove::Forget.as_str())
}

/// A short stable digest of some live objects, so that a plan (and the idempotency keys of its
/// writes) are tied to the exact state they were computed from.
pub fn fingerprint<T: Serialize>(objects: &[&T]) -> String {
    hex(&json_sha256(objects)[..12])
}

/// SHA-256 of a value's JSON, serialised straight into the hash.
pub fn json_sha256<T: Serialize + ?Sized>(value: &T) -> [u8; 32] {
    /// Feeds what serde_json writes to the hash, without a buffer.
    struct Hashing(Sha256);
    impl std::io::Write for Hashing {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.update(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut hashing = Hashing(Sha256::new());
    // Serialising plain data to a writer that cannot fail does not fail.
    let _ = serde_json::to_writer(&mut hashing, value);
    hashing.0.finalize().into()
}

/// Lowercase hexadecimal.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_decide_ownership() {
        let mut m = BTreeMap::new();
        assert_eq!(owner(&m, "acme"), Owner::Unmanaged);
        m.insert(MARKER_KEY.into(), "products.pro".into());
        assert_eq!(owner(&m, "default"), Owner::Ours("products.pro"));
        assert_eq!(owner(&m, "acme"), Owner::Foreign("default"));
        m.insert(MARKER_NAMESPACE.into(), "acme".into());
        assert_eq!(owner(&m, "acme"), Owner::Ours("products.pro"));
    }

    #[test]
    fn fingerprints_change_with_content() {
        let a = fingerprint(&[&"x"]);
        assert_eq!(a, fingerprint(&[&"x"]));
        assert_ne!(a, fingerprint(&[&"y"]));
        assert_ne!(fingerprint::<String>(&[]), a);
    }
}
