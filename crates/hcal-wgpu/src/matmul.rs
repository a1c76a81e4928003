//! Launcher for `shaders/matmul.wgsl`: MatMul and Gemm.

use hcal_core::{Gemm, Result, broadcast_strides, matmul_geometry};

use crate::pipeline::kernel;
use crate::record::{Ctx, Operand, bits};

/// Highest batch rank the kernel's parameter block holds.
pub(crate) const MAX_BATCH_RANK: usize = 6;

/// Tile edge of one workgroup (8x8 invocations of 4x4 outputs).
const TILE: usize = 32;

struct Problem<'a> {
    m: usize,
    n: usize,
    k: usize,
    flags: u32,
    alpha: f32,
    beta: f32,
    batch: Vec<usize>,
    a_strides: Vec<usize>,
    b_strides: Vec<usize>,
    c: Option<(&'a Operand, [usize; 2])>,
}

fn launch(ctx: &mut Ctx<'_>, p: Problem<'_>, a: &Operand, b: &Operand, y: &Operand) -> Result<()> {
    let mut params = vec![0u32; 27];
    params[..6].copy_from_slice(&[p.m as u32, p.n as u32, p.k as u32, p.flags, bits(p.alpha), bits(p.beta)]);
    params[6] = p.batch.len() as u32;
    for (i, ((&d, &sa), &sb)) in p.batch.iter().zip(&p.a_strides).zip(&p.b_strides).enumerate() {
        params[7 + i] = d as u32;
        params[13 + i] = sa as u32;
        params[19 + i] = sb as u32;
    }
    let c_buf = match p.c {
        Some((c, [sm, sn])) => {
            params[25] = sm as u32;
            params[26] = sn as u32;
            &c.buf
        }
        None => ctx.dummy,
    };
    let batch_count: usize = p.batch.iter().product();
    let groups = [p.n.div_ceil(TILE) as u32, p.m.div_ceil(TILE) as u32, batch_count as u32];
    let c_owned = c_buf.clone();
    ctx.dispatch(kernel("matmul", "matmul"), &params, &[(1, &a.buf), (2, &b.buf), (3, &c_owned), (4, &y.buf)], groups)
}

/// ONNX MatMul with numpy rank rules and batch broadcasting.
pub(crate) fn matmul(ctx: &mut Ctx<'_>, a: &Operand, b: &Operand, y: &Operand) -> Result<()> {
    let g = matmul_geometry(&a.desc.shape, &b.desc.shape)?;
    let problem = Problem {
        m: g.m,
        n: g.n,
        k: g.k,
        flags: 0,
        alpha: 1.0,
        beta: 0.0,
        a_strides: g.a_batch_strides.clone(),
        b_strides: g.b_batch_strides.clone(),
        batch: g.batch,
        c: None,
    };
    launch(ctx, problem, a, b, y)
}

/// ONNX Gemm: `alpha op(A) op(B) + beta C`.
pub(crate) fn gemm(
    ctx: &mut Ctx<'_>,
    attrs: &Gemm,
    a: &Operand,
    b: &Operand,
    c: Option<&Operand>,
    y: &Operand,
) -> Result<()> {
    let (m, k) = if attrs.trans_a { (a.desc.shape[1], a.desc.shape[0]) } else { (a.desc.shape[0], a.desc.shape[1]) };
    let n = if attrs.trans_b { b.desc.shape[0] } else { b.desc.shape[1] };
    let c = c.map(|c| {
        let s = broadcast_strides(&c.desc.shape, &[m, n]);
        (c, [s[0], s[1]])
    });
    let flags = u32::from(attrs.trans_a) | (u32::from(attrs.trans_b) << 1) | (u32::from(c.is_some()) << 2);
    let problem = Problem {
        m,
        n,
        k,
        flags,
        alpha: attrs.alpha,
        beta: attrs.beta,
        batch: Vec::new(),
        a_strides: Vec::new(),
        b_strides: Vec::new(),
        c,
    };
    launch(ctx, problem, a, b, y)
}
