//! billing keeps a Stripe catalog in code.
//!
//! The crate is a pipeline of stages, each with its own type:
//! `billing.toml` → [`catalog::RawCatalog`] (values with their source spans) →
//! [`catalog::Catalog`] (validated, normalised, no network) → live Stripe state → plan → apply.
//! The tool's tests and its default environment run against the `stripe-sandbox` crate, a
//! local, stateful, Stripe-compatible HTTP server ([`environment`] embeds it, `billing sandbox`
//! serves it). The `billing` binary is a thin layer over [`cli`].

pub mod apply;
pub mod catalog;
pub mod cli;
pub mod digest;
pub mod document;
pub mod environment;
pub mod fuzzing;
pub mod import;
pub mod live;
pub mod output;
pub mod plan;
pub mod render;
pub mod resource;
pub mod stripe;
pub mod timestamp;
