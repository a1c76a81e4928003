//! The validated signature carries what validation resolved (outputs and
//! geometry), a call built from it checks that its tensors are the
//! signature's, and a `BackendWrapper` forwards everything it does not
//! override, instruments included (a profiling wrapper once lost device timing).

use std::sync::atomic::{AtomicUsize, Ordering};

use hcal_core::{
    Backend, BackendExt, BackendWrapper, Call, DType, DeviceInfo, DeviceType, Error, Gemm, Geometry, Instruments, Op,
    OpSignature, Result, Support, Tensor, TensorDesc, TensorId,
};

fn d(shape: &[usize]) -> TensorDesc {
    TensorDesc::new(shape, DType::F32)
}

#[test]
fn a_signature_keeps_the_outputs_and_the_geometry_it_resolved() {
    let sig = OpSignature::new(Op::MatMul, vec![Some(d(&[3, 1, 2, 4])), Some(d(&[5, 4, 6]))]).unwrap();
    assert_eq!(sig.outputs(), [d(&[3, 5, 2, 6])]);
    let Geometry::MatMul(g) = sig.geometry() else { panic!("MatMul resolves to a MatMul geometry") };
    assert_eq!((g.m, g.n, g.k, g.batch_count()), (2, 6, 4, 15));
    assert_eq!(g.a_batch_strides, [8, 0]);
    assert_eq!(g.b_batch_strides, [0, 24]);

    let gemm = Op::Gemm(Gemm { trans_b: true, ..Gemm::default() });
    let sig = OpSignature::new(gemm, vec![Some(d(&[2, 3])), Some(d(&[4, 3])), Some(d(&[2, 1]))]).unwrap();
    let Geometry::Gemm(g) = sig.geometry() else { panic!("Gemm resolves to a Gemm geometry") };
    assert_eq!((g.m, g.n, g.k, g.trans_b), (2, 4, 3, true));
    assert_eq!(g.c_strides, Some([1, 0]), "C [2, 1] broadcast over N");
}

#[test]
fn an_invalid_signature_cannot_be_built() {
    let e = OpSignature::new(Op::MatMul, vec![Some(d(&[2, 3])), Some(d(&[4, 5]))]).unwrap_err();
    assert!(matches!(e, Error::Shape { .. }), "{e}");
    assert!(e.to_string().contains("MatMul"), "{e}");
}

#[test]
fn a_call_from_a_signature_needs_the_signatures_tensors() {
    let sig = OpSignature::new(Op::Softmax { axis: -1 }, vec![Some(d(&[2, 3]))]).unwrap();
    let x = Tensor::from_parts(TensorId(1), d(&[2, 3]));
    let y = Tensor::from_parts(TensorId(2), d(&[2, 3]));
    let call = Call::from_signature(sig.clone(), &[Some(&x)], &[Some(&y)]).unwrap();
    assert_eq!(call.geometry(), sig.geometry());

    let other = Tensor::from_parts(TensorId(3), d(&[3, 2]));
    let e = Call::from_signature(sig.clone(), &[Some(&other)], &[Some(&y)]).unwrap_err();
    assert!(e.to_string().contains("Softmax") && e.to_string().contains("[3, 2]"), "{e}");
    let e = Call::from_signature(sig.clone(), &[Some(&x)], &[Some(&other)]).unwrap_err();
    assert!(matches!(e, Error::OutputMismatch { .. }), "{e}");
    let e = Call::from_signature(sig, &[Some(&x)], &[Some(&x)]).unwrap_err();
    assert!(matches!(e, Error::Aliasing { .. }), "{e}");
}

/// A backend that runs nothing but Softmax's shape, with one instrument.
struct Toy {
    info: DeviceInfo,
    executed: AtomicUsize,
    next_id: AtomicUsize,
}

impl Instruments for Toy {
    fn memory_peak(&self) -> Option<u64> {
        Some(42)
    }
}

impl Backend for Toy {
    fn info(&self) -> &DeviceInfo {
        &self.info
    }
    fn supports(&self, signature: &OpSignature) -> Support {
        match signature.geometry() {
            Geometry::Softmax(_) => Support::Native,
            _ => Support::Unsupported("toy: Softmax only".into()),
        }
    }
    fn alloc(&self, desc: &TensorDesc) -> Result<Tensor> {
        Ok(Tensor::from_parts(TensorId(self.next_id.fetch_add(1, Ordering::Relaxed) as u64), desc.clone()))
    }
    fn free(&self, _: &Tensor) -> Result<()> {
        Ok(())
    }
    fn write(&self, _: &Tensor, _: &[u8]) -> Result<()> {
        Ok(())
    }
    fn read(&self, t: &Tensor) -> Result<Vec<u8>> {
        Ok(vec![0; t.desc().byte_len()?])
    }
    fn execute(&self, _: &Call<'_>) -> Result<()> {
        self.executed.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
    fn sync(&self) -> Result<()> {
        Ok(())
    }
    fn instruments(&self) -> Option<&dyn Instruments> {
        Some(self)
    }
}

/// Overrides `execute` only.
struct Counting {
    inner: Toy,
    calls: AtomicUsize,
}

impl BackendWrapper for Counting {
    fn inner(&self) -> &dyn Backend {
        &self.inner
    }
    fn execute(&self, call: &Call<'_>) -> Result<()> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        self.inner.execute(call)
    }
}

#[test]
fn a_wrapper_forwards_what_it_does_not_override_instruments_included() {
    let info = DeviceInfo::new("toy", "toy", DeviceType::Other, "test");
    let toy = Toy { info, executed: AtomicUsize::new(0), next_id: AtomicUsize::new(1) };
    let wrapped = Counting { inner: toy, calls: AtomicUsize::new(0) };
    let backend: &dyn Backend = &wrapped;
    assert_eq!(backend.info().backend, "toy");
    assert_eq!(backend.instruments().and_then(|i| i.memory_peak()), Some(42));
    assert_eq!(backend.instruments().map(|i| i.begin_timing().unwrap()), Some(false), "an unoffered hook defaults");

    let x = backend.alloc(&d(&[2, 3])).unwrap();
    let y = backend.alloc(&d(&[3, 2])).unwrap();
    backend.run(&Op::Softmax { axis: 0 }, &[&x], &[&Tensor::from_parts(TensorId(99), d(&[2, 3]))]).unwrap();
    assert_eq!((wrapped.calls.load(Ordering::Relaxed), wrapped.inner.executed.load(Ordering::Relaxed)), (1, 1));
    let e = backend.run(&Op::Unary(hcal_core::UnaryOp::Relu), &[&x], &[&y]).unwrap_err();
    assert!(matches!(e, Error::OutputMismatch { .. }), "validation runs before the wrapper: {e}");
    let e = backend
        .run(&Op::Unary(hcal_core::UnaryOp::Relu), &[&x], &[&Tensor::from_parts(TensorId(98), d(&[2, 3]))])
        .unwrap_err();
    assert!(matches!(e, Error::Unsupported { .. }) && e.to_string().contains("Softmax only"), "{e}");
    assert_eq!(wrapped.calls.load(Ordering::Relaxed), 1, "declined calls never reach execute");
}
