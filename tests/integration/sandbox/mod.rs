//! Sandbox tests over real HTTP.

mod account;
mod events;
mod expand;
mod faults;
mod idempotency;
mod lists;
mod params;
mod prices;
mod products;
mod properties;
mod protocol;
mod scale;
mod state;
pub mod support;
