//! Words: the values of a live object's fields that take one of a few values (currencies,
//! intervals, billing schemes, tax behaviors) and metadata keys, held once for the whole
//! process.
//!
//! A price carries six or seven of them, and billing's marker keys; as `String`s, each was an
//! allocation of its own, and an account of 100,000 prices held 20 MB of copies of `usd` and
//! `month`.

use std::collections::BTreeSet;
use std::sync::Mutex;

/// The one `&'static str` for `text`, kept for the process's life. Stripe's values for these
/// fields are few (about 140 currencies, a handful for each enum); metadata keys are as many as
/// the distinct keys the account uses, each kept once however many objects carry it.
pub(crate) fn word(text: &str) -> &'static str {
    static WORDS: Mutex<BTreeSet<&'static str>> = Mutex::new(BTreeSet::new());
    let mut words = WORDS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(known) = words.get(text) {
        return known;
    }
    let new: &'static str = Box::leak(text.to_owned().into_boxed_str());
    words.insert(new);
    new
}

#[cfg(test)]
mod tests {
    #[test]
    fn each_word_is_kept_once() {
        let a = super::word(&String::from("month"));
        let b = super::word(&String::from("month"));
        assert_eq!(a, "month");
        assert!(std::ptr::eq(a, b));
        assert_ne!(super::word("year"), a);
    }
}
