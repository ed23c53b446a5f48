//! Plan files as an attacker or a careless edit leaves them: `load` never panics, every
//! rejection names the file, and whatever it accepts is safe to show and compare.

use std::sync::OnceLock;

use proptest::prelude::*;

use crate::document::testing::{CATALOG, document};
use crate::document::{FORMAT_VERSION, PlanDocument};
use crate::live::fixtures::{live, price, product};

/// Real documents: creates with references (an empty account), and a replace with an
/// archive (a managed price whose amount changed).
fn samples() -> &'static [PlanDocument] {
    static DOCS: OnceLock<Vec<PlanDocument>> = OnceLock::new();
    DOCS.get_or_init(|| {
        vec![
            document(CATALOG, &live(vec![], vec![])).1,
            document(
                &CATALOG.replace("79.00", "89.00"),
                &live(vec![product()], vec![price()]),
            )
            .1,
        ]
    })
}

/// A scratch file that every case of a test overwrites.
struct Scratch {
    _dir: tempfile::TempDir,
    path: std::path::PathBuf,
}

impl Scratch {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plan.json");
        Self { _dir: dir, path }
    }

    /// Writes `bytes` and loads them, checked as the `plan_file` fuzz target checks
    /// them; an accepted document is also compared with the real ones both ways.
    fn load(&self, bytes: &[u8]) -> Option<PlanDocument> {
        std::fs::write(&self.path, bytes).unwrap();
        let outcome =
            PlanDocument::read(&self.path).and_then(|text| PlanDocument::parse(&self.path, &text));
        super::check_plan_file(&self.path, &outcome);
        let doc = outcome.ok()?;
        for other in samples() {
            let _ = doc.differences(other);
            let _ = other.differences(&doc);
        }
        Some(doc)
    }
}

/// Raw JSON text put in place of a value: wrong types, numbers past every integer
/// type, indexes out of range, placeholders, nesting past serde_json's limit.
fn hostile_value() -> impl Strategy<Value = String> {
    let fixed = prop::sample::select(vec![
        "null",
        "true",
        "-1",
        "0",
        "1",
        "2",
        "4294967296",
        "18446744073709551615",
        "18446744073709551616",
        "99999999999999999999999999999999",
        "1e400",
        "-1e400",
        "1.5",
        "\"\"",
        "\"\\u0000\"",
        "\"\\ud800\"",
        "\"${operations.0.id}\"",
        "\"${operations.1.id}\"",
        "\"${operations.999999.id}\"",
        "\"${operations.\"",
        "[]",
        "{}",
        "[0]",
        "[1, 0]",
        "[0, 0]",
        "[18446744073709551615]",
        "{\"request\": 0, \"field\": null, \"operation\": 0}",
        "{\"request\": 99, \"field\": 99, \"operation\": 99}",
    ])
    .prop_map(str::to_owned);
    prop_oneof![
        28 => fixed,
        1 => Just(format!("{}0{}", "[".repeat(200), "]".repeat(200))),
        1 => "\"[^\"\\\\]{0,20}\"",
        1 => (0..1000u64).prop_map(|n| n.to_string()),
    ]
}

/// Every place in a JSON value, as a path of object keys and array indexes.
fn places(
    value: &serde_json::Value,
    path: &mut Vec<serde_json::Value>,
    out: &mut Vec<Vec<serde_json::Value>>,
) {
    out.push(path.clone());
    match value {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                path.push(k.clone().into());
                places(v, path, out);
                path.pop();
            }
        }
        serde_json::Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                path.push(i.into());
                places(v, path, out);
                path.pop();
            }
        }
        _ => {}
    }
}

fn at<'a>(
    value: &'a mut serde_json::Value,
    path: &[serde_json::Value],
) -> &'a mut serde_json::Value {
    path.iter().fold(value, |v, seg| match seg {
        serde_json::Value::String(k) => &mut v[k.as_str()],
        other => &mut v[other.as_u64().unwrap() as usize],
    })
}

/// What to do to a real document.
#[derive(Debug, Clone)]
enum Mutation {
    /// Remove the value at a place (a key from its object, an item from its array).
    Drop(prop::sample::Index),
    /// Put raw JSON text in place of the value at a place.
    Replace(prop::sample::Index, String),
    /// Operation `a` depends on `b` and `b` on `a`.
    Cycle(prop::sample::Index, prop::sample::Index),
    /// The order reversed.
    Reverse,
    /// A change lists an operation that is not its own, or none that exists.
    Steps(prop::sample::Index, usize),
    /// The text cut short.
    Truncate(prop::sample::Index),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        any::<prop::sample::Index>().prop_map(Mutation::Drop),
        (any::<prop::sample::Index>(), hostile_value()).prop_map(|(i, v)| Mutation::Replace(i, v)),
        (any::<prop::sample::Index>(), any::<prop::sample::Index>())
            .prop_map(|(a, b)| Mutation::Cycle(a, b)),
        Just(Mutation::Reverse),
        (
            any::<prop::sample::Index>(),
            prop_oneof![0..4usize, Just(usize::MAX)]
        )
            .prop_map(|(i, s)| Mutation::Steps(i, s)),
        any::<prop::sample::Index>().prop_map(Mutation::Truncate),
    ]
}

const HOLE: &str = "\u{1}hole\u{1}";

/// The document's JSON text with `mutations` applied in turn.
fn mutated(doc: &PlanDocument, mutations: &[Mutation]) -> String {
    let mut value: serde_json::Value = serde_json::from_str(&doc.to_json()).unwrap();
    let mut raw = Vec::new();
    let mut cut = None;
    for m in mutations {
        let mut all = Vec::new();
        places(&value, &mut Vec::new(), &mut all);
        match m {
            Mutation::Drop(i) => {
                let mut path = i.get(&all).clone();
                if let Some(last) = path.pop() {
                    match (at(&mut value, &path), last) {
                        (serde_json::Value::Object(map), serde_json::Value::String(k)) => {
                            map.shift_remove(&k);
                        }
                        (serde_json::Value::Array(items), n) => {
                            items.remove(n.as_u64().unwrap() as usize);
                        }
                        _ => {}
                    }
                }
            }
            Mutation::Replace(i, text) => {
                *at(&mut value, i.get(&all).as_slice()) = format!("{HOLE}{}", raw.len()).into();
                raw.push(text.clone());
            }
            Mutation::Cycle(a, b) => {
                if let Some(ops) = value
                    .get_mut("operations")
                    .and_then(|v| v.as_array_mut())
                    .filter(|o| !o.is_empty())
                {
                    let (a, b) = (a.index(ops.len()), b.index(ops.len()));
                    for (from, to) in [(a, b), (b, a)] {
                        if let Some(deps) = ops[from]
                            .get_mut("depends_on")
                            .and_then(|v| v.as_array_mut())
                        {
                            deps.push(to.into());
                        }
                    }
                }
            }
            Mutation::Reverse => {
                if let Some(order) = value.get_mut("order").and_then(|v| v.as_array_mut()) {
                    order.reverse();
                }
            }
            Mutation::Steps(i, step) => {
                if let Some(changes) = value
                    .get_mut("resource_changes")
                    .and_then(|v| v.as_array_mut())
                    .filter(|c| !c.is_empty())
                {
                    let n = i.index(changes.len());
                    let change = &mut changes[n];
                    if let Some(steps) = change.get_mut("operations").and_then(|v| v.as_array_mut())
                    {
                        steps.push((*step as u64).into());
                    }
                }
            }
            Mutation::Truncate(i) => cut = Some(*i),
        }
    }
    let mut text = value.to_string();
    for (n, snippet) in raw.iter().enumerate() {
        text = text.replace(
            &format!("\"{}{n}\"", HOLE.replace('\u{1}', "\\u0001")),
            snippet,
        );
    }
    if let Some(i) = cut {
        let mut at = i.index(text.len() + 1);
        while !text.is_char_boundary(at) {
            at -= 1;
        }
        text.truncate(at);
    }
    text
}

#[test]
fn a_change_listing_an_operation_not_its_own_is_refused() {
    let doc = &samples()[0];
    for steps in ["[18446744073709551615]", "[0, 1]", "[]"] {
        let mut value: serde_json::Value = serde_json::from_str(&doc.to_json()).unwrap();
        value["resource_changes"][1]["operations"] = serde_json::from_str(steps).unwrap();
        let error = PlanDocument::parse(std::path::Path::new("plan.json"), &value.to_string())
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("is not a usable billing plan file") && error.contains("operation"),
            "{error}"
        );
    }
}

#[test]
fn a_saved_document_loads_back_as_it_was() {
    let scratch = Scratch::new();
    for doc in samples() {
        let back = scratch.load(doc.to_json().as_bytes());
        assert_eq!(back.as_ref(), Some(doc));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_are_rejected_with_the_file_named(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let scratch = Scratch::new();
        scratch.load(&bytes);
    }

    #[test]
    fn arbitrary_json_is_rejected_with_the_file_named(value in arbitrary_json()) {
        let scratch = Scratch::new();
        let mut value = value;
        if let Some(map) = value.as_object_mut() {
            // Past the header checks, to the document's own shape.
            map.insert("format_version".into(), FORMAT_VERSION.into());
            map.insert("tool_version".into(), env!("CARGO_PKG_VERSION").into());
        }
        scratch.load(value.to_string().as_bytes());
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn a_mutated_document_never_panics_and_every_rejection_names_the_file(
        which in any::<prop::sample::Index>(),
        mutations in proptest::collection::vec(mutation(), 1..4),
    ) {
        let scratch = Scratch::new();
        let doc = which.get(samples());
        let text = mutated(doc, &mutations);
        scratch.load(text.as_bytes());
    }
}

fn arbitrary_json() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(Into::into),
        any::<i64>().prop_map(Into::into),
        any::<u64>().prop_map(Into::into),
        any::<f64>().prop_map(
            |f| serde_json::Number::from_f64(f).map_or(serde_json::Value::Null, Into::into)
        ),
        ".{0,12}".prop_map(Into::into),
        prop::sample::select(
            &[
                "create",
                "update",
                "product",
                "price",
                "test",
                "live",
                "POST",
                "${operations.0.id}"
            ][..]
        )
        .prop_map(Into::into),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Into::into),
            proptest::collection::vec(
                (
                    prop::sample::select(
                        &[
                            "format_version",
                            "tool_version",
                            "environment",
                            "account",
                            "mode",
                            "namespace",
                            "catalog_hash",
                            "generation",
                            "summary",
                            "resource_changes",
                            "operations",
                            "order",
                            "notices",
                            "unmanaged",
                            "foreign",
                            "read",
                            "id",
                            "change",
                            "depends_on",
                            "requests",
                            "references",
                            "steps",
                            "address",
                            "kind",
                            "action",
                        ][..]
                    ),
                    inner,
                ),
                0..8,
            )
            .prop_map(|entries| {
                serde_json::Value::Object(
                    entries
                        .into_iter()
                        .map(|(k, v)| (k.to_owned(), v))
                        .collect(),
                )
            }),
        ]
    })
}
