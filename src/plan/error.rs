//! Why no plan can be made: objects in the way or changes Stripe would refuse, or a dependency
//! cycle (a bug).

use std::fmt;

/// A live object that prevents the catalog from being applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Conflict {
    /// The catalog address that cannot be applied.
    pub address: String,
    /// What is in the way.
    pub message: String,
    /// What the user can do.
    pub hint: String,
}

/// Why planning failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum PlanError {
    /// Live objects in the way, or changes Stripe would refuse.
    #[error("{}", render_conflicts(.0, &[]))]
    Conflicts(Vec<Conflict>),
    /// The steps depend on each other in a circle: a bug in billing.
    #[error("internal error: the plan's steps form a cycle: {0}")]
    Cycle(String),
}

/// The problems, each with its hint; `places[i]` says where billing.toml declares the `i`th
/// problem's entry (`billing.toml:7:1`), when it is known.
pub(crate) fn render_conflicts(conflicts: &[Conflict], places: &[Option<String>]) -> String {
    let mut out = format!(
        "cannot plan: {} {}",
        conflicts.len(),
        if conflicts.len() == 1 {
            "problem"
        } else {
            "problems"
        }
    );
    for (i, c) in conflicts.iter().enumerate() {
        let at = places
            .get(i)
            .and_then(Option::as_ref)
            .map(|p| format!("{p}: "))
            .unwrap_or_default();
        out.push_str(&format!(
            "\n  {at}{}: {}\n    hint: {}",
            c.address, c.message, c.hint
        ));
    }
    out
}

impl fmt::Display for Conflict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.address, self.message)
    }
}
