//! Words: the values of a live object's fields that take one of a few values (currencies,
//! intervals, billing schemes, tax behaviors) and metadata keys, held once for the whole
//! process.
//!
//! A price carries six or seven of them, and billing's marker keys; as `String`s, each was an
//! allocation of its own, and an account of 100,000 prices held 20 MB of copies of `usd` and
//! `month`. A [`Word`] is one pointer (8 bytes, where a `&str` takes 16): the list of 110,000
//! live prices is 8 MB smaller for it.

use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;

use serde::Serialize;

/// A word kept for the process's life: compares, orders and hashes as its text.
#[derive(Clone, Copy)]
pub struct Word(&'static String);

impl Word {
    /// The one word for `text` (see [`word`]).
    pub fn new(text: &str) -> Self {
        word(text)
    }

    /// The text.
    pub fn as_str(self) -> &'static str {
        self.0.as_str()
    }
}

impl std::ops::Deref for Word {
    type Target = str;

    fn deref(&self) -> &str {
        self.0
    }
}

impl PartialEq for Word {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Word {}

impl PartialEq<str> for Word {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Word {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialOrd for Word {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Word {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl std::hash::Hash for Word {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl fmt::Debug for Word {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Word {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Word {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// The one [`Word`] for `text`. Stripe's values for these fields are few (about 140
/// currencies, a handful for each enum); metadata keys are as many as the distinct keys the
/// account uses, each kept once however many objects carry it.
pub(crate) fn word(text: &str) -> Word {
    static WORDS: Mutex<Option<HashMap<&'static str, &'static String>>> = Mutex::new(None);
    let mut words = WORDS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let words = words.get_or_insert_with(HashMap::new);
    if let Some(known) = words.get(text) {
        return Word(known);
    }
    let new: &'static String = Box::leak(Box::new(text.to_owned()));
    words.insert(new.as_str(), new);
    Word(new)
}

#[cfg(test)]
mod tests {
    #[test]
    fn each_word_is_kept_once() {
        let a = super::word(&String::from("month"));
        let b = super::word(&String::from("month"));
        assert_eq!(a, "month");
        assert!(std::ptr::eq(a.as_str(), b.as_str()));
        assert_ne!(super::word("year"), a);
        assert_eq!(std::mem::size_of::<super::Word>(), 8);
        assert_eq!(std::mem::size_of::<Option<super::Word>>(), 8);
    }
}
