//! Launchers for `shaders/attention.wgsl`: KV-cache append, then attention.

use std::sync::Arc;

use hcal_core::{Attention, AttentionGeometry, DType, Result, TensorDesc};

use crate::ctx::{Ctx, Operand};
use crate::matmul::{self, fast_trans_b};
use crate::memory::StagingSlot;
use crate::params::AttentionParams;
use crate::pipeline::{F16_IO, Kernel, kernel};
use crate::transpose;

/// Largest head size the kernel holds in workgroup memory and registers.
pub(crate) const MAX_HEAD_DIM: usize = 256;

/// Inputs of one attention call (f32 views; Q, K and V f16 where
/// `native_f16` routes the call to the flash kernel's f16 form).
pub(crate) struct Inputs<'a> {
    pub(crate) q: &'a Operand,
    pub(crate) k: &'a Operand,
    pub(crate) v: &'a Operand,
    /// The mask and whether it was boolean (now 0/1 floats).
    pub(crate) mask: Option<(&'a Operand, bool)>,
    pub(crate) past: Option<(&'a Operand, &'a Operand)>,
    /// `nonpad_kv_seqlen`, raw i64 `[B]`.
    pub(crate) nonpad: Option<&'a Operand>,
}

/// Write `present = concat(past, new)` as `[B, Hkv, T, dim]` into `dst`.
fn append(
    ctx: &mut Ctx<'_>,
    g: &AttentionGeometry,
    past: Option<&Operand>,
    new: &Operand,
    dim: usize,
    dst: &wgpu::Buffer,
) -> Result<()> {
    let n = g.batch * g.kv_heads * g.total_len() * dim;
    let params = AttentionParams {
        concat_elements: n as u32,
        kv_heads: g.kv_heads as u32,
        past_len: g.past_len as u32,
        concat_new_len: g.kv_len as u32,
        concat_dim: dim as u32,
        concat_new_packed: u32::from(g.packed_3d),
        ..AttentionParams::default()
    };
    let past_buf = past.map_or_else(|| ctx.dummy.clone(), |p| (*p.buf).clone());
    ctx.per_item(kernel("attention", "kv_concat"), &params, &[(6, &past_buf), (7, &new.buf), (8, dst)], n)
}

/// Attention with present keys/values written to `present` (or to scratch
/// buffers when the caller did not ask for them). Calls with a tensor larger
/// than one storage binding run in pieces of whole (batch item, KV head
/// group) slices (`attention_pieces.rs`).
pub(crate) fn record(
    ctx: &mut Ctx<'_>,
    attrs: &Attention,
    g: &AttentionGeometry,
    inputs: Inputs<'_>,
    y: &Operand,
    present: [Option<&Operand>; 2],
) -> Result<()> {
    if !crate::attention_pieces::fits_whole(g, ctx.max_binding()) {
        return crate::attention_pieces::record(ctx, attrs, g, inputs, y, present);
    }
    record_with(ctx, attrs, g, inputs, y, present, None)
}

/// The decisions of a whole call that its pieces keep, so that every query
/// row is computed as the whole call computes it: the path, the split path's
/// chunks of keys and the composed path's block of query rows (each depends
/// on the number of rows, which a piece has fewer of).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Fixed {
    pub(crate) path: Path,
    pub(crate) split_chunks: usize,
    pub(crate) composed_rows: usize,
    /// The split path merges its chunks in the workgroup (`attention_decode`'s
    /// combined entry) rather than in `decode_combine`.
    pub(crate) combined: bool,
}

impl Fixed {
    /// The decisions for `piece` of the whole call `g` (`masked`: a mask is
    /// given): the path the piece takes (the whole call's, except that the
    /// composed path's scores need only fit for the piece's rows), the whole
    /// call's chunks of keys and blocks of query rows (where the piece's fit),
    /// and whether the split path merges its chunks in the workgroup.
    pub(crate) fn of(ctx: &Ctx<'_>, g: &AttentionGeometry, piece: &AttentionGeometry, masked: bool) -> Self {
        let flash = crate::attention_flash::variant_for(ctx.gpu, piece, masked);
        let max = ctx.max_binding();
        Fixed {
            path: choose(ctx, piece, flash),
            split_chunks: split_chunks(g, ctx.gpu.cpu_driver_threads()),
            composed_rows: composed_rows(g, max).max(1).min(composed_rows(piece, max).max(1)),
            combined: crate::attention_decode::combined_on(ctx.gpu, g),
        }
    }
}

/// [`record`] on tensors that each fit one binding, with the decisions of
/// a whole call when `g` is a piece of one.
pub(crate) fn record_with(
    ctx: &mut Ctx<'_>,
    attrs: &Attention,
    g: &AttentionGeometry,
    inputs: Inputs<'_>,
    y: &Operand,
    present: [Option<&Operand>; 2],
    fixed: Option<Fixed>,
) -> Result<()> {
    let t = g.total_len();
    let mut cache = Vec::with_capacity(2);
    for (slot, (new, dim, past)) in
        [(inputs.k, g.head_dim, inputs.past.map(|p| p.0)), (inputs.v, g.v_head_dim, inputs.past.map(|p| p.1))]
            .into_iter()
            .enumerate()
    {
        // Without a past and unasked for, present is the input itself when
        // that is already [B, Hkv, T, dim]: no copy.
        if past.is_none() && present[slot].is_none() && !g.packed_3d {
            cache.push(new.buf.clone());
            continue;
        }
        let dst = match present[slot] {
            Some(p) => p.buf.clone(),
            None => ctx.scratch(g.batch * g.kv_heads * t * dim * 4)?,
        };
        append(ctx, g, past, new, dim, &dst)?;
        cache.push(dst);
    }
    let (mask_kind, [mb, mh, _, tm]) = match (inputs.mask, g.mask) {
        (Some((_, true)), Some((_, s))) => (1, s),
        (Some((_, false)), Some((_, s))) => (2, s),
        _ => (0, [1, 1, 1, 0]),
    };
    let rows = g.batch * g.q_heads * g.q_len;
    let mut params = AttentionParams {
        rows: rows as u32,
        q_heads: g.q_heads as u32,
        kv_heads: g.kv_heads as u32,
        q_len: g.q_len as u32,
        total_len: t as u32,
        past_len: g.past_len as u32,
        head_dim: g.head_dim as u32,
        v_head_dim: g.v_head_dim as u32,
        packed_3d: u32::from(g.packed_3d),
        scale: g.scale as f32,
        softcap: attrs.softcap,
        causal: u32::from(attrs.is_causal),
        mask_kind,
        mask_batch: mb as u32,
        mask_heads: mh as u32,
        mask_keys: tm as u32,
        nonpad: u32::from(inputs.nonpad.is_some()),
        ..AttentionParams::default()
    };
    let mask_buf = inputs.mask.map_or_else(|| ctx.dummy.clone(), |(m, _)| (*m.buf).clone());
    // Every entry that masks reads the valid lengths at slot 9 (a dummy without them).
    let nonpad_buf = inputs.nonpad.map_or_else(|| ctx.dummy.clone(), |n| (*n.buf).clone());
    let flash = crate::attention_flash::variant_for(ctx.gpu, g, inputs.mask.is_some());
    let path = match fixed {
        Some(f) if f.path != Path::Flash || flash.is_some() => f.path,
        _ => choose(ctx, g, flash),
    };
    match path {
        Path::Flash => {
            let variant = flash.expect("choose() picks Flash only where a variant runs g");
            crate::attention_flash::record(ctx, g, variant, inputs.q, [&cache[0], &cache[1], &mask_buf], &params, y)
        }
        Path::Fused => ctx.per_row(
            kernel("attention", "attention"),
            &params,
            &[(1, &inputs.q.buf), (2, &cache[0]), (3, &cache[1]), (4, &mask_buf), (5, &y.buf), (9, &nonpad_buf)],
            rows,
        ),
        Path::Composed => {
            let fit = fixed.map_or_else(|| composed_rows(g, ctx.max_binding()).max(1), |f| f.composed_rows);
            composed(ctx, g, inputs.q, [&cache[0], &cache[1]], &mut params, [&mask_buf, &nonpad_buf], y, fit)
        }
        Path::Split => {
            let f16 = inputs.q.desc.dtype == DType::F16;
            // On a CPU driver, one workgroup per G query heads that merges its
            // own chunks, where that keeps every thread busy: a decode step's
            // attention is then one dispatch, not two. (A piece of a larger
            // call does as the whole call does.)
            let threads = ctx.gpu.cpu_driver_threads();
            let generated = crate::attention_decode::variant_for(g).map(|v| v | if f16 { F16_IO } else { 0 });
            if let Some(variant) = generated {
                if fixed.map_or_else(|| crate::attention_decode::combined_on(ctx.gpu, g), |f| f.combined) {
                    use crate::attention_decode::{COMBINED_LANES, ENTRY_COMBINED};
                    params.split_chunks = COMBINED_LANES as u32;
                    let bindings = [
                        (4, &mask_buf),
                        (if f16 { 16 } else { 5 }, &*y.buf),
                        (9, &nonpad_buf),
                        (13, &inputs.q.buf),
                        (14, &cache[0]),
                        (15, &cache[1]),
                    ]
                    .map(|(slot, buf)| (slot, crate::record::Window::from(buf)));
                    let by_subgroup = crate::attention_decode::merges_by_subgroup(ctx.gpu, &ctx.pipelines.pins);
                    let merge = if by_subgroup { crate::attention_decode::SUBGROUP_MERGE } else { 0 };
                    let combined = Kernel { variant: variant | merge, ..kernel("attention", ENTRY_COMBINED) };
                    let items = crate::attention_decode::items(variant, rows, COMBINED_LANES);
                    return ctx.per_item_in(COMBINED_LANES, combined, &params, &bindings, items);
                }
            }
            let chunks = fixed.map_or_else(|| split_chunks(g, threads), |f| f.split_chunks);
            params.split_chunks = chunks as u32;
            let partials = ctx.scratch(rows * chunks * (2 + g.v_head_dim) * 4)?;
            let split = [
                (4, &mask_buf),
                (9, &nonpad_buf),
                (12, &*partials),
                (13, &inputs.q.buf),
                (14, &cache[0]),
                (15, &cache[1]),
            ];
            // f16 Q, K, V and Y (routed here by `native_f16`): the kernels' f16
            // form reads and writes them, with the same f32 arithmetic.
            let form = |entry| Kernel { variant: if f16 { F16_IO } else { 0 }, ..kernel("attention", entry) };
            if ctx.gpu.simd_cpu {
                // Workgroups of 8, so a decode step's few items spread over
                // the cores; the query heads of a key/value head together
                // where the generated kernel holds them (`attention_decode`).
                let split = split.map(|(slot, buf)| (slot, crate::record::Window::from(buf)));
                match generated {
                    Some(variant) => {
                        let grouped = Kernel { variant, ..kernel("attention", crate::attention_decode::ENTRY) };
                        let items = crate::attention_decode::items(variant, rows, chunks);
                        ctx.per_item_in(8, grouped, &params, &split, items)?;
                    }
                    None => ctx.per_item_in(8, form("decode_split_narrow"), &params, &split, rows * chunks)?,
                }
            } else {
                ctx.per_item(form("decode_split"), &params, &split, rows * chunks)?;
            }
            let combine = [(if f16 { 16 } else { 5 }, &*y.buf), (12, &*partials)];
            ctx.per_item(form("decode_combine"), &params, &combine, rows * g.v_head_dim / 2)
        }
    }
}

/// Chunks of keys per query row for the split (flash-decoding) path: enough
/// (row, chunk) invocations to fill two 256-wide workgroups per core of a
/// small machine on a GPU, or [`CPU_DRIVER_SPLIT_ITEMS_PER_CORE`] per
/// thread of a CPU driver (`cpu_driver_cores`), and chunks of at least 32 of
/// the cache's keys. Each chunk spans an equal share of the keys its row
/// sees (`split_span` in attention.wgsl), so a static cache longer than what
/// it holds adds no work per key.
/// Chunks are also at least enough that one chunk's loop over its keys
/// stays within what Mesa's CPU drivers run per invocation: per key at most
/// `D/4` (the dot product) + `Dv/4` (rescaling, when the key raises the
/// running max) + `Dv/4` (the values) iterations. 32 heads over 33,000 keys
/// in 32 chunks came out wrong on lavapipe.
fn split_chunks(g: &AttentionGeometry, cpu_driver_cores: Option<usize>) -> usize {
    let rows = (g.batch * g.q_heads * g.q_len).max(1);
    let max_keys = max_keys_per_chunk(g);
    let items = cpu_driver_cores.map_or(GPU_SPLIT_ITEMS, |cores| CPU_DRIVER_SPLIT_ITEMS_PER_CORE * cores);
    items.div_ceil(rows).clamp(1, g.total_len().div_ceil(32).max(1)).max(g.total_len().div_ceil(max_keys))
}

/// Keys one chunk of the split path may hold on a CPU driver: per key at
/// most `D/4 + 2 Dv/4 + 4` loop iterations (see [`split_chunks`]), with room
/// for the rest of the invocation, within [`LOOP_LIMIT`].
pub(crate) fn max_keys_per_chunk(g: &AttentionGeometry) -> usize {
    let per_key = g.head_dim / 4 + 2 * (g.v_head_dim / 4) + 4;
    ((LOOP_LIMIT - 1024) / per_key).max(1)
}

/// (row, chunk) items the split path aims for on a GPU: two 256-wide
/// workgroups per core of a small machine.
const GPU_SPLIT_ITEMS: usize = 1024;

/// (row, chunk) pairs per core the split path aims for on a SIMD CPU
/// driver, whose workgroups of 8 each run on one of its threads (Mesa sizes
/// its pool to the CPUs, `LP_NUM_THREADS` aside). The grouped kernel
/// (`attention_decode.rs`) runs one invocation per G query heads, so G times
/// fewer invocations. Each chunk costs its invocation's fixed work (the
/// query loads and the partial results written and merged) whether its span
/// holds keys or not, so more than the threads need only costs. lavapipe,
/// 2 threads, Hq 9, Hkv 3, D 64, 100 valid keys in caches of 2048 and 8192
/// positions, best of 5 x 20 calls, two runs: 4 chunks 158-185 us, 6
/// 169-175, 8 166-177, 16 208-227 (with 63 and 64 chunks, as 1024 items gave
/// before, 405 and 695 us); with 1000 and 2000 of 2048 positions filled, 4
/// and 8 chunks alike within the drift (438-1042 and 669-842 us, 714-1095
/// and 1065-1365 us; 63 chunks 912-1245 and 1134-1330 us).
const CPU_DRIVER_SPLIT_ITEMS_PER_CORE: usize = 16;

/// Loop iterations Mesa's SIMD CPU drivers run per invocation before they
/// stop a shader's loops (nested loops count together), leaving wrong results.
const LOOP_LIMIT: usize = crate::matmul::split::CPU_DRIVER_LOOP_LIMIT;

/// Loop iterations of one invocation of the fused kernel: per tile of 64
/// keys, the dot products (D), the value loop (64) and two workgroup
/// reductions (6 each), with a margin.
pub(crate) fn fused_iterations(g: &AttentionGeometry) -> usize {
    g.total_len().div_ceil(64) * (g.head_dim + 80)
}

/// Whether the fused kernel runs `g`: heads it holds and, on SIMD CPU
/// drivers, loops they finish (over 70,000 keys of D = 4 it came out wrong
/// on lavapipe and llvmpipe).
pub(crate) fn fused_runs(simd_cpu: bool, g: &AttentionGeometry) -> bool {
    g.head_dim <= MAX_HEAD_DIM && g.v_head_dim <= MAX_HEAD_DIM && !(simd_cpu && fused_iterations(g) > LOOP_LIMIT)
}

/// How an attention call runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Path {
    /// The one-pass online-softmax kernel: O(T) memory per row.
    Fused,
    /// Matmul, score prep and softmax in place, matmul, over blocks of query
    /// rows: one `B*Hq*rows*T` score buffer, rows chosen to fit [`COMPOSED_SCORE_CAP`].
    Composed,
    /// Flash-decoding: chunks of keys per query row in parallel, then a merge;
    /// O(rows x chunks x Dv) memory. For few query rows over many keys.
    Split,
    /// `attention_flash.wgsl`: query tiles over key blocks with an online
    /// softmax, K and V staged in textures; O(T) memory.
    Flash,
}

/// Bytes of one score row block of the composed path per query row.
pub(crate) fn score_bytes_per_row(g: &AttentionGeometry) -> u64 {
    (g.batch * g.q_heads * g.total_len()) as u64 * 4
}

/// Query rows per block of the composed path when causal blocks are trimmed
/// at the diagonal: about half the scores of a long sequence are skipped
/// (S^2/2 + S x rows/2 computed instead of S^2).
const CAUSAL_BLOCK_ROWS: usize = 256;

/// Most bytes the composed path's score buffer may take.
pub(crate) const COMPOSED_SCORE_CAP: u64 = 64 << 20;

/// Query rows per composed block on a device whose storage binding holds at
/// most `max_binding` bytes (0 when not even one row fits).
pub(crate) fn composed_rows(g: &AttentionGeometry, max_binding: u64) -> usize {
    let cap = COMPOSED_SCORE_CAP.min(max_binding);
    let per_row = score_bytes_per_row(g).max(1);
    ((cap / per_row) as usize).min(g.q_len.max(1))
}

/// Whether the composed path can run `g` (one query row's scores fit).
pub(crate) fn composed_fits(g: &AttentionGeometry, max_binding: u64) -> bool {
    composed_rows(g, max_binding) >= 1
}

/// The path for `g`: forced by the backend name (`:fused`, `:composed`,
/// `:split`, `:flash`) where that path can run it; else split
/// (flash-decoding) for decode on SIMD CPU drivers (Sq <= 4), flash
/// for prefill where its kernel runs and is preferred (a fixed subgroup width of
/// 4 to 64, D up to 128, Dv 64 or 128; without subgroups the row kernel, on
/// CPU drivers only its texture form from 32 query rows), composed for heads the fused kernel cannot hold and for other
/// prefill-sized problems (4096 scores or more), and for the rest split on
/// SIMD CPU drivers and fused elsewhere (and when the composed path's scores
/// would not fit).
pub(crate) fn choose(ctx: &Ctx<'_>, g: &AttentionGeometry, flash: Option<u16>) -> Path {
    path_for(&ctx.pipelines.pins, Device::new(ctx.gpu, flash), g)
}

/// What the path choice needs to know of the device and call.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Device {
    /// A SIMD CPU driver (lavapipe, llvmpipe).
    pub(crate) simd_cpu: bool,
    /// `max_storage_buffer_binding_size`.
    pub(crate) max_binding: u64,
    /// Whether the flash kernel can run this call (see `attention_flash::variant_for`).
    pub(crate) flash_ok: bool,
    /// Whether the flash kernel is chosen unpinned: on a SIMD CPU driver
    /// only its forms that read K and V without storage-buffer loads (see
    /// `attention_flash::fast_on_cpu_drivers`).
    pub(crate) flash_auto: bool,
    /// Fewest query rows for which the flash kernel is chosen unpinned on a
    /// SIMD CPU driver: 8, and 32 for the row kernel (no subgroups), whose
    /// workgroups take 128 rows (llvmpipe, Hq 9, Hkv 3, D 64, causal,
    /// against split: 0.92x at Sq 16, 3.5x at Sq 37).
    pub(crate) flash_min_rows: usize,
}

impl Device {
    /// What `gpu` offers a call (`flash`: the flash kernel's variant that
    /// runs it, from `attention_flash::variant_for`).
    pub(crate) fn new(gpu: &crate::gpu::Gpu, flash: Option<u16>) -> Self {
        let flash_ok = flash.is_some();
        let flash_auto = flash.is_some_and(|v| !gpu.simd_cpu || crate::attention_flash::fast_on_cpu_drivers(v));
        let flash_min_rows = if flash.is_some_and(crate::attention_flash::is_row_kernel) { 32 } else { 8 };
        let max_binding = gpu.limits.max_storage_buffer_binding_size;
        Device { simd_cpu: gpu.simd_cpu, max_binding, flash_ok, flash_auto, flash_min_rows }
    }
}

/// [`choose`] from its parts (also what `kernel_variant` reports).
pub(crate) fn path_for(pins: &crate::pins::Pins, device: Device, g: &AttentionGeometry) -> Path {
    let Device { simd_cpu, max_binding, flash_ok, flash_auto, flash_min_rows } = device;
    // The flash kernels do not read `nonpad_kv_seqlen`: those calls take the others.
    let flash_ok = flash_ok && !g.nonpad_kv_seqlen;
    let fits = composed_fits(g, max_binding);
    let heads_ok = g.head_dim <= MAX_HEAD_DIM && g.v_head_dim <= MAX_HEAD_DIM;
    let fused_ok = fused_runs(simd_cpu, g);
    let split_ok = heads_ok && g.head_dim % 4 == 0 && g.v_head_dim % 4 == 0 && g.total_len() > 0;
    match pins.attention {
        Some(Path::Fused) if fused_ok => return Path::Fused,
        Some(Path::Composed) if fits => return Path::Composed,
        Some(Path::Split) if split_ok => return Path::Split,
        Some(Path::Flash) if flash_ok => return Path::Flash,
        _ => {}
    }
    // SIMD CPU drivers (lavapipe, llvmpipe), measured with `hcal bench
    // --baseline` at Hq 9, Hkv 3, D 64, causal: the fused kernel's workgroup
    // barriers cost more than its work at every size tried (5-12x slower
    // than split for decode over 48-400 keys on Vulkan, 11x on GL; 4-11x at
    // Sq 16-37 prefill), so decode (Sq <= 4; split 1.9x flash at Sq 4) and
    // small problems take split there.
    if simd_cpu && split_ok && g.q_len <= 4 {
        return Path::Split;
    }
    // Prefill where the tiled one-pass kernel runs: 1.4-1.8x the composed
    // path on lavapipe (B1 H8 S1024 D64) and 2.6-6x split at Sq 16-64, with
    // O(T) memory; the row kernel's texture form 3.5-5.6x composed on
    // llvmpipe (GL) at S1024-2048 and 3.5-9x split at Sq 37-256 (Hq 9, Hkv 3,
    // causal). Elsewhere only from 4096 scores, where its tiles fill.
    let flash_rows = if simd_cpu { flash_min_rows } else { 8 };
    if flash_auto && g.q_len >= flash_rows && (simd_cpu || g.q_len * g.total_len() >= 4096) {
        return Path::Flash;
    }
    let large = fits && g.q_len * g.total_len() >= 4096;
    if simd_cpu && split_ok && !large {
        // Split 2x composed at Sq 37 on both drivers.
        return Path::Split;
    }
    // Long key loops the fused kernel cannot finish on CPU drivers: split
    // where it runs (its chunks stay short), else composed.
    if heads_ok && !fused_ok && split_ok && !fits {
        return Path::Split;
    }
    if !fused_ok || large { Path::Composed } else { Path::Fused }
}

/// Scores by the matmul kernels, then prep and softmax in place, then the value product,
/// over blocks of at most `fit` query rows so memory stays `O(rows * T)`. Grouped heads are
/// a broadcast batch dim: Q is `[B, Hkv, G, Sq, D]`, and the key/value batch
/// stride over G is 0.
#[allow(clippy::too_many_arguments)]
fn composed(
    ctx: &mut Ctx<'_>,
    g: &AttentionGeometry,
    q: &Operand,
    [k_present, v_present]: [&wgpu::Buffer; 2],
    params: &mut AttentionParams,
    [mask, nonpad]: [&wgpu::Buffer; 2],
    y: &Operand,
    fit: usize,
) -> Result<()> {
    let (b, hq, hkv, sq, t, d, dv) = (g.batch, g.q_heads, g.kv_heads, g.q_len, g.total_len(), g.head_dim, g.v_head_dim);
    let group = hq / hkv;
    let f32_operand = |buf: Arc<wgpu::Buffer>, shape: &[usize]| Operand {
        packed: None,
        buf,
        desc: TensorDesc::new(shape, DType::F32),
    };
    // Q as [B, Hq, Sq, D].
    let q4 = if g.packed_3d {
        let out = f32_operand(ctx.scratch(b * hq * sq * d * 4)?, &[b, hq, sq, d]);
        let view = f32_operand(q.buf.clone(), &[b, sq, hq, d]);
        transpose::record(ctx, &[0, 2, 1, 3], &view, &out)?;
        out
    } else {
        q.clone()
    };
    let k_present = f32_operand(Arc::new(k_present.clone()), &[b, hkv, t, d]);
    let v = f32_operand(Arc::new(v_present.clone()), &[b, hkv, t, dv]);
    let y4 = if g.packed_3d { f32_operand(ctx.scratch(b * hq * sq * dv * 4)?, &[b, hq, sq, dv]) } else { y.clone() };
    let batch = [b, hkv, group];
    // The score product reads K as stored ([T, D] per head, transposed while
    // the texture kernels stage it) where that is fast; else from a K^T copy.
    let direct_k = fast_trans_b(ctx, [fit.min(sq), t, d], &batch, &[hkv * t * d, t * d, 0]);
    let kt = if direct_k {
        k_present
    } else {
        let kt = f32_operand(ctx.scratch(b * hkv * d * t * 4)?, &[b, hkv, d, t]);
        transpose::record(ctx, &[0, 1, 3, 2], &k_present, &kt)?;
        kt
    };
    // Causal with K read directly: each block of query rows stops at the last
    // key its rows can see, skipping the scores above the diagonal (exactly
    // zero probabilities), in blocks small enough for that to pay off.
    // (With valid lengths the frontier moves with each batch entry's length: no trim.)
    let trim = direct_k && params.causal == 1 && params.nonpad == 0;
    let fit = if trim { fit.min(CAUSAL_BLOCK_ROWS) } else { fit };
    let block = ctx.pipelines.pins.attention_rows.map_or(fit, |r| r.min(fit));
    let raw_buf = ctx.scratch(b * hq * block * t * 4)?;
    if trim && sq > block {
        // Blocks see more keys as they go: size K's and V's staging textures
        // (their own slots, as the flash kernel uses them) for all T up front,
        // so each block reuses them instead of replacing them; each only
        // where it fits the device, as the products then stage it.
        let (max_2d, max_layers) =
            (ctx.gpu.limits.max_texture_dimension_2d as usize, ctx.gpu.limits.max_texture_array_layers as usize);
        let fits = |w: usize, h: usize| w.max(h) <= max_2d && b * hkv <= max_layers;
        if fits(t.div_ceil(4), d) {
            ctx.mem.staging(ctx.gpu, StagingSlot::AttentionK, [t.div_ceil(4) as u32, d as u32, (b * hkv) as u32])?;
        }
        if fits(dv.div_ceil(4), t) {
            ctx.mem.staging(ctx.gpu, StagingSlot::AttentionV, [dv.div_ceil(4) as u32, t as u32, (b * hkv) as u32])?;
        }
    }
    for i0 in (0..sq).step_by(block) {
        let rows = block.min(sq - i0);
        let seen = if trim { t.min(g.past_len + i0 + rows) } else { t };
        let raw = f32_operand(raw_buf.clone(), &[b, hq, rows, seen]);
        let q_view = matmul::View {
            bases: [i0 * d, 0, 0],
            y_batch_stride: None,
            trans_b: direct_k,
            stage_slot: StagingSlot::AttentionK,
        };
        // K (or K^T) is one [T, D] (or [D, T]) matrix per key/value head.
        let (qs, ks) = ([hq * sq * d, group * sq * d, sq * d], [hkv * t * d, t * d, 0]);
        matmul::batched(ctx, [rows, seen, d], &batch, &qs, &ks, q_view, &q4, &kt, &raw)?;
        // Prep and softmax in place: raw dot products in, probabilities out.
        let score_rows = b * hq * rows;
        params.rows = score_rows as u32;
        params.total_len = seen as u32;
        params.block_first_row = i0 as u32;
        params.block_rows = rows as u32;
        let softmax_rows = if seen == 0 { 0 } else { score_rows };
        // One lane per row loops over a quarter of the row (CPU drivers stop
        // loops past LOOP_LIMIT iterations); a workgroup per row over 1/64th.
        if ctx.gpu.simd_cpu && seen % 4 == 0 && seen / 4 <= LOOP_LIMIT {
            let bindings = [(4, mask), (9, nonpad), (11, &*raw.buf)];
            ctx.per_item(kernel("attention", "scores_softmax_rows"), &*params, &bindings, softmax_rows)?;
        } else {
            let bindings = [(4, mask), (9, nonpad), (10, &*raw.buf)];
            ctx.per_row(kernel("attention", "scores_softmax"), &*params, &bindings, softmax_rows)?;
        }
        let y_view = matmul::View {
            bases: [0, 0, i0 * dv],
            y_batch_stride: Some(sq * dv),
            trans_b: false,
            stage_slot: StagingSlot::AttentionV,
        };
        let (ps, vs) = ([hq * rows * seen, group * rows * seen, rows * seen], [hkv * t * dv, t * dv, 0]);
        matmul::batched(ctx, [rows, dv, seen], &batch, &ps, &vs, y_view, &raw, &v, &y4)?;
    }
    params.total_len = t as u32;
    if g.packed_3d {
        transpose::record(ctx, &[0, 2, 1, 3], &y4, &f32_operand(y.buf.clone(), &[b, sq, hq, dv]))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Decode of 32 heads (8 KV heads) over `total` keys of head size 128.
    fn decode(total: usize) -> AttentionGeometry {
        crate::attention_pieces::tests::geometry(1, 8, total)
    }

    #[test]
    fn split_chunks_keep_each_loop_within_the_cpu_drivers_limit() {
        for total in [256, 4096, 33_000, 131_072] {
            let g = decode(total);
            let chunks = split_chunks(&g, None);
            let worst = total.div_ceil(chunks) * (32 + 2 * 32 + 4);
            assert!(worst <= LOOP_LIMIT, "{total} keys in {chunks} chunks: {worst} iterations");
        }
        // Short caches keep the chunking they had: 32 rows, 32 chunks.
        assert_eq!(split_chunks(&decode(4096), None), 32);
        // CPU drivers: as many items as their threads take, however long the
        // cache (one chunk for 32 rows on 2 cores), until the loop limit
        // asks for more.
        for total in [64, 600, 131_072] {
            let chunks = split_chunks(&decode(total), Some(2));
            let loop_bound = total.div_ceil((LOOP_LIMIT - 1024) / (32 + 2 * 32 + 4));
            assert_eq!(chunks, loop_bound.max(1), "{total} keys");
        }
        let smollm2 = AttentionGeometry { q_heads: 9, kv_heads: 3, head_dim: 64, v_head_dim: 64, ..decode(2048) };
        assert_eq!(split_chunks(&smollm2, Some(2)), 4, "32 items over 9 rows");
        // The fused kernel's loop is too long there past about 23,000 keys.
        assert!(
            fused_runs(true, &decode(20_000))
                && !fused_runs(true, &decode(33_000))
                && fused_runs(false, &decode(33_000))
        );
    }
}
