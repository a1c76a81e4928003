// include/is_nan.wgsl: a NaN test on the bits (WGSL's comparisons and
// max/min may not see NaN as such). Pulled in by `// #include <is_nan>`
// (unary.wgsl, binary.wgsl, reduce.wgsl).

fn is_nan(v: f32) -> bool {
    let b = bitcast<u32>(v);
    return (b & 0x7f800000u) == 0x7f800000u && (b & 0x7fffffu) != 0u;
}
