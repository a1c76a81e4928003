//! ggml tensor element types.

/// A ggml tensor type as stored in a GGUF tensor info (`u32` type id).
///
/// Every type id ggml assigns is named with its block geometry (values per block,
/// bytes per block) so that the byte size of any tensor can be computed; only
/// [`F32`](Self::F32), [`F16`](Self::F16), [`Q4_0`](Self::Q4_0),
/// [`Q4_1`](Self::Q4_1) and [`Q8_0`](Self::Q8_0) can be converted to f32 by this
/// crate ([`GgmlType::is_dequantizable`]).
///
/// ```
/// use hcal_gguf::GgmlType;
/// let t = GgmlType::from_id(3).unwrap();
/// assert_eq!(t, GgmlType::Q4_1);
/// assert_eq!((t.block_size(), t.type_size()), (32, 20));
/// assert_eq!(t.name(), "Q4_1");
/// assert!(GgmlType::from_id(4).is_none()); // removed from ggml (was Q4_2)
/// ```
#[allow(non_camel_case_types, missing_docs)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum GgmlType {
    F32,
    F16,
    Q4_0,
    Q4_1,
    Q5_0,
    Q5_1,
    Q8_0,
    Q8_1,
    Q2_K,
    Q3_K,
    Q4_K,
    Q5_K,
    Q6_K,
    Q8_K,
    IQ2_XXS,
    IQ2_XS,
    IQ3_XXS,
    IQ1_S,
    IQ4_NL,
    IQ3_S,
    IQ2_S,
    IQ4_XS,
    I8,
    I16,
    I32,
    I64,
    F64,
    IQ1_M,
    BF16,
    TQ1_0,
    TQ2_0,
    MXFP4,
    NVFP4,
    Q1_0,
}

/// (type, id, name, values per block, bytes per block), as in ggml's type traits.
const TABLE: &[(GgmlType, u32, &str, u64, u64)] = &[
    (GgmlType::F32, 0, "F32", 1, 4),
    (GgmlType::F16, 1, "F16", 1, 2),
    (GgmlType::Q4_0, 2, "Q4_0", 32, 18),
    (GgmlType::Q4_1, 3, "Q4_1", 32, 20),
    (GgmlType::Q5_0, 6, "Q5_0", 32, 22),
    (GgmlType::Q5_1, 7, "Q5_1", 32, 24),
    (GgmlType::Q8_0, 8, "Q8_0", 32, 34),
    (GgmlType::Q8_1, 9, "Q8_1", 32, 36),
    (GgmlType::Q2_K, 10, "Q2_K", 256, 84),
    (GgmlType::Q3_K, 11, "Q3_K", 256, 110),
    (GgmlType::Q4_K, 12, "Q4_K", 256, 144),
    (GgmlType::Q5_K, 13, "Q5_K", 256, 176),
    (GgmlType::Q6_K, 14, "Q6_K", 256, 210),
    (GgmlType::Q8_K, 15, "Q8_K", 256, 292),
    (GgmlType::IQ2_XXS, 16, "IQ2_XXS", 256, 66),
    (GgmlType::IQ2_XS, 17, "IQ2_XS", 256, 74),
    (GgmlType::IQ3_XXS, 18, "IQ3_XXS", 256, 98),
    (GgmlType::IQ1_S, 19, "IQ1_S", 256, 50),
    (GgmlType::IQ4_NL, 20, "IQ4_NL", 32, 18),
    (GgmlType::IQ3_S, 21, "IQ3_S", 256, 110),
    (GgmlType::IQ2_S, 22, "IQ2_S", 256, 82),
    (GgmlType::IQ4_XS, 23, "IQ4_XS", 256, 136),
    (GgmlType::I8, 24, "I8", 1, 1),
    (GgmlType::I16, 25, "I16", 1, 2),
    (GgmlType::I32, 26, "I32", 1, 4),
    (GgmlType::I64, 27, "I64", 1, 8),
    (GgmlType::F64, 28, "F64", 1, 8),
    (GgmlType::IQ1_M, 29, "IQ1_M", 256, 56),
    (GgmlType::BF16, 30, "BF16", 1, 2),
    (GgmlType::TQ1_0, 34, "TQ1_0", 256, 54),
    (GgmlType::TQ2_0, 35, "TQ2_0", 256, 66),
    (GgmlType::MXFP4, 39, "MXFP4", 32, 17),
    (GgmlType::NVFP4, 40, "NVFP4", 64, 36),
    (GgmlType::Q1_0, 41, "Q1_0", 128, 18),
];

impl GgmlType {
    fn entry(self) -> &'static (GgmlType, u32, &'static str, u64, u64) {
        TABLE.iter().find(|e| e.0 == self).expect("every GgmlType has a table entry")
    }

    /// The type for a ggml type id, `None` for ids ggml does not (or no longer) assign.
    ///
    /// ```
    /// assert_eq!(hcal_gguf::GgmlType::from_id(8), Some(hcal_gguf::GgmlType::Q8_0));
    /// ```
    pub fn from_id(id: u32) -> Option<Self> {
        TABLE.iter().find(|e| e.1 == id).map(|e| e.0)
    }

    /// The ggml type id.
    ///
    /// ```
    /// assert_eq!(hcal_gguf::GgmlType::Q4_0.id(), 2);
    /// ```
    pub fn id(self) -> u32 {
        self.entry().1
    }

    /// ggml's name of the type (`"Q4_1"`, `"F32"`, ...).
    ///
    /// ```
    /// assert_eq!(hcal_gguf::GgmlType::BF16.name(), "BF16");
    /// ```
    pub fn name(self) -> &'static str {
        self.entry().2
    }

    /// Values per block (1 for plain element types).
    ///
    /// ```
    /// assert_eq!(hcal_gguf::GgmlType::Q8_0.block_size(), 32);
    /// ```
    pub fn block_size(self) -> u64 {
        self.entry().3
    }

    /// Bytes per block.
    ///
    /// ```
    /// assert_eq!(hcal_gguf::GgmlType::Q4_0.type_size(), 18);
    /// ```
    pub fn type_size(self) -> u64 {
        self.entry().4
    }

    /// Whether [`crate::quant::dequantize`] converts this type to f32.
    ///
    /// ```
    /// assert!(hcal_gguf::GgmlType::Q4_1.is_dequantizable());
    /// assert!(!hcal_gguf::GgmlType::Q4_K.is_dequantizable());
    /// ```
    pub fn is_dequantizable(self) -> bool {
        matches!(self, GgmlType::F32 | GgmlType::F16 | GgmlType::Q4_0 | GgmlType::Q4_1 | GgmlType::Q8_0)
    }
}

impl std::fmt::Display for GgmlType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
