//! Fuzz targets for hcal, as plain functions of a byte string, so the same
//! code runs under libFuzzer (`cargo +nightly fuzz run <target>`, the
//! `fuzz_targets/` binaries) and under the stable runner (`src/bin/fuzz-stable.rs`).
//!
//! A target returns normally on every input; a panic, an abort (an allocation
//! that fails, or one over libFuzzer's `-malloc_limit_mb`) or a hang is a bug.
//!
//! - [`op_validation`]: bytes -> an op with arbitrary attributes and zero to
//!   seven arbitrary input descriptors (zero and huge dims, any rank and
//!   dtype) -> `infer_outputs`, `Call` and the geometry helpers; calls that
//!   validate and are small also run on the CPU reference with the remaining
//!   bytes as tensor contents (NaN patterns, out-of-range position ids), and
//!   must succeed there.
//! - [`onnx_model`]: bytes -> `ModelProto` -> the single node, its opset, its
//!   initializers decoded -> `mapping::map_node` -> `infer_outputs`.
//! - [`onnx_tensor`]: bytes -> `TensorProto` -> `tensor::decode` (and as each
//!   declared 16-bit type) -> values, ints, descriptor.
//! - [`plugin_abi`]: bytes -> the answers of the C "chaos" plugin (a NULL or
//!   short function table, NULL entries, bad names, NULL and non-UTF-8
//!   strings, out-of-range status codes, NULL or reused handles, reads and
//!   executes that write nothing) and a sequence of calls through
//!   `hcal_plugin::open`: every malformed answer must come back as an error.
//! - [`gguf_reader`]: bytes -> a GGUF file -> the reader, tensor data, the
//!   Llama config, the tokenizer and the chat template.

use arbitrary::{Result, Unstructured};
use hcal_core::{
    Attention, Backend, BackendExt, BinaryOp, Call, DType, GeluApproximation, Gemm, Op, ReduceOp, RotaryEmbedding,
    Tensor, TensorDesc, TensorId, UnaryOp, attention_geometry, broadcast_shapes, infer_outputs, matmul_geometry,
    normalize_axis, reduce_axes, rotary_geometry, transpose_perm,
};
use prost::Message;

/// Dims and counts that break arithmetic.
const HUGE: [usize; 8] =
    [usize::MAX, usize::MAX - 1, usize::MAX / 2, usize::MAX / 2 + 1, 1 << 62, 1 << 32, u32::MAX as usize, 1 << 31];

/// Float attributes outside and next to every domain.
const ODD_FLOATS: [f32; 10] = [f32::NAN, f32::INFINITY, f32::NEG_INFINITY, -0.0, 0.0, -1.0, 1e-5, f32::MAX, 1e-45, 1.0];

fn dim(u: &mut Unstructured<'_>) -> Result<usize> {
    Ok(match u.int_in_range(0u8..=15)? {
        0..=11 => usize::from(u.int_in_range(0u8..=6)?),
        12 | 13 => HUGE[u.choose_index(HUGE.len())?],
        _ => u.arbitrary()?,
    })
}

fn dtype(u: &mut Unstructured<'_>) -> Result<DType> {
    Ok(DType::ALL[u.choose_index(DType::ALL.len())?])
}

fn desc(u: &mut Unstructured<'_>) -> Result<TensorDesc> {
    let rank = u.int_in_range(0u8..=6)?;
    let shape = (0..rank).map(|_| dim(u)).collect::<Result<Vec<_>>>()?;
    Ok(TensorDesc::new(shape, dtype(u)?))
}

fn float(u: &mut Unstructured<'_>) -> Result<f32> {
    if u.ratio(1u8, 2)? { Ok(ODD_FLOATS[u.choose_index(ODD_FLOATS.len())?]) } else { u.arbitrary() }
}

fn axis(u: &mut Unstructured<'_>) -> Result<i64> {
    if u.ratio(7u8, 8)? { Ok(i64::from(u.int_in_range(-7i8..=7)?)) } else { u.arbitrary() }
}

fn count(u: &mut Unstructured<'_>) -> Result<Option<usize>> {
    Ok(match u.int_in_range(0u8..=3)? {
        0 => None,
        1 | 2 => Some(usize::from(u.int_in_range(0u8..=8)?)),
        _ => Some(dim(u)?),
    })
}

fn op(u: &mut Unstructured<'_>) -> Result<Op> {
    Ok(match u.int_in_range(0u8..=16)? {
        0 => Op::MatMul,
        1 => Op::Gemm(Gemm { alpha: float(u)?, beta: float(u)?, trans_a: u.arbitrary()?, trans_b: u.arbitrary()? }),
        2 => Op::Softmax { axis: axis(u)? },
        3 => Op::LayerNormalization { axis: axis(u)?, epsilon: float(u)? },
        4 => Op::RmsNormalization { axis: axis(u)?, epsilon: float(u)? },
        5 => Op::Attention(Attention {
            is_causal: u.arbitrary()?,
            q_num_heads: count(u)?,
            kv_num_heads: count(u)?,
            scale: if u.arbitrary()? { Some(float(u)?) } else { None },
            softcap: float(u)?,
        }),
        6 => Op::RotaryEmbedding(RotaryEmbedding {
            interleaved: u.arbitrary()?,
            rotary_embedding_dim: count(u)?.unwrap_or(0),
            num_heads: count(u)?,
        }),
        7 => Op::Gelu { approximate: if u.arbitrary()? { GeluApproximation::Tanh } else { GeluApproximation::None } },
        8 => Op::Unary(UnaryOp::ALL[u.choose_index(UnaryOp::ALL.len())?]),
        9 => Op::Binary(BinaryOp::ALL[u.choose_index(BinaryOp::ALL.len())?]),
        10 => Op::Reduce {
            op: ReduceOp::ALL[u.choose_index(ReduceOp::ALL.len())?],
            axes: if u.arbitrary()? {
                let n = u.int_in_range(0u8..=6)?;
                Some((0..n).map(|_| axis(u)).collect::<Result<_>>()?)
            } else {
                None
            },
            keepdims: u.arbitrary()?,
        },
        11 => Op::Transpose {
            perm: if u.arbitrary()? {
                let n = u.int_in_range(0u8..=6)?;
                Some(
                    (0..n)
                        .map(|_| if u.ratio(7u8, 8)? { Ok(usize::from(u.int_in_range(0u8..=6)?)) } else { dim(u) })
                        .collect::<Result<_>>()?,
                )
            } else {
                None
            },
        },
        // ---- elementwise with attributes, clipping and selection (ops-elementwise) ----
        13 => Op::LeakyRelu { alpha: float(u)? },
        14 => Op::HardSigmoid { alpha: float(u)?, beta: float(u)? },
        15 => Op::Clip,
        16 => Op::Where,
        _ => Op::Cast { to: dtype(u)? },
    })
}

/// Elements per tensor up to which a valid call also runs on the CPU reference.
const RUN_LIMIT: usize = 1 << 12;

/// Validation, then (small valid calls) the CPU reference on fuzzer-chosen bytes.
pub fn op_validation(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Ok(op) = op(&mut u) else { return };
    let Ok(n) = u.int_in_range(0u8..=7) else { return };
    let mut inputs = Vec::new();
    for _ in 0..n {
        match u.ratio(7u8, 8) {
            Ok(true) => match desc(&mut u) {
                Ok(d) => inputs.push(Some(d)),
                Err(_) => return,
            },
            Ok(false) => inputs.push(None),
            Err(_) => return,
        }
    }
    geometry(&op, &inputs);
    let refs: Vec<Option<&TensorDesc>> = inputs.iter().map(Option::as_ref).collect();
    let _ = op.to_string();
    let outputs = match infer_outputs(&op, &refs) {
        Ok(outputs) => outputs,
        Err(e) => {
            assert!(!e.to_string().is_empty());
            return;
        }
    };
    assert_eq!(outputs.len(), op.output_arity(), "{op}");
    for d in inputs.iter().flatten().chain(&outputs) {
        assert!(d.byte_len().is_ok(), "{op} accepted {d}, whose byte size overflows");
        let _ = d.strides();
    }
    // A call with exactly the inferred outputs validates.
    let handles: Vec<Option<Tensor>> = inputs
        .iter()
        .enumerate()
        .map(|(i, d)| d.clone().map(|d| Tensor::from_parts(TensorId(1 + i as u64), d)))
        .collect();
    let outs: Vec<Option<Tensor>> = outputs
        .iter()
        .enumerate()
        .map(|(i, d)| Some(Tensor::from_parts(TensorId(100 + i as u64), d.clone())))
        .collect();
    let in_refs: Vec<Option<&Tensor>> = handles.iter().map(Option::as_ref).collect();
    let out_refs: Vec<Option<&Tensor>> = outs.iter().map(Option::as_ref).collect();
    if let Err(e) = Call::with_optional(&op, &in_refs, &out_refs) {
        panic!("{op}: the inferred outputs do not validate: {e}");
    }
    // Small valid calls run on the reference, with the rest of the input as contents.
    if inputs.iter().flatten().chain(&outputs).all(|d| d.numel() <= RUN_LIMIT) {
        let contents = u.take_rest();
        run_on_reference(&op, &inputs, &outputs, contents);
    }
}

/// The shared geometry helpers on raw (unvalidated) descriptors.
fn geometry(op: &Op, inputs: &[Option<TensorDesc>]) {
    let get = |i: usize| inputs.get(i).and_then(Option::as_ref);
    if let (Some(a), Some(b)) = (get(0), get(1)) {
        let _ = matmul_geometry(&a.shape, &b.shape);
        let _ = broadcast_shapes("Add", &a.shape, &b.shape);
    }
    let rank = get(0).map_or(0, TensorDesc::rank);
    match op {
        Op::Attention(attrs) => {
            if let (Some(q), Some(k), Some(v)) = (get(0), get(1), get(2)) {
                let _ = attention_geometry(attrs, q, k, v, get(3), get(4).zip(get(5)), get(6));
            }
        }
        Op::RotaryEmbedding(attrs) => {
            if let (Some(x), Some(c), Some(s)) = (get(0), get(1), get(2)) {
                let _ = rotary_geometry(attrs, x, c, s, get(3));
            }
        }
        Op::Reduce { axes, .. } => drop(reduce_axes("ReduceSum", axes.as_deref(), rank)),
        Op::Transpose { perm } => drop(transpose_perm(perm.as_deref(), rank)),
        Op::Softmax { axis } | Op::LayerNormalization { axis, .. } | Op::RmsNormalization { axis, .. } => {
            drop(normalize_axis("Softmax", *axis, rank))
        }
        _ => {}
    }
}

fn run_on_reference(op: &Op, inputs: &[Option<TensorDesc>], outputs: &[TensorDesc], contents: &[u8]) {
    let cpu = hcal_cpu::CpuBackend::new();
    let mut bytes = contents.iter().copied().cycle();
    let ins: Vec<Option<Tensor>> = inputs
        .iter()
        .map(|d| {
            d.as_ref().map(|d| {
                let t = cpu.alloc(d).expect("alloc of a small tensor");
                let n = d.byte_len().expect("validated");
                let data: Vec<u8> = if contents.is_empty() { vec![0; n] } else { bytes.by_ref().take(n).collect() };
                cpu.write(&t, &data).expect("write");
                t
            })
        })
        .collect();
    let outs: Vec<Option<Tensor>> = outputs.iter().map(|d| Some(cpu.alloc(d).expect("alloc"))).collect();
    let in_refs: Vec<Option<&Tensor>> = ins.iter().map(Option::as_ref).collect();
    let out_refs: Vec<Option<&Tensor>> = outs.iter().map(Option::as_ref).collect();
    if let Err(e) = cpu.run_optional(op, &in_refs, &out_refs) {
        panic!("the reference rejected a valid call {op}: {e}");
    }
    for t in outs.iter().flatten() {
        let got = cpu.read(t).expect("read");
        assert_eq!(got.len(), t.desc().byte_len().expect("validated"));
    }
}

/// Bytes as a `model.onnx`: decode, take the single node, map it, infer.
pub fn onnx_model(data: &[u8]) {
    use hcal_onnx::model::OnnxCase;
    let Ok(model) = hcal_onnx::proto::ModelProto::decode(data) else { return };
    let case = OnnxCase { name: "fuzz".into(), dir: std::path::PathBuf::from("/nonexistent"), model };
    let _ = (case.op_name(), case.fed_inputs(), case.graph_outputs());
    let Some(node) = case.single_node() else { return };
    let Some(opset) = case.opset(&node.domain) else { return };
    let Some(graph) = case.model.graph.as_ref() else { return };
    for name in node.input.iter().chain(&node.output) {
        let _ = case.declared_type(name);
    }
    let mut initializers = Vec::new();
    for t in &graph.initializer {
        if let Ok(tensor) = hcal_onnx::tensor::decode(t) {
            let _ = (tensor.desc(), tensor.numel(), tensor.type_string());
            if tensor.numel() <= RUN_LIMIT {
                let _ = (tensor.values(), tensor.ints());
            }
            initializers.push(tensor);
        }
    }
    let node_inputs: Vec<Option<&hcal_onnx::tensor::OnnxTensor>> = node
        .input
        .iter()
        .map(|n| if n.is_empty() { None } else { initializers.iter().find(|t| &t.name == n) })
        .collect();
    let Ok(mapping) = hcal_onnx::mapping::map_node(node, opset, &node_inputs) else { return };
    let _ = mapping.op.to_string();
    let descs: Vec<Option<TensorDesc>> = mapping
        .inputs
        .iter()
        .map(|slot| slot.and_then(|k| node_inputs.get(k).copied().flatten()).and_then(|t| t.desc()))
        .collect();
    let refs: Vec<Option<&TensorDesc>> = descs.iter().map(Option::as_ref).collect();
    let _ = infer_outputs(&mapping.op, &refs);
}

/// Bytes as an `input_K.pb`: decode as stored and as each declared 16-bit type.
pub fn onnx_tensor(data: &[u8]) {
    use hcal_onnx::proto::data_type;
    let Ok(proto) = hcal_onnx::proto::TensorProto::decode(data) else { return };
    let _ = data_type::name(proto.data_type);
    for declared in [None, Some(data_type::FLOAT16), Some(data_type::BFLOAT16), Some(data_type::UINT16)] {
        let Ok(t) = hcal_onnx::tensor::decode_declared(&proto, declared) else { continue };
        let _ = (t.desc(), t.dtype(), t.numel(), t.type_string());
        // Decoded data has exactly the shape's bytes, so converting it is bounded by the input.
        let _ = (t.values(), t.ints());
    }
}

/// The chaos plugin (`hcal_plugin::test_plugins::chaos`), loaded once and
/// kept loaded, with its script setter. `None` without a C compiler at build time.
fn chaos() -> Option<&'static (libloading::Library, ChaosSetScript)> {
    static CHAOS: std::sync::OnceLock<Option<(libloading::Library, ChaosSetScript)>> = std::sync::OnceLock::new();
    CHAOS
        .get_or_init(|| {
            let path = hcal_plugin::test_plugins::chaos()?;
            // SAFETY: the chaos plugin is this repository's test code; loading
            // it runs no initializer. Its setter has the C signature
            // `void hcal_chaos_set_script(const uint8_t *, size_t)`, which
            // ChaosSetScript mirrors, and is only called while `library`
            // (kept in this static for the process's life) is loaded.
            unsafe {
                let library = libloading::Library::new(path).expect("load the chaos plugin");
                let set: ChaosSetScript = *library.get(b"hcal_chaos_set_script\0").expect("the chaos setter");
                Some((library, set))
            }
        })
        .as_ref()
}

/// `void hcal_chaos_set_script(const uint8_t *bytes, size_t len)`.
type ChaosSetScript = unsafe extern "C" fn(*const u8, usize);

/// Bytes -> the chaos plugin's script (every answer it gives: its function
/// table, create, get_info, last_error, status codes, handles, what read and
/// execute write) and a sequence of host calls through `hcal_plugin::open`
/// (alloc, write, read, free, supports, run, sync, double and foreign frees).
/// The loader must turn every malformed answer into an `Err`: the target
/// returns normally unless something panics or crashes (a host bug), and
/// checks what an `Ok` promises: an allocated tensor has the asked
/// descriptor, a read has exactly the tensor's bytes, the name and info are
/// strings. Skips without the chaos plugin (no C compiler at build time).
pub fn plugin_abi(data: &[u8]) {
    let Some((_library, set_script)) = chaos() else { return };
    let mut u = Unstructured::new(data);
    let Ok(script) = u.arbitrary::<Vec<u8>>() else { return };
    // SAFETY: the setter copies `script.len()` bytes from a live slice.
    unsafe { set_script(script.as_ptr(), script.len()) };
    let path = hcal_plugin::test_plugins::chaos().expect("loaded above");
    if u.ratio(1u8, 8).unwrap_or(false) {
        if let Ok(name) = hcal_plugin::plugin_name(path) {
            assert!(!name.is_empty() && name.is_ascii(), "a listed name is a valid backend name: {name:?}");
        }
        return;
    }
    let options = if u.ratio(1u8, 4).unwrap_or(false) { "opt=1" } else { "" };
    let backend = match hcal_plugin::open(path, options) {
        Ok(b) => b,
        Err(e) => {
            assert!(matches!(e, hcal_core::Error::Plugin { .. }), "open fails with a plugin error: {e:?}");
            return;
        }
    };
    let info = backend.info();
    assert_eq!(info.backend, "chaos");
    let _ = (info.name.len(), info.vendor.len(), info.driver.len());
    let mut tensors: Vec<Tensor> = Vec::new();
    for _ in 0..u.int_in_range(0u8..=24).unwrap_or(0) {
        let Ok(action) = u.int_in_range(0u8..=8) else { break };
        let pick = |u: &mut Unstructured<'_>, tensors: &[Tensor]| -> Option<Tensor> {
            if tensors.is_empty() { None } else { u.choose(tensors).ok().cloned() }
        };
        match action {
            0 => {
                let rank = u.int_in_range(0u8..=3).unwrap_or(1);
                let shape: Vec<usize> = (0..rank).map(|_| usize::from(u.int_in_range(0u8..=5).unwrap_or(1))).collect();
                let desc = TensorDesc::new(shape, if u.arbitrary().unwrap_or(false) { DType::F32 } else { DType::F16 });
                if let Ok(t) = backend.alloc(&desc) {
                    assert_eq!(t.desc(), &desc, "alloc gives the asked descriptor");
                    tensors.push(t);
                }
            }
            1 => {
                if let Some(t) = pick(&mut u, &tensors) {
                    let len = t.desc().byte_len().unwrap_or(0);
                    let wrong = u.ratio(1u8, 8).unwrap_or(false);
                    let bytes = vec![0x3Cu8; if wrong { len + 1 } else { len }];
                    let r = backend.write(&t, &bytes);
                    assert!(!wrong || r.is_err(), "a write of the wrong length is refused");
                }
            }
            2 => {
                if let Some(t) = pick(&mut u, &tensors)
                    && let Ok(bytes) = backend.read(&t)
                {
                    assert_eq!(bytes.len(), t.desc().byte_len().unwrap_or(0), "a read has the tensor's bytes");
                }
            }
            3 => {
                if let Some(t) = pick(&mut u, &tensors) {
                    // Twice at times: the second is an InvalidTensor error.
                    let _ = backend.free(&t);
                    if u.ratio(1u8, 4).unwrap_or(false) {
                        assert!(backend.free(&t).is_err(), "a double free is refused");
                    }
                    tensors.retain(|x| x.id() != t.id());
                }
            }
            4 => {
                let desc = TensorDesc::new([4], DType::F32);
                if let Ok(sig) = hcal_core::OpSignature::new(Op::Unary(UnaryOp::Relu), vec![Some(desc)]) {
                    let _ = backend.supports(&sig);
                }
            }
            5 | 6 => {
                let (Some(x), Some(y)) = (pick(&mut u, &tensors), pick(&mut u, &tensors)) else { continue };
                let op = if action == 5 { Op::Unary(UnaryOp::Relu) } else { Op::Binary(BinaryOp::Add) };
                let inputs: Vec<&Tensor> = if action == 5 { vec![&x] } else { vec![&x, &x] };
                let _ = backend.run(&op, &inputs, &[&y]);
            }
            7 => {
                let _ = backend.sync();
            }
            _ => {
                // A handle this backend never gave out.
                let foreign = Tensor::from_parts(TensorId(u64::MAX - 3), TensorDesc::new([1], DType::F32));
                assert!(
                    backend.read(&foreign).is_err() && backend.free(&foreign).is_err(),
                    "foreign handles are refused"
                );
            }
        }
    }
    drop(backend);
}

/// A fuzz target: one input, returns normally or panics.
pub type Target = fn(&[u8]);

/// The targets by name, for the stable runner.
pub const TARGETS: [(&str, Target); 5] = [
    ("op_validation", op_validation),
    ("onnx_model", onnx_model),
    ("onnx_tensor", onnx_tensor),
    ("plugin_abi", plugin_abi),
    ("gguf_reader", gguf_reader),
];

/// Bytes -> a GGUF file -> `Gguf::open`, every metadata entry, every
/// tensor's bytes (and f32 values where the type has them), the Llama config,
/// the tokenizer (encoding and decoding a sample) and the chat template:
/// malformed files are errors, never a panic, an abort or a hang.
pub fn gguf_reader(data: &[u8]) {
    // The reader opens paths: one scratch file per process, rewritten per input.
    thread_local! {
        static PATH: std::path::PathBuf =
            std::env::temp_dir().join(format!("hcal-fuzz-gguf-{}.gguf", std::process::id()));
    }
    PATH.with(|path| {
        if std::fs::write(path, data).is_err() {
            return;
        }
        let Ok(gguf) = hcal_gguf::Gguf::open(path) else { return };
        for (key, value) in gguf.metadata_entries() {
            std::hint::black_box((key, value));
        }
        for info in gguf.tensors() {
            if let Ok(bytes) = gguf.tensor_bytes(info) {
                std::hint::black_box(bytes.len());
                let _ = gguf.tensor_f32(info);
            }
        }
        let _ = hcal_gguf::LlamaConfig::from_gguf(&gguf);
        if let Ok(tokenizer) = hcal_gguf::Tokenizer::from_gguf(&gguf) {
            let ids = tokenizer.encode("<|im_start|>user\nWhat is 12 + 30? héllo 🙂<|im_end|>");
            let _ = tokenizer.decode(&ids);
        }
        if let Ok(template) = hcal_gguf::ChatTemplate::from_gguf(&gguf) {
            let _ = template.format(&[hcal_gguf::Message::new("user", "hi")], true);
        }
    });
}
