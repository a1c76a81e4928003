//! Gather and GatherElements cases: negative indices, indices outside the
//! axis (NaN / zero rows), scalar and empty index tensors, every element
//! dtype, and rows of block-quantized tables (an LLM's token embeddings).

use hcal_core::{DType, Op};

use super::ranges::unit;
use crate::case::{Case, Input};
use crate::generate::Gen;

/// Index values, each given exactly (as f64, stored as i64).
fn ids(values: &[i64]) -> Gen {
    Gen::Values(values.iter().map(|&v| v as f64).collect())
}

/// Data of `dtype` with values that survive the dtype (bool and i64 included).
fn data(dtype: DType) -> Gen {
    match dtype {
        DType::Bool => Gen::Bool { p_true: 0.5 },
        DType::I64 => Gen::Index { max: 1 << 40 },
        _ => unit(),
    }
}

pub(super) fn cases() -> Vec<Case> {
    let mut cases = Vec::new();
    let gather = |name: &str, axis: i64, d: Input, i: Input| {
        Case::new(format!("Gather/{}/{name}", d.desc.dtype), Op::Gather { axis }, vec![d, i])
    };
    let f32s = |shape: &[usize]| Input::new(shape, DType::F32, unit());
    cases.push(gather("rows-negative", 0, f32s(&[5, 3]), Input::new([4], DType::I64, ids(&[0, 4, -1, -5]))));
    cases.push(gather("axis1-2d-indices", 1, f32s(&[2, 7, 3]), Input::new([2, 3], DType::I64, Gen::Index { max: 7 })));
    cases.push(gather("last-axis-scalar-index", -1, f32s(&[4, 6]), Input::new([], DType::I64, ids(&[5]))));
    // ONNX calls these an error; indices are data, so hcal defines NaN rows.
    cases.push(gather(
        "out-of-range-nan-rows",
        0,
        f32s(&[3, 4]),
        Input::new([6], DType::I64, ids(&[7, -4, 3, 2, i64::MAX, i64::MIN])),
    ));
    cases.push(gather("empty-indices", 0, f32s(&[5, 3]), Input::new([0], DType::I64, ids(&[]))));
    cases.push(gather("empty-axis", 0, f32s(&[0, 3]), Input::new([2], DType::I64, ids(&[0, -1]))));
    cases.push(gather("rank1", 0, f32s(&[17]), Input::new([5], DType::I64, ids(&[16, 0, -17, 8, 8]))));
    cases.push(gather("257x96-rows", 0, f32s(&[257, 96]), Input::new([33], DType::I64, Gen::Index { max: 257 })));
    for dtype in [DType::F16, DType::BF16, DType::Bool, DType::I64] {
        // Odd rows of sub-word elements: gathered rows start mid-word.
        let d = Input::new([6, 5], dtype, data(dtype));
        cases.push(gather("rows-odd-width", 0, d.clone(), Input::new([4], DType::I64, ids(&[5, 0, -2, 9]))));
        cases.push(gather("axis1", 1, d, Input::new([3], DType::I64, ids(&[4, -5, 2]))));
    }
    for q in DType::QUANTIZED {
        // Token embeddings: whole blocks move; one id outside the table.
        cases.push(gather(
            "embedding-rows",
            0,
            Input::new([17, 64], q, unit()),
            Input::new([1, 5], DType::I64, ids(&[3, 16, -1, 17, 0])),
        ));
        cases.push(gather("axis1-3d", 1, Input::new([3, 5, 32], q, unit()), Input::new([2], DType::I64, ids(&[4, 1]))));
        // Rows in eights, blocks in pairs or more: on CPU drivers the
        // table's texture holds them in the split form (block_layout.rs).
        cases.push(gather(
            "rows-in-eights",
            0,
            Input::new([16, 64], q, unit()),
            Input::new([3], DType::I64, ids(&[15, 0, 5])),
        ));
    }

    let gather_elements = |name: &str, axis: i64, d: Input, i: Input| {
        Case::new(format!("GatherElements/{}/{name}", d.desc.dtype), Op::GatherElements { axis }, vec![d, i])
    };
    cases.push(gather_elements(
        "axis0",
        0,
        f32s(&[3, 4]),
        Input::new([2, 4], DType::I64, ids(&[1, 2, 0, 2, 2, 0, 0, 1])),
    ));
    cases.push(gather_elements(
        "axis1-negative",
        1,
        f32s(&[3, 5]),
        Input::new([3, 2], DType::I64, ids(&[-1, 0, 4, -5, 2, 3])),
    ));
    cases.push(gather_elements(
        "last-axis-3d",
        -1,
        f32s(&[2, 3, 17]),
        Input::new([2, 3, 17], DType::I64, Gen::Index { max: 17 }),
    ));
    // Indices smaller than data off the axis index a corner of it.
    cases.push(gather_elements(
        "smaller-indices",
        1,
        f32s(&[4, 5]),
        Input::new([2, 3], DType::I64, ids(&[0, 4, 1, 3, 3, 2])),
    ));
    cases.push(gather_elements(
        "larger-along-axis",
        0,
        f32s(&[2, 3]),
        Input::new([5, 3], DType::I64, Gen::Index { max: 2 }),
    ));
    cases.push(gather_elements(
        "out-of-range-nan",
        1,
        f32s(&[2, 3]),
        Input::new([2, 3], DType::I64, ids(&[3, -4, 0, 1 << 40, -1, 2])),
    ));
    cases.push(gather_elements("empty", 0, f32s(&[4, 3]), Input::new([0, 3], DType::I64, ids(&[]))));
    for dtype in [DType::F16, DType::BF16, DType::Bool, DType::I64] {
        cases.push(gather_elements(
            "axis0-odd",
            0,
            Input::new([3, 5], dtype, data(dtype)),
            Input::new([3, 5], DType::I64, ids(&[2, 0, 1, 1, 0, -1, 2, 0, 5, 1, 0, 0, 2, 2, -3])),
        ));
    }
    cases
}
