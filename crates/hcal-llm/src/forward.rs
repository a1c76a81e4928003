//! The forward pass of a [`Model`]: the layers over the hidden states (each
//! layer's attention and SwiGLU blocks, with the fused ops where the device
//! runs them and the plain ops where it declines a call), then the logits.

use hcal::{
    Attention, BinaryOp, DeviceTensor, Gemm, RmsNormGemm, RotaryEmbedding, ScatterMode, SplitParts, UnaryOp, ops,
};

use crate::{GateUp, KvCache, Layer, LlmError, Model, Projections, Result};

impl Model {
    /// `logits = RMSNorm(x) E^T` of hidden states `x: [S, hidden]`.
    pub(crate) fn logits(&self, x: &DeviceTensor) -> Result<DeviceTensor> {
        self.normed_product(x, &self.norm, &self.embed)
    }

    /// `RMSNorm(x) W^T` for a weight `W [N, hidden]` as stored: one
    /// `RMSNormGemm` where the layout asks for it and the device runs this
    /// call (on wgpu the decode GEMV normalizes the row as it reads it: a
    /// dispatch fewer), else RMSNormalization then the Gemm it stands for.
    fn normed_product(&self, x: &DeviceTensor, norm: &DeviceTensor, w: &DeviceTensor) -> Result<DeviceTensor> {
        let epsilon = self.config.rms_norm_eps;
        if self.normalized_products {
            let attrs = RmsNormGemm { epsilon, alpha: 1.0, beta: 0.0, trans_b: true };
            match ops::rms_norm_gemm(x, norm, w, None, attrs) {
                Ok(y) => return Ok(y),
                // Declined for this call's shapes: nothing ran, the two ops follow.
                Err(hcal::Error::Unsupported { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
        let a = ops::rms_norm(x, norm, -1, epsilon)?;
        Ok(ops::gemm(&a, w, None, Gemm { alpha: 1.0, beta: 0.0, trans_a: false, trans_b: true })?)
    }

    /// The hidden states `[S, hidden]` after the last layer, the cache
    /// holding `tokens` afterwards.
    pub(crate) fn hidden(&self, tokens: &[u32], cache: &mut KvCache) -> Result<DeviceTensor> {
        self.check_room(tokens.len(), cache)?;
        let rows = self.embed_rows(tokens)?;
        self.hidden_from(rows, cache)
    }

    /// Whether `s` new tokens fit after what `cache` holds, and `cache` is this model's.
    pub(crate) fn check_room(&self, s: usize, cache: &KvCache) -> Result<()> {
        let past = cache.len;
        if s == 0 || past + s > self.max_positions {
            return Err(LlmError::Model(format!(
                "{past} cached + {s} new tokens do not fit the {} positions loaded",
                self.max_positions
            )));
        }
        if cache.capacity() != self.max_positions || cache.layers.len() != self.layers.len() {
            return Err(LlmError::Model("the cache was made by another model".into()));
        }
        Ok(())
    }

    /// [`Model::hidden`] from the tokens' embedding rows `x: [S, hidden]`
    /// (room checked by the caller).
    pub(crate) fn hidden_from(&self, mut x: DeviceTensor, cache: &mut KvCache) -> Result<DeviceTensor> {
        let c = &self.config;
        let (s, past) = (x.shape()[0], cache.len);
        let positions: Vec<i64> = (past..past + s).map(|p| p as i64).collect();
        let positions = self.device.tensor_i64(&[1, s], &positions)?;
        // Where this step's keys go in the cache, and how many it then holds.
        let write_at = self.device.tensor_i64(&[1], &[past as i64])?;
        let valid = self.device.tensor_i64(&[1], &[(past + s) as i64])?;
        let d = c.head_dim();
        // [1, S, heads * D] -> [1, heads, S, D]: a view for one token, else a transpose.
        let heads_first = |t: &DeviceTensor, heads: usize| -> Result<DeviceTensor> {
            if s == 1 {
                return Ok(t.reshape(&[1, heads, 1, d])?);
            }
            Ok(ops::transpose(&t.reshape(&[1, s, heads, d])?, Some(&[0, 2, 1, 3]))?)
        };
        let linear = |a: &DeviceTensor, w: &DeviceTensor| {
            ops::gemm(a, w, None, Gemm { alpha: 1.0, beta: 0.0, trans_a: false, trans_b: true })
        };
        // `x + a W^T` as one Gemm (C = x, beta = 1): the residual add rides
        // in the product's epilogue instead of a dispatch of its own.
        let residual = |x: &DeviceTensor, a: &DeviceTensor, w: &DeviceTensor| {
            ops::gemm(a, w, Some(x), Gemm { alpha: 1.0, beta: 1.0, trans_a: false, trans_b: true })
        };
        // [S, n] -> [1, S, n] (a descriptor-only view) rotated as `heads`
        // heads of which the first `rotated` features turn.
        let rope = |t: &DeviceTensor, heads: usize, rotated: usize| -> Result<DeviceTensor> {
            let attrs = RotaryEmbedding { interleaved: true, rotary_embedding_dim: rotated, num_heads: Some(heads) };
            let t = t.reshape(&[1, s, t.shape().iter().product::<usize>() / s])?;
            Ok(ops::rotary_embedding(&t, &self.rope.cos, &self.rope.sin, Some(&positions), attrs)?)
        };
        let r = c.rope_dimension_count;
        let attention = Attention {
            is_causal: true,
            q_num_heads: Some(c.head_count),
            kv_num_heads: Some(c.head_count_kv),
            ..Default::default()
        };
        let static_cache = Attention { q_num_heads: None, kv_num_heads: None, ..attention };
        // [1, Hq, S, D] -> [S, Hq * D]: a view for one token, else a transpose.
        let tokens_first = |y: DeviceTensor| -> Result<DeviceTensor> {
            if s == 1 {
                return Ok(y.reshape(&[1, c.head_count * d])?);
            }
            Ok(ops::transpose(&y, Some(&[0, 2, 1, 3]))?.reshape(&[s, c.head_count * d])?)
        };
        for (layer, (k_cache, v_cache)) in self.layers.iter().zip(&cache.layers) {
            // The stacked product, when the one-op path computed it and then
            // found this call's shapes declined.
            let mut computed = None;
            if let (Some(step), Projections::Stacked(w), true) = (&self.cached_step, &layer.qkv, past > 0) {
                // Split, RoPE and both cache writes as one op (`CachedStep`).
                let product = self.normed_product(&x, &layer.attn_norm, w)?;
                let qkv = product.reshape(&[1, s, product.shape()[1]])?;
                let (cos, sin) = (&step.tables.cos, &step.tables.sin);
                // A backend may decline this call's shapes (a long step beyond
                // one storage binding, say): nothing ran, the plain ops follow.
                match ops::split_rotary_scatter(&qkv, k_cache, v_cache, &write_at, cos, sin, step.attrs) {
                    Ok(q) => {
                        let y = ops::attention_static_cache(&q, k_cache, v_cache, &valid, static_cache)?;
                        x = self.feed_forward(layer, &residual(&x, &tokens_first(y)?, &layer.wo)?)?;
                        continue;
                    }
                    Err(hcal::Error::Unsupported { .. }) => computed = Some(product),
                    Err(e) => return Err(e.into()),
                }
            }
            let mut stacked = |w: &DeviceTensor| match computed.take() {
                Some(product) => Ok(product),
                None => self.normed_product(&x, &layer.attn_norm, w),
            };
            let sizes = vec![c.head_count * d, c.head_count_kv * d, c.head_count_kv * d];
            let [q, k, v]: [DeviceTensor; 3] = match &layer.qkv {
                // Q and K rotate in one op (see `RopeTables`), then split.
                Projections::Stacked(w) if self.rope.repeats > 1 => {
                    let qk = (c.head_count + c.head_count_kv) * d;
                    let roped = rope(&stacked(w)?, 1, qk)?;
                    ops::split(&roped, -1, SplitParts::Sizes(sizes))?.try_into().expect("three parts")
                }
                Projections::Stacked(w) => {
                    let parts = ops::split(&stacked(w)?, -1, SplitParts::Sizes(sizes))?;
                    let [q, k, v]: [DeviceTensor; 3] = parts.try_into().expect("three parts");
                    [rope(&q, c.head_count, r)?, rope(&k, c.head_count_kv, r)?, v.reshape(&[1, s, v.shape()[1]])?]
                }
                Projections::Separate(w) => {
                    // One normalization for the three products.
                    let a = ops::rms_norm(&x, &layer.attn_norm, -1, c.rms_norm_eps)?;
                    [
                        rope(&linear(&a, &w[0])?, c.head_count, r)?,
                        rope(&linear(&a, &w[1])?, c.head_count_kv, r)?,
                        linear(&a, &w[2])?.reshape(&[1, s, c.head_count_kv * d])?,
                    ]
                }
            };
            for (new, cached) in [(&k, k_cache), (&v, v_cache)] {
                let new = heads_first(new, c.head_count_kv)?;
                ops::tensor_scatter_in_place(cached, &new, Some(&write_at), 2, ScatterMode::Linear)?;
            }
            let y = if past == 0 {
                // A first prompt sees only its own keys: attend over them directly.
                ops::attention(&q, &k, &v, attention)?.reshape(&[s, c.head_count * d])?
            } else {
                let q = heads_first(&q, c.head_count)?;
                tokens_first(ops::attention_static_cache(&q, k_cache, v_cache, &valid, static_cache)?)?
            };
            x = self.feed_forward(layer, &residual(&x, &y, &layer.wo)?)?;
        }
        cache.len += s;
        Ok(x)
    }

    /// `x + (Silu(b Wg^T) * (b Wu^T)) Wd^T` with `b = RMSNorm(x)`: a layer's SwiGLU block.
    fn feed_forward(&self, layer: &Layer, x: &DeviceTensor) -> Result<DeviceTensor> {
        let eps = self.config.rms_norm_eps;
        let linear = |a: &DeviceTensor, w: &DeviceTensor| {
            ops::gemm(a, w, None, Gemm { alpha: 1.0, beta: 0.0, trans_a: false, trans_b: true })
        };
        let product = match &layer.gate_up {
            GateUp::Stacked(w) => {
                let both = self.normed_product(x, &layer.ffn_norm, w)?;
                match ops::gated_unary(&both, UnaryOp::Silu) {
                    Ok(product) => product,
                    // Declined for this call's shape: the ops GatedUnary stands for.
                    Err(hcal::Error::Unsupported { .. }) => {
                        let [gate, up]: [DeviceTensor; 2] =
                            ops::split(&both, -1, SplitParts::Equal(2))?.try_into().expect("two halves");
                        ops::binary(&ops::unary(&gate, UnaryOp::Silu)?, &up, BinaryOp::Mul)?
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            GateUp::Separate([gate, up]) => {
                let b = ops::rms_norm(x, &layer.ffn_norm, -1, eps)?;
                let gate = ops::unary(&linear(&b, gate)?, UnaryOp::Silu)?;
                ops::binary(&gate, &linear(&b, up)?, BinaryOp::Mul)?
            }
        };
        Ok(ops::gemm(&product, &layer.w_down, Some(x), Gemm { alpha: 1.0, beta: 1.0, trans_a: false, trans_b: true })?)
    }
}
