//! What a plan document records of its inputs: the catalog's hash and a digest of every
//! object it read, so that a saved plan can tell whether either changed since.

use serde::Serialize;
use smol_str::SmolStr;

use super::ReadObject;
use crate::catalog::Catalog;
use crate::live::LiveState;
use crate::resource::{Owner, ResourceKind};

/// A digest of a serialisable value.
fn digest<T: Serialize>(value: &T) -> ObjectDigest {
    ObjectDigest::of(&crate::digest::json_sha256(value))
}

/// The first 16 bytes of an object's SHA-256, written as 32 hex digits in a plan file: held as
/// the bytes, because a plan's read set holds one for every managed object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ObjectDigest([u8; 16]);

impl ObjectDigest {
    /// The digest from a whole SHA-256.
    fn of(sha256: &[u8; 32]) -> Self {
        let mut bytes = [0; 16];
        bytes.copy_from_slice(&sha256[..16]);
        Self(bytes)
    }
}

impl Serialize for ObjectDigest {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&crate::digest::hex(&self.0))
    }
}

impl<'de> serde::Deserialize<'de> for ObjectDigest {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        let bytes = crate::digest::unhex(&text).and_then(|bytes| <[u8; 16]>::try_from(bytes).ok());
        bytes.map(Self).ok_or_else(|| {
            serde::de::Error::custom(format!("a digest is 32 lowercase hex digits, not {text:?}"))
        })
    }
}

/// `sha256:…` of the validated catalog: formatting and comments do not count.
pub(crate) fn catalog_hash(catalog: &Catalog) -> String {
    format!(
        "sha256:{}",
        crate::digest::hex(&crate::digest::json_sha256(catalog))
    )
}

/// A digest of a live object without what moves on its own (redemption counters) or belongs
/// to other systems (metadata keys billing.toml's `ignore_metadata` leaves alone). Hashed as
/// it is, without a copy, when there is nothing to leave out: products and prices, by the
/// hundred thousand.
fn object_digest(object: &dyn crate::live::LiveObject, catalog: &Catalog) -> ObjectDigest {
    let ignored = |k: &str| catalog.ignores_metadata_key(k);
    if object.counters().is_empty() && !object.metadata().keys().any(ignored) {
        return ObjectDigest::of(&object.sha256());
    }
    let mut value = object.to_json();
    if let Some(map) = value.as_object_mut() {
        for counter in object.counters() {
            map.remove(*counter);
        }
        if let Some(serde_json::Value::Object(metadata)) = map.get_mut("metadata") {
            metadata.retain(|k, _| !catalog.ignores_metadata_key(k));
        }
    }
    digest(&value)
}

/// A digest of an object without what belongs to other systems (see [`object_digest`]).
fn stable_digest<T: Serialize>(object: &T, catalog: &Catalog) -> ObjectDigest {
    let mut value = serde_json::to_value(object).unwrap_or_default();
    if let Some(serde_json::Value::Object(metadata)) = value
        .as_object_mut()
        .and_then(|map| map.get_mut("metadata"))
    {
        metadata.retain(|k, _| !catalog.ignores_metadata_key(k));
    }
    digest(&value)
}

/// Every object the plan depends on: managed objects of every kind, the features attached to
/// managed products (when read), the meters billing.toml declares, the tax settings and the
/// registrations billing.toml declares (when read), and the account's default portal
/// configuration when billing.toml manages it.
pub(crate) fn read_set(catalog: &Catalog, live: &LiveState) -> Vec<ReadObject> {
    let ns = catalog.namespace.as_str();
    // Objects the plan adopts or moves count as managed at their new address.
    let claims = crate::plan::claims(catalog, live);
    let manages_default = catalog.portals.values().any(|p| p.account_default);
    let mut out = Vec::new();
    // The products whose attached features the plan depends on: those it reads as billing's.
    let mut products: Vec<(String, String)> = Vec::new();
    let mut add = |kind: ResourceKind, id: SmolStr, address: Option<&str>, digest| {
        out.push(ReadObject {
            kind,
            id,
            address: address.map(SmolStr::from),
            digest,
        });
    };
    for kind in ResourceKind::MARKED {
        for o in live.objects(kind).iter() {
            match claims.owner(o.id(), o.metadata(), ns) {
                Owner::Ours(address) => {
                    if kind == ResourceKind::Product {
                        products.push((o.id().to_owned(), address.to_owned()));
                    }
                    add(
                        kind,
                        o.shared_id(),
                        Some(address),
                        object_digest(o, catalog),
                    );
                }
                // The account's default portal configuration, which billing.toml may manage
                // without its marker.
                _ if o.is_built_in() && manages_default => {
                    add(kind, o.shared_id(), None, object_digest(o, catalog));
                }
                _ => {}
            }
        }
    }
    if let Some(settings) = &live.tax_settings {
        add(
            ResourceKind::TaxSettings,
            "account".into(),
            Some("tax"),
            stable_digest(settings, catalog),
        );
    }
    let declared = catalog.tax.iter().flat_map(|t| &t.registrations);
    for r in &live.tax_registrations {
        if let Some(d) = declared
            .clone()
            .find(|d| d.country == r.country && d.kind == r.kind && d.state == r.state)
        {
            let address = d.address().to_string();
            add(
                ResourceKind::TaxRegistration,
                r.id.as_str().into(),
                Some(&address),
                stable_digest(r, catalog),
            );
        }
    }
    // The features attached to those products (when read), each at its product's address.
    for (product, address) in &products {
        for attachment in live.product_features.get(product).into_iter().flatten() {
            add(
                ResourceKind::Product,
                attachment.id.as_str().into(),
                Some(address),
                stable_digest(attachment, catalog),
            );
        }
    }
    // The meters billing.toml declares, found by their event name (meters carry no marker).
    for meter in &live.meters {
        if let Some(declared) = catalog
            .meters
            .values()
            .find(|m| m.event_name == meter.event_name)
        {
            let address = crate::resource::Address::new(ResourceKind::Meter, declared.key.as_str());
            add(
                ResourceKind::Meter,
                meter.id.as_str().into(),
                Some(&address.to_string()),
                stable_digest(meter, catalog),
            );
        }
    }
    out.sort_by(|a, b| (&a.address, &a.kind, &a.id).cmp(&(&b.address, &b.kind, &b.id)));
    out
}

#[cfg(test)]
mod tests {
    use super::ObjectDigest;

    #[test]
    fn digests_are_written_as_hex_and_read_back_only_from_it() {
        let digest = ObjectDigest::of(&crate::digest::json_sha256(&"price_1"));
        let json = serde_json::to_string(&digest).unwrap();
        assert_eq!(json.len(), 34, "{json}");
        assert_eq!(serde_json::from_str::<ObjectDigest>(&json).unwrap(), digest);
        let hex = json.trim_matches('"');
        let longer = format!("\"{hex}00\"");
        let upper = format!("\"{}\"", hex.to_uppercase());
        for wrong in ["\"0fa0\"", "\"zz\"", &longer, &upper] {
            assert!(
                serde_json::from_str::<ObjectDigest>(wrong).is_err(),
                "{wrong}"
            );
        }
    }
}
