//! Integration tests: one binary that runs the real `billing` executable and the real sandbox
//! (the `stripe-sandbox` crate, whose own suite is in crates/stripe-sandbox/tests).

mod doctor;
mod echo;
mod engine;
mod examples;
mod hostile;
mod import;
mod listing;
mod sandbox_cli;
mod stripe_test_mode;
mod support;
mod tooling;
mod validate;
mod walkthrough;
mod writes;
