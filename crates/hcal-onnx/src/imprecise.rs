//! Imprecise expected data: ONNX's expected output judged against the
//! arithmetic ONNX's reference computed it in.
//!
//! ONNX computes a node test's expected output with numpy in the case's own
//! dtype: an f16 Attention's scores, exponentials, sums and products are each
//! rounded to f16 (unit roundoff `u = 2^-11`), a bf16 one's to bf16 (`2^-8`).
//! hcal holds expected outputs to the bound a device computing in f32 gets
//! ([`hcal_conformance::tolerance`], unit roundoff `U = 2^-24`), so such data
//! can lie outside it while being as exact as f16 arithmetic allows.
//!
//! The bound of arithmetic in `u` follows from the same error analysis: every
//! term of hcal's core bound is a multiple of `U` or a `gamma_n = nU / (1 -
//! nU)`, and `gamma_n(u) <= (u / U) gamma_n(U) / (1 - n u)`, so with `N` at
//! least every chain length `n` of the bound ([`chain_length`]: `K + 3` for
//! MatMul and Gemm, the normalized length plus 2, `max(D + 3, T)` for
//! Attention, the reduced count; the largest input's element count plus 3 for
//! any other op, which covers every sum it can hold),
//!
//! ```text
//! core_u  <=  core_U (u / U) / (1 - N u)          (requires N u < 1)
//! bound_u  =  core_u + rounding_terms(dtype, ref)  (the final rounding, as for devices)
//! ```
//!
//! A case gets [`hcal_conformance::Verdict::ImpreciseExpected`] only when the
//! backend agrees with hcal's f64 reference under the ordinary bound (judged
//! separately, without ONNX's data) and every expected element lies within
//! `bound_u`; the record gives both ratios. A backend that disagrees with the
//! reference fails whatever ONNX's data is.

use hcal_conformance::generate::Rng;
use hcal_conformance::tolerance::{CaseData, U, core_bound, rounding_terms};
use hcal_conformance::{Case, judge_values};
use hcal_core::{DType, Geometry, Op, OpSignature};

/// Expected data inside the bound of the oracle's own arithmetic.
#[derive(Clone, Debug, PartialEq)]
pub struct OracleArithmetic {
    /// The dtype ONNX's reference computed in.
    pub dtype: DType,
    /// Worst `|expected - ref| / bound` under hcal's ordinary (f32 device) bound: above 1.
    pub ratio_f32_bound: f64,
    /// Worst `|expected - ref| / bound_u` under the bound of arithmetic in `dtype`: at most 1.
    pub ratio_oracle_bound: f64,
    /// Largest `|expected - ref|`.
    pub max_abs_error: f64,
    /// Where the worst element under the ordinary bound is.
    pub worst: String,
}

/// The dtype ONNX's numpy reference computes a case in: the float dtype of its
/// outputs when narrower than f32 (f16, bf16), else `None` (f32 cases compute
/// in f32, which hcal's ordinary bound already describes).
fn oracle_dtype(case: &Case) -> Option<DType> {
    let signature = case.signature().ok()?;
    let outputs = signature.outputs();
    let narrow = |d: DType| matches!(d, DType::F16 | DType::BF16);
    let dtype = outputs.iter().map(|d| d.dtype).find(|&d| narrow(d))?;
    outputs.iter().all(|d| d.dtype == dtype || !d.dtype.is_float()).then_some(dtype)
}

/// The longest chain of roundings `n` in any `gamma_n` of hcal's bound for
/// `signature` (see the module docs).
pub fn chain_length(signature: &OpSignature) -> usize {
    match signature.geometry() {
        Geometry::MatMul(g) => g.k + 1,
        Geometry::Gemm(g) => g.k + 3,
        Geometry::Softmax(split) => split.len,
        Geometry::Normalization { split, .. } => split.len + 2,
        Geometry::Attention(g) => (g.head_dim + 3).max(g.total_len()),
        Geometry::Reduce { axes } => {
            let shape = signature.input(0).map_or(&[][..], |d| &d.shape[..]);
            axes.iter().map(|&a| shape.get(a).copied().unwrap_or(1)).product()
        }
        _ => signature.inputs().iter().flatten().map(|d| d.shape.iter().product::<usize>()).max().unwrap_or(0) + 3,
    }
}

/// Whether `expected` (per output slot) lies within the bound of the arithmetic
/// ONNX's reference computed `case` in. `None` when no such bound applies (an
/// f32 case, an exact op, a case too long for the bound, or an element beyond
/// it, NaN and infinities included, which must match exactly).
pub fn within_oracle_arithmetic(case: &Case, expected: &[Option<Vec<f64>>]) -> Option<OracleArithmetic> {
    let dtype = oracle_dtype(case)?;
    if matches!(case.op, Op::Transpose { .. } | Op::Cast { .. }) {
        return None; // exact ops: no arithmetic to be imprecise in
    }
    let signature = case.signature().ok()?;
    let inputs: Vec<Option<Vec<f64>>> =
        case.inputs.iter().map(|i| i.as_ref().map(|i| i.generator.values(&i.desc, &mut Rng::new(0)))).collect();
    let chain = chain_length(&signature);
    let u = dtype.unit_roundoff();
    let denominator = 1.0 - chain as f64 * u;
    if denominator <= 0.0 {
        return None;
    }
    let scale = u / U / denominator;
    let none = vec![None; expected.len()];
    let reference = judge_values(&hcal_cpu::CpuBackend::new(), case, &none, &[]).outputs;
    let data = CaseData { case, signature: &signature, inputs: &inputs, reference: &reference };
    let mut out = OracleArithmetic {
        dtype,
        ratio_f32_bound: 0.0,
        ratio_oracle_bound: 0.0,
        max_abs_error: 0.0,
        worst: String::new(),
    };
    let mut compared = false;
    for (slot, desc) in signature.outputs().iter().enumerate() {
        let (Some(want), Some(exp)) = (reference.get(slot)?.as_ref(), expected.get(slot)?.as_ref()) else { continue };
        if !desc.dtype.is_float() || exp.len() != want.len() {
            return None;
        }
        let core = core_bound(&data, slot);
        for (i, ((&e, &r), &c)) in exp.iter().zip(want).zip(&core).enumerate() {
            if !(e.is_finite() && r.is_finite()) {
                if e.to_bits() == r.to_bits() || (e.is_nan() && r.is_nan()) {
                    continue;
                }
                return None;
            }
            let err = (e - r).abs();
            let rounding = rounding_terms(desc.dtype, r);
            let ratio = |bound: f64| if err == 0.0 { 0.0 } else { err / bound };
            let (plain, oracle) = (ratio(c + rounding), ratio(c * scale + rounding));
            if oracle.is_nan() || oracle > 1.0 {
                return None;
            }
            out.max_abs_error = out.max_abs_error.max(err);
            out.ratio_oracle_bound = out.ratio_oracle_bound.max(oracle);
            if !compared || plain > out.ratio_f32_bound {
                out.ratio_f32_bound = plain;
                out.worst = format!(
                    "output {slot} element {i} of {desc}: expected {e:e}, reference {r:e}, bound {:.3e}, {dtype} \
                     arithmetic bound {:.3e}",
                    c + rounding,
                    c * scale + rounding
                );
            }
            compared = true;
        }
    }
    (compared && out.ratio_f32_bound > 1.0).then_some(out)
}
