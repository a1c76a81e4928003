//! The in-place KV cache on every available backend: TensorScatter writing
//! into its own past cache (the alias hcal-core allows for it alone) gives
//! exactly what the written-down loops of the standard give, and decode steps
//! over a static cache (scatter in place, then Attention with
//! `nonpad_kv_seqlen`) match attention over just the valid keys.
//! (SplitRotaryScatter, which writes caches too, is in `fused_ops.rs`.)

use hcal::{Attention, DType, Device, DeviceTensor, ScatterMode, TensorDesc, ops};

/// Deterministic values of order one.
fn values(n: usize, seed: u32) -> Vec<f32> {
    (0..n).map(|i| ((i as u32).wrapping_mul(2_654_435_761).wrapping_add(seed) % 1000) as f32 / 500.0 - 1.0).collect()
}

/// `f16` bytes of `v` (rounded to nearest even).
fn f16_bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|&x| half::f16::from_f32(x).to_le_bytes()).collect()
}

/// The expected present cache, straight from `Op::TensorScatter`'s formula:
/// `[B, M, inner]` bytes of `elem` bytes per element, update `[B, S, inner]`.
fn expected(cache: &[u8], update: &[u8], [b, m, s, inner, elem]: [usize; 5], w: &[i64], mode: ScatterMode) -> Vec<u8> {
    let mut out = cache.to_vec();
    let row = inner * elem;
    for (bi, &wb) in w.iter().enumerate().take(b) {
        for si in 0..s {
            let target = wb + si as i64;
            let pos = match mode {
                ScatterMode::Linear if (0..m as i64).contains(&target) => target as usize,
                ScatterMode::Linear => continue,
                ScatterMode::Circular => target.rem_euclid(m as i64) as usize,
            };
            let (dst, src) = ((bi * m + pos) * row, (bi * s + si) * row);
            out[dst..dst + row].copy_from_slice(&update[src..src + row]);
        }
    }
    out
}

fn devices() -> Vec<(String, Device)> {
    hcal::available_backends().into_iter().filter_map(|name| Device::open(&name).ok().map(|d| (name, d))).collect()
}

#[test]
fn tensor_scatter_in_place_matches_the_formula_on_every_backend() {
    // Rows of 3 f16 elements (6 bytes) start and end mid-word; negative and
    // wrapping write indices.
    let (b, m, s, inner) = (3, 7, 3, 3);
    for (name, dev) in devices() {
        for mode in [ScatterMode::Linear, ScatterMode::Circular] {
            let w = [5i64, -2, 1];
            let cache_bytes = f16_bytes(&values(b * m * inner, 1));
            let update_bytes = f16_bytes(&values(b * s * inner, 2));
            let cache = dev.tensor_from_bytes(TensorDesc::new([b, m, inner], DType::F16), &cache_bytes).unwrap();
            let update = dev.tensor_from_bytes(TensorDesc::new([b, s, inner], DType::F16), &update_bytes).unwrap();
            let at = dev.tensor_i64(&[b], &w).unwrap();
            let want = expected(&cache_bytes, &update_bytes, [b, m, s, inner, 2], &w, mode);
            let copied = ops::tensor_scatter(&cache, &update, Some(&at), 1, mode).unwrap();
            ops::tensor_scatter_in_place(&cache, &update, Some(&at), 1, mode).unwrap();
            assert_eq!(copied.to_bytes().unwrap(), want, "{name} {mode:?}: present_cache as a new tensor");
            assert_eq!(cache.to_bytes().unwrap(), want, "{name} {mode:?}: present_cache written in place");
        }
    }
}

/// `[B, H, T, D]` rows `0..n` of `x` (each batch entry its own `n`).
fn prefix(x: &[f32], [b, h, t, d]: [usize; 4], n: usize) -> Vec<f32> {
    let mut out = Vec::new();
    for bh in 0..b * h {
        out.extend_from_slice(&x[bh * t * d..(bh * t + n) * d]);
    }
    out
}

#[test]
fn decode_steps_over_a_static_cache_match_attention_over_the_valid_keys() {
    let (hq, hkv, t, d) = (4, 2, 16, 8);
    for (name, dev) in devices() {
        let zeros = vec![0f32; hkv * t * d];
        let k_cache = dev.tensor_f32(&[1, hkv, t, d], &zeros).unwrap();
        let v_cache = dev.tensor_f32(&[1, hkv, t, d], &zeros).unwrap();
        let (mut keys, mut vals) = (zeros.clone(), zeros);
        let attrs = Attention { is_causal: true, ..Attention::default() };
        for step in 0..5usize {
            let k = values(hkv * d, 10 + step as u32);
            let v = values(hkv * d, 20 + step as u32);
            for h in 0..hkv {
                keys[(h * t + step) * d..(h * t + step + 1) * d].copy_from_slice(&k[h * d..(h + 1) * d]);
                vals[(h * t + step) * d..(h * t + step + 1) * d].copy_from_slice(&v[h * d..(h + 1) * d]);
            }
            let at = dev.tensor_i64(&[1], &[step as i64]).unwrap();
            let new_k = dev.tensor_f32(&[1, hkv, 1, d], &k).unwrap();
            let new_v = dev.tensor_f32(&[1, hkv, 1, d], &v).unwrap();
            ops::tensor_scatter_in_place(&k_cache, &new_k, Some(&at), -2, ScatterMode::Linear).unwrap();
            ops::tensor_scatter_in_place(&v_cache, &new_v, Some(&at), -2, ScatterMode::Linear).unwrap();
            let q = dev.tensor_f32(&[1, hq, 1, d], &values(hq * d, 30 + step as u32)).unwrap();
            let valid = dev.tensor_i64(&[1], &[step as i64 + 1]).unwrap();
            let y = ops::attention_static_cache(&q, &k_cache, &v_cache, &valid, attrs).unwrap().to_f32().unwrap();
            let n = step + 1;
            let kn: DeviceTensor = dev.tensor_f32(&[1, hkv, n, d], &prefix(&keys, [1, hkv, t, d], n)).unwrap();
            let vn = dev.tensor_f32(&[1, hkv, n, d], &prefix(&vals, [1, hkv, t, d], n)).unwrap();
            // One query over exactly the valid keys sees them all (without a past,
            // a causal mask would align to key 0, so it is left off here).
            let want = ops::attention(&q, &kn, &vn, Attention::default()).unwrap().to_f32().unwrap();
            for (i, (g, w)) in y.iter().zip(&want).enumerate() {
                assert!((g - w).abs() <= 1e-5, "{name} step {step} element {i}: {g} vs {w} over the valid keys");
            }
        }
    }
}
