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
