//! A validated operator call: what a backend receives.

use serde::{Deserialize, Serialize};

use crate::{Error, Op, Result, Tensor, TensorDesc, infer_outputs};

/// An op together with the descriptors of its inputs: the question a backend
/// answers in [`Backend::supports`](crate::Backend::supports).
///
/// ```
/// use hcal_core::{DType, Op, OpSignature, TensorDesc};
/// let a = TensorDesc::new([4, 4], DType::F16);
/// let sig = OpSignature::new(Op::MatMul, vec![Some(a.clone()), Some(a)]);
/// assert_eq!(sig.to_string(), "MatMul(f16[4, 4], f16[4, 4])");
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OpSignature {
    /// The op with its attributes.
    pub op: Op,
    /// Positional input descriptors (`None` for an absent optional input).
    pub inputs: Vec<Option<TensorDesc>>,
}

impl OpSignature {
    /// A signature from parts.
    pub fn new(op: Op, inputs: Vec<Option<TensorDesc>>) -> Self {
        Self { op, inputs }
    }

    /// The first input's dtype (the op's compute dtype for every op but Cast's target).
    pub fn dtype(&self) -> Option<crate::DType> {
        self.inputs.first().and_then(|d| d.as_ref()).map(|d| d.dtype)
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
/// present with exactly the inferred descriptor, and no output aliases an input.
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
    op: &'a Op,
    inputs: Vec<Option<&'a Tensor>>,
    outputs: Vec<Option<&'a Tensor>>,
}

impl<'a> Call<'a> {
    /// Validate a call whose inputs and outputs are all present.
    ///
    /// # Errors
    /// As [`Call::with_optional`].
    pub fn new(op: &'a Op, inputs: &[&'a Tensor], outputs: &[&'a Tensor]) -> Result<Self> {
        let inputs: Vec<_> = inputs.iter().copied().map(Some).collect();
        let outputs: Vec<_> = outputs.iter().copied().map(Some).collect();
        Self::with_optional(op, &inputs, &outputs)
    }

    /// Validate a call with optional inputs/outputs (`None` slots).
    ///
    /// # Errors
    /// Any shape, dtype or attribute error of [`infer_outputs`]; an output count
    /// beyond the op's, a missing required output, an output whose descriptor
    /// differs from the inferred one, or an output aliasing an input.
    pub fn with_optional(op: &'a Op, inputs: &[Option<&'a Tensor>], outputs: &[Option<&'a Tensor>]) -> Result<Self> {
        let descs: Vec<Option<&TensorDesc>> = inputs.iter().map(|t| t.map(Tensor::desc)).collect();
        let expected = infer_outputs(op, &descs)?;
        let name = op.name();
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
                    if let Some(input) = inputs.iter().position(|i| i.map(Tensor::id) == Some(t.id())) {
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
        Ok(Self { op, inputs: inputs.to_vec(), outputs: outputs.to_vec() })
    }

    /// The op.
    pub fn op(&self) -> &'a Op {
        self.op
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

    /// The signature (op + input descriptors) for a capability query.
    pub fn signature(&self) -> OpSignature {
        OpSignature::new(self.op.clone(), self.inputs.iter().map(|t| t.map(|t| t.desc().clone())).collect())
    }
}
