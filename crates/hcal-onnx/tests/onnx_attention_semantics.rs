//! The Attention cases listed as expected failures differ from hcal only by
//! ONNX 1.18's two reference defects, and this test proves it: it re-expresses
//! each case in ONNX 1.18's semantics with hcal ops and checks that hcal's
//! reference then reproduces ONNX's expected outputs.
//!
//! - 3-D inputs: ONNX 1.18 reshapes `[B, S, H*D]` straight to `[B, H, S, D]`
//!   (onnx/onnx#7118). Fed the same bytes as a 4-D `[B, H, S, D]` tensor, hcal
//!   computes that; its `[B, H, S, Dv]` output transposed to `[B, S, H, Dv]` is
//!   ONNX's 3-D output.
//! - Grouped-query attention: ONNX 1.18 tiles the KV heads (query head `h`
//!   reads KV head `h mod Hkv`), hcal repeat-interleaves them (`h / g`,
//!   `g = Hq / Hkv`). Permuting the query heads by `sigma(kv*g + j) = j*Hkv + kv`
//!   turns one into the other.
//!
//! Skipped (with a message) when the corpus is not installed.

use hcal_core::{Backend, BackendExt, Op, Tensor, TensorDesc};
use hcal_cpu::CpuBackend;
use hcal_cpu::convert::{from_f64, to_f64};
use hcal_onnx::OnnxDefault;
use hcal_onnx::mapping::map_node;
use hcal_onnx::model::{load_case, load_data_sets};

/// Run `op` on the CPU reference with f64 inputs; every output slot is returned.
fn run(op: &Op, inputs: &[Option<(TensorDesc, Vec<f64>)>]) -> Vec<Vec<f64>> {
    let cpu = CpuBackend::new();
    let tensors: Vec<Option<Tensor>> = inputs
        .iter()
        .map(|i| {
            i.as_ref().map(|(desc, values)| {
                let t = cpu.alloc(desc).unwrap();
                cpu.write(&t, &from_f64(desc.dtype, values)).unwrap();
                t
            })
        })
        .collect();
    let descs: Vec<Option<&TensorDesc>> = inputs.iter().map(|i| i.as_ref().map(|(d, _)| d)).collect();
    let out_descs = hcal_core::infer_outputs(op, &descs).unwrap();
    let outputs: Vec<Tensor> = out_descs.iter().map(|d| cpu.alloc(d).unwrap()).collect();
    let in_refs: Vec<Option<&Tensor>> = tensors.iter().map(Option::as_ref).collect();
    let out_refs: Vec<Option<&Tensor>> = outputs.iter().map(Some).collect();
    cpu.run_optional(op, &in_refs, &out_refs).unwrap();
    outputs.iter().zip(&out_descs).map(|(t, d)| to_f64(d.dtype, &cpu.read(t).unwrap())).collect()
}

/// Reorder the heads (dim 1) of a `[B, H, S, D]` tensor: `out[:, h] = x[:, src(h)]`.
fn permute_heads(x: &[f64], shape: &[usize], src: impl Fn(usize) -> usize) -> Vec<f64> {
    let (b, h, rest) = (shape[0], shape[1], shape[2] * shape[3]);
    let mut out = vec![0.0; x.len()];
    for bi in 0..b {
        for hi in 0..h {
            let (to, from) = ((bi * h + hi) * rest, (bi * h + src(hi)) * rest);
            out[to..to + rest].copy_from_slice(&x[from..from + rest]);
        }
    }
    out
}

/// `[B, H, S, D]` -> `[B, S, H, D]`.
fn heads_to_sequence(x: &[f64], shape: &[usize]) -> Vec<f64> {
    let (b, h, s, d) = (shape[0], shape[1], shape[2], shape[3]);
    let mut out = vec![0.0; x.len()];
    for bi in 0..b {
        for hi in 0..h {
            for si in 0..s {
                let from = ((bi * h + hi) * s + si) * d;
                let to = ((bi * s + si) * h + hi) * d;
                out[to..to + d].copy_from_slice(&x[from..from + d]);
            }
        }
    }
    out
}

#[test]
fn listed_attention_deviations_are_exactly_onnx_1_18_reference_defects() {
    // onnx 1.18's folder: the installed one, or one of HCAL_ONNX_EXTRA_NODE_DIRS (as CI gives it).
    let extra = std::env::var("HCAL_ONNX_EXTRA_NODE_DIRS").unwrap_or_default();
    let candidates =
        hcal_onnx::node_test_dir().into_iter().chain(extra.split(':').filter(|d| !d.is_empty()).map(Into::into));
    let Some(node_dir) = candidates.into_iter().find(|d| hcal_onnx::onnx_version(d).as_deref() == Some("1.18.0"))
    else {
        eprintln!(
            "skipped: no onnx 1.18.0 node tests (pip install onnx==1.18.0, or name its data/node folder in HCAL_ONNX_EXTRA_NODE_DIRS)"
        );
        return;
    };
    let listed: Vec<String> = hcal_onnx::expected::for_version(Some("1.18.0"))
        .into_iter()
        .map(|e| e.case)
        .filter(|c| c.starts_with("test_attention_"))
        .collect();
    assert!(listed.len() >= 20, "the attention deviations are listed: {listed:?}");
    for name in &listed {
        let case = load_case(&node_dir.join(name)).unwrap();
        let node = case.single_node().unwrap();
        let set = &load_data_sets(&case).unwrap()[0];
        let fed = case.fed_inputs();
        let input = |k: usize| {
            node.input.get(k).filter(|n| !n.is_empty()).map(|n| &set.inputs[fed.iter().position(|f| f == n).unwrap()])
        };
        let mapping = map_node(node, case.opset("").unwrap(), &[]).unwrap();
        let Op::Attention(attrs) = mapping.op else { panic!("{name} is not Attention") };
        let (q, k, v) = (input(0).unwrap(), input(1).unwrap(), input(2).unwrap());
        let packed = q.dims.len() == 3;
        let (hq, hkv) =
            if packed { (attrs.q_num_heads.unwrap(), attrs.kv_num_heads.unwrap()) } else { (q.dims[1], k.dims[1]) };
        // ONNX 1.18's bare reshape of 3-D inputs: the same bytes as [B, H, S, D].
        let as_4d = |t: &hcal_onnx::tensor::OnnxTensor, heads: usize| -> Vec<usize> {
            if packed { vec![t.dims[0], heads, t.dims[1], t.dims[2] / heads] } else { t.dims.clone() }
        };
        let (q_shape, k_shape, v_shape) = (as_4d(q, hq), as_4d(k, hkv), as_4d(v, hkv));
        let g = hq / hkv;
        // hcal head kv*g + j must see the query ONNX 1.18 pairs with KV head kv: sigma = j*Hkv + kv.
        let sigma = |h: usize| (h % g) * hkv + h / g;
        let q_values = permute_heads(&q.values().unwrap(), &q_shape, sigma);
        let dtype = q.dtype().unwrap();
        let mut inputs = vec![
            Some((TensorDesc::new(q_shape.clone(), dtype), q_values)),
            Some((TensorDesc::new(k_shape, dtype), k.values().unwrap())),
            Some((TensorDesc::new(v_shape.clone(), dtype), v.values().unwrap())),
        ];
        for slot in 3..6 {
            inputs.push(input(slot).map(|t| (t.desc().unwrap(), t.values().unwrap())));
        }
        let four_d = hcal_core::Attention { q_num_heads: None, kv_num_heads: None, ..attrs };
        let outputs = run(&Op::Attention(four_d), &inputs);
        let y_shape = [q_shape[0], hq, q_shape[2], v_shape[3]];
        // Undo the permutation: ONNX head sigma(h) is hcal head h.
        let mut inverse = vec![0; hq];
        for h in 0..hq {
            inverse[sigma(h)] = h;
        }
        let mut y = permute_heads(&outputs[0], &y_shape, |h| inverse[h]);
        if packed {
            y = heads_to_sequence(&y, &y_shape);
        }
        let graph_outputs = case.graph_outputs();
        for (slot, got) in [y, outputs[1].clone(), outputs[2].clone()].iter().enumerate() {
            let Some(out_name) = node.output.get(slot).filter(|n| !n.is_empty()) else { continue };
            let expected = &set.outputs[graph_outputs.iter().position(|n| n == out_name).unwrap()];
            let cmp = OnnxDefault::compare(got, &expected.values().unwrap());
            assert!(cmp.pass, "{name} output {slot} under ONNX 1.18 semantics: {cmp:?}");
        }
    }
}
