//! f16 MatMul, Gemm and Attention read and write f16 themselves (the
//! register tiles', the GEMV's, the flash kernel's and the split path's f16
//! forms) with f32 sums, so each
//! output is the f32 result on the same values rounded once to f16 (nearest
//! even): compared bit for bit with the f32 kernels on the f16 values
//! widened, rounded on the host. No f32 copy of an operand is made: the
//! backend's buffer pool holds no more than the f32 call's own scratch, where
//! the conversion path (a kernel with no f16 form) leaves its copies there too.
//!
//! Without an adapter each test says so and passes, unless
//! `HCAL_REQUIRE_ADAPTER=1` (CI), where a missing adapter fails.

use half::f16;
use hcal_core::{Attention, Backend, BackendExt, DType, Gemm, Instruments, Op, OpSignature, TensorDesc};
use hcal_wgpu::WgpuBackend;

mod common;
use common::open;

/// Deterministic f16 values in [-1, 1): `common::values` rounded to f16.
fn values(n: usize, seed: u64) -> Vec<f16> {
    common::values(n, seed).into_iter().map(f16::from_f32).collect()
}

/// `op` on inputs of `shapes` holding [`values`] (seeds 1, 2, ...) stored as
/// `dtype` (f16, or f32 widened from the same f16 values) on `backend`: the
/// output as f16 bits (an f32 output rounded to nearest even), and the
/// buffers the call left pooled (its scratch copies).
fn run(backend: &WgpuBackend, op: &Op, shapes: &[&[usize]], dtype: DType) -> (Vec<u16>, usize) {
    let descs: Vec<TensorDesc> = shapes.iter().map(|s| TensorDesc::new(s.to_vec(), dtype)).collect();
    let sig = OpSignature::new(op.clone(), descs.iter().cloned().map(Some).collect()).expect("valid shapes");
    let inputs: Vec<_> = descs.iter().map(|d| backend.alloc(d).unwrap()).collect();
    for (i, (t, d)) in inputs.iter().zip(&descs).enumerate() {
        let v = values(d.numel(), i as u64 + 1);
        let bytes: Vec<u8> = match dtype {
            DType::F16 => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
            _ => v.iter().flat_map(|x| x.to_f32().to_le_bytes()).collect(),
        };
        backend.write(t, &bytes).unwrap();
    }
    let y = backend.alloc(&sig.outputs()[0]).unwrap();
    let refs: Vec<_> = inputs.iter().collect();
    // Empty the pool: what the call leaves there is its scratch.
    backend.reset_memory_peak();
    backend.run(op, &refs, &[&y]).unwrap();
    let pooled = backend.memory_stats().1;
    let bytes = backend.read(&y).unwrap();
    let out = match dtype {
        DType::F16 => bytes.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect(),
        _ => bytes
            .chunks_exact(4)
            .map(|c| f16::from_f32(f32::from_le_bytes([c[0], c[1], c[2], c[3]])).to_bits())
            .collect(),
    };
    for t in inputs.into_iter().chain([y]) {
        backend.free(&t).unwrap();
    }
    (out, pooled)
}

/// The f16 form of `backend` gives the rounded f32 bits of `reference` on
/// `op`, without scratch copies: it leaves no more buffers pooled than the f32
/// call on `reference` (the kernels' own scratch, such as the split path's
/// partial results), where the conversion path (`converted`, a kernel without
/// an f16 form) leaves more.
fn check(backend: &WgpuBackend, reference: &WgpuBackend, converted: &WgpuBackend, op: &Op, shapes: &[&[usize]]) {
    let (want, scratch) = run(reference, op, shapes, DType::F32);
    let (got, pooled) = run(backend, op, shapes, DType::F16);
    let diff = got.iter().zip(&want).position(|(g, w)| g != w);
    assert!(diff.is_none(), "{op:?} {shapes:?}: first differing output at flat index {diff:?}");
    assert!(pooled <= scratch, "{op:?} {shapes:?}: the f16 call pooled {pooled} buffers, the f32 call {scratch}");
    let (_, copies) = run(converted, op, shapes, DType::F16);
    assert!(copies > pooled, "{op:?} {shapes:?}: the conversion path made no copies (the check would prove nothing)");
}

#[test]
fn f16_products_round_the_f32_result_once_without_copies() {
    let gemm_tb = Op::Gemm(Gemm { trans_b: true, ..Gemm::default() });
    let gemm_c = Op::Gemm(Gemm { alpha: 0.5, beta: 2.0, ..Gemm::default() });
    // A staged (N >= 256) and read from its buffer, a transposed B, a batch,
    // and Gemm's epilogue with C (storage-buffer tiles only).
    let shapes: [(&Op, &[&[usize]]); 4] = [
        (&Op::MatMul, &[&[37, 29], &[29, 260]]),
        (&Op::MatMul, &[&[2, 70, 64], &[2, 64, 68]]),
        (&gemm_tb, &[&[150, 45], &[300, 45]]),
        (&gemm_c, &[&[33, 20], &[20, 36], &[33, 36]]),
    ];
    let Some(reference) = open("wgpu:baseline") else { return };
    // One texture and one storage-buffer tile (the smallest, quickest to
    // compile): the tile size changes no f16 line; the conformance suite runs
    // the f16 cases on others.
    for name in ["texture-8x8-wg64x1", "tiled-4x8-wg16x16"] {
        assert!(hcal_wgpu::matmul_kernel_names().iter().any(|n| n == name), "{name} is a matmul kernel");
        let Some(backend) = open(&format!("wgpu:mm={name}")) else { return };
        for (op, shapes) in shapes {
            check(&backend, &reference, &reference, op, shapes);
        }
    }
}

#[test]
fn f16_flash_attention_rounds_the_f32_result_once_without_copies() {
    let Some(flash) = open("wgpu:flash") else { return };
    if !flash.info().features.iter().any(|f| f == "subgroups") {
        eprintln!("skipped: no subgroups, so no flash kernel with an f16 form");
        return;
    }
    let Some(converted) = open("wgpu:composed") else { return };
    let causal = Op::Attention(Attention { is_causal: true, ..Attention::default() });
    // Q [B, Hq, S, D], K, V [B, Hkv, T, D]: grouped heads, causal, a ragged D.
    check(&flash, &flash, &converted, &causal, &[&[1, 4, 40, 64], &[1, 2, 40, 64], &[1, 2, 40, 64]]);
    check(
        &flash,
        &flash,
        &converted,
        &Op::Attention(Attention::default()),
        &[&[1, 2, 24, 20], &[1, 2, 70, 20], &[1, 2, 70, 64]],
    );
}

/// The row flash kernel's texture form (adapters without subgroups: GL on
/// llvmpipe) reads f16 Q through its staging and its own loads and writes f16
/// Y: the f32 kernel's bits rounded once, without copies.
#[test]
fn f16_row_flash_attention_rounds_the_f32_result_once_without_copies() {
    let Some(gl) = hcal_wgpu::adapter_names().into_iter().find(|n| n.starts_with("wgpu:gl")) else {
        if std::env::var("HCAL_REQUIRE_ADAPTER").is_ok_and(|v| v == "1") {
            panic!("HCAL_REQUIRE_ADAPTER=1: no GL adapter");
        }
        eprintln!("skipped: no GL adapter (the row kernel runs where subgroups are missing)");
        return;
    };
    let flash = WgpuBackend::open(&gl).expect("a listed adapter opens");
    let converted = WgpuBackend::open(&format!("{gl}:composed")).expect("a listed adapter opens");
    let causal = Op::Attention(Attention { is_causal: true, ..Attention::default() });
    // 48 query rows: the row kernel, chosen unpinned from 32 rows on CPU
    // drivers in its texture form (only that form reads f16, so a call on
    // another would convert, and pool the copies).
    // Grouped heads, causal (one shape: each row-kernel variant takes Mesa
    // 8-20 s to compile, and the f16 lines are the same in every variant).
    let shapes: [(&Op, &[&[usize]]); 1] = [(&causal, &[&[1, 4, 48, 64], &[1, 2, 48, 64], &[1, 2, 48, 64]])];
    for (op, shapes) in shapes {
        let descs: Vec<TensorDesc> = shapes.iter().map(|s| TensorDesc::new(s.to_vec(), DType::F16)).collect();
        let sig = OpSignature::new(op.clone(), descs.into_iter().map(Some).collect()).expect("valid shapes");
        let kernel = flash.kernel_variant(&sig).unwrap_or_default();
        assert!(kernel.contains("attention_flash_rows"), "{gl} runs {kernel}");
        check(&flash, &flash, &converted, op, shapes);
    }
}

/// The split (flash-decoding) path's f16 form: few query rows over many keys,
/// each (row, chunk of keys) and the merge computed as in f32, outputs
/// rounded once. Grouped heads over 300 keys (several chunks), causal rows
/// with a past, and D != Dv.
#[test]
fn f16_split_attention_rounds_the_f32_result_once_without_copies() {
    // Every adapter: the split kernels need no subgroups, so GL runs them too.
    if open("wgpu").is_none() {
        return;
    }
    let causal = Op::Attention(Attention { is_causal: true, ..Attention::default() });
    let plain = Op::Attention(Attention::default());
    for adapter in hcal_wgpu::adapter_names() {
        let split = WgpuBackend::open(&format!("{adapter}:split")).expect("a listed adapter opens");
        let converted = WgpuBackend::open(&format!("{adapter}:composed")).expect("a listed adapter opens");
        check(&split, &split, &converted, &plain, &[&[1, 4, 1, 64], &[1, 2, 300, 64], &[1, 2, 300, 64]]);
        check(&split, &split, &converted, &causal, &[&[2, 2, 3, 32], &[2, 2, 50, 32], &[2, 2, 50, 32]]);
        check(&split, &split, &converted, &plain, &[&[1, 3, 2, 20], &[1, 3, 70, 20], &[1, 3, 70, 64]]);
    }
}

/// M = 1 products (decode) on f16 operands run on the f16 GEMV
/// (`matmul_gemv_f16.wgsl`): the f32 GEMV's sums, each rounded once, without
/// the f32 copies the conversion path makes (here: the pinned simple kernel,
/// which has no f16 form). A partial last workgroup, a batch, and Gemm's
/// epilogue with C.
#[test]
fn f16_gemv_rounds_the_f32_gemv_once_without_copies() {
    let gemm_c = Op::Gemm(Gemm { alpha: 0.5, beta: 2.0, ..Gemm::default() });
    let shapes: [(&Op, &[&[usize]]); 3] = [
        (&Op::MatMul, &[&[1, 300], &[300, 258]]),
        (&Op::MatMul, &[&[3, 1, 64], &[3, 64, 130]]),
        (&gemm_c, &[&[1, 40], &[40, 200], &[1, 200]]),
    ];
    let (Some(backend), Some(converted)) = (open("wgpu"), open("wgpu:baseline")) else { return };
    for (op, shapes) in shapes {
        check(&backend, &backend, &converted, op, shapes);
    }
}
