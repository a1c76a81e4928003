//! Launchers for `shaders/gather.wgsl`: Gather and GatherElements on raw
//! storage, so every dtype (block-quantized tables included) moves exactly.

use hcal_core::{DType, GatherElementsGeometry, GatherGeometry, Result, out_of_range_fill};

use crate::params::{GatherParams, MAX_DIMS};
use crate::pipeline::kernel;
use crate::record::{Ctx, Operand};

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
    GatherParams {
        out_bytes: out.desc.byte_len().unwrap_or(0) as u32,
        unit_bytes: unit_bytes as u32,
        axis_len: axis_len as u32,
        fill_period,
        fill_prefix,
        fill_pattern,
        ..GatherParams::default()
    }
}

/// `out[o, c, ..] = data[o, indices[c], ..]` (rows of whole blocks for a
/// block-quantized table).
pub(crate) fn gather(
    ctx: &mut Ctx<'_>,
    g: &GatherGeometry,
    data: &Operand,
    indices: &Operand,
    out: &Operand,
) -> Result<()> {
    let mut p = params(data.desc.dtype, out, g.inner_bytes(data.desc.dtype), g.axis_len);
    p.count = g.count as u32;
    let words = (p.out_bytes as usize).div_ceil(4);
    ctx.per_item(kernel("gather", "gather"), &p, &[(1, &data.buf), (2, &indices.buf), (3, &out.buf)], words)
}

/// `out[i] = data[i with i[axis] = indices[i]]`.
pub(crate) fn gather_elements(
    ctx: &mut Ctx<'_>,
    g: &GatherElementsGeometry,
    data: &Operand,
    indices: &Operand,
    out: &Operand,
) -> Result<()> {
    let mut p = params(data.desc.dtype, out, data.desc.dtype.size_bytes(), g.axis_len);
    p.rank = indices.desc.rank() as u32;
    p.axis = g.axis as u32;
    for (d, (&extent, &stride)) in indices.desc.shape.iter().zip(&g.data_strides).enumerate() {
        p.shape[d] = extent as u32;
        p.strides[d] = stride as u32;
    }
    let words = (p.out_bytes as usize).div_ceil(4);
    ctx.per_item(kernel("gather", "gather_elements"), &p, &[(1, &data.buf), (2, &indices.buf), (3, &out.buf)], words)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_are_a_nan_pattern_then_zeros() {
        assert_eq!(fill(DType::F32), (4, 4, 0x7FC0_0000));
        assert_eq!(fill(DType::F16), (2, 2, 0x7E00));
        assert_eq!(fill(DType::I64), (8, 0, 0));
        assert_eq!(fill(DType::Q4_1), (20, 4, 0x7E00_7E00));
        assert_eq!(fill(DType::Q8_0), (34, 2, 0x7E00));
    }
}
