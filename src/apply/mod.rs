//! Apply: run a plan's steps against Stripe.

mod guard;
mod run;
mod secret;

pub(crate) use guard::{DestroyRefused, check_destroys};

pub(crate) use run::{ApplyReport, Outcome, Progress, apply};
pub(crate) use secret::SecretFiles;
