//! Kernel, storage and waiting choices pinned by backend-name suffixes, as
//! reference points for benchmarks and tests.
//!
//! | suffix          | pins                                                         |
//! |-----------------|--------------------------------------------------------------|
//! | `:baseline`     | every MatMul/Gemm to the simple 4x4 kernel (`matmul-4x4`)    |
//! | `:smem`         | MatMul/Gemm to the workgroup-memory tiles where they apply   |
//! | `:mm=<kernel>`  | MatMul/Gemm to one named kernel where it can run the product |
//! | `:fused`        | attention to the one-pass fused kernel                       |
//! | `:composed`     | attention to the composed path (matmuls around a softmax)    |
//! | `:composedN`    | the composed path, with blocks of at most N query rows       |
//! | `:split`        | attention to flash-decoding (split keys, then a merge)       |
//! | `:flash`        | attention to the flash kernel (`attention_flash.wgsl`)       |
//! | `:buffers`      | block-quantized tensors in storage buffers, not textures     |
//! | `:whole`        | quantized textures in whole blocks, not the split form       |
//! | `:qgemv=WxC`    | the quantized GEMV's workgroups of W invocations, C columns each |
//! | `:spin`         | the host polls for finished work, yielding (`gpu::Wait`)     |
//! | `:batch=N`      | submit recorded work every N dispatches (`record.rs`)        |
//! | `:block`        | the host sleeps in the driver until work is done             |
//!
//! Suffixes combine (`wgpu:vulkan:0:composed4:mm=gemv`) and apply left to
//! right, a later one replacing an earlier pin of the same kind. A pinned
//! kernel runs only where it can; elsewhere the usual choice is made. The
//! storage and waiting pins apply everywhere.

use hcal_core::{Error, Result};

use crate::attention;
use crate::matmul::tiles::{self, Path};

/// The pins of one backend.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Pins {
    /// The matmul kernel every product runs where it can.
    pub(crate) matmul: Option<Path>,
    /// The attention path every call takes where it can.
    pub(crate) attention: Option<attention::Path>,
    /// Most query rows per block of the composed attention path.
    pub(crate) attention_rows: Option<usize>,
    /// A lower `max_storage_buffer_binding_size` to plan with (`:bind=`).
    pub(crate) max_binding: Option<u64>,
    /// Keep host-written block-quantized tensors in storage buffers where
    /// they would go to textures (`packed.rs`): the reference point for them.
    pub(crate) buffers: bool,
    /// Keep whole blocks in quantized textures where the 4-column GEMV would
    /// get them in the split form (`block_layout.rs`): the reference point for it.
    pub(crate) whole_blocks: bool,
    /// How the host waits for the device, where pinned (`:spin`, `:block`).
    pub(crate) wait: Option<crate::gpu::Wait>,
    /// The quantized GEMV's invocations per workgroup and columns per
    /// invocation (`:qgemv=WxC`, W in 8/16/32/64, C in 1/2/4).
    pub(crate) quant_gemv: Option<(u32, u32)>,
    /// Dispatches recorded before a batch is submitted (`:batch=N`, N >= 1).
    pub(crate) batch: Option<usize>,
    /// Merge the combined decode attention's chunks through workgroup
    /// memory where subgroups would do it (`:wgmerge`,
    /// `attention_decode.rs`): the reference point for the subgroup merge.
    pub(crate) workgroup_merge: bool,
    /// Read the quantized GEMV's A row and Scale from storage buffers where
    /// the device would bind them as uniform ones (`:storage-a`,
    /// `matmul::quant::uniform_extent`): the reference point for that form.
    pub(crate) storage_a: bool,
}

/// `WxC` of a `:qgemv=` pin, if it names a shape the quantized GEMV has.
fn quant_gemv(spec: &str) -> Option<(u32, u32)> {
    let (w, c) = spec.split_once('x')?;
    let (w, c) = (w.parse().ok()?, c.parse().ok()?);
    ([8, 16, 32, 64].contains(&w) && [1, 2, 4].contains(&c)).then_some((w, c))
}

/// The smallest `:bind=` accepted: every window holds at least a few rows of
/// the params arena's and staging's alignment.
pub(crate) const MIN_BINDING_CAP: u64 = 4096;

/// Whether `suffix` is a pin suffix (without its colon).
fn is_pin(suffix: &str) -> bool {
    let composed_rows = suffix.strip_prefix("composed").filter(|r| !r.is_empty()).map(str::parse::<usize>);
    matches!(
        suffix,
        "baseline"
            | "storage-a"
            | "smem"
            | "fused"
            | "composed"
            | "split"
            | "flash"
            | "buffers"
            | "whole"
            | "wgmerge"
            | "spin"
            | "block"
    ) || suffix.starts_with("mm=")
        || suffix.strip_prefix("qgemv=").and_then(quant_gemv).is_some()
        || suffix.strip_prefix("bind=").is_some_and(|b| b.parse::<u64>().is_ok())
        || suffix.strip_prefix("batch=").is_some_and(|b| b.parse::<usize>().is_ok_and(|n| n > 0))
        || matches!(composed_rows, Some(Ok(_)))
}

/// Split `name` into the adapter name and its pin suffixes, left to right
/// (`wgpu:vulkan:0:fused` -> `("wgpu:vulkan:0", ["fused"])`).
pub(crate) fn split(name: &str) -> (&str, Vec<&str>) {
    let mut adapter = name;
    let mut suffixes = Vec::new();
    while let Some((rest, suffix)) = adapter.rsplit_once(':') {
        if !is_pin(suffix) {
            break;
        }
        suffixes.push(suffix);
        adapter = rest;
    }
    suffixes.reverse();
    (adapter, suffixes)
}

impl Pins {
    /// The pins of `suffixes` (from [`split`] of `name`, on `adapter`).
    ///
    /// # Errors
    /// [`Error::UnknownBackend`] for `:mm=` naming no matmul kernel, listing
    /// the names that exist.
    pub(crate) fn parse(name: &str, adapter: &str, suffixes: &[&str]) -> Result<Self> {
        let mut pins = Self::default();
        for &suffix in suffixes {
            match suffix {
                "wgmerge" => pins.workgroup_merge = true,
                "storage-a" => pins.storage_a = true,
                "baseline" => pins.matmul = Some(Path::Generic),
                "smem" => pins.matmul = Some(Path::Smem),
                "fused" => pins.attention = Some(attention::Path::Fused),
                "split" => pins.attention = Some(attention::Path::Split),
                "flash" => pins.attention = Some(attention::Path::Flash),
                "buffers" => pins.buffers = true,
                "whole" => pins.whole_blocks = true,
                "spin" => pins.wait = Some(crate::gpu::Wait::Spin),
                "block" => pins.wait = Some(crate::gpu::Wait::Block),
                q if q.starts_with("qgemv=") => pins.quant_gemv = quant_gemv(&q[6..]),
                b if b.starts_with("batch=") => pins.batch = b[6..].parse().ok(),
                bind if bind.starts_with("bind=") => {
                    let bytes: u64 = bind[5..].parse().expect("checked by is_pin");
                    pins.max_binding = Some((bytes / 256 * 256).max(MIN_BINDING_CAP));
                }
                mm if mm.starts_with("mm=") => {
                    let kernel = &mm[3..];
                    let path = tiles::parse(kernel).ok_or_else(|| Error::UnknownBackend {
                        name: name.to_string(),
                        available: tiles::path_names()
                            .iter()
                            .map(|n| format!("{adapter}:mm={n}"))
                            .collect::<Vec<_>>()
                            .join(", "),
                    })?;
                    pins.matmul = Some(path);
                }
                composed => {
                    pins.attention = Some(attention::Path::Composed);
                    if let Some(Ok(rows)) = composed.strip_prefix("composed").map(str::parse::<usize>) {
                        pins.attention_rows = Some(rows).filter(|&r| r > 0);
                    }
                }
            }
        }
        Ok(pins)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suffixes_parse_left_to_right_and_unknown_kernels_are_named() {
        let (adapter, suffixes) = split("wgpu:vulkan:0:composed4:mm=gemv:fused");
        assert_eq!((adapter, suffixes.as_slice()), ("wgpu:vulkan:0", ["composed4", "mm=gemv", "fused"].as_slice()));
        let pins = Pins::parse("n", adapter, &suffixes).unwrap();
        assert_eq!(pins.matmul, Some(Path::Gemv));
        assert_eq!(pins.attention, Some(attention::Path::Fused));
        assert_eq!(pins.attention_rows, Some(4));
        assert_eq!(split("wgpu:gl:0"), ("wgpu:gl:0", vec![]));
        assert!(Pins::parse("n", "wgpu", &["buffers"]).unwrap().buffers);
        assert!(Pins::parse("n", "wgpu", &["whole"]).unwrap().whole_blocks);
        assert!(Pins::parse("n", "wgpu", &["wgmerge"]).unwrap().workgroup_merge);
        assert!(Pins::parse("n", "wgpu", &["storage-a"]).unwrap().storage_a);
        assert_eq!(split("wgpu:vulkan:0:wgmerge"), ("wgpu:vulkan:0", vec!["wgmerge"]));
        assert_eq!(Pins::parse("n", "wgpu", &["batch=32"]).unwrap().batch, Some(32));
        assert_eq!(split("wgpu:vulkan:0:batch=0").1, Vec::<&str>::new());
        assert_eq!(Pins::parse("n", "wgpu", &["spin", "block"]).unwrap().wait, Some(crate::gpu::Wait::Block));
        assert_eq!(Pins::parse("n", "wgpu", &["block", "spin"]).unwrap().wait, Some(crate::gpu::Wait::Spin));
        assert_eq!(Pins::parse("n", "wgpu", &["baseline"]).unwrap().matmul, Some(Path::Generic));
        assert!(matches!(Pins::parse("n", "wgpu", &["mm=nope"]), Err(Error::UnknownBackend { .. })));
        let (adapter, suffixes) = split("wgpu:vulkan:0:bind=100000:baseline");
        assert_eq!(adapter, "wgpu:vulkan:0");
        let pins = Pins::parse("n", adapter, &suffixes).unwrap();
        assert_eq!((pins.max_binding, pins.matmul), (Some(99840), Some(Path::Generic)));
        let (adapter, suffixes) = split("wgpu:vulkan:0:qgemv=16x4");
        assert_eq!(Pins::parse("n", adapter, &suffixes).unwrap().quant_gemv, Some((16, 4)));
        // Not a shape the GEMV has: not a pin (the name then opens nothing).
        assert_eq!(split("wgpu:vulkan:0:qgemv=12x4").1, Vec::<&str>::new());
    }
}
