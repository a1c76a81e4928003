//! `DeviceTensor::reshape` views on every available backend: a view is read,
//! written and passed to ops (as input and as output) under its own shape,
//! over the memory of the tensor it was made from.

use hcal::{BinaryOp, Error, ops};

#[test]
fn reshape_views_share_memory_on_every_backend() {
    for name in hcal::available_backends() {
        let dev = hcal::Device::open(&name).unwrap();
        let x = dev.tensor_f32(&[1, 2, 3], &[1., 2., 3., 4., 5., 6.]).unwrap();
        let rows = x.reshape(&[3, 2]).unwrap();
        assert_eq!(rows.shape(), &[3, 2], "{name}");

        // As an input: [3, 2] @ [2, 1].
        let w = dev.tensor_f32(&[2, 1], &[1., -1.]).unwrap();
        assert_eq!(ops::matmul(&rows, &w).unwrap().to_f32().unwrap(), [-1., -1., -1.], "{name}");

        // As an output: the op writes the base tensor's memory.
        let out = dev.zeros(&x.desc().clone()).unwrap();
        let out_rows = out.reshape(&[3, 2]).unwrap();
        dev.run(&hcal::Op::Binary(BinaryOp::Add), &[Some(&rows), Some(&rows)], &[Some(&out_rows)]).unwrap();
        assert_eq!(out.to_f32().unwrap(), [2., 4., 6., 8., 10., 12.], "{name}");

        // A view of an input is that input: writing it is aliasing.
        let alias = x.reshape(&[3, 2]).unwrap();
        let err = dev.run(&hcal::Op::Binary(BinaryOp::Add), &[Some(&rows), Some(&rows)], &[Some(&alias)]).unwrap_err();
        assert!(matches!(err, Error::Aliasing { .. }), "{name}: {err}");

        // The view outlives the tensor it came from.
        drop(x);
        assert_eq!(rows.to_f32().unwrap(), [1., 2., 3., 4., 5., 6.], "{name}");
        assert!(matches!(rows.reshape(&[4]), Err(Error::Shape { op: "Reshape", .. })), "{name}");
    }
}
