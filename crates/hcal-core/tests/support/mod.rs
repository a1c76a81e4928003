//! Proptest strategies over op descriptors, shared by the validation
//! properties here and the device-against-reference properties of the
//! `hcal-tests` package (which includes this file by path).
//!
//! Three families:
//! - [`valid_spec`]: small calls that are valid by construction, every op of
//!   the standard, zero dims included (what a device must compute correctly);
//! - [`mutated_spec`]: a valid call with one to three mutations (a dim made 0
//!   or huge, a dim added or dropped, a dtype changed, an input dropped or
//!   added, an attribute made odd): the inputs that sit next to the rules;
//! - [`arbitrary_spec`]: any op with any attributes on any descriptors.

#![allow(dead_code)]

use hcal_core::{
    Attention, BinaryOp, DType, GeluApproximation, Gemm, Op, ReduceOp, RmsNormGemm, RotaryEmbedding, SplitParts,
    SplitRotaryScatter, TensorDesc, UnaryOp,
};
use proptest::prelude::*;
use proptest::sample::{Index, select};

/// Proptest cases per property: `PROPTEST_CASES` when set (to run longer
/// locally), else `default` (sized for CI on two cores).
pub fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// An op call as descriptors: the op, its positional inputs (`None` = absent
/// optional input) and which output slots are requested.
#[derive(Clone, Debug)]
pub struct Spec {
    /// The op.
    pub op: Op,
    /// Input slots.
    pub inputs: Vec<Option<TensorDesc>>,
    /// Requested output slots.
    pub outputs: Vec<bool>,
}

impl Spec {
    fn new(op: Op, inputs: Vec<Option<TensorDesc>>) -> Self {
        let outputs = vec![true; op.output_arity()];
        Self { op, inputs, outputs }
    }

    /// The inputs as `infer_outputs` takes them.
    pub fn refs(&self) -> Vec<Option<&TensorDesc>> {
        self.inputs.iter().map(Option::as_ref).collect()
    }
}

/// Dims that break arithmetic: the largest values, powers of two at the u32
/// and usize boundaries, and their neighbours.
pub const HUGE_DIMS: [usize; 10] = [
    usize::MAX,
    usize::MAX - 1,
    usize::MAX / 2,
    usize::MAX / 2 + 1,
    usize::MAX / 4 + 1,
    1 << 62,
    1 << 32,
    (1 << 32) + 1,
    u32::MAX as usize,
    1 << 31,
];

/// Float attributes outside every domain, next to them, and a few ordinary ones.
pub const ODD_FLOATS: [f32; 12] =
    [f32::NAN, f32::INFINITY, f32::NEG_INFINITY, -0.0, 0.0, -1.0, -1e-5, 1e-5, f32::MAX, f32::MIN, 1e-45, 1.0];

/// Axes far out of range as well as near it.
pub const ODD_AXES: [i64; 6] = [i64::MIN, i64::MIN + 1, i64::MAX, -(1 << 40), 1 << 40, -9];

pub fn float_dtype() -> impl Strategy<Value = DType> {
    select(DType::FLOATS.to_vec())
}

pub fn any_dtype() -> impl Strategy<Value = DType> {
    select(DType::ALL.to_vec())
}

/// A dim: mostly small (zero included), sometimes huge.
pub fn dim() -> impl Strategy<Value = usize> {
    prop_oneof![8 => 0usize..6, 1 => select(HUGE_DIMS.to_vec())]
}

/// Any descriptor: rank 0 to 6, any dtype.
pub fn desc() -> impl Strategy<Value = TensorDesc> {
    (prop::collection::vec(dim(), 0..=6), any_dtype()).prop_map(|(s, d)| TensorDesc::new(s, d))
}

pub fn axis() -> impl Strategy<Value = i64> {
    prop_oneof![6 => -7i64..7, 1 => select(ODD_AXES.to_vec())]
}

pub fn odd_float() -> impl Strategy<Value = f32> {
    prop_oneof![select(ODD_FLOATS.to_vec()), any::<f32>()]
}

pub fn count() -> impl Strategy<Value = Option<usize>> {
    prop_oneof![Just(None), (0usize..9).prop_map(Some), select(HUGE_DIMS.to_vec()).prop_map(Some)]
}

pub fn gelu() -> impl Strategy<Value = GeluApproximation> {
    select(vec![GeluApproximation::None, GeluApproximation::Tanh])
}

/// An entry of a perm: mostly in range (repeats likely), sometimes huge.
pub fn perm_entry() -> impl Strategy<Value = usize> {
    prop_oneof![6 => 0usize..7, 1 => select(HUGE_DIMS.to_vec())]
}

/// Any op with any attribute values (repeated or out-of-range perms and axes,
/// NaN and negative epsilons, zero and huge head counts).
pub fn any_op() -> impl Strategy<Value = Op> {
    prop_oneof![
        Just(Op::MatMul),
        (odd_float(), odd_float(), any::<bool>(), any::<bool>())
            .prop_map(|(alpha, beta, trans_a, trans_b)| Op::Gemm(Gemm { alpha, beta, trans_a, trans_b })),
        axis().prop_map(|axis| Op::Softmax { axis }),
        (axis(), odd_float()).prop_map(|(axis, epsilon)| Op::LayerNormalization { axis, epsilon }),
        (axis(), odd_float()).prop_map(|(axis, epsilon)| Op::RmsNormalization { axis, epsilon }),
        (odd_float(), odd_float(), odd_float(), any::<bool>()).prop_map(|(epsilon, alpha, beta, trans_b)| {
            Op::RmsNormGemm(RmsNormGemm { epsilon, alpha, beta, trans_b })
        }),
        (any::<bool>(), count(), count(), prop::option::of(odd_float()), odd_float()).prop_map(
            |(is_causal, q_num_heads, kv_num_heads, scale, softcap)| {
                Op::Attention(Attention { is_causal, q_num_heads, kv_num_heads, scale, softcap })
            }
        ),
        (any::<bool>(), prop_oneof![0usize..9, select(HUGE_DIMS.to_vec())], count()).prop_map(
            |(interleaved, rotary_embedding_dim, num_heads)| {
                Op::RotaryEmbedding(RotaryEmbedding { interleaved, rotary_embedding_dim, num_heads })
            }
        ),
        gelu().prop_map(|approximate| Op::Gelu { approximate }),
        select(UnaryOp::ALL.to_vec()).prop_map(Op::Unary),
        select(BinaryOp::ALL.to_vec()).prop_map(Op::Binary),
        // ---- elementwise with attributes, clipping and selection (ops-elementwise) ----
        odd_float().prop_map(|alpha| Op::LeakyRelu { alpha }),
        (odd_float(), odd_float()).prop_map(|(alpha, beta)| Op::HardSigmoid { alpha, beta }),
        Just(Op::Clip),
        Just(Op::Where),
        (select(ReduceOp::ALL.to_vec()), prop::option::of(prop::collection::vec(axis(), 0..7)), any::<bool>())
            .prop_map(|(op, axes, keepdims)| Op::Reduce { op, axes, keepdims }),
        prop::option::of(prop::collection::vec(perm_entry(), 0..7)).prop_map(|perm| Op::Transpose { perm }),
        any_dtype().prop_map(|to| Op::Cast { to }),
        // along one axis
        (axis(), any::<bool>(), any::<bool>(), any::<bool>()).prop_map(|(axis, keepdims, select_last_index, min)| {
            if min {
                Op::ArgMin { axis, keepdims, select_last_index }
            } else {
                Op::ArgMax { axis, keepdims, select_last_index }
            }
        }),
        axis().prop_map(|axis| Op::LogSoftmax { axis }),
        (axis(), any::<bool>(), any::<bool>()).prop_map(|(axis, exclusive, reverse)| Op::CumSum {
            axis,
            exclusive,
            reverse
        }),
        // data movement (issue 18)
        movement_op(),
        indexing_and_fused_op(),
    ]
}

/// Any indexing, KV-cache or fused op with any attribute values (zero and
/// huge head counts, rotary sizes past the head, the bool activation).
pub fn indexing_and_fused_op() -> impl Strategy<Value = Op> {
    prop_oneof![
        axis().prop_map(|axis| Op::Gather { axis }),
        axis().prop_map(|axis| Op::GatherElements { axis }),
        (axis(), any::<bool>()).prop_map(|(axis, circular)| Op::TensorScatter {
            axis,
            mode: if circular { hcal_core::ScatterMode::Circular } else { hcal_core::ScatterMode::Linear },
        }),
        (count(), count(), any::<bool>(), prop_oneof![0usize..9, select(HUGE_DIMS.to_vec())]).prop_map(
            |(q, kv, interleaved, rotary_embedding_dim)| {
                Op::SplitRotaryScatter(SplitRotaryScatter {
                    q_num_heads: q.unwrap_or(0),
                    kv_num_heads: kv.unwrap_or(0),
                    interleaved,
                    rotary_embedding_dim,
                })
            }
        ),
        select(UnaryOp::ALL.to_vec()).prop_map(|activation| Op::GatedUnary { activation }),
    ]
}

/// An i64 attribute entry: mostly small, sometimes at the ends of i64.
pub fn index_entry() -> impl Strategy<Value = i64> {
    prop_oneof![6 => -7i64..7, 1 => select(ODD_AXES.to_vec())]
}

/// Any data-movement op with any attribute values (lists of mismatched
/// lengths, zero steps, sizes that do not sum, huge shapes, NaN ranges).
pub fn movement_op() -> impl Strategy<Value = Op> {
    let list = || prop::collection::vec(index_entry(), 0..5);
    prop_oneof![
        axis().prop_map(|axis| Op::Concat { axis }),
        (list(), list(), prop::option::of(list()), prop::option::of(list()))
            .prop_map(|(starts, ends, axes, steps)| Op::Slice { starts, ends, axes, steps }),
        (axis(), prop::collection::vec(dim(), 0..4), any::<bool>(), count()).prop_map(|(axis, sizes, equal, n)| {
            let parts = if equal { SplitParts::Equal(n.unwrap_or(0).min(8)) } else { SplitParts::Sizes(sizes) };
            Op::Split { axis, parts }
        }),
        prop::collection::vec(dim(), 0..5).prop_map(|shape| Op::Expand { shape }),
        list().prop_map(|shape| Op::Reshape { shape }),
        (odd_float(), odd_float(), odd_float(), any_dtype()).prop_map(|(start, limit, delta, dtype)| Op::Range {
            start: f64::from(start),
            limit: f64::from(limit),
            delta: f64::from(delta),
            dtype
        }),
        (any::<bool>(), index_entry()).prop_map(|(upper, k)| Op::Trilu { upper, k }),
    ]
}

/// Any op on zero to seven arbitrary (or absent) inputs, any outputs requested.
pub fn arbitrary_spec() -> impl Strategy<Value = Spec> {
    (
        any_op(),
        prop::collection::vec(prop::option::weighted(0.85, desc()), 0..8),
        prop::collection::vec(any::<bool>(), 0..5),
    )
        .prop_map(|(op, inputs, outputs)| Spec { op, inputs, outputs })
}

pub fn d(shape: Vec<usize>, dtype: DType) -> Option<TensorDesc> {
    Some(TensorDesc::new(shape, dtype))
}

/// Small extents; zero only where `zero` allows it.
pub fn ext(zero: bool) -> impl Strategy<Value = usize> {
    if zero { prop_oneof![1 => Just(0usize), 6 => 1usize..5].boxed() } else { (1usize..5).boxed() }
}

pub fn shape(rank: std::ops::RangeInclusive<usize>) -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(ext(true), rank)
}

/// A shape and an axis in `-rank..rank`.
pub fn shape_and_axis(min_rank: usize) -> impl Strategy<Value = (Vec<usize>, i64)> {
    shape(min_rank..=4).prop_flat_map(|s| {
        let r = s.len() as i64;
        (Just(s), -r..r)
    })
}

/// Two shapes that broadcast: per dim of the result each side has it or 1,
/// and either side may lose leading dims.
pub fn broadcast_pair(max_rank: usize) -> impl Strategy<Value = (Vec<usize>, Vec<usize>)> {
    (prop::collection::vec((ext(true), 0u8..4), 0..=max_rank), 0..=max_rank, 0..=max_rank).prop_map(
        |(dims, drop_a, drop_b)| {
            let pick = |sel: u8, keep: u8, d: usize| if sel == keep { 1 } else { d };
            let a: Vec<usize> = dims.iter().map(|&(d, s)| pick(s, 1, d)).collect();
            let b: Vec<usize> = dims.iter().map(|&(d, s)| pick(s, 2, d)).collect();
            let (da, db) = (drop_a.min(a.len()), drop_b.min(b.len()));
            (a[da..].to_vec(), b[db..].to_vec())
        },
    )
}

/// `shape` reduced to something that broadcasts to it: leading dims dropped,
/// some dims set to 1.
pub fn broadcast_to(shape: Vec<usize>) -> impl Strategy<Value = Vec<usize>> {
    let n = shape.len();
    (0..=n, prop::collection::vec(any::<bool>(), n))
        .prop_map(move |(drop, ones)| (drop..n).map(|k| if ones[k] { 1 } else { shape[k] }).collect())
}

mod mutate;
mod valid;

pub use mutate::*;
pub use valid::*;
