//! WGSL sources and compiled pipelines, built once per (shader, entry point).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use hcal_core::Result;

use crate::gpu::Gpu;

/// Every kernel family: `shaders/<name>.wgsl`, compiled into the binary.
pub(crate) const SHADERS: &[(&str, &str)] = &[
    ("along_axis", include_str!("../../../shaders/along_axis.wgsl")),
    ("attention", include_str!("../../../shaders/attention.wgsl")),
    ("attention_flash", include_str!("../../../shaders/attention_flash.wgsl")),
    ("attention_flash_rows", include_str!("../../../shaders/attention_flash_rows.wgsl")),
    ("binary", include_str!("../../../shaders/binary.wgsl")),
    ("convert", include_str!("../../../shaders/convert.wgsl")),
    ("matmul", include_str!("../../../shaders/matmul.wgsl")),
    ("matmul_gemv_f16", include_str!("../../../shaders/matmul_gemv_f16.wgsl")),
    ("matmul_quant", include_str!("../../../shaders/matmul_quant.wgsl")),
    ("matmul_smem", include_str!("../../../shaders/matmul_smem.wgsl")),
    ("matmul_stage", include_str!("../../../shaders/matmul_stage.wgsl")),
    ("matmul_texture", include_str!("../../../shaders/matmul_texture.wgsl")),
    ("matmul_tiled", include_str!("../../../shaders/matmul_tiled.wgsl")),
    ("movement", include_str!("../../../shaders/movement.wgsl")),
    ("norm", include_str!("../../../shaders/norm.wgsl")),
    ("peak", include_str!("../../../shaders/peak.wgsl")),
    ("reduce", include_str!("../../../shaders/reduce.wgsl")),
    ("rotary", include_str!("../../../shaders/rotary.wgsl")),
    ("select", include_str!("../../../shaders/select.wgsl")),
    ("softmax", include_str!("../../../shaders/softmax.wgsl")),
    ("split", include_str!("../../../shaders/split.wgsl")),
    ("transpose", include_str!("../../../shaders/transpose.wgsl")),
    ("unary", include_str!("../../../shaders/unary.wgsl")),
    // Indexing and KV caches.
    ("gather", include_str!("../../../shaders/gather.wgsl")),
    ("scatter", include_str!("../../../shaders/scatter.wgsl")),
    ("qkv_cache", include_str!("../../../shaders/qkv_cache.wgsl")),
];

/// The shared WGSL pieces under `shaders/include/`, by name: a kernel line
/// `// #include <name>` is replaced by the piece (see [`with_includes`]).
pub(crate) const INCLUDES: &[(&str, &str)] = &[
    ("attention_prep4", include_str!("../../../shaders/include/attention_prep4.wgsl")),
    ("attention_qy", include_str!("../../../shaders/include/attention_qy.wgsl")),
    ("block_order", include_str!("../../../shaders/include/block_order.wgsl")),
    ("f16_bits", include_str!("../../../shaders/include/f16_bits.wgsl")),
    ("is_nan", include_str!("../../../shaders/include/is_nan.wgsl")),
    ("kv_head", include_str!("../../../shaders/include/kv_head.wgsl")),
    ("linear_id", include_str!("../../../shaders/include/linear_id.wgsl")),
    ("rotary_pair", include_str!("../../../shaders/include/rotary_pair.wgsl")),
    ("matmul_epilogue", include_str!("../../../shaders/include/matmul_epilogue.wgsl")),
    ("matmul_params", include_str!("../../../shaders/include/matmul_params.wgsl")),
    ("workgroup_reduce", include_str!("../../../shaders/include/workgroup_reduce.wgsl")),
];

/// `text` with every `// #include <name>` line replaced by the piece `name`:
/// a file of [`INCLUDES`] or the generated declaration of a params struct
/// (`// #include <MatmulParams>`, see `params/`), each included once per
/// shader however many pieces ask for it (pieces may include others).
/// Explicit includes rather than one prelude for all: the pieces refer to
/// their includer's `params` (whose type differs per family) and bindings,
/// so each kernel pulls in exactly the pieces that fit it, and its file
/// still names them.
pub(crate) fn with_includes(text: &str) -> String {
    let declarations = crate::params::wgsl_declarations();
    let mut out = String::with_capacity(text.len() * 2);
    let mut seen = Vec::new();
    include_into(text, &declarations, &mut seen, &mut out);
    out
}

fn include_into(text: &str, declarations: &[(&'static str, String)], seen: &mut Vec<String>, out: &mut String) {
    for line in text.lines() {
        let Some(name) = line.trim().strip_prefix("// #include <").and_then(|r| r.strip_suffix('>')) else {
            out.push_str(line);
            out.push('\n');
            continue;
        };
        if seen.iter().any(|s| s == name) {
            continue;
        }
        seen.push(name.to_string());
        match (INCLUDES.iter().find(|(n, _)| *n == name), declarations.iter().find(|(n, _)| *n == name)) {
            (Some((_, piece)), _) => include_into(piece, declarations, seen, out),
            (None, Some((_, declaration))) => out.push_str(declaration),
            (None, None) => panic!("unknown WGSL include <{name}>"),
        }
    }
}

/// Every kernel family's WGSL with its includes in place (the text a
/// non-template kernel compiles, and the template a template expands).
pub(crate) fn family_sources() -> &'static [(&'static str, String)] {
    static SOURCES: std::sync::OnceLock<Vec<(&'static str, String)>> = std::sync::OnceLock::new();
    SOURCES.get_or_init(|| SHADERS.iter().map(|&(name, text)| (name, with_includes(text))).collect())
}

/// The included source of family `shader`.
pub(crate) fn family_source(shader: &str) -> &'static str {
    family_sources().iter().find(|(n, _)| *n == shader).map(|(_, s)| s.as_str()).expect("a listed shader family")
}

/// A kernel: shader family, entry point, and for template shaders (first
/// line `// TEMPLATE`) the variant the template is expanded for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Kernel {
    pub(crate) shader: &'static str,
    pub(crate) entry: &'static str,
    pub(crate) variant: u16,
    /// Vec4s of a uniform-buffer array the expansion declares with a fixed
    /// length (the quantized GEMV's uniform form: A's row and Scale, see
    /// `matmul/quant.rs`); 0 for every other kernel.
    pub(crate) extent: u32,
}

/// Shorthand for a kernel of a plain shader.
pub(crate) const fn kernel(shader: &'static str, entry: &'static str) -> Kernel {
    Kernel { shader, entry, variant: 0, extent: 0 }
}

/// Kernel-variant bit of a kernel that reads and writes its tensors as f16
/// (two elements per 32-bit word, decoded and encoded by
/// `include/f16_bits.wgsl`) instead of f32: its shader's lines ending in
/// `// F16` are kept and those ending in `// F32` dropped (the other way
/// round without the bit). Every family with such lines takes it; the
/// template expanders never see it.
pub(crate) const F16_IO: u16 = 0x4000;

/// `text` with the lines of the storage dtype chosen (see [`F16_IO`]); the
/// text itself when it has no tagged line.
fn for_storage(text: &'static str, f16: bool) -> std::borrow::Cow<'static, str> {
    let drop = if f16 { "// F32" } else { "// F16" };
    if !text.contains("// F16") {
        return text.into();
    }
    text.lines().filter(|l| !l.ends_with(drop)).flat_map(|l| [l, "\n"]).collect::<String>().into()
}

/// Both storage forms (f32 and f16, see [`F16_IO`]) of every family that is
/// not a template and has `// F16` lines, named, for shader validation (the
/// templates' expanders list theirs).
pub(crate) fn storage_forms() -> Vec<(String, String)> {
    let plain = family_sources().iter().filter(|(_, t)| !t.starts_with("// TEMPLATE") && t.contains("// F16"));
    plain
        .flat_map(|&(shader, _)| {
            [(0, "f32"), (F16_IO, "f16")].map(|(variant, dtype)| {
                (format!("{shader} ({dtype})"), source(Kernel { variant, ..kernel(shader, "") }).into_owned())
            })
        })
        .collect()
}

/// The WGSL a kernel compiles: the shader file, or its template expansion.
pub(crate) fn source(kernel: Kernel) -> std::borrow::Cow<'static, str> {
    let variant = kernel.variant & !F16_IO;
    let text = for_storage(family_source(kernel.shader), kernel.variant & F16_IO != 0);
    match kernel.shader {
        "attention"
            if [crate::attention_decode::ENTRY, crate::attention_decode::ENTRY_COMBINED].contains(&kernel.entry) =>
        {
            crate::attention_decode::expand(&text, variant, kernel.variant & F16_IO != 0).into()
        }
        "attention_flash" => crate::attention_flash::expand(&text, variant).into(),
        "matmul_quant" => crate::matmul::quant_variant::expand(&text, variant, kernel.extent).into(),
        "gather" => crate::gather::expand(&text, variant).into(),
        "attention_flash_rows" => crate::attention_flash::expand_rows(&text, variant).into(),
        // The op code as a constant (variant = code + 1, see `specialize`).
        "unary" if variant != 0 => crate::unary::specialize(&text, variant).into(),
        "binary" if variant != 0 => crate::binary::specialize(&text, variant).into(),
        _ if text.starts_with("// TEMPLATE") => crate::matmul::tiles::expand(&text, variant).into(),
        _ => text,
    }
}

/// A compiled pipeline and its bind group layout (fetched once: asking the
/// pipeline for it on every dispatch costs a lookup and an allocation).
#[derive(Clone)]
pub(crate) struct Compiled {
    pub(crate) pipeline: Arc<wgpu::ComputePipeline>,
    pub(crate) layout: Arc<wgpu::BindGroupLayout>,
}

/// What a shader module is compiled for: a family, a variant and an extent
/// (a kernel without its entry point: one module serves every entry).
type ModuleKey = (&'static str, u16, u32);

/// Compiled pipelines and their bind group layouts.
#[derive(Default)]
pub(crate) struct Pipelines {
    modules: Mutex<HashMap<ModuleKey, Arc<wgpu::ShaderModule>>>,
    pipelines: Mutex<HashMap<Kernel, Compiled>>,
    /// Kernel variant choices per shape class.
    pub(crate) tuner: crate::autotune::Autotuner,
    /// Kernel choices pinned by the backend name's suffixes.
    pub(crate) pins: crate::pins::Pins,
}

impl Pipelines {
    /// The pipeline of `kernel`, compiling it on first use.
    pub(crate) fn get(&self, gpu: &Gpu, kernel: Kernel) -> Result<Compiled> {
        if let Some(p) = self.pipelines.lock().unwrap_or_else(|p| p.into_inner()).get(&kernel) {
            return Ok(p.clone());
        }
        let module = self.module(gpu, kernel)?;
        let pipeline = gpu.scoped(|| {
            Ok(Arc::new(gpu.device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: Some(kernel.entry),
                layout: None,
                module: &module,
                entry_point: Some(kernel.entry),
                compilation_options: wgpu::PipelineCompilationOptions::default(),
                cache: None,
            })))
        })?;
        let compiled = Compiled { layout: Arc::new(pipeline.get_bind_group_layout(0)), pipeline };
        self.pipelines.lock().unwrap_or_else(|p| p.into_inner()).insert(kernel, compiled.clone());
        Ok(compiled)
    }

    fn module(&self, gpu: &Gpu, kernel: Kernel) -> Result<Arc<wgpu::ShaderModule>> {
        let key = (kernel.shader, kernel.variant, kernel.extent);
        if let Some(m) = self.modules.lock().unwrap_or_else(|p| p.into_inner()).get(&key) {
            return Ok(Arc::clone(m));
        }
        let source = source(kernel);
        let shader = kernel.shader;
        let module = gpu.scoped(|| {
            Ok(Arc::new(gpu.device.create_shader_module(wgpu::ShaderModuleDescriptor {
                label: Some(shader),
                source: wgpu::ShaderSource::Wgsl(source),
            })))
        })?;
        self.modules.lock().unwrap_or_else(|p| p.into_inner()).insert(key, Arc::clone(&module));
        Ok(module)
    }

    /// Number of compiled pipelines (each built once).
    pub(crate) fn len(&self) -> usize {
        self.pipelines.lock().unwrap_or_else(|p| p.into_inner()).len()
    }
}
