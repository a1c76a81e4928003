//! `decode_split_grouped`: the split (flash-decoding) path's per-chunk kernel
//! for SIMD CPU drivers, generated per head geometry and appended to
//! `shaders/attention.wgsl`; and `decode_grouped_combined`, the same chunks
//! as the lanes of one workgroup that merges them itself, so that a decode
//! step's attention is one dispatch instead of two (chunks, then
//! `decode_combine`).
//!
//! The combined entry merges as `decode_combine` does (running max, `fma`s
//! in chunk order, one division), so it gives the bits of the two-dispatch
//! path with the same [`COMBINED_LANES`] chunks. SmolLM2's decode (Hq 9,
//! Hkv 3, D 64) on lavapipe, `hcal bench --backend wgpu:vulkan:0 --op
//! attention --kv-heads 3`, two alternations, combined / two dispatches:
//! 100 keys 91.9, 90.4 / 119.3, 117.3 us; 500 keys 226, 311 / 349, 338 us;
//! 2000 keys 727, 1010 / 927, 1160 us.
//!
//! Where subgroups are exactly [`COMBINED_LANES`] wide (lavapipe's default),
//! the combined entry merges by subgroup broadcasts instead of workgroup
//! memory and a barrier ([`entry_combined_subgroup`], the same bits; `:wgmerge`
//! pins the workgroup form). On lavapipe every workgroup-memory access whose
//! index depends on the lane is a loop over the lanes, and the merge's were
//! most of the kernel's fixed cost. `hcal bench --backend wgpu:vulkan:0
//! --baseline wgpu:vulkan:0:wgmerge --op attention --kv-heads 3`, Hq 9, D 64,
//! one query, interleaved: 40 keys 70.6 us (1.31x), 110 keys 130 us (1.17x),
//! 400 keys 225 us (1.07x), 1000 keys 504 us (1.04x). The SmolLM2 chat's
//! decode steps (`decode_ab`, 128 step pairs, 4 runs alternating which side
//! ran first): 1.065x, 1.089x, 1.042x, 1.008x, faster in 64% of the pairs.
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

/// The combined entry's name: [`ENTRY`]'s chunks as the lanes of one
/// workgroup, which merges them itself, so the split path needs no
/// `decode_combine` dispatch.
pub(crate) const ENTRY_COMBINED: &str = "decode_grouped_combined";

/// How reports name [`ENTRY_COMBINED`] in its [`SUBGROUP_MERGE`] form.
pub(crate) const ENTRY_COMBINED_SUBGROUP: &str = "decode_grouped_combined-subgroups";

/// Whether [`ENTRY_COMBINED`] merges by subgroup broadcasts on `gpu` with
/// `pins`: its subgroups are exactly [`COMBINED_LANES`] wide (lavapipe's
/// default 8), unless `:wgmerge` pins the workgroup-memory merge.
pub(crate) fn merges_by_subgroup(gpu: &crate::gpu::Gpu, pins: &crate::pins::Pins) -> bool {
    gpu.subgroup_fixed == Some(COMBINED_LANES as u32) && !pins.workgroup_merge
}

/// Kernel-variant flag of [`ENTRY_COMBINED`] merging by subgroup
/// broadcasts ([`entry_combined_subgroup`]), where subgroups are exactly
/// [`COMBINED_LANES`] wide; bit 15, above the geometry and `F16_IO`.
pub(crate) const SUBGROUP_MERGE: u16 = 1 << 15;

/// Chunks of keys, and invocations, per workgroup of [`ENTRY_COMBINED`]:
/// one SIMD row of lavapipe's 8-wide subgroups.
pub(crate) const COMBINED_LANES: usize = 8;

/// Largest `G x (D/4 + Dv/4)` the generated kernel takes: its named values
/// (queries, outputs, one key and one value row) then stay near 200 vec4s,
/// which the JIT keeps in registers and stack slots; larger heads and groups
/// take `split_item`.
const MAX_GROUP_VEC4S: usize = 128;

/// The kernel variant for `g` query heads per key/value head and `d4`, `dv4`
/// vec4s per key and value row: `g` in bits 0-3, `d4 - 1` in bits 4-8 and
/// `dv4 - 1` in bits 9-13 (bit 14 is `pipeline::F16_IO`, the storage form).
pub(crate) fn variant(g: usize, d4: usize, dv4: usize) -> u16 {
    debug_assert!((1..16).contains(&g) && (1..=32).contains(&d4) && (1..=32).contains(&dv4));
    g as u16 | ((d4 - 1) as u16) << 4 | ((dv4 - 1) as u16) << 9
}

/// `(g, d4, dv4)` of a [`variant`].
fn fields(variant: u16) -> (u32, u32, u32) {
    (u32::from(variant & 0xf), u32::from((variant >> 4) & 0x1f) + 1, u32::from((variant >> 9) & 0x1f) + 1)
}

/// The variant that runs the split path's chunks of `g` on a SIMD CPU
/// driver, or `None` when `split_item` must: heads not a multiple of 4 or
/// over 128, or a group whose named values would exceed
/// [`MAX_GROUP_VEC4S`]. (f16 or f32 storage is the kernel's `F16_IO` bit,
/// set by the caller.)
pub(crate) fn variant_for(g: &AttentionGeometry) -> Option<u16> {
    let group = g.q_heads / g.kv_heads.max(1);
    let (d4, dv4) = (g.head_dim / 4, g.v_head_dim / 4);
    let fits = g.kv_heads > 0
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

/// Whether [`ENTRY_COMBINED`] runs a call of `g` with `variant` on a CPU
/// driver with `threads` threads: its workgroups (one per G query heads)
/// occupy every thread, and its fixed [`COMBINED_LANES`] chunks keep each
/// invocation's loop within the driver's limit (`max_keys` per chunk) even
/// when every position of the cache is valid.
pub(crate) fn combined_fits(g: &AttentionGeometry, variant: u16, threads: usize, max_keys: usize) -> bool {
    let workgroups = items(variant, g.batch * g.q_heads * g.q_len, 1);
    workgroups >= threads && g.total_len().div_ceil(max_keys.max(1)) <= COMBINED_LANES
}

/// Whether the split path runs `g` with [`ENTRY_COMBINED`] on `gpu`: a CPU
/// driver, a geometry the generated kernels take, and [`combined_fits`].
pub(crate) fn combined_on(gpu: &crate::gpu::Gpu, g: &AttentionGeometry) -> bool {
    match (gpu.cpu_driver_threads(), variant_for(g)) {
        (Some(threads), Some(variant)) => combined_fits(g, variant, threads, crate::attention::max_keys_per_chunk(g)),
        _ => false,
    }
}

/// `attention.wgsl` (already in its storage form) with both generated
/// entries ([`ENTRY`] and [`ENTRY_COMBINED`]) of `variant` appended, in the
/// same form: f16 (`f16`, the `// F16` lines: Q, K and V widened as loaded,
/// Y written as f16 pairs) or f32. The pipeline cache keeps one module per
/// shader and variant, whichever entry asked for it first.
pub(crate) fn expand(text: &str, variant: u16, f16: bool) -> String {
    let (g, d4, dv4) = fields(variant);
    let drop = if f16 { "// F32" } else { "// F16" };
    let merge =
        if variant & SUBGROUP_MERGE != 0 { entry_combined_subgroup(g, d4, dv4) } else { entry_combined(g, d4, dv4) };
    let generated = format!("{}\n{}", entry(g, d4, dv4), merge);
    let kept: String = generated.lines().filter(|l| !l.ends_with(drop)).flat_map(|l| [l, "\n"]).collect();
    format!("{text}\n{kept}")
}

/// Expansions for shader validation (each holds both entries, in both
/// storage forms and both merges): group sizes 1, 3 and 4 at D = Dv = 64,
/// D = 128 alone, and unequal D and Dv.
pub(crate) fn expansions() -> Vec<(String, String)> {
    let forms = [(0, "f32"), (crate::pipeline::F16_IO, "f16")];
    let merges = [(0, "workgroup merge"), (SUBGROUP_MERGE, "subgroup merge")];
    [(1, 16, 16), (3, 16, 16), (4, 16, 16), (1, 32, 32), (2, 10, 16)]
        .into_iter()
        .flat_map(|(g, d4, dv4)| {
            forms.into_iter().flat_map(move |(form, dtype)| {
                merges.into_iter().map(move |(merge, how)| {
                    let variant = variant(g, d4, dv4) | form | merge;
                    let kernel = crate::pipeline::Kernel { variant, ..crate::pipeline::kernel("attention", ENTRY) };
                    let name = format!("attention {ENTRY} G{g} D{} Dv{} ({dtype}, {how})", 4 * d4, 4 * dv4);
                    (name, crate::pipeline::source(kernel).into_owned())
                })
            })
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
    line(format!(
        "fn {ENTRY}(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {{"
    ));
    line("    let item = gid.x + gid.y * nwg.x * 8u;".into());
    line("    let chunks = params.split_chunks;".into());
    line(format!("    if item >= params.rows / {g}u * chunks {{ return; }}"));
    line("    let chunk = item % chunks;".into());
    line("    let sq = params.q_len;".into());
    line("    let i = (item / chunks) % sq;".into());
    line("    let bh = item / chunks / sq;".into());
    chunk_loop(&mut line, g, d4, dv4);
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

/// The combined entry's WGSL: one workgroup per item (b, hkv, i), its
/// [`COMBINED_LANES`] invocations the chunks of [`entry`], which leave their
/// partial results in workgroup memory; after a barrier the lanes share out
/// the `g x dv4` output vec4s and merge the chunks as `decode_combine` does
/// (the running max, then `fma`s in chunk order, then one division), writing
/// Y directly.
fn entry_combined(g: u32, d4: u32, dv4: u32) -> String {
    let mut t = String::new();
    let mut line = |s: String| {
        t.push_str(&s);
        t.push('\n');
    };
    let lanes = COMBINED_LANES as u32;
    line("// Generated by crates/hcal-wgpu/src/attention_decode.rs: `decode_split_grouped` with".into());
    line(format!("// its {lanes} chunks in one workgroup, merged there: D = {}, Dv = {}, G = {g}.", 4 * d4, 4 * dv4));
    line(format!("var<workgroup> part_m: array<f32, {}>;", lanes * g));
    line(format!("var<workgroup> part_l: array<f32, {}>;", lanes * g));
    line(format!("var<workgroup> part_o: array<vec4<f32>, {}>;", lanes * g * dv4));
    let why = "Whole workgroups return together, so the barrier below stays uniform.";
    combined_head(&mut line, ("local_invocation_index", why), g, d4, dv4);
    for h in 0..g {
        line(format!("    part_m[lane * {g}u + {h}u] = m{h};"));
        line(format!("    part_l[lane * {g}u + {h}u] = l{h};"));
        for c in 0..dv4 {
            line(format!("    part_o[(lane * {g}u + {h}u) * {dv4}u + {c}u] = o{h}_{c};"));
        }
    }
    line("    workgroupBarrier();".into());
    line(format!("    for (var at = lane; at < {}u; at += {lanes}u) {{", g * dv4));
    line(format!("        let h = at / {dv4}u;"));
    line(format!("        let c = at % {dv4}u;"));
    line("        var mx = neg_inf;".into());
    line(format!("        for (var k = 0u; k < {lanes}u; k++) {{ mx = max(mx, part_m[k * {g}u + h]); }}"));
    line("        // A fully masked row has mx = -inf, so every weight is NaN: NaN, as ONNX defines it.".into());
    line("        var l = 0.0;".into());
    line("        var acc = vec4<f32>(0.0);".into());
    line(format!("        for (var k = 0u; k < {lanes}u; k++) {{"));
    line(format!("            let w = exp(part_m[k * {g}u + h] - mx);"));
    line(format!("            l = fma(part_l[k * {g}u + h], w, l);"));
    line(format!("            acc = fma(part_o[(k * {g}u + h) * {dv4}u + c], vec4<f32>(w), acc);"));
    line("        }".into());
    write_output(&mut line, g, dv4);
    line("    }".into());
    line("}".into());
    t
}

/// [`entry_combined`] for subgroups of exactly [`COMBINED_LANES`] lanes (the
/// variant flag [`SUBGROUP_MERGE`]): the workgroup is one subgroup, so the
/// chunks' partial results pass between lanes by `subgroupBroadcast` from
/// constant lanes instead of workgroup memory and a barrier. Every lane
/// forms every merged output with the same operations in the same order as
/// `decode_combine` (the running max over the chunks in order, then `fma`s
/// in chunk order); lane `L` then writes outputs `8 j + L`, picked by
/// `select`, each divided once by its `l`. The same bits as
/// [`entry_combined`].
///
/// Why: on lavapipe a workgroup-memory store or load whose index depends on
/// the lane is a loop over the lanes, and the merge's 2 x 8 x G x Dv/4 of
/// them were most of the kernel's fixed cost (see the module's numbers).
fn entry_combined_subgroup(g: u32, d4: u32, dv4: u32) -> String {
    let mut t = String::new();
    let mut line = |s: String| {
        t.push_str(&s);
        t.push('\n');
    };
    let lanes = COMBINED_LANES as u32;
    line("// Generated by crates/hcal-wgpu/src/attention_decode.rs: `decode_split_grouped` with".into());
    line(format!(
        "// its {lanes} chunks as the lanes of one subgroup, merged by broadcasts: D = {}, Dv = {}, G = {g}.",
        4 * d4,
        4 * dv4
    ));
    let why = "Whole workgroups (one subgroup each) return together.";
    combined_head(&mut line, ("subgroup_invocation_id", why), g, d4, dv4);
    let outputs = g * dv4;
    for h in 0..g {
        line(format!("    var mx{h} = neg_inf;"));
        for k in 0..lanes {
            line(format!("    mx{h} = max(mx{h}, subgroupBroadcast(m{h}, {k}u));"));
        }
        line("    // A fully masked row has mx = -inf, so every weight is NaN: NaN, as ONNX defines it.".into());
        line(format!("    var l{h}_all = 0.0;"));
        for k in 0..lanes {
            line(format!("    let w{h}_{k} = exp(subgroupBroadcast(m{h}, {k}u) - mx{h});"));
            line(format!("    l{h}_all = fma(subgroupBroadcast(l{h}, {k}u), w{h}_{k}, l{h}_all);"));
        }
        for c in 0..dv4 {
            line(format!("    var y{h}_{c} = vec4<f32>(0.0);"));
            for k in 0..lanes {
                line(format!("    y{h}_{c} = fma(subgroupBroadcast(o{h}_{c}, {k}u), vec4<f32>(w{h}_{k}), y{h}_{c});"));
            }
        }
    }
    // Output `at` (0..G Dv/4) is head at / dv4, vec4 at % dv4.
    let name = |at: u32| (format!("y{}_{}", at / dv4, at % dv4), format!("l{}_all", at / dv4));
    for j in 0..outputs.div_ceil(lanes) {
        let first = j * lanes;
        let count = lanes.min(outputs - first);
        let (mut acc, mut l) = name(first);
        for at in first + 1..first + count {
            let (a, b) = name(at);
            let pick = format!("lane == {}u", at - first);
            acc = format!("select({acc}, {a}, {pick})");
            l = format!("select({l}, {b}, {pick})");
        }
        line(format!("    let at{j} = {first}u + lane;"));
        line(format!("    if at{j} < {outputs}u {{"));
        line(format!("        let acc = {acc};"));
        line(format!("        let l = {l};"));
        line(format!("        let h = at{j} / {dv4}u;"));
        line(format!("        let c = at{j} % {dv4}u;"));
        write_output(&mut line, g, dv4);
        line("    }".into());
    }
    line("}".into());
    t
}

/// The combined entries' start: the entry point (its lane number from the
/// built-in `lane_builtin`), the note on its early return, the workgroup's
/// item (b h, i) and the chunk loop ([`chunk_loop`]), one chunk per lane.
fn combined_head(line: &mut impl FnMut(String), (lane_builtin, why): (&str, &str), g: u32, d4: u32, dv4: u32) {
    let lanes = COMBINED_LANES as u32;
    line(format!("@compute @workgroup_size({lanes})"));
    line(format!(
        "fn {ENTRY_COMBINED}(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin({lane_builtin}) lane: u32) {{"
    ));
    line(format!("    // {why}"));
    line("    let group = wid.x + wid.y * nwg.x;".into());
    line(format!("    if group >= params.rows / {g}u {{ return; }}"));
    line(format!("    let chunks = {lanes}u;"));
    line("    let chunk = lane;".into());
    line("    let sq = params.q_len;".into());
    line("    let i = group % sq;".into());
    line("    let bh = group / sq;".into());
    chunk_loop(line, g, d4, dv4);
}

/// The combined entries' store of one merged output vec4: `acc / l` for
/// vec4 `c` of query head `h` of the group, as f32 or f16 pairs.
fn write_output(line: &mut impl FnMut(String), g: u32, dv4: u32) {
    line(format!("        let row = (b * params.q_heads + (bh % params.kv_heads) * {g}u + h) * sq + i;"));
    line(format!("        let out = qy_row(row) * {}u + 4u * c;", 4 * dv4));
    line("        y[out] = acc.x / l; // F32".into());
    line("        y[out + 1u] = acc.y / l; // F32".into());
    line("        y[out + 2u] = acc.z / l; // F32".into());
    line("        y[out + 3u] = acc.w / l; // F32".into());
    line("        y16[out / 2u] = f32_to_f16_bits(acc.x / l) | (f32_to_f16_bits(acc.y / l) << 16u); // F16".into());
    line(
        "        y16[out / 2u + 1u] = f32_to_f16_bits(acc.z / l) | (f32_to_f16_bits(acc.w / l) << 16u); // F16".into(),
    );
}

/// The part both entries share: from the item's (b h, i, chunk) (names `bh`,
/// `i`, `chunk`, `chunks` already bound) through the loop over the chunk's
/// keys, leaving `m{h}`, `l{h}`, `o{h}_{c}`, `row{h}`, `b` and `neg_inf`.
fn chunk_loop(line: &mut impl FnMut(String), g: u32, d4: u32, dv4: u32) {
    line("    let b = bh / params.kv_heads;".into());
    line("    let total = params.total_len;".into());
    line("    let kv_base = bh * total;".into());
    line("    let neg_inf = bitcast<f32>(0xff800000u | (total & 0u));".into());
    for h in 0..g {
        line(format!("    let h{h} = (bh % params.kv_heads) * {g}u + {h}u;"));
        line(format!("    let row{h} = (b * params.q_heads + h{h}) * sq + i;"));
        line(format!("    let qo{h} = qy_row(row{h}) * {d4}u;"));
        for c in 0..d4 {
            line(format!("    let q{h}_{c} = q4[qo{h} + {c}u]; // F32"));
            line(format!("    let q{h}_{c} = widen4(q4[qo{h} + {c}u]); // F16"));
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
        line(format!("        let kk{c} = k4[kb + {c}u]; // F32"));
        line(format!("        let kk{c} = widen4(k4[kb + {c}u]); // F16"));
    }
    line(format!("        let vb = (kv_base + j) * {dv4}u;"));
    for c in 0..dv4 {
        line(format!("        let vv{c} = v4[vb + {c}u]; // F32"));
        line(format!("        let vv{c} = widen4(v4[vb + {c}u]); // F16"));
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
        assert_eq!(variant_for(&geometry(9, 3, 64, 64)), Some(variant(3, 16, 16)));
        assert_eq!(variant_for(&geometry(32, 32, 128, 128)), Some(variant(1, 32, 32)));
        // D not a multiple of 4, a group too large for named values.
        assert_eq!(variant_for(&geometry(8, 8, 62, 64)), None);
        assert_eq!(variant_for(&geometry(32, 8, 128, 128)), None);
    }

    /// The combined entry's workgroup memory (`part_o`, `part_m`, `part_l`)
    /// for every variant [`variant_for`] allows stays within the 16 KiB every
    /// WebGPU adapter offers (`max_compute_workgroup_storage_size`): `G (D/4 +
    /// Dv/4) <= 128` with `D/4 >= 1` bounds it at `16384 - 64 G` bytes.
    #[test]
    fn the_combined_entry_fits_the_smallest_workgroup_memory() {
        let mut largest = 0;
        for g in 1..16 {
            for d4 in 1..=32 {
                for dv4 in 1..=32 {
                    if g * (d4 + dv4) > MAX_GROUP_VEC4S {
                        continue;
                    }
                    largest = largest.max(COMBINED_LANES * g * (dv4 * 16 + 2 * 4));
                }
            }
        }
        assert!(largest <= 16_384, "{largest} bytes of workgroup memory");
    }

    #[test]
    fn combined_runs_where_every_thread_has_a_workgroup_and_loops_stay_short() {
        let smollm2 = geometry(9, 3, 64, 64);
        let v = variant_for(&smollm2).unwrap();
        // 3 workgroups (one per key/value head) for 2 threads; 1240 keys per chunk.
        assert!(combined_fits(&smollm2, v, 2, 1240));
        assert!(!combined_fits(&smollm2, v, 4, 1240), "3 workgroups leave a fourth thread idle");
        let long = AttentionGeometry { past_len: 16_400, ..smollm2 };
        assert!(!combined_fits(&long, v, 2, 1240), "8 chunks of 16,401 keys exceed the loop limit");
    }

    #[test]
    fn the_subgroup_merge_broadcasts_in_chunk_order_and_each_lane_writes_its_share() {
        let text = entry_combined_subgroup(3, 16, 16);
        assert!(!text.contains("var<workgroup>") && !text.contains("Barrier"), "no workgroup memory, no barrier");
        assert!(text.contains("@builtin(subgroup_invocation_id) lane: u32"));
        // The chunks' maxima, weights and sums in chunk order, as decode_combine.
        let order = ["subgroupBroadcast(m0, 0u)", "subgroupBroadcast(m0, 7u)", "let w0_0 ", "let w0_7 "];
        let at: Vec<usize> = order.iter().map(|s| text.find(s).unwrap_or_else(|| panic!("{s}"))).collect();
        assert!(at.windows(2).all(|w| w[0] < w[1]), "{at:?}");
        assert!(text.contains("y2_15 = fma(subgroupBroadcast(o2_15, 7u), vec4<f32>(w2_7), y2_15);"));
        // 48 outputs: 6 rounds of 8 lanes, each output picked once.
        assert_eq!(text.matches("let acc = ").count(), 6);
        assert!(text.contains("let at5 = 40u + lane;") && text.contains("select(y2_8, y2_9, lane == 1u)"));
        assert!(text.contains("y[out + 3u] = acc.w / l; // F32"));
        // A tail round where G Dv/4 is not a multiple of 8: 2 x 5 = 10 outputs.
        let tail = entry_combined_subgroup(2, 4, 5);
        assert!(tail.contains("let at1 = 8u + lane;") && tail.contains("if at1 < 10u {"));
        assert!(expand("", variant(3, 16, 16) | SUBGROUP_MERGE, false).contains("subgroupBroadcast(l0, 0u)"));
        assert!(!expand("", variant(3, 16, 16), false).contains("subgroupBroadcast"));
    }

    #[test]
    fn the_combined_entry_merges_after_one_barrier_and_writes_y() {
        let text = entry_combined(3, 16, 16);
        assert!(!text.contains("partials["), "no partial results leave the workgroup");
        assert_eq!(text.matches("workgroupBarrier()").count(), 1);
        assert!(text.contains("part_o[(lane * 3u + 2u) * 16u + 15u] = o2_15;"));
        assert!(text.contains("y[out + 3u] = acc.w / l; // F32"));
        let f16 = expand("", variant(3, 16, 16), true);
        assert!(f16.contains("let kk15 = widen4(k4[kb + 15u]);") && !f16.contains("// F32"));
        assert!(f16.contains("y16[out / 2u + 1u]") && !f16.contains("y[out"));
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
