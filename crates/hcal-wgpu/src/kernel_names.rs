//! `kernel_variant`: the kernels a signature runs on a device, named
//! `<shader>.wgsl:<entry>@<hash>` with the hash over every source they
//! compile (generated code included), so editing a kernel changes its name.

use hcal_core::{DType, Geometry, Op, OpSignature, TensorDesc};

use crate::gpu::Gpu;
use crate::pipeline::Pipelines;
use crate::support::norm_gemm_steps;
use crate::{attention, matmul};

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
