"""Writes tests/data/attention_f16_gqa_causal/: one ONNX node-test case folder
(an f16 causal GQA Attention, opset 23) whose expected output is computed by
onnx's reference implementation (onnx.reference.ReferenceEvaluator), which
computes f16 cases in f16 arithmetic. Made with onnx 1.23.2, numpy 2.4:

    python3 -m venv /tmp/v && /tmp/v/bin/pip install onnx==1.23.2
    /tmp/v/bin/python make_attention_f16_gqa_causal.py
"""

import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from onnx.reference import ReferenceEvaluator

B, HQ, HKV, S, D = 1, 4, 2, 12, 32
rng = np.random.default_rng(17)
q = (rng.standard_normal((B, HQ, S, D)) * 1.5).astype(np.float16)
k = (rng.standard_normal((B, HKV, S, D)) * 1.5).astype(np.float16)
v = rng.standard_normal((B, HKV, S, D)).astype(np.float16)

node = helper.make_node("Attention", ["Q", "K", "V"], ["Y"], is_causal=1)
f16 = TensorProto.FLOAT16
graph = helper.make_graph(
    [node],
    "attention_f16_gqa_causal",
    [
        helper.make_tensor_value_info("Q", f16, list(q.shape)),
        helper.make_tensor_value_info("K", f16, list(k.shape)),
        helper.make_tensor_value_info("V", f16, list(v.shape)),
    ],
    [helper.make_tensor_value_info("Y", f16, [B, HQ, S, D])],
)
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 23)])
(y,) = ReferenceEvaluator(model).run(None, {"Q": q, "K": k, "V": v})
assert y.dtype == np.float16

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "attention_f16_gqa_causal")
os.makedirs(os.path.join(out, "test_data_set_0"), exist_ok=True)
with open(os.path.join(out, "model.onnx"), "wb") as f:
    f.write(model.SerializeToString())
for kind, values in (("input", [q, k, v]), ("output", [y])):
    for j, value in enumerate(values):
        with open(os.path.join(out, "test_data_set_0", f"{kind}_{j}.pb"), "wb") as f:
            f.write(numpy_helper.from_array(value).SerializeToString())

# How far the f16 reference lands from the exact result (f64 from the same f16 inputs).
exact = ReferenceEvaluator(model).run(
    None, {"Q": q.astype(np.float64), "K": k.astype(np.float64), "V": v.astype(np.float64)}
)[0]
print("onnx", onnx.__version__, "max |f16 reference - exact| =", np.abs(y.astype(np.float64) - exact).max())
