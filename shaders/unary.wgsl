// unary.wgsl: one-input elementwise functions on f32 (Relu .. Reciprocal, Gelu).
//
// Bindings:
//   @group(0) @binding(0) params: UnaryParams   n = element count, op code:
//       0 Relu, 1 Sigmoid, 2 Silu, 3 Exp, 4 Tanh, 5 Neg, 6 Sqrt, 7 Reciprocal,
//       8 Gelu (erf form), 9 Gelu (tanh form)
//   @group(0) @binding(1) x: array<f32>
//   @group(0) @binding(2) y: array<f32>
// NaN in gives NaN out for every op (WGSL's max/min/clamp may drop NaN, so the
// kernels test for it). Dispatch: 256 per workgroup, 2-D grid.

// #include <linear_id>
// #include <is_nan>

// #include <UnaryParams>

@group(0) @binding(0) var<storage, read> params: UnaryParams;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

// tanh saturates to +-1 in f32 beyond |x| ~ 9.1; clamping keeps drivers that
// compute (e^2x - 1)/(e^2x + 1) away from inf/inf.
fn safe_tanh(v: f32) -> f32 {
    return tanh(clamp(v, -15.0, 15.0));
}

// Abramowitz-Stegun 7.1.26: |error| <= 1.5e-7, within the standard's erf budget.
fn erf(v: f32) -> f32 {
    let t = 1.0 / (1.0 + 0.3275911 * abs(v));
    let poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
    let r = 1.0 - poly * exp(-v * v);
    return select(r, -r, v < 0.0);
}

fn apply(op: u32, v: f32) -> f32 {
    switch op {
        case 0u: { return max(v, 0.0); }
        case 1u: { return 1.0 / (1.0 + exp(-v)); }
        case 2u: { return v / (1.0 + exp(-v)); }
        case 3u: { return exp(v); }
        case 4u: { return safe_tanh(v); }
        case 5u: { return -v; }
        case 6u: { return sqrt(v); }
        case 7u: { return 1.0 / v; }
        case 8u: { return 0.5 * v * (1.0 + erf(v * 0.70710678118654752)); }
        default: {
            let inner = 0.79788456080286536 * (v + 0.044715 * v * v * v);
            return 0.5 * v * (1.0 + safe_tanh(inner));
        }
    }
}

@compute @workgroup_size(256)
fn unary(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = linear_id(gid, nwg);
    if i >= params.n { return; }
    let v = x[i];
    y[i] = select(apply(params.op, v), v, is_nan(v));
}
