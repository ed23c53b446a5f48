//! Renderers: plans and apply reports written to any `io::Write`, for people and machines.

mod markdown;
mod paint;
mod text;

pub use markdown::render_markdown;
pub use paint::Paint;
pub use text::{render_apply_report, render_plan};

use serde::Serialize;

use crate::stripe::KeyMode;

/// Where a plan applies: shown at its top so a reviewer knows which account it is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Target {
    /// The environment's name (`sandbox`, `test`, `live`).
    pub environment: String,
    /// The Stripe account id.
    pub account: String,
    /// Test or live data.
    pub mode: KeyMode,
}

/// `3 products and 1 price`, leaving out zero counts.
pub(crate) fn counts(u: &crate::plan::Untouched) -> String {
    let parts: Vec<String> = u
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(kind, n)| kind.count(n))
        .collect();
    match parts.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
        None => String::new(),
    }
}

/// `one` when `n` is 1, `many` otherwise.
pub(crate) fn plural<'a>(n: usize, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 { one } else { many }
}
