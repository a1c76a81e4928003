//! The quantized kernels read GGML blocks exactly as `hcal_core::quant`
//! defines them: hand-built blocks whose every value is known from the
//! definition (not from any code under test), read through each kernel of
//! `matmul_quant.wgsl` (the GEMV, the row tiles, the general kernel, Cast).
//!
//! The blocks are chosen so that a wrong nibble order (halves swapped, or
//! neighbouring elements in one byte as GGML's older formats had), a lost
//! sign of the scale, a min added twice, or a block read 2 bytes off (Q4_0
//! and Q8_0 blocks start on odd halfwords every other block) changes the
//! values, and the products are exact in f32 (small integers times powers
//! of two), so the comparison is exact.
//!
//! Without an adapter each test says so and passes, unless
//! `HCAL_REQUIRE_ADAPTER=1` (CI), where a missing adapter fails.

use half::f16;
use hcal_core::{Backend, BackendExt, DType, Gemm, Op, TensorDesc};

mod common;

/// Block `i` of a test row: 4-bit codes `q[j]` for element j are
/// `(j + i) % 16` in the low nibbles (elements 0..16) and `15 - (j + 3 i) % 16`
/// in the high nibbles (elements 16..32), so no element equals its
/// neighbour or its partner in the other half.
fn codes(i: usize) -> [u8; 32] {
    let mut q = [0u8; 32];
    for j in 0..16 {
        q[j] = ((j + i) % 16) as u8;
        q[j + 16] = (15 - (j + 3 * i) % 16) as u8;
    }
    q
}

/// The packed bytes and the defined values of `blocks` blocks of `dtype`,
/// with scales `d = (-1)^i 2^-(i % 3)` (negative every other block) and
/// Q4_1 mins `m = i - 2.5`; Q8_0's codes are the 4-bit codes spread to
/// `3 q - 22` (signed, -22..23).
fn blocks(dtype: DType, count: usize) -> (Vec<u8>, Vec<f32>) {
    let (mut bytes, mut values) = (Vec::new(), Vec::new());
    for i in 0..count {
        let q = codes(i);
        let d = if i % 2 == 0 { 1.0 } else { -1.0 } / f32::from(1u8 << (i % 3));
        let m = i as f32 - 2.5;
        bytes.extend(f16::from_f32(d).to_le_bytes());
        match dtype {
            DType::Q4_0 | DType::Q4_1 => {
                if dtype == DType::Q4_1 {
                    bytes.extend(f16::from_f32(m).to_le_bytes());
                }
                bytes.extend((0..16).map(|j| q[j] | (q[j + 16] << 4)));
                let offset = if dtype == DType::Q4_0 { -8.0 * d } else { m };
                values.extend(q.iter().map(|&q| f32::from(q) * d + offset));
            }
            DType::Q8_0 => {
                let signed: Vec<i8> = q.iter().map(|&q| 3 * q as i8 - 22).collect();
                bytes.extend(signed.iter().map(|&s| s as u8));
                values.extend(signed.iter().map(|&s| f32::from(s) * d));
            }
            other => unreachable!("{other} is not quantized"),
        }
    }
    (bytes, values)
}

fn f32s(bytes: &[u8]) -> Vec<f32> {
    bytes.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect()
}

/// `Y = A B^T` (Gemm, transB) with B `[n, k]` of `dtype` holding `bytes`.
fn gemm_t(backend: &dyn Backend, a: &[f32], [m, n, k]: [usize; 3], dtype: DType, bytes: &[u8]) -> Vec<f32> {
    let ta = backend.alloc(&TensorDesc::new([m, k], DType::F32)).unwrap();
    let tb = backend.alloc(&TensorDesc::new([n, k], dtype)).unwrap();
    let ty = backend.alloc(&TensorDesc::new([m, n], DType::F32)).unwrap();
    backend.write(&ta, bytemuck::cast_slice(a)).unwrap();
    backend.write(&tb, bytes).unwrap();
    let op = Op::Gemm(Gemm { trans_b: true, ..Gemm::default() });
    backend.run(&op, &[&ta, &tb], &[&ty]).unwrap();
    f32s(&backend.read(&ty).unwrap())
}

#[test]
fn every_kernel_reads_hand_built_blocks_as_defined() {
    // On CPU drivers host-written weights live in textures (`packed.rs`);
    // `:buffers` keeps them in buffers: both forms of every kernel.
    for name in common::adapters_with_buffer_pins() {
        let Some(gpu) = common::open(&name) else { return };
        reads_blocks_as_defined(&gpu);
        eprintln!("{name}: every kernel read the blocks as defined");
    }
}

fn reads_blocks_as_defined(gpu: &dyn Backend) {
    let cpu = hcal_cpu_reference();
    // B: 3 rows of 3 blocks (K = 96): blocks start at every parity of
    // halfword, and each row's first block at another.
    let (n, k) = (3, 96);
    for dtype in DType::QUANTIZED {
        let (bytes, values) = blocks(dtype, n * k / 32);
        // A = the identity (M = K): Y[i][j] = B[j][i], every value of B,
        // through the row tiles. A one-hot row through the GEMV.
        let identity: Vec<f32> = (0..k * k).map(|i| f32::from(u8::from(i / k == i % k))).collect();
        let y = gemm_t(gpu, &identity, [k, n, k], dtype, &bytes);
        for (i, row) in y.chunks(n).enumerate() {
            for (j, &v) in row.iter().enumerate() {
                assert_eq!(v, values[j * k + i], "{dtype}: B[{j}][{i}] through the row tiles");
            }
        }
        assert_eq!(y, gemm_t(&*cpu, &identity, [k, n, k], dtype, &bytes), "{dtype}: the cpu reference");
        for i in [0, 15, 16, 31, 33, 64 + 17] {
            let one_hot: Vec<f32> = (0..k).map(|p| f32::from(u8::from(p == i))).collect();
            let y = gemm_t(gpu, &one_hot, [1, n, k], dtype, &bytes);
            let want: Vec<f32> = (0..n).map(|j| values[j * k + i]).collect();
            assert_eq!(y, want, "{dtype}: element {i} of each row through the GEMV");
        }
        // Wide GEMVs, where one invocation takes 2 or 4 columns, with subgroups or without
        // (`gemv_columns`), each with a ragged last workgroup.
        // Rows of 2 blocks cycle through 7 distinct ones (the test blocks' Q4_1
        // mins grow with the block index and would leave f16's exact range),
        // so neighbouring columns, and columns a lane or a workgroup apart, differ.
        let (seven, seven_values) = blocks(dtype, 14);
        let row_bytes = seven.len() / 7;
        for wide in [1031, 2051] {
            let bytes: Vec<u8> = (0..wide).flat_map(|j| seven[j % 7 * row_bytes..][..row_bytes].to_vec()).collect();
            for i in [0, 17, 63] {
                let one_hot: Vec<f32> = (0..64).map(|p| f32::from(u8::from(p == i))).collect();
                let y = gemm_t(gpu, &one_hot, [1, wide, 64], dtype, &bytes);
                let want: Vec<f32> = (0..wide).map(|j| seven_values[j % 7 * 64 + i]).collect();
                assert_eq!(y, want, "{dtype}: element {i} of each of {wide} rows through the wide GEMV");
            }
        }
        // The one-column Q4_1 GEMV with subgroups reads two blocks per step
        // where every row's blocks pair up (an even count from an even first
        // block; the 3-block rows above never do): 5 rows of 4 blocks, every
        // element of every row through a one-hot A, which a swapped or
        // misaligned word of either block of a pair changes.
        let (paired, paired_values) = blocks(dtype, 5 * 4);
        for i in 0..128 {
            let one_hot: Vec<f32> = (0..128).map(|p| f32::from(u8::from(p == i))).collect();
            let y = gemm_t(gpu, &one_hot, [1, 5, 128], dtype, &paired);
            let want: Vec<f32> = (0..5).map(|j| paired_values[j * 128 + i]).collect();
            assert_eq!(y, want, "{dtype}: element {i} of each row of 4 blocks through the GEMV");
        }
        // The same rows through the row tiles, which read such a weight's
        // blocks one at a time (on CPU drivers Q4_1 weights with an even
        // block count are stored pair by pair: block_layout.rs).
        let identity: Vec<f32> = (0..128 * 128).map(|i| f32::from(u8::from(i / 128 == i % 128))).collect();
        let y = gemm_t(gpu, &identity, [128, 5, 128], dtype, &paired);
        for (i, row) in y.chunks(5).enumerate() {
            for (j, &v) in row.iter().enumerate() {
                assert_eq!(v, paired_values[j * 128 + i], "{dtype}: B[{j}][{i}] of 4-block rows through the row tiles");
            }
        }
        // Views of another shape (the 5 x 4-block rows as 10 x 2-block rows,
        // or as one row of 20 blocks, which crosses the written rows) as the
        // weight: the rows the view names, whatever order the blocks were
        // stored in for the shape they were written with.
        let tb = gpu.alloc(&TensorDesc::new([5, 128], dtype)).unwrap();
        gpu.write(&tb, &paired).unwrap();
        for (n, k, elements) in [(10, 64, [0, 31, 32, 63]), (1, 640, [0, 130, 383, 600])] {
            let view = hcal_core::Tensor::from_parts(tb.id(), TensorDesc::new([n, k], dtype));
            for i in elements {
                let one_hot: Vec<f32> = (0..k).map(|p| f32::from(u8::from(p == i))).collect();
                let ta = gpu.alloc(&TensorDesc::new([1, k], DType::F32)).unwrap();
                gpu.write(&ta, bytemuck::cast_slice(&one_hot)).unwrap();
                let ty = gpu.alloc(&TensorDesc::new([1, n], DType::F32)).unwrap();
                gpu.run(&Op::Gemm(Gemm { trans_b: true, ..Gemm::default() }), &[&ta, &view], &[&ty]).unwrap();
                let want: Vec<f32> = (0..n).map(|j| paired_values[j * k + i]).collect();
                assert_eq!(
                    f32s(&gpu.read(&ty).unwrap()),
                    want,
                    "{dtype}: element {i} of the rows of a [{n}, {k}] view"
                );
            }
        }
        // Cast dequantizes every value.
        let tb = gpu.alloc(&TensorDesc::new([n, k], dtype)).unwrap();
        gpu.write(&tb, &bytes).unwrap();
        let ty = gpu.alloc(&TensorDesc::new([n, k], DType::F32)).unwrap();
        gpu.run(&Op::Cast { to: DType::F32 }, &[&tb], &[&ty]).unwrap();
        assert_eq!(f32s(&gpu.read(&ty).unwrap()), values, "{dtype}: Cast");
        // MatMul's B [K, N] has its blocks along N: the general kernel.
        // A = [[1], [2]] (K = 1): Y = the row of B, and twice it.
        let tb = gpu.alloc(&TensorDesc::new([1, n * k], dtype)).unwrap();
        gpu.write(&tb, &bytes).unwrap();
        let ta = gpu.alloc(&TensorDesc::new([2, 1], DType::F32)).unwrap();
        gpu.write(&ta, bytemuck::cast_slice(&[1f32, 2.0])).unwrap();
        let ty = gpu.alloc(&TensorDesc::new([2, n * k], DType::F32)).unwrap();
        gpu.run(&Op::MatMul, &[&ta, &tb], &[&ty]).unwrap();
        let doubled: Vec<f32> = values.iter().map(|v| 2.0 * v).collect();
        assert_eq!(f32s(&gpu.read(&ty).unwrap()), [values.clone(), doubled].concat(), "{dtype}: MatMul");
    }
}

#[test]
fn a_swapped_or_interleaved_nibble_order_would_change_every_block() {
    // The teeth of the test above: reading a 4-bit block's halves swapped
    // changes every code (q[j] + q[j + 16] is even, never 15, so no code
    // equals its partner); reading a byte's two nibbles as neighbouring
    // elements changes some. With d != 0 the values change with the codes.
    for i in 0..6 {
        let q = codes(i);
        let swapped: Vec<u8> = (0..32).map(|j| q[(j + 16) % 32]).collect();
        let interleaved: Vec<u8> = (0..32).map(|j| if j % 2 == 0 { q[j / 2] } else { q[j / 2 + 16] }).collect();
        assert!((0..32).all(|j| swapped[j] != q[j]), "block {i}: {swapped:?}");
        assert_ne!(interleaved, q, "block {i}");
    }
}

/// The cpu reference backend, for the same products.
fn hcal_cpu_reference() -> Box<dyn Backend> {
    Box::new(hcal_cpu::CpuBackend::new())
}
