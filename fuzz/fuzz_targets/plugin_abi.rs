//! `cargo +nightly fuzz run plugin_abi`: see `hcal_fuzz::plugin_abi`.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| hcal_fuzz::plugin_abi(data));
