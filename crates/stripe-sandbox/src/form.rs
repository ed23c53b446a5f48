//! Bracket form decoding (`a[b][c]=v`, `a[0]=x`, `a[]=x`) of bodies and query strings into a tree.
//!
//! The decoder does not decide whether `a[0]` is an array index or a hash key (`metadata[0]`
//! is a key): indexed segments stay hash keys and the parameter table (`params.rs`) reads a
//! hash whose keys are all indices as an array. Only `a[]=x` produces a list directly.

use std::collections::BTreeMap;

use serde_json::Value;

use super::error::ApiError;

/// The deepest key nesting accepted (`a[b][c][d][e][f][g][h]`); deeper keys are refused so that
/// no input can make the decoder, validator or drop recurse without bound.
const MAX_DEPTH: usize = 8;

/// A decoded parameter tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Node {
    /// A scalar value; `""` means "empty / unset".
    Leaf(String),
    /// A hash: `a[b]=…` (also indexed arrays `a[0]=…`, see the module docs).
    Map(BTreeMap<String, Node>),
    /// An array built with `a[]=…`.
    List(Vec<Node>),
}

impl Node {
    /// The canonical JSON form used to compare the parameters of two requests (idempotency):
    /// hashes whose keys are all indices become arrays, so `a[0]=x` and `a[]=x` compare equal.
    pub(crate) fn canonical(&self) -> Value {
        match self {
            Node::Leaf(s) => Value::String(s.clone()),
            Node::List(items) => Value::Array(items.iter().map(Node::canonical).collect()),
            Node::Map(map) => match indexed_items(map) {
                Some(items) if !map.is_empty() => {
                    Value::Array(items.into_iter().map(Node::canonical).collect())
                }
                _ => Value::Object(
                    map.iter()
                        .map(|(k, v)| (k.clone(), v.canonical()))
                        .collect(),
                ),
            },
        }
    }
}

/// The values of a hash whose keys are all array indices, in index order; `None` otherwise.
pub(crate) fn indexed_items(map: &BTreeMap<String, Node>) -> Option<Vec<&Node>> {
    let mut items = Vec::with_capacity(map.len());
    for (key, node) in map {
        if key.is_empty() || !key.bytes().all(|b| b.is_ascii_digit()) || key.len() > 9 {
            return None;
        }
        let index: u32 = key.parse().ok()?;
        items.push((index, node));
    }
    items.sort_by_key(|(index, _)| *index);
    Some(items.into_iter().map(|(_, node)| node).collect())
}

/// Decodes one `application/x-www-form-urlencoded` string into `into` (a hash).
pub(crate) fn decode_into(input: &str, into: &mut BTreeMap<String, Node>) -> Result<(), ApiError> {
    for (key, value) in form_urlencoded::parse(input.as_bytes()) {
        let path = split_key(&key)?;
        insert(into, &path, value.into_owned(), &key)?;
    }
    Ok(())
}

/// Decodes one form string into a fresh tree.
pub(crate) fn decode(input: &str) -> Result<BTreeMap<String, Node>, ApiError> {
    let mut root = BTreeMap::new();
    decode_into(input, &mut root)?;
    Ok(root)
}

/// `a[b][]` → `["a", "b", ""]`.
fn split_key(key: &str) -> Result<Vec<&str>, ApiError> {
    let (name, mut rest) = match key.find('[') {
        Some(at) => (&key[..at], &key[at..]),
        None => (key, ""),
    };
    if name.is_empty() {
        // Covers `=x` and `?=` (which async-stripe's paginator sends for a list with no
        // parameters). Stripe's answer to it is unverified; an unnamed parameter is refused
        // as unknown (stricter reading).
        return Err(ApiError::unknown_parameter(key));
    }
    let mut path = vec![name];
    while !rest.is_empty() {
        let malformed = || {
            ApiError::invalid(format!("Invalid parameter name: {key}")).with_param(key.to_string())
        };
        if !rest.starts_with('[') {
            return Err(malformed());
        }
        let close = rest.find(']').ok_or_else(malformed)?;
        path.push(&rest[1..close]);
        rest = &rest[close + 1..];
        if path.len() > MAX_DEPTH {
            return Err(ApiError::invalid(format!(
                "Invalid parameter name: {key} is nested more than {MAX_DEPTH} levels deep"
            ))
            .with_param(key.to_string()));
        }
    }
    Ok(path)
}

fn conflict(key: &str) -> ApiError {
    ApiError::invalid(format!(
        "Invalid parameters: `{key}` conflicts with another parameter of the same name sent \
         with a different shape (a value, a hash or an array) or sent twice."
    ))
    .with_param(key.to_string())
}

fn insert(
    map: &mut BTreeMap<String, Node>,
    path: &[&str],
    value: String,
    full_key: &str,
) -> Result<(), ApiError> {
    let Some((&first, rest)) = path.split_first() else {
        return Err(conflict(full_key));
    };
    match rest {
        [] => {
            if map.contains_key(first) {
                return Err(conflict(full_key));
            }
            map.insert(first.to_string(), Node::Leaf(value));
            Ok(())
        }
        [""] => match map
            .entry(first.to_string())
            .or_insert_with(|| Node::List(Vec::new()))
        {
            Node::List(items) => {
                items.push(Node::Leaf(value));
                Ok(())
            }
            _ => Err(conflict(full_key)),
        },
        _ if rest[0].is_empty() => Err(ApiError::invalid(format!(
            "Invalid parameter name: {full_key}: `[]` is only supported at the end of a name; \
             use indexes (`a[0][b]`) for arrays of hashes"
        ))
        .with_param(full_key.to_string())),
        _ => match map
            .entry(first.to_string())
            .or_insert_with(|| Node::Map(BTreeMap::new()))
        {
            Node::Map(child) => insert(child, rest, value, full_key),
            _ => Err(conflict(full_key)),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn leaf(s: &str) -> Node {
        Node::Leaf(s.to_string())
    }

    #[test]
    fn nests_brackets_and_keeps_empty_values() {
        let tree = decode("a[b][c]=v&name=&tiers[0][up_to]=10&expand[]=x&expand[]=y").unwrap();
        let Node::Map(a) = &tree["a"] else { panic!() };
        let Node::Map(b) = &a["b"] else { panic!() };
        assert_eq!(b["c"], leaf("v"));
        assert_eq!(tree["name"], leaf(""));
        assert_eq!(tree["expand"], Node::List(vec![leaf("x"), leaf("y")]));
        let Node::Map(tiers) = &tree["tiers"] else {
            panic!()
        };
        assert!(indexed_items(tiers).is_some());
    }

    #[test]
    fn conflicting_shapes_are_errors() {
        for input in [
            "a=1&a[b]=2",
            "a[b]=2&a=1",
            "a=1&a=2",
            "a[]=1&a[b]=2",
            "a[b]=1&a[]=2",
        ] {
            let err = decode(input).unwrap_err();
            assert_eq!(err.status, 400, "{input}");
        }
        assert_eq!(decode("=x").unwrap_err().code, Some("parameter_unknown"));
        assert!(decode("a[b=1").is_err());
        assert!(decode("a[b]c=1").is_err());
        assert!(decode("a[][b]=1").is_err());
        assert!(decode("a[1][2][3][4][5][6][7][8]=1").is_err());
    }

    #[test]
    fn canonical_form_equates_index_styles() {
        let a = decode("expand[0]=x&expand[1]=y").unwrap();
        let b = decode("expand[]=x&expand[]=y").unwrap();
        assert_eq!(Node::Map(a).canonical(), Node::Map(b).canonical());
    }

    proptest! {
        #[test]
        fn decoder_never_panics(input in "[a-z\\[\\]=&%0-9+]{0,64}") {
            let _ = decode(&input);
        }

        #[test]
        fn decoder_never_panics_on_arbitrary_strings(input in ".{0,128}") {
            let _ = decode(&input);
        }
    }
}
