//! The RoPE tables of a model: `cos` and `sin` per position and rotated
//! pair, on the device, repeated per head where Q and K rotate in one op.

use hcal::{Device, DeviceTensor};
use hcal_gguf::LlamaConfig;

use crate::{LlmError, Result};

/// The RoPE tables on the device, `[max_positions, repeats * R / 2]`: row `p`
/// holds [`rope_tables`]' `R / 2` values for position `p`, `repeats` times.
///
/// With `repeats = Hq + Hkv` (every layer's projections stacked
/// and the whole head rotated, `R = D`), one `RotaryEmbedding` rotates a
/// step's queries and keys together: the product's row `[Q | K | V]` taken as
/// one head of `(Hq + 2 Hkv) D` features whose first `(Hq + Hkv) D` rotate,
/// pair `i` by the table's column `i`, that is by head `i / (D / 2)`'s pair
/// `i mod D / 2`, exactly as a per-head rotation pairs them; the values pass
/// through. That saves one dispatch per layer, and each feature is computed
/// by the same formula from the same values, so no bit changes. The cost is
/// tables `Hq + Hkv` times larger, `(Hq + Hkv) / (2 L Hkv)` of the f32 KV
/// cache for `L` layers (SmolLM2: 6.7%, 0.3 MB for the chat's 100 positions;
/// Llama-3-8B: 7.8%).
/// With `repeats = 1` queries and keys rotate in two ops, per head.
pub(crate) struct RopeTables {
    pub(crate) cos: DeviceTensor,
    pub(crate) sin: DeviceTensor,
    pub(crate) repeats: usize,
}

impl RopeTables {
    /// The tables for `max_positions` positions of `config`'s rotation,
    /// each row repeated `repeats` times, on `device`.
    ///
    /// # Errors
    /// A rotary dimension that cannot pair within a head
    /// ([`check_rope_dimension`]); device errors.
    pub(crate) fn new(device: &Device, config: &LlamaConfig, max_positions: usize, repeats: usize) -> Result<Self> {
        check_rope_dimension(config.rope_dimension_count, config.head_dim())?;
        let half = config.rope_dimension_count / 2;
        let (cos, sin) = rope_tables(config, max_positions);
        let tiled = |t: Vec<f32>| -> Vec<f32> { t.chunks(half).flat_map(|row| row.repeat(repeats)).collect() };
        Ok(Self {
            cos: device.tensor_f32(&[max_positions, repeats * half], &tiled(cos))?,
            sin: device.tensor_f32(&[max_positions, repeats * half], &tiled(sin))?,
            repeats,
        })
    }
}

/// RoPE turns pairs of features within a head: `R` must be even and
/// `2 <= R <= D` (a GGUF's `rope.dimension_count` is data).
fn check_rope_dimension(r: usize, d: usize) -> Result<()> {
    if r < 2 || r % 2 != 0 || r > d {
        return Err(LlmError::Model(format!(
            "rope.dimension_count {r} must be even, at least 2 and at most the head dimension {d}"
        )));
    }
    Ok(())
}

/// `cos` and `sin` of `p * base^(-2i / R)` for positions `p` and pairs `i` of
/// the `R = rope_dimension_count` rotated features.
fn rope_tables(c: &LlamaConfig, positions: usize) -> (Vec<f32>, Vec<f32>) {
    let (r, half) = (c.rope_dimension_count as f64, c.rope_dimension_count / 2);
    let base = f64::from(c.rope_freq_base);
    let mut cos = Vec::with_capacity(positions * half);
    let mut sin = Vec::with_capacity(positions * half);
    for p in 0..positions {
        for i in 0..half {
            let angle = p as f64 * base.powf(-2.0 * i as f64 / r);
            cos.push(angle.cos() as f32);
            sin.push(angle.sin() as f32);
        }
    }
    (cos, sin)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rope_dimension_that_cannot_pair_within_a_head_is_an_error() {
        for (r, d) in [(0, 64), (1, 64), (63, 64), (66, 64)] {
            let err = check_rope_dimension(r, d).unwrap_err().to_string();
            assert!(err.contains(&format!("rope.dimension_count {r}")), "{err}");
        }
        for (r, d) in [(2, 64), (32, 64), (64, 64)] {
            check_rope_dimension(r, d).unwrap();
        }
    }
}
