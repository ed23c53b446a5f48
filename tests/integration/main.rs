//! Integration tests: one binary that runs the real `billing` executable and the real sandbox.

mod sandbox;
mod support;
mod validate;
