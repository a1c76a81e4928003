//! The quantized GEMV's uniform form (`matmul/quant.rs`, `uniform_extent`):
//! on SIMD CPU drivers with 8-wide subgroups (lavapipe) it binds A's one row
//! and RMSNormGemm's Scale as uniform buffers, which those drivers load
//! without a loop over the lanes. The values read and the arithmetic are the
//! storage form's, so the unpinned backend and `:storage-a` must agree bit
//! for bit: plain and normalizing GEMVs of every quantized dtype, odd N,
//! Gemm's alpha, beta and C, K from one block to 1536, and a K whose row
//! (16,416 floats) exceeds lavapipe's 64 KiB uniform binding, which takes the
//! storage form. Each form is held to the reference by conformance.
//!
//! Without an adapter each test says so and passes, unless
//! `HCAL_REQUIRE_ADAPTER=1` (CI), where a missing adapter fails.

use hcal_core::{DType, Gemm, Op, RmsNormGemm, TensorDesc, quant};
use hcal_wgpu::WgpuBackend;

mod common;
use common::{open, run_bits, values};

/// `op` on A `[1, k]`, B `[n, k]` of `dtype` (quantized from [`values`]),
/// and for the normalizing op a Scale `[k]` (for Gemm with beta, a C
/// `[1, n]`) on `backend`: the output's f32 bits and the kernel it reports.
fn gemv(backend: &WgpuBackend, op: &Op, dtype: DType, [n, k]: [usize; 2]) -> (Vec<u32>, String) {
    let weights = quant::quantize(dtype, &values(n * k, 7)).expect("whole blocks");
    let mut inputs: Vec<(TensorDesc, Vec<u8>)> = vec![
        (TensorDesc::new([1, k], DType::F32), bytemuck::cast_slice(&values(k, 1)).to_vec()),
        (TensorDesc::new([n, k], dtype), weights),
    ];
    match op {
        Op::RmsNormGemm(_) => {
            let scale = (TensorDesc::new([k], DType::F32), bytemuck::cast_slice(&values(k, 3)).to_vec());
            inputs.insert(1, scale);
        }
        Op::Gemm(g) if g.beta != 0.0 => {
            inputs.push((TensorDesc::new([1, n], DType::F32), bytemuck::cast_slice(&values(n, 5)).to_vec()));
        }
        _ => {}
    }
    run_bits(backend, op, &inputs)
}

#[test]
fn uniform_and_storage_rows_give_the_same_bits() {
    if open("wgpu").is_none() {
        return;
    }
    let plain = Op::Gemm(Gemm { trans_b: true, ..Gemm::default() });
    let epilogue = Op::Gemm(Gemm { alpha: 0.5, beta: 2.0, trans_a: false, trans_b: true });
    let normalizing = Op::RmsNormGemm(RmsNormGemm { epsilon: 1e-5, alpha: 1.0, beta: 0.0, trans_b: true });
    let shapes: [[usize; 2]; 4] = [[37, 32], [260, 576], [97, 1536], [12, 16_416]];
    let mut uniform = Vec::new();
    for adapter in hcal_wgpu::adapter_names() {
        let unpinned = WgpuBackend::open(&adapter).expect("a listed adapter opens");
        let storage = WgpuBackend::open(&format!("{adapter}:storage-a")).expect("a listed adapter opens");
        for dtype in [DType::Q4_0, DType::Q4_1, DType::Q8_0] {
            for op in [&plain, &epilogue, &normalizing] {
                for nk in shapes {
                    let (got, kernel) = gemv(&unpinned, op, dtype, nk);
                    let (want, reference) = gemv(&storage, op, dtype, nk);
                    assert!(!reference.contains("-uniform"), "{adapter}:storage-a reported {reference}");
                    if nk[1] * 4 > 65_536 {
                        assert!(
                            !kernel.contains("-uniform"),
                            "{adapter}: a {}-float row fits no uniform binding",
                            nk[1]
                        );
                    }
                    let diff = got.iter().zip(&want).position(|(g, w)| g != w);
                    assert!(
                        diff.is_none(),
                        "{adapter} {op} {dtype} {nk:?}: {kernel} and {reference} differ at {diff:?}"
                    );
                    if kernel.contains("-uniform") {
                        uniform.push(format!("{adapter} {dtype} {nk:?}"));
                    }
                }
            }
        }
    }
    eprintln!("uniform-form GEMVs compared with the storage form: {} ({uniform:?})", uniform.len());
}
