//! A conformance case: an op, how to make its inputs, and which outputs to check.

use hcal_core::{DType, Op, OpSignature, TensorDesc};
use serde::{Deserialize, Serialize};

use crate::generate::Gen;

/// One input slot of a case.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Input {
    /// Shape and dtype.
    pub desc: TensorDesc,
    /// Value generator.
    pub generator: Gen,
}

impl Input {
    /// An input of `shape` and `dtype` filled by `generator`.
    pub fn new(shape: impl Into<Vec<usize>>, dtype: DType, generator: Gen) -> Self {
        Self { desc: TensorDesc::new(shape, dtype), generator }
    }
}

/// A case as data: the op, its inputs (positional, `None` = absent optional
/// input), the output slots checked, and the seed of its generators.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Case {
    /// Unique name: `Op/dtype/what`.
    pub name: String,
    /// The op under test.
    pub op: Op,
    /// Input slots.
    pub inputs: Vec<Option<Input>>,
    /// Which output slots are requested (optional outputs may be `false`).
    pub outputs: Vec<bool>,
    /// Seed of the input generators.
    pub seed: u64,
    /// Part of the `--quick` subset.
    pub quick: bool,
}

impl Case {
    /// A case with every input present and every output requested.
    pub fn new(name: impl Into<String>, op: Op, inputs: Vec<Input>) -> Self {
        let outputs = vec![true; op.output_arity()];
        Self { name: name.into(), op, inputs: inputs.into_iter().map(Some).collect(), outputs, seed: 0, quick: true }
    }

    /// Replace the input slots (for optional inputs).
    pub fn with_optional_inputs(mut self, inputs: Vec<Option<Input>>) -> Self {
        self.inputs = inputs;
        self
    }

    /// Choose which output slots are requested.
    pub fn with_outputs(mut self, outputs: Vec<bool>) -> Self {
        self.outputs = outputs;
        self
    }

    /// Leave the case out of `--quick` runs.
    pub fn slow(mut self) -> Self {
        self.quick = false;
        self
    }

    /// The op name (`MatMul`).
    pub fn op_name(&self) -> &'static str {
        self.op.name()
    }

    /// The dtype of the first input (the case's compute dtype).
    pub fn dtype(&self) -> DType {
        let first = self.inputs.iter().flatten().next().map(|i| i.desc.dtype);
        first.unwrap_or(match self.op {
            // An op without inputs makes values of its own dtype.
            Op::Range { dtype, .. } => dtype,
            _ => DType::F32,
        })
    }

    /// The capability question this case asks, validated by hcal-core.
    ///
    /// # Errors
    /// hcal-core's validation error: the case table has a bug.
    pub fn signature(&self) -> hcal_core::Result<OpSignature> {
        OpSignature::new(self.op.clone(), self.inputs.iter().map(|i| i.as_ref().map(|i| i.desc.clone())).collect())
    }
}
