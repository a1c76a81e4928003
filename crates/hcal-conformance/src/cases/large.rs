//! Operands larger than one GPU storage binding (128 MiB on lavapipe, the
//! WebGPU default): devices must split such work into pieces, so these
//! cases check that splitting computes what the unsplit op does.
//!
//! Each case's `large` tensor exceeds 128 MiB (134,217,728 bytes) as f32;
//! the work stays modest for the CPU reference (a GEMV). Few, and left out
//! of `--quick`: a 34M-element operand costs seconds of generation and
//! reference per run, on every backend and pinned path that runs the table.

use hcal_core::{BinaryOp, DType, Op, ReduceOp};

use super::ranges::unit;
use crate::case::{Case, Input};

/// Elements just over 128 MiB of f32 (33,554,432 elements), so the tensor
/// needs two bindings.
const OVER_ONE_BINDING: usize = 34_000_000;

pub(super) fn cases() -> Vec<Case> {
    let f32s = |shape: &[usize]| Input::new(shape, DType::F32, unit());
    let mut cases = Vec::new();
    // Products, named M x N x K like the other MatMul cases; each runs on
    // every pinned matmul kernel of every adapter, so there are two. Blocks
    // of rows (a large A or Y), of columns, and the other families' pieces
    // are checked bit for bit on small tensors under a lowered binding limit
    // by hcal-wgpu's `tests/split.rs`.
    for (m, n, k) in [
        // A decode GEMV against a 134 MB weight: K split over the weight's
        // windows (partial sums on the GEMV kernel, chained blocks of K on
        // the others).
        (1, 4096, 8200),
        // Two rows against a 135 MB weight: chained blocks of K on the
        // buffer kernels, the weight staged in pieces on the texture tiles.
        (2, 33000, 1024),
    ] {
        let name = format!("MatMul/f32/large-B-{m}x{n}x{k}");
        cases.push(Case::new(name, Op::MatMul, vec![f32s(&[m, k]), f32s(&[k, n])]).slow());
    }
    // Elementwise: an Add of two f16 tensors. Their f32 copies (136 MB
    // each) are what the kernels bind, so one case runs the conversions in
    // ranges of elements (f16 to f32 in, f32 to f16 out, as Cast does), and
    // the Add in ranges of outputs with both operands windowed. f16 also
    // keeps it off the f32-only example backend and test plugins.
    let n = OVER_ONE_BINDING;
    let f16s = || Input::new([n], DType::F16, unit());
    cases.push(Case::new(format!("Add/f16/large-[{n}]"), Op::Binary(BinaryOp::Add), vec![f16s(), f16s()]).slow());
    // A reduction over the outer axis: each output's 8,500 inputs lie 16 KB
    // apart, across more than one binding, so no range of outputs reads one
    // window (partial results, in passes over chunks of rows).
    let reduce = Op::Reduce { op: ReduceOp::Sum, axes: Some(vec![0]), keepdims: false };
    cases.push(Case::new("ReduceSum/f32/large-[8500,4000]-axis0", reduce, vec![f32s(&[8500, 4000])]).slow());
    cases
}
