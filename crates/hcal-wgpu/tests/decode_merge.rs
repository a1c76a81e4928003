//! The combined decode attention (`attention_decode.rs`: one workgroup per
//! key/value head whose 8 lanes take chunks of the keys, then merge them)
//! merges by subgroup broadcasts where subgroups are exactly 8 wide, and
//! through workgroup memory elsewhere or under the `:wgmerge` pin. Both run
//! the same operations in the same order (the running max over the chunks in
//! order, `fma`s in chunk order, one division), so they must agree bit for
//! bit, NaN rows included; each is held to the reference by conformance.
//!
//! Without an adapter each test says so and passes, unless
//! `HCAL_REQUIRE_ADAPTER=1` (CI), where a missing adapter fails.

use hcal_core::{Attention, DType, Op, TensorDesc};
use hcal_wgpu::WgpuBackend;

mod common;
use common::{open, run_bits, values};

/// Attention on `backend` with Q `[1, hq, 1, d]`, K `[1, hkv, keys, d]`, V
/// `[1, hkv, keys, dv]` and, where `masked_head` is given, an additive mask
/// `[1, hq, 1, keys]` that hides every key from that query head: the
/// output's f32 bits and the kernel the backend reports for the call.
fn decode(backend: &WgpuBackend, [hq, hkv, keys, d, dv]: [usize; 5], masked_head: Option<usize>) -> (Vec<u32>, String) {
    let mut shapes = vec![vec![1, hq, 1, d], vec![1, hkv, keys, d], vec![1, hkv, keys, dv]];
    let mut data: Vec<Vec<f32>> =
        shapes.iter().enumerate().map(|(i, s)| values(s.iter().product(), i as u64 + 1)).collect();
    if let Some(head) = masked_head {
        shapes.push(vec![1, hq, 1, keys]);
        data.push((0..hq * keys).map(|i| if i / keys == head { f32::NEG_INFINITY } else { 0.0 }).collect());
    }
    let inputs: Vec<(TensorDesc, Vec<u8>)> = shapes
        .iter()
        .zip(&data)
        .map(|(s, v)| (TensorDesc::new(s.clone(), DType::F32), bytemuck::cast_slice(v).to_vec()))
        .collect();
    run_bits(backend, &Op::Attention(Attention::default()), &inputs)
}

/// On every adapter, the unpinned backend and `:wgmerge` give the same bits
/// on decode steps the combined kernel takes: SmolLM2's heads (G = 3, D =
/// 64) over 8 key/value heads (a workgroup per thread on up to 8 threads),
/// over fewer keys than chunks, a few per chunk and many; G = 4 with D !=
/// Dv; and a query head that sees no key (NaN, as ONNX defines it).
#[test]
fn subgroup_and_workgroup_merges_give_the_same_bits() {
    if open("wgpu").is_none() {
        return;
    }
    let cases: [([usize; 5], Option<usize>); 5] = [
        ([24, 8, 5, 64, 64], None),
        ([24, 8, 37, 64, 64], None),
        ([24, 8, 300, 64, 64], None),
        ([32, 8, 70, 32, 64], None),
        ([24, 8, 40, 64, 64], Some(7)),
    ];
    let mut compared = Vec::new();
    for adapter in hcal_wgpu::adapter_names() {
        let unpinned = WgpuBackend::open(&adapter).expect("a listed adapter opens");
        let workgroup = WgpuBackend::open(&format!("{adapter}:wgmerge")).expect("a listed adapter opens");
        for (dims, masked) in cases {
            let (got, kernel) = decode(&unpinned, dims, masked);
            let (want, reference) = decode(&workgroup, dims, masked);
            assert!(!reference.contains("-subgroups"), "{adapter}:wgmerge ran {reference}");
            let diff = got.iter().zip(&want).position(|(g, w)| g != w);
            assert!(diff.is_none(), "{adapter} {dims:?}: {kernel} and {reference} differ first at flat index {diff:?}");
            if let Some(head) = masked {
                let dv = dims[4];
                let row = &got[head * dv..(head + 1) * dv];
                assert!(
                    row.iter().all(|b| f32::from_bits(*b).is_nan()),
                    "{adapter}: a head that sees no key gives NaN"
                );
            }
            if kernel.contains("-subgroups") {
                compared.push(format!("{adapter} {dims:?}"));
            }
        }
    }
    eprintln!("subgroup merges compared with the workgroup merge: {compared:?}");
}
