//! A plan step as the HTTP requests it sends, built with async-stripe's request types.
//!
//! The generated types cannot express a few of Stripe's "clear this" forms (`images=`,
//! `marketing_features=`, `currency_options=`), which are added as raw form pairs. Bodies are
//! kept as sorted pairs: a canonical form for display and for idempotency keys.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use stripe_client_core::{RequestBuilder, StripeMethod};

use crate::catalog::MinorAmount;

/// One HTTP request, its form body as sorted pairs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct WireRequest {
    /// `POST` or `DELETE`.
    pub method: String,
    /// The path after `/v1`, e.g. `/prices/price_123`.
    pub path: String,
    /// Form pairs, sorted by key.
    pub body: Vec<(String, String)>,
}

impl WireRequest {
    /// The request a builder makes, with `extra` form pairs the builder cannot express.
    pub(crate) fn from_builder(builder: RequestBuilder, extra: Vec<(String, String)>) -> Self {
        let method = match builder.method {
            StripeMethod::Get => "GET",
            StripeMethod::Post => "POST",
            StripeMethod::Delete => "DELETE",
        };
        let mut body: Vec<(String, String)> = builder
            .body
            .as_deref()
            .map(|b| form_urlencoded::parse(b.as_bytes()).into_owned().collect())
            .unwrap_or_default();
        body.extend(extra);
        body.retain(|(k, _)| !k.is_empty());
        body.sort();
        body.dedup();
        Self {
            method: method.to_owned(),
            path: builder.path,
            body,
        }
    }

    /// The body, form-encoded.
    pub(crate) fn encoded_body(&self) -> String {
        form_urlencoded::Serializer::new(String::new())
            .extend_pairs(self.body.iter())
            .finish()
    }

    /// As a request builder for the transport.
    pub(crate) fn builder(&self) -> RequestBuilder {
        let mut builder = RequestBuilder::new(StripeMethod::Post, self.path.clone());
        builder.method = match self.method.as_str() {
            "GET" => StripeMethod::Get,
            "DELETE" => StripeMethod::Delete,
            _ => StripeMethod::Post,
        };
        builder.body = Some(self.encoded_body());
        builder
    }
}

/// A catalog currency as async-stripe's.
pub(crate) fn currency(c: crate::catalog::Currency) -> stripe_types::Currency {
    let Ok(c) = c.code().parse();
    c
}

/// A value of one of async-stripe's string enums (they take any text).
pub(crate) fn parse<T: std::str::FromStr<Err = std::convert::Infallible>>(text: &str) -> T {
    let Ok(value) = text.parse();
    value
}

/// Sets the integer form when the amount is whole, the decimal form otherwise.
pub(crate) fn split(amount: Option<MinorAmount>) -> (Option<i64>, Option<String>) {
    match amount {
        None => (None, None),
        Some(a) => match a.as_integer() {
            Some(i) => (Some(i), None),
            None => (None, Some(a.decimal_string())),
        },
    }
}

fn metadata_map<'a>(
    pairs: impl Iterator<Item = (&'a String, Option<&'a String>)>,
) -> HashMap<String, String> {
    pairs
        .map(|(k, v)| (k.clone(), v.cloned().unwrap_or_default()))
        .collect()
}

/// Metadata to create an object with.
pub(crate) fn metadata_set(
    metadata: &std::collections::BTreeMap<String, String>,
) -> HashMap<String, String> {
    metadata_map(metadata.iter().map(|(k, v)| (k, Some(v))))
}

/// Metadata keys to set, or to remove (sent empty).
pub(crate) fn metadata_update(
    metadata: &std::collections::BTreeMap<String, Option<String>>,
) -> HashMap<String, String> {
    metadata_map(metadata.iter().map(|(k, v)| (k, v.as_ref())))
}

/// A whole amount in minor units (coupons and promotion codes take no fractions).
pub(crate) fn minor(amount: MinorAmount) -> i64 {
    amount.as_integer().unwrap_or_default()
}
