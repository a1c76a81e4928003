//! Tensors larger than one storage binding run in pieces (`split.rs`,
//! `matmul/split.rs`). The `:bind=<bytes>` suffix makes the backend plan as
//! if bindings held only that much, so every splitting path runs here on
//! small tensors, on every adapter, and each result is compared with the
//! unsplit run of the same adapter: bit-identical for every op (a block of K
//! continues each output's fma chain; elementwise, row-wise and strided
//! pieces compute each element as the whole op does), except the GEMV path,
//! which splits K into partial sums and is held to a rounding bound instead.
//! Signatures no piece of which fits are declined, naming the limit.
//!
//! Without an adapter each test says so and passes, unless
//! `HCAL_REQUIRE_ADAPTER=1` (CI), where a missing adapter fails.

use hcal_core::{
    Backend, BackendExt, BinaryOp, DType, Gemm, Instruments, Op, OpSignature, ReduceOp, Support, TensorDesc, UnaryOp,
};
use hcal_wgpu::WgpuBackend;

mod common;
use common::open;
#[path = "common/binding_cap.rs"]
mod binding_cap;
use binding_cap::{f32s, pairs, pairs_capped, values};

/// Bytes of `desc` filled from [`values`] (f16/bf16 rounded, bools from the sign).
fn input_bytes(desc: &TensorDesc, seed: u64) -> Vec<u8> {
    let v = values(desc.numel(), seed);
    match desc.dtype {
        DType::F32 => bytemuck::cast_slice(&v).to_vec(),
        DType::F16 => v.iter().flat_map(|&x| half::f16::from_f32(x).to_le_bytes()).collect(),
        DType::BF16 => v.iter().flat_map(|&x| half::bf16::from_f32(x).to_le_bytes()).collect(),
        DType::Bool => v.iter().map(|&x| u8::from(x > 0.0)).collect(),
        DType::I64 => v.iter().flat_map(|&x| ((x * 100.0) as i64).to_le_bytes()).collect(),
        q => hcal_core::quant::quantize(q, &v).expect("whole blocks"),
    }
}

/// Run `op` on `inputs` (seeded by position), returning the outputs' bytes,
/// or `None` when the backend declines the signature (with its reason).
fn run(backend: &WgpuBackend, op: &Op, inputs: &[TensorDesc]) -> Result<Vec<Vec<u8>>, String> {
    run_optional(backend, op, &inputs.iter().cloned().map(Some).collect::<Vec<_>>())
}

/// [`run`] with optional inputs left out (`None`), as Attention's.
fn run_optional(backend: &WgpuBackend, op: &Op, inputs: &[Option<TensorDesc>]) -> Result<Vec<Vec<u8>>, String> {
    let sig = OpSignature::new(op.clone(), inputs.to_vec()).expect("valid case");
    if let Support::Unsupported(why) = backend.supports(&sig) {
        return Err(why);
    }
    let ins: Vec<_> = inputs
        .iter()
        .enumerate()
        .map(|(i, d)| {
            d.as_ref().map(|d| {
                let t = backend.alloc(d).unwrap();
                backend.write(&t, &input_bytes(d, i as u64 + 1)).unwrap();
                t
            })
        })
        .collect();
    let outs: Vec<_> = sig.outputs().iter().map(|d| backend.alloc(d).unwrap()).collect();
    let in_refs: Vec<_> = ins.iter().map(Option::as_ref).collect();
    let out_refs: Vec<_> = outs.iter().map(Some).collect();
    backend.run_optional(op, &in_refs, &out_refs).unwrap_or_else(|e| panic!("{op:?} on {inputs:?}: {e}"));
    let bytes = outs.iter().map(|t| backend.read(t).unwrap()).collect();
    for t in ins.iter().flatten().chain(&outs) {
        backend.free(t).unwrap();
    }
    Ok(bytes)
}

/// The f32 output of `op` on the CPU reference backend, inputs as [`run`] seeds them.
fn reference(cpu: &hcal_cpu::CpuBackend, op: &Op, inputs: &[TensorDesc]) -> Vec<f32> {
    let ins: Vec<_> = inputs
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let t = cpu.alloc(d).unwrap();
            cpu.write(&t, &input_bytes(d, i as u64 + 1)).unwrap();
            t
        })
        .collect();
    let sig = OpSignature::new(op.clone(), inputs.iter().cloned().map(Some).collect()).unwrap();
    let out = cpu.alloc(&sig.outputs()[0]).unwrap();
    cpu.run(op, &ins.iter().collect::<Vec<_>>(), &[&out]).unwrap();
    bytemuck::cast_slice(&cpu.read(&out).unwrap()).to_vec()
}

#[test]
fn the_binding_cap_is_what_the_backend_plans_with() {
    for (whole, split) in pairs("") {
        let limit = |b: &WgpuBackend| b.info().limits["max_storage_buffer_binding_size"];
        assert_eq!(limit(&split), 4096);
        assert!(limit(&whole) > 4096);
    }
}

#[test]
fn split_elementwise_rowwise_and_strided_ops_are_bit_identical() {
    let x16 = TensorDesc::new([3000], DType::F16);
    let cases: Vec<(Op, Vec<TensorDesc>)> = vec![
        (Op::Unary(UnaryOp::Silu), vec![f32s(&[3001])]),
        (Op::Unary(UnaryOp::Exp), vec![x16.clone()]),
        (Op::Cast { to: DType::F16 }, vec![f32s(&[2999])]),
        (Op::Cast { to: DType::F32 }, vec![x16]),
        (Op::Cast { to: DType::Bool }, vec![TensorDesc::new([2050], DType::BF16)]),
        (Op::Cast { to: DType::Bool }, vec![TensorDesc::new([1500], DType::I64)]),
        (Op::Binary(BinaryOp::Add), vec![f32s(&[3003]), f32s(&[3003])]),
        (Op::Binary(BinaryOp::Mul), vec![f32s(&[50, 70]), f32s(&[70])]),
        (Op::Binary(BinaryOp::Sub), vec![f32s(&[40, 1, 30]), f32s(&[1, 50, 30])]),
        (
            Op::Binary(BinaryOp::Div),
            vec![TensorDesc::new([2, 3, 700], DType::BF16), TensorDesc::new([3, 1], DType::BF16)],
        ),
        (Op::Transpose { perm: Some(vec![1, 0, 2]) }, vec![f32s(&[40, 50, 3])]),
        (Op::Transpose { perm: Some(vec![0, 2, 1]) }, vec![TensorDesc::new([30, 20, 7], DType::F16)]),
        (Op::Transpose { perm: Some(vec![0, 2, 1]) }, vec![TensorDesc::new([30, 20, 7], DType::Bool)]),
        // Moving the outer axis inward: many short pieces, still exact.
        (Op::Transpose { perm: Some(vec![1, 0]) }, vec![f32s(&[2000, 3])]),
        // Moving a short outer axis innermost: scattered from input ranges
        // (gathering would take one piece per element).
        (Op::Transpose { perm: Some(vec![1, 0]) }, vec![f32s(&[3, 100_000])]),
        (Op::Transpose { perm: Some(vec![2, 1, 0]) }, vec![TensorDesc::new([2, 5, 8000], DType::I64)]),
        // 1- and 2-byte elements scatter as f32 copies.
        (Op::Transpose { perm: Some(vec![1, 0]) }, vec![TensorDesc::new([3, 100_000], DType::F16)]),
        (Op::Transpose { perm: Some(vec![1, 0]) }, vec![TensorDesc::new([5, 70_000], DType::Bool)]),
        (Op::Reduce { op: ReduceOp::Sum, axes: Some(vec![1]), keepdims: false }, vec![f32s(&[30, 20, 40])]),
        (Op::Reduce { op: ReduceOp::Max, axes: Some(vec![2]), keepdims: true }, vec![f32s(&[30, 20, 40])]),
        (Op::Softmax { axis: -1 }, vec![f32s(&[50, 100])]),
        // Outer slices beyond a binding: segments of steps along the lanes.
        (Op::ArgMax { axis: 1, keepdims: false, select_last_index: false }, vec![f32s(&[2, 2000])]),
        (Op::ArgMin { axis: 0, keepdims: true, select_last_index: true }, vec![f32s(&[300, 5])]),
        (Op::CumSum { axis: 1, exclusive: true, reverse: true }, vec![f32s(&[3, 2000])]),
        (Op::CumSum { axis: 0, exclusive: false, reverse: false }, vec![f32s(&[300, 7])]),
        (Op::Softmax { axis: 1 }, vec![f32s(&[4, 30, 20])]),
        (Op::LayerNormalization { axis: -1, epsilon: 1e-5 }, vec![f32s(&[40, 64]), f32s(&[64]), f32s(&[64])]),
        (
            Op::RmsNormalization { axis: -1, epsilon: 1e-6 },
            vec![TensorDesc::new([33, 96], DType::F16), TensorDesc::new([96], DType::F16)],
        ),
    ];
    for (whole, split) in pairs("") {
        for (op, inputs) in &cases {
            let want = run(&whole, op, inputs).expect("unsplit runs");
            let got = run(&split, op, inputs).unwrap_or_else(|why| panic!("split declined {op:?} {inputs:?}: {why}"));
            assert!(got == want, "{}: {op:?} on {inputs:?} differs when split", whole.info().backend);
        }
    }
}

#[test]
fn what_no_piece_fits_is_declined_naming_the_limit() {
    let attention = Op::Attention(hcal_core::Attention::default());
    let cases: Vec<(Op, Vec<TensorDesc>)> = vec![
        // One KV head's keys exceed a binding (pieces are whole heads).
        (attention, vec![f32s(&[1, 2, 6, 8]), f32s(&[1, 2, 600, 8]), f32s(&[1, 2, 600, 8])]),
        // One row of a Gather table exceeds a binding (windows hold whole rows).
        (Op::Gather { axis: 0 }, vec![f32s(&[3, 2000]), TensorDesc::new([2], DType::I64)]),
    ];
    for (_, split) in pairs("") {
        for (op, inputs) in &cases {
            let why = run(&split, op, inputs).expect_err("declined");
            assert!(why.contains("max_storage_buffer_binding_size"), "{op:?}: {why}");
        }
    }
}

/// Attention in pieces of (batch item, KV head group) on every path, with
/// grouped heads, a past and present cache, masks (bool, float, per head or
/// shared), valid lengths and packed 3-D inputs: bit-identical to unsplit.
#[test]
fn split_attention_is_bit_identical_on_every_path() {
    use hcal_core::Attention;
    let packed = Attention { q_num_heads: Some(4), kv_num_heads: Some(2), ..Attention::default() };
    let causal = Attention { is_causal: true, ..Attention::default() };
    let (q, kv) = (f32s(&[2, 4, 6, 8]), f32s(&[2, 2, 40, 8]));
    let past = f32s(&[2, 2, 30, 8]);
    let bool_mask = TensorDesc::new([2, 4, 6, 70], DType::Bool);
    let cases: Vec<(Attention, Vec<Option<TensorDesc>>)> = vec![
        (Attention::default(), vec![Some(q.clone()), Some(kv.clone()), Some(kv.clone())]),
        (
            causal,
            vec![Some(q.clone()), Some(kv.clone()), Some(kv.clone()), None, Some(past.clone()), Some(past.clone())],
        ),
        (
            Attention::default(),
            vec![Some(q.clone()), Some(kv.clone()), Some(kv.clone()), Some(bool_mask), Some(past.clone()), Some(past)],
        ),
        (Attention::default(), vec![Some(q.clone()), Some(kv.clone()), Some(kv.clone()), Some(f32s(&[6, 40]))]),
        (causal, vec![Some(q), Some(kv.clone()), Some(kv), None, None, None, Some(TensorDesc::new([2], DType::I64))]),
        (packed, vec![Some(f32s(&[2, 6, 32])), Some(f32s(&[2, 40, 16])), Some(f32s(&[2, 40, 16]))]),
        // Decode: one query row over a long cache.
        (
            Attention::default(),
            vec![Some(f32s(&[1, 8, 1, 4])), Some(f32s(&[1, 4, 200, 4])), Some(f32s(&[1, 4, 200, 4]))],
        ),
    ];
    // The composed path's blocks of query rows follow the binding size (one
    // row under the cap here): pinned to one-row blocks, the unsplit run
    // takes the blocks the pieces take.
    for path in ["", ":fused", ":composed1", ":split"] {
        for (whole, split) in pairs(path) {
            for (attrs, inputs) in &cases {
                let op = Op::Attention(*attrs);
                let want = run_optional(&whole, &op, inputs).expect("unsplit runs");
                let got =
                    run_optional(&split, &op, inputs).unwrap_or_else(|why| panic!("split declined {inputs:?}: {why}"));
                assert!(got == want, "{}{path}: attention on {inputs:?} differs when split", whole.info().backend);
            }
        }
    }
}

/// RotaryEmbedding in blocks of rows, Gather / GatherElements over windows
/// of the table and ranges of the output (quantized rows, rows and elements
/// narrower than a word, indices outside the axis), and products with a
/// quantized weight in blocks of its rows (plain and normalizing):
/// bit-identical.
#[test]
fn split_rotary_gathers_and_quantized_weights_are_bit_identical() {
    use hcal_core::RotaryEmbedding;
    let i64s = |shape: &[usize]| TensorDesc::new(shape.to_vec(), DType::I64);
    let halves = Op::RotaryEmbedding(RotaryEmbedding::default());
    let interleaved =
        Op::RotaryEmbedding(RotaryEmbedding { interleaved: true, rotary_embedding_dim: 8, num_heads: Some(3) });
    let weights = Op::Gemm(Gemm { alpha: 1.0, beta: 1.0, trans_a: false, trans_b: true });
    let norm_weights = Op::RmsNormGemm(hcal_core::RmsNormGemm { epsilon: 1e-5, alpha: 1.0, beta: 0.0, trans_b: true });
    let cases: Vec<(Op, Vec<TensorDesc>)> = vec![
        (halves.clone(), vec![f32s(&[2, 3, 50, 16]), f32s(&[2, 50, 8]), f32s(&[2, 50, 8])]),
        (interleaved, vec![f32s(&[2, 50, 48]), f32s(&[2, 50, 4]), f32s(&[2, 50, 4])]),
        // Caches larger than a binding in windows of rows: indexed by position
        // ids (in [-100, 100): the negative ones out of range, their features
        // NaN) and by (b, s).
        (halves.clone(), vec![f32s(&[2, 3, 5, 8]), f32s(&[300, 4]), f32s(&[300, 4]), i64s(&[2, 5])]),
        (halves.clone(), vec![f32s(&[2, 3, 200, 8]), f32s(&[2, 200, 4]), f32s(&[2, 200, 4])]),
        // Rows of a table in windows; indices in [-100, 100), negatives from the end.
        (Op::Gather { axis: 0 }, vec![f32s(&[300, 8]), i64s(&[7])]),
        (Op::Gather { axis: 0 }, vec![TensorDesc::new([200, 64], DType::Q8_0), i64s(&[2, 3])]),
        // 14-byte rows (merged bytes across windows) and indices past the axis (fills).
        (Op::Gather { axis: 1 }, vec![TensorDesc::new([5, 90, 7], DType::F16), i64s(&[5])]),
        // An output larger than a binding.
        (Op::Gather { axis: 0 }, vec![f32s(&[40, 30]), i64s(&[50])]),
        (Op::GatherElements { axis: 1 }, vec![f32s(&[40, 50]), i64s(&[40, 30])]),
        (Op::GatherElements { axis: 0 }, vec![TensorDesc::new([60, 70], DType::Bool), i64s(&[10, 70])]),
        // Quantized weights [N, K] larger than a binding: blocks of their rows.
        (weights.clone(), vec![f32s(&[3, 64]), TensorDesc::new([150, 64], DType::Q4_0)]),
        (weights.clone(), vec![f32s(&[2, 96]), TensorDesc::new([90, 96], DType::Q4_1)]),
        // The normalizing GEMV on such a weight: Scale bound in every block.
        (norm_weights, vec![f32s(&[2, 96]), f32s(&[96]), TensorDesc::new([90, 96], DType::Q4_1)]),
    ];
    // A Q8_0 window starts on a multiple of 256 and of its 34-byte blocks
    // (4352 bytes) at or before its first row: more than 4096 bytes of slack.
    let q8 = vec![f32s(&[5, 128]), TensorDesc::new([150, 128], DType::Q8_0), f32s(&[150])];
    let runs = [(pairs(""), cases), (pairs_capped("", "bind=16384"), vec![(weights, q8)])];
    for (backends, cases) in runs {
        for (whole, split) in backends {
            for (op, inputs) in &cases {
                let want = run(&whole, op, inputs).expect("unsplit runs");
                let got =
                    run(&split, op, inputs).unwrap_or_else(|why| panic!("split declined {op:?} {inputs:?}: {why}"));
                assert!(got == want, "{}: {op:?} on {inputs:?} differs when split", split.info().backend);
            }
        }
    }
}

/// The data-movement ops in pieces of output words, each reading a window of
/// its input: forward and backward slices, Split's parts, a broadcast
/// Expand, Concat bands (16-bit elements sharing words across bands),
/// Trilu, Where on i64 and TensorScatter into a cache, in f32, f16, bool
/// and i64: bit-identical.
#[test]
fn split_data_movement_is_bit_identical() {
    let f16s = |shape: &[usize]| TensorDesc::new(shape.to_vec(), DType::F16);
    let slice =
        |starts: Vec<i64>, ends: Vec<i64>, steps: Vec<i64>| Op::Slice { starts, ends, axes: None, steps: Some(steps) };
    let cases: Vec<(Op, Vec<TensorDesc>)> = vec![
        (slice(vec![1, 0], vec![40, 50], vec![1, 1]), vec![f32s(&[40, 50])]),
        (slice(vec![-1, 45], vec![i64::MIN, 2], vec![-2, -3]), vec![f32s(&[60, 50])]),
        (slice(vec![3, 1], vec![70, 60], vec![2, 1]), vec![TensorDesc::new([70, 60], DType::Bool)]),
        (Op::Split { axis: 1, parts: hcal_core::SplitParts::Sizes(vec![10, 25, 15]) }, vec![f16s(&[60, 50])]),
        (Op::Expand { shape: vec![30, 40, 5] }, vec![TensorDesc::new([40, 1], DType::I64)]),
        (Op::Concat { axis: 1 }, vec![f16s(&[30, 33]), f16s(&[30, 70]), f16s(&[30, 1])]),
        (Op::Concat { axis: 0 }, vec![f32s(&[700]), f32s(&[900])]),
        (Op::Trilu { upper: false, k: 3 }, vec![f32s(&[3, 30, 40])]),
        // Where on i64 X and Y: raw word pairs, in ranges of outputs.
        (
            Op::Where,
            vec![
                TensorDesc::new([30, 40], DType::Bool),
                TensorDesc::new([30, 40], DType::I64),
                TensorDesc::new([40], DType::I64),
            ],
        ),
        // KV caches in blocks of whole prefixes; write indices in [-100, 100).
        (
            Op::TensorScatter { axis: 2, mode: hcal_core::ScatterMode::Circular },
            vec![f32s(&[2, 3, 40, 8]), f32s(&[2, 3, 5, 8]), TensorDesc::new([2], DType::I64)],
        ),
        (
            Op::TensorScatter { axis: 2, mode: hcal_core::ScatterMode::Linear },
            vec![f16s(&[2, 3, 90, 8]), f16s(&[2, 3, 7, 8])],
        ),
    ];
    for (whole, split) in pairs("") {
        for (op, inputs) in &cases {
            let want = run(&whole, op, inputs).expect("unsplit runs");
            let got = run(&split, op, inputs).unwrap_or_else(|why| panic!("split declined {op:?} {inputs:?}: {why}"));
            assert!(got == want, "{}: {op:?} on {inputs:?} differs when split", whole.info().backend);
        }
    }
}

/// `(op, A, B, C)` products that split along rows, columns and K.
fn products() -> Vec<(Op, Vec<TensorDesc>)> {
    let gemm = |trans_a, trans_b, alpha, beta| Op::Gemm(Gemm { alpha, beta, trans_a, trans_b });
    vec![
        (Op::MatMul, vec![f32s(&[37, 29]), f32s(&[29, 36])]),
        (Op::MatMul, vec![f32s(&[37, 29]), f32s(&[29, 260])]),
        (Op::MatMul, vec![f32s(&[3, 1, 33, 19]), f32s(&[2, 19, 264])]),
        (Op::MatMul, vec![f32s(&[130, 67]), f32s(&[67, 132])]),
        (Op::MatMul, vec![f32s(&[200, 900]), f32s(&[900, 8])]),
        (Op::MatMul, vec![f32s(&[2, 70, 64]), f32s(&[2, 64, 68])]),
        (Op::MatMul, vec![TensorDesc::new([20, 50], DType::F16), TensorDesc::new([50, 72], DType::F16)]),
        (Op::MatMul, vec![f32s(&[5, 0]), f32s(&[0, 300])]),
        (gemm(false, true, 1.0, 0.0), vec![f32s(&[150, 45]), f32s(&[300, 45])]),
        (gemm(false, false, 0.5, 2.0), vec![f32s(&[64, 40]), f32s(&[40, 48]), f32s(&[64, 48])]),
        (gemm(true, false, 1.5, -1.0), vec![f32s(&[50, 70]), f32s(&[50, 33]), f32s(&[33])]),
        (gemm(true, true, 1.0, 1.0), vec![f32s(&[40, 30]), f32s(&[60, 40]), f32s(&[30, 1])]),
        // A row of A longer than a binding: blocks of K split it.
        (Op::MatMul, vec![f32s(&[3, 2000]), f32s(&[2000, 4])]),
    ]
}

#[test]
fn split_products_are_bit_identical_on_every_kernel() {
    let mut names = vec![String::new()];
    names.extend(hcal_wgpu::matmul_kernel_names().into_iter().filter(|n| n != "gemv").map(|n| format!(":mm={n}")));
    let mut ran = std::collections::BTreeSet::new();
    for suffix in names {
        for (whole, split) in pairs(&suffix) {
            for (op, inputs) in &products() {
                let sig = OpSignature::new(op.clone(), inputs.iter().cloned().map(Some).collect()).unwrap();
                let kernel = split.kernel_variant(&sig).unwrap_or_default();
                let name = kernel.split(':').nth(1).unwrap_or_default().split('@').next().unwrap_or_default();
                ran.insert((split.info().features.iter().any(|f| f == "subgroups"), name.to_string()));
                let want = run(&whole, op, inputs).expect("unsplit runs");
                let got = run(&split, op, inputs).unwrap_or_else(|why| panic!("split declined {op:?}: {why}"));
                let who = &split.info().backend;
                let diff = bytemuck::cast_slice::<u8, u32>(&got[0])
                    .iter()
                    .zip(bytemuck::cast_slice::<u8, u32>(&want[0]))
                    .position(|(g, w)| g != w);
                assert!(diff.is_none(), "{who}: {op:?} on {inputs:?}: first differing output {diff:?}");
            }
        }
    }
    // Split products reached every kernel family: the storage-buffer and
    // workgroup-memory tiles, and the texture tiles where there are subgroups.
    let reached = |prefix: &str| ran.iter().any(|(_, k)| k.starts_with(prefix));
    if !ran.is_empty() {
        assert!(reached("tiled-") && reached("smem-") && reached("matmul-4x4"), "kernels: {ran:?}");
    }
    if ran.iter().any(|(subgroups, _)| *subgroups) {
        assert!(reached("texture-"), "kernels: {ran:?}");
    }
}

/// GEMV splits K into partial sums: deterministic, and within rounding of
/// the f64 product.
#[test]
fn split_gemv_is_deterministic_and_within_rounding() {
    let (k, n) = (3000, 20);
    let op = Op::MatMul;
    let inputs = [f32s(&[1, k]), f32s(&[k, n])];
    let (a, b) = (values(k, 1), values(k * n, 2));
    for (_, split) in pairs("") {
        let first = run(&split, &op, &inputs).unwrap();
        assert_eq!(first, run(&split, &op, &inputs).unwrap(), "reruns are bit-identical");
        let got: &[f32] = bytemuck::cast_slice(&first[0]);
        for j in 0..n {
            let exact: f64 = (0..k).map(|p| f64::from(a[p]) * f64::from(b[p * n + j])).sum();
            let scale: f64 = (0..k).map(|p| (f64::from(a[p]) * f64::from(b[p * n + j])).abs()).sum();
            let bound = scale * k as f64 * f64::from(f32::EPSILON);
            assert!((f64::from(got[j]) - exact).abs() <= bound, "column {j}: {} vs {exact}", got[j]);
        }
    }
}

/// Mesa's CPU drivers end an invocation's loops after 65535 iterations in
/// all; long products run there as chained blocks of K (see
/// `matmul::split::max_steps`), so every kernel finishes them, bit-identical
/// to the simple kernel.
#[test]
fn long_products_finish_on_every_kernel() {
    let shapes = [
        (Op::MatMul, vec![f32s(&[3, 9000]), f32s(&[9000, 8])]),
        (Op::MatMul, vec![f32s(&[5, 40000]), f32s(&[40000, 4])]),
    ];
    for adapter in hcal_wgpu::adapter_names() {
        let Some(simple) = open(&format!("{adapter}:baseline")) else { return };
        let want: Vec<_> = shapes.iter().map(|(op, inputs)| run(&simple, op, inputs).unwrap()).collect();
        for (op, inputs) in &shapes {
            let bits = run(&simple, op, inputs).unwrap();
            assert!(bytemuck::cast_slice::<u8, f32>(&bits[0]).iter().all(|v| v.is_finite()), "{adapter}: {inputs:?}");
        }
        for name in hcal_wgpu::matmul_kernel_names() {
            let Some(backend) = open(&format!("{adapter}:mm={name}")) else { return };
            for ((op, inputs), want) in shapes.iter().zip(&want) {
                let got = run(&backend, op, inputs).unwrap();
                assert!(got == *want, "{adapter}:mm={name} on {inputs:?} differs from the simple kernel");
            }
        }
    }
}

/// The same loop limit in attention: the fused kernel pinned over 70,000
/// keys (D = 4) came out wrong on lavapipe and llvmpipe (its key loop ran
/// past 65,535 iterations), so there the call takes a path whose loops
/// finish, within rounding of the f64 reference.
#[test]
fn long_attention_finishes_on_cpu_drivers() {
    use hcal_core::Attention;
    let cpu = hcal_cpu::CpuBackend::new();
    let op = Op::Attention(Attention::default());
    let inputs = [f32s(&[1, 1, 1, 4]), f32s(&[1, 1, 70_000, 4]), f32s(&[1, 1, 70_000, 4])];
    let want = reference(&cpu, &op, &inputs);
    for adapter in hcal_wgpu::adapter_names() {
        let Some(backend) = open(&format!("{adapter}:fused")) else { return };
        let got = run(&backend, &op, &inputs).expect("runs on some path")[0].clone();
        let got: &[f32] = bytemuck::cast_slice(&got);
        // Values in [-1, 1): the output is a weighted mean, rounded at most a few ulps of 1.
        for (g, w) in got.iter().zip(&want) {
            assert!((g - w).abs() <= 1e-5, "{adapter}: attention over 70,000 keys gave {g}, the reference {w}");
        }
    }
}
