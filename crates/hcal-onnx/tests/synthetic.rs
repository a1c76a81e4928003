//! Case folders written by the test itself (no corpus needed): a valid case
//! passes, a wrong expected output fails, and a malformed `model.onnx` or a
//! truncated `.pb` is an error naming the file.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use hcal_conformance::Verdict;
use hcal_onnx::proto::{
    AttributeProto, GraphProto, ModelProto, NodeProto, OperatorSetIdProto, TensorProto, TypeProto, TypeProtoTensor,
    ValueInfoProto, attribute_type, data_type,
};
use hcal_onnx::{Error, Options, model, run};
use prost::Message;

/// A fresh empty folder under the system temp dir.
fn scratch(tag: &str) -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "hcal-onnx-{tag}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn value(name: &str, dims: &[i64]) -> ValueInfoProto {
    let shape = hcal_onnx::proto::TensorShapeProto {
        dim: dims.iter().map(|&d| hcal_onnx::proto::Dimension { dim_value: Some(d), dim_param: None }).collect(),
    };
    ValueInfoProto {
        name: name.into(),
        r#type: Some(TypeProto {
            tensor_type: Some(TypeProtoTensor { elem_type: data_type::FLOAT, shape: Some(shape) }),
        }),
    }
}

fn floats(name: &str, dims: &[i64], values: &[f32]) -> TensorProto {
    TensorProto {
        name: name.into(),
        dims: dims.to_vec(),
        data_type: data_type::FLOAT,
        raw_data: values.iter().flat_map(|v| v.to_le_bytes()).collect(),
        ..Default::default()
    }
}

/// `case_dir/model.onnx` with a single `op` node `(x, y?) -> z` and one data set.
fn write_case(dir: &Path, op: &str, inputs: &[(&str, &[i64], &[f32])], output: (&[i64], &[f32])) {
    let node = NodeProto {
        op_type: op.into(),
        input: inputs.iter().map(|(n, _, _)| n.to_string()).collect(),
        output: vec!["z".into()],
        attribute: if op == "Softmax" {
            vec![AttributeProto { name: "axis".into(), i: 0, r#type: attribute_type::INT, ..Default::default() }]
        } else {
            Vec::new()
        },
        ..Default::default()
    };
    let model = ModelProto {
        ir_version: 10,
        producer_name: "hcal-onnx tests".into(),
        graph: Some(GraphProto {
            node: vec![node],
            name: "g".into(),
            input: inputs.iter().map(|(n, d, _)| value(n, d)).collect(),
            output: vec![value("z", output.0)],
            ..Default::default()
        }),
        opset_import: vec![OperatorSetIdProto { domain: String::new(), version: 23 }],
    };
    std::fs::create_dir_all(dir.join("test_data_set_0")).unwrap();
    std::fs::write(dir.join("model.onnx"), model.encode_to_vec()).unwrap();
    for (k, (n, d, v)) in inputs.iter().enumerate() {
        std::fs::write(dir.join(format!("test_data_set_0/input_{k}.pb")), floats(n, d, v).encode_to_vec()).unwrap();
    }
    std::fs::write(dir.join("test_data_set_0/output_0.pb"), floats("z", output.0, output.1).encode_to_vec()).unwrap();
}

fn cpu() -> hcal_cpu::CpuBackend {
    hcal_cpu::CpuBackend::new()
}

#[test]
fn a_valid_case_passes_and_a_wrong_expectation_fails() {
    let root = scratch("valid");
    write_case(
        &root.join("test_add_ok"),
        "Add",
        &[("x", &[3], &[1., 2., 3.]), ("y", &[1], &[0.5])],
        (&[3], &[1.5, 2.5, 3.5]),
    );
    write_case(
        &root.join("test_add_wrong"),
        "Add",
        &[("x", &[3], &[1., 2., 3.]), ("y", &[1], &[0.5])],
        (&[3], &[1.5, 2.5, 3.6]),
    );
    write_case(&root.join("test_softmax_axis0"), "Softmax", &[("x", &[2], &[0., 0.])], (&[2], &[0.5, 0.5]));
    let report = run(&cpu(), &root, &Options::default(), &mut |_, _, _| {}).unwrap();
    let verdict = |name: &str| report.cases.iter().find(|c| c.result.name == name).unwrap();
    assert_eq!(verdict("test_add_ok").result.verdict, Verdict::Pass);
    assert_eq!(verdict("test_softmax_axis0").result.verdict, Verdict::Pass);
    let wrong = verdict("test_add_wrong");
    assert_eq!(wrong.result.verdict, Verdict::Fail);
    assert!(wrong.result.detail.contains("disagrees with hcal's reference"), "{}", wrong.result.detail);
    assert!(!wrong.onnx_default.unwrap().pass);
    assert_eq!((report.summary.total, report.summary.passed, report.summary.failed), (3, 2, 1));
    // The same JSON shape as the built-in suite's summary.
    let json: serde_json::Value = serde_json::from_str(&report.to_json()).unwrap();
    assert_eq!(json["kind"], "onnx-conformance");
    for key in ["total", "passed", "failed", "skipped"] {
        assert!(json["summary"][key].is_u64(), "summary.{key}");
    }
    // One case folder can be run on its own.
    let one = run(&cpu(), &root.join("test_add_ok"), &Options::default(), &mut |_, _, _| {}).unwrap();
    assert_eq!(one.summary.total, 1);
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn unknown_ops_are_skipped_with_a_reason() {
    let root = scratch("unknown");
    write_case(&root.join("test_conv_like"), "Conv", &[("x", &[1], &[1.])], (&[1], &[1.]));
    let report = run(&cpu(), &root, &Options::default(), &mut |_, _, _| {}).unwrap();
    assert_eq!(report.cases[0].result.verdict, Verdict::Unsupported);
    assert_eq!(report.cases[0].result.detail, "op Conv is not in the hcal standard");
    assert_eq!(report.summary.skipped, 1);
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn a_malformed_model_is_an_error_naming_the_file() {
    let root = scratch("malformed");
    let case = root.join("test_broken");
    std::fs::create_dir_all(&case).unwrap();
    std::fs::write(case.join("model.onnx"), b"\x0a\xff\xff\xff\xff\x0fnot a protobuf").unwrap();
    let err = model::load_case(&case).unwrap_err();
    assert!(matches!(err, Error::Malformed { .. }));
    let message = err.to_string();
    assert!(message.contains("malformed ONNX file") && message.contains("test_broken/model.onnx"), "{message}");
    // In a run the case fails with that message and the run goes on.
    write_case(&root.join("test_relu_ok"), "Relu", &[("x", &[2], &[-1., 2.])], (&[2], &[0., 2.]));
    let report = run(&cpu(), &root, &Options::default(), &mut |_, _, _| {}).unwrap();
    let broken = report.cases.iter().find(|c| c.result.name == "test_broken").unwrap();
    assert_eq!(broken.result.verdict, Verdict::Fail);
    assert!(broken.result.detail.contains("test_broken/model.onnx"), "{}", broken.result.detail);
    assert_eq!(report.summary.passed, 1);
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn a_truncated_tensor_file_is_an_error_naming_the_file() {
    let root = scratch("truncated");
    let case = root.join("test_relu_truncated");
    write_case(&case, "Relu", &[("x", &[4], &[-1., 2., -3., 4.])], (&[4], &[0., 2., 0., 4.]));
    let pb = case.join("test_data_set_0/input_0.pb");
    let bytes = std::fs::read(&pb).unwrap();
    std::fs::write(&pb, &bytes[..bytes.len() - 5]).unwrap();
    let err = model::load_tensor(&pb, None).unwrap_err();
    let message = err.to_string();
    assert!(message.contains("malformed ONNX file") && message.contains("test_data_set_0/input_0.pb"), "{message}");
    let report = run(&cpu(), &case, &Options::default(), &mut |_, _, _| {}).unwrap();
    assert_eq!(report.cases[0].result.verdict, Verdict::Fail);
    assert!(report.cases[0].result.detail.contains("input_0.pb"), "{}", report.cases[0].result.detail);
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn a_folder_without_cases_is_an_error() {
    let root = scratch("empty");
    let err = run(&cpu(), &root, &Options::default(), &mut |_, _, _| {}).unwrap_err();
    assert!(matches!(err, Error::NoCases { .. }) && err.to_string().contains("no ONNX test case"), "{err}");
    let missing = root.join("does-not-exist");
    assert!(
        run(&cpu(), &missing, &Options::default(), &mut |_, _, _| {})
            .unwrap_err()
            .to_string()
            .contains("does-not-exist")
    );
    let _ = std::fs::remove_dir_all(&root);
}
