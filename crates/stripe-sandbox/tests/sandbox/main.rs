//! Sandbox tests over real HTTP.

mod account;
mod bounds;
mod chaos;
mod coupons;
mod entitlements;
mod events;
mod expand;
mod faults;
mod idempotency;
mod lists;
mod meters;
mod params;
mod portal;
mod prices;
mod products;
mod promotion_codes;
mod properties;
mod protocol;
mod scale;
mod state;
use stripe_sandbox::test_support as support;
mod tax;
mod webhook_endpoints;
mod webhooks;
