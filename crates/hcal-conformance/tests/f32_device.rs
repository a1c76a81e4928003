//! The tolerance model admits an honest f32 device.
//!
//! `F32Device` computes the float ops the way a straightforward GPU kernel
//! does: f32 storage of intermediates, sequential f32 accumulation, `exp`/`tanh`
//! from the f32 libm, a polynomial `erf`. Every case must pass: the bounds are
//! derived from error analysis, and this shows they are not tighter than an
//! ordinary f32 implementation needs. The worst ratios are printed, so the
//! headroom of each op is visible.

use hcal_conformance::tolerance::{ERF_P, ERF_Q};
use hcal_conformance::{Filter, Verdict, run};
use hcal_core::{
    Backend, BackendWrapper, BinaryOp, Call, DeviceInfo, GeluApproximation, Geometry, Op, ReduceOp, Result, Tensor,
    TensorDesc, UnaryOp,
};
use hcal_cpu::CpuBackend;
use hcal_cpu::convert::{from_f64, to_f64};

struct F32Device {
    inner: CpuBackend,
    info: DeviceInfo,
}

impl F32Device {
    fn load(&self, t: Option<&Tensor>) -> Result<Option<Vec<f32>>> {
        t.map(|t| Ok(to_f64(t.dtype(), &self.inner.read(t)?).into_iter().map(|v| v as f32).collect())).transpose()
    }
    fn store(&self, t: Option<&Tensor>, v: &[f32]) -> Result<()> {
        let Some(t) = t else { return Ok(()) };
        self.inner.write(t, &from_f64(t.dtype(), &v.iter().map(|&x| x as f64).collect::<Vec<_>>()))
    }
}

/// The `Erf` op's rational (`hcal_conformance::tolerance::ERF_P`), evaluated in f32.
fn erf_rational_f32(v: f32) -> f32 {
    let x = v.clamp(-4.0, 4.0);
    let t = x * x;
    let horner = |c: &[f32]| c.iter().fold(0.0f32, |acc, &k| acc * t + k);
    x * horner(&ERF_P) / horner(&ERF_Q)
}

/// Abramowitz-Stegun 7.1.26, evaluated in f32 (|error| <= 1.5e-7 + rounding).
fn erf_f32(x: f32) -> f32 {
    let t = 1.0 / (1.0 + 0.327_591_1 * x.abs());
    let poly = t * (0.254_829_6 + t * (-0.284_496_74 + t * (1.421_413_7 + t * (-1.453_152_1 + t * 1.061_405_4))));
    let r = 1.0 - poly * (-x * x).exp();
    r.copysign(x)
}

fn softmax_f32(row: &mut [f32]) {
    let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0f32;
    for v in row.iter_mut() {
        *v = (*v - max).exp();
        sum += *v;
    }
    row.iter_mut().for_each(|v| *v /= sum);
}

impl BackendWrapper for F32Device {
    fn inner(&self) -> &dyn Backend {
        &self.inner
    }

    fn info(&self) -> &DeviceInfo {
        &self.info
    }

    fn sync(&self) -> Result<()> {
        Ok(())
    }

    fn execute(&self, call: &Call<'_>) -> Result<()> {
        let x = |i| self.load(call.input(i));
        let shape = |i: usize| call.input(i).map(|t| t.shape().to_vec()).unwrap_or_default();
        match (call.op(), call.geometry()) {
            (Op::MatMul, Geometry::MatMul(g)) => {
                let (a, b) = (x(0)?.unwrap(), x(1)?.unwrap());
                let mut y = vec![0.0f32; g.batch_count() * g.m * g.n];
                for bi in 0..g.batch_count() {
                    let (ao, bo) = g.operand_offsets(bi);
                    for i in 0..g.m {
                        for j in 0..g.n {
                            let mut acc = 0.0f32;
                            for p in 0..g.k {
                                acc = a[ao + i * g.k + p].mul_add(b[bo + p * g.n + j], acc);
                            }
                            y[(bi * g.m + i) * g.n + j] = acc;
                        }
                    }
                }
                self.store(call.output(0), &y)
            }
            (Op::Softmax { .. }, Geometry::Softmax(split)) => {
                let mut v = x(0)?.unwrap();
                for o in 0..split.outer {
                    for c in 0..split.inner {
                        let idx = |j: usize| (o * split.len + j) * split.inner + c;
                        let mut lane: Vec<f32> = (0..split.len).map(|j| v[idx(j)]).collect();
                        softmax_f32(&mut lane);
                        (0..split.len).for_each(|j| v[idx(j)] = lane[j]);
                    }
                }
                self.store(call.output(0), &v)
            }
            (
                Op::LayerNormalization { epsilon, .. } | Op::RmsNormalization { epsilon, .. },
                Geometry::Normalization { axis: ax, split },
            ) => {
                let (v, s, ax, n) = (x(0)?.unwrap(), shape(0), *ax, split.len);
                let expand = |t: Option<Vec<f32>>, i: usize| {
                    t.map(|p| {
                        let strides = hcal_core::broadcast_strides(&shape(i), &s[ax..]);
                        (0..n)
                            .map(|flat| {
                                let (mut rest, mut off) = (flat, 0);
                                for d in (0..s.len() - ax).rev() {
                                    off += (rest % s[ax + d]) * strides[d];
                                    rest /= s[ax + d];
                                }
                                p[off]
                            })
                            .collect::<Vec<f32>>()
                    })
                };
                let gamma = expand(x(1)?, 1).unwrap();
                let beta = expand(x(2)?, 2).unwrap_or_else(|| vec![0.0; n]);
                let rms = matches!(call.op(), Op::RmsNormalization { .. });
                let mut y = vec![0.0f32; v.len()];
                for (row, xs) in v.chunks(n.max(1)).enumerate() {
                    let mean = if rms { 0.0 } else { xs.iter().sum::<f32>() / n as f32 };
                    let var = xs.iter().map(|t| (t - mean) * (t - mean)).sum::<f32>() / n as f32;
                    let inv = 1.0 / (var + epsilon).sqrt();
                    for i in 0..xs.len() {
                        y[row * n + i] = (xs[i] - mean) * inv * gamma[i] + beta[i];
                    }
                }
                self.store(call.output(0), &y)
            }
            (Op::Attention(attrs), Geometry::Attention(g)) => {
                let desc = |i: usize| call.input(i).map(Tensor::desc);
                // The cache copy and masks are data movement; reuse the reference for them.
                self.inner.execute(call)?;
                let (q, mask) = (x(0)?.unwrap(), x(3)?);
                // nonpad_kv_seqlen (i64, small: exact through f32).
                let nonpad = x(6)?;
                let (kt, vt) = (call.output(1), call.output(2));
                let (k, v) = if let (Some(kt), Some(vt)) = (kt, vt) {
                    (self.load(Some(kt))?.unwrap(), self.load(Some(vt))?.unwrap())
                } else {
                    // Present outputs not requested: rebuild them on the side.
                    let pk = self.inner.alloc(&TensorDesc::new(
                        [g.batch, g.kv_heads, g.total_len(), g.head_dim],
                        desc(0).unwrap().dtype,
                    ))?;
                    let pv = self.inner.alloc(&TensorDesc::new(
                        [g.batch, g.kv_heads, g.total_len(), g.v_head_dim],
                        desc(0).unwrap().dtype,
                    ))?;
                    let y =
                        self.inner.alloc(&TensorDesc::new(call.output(0).unwrap().shape(), desc(0).unwrap().dtype))?;
                    self.inner.execute(&Call::with_optional(
                        call.op(),
                        call.inputs(),
                        &[Some(&y), Some(&pk), Some(&pv)],
                    )?)?;
                    let kv = (self.load(Some(&pk))?.unwrap(), self.load(Some(&pv))?.unwrap());
                    for t in [pk, pv, y] {
                        self.inner.free(&t)?;
                    }
                    kv
                };
                let (t, d, dv) = (g.total_len(), g.head_dim, g.v_head_dim);
                let mut y = vec![0.0f32; g.batch * g.q_heads * g.q_len * dv];
                for b in 0..g.batch {
                    for h in 0..g.q_heads {
                        let kh = h / g.group_size();
                        let valid = nonpad.as_ref().map(|n| g.valid_keys(n[b] as i64));
                        for i in 0..g.q_len {
                            let qo = g.offset(b, h, i, g.q_heads, g.q_len, d);
                            let mut s: Vec<f32> = (0..t)
                                .map(|j| {
                                    let ko = ((b * g.kv_heads + kh) * t + j) * d;
                                    let dot = (0..d).fold(0.0f32, |acc, c| q[qo + c].mul_add(k[ko + c], acc));
                                    let mut sc = dot * g.scale as f32;
                                    if attrs.softcap > 0.0 {
                                        sc = attrs.softcap * (sc / attrs.softcap).tanh();
                                    }
                                    if let (Some(m), Some((dt, [mb, mh, sq, tm]))) = (&mask, g.mask) {
                                        if j >= tm {
                                            sc = f32::NEG_INFINITY;
                                        } else {
                                            let idx = (((if mb == 1 { 0 } else { b }) * mh
                                                + if mh == 1 { 0 } else { h })
                                                * sq
                                                + i)
                                                * tm
                                                + j;
                                            sc += if dt == hcal_core::DType::Bool {
                                                if m[idx] == 0.0 { f32::NEG_INFINITY } else { 0.0 }
                                            } else {
                                                m[idx]
                                            };
                                        }
                                    }
                                    if g.key_hidden(attrs.is_causal, valid, i, j) {
                                        sc = f32::NEG_INFINITY;
                                    }
                                    sc
                                })
                                .collect();
                            softmax_f32(&mut s);
                            let yo = g.offset(b, h, i, g.q_heads, g.q_len, dv);
                            for c in 0..dv {
                                y[yo + c] = (0..t).fold(0.0f32, |acc, j| {
                                    s[j].mul_add(v[((b * g.kv_heads + kh) * t + j) * dv + c], acc)
                                });
                            }
                        }
                    }
                }
                self.store(call.output(0), &y)
            }
            (Op::Gelu { approximate }, _) => {
                let v = x(0)?.unwrap();
                let y: Vec<f32> = v
                    .iter()
                    .map(|&t| match approximate {
                        GeluApproximation::None => 0.5 * t * (1.0 + erf_f32(t * std::f32::consts::FRAC_1_SQRT_2)),
                        GeluApproximation::Tanh => 0.5 * t * (1.0 + (0.797_884_6 * (t + 0.044715 * t * t * t)).tanh()),
                    })
                    .collect();
                self.store(call.output(0), &y)
            }
            (Op::Unary(u), _) => {
                let y: Vec<f32> = x(0)?
                    .unwrap()
                    .iter()
                    .map(|&t| match u {
                        // f32::max drops NaN; the standard (numpy) propagates it.
                        UnaryOp::Relu => {
                            if t.is_nan() {
                                t
                            } else {
                                t.max(0.0)
                            }
                        }
                        UnaryOp::Sigmoid => 1.0 / (1.0 + (-t).exp()),
                        UnaryOp::Silu => t / (1.0 + (-t).exp()),
                        UnaryOp::Exp => t.exp(),
                        UnaryOp::Tanh => t.tanh(),
                        UnaryOp::Neg => -t,
                        UnaryOp::Sqrt => t.sqrt(),
                        UnaryOp::Reciprocal => 1.0 / t,
                        UnaryOp::Abs => t.abs(),
                        UnaryOp::Erf => erf_rational_f32(t),
                        UnaryOp::Floor => t.floor(),
                        UnaryOp::Ceil => t.ceil(),
                        UnaryOp::Round => t.round_ties_even(),
                        UnaryOp::Not => f32::from(u8::from(t == 0.0)),
                    })
                    .collect();
                self.store(call.output(0), &y)
            }
            (Op::Binary(BinaryOp::Pow), Geometry::Broadcast { out_shape, a_strides, b_strides }) => {
                let widen = |v: Vec<f32>| v.into_iter().map(f64::from).collect::<Vec<_>>();
                let (a, b) = (widen(x(0)?.unwrap()), widen(x(1)?.unwrap()));
                let pairs = hcal_cpu::binary::broadcast_pairs(&a, a_strides, &b, b_strides, out_shape);
                let y: Vec<f32> = pairs.iter().map(|&(a, b)| (a as f32).powf(b as f32)).collect();
                self.store(call.output(0), &y)
            }
            (Op::HardSigmoid { alpha, beta }, _) => {
                let y: Vec<f32> = x(0)?
                    .unwrap()
                    .iter()
                    .map(|&t| {
                        let v = alpha * t + beta;
                        if v.is_nan() { v } else { v.clamp(0.0, 1.0) }
                    })
                    .collect();
                self.store(call.output(0), &y)
            }
            (Op::Reduce { op: ReduceOp::Sum | ReduceOp::Mean, axes: None, .. }, _) => {
                let v = x(0)?.unwrap();
                let sum = v.iter().fold(0.0f32, |a, b| a + b);
                let mean = matches!(call.op(), Op::Reduce { op: ReduceOp::Mean, .. });
                self.store(call.output(0), &[if mean { sum * (1.0 / v.len() as f32) } else { sum }])
            }
            // along one axis: LogSoftmax and CumSum as sequential f32 loops
            (Op::LogSoftmax { .. }, Geometry::Softmax(s)) => {
                let v = x(0)?.unwrap();
                let mut y = v.clone();
                for lane in 0..s.outer * s.inner {
                    let idx = |j: usize| ((lane / s.inner) * s.len + j) * s.inner + lane % s.inner;
                    let max = (0..s.len).map(|j| v[idx(j)]).fold(f32::NEG_INFINITY, f32::max);
                    let sum = (0..s.len).map(|j| (v[idx(j)] - max).exp()).fold(0.0f32, |a, b| a + b);
                    let log_sum = sum.ln();
                    for j in 0..s.len {
                        y[idx(j)] = (v[idx(j)] - max) - log_sum;
                    }
                }
                self.store(call.output(0), &y)
            }
            (Op::CumSum { exclusive, reverse, .. }, Geometry::AlongAxis { split: s, .. }) => {
                let v = x(0)?.unwrap();
                let mut y = vec![0.0f32; v.len()];
                for lane in 0..s.outer * s.inner {
                    let idx = |j: usize| ((lane / s.inner) * s.len + j) * s.inner + lane % s.inner;
                    let mut sum = 0.0f32;
                    for step in 0..s.len {
                        let i = idx(if *reverse { s.len - 1 - step } else { step });
                        let before = sum;
                        sum += v[i];
                        y[i] = if *exclusive { before } else { sum };
                    }
                }
                self.store(call.output(0), &y)
            }
            _ => self.inner.execute(call),
        }
    }
}

#[test]
fn an_honest_f32_device_passes_every_case() {
    let inner = CpuBackend::new();
    let mut info = inner.info().clone();
    info.backend = "f32-device".into();
    let device = F32Device { inner, info };
    let report = run(&device, &Filter::default());
    println!("{}", report.table());
    let mut by_ratio: Vec<_> = report.cases.iter().filter(|c| c.max_error_ratio.is_some()).collect();
    by_ratio.sort_by(|a, b| b.max_error_ratio.partial_cmp(&a.max_error_ratio).expect("finite ratios"));
    for c in by_ratio.iter().take(8) {
        println!("ratio {:.3} {}: {}", c.max_error_ratio.unwrap_or(0.0), c.name, c.detail);
    }
    let failures: Vec<_> = report
        .cases
        .iter()
        .filter(|c| c.verdict != Verdict::Pass)
        .map(|c| format!("{}: {}", c.name, c.detail))
        .collect();
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
    // The model is not vacuous: rounding error is visible in the ratios.
    let worst = report.cases.iter().filter_map(|c| c.max_error_ratio).fold(0.0, f64::max);
    assert!(worst > 1e-3, "worst ratio {worst}: the f32 device should show rounding error");
}
