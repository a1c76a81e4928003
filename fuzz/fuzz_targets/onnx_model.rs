//! `cargo +nightly fuzz run onnx_model`: see `hcal_fuzz::onnx_model`.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| hcal_fuzz::onnx_model(data));
