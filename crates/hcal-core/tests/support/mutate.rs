//! Mutations of valid calls: the inputs that sit next to the rules.

use hcal_core::{DType, Op, UnaryOp};
use proptest::prelude::*;
use proptest::sample::Index;

use super::*;

/// One change to a call.
#[derive(Clone, Debug)]
pub enum Mutation {
    /// Set a dim of an input to this value.
    SetDim(Index, Index, usize),
    /// Add a dim to an input.
    PushDim(Index, usize),
    /// Remove the last dim of an input.
    PopDim(Index),
    /// Change an input's dtype.
    SetDType(Index, DType),
    /// Remove an input slot (optional or not).
    DropInput(Index),
    /// Append an input.
    AddInput(TensorDesc),
    /// Make the op's attributes odd.
    OddAttributes(f32, i64, Option<usize>, Vec<usize>),
    /// Flip which outputs are requested.
    Outputs(Vec<bool>),
}

pub fn mutation() -> impl Strategy<Value = Mutation> {
    let wild = prop_oneof![Just(0usize), Just(1usize), 2usize..9, select(HUGE_DIMS.to_vec())];
    prop_oneof![
        4 => (any::<Index>(), any::<Index>(), wild.clone()).prop_map(|(i, k, v)| Mutation::SetDim(i, k, v)),
        1 => (any::<Index>(), wild).prop_map(|(i, v)| Mutation::PushDim(i, v)),
        1 => any::<Index>().prop_map(Mutation::PopDim),
        2 => (any::<Index>(), any_dtype()).prop_map(|(i, t)| Mutation::SetDType(i, t)),
        1 => any::<Index>().prop_map(Mutation::DropInput),
        1 => desc().prop_map(Mutation::AddInput),
        2 => (odd_float(), axis(), count(), prop::collection::vec(perm_entry(), 0..6))
            .prop_map(|(f, a, c, p)| Mutation::OddAttributes(f, a, c, p)),
        1 => prop::collection::vec(any::<bool>(), 0..5).prop_map(Mutation::Outputs),
    ]
}

/// Apply `m` to `spec`.
pub fn mutate(spec: &mut Spec, m: &Mutation) {
    let n = spec.inputs.len();
    let slot = |i: &Index| if n == 0 { None } else { Some(i.index(n)) };
    match m {
        Mutation::SetDim(i, k, v) => {
            if let Some(Some(t)) = slot(i).map(|i| &mut spec.inputs[i])
                && !t.shape.is_empty()
            {
                let k = k.index(t.shape.len());
                t.shape[k] = *v;
            }
        }
        Mutation::PushDim(i, v) => {
            if let Some(Some(t)) = slot(i).map(|i| &mut spec.inputs[i]) {
                t.shape.push(*v);
            }
        }
        Mutation::PopDim(i) => {
            if let Some(Some(t)) = slot(i).map(|i| &mut spec.inputs[i]) {
                t.shape.pop();
            }
        }
        Mutation::SetDType(i, dt) => {
            if let Some(Some(t)) = slot(i).map(|i| &mut spec.inputs[i]) {
                t.dtype = *dt;
            }
        }
        Mutation::DropInput(i) => {
            if let Some(i) = slot(i) {
                spec.inputs[i] = None;
            }
        }
        Mutation::AddInput(t) => spec.inputs.push(Some(t.clone())),
        Mutation::OddAttributes(f, a, c, p) => match &mut spec.op {
            Op::Gemm(g) => (g.alpha, g.beta) = (*f, -*f),
            Op::Softmax { axis } => *axis = *a,
            Op::LayerNormalization { axis, epsilon } | Op::RmsNormalization { axis, epsilon } => {
                (*axis, *epsilon) = (*a, *f)
            }
            Op::Attention(attrs) => {
                attrs.q_num_heads = *c;
                attrs.kv_num_heads = c.map(|c| c.wrapping_add(p.len()) % 3);
                attrs.scale = Some(*f);
                attrs.softcap = -*f;
            }
            Op::RotaryEmbedding(r) => {
                r.num_heads = *c;
                r.rotary_embedding_dim = p.first().copied().unwrap_or(0);
            }
            Op::Reduce { axes, .. } => *axes = Some(vec![*a, *a]),
            Op::Transpose { perm } => *perm = Some(p.clone()),
            Op::Cast { to } => *to = DType::ALL[p.len() % DType::ALL.len()],
            Op::ArgMax { axis, .. } | Op::ArgMin { axis, .. } | Op::LogSoftmax { axis } | Op::CumSum { axis, .. } => {
                *axis = *a
            }
            // data movement (issue 18)
            Op::Concat { axis } | Op::Split { axis, .. } => *axis = *a,
            Op::Slice { steps, axes, .. } => (*steps, *axes) = (Some(vec![0]), Some(vec![*a, *a])),
            Op::Expand { shape } => *shape = p.clone(),
            Op::Reshape { shape } => *shape = p.iter().map(|&v| v as i64).chain([-1, -1]).collect(),
            Op::Range { delta, limit, .. } => (*delta, *limit) = (f64::from(*f), f64::from(-*f)),
            Op::Trilu { k, .. } => *k = *a,
            Op::LeakyRelu { alpha } => *alpha = *f,
            Op::HardSigmoid { alpha, beta } => (*alpha, *beta) = (*f, -*f),
            Op::Clip | Op::Where => {}
            Op::MatMul | Op::Gelu { .. } | Op::Unary(_) | Op::Binary(_) => {}
            Op::GatedUnary { activation } => *activation = UnaryOp::ALL[p.len() % UnaryOp::ALL.len()],
            Op::RmsNormGemm(attrs) => (attrs.epsilon, attrs.alpha, attrs.beta) = (*f, -*f, *f),
            // Indexing and KV caches.
            Op::Gather { axis } | Op::GatherElements { axis } | Op::TensorScatter { axis, .. } => *axis = *a,
            Op::SplitRotaryScatter(attrs) => {
                attrs.q_num_heads = c.unwrap_or(0);
                attrs.kv_num_heads = p.len();
                attrs.rotary_embedding_dim = p.first().copied().unwrap_or(0);
            }
        },
        Mutation::Outputs(o) => spec.outputs = o.clone(),
    }
}

/// A valid call with one to three mutations applied.
pub fn mutated_spec() -> impl Strategy<Value = Spec> {
    (valid_spec(), prop::collection::vec(mutation(), 1..=3)).prop_map(|(mut spec, ms)| {
        for m in &ms {
            mutate(&mut spec, m);
        }
        spec
    })
}
