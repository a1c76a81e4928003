// convert.wgsl: conversions between storage dtypes and f32, on 32-bit words.
//
// Bindings (every entry point):
//   @group(0) @binding(0) params: ConvertParams   n = element count
//   @group(0) @binding(1) src:    array<u32>   source storage as little-endian 32-bit words
//   @group(0) @binding(2) dst:    array<u32>   destination storage as 32-bit words
// f32 data travels as its bit pattern. 2-byte elements pack two per word (element
// 2w in the low half), bools four per word (one byte each), i64 one per two words
// (low word first). An entry point that writes packed elements owns whole words, so
// no two invocations write the same word. Conversions to f16/bf16 round to nearest
// even and keep inf/NaN, done on bits so nothing depends on the driver's rounding.
// Dispatch: workgroups of 256 on a 2-D grid; linear id = x + y * 256 * num_workgroups.x.

// #include <linear_id>
// #include <f16_bits>
// #include <ConvertParams>

@group(0) @binding(0) var<storage, read> params: ConvertParams;
@group(0) @binding(1) var<storage, read> src: array<u32>;
@group(0) @binding(2) var<storage, read_write> dst: array<u32>;

const NAN_BITS: u32 = 0x7fc00000u;

fn f32_to_bf16_bits(x: f32) -> u32 {
    let b = bitcast<u32>(x);
    if (b & 0x7f800000u) == 0x7f800000u && (b & 0x7fffffu) != 0u {
        return (b >> 16u) | 0x40u; // quiet NaN
    }
    return (b + 0x7fffu + ((b >> 16u) & 1u)) >> 16u;
}

@compute @workgroup_size(256)
fn f16_to_f32(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = linear_id(gid, nwg);
    if i >= params.n { return; }
    dst[i] = bitcast<u32>(f16_bits_to_f32(half_of(src[i / 2u], i)));
}

@compute @workgroup_size(256)
fn bf16_to_f32(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = linear_id(gid, nwg);
    if i >= params.n { return; }
    dst[i] = half_of(src[i / 2u], i) << 16u;
}

@compute @workgroup_size(256)
fn bool_to_f32(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = linear_id(gid, nwg);
    if i >= params.n { return; }
    let byte = (src[i / 4u] >> ((i & 3u) * 8u)) & 0xffu;
    dst[i] = bitcast<u32>(select(0.0, 1.0, byte != 0u));
}

@compute @workgroup_size(256)
fn i64_to_f32(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = linear_id(gid, nwg);
    if i >= params.n { return; }
    var lo = src[2u * i];
    var hi = src[2u * i + 1u];
    // Convert the magnitude (two's complement negated when negative), so a
    // small negative value does not cancel between the two halves.
    let negative = (hi & 0x80000000u) != 0u;
    if negative {
        lo = ~lo + 1u;
        hi = ~hi + select(0u, 1u, lo == 0u);
    }
    let mag = f32(hi) * 4294967296.0 + f32(lo);
    dst[i] = bitcast<u32>(select(mag, -mag, negative));
}

// The 16-bit pattern of `x` as bf16 (`bf16`) or f16.
fn half_bits(x: f32, bf16: bool) -> u32 {
    if bf16 { return f32_to_bf16_bits(x); }
    return f32_to_f16_bits(x);
}

// Destination word `w` of an f32 -> f16/bf16 conversion of `params.n`
// elements: element 2w in the low half, 2w + 1 (when there is one) in the high.
fn pack_halves(w: u32, bf16: bool) -> u32 {
    var word = half_bits(bitcast<f32>(src[2u * w]), bf16);
    if 2u * w + 1u < params.n {
        word = word | (half_bits(bitcast<f32>(src[2u * w + 1u]), bf16) << 16u);
    }
    return word;
}

// One invocation per destination word: two f16 elements.
@compute @workgroup_size(256)
fn f32_to_f16(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let w = linear_id(gid, nwg);
    if 2u * w >= params.n { return; }
    dst[w] = pack_halves(w, false);
}

// One invocation per destination word: two bf16 elements.
@compute @workgroup_size(256)
fn f32_to_bf16(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let w = linear_id(gid, nwg);
    if 2u * w >= params.n { return; }
    dst[w] = pack_halves(w, true);
}

// One invocation per destination word: four bools (x != 0; NaN is true).
@compute @workgroup_size(256)
fn f32_to_bool(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let w = linear_id(gid, nwg);
    let n = params.n;
    if 4u * w >= n { return; }
    var word = 0u;
    for (var k = 0u; k < 4u && 4u * w + k < n; k++) {
        // Compare bits, not values: a NaN (any exponent-all-ones pattern with a
        // mantissa) is nonzero, and so is -0.0 only in its sign bit, which we drop.
        let bits = src[4u * w + k] & 0x7fffffffu;
        word = word | (select(0u, 1u, bits != 0u) << (8u * k));
    }
    dst[w] = word;
}

@compute @workgroup_size(256)
fn i64_to_bool(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let w = linear_id(gid, nwg);
    let n = params.n;
    if 4u * w >= n { return; }
    var word = 0u;
    for (var k = 0u; k < 4u && 4u * w + k < n; k++) {
        let e = 4u * w + k;
        word = word | (select(0u, 1u, (src[2u * e] | src[2u * e + 1u]) != 0u) << (8u * k));
    }
    dst[w] = word;
}

// Truncate toward zero; NaN gives 0; beyond +-2^63 saturates.
@compute @workgroup_size(256)
fn f32_to_i64(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = linear_id(gid, nwg);
    if i >= params.n { return; }
    let x = bitcast<f32>(src[i]);
    let bits = bitcast<u32>(x);
    var lo = 0u;
    var hi = 0u;
    let is_nan = (bits & 0x7f800000u) == 0x7f800000u && (bits & 0x7fffffu) != 0u;
    let mag = abs(trunc(x));
    if !is_nan {
        if mag >= 9223372036854775808.0 {
            lo = 0xffffffffu;
            hi = 0x7fffffffu;
            if x < 0.0 { lo = 0u; hi = 0x80000000u; }
        } else {
            // f32 holds 24 significant bits, so both halves are exact.
            let h = floor(mag / 4294967296.0);
            hi = u32(h);
            lo = u32(mag - h * 4294967296.0);
            if x < 0.0 {
                // Two's complement negation of (hi, lo).
                lo = ~lo + 1u;
                hi = ~hi + select(0u, 1u, lo == 0u);
            }
        }
    }
    dst[2u * i] = lo;
    dst[2u * i + 1u] = hi;
}
