//! `[doctor]`: what `billing doctor` should know beyond what the catalog's prices say. Today
//! one field, `sells`: the event presets the application needs besides those its prices imply
//! (`["invoicing", "connect"]`).

use serde::Serialize;

use super::diagnostic::Sink;
use super::reader::{Sp, TableReader};
use super::shape::{Table, Ty, field};
use super::validate::fields;

/// `[doctor]` as written.
#[derive(Debug, Default)]
pub(crate) struct RawDoctor {
    pub sells: Option<Sp<Vec<Sp<String>>>>,
}

/// `[doctor]`.
pub(super) static DOCTOR: Table = Table::of(&[field(
    "sells",
    Ty::Presets,
    "Event presets the application needs besides those its prices imply, such as [\"invoicing\", \"connect\"].",
)]);

/// Reads `[doctor]`.
pub(crate) fn read_doctor(top: &TableReader<'_, '_>) -> RawDoctor {
    let Some(t) = top.table("doctor") else {
        return RawDoctor::default();
    };
    let raw = RawDoctor {
        sells: t.strings("sells"),
    };
    t.finish();
    raw
}

/// `[doctor]`, validated.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub(crate) struct Doctor {
    /// Preset names (`stripe_facts::EVENT_PRESETS`), sorted, each once.
    pub sells: Vec<String>,
}

/// Validates `[doctor]`: each item of `sells` names an event preset.
pub(crate) fn doctor(sink: &Sink, raw: RawDoctor) -> Doctor {
    let names: Vec<&'static str> = stripe_facts::EVENT_PRESETS.iter().map(|p| p.name).collect();
    let mut sells: Vec<String> = raw
        .sells
        .map(Sp::into_inner)
        .unwrap_or_default()
        .iter()
        .filter_map(|item| {
            fields::one_of(sink, "sells", item, &names, |text| {
                names.contains(&text).then(|| text.to_owned())
            })
        })
        .collect();
    sells.sort();
    sells.dedup();
    Doctor { sells }
}
