// include/attention_qy.wgsl: Q's loads and Y's stores of the flash kernels
// (attention_flash.wgsl, attention_flash_rows.wgsl), in both storage forms:
// the includer declares `q` (array<f32>, or array<u32> of f16 pairs) and `y`
// (array<vec4<f32>>, or array<vec2<u32>> of f16 quads) with its own F32/F16
// lines, and includes f16_bits for the f16 form.

// Element i of Q as f32, and texel i of Y stored from f32.
fn q_at(i: u32) -> f32 { return q[i]; } // F32
fn q_at(i: u32) -> f32 { return f16_at(q[i / 2u], i); } // F16
fn y_put(i: u32, v: vec4<f32>) { y[i] = v; } // F32
fn y_put(i: u32, v: vec4<f32>) { y[i] = to_f16x4(v); } // F16

// The largest component of v.
fn hmax(v: vec4<f32>) -> f32 {
    return max(max(v.x, v.y), max(v.z, v.w));
}
