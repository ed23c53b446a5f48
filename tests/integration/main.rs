//! Integration tests: one binary that runs the real `billing` executable and the real sandbox.

mod engine;
mod examples;
mod hostile;
mod import;
mod listing;
mod sandbox;
mod stripe_test_mode;
mod support;
mod validate;
