"""Writes tests/data/dequantize_linear_*_block32/: ONNX node-test case folders
for blocked DequantizeLinear (opset 21, block_size 32 along the last axis),
the form that maps onto hcal's GGML block dtypes, with expected outputs from
onnx's reference implementation (onnx.reference.ReferenceEvaluator). Made
with onnx 1.23.2, numpy 2.4:

    python3 -m venv /tmp/v && /tmp/v/bin/pip install onnx==1.23.2
    /tmp/v/bin/python make_dequantize_linear_blocked.py

Scales are f16 values (GGML blocks hold f16 scales; in the f32 cases they are
stored as f32), and the uint4 zero points times the scales are f16 values too,
so every case is exactly a Q4_0, Q4_1 or Q8_0 tensor.
"""

import os

import numpy as np
from onnx import TensorProto, helper, numpy_helper
from onnx.reference import ReferenceEvaluator

N, K = 5, 96
rng = np.random.default_rng(21)


def scales(dtype):
    # Integers 1..127 times 2^-9 (7-bit significands): f16 values whose
    # products with 4-bit zero points are f16 values as well; some negative.
    s = rng.integers(1, 128, size=(N, K // 32)) * rng.choice([-1.0, 1.0], size=(N, K // 32)) / 512.0
    return s.astype(dtype)


def case(name, x, x_type, scale, zero=None):
    elem = TensorProto.FLOAT if scale.dtype == np.float32 else TensorProto.FLOAT16
    inputs = ["x", "x_scale"] + (["x_zero_point"] if zero is not None else [])
    node = helper.make_node("DequantizeLinear", inputs, ["y"], axis=1, block_size=32)
    graph_inputs = [
        helper.make_tensor_value_info("x", x_type, [N, K]),
        helper.make_tensor_value_info("x_scale", elem, [N, K // 32]),
    ]
    if zero is not None:
        graph_inputs.append(helper.make_tensor_value_info("x_zero_point", x_type, [N, K // 32]))
    graph = helper.make_graph([node], name, graph_inputs, [helper.make_tensor_value_info("y", elem, [N, K])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 21)])
    feeds = {"x": x, "x_scale": scale}
    if zero is not None:
        feeds["x_zero_point"] = zero
    (y,) = ReferenceEvaluator(model).run(None, feeds)
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), name)
    os.makedirs(os.path.join(out, "test_data_set_0"), exist_ok=True)
    with open(os.path.join(out, "model.onnx"), "wb") as f:
        f.write(model.SerializeToString())
    tensors = [numpy_helper.from_array(x, "x"), numpy_helper.from_array(scale, "x_scale")]
    if zero is not None:
        tensors.append(numpy_helper.from_array(zero, "x_zero_point"))
    for kind, values in (("input", tensors), ("output", [numpy_helper.from_array(y, "y")])):
        for j, t in enumerate(values):
            with open(os.path.join(out, "test_data_set_0", f"{kind}_{j}.pb"), "wb") as f:
                f.write(t.SerializeToString())
    print(name, y.dtype, y.shape, "max |y| =", float(np.abs(y.astype(np.float64)).max()))


import ml_dtypes  # noqa: E402  (onnx's dependency: int4 / uint4 numpy types)

# uint4 with zero points 0..15 (Q4_1, m = -zero * scale), f32 scales.
case(
    "dequantize_linear_uint4_block32",
    rng.integers(0, 16, size=(N, K)).astype(ml_dtypes.uint4),
    TensorProto.UINT4,
    scales(np.float32),
    rng.integers(0, 16, size=(N, K // 32)).astype(ml_dtypes.uint4),
)
# int4 without zero points (Q4_0, q = x + 8), f16 scales and output.
case(
    "dequantize_linear_int4_block32",
    rng.integers(-8, 8, size=(N, K)).astype(ml_dtypes.int4),
    TensorProto.INT4,
    scales(np.float16),
)
# int8 with zero points of 0 (Q8_0), f32 scales.
case(
    "dequantize_linear_int8_block32",
    rng.integers(-128, 128, size=(N, K)).astype(np.int8),
    TensorProto.INT8,
    scales(np.float32),
    np.zeros((N, K // 32), dtype=np.int8),
)
