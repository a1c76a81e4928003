//! # hcal-cpu: the reference backend
//!
//! The executable specification of the hcal standard and the conformance
//! oracle. Each op module reads like its ONNX operator page: plain loops named
//! after the maths. Choices:
//!
//! - Every input is widened exactly to f64, the op is computed in f64 (dot
//!   products and reductions accumulate in f64), and each output is rounded
//!   once to its dtype. The result is the exact answer to within ~1e-16
//!   relative, correctly rounded to the storage dtype.
//! - Speed comes only from rayon across independent rows and heads.
//! - Storage is host memory; `execute` is synchronous, `sync` is a no-op.
//!
//! ```
//! use hcal_core::{Backend, BackendExt, DType, Op, TensorDesc};
//! let cpu = hcal_cpu::CpuBackend::new();
//! let x = cpu.alloc(&TensorDesc::new([3], DType::F32)).unwrap();
//! cpu.write(&x, bytemuck::cast_slice(&[1f32, 1., 1.])).unwrap();
//! let y = cpu.alloc(x.desc()).unwrap();
//! cpu.run(&Op::Softmax { axis: 0 }, &[&x], &[&y]).unwrap();
//! let p: Vec<f32> = bytemuck::cast_slice(&cpu.read(&y).unwrap()).to_vec();
//! assert_eq!(p, [1. / 3.; 3]);
//! ```

pub mod arg;
pub mod attention;
pub mod binary;
pub mod convert;
pub mod cumsum;
pub mod indexing;
pub mod matmul;
pub mod movement;
pub mod norm;
pub mod qkv_cache;
pub mod reduce;
pub mod rotary;
pub mod select;
pub mod softmax;
pub mod transpose;
pub mod unary;

mod backend;

pub use backend::CpuBackend;
