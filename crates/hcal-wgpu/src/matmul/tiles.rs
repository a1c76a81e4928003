//! The matmul kernels by name: the register-tile table, the expansion of the
//! tile templates (`matmul_tiled.wgsl`, `matmul_texture.wgsl`), and the stable
//! path names that `:mm=` pins, the tuning cache and reports use.

use crate::pipeline::{Kernel, kernel};

/// One expansion of a register-tiled template (`matmul_tiled.wgsl` or
/// `matmul_texture.wgsl`): `rows` x `4 * cols4` outputs per invocation,
/// `wgx` x `wgy` invocations per workgroup.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Tile {
    pub(crate) shader: &'static str,
    pub(crate) rows: u32,
    pub(crate) cols4: u32,
    pub(crate) wgx: u32,
    pub(crate) wgy: u32,
}

impl Tile {
    /// Whether this tile reads its operands from staged textures (B always,
    /// A from [`super::staging::STAGE_A_MIN_N`] columns) and shares A across
    /// a subgroup (`matmul_texture.wgsl`).
    pub(crate) fn texture(self) -> bool {
        self.shader == "matmul_texture"
    }
}

/// The tile variants the autotuner chooses from. Large register tiles suit
/// SIMD CPU drivers (on lavapipe 8x16 and 16x16 outputs per invocation were
/// fastest among the storage-buffer tiles, 16x8 among the texture ones: 32x8
/// ran as fast but took 0.9 s to compile); the small ones keep more
/// invocations busy on GPUs and small shapes. Few on purpose: each candidate
/// costs a pipeline build (0.1-0.4 s on lavapipe) on the first call of a
/// shape class.
pub(crate) const TILES: [Tile; 6] = [
    Tile { shader: "matmul_texture", rows: 16, cols4: 2, wgx: 64, wgy: 1 },
    // One 8-wide subgroup per workgroup: 64 columns, for narrow products
    // (attention's P V with head size 64 left 3/4 of a 64-wide workgroup idle).
    Tile { shader: "matmul_texture", rows: 16, cols4: 2, wgx: 8, wgy: 1 },
    Tile { shader: "matmul_tiled", rows: 16, cols4: 4, wgx: 8, wgy: 8 },
    Tile { shader: "matmul_tiled", rows: 8, cols4: 4, wgx: 8, wgy: 8 },
    Tile { shader: "matmul_texture", rows: 8, cols4: 2, wgx: 64, wgy: 1 },
    // Last: `candidates` moves it to the front for small outputs.
    Tile { shader: "matmul_tiled", rows: 4, cols4: 2, wgx: 16, wgy: 16 },
];

/// Steps of K one subgroup load covers in `matmul_texture.wgsl` (`$j`
/// lines) on an adapter whose smallest subgroup has `subgroup_min` lanes:
/// 8, or 4 where subgroups are 4 wide (lavapipe with
/// `LP_NATIVE_VECTOR_WIDTH=128`). Wider subgroups keep 8: lanes past 8 load
/// the same texels as lanes 0..8 (`lane % 8`).
pub(crate) fn chunk(subgroup_min: u32) -> u32 {
    subgroup_min.clamp(4, 8)
}

/// Kernel-variant field of the texture tiles: `log2(chunk) - 2` in bits 9-10
/// (0: 4 steps, 1: 8 steps).
const CHUNK_SHIFT: u16 = 9;

/// The kernel variant of texture tile `v` with `chunk` steps per subgroup load.
pub(crate) fn with_chunk(v: u16, chunk: u32) -> u16 {
    v | (((chunk.ilog2() - 2) as u16) << CHUNK_SHIFT)
}

/// Kernel-variant flag of a texture tile that reads A from its storage
/// buffer instead of a staged texture (the `A:buf` lines of
/// `matmul_texture.wgsl`).
pub(crate) const A_BUFFER: u16 = 0x100;

/// Kernel-variant flag of a texture tile for adapters without usable
/// subgroups: the lines tagged `// SG` of `matmul_texture.wgsl` dropped, so
/// every lane loads A's texels itself, one step of K at a time. On llvmpipe
/// (GL) that is still inlined texture loads where the storage-buffer tiles
/// loop over the lanes per load.
pub(crate) const NO_SUBGROUPS: u16 = 0x1000;

/// Expand the template of variant `v` (an index into [`TILES`], with
/// [`A_BUFFER`] for the texture tiles' buffer-A form and [`NO_SUBGROUPS`]
/// for their form without subgroups).
pub(crate) fn expand(template: &str, v: u16) -> String {
    let t = TILES[(v & 0xff) as usize];
    let chunk = 4u32 << ((v >> CHUNK_SHIFT) & 3);
    let drop = if v & A_BUFFER != 0 { "// A:tex" } else { "// A:buf" };
    let keep = |l: &&str| !l.ends_with(drop) && (v & NO_SUBGROUPS == 0 || !l.contains("// SG"));
    let template: String = template.lines().filter(keep).map(|l| format!("{l}\n")).collect();
    let template = template.as_str();
    let e = crate::template::Expansion {
        constants: &[("$RR", t.rows), ("$CC", t.cols4), ("$WGX", t.wgx), ("$WGY", t.wgy), ("$CHUNK", chunk)],
        repeats: if t.texture() {
            // Rows 4 q + x: one staged texel of A holds 4 rows.
            &[("$q", t.rows / 4), ("$x", 4), ("$c", t.cols4)]
        } else {
            &[("$r", t.rows), ("$c", t.cols4)]
        },
        blocks: &[("$j", chunk)],
    };
    crate::template::expand(template, &e, |_, j| vec![("$j", j.to_string())])
}

/// Every expansion of every template, in both storage forms (f32, f16), named,
/// for shader validation.
pub(crate) fn expansions() -> Vec<(String, String)> {
    let mut all = Vec::new();
    for (io, dtype) in [(0, "f32"), (crate::pipeline::F16_IO, "f16")] {
        let form = |kernel: Kernel| crate::pipeline::source(Kernel { variant: kernel.variant | io, ..kernel });
        all.extend(
            (0..TILES.len() as u16)
                .map(|v| (format!("{} ({dtype})", name(Path::Tiled(v))), form(kernel_of(Path::Tiled(v))).into_owned())),
        );
        let texture = (0..TILES.len() as u16).filter(|&v| TILES[v as usize].texture());
        for v in texture {
            for (a, how) in
                [(NO_SUBGROUPS, "A staged, no subgroups"), (NO_SUBGROUPS | A_BUFFER, "A from its buffer, no subgroups")]
            {
                let kernel = Kernel { variant: v | a, ..kernel_of(Path::Tiled(v)) };
                all.push((format!("{} ({how}, {dtype})", name(Path::Tiled(v))), form(kernel).into_owned()));
            }
            for chunk in [4, 8] {
                for (a, how) in [(0, "A staged"), (A_BUFFER, "A from its buffer")] {
                    let kernel = Kernel { variant: with_chunk(v | a, chunk), ..kernel_of(Path::Tiled(v)) };
                    let label = format!("{} ({how}, chunks of {chunk}, {dtype})", name(Path::Tiled(v)));
                    all.push((label, form(kernel).into_owned()));
                }
            }
        }
    }
    all
}

/// Which kernel runs a product.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Path {
    /// `matmul.wgsl`'s `matmul`: any shape, transposes; the `:baseline` kernel.
    Generic,
    /// `matmul.wgsl`'s `gemv` (M = 1), with `splitk_reduce` when K is split.
    Gemv,
    /// A register tile of [`TILES`] (index).
    Tiled(u16),
    /// `matmul_smem.wgsl`: 64x64 workgroup-memory tiles.
    Smem,
}

/// The stable name of a path (`tiled-8x16-wg8x8`), used in the tuning cache and reports.
pub(crate) fn name(path: Path) -> String {
    match path {
        Path::Generic => "matmul-4x4".to_string(),
        Path::Gemv => "gemv".to_string(),
        Path::Smem => "smem-64x64".to_string(),
        Path::Tiled(v) => {
            let t = TILES[v as usize];
            let family = if t.texture() { "texture" } else { "tiled" };
            format!("{family}-{}x{}-wg{}x{}", t.rows, 4 * t.cols4, t.wgx, t.wgy)
        }
    }
}

/// Every matmul kernel name, for pins and error messages.
pub(crate) fn path_names() -> Vec<String> {
    let fixed = [Path::Generic, Path::Gemv, Path::Smem];
    fixed.into_iter().chain((0..TILES.len() as u16).map(Path::Tiled)).map(name).collect()
}

/// The path a name means (the inverse of [`name`]).
pub(crate) fn parse(name: &str) -> Option<Path> {
    match name {
        "matmul-4x4" => Some(Path::Generic),
        "gemv" => Some(Path::Gemv),
        "smem-64x64" => Some(Path::Smem),
        _ => (0..TILES.len() as u16).map(Path::Tiled).find(|p| self::name(*p) == name),
    }
}

/// The compiled kernel of a path.
pub(crate) fn kernel_of(path: Path) -> Kernel {
    match path {
        Path::Generic => kernel("matmul", "matmul"),
        Path::Gemv => kernel("matmul", "gemv"),
        Path::Tiled(v) => {
            let shader = TILES[v as usize].shader;
            Kernel { variant: v, ..crate::pipeline::kernel(shader, shader) }
        }
        Path::Smem => kernel("matmul_smem", "matmul_smem"),
    }
}
