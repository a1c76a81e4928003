// unary.wgsl: one-input elementwise functions on f32 (Relu .. Reciprocal, Gelu,
// Abs .. Not, LeakyRelu, HardSigmoid).
//
// Bindings:
//   @group(0) @binding(0) params: UnaryParams   n = element count, op code:
//       0 Relu, 1 Sigmoid, 2 Silu, 3 Exp, 4 Tanh, 5 Neg, 6 Sqrt, 7 Reciprocal,
//       8 Gelu (erf form), 9 Gelu (tanh form),
//       10 Abs, 11 Erf, 12 Floor, 13 Ceil, 14 Round, 15 Not (bools as 0/1),
//       16 LeakyRelu (alpha), 17 HardSigmoid (alpha, beta); alpha and beta are
//       unused by the other ops
//       half: GatedUnary's N (unused by `unary`)
//   @group(0) @binding(1) x: array<f32>
//   @group(0) @binding(2) y: array<f32>
// Entry `gated` (GatedUnary): X is rows of 2N, Y rows of N, and
// y[r, j] = f(x[r, j]) * x[r, N + j] with f as `unary` computes it (NaN kept),
// so on f32 its bits are those of `unary` then binary.wgsl's Mul.
// NaN in gives NaN out for every op (WGSL's max/min/clamp may drop NaN, so the
// kernels test for it). Dispatch: 256 per workgroup, 2-D grid. The launcher
// compiles `unary` once per op code, with `params.op` replaced by the constant
// (crates/hcal-wgpu/src/unary.rs, `specialize`): SIMD CPU drivers run every
// case of a switch on a loaded value.

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

// erf(v) as x P(x^2) / Q(x^2) on x = clamp(v, -4, 4) (Eigen's float erf,
// Cephes coefficients); erf(4) rounds to 1 in f32. The rational is within
// 1.4U of erf (relative, measured on 2e6 points) and its f32 evaluation
// error is bounded in hcal-conformance's tolerance model (`erf_bound`).
fn erf_rational(v: f32) -> f32 {
    let x = clamp(v, -4.0, 4.0);
    let t = x * x;
    var p = -2.72614225801306e-10;
    p = p * t + 2.77068142495902e-08;
    p = p * t - 2.10102402082508e-06;
    p = p * t - 5.69250639462346e-05;
    p = p * t - 7.34990630326855e-04;
    p = p * t - 2.95459980854025e-03;
    p = p * t - 1.60960333262415e-02;
    var q = -1.45660718464996e-05;
    q = q * t - 2.13374055278905e-04;
    q = q * t - 1.68282697438203e-03;
    q = q * t - 7.37332916720468e-03;
    q = q * t - 1.42647390514189e-02;
    return x * p / q;
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
        case 9u: {
            let inner = 0.79788456080286536 * (v + 0.044715 * v * v * v);
            return 0.5 * v * (1.0 + safe_tanh(inner));
        }
        case 10u: { return abs(v); }
        case 11u: { return erf_rational(v); }
        case 12u: { return floor(v); }
        case 13u: { return ceil(v); }
        // WGSL's round takes halves to the even integer, as ONNX Round does.
        case 14u: { return round(v); }
        case 15u: { return select(0.0, 1.0, v == 0.0); }
        case 16u: { return select(params.alpha * v, v, v >= 0.0); }
        // No op of the standard: the natural log, for LogSoftmax over long rows.
        case 18u: { return log(v); }
        default: {
            // alpha * inf + beta is NaN for alpha = 0; clamp may drop it.
            let t = params.alpha * v + params.beta;
            return select(clamp(t, 0.0, 1.0), t, is_nan(t));
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

@compute @workgroup_size(256)
fn gated(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = linear_id(gid, nwg);
    if i >= params.n { return; }
    let half = params.half;
    let at = (i / half) * 2u * half + i % half;
    let v = x[at];
    y[i] = select(apply(params.op, v), v, is_nan(v)) * x[at + half];
}
