//! Hand-derived Softmax, LayerNormalization, RMSNormalization, Attention and
//! RotaryEmbedding cases for the reference backend.

mod common;

use common::{In, TOL, assert_close, f32_from_bytes, run_f32, run_raw};
use hcal_core::{Attention, DType, Op, RotaryEmbedding};

fn ln(x: f64) -> f32 {
    x.ln() as f32
}

// ---- Softmax --------------------------------------------------------------------

#[test]
fn softmax_last_axis() {
    // Row [0,0,0]: equal values give 1/3 each; row [0, ln2, ln3]: exps 1,2,3 over 6.
    let x = [0., 0., 0., 0., ln(2.), ln(3.)];
    let y = run_f32(&Op::Softmax { axis: -1 }, &[In::F32(&[2, 3], &x)], &[2, 3]);
    assert_close("softmax axis=-1", &y, &[1. / 3., 1. / 3., 1. / 3., 1. / 6., 2. / 6., 3. / 6.], TOL);
}

#[test]
fn softmax_axis0() {
    // Columns of [[0,1],[0,0]]: column 0 equal -> 1/2 each; column 1 -> e/(e+1) over 1/(e+1).
    let e = std::f64::consts::E;
    let y = run_f32(&Op::Softmax { axis: 0 }, &[In::F32(&[2, 2], &[0., 1., 0., 0.])], &[2, 2]);
    assert_close("softmax axis=0", &y, &[0.5, e / (e + 1.), 0.5, 1. / (e + 1.)], TOL);
}

#[test]
fn softmax_middle_axis_with_inner_dims() {
    // X[0,:,0] = [0,0] -> 1/2 each; X[0,:,1] = [0, ln3] -> exps 1,3 over 4.
    let y = run_f32(&Op::Softmax { axis: 1 }, &[In::F32(&[1, 2, 2], &[0., 0., 0., ln(3.)])], &[1, 2, 2]);
    assert_close("softmax axis=1", &y, &[0.5, 0.25, 0.5, 0.75], TOL);
}

#[test]
fn softmax_large_magnitudes_stay_finite() {
    // Equal values give 1/2 however large; max subtraction keeps exp(0)=1 instead of exp(1000)=inf.
    let x = [1000., 1000., -1000., -1000., 3e38, 3e38];
    let y = run_f32(&Op::Softmax { axis: -1 }, &[In::F32(&[3, 2], &x)], &[3, 2]);
    assert_close("softmax large", &y, &[0.5; 6], TOL);
}

#[test]
fn softmax_large_offset_uneven() {
    // [1000, 1000+ln3] is [0, ln3] shifted: 1/4, 3/4 (1000+ln3 rounds in f32, so a looser tolerance).
    let x = [1000., 1000. + 3f32.ln()];
    let shift = f64::from(x[1]) - 1000.0;
    let p1 = shift.exp() / (1.0 + shift.exp());
    let y = run_f32(&Op::Softmax { axis: -1 }, &[In::F32(&[2], &x)], &[2]);
    assert_close("softmax large uneven", &y, &[1.0 - p1, p1], TOL);
}

#[test]
fn softmax_minus_inf_entries_get_zero_weight() {
    // exp(-inf - 0) = 0: [-inf, 0] -> [0, 1]; [-inf, ln3, 0] -> [0, 3/4, 1/4].
    let x = [f32::NEG_INFINITY, 0., f32::NEG_INFINITY, ln(3.), 0.];
    let y = run_f32(&Op::Softmax { axis: 0 }, &[In::F32(&[2], &x[..2])], &[2]);
    assert_close("softmax -inf", &y, &[0., 1.], TOL);
    let y = run_f32(&Op::Softmax { axis: 0 }, &[In::F32(&[3], &x[2..])], &[3]);
    assert_close("softmax -inf 3", &y, &[0., 0.75, 0.25], TOL);
}

// ---- LayerNormalization -----------------------------------------------------------

/// sqrt(3/2) = 1 / sqrt(2/3): [1,2,3] has mean 2 and variance 2/3.
fn s() -> f64 {
    1.5f64.sqrt()
}

#[test]
fn layernorm_no_bias_unit_scale() {
    // [1,2,3]: mu=2, var=(1+0+1)/3=2/3, eps=0 -> [-1,0,1]/sqrt(2/3).
    let op = Op::LayerNormalization { axis: -1, epsilon: 0.0 };
    let y = run_f32(&op, &[In::F32(&[3], &[1., 2., 3.]), In::F32(&[3], &[1., 1., 1.])], &[3]);
    assert_close("layernorm", &y, &[-s(), 0., s()], TOL);
}

#[test]
fn layernorm_scale_and_bias() {
    // Normalized [-s,0,s] times scale [1,2,0.5] plus bias [0.5,-1,0] = [0.5-s, -1, s/2].
    let op = Op::LayerNormalization { axis: -1, epsilon: 0.0 };
    let y = run_f32(
        &op,
        &[In::F32(&[3], &[1., 2., 3.]), In::F32(&[3], &[1., 2., 0.5]), In::F32(&[3], &[0.5, -1., 0.])],
        &[3],
    );
    assert_close("layernorm bias", &y, &[0.5 - s(), -1., s() / 2.], TOL);
}

#[test]
fn layernorm_absent_bias_slot() {
    // Scale 2 everywhere and an explicit None for B: 2 * [-s,0,s].
    let op = Op::LayerNormalization { axis: -1, epsilon: 0.0 };
    let y = run_f32(&op, &[In::F32(&[3], &[1., 2., 3.]), In::F32(&[3], &[2., 2., 2.]), In::Absent], &[3]);
    assert_close("layernorm None bias", &y, &[-2. * s(), 0., 2. * s()], TOL);
}

#[test]
fn layernorm_rows_are_independent() {
    // Row [10,20,30]: mu=20, var=200/3 -> [-10,0,10]/sqrt(200/3) = [-s,0,s], same as row [1,2,3].
    let op = Op::LayerNormalization { axis: 1, epsilon: 0.0 };
    let y = run_f32(&op, &[In::F32(&[2, 3], &[1., 2., 3., 10., 20., 30.]), In::F32(&[3], &[1., 1., 1.])], &[2, 3]);
    assert_close("layernorm rows", &y, &[-s(), 0., s(), -s(), 0., s()], TOL);
}

#[test]
fn layernorm_epsilon() {
    // [1,2,3] with eps=0.25: (x-2)/sqrt(2/3 + 0.25) (0.25 is exact in f32).
    let d = (2.0f64 / 3.0 + 0.25).sqrt();
    let op = Op::LayerNormalization { axis: -1, epsilon: 0.25 };
    let y = run_f32(&op, &[In::F32(&[3], &[1., 2., 3.]), In::F32(&[3], &[1., 1., 1.])], &[3]);
    assert_close("layernorm eps", &y, &[-1. / d, 0., 1. / d], TOL);
}

#[test]
fn layernorm_axis0_over_2d_with_broadcast_scale() {
    // All of [[1,2],[3,4]]: mu=2.5, var=(2.25+0.25+0.25+2.25)/4=1.25; scale [1,2] broadcasts over rows.
    let r = 1.25f64.sqrt();
    let op = Op::LayerNormalization { axis: 0, epsilon: 0.0 };
    let y = run_f32(&op, &[In::F32(&[2, 2], &[1., 2., 3., 4.]), In::F32(&[2], &[1., 2.])], &[2, 2]);
    assert_close("layernorm axis=0", &y, &[-1.5 / r, -1.0 / r, 0.5 / r, 3.0 / r], TOL);
}

// ---- RMSNormalization ------------------------------------------------------------

#[test]
fn rmsnorm_3_4() {
    // [3,4]: mean square (9+16)/2 = 12.5; y = x / sqrt(12.5) * scale[1,2].
    let r = 12.5f64.sqrt();
    let op = Op::RmsNormalization { axis: -1, epsilon: 0.0 };
    let y = run_f32(&op, &[In::F32(&[2], &[3., 4.]), In::F32(&[2], &[1., 2.])], &[2]);
    assert_close("rmsnorm", &y, &[3. / r, 8. / r], TOL);
}

#[test]
fn rmsnorm_epsilon_and_rows() {
    // Row [1,1]: ms=1, eps=1 -> 1/sqrt2; row [0,0]: 0/sqrt(0+1) = 0.
    let h = 0.5f64.sqrt();
    let op = Op::RmsNormalization { axis: 1, epsilon: 1.0 };
    let y = run_f32(&op, &[In::F32(&[2, 2], &[1., 1., 0., 0.]), In::F32(&[2], &[1., 1.])], &[2, 2]);
    assert_close("rmsnorm eps", &y, &[h, h, 0., 0.], TOL);
}

#[test]
fn rmsnorm_axis0_over_2d() {
    // All of [[1,-1],[3,-3]]: ms = (1+1+9+9)/4 = 5 -> x/sqrt5 times scale 2 (shape [1]).
    let r = 5f64.sqrt();
    let op = Op::RmsNormalization { axis: 0, epsilon: 0.0 };
    let y = run_f32(&op, &[In::F32(&[2, 2], &[1., -1., 3., -3.]), In::F32(&[1], &[2.])], &[2, 2]);
    assert_close("rmsnorm axis=0", &y, &[2. / r, -2. / r, 6. / r, -6. / r], TOL);
}

// ---- Attention -----------------------------------------------------------------------

fn attn(f: impl FnOnce(&mut Attention)) -> Op {
    let mut a = Attention { scale: Some(1.0), ..Attention::default() };
    f(&mut a);
    Op::Attention(a)
}

/// Shared keys/values: scores q*[0, ln3] = [0, ln3] for q=1 give weights [1/4, 3/4];
/// values [[1,2],[5,6]] then average to [0.25+3.75, 0.5+4.5] = [4,5].
const V2: [f32; 4] = [1., 2., 5., 6.];

#[test]
fn attention_4d_weighted_average_default_scale() {
    // D=4 so scale=1/2; q=[2,0,0,0], k0=0, k1=[ln3,0,0,0] -> scores [0, ln3] -> [1/4,3/4] of V (Dv=2 != D).
    let l3 = ln(3.);
    let q = [2., 0., 0., 0.];
    let k = [0., 0., 0., 0., l3, 0., 0., 0.];
    let op = Op::Attention(Attention::default());
    let y = run_f32(
        &op,
        &[In::F32(&[1, 1, 1, 4], &q), In::F32(&[1, 1, 2, 4], &k), In::F32(&[1, 1, 2, 2], &V2)],
        &[1, 1, 1, 2],
    );
    assert_close("attention 4-D", &y, &[4., 5.], TOL);
}

#[test]
fn attention_causal_first_row_is_v0() {
    // Row 0 sees only key 0 (weight 1) -> v0 = [1,2]; row 1 sees [0, ln3] -> [4,5].
    let k = [0., ln(3.)];
    let op = attn(|a| a.is_causal = true);
    let y = run_f32(
        &op,
        &[In::F32(&[1, 1, 2, 1], &[1., 1.]), In::F32(&[1, 1, 2, 1], &k), In::F32(&[1, 1, 2, 2], &V2)],
        &[1, 1, 2, 2],
    );
    assert_close("attention causal", &y, &[1., 2., 4., 5.], TOL);
}

#[test]
fn attention_gqa_two_query_heads_share_one_kv_head() {
    // Hq=2, Hkv=1: head 0 has q=0 -> uniform -> [3,4]; head 1 has q=1 -> [1/4,3/4] -> [4,5]; both read kv head 0.
    let k = [0., ln(3.)];
    let y = run_f32(
        &attn(|_| {}),
        &[In::F32(&[1, 2, 1, 1], &[0., 1.]), In::F32(&[1, 1, 2, 1], &k), In::F32(&[1, 1, 2, 2], &V2)],
        &[1, 2, 1, 2],
    );
    assert_close("attention gqa 2:1", &y, &[3., 4., 4., 5.], TOL);
}

#[test]
fn attention_gqa_head_mapping_is_division() {
    // Hq=4, Hkv=2: heads 0,1 -> kv 0 (keys [0,ln3] -> [4,5]); heads 2,3 -> kv 1 (keys [0,0] -> mean [20,30]).
    let k = [0., ln(3.), 0., 0.];
    let v = [1., 2., 5., 6., 10., 20., 30., 40.];
    let y = run_f32(
        &attn(|_| {}),
        &[In::F32(&[1, 4, 1, 1], &[1.; 4]), In::F32(&[1, 2, 2, 1], &k), In::F32(&[1, 2, 2, 2], &v)],
        &[1, 4, 1, 2],
    );
    assert_close("attention gqa 4:2", &y, &[4., 5., 4., 5., 20., 30., 20., 30.], TOL);
}

#[test]
fn attention_bool_mask_excludes_false_keys() {
    // Key 2 has score 100 but mask false, so only [0, ln3] remain -> [4,5]; v2 = [1000,1000] must not leak.
    let k = [0., ln(3.), 100.];
    let v = [1., 2., 5., 6., 1000., 1000.];
    let y = run_f32(
        &attn(|_| {}),
        &[
            In::F32(&[1, 1, 1, 1], &[1.]),
            In::F32(&[1, 1, 3, 1], &k),
            In::F32(&[1, 1, 3, 2], &v),
            In::Bool(&[1, 3], &[true, true, false]),
        ],
        &[1, 1, 1, 2],
    );
    assert_close("attention bool mask", &y, &[4., 5.], TOL);
}

#[test]
fn attention_float_mask_is_added() {
    // Scores all 0 plus bias [0, ln3] -> weights [1/4,3/4] -> [4,5].
    let y = run_f32(
        &attn(|_| {}),
        &[
            In::F32(&[1, 1, 1, 1], &[1.]),
            In::F32(&[1, 1, 2, 1], &[0., 0.]),
            In::F32(&[1, 1, 2, 2], &V2),
            In::F32(&[1, 2], &[0., ln(3.)]),
        ],
        &[1, 1, 1, 2],
    );
    assert_close("attention float mask", &y, &[4., 5.], TOL);
}

#[test]
fn attention_short_mask_pads_with_minus_inf() {
    // T=3 keys, mask of length 2: key 2 (score 100, value 1000) counts as masked -> [4,5].
    let k = [0., ln(3.), 100.];
    let v = [1., 2., 5., 6., 1000., 1000.];
    let y = run_f32(
        &attn(|_| {}),
        &[
            In::F32(&[1, 1, 1, 1], &[1.]),
            In::F32(&[1, 1, 3, 1], &k),
            In::F32(&[1, 1, 3, 2], &v),
            In::Bool(&[1, 2], &[true, true]),
        ],
        &[1, 1, 1, 2],
    );
    assert_close("attention short mask", &y, &[4., 5.], TOL);
}

#[test]
fn attention_fully_masked_row_is_nan() {
    // Row 0 masks every key: max s = -inf, softmax 0/0 = NaN (ONNX reference); row 1 is normal -> [4,5].
    let k = [0., ln(3.)];
    let y = run_f32(
        &attn(|_| {}),
        &[
            In::F32(&[1, 1, 2, 1], &[1., 1.]),
            In::F32(&[1, 1, 2, 1], &k),
            In::F32(&[1, 1, 2, 2], &V2),
            In::Bool(&[2, 2], &[false, false, true, true]),
        ],
        &[1, 1, 2, 2],
    );
    assert_close("attention fully masked", &y, &[f64::NAN, f64::NAN, 4., 5.], TOL);
}

#[test]
fn attention_past_kv_concatenated_into_present() {
    // past k=[0], v=[1,2]; new k=[ln3], v=[5,6] -> T=2, same [1/4,3/4] average [4,5];
    // present_key = [0, ln3], present_value = [[1,2],[5,6]] (past first).
    let l3 = ln(3.);
    let out = run_raw(
        &attn(|_| {}),
        &[
            In::F32(&[1, 1, 1, 1], &[1.]),
            In::F32(&[1, 1, 1, 1], &[l3]),
            In::F32(&[1, 1, 1, 2], &[5., 6.]),
            In::Absent,
            In::F32(&[1, 1, 1, 1], &[0.]),
            In::F32(&[1, 1, 1, 2], &[1., 2.]),
        ],
        &[Some((&[1, 1, 1, 2], DType::F32)), Some((&[1, 1, 2, 1], DType::F32)), Some((&[1, 1, 2, 2], DType::F32))],
    );
    let get = |i: usize| f32_from_bytes(out[i].as_ref().unwrap());
    assert_close("attention past: Y", &get(0), &[4., 5.], TOL);
    assert_eq!(get(1), [0., l3], "present_key");
    assert_eq!(get(2), [1., 2., 5., 6.], "present_value");
}

#[test]
fn attention_causal_with_past_offsets_the_diagonal() {
    // P=1, Sq=Skv=2: row 0 sees keys 0..=1 ([0,ln3] -> [1/4,3/4]); row 1 sees 0..=2 ([0,ln3,ln4] -> [1/8,3/8,4/8]).
    // Values (Dv=1) [8,16,0]: row 0 = 2+12 = 14; row 1 = 1+6+0 = 7.
    let y = run_f32(
        &attn(|a| a.is_causal = true),
        &[
            In::F32(&[1, 1, 2, 1], &[1., 1.]),
            In::F32(&[1, 1, 2, 1], &[ln(3.), ln(4.)]),
            In::F32(&[1, 1, 2, 1], &[16., 0.]),
            In::Absent,
            In::F32(&[1, 1, 1, 1], &[0.]),
            In::F32(&[1, 1, 1, 1], &[8.]),
        ],
        &[1, 1, 2, 1],
    );
    assert_close("attention causal+past", &y, &[14., 7.], TOL);
}

#[test]
fn attention_3d_packed_heads() {
    // [B,S,H*D], Hq=Hkv=2, D=Dv=1. Head 0 keys [0,ln3] -> [1/4,3/4] of [4,8] = 7;
    // head 1 keys [ln3,0] -> [3/4,1/4] of [0,40] = 10. K/V flat order is (s, h).
    let l3 = ln(3.);
    let op = attn(|a| {
        a.q_num_heads = Some(2);
        a.kv_num_heads = Some(2);
    });
    let y = run_f32(
        &op,
        &[
            In::F32(&[1, 1, 2], &[1., 1.]),
            In::F32(&[1, 2, 2], &[0., l3, l3, 0.]),
            In::F32(&[1, 2, 2], &[4., 0., 8., 40.]),
        ],
        &[1, 1, 2],
    );
    assert_close("attention 3-D", &y, &[7., 10.], TOL);
}

#[test]
fn attention_softcap() {
    // scale 1, q=1, k=[0,4], c=2: s = [0, 2 tanh(2)]; with v=[0,1] y = p_1 = 1/(1+exp(-2 tanh 2)).
    let s1 = 2.0 * 2f64.tanh();
    let y = run_f32(
        &attn(|a| a.softcap = 2.0),
        &[In::F32(&[1, 1, 1, 1], &[1.]), In::F32(&[1, 1, 2, 1], &[0., 4.]), In::F32(&[1, 1, 2, 1], &[0., 1.])],
        &[1, 1, 1, 1],
    );
    assert_close("attention softcap", &y, &[1. / (1. + (-s1).exp())], TOL);
}

#[test]
fn attention_batches_are_independent() {
    // B=2: batch 0 keys [0,ln3] -> [4,5]; batch 1 keys [0,0] over values [[10,20],[30,40]] -> [20,30].
    let k = [0., ln(3.), 0., 0.];
    let v = [1., 2., 5., 6., 10., 20., 30., 40.];
    let y = run_f32(
        &attn(|_| {}),
        &[In::F32(&[2, 1, 1, 1], &[1., 1.]), In::F32(&[2, 1, 2, 1], &k), In::F32(&[2, 1, 2, 2], &v)],
        &[2, 1, 1, 2],
    );
    assert_close("attention batch", &y, &[4., 5., 20., 30.], TOL);
}

#[test]
fn attention_per_head_4d_mask() {
    // mask [1,2,1,2]: head 0 keeps only key 0 -> v0 = [1,2]; head 1 keeps only key 1 -> v1 = [5,6].
    let y = run_f32(
        &attn(|_| {}),
        &[
            In::F32(&[1, 2, 1, 1], &[1., 1.]),
            In::F32(&[1, 1, 2, 1], &[0., 0.]),
            In::F32(&[1, 1, 2, 2], &V2),
            In::Bool(&[1, 2, 1, 2], &[true, false, false, true]),
        ],
        &[1, 2, 1, 2],
    );
    assert_close("attention per-head mask", &y, &[1., 2., 5., 6.], TOL);
}

#[test]
fn attention_per_batch_mask() {
    // mask [2,1,1,2] = [B, 1, Sq, T]: batch 0 keeps key 1 -> [5,6]; batch 1 keeps both (scores equal) -> mean [3,4].
    let y = run_f32(
        &attn(|_| {}),
        &[
            In::F32(&[2, 1, 1, 1], &[1., 1.]),
            In::F32(&[2, 1, 2, 1], &[0.; 4]),
            In::F32(&[2, 1, 2, 2], &[1., 2., 5., 6., 1., 2., 5., 6.]),
            In::Bool(&[2, 1, 1, 2], &[false, true, true, true]),
        ],
        &[2, 1, 1, 2],
    );
    assert_close("attention per-batch mask", &y, &[5., 6., 3., 4.], TOL);
}

#[test]
fn attention_mask_added_after_softcap() {
    // Raw scores [0,0] stay 0 under softcap 1; the bias [0, ln3] is added afterwards -> [1/4,3/4] -> [4,5].
    // (Capping after the bias would give weights from [0, tanh(ln3)=0.8] instead.)
    let y = run_f32(
        &attn(|a| a.softcap = 1.0),
        &[
            In::F32(&[1, 1, 1, 1], &[1.]),
            In::F32(&[1, 1, 2, 1], &[0., 0.]),
            In::F32(&[1, 1, 2, 2], &V2),
            In::F32(&[1, 2], &[0., ln(3.)]),
        ],
        &[1, 1, 1, 2],
    );
    assert_close("attention softcap then mask", &y, &[4., 5.], TOL);
}

#[test]
fn attention_present_without_past_is_k_and_v() {
    // No past: T = Skv, present_key = K and present_value = V copied unchanged.
    let k = [0., ln(3.)];
    let out = run_raw(
        &attn(|_| {}),
        &[In::F32(&[1, 1, 1, 1], &[1.]), In::F32(&[1, 1, 2, 1], &k), In::F32(&[1, 1, 2, 2], &V2)],
        &[Some((&[1, 1, 1, 2], DType::F32)), Some((&[1, 1, 2, 1], DType::F32)), Some((&[1, 1, 2, 2], DType::F32))],
    );
    let get = |i: usize| f32_from_bytes(out[i].as_ref().unwrap());
    assert_close("attention no past: Y", &get(0), &[4., 5.], TOL);
    assert_eq!(get(1), k, "present_key");
    assert_eq!(get(2), V2, "present_value");
}

#[test]
fn attention_3d_gqa() {
    // 3-D with Hq=2, Hkv=1, D=Dv=1: Q row (s=0) is [q_h0=0, q_h1=1]; keys [0, ln3], values [4, 8].
    // Head 0 uniform -> 6; head 1 [1/4,3/4] -> 1+6 = 7.
    let op = attn(|a| {
        a.q_num_heads = Some(2);
        a.kv_num_heads = Some(1);
    });
    let y = run_f32(
        &op,
        &[In::F32(&[1, 1, 2], &[0., 1.]), In::F32(&[1, 2, 1], &[0., ln(3.)]), In::F32(&[1, 2, 1], &[4., 8.])],
        &[1, 1, 2],
    );
    assert_close("attention 3-D gqa", &y, &[6., 7.], TOL);
}

// ---- RotaryEmbedding --------------------------------------------------------------------

fn rope(interleaved: bool, rotary_embedding_dim: usize, num_heads: Option<usize>) -> Op {
    Op::RotaryEmbedding(RotaryEmbedding { interleaved, rotary_embedding_dim, num_heads })
}

#[test]
fn rope_rotate_half_quarter_turn() {
    // cos=0, sin=1: y1 = -x2, y2 = x1 with x1=[1,2], x2=[3,4] -> [-3,-4,1,2].
    let y = run_f32(
        &rope(false, 0, None),
        &[In::F32(&[1, 1, 1, 4], &[1., 2., 3., 4.]), In::F32(&[1, 1, 2], &[0., 0.]), In::F32(&[1, 1, 2], &[1., 1.])],
        &[1, 1, 1, 4],
    );
    assert_close("rope half", &y, &[-3., -4., 1., 2.], TOL);
}

#[test]
fn rope_interleaved_quarter_turn() {
    // cos=0, sin=1 on pairs (1,2), (3,4): (x1,x2) -> (-x2, x1) -> [-2,1,-4,3].
    let y = run_f32(
        &rope(true, 0, None),
        &[In::F32(&[1, 1, 1, 4], &[1., 2., 3., 4.]), In::F32(&[1, 1, 2], &[0., 0.]), In::F32(&[1, 1, 2], &[1., 1.])],
        &[1, 1, 1, 4],
    );
    assert_close("rope interleaved", &y, &[-2., 1., -4., 3.], TOL);
}

#[test]
fn rope_general_angle() {
    // Pair (1,2) at angle 0.5: (cos-2sin, sin+2cos); pair (3,4) at angle -1: (3cos+4sin, -3sin+4cos) as cos(-1)=cos1.
    let (c0, s0, c1, s1) = (0.5f64.cos(), 0.5f64.sin(), 1f64.cos(), -(1f64.sin()));
    let cos = [c0 as f32, c1 as f32];
    let sin = [s0 as f32, s1 as f32];
    let y = run_f32(
        &rope(false, 0, None),
        &[In::F32(&[1, 1, 1, 4], &[1., 3., 2., 4.]), In::F32(&[1, 1, 2], &cos), In::F32(&[1, 1, 2], &sin)],
        &[1, 1, 1, 4],
    );
    // Rotate-half layout: x1 = [1,3], x2 = [2,4]; output [y1_0, y1_1, y2_0, y2_1].
    let want = [c0 - 2. * s0, 3. * c1 - 4. * s1, s0 + 2. * c0, 3. * s1 + 4. * c1];
    assert_close("rope angle", &y, &want, TOL);
}

#[test]
fn rope_partial_dim_passes_through() {
    // D=6, R=4: first four rotate as in rope_rotate_half_quarter_turn, features 5,6 copied.
    let y = run_f32(
        &rope(false, 4, None),
        &[
            In::F32(&[1, 1, 1, 6], &[1., 2., 3., 4., 5., 6.]),
            In::F32(&[1, 1, 2], &[0., 0.]),
            In::F32(&[1, 1, 2], &[1., 1.]),
        ],
        &[1, 1, 1, 6],
    );
    assert_close("rope partial", &y, &[-3., -4., 1., 2., 5., 6.], TOL);
}

#[test]
fn rope_position_ids_select_cache_rows() {
    // Cache rows: 0 identity, 1 quarter turn (cos 0, sin 1), 2 half turn (cos -1, sin 0).
    // ids [2,1]: token 0 (1,2) -> (-1,-2); token 1 (3,4) -> (-4,3).
    let y = run_f32(
        &rope(false, 0, None),
        &[
            In::F32(&[1, 1, 2, 2], &[1., 2., 3., 4.]),
            In::F32(&[3, 1], &[1., 0., -1.]),
            In::F32(&[3, 1], &[0., 1., 0.]),
            In::I64(&[1, 2], &[2, 1]),
        ],
        &[1, 1, 2, 2],
    );
    assert_close("rope position ids", &y, &[-1., -2., -4., 3.], TOL);
}

#[test]
fn rope_3d_with_num_heads() {
    // [B,S,H*D] with 2 heads of D=2: each head (a,b) -> (-b,a) under cos=0, sin=1: [1,2,3,4] -> [-2,1,-4,3].
    let y = run_f32(
        &rope(false, 0, Some(2)),
        &[In::F32(&[1, 1, 4], &[1., 2., 3., 4.]), In::F32(&[1, 1, 1], &[0.]), In::F32(&[1, 1, 1], &[1.])],
        &[1, 1, 4],
    );
    assert_close("rope 3-D", &y, &[-2., 1., -4., 3.], TOL);
}

#[test]
fn rope_cache_per_batch_without_ids() {
    // cache[b, s]: batch 0 identity keeps (1,2); batch 1 quarter turn maps (3,4) -> (-4,3).
    let y = run_f32(
        &rope(false, 0, None),
        &[In::F32(&[2, 1, 1, 2], &[1., 2., 3., 4.]), In::F32(&[2, 1, 1], &[1., 0.]), In::F32(&[2, 1, 1], &[0., 1.])],
        &[2, 1, 1, 2],
    );
    assert_close("rope per batch", &y, &[1., 2., -4., 3.], TOL);
}

#[test]
fn rope_heads_share_the_token_cache_row() {
    // X [1,2,2,2]; cache[0,s]: s=0 identity, s=1 quarter turn. Both heads: token 0 unchanged, token 1 (a,b) -> (-b,a).
    let y = run_f32(
        &rope(false, 0, None),
        &[
            In::F32(&[1, 2, 2, 2], &[1., 2., 3., 4., 5., 6., 7., 8.]),
            In::F32(&[1, 2, 1], &[1., 0.]),
            In::F32(&[1, 2, 1], &[0., 1.]),
        ],
        &[1, 2, 2, 2],
    );
    assert_close("rope heads", &y, &[1., 2., -4., 3., 5., 6., -8., 7.], TOL);
}
