//! Owning handles: a [`Device`] and the [`DeviceTensor`]s that live on it.

use std::fmt;
use std::sync::Arc;

use half::{bf16, f16};
use hcal_core::{Backend, BackendExt, Call, DType, DeviceInfo, Error, Op, OpSignature, Result, Tensor, TensorDesc};

/// A shared handle to one backend; cheap to clone (an `Arc`).
///
/// Tensors made through a `Device` are [`DeviceTensor`]s that free their memory
/// when dropped, so the handle-based [`Backend`] API is never needed for
/// everyday use; [`Device::backend`] still exposes it.
///
/// ```
/// let dev = hcal::Device::open("cpu")?;
/// let x = dev.tensor_f32(&[2, 3], &[1., 2., 3., 4., 5., 6.])?;
/// assert_eq!(x.to_f32()?, [1., 2., 3., 4., 5., 6.]);
/// assert_eq!(dev.info().backend, "cpu");
/// # Ok::<(), hcal::Error>(())
/// ```
#[derive(Clone)]
pub struct Device {
    backend: Arc<dyn Backend>,
}

impl Device {
    /// Open the backend called `name` (see [`crate::available_backends`]).
    ///
    /// # Errors
    /// As [`crate::open`]: [`Error::UnknownBackend`] or the backend's start-up error.
    pub fn open(name: &str) -> Result<Self> {
        Ok(Self::new(crate::open(name)?))
    }

    /// Wrap a backend that was built by hand (a vendor backend under test).
    ///
    /// ```
    /// let dev = hcal::Device::new(hcal::open("cpu")?);
    /// assert_eq!(dev.info().backend, "cpu");
    /// # Ok::<(), hcal::Error>(())
    /// ```
    pub fn new(backend: Box<dyn Backend>) -> Self {
        Self { backend: Arc::from(backend) }
    }

    /// The underlying backend, for the handle-based API.
    pub fn backend(&self) -> &dyn Backend {
        &*self.backend
    }

    /// The device facts of the backend.
    pub fn info(&self) -> &DeviceInfo {
        self.backend.info()
    }

    /// True when `self` and `other` share one backend instance (tensors of one
    /// may be passed to calls on the other).
    ///
    /// ```
    /// let a = hcal::Device::open("cpu")?;
    /// let b = hcal::Device::open("cpu")?;
    /// assert!(a.same_device(&a.clone()));
    /// assert!(!a.same_device(&b));
    /// # Ok::<(), hcal::Error>(())
    /// ```
    pub fn same_device(&self, other: &Device) -> bool {
        Arc::ptr_eq(&self.backend, &other.backend)
    }

    /// Allocate a tensor whose contents are unspecified until written or
    /// produced by an op.
    ///
    /// # Errors
    /// [`Error::TooLarge`], [`Error::OutOfMemory`], [`Error::DeviceLimit`], device errors.
    pub fn alloc(&self, desc: &TensorDesc) -> Result<DeviceTensor> {
        let tensor = self.backend.alloc(desc)?;
        let storage = Arc::new(Storage { device: self.clone(), handle: tensor.clone() });
        Ok(DeviceTensor { storage, tensor })
    }

    /// A tensor of `desc` filled with zeros (all bytes 0, which is `0` in every dtype).
    ///
    /// ```
    /// use hcal::{DType, TensorDesc};
    /// let dev = hcal::Device::open("cpu")?;
    /// let z = dev.zeros(&TensorDesc::new([2, 2], DType::BF16))?;
    /// assert_eq!(z.to_f32()?, [0.0; 4]);
    /// # Ok::<(), hcal::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`Device::alloc`] and [`Backend::write`]; [`Error::OutOfMemory`]
    /// (backend `host`) when the host cannot hold the zeroed bytes.
    pub fn zeros(&self, desc: &TensorDesc) -> Result<DeviceTensor> {
        let bytes = hcal_core::host_vec(desc.byte_len()?, 0u8, &format!("zeros of {desc}"))?;
        self.tensor_from_bytes(desc.clone(), &bytes)
    }

    /// An f32 tensor of `shape` holding `data` (row-major, `data.len()` equal to
    /// the product of `shape`).
    ///
    /// ```
    /// let dev = hcal::Device::open("cpu")?;
    /// let x = dev.tensor_f32(&[3], &[1., 2., 3.])?;
    /// assert_eq!((x.shape(), x.dtype()), (&[3usize][..], hcal::DType::F32));
    /// assert!(dev.tensor_f32(&[2, 2], &[1., 2., 3.]).is_err()); // 3 values for 4 elements
    /// # Ok::<(), hcal::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::ByteLength`] when `data` does not fill the shape; as [`Device::alloc`].
    pub fn tensor_f32(&self, shape: &[usize], data: &[f32]) -> Result<DeviceTensor> {
        self.tensor_from_f32(TensorDesc::new(shape, DType::F32), data)
    }

    /// A tensor of `desc` holding `data` converted to `desc.dtype`: f16 and bf16
    /// round to nearest even, bool is `x != 0`, i64 truncates toward zero (NaN
    /// gives 0, out-of-range values saturate), as [`Op::Cast`] defines.
    ///
    /// ```
    /// use hcal::{DType, TensorDesc};
    /// let dev = hcal::Device::open("cpu")?;
    /// let x = dev.tensor_from_f32(TensorDesc::new([3], DType::F16), &[1.0, 0.1, 65504.0])?;
    /// assert_eq!(x.to_f32()?, [1.0, 0.099975586, 65504.0]); // 0.1 rounded to f16
    /// # Ok::<(), hcal::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::ByteLength`] when `data.len()` differs from `desc.numel()`;
    /// [`Error::OutOfMemory`] (backend `host`) when the host cannot hold the
    /// converted copy; as [`Device::alloc`].
    pub fn tensor_from_f32(&self, desc: TensorDesc, data: &[f32]) -> Result<DeviceTensor> {
        check_len(&desc, data.len())?;
        desc.byte_len()?;
        let bytes = encode_f32(desc.dtype, data)?;
        self.tensor_from_bytes(desc, &bytes)
    }

    /// An i64 tensor of `shape` holding `data` (position ids, token ids),
    /// stored exactly.
    ///
    /// ```
    /// let dev = hcal::Device::open("cpu")?;
    /// let ids = dev.tensor_i64(&[1, 3], &[5, 6, 1 << 40])?;
    /// assert_eq!(ids.dtype(), hcal::DType::I64);
    /// assert_eq!(ids.to_bytes()?[16..24], (1i64 << 40).to_le_bytes());
    /// # Ok::<(), hcal::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::ByteLength`] when `data` does not fill the shape; as [`Device::alloc`].
    pub fn tensor_i64(&self, shape: &[usize], data: &[i64]) -> Result<DeviceTensor> {
        let desc = TensorDesc::new(shape, DType::I64);
        check_len(&desc, data.len())?;
        let mut bytes = hcal_core::host_vec_with_capacity(desc.byte_len()?, &format!("storage of {desc}"))?;
        bytes.extend(data.iter().flat_map(|x| x.to_le_bytes()));
        self.tensor_from_bytes(desc, &bytes)
    }

    /// A tensor of `desc` holding `bytes` (little-endian elements, exactly
    /// `desc.byte_len()` bytes).
    ///
    /// ```
    /// use hcal::{DType, TensorDesc};
    /// let dev = hcal::Device::open("cpu")?;
    /// let mask = dev.tensor_from_bytes(TensorDesc::new([2], DType::Bool), &[1, 0])?;
    /// assert_eq!(mask.to_bytes()?, [1, 0]);
    /// # Ok::<(), hcal::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::ByteLength`]; as [`Device::alloc`].
    pub fn tensor_from_bytes(&self, desc: TensorDesc, bytes: &[u8]) -> Result<DeviceTensor> {
        let tensor = self.alloc(&desc)?;
        tensor.write_bytes(bytes)?;
        Ok(tensor)
    }

    /// Validate and run `op` on tensors of this device, writing into `outputs`
    /// (`None` leaves an optional output out). Prefer the typed helpers in
    /// [`crate::ops`], which allocate the outputs for you.
    ///
    /// ```
    /// use hcal::{Op, UnaryOp};
    /// let dev = hcal::Device::open("cpu")?;
    /// let x = dev.tensor_f32(&[3], &[-1., 0., 2.])?;
    /// let y = dev.alloc(x.desc())?;
    /// dev.run(&Op::Unary(UnaryOp::Relu), &[Some(&x)], &[Some(&y)])?;
    /// assert_eq!(y.to_f32()?, [0., 0., 2.]);
    /// # Ok::<(), hcal::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidTensor`] for a tensor of another device; validation
    /// errors of `hcal-core`; [`Error::Unsupported`]; backend errors.
    pub fn run(&self, op: &Op, inputs: &[Option<&DeviceTensor>], outputs: &[Option<&DeviceTensor>]) -> Result<()> {
        for t in inputs.iter().chain(outputs).flatten() {
            self.check_owns(t)?;
        }
        let inputs: Vec<Option<&Tensor>> = inputs.iter().map(|t| t.map(DeviceTensor::handle)).collect();
        let outputs: Vec<Option<&Tensor>> = outputs.iter().map(|t| t.map(DeviceTensor::handle)).collect();
        self.backend.run_optional(op, &inputs, &outputs)
    }

    /// As [`Device::run`] for a signature validated earlier (for example to
    /// allocate the outputs from [`OpSignature::outputs`]): hcal-core's shape
    /// rules do not run a second time.
    ///
    /// ```
    /// use hcal::{Op, OpSignature};
    /// let dev = hcal::Device::open("cpu")?;
    /// let x = dev.tensor_f32(&[2], &[1., 3.])?;
    /// let sig = OpSignature::new(Op::Softmax { axis: 0 }, vec![Some(x.desc().clone())])?;
    /// let y = dev.alloc(&sig.outputs()[0])?;
    /// dev.run_signature(sig, &[Some(&x)], &[Some(&y)])?;
    /// assert!((y.to_f32()?.iter().sum::<f32>() - 1.0).abs() < 1e-6);
    /// # Ok::<(), hcal::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`Device::run`]; tensors that are not the signature's are an [`Error::Arity`].
    pub fn run_signature(
        &self,
        signature: OpSignature,
        inputs: &[Option<&DeviceTensor>],
        outputs: &[Option<&DeviceTensor>],
    ) -> Result<()> {
        for t in inputs.iter().chain(outputs).flatten() {
            self.check_owns(t)?;
        }
        let inputs: Vec<Option<&Tensor>> = inputs.iter().map(|t| t.map(DeviceTensor::handle)).collect();
        let outputs: Vec<Option<&Tensor>> = outputs.iter().map(|t| t.map(DeviceTensor::handle)).collect();
        let call = Call::from_signature(signature, &inputs, &outputs)?;
        self.backend.run_call(&call)
    }

    /// Wait for all work enqueued on this device (for timing; reads wait by themselves).
    ///
    /// # Errors
    /// Device errors raised by that work.
    pub fn sync(&self) -> Result<()> {
        self.backend.sync()
    }

    fn check_owns(&self, t: &DeviceTensor) -> Result<()> {
        if self.same_device(t.device()) {
            Ok(())
        } else {
            Err(Error::InvalidTensor { backend: self.info().backend.clone(), id: t.tensor.id().0 })
        }
    }
}

impl fmt::Debug for Device {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let info = self.info();
        f.debug_struct("Device").field("backend", &info.backend).field("name", &info.name).finish()
    }
}

/// A tensor that lives on a [`Device`] and is freed when dropped.
///
/// ```
/// let dev = hcal::Device::open("cpu")?;
/// let x = dev.tensor_f32(&[2, 2], &[1., 2., 3., 4.])?;
/// let y = hcal::ops::transpose(&x, None)?;
/// assert_eq!(y.to_f32()?, [1., 3., 2., 4.]);
/// drop(x); // frees the memory on the backend
/// # Ok::<(), hcal::Error>(())
/// ```
///
/// Several `DeviceTensor`s may share one allocation: [`DeviceTensor::reshape`]
/// returns a view with its own shape over the same memory, and the memory is
/// freed when the last of them is dropped.
pub struct DeviceTensor {
    storage: Arc<Storage>,
    /// The backend handle with this view's descriptor (the id of the storage).
    tensor: Tensor,
}

/// One allocation on a backend, freed when the last tensor viewing it drops.
struct Storage {
    device: Device,
    /// The handle `alloc` returned (its descriptor is the allocated one).
    handle: Tensor,
}

impl Drop for Storage {
    fn drop(&mut self) {
        // A failed free (device lost) cannot be reported from drop; the memory
        // went with the device.
        let _ = self.device.backend.free(&self.handle);
    }
}

impl DeviceTensor {
    /// The device that holds this tensor.
    pub fn device(&self) -> &Device {
        &self.storage.device
    }

    /// The raw handle, for the [`Backend`] API (still owned by `self`). A view
    /// made by [`DeviceTensor::reshape`] has the id of the storage it shares
    /// and its own descriptor.
    pub fn handle(&self) -> &Tensor {
        &self.tensor
    }

    /// The same elements under another shape with the same element count: a
    /// view that shares this tensor's memory (no copy, no device work), as a
    /// row-major reshape is free for contiguous tensors. Writes through either
    /// are seen by both; the memory lives until the last of them is dropped.
    ///
    /// No kernel runs: every tensor is contiguous row-major, so a reshape only
    /// changes the descriptor (the standard's [`hcal_core::Op::Reshape`] is the
    /// copying form, for backends and graphs; [`crate::ops::reshape`] takes its
    /// `-1` and [`crate::ops::squeeze`] and friends build on this). A view
    /// passed as an output while its storage is an input of the same call is
    /// rejected as aliasing, as the same tensor would be.
    ///
    /// ```
    /// let dev = hcal::Device::open("cpu")?;
    /// let x = dev.tensor_f32(&[2, 3], &[1., 2., 3., 4., 5., 6.])?;
    /// let rows = x.reshape(&[3, 2])?;
    /// assert_eq!((rows.shape(), rows.to_f32()?), (&[3usize, 2][..], vec![1., 2., 3., 4., 5., 6.]));
    /// assert!(rows.shares_storage(&x));
    ///
    /// rows.write_f32(&[0.; 6])?; // one allocation: x sees the write
    /// assert_eq!(x.to_f32()?, [0.; 6]);
    /// drop(x); // the view keeps the memory alive
    /// assert_eq!(rows.to_f32()?.len(), 6);
    ///
    /// assert!(rows.reshape(&[4]).is_err()); // 6 elements do not make 4
    /// # Ok::<(), hcal::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::Shape`] (op `Reshape`) when `shape` holds a different number of elements.
    pub fn reshape(&self, shape: &[usize]) -> Result<DeviceTensor> {
        let desc = TensorDesc::new(shape, self.dtype());
        if desc.numel() != self.numel() || desc.byte_len()? != self.desc().byte_len()? {
            return Err(Error::Shape {
                op: "Reshape",
                detail: format!("{} has {} elements, shape {shape:?} has {}", self.desc(), self.numel(), desc.numel()),
            });
        }
        Ok(DeviceTensor { storage: Arc::clone(&self.storage), tensor: Tensor::from_parts(self.tensor.id(), desc) })
    }

    /// True when `self` and `other` are views of one allocation.
    ///
    /// ```
    /// let dev = hcal::Device::open("cpu")?;
    /// let x = dev.tensor_f32(&[4], &[1., 2., 3., 4.])?;
    /// let y = dev.tensor_f32(&[4], &[1., 2., 3., 4.])?;
    /// assert!(x.reshape(&[2, 2])?.shares_storage(&x) && !x.shares_storage(&y));
    /// # Ok::<(), hcal::Error>(())
    /// ```
    pub fn shares_storage(&self, other: &DeviceTensor) -> bool {
        Arc::ptr_eq(&self.storage, &other.storage)
    }

    /// Shape and dtype.
    pub fn desc(&self) -> &TensorDesc {
        self.tensor.desc()
    }

    /// The shape.
    pub fn shape(&self) -> &[usize] {
        self.tensor.shape()
    }

    /// The dtype.
    pub fn dtype(&self) -> DType {
        self.tensor.dtype()
    }

    /// Number of elements.
    pub fn numel(&self) -> usize {
        self.desc().numel()
    }

    /// Overwrite the contents with `bytes` (little-endian elements, exactly the byte length).
    ///
    /// # Errors
    /// [`Error::ByteLength`]; device errors.
    pub fn write_bytes(&self, bytes: &[u8]) -> Result<()> {
        self.device().backend.write(&self.tensor, bytes)
    }

    /// Overwrite the contents with `data` converted to the tensor's dtype as in
    /// [`Device::tensor_from_f32`].
    ///
    /// ```
    /// let dev = hcal::Device::open("cpu")?;
    /// let x = dev.tensor_f32(&[2], &[0., 0.])?;
    /// x.write_f32(&[7., 8.])?;
    /// assert_eq!(x.to_f32()?, [7., 8.]);
    /// # Ok::<(), hcal::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::ByteLength`] when `data.len()` differs from the element count; device errors.
    pub fn write_f32(&self, data: &[f32]) -> Result<()> {
        check_len(self.desc(), data.len())?;
        self.desc().byte_len()?;
        self.write_bytes(&encode_f32(self.dtype(), data)?)
    }

    /// The contents as little-endian bytes, after all enqueued work.
    ///
    /// # Errors
    /// Device errors.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        self.device().backend.read(&self.tensor)
    }

    /// Start reading the contents back without waiting
    /// ([`Backend::read_start`](crate::Backend::read_start)): the bytes
    /// [`PendingRead::wait`](crate::PendingRead::wait) returns are the
    /// contents after the work enqueued so far, whatever is enqueued after
    /// this call. Queue the next work first, then wait: the device runs it
    /// while the host takes these bytes.
    ///
    /// ```
    /// let dev = hcal::Device::open("cpu")?;
    /// let x = dev.tensor_f32(&[2], &[1.0, 2.0])?;
    /// let pending = x.read_start()?;
    /// x.write_f32(&[3.0, 4.0])?; // enqueued after the start: not in its bytes
    /// assert_eq!(pending.wait()?, [1f32.to_le_bytes(), 2f32.to_le_bytes()].concat());
    /// # Ok::<(), hcal::Error>(())
    /// ```
    ///
    /// # Errors
    /// Device errors (here or from `wait`).
    pub fn read_start(&self) -> Result<crate::PendingRead> {
        self.device().backend.read_start(&self.tensor)
    }

    /// The contents as f32, after all enqueued work: f16 and bf16 widen exactly,
    /// bool gives 0 or 1, i64 rounds to the nearest f32.
    ///
    /// ```
    /// use hcal::{DType, TensorDesc};
    /// let dev = hcal::Device::open("cpu")?;
    /// let x = dev.tensor_from_f32(TensorDesc::new([2], DType::BF16), &[1.5, 257.0])?;
    /// assert_eq!(x.to_f32()?, [1.5, 256.0]); // bf16 keeps 8 significant bits
    /// # Ok::<(), hcal::Error>(())
    /// ```
    ///
    /// # Errors
    /// Device errors; [`Error::OutOfMemory`] (backend `host`) when the host
    /// cannot hold the f32 copy.
    pub fn to_f32(&self) -> Result<Vec<f32>> {
        decode_f32(self.dtype(), &self.to_bytes()?)
    }
}

impl fmt::Debug for DeviceTensor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DeviceTensor({} on {}, id {})", self.desc(), self.device().info().backend, self.tensor.id().0)
    }
}

fn check_len(desc: &TensorDesc, len: usize) -> Result<()> {
    let numel = desc.numel();
    if len == numel {
        return Ok(());
    }
    Err(Error::ByteLength {
        what: "write",
        desc: desc.to_string(),
        expected: desc.byte_len()?,
        got: len.saturating_mul(desc.dtype.size_bytes()),
    })
}

/// `data` in `dtype`'s little-endian storage format, allocated fallibly: the
/// size comes from the caller's data, and a copy the host cannot hold is
/// [`Error::OutOfMemory`], not an abort.
fn encode_f32(dtype: DType, data: &[f32]) -> Result<Vec<u8>> {
    if dtype.is_quantized() {
        // GGML's reference rounding ([`hcal_core::quant::quantize`]); the
        // caller checked that `data` is whole blocks.
        return hcal_core::quant::quantize(dtype, data);
    }
    let len = data.len().saturating_mul(dtype.size_bytes());
    let mut out = hcal_core::host_vec_with_capacity(len, &format!("{} values as {dtype}", data.len()))?;
    match dtype {
        DType::F32 => out.extend(data.iter().flat_map(|x| x.to_le_bytes())),
        DType::F16 => out.extend(data.iter().flat_map(|&x| f16::from_f32(x).to_le_bytes())),
        DType::BF16 => out.extend(data.iter().flat_map(|&x| bf16::from_f32(x).to_le_bytes())),
        DType::Bool => out.extend(data.iter().map(|&x| u8::from(x != 0.0))),
        DType::I64 => out.extend(data.iter().flat_map(|&x| (x as i64).to_le_bytes())),
        DType::Q4_0 | DType::Q4_1 | DType::Q8_0 => unreachable!("quantized above"),
    }
    Ok(out)
}

/// Elements of `dtype` stored little-endian in `bytes`, widened to f32
/// (allocated fallibly, as [`encode_f32`]).
fn decode_f32(dtype: DType, bytes: &[u8]) -> Result<Vec<f32>> {
    fn chunks<const N: usize>(bytes: &[u8]) -> impl Iterator<Item = [u8; N]> + '_ {
        bytes.chunks_exact(N).map(|c| {
            let mut a = [0u8; N];
            a.copy_from_slice(c);
            a
        })
    }
    if dtype.is_quantized() {
        // The standard's exact values, rounded once to f32.
        return Ok(hcal_core::quant::dequantize(dtype, bytes)?.into_iter().map(|x| x as f32).collect());
    }
    let len = bytes.len() / dtype.size_bytes();
    let mut out = hcal_core::host_vec_with_capacity(len, &format!("{len} {dtype} values as f32"))?;
    match dtype {
        DType::F32 => out.extend(chunks::<4>(bytes).map(f32::from_le_bytes)),
        DType::F16 => out.extend(chunks::<2>(bytes).map(|b| f16::from_le_bytes(b).to_f32())),
        DType::BF16 => out.extend(chunks::<2>(bytes).map(|b| bf16::from_le_bytes(b).to_f32())),
        DType::Bool => out.extend(bytes.iter().map(|&b| f32::from(u8::from(b != 0)))),
        DType::I64 => out.extend(chunks::<8>(bytes).map(|b| i64::from_le_bytes(b) as f32)),
        DType::Q4_0 | DType::Q4_1 | DType::Q8_0 => unreachable!("quantized above"),
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_decode_round_trips_every_dtype() {
        let data = [0.0f32, 1.0, -2.5, 3.0];
        for dtype in DType::ALL {
            let bytes = encode_f32(dtype, &data).unwrap();
            assert_eq!(bytes.len(), data.len() * dtype.size_bytes(), "{dtype}");
            let back = decode_f32(dtype, &bytes).unwrap();
            let expected: Vec<f32> = match dtype {
                DType::Bool => vec![0.0, 1.0, 1.0, 1.0],
                DType::I64 => vec![0.0, 1.0, -2.0, 3.0],
                _ => data.to_vec(),
            };
            assert_eq!(back, expected, "{dtype}");
        }
    }

    #[test]
    fn half_precision_rounds_to_nearest_even() {
        // 1 + 2^-11 is halfway between two f16 values; ties go to the even one (1.0).
        let bytes = encode_f32(DType::F16, &[1.0 + 2f32.powi(-11)]).unwrap();
        assert_eq!(decode_f32(DType::F16, &bytes).unwrap(), [1.0]);
    }

    #[test]
    fn wrong_length_names_the_tensor() {
        let err = check_len(&TensorDesc::new([2, 2], DType::F16), 3).unwrap_err();
        assert_eq!(err, Error::ByteLength { what: "write", desc: "f16[2, 2]".into(), expected: 8, got: 6 });
    }

    #[test]
    fn tensors_of_another_device_are_rejected() {
        let (a, b) = (Device::open("cpu").unwrap(), Device::open("cpu").unwrap());
        let x = a.tensor_f32(&[2], &[1., 2.]).unwrap();
        let y = b.alloc(x.desc()).unwrap();
        let err = b.run(&Op::Unary(hcal_core::UnaryOp::Neg), &[Some(&x)], &[Some(&y)]).unwrap_err();
        assert!(matches!(err, Error::InvalidTensor { .. }), "{err}");
    }
}
