//! The quantized GEMV's shape: invocations per workgroup and columns per
//! invocation, chosen per product (`gemv_plan`) or pinned (`:qgemv=WxC`),
//! and the workgroup width's bits in `matmul_quant`'s kernel variant; the
//! prefill tile's rows and columns (`tile_plan`).

use super::quant::TILE_ROWS;

/// Invocations per workgroup of `matmul_quant` by the code in its variant's
/// bits 11 and 15 (0 is the default, 64).
pub(crate) const WIDTHS: [u32; 4] = [64, 32, 16, 8];

/// The variant bits of a workgroup width from [`WIDTHS`].
pub(crate) fn width_bits(width: u32) -> u16 {
    let code = WIDTHS.iter().position(|&w| w == width).expect("a width of WIDTHS") as u16;
    ((code & 1) << 11) | ((code >> 1) << 15)
}

/// The workgroup width of a variant.
pub(crate) fn width_of(variant: u16) -> u32 {
    WIDTHS[usize::from(((variant >> 11) & 1) | ((variant >> 15) << 1))]
}

/// The GEMV's `(invocations per workgroup, columns per invocation)` for a
/// product of `n` columns, unless the backend pins another (`:qgemv=WxC`):
/// [`gemv_columns`] in workgroups of 64; on a SIMD CPU driver with 8-wide
/// subgroups, 4 columns in the widest workgroups that still give
/// [`CPU_DRIVER_GEMV_WORKGROUPS`] full ones (each workgroup runs on one thread, so
/// narrow N in wide workgroups left threads idle, and one column per
/// invocation loads A once per column).
///
/// lavapipe (2 threads), Q4_1, cold weights, `hcal bench --baseline`
/// interleaving the pinned shape with 64x1 (64x4 for N = 3072), two runs:
/// 16x4 ran 1x576x1536 1.36x and 1.99x, 1x960x576 1.26x and 1.43x,
/// 1x576x576 0.79x and 1.15x; 8x4 1.51x, 1.43x / 1.31x, 1.07x / 0.90x,
/// 0.81x; at N = 3072 every narrower workgroup was slower (0.67-0.98x).
pub(crate) fn gemv_plan(simd_cpu: bool, pin: Option<(u32, u32)>, n: usize, subgroups: bool) -> (u32, u32) {
    if let Some(pinned) = pin {
        return pinned;
    }
    if simd_cpu && subgroups {
        let width = WIDTHS.into_iter().find(|&w| n / (w as usize * 4) >= CPU_DRIVER_GEMV_WORKGROUPS);
        return (width.unwrap_or(8), 4);
    }
    (64, gemv_columns(n, subgroups))
}

/// Workgroups the GEMV aims for on a SIMD CPU driver (see [`gemv_plan`]).
const CPU_DRIVER_GEMV_WORKGROUPS: usize = 8;

/// Rows and columns of Y per invocation of the prefill tile: 4 x 4 on SIMD
/// CPU drivers with 8-wide subgroups, [`TILE_ROWS`] x 1 elsewhere.
///
/// On lavapipe each block of A's rows a lane loads is shared by
/// `subgroupBroadcast` (8 ops a vec4) among the tile's columns, and each
/// column's dequantized block among its rows; 4 x 4 keeps 16 vec4
/// accumulators. Without subgroups the tile would hold its rows' 8 vec4s of
/// A per column block, and a GPU's registers pay for 4 columns'
/// accumulators. Measured on lavapipe (`hcal bench --shape 256xNxK --dtype
/// q4_1`, alternated runs, medians in ms):
/// - 8 x 4 against 8 x 1: 256x960x576 9.77 / 9.75 against 11.59 / 11.75,
///   256x3072x576 29.16 / 28.91 against 42.97 / 37.61, 256x576x1536 16.91 /
///   16.96 against 28.83 / 17.06 (8 x 2 in between); the SmolLM2 chat's
///   256-token prefill 70.9 / 84.6 / 84.9 / 90.1 against 59.4 / 78.5 / 83.7
///   / 60.4 tokens/s;
/// - 4 x 4 against 8 x 4, three runs: 7.77 / 7.68 / 7.76 against 9.48 /
///   18.98 / 9.78, 23.03 / 23.11 / 39.26 against 28.67 / 28.46 / 28.46,
///   12.46 / 12.97 / 12.48 against 16.46 / 16.79 / 16.46;
/// - 2 x 4 against 4 x 4, two runs: 9.03 / 9.00 against 12.66 / 15.90,
///   27.59 / 28.03 against 23.23 / 23.62, 15.72 / 15.65 against 12.82 / 12.59;
/// - the chat's 256-token prefill, 4 x 4 / 8 x 4 / 8 x 1 alternated (tok/s):
///   113.4 / 87.7 / 71.7, 102.0 / 93.9 / 70.8, 120.4 / 99.9 / 73.4, 84.4 /
///   73.7 / 78.8, the same first token.
pub(crate) fn tile_plan(simd_cpu: bool, subgroups: bool) -> (u32, u32) {
    if simd_cpu && subgroups { (4, 4) } else { (TILE_ROWS, 1) }
}

/// Columns per invocation of the GEMV in workgroups of 64 (one row; on SIMD
/// CPU drivers with 8-wide subgroups [`gemv_plan`] now narrows the
/// workgroups instead, so the subgroup measurements below decide only what
/// `:qgemv=64xC` pins compare): each block of A is loaded
/// once for that many columns (a storage load costs a loop over the lanes on
/// SIMD CPU drivers), as long as `n` still gives enough workgroups of 64
/// invocations to spread over the cores: with fewer the last round leaves
/// cores idle. With subgroups (A loaded as one vec4 per lane and broadcast):
/// 4 from N = 1024 (lavapipe, 2 threads, Q4_1, medians of 5 alternated runs
/// of 1, 2 and 4 columns: N = 1536, K = 576 took 283, 264 and 238 us; N =
/// 576 took 138, 129 and 148 us for K = 576 and 259, 321 and 361 us for K =
/// 1536, so below 1024 one column stays). Without (each invocation loads A's
/// 8 vec4s of a block itself): 2 from N = 512, 4 from 2048 (llvmpipe GL,
/// Q4_1 [N, K] 576 x 1536 1.0 ms -> 0.59 ms with 2, 1.2-1.4 ms with 4;
/// 49152 x 576 31 -> 17 ms with 4).
pub(crate) fn gemv_columns(n: usize, subgroups: bool) -> u32 {
    match (subgroups, n) {
        (true, n) if n >= 1024 => 4,
        (false, n) if n >= 2048 => 4,
        (false, n) if n >= 512 => 2,
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_drivers_run_four_columns_in_workgroups_that_fill_their_threads() {
        // SmolLM2's decode products on lavapipe: out/down (576), Q/K/V (960),
        // gate/up (3072) and the output projection (49152).
        for (n, plan) in [(576, (16, 4)), (960, (16, 4)), (3072, (64, 4)), (49_152, (64, 4)), (40, (8, 4))] {
            assert_eq!(gemv_plan(true, None, n, true), plan, "N = {n}");
        }
        // GPUs, drivers without 8-wide subgroups and pins keep their choice.
        assert_eq!(gemv_plan(false, None, 576, true), (64, 1));
        assert_eq!(gemv_plan(true, None, 2048, false), (64, 4));
        assert_eq!(gemv_plan(true, Some((8, 2)), 3072, true), (8, 2));
        assert_eq!(tile_plan(true, true), (4, 4));
        assert_eq!((tile_plan(true, false), tile_plan(false, true)), ((TILE_ROWS, 1), (TILE_ROWS, 1)));
        for width in WIDTHS {
            assert_eq!(width_of(width_bits(width)), width);
        }
    }
}
