//! hcal's fused ops are the ops they stand for: on every available backend,
//! SplitRotaryScatter gives the bits of Split, two RotaryEmbeddings, Transpose
//! and two TensorScatters (in place or into new tensors), GatedUnary on
//! f32 the bits of Split, the Unary and Mul, on the same backend; and
//! RMSNormGemm the bits of RMSNormalization then Gemm on the reference.

use hcal::{Device, DeviceTensor, RotaryEmbedding, ScatterMode, SplitParts, SplitRotaryScatter, UnaryOp, ops};

/// Deterministic values of order one.
fn values(n: usize, seed: u32) -> Vec<f32> {
    (0..n).map(|i| ((i as u32).wrapping_mul(2_654_435_761).wrapping_add(seed) % 1000) as f32 / 500.0 - 1.0).collect()
}

fn devices() -> Vec<(String, Device)> {
    hcal::available_backends().into_iter().filter_map(|name| Device::open(&name).ok().map(|d| (name, d))).collect()
}

/// What SplitRotaryScatter stands for, op by op: Split, RotaryEmbedding of
/// the query and the key heads at positions `w_b + s`, Transpose, and
/// TensorScatter of keys and values into copies of the caches. Returns
/// `(q_out, present_key, present_value)`.
fn five_ops(
    dev: &Device,
    [qkv, k_cache, v_cache, cos, sin]: [&DeviceTensor; 5],
    w: &[i64],
    attrs: SplitRotaryScatter,
) -> [Vec<f32>; 3] {
    let (b, s, hq, hkv) = (qkv.shape()[0], qkv.shape()[1], attrs.q_num_heads, attrs.kv_num_heads);
    let d = qkv.shape()[2] / (hq + 2 * hkv);
    let parts = ops::split(qkv, -1, SplitParts::Sizes(vec![hq * d, hkv * d, hkv * d])).unwrap();
    let positions: Vec<i64> = w.iter().flat_map(|&wb| (0..s as i64).map(move |si| wb.saturating_add(si))).collect();
    let positions = dev.tensor_i64(&[b, s], &positions).unwrap();
    let rope = |x: &DeviceTensor, heads: usize| {
        let r = RotaryEmbedding {
            interleaved: attrs.interleaved,
            rotary_embedding_dim: attrs.rotary_embedding_dim,
            num_heads: Some(heads),
        };
        let y = ops::rotary_embedding(x, cos, sin, Some(&positions), r).unwrap();
        ops::transpose(&y.reshape(&[b, s, heads, d]).unwrap(), Some(&[0, 2, 1, 3])).unwrap()
    };
    let q = rope(&parts[0], hq);
    let k = rope(&parts[1], hkv);
    let v = ops::transpose(&parts[2].reshape(&[b, s, hkv, d]).unwrap(), Some(&[0, 2, 1, 3])).unwrap();
    let at = dev.tensor_i64(&[b], w).unwrap();
    let present_k = ops::tensor_scatter(k_cache, &k, Some(&at), 2, ScatterMode::Linear).unwrap();
    let present_v = ops::tensor_scatter(v_cache, &v, Some(&at), 2, ScatterMode::Linear).unwrap();
    [q.to_f32().unwrap(), present_k.to_f32().unwrap(), present_v.to_f32().unwrap()]
}

/// Bit patterns, so NaN rows (positions past the tables) compare equal.
fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}

#[test]
fn split_rotary_scatter_is_the_five_ops_it_stands_for_on_every_backend() {
    // SmolLM2's decode shape, and two tokens per batch entry with positions
    // past the tables (NaN rotations) and outside the cache (dropped writes),
    // rotating half of each head's features in halves.
    let shapes = [
        (
            SplitRotaryScatter { q_num_heads: 9, kv_num_heads: 3, interleaved: true, rotary_embedding_dim: 0 },
            [1, 1, 64, 24, 24],
            vec![17i64],
        ),
        (
            SplitRotaryScatter { q_num_heads: 4, kv_num_heads: 2, interleaved: false, rotary_embedding_dim: 4 },
            [3, 2, 8, 6, 6],
            vec![5, -1, 2],
        ),
        // Write indices whose w + s needs all 64 bits: only position 0 (from -1) is in range.
        (
            SplitRotaryScatter { q_num_heads: 2, kv_num_heads: 1, interleaved: true, rotary_embedding_dim: 0 },
            [3, 2, 4, 5, 5],
            vec![i64::MAX, -(1 << 32), -1],
        ),
    ];
    for (name, dev) in devices() {
        for (attrs, [b, s, d, m, rows], w) in &shapes {
            let (hq, hkv, attrs) = (attrs.q_num_heads, attrs.kv_num_heads, *attrs);
            let half = if attrs.rotary_embedding_dim == 0 { d / 2 } else { attrs.rotary_embedding_dim / 2 };
            let qkv = dev.tensor_f32(&[*b, *s, (hq + 2 * hkv) * d], &values(b * s * (hq + 2 * hkv) * d, 1)).unwrap();
            let cache_values = [values(b * hkv * m * d, 2), values(b * hkv * m * d, 3)];
            let cache = |i: usize| dev.tensor_f32(&[*b, hkv, *m, *d], &cache_values[i]).unwrap();
            let cos = dev.tensor_f32(&[*rows, half], &values(rows * half, 4)).unwrap();
            let sin = dev.tensor_f32(&[*rows, half], &values(rows * half, 5)).unwrap();
            let (k_cache, v_cache) = (cache(0), cache(1));
            let want = five_ops(&dev, [&qkv, &k_cache, &v_cache, &cos, &sin], w, attrs);
            let at = dev.tensor_i64(&[*b], w).unwrap();
            // Into new tensors, then in place.
            let signature = hcal::OpSignature::new(
                hcal::Op::SplitRotaryScatter(attrs),
                [&qkv, &k_cache, &v_cache, &at, &cos, &sin].iter().map(|t| Some(t.desc().clone())).collect(),
            )
            .unwrap();
            let outs: Vec<DeviceTensor> = signature.outputs().iter().map(|o| dev.alloc(o).unwrap()).collect();
            let inputs = [&qkv, &k_cache, &v_cache, &at, &cos, &sin].map(Some);
            dev.run_signature(signature, &inputs, &[Some(&outs[0]), Some(&outs[1]), Some(&outs[2])]).unwrap();
            let q = ops::split_rotary_scatter(&qkv, &k_cache, &v_cache, &at, &cos, &sin, attrs).unwrap();
            let got_new = outs.iter().map(|t| t.to_f32().unwrap());
            for (slot, (new, want)) in got_new.zip(&want).enumerate() {
                assert_eq!(bits(&new), bits(want), "{name} {attrs:?}: output {slot} into a new tensor");
            }
            let in_place = [q.to_f32().unwrap(), k_cache.to_f32().unwrap(), v_cache.to_f32().unwrap()];
            for (slot, (got, want)) in in_place.iter().zip(&want).enumerate() {
                assert_eq!(bits(got), bits(want), "{name} {attrs:?}: output {slot} in place");
            }
            // The test has teeth: keys were written, and positions outside the tables rotate to NaN.
            assert_ne!(bits(&in_place[1]), bits(&cache_values[0]), "{name}: no key was written");
            let outside =
                w.iter().any(|&wb| (0..*s as i64).any(|si| !(0..*rows as i64).contains(&wb.saturating_add(si))));
            assert_eq!(in_place[0].iter().any(|x| x.is_nan()), outside, "{name}: NaN rotations");
        }
    }
}

#[test]
fn gated_unary_is_split_unary_and_mul_on_every_backend() {
    // SwiGLU at SmolLM2's width, rows of odd halves, and the other activations.
    let shapes: [&[usize]; 3] = [&[1, 3072], &[3, 34], &[2, 5, 2]];
    for (name, dev) in devices() {
        for (shape, activation) in shapes.iter().zip([UnaryOp::Silu, UnaryOp::Sigmoid, UnaryOp::Tanh]) {
            let n: usize = shape.iter().product();
            // Values of order 10, so the activations leave their linear ranges.
            let x: Vec<f32> = values(n, 7).iter().map(|v| 10.0 * v).collect();
            let x = dev.tensor_f32(shape, &x).unwrap();
            let got = ops::gated_unary(&x, activation).unwrap().to_f32().unwrap();
            let halves = ops::split(&x, -1, SplitParts::Equal(2)).unwrap();
            let f = ops::unary(&halves[0], activation).unwrap();
            let want = ops::binary(&f, &halves[1], hcal::BinaryOp::Mul).unwrap().to_f32().unwrap();
            assert_eq!(bits(&got), bits(&want), "{name} {activation:?} {shape:?}");
        }
    }
}

/// RMSNormGemm's reference runs its definition, so it gives the bits of
/// RMSNormalization then Gemm. (Devices are held to the conformance bound
/// instead: wgpu's normalizing GEMV takes the row's 1/rms out of the sum,
/// `inv * sum_k (a_k s_k) b_kj`, which rounds differently; the SmolLM2
/// shapes below are conformance cases too.)
#[test]
fn rms_norm_gemm_is_rms_norm_then_gemm_on_the_reference() {
    // SmolLM2's decode projections (Q4_1 weights as stored, [N, K]), a few
    // rows of a Q8_0 and a Q4_0 product, prefill rows, an f32 B with C.
    let cases: [(usize, usize, usize, hcal::DType, bool); 6] = [
        (1, 576, 960, hcal::DType::Q4_1, false),
        (1, 576, 3072, hcal::DType::Q4_1, false),
        (3, 96, 65, hcal::DType::Q8_0, true),
        (2, 224, 67, hcal::DType::Q4_0, true),
        (13, 160, 70, hcal::DType::Q4_1, false),
        (2, 40, 7, hcal::DType::F32, true),
    ];
    let dev = Device::open("cpu").unwrap();
    for &(m, k, n, dtype, with_c) in &cases {
        let a = dev.tensor_f32(&[m, k], &values(m * k, 1)).unwrap();
        let scale: Vec<f32> = values(k, 2).iter().map(|v| 1.0 + 0.5 * v).collect();
        let scale = dev.tensor_f32(&[k], &scale).unwrap();
        let b = dev.tensor_from_f32(hcal::TensorDesc::new([n, k], dtype), &values(n * k, 3)).unwrap();
        let c = with_c.then(|| dev.tensor_f32(&[n], &values(n, 4)).unwrap());
        let attrs = hcal::RmsNormGemm { epsilon: 1e-5, alpha: 0.5, beta: 1.0, trans_b: true };
        let got = ops::rms_norm_gemm(&a, &scale, &b, c.as_ref(), attrs).unwrap().to_f32().unwrap();
        let normed = ops::rms_norm(&a, &scale, -1, attrs.epsilon).unwrap();
        let want = ops::gemm(&normed, &b, c.as_ref(), attrs.gemm()).unwrap().to_f32().unwrap();
        assert_eq!(bits(&got), bits(&want), "RMSNormGemm {m}x{n}x{k} B {dtype}");
    }
}
