//! Every matmul kernel gives bit-identical results: each accumulates every
//! output with f32 `fma` in K order, so the autotuner's choice can never change
//! an answer. Each kernel is pinned in turn (`wgpu:mm=<name>`) and compared
//! bit for bit with the simple 4x4 kernel on shapes that exercise edge tiles,
//! K tails (K % 8 != 0 for the texture tiles' 8-step chunks), batches with
//! broadcasting, a transposed B (Gemm) and products too small to tune.
//!
//! Without an adapter each test says so and passes, unless
//! `HCAL_REQUIRE_ADAPTER=1` (CI), where a missing adapter fails.

use hcal_core::{Backend, BackendExt, DType, Gemm, Instruments, Op, OpSignature, TensorDesc};
use hcal_wgpu::WgpuBackend;

mod common;
use common::{open, values};

/// `op(a, b)` on `backend`, as raw bits, plus the kernel it reports.
fn product(backend: &WgpuBackend, op: &Op, a: &[usize], b: &[usize]) -> (Vec<u32>, String) {
    let (da, db) = (TensorDesc::new(a.to_vec(), DType::F32), TensorDesc::new(b.to_vec(), DType::F32));
    let sig = OpSignature::new(op.clone(), vec![Some(da.clone()), Some(db.clone())]).expect("valid shapes");
    let out = sig.outputs()[0].clone();
    let (ta, tb, ty) = (backend.alloc(&da).unwrap(), backend.alloc(&db).unwrap(), backend.alloc(&out).unwrap());
    backend.write(&ta, bytemuck::cast_slice(&values(da.numel(), 1))).unwrap();
    backend.write(&tb, bytemuck::cast_slice(&values(db.numel(), 2))).unwrap();
    backend.run(op, &[&ta, &tb], &[&ty]).unwrap();
    let bits = bytemuck::cast_slice::<u8, u32>(&backend.read(&ty).unwrap()).to_vec();
    let kernel = backend.kernel_variant(&sig).unwrap_or_default();
    (bits, kernel)
}

#[test]
fn every_matmul_kernel_is_bit_identical_to_the_simple_one() {
    let matmul = Op::MatMul;
    // Gemm with a transposed B: the texture tiles transpose it while staging.
    let gemm_tb = Op::Gemm(Gemm { trans_b: true, ..Gemm::default() });
    // N >= 256 stages A into a texture in the texture tiles; below, they read A from its buffer.
    let shapes: [(&Op, &[usize], &[usize]); 11] = [
        (&matmul, &[37, 29], &[29, 36]),
        (&matmul, &[37, 29], &[29, 260]),
        (&matmul, &[3, 1, 33, 19], &[2, 19, 264]),
        (&gemm_tb, &[150, 45], &[300, 45]),
        (&matmul, &[130, 67], &[67, 132]),
        (&matmul, &[64, 256], &[256, 64]),
        (&matmul, &[200, 1000], &[1000, 8]),
        (&matmul, &[3, 1, 33, 19], &[2, 19, 12]),
        (&matmul, &[2, 70, 64], &[2, 64, 68]),
        (&gemm_tb, &[150, 45], &[68, 45]),
        (&gemm_tb, &[1, 300], &[40, 300]),
    ];
    let Some(simple) = open("wgpu:baseline") else { return };
    let expected: Vec<Vec<u32>> = shapes.iter().map(|(op, a, b)| product(&simple, op, a, b).0).collect();
    let mut ran = std::collections::BTreeSet::new();
    for name in hcal_wgpu::matmul_kernel_names() {
        let Some(backend) = open(&format!("wgpu:mm={name}")) else { return };
        for ((op, a, b), want) in shapes.iter().zip(&expected) {
            let (got, kernel) = product(&backend, op, a, b);
            ran.insert(kernel.split(':').nth(1).unwrap_or_default().split('@').next().unwrap_or_default().to_string());
            let diff = got.iter().zip(want).position(|(g, w)| g != w);
            assert!(diff.is_none(), "{name} on {op:?} {a:?} x {b:?}: first differing output at flat index {diff:?}");
        }
    }
    // The pins reached the register tiles, not only the fallback kernel, and
    // the texture tiles wherever the adapter has subgroups.
    assert!(ran.iter().any(|k| k.starts_with("tiled-")), "kernels run: {ran:?}");
    if simple.info().features.iter().any(|f| f == "subgroups") {
        assert!(ran.iter().any(|k| k.starts_with("texture-")), "kernels run: {ran:?}");
    }
}

// --- Texture tiles without subgroups (GL) ---

/// The texture tiles' form without subgroups (each lane loads A itself, one
/// step of K at a time), as GL gets it, is bit-identical to the simple
/// kernel too: A staged (that form runs from N = 256 only), a broadcast
/// batch, a transposed B, K tails. Skipped (with a note) where this machine
/// has no GL adapter.
#[test]
fn texture_tiles_without_subgroups_are_bit_identical_on_gl() {
    let gemm_tb = Op::Gemm(Gemm { trans_b: true, ..Gemm::default() });
    let shapes: [(&Op, &[usize], &[usize]); 3] = [
        (&Op::MatMul, &[37, 29], &[29, 260]),
        (&Op::MatMul, &[3, 1, 33, 19], &[2, 19, 264]),
        (&gemm_tb, &[150, 45], &[300, 45]),
    ];
    let Ok(simple) = WgpuBackend::open("wgpu:gl:0:baseline") else {
        eprintln!("skipped: no GL adapter");
        return;
    };
    assert!(!simple.info().features.iter().any(|f| f == "subgroups"), "GL offers no subgroups");
    let expected: Vec<Vec<u32>> = shapes.iter().map(|(op, a, b)| product(&simple, op, a, b).0).collect();
    let tiles = hcal_wgpu::matmul_kernel_names().into_iter().filter(|n| n.starts_with("texture-"));
    for name in tiles {
        let backend = WgpuBackend::open(&format!("wgpu:gl:0:mm={name}")).expect("the GL adapter opened above");
        for ((op, a, b), want) in shapes.iter().zip(&expected) {
            let (got, kernel) = product(&backend, op, a, b);
            assert!(kernel.contains("texture-"), "{name} on {a:?} x {b:?} ran {kernel}");
            let diff = got.iter().zip(want).position(|(g, w)| g != w);
            assert!(diff.is_none(), "{name} on {op:?} {a:?} x {b:?}: first differing output at flat index {diff:?}");
        }
    }
}
