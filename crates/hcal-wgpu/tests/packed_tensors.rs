//! Block-quantized tensors the host writes live in textures on CPU drivers
//! (`packed.rs`), and every way of using one still sees the same bytes:
//! read back, gathered (from the texture), used as an op's output (moved
//! back to a buffer for good), read by a product, written again, freed. Each result is checked against
//! bytes built here from the layout's definition (a Q8_0 block: a 2-byte
//! scale, then 32 signed bytes), not against the code under test; the
//! `:buffers` pin runs the same checks with the tensors in buffers.
//!
//! Without an adapter each test says so and passes, unless
//! `HCAL_REQUIRE_ADAPTER=1` (CI), where a missing adapter fails.

use hcal_core::{Backend, BackendExt, DType, Instruments, Op, OpSignature, Tensor, TensorDesc};

mod common;

/// Row `r` of a Q8_0 table `[rows, 64]`: two blocks whose scale bytes and
/// codes all depend on the row and the block, so a row or a block read
/// from the wrong place differs.
fn row(r: usize) -> Vec<u8> {
    (0..2)
        .flat_map(|b| {
            // A finite f16 scale: 0x3c00 (1.0) plus a row/block tag in the mantissa.
            let scale = 0x3c00u16 + (r * 2 + b) as u16;
            let codes = (0..32).map(move |j| ((r * 37 + b * 11 + j * 3) % 251) as u8);
            scale.to_le_bytes().into_iter().chain(codes)
        })
        .collect()
}

fn table(rows: std::ops::Range<usize>) -> Vec<u8> {
    rows.flat_map(row).collect()
}

fn upload(gpu: &dyn Backend, desc: TensorDesc, bytes: &[u8]) -> Tensor {
    let t = gpu.alloc(&desc).unwrap();
    gpu.write(&t, bytes).unwrap();
    t
}

fn f32s(bytes: &[u8]) -> Vec<f32> {
    bytes.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect()
}

/// The sum of a Q8_0 row's defined values, `sum_b d_b sum_j q_bj`: exact in
/// f32 here (scales 1 + k/1024 for small k, codes under 128 in magnitude, 64
/// of them), so any summation order gives it.
fn defined_row_sum(row: &[u8]) -> f32 {
    row.chunks_exact(34)
        .map(|block| {
            let d = half::f16::from_le_bytes([block[0], block[1]]).to_f64();
            d * block[2..].iter().map(|&q| f64::from(q as i8)).sum::<f64>()
        })
        .sum::<f64>() as f32
}

fn i64s(gpu: &dyn Backend, values: &[i64]) -> Tensor {
    upload(gpu, TensorDesc::new([values.len()], DType::I64), bytemuck::cast_slice(values))
}

#[test]
fn packed_tensors_read_gather_move_and_rewrite_as_written() {
    for name in common::adapters_with_buffer_pins() {
        let Some(gpu) = common::open(&name) else { return };
        every_use_sees_the_written_bytes(&gpu);
        eprintln!("{name}: a written Q8_0 table read, gathered, written into by an op and rewritten as defined");
    }
}

fn every_use_sees_the_written_bytes(gpu: &hcal_wgpu::WgpuBackend) {
    let (live_before, ..) = gpu.memory_stats();
    let desc = TensorDesc::new([6, 64], DType::Q8_0);
    let t = upload(gpu, desc.clone(), &table(0..6));
    assert_eq!(gpu.read(&t).unwrap(), table(0..6), "read back");

    // Gather rows 4, 0, 4 (the embedding lookup of a decode step).
    let ids = i64s(gpu, &[4, 0, 4]);
    let gathered = gpu.alloc(&TensorDesc::new([3, 64], DType::Q8_0)).unwrap();
    gpu.run(&Op::Gather { axis: 0 }, &[&t, &ids], &[&gathered]).unwrap();
    assert_eq!(gpu.read(&gathered).unwrap(), [row(4), row(0), row(4)].concat(), "Gather");

    // A host-written tensor as an op's output: moved back to a buffer first.
    let dst = upload(gpu, TensorDesc::new([3, 64], DType::Q8_0), &table(7..10));
    assert_eq!(gpu.read(&dst).unwrap(), table(7..10), "read back");
    let two = i64s(gpu, &[1, 5]);
    let pair = Tensor::from_parts(dst.id(), TensorDesc::new([2, 64], DType::Q8_0));
    gpu.run(&Op::Gather { axis: 0 }, &[&t, &two], &[&pair]).unwrap();
    // The first two rows are the gathered ones; the third keeps what was written.
    assert_eq!(gpu.read(&dst).unwrap(), [row(1), row(5), row(9)].concat(), "Gather into a written tensor");
    // ... and read by a product from its buffer now: Y = e_0 dequant(B)^T
    // picks the values of row 1's first block, which are code x scale.
    let a = upload(gpu, TensorDesc::new([1, 64], DType::F32), bytemuck::cast_slice(&[1f32; 64]));
    let y = gpu.alloc(&TensorDesc::new([1, 3], DType::F32)).unwrap();
    let gemm = Op::Gemm(hcal_core::Gemm { trans_b: true, ..Default::default() });
    gpu.run(&gemm, &[&a, &dst], &[&y]).unwrap();
    let sums: Vec<f32> = [row(1), row(5), row(9)].iter().map(|r| defined_row_sum(r)).collect();
    assert_eq!(f32s(&gpu.read(&y).unwrap()), sums, "Gemm on the moved tensor");

    // Written again from the host: the new bytes, wherever they now live.
    gpu.write(&t, &table(20..26)).unwrap();
    assert_eq!(gpu.read(&t).unwrap(), table(20..26), "rewritten");
    gpu.run(&Op::Gather { axis: 0 }, &[&t, &ids], &[&gathered]).unwrap();
    assert_eq!(gpu.read(&gathered).unwrap(), [row(24), row(20), row(24)].concat(), "Gather from the rewritten table");
    gpu.write(&dst, &table(30..33)).unwrap();
    assert_eq!(gpu.read(&dst).unwrap(), table(30..33), "rewritten after the move");

    for tensor in [&t, &ids, &gathered, &dst, &two, &a, &y] {
        gpu.free(tensor).unwrap();
    }
    assert_eq!(gpu.memory_stats().0, live_before, "every tensor freed");
    assert!(gpu.free(&t).is_err(), "a freed tensor is gone");
}

/// A table of 16 rows (in eights, two blocks each): on CPU drivers its
/// texture holds the split form (`block_layout.rs`: each run's scales apart
/// from its quants). Read back, gathered and multiplied, it gives the bytes
/// and values written; the same with `:whole` (whole blocks).
#[test]
fn split_tables_read_gather_and_multiply_as_written() {
    for name in common::adapters_with_buffer_pins().into_iter().chain(["wgpu:vulkan:0:whole".to_string()]) {
        let Some(gpu) = common::open(&name) else { continue };
        let t = upload(&gpu, TensorDesc::new([16, 64], DType::Q8_0), &table(0..16));
        assert_eq!(gpu.read(&t).unwrap(), table(0..16), "{name}: read back");
        let ids = i64s(&gpu, &[15, 0, 5]);
        let gathered = gpu.alloc(&TensorDesc::new([3, 64], DType::Q8_0)).unwrap();
        gpu.run(&Op::Gather { axis: 0 }, &[&t, &ids], &[&gathered]).unwrap();
        assert_eq!(gpu.read(&gathered).unwrap(), [row(15), row(0), row(5)].concat(), "{name}: Gather");
        let a = upload(&gpu, TensorDesc::new([1, 64], DType::F32), bytemuck::cast_slice(&[1f32; 64]));
        let y = gpu.alloc(&TensorDesc::new([1, 16], DType::F32)).unwrap();
        let gemm = Op::Gemm(hcal_core::Gemm { trans_b: true, ..Default::default() });
        gpu.run(&gemm, &[&a, &t], &[&y]).unwrap();
        let sums: Vec<f32> = (0..16).map(|r| defined_row_sum(&row(r))).collect();
        assert_eq!(f32s(&gpu.read(&y).unwrap()), sums, "{name}: the GEMV's row sums");
        eprintln!("{name}: a 16-row Q8_0 table read, gathered and multiplied as written");
    }
}

/// On lavapipe (a Vulkan CPU driver offering read-only `rgba32uint` storage
/// textures) the quantized products name their texture form, and the
/// `:buffers` pin their buffer form: what the benchmark compares.
#[test]
fn cpu_drivers_read_quantized_weights_from_textures_unless_pinned_to_buffers() {
    let Some(gpu) = common::open("wgpu") else { return };
    if gpu.info().device_type != hcal_core::DeviceType::Cpu || gpu.info().api != "vulkan" {
        eprintln!("skipped: {} is not a Vulkan CPU driver", gpu.info().backend);
        return;
    }
    let gemm = Op::Gemm(hcal_core::Gemm { trans_b: true, ..Default::default() });
    let sig = OpSignature::new(
        gemm,
        vec![Some(TensorDesc::new([1, 64], DType::F32)), Some(TensorDesc::new([8, 64], DType::Q4_1))],
    )
    .unwrap();
    let variant = gpu.kernel_variant(&sig).unwrap();
    assert!(variant.contains("quant-gemv-q4_1-texture"), "{variant}");
    // Rows in fours: with lavapipe's default 8-wide subgroups (256-bit
    // vectors) the 4-column GEMV reads the split form; pinned to whole
    // blocks, never.
    if std::env::var("LP_NATIVE_VECTOR_WIDTH").is_err() {
        assert!(variant.contains("quant-gemv-q4_1-texture-split@"), "{variant}");
    }
    let whole = common::open(&format!("{}:whole", gpu.info().backend)).unwrap();
    let variant = whole.kernel_variant(&sig).unwrap();
    assert!(variant.contains("quant-gemv-q4_1-texture@"), "{variant}");
    let name = format!("{}:buffers", gpu.info().backend);
    let pinned = common::open(&name).unwrap();
    let variant = pinned.kernel_variant(&sig).unwrap();
    assert!(variant.contains("quant-gemv-q4_1@"), "{variant}");
}
