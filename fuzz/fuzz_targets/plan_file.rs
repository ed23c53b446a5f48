//! Bytes as a saved plan, through what `billing apply PLAN` does with them before applying.
#![no_main]

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| billing::fuzzing::plan_file(bytes));
