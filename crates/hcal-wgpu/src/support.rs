//! What a device runs and by which kernels: `supports` (via [`decline`]),
//! `kernel_variant` and the tier notes of `DeviceInfo`.

use hcal_core::{DType, Geometry, Op, OpSignature, TensorDesc};

use crate::gpu::Gpu;
use crate::pipeline::Pipelines;
use crate::{attention, binary, gather, matmul, movement, reduce, select, split, transpose};

/// Which matmul and attention kernel tiers a device gets, and why the others not.
pub(crate) fn tier_notes(gpu: &Gpu, features: wgpu::Features) -> Vec<String> {
    let subgroup = match (gpu.subgroup_max, gpu.subgroup_fixed) {
        (Some(max), Some(_)) => format!("subgroups of {max}"),
        (Some(max), None) => format!("subgroups of {} to {max}", gpu.subgroup_min),
        (None, _) => "none usable".to_string(),
    };
    let matmul = if gpu.subgroup_max.is_some() {
        let chunk = crate::matmul::tiles::chunk(gpu.subgroup_min);
        format!(
            "matmul: texture tiles ({subgroup}, A shared in chunks of {chunk} steps), storage-buffer tiles, workgroup-memory tiles, GEMV; autotuned"
        )
    } else {
        format!(
            "matmul: texture tiles without subgroups ({subgroup}: each lane loads A itself), storage-buffer tiles, workgroup-memory tiles, GEMV; autotuned"
        )
    };
    let cooperative = if features.contains(wgpu::Features::EXPERIMENTAL_COOPERATIVE_MATRIX) {
        "cooperative matrix: offered by the adapter, not used (hcal has no cooperative-matrix kernel yet)"
    } else {
        "cooperative matrix: not used (the adapter does not offer EXPERIMENTAL_COOPERATIVE_MATRIX)"
    };
    let flash = match crate::attention_flash::width(gpu) {
        Some(w) => {
            format!("subgroup kernel expanded for {w} lanes, for D up to 128 and Dv 64 or 128 (else composed or fused)")
        }
        None if gpu.simd_cpu => format!(
            "no fixed subgroup width ({subgroup}): the row kernel (no subgroups) with K and V staged in textures, \
             for prefill from 32 query rows, D a multiple of 4 up to 128 and Dv 64 or 128 (else composed, split or fused)"
        ),
        None => format!(
            "row kernel without subgroups ({subgroup}), for D a multiple of 4 up to 128 and Dv 64 or 128 (else composed or fused)"
        ),
    };
    let f16_attention = match crate::attention_flash::width(gpu) {
        Some(_) => " and Attention's subgroup flash kernel and split (decode) path (4-D Q/K/V, no past/present cache)",
        None => {
            " and Attention's row flash kernel in its texture form and split (decode) path (4-D Q/K/V, no past/present cache)"
        }
    };
    let f16 = format!(
        "f16: read and written as f16 by MatMul/Gemm's register tiles and M = 1 GEMV{f16_attention}, with f32 sums \
         (no SHADER_F16 needed); other paths run on f32 copies"
    );
    vec![matmul, cooperative.to_string(), format!("attention flash kernel: {flash}"), f16]
}

/// Why a (validated) signature cannot run on `gpu`, if it cannot: device
/// limits and kernel bounds, read off the geometry hcal-core resolved.
///
/// Tensors larger than one storage binding are split into pieces (see
/// `split.rs`); only what no piece fits, or what a family does not split,
/// is declined here, by [`split_decline`].
pub(crate) fn decline(gpu: &Gpu, sig: &OpSignature) -> Option<String> {
    // RMSNormGemm runs as its two steps where the normalizing GEMV does not:
    // declined where either step would be.
    if let Some([norm, gemm]) = norm_gemm_steps(sig) {
        return decline(gpu, &norm).or_else(|| decline(gpu, &gemm));
    }
    // Block-quantized operands: their own kernels and limits. Gather moves
    // whole blocks of a quantized table (no arithmetic on them).
    let moves_blocks = matches!(sig.op(), Op::Gather { .. });
    if !moves_blocks && sig.inputs().iter().flatten().any(|d| d.dtype.is_quantized()) {
        return matmul::quant::decline(gpu, sig);
    }
    let outputs = sig.outputs();
    let max_binding = gpu.limits.max_storage_buffer_binding_size;
    let max_buffer = gpu.limits.max_buffer_size;
    if let Op::SplitRotaryScatter(_) = sig.op() {
        return qkv_cache_decline(sig, max_binding);
    }
    let mut large = false;
    for d in sig.inputs().iter().flatten().chain(outputs) {
        if d.numel() >= u32::MAX as usize {
            return Some(format!("{d} has more than 2^32 elements (kernels index with u32)"));
        }
        // Float tensors also get an f32 copy; it must fit one buffer.
        // (Block-quantized tables are only moved, by Gather: their own bytes.)
        let bytes = if d.dtype.is_quantized() {
            d.byte_len().unwrap_or(usize::MAX)
        } else {
            d.numel() * d.dtype.size_bytes().max(4)
        };
        if crate::memory::buffer_size(bytes) > max_buffer {
            return Some(format!("{d} needs a {bytes}-byte buffer; max_buffer_size is {max_buffer}"));
        }
        large |= !split::whole(bytes, max_binding);
    }
    if large && let Some(reason) = split_decline(gpu, sig) {
        return Some(reason);
    }
    match (sig.op(), sig.geometry()) {
        (Op::Attention(_), Geometry::Attention(g)) => {
            if let Some(reason) = crate::attention_pieces::decline(g, max_binding) {
                return Some(reason);
            }
            let fused_ok = attention::fused_runs(gpu.simd_cpu, g);
            let split_ok = g.head_dim <= attention::MAX_HEAD_DIM
                && g.v_head_dim <= attention::MAX_HEAD_DIM
                && g.head_dim % 4 == 0
                && g.v_head_dim % 4 == 0;
            if !fused_ok && !split_ok && !attention::composed_fits(g, max_binding) {
                return Some(format!(
                    "head sizes {}/{} (the fused kernel holds {}; on CPU drivers its {} loop iterations per row pass the {} they run) and one query row of the composed path's scores ({} bytes) exceeds {}",
                    g.head_dim,
                    g.v_head_dim,
                    attention::MAX_HEAD_DIM,
                    attention::fused_iterations(g),
                    crate::matmul::split::CPU_DRIVER_LOOP_LIMIT,
                    attention::score_bytes_per_row(g),
                    attention::COMPOSED_SCORE_CAP.min(max_binding)
                ));
            }
        }
        (Op::MatMul, Geometry::MatMul(g)) => {
            if g.batch.len() > matmul::MAX_BATCH_RANK {
                return Some(format!("batch rank {} exceeds {}", g.batch.len(), matmul::MAX_BATCH_RANK));
            }
            let max = gpu.limits.max_compute_workgroups_per_dimension as usize;
            if g.batch_count() > max {
                return Some(format!(
                    "batch of {} matrices exceeds max_compute_workgroups_per_dimension ({max})",
                    g.batch_count()
                ));
            }
        }
        (Op::Binary(_) | Op::LayerNormalization { .. } | Op::RmsNormalization { .. }, _)
            if outputs[0].rank() > binary::MAX_RANK =>
        {
            return Some(format!("rank {} exceeds the kernel's {}", outputs[0].rank(), binary::MAX_RANK));
        }
        // ---- elementwise with attributes, clipping and selection (ops-elementwise) ----
        (Op::Where, _) if outputs[0].rank() > select::MAX_RANK => {
            return Some(format!("rank {} exceeds the kernel's {}", outputs[0].rank(), select::MAX_RANK));
        }
        (Op::Clip, _) if outputs[0].rank() > binary::MAX_RANK => {
            return Some(format!("rank {} exceeds the kernel's {}", outputs[0].rank(), binary::MAX_RANK));
        }
        (Op::GatherElements { .. }, _) if sig.input(1)?.rank() > gather::MAX_RANK => {
            return Some(format!("rank {} exceeds the kernel's {}", sig.input(1)?.rank(), gather::MAX_RANK));
        }
        (Op::Reduce { .. } | Op::Transpose { .. }, _)
            if sig.input(0)?.rank() > reduce::MAX_RANK.min(transpose::MAX_RANK) =>
        {
            return Some(format!("rank {} exceeds the kernel's {}", sig.input(0)?.rank(), reduce::MAX_RANK));
        }
        // ---- data movement (issue 18) ----
        (Op::Slice { .. } | Op::Split { .. } | Op::Expand { .. } | Op::Trilu { .. }, _)
            if outputs[0].rank() > movement::MAX_RANK =>
        {
            return Some(format!("rank {} exceeds the kernel's {}", outputs[0].rank(), movement::MAX_RANK));
        }
        // One invocation per output where its loops and reads allow, partial
        // results where not (Mesa's CPU drivers stop a shader's loops after
        // 65,535 iterations and leave the sum short: see reduce_partial.rs).
        (Op::Reduce { op, .. }, Geometry::Reduce { axes })
            if reduce::cut(gpu, &sig.input(0)?.shape, axes, *op == hcal_core::ReduceOp::L2).is_none() =>
        {
            return Some(format!(
                "reducing {} over axes {axes:?}: its partial states exceed max_buffer_size ({max_buffer} bytes)",
                sig.input(0)?
            ));
        }
        // Softmax, LogSoftmax and normalization rows too long for the row
        // kernels run composed (`long_rows.rs`): nothing to decline.
        // along one axis: lanes past the loop budget, or outer slices beyond
        // a binding, run in segments (`along_axis_segments.rs`), unless one
        // step of a slice exceeds a binding.
        (Op::ArgMax { .. } | Op::ArgMin { .. } | Op::CumSum { .. }, Geometry::AlongAxis { split: s, .. })
            if crate::along_axis_segments::segment_len(gpu, s).is_none() =>
        {
            return Some(format!(
                "{} along an axis strided by {} elements: one step of an outer slice ({} bytes) exceeds max_storage_buffer_binding_size ({max_binding} bytes)",
                sig.op().name(),
                s.inner,
                s.inner * 4
            ));
        }
        _ => {}
    }
    None
}

/// Why SplitRotaryScatter cannot run, if it cannot: its kernel reads and
/// writes f32 and binds every operand whole (a model then runs the five
/// ops it stands for, which convert and split).
fn qkv_cache_decline(sig: &OpSignature, max_binding: u64) -> Option<String> {
    let qkv = sig.input(0)?;
    if qkv.dtype != DType::F32 {
        return Some(format!("SplitRotaryScatter on {}: the kernel is f32 only", qkv.dtype));
    }
    let too_large = sig
        .inputs()
        .iter()
        .flatten()
        .chain(sig.outputs())
        .find(|d| d.numel() >= u32::MAX as usize || !split::whole(d.byte_len().unwrap_or(usize::MAX), max_binding));
    too_large.map(|d| format!("{d} exceeds one storage binding ({max_binding} bytes); this op's kernel is not split"))
}

/// Why a signature with a tensor larger than one storage binding cannot be
/// split into pieces that each fit one, if it cannot: the same planners the
/// launchers split with decide.
fn split_decline(gpu: &Gpu, sig: &OpSignature) -> Option<String> {
    let max = gpu.limits.max_storage_buffer_binding_size;
    let align = crate::record::Window::align(gpu);
    let f32_bytes = |d: &TensorDesc| d.numel() * 4;
    let whole = |d: &TensorDesc| split::whole(f32_bytes(d), max);
    let limit = format!("max_storage_buffer_binding_size ({max} bytes)");
    let input = |i: usize| sig.input(i);
    let out = &sig.outputs()[0];
    match (sig.op(), sig.geometry()) {
        // Contiguous elementwise work splits into ranges of any size (Clip's
        // bounds are scalars, read whole by every range).
        (Op::Gelu { .. } | Op::Unary(_) | Op::Cast { .. }, _) => None,
        // One dispatch over whole rows: not split.
        (Op::GatedUnary { .. }, _) => Some(format!("GatedUnary's kernel binds X and Y whole; one exceeds {limit}")),
        (Op::LeakyRelu { .. } | Op::HardSigmoid { .. } | Op::Clip, _) => None,
        (Op::Where, Geometry::Where { out_shape, strides }) => {
            let operands = [input(0)?, input(1)?, input(2)?];
            let reads: Vec<split::Reads<'_>> = operands
                .iter()
                .zip(strides)
                .map(|(d, strides)| {
                    // i64 X and Y are moved raw (8 bytes); the rest as f32 views.
                    let elem_bytes = d.dtype.size_bytes().max(4);
                    split::Reads {
                        shape: out_shape,
                        strides,
                        extra: 0,
                        elem_bytes,
                        whole: split::whole(d.numel() * elem_bytes, max),
                    }
                })
                .collect();
            let out_bytes = out.dtype.size_bytes().max(4);
            split::strided(out.numel(), out_bytes, &reads, max, align).is_none().then(|| {
                format!("an operand broadcast across a range of outputs exceeds {limit}: it would need a broadcast-aware split")
            })
        }
        (Op::Binary(_), Geometry::Broadcast { out_shape, a_strides, b_strides }) => {
            let read = |d: &TensorDesc, strides| split::Reads {
                shape: out_shape,
                strides,
                extra: 0,
                elem_bytes: 4,
                whole: whole(d),
            };
            let reads = [read(input(0)?, a_strides), read(input(1)?, b_strides)];
            split::strided(out.numel(), 4, &reads, max, align).is_none().then(|| {
                format!("an operand broadcast across a range of outputs exceeds {limit}: it would need a broadcast-aware split")
            })
        }
        // Ranges of outputs, or partial results (see `decline`).
        (Op::Reduce { .. }, _) => None,
        (Op::Transpose { .. }, Geometry::Transpose { perm }) => {
            let x = input(0)?;
            let elem = x.dtype.size_bytes();
            let (shape, strides) = transpose::reads(&x.shape, perm);
            let read = split::Reads {
                shape: &shape,
                strides: &strides,
                extra: 0,
                elem_bytes: elem,
                whole: split::whole(x.numel() * elem, max),
            };
            let gathers = split::strided(x.numel(), elem, &[read], max, align).is_some();
            let scatters = || transpose::scatter_plan(&x.shape, perm, elem, max, align).is_some();
            (!gathers && !scatters()).then(|| {
                format!("transposing {x} by {perm:?}: its outputs read across more than {limit} of input within every few elements, in more than {} pieces, and scattering from ranges of input would write across more than that", split::MAX_STRIDED_PIECES)
            })
        }
        // Rows too long for one binding run composed (`long_rows.rs`).
        (
            Op::Softmax { .. } | Op::LogSoftmax { .. } | Op::LayerNormalization { .. } | Op::RmsNormalization { .. },
            _,
        ) => None,
        // along one axis: blocks of outer slices, or segments (see `decline`).
        (Op::CumSum { .. } | Op::ArgMax { .. } | Op::ArgMin { .. }, _) => None,
        (Op::MatMul, Geometry::MatMul(g)) => {
            let totals = [input(0)?.numel(), input(1)?.numel(), out.numel(), 0];
            let item = matmul::split::Item::new([g.m, g.n, g.k], 0, None, totals, matmul::select::Caps::of(gpu));
            matmul_decline(&item, gpu, &limit)
        }
        (Op::Gemm(attrs), Geometry::Gemm(g)) => {
            let c = input(2).filter(|_| g.c_strides.is_some());
            let totals = [input(0)?.numel(), input(1)?.numel(), out.numel(), c.map_or(0, TensorDesc::numel)];
            let flags = matmul::gemm_flags(attrs, c.is_some());
            let item =
                matmul::split::Item::new([g.m, g.n, g.k], flags, g.c_strides, totals, matmul::select::Caps::of(gpu));
            matmul_decline(&item, gpu, &limit)
        }
        // Pieces of (batch item, KV head group): declined in `decline`, which
        // also sees the caches the call writes without returning them.
        (Op::Attention(_), _) => None,
        // ---- data movement (issue 18) ----
        // Reshape and Range are buffer copies, which bindings do not limit.
        (Op::Reshape { .. } | Op::Range { .. }, _) => None,
        // Pieces of Y's words, each with windows of Y and of the X elements it reads.
        (Op::Concat { .. } | Op::Slice { .. } | Op::Split { .. } | Op::Expand { .. } | Op::Trilu { .. }, geometry) => {
            let raw = |d: &TensorDesc| d.numel() * d.dtype.size_bytes();
            let elem = out.dtype.size_bytes();
            let words = |d: &TensorDesc| (0, raw(d).div_ceil(4));
            let fits = |x: &TensorDesc,
                        y: &TensorDesc,
                        span: (usize, usize),
                        reads: &dyn Fn(usize, usize) -> Option<(usize, usize)>| {
                movement::pieces(span, elem, y.numel(), reads, (raw(x), raw(y)), max, align).is_some()
            };
            let x0 = input(0)?;
            let ok = match geometry {
                Geometry::Views(views) => views
                    .iter()
                    .zip(sig.outputs())
                    .all(|(v, y)| fits(x0, y, words(y), &movement::view_reads(v, &y.shape))),
                Geometry::Concat { inner, lens, offsets, .. } => {
                    let total: usize = lens.iter().sum();
                    sig.inputs().iter().flatten().zip(lens.iter().zip(offsets)).all(|(x, (&len, &offset))| {
                        fits(x, out, words(out), &movement::concat_reads((total, *inner), (offset, len)))
                    })
                }
                _ => fits(x0, out, words(out), &|a, b| Some((a, b))),
            };
            (!ok).then(|| format!("{}: one word of output reads more than {limit} of input", sig.op().name()))
        }
        // Indexing: ranges of output words times windows of the table (rows or elements).
        (Op::Gather { .. }, Geometry::Gather(g)) => {
            let (data, row) = (input(0)?, g.inner_bytes(input(0)?.dtype));
            let sizes = gather::Sizes {
                out_bytes: out.byte_len().ok()?,
                units: g.outer * g.axis_len,
                unit_bytes: row,
                indices: g.count,
            };
            let plan = gather::plan(&sizes, |b0, b1| gather::gather_indices(row, g.count, b0, b1), max, align);
            plan.is_none().then(|| gather_decline(data, out, row, &limit))
        }
        (Op::GatherElements { .. }, _) => {
            let data = input(0)?;
            let elem = data.dtype.size_bytes();
            let sizes = gather::Sizes {
                out_bytes: out.byte_len().ok()?,
                units: data.numel(),
                unit_bytes: elem,
                indices: input(1)?.numel(),
            };
            let plan = gather::plan(&sizes, |b0, b1| gather::element_indices(elem, b0, b1), max, align);
            plan.is_none().then(|| gather_decline(data, out, elem, &limit))
        }
        // KV caches in blocks of whole prefixes (batch and head rows).
        (Op::TensorScatter { .. }, Geometry::TensorScatter(g)) => {
            let elem = input(0)?.dtype.size_bytes();
            crate::scatter::prefix_blocks(g, elem, max, align).is_none().then(|| {
                format!("one prefix's rows of the cache ({} bytes) exceed {limit}", g.max_len * g.inner * elem)
            })
        }
        // X and Y in blocks of whole rows, the caches in windows of rows;
        // the position ids are read at any token, bound whole.
        (Op::RotaryEmbedding(_), Geometry::RotaryEmbedding(g)) => {
            if let Some(ids) = input(3).filter(|d| !split::whole(d.numel() * 8, max)) {
                return Some(format!("RotaryEmbedding binds its position ids whole; {ids} exceeds {limit}"));
            }
            let d = g.head_dim.max(1);
            crate::rotary::row_blocks(input(0)?.numel() / d, d, max, align)
                .is_none()
                .then(|| format!("one row of {} features exceeds {limit}", g.head_dim))
        }
        _ => None,
    }
}

/// Why a gather of `data` into `out` (units of `unit` bytes) has no plan.
fn gather_decline(data: &TensorDesc, out: &TensorDesc, unit: usize, limit: &str) -> String {
    if data.byte_len().unwrap_or(usize::MAX) > u32::MAX as usize
        || out.byte_len().unwrap_or(usize::MAX) > u32::MAX as usize - 4
    {
        format!("{data} or {out} has 4 GiB or more (the kernel addresses bytes with u32)")
    } else {
        format!("one unit of {data} ({unit} bytes) exceeds {limit}: the table is read in windows of whole rows")
    }
}

/// Why a product with an operand larger than one binding cannot be split
/// (the simple kernel splits whatever any kernel can).
fn matmul_decline(item: &matmul::split::Item, gpu: &Gpu, limit: &str) -> Option<String> {
    let caps = matmul::select::Caps::of(gpu);
    matmul::split::plan(item, matmul::tiles::Path::Generic, caps).is_none().then(|| {
        format!(
            "MatMul {}x{}x{} (M x N x K): a single row of an operand exceeds {limit} (only rows, columns and steps of K are split)",
            item.m, item.n, item.k
        )
    })
}

/// RMSNormGemm's two steps as signatures of their own (RMSNormalization of
/// A, then the Gemm on its output), or `None` for another op.
fn norm_gemm_steps(sig: &OpSignature) -> Option<[OpSignature; 2]> {
    let Op::RmsNormGemm(attrs) = sig.op() else { return None };
    let input = |i: usize| sig.input(i).cloned();
    let norm = OpSignature::new(attrs.norm(), vec![input(0), input(1)]).expect("validated as RMSNormGemm's step");
    let normed = Some(norm.outputs()[0].clone());
    let gemm = OpSignature::new(Op::Gemm(attrs.gemm()), vec![normed, input(2), input(3)])
        .expect("validated as RMSNormGemm's step");
    Some([norm, gemm])
}

/// The shader family and entry point(s) a signature runs, for `kernel_variant`.
fn kernels_of(gpu: &Gpu, pipelines: &Pipelines, sig: &OpSignature) -> Option<(&'static str, String)> {
    // RMSNormGemm: the normalizing GEMV where it runs (quantized B, the
    // GEMV's rows), else `norm` then the Gemm's kernel.
    if let (Some([norm, gemm]), Geometry::NormGemm { gemm: g, .. }, Op::RmsNormGemm(attrs)) =
        (norm_gemm_steps(sig), sig.geometry(), sig.op())
    {
        let (b, scale_len) = (sig.input(2)?, sig.input(1)?.numel());
        let flags = matmul::gemm_flags(&attrs.gemm(), g.c_strides.is_some());
        let normalizing = b.dtype.is_quantized()
            && pipelines.pins.matmul.is_none()
            && matmul::quant::normalizing_gemv_runs(gpu, g.m, g.k, flags, scale_len);
        if normalizing {
            let path = matmul::quant::QuantPath::Columns(1);
            let pinned = pipelines.pins.quant_gemv.map_or(String::new(), |(w, c)| format!("-wg{w}x{c}"));
            let name = matmul::quant::path_name(path, b.dtype)
                + "-norm"
                + &pinned
                + texture_form(gpu)
                + split_form(gpu, pipelines, b)
                + uniform_form(gpu, pipelines, g.m, g.k);
            return Some(("matmul_quant", name));
        }
        let (_, norm_entry) = kernels_of(gpu, pipelines, &norm)?;
        let (shader, entry) = kernels_of(gpu, pipelines, &gemm)?;
        return Some((shader, format!("{norm_entry}+{entry}")));
    }
    Some(match (sig.op(), sig.geometry()) {
        (Op::Attention(_), Geometry::Attention(g)) => {
            // The path decides the kernels: the fused one, the composed
            // sequence (matmuls around the in-place score softmax), split, or flash.
            let masked = sig.input(3).is_some();
            let flash = crate::attention_flash::variant_for(gpu, g, masked);
            let device = attention::Device::new(gpu, flash);
            let (shader, entry) = match attention::path_for(&pipelines.pins, device, g) {
                attention::Path::Fused => ("attention", "attention"),
                attention::Path::Composed => ("attention", "scores_softmax+matmul"),
                attention::Path::Split if crate::attention_decode::combined_on(gpu, g) => {
                    if crate::attention_decode::merges_by_subgroup(gpu, &pipelines.pins) {
                        ("attention", crate::attention_decode::ENTRY_COMBINED_SUBGROUP)
                    } else {
                        ("attention", crate::attention_decode::ENTRY_COMBINED)
                    }
                }
                // CPU drivers run the generated grouped chunks where the heads allow.
                attention::Path::Split if gpu.simd_cpu && crate::attention_decode::variant_for(g).is_some() => {
                    ("attention", "decode_split_grouped+decode_combine")
                }
                attention::Path::Split => ("attention", "decode_split+decode_combine"),
                attention::Path::Flash => {
                    let kernel =
                        crate::attention_flash::kernel(flash.expect("the flash path runs only with a variant")).0;
                    (kernel.shader, kernel.entry)
                }
            };
            (shader, entry.to_string())
        }
        (Op::Attention(_), geometry) => unreachable!("hcal-core pairs Attention with its geometry, not {geometry:?}"),
        // Block-quantized weights (B): matmul_quant.wgsl, by shape.
        (Op::MatMul | Op::Gemm(_), geometry) if sig.input(1).is_some_and(|b| b.dtype.is_quantized()) => {
            let (m, flags, batch) = match (sig.op(), geometry) {
                (Op::Gemm(attrs), Geometry::Gemm(g)) => (g.m, matmul::gemm_flags(attrs, g.c_strides.is_some()), 1),
                (_, Geometry::MatMul(g)) => (g.m, 0, g.batch_count()),
                (op, geometry) => unreachable!("hcal-core pairs every op with its geometry: {op} with {geometry:?}"),
            };
            let path = matmul::quant::path_for(m, flags, batch, true, matmul::quant::tile_rows_on(gpu));
            let pinned = match (path, pipelines.pins.quant_gemv) {
                (matmul::quant::QuantPath::Columns(1), Some((w, c))) => format!("-wg{w}x{c}"),
                _ => String::new(),
            };
            let b = sig.input(1)?;
            let split = if path == matmul::quant::QuantPath::Any { "" } else { split_form(gpu, pipelines, b) };
            let uniform = match (path, geometry) {
                (matmul::quant::QuantPath::Columns(1), Geometry::Gemm(g)) => uniform_form(gpu, pipelines, g.m, g.k),
                (matmul::quant::QuantPath::Columns(1), Geometry::MatMul(g)) => uniform_form(gpu, pipelines, g.m, g.k),
                _ => "",
            };
            ("matmul_quant", matmul::quant::path_name(path, b.dtype) + &pinned + texture_form(gpu) + split + uniform)
        }
        (Op::Cast { .. }, _) if sig.input(0)?.dtype.is_quantized() => {
            ("matmul_quant", "dequantize".to_string() + texture_form(gpu))
        }
        (Op::MatMul | Op::Gemm(_), geometry) => {
            let product = match (sig.op(), geometry) {
                (Op::MatMul, Geometry::MatMul(g)) => {
                    matmul::Product { dims: [g.m, g.n, g.k], batch: g.batch_count(), flags: 0, alpha: 1.0 }
                }
                (Op::Gemm(attrs), Geometry::Gemm(g)) => matmul::Product {
                    dims: [g.m, g.n, g.k],
                    batch: 1,
                    flags: matmul::gemm_flags(attrs, g.c_strides.is_some()),
                    alpha: attrs.alpha,
                },
                (op, geometry) => unreachable!("hcal-core pairs every op with its geometry: {op} with {geometry:?}"),
            };
            let caps = matmul::select::Caps::of(gpu);
            let path = matmul::describe(&pipelines.tuner, pipelines.pins.matmul, &gpu.backend, caps, product);
            let shader = match path.split('-').next() {
                Some("tiled") => "matmul_tiled",
                Some("texture") => "matmul_texture",
                Some("smem") => "matmul_smem",
                _ => "matmul",
            };
            (shader, path)
        }
        (Op::Softmax { .. }, _) => ("softmax", "softmax".to_string()),
        (Op::LayerNormalization { .. } | Op::RmsNormalization { .. }, _) => ("norm", "norm".to_string()),
        (Op::RotaryEmbedding(_), _) => ("rotary", "rotary".to_string()),
        (Op::Gelu { .. } | Op::Unary(_), _) => ("unary", "unary".to_string()),
        (Op::GatedUnary { .. }, _) => ("unary", "gated".to_string()),
        (Op::Binary(_), _) => ("binary", "binary".to_string()),
        (Op::LeakyRelu { .. } | Op::HardSigmoid { .. }, _) => ("unary", "unary".to_string()),
        (Op::Clip, _) => ("binary", "binary(Max)+binary(Min)".to_string()),
        (Op::Where, _) => ("select", "select_where".to_string()),
        (Op::Reduce { .. }, _) => ("reduce", "reduce".to_string()),
        (Op::Transpose { .. }, _) => ("transpose", "transpose".to_string()),
        (Op::Cast { .. }, _) => ("convert", "cast".to_string()),
        // along one axis
        (Op::ArgMax { .. } | Op::ArgMin { .. }, _) => ("along_axis", "arg_extreme".to_string()),
        (Op::CumSum { .. }, _) => ("along_axis", "cumsum".to_string()),
        (Op::LogSoftmax { .. }, _) => ("softmax", "log_softmax".to_string()),
        // ---- data movement (issue 18) ----
        (Op::Concat { .. } | Op::Slice { .. } | Op::Split { .. } | Op::Expand { .. } | Op::Trilu { .. }, _) => {
            ("movement", "gather".to_string())
        }
        // No kernel: a buffer copy (Range's values come from the host).
        (Op::Reshape { .. } | Op::Range { .. }, _) => return None,
        // Indexing and KV caches.
        (Op::Gather { .. }, _) => ("gather", "gather".to_string()),
        (Op::GatherElements { .. }, _) => ("gather", "gather_elements".to_string()),
        (Op::TensorScatter { .. }, _) => ("scatter", "tensor_scatter".to_string()),
        (Op::SplitRotaryScatter(_), _) => ("qkv_cache", "split_rotary_scatter".to_string()),
        (Op::RmsNormGemm(_), _) => unreachable!("named above, by its steps"),
    })
}

/// The shader families a kernel name covers: its own, and every other
/// family the path may dispatch (texture tiles and the flash kernel stage
/// their operands with `matmul_stage.wgsl`; the composed attention path runs
/// the matmul kernels and may transpose).
fn covered(shader: &'static str, entry: &str) -> Vec<&'static str> {
    match (shader, entry) {
        ("matmul_texture" | "attention_flash", _) => vec![shader, "matmul_stage"],
        // RMSNormGemm's steps: the normalization, then the product.
        (_, entry) if entry.starts_with("norm+") => {
            let mut families = covered(shader, &entry["norm+".len()..]);
            families.push("norm");
            families
        }
        ("attention", "scores_softmax+matmul") => {
            vec![shader, "matmul", "matmul_tiled", "matmul_texture", "matmul_smem", "matmul_stage", "transpose"]
        }
        _ => vec![shader],
    }
}

/// FNV-1a over the WGSL of `families`, each with its `// #include` pieces in
/// place, and over the entries generated in Rust that `entry` names (the
/// decode attention's, `attention_decode.rs`), so a kernel's reported name
/// changes whenever any source it runs does, generator included.
fn source_hash(families: &[&str], entry: &str) -> u32 {
    let text = families.iter().map(|f| crate::pipeline::family_source(f)).chain(generated_source(entry));
    text.flat_map(str::bytes).fold(0x811c_9dc5u32, |h, b| (h ^ u32::from(b)).wrapping_mul(0x0100_0193))
}

/// The generated WGSL behind `entry` when Rust code writes it: every
/// expansion of the decode attention's generated entries (both merges, both
/// storage forms), once per process.
fn generated_source(entry: &str) -> Option<&'static str> {
    static DECODE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let generated = [crate::attention_decode::ENTRY, crate::attention_decode::ENTRY_COMBINED];
    generated.iter().any(|g| entry.starts_with(g)).then(|| {
        DECODE
            .get_or_init(|| crate::attention_decode::expansions().into_iter().map(|(_, text)| text).collect())
            .as_str()
    })
}

/// `<shader>.wgsl:<entry>@<fnv1a-32 of every source it covers>` (see
/// [`covered`]), with `+convert.wgsl@...` when f16/bf16/bool operands are
/// The suffix naming the form of the quantized kernels that reads B from a
/// texture, where `gpu` keeps host-written quantized tensors in them
/// (`packed.rs`; a B that an op wrote is read from its buffer).
fn texture_form(gpu: &Gpu) -> &'static str {
    if gpu.packed_textures { "-texture" } else { "" }
}

/// `-uniform` where the quantized GEMV of an `[m, k]` A reads A's row and
/// Scale as uniform buffers (`matmul::quant::uniform_extent`, judged by the
/// shape: a tensor in a buffer the device made otherwise runs the storage form).
fn uniform_form(gpu: &Gpu, pipelines: &Pipelines, m: usize, k: usize) -> &'static str {
    let fits = k > 0 && k % 4 == 0 && (k as u64) * 4 <= gpu.limits.max_uniform_buffer_binding_size;
    if gpu.uniform_rows && !pipelines.pins.storage_a && m == 1 && fits && gpu.subgroup_max == Some(8) {
        "-uniform"
    } else {
        ""
    }
}

/// `-split` where the row-walking quantized products read a host-written
/// weight `b` in the split form of its texture (`block_layout.rs`), which
/// they walk with their own code (a texture holds it: [`crate::packed::fits`]).
fn split_form(gpu: &Gpu, pipelines: &Pipelines, b: &TensorDesc) -> &'static str {
    let layout = matmul::quant::weight_layout(gpu, &pipelines.pins, b);
    let held = b.byte_len().is_ok_and(|bytes| crate::packed::fits(gpu, bytes));
    if gpu.packed_textures && held && layout.is_some_and(|(order, _)| order.head > 0) { "-split" } else { "" }
}

/// converted around the kernel: editing a kernel changes the name.
pub(crate) fn kernel_variant(gpu: &Gpu, pipelines: &Pipelines, sig: &OpSignature) -> Option<String> {
    let (shader, entry) = kernels_of(gpu, pipelines, sig)?;
    let mut name = format!("{shader}.wgsl:{entry}@{:08x}", source_hash(&covered(shader, &entry), &entry));
    let converted = sig.inputs().iter().flatten().any(|d| !matches!(d.dtype, DType::F32 | DType::I64));
    let plain = !matches!(sig.op(), Op::Attention(_) | Op::MatMul | Op::Gemm(_) | Op::RmsNormGemm(_));
    if plain && converted && !matches!(shader, "convert" | "transpose" | "movement") {
        name += &format!("+convert.wgsl@{:08x}", source_hash(&["convert"], ""));
    }
    let raw = matches!(shader, "convert" | "transpose" | "gather" | "scatter");
    if plain && converted && !raw {
        name += &format!("+convert.wgsl@{:08x}", source_hash(&["convert"], ""));
    }
    Some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The decode attention's generated entries are hashed with the code
    /// that generates them (a generator change renames the kernel); the
    /// names `kernels_of` reports for them start with the entries' own.
    #[test]
    fn generated_decode_entries_are_hashed_with_their_generated_source() {
        use crate::attention_decode::{ENTRY, ENTRY_COMBINED, ENTRY_COMBINED_SUBGROUP};
        for entry in [ENTRY_COMBINED, ENTRY_COMBINED_SUBGROUP, "decode_split_grouped+decode_combine"] {
            let text = generated_source(entry).unwrap_or_else(|| panic!("{entry}: no generated source"));
            assert!(text.contains("subgroupBroadcast(m0, 7u)") && text.contains("workgroupBarrier()"), "{entry}");
            assert_ne!(source_hash(&["attention"], entry), source_hash(&["attention"], "attention"));
        }
        assert!("decode_split_grouped+decode_combine".starts_with(ENTRY));
        assert!(generated_source("decode_split+decode_combine").is_none());
        assert!(generated_source("attention").is_none());
    }
}
