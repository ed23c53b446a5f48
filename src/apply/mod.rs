//! Apply: run a plan's steps against Stripe.

mod run;
pub mod wire;

pub use run::{ApplyReport, Outcome, Progress, Quiet, apply, idempotency_key};
