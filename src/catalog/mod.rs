//! The catalog: billing.toml parsed, with spans, and validated.
