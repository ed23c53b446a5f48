//! An object's metadata as read from Stripe, held compactly.
//!
//! Every managed object carries metadata (billing's marker at least), and an account can hold
//! a hundred thousand prices. A `BTreeMap<String, String>` allocates a node of eleven slots,
//! about 540 bytes, for the first entry: 60 MB for 110,000 prices that carry one or two keys.
//! Here the entries are one sorted boxed slice, sized to what they are, each key (the
//! same few on every object: billing's marker) is a shared word, and a value shorter than 24
//! bytes (billing's own are) is held inline.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use smol_str::SmolStr;

use super::words::{Word, word};

/// Metadata: keys sorted, each once. Answers the questions a `BTreeMap` answers, in the same
/// order, and serializes as the same JSON object.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Metadata(Box<[(Word, SmolStr)]>);

impl Metadata {
    /// The value at `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.position(key).ok().map(|i| self.0[i].1.as_str())
    }

    /// Whether `key` is set.
    pub fn contains_key(&self, key: &str) -> bool {
        self.position(key).is_ok()
    }

    /// Every key and value, keys in order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (&'static str, &str)> + '_ {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Every key, in order.
    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &'static str> + '_ {
        self.0.iter().map(|(k, _)| k.as_str())
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Sets `key` to `value` (tests and fixtures build metadata this way).
    pub fn insert(&mut self, key: String, value: String) -> Option<String> {
        match self.position(&key) {
            Ok(i) => Some(std::mem::replace(&mut self.0[i].1, value.into()).into()),
            Err(i) => {
                let mut entries = std::mem::take(&mut self.0).into_vec();
                entries.insert(i, (word(&key), value.into()));
                self.0 = entries.into_boxed_slice();
                None
            }
        }
    }

    /// Removes every entry.
    pub fn clear(&mut self) {
        self.0 = Box::default();
    }

    /// Removes `key`, returning its value.
    pub fn remove(&mut self, key: &str) -> Option<String> {
        let i = self.position(key).ok()?;
        let mut entries = std::mem::take(&mut self.0).into_vec();
        let (_, value) = entries.remove(i);
        self.0 = entries.into_boxed_slice();
        Some(value.into())
    }

    /// The same entries as a map.
    pub fn to_map(&self) -> BTreeMap<String, String> {
        self.iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect()
    }

    fn position(&self, key: &str) -> Result<usize, usize> {
        self.0.binary_search_by(|(k, _)| k.as_str().cmp(key))
    }
}

impl FromIterator<(String, String)> for Metadata {
    /// Sorted by key; of a key given twice, the last value stays (as in a map).
    fn from_iter<I: IntoIterator<Item = (String, String)>>(entries: I) -> Self {
        let mut entries: Vec<(Word, SmolStr)> = entries
            .into_iter()
            .map(|(k, v)| (word(&k), SmolStr::from(v)))
            .collect();
        // Stable: of equal keys, the later entry stays behind the earlier one.
        entries.sort_by_key(|e| e.0);
        let mut deduped: Vec<(Word, SmolStr)> = Vec::with_capacity(entries.len());
        for entry in entries {
            match deduped.last_mut() {
                Some(last) if last.0 == entry.0 => *last = entry,
                _ => deduped.push(entry),
            }
        }
        Self(deduped.into_boxed_slice())
    }
}

impl From<HashMap<String, String>> for Metadata {
    fn from(map: HashMap<String, String>) -> Self {
        map.into_iter().collect()
    }
}

impl From<BTreeMap<String, String>> for Metadata {
    fn from(map: BTreeMap<String, String>) -> Self {
        map.into_iter().collect()
    }
}

impl<const N: usize> From<[(String, String); N]> for Metadata {
    fn from(entries: [(String, String); N]) -> Self {
        entries.into_iter().collect()
    }
}

impl<'a> IntoIterator for &'a Metadata {
    type Item = (&'static str, &'a str);
    type IntoIter = std::iter::Map<
        std::slice::Iter<'a, (Word, SmolStr)>,
        fn(&'a (Word, SmolStr)) -> (&'static str, &'a str),
    >;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

impl PartialEq<BTreeMap<String, String>> for Metadata {
    fn eq(&self, other: &BTreeMap<String, String>) -> bool {
        self.len() == other.len()
            && self
                .iter()
                .zip(other)
                .all(|((k, v), (ok, ov))| k == ok && v == ov)
    }
}

impl Serialize for Metadata {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.iter())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(entries: &[(&str, &str)]) -> Vec<(String, String)> {
        entries
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn answers_and_serializes_as_the_map_with_the_same_entries() {
        let entries = pairs(&[("b", "2"), ("a", "1"), ("c", "3"), ("a", "again")]);
        let metadata: Metadata = entries.clone().into_iter().collect();
        let map: BTreeMap<String, String> = entries.into_iter().collect();
        assert_eq!(metadata, map);
        assert_eq!(metadata.get("a"), Some("again"));
        assert!(metadata.contains_key("c") && !metadata.contains_key("d"));
        assert_eq!(
            serde_json::to_string(&metadata).unwrap(),
            serde_json::to_string(&map).unwrap()
        );
        assert_eq!(metadata.to_map(), map);
    }

    #[test]
    fn insert_and_remove_keep_the_keys_sorted() {
        let mut metadata =
            Metadata::from(pairs(&[("m", "1")]).into_iter().collect::<HashMap<_, _>>());
        assert_eq!(metadata.insert("z".into(), "2".into()), None);
        assert_eq!(metadata.insert("a".into(), "3".into()), None);
        assert_eq!(metadata.insert("m".into(), "4".into()), Some("1".into()));
        assert_eq!(metadata.keys().collect::<Vec<_>>(), ["a", "m", "z"]);
        assert_eq!(metadata.remove("m"), Some("4".into()));
        assert_eq!(metadata.remove("m"), None);
        assert_eq!(metadata.keys().collect::<Vec<_>>(), ["a", "z"]);
    }
}
