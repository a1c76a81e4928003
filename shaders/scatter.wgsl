// scatter.wgsl: TensorScatter on raw storage (any element dtype), one
// invocation per element of `update`, written into `present` in place.
//
// Bindings:
//   @group(0) @binding(0) params: ScatterParams (generated from crates/hcal-wgpu/src/params/):
//       elements (of update), elem_bytes (1, 2, 4 or 8), per_batch (prefixes per batch
//       entry), max_len M (the cache's sequence extent), seq_len S (the update's), inner
//       (elements after the sequence axis), with_write_indices, circular (1: positions
//       mod M, else linear positions outside [0, M) are dropped), first (the update
//       element of invocation 0: tensors larger than one binding run in pieces of whole
//       prefixes, and `elements` counts the piece), update_origin / present_origin (the
//       elements where the update's / cache's bound windows start, on word boundaries)
//   @group(0) @binding(1) update: array<u32>         update as 32-bit words
//   @group(0) @binding(2) write_indices: array<u32>  i64 [B] as (low, high) word pairs (a dummy when absent)
//   @group(0) @binding(3) present: array<atomic<u32>> the cache, updated in place (the launcher
//       first copies past_cache into it unless present_cache is past_cache itself)
// Update [prefix, S, inner] element u goes to cache [prefix, pos(w_b + s), inner] with
// b = prefix / per_batch. Elements narrower than a word are merged into their word
// with atomicAnd / atomicOr on their own bits: distinct update elements land on
// distinct cache elements (S <= M), so the result does not depend on order.

// #include <linear_id>
// #include <ScatterParams>

@group(0) @binding(0) var<storage, read> params: ScatterParams;
@group(0) @binding(1) var<storage, read> update: array<u32>;
@group(0) @binding(2) var<storage, read> write_indices: array<u32>;
@group(0) @binding(3) var<storage, read_write> present: array<atomic<u32>>;

const DROPPED: u32 = 0xffffffffu;

// (a + b) mod m for a, b < m, without overflowing u32.
fn add_mod(a: u32, b: u32, m: u32) -> u32 {
    if a >= m - b { return a - (m - b); }
    return a + b;
}

// (hi 2^32 + lo) mod m of an unsigned 64-bit value, bit by bit from the top.
fn mod_u64(hi: u32, lo: u32, m: u32) -> u32 {
    var r = 0u;
    for (var k = 0u; k < 64u; k++) {
        let word = select(lo, hi, k < 32u);
        let bit = (word >> (31u - (k % 32u))) & 1u;
        r = add_mod(r, r, m);
        if bit == 1u { r = add_mod(r, 1u % m, m); }
    }
    return r;
}

// The cache position of update row s of a batch entry with write index (hi, lo), or DROPPED.
fn position(hi: u32, lo: u32, s: u32) -> u32 {
    let m = params.max_len;
    if params.circular == 1u {
        // Euclidean (w + s) mod m of the signed w: the unsigned pattern's residue,
        // less 2^64 mod m when w is negative.
        var w = mod_u64(hi, lo, m);
        if hi >= 0x80000000u {
            let wrap = add_mod(mod_u64(0xffffffffu, 0xffffffffu, m), 1u % m, m);
            w = add_mod(w, (m - wrap) % m, m);
        }
        return add_mod(w, s % m, m);
    }
    if hi == 0u {
        if lo < m && s < m - lo { return lo + s; }
        return DROPPED;
    }
    // w = lo - 2^32 < 0: position s - |w| when |w| <= s.
    if hi == 0xffffffffu && lo != 0u && 0u - lo <= s { return s - (0u - lo); }
    return DROPPED;
}

@compute @workgroup_size(256)
fn tensor_scatter(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let local = linear_id(gid, nwg);
    if local >= params.elements { return; }
    let u = params.first + local;
    let inner = params.inner;
    let r = u / inner;
    let c = u % inner;
    let p = r / params.seq_len;
    let s = r % params.seq_len;
    var hi = 0u;
    var lo = 0u;
    if params.with_write_indices == 1u {
        let b = p / params.per_batch;
        lo = write_indices[2u * b];
        hi = write_indices[2u * b + 1u];
    }
    let pos = position(hi, lo, s);
    if pos == DROPPED { return; }
    let dst = (p * params.max_len + pos) * inner + c;
    // Indices into the bound windows; they start on words, so sub-word
    // elements keep their place in their word.
    let at = dst - params.present_origin;
    let src = u - params.update_origin;
    let bytes = params.elem_bytes;
    if bytes >= 4u {
        let words = bytes / 4u;
        for (var k = 0u; k < words; k++) {
            atomicStore(&present[at * words + k], update[src * words + k]);
        }
        return;
    }
    let bits = 8u * bytes;
    let ones = (1u << bits) - 1u;
    let per_word = 4u / bytes;
    let value = (update[src / per_word] >> (bits * (u % per_word))) & ones;
    let shift = bits * (dst % per_word);
    atomicAnd(&present[at / per_word], ~(ones << shift));
    atomicOr(&present[at / per_word], value << shift);
}
