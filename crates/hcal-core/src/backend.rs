//! The Backend trait every vendor implements.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{Call, Error, Instruments, Op, OpSignature, Result, Tensor, TensorDesc};

/// What kind of processor a device is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DeviceType {
    /// A host CPU.
    Cpu,
    /// A discrete GPU or accelerator card.
    DiscreteGpu,
    /// A GPU sharing memory with the host.
    IntegratedGpu,
    /// A virtualized GPU.
    VirtualGpu,
    /// A software rasterizer or emulator exposed as a GPU (lavapipe, llvmpipe).
    SoftwareGpu,
    /// Anything else.
    Other,
}

/// Facts about a backend's device, for reports and capability decisions.
///
/// ```
/// use hcal_core::{DeviceInfo, DeviceType};
/// let info = DeviceInfo::new("cpu", "reference", DeviceType::Cpu, "hcal-cpu");
/// assert_eq!(info.backend, "cpu");
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeviceInfo {
    /// The name this backend answers to (`cpu`, `wgpu:vulkan:0`).
    pub backend: String,
    /// Device name as the driver reports it.
    pub name: String,
    /// Processor kind.
    pub device_type: DeviceType,
    /// API or implementation (`reference`, `vulkan`, `metal`, ...).
    pub api: String,
    /// Vendor name or id.
    pub vendor: String,
    /// Driver name and version.
    pub driver: String,
    /// Named numeric limits (`max_buffer_bytes`, ...).
    pub limits: BTreeMap<String, u64>,
    /// Named features (`shader-f16`, `subgroups`, `timestamp-query`, ...).
    pub features: Vec<String>,
    /// Kernel tiers this device gets and why (`matmul: ...`), for reports.
    #[serde(default)]
    pub notes: Vec<String>,
}

impl DeviceInfo {
    /// A minimal description; fill `vendor`, `driver`, `limits`, `features`, `notes` as known.
    pub fn new(
        backend: impl Into<String>,
        name: impl Into<String>,
        device_type: DeviceType,
        api: impl Into<String>,
    ) -> Self {
        Self {
            backend: backend.into(),
            name: name.into(),
            device_type,
            api: api.into(),
            vendor: String::new(),
            driver: String::new(),
            limits: BTreeMap::new(),
            features: Vec::new(),
            notes: Vec::new(),
        }
    }
}

/// A backend's answer to "can you run this signature?".
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Support {
    /// Runs on the device as the standard defines it.
    Native,
    /// Declined, with a reason a user can act on.
    Unsupported(String),
}

impl Support {
    /// True for [`Support::Native`].
    pub fn is_native(&self) -> bool {
        matches!(self, Support::Native)
    }
}

/// One device that runs hcal ops. Object safe: pick a `Box<dyn Backend>` by name
/// at run time.
///
/// The contract:
/// - `execute` receives a [`Call`] that hcal-core has validated; it must not
///   re-validate shapes, and must write every present output completely
///   (never read an output's prior contents).
/// - `execute` may be asynchronous; `read` and `sync` observe all work enqueued
///   before them on this backend.
/// - Every method returns errors (device lost, out of memory, unknown tensor)
///   instead of panicking, and the backend is `Send + Sync`.
///
/// ```
/// # fn demo(backend: &dyn hcal_core::Backend) -> hcal_core::Result<()> {
/// use hcal_core::{BackendExt, DType, Op, TensorDesc};
/// let desc = TensorDesc::new([2, 2], DType::F32);
/// let a = backend.alloc(&desc)?;
/// backend.write(&a, bytemuck::cast_slice(&[1f32, 2., 3., 4.]))?;
/// let y = backend.alloc(&desc)?;
/// backend.run(&Op::MatMul, &[&a, &a], &[&y])?;
/// let out: Vec<f32> = bytemuck::cast_slice(&backend.read(&y)?).to_vec();
/// assert_eq!(out, [7., 10., 15., 22.]);
/// # Ok(()) }
/// ```
pub trait Backend: Send + Sync {
    /// Device facts.
    fn info(&self) -> &DeviceInfo;

    /// Whether this backend runs `signature`. The signature is valid (core
    /// checked it, and its [`OpSignature::geometry`] is resolved): a backend
    /// declines only for its own reasons (device limits, dtypes, sizes).
    fn supports(&self, signature: &OpSignature) -> Support;

    /// Allocate an uninitialized tensor.
    ///
    /// # Errors
    /// [`Error::TooLarge`], [`Error::OutOfMemory`], [`Error::DeviceLimit`], [`Error::DeviceLost`].
    fn alloc(&self, desc: &TensorDesc) -> Result<Tensor>;

    /// Release a tensor; the handle is invalid afterwards.
    ///
    /// # Errors
    /// [`Error::InvalidTensor`] for an unknown handle.
    fn free(&self, tensor: &Tensor) -> Result<()>;

    /// Copy `bytes` (exactly the tensor's byte length, little-endian elements) into it.
    ///
    /// # Errors
    /// [`Error::ByteLength`], [`Error::InvalidTensor`], device errors.
    fn write(&self, tensor: &Tensor, bytes: &[u8]) -> Result<()>;

    /// Copy the tensor's contents out after all enqueued work.
    ///
    /// # Errors
    /// [`Error::InvalidTensor`], device errors.
    fn read(&self, tensor: &Tensor) -> Result<Vec<u8>>;

    /// Start reading the tensor back without waiting: the bytes
    /// [`PendingRead::wait`] returns are its contents after the work
    /// enqueued before this call, whatever is enqueued after it. A caller
    /// can so queue the next piece of work (a decode step whose input is
    /// this step's output, still on the device) before it waits for this
    /// one, and the device never idles while the host records.
    ///
    /// The default reads at once ([`Backend::read`]): right for backends
    /// that run each call as it comes. Asynchronous backends start the
    /// device on the enqueued work and the copy, and wait only in `wait`.
    ///
    /// # Errors
    /// As [`Backend::read`] (here, or from [`PendingRead::wait`]).
    fn read_start(&self, tensor: &Tensor) -> Result<PendingRead> {
        Ok(PendingRead::ready(self.read(tensor)?))
    }

    /// Enqueue a validated call.
    ///
    /// # Errors
    /// [`Error::Unsupported`] for a signature `supports` declines; device errors.
    fn execute(&self, call: &Call<'_>) -> Result<()>;

    /// Wait for all enqueued work.
    ///
    /// # Errors
    /// Device errors raised by that work.
    fn sync(&self) -> Result<()>;

    /// The backend's instruments (device timing, kernel identity, peak
    /// probes, memory peak), if it has any: the one optional accessor, so a
    /// wrapper forwards a single method and keeps all of them. `None` (the
    /// default) makes `hcal-bench` fall back to wall time around a
    /// [`Backend::sync`], to `None` as the kernel name and to host
    /// microbenchmarks.
    fn instruments(&self) -> Option<&dyn Instruments> {
        None
    }
}

/// A readback started by [`Backend::read_start`]: [`PendingRead::wait`]
/// returns the bytes once the work enqueued before the start is done.
///
/// ```
/// use hcal_core::PendingRead;
/// let pending = PendingRead::new(|| Ok(vec![1, 2]));
/// assert_eq!(pending.wait()?, [1, 2]);
/// assert_eq!(PendingRead::ready(vec![3]).wait()?, [3]);
/// # Ok::<(), hcal_core::Error>(())
/// ```
#[must_use = "a started read returns its bytes only through `wait`"]
pub struct PendingRead(Box<dyn FnOnce() -> Result<Vec<u8>> + Send>);

impl PendingRead {
    /// A read whose bytes are `finish`'s: it waits for the device and
    /// copies the bytes out.
    pub fn new(finish: impl FnOnce() -> Result<Vec<u8>> + Send + 'static) -> Self {
        Self(Box::new(finish))
    }

    /// A read already done.
    pub fn ready(bytes: Vec<u8>) -> Self {
        Self::new(move || Ok(bytes))
    }

    /// Wait for the work enqueued before the read started, then return the
    /// tensor's bytes as they were after it.
    ///
    /// # Errors
    /// Device errors raised by that work, or by the copy.
    pub fn wait(self) -> Result<Vec<u8>> {
        (self.0)()
    }
}

impl std::fmt::Debug for PendingRead {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PendingRead")
    }
}

/// Validate-then-execute, available on every backend (including `dyn Backend`).
pub trait BackendExt: Backend {
    /// Validate `op` on `inputs`/`outputs`, check support, and execute.
    ///
    /// # Errors
    /// Validation errors from hcal-core, [`Error::Unsupported`], backend errors.
    fn run(&self, op: &Op, inputs: &[&Tensor], outputs: &[&Tensor]) -> Result<()> {
        let call = Call::new(op, inputs, outputs)?;
        self.run_call(&call)
    }

    /// As [`BackendExt::run`] with optional inputs/outputs (`None` slots).
    ///
    /// # Errors
    /// As [`BackendExt::run`].
    fn run_optional(&self, op: &Op, inputs: &[Option<&Tensor>], outputs: &[Option<&Tensor>]) -> Result<()> {
        let call = Call::with_optional(op, inputs, outputs)?;
        self.run_call(&call)
    }

    /// Check support for an already validated call, then execute it.
    ///
    /// # Errors
    /// [`Error::Unsupported`] with the backend's reason; backend errors.
    fn run_call(&self, call: &Call<'_>) -> Result<()> {
        if let Support::Unsupported(reason) = self.supports(call.signature()) {
            return Err(Error::Unsupported { op: call.op().to_string(), backend: self.info().backend.clone(), reason });
        }
        self.execute(call)
    }
}

impl<B: Backend + ?Sized> BackendExt for B {}
