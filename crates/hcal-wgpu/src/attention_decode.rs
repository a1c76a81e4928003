//! `decode_split_grouped`: the split (flash-decoding) path's per-chunk kernel
//! for SIMD CPU drivers, generated per head geometry and appended to
//! `shaders/attention.wgsl`.
//!
//! It computes what `decode_split`'s `split_item` computes, with the same
//! fmas in the same order (the same bits by construction; conformance checks
//! the values), with two differences in how:
//! - **One item per (key/value head, query position, chunk of keys)**, doing
//!   the `G = Hq / Hkv` query heads that read that key/value head together, so
//!   each key and value row is loaded once for all of them instead of once
//!   per query head. On SIMD CPU drivers a storage load costs a loop over the
//!   lanes, and the loads were most of the kernel's time.
//! - **Named values instead of arrays**: the queries and the running outputs
//!   are `G x D/4` and `G x Dv/4` named vec4s, and the loops over D and Dv are
//!   unrolled here. `split_item`'s `array<vec4<f32>, 64>` locals are indexed
//!   by a loop counter, which lavapipe keeps in memory and reaches with a
//!   gather or scatter per access.
//!
//! (An earlier attempt at the grouping kept the per-head state in
//! loop-indexed private arrays and ran 2-3x slower than `split_item`; the
//! named values are what make the grouping pay.)
//!
//! lavapipe (2 threads, 8-wide), `hcal bench --backend wgpu:vulkan:0:split
//! --op attention`, Hq 9, D 64, one query, three alternations each, old / new:
//! - Hkv 3 (G 3): 1000 keys 1.10-1.79 ms / 0.64-0.69 ms; 4000 keys 4.0-7.1 ms / 2.1-2.7 ms;
//! - Hkv 9 (G 1): 103 keys 188-317 us / 134 us; 1000 keys 1.1-2.0 ms / 0.71-0.73 ms.

use hcal_core::AttentionGeometry;

/// The generated entry's name.
pub(crate) const ENTRY: &str = "decode_split_grouped";

/// Largest `G x (D/4 + Dv/4)` the generated kernel takes: its named values
/// (queries, outputs, one key and one value row) then stay near 200 vec4s,
/// which the JIT keeps in registers and stack slots; larger heads and groups
/// take `split_item`.
const MAX_GROUP_VEC4S: usize = 128;

/// The kernel variant for `g` query heads per key/value head and `d4`, `dv4`
/// vec4s per key and value row: `g` in bits 0-3, `d4 - 1` in bits 4-8 and
/// `dv4 - 1` in bits 9-13 (bit 14 is `pipeline::F16_IO`, unused here: the
/// kernel is f32 only).
pub(crate) fn variant(g: usize, d4: usize, dv4: usize) -> u16 {
    debug_assert!((1..16).contains(&g) && (1..=32).contains(&d4) && (1..=32).contains(&dv4));
    g as u16 | ((d4 - 1) as u16) << 4 | ((dv4 - 1) as u16) << 9
}

/// `(g, d4, dv4)` of a [`variant`].
fn fields(variant: u16) -> (u32, u32, u32) {
    (u32::from(variant & 0xf), u32::from((variant >> 4) & 0x1f) + 1, u32::from((variant >> 9) & 0x1f) + 1)
}

/// The variant that runs the split path's chunks of `g` on a SIMD CPU
/// driver, or `None` when `split_item` must: f16 Q/K/V (its f16 form is not
/// generated), heads not a multiple of 4 or over 128, or a group whose
/// named values would exceed [`MAX_GROUP_VEC4S`].
pub(crate) fn variant_for(g: &AttentionGeometry, f16: bool) -> Option<u16> {
    let group = g.q_heads / g.kv_heads.max(1);
    let (d4, dv4) = (g.head_dim / 4, g.v_head_dim / 4);
    let fits = !f16
        && g.kv_heads > 0
        && g.q_heads % g.kv_heads == 0
        && (1..16).contains(&group)
        && g.head_dim % 4 == 0
        && g.v_head_dim % 4 == 0
        && (1..=32).contains(&d4)
        && (1..=32).contains(&dv4)
        && group * (d4 + dv4) <= MAX_GROUP_VEC4S;
    fits.then(|| variant(group, d4, dv4))
}

/// The items (one invocation each) of a call with `rows` query rows split in
/// `chunks` chunks of keys, for `variant`'s group size.
pub(crate) fn items(variant: u16, rows: usize, chunks: usize) -> usize {
    rows / fields(variant).0 as usize * chunks
}

/// `attention.wgsl` with the `decode_split_grouped` entry of `variant` appended.
pub(crate) fn expand(text: &str, variant: u16) -> String {
    let (g, d4, dv4) = fields(variant);
    format!("{text}\n{}", entry(g, d4, dv4))
}

/// Expansions for shader validation: group sizes 1, 3 and 4 at D = Dv = 64,
/// D = 128 alone, and unequal D and Dv.
pub(crate) fn expansions() -> Vec<(String, String)> {
    [(1, 16, 16), (3, 16, 16), (4, 16, 16), (1, 32, 32), (2, 10, 16)]
        .into_iter()
        .map(|(g, d4, dv4)| {
            let kernel =
                crate::pipeline::Kernel { variant: variant(g, d4, dv4), ..crate::pipeline::kernel("attention", ENTRY) };
            (format!("attention {ENTRY} G{g} D{} Dv{}", 4 * d4, 4 * dv4), crate::pipeline::source(kernel).into_owned())
        })
        .collect()
}

/// The entry's WGSL: `split_item` for the `g` query rows (b, hkv g + h, i),
/// h < g, of item (b, hkv, i, chunk), their values named `q{h}_{c}`,
/// `o{h}_{c}`, `m{h}`, `l{h}`, and the key and value rows `kk{c}`, `vv{c}`
/// (not `k{c}`/`v{c}`: `k4` and `v4` are the bindings).
fn entry(g: u32, d4: u32, dv4: u32) -> String {
    let mut t = String::new();
    let mut line = |s: String| {
        t.push_str(&s);
        t.push('\n');
    };
    line("// Generated by crates/hcal-wgpu/src/attention_decode.rs: `split_item` for the".into());
    line(format!("// {g} query heads of one key/value head together, D = {}, Dv = {}, named values.", 4 * d4, 4 * dv4));
    line("@compute @workgroup_size(8)".into());
    line("fn decode_split_grouped(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {".into());
    line("    let item = gid.x + gid.y * nwg.x * 8u;".into());
    line("    let chunks = params.split_chunks;".into());
    line(format!("    if item >= params.rows / {g}u * chunks {{ return; }}"));
    line("    let chunk = item % chunks;".into());
    line("    let sq = params.q_len;".into());
    line("    let i = (item / chunks) % sq;".into());
    line("    let bh = item / chunks / sq;".into());
    line("    let b = bh / params.kv_heads;".into());
    line("    let total = params.total_len;".into());
    line("    let kv_base = bh * total;".into());
    line("    let neg_inf = bitcast<f32>(0xff800000u | (total & 0u));".into());
    for h in 0..g {
        line(format!("    let h{h} = (bh % params.kv_heads) * {g}u + {h}u;"));
        line(format!("    let row{h} = (b * params.q_heads + h{h}) * sq + i;"));
        line(format!("    let qo{h} = qy_row(row{h}) * {d4}u;"));
        for c in 0..d4 {
            line(format!("    let q{h}_{c} = q4[qo{h} + {c}u];"));
        }
        line(format!("    var m{h} = neg_inf;"));
        line(format!("    var l{h} = 0.0;"));
        for c in 0..dv4 {
            line(format!("    var o{h}_{c} = vec4<f32>(0.0);"));
        }
    }
    line("    let pp = prep_params(b);".into());
    line("    // Keys a row cannot see (causal, or past its valid length) are skipped, not masked.".into());
    line("    let keys = key_limit(b, i);".into());
    line("    let span = split_span(keys, chunks);".into());
    line("    let j0 = chunk * span;".into());
    line("    let j1 = min(keys, j0 + span);".into());
    line("    for (var j = j0; j < j1; j++) {".into());
    line(format!("        let kb = (kv_base + j) * {d4}u;"));
    for c in 0..d4 {
        line(format!("        let kk{c} = k4[kb + {c}u];"));
    }
    line(format!("        let vb = (kv_base + j) * {dv4}u;"));
    for c in 0..dv4 {
        line(format!("        let vv{c} = v4[vb + {c}u];"));
    }
    for h in 0..g {
        line(format!("        var dot{h} = vec4<f32>(0.0);"));
        for c in 0..d4 {
            line(format!("        dot{h} = fma(q{h}_{c}, kk{c}, dot{h});"));
        }
        line(format!(
            "        let s{h} = prep_with((dot{h}.x + dot{h}.y) + (dot{h}.z + dot{h}.w), b, h{h}, i, j, pp);"
        ));
        line("        // A masked key adds nothing (and must not make exp(-inf + inf) = NaN).".into());
        line(format!("        if s{h} != neg_inf {{"));
        line(format!("            if s{h} > m{h} {{"));
        line(format!("                let factor = exp(m{h} - s{h});"));
        line(format!("                l{h} = l{h} * factor;"));
        for c in 0..dv4 {
            line(format!("                o{h}_{c} = o{h}_{c} * factor;"));
        }
        line(format!("                m{h} = s{h};"));
        line("            }".into());
        line(format!("            let p = exp(s{h} - m{h});"));
        line(format!("            l{h} += p;"));
        for c in 0..dv4 {
            line(format!("            o{h}_{c} = fma(vec4<f32>(p), vv{c}, o{h}_{c});"));
        }
        line("        }".into());
    }
    line("    }".into());
    let stride = 2 + 4 * dv4;
    for h in 0..g {
        line(format!("    let base{h} = (row{h} * chunks + chunk) * {stride}u;"));
        line(format!("    partials[base{h}] = m{h};"));
        line(format!("    partials[base{h} + 1u] = l{h};"));
        for c in 0..dv4 {
            for (e, lane) in ["x", "y", "z", "w"].into_iter().enumerate() {
                line(format!("    partials[base{h} + {}u] = o{h}_{c}.{lane};", 2 + 4 * c + e as u32));
            }
        }
    }
    line("}".into());
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    fn geometry(q_heads: usize, kv_heads: usize, head_dim: usize, v_head_dim: usize) -> AttentionGeometry {
        AttentionGeometry {
            batch: 1,
            q_heads,
            kv_heads,
            q_len: 1,
            kv_len: 1,
            past_len: 100,
            head_dim,
            v_head_dim,
            packed_3d: false,
            mask: None,
            scale: 0.125,
            nonpad_kv_seqlen: false,
        }
    }

    #[test]
    fn variants_round_trip_and_stay_clear_of_the_f16_bit() {
        for (g, d4, dv4) in [(1, 1, 1), (3, 16, 16), (15, 32, 32), (4, 8, 24)] {
            let v = variant(g, d4, dv4);
            assert_eq!(fields(v), (g as u32, d4 as u32, dv4 as u32));
            assert_eq!(v & crate::pipeline::F16_IO, 0);
        }
    }

    #[test]
    fn eligible_geometries() {
        // SmolLM2: 9 query heads over 3, D 64.
        assert_eq!(variant_for(&geometry(9, 3, 64, 64), false), Some(variant(3, 16, 16)));
        assert_eq!(variant_for(&geometry(32, 32, 128, 128), false), Some(variant(1, 32, 32)));
        // f16, D not a multiple of 4, a group too large for named values.
        assert_eq!(variant_for(&geometry(9, 3, 64, 64), true), None);
        assert_eq!(variant_for(&geometry(8, 8, 62, 64), false), None);
        assert_eq!(variant_for(&geometry(32, 8, 128, 128), false), None);
    }

    #[test]
    fn the_entry_has_no_arrays_and_one_block_per_head() {
        let text = entry(3, 16, 16);
        assert!(!text.contains("array<"), "named values only");
        assert_eq!(text.matches("if s").count(), 2 * 3);
        assert!(text.contains("o2_15 = fma(vec4<f32>(p), vv15, o2_15);"));
        assert!(text.contains("partials[base2 + 65u] = o2_15.w;"));
    }
}
