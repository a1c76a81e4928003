//! `cargo +nightly fuzz run op_validation`: see `hcal_fuzz::op_validation`.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| hcal_fuzz::op_validation(data));
