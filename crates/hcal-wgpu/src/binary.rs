//! Launchers for `shaders/binary.wgsl`: broadcasting binary ops and broadcast copies.

use hcal_core::{BinaryOp, DType, Error, Result, TensorDesc, broadcast_strides};

use crate::ctx::{Ctx, Operand};
use crate::params::BinaryParams;
use crate::pipeline::{Kernel, kernel};
use crate::split::{self, Reads};

/// Highest rank the kernel's parameter block holds.
pub(crate) const MAX_RANK: usize = crate::params::MAX_DIMS;

/// The block of `op` over `out_shape`, with A's and B's element strides
/// walked over it (0 on broadcast dims).
fn params(op: u32, out_shape: &[usize], a_strides: &[usize], b_strides: &[usize]) -> BinaryParams {
    let n: usize = out_shape.iter().product();
    let mut p = BinaryParams { n: n as u32, op, rank: out_shape.len() as u32, ..BinaryParams::default() };
    for (k, &d) in out_shape.iter().enumerate() {
        p.shape[k] = d as u32;
        p.a_strides[k] = a_strides.get(k).map_or(0, |&s| s as u32);
        p.b_strides[k] = b_strides.get(k).map_or(0, |&s| s as u32);
    }
    p
}

/// `C = op(A, B)` with numpy broadcasting: `a_strides`, `b_strides` walk
/// C's shape (resolved by hcal-core, see `Geometry::Broadcast`).
pub(crate) fn record(
    ctx: &mut Ctx<'_>,
    op: BinaryOp,
    [a_strides, b_strides]: [&[usize]; 2],
    a: &Operand,
    b: &Operand,
    c: &Operand,
) -> Result<()> {
    let code = match op {
        BinaryOp::Add => 0,
        BinaryOp::Sub => 1,
        BinaryOp::Mul => 2,
        BinaryOp::Div => 3,
        BinaryOp::Max => 4,
        BinaryOp::Min => 5,
        BinaryOp::Pow => 6,
        BinaryOp::Equal => 7,
        BinaryOp::Less => 8,
        BinaryOp::Greater => 9,
        BinaryOp::LessOrEqual => 10,
        BinaryOp::GreaterOrEqual => 11,
        BinaryOp::And => 12,
        BinaryOp::Or => 13,
    };
    let p = params(code, &c.desc.shape, a_strides, b_strides);
    launch(ctx, "binary", p, [a, b], [a_strides, b_strides], c)
}

/// Run `entry` with block `p` over the output `c`, in pieces of at most one
/// binding each: ranges of output elements, each operand bound as the window
/// of what the range reads (whole where it fits one binding), the range's
/// first index and the windows' origins in the block.
fn launch(
    ctx: &mut Ctx<'_>,
    entry: &'static str,
    mut p: BinaryParams,
    [a, b]: [&Operand; 2],
    [a_strides, b_strides]: [&[usize]; 2],
    c: &Operand,
) -> Result<()> {
    let shape = &c.desc.shape;
    let contiguous = hcal_core::contiguous_strides(shape);
    // `binary` with its op code as a constant, and its offsets those of the
    // output where A, B and Y share one contiguous layout (see `specialize`).
    let flat =
        (0..shape.len()).all(|d| shape[d] == 1 || (a_strides[d] == contiguous[d] && b_strides[d] == contiguous[d]));
    let variant = if entry == "binary" { (p.op as u16 + 1) | if flat { FLAT } else { 0 } } else { 0 };
    let max = ctx.max_binding();
    let read = |o: &Operand, strides| Reads { shape, strides, extra: 0, elem_bytes: 4, whole: o.buf.size() <= max };
    let reads = [read(a, a_strides), read(b, b_strides)];
    let pieces = split::strided(c.desc.numel(), 4, &reads, max, ctx.align()).ok_or_else(|| too_large(ctx, c))?;
    for (i0, i1) in pieces {
        let (a_first, a_count) = reads[0].range(i0, i1);
        let (b_first, b_count) = reads[1].range(i0, i1);
        let (aw, a_origin) = ctx.window(&a.buf, a_first, a_count, 4);
        let (bw, b_origin) = ctx.window(&b.buf, b_first, b_count, 4);
        let (cw, c_origin) = ctx.window(&c.buf, i0, i1 - i0, 4);
        p.n = (i1 - i0) as u32;
        p.first = i0 as u32;
        (p.a_origin, p.b_origin, p.out_base) = (a_origin as u32, b_origin as u32, (i0 - c_origin) as u32);
        // `expand` reads no B: its pipeline has no binding 2.
        let bindings = if entry == "expand" { vec![(1, aw), (3, cw)] } else { vec![(1, aw), (2, bw), (3, cw)] };
        ctx.per_item_windows(Kernel { variant, ..kernel("binary", entry) }, &p, &bindings, i1 - i0)?;
    }
    Ok(())
}

/// The error of a broadcast no piece of which fits one binding (`supports` declines it first).
fn too_large(ctx: &Ctx<'_>, c: &Operand) -> Error {
    Error::DeviceLimit {
        backend: ctx.gpu.backend.clone(),
        limit: "max_storage_buffer_binding_size",
        max: ctx.max_binding(),
        requested: (c.desc.numel() * 4) as u64,
    }
}

/// `x` (f32) broadcast to `shape`, materialized in a scratch buffer; `x`
/// itself, viewed as `shape`, when it already has that many elements (a
/// broadcast that adds no element only inserts 1-dims: the same memory) and
/// its buffer fits one binding. Read-only: callers must not write the result.
pub(crate) fn expand(ctx: &mut Ctx<'_>, x: &Operand, shape: &[usize]) -> Result<Operand> {
    let n: usize = shape.iter().product();
    if x.desc.numel() == n && x.buf.size() <= ctx.max_binding() {
        // A norm's scale of the normalized shape: one dispatch and one
        // scratch buffer saved per call (two RMSNorms per decoder layer).
        return Ok(Operand { packed: None, buf: x.buf.clone(), desc: TensorDesc::new(shape, DType::F32) });
    }
    let buf = ctx.scratch(n * 4)?;
    let strides = broadcast_strides(&x.desc.shape, shape);
    let p = params(0, shape, &strides, &[]);
    let out = Operand { packed: None, buf, desc: TensorDesc::new(shape, DType::F32) };
    // `expand` has no B: X stands in (never bound).
    launch(ctx, "expand", p, [x, x], [&strides, &strides], &out)?;
    Ok(out)
}

/// [`specialize`]'s bit: A, B and Y share one contiguous layout, so element
/// `i`'s offsets in A and B are `i` (no loop over the dims, whose extents and
/// strides are storage loads: a loop over the lanes each on SIMD CPU drivers).
const FLAT: u16 = 0x20;

/// `binary.wgsl` for `variant`: the op code `(variant & 0x1f) - 1` as a
/// constant, so SIMD CPU drivers (which run every case of a switch on a value
/// they cannot prove uniform, under masks) run one case; with [`FLAT`], the
/// offsets of element `i` are `i`. The same arithmetic either way.
///
/// Lavapipe, `[1, 262144]` Mul, 3 alternations of one binary: 4.1-7.1 ms ->
/// 2.0-2.3 ms.
pub(crate) fn specialize(text: &str, variant: u16) -> String {
    let code = (variant & 0x1f) - 1;
    let text = text.replace("switch params.op {", &format!("switch {code}u {{"));
    if variant & FLAT == 0 {
        return text;
    }
    text.replace(
        "let off = offsets(params.first + i) - vec2<u32>(params.a_origin, params.b_origin);",
        "let off = vec2<u32>(params.first + i) - vec2<u32>(params.a_origin, params.b_origin);",
    )
}

/// The specializations [`specialize`] makes, named, for shader validation:
/// every op code, with and without [`FLAT`].
pub(crate) fn specializations() -> Vec<(String, String)> {
    let text = crate::pipeline::family_source("binary");
    (0..BINARY_CODES)
        .flat_map(|code| [code + 1, (code + 1) | FLAT])
        .map(|variant| (format!("binary (variant {variant:#x})"), specialize(text, variant)))
        .collect()
}

/// Op codes of `binary.wgsl` (0 Add .. 13 Or).
const BINARY_CODES: u16 = 14;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specializations_fix_the_op_code_and_flat_ones_drop_the_offsets_loop() {
        let text = crate::pipeline::family_source("binary");
        let mul = specialize(text, 3);
        assert!(mul.contains("switch 2u {") && !mul.contains("switch params.op"));
        assert!(mul.contains("let off = offsets(params.first + i)"));
        let flat = specialize(text, 3 | FLAT);
        assert!(flat.contains("switch 2u {") && flat.contains("let off = vec2<u32>(params.first + i)"));
        assert_eq!(specializations().len(), 2 * BINARY_CODES as usize);
    }
}
