//! Apply: run a plan's steps against Stripe.

mod run;
mod secret;

pub(crate) use crate::document::{DestroyRefused, check_destroys};

pub(crate) use run::{ApplyReport, ChangeOutcome, Outcome, Progress, apply};
pub(crate) use secret::SecretFiles;
