//! Launchers for `shaders/gather.wgsl`: Gather and GatherElements on raw
//! storage, so every dtype (block-quantized tables included) moves exactly.
//! Gather reads a block-quantized table held in a texture (`packed.rs`)
//! there, with the kernel's [`TEXTURE`] form.

use hcal_core::{DType, GatherElementsGeometry, GatherGeometry, Result, out_of_range_fill};

use crate::ctx::{Ctx, Operand};
use crate::params::{GatherParams, MAX_DIMS};
use crate::pipeline::kernel;
use crate::record::Window;

/// Kernel variant of `gather.wgsl` reading data from a texture (its `// TEX`
/// lines; variant 0 keeps the `// BUF` lines).
const TEXTURE: u16 = 1;

/// Expand `gather.wgsl` for `variant` (0 or [`TEXTURE`]).
pub(crate) fn expand(template: &str, variant: u16) -> String {
    let drop = if variant & TEXTURE != 0 { "// BUF" } else { "// TEX" };
    let text: String = template.lines().filter(|l| !l.ends_with(drop)).flat_map(|l| [l, "\n"]).collect();
    text.replace("$TW", &crate::packed::WIDTH.to_string())
}

/// Both forms, named, for shader validation.
pub(crate) fn expansions() -> Vec<(String, String)> {
    let text = crate::pipeline::family_source("gather");
    vec![("gather (buffer)".to_string(), expand(text, 0)), ("gather (texture)".to_string(), expand(text, TEXTURE))]
}

/// Highest rank `gather_elements` holds.
pub(crate) const MAX_RANK: usize = MAX_DIMS;

/// The fill fields of [`GatherParams`] for `dtype`: the bytes an index
/// outside its axis writes ([`out_of_range_fill`]), as a period (one storage
/// unit) whose first bytes (at most 4) are a pattern and the rest zero.
fn fill(dtype: DType) -> (u32, u32, u32) {
    let unit = out_of_range_fill(dtype);
    let prefix = unit.iter().rposition(|&b| b != 0).map_or(0, |last| last + 1);
    debug_assert!(prefix <= 4, "fills are NaN scales or elements of at most 4 bytes");
    let pattern = unit[..prefix].iter().rev().fold(0u32, |acc, &b| (acc << 8) | u32::from(b));
    (unit.len() as u32, prefix as u32, pattern)
}

fn params(dtype: DType, out: &Operand, unit_bytes: usize, axis_len: usize) -> GatherParams {
    let (fill_period, fill_prefix, fill_pattern) = fill(dtype);
    let out_bytes = out.desc.byte_len().unwrap_or(0);
    GatherParams {
        out_bytes: out_bytes as u32,
        unit_bytes: unit_bytes as u32,
        axis_len: axis_len as u32,
        fill_period,
        fill_prefix,
        fill_pattern,
        words: out_bytes.div_ceil(4) as u32,
        held_hi: u32::MAX,
        write_fill: 1,
        ..GatherParams::default()
    }
}

/// How a gather runs: ranges `[w0, w1)` of output words, each run once per
/// window of the data table, `[u0, u1)` of its units (Gather: rows flat over
/// `[outer, axis_len]`; GatherElements: elements). One of each when every
/// tensor fits one binding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Plan {
    pub(crate) out: Vec<(usize, usize)>,
    pub(crate) data: Vec<(usize, usize)>,
}

/// What a gather reads and writes, for [`plan`].
pub(crate) struct Sizes {
    /// Bytes of the output.
    pub(crate) out_bytes: usize,
    /// Units of the data table and bytes per unit.
    pub(crate) units: usize,
    pub(crate) unit_bytes: usize,
    /// Indices (i64 each) in all.
    pub(crate) indices: usize,
}

/// The pieces of a gather (`idx_range(b0, b1)`: the `(first, count)` of the
/// indices output bytes `[b0, b1)` read) whose windows each fit one binding;
/// `None` when a single unit of data (a row of the table) does not, or
/// when byte offsets would pass the kernel's u32.
pub(crate) fn plan(
    s: &Sizes,
    idx_range: impl Fn(usize, usize) -> (usize, usize),
    max: u64,
    align: u64,
) -> Option<Plan> {
    let data_bytes = s.units * s.unit_bytes;
    if data_bytes > u32::MAX as usize || s.out_bytes > u32::MAX as usize - 4 {
        return None;
    }
    let whole = crate::split::whole;
    let data = if whole(data_bytes, max) {
        vec![(0, s.units)]
    } else {
        crate::split::pieces(s.units, 1, |u0, u1| Window::bytes_needed((u1 - u0) * s.unit_bytes, 1, align) <= max)?
    };
    let words = s.out_bytes.div_ceil(4);
    let out = if whole(s.out_bytes, max) && whole(s.indices * 8, max) {
        vec![(0, words)]
    } else {
        crate::split::pieces(words, 1, |w0, w1| {
            let (_, count) = idx_range(4 * w0, (4 * w1).min(s.out_bytes));
            Window::bytes_needed(w1 - w0, 4, align) <= max
                && (whole(s.indices * 8, max) || Window::bytes_needed(count, 8, align) <= max)
        })?
    };
    Some(Plan { out, data })
}

/// Gather's indices read by output bytes `[b0, b1)` (`row`: bytes per
/// output row, `count` indices): those of the rows the bytes lie in, all
/// of them when the range crosses an outer slice.
pub(crate) fn gather_indices(row: usize, count: usize, b0: usize, b1: usize) -> (usize, usize) {
    let (r0, r1) = (b0 / row.max(1), b1.saturating_sub(1).max(b0) / row.max(1));
    if count == 0 || r0 / count != r1 / count {
        return (0, count);
    }
    (r0 % count, r1 % count - r0 % count + 1)
}

/// GatherElements' indices read by output bytes `[b0, b1)` of `elem` bytes each.
pub(crate) fn element_indices(elem: usize, b0: usize, b1: usize) -> (usize, usize) {
    let (e0, e1) = (b0 / elem.max(1), b1.saturating_sub(1).max(b0) / elem.max(1));
    (e0, e1 - e0 + 1)
}

/// Dispatch `entry` over `plan`: every range of output words once per
/// window of data, each dispatch writing the bytes its window holds (the
/// first also the fills), merging into what the others wrote.
fn run(
    ctx: &mut Ctx<'_>,
    entry: &'static str,
    mut p: GatherParams,
    plan: &Plan,
    idx_range: impl Fn(usize, usize) -> (usize, usize),
    [data, indices, out]: [&Operand; 3],
) -> Result<()> {
    let unit = p.unit_bytes as usize;
    let out_bytes = p.out_bytes as usize;
    p.merge = u32::from(plan.data.len() > 1);
    for &(w0, w1) in &plan.out {
        let (ow, o_origin) = ctx.window(&out.buf, w0, w1 - w0, 4);
        let (i_first, i_count) = idx_range(4 * w0, (4 * w1).min(out_bytes));
        let (iw, i_origin) = ctx.window(&indices.buf, i_first, i_count, 8);
        p.first_word = w0 as u32;
        p.words = (w1 - w0) as u32;
        p.out_base = (w0 - o_origin) as u32;
        p.idx_origin = i_origin as u32;
        if let Some(texture) = &data.packed {
            // The texture holds all of data: one dispatch, no windows.
            (p.data_origin, p.held_lo, p.held_hi, p.write_fill, p.merge) = (0, 0, u32::MAX, 1, 0);
            if let Some(order) = texture.layout {
                p.data_group = order.group;
                p.data_unit = order.unit;
                p.data_rows = order.rows;
                p.data_blocks_per_row = order.blocks_per_row;
                p.data_block_bytes = data.desc.dtype.size_bytes() as u32;
                p.data_head = order.head;
            }
            let groups = ctx.grid_for((w1 - w0).div_ceil(256))?;
            let k = crate::pipeline::Kernel { variant: TEXTURE, ..kernel("gather", entry) };
            ctx.dispatch_windows(k, &p, &[(2, iw), (3, ow)], &[(1, &texture.view)], groups)?;
            continue;
        }
        for (piece, &(u0, u1)) in plan.data.iter().enumerate() {
            let (dw, d_origin) = ctx.window(&data.buf, u0 * unit, (u1 - u0) * unit, 1);
            p.data_origin = d_origin as u32;
            (p.held_lo, p.held_hi) = if plan.data.len() > 1 { (u0 as u32, u1 as u32) } else { (0, u32::MAX) };
            p.write_fill = u32::from(piece == 0);
            ctx.per_item_windows(kernel("gather", entry), &p, &[(1, dw), (2, iw), (3, ow)], w1 - w0)?;
        }
    }
    Ok(())
}

/// The too-large error of a gather no plan fits.
fn too_large(ctx: &Ctx<'_>, data: &Operand) -> hcal_core::Error {
    hcal_core::Error::DeviceLimit {
        backend: ctx.gpu.backend.clone(),
        limit: "max_storage_buffer_binding_size",
        max: ctx.max_binding(),
        requested: data.buf.size(),
    }
}

/// `out[o, c, ..] = data[o, indices[c], ..]` (rows of whole blocks for a
/// block-quantized table), in pieces when a tensor exceeds one binding.
pub(crate) fn gather(
    ctx: &mut Ctx<'_>,
    g: &GatherGeometry,
    data: &Operand,
    indices: &Operand,
    out: &Operand,
) -> Result<()> {
    let row = g.inner_bytes(data.desc.dtype);
    let mut p = params(data.desc.dtype, out, row, g.axis_len);
    p.count = g.count as u32;
    let sizes =
        Sizes { out_bytes: p.out_bytes as usize, units: g.outer * g.axis_len, unit_bytes: row, indices: g.count };
    let idx_range = |b0, b1| gather_indices(row, g.count, b0, b1);
    let plan = plan(&sizes, idx_range, ctx.max_binding(), ctx.align()).ok_or_else(|| too_large(ctx, data))?;
    run(ctx, "gather", p, &plan, idx_range, [data, indices, out])
}

/// `out[i] = data[i with i[axis] = indices[i]]`, in pieces when a tensor
/// exceeds one binding.
pub(crate) fn gather_elements(
    ctx: &mut Ctx<'_>,
    g: &GatherElementsGeometry,
    data: &Operand,
    indices: &Operand,
    out: &Operand,
) -> Result<()> {
    let elem = data.desc.dtype.size_bytes();
    let mut p = params(data.desc.dtype, out, elem, g.axis_len);
    p.rank = indices.desc.rank() as u32;
    p.axis = g.axis as u32;
    for (d, (&extent, &stride)) in indices.desc.shape.iter().zip(&g.data_strides).enumerate() {
        p.shape[d] = extent as u32;
        p.strides[d] = stride as u32;
    }
    let sizes = Sizes {
        out_bytes: p.out_bytes as usize,
        units: data.desc.numel(),
        unit_bytes: elem,
        indices: indices.desc.numel(),
    };
    let idx_range = |b0, b1| element_indices(elem, b0, b1);
    let plan = plan(&sizes, idx_range, ctx.max_binding(), ctx.align()).ok_or_else(|| too_large(ctx, data))?;
    run(ctx, "gather_elements", p, &plan, idx_range, [data, indices, out])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_beyond_a_binding_is_read_in_windows_of_rows() {
        // Llama-3-8B's Q8_0 embedding: 128256 rows of 4096 values (4352 bytes), 558 MB.
        let row = 4096 / 32 * 34;
        let sizes = Sizes { out_bytes: 7 * row, units: 128_256, unit_bytes: row, indices: 7 };
        let p = plan(&sizes, |b0, b1| gather_indices(row, 7, b0, b1), 128 << 20, 256).unwrap();
        assert_eq!(p.out, [(0, 7 * row / 4)]);
        assert_eq!(p.data.len(), 5);
        assert!(p.data.windows(2).all(|w| w[0].1 == w[1].0) && p.data[4].1 == 128_256);
        // Indices of a range of output bytes: its rows', all of them across an outer slice.
        assert_eq!(gather_indices(8, 5, 8, 24), (1, 2));
        assert_eq!(gather_indices(8, 5, 32, 48), (0, 5));
        assert_eq!(element_indices(2, 6, 10), (3, 2));
    }

    #[test]
    fn fills_are_a_nan_pattern_then_zeros() {
        assert_eq!(fill(DType::F32), (4, 4, 0x7FC0_0000));
        assert_eq!(fill(DType::F16), (2, 2, 0x7E00));
        assert_eq!(fill(DType::I64), (8, 0, 0));
        assert_eq!(fill(DType::Q4_1), (20, 4, 0x7E00_7E00));
        assert_eq!(fill(DType::Q8_0), (34, 2, 0x7E00));
    }
}
