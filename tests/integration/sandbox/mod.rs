//! Sandbox tests over real HTTP.
