// include/f16_bits.wgsl: f16 storage on 32-bit words, two elements per word
// (element 2w in the low half). Encoding (f32 to f16) works on bits, rounding
// to nearest even and keeping inf and NaN, so no result depends on the
// driver's rounding; convert.wgsl decodes on bits too. The kernels that read
// f16 tensors themselves (their F16-tagged lines) decode with unpack2x16float
// instead, in their inner loops: one conversion instruction where the
// hardware has one (F16C on lavapipe's x86 hosts) against about twenty for
// the bit decode, and exact like it (every f16 is an f32) on drivers that
// keep f16 subnormals, as lavapipe and llvmpipe do.

fn f16_bits_to_f32(h: u32) -> f32 {
    let sign = (h & 0x8000u) << 16u;
    let e = (h >> 10u) & 0x1fu;
    let m = h & 0x3ffu;
    if e == 0u {
        // Zero or subnormal: m * 2^-24, exact in f32.
        let mag = f32(m) * 5.9604644775390625e-8;
        return bitcast<f32>(bitcast<u32>(mag) | sign);
    }
    if e == 31u {
        return bitcast<f32>(sign | 0x7f800000u | (m << 13u));
    }
    return bitcast<f32>(sign | ((e + 112u) << 23u) | (m << 13u));
}

fn f32_to_f16_bits(x: f32) -> u32 {
    let b = bitcast<u32>(x);
    let sign = (b >> 16u) & 0x8000u;
    let e = (b >> 23u) & 0xffu;
    let m = b & 0x7fffffu;
    if e == 255u {
        // inf stays inf; NaN becomes a quiet NaN.
        return sign | 0x7c00u | select(0u, 0x200u | (m >> 13u), m != 0u);
    }
    if e >= 143u {
        return sign | 0x7c00u; // >= 2^16 overflows f16
    }
    if e >= 113u {
        // Normal f16: keep 10 of 23 mantissa bits, round half to even; a carry
        // into the exponent is correct (and reaches inf at the top).
        let half = ((e - 112u) << 10u) | (m >> 13u);
        let rest = m & 0x1fffu;
        let up = rest > 0x1000u || (rest == 0x1000u && (half & 1u) == 1u);
        return sign | (half + select(0u, 1u, up));
    }
    // Subnormal f16: value = sig * 2^(e - 150) = M * 2^-24 with M = sig >> (126 - e).
    let s = 126u - e;
    if s >= 32u {
        return sign;
    }
    let sig = m | 0x800000u;
    let q = sig >> s;
    let rest = sig & ((1u << s) - 1u);
    let halfway = 1u << (s - 1u);
    let up = rest > halfway || (rest == halfway && (q & 1u) == 1u);
    return sign | (q + select(0u, 1u, up));
}

// The 16-bit half of `word` holding element `i` (low half for even i).
fn half_of(word: u32, i: u32) -> u32 {
    return (word >> ((i & 1u) * 16u)) & 0xffffu;
}

// Element `i` of f16 storage whose word `i / 2` is `word`, as f32.
fn f16_at(word: u32, i: u32) -> f32 {
    return unpack2x16float(word)[i & 1u];
}

// Four consecutive f16 elements (two words, the first in the low half of x).
fn f16x4(words: vec2<u32>) -> vec4<f32> {
    return vec4<f32>(unpack2x16float(words.x), unpack2x16float(words.y));
}

// Four f32 values as four f16 elements in two words.
fn to_f16x4(v: vec4<f32>) -> vec2<u32> {
    return vec2<u32>(
        f32_to_f16_bits(v.x) | (f32_to_f16_bits(v.y) << 16u),
        f32_to_f16_bits(v.z) | (f32_to_f16_bits(v.w) << 16u),
    );
}
