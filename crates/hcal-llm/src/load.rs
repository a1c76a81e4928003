//! Loading a Llama-architecture GGUF model onto a device: the tensors checked
//! against the config and uploaded packed, the Q/K/V and gate/up weights
//! stacked where the layout and the device allow, the RoPE tables.

use hcal::{DType, Device, DeviceTensor, Op, OpSignature, SplitRotaryScatter, Support, TensorDesc, UnaryOp};
use hcal_gguf::{GgmlType, Gguf, LlamaConfig, TensorInfo};

use crate::rope::RopeTables;
use crate::{CachedStep, GateUp, Layer, LlmError, Model, Projections, QkvLayout, Result};

/// The hcal dtype of a GGML tensor type the runner loads.
fn hcal_dtype(info: &TensorInfo) -> Result<DType> {
    match info.ggml_type() {
        GgmlType::F32 => Ok(DType::F32),
        GgmlType::F16 => Ok(DType::F16),
        GgmlType::Q4_0 => Ok(DType::Q4_0),
        GgmlType::Q4_1 => Ok(DType::Q4_1),
        GgmlType::Q8_0 => Ok(DType::Q8_0),
        other => Err(LlmError::Model(format!("tensor {} is {other:?}, which hcal does not define", info.name()))),
    }
}

/// Whether `device` runs a decode step's `SplitRotaryScatter` for `config`
/// with caches of `max_positions` (f32, as the cache is).
fn runs_split_rotary_scatter(
    device: &Device,
    config: &LlamaConfig,
    max_positions: usize,
    attrs: SplitRotaryScatter,
) -> bool {
    let (d, hkv) = (config.head_dim(), config.head_count_kv);
    let f32 = |shape: &[usize]| TensorDesc::new(shape, DType::F32);
    let qkv = f32(&[1, 1, (config.head_count + 2 * hkv) * d]);
    let cache = f32(&[1, hkv, max_positions, d]);
    let table = f32(&[max_positions, config.rope_dimension_count / 2]);
    let at = TensorDesc::new([1], DType::I64);
    supported(device, &Op::SplitRotaryScatter(attrs), &[&qkv, &cache, &cache, &at, &table, &table])
}

/// Whether `device` runs `op` on tensors of these descriptors (a call it
/// would decline, or one that does not validate, is `false`).
fn supported(device: &Device, op: &Op, inputs: &[&TensorDesc]) -> bool {
    OpSignature::new(op.clone(), inputs.iter().map(|&d| Some(d.clone())).collect())
        .is_ok_and(|signature| matches!(device.backend().supports(&signature), Support::Native))
}

/// Whether `device` runs SwiGLU (`GatedUnary` of Silu) on a decode step's
/// `[1, 2F]` stacked gate and up product.
fn runs_swiglu(device: &Device, f: usize) -> bool {
    supported(device, &Op::GatedUnary { activation: UnaryOp::Silu }, &[&TensorDesc::new([1, 2 * f], DType::F32)])
}

impl Model {
    /// Load the model in `gguf` onto `device`, with RoPE tables for
    /// `max_positions` tokens (prompt plus generated).
    ///
    /// # Errors
    /// A missing or mis-shaped tensor, a GGML type hcal does not define, an
    /// architecture other than Llama, device errors.
    pub fn load(device: &Device, gguf: &Gguf, max_positions: usize) -> Result<Self> {
        Self::load_from(device, gguf, max_positions, QkvLayout::OneOp).map_err(|e| e.in_file(gguf.path()))
    }

    pub(crate) fn load_from(device: &Device, gguf: &Gguf, max_positions: usize, layout: QkvLayout) -> Result<Self> {
        let config = LlamaConfig::from_gguf(gguf)?;
        let weight_bytes = std::cell::Cell::new(0);
        // A tensor's dtype and bytes, checked against the shape the config implies.
        let read = |name: &str, shape: &[usize]| -> Result<(DType, Vec<u8>)> {
            let info = gguf.tensor(name).ok_or_else(|| LlmError::Model(format!("the model has no tensor {name}")))?;
            // The type first: a tensor of a type hcal lacks may also have another shape (Q6_K's 256-value blocks).
            let dtype = hcal_dtype(info)?;
            if info.shape() != shape {
                return Err(LlmError::Model(format!("{name} is {:?}, expected {shape:?}", info.shape())));
            }
            Ok((dtype, gguf.tensor_bytes(info)?))
        };
        let to_device = |shape: &[usize], dtype: DType, bytes: &[u8]| -> Result<DeviceTensor> {
            weight_bytes.set(weight_bytes.get() + bytes.len());
            Ok(device.tensor_from_bytes(TensorDesc::new(shape, dtype), bytes)?)
        };
        let upload = |name: &str, shape: &[usize]| -> Result<DeviceTensor> {
            let (dtype, bytes) = read(name, shape)?;
            to_device(shape, dtype, &bytes)
        };
        let (h, d) = (config.embedding_length, config.head_dim());
        let (hq, hkv, f, vocab) =
            (config.head_count, config.head_count_kv, config.feed_forward_length, config.vocab_size);
        let mut layers = Vec::with_capacity(config.block_count);
        for l in 0..config.block_count {
            let p = format!("blk.{l}");
            layers.push(Layer {
                attn_norm: upload(&format!("{p}.attn_norm.weight"), &[h])?,
                qkv: {
                    let rows = [hq * d, hkv * d, hkv * d];
                    let [q, k, v] = ["q", "k", "v"]
                        .into_iter()
                        .zip(rows)
                        .map(|(x, n)| read(&format!("{p}.attn_{x}.weight"), &[n, h]))
                        .collect::<Result<Vec<_>>>()?
                        .try_into()
                        .expect("three weights");
                    if q.0 == k.0 && k.0 == v.0 && layout != QkvLayout::Separate {
                        let bytes = [q.1, k.1, v.1].concat();
                        Projections::Stacked(to_device(&[rows.iter().sum(), h], q.0, &bytes)?)
                    } else {
                        Projections::Separate([
                            to_device(&[rows[0], h], q.0, &q.1)?,
                            to_device(&[rows[1], h], k.0, &k.1)?,
                            to_device(&[rows[2], h], v.0, &v.1)?,
                        ])
                    }
                },
                wo: upload(&format!("{p}.attn_output.weight"), &[h, hq * d])?,
                ffn_norm: upload(&format!("{p}.ffn_norm.weight"), &[h])?,
                gate_up: {
                    let gate = read(&format!("{p}.ffn_gate.weight"), &[f, h])?;
                    let up = read(&format!("{p}.ffn_up.weight"), &[f, h])?;
                    if gate.0 == up.0 && layout == QkvLayout::OneOp && runs_swiglu(device, f) {
                        GateUp::Stacked(to_device(&[2 * f, h], gate.0, &[gate.1, up.1].concat())?)
                    } else {
                        GateUp::Separate([to_device(&[f, h], gate.0, &gate.1)?, to_device(&[f, h], up.0, &up.1)?])
                    }
                },
                w_down: upload(&format!("{p}.ffn_down.weight"), &[h, f])?,
            });
        }
        if gguf.tensor("output.weight").is_some() {
            return Err(LlmError::Model("an untied output.weight is not supported yet".into()));
        }
        let embed = upload("token_embd.weight", &[vocab, h])?;
        let stacked = layers.iter().all(|l| matches!(l.qkv, Projections::Stacked(_)));
        let fused =
            matches!(layout, QkvLayout::OneOp | QkvLayout::Fused) && stacked && config.rope_dimension_count == d;
        let rope = RopeTables::new(device, &config, max_positions, if fused { hq + hkv } else { 1 })?;
        let attrs = SplitRotaryScatter {
            q_num_heads: hq,
            kv_num_heads: hkv,
            interleaved: true,
            rotary_embedding_dim: config.rope_dimension_count,
        };
        let cached_step = if layout == QkvLayout::OneOp
            && stacked
            && runs_split_rotary_scatter(device, &config, max_positions, attrs)
        {
            Some(CachedStep { tables: RopeTables::new(device, &config, max_positions, 1)?, attrs })
        } else {
            None
        };
        let norm = upload("output_norm.weight", &[h])?;
        Ok(Self {
            weight_bytes: weight_bytes.get(),
            embed,
            layers,
            norm,
            rope,
            cached_step,
            normalized_products: layout == QkvLayout::OneOp,
            device: device.clone(),
            config,
            max_positions,
        })
    }
}
