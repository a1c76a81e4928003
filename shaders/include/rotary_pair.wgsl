// include/rotary_pair.wgsl: RotaryEmbedding's pairing and rotation, shared by
// rotary.wgsl and qkv_cache.wgsl so both compute the same bits. Feature f
// (< R) of a head pairs with its partner: adjacent features when
// interleaved, else the two halves of the first R. `i` is f's element index,
// the partner's is `partner`; `p` indexes the cos/sin row.
struct RotaryPair {
    p: u32,
    first: bool,
    partner: u32,
}

fn rotary_pair(f: u32, r: u32, interleaved: bool, i: u32) -> RotaryPair {
    if interleaved {
        let first = (f & 1u) == 0u;
        return RotaryPair(f / 2u, first, select(i - 1u, i + 1u, first));
    }
    let half = r / 2u;
    let first = f < half;
    return RotaryPair(f % half, first, select(i - half, i + half, first));
}

// y1 = cos x1 - sin x2 for the pair's first feature, y2 = sin x1 + cos x2 for its second.
fn rotate(c: f32, sn: f32, x: f32, partner: f32, first: bool) -> f32 {
    if first {
        return c * x - sn * partner;
    }
    return sn * partner + c * x;
}
