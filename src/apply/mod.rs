//! Apply: run a plan's steps against Stripe.

mod guard;
mod run;

pub use guard::{DestroyRefused, check_destroys};

pub use run::{ApplyReport, Outcome, Progress, Quiet, apply};
