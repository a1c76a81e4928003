//! Blocked DequantizeLinear (opset 21, blocks of 32 along the last axis) as
//! hcal's Cast from GGML block dtypes: uint4 with zero points (Q4_1), int4
//! (Q4_0, f16 output) and int8 (Q8_0), each a case folder whose expected
//! output onnx 1.23.2's reference implementation computed
//! (tests/data/make_dequantize_linear_blocked.py). Every backend must match
//! it on each case; on wgpu adapters missing ones are a skip, unless
//! `HCAL_REQUIRE_ADAPTER=1`.

use std::path::Path;

use hcal_conformance::Verdict;
use hcal_onnx::judge_case;
use hcal_onnx::model::load_case;

const CASES: [&str; 3] =
    ["dequantize_linear_uint4_block32", "dequantize_linear_int4_block32", "dequantize_linear_int8_block32"];

fn backends() -> Vec<String> {
    let mut names: Vec<String> =
        hcal::available_backends().into_iter().filter(|n| n == "cpu" || n.starts_with("wgpu:")).collect();
    let require = std::env::var("HCAL_REQUIRE_ADAPTER").is_ok_and(|v| v == "1");
    assert!(!require || names.iter().any(|n| n.starts_with("wgpu:")), "HCAL_REQUIRE_ADAPTER=1 and no wgpu adapter");
    names.sort();
    names
}

#[test]
fn blocked_dequantize_linear_matches_onnx_on_every_backend() {
    for name in backends() {
        let backend = hcal::open(&name).unwrap();
        for case in CASES {
            let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(case);
            let record = judge_case(&*backend, &load_case(&dir).unwrap(), &[]);
            assert_eq!(record.result.verdict, Verdict::Pass, "{name} {case}: {}", record.result.detail);
            assert!(record.result.signature.starts_with("Cast("), "{name} {case}: {}", record.result.signature);
            // Exactly ONNX's values: (x - zero) * scale is exact in the output dtype.
            let onnx = record.onnx_default.expect("compared with ONNX's output");
            assert_eq!(onnx.max_abs_error, 0.0, "{name} {case}: {}", record.result.signature);
        }
    }
}
