//! Field values as a plan shows them, and the change of one field.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// A field's value, typed enough to render it well and to serialise it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub(crate) enum FieldValue {
    /// Not set.
    None,
    /// Free text, shown quoted.
    Text(String),
    /// A word from a closed set (`month`, `usd`, `exclusive`), shown bare.
    Word(String),
    /// A yes/no flag.
    Bool(bool),
    /// A count.
    Int(i64),
    /// An amount, already formatted (`$79.00`).
    Money(String),
    /// A list of texts.
    List(Vec<String>),
    /// Keys and values.
    Map(BTreeMap<String, String>),
    /// Another object: a catalog address or a Stripe id.
    Ref(String),
}

impl FieldValue {
    /// Text, or none when absent.
    pub(crate) fn text(value: Option<&str>) -> Self {
        value.map_or(Self::None, |v| Self::Text(v.to_owned()))
    }

    /// A word, or none when absent.
    pub(crate) fn word(value: Option<&str>) -> Self {
        value.map_or(Self::None, |v| Self::Word(v.to_owned()))
    }

    /// A moment, as billing.toml writes it, or none when absent.
    pub(crate) fn date(ts: Option<i64>) -> Self {
        ts.map_or(Self::None, |t| {
            Self::Word(crate::timestamp::format_timestamp(t))
        })
    }

    /// Whether the value is long or multi-line text, which reads better as a line diff.
    pub(crate) fn is_long_text(&self) -> bool {
        matches!(self, Self::Text(t) if t.contains('\n') || t.chars().count() > 60)
    }
}

impl fmt::Display for FieldValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::None => f.write_str("(none)"),
            Self::Text(t) => write!(f, "{t:?}"),
            Self::Word(w) | Self::Money(w) | Self::Ref(w) => f.write_str(w),
            Self::Bool(b) => write!(f, "{b}"),
            Self::Int(i) => write!(f, "{i}"),
            Self::List(items) => {
                let items: Vec<String> = items.iter().map(|i| format!("{i:?}")).collect();
                write!(f, "[{}]", items.join(", "))
            }
            Self::Map(map) => {
                let items: Vec<String> = map.iter().map(|(k, v)| format!("{k} = {v:?}")).collect();
                write!(f, "{{ {} }}", items.join(", "))
            }
        }
    }
}

/// One field's change: before and after, and whether Stripe can only make it with a new object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct FieldChange {
    /// The field, as billing.toml calls it (`unit_amount`, `metadata.plan`).
    pub field: String,
    /// What Stripe has now.
    pub before: FieldValue,
    /// What billing.toml declares.
    pub after: FieldValue,
    /// Stripe cannot change this field in place: the object is replaced.
    pub forces_replacement: bool,
}

impl FieldChange {
    /// A change of a field Stripe can update in place.
    pub(crate) fn new(field: impl Into<String>, before: FieldValue, after: FieldValue) -> Self {
        Self {
            field: field.into(),
            before,
            after,
            forces_replacement: false,
        }
    }

    /// `active: before → after`: an archive, a deactivation or their undoing.
    pub(crate) fn active(before: bool, after: bool) -> Self {
        Self::new("active", FieldValue::Bool(before), FieldValue::Bool(after))
    }

    /// A change of a field Stripe cannot update.
    pub(crate) fn replacing(
        field: impl Into<String>,
        before: FieldValue,
        after: FieldValue,
    ) -> Self {
        Self {
            forces_replacement: true,
            ..Self::new(field, before, after)
        }
    }
}

/// Adds a change to `out` when `before` and `after` differ.
pub(super) fn push_if_changed(
    out: &mut Vec<FieldChange>,
    field: &str,
    before: FieldValue,
    after: FieldValue,
) {
    if before != after {
        out.push(FieldChange::new(field, before, after));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_render_for_reviewers() {
        assert_eq!(
            FieldValue::Text("Pro \"team\"".into()).to_string(),
            r#""Pro \"team\"""#
        );
        assert_eq!(FieldValue::Money("$79.00".into()).to_string(), "$79.00");
        assert_eq!(
            FieldValue::List(vec!["a".into(), "b".into()]).to_string(),
            r#"["a", "b"]"#
        );
        assert_eq!(FieldValue::None.to_string(), "(none)");
        assert!(FieldValue::Text("x".repeat(61)).is_long_text());
        assert!(!FieldValue::Text("short".into()).is_long_text());
    }
}
