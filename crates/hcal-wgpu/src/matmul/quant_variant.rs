//! The kernel variants of `matmul_quant.wgsl` (`quant.rs`): what each bit
//! of a variant selects, and the source it expands to.

use hcal_core::DType;

use super::gemv_plan::width_of;
use super::quant::TILE_ROWS;

/// Index of a quantized dtype in the template variants, its block bytes and
/// its `$Q` name.
pub(super) fn dtype_code(dtype: DType) -> Option<(u16, u32, &'static str)> {
    match dtype {
        DType::Q4_0 => Some((0, 18, "q4_0")),
        DType::Q4_1 => Some((1, 20, "q4_1")),
        DType::Q8_0 => Some((2, 34, "q8_0")),
        _ => None,
    }
}

/// The dtypes in template order.
const DTYPES: [DType; 3] = [DType::Q4_0, DType::Q4_1, DType::Q8_0];

/// Kernel-variant flag of the form that shares A across a subgroup of 8.
pub(super) const SUBGROUP: u16 = 4;

/// Kernel-variant flag of `matmul_quant` walking a B in the split form
/// of its texture's block order (`BlockLayout::head`); above the rows (bits 3-6).
pub(super) const SPLIT: u16 = 1 << 7;

/// Kernel-variant flag of the form reading B from a texture (`packed.rs`);
/// above the columns (bits 8-10).
pub(super) const TEXTURE: u16 = 1 << 12;

/// Kernel-variant flag of the normalizing GEMV (RMSNormGemm, one row per
/// invocation): A's row RMS-normalized as it is read. Below `F16_IO` (bit 14).
pub(super) const NORM: u16 = 1 << 13;

/// The kernel variant of `dtype` with `rows` rows and `cols` columns per
/// invocation, sharing A across subgroups of 8 when `subgroups`, in
/// workgroups of 64 invocations.
pub(super) fn variant(dtype: DType, rows: u32, cols: u32, subgroups: bool) -> u16 {
    let (code, _, _) = dtype_code(dtype).expect("a quantized dtype");
    code | if subgroups { SUBGROUP } else { 0 } | ((rows as u16) << 3) | ((cols as u16) << 8)
}

/// Expand `matmul_quant.wgsl` for `variant` (dtype code in the low 2 bits,
/// [`SUBGROUP`], rows per invocation in bits 3-6, [`SPLIT`], columns in 8-10, the
/// workgroup width's code in bits 11 and 15 ([`super::gemv_plan::width_bits`]), [`TEXTURE`],
/// [`NORM`]), in the GEMV's uniform form with arrays of `extent` vec4s
/// when `extent > 0` (`quant.rs`, `uniform_extent`).
pub(crate) fn expand(template: &str, variant: u16, extent: u32) -> String {
    let dtype = DTYPES[(variant & 3) as usize];
    let (_, block_bytes, name) = dtype_code(dtype).expect("listed");
    let rows = u32::from((variant >> 3) & 0xf).max(1);
    let cols = u32::from((variant >> 8) & 0x7).max(1);
    let width = width_of(variant);
    let texture = variant & TEXTURE != 0;
    // A line's tag is its trailing comment: `// SG` lines with subgroups,
    // `// NOSG` lines without, and of those `// NOSG1` (A loaded per use) for
    // one column, `// NOSGN` (A loaded once per block) for more; `// Q41`
    // lines (the two-block loop) for the one-column Q4_1 GEMV with subgroups
    // only; `// TEX` lines where B is a texture, `// BUF` where it is a buffer;
    // `// NORM` lines in the normalizing GEMV (subgroups only), `// PLAIN`
    // lines elsewhere; `// SPLIT` lines (and `// SPLIT4` with 4 columns,
    // `// SPLIT1` with fewer) where B is in the split form, `// WHOLE` lines
    // where its blocks are whole.
    let sg = variant & SUBGROUP != 0;
    let norm = variant & NORM != 0;
    let split = variant & SPLIT != 0;
    let keep = |l: &str| match l.rfind("// ").map_or("", |i| &l[i + 3..]) {
        "SG" => sg,
        "UNIF" => extent > 0,
        "STOR" => extent == 0,
        "NOSG" => !sg,
        "NOSG1" => !sg && cols == 1,
        "NOSGN" => !sg && cols > 1,
        "Q41" => sg && rows == 1 && cols == 1 && dtype == DType::Q4_1 && !split,
        "TEX" => texture,
        "BUF" => !texture,
        "NORM" => norm,
        "PLAIN" => !norm,
        "SPLIT" => split,
        "SPLIT4" => split && cols == 4,
        "SPLIT1" => split && cols != 4,
        "WHOLE" => !split,
        _ => true,
    };
    let text: String = template.lines().filter(|l| keep(l)).map(|l| format!("{l}\n")).collect();
    let text = text.replace("$Q", name);
    let e = crate::template::Expansion {
        constants: &[
            ("$BB", block_bytes),
            ("$HB", crate::block_layout::head_bytes(dtype)),
            ("$RR", rows),
            ("$CC", cols),
            ("$TW", crate::packed::WIDTH),
            ("$WG", width),
            ("$AK", extent),
        ],
        repeats: &[("$r", rows), ("$c", cols)],
        blocks: &[("$cb", cols)],
    };
    crate::template::expand(&text, &e, |token, i| vec![(token, i.to_string())])
}

/// Every expansion the launchers may compile, named, for shader validation.
pub(crate) fn expansions() -> Vec<(String, String)> {
    let text = crate::pipeline::family_source("matmul_quant");
    let mut all = Vec::new();
    for dtype in DTYPES {
        for rows in [1, 4, TILE_ROWS] {
            for sg in [false, true] {
                let cols: &[u32] = if rows == 1 { &[1, 2, 4] } else { &[1, 4] };
                for &c in cols {
                    for texture in [false, true] {
                        // The normalizing form is a GEMV's (one row); the
                        // split form a texture's, walked by the 4-column GEMV
                        // and the tile (see `launch_with`).
                        let norms: &[bool] = if rows == 1 && sg { &[false, true] } else { &[false] };
                        let splits: &[bool] = if texture && walks_split(rows, c) { &[false, true] } else { &[false] };
                        for (&norm, &split) in norms.iter().flat_map(|n| splits.iter().map(move |s| (n, s))) {
                            let name = format!(
                                "matmul_quant-{dtype}-{rows}rows-{c}cols{}{}{}{}",
                                if sg { "-subgroups" } else { "" },
                                if texture { "-texture" } else { "" },
                                if split { "-split" } else { "" },
                                if norm { "-norm" } else { "" }
                            );
                            let v = variant(dtype, rows, c, sg)
                                | if texture { TEXTURE } else { 0 }
                                | if split { SPLIT } else { 0 }
                                | if norm { NORM } else { 0 };
                            all.push((name.clone(), expand(text, v, 0)));
                            // The uniform form of the GEMVs with subgroups (A's row of K = 576).
                            if rows == 1 && sg {
                                all.push((name + "-uniform", expand(text, v, 144)));
                            }
                        }
                    }
                }
            }
        }
    }
    all
}

/// Whether `matmul_quant` with `rows` rows and `cols` columns per invocation
/// walks a B in the split form (`BlockLayout::head`): the 4-column GEMV it
/// is laid out for and the prefill tiles, with 4 columns (the same texel of
/// heads) or one.
pub(super) fn walks_split(rows: u32, cols: u32) -> bool {
    (rows == 1 && cols == 4) || (rows > 1 && matches!(cols, 1 | 4))
}

#[cfg(test)]
mod tests {
    use super::super::gemv_plan::width_bits;
    use super::*;

    #[test]
    fn every_workgroup_width_expands() {
        for width in super::super::gemv_plan::WIDTHS {
            let v = variant(DType::Q8_0, 1, 4, true) | width_bits(width) | TEXTURE | NORM;
            assert_eq!(width_of(v), width);
            assert_eq!(v & crate::pipeline::F16_IO, 0);
            let text = expand(crate::pipeline::family_source("matmul_quant"), v, 0);
            assert!(text.contains(&format!("@compute @workgroup_size({width})\nfn matmul_quant(")));
        }
    }

    #[test]
    fn every_expansion_names_its_dtype_functions_and_no_tokens_remain() {
        for (name, text) in expansions() {
            assert!(!text.contains('$'), "{name} keeps a template token");
        }
        let template = crate::pipeline::family_source("matmul_quant");
        let q41 = expand(template, variant(DType::Q4_1, TILE_ROWS, 1, false), 0);
        assert!(q41.contains("dequant_q4_1(byte0)") && q41.contains("const BLOCK_BYTES: u32 = 20u;"));
        assert!(q41.contains("var acc7_0 = vec4<f32>(0.0);") && !q41.contains("acc8") && !q41.contains("acc0_1"));
        assert!(!q41.contains("subgroupBroadcast("), "the plain form runs where subgroups do not (GL)");
        let sg = expand(template, variant(DType::Q4_1, 1, 1, true), 0);
        assert!(sg.contains("subgroupBroadcast(al0, 7u)") && !sg.contains("a[arow0 + p + 7u]"));
        // Four columns: A loaded once per block, each column's block dequantized and used in turn.
        let four = expand(template, variant(DType::Q4_1, 1, 4, true), 0);
        assert_eq!(four.matches("let al0 = ").count(), 1);
        let (x3, acc3) =
            (four.find("let x3 = dequant_q4_1(byte3);").unwrap(), four.find("acc0_3 = fma(x3.v7").unwrap());
        assert!(four.find("acc0_2 = fma(x2.v7").unwrap() < x3 && x3 < acc3 && !four.contains("acc0_4"));
        // The uniform form reads A's row and Scale from uniform arrays of the
        // extent's vec4s, with the storage form's indices.
        let norm = variant(DType::Q4_1, 1, 4, true) | NORM;
        let uniform = expand(template, norm, 144);
        assert!(uniform.contains("var<uniform> a_row: array<vec4<f32>, 144>;"));
        assert!(uniform.contains("var<uniform> norm_scale: array<vec4<f32>, 144>;"));
        assert!(uniform.contains("let v = a_row[i - row4];") && !uniform.contains("let v = a[i];"));
        let storage = expand(template, norm, 0);
        assert!(storage.contains("let v = a[i];") && !storage.contains("a_row"));
    }
}
