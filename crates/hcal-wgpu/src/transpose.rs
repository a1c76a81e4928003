//! Launcher for `shaders/transpose.wgsl`.

use hcal_core::{Result, contiguous_strides};

use crate::params::TransposeParams;
use crate::pipeline::kernel;
use crate::record::{Ctx, Operand};

/// Highest rank the kernel's parameter block holds.
pub(crate) const MAX_RANK: usize = crate::params::MAX_DIMS;

/// Permute the axes of `x` (any dtype) into `y`: `y.shape[k] = x.shape[perm[k]]`
/// (`perm` resolved by hcal-core, see `Geometry::Transpose`).
pub(crate) fn record(ctx: &mut Ctx<'_>, perm: &[usize], x: &Operand, y: &Operand) -> Result<()> {
    let in_strides = contiguous_strides(&x.desc.shape);
    let elem = x.desc.dtype.size_bytes();
    let mut p =
        TransposeParams { n: x.n(), elem_bytes: elem as u32, rank: perm.len() as u32, ..TransposeParams::default() };
    for (k, &src_axis) in perm.iter().enumerate() {
        p.shape[k] = x.desc.shape[src_axis] as u32;
        p.in_strides[k] = in_strides[src_axis] as u32;
    }
    let words = (x.desc.numel() * elem).div_ceil(4);
    ctx.per_item(kernel("transpose", "transpose"), &p, &[(1, &x.buf), (2, &y.buf)], words)
}
