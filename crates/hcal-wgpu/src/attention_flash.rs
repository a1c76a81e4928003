//! Launcher and template expansion for `shaders/attention_flash.wgsl`: one
//! pass over key blocks with K and V staged in textures and the rows of a
//! query tile shared across a subgroup (see the shader's header).

use hcal_core::{AttentionGeometry, Result};

use crate::matmul::stage_b;
use crate::memory::StagingSlot;
use crate::params::{AttentionParams, MatmulParams};
use crate::pipeline::Kernel;
use crate::record::{Ctx, Operand};

/// One expansion: `rows` query rows per workgroup, `co` output texels per
/// lane (head size of V = 32 `co`), `qn` chunks of 8 held of each query row
/// (head size of Q and K at most 8 `qn`), and whether it reads a mask (compiled out otherwise: the mask code
/// alone slowed unmasked calls from 35 to 30 GFLOP/s on lavapipe).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Variant {
    rows: u32,
    co: u32,
    qn: u32,
    masked: bool,
}

/// The expansions: V head sizes 64 and 128 (`co` 2 and 4) x Q/K head sizes up
/// to 32, 64, 96 and 128 (`qn` 4 to 16) x unmasked and masked; 16 query rows
/// per tile for Dv 64 and 8 for Dv 128. On lavapipe (B1 H8 S1024, K and V
/// read as storage textures, Q held in registers), D64 ran alike with 8 and 16
/// rows (41-43 GFLOP/s) but 16 rows was faster at S=32768 H1 (8.9-10 s
/// against 12.8-13 s: half the K/V traffic per query row); D128 ran at 40-44
/// with 8 rows and 23-25 with 16 (spills). Cold compiles: 3.3 s for D64 with
/// 16 rows, 4.2 s for D128 with 8.
pub(crate) const VARIANTS: [Variant; 16] = {
    let mut all = [Variant { rows: 8, co: 2, qn: 4, masked: false }; 16];
    let mut i = 0;
    while i < 16 {
        all[i] = Variant {
            rows: 16 - 8 * (i as u32 % 2),
            co: 2 + 2 * (i as u32 % 2),
            qn: 4 * (1 + (i as u32 / 2) % 4),
            masked: i >= 8,
        };
        i += 1;
    }
    all
};

/// Steps of D per subgroup load (`$j` blocks): one query value per lane of 8.
const STEPS: u32 = 8;
/// Keys per block (`$k` blocks).
const BLOCK_KEYS: u32 = 64;

/// Expand the template for variant `v` (an index into [`VARIANTS`]).
pub(crate) fn expand(template: &str, v: u16) -> String {
    let t = VARIANTS[v as usize];
    // The chunk `ch` of each row's query values, picked from its registers
    // (a loop-indexed private array would live in memory on lavapipe).
    let pick = (1..t.qn).fold("q$r_0".to_string(), |acc, c| format!("select({acc}, q$r_{c}, ch == {c}u)"));
    let template = template.replace("$QSEL", &pick);
    let e = crate::template::Expansion {
        constants: &[("$RR", t.rows), ("$CO", t.co), ("$MASKED", u32::from(t.masked))],
        repeats: &[("$r", t.rows), ("$c", 2), ("$o", t.co), ("$h", t.qn)],
        blocks: &[("$j", STEPS), ("$k", BLOCK_KEYS)],
    };
    crate::template::expand(&template, &e, |token, n| match token {
        // Key n of a block: scored by lane n / 8, in its texel (n % 8) / 4, component n % 4.
        "$k" => vec![
            ("$kl", (n / 8).to_string()),
            ("$kc", ((n % 8) / 4).to_string()),
            ("$kx", xyzw(n)),
            ("$k", n.to_string()),
        ],
        _ => vec![(token, n.to_string())],
    })
}

/// Component `n % 4` of a vec4, by name.
fn xyzw(n: u32) -> String {
    ["x", "y", "z", "w"][(n % 4) as usize].to_string()
}

/// Every expansion, named, for shader validation.
pub(crate) fn expansions() -> Vec<(String, String)> {
    let template = crate::pipeline::family_source("attention_flash");
    (0..VARIANTS.len() as u16).map(|v| (format!("attention_flash-v{v}"), expand(template, v))).collect()
}

/// The variant that runs `g` on this device, if any: subgroups of exactly 8
/// (one per workgroup), D a multiple of 8 up to 128, Dv 64 or 128, K and V within the
/// device's texture limits, and a dispatch grid within its workgroup limits.
pub(crate) fn variant_for(gpu: &crate::gpu::Gpu, g: &AttentionGeometry, masked: bool) -> Option<u16> {
    let t = g.total_len();
    let max_2d = gpu.limits.max_texture_dimension_2d as usize;
    let layers = g.batch * g.kv_heads * v_folds(gpu, t).1;
    let fits = t >= 1
        && t.div_ceil(4) <= max_2d
        && g.head_dim <= max_2d
        && layers >= 1
        && layers <= gpu.limits.max_texture_array_layers as usize;
    let max_groups = gpu.limits.max_compute_workgroups_per_dimension as usize;
    let groups_fit = g.q_len.div_ceil(8) <= max_groups && g.batch * g.q_heads <= max_groups;
    let shape_ok = g.head_dim % 8 == 0 && (8..=128).contains(&g.head_dim) && fits && groups_fit;
    if gpu.subgroup_max != Some(8) || !shape_ok {
        return None;
    }
    VARIANTS
        .iter()
        .position(|v| {
            32 * v.co as usize == g.v_head_dim && v.qn as usize == 4 * g.head_dim.div_ceil(32) && v.masked == masked
        })
        .map(|v| v as u16)
}

/// How V's `t` rows are folded into texture layers, so more keys than the
/// device's 2-D texture height still fit: `(log2 of rows per layer, layers
/// per head)`. Up to the height, one layer (and a shift of 31, so every key
/// maps to it); beyond, the largest power of two within the height per layer.
fn v_folds(gpu: &crate::gpu::Gpu, t: usize) -> (u32, usize) {
    let max_2d = gpu.limits.max_texture_dimension_2d.max(1);
    if t <= max_2d as usize {
        return (31, 1);
    }
    let shift = max_2d.ilog2();
    (shift, t.div_ceil(1 << shift))
}

/// A `matmul_stage.wgsl` parameter block staging `layers` matrices of
/// `[rows, cols]` (row-major, one after another from element 0), each cut
/// into layers of `rows_per_fold` rows (the last one's rows past `rows` read
/// beyond the matrix: the kernel never uses them).
fn stage_params(rows: usize, cols: usize, layers: usize, transposed: bool, rows_per_fold: usize) -> MatmulParams {
    let folds = rows.div_ceil(rows_per_fold);
    // Staged as op(B) of a product: [K, N] = [rows, cols], or [cols, rows] transposed.
    let (k, n) = if transposed { (cols, rows) } else { (rows_per_fold, cols) };
    let mut p = MatmulParams {
        n: n as u32,
        k: k as u32,
        flags: if transposed { 2 } else { 0 },
        // Rows of the stored [rows, cols] matrices either way.
        ldb: cols as u32,
        // Batch dims [layers, folds], B strides [one matrix, one fold].
        batch_rank: 2,
        ..MatmulParams::default()
    };
    p.batch_dims[..2].copy_from_slice(&[layers as u32, folds as u32]);
    p.b_batch_strides[..2].copy_from_slice(&[(rows * cols) as u32, (rows_per_fold * cols) as u32]);
    p
}

/// Stage K (transposed) and V, then run the flash kernel (`mask`: the mask
/// as 0/1 or additive floats, or a dummy).
pub(crate) fn record(
    ctx: &mut Ctx<'_>,
    g: &AttentionGeometry,
    variant: u16,
    q: &Operand,
    [k, v, mask]: [&wgpu::Buffer; 3],
    params: &AttentionParams,
    y: &Operand,
) -> Result<()> {
    let (t, d, dv) = (g.total_len(), g.head_dim, g.v_head_dim);
    let layers = g.batch * g.kv_heads;
    let (shift, folds) = v_folds(ctx.gpu, t);
    let kt = stage_b(ctx, StagingSlot::AttentionK, &stage_params(t, d, layers, true, t), k, layers, false)?;
    let v_params = stage_params(t, dv, layers, false, t.min(1 << shift));
    let vt = stage_b(ctx, StagingSlot::AttentionV, &v_params, v, layers * folds, true)?;
    let params = AttentionParams { v_fold_shift: shift, v_folds: folds as u32, ..*params };
    let rows = VARIANTS[variant as usize].rows as usize;
    let flash = Kernel { shader: "attention_flash", entry: "attention_flash", variant };
    let groups = [g.q_len.div_ceil(rows) as u32, (g.batch * g.q_heads) as u32, 1];
    ctx.dispatch_with_views(flash, &params, &[(1, &q.buf), (4, mask), (5, &y.buf)], &[(2, &kt), (3, &vt)], groups)
}
