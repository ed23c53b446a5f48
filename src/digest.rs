//! Digests: short, stable hashes of plain data, which tie a plan and the idempotency keys of
//! its writes to the exact state they were computed from.

use serde::Serialize;
use sha2::{Digest, Sha256};

/// A short stable digest of some live objects.
pub(crate) fn fingerprint<T: Serialize + ?Sized>(objects: &[&T]) -> String {
    hex(&json_sha256(objects)[..12])
}

/// SHA-256 of a value's JSON, serialised straight into the hash.
pub(crate) fn json_sha256<T: Serialize + ?Sized>(value: &T) -> [u8; 32] {
    let mut hasher = Sha256::new();
    feed_json(&mut hasher, value);
    hasher.finalize().into()
}

/// Feeds a value's compact JSON to a hash or a MAC as serde_json writes it, without a buffer.
pub(crate) fn feed_json<T: Serialize + ?Sized>(state: &mut impl sha2::digest::Update, value: &T) {
    struct Feeding<'a, U>(&'a mut U);
    impl<U: sha2::digest::Update> std::io::Write for Feeding<'_, U> {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.update(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    // Serialising plain data to a writer that cannot fail does not fail.
    let _ = serde_json::to_writer(Feeding(state), value);
}

/// Plain data that can be hashed and looked at as JSON through a trait object (live objects of
/// every kind, whose types differ).
pub trait Hashable {
    /// [`json_sha256`] of the value.
    fn sha256(&self) -> [u8; 32];
    /// The value as JSON.
    fn to_json(&self) -> serde_json::Value;
}

impl<T: Serialize> Hashable for T {
    fn sha256(&self) -> [u8; 32] {
        json_sha256(self)
    }

    fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_default()
    }
}

/// HMAC-SHA256 keyed by `key`, ready for its message.
pub(crate) fn hmac(key: &[u8]) -> hmac::Hmac<Sha256> {
    // HMAC takes a key of any length (a longer one than SHA-256's block is hashed first).
    <hmac::Hmac<Sha256> as hmac::Mac>::new_from_slice(key).expect("HMAC takes any key length")
}

/// Lowercase hexadecimal.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    out
}

/// The bytes of lowercase hexadecimal text, or `None` when it is not that.
pub(crate) fn unhex(text: &str) -> Option<Vec<u8>> {
    let digit = |b: u8| match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        _ => None,
    };
    let bytes = text.as_bytes();
    if !bytes.len().is_multiple_of(2) {
        return None;
    }
    bytes
        .chunks(2)
        .map(|pair| Some(digit(pair[0])? << 4 | digit(pair[1])?))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_change_with_content() {
        let a = fingerprint(&[&"x"]);
        assert_eq!(a, fingerprint(&[&"x"]));
        assert_ne!(a, fingerprint(&[&"y"]));
        assert_ne!(fingerprint::<String>(&[]), a);
        assert_eq!(hex(&[0x0f, 0xa0]), "0fa0");
    }
}
