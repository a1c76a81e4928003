"""Write the ONNX node test cases of the installed onnx package to a folder.

onnx 1.19 and later no longer ship onnx/backend/test/data/node; their node
cases are generated in memory by onnx.backend.test.loader.load_model_tests.
This script writes them in the layout the wheel used to ship, the layout
hcal-onnx reads:

    OUT/<case>/model.onnx
    OUT/<case>/test_data_set_<i>/input_<j>.pb, output_<j>.pb

and, last, OUT/hcal-export.json naming the onnx version and opset. Progress
goes to stdout as "<done> <total> <case>" lines. hcal-onnx embeds this file
and runs it as `python3 - OUT`; OUT must not exist yet (the caller writes to
a temporary folder and renames it).

Usage: python3 export_node_cases.py OUT
"""

import json
import os
import sys
import warnings


def serialize(value, type_proto, name, numpy_helper, TensorProto):
    """One input or output as the protobuf the wheel's data files held
    (as onnx.backend.test.cmd_tools generate-data writes them)."""
    if type_proto.HasField("map_type"):
        return numpy_helper.from_dict(value, name).SerializeToString()
    if type_proto.HasField("sequence_type"):
        return numpy_helper.from_list(value, name).SerializeToString()
    if type_proto.HasField("optional_type"):
        return numpy_helper.from_optional(value, name).SerializeToString()
    if isinstance(value, TensorProto):
        return value.SerializeToString()
    return numpy_helper.from_array(value, name).SerializeToString()


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: export_node_cases.py OUT")
    out = sys.argv[1]
    import onnx
    import onnx.defs
    from onnx import TensorProto, numpy_helper
    from onnx.backend.test.loader import load_model_tests

    # The case generators warn about deliberate overflows (Cast to float8 and the like).
    warnings.simplefilter("ignore")
    print("0 0 generating the node cases (onnx.backend.test.loader)", flush=True)
    cases = load_model_tests(kind="node")
    os.makedirs(out)
    total = len(cases)
    for done, case in enumerate(cases, 1):
        case_dir = os.path.join(out, case.name)
        os.makedirs(case_dir)
        with open(os.path.join(case_dir, "model.onnx"), "wb") as f:
            f.write(case.model.SerializeToString())
        graph = case.model.graph
        for i, (inputs, outputs) in enumerate(case.data_sets):
            set_dir = os.path.join(case_dir, f"test_data_set_{i}")
            os.makedirs(set_dir)
            for kind, values, protos in (("input", inputs, graph.input), ("output", outputs, graph.output)):
                for j, value in enumerate(values):
                    data = serialize(value, protos[j].type, protos[j].name, numpy_helper, TensorProto)
                    with open(os.path.join(set_dir, f"{kind}_{j}.pb"), "wb") as f:
                        f.write(data)
        print(f"{done} {total} {case.name}", flush=True)
    manifest = {
        "onnx_version": onnx.__version__,
        "opset": onnx.defs.onnx_opset_version(),
        "cases": total,
        "generator": "onnx.backend.test.loader.load_model_tests(kind='node')",
    }
    with open(os.path.join(out, "hcal-export.json"), "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
