//! Metadata diffs: the catalog owns the keys of the objects it manages, except ignored ones.

use std::collections::BTreeMap;

use super::value::{FieldChange, FieldValue};

/// The keys to set and remove so that `live` becomes `desired`; keys that `ignored` accepts
/// are left as they are. Each change is also described in `fields` as `metadata.<key>`.
pub(crate) fn diff(
    desired: &BTreeMap<String, String>,
    live: &crate::live::Metadata,
    ignored: impl Fn(&str) -> bool,
    fields: &mut Vec<FieldChange>,
) -> BTreeMap<String, Option<String>> {
    let mut update = BTreeMap::new();
    for (key, value) in desired {
        if live.get(key) != Some(value) {
            fields.push(FieldChange::new(
                format!("metadata.{key}"),
                FieldValue::text(live.get(key)),
                FieldValue::Text(value.to_owned()),
            ));
            update.insert(key.clone(), Some(value.clone()));
        }
    }
    for (key, value) in live {
        if !desired.contains_key(key) && !ignored(key) {
            fields.push(FieldChange::new(
                format!("metadata.{key}"),
                FieldValue::Text(value.to_owned()),
                FieldValue::None,
            ));
            update.insert(key.to_owned(), None);
        }
    }
    update
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn sets_changed_removes_undeclared_keeps_ignored() {
        let desired = map(&[("plan", "pro"), ("tier", "2")]);
        let live = map(&[
            ("plan", "pro"),
            ("tier", "1"),
            ("old", "x"),
            ("crm_id", "42"),
        ]);
        let mut fields = Vec::new();
        let update = diff(
            &desired,
            &live.clone().into(),
            |k| k.starts_with("crm_"),
            &mut fields,
        );
        assert_eq!(
            update,
            BTreeMap::from([
                ("tier".to_owned(), Some("2".to_owned())),
                ("old".to_owned(), None)
            ])
        );
        let names: Vec<&str> = fields.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(names, ["metadata.tier", "metadata.old"]);
    }
}
