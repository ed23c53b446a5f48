//! The one seam to Stripe: async-stripe's request types sent through our own transport.

mod client;
mod error;
mod key;
pub mod pace;

pub use client::{ClientSettings, Exchange, Observer, STRIPE_API_BASE, StripeHttp, api_version};
pub use error::{ApiError, StripeError};
pub use key::SecretKey;
