//! Ownership: which live objects a catalog manages, by the marker billing writes in their
//! metadata.

use std::collections::BTreeMap;

use crate::live::Metadata;

/// Metadata key holding an object's catalog address (`prices.pro.monthly`).
pub(crate) const MARKER_KEY: &str = "billing_key";
/// Metadata key holding the namespace of the catalog that manages the object.
pub(crate) const MARKER_NAMESPACE: &str = "billing_ns";
/// Metadata key recording, on the object itself, what happens when its entry leaves the
/// catalog (`on_remove = "keep"` or `"forget"`): by then the catalog no longer says.
pub(crate) const ON_REMOVE_KEY: &str = "billing_on_remove";
/// Metadata key on a product billing attached entitlement features to (value
/// [`FEATURES_VALUE`]): set with the first attachment, removed with the last. A plan reads a
/// product's attachments (one request per product) only when its entry declares
/// `entitlements` or the product carries this key.
pub(crate) const FEATURES_KEY: &str = "billing_features";
/// The value of [`FEATURES_KEY`].
pub(crate) const FEATURES_VALUE: &str = "attached";

/// The namespace of a catalog that declares none, and of a marker without `billing_ns`.
pub(crate) const DEFAULT_NAMESPACE: &str = "default";

/// Who manages a live object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Owner<'a> {
    /// This catalog, at this address.
    Ours(&'a str),
    /// A catalog with another namespace: this one.
    Foreign(&'a str),
    /// Nobody: no marker.
    Unmanaged,
}

/// Reads the ownership marker; a marker without a namespace belongs to the default namespace.
pub(crate) fn owner<'a>(metadata: &'a Metadata, namespace: &str) -> Owner<'a> {
    match metadata.get(MARKER_KEY) {
        None => Owner::Unmanaged,
        Some(address) => {
            let ns = metadata.get(MARKER_NAMESPACE).unwrap_or(DEFAULT_NAMESPACE);
            if ns == namespace {
                Owner::Ours(address)
            } else {
                Owner::Foreign(ns)
            }
        }
    }
}

/// Declared metadata plus the ownership marker.
pub(crate) fn with_marker(
    metadata: &BTreeMap<String, String>,
    address: &str,
    namespace: &str,
) -> BTreeMap<String, String> {
    let mut out = metadata.clone();
    out.insert(MARKER_KEY.to_owned(), address.to_owned());
    out.insert(MARKER_NAMESPACE.to_owned(), namespace.to_owned());
    out
}

/// Declared metadata plus the ownership marker and, when the object records it, what happens
/// to it when its entry leaves the catalog (`billing_on_remove`).
pub(crate) fn owned_metadata(
    metadata: &BTreeMap<String, String>,
    address: &str,
    namespace: &str,
    on_remove: Option<&str>,
) -> BTreeMap<String, String> {
    let mut out = with_marker(metadata, address, namespace);
    if let Some(on_remove) = on_remove {
        out.insert(ON_REMOVE_KEY.to_owned(), on_remove.to_owned());
    }
    out
}

/// The metadata update that removes the marker (and a recorded `on_remove` and the features
/// marker): what forgetting an object sends.
pub(crate) fn unmark(metadata: &Metadata) -> BTreeMap<String, Option<String>> {
    [MARKER_KEY, MARKER_NAMESPACE, ON_REMOVE_KEY, FEATURES_KEY]
        .into_iter()
        .filter(|k| metadata.contains_key(k))
        .map(|k| (k.to_owned(), None))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_decide_ownership() {
        let mut m = Metadata::default();
        assert_eq!(owner(&m, "acme"), Owner::Unmanaged);
        m.insert(MARKER_KEY.into(), "products.pro".into());
        assert_eq!(owner(&m, "default"), Owner::Ours("products.pro"));
        assert_eq!(owner(&m, "acme"), Owner::Foreign("default"));
        m.insert(MARKER_NAMESPACE.into(), "acme".into());
        assert_eq!(owner(&m, "acme"), Owner::Ours("products.pro"));
    }
}
