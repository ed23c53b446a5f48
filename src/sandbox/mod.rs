//! The sandbox: a local, stateful, Stripe-compatible HTTP server.
