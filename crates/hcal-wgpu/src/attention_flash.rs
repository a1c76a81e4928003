//! Launchers and template expansion for the flash attention kernels: one pass
//! over key blocks with an online softmax. `shaders/attention_flash.wgsl`
//! stages K and V in textures and shares a query tile across a subgroup of
//! any fixed width from 4 to 64; `shaders/attention_flash_rows.wgsl` is the
//! form for adapters without subgroups (each invocation owns query rows;
//! K and V staged in textures where they fit, else read from their buffers).

use hcal_core::{AttentionGeometry, DType, Result};

use crate::ctx::{Ctx, Operand};
use crate::matmul::stage_b;
use crate::memory::StagingSlot;
use crate::params::{AttentionParams, MatmulParams};
use crate::pipeline::Kernel;

/// One expansion: `lanes` invocations per workgroup (the adapter's fixed
/// subgroup width), V head size `dv` (64 or 128), Q/K head sizes up to `dmax`
/// (32, 64, 96 or 128), and whether it reads a mask (compiled out otherwise:
/// the mask code alone slowed unmasked calls from 35 to 30 GFLOP/s on lavapipe).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Variant {
    lanes: u32,
    dv: u32,
    dmax: u32,
    masked: bool,
    /// D is not a multiple of the lanes: a chunk's steps past D read K's
    /// last row (clamped), against a zero query value.
    ragged: bool,
}

/// The subgroup widths the kernel is written for (powers of two).
pub(crate) const WIDTHS: [u32; 5] = [4, 8, 16, 32, 64];

impl Variant {
    /// The kernel-variant number (`Kernel::variant`): bit 0 masked, bit 1
    /// Dv 128, bits 2-3 `dmax / 32 - 1`, bits 4-7 log2 of the lanes, bit 8 ragged.
    fn code(self) -> u16 {
        u16::from(self.masked)
            | (u16::from(self.dv == 128) << 1)
            | (((self.dmax / 32 - 1) as u16) << 2)
            | ((self.lanes.ilog2() as u16) << 4)
            | (u16::from(self.ragged) << 8)
    }

    fn of(code: u16) -> Self {
        Variant {
            masked: code & 1 != 0,
            dv: if code & 2 != 0 { 128 } else { 64 },
            dmax: 32 * (u32::from((code >> 2) & 3) + 1),
            lanes: 1 << ((code >> 4) & 15),
            ragged: code & 0x100 != 0,
        }
    }

    /// Query rows per workgroup: 16 for Dv 64 and 8 for Dv 128, halved at 4
    /// lanes (there 16 rows held 3 x 256 live values per lane: lavapipe took
    /// minutes to compile it). On lavapipe
    /// (8 lanes, B1 H8 S1024, K and V read as storage textures, Q held in
    /// registers), D64 ran alike with 8 and 16 rows (41-43 GFLOP/s) but 16
    /// rows was faster at S=32768 H1 (8.9-10 s against 12.8-13 s: half the
    /// K/V traffic per query row); D128 ran at 40-44 with 8 rows and 23-25
    /// with 16 (spills). Cold compiles: 3.3 s for D64 with 16 rows, 4.2 s for
    /// D128 with 8.
    fn rows(self) -> u32 {
        let rows = if self.dv == 128 { 8 } else { 16 };
        if self.lanes <= 4 { rows / 2 } else { rows }
    }

    /// Key texels each lane scores per block: 16 keys at 4 lanes, 8 at 8, 4
    /// from 16 (blocks of 64 keys up to 16 lanes, `4 lanes` keys beyond).
    fn key_texels(self) -> u32 {
        (16 / self.lanes).max(1)
    }

    /// Query chunks of `lanes` dims per row held in registers.
    fn chunks(self) -> u32 {
        self.dmax.div_ceil(self.lanes)
    }

    /// Output texels per lane (Dv / 4 spread over the lanes, at least one).
    fn out_texels(self) -> u32 {
        (self.dv / 4 / self.lanes).max(1)
    }
}

/// Expand the template for the variant numbered `v` (see [`Variant::code`]).
pub(crate) fn expand(template: &str, v: u16) -> String {
    let t = Variant::of(v);
    let (kt, qn, co) = (t.key_texels(), t.chunks(), t.out_texels());
    let block_keys = 4 * kt * t.lanes;
    // The chunk `ch` of each row's query values, picked from its registers
    // (a loop-indexed private array would live in memory on lavapipe).
    let pick = (1..qn).fold("q$r_0".to_string(), |acc, c| format!("select({acc}, q$r_{c}, ch == {c}u)"));
    let smax = (1..kt).fold("hmax(s$r_0)".to_string(), |acc, c| format!("max({acc}, hmax(s$r_{c}))"));
    let psum = (1..kt).fold("p$r_0".to_string(), |acc, c| format!("{acc} + p$r_{c}"));
    let step = if t.ragged { "min(d0 + $ju, d - 1u)" } else { "d0 + $ju" };
    let template =
        template.replace("$QSEL", &pick).replace("$SMAX", &smax).replace("$PSUM", &psum).replace("$DSTEP", step);
    let e = crate::template::Expansion {
        constants: &[
            ("$RR", t.rows()),
            ("$CO", co),
            ("$DV4", t.dv / 4),
            ("$KT", kt),
            ("$BK", block_keys),
            ("$MASKED", u32::from(t.masked)),
            ("$W", t.lanes),
        ],
        repeats: &[("$r", t.rows()), ("$c", kt), ("$o", co), ("$h", qn)],
        blocks: &[("$j", t.lanes), ("$k", block_keys)],
    };
    let keys_per_lane = 4 * kt;
    crate::template::expand(&template, &e, |token, n| match token {
        // Key n of a block: scored by lane n / (4 kt), in its texel (n % 4 kt) / 4, component n % 4.
        "$k" => vec![
            ("$kl", (n / keys_per_lane).to_string()),
            ("$kc", ((n % keys_per_lane) / 4).to_string()),
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

/// Variant-number bit of the kernel without subgroups (`attention_flash_rows.wgsl`).
const ROWS_KERNEL: u16 = 0x8000;

/// Variant-number bit of the row kernel's form that reads K and V from
/// staged storage textures (the `// KV:tex` lines) instead of their buffers.
/// On llvmpipe (Mesa 22.3) a storage-buffer or workgroup-memory load is a
/// loop over the SIMD lanes with a branch per lane and component, even where
/// every lane reads the same address, while a storage-texture load is
/// inlined vector code: reading K and V from textures took B1 H8 S1024 D64
/// from 3.2 to 8.0 GFLOP/s at 4 rows per invocation (both forms alternated
/// in one session, load 4 on 2 cores).
const ROWS_TEXTURES: u16 = 0x200;

/// Variant-number bit of the row kernel with 8 query rows per invocation
/// (else 4): each K and V texel then serves 8 rows.
const ROWS_EIGHT: u16 = 0x400;

/// Keys per block of `attention_flash_rows.wgsl` (a multiple of 4): on
/// llvmpipe at B1 H8 S2048 D64, 8 rows per invocation, blocks of 8 keys ran
/// in 389-788 ms against 770-1094 ms with blocks of 4 (alternated, load 3.5
/// on 2 cores), and compiled in 15-20 s against 13-17 s.
const ROWS_BLOCK_KEYS: u32 = 8;

/// Invocations per workgroup of `attention_flash_rows.wgsl`.
const ROWS_WG: u32 = 16;

/// Query rows per invocation of `attention_flash_rows.wgsl` for variant `v`:
/// each K and V load serves this many rows.
fn rows_per_lane(v: u16) -> u32 {
    if v & ROWS_EIGHT != 0 { 8 } else { 4 }
}

/// Whether the texture form of the row kernel holds 8 query rows per
/// invocation for head sizes up to `dmax`, V head size `dv` and `q_len`
/// query rows: where the query and output registers stay at 8 x 32 texels,
/// for long prefills. On llvmpipe at B1 H8 S1024 (alternated runs), D64: 8
/// rows 104-116 ms against 4 rows 135-140 ms, 16 rows 103-105 ms but 67 s
/// to compile (8 rows: 14-18 s, 4 rows about 8 s); D128: 8 rows 439 ms and
/// 75 s to compile against 4 rows 304 ms and 21 s. Short calls keep 4 rows,
/// which compile in half the time (the CI's conformance cases among them).
fn eight_rows(dmax: u32, dv: u32, q_len: usize) -> bool {
    dmax + dv <= 128 && q_len >= 256
}

/// Expand `attention_flash_rows.wgsl` for the variant numbered `v` (the lanes
/// field unused).
pub(crate) fn expand_rows(template: &str, v: u16) -> String {
    let drop = if v & ROWS_TEXTURES != 0 { "// KV:buf" } else { "// KV:tex" };
    let template: String = template.lines().filter(|l| !l.ends_with(drop)).flat_map(|l| [l, "\n"]).collect();
    let t = Variant::of(v & !(ROWS_KERNEL | ROWS_TEXTURES | ROWS_EIGHT));
    let (rr, wg) = (rows_per_lane(v), ROWS_WG);
    let (kb, groups) = (ROWS_BLOCK_KEYS, ROWS_BLOCK_KEYS / 4);
    let smax = (1..groups).fold("hmax(sp$r_0)".to_string(), |acc, g| format!("max({acc}, hmax(sp$r_{g}))"));
    let psum = (1..groups).fold("p$r_0".to_string(), |acc, g| format!("{acc} + p$r_{g}"));
    let template = template.replace("$SMAX", &smax).replace("$PSUM", &psum);
    let e = crate::template::Expansion {
        constants: &[
            ("$RR", rr),
            ("$WG", wg),
            ("$KB", kb),
            ("$D4", t.dmax / 4),
            ("$E4", t.dv / 4),
            ("$MASKED", u32::from(t.masked)),
        ],
        repeats: &[("$r", rr), ("$g", groups), ("$d", t.dmax / 4), ("$e", t.dv / 4)],
        blocks: &[("$k", kb)],
    };
    crate::template::expand(&template, &e, |token, n| {
        let component = format!("$r_{}.{}", n / 4, xyzw(n));
        vec![("$kp", format!("p{component}")), ("$ks", format!("s{component}")), (token, n.to_string())]
    })
}

/// Whether variant `v` (from [`variant_for`]) is worth choosing unpinned on
/// a SIMD CPU driver: the subgroup kernel, and the row kernel's texture
/// form. The row kernel's buffer form is not: every K and V load is a loop
/// over the lanes there (llvmpipe, B1 H8 S1024 D64: 3.2 GFLOP/s).
pub(crate) fn fast_on_cpu_drivers(v: u16) -> bool {
    v & ROWS_KERNEL == 0 || v & ROWS_TEXTURES != 0
}

/// Whether variant `v` (from [`variant_for`]) is the row kernel (no subgroups).
pub(crate) fn is_row_kernel(v: u16) -> bool {
    v & ROWS_KERNEL != 0
}

/// The kernel of a variant number from [`variant_for`], and its query rows per workgroup.
pub(crate) fn kernel(variant: u16) -> (Kernel, u32) {
    if variant & ROWS_KERNEL != 0 {
        let k = Kernel { variant, ..crate::pipeline::kernel("attention_flash_rows", "attention_flash_rows") };
        (k, ROWS_WG * rows_per_lane(variant))
    } else {
        (
            Kernel { variant, ..crate::pipeline::kernel("attention_flash", "attention_flash") },
            Variant::of(variant).rows(),
        )
    }
}

/// Every variant of every width.
fn all_variants() -> impl Iterator<Item = Variant> {
    WIDTHS.into_iter().flat_map(|lanes| {
        [64, 128].into_iter().flat_map(move |dv| {
            [32, 64, 96, 128]
                .into_iter()
                .flat_map(move |dmax| [false, true].into_iter().map(move |masked| (dmax, masked)))
                .flat_map(move |(dmax, masked)| {
                    [false, true].into_iter().map(move |ragged| Variant { lanes, dv, dmax, masked, ragged })
                })
        })
    })
}

/// Every expansion at every width in [`WIDTHS`], named, for shader
/// validation; the subgroup kernel's f16 form once per width, at its largest
/// (Dv 128, D up to 128, masked): its f16 lines are Q's load and Y's store,
/// the same in every other variant, and all 160 of them would add half again
/// to the longest of the crate's tests.
pub(crate) fn expansions() -> Vec<(String, String)> {
    let f32_forms = all_variants().map(|v| (v, (0, "")));
    let largest = |v: &Variant| v.dv == 128 && v.dmax == 128 && v.masked && !v.ragged;
    let f16_forms = all_variants().filter(largest).map(|v| (v, (crate::pipeline::F16_IO, "-f16")));
    let mut all: Vec<(String, String)> = f32_forms
        .chain(f16_forms)
        .map(|(v, (io, dtype))| {
            let (masked, ragged) = (if v.masked { "-masked" } else { "" }, if v.ragged { "-ragged" } else { "" });
            let name = format!("attention_flash-w{}-dv{}-d{}{masked}{ragged}{dtype}", v.lanes, v.dv, v.dmax);
            let kernel =
                Kernel { variant: v.code() | io, ..crate::pipeline::kernel("attention_flash", "attention_flash") };
            (name, crate::pipeline::source(kernel).into_owned())
        })
        .collect();
    let row_forms = all_variants().filter(|v| v.lanes == 4 && !v.ragged).flat_map(|v| {
        let eight = if eight_rows(v.dmax, v.dv, 256) {
            [(v, ROWS_TEXTURES | ROWS_EIGHT, "-textures-rows8")].to_vec()
        } else {
            Vec::new()
        };
        // The texture form's f16 lines (Q's load, Y's store) once, at the largest.
        let f16 = if largest(&v) {
            [(v, ROWS_TEXTURES | crate::pipeline::F16_IO, "-textures-f16")].to_vec()
        } else {
            Vec::new()
        };
        [(v, 0, ""), (v, ROWS_TEXTURES, "-textures")].into_iter().chain(eight).chain(f16)
    });
    all.extend(row_forms.map(|(v, form, label)| {
        let masked = if v.masked { "-masked" } else { "" };
        let name = format!("attention_flash_rows-dv{}-d{}{masked}{label}", v.dv, v.dmax);
        let kernel = Kernel {
            variant: v.code() | ROWS_KERNEL | form,
            ..crate::pipeline::kernel("attention_flash_rows", "attention_flash_rows")
        };
        (name, crate::pipeline::source(kernel).into_owned())
    }));
    all
}

/// The adapter's subgroup width when the flash kernel can use it: the
/// `subgroups` feature, one fixed width (smallest = largest subgroup size,
/// so the kernel knows every lane's partner) in [`WIDTHS`].
pub(crate) fn width(gpu: &crate::gpu::Gpu) -> Option<u32> {
    gpu.subgroup_fixed.filter(|w| WIDTHS.contains(w))
}

/// The variant that runs `g` on this device, if any. With a fixed subgroup
/// width of 4 to 64 ([`width`]): the subgroup kernel, for D up to 128, Dv 64
/// or 128, K and V within the device's texture limits. Without one: the
/// row kernel, for D a multiple of 4 up to 128 and Dv 64 or 128 and at most
/// 65,535 blocks of keys ([`ROWS_BLOCK_KEYS`]; Mesa's CPU drivers stop longer
/// loops), in its texture form where K and V fit the texture limits (8 rows
/// per invocation where [`eight_rows`]). Either way a dispatch grid within
/// the device's workgroup limits.
pub(crate) fn variant_for(gpu: &crate::gpu::Gpu, g: &AttentionGeometry, masked: bool) -> Option<u16> {
    let dv = g.v_head_dim as u32;
    let dmax = 32 * g.head_dim.div_ceil(32).max(1) as u32;
    let max_groups = gpu.limits.max_compute_workgroups_per_dimension as usize;
    let heads_fit = g.batch * g.q_heads <= max_groups && g.total_len() >= 1 && (dv == 64 || dv == 128);
    let t = g.total_len();
    let max_2d = gpu.limits.max_texture_dimension_2d as usize;
    let Some(lanes) = width(gpu) else {
        let code = Variant { lanes: 1, dv, dmax, masked, ragged: false }.code() | ROWS_KERNEL;
        // One loop iteration per block of keys: within what Mesa's CPU drivers run.
        let loops_ok = t.div_ceil(ROWS_BLOCK_KEYS as usize) <= crate::matmul::split::CPU_DRIVER_LOOP_LIMIT;
        let ok = heads_fit && loops_ok && g.head_dim % 4 == 0 && (4..=128).contains(&g.head_dim);
        // K and V staged as textures of [T (folded), D / 4] texels per head.
        let layers = g.batch * g.kv_heads * v_folds(gpu, t).1;
        let d4_fits = g.head_dim.max(g.v_head_dim).div_ceil(4) <= max_2d;
        let code = match (1..=gpu.limits.max_texture_array_layers as usize).contains(&layers) && d4_fits {
            true if eight_rows(dmax, dv, g.q_len) => code | ROWS_TEXTURES | ROWS_EIGHT,
            true => code | ROWS_TEXTURES,
            false => code,
        };
        let rows_fit = g.q_len.div_ceil(kernel(code).1 as usize) <= max_groups;
        return (ok && rows_fit).then_some(code);
    };
    let layers = g.batch * g.kv_heads * v_folds(gpu, t).1;
    let fits = t.div_ceil(4) <= max_2d
        && g.head_dim <= max_2d
        && layers >= 1
        && layers <= gpu.limits.max_texture_array_layers as usize;
    let variant = Variant { lanes, dv, dmax, masked, ragged: g.head_dim % lanes as usize != 0 };
    let rows_fit = g.q_len.div_ceil(variant.rows() as usize) <= max_groups;
    let ok = (1..=128).contains(&g.head_dim) && fits && heads_fit && rows_fit;
    ok.then(|| variant.code())
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
/// as 0/1 or additive floats, or a dummy). Q, K, V and Y are f32, or all f16
/// (Q's dtype says which) for the subgroup kernel: read and written as f16
/// by its `F16_IO` form and the staging (see [`f16_runs`]).
pub(crate) fn record(
    ctx: &mut Ctx<'_>,
    g: &AttentionGeometry,
    variant: u16,
    q: &Operand,
    [k, v, mask]: [&wgpu::Buffer; 3],
    params: &AttentionParams,
    y: &Operand,
) -> Result<()> {
    let (kernel, rows) = kernel(variant);
    let groups = [g.q_len.div_ceil(rows as usize) as u32, (g.batch * g.q_heads) as u32, 1];
    let f16 = q.desc.dtype == DType::F16;
    let (t, d, dv) = (g.total_len(), g.head_dim, g.v_head_dim);
    let layers = g.batch * g.kv_heads;
    let (shift, folds) = v_folds(ctx.gpu, t);
    if variant & ROWS_KERNEL != 0 {
        if variant & ROWS_TEXTURES == 0 {
            debug_assert!(!f16, "the row kernel's buffer form has no f16 form");
            let buffers = [(1, &*q.buf), (2, k), (3, v), (4, mask), (5, &*y.buf)];
            return ctx.dispatch_with_views(kernel, params, &buffers, &[], groups);
        }
        // K and V both as [T, D / 4] texels per head, folded alike.
        let fold = t.min(1 << shift);
        let kt = stage_b(
            ctx,
            StagingSlot::AttentionK,
            &stage_params(t, d, layers, false, fold),
            k,
            layers * folds,
            true,
            f16,
        )?;
        let vt = stage_b(
            ctx,
            StagingSlot::AttentionV,
            &stage_params(t, dv, layers, false, fold),
            v,
            layers * folds,
            true,
            f16,
        )?;
        let params = AttentionParams { v_fold_shift: shift, v_folds: folds as u32, ..*params };
        return ctx.dispatch_with_views(
            crate::matmul::with_io(kernel, f16),
            &params,
            &[(1, &q.buf), (4, mask), (5, &y.buf)],
            &[(2, &kt), (3, &vt)],
            groups,
        );
    }
    let kt = stage_b(ctx, StagingSlot::AttentionK, &stage_params(t, d, layers, true, t), k, layers, false, f16)?;
    let v_params = stage_params(t, dv, layers, false, t.min(1 << shift));
    let vt = stage_b(ctx, StagingSlot::AttentionV, &v_params, v, layers * folds, true, f16)?;
    let params = AttentionParams { v_fold_shift: shift, v_folds: folds as u32, ..*params };
    let kernel = crate::matmul::with_io(kernel, f16);
    ctx.dispatch_with_views(kernel, &params, &[(1, &q.buf), (4, mask), (5, &y.buf)], &[(2, &kt), (3, &vt)], groups)
}

/// Whether the flash kernel runs attention `g` on f16 Q, K, V and Y
/// themselves (`f16_buffers`: their buffers): the variant for `g` (`variant`,
/// from [`variant_for`]) is the subgroup kernel or the row kernel's texture
/// form (both stage K and V from f16; the row kernel's buffer form reads them
/// as f32) and every buffer fits one storage binding. The path choice and the
/// operands' layout (4-D, no past or present cache) are the caller's to check.
pub(crate) fn f16_runs(gpu: &crate::gpu::Gpu, variant: u16, f16_buffers: [&wgpu::Buffer; 4]) -> bool {
    let max = gpu.limits.max_storage_buffer_binding_size;
    let staged = variant & ROWS_KERNEL == 0 || variant & ROWS_TEXTURES != 0;
    staged && f16_buffers.iter().all(|b| b.size() <= max)
}

#[cfg(test)]
mod tests {
    use hcal_core::{Attention, Backend, BackendExt, DType, Instruments, Op, OpSignature, TensorDesc};

    /// Deterministic values in [-1, 1).
    fn values(n: usize, seed: u64) -> Vec<f32> {
        let mut s = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
        (0..n)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                (s >> 40) as f32 / (1u64 << 23) as f32 - 1.0
            })
            .collect()
    }

    fn run(backend: &dyn Backend, op: &Op, descs: &[TensorDesc; 3], out: &TensorDesc) -> Vec<f32> {
        let inputs: Vec<_> = descs.iter().map(|d| backend.alloc(d).unwrap()).collect();
        for (i, (t, d)) in inputs.iter().zip(descs).enumerate() {
            backend.write(t, bytemuck::cast_slice(&values(d.numel(), i as u64 + 1))).unwrap();
        }
        let y = backend.alloc(out).unwrap();
        backend.run(op, &inputs.iter().collect::<Vec<_>>(), &[&y]).unwrap();
        bytemuck::cast_slice::<u8, f32>(&backend.read(&y).unwrap()).to_vec()
    }

    /// The row kernel's texture form with 8 rows per invocation (256 query
    /// rows and more), as GL takes it unpinned: causal, 4 query heads on one
    /// KV head, 260 rows (two full tiles of 128 and a partial one), against
    /// the f64 CPU reference. Bound: every output is a softmax-weighted sum
    /// of values in [-1, 1), each weight from a D-term dot product and a sum
    /// over T keys, so at most (D + T + 8) f32 roundings of unit size each.
    /// Skipped (with a note) where this machine has no GL adapter.
    #[test]
    fn row_kernel_texture_form_matches_the_cpu_reference_on_gl() {
        let Ok(gl) = crate::WgpuBackend::open("wgpu:gl:0") else {
            eprintln!("skipped: no GL adapter");
            return;
        };
        // D 32, Dv 64: the smallest expansion of the form (about 15 s to compile cold on llvmpipe).
        let (s, d, dv) = (260, 32, 64);
        let op = Op::Attention(Attention { is_causal: true, ..Attention::default() });
        let descs = [[1, 4, s, d], [1, 1, s, d], [1, 1, s, dv]].map(|shape| TensorDesc::new(shape, DType::F32));
        let sig = OpSignature::new(op.clone(), descs.iter().cloned().map(Some).collect()).unwrap();
        let kernel = gl.kernel_variant(&sig).unwrap_or_default();
        assert!(kernel.contains("attention_flash_rows"), "GL ran {kernel}");
        assert!(super::eight_rows(d as u32, dv as u32, s), "8 rows per invocation at this size");
        let out = sig.outputs()[0].clone();
        let got = run(&gl, &op, &descs, &out);
        let want = run(&hcal_cpu::CpuBackend::new(), &op, &descs, &out);
        let bound = (d + s + 8) as f32 * f32::EPSILON;
        let worst = got.iter().zip(&want).map(|(g, w)| (g - w).abs()).fold(0.0, f32::max);
        assert!(worst <= bound, "worst error {worst:e} over the bound {bound:e}");
    }
}
