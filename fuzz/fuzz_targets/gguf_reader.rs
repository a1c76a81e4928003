//! `cargo +nightly fuzz run gguf_reader`: see `hcal_fuzz::gguf_reader`.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| hcal_fuzz::gguf_reader(data));
