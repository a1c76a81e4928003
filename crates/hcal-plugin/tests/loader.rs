//! The loader's refusals and the backend's plumbing, on the C test plugins
//! built by build.rs.

mod common;

use std::path::Path;
use std::sync::Arc;

use hcal_core::{Backend, BackendExt, DType, DeviceType, Error, Op, OpSignature, Support, TensorDesc, UnaryOp};
use hcal_plugin::test_plugins;

fn reference(test: &str) -> Option<&'static Path> {
    common::plugin(test, test_plugins::reference(), "reference (cref)")
}

fn f32s(bytes: &[u8]) -> Vec<f32> {
    bytes.chunks_exact(4).map(|c| f32::from_le_bytes(c.try_into().unwrap())).collect()
}

#[test]
fn abi_2_plugin_is_refused_naming_both_versions() {
    let Some(path) = common::plugin("abi2", test_plugins::abi2(), "ABI-2") else { return };
    let err = hcal_plugin::open(path, "").unwrap_err();
    let text = err.to_string();
    eprintln!("{text}");
    assert!(matches!(err, Error::Plugin { .. }), "{err:?}");
    assert!(text.contains("ABI 2") && text.contains("ABI 1"), "{text}");
    assert!(text.contains(&path.display().to_string()), "{text}");
    assert!(text.contains("crates/hcal-plugin/include/hcal_plugin.h"), "{text}");
    assert!(!text.contains('\n'), "one line: {text}");
    // Listing refuses it the same way.
    assert_eq!(hcal_plugin::plugin_name(path).unwrap_err(), err);
}

#[test]
fn missing_file_is_a_clear_error() {
    let path = Path::new("/nonexistent/dir/libhcal_nothing.so");
    let err = hcal_plugin::open(path, "").unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, Error::Plugin { .. }), "{err:?}");
    assert!(text.contains("/nonexistent/dir/libhcal_nothing.so") && text.contains("no such file"), "{text}");
}

#[test]
fn a_file_that_is_not_a_library_is_a_clear_error() {
    let path = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/include/hcal_plugin.h"));
    let text = hcal_plugin::open(path, "").unwrap_err().to_string();
    assert!(text.contains("hcal_plugin.h") && text.contains("cannot load it as a shared library"), "{text}");
}

#[test]
fn library_without_the_entry_point_is_refused() {
    let Some(path) = common::plugin("nosymbol", test_plugins::no_symbol(), "no-symbol") else { return };
    let text = hcal_plugin::plugin_name(path).unwrap_err().to_string();
    assert!(text.contains("does not export hcal_plugin_get_api"), "{text}");
    assert!(text.contains(&path.display().to_string()), "{text}");
}

#[test]
fn name_and_device_info() {
    let Some(path) = reference("name_and_device_info") else { return };
    assert_eq!(hcal_plugin::plugin_name(path).unwrap(), "cref");
    let backend = hcal_plugin::open(path, "").unwrap();
    let info = backend.info();
    assert_eq!(info.backend, "cref");
    assert_eq!(info.api, "plugin");
    assert_eq!(info.name, "cref host device");
    assert_eq!(info.vendor, "hcal tests");
    assert!(info.driver.starts_with("cref 1.0"), "{}", info.driver);
    assert_eq!(info.device_type, DeviceType::Cpu);
    assert!(info.limits.is_empty() && info.features.is_empty());
    assert!(info.notes.iter().any(|n| n.contains(&path.display().to_string())), "{:?}", info.notes);
    assert_eq!(backend.abi_version(), (1, hcal_plugin::abi::HCAL_PLUGIN_ABI_MINOR), "built against this header");
    assert_eq!(backend.path(), path);
    assert!(backend.instruments().is_none());
}

#[test]
fn failed_create_reports_the_plugins_message() {
    let Some(path) = reference("failed_create") else { return };
    let text = hcal_plugin::open(path, "fail").unwrap_err().to_string();
    assert!(text.contains("cannot open a device") && text.contains("asked to fail"), "{text}");
    let text = hcal_plugin::open(path, "a\0b").unwrap_err().to_string();
    assert!(text.contains("NUL"), "{text}");
}

#[test]
fn runs_ops_and_checks_tensors() {
    let Some(path) = reference("runs_ops") else { return };
    let backend = hcal_plugin::open(path, "").unwrap();
    let d = TensorDesc::new([2, 2], DType::F32);
    let (a, y) = (backend.alloc(&d).unwrap(), backend.alloc(&d).unwrap());
    backend.write(&a, bytemuck::cast_slice(&[1f32, 2., 3., 4.])).unwrap();
    backend.run(&Op::MatMul, &[&a, &a], &[&y]).unwrap();
    backend.sync().unwrap();
    assert_eq!(f32s(&backend.read(&y).unwrap()), [7., 10., 15., 22.]);

    // Byte lengths are checked before the plugin sees them.
    let err = backend.write(&a, &[0u8; 3]).unwrap_err();
    assert!(matches!(err, Error::ByteLength { expected: 16, got: 3, .. }), "{err}");

    // A declined op is Unsupported with the plugin's reason, in both places.
    let sig = OpSignature::new(Op::Unary(UnaryOp::Sqrt), vec![Some(d.clone())]).unwrap();
    let Support::Unsupported(reason) = backend.supports(&sig) else { panic!("Sqrt is declined") };
    assert!(reason.contains("Sqrt"), "{reason}");
    let err = backend.run(&Op::Unary(UnaryOp::Sqrt), &[&a], &[&y]).unwrap_err();
    assert!(matches!(err, Error::Unsupported { .. }) && err.to_string().contains("Sqrt"), "{err}");
    let h = TensorDesc::new([2, 2], DType::F16);
    let sig = OpSignature::new(Op::MatMul, vec![Some(h.clone()), Some(h)]).unwrap();
    let Support::Unsupported(reason) = backend.supports(&sig) else { panic!("f16 is declined") };
    assert!(reason.contains("f32 only") && reason.contains("f16"), "{reason}");

    // Freed handles are invalid afterwards; the rest is freed by destroy on drop.
    backend.free(&a).unwrap();
    assert!(matches!(backend.free(&a).unwrap_err(), Error::InvalidTensor { .. }));
    assert!(matches!(backend.read(&a).unwrap_err(), Error::InvalidTensor { .. }));
}

#[test]
fn backend_is_shared_across_threads() {
    let Some(path) = reference("threads") else { return };
    let backend = Arc::new(hcal_plugin::open(path, "").unwrap());
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let backend = Arc::clone(&backend);
            std::thread::spawn(move || {
                let d = TensorDesc::new([64], DType::F32);
                for i in 0..50 {
                    let (x, y) = (backend.alloc(&d).unwrap(), backend.alloc(&d).unwrap());
                    let v = (t * 1000 + i) as f32;
                    backend.write(&x, bytemuck::cast_slice(&[v; 64])).unwrap();
                    backend.run(&Op::Unary(UnaryOp::Neg), &[&x], &[&y]).unwrap();
                    assert_eq!(f32s(&backend.read(&y).unwrap()), [-v; 64]);
                    backend.free(&x).unwrap();
                    backend.free(&y).unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}

// ---- ABI 1.2: ReduceMin/Prod/L2, ArgMax, ArgMin, LogSoftmax, CumSum ----

#[test]
fn a_plugin_built_for_abi_1_1_is_not_asked_about_the_ops_of_1_2() {
    let Some(path) = common::plugin("abi11", test_plugins::abi_1_1(), "ABI-1.1") else { return };
    let backend = hcal_plugin::open(path, "").unwrap();
    assert_eq!(backend.abi_version(), (1, 1));
    let x = TensorDesc::new([2, 3], DType::F32);
    let new_ops = [
        Op::Reduce { op: hcal_core::ReduceOp::L2, axes: None, keepdims: false },
        Op::ArgMax { axis: 1, keepdims: true, select_last_index: false },
        Op::LogSoftmax { axis: -1 },
        Op::CumSum { axis: 0, exclusive: false, reverse: true },
    ];
    for op in new_ops {
        let name = op.name();
        let sig = OpSignature::new(op, vec![Some(x.clone())]).unwrap();
        match backend.supports(&sig) {
            Support::Unsupported(why) => {
                assert!(why.contains(name) && why.contains("ABI 1.2") && why.contains("built for 1.1"), "{why}")
            }
            other => panic!("{name}: {other:?}"),
        }
    }
    // The ops it knows are still asked about (cref runs Softmax on f32).
    let softmax = OpSignature::new(Op::Softmax { axis: -1 }, vec![Some(x)]).unwrap();
    assert_eq!(backend.supports(&softmax), Support::Native);
}

// ---- ABI 1.3: hcal's fused steps ----

#[test]
fn a_plugin_built_for_abi_1_2_is_not_asked_about_the_fused_steps_of_1_3() {
    let Some(path) = common::plugin("abi12", test_plugins::abi_1_2(), "ABI-1.2") else { return };
    let backend = hcal_plugin::open(path, "").unwrap();
    assert_eq!(backend.abi_version(), (1, 2));
    let x = TensorDesc::new([2, 4], DType::F32);
    let gated = OpSignature::new(Op::GatedUnary { activation: UnaryOp::Silu }, vec![Some(x.clone())]).unwrap();
    let attrs = hcal_core::RmsNormGemm { epsilon: 1e-5, alpha: 1.0, beta: 0.0, trans_b: true };
    let scale = TensorDesc::new([4], DType::F32);
    let normed =
        OpSignature::new(Op::RmsNormGemm(attrs), vec![Some(x.clone()), Some(scale), Some(x.clone()), None]).unwrap();
    for sig in [gated, normed] {
        let name = sig.op().name();
        match backend.supports(&sig) {
            Support::Unsupported(why) => {
                assert!(why.contains(name) && why.contains("ABI 1.3") && why.contains("built for 1.2"), "{why}")
            }
            other => panic!("{name}: {other:?}"),
        }
    }
    // The same plugin built for 1.3 (cref) is asked, and runs them.
    let Some(path) = reference("the fused steps of ABI 1.3") else { return };
    let current = hcal_plugin::open(path, "").unwrap();
    let sig = OpSignature::new(Op::GatedUnary { activation: UnaryOp::Silu }, vec![Some(x)]).unwrap();
    assert_eq!(current.supports(&sig), Support::Native);
}

#[test]
fn the_reference_plugin_declines_the_ops_of_1_2_naming_them() {
    let Some(path) = reference("the ops of ABI 1.2") else { return };
    let backend = hcal_plugin::open(path, "").unwrap();
    let x = TensorDesc::new([2, 3], DType::F32);
    for op in [
        Op::ArgMin { axis: 0, keepdims: false, select_last_index: true },
        Op::CumSum { axis: 1, exclusive: true, reverse: false },
    ] {
        let name = op.name();
        let sig = OpSignature::new(op, vec![Some(x.clone())]).unwrap();
        match backend.supports(&sig) {
            Support::Unsupported(why) => assert!(why.contains(name), "{why}"),
            other => panic!("{name}: {other:?}"),
        }
    }
}
