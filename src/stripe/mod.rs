//! The one seam to Stripe: async-stripe's request types sent through our own transport.

mod client;
mod error;
mod key;
pub(crate) mod pace;

pub use client::{ClientSettings, StripeHttp, api_version};
pub(crate) use client::{Exchange, Observer};
pub(crate) use error::StripeError;
pub use key::SecretKey;
