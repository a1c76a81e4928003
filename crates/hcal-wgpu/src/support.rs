//! What a device runs and by which kernels: `supports` (via [`decline`]),
//! `kernel_variant` and the tier notes of `DeviceInfo`.

use hcal_core::{DType, Geometry, Op, OpSignature, TensorDesc};

use crate::gpu::Gpu;
use crate::pipeline::Pipelines;
use crate::{attention, binary, matmul, reduce, split, transpose};

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
            "matmul: storage-buffer tiles, workgroup-memory tiles, GEMV; autotuned (texture tiles need subgroups of 4 or more; this adapter has {subgroup})"
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
            "no fixed subgroup width ({subgroup}): the row kernel (no subgroups) runs only when pinned with :flash \
             (slower than the composed path on CPU drivers); attention takes the composed and fused paths"
        ),
        None => format!(
            "row kernel without subgroups ({subgroup}), for D a multiple of 4 up to 128 and Dv 64 or 128 (else composed or fused)"
        ),
    };
    vec![matmul, cooperative.to_string(), format!("attention flash kernel: {flash}")]
}

/// Why a (validated) signature cannot run on `gpu`, if it cannot: device
/// limits and kernel bounds, read off the geometry hcal-core resolved.
///
/// Tensors larger than one storage binding are split into pieces (see
/// `split.rs`); only what no piece fits, or what a family does not split,
/// is declined here, by [`split_decline`].
pub(crate) fn decline(gpu: &Gpu, sig: &OpSignature) -> Option<String> {
    if let Some(d) = sig.inputs().iter().flatten().find(|d| d.dtype.is_quantized()) {
        return Some(format!("{} operands ({d}) have no WGSL kernel yet (the quantized GEMV is not written)", d.dtype));
    }
    let outputs = sig.outputs();
    let max_binding = gpu.limits.max_storage_buffer_binding_size;
    let max_buffer = gpu.limits.max_buffer_size;
    let mut large = false;
    for d in sig.inputs().iter().flatten().chain(outputs) {
        if d.numel() >= u32::MAX as usize {
            return Some(format!("{d} has more than 2^32 elements (kernels index with u32)"));
        }
        // Float tensors also get an f32 copy; it must fit one buffer.
        let bytes = d.numel() * d.dtype.size_bytes().max(4);
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
            let fused_ok = g.head_dim <= attention::MAX_HEAD_DIM && g.v_head_dim <= attention::MAX_HEAD_DIM;
            if !fused_ok && !attention::composed_fits(g, max_binding) {
                return Some(format!(
                    "head sizes {}/{} exceed the fused kernel's {} and one query row of the composed path's scores ({} bytes) exceeds {}",
                    g.head_dim,
                    g.v_head_dim,
                    attention::MAX_HEAD_DIM,
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
        (Op::Reduce { .. } | Op::Transpose { .. }, _)
            if sig.input(0)?.rank() > reduce::MAX_RANK.min(transpose::MAX_RANK) =>
        {
            return Some(format!("rank {} exceeds the kernel's {}", sig.input(0)?.rank(), reduce::MAX_RANK));
        }
        // One invocation loops over every input of its output, with an inner
        // loop over the rank per input; Mesa's CPU drivers stop a shader's
        // loops after 65,535 iterations in all and leave the sum short (40,000
        // ones summed to 21,845), so longer reductions are declined there
        // rather than answered wrongly.
        (Op::Reduce { .. }, Geometry::Reduce { axes }) if gpu.simd_cpu => {
            let x = sig.input(0)?;
            let count: usize = axes.iter().map(|&a| x.shape[a]).product();
            let iterations = count.saturating_mul(x.rank() + 1).saturating_add(x.rank());
            if iterations > crate::matmul::split::CPU_DRIVER_LOOP_LIMIT {
                return Some(format!(
                    "a reduction of {count} elements per output over rank {} takes {iterations} loop iterations, past the {} Mesa's CPU drivers run per invocation",
                    x.rank(),
                    crate::matmul::split::CPU_DRIVER_LOOP_LIMIT
                ));
            }
        }
        _ => {}
    }
    None
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
        // Contiguous elementwise work splits into ranges of any size.
        (Op::Gelu { .. } | Op::Unary(_) | Op::Cast { .. }, _) => None,
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
        (Op::Reduce { .. }, Geometry::Reduce { axes }) => {
            let x = input(0)?;
            let (shape, strides, extra) = reduce::reads(&x.shape, axes);
            let read = split::Reads { shape: &shape, strides: &strides, extra, elem_bytes: 4, whole: whole(x) };
            split::strided(out.numel(), 4, &[read], max, align).is_none().then(|| {
                format!("reducing {x} over axes {axes:?}: the inputs of one range of outputs span more than {limit} (it would need partial reductions per window, then a combine)")
            })
        }
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
            split::strided(x.numel(), elem, &[read], max, align).is_none().then(|| {
                format!("transposing {x} by {perm:?}: a word of output gathers from more than {limit} of input (it would need a tiled transpose over windows)")
            })
        }
        (Op::Softmax { .. }, Geometry::Softmax(s)) => {
            split::row_blocks(s.outer, s.len * s.inner, max, align).is_none().then(|| {
                format!(
                    "softmax over {} elements strided by {}: one outer slice ({} bytes) exceeds {limit}",
                    s.len,
                    s.inner,
                    s.len * s.inner * 4
                )
            })
        }
        (Op::LayerNormalization { .. } | Op::RmsNormalization { .. }, Geometry::Normalization { split: s, .. }) => {
            let row_ok = crate::record::Window::bytes_needed(s.len, 4, align) <= max && split::whole(s.len * 4, max);
            (!row_ok).then(|| format!("one normalized row of {} elements exceeds {limit}", s.len))
        }
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
        (Op::Attention(_), _) => {
            let big = sig.inputs().iter().flatten().chain(sig.outputs()).find(|d| !whole(d))?;
            Some(format!(
                "attention binds Q, K, V, the mask and the caches whole; {big} exceeds {limit} (it would need windows per batch and head)"
            ))
        }
        (Op::RotaryEmbedding(_), _) => {
            let big = sig.inputs().iter().flatten().chain(sig.outputs()).find(|d| !whole(d))?;
            Some(format!(
                "RotaryEmbedding binds its tensors whole; {big} exceeds {limit} (it would need windows of whole rows)"
            ))
        }
        _ => None,
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

/// The shader family and entry point(s) a signature runs, for `kernel_variant`.
fn kernels_of(gpu: &Gpu, pipelines: &Pipelines, sig: &OpSignature) -> Option<(&'static str, String)> {
    Some(match (sig.op(), sig.geometry()) {
        (Op::Attention(_), Geometry::Attention(g)) => {
            // The path decides the kernels: the fused one, the composed
            // sequence (matmuls around the in-place score softmax), split, or flash.
            let masked = sig.input(3).is_some();
            let flash = crate::attention_flash::variant_for(gpu, g, masked);
            let device = attention::Device::new(gpu, flash.is_some());
            let (shader, entry) = match attention::path_for(&pipelines.pins, device, g) {
                attention::Path::Fused => ("attention", "attention"),
                attention::Path::Composed => ("attention", "scores_softmax+matmul"),
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
        (Op::Binary(_), _) => ("binary", "binary".to_string()),
        (Op::Reduce { .. }, _) => ("reduce", "reduce".to_string()),
        (Op::Transpose { .. }, _) => ("transpose", "transpose".to_string()),
        (Op::Cast { .. }, _) => ("convert", "cast".to_string()),
    })
}

/// The shader families a kernel name covers: its own, and every other
/// family the path may dispatch (texture tiles and the flash kernel stage
/// their operands with `matmul_stage.wgsl`; the composed attention path runs
/// the matmul kernels and may transpose).
fn covered(shader: &'static str, entry: &str) -> Vec<&'static str> {
    match (shader, entry) {
        ("matmul_texture" | "attention_flash", _) => vec![shader, "matmul_stage"],
        ("attention", "scores_softmax+matmul") => {
            vec![shader, "matmul", "matmul_tiled", "matmul_texture", "matmul_smem", "matmul_stage", "transpose"]
        }
        _ => vec![shader],
    }
}

/// FNV-1a over the WGSL of `families`, each with its `// #include` pieces in
/// place, so a kernel's reported name changes whenever any source it runs does.
fn source_hash(families: &[&str]) -> u32 {
    let text = families.iter().map(|f| crate::pipeline::family_source(f));
    text.flat_map(str::bytes).fold(0x811c_9dc5u32, |h, b| (h ^ u32::from(b)).wrapping_mul(0x0100_0193))
}

/// `<shader>.wgsl:<entry>@<fnv1a-32 of every source it covers>` (see
/// [`covered`]), with `+convert.wgsl@...` when f16/bf16/bool operands are
/// converted around the kernel: editing a kernel changes the name.
pub(crate) fn kernel_variant(gpu: &Gpu, pipelines: &Pipelines, sig: &OpSignature) -> Option<String> {
    let (shader, entry) = kernels_of(gpu, pipelines, sig)?;
    let mut name = format!("{shader}.wgsl:{entry}@{:08x}", source_hash(&covered(shader, &entry)));
    let converted = sig.inputs().iter().flatten().any(|d| !matches!(d.dtype, DType::F32 | DType::I64));
    let plain = !matches!(sig.op(), Op::Attention(_) | Op::MatMul | Op::Gemm(_));
    if plain && converted && shader != "convert" && shader != "transpose" {
        name += &format!("+convert.wgsl@{:08x}", source_hash(&["convert"]));
    }
    Some(name)
}
