//! A validated operator call: what a backend receives.

use crate::infer::resolve;
use crate::{Error, Geometry, Op, Result, Tensor, TensorDesc};

/// A validated op together with the descriptors of its inputs: the question a
/// backend answers in [`Backend::supports`](crate::Backend::supports).
///
/// The only constructor validates (hcal-core's shape, dtype and attribute
/// rules, run once), and the signature keeps what validation found: the
/// output descriptors and the resolved [`Geometry`]. So `supports` only ever
/// sees signatures that can run, and reads their geometry instead of
/// recomputing it.
///
/// ```
/// use hcal_core::{DType, Op, OpSignature, TensorDesc};
/// let a = TensorDesc::new([4, 4], DType::F16);
/// let sig = OpSignature::new(Op::MatMul, vec![Some(a.clone()), Some(a)]).unwrap();
/// assert_eq!(sig.to_string(), "MatMul(f16[4, 4], f16[4, 4])");
/// assert_eq!(sig.outputs()[0], TensorDesc::new([4, 4], DType::F16));
/// let bad = TensorDesc::new([3, 5], DType::F16);
/// assert!(OpSignature::new(Op::MatMul, vec![Some(bad.clone()), Some(bad)]).is_err());
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct OpSignature {
    op: Op,
    inputs: Vec<Option<TensorDesc>>,
    outputs: Vec<TensorDesc>,
    geometry: Geometry,
}

impl OpSignature {
    /// Validate `op` on positional input descriptors (`None` for an absent
    /// optional input; trailing optional inputs may be left out).
    ///
    /// # Errors
    /// Any shape, dtype, arity or attribute error of [`infer_outputs`](crate::infer_outputs).
    pub fn new(op: Op, inputs: Vec<Option<TensorDesc>>) -> Result<Self> {
        let refs: Vec<Option<&TensorDesc>> = inputs.iter().map(Option::as_ref).collect();
        let (outputs, geometry) = resolve(&op, &refs)?;
        Ok(Self { op, inputs, outputs, geometry })
    }

    /// The op with its attributes.
    pub fn op(&self) -> &Op {
        &self.op
    }

    /// Positional input descriptors (`None` for an absent optional input).
    pub fn inputs(&self) -> &[Option<TensorDesc>] {
        &self.inputs
    }

    /// Input `i`'s descriptor (`None` when absent or beyond the slots given).
    pub fn input(&self, i: usize) -> Option<&TensorDesc> {
        self.inputs.get(i).and_then(Option::as_ref)
    }

    /// The descriptor of every output slot (optional outputs included).
    pub fn outputs(&self) -> &[TensorDesc] {
        &self.outputs
    }

    /// The geometry hcal-core resolved while validating.
    pub fn geometry(&self) -> &Geometry {
        &self.geometry
    }

    /// The first input's dtype (the op's compute dtype for every op but
    /// Cast's target); for an op without inputs (Range), its output's dtype.
    pub fn dtype(&self) -> Option<crate::DType> {
        self.input(0).or_else(|| self.outputs.first()).map(|d| d.dtype)
    }
}

impl std::fmt::Display for OpSignature {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}(", self.op)?;
        for (i, d) in self.inputs.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            match d {
                Some(d) => write!(f, "{d}")?,
                None => f.write_str("-")?,
            }
        }
        f.write_str(")")
    }
}

/// An op call whose inputs and outputs have been checked by hcal-core.
///
/// The only constructor validates, so a [`Backend`](crate::Backend) that
/// receives a `Call` may index its tensors without re-checking shapes: input
/// arity, dtypes and shapes follow the op's rules, every required output is
/// present with exactly the inferred descriptor, and no output aliases an
/// input, except the aliases an op declares ([`Op::output_may_alias`]:
/// TensorScatter's `present_cache` may be its `past_cache`, and
/// SplitRotaryScatter's present caches their past ones, updated in place).
///
/// ```
/// use hcal_core::{Call, DType, Op, ScatterMode, Tensor, TensorDesc, TensorId};
/// let t = |id, shape: &[usize]| Tensor::from_parts(TensorId(id), TensorDesc::new(shape, DType::F32));
/// let (cache, update) = (t(1, &[1, 2, 8, 4]), t(2, &[1, 2, 1, 4]));
/// let scatter = Op::TensorScatter { axis: -2, mode: ScatterMode::Linear };
/// assert!(Call::new(&scatter, &[&cache, &update], &[&cache]).is_ok(), "in place");
/// let x = t(3, &[4]);
/// assert!(Call::new(&Op::Softmax { axis: 0 }, &[&x], &[&x]).is_err(), "no other op aliases");
/// ```
///
/// ```
/// use hcal_core::{Call, DType, Op, Tensor, TensorDesc, TensorId};
/// let t = |id, shape: &[usize]| Tensor::from_parts(TensorId(id), TensorDesc::new(shape, DType::F32));
/// let (a, b, y) = (t(1, &[2, 3]), t(2, &[3, 4]), t(3, &[2, 4]));
/// let call = Call::new(&Op::MatMul, &[&a, &b], &[&y]).unwrap();
/// assert_eq!(call.output(0).unwrap().shape(), &[2, 4]);
/// let bad = t(4, &[2, 5]);
/// assert!(Call::new(&Op::MatMul, &[&a, &b], &[&bad]).is_err());
/// ```
#[derive(Debug)]
pub struct Call<'a> {
    signature: OpSignature,
    inputs: Vec<Option<&'a Tensor>>,
    outputs: Vec<Option<&'a Tensor>>,
}

impl<'a> Call<'a> {
    /// Validate a call whose inputs and outputs are all present.
    ///
    /// # Errors
    /// As [`Call::with_optional`].
    pub fn new(op: &Op, inputs: &[&'a Tensor], outputs: &[&'a Tensor]) -> Result<Self> {
        let inputs: Vec<_> = inputs.iter().copied().map(Some).collect();
        let outputs: Vec<_> = outputs.iter().copied().map(Some).collect();
        Self::with_optional(op, &inputs, &outputs)
    }

    /// Validate a call with optional inputs/outputs (`None` slots).
    ///
    /// # Errors
    /// Any shape, dtype or attribute error of [`infer_outputs`](crate::infer_outputs);
    /// as [`Call::from_signature`] for the outputs.
    pub fn with_optional(op: &Op, inputs: &[Option<&'a Tensor>], outputs: &[Option<&'a Tensor>]) -> Result<Self> {
        let descs = inputs.iter().map(|t| t.map(|t| t.desc().clone())).collect();
        let signature = OpSignature::new(op.clone(), descs)?;
        Self::checked_outputs(signature, inputs, outputs)
    }

    /// A call from a signature validated earlier (for example to allocate
    /// the outputs from [`OpSignature::outputs`]): the shape rules are not run
    /// again; the tensors must have exactly the signature's descriptors.
    ///
    /// ```
    /// use hcal_core::{Call, DType, Op, OpSignature, Tensor, TensorDesc, TensorId};
    /// let d = TensorDesc::new([2, 2], DType::F32);
    /// let sig = OpSignature::new(Op::MatMul, vec![Some(d.clone()), Some(d.clone())]).unwrap();
    /// let (a, y) = (Tensor::from_parts(TensorId(1), d.clone()), Tensor::from_parts(TensorId(2), sig.outputs()[0].clone()));
    /// let call = Call::from_signature(sig, &[Some(&a), Some(&a)], &[Some(&y)]).unwrap();
    /// assert_eq!(call.signature().to_string(), "MatMul(f32[2, 2], f32[2, 2])");
    /// ```
    ///
    /// # Errors
    /// [`Error::Arity`] when the inputs are not the signature's (count or
    /// descriptors), an output count beyond the op's or a missing required
    /// output; [`Error::OutputMismatch`] for an output whose descriptor
    /// differs from the inferred one; [`Error::Aliasing`] for an output that
    /// is also an input (or another output), other than the alias the op
    /// declares ([`Op::output_may_alias`]).
    pub fn from_signature(
        signature: OpSignature,
        inputs: &[Option<&'a Tensor>],
        outputs: &[Option<&'a Tensor>],
    ) -> Result<Self> {
        let same = inputs.len() == signature.inputs().len()
            && inputs.iter().zip(signature.inputs()).all(|(t, d)| t.map(Tensor::desc) == d.as_ref());
        if !same {
            let got: Vec<String> = inputs.iter().map(|t| t.map_or("-".to_string(), |t| t.desc().to_string())).collect();
            return Err(Error::Arity {
                op: signature.op().name(),
                detail: format!("inputs ({}) are not those of the signature {signature}", got.join(", ")),
            });
        }
        Self::checked_outputs(signature, inputs, outputs)
    }

    fn checked_outputs(
        signature: OpSignature,
        inputs: &[Option<&'a Tensor>],
        outputs: &[Option<&'a Tensor>],
    ) -> Result<Self> {
        let op = signature.op();
        let name = op.name();
        let expected = signature.outputs();
        if outputs.len() > expected.len() {
            return Err(Error::Arity {
                op: name,
                detail: format!("has {} outputs, got {}", expected.len(), outputs.len()),
            });
        }
        for (index, want) in expected.iter().enumerate() {
            match outputs.get(index).copied().flatten() {
                None if !op.output_is_optional(index) => {
                    return Err(Error::Arity { op: name, detail: format!("output {index} ({want}) is required") });
                }
                None => {}
                Some(t) if t.desc() != want => {
                    return Err(Error::OutputMismatch {
                        op: name,
                        index,
                        got: t.desc().to_string(),
                        expected: want.to_string(),
                    });
                }
                Some(t) => {
                    let allowed = op.output_may_alias(index);
                    let aliased = |(i, input): (usize, &Option<&Tensor>)| {
                        input.map(Tensor::id) == Some(t.id()) && allowed != Some(i)
                    };
                    if let Some(input) = inputs.iter().enumerate().position(aliased) {
                        return Err(Error::Aliasing { op: name, id: t.id().0, input, output: index });
                    }
                    if let Some(other) = outputs[..index].iter().position(|o| o.map(Tensor::id) == Some(t.id())) {
                        return Err(Error::Arity {
                            op: name,
                            detail: format!("outputs {other} and {index} are the same tensor"),
                        });
                    }
                }
            }
        }
        Ok(Self { signature, inputs: inputs.to_vec(), outputs: outputs.to_vec() })
    }

    /// The op.
    pub fn op(&self) -> &Op {
        self.signature.op()
    }

    /// The geometry hcal-core resolved for this call: what backends index with.
    pub fn geometry(&self) -> &Geometry {
        self.signature.geometry()
    }

    /// Input slot `i` (`None` when absent or beyond the slots given).
    pub fn input(&self, i: usize) -> Option<&'a Tensor> {
        self.inputs.get(i).copied().flatten()
    }

    /// Output slot `i` (`None` when the caller did not ask for it).
    pub fn output(&self, i: usize) -> Option<&'a Tensor> {
        self.outputs.get(i).copied().flatten()
    }

    /// All input slots.
    pub fn inputs(&self) -> &[Option<&'a Tensor>] {
        &self.inputs
    }

    /// All output slots.
    pub fn outputs(&self) -> &[Option<&'a Tensor>] {
        &self.outputs
    }

    /// The validated signature (op, input descriptors, geometry), for a capability query.
    pub fn signature(&self) -> &OpSignature {
        &self.signature
    }
}
