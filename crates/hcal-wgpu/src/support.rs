//! What a device runs: `supports` (via [`decline`]) and the tier notes of
//! `DeviceInfo`. Which kernels run it, by name: `kernel_names.rs`.

use hcal_core::{DType, Geometry, Op, OpSignature, TensorDesc};

use crate::gpu::Gpu;
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
pub(crate) fn norm_gemm_steps(sig: &OpSignature) -> Option<[OpSignature; 2]> {
    let Op::RmsNormGemm(attrs) = sig.op() else { return None };
    let input = |i: usize| sig.input(i).cloned();
    let norm = OpSignature::new(attrs.norm(), vec![input(0), input(1)]).expect("validated as RMSNormGemm's step");
    let normed = Some(norm.outputs()[0].clone());
    let gemm = OpSignature::new(Op::Gemm(attrs.gemm()), vec![normed, input(2), input(3)])
        .expect("validated as RMSNormGemm's step");
    Some([norm, gemm])
}
