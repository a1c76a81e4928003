//! `cargo +nightly fuzz run onnx_tensor`: see `hcal_fuzz::onnx_tensor`.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| hcal_fuzz::onnx_tensor(data));
