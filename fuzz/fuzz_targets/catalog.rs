//! Bytes as billing.toml, through what `billing validate` does with them.
#![no_main]

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| billing::fuzzing::catalog(bytes));
