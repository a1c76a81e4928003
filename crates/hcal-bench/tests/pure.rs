//! The pure parts of hcal-bench: SPEC parsing, FLOP and byte models,
//! statistics and the stopping rule, compare logic, the JSON document, suites,
//! and the baseline-differs check. No test here depends on how fast anything
//! runs: timings are made up or only checked for shape.

use hcal::DType;
use hcal_bench::*;

fn mm(spec: &str) -> Workload {
    Workload::new(Shape::parse(OpKind::Matmul, spec).unwrap(), DType::F32)
}

fn att(spec: &str, causal: bool, kv_heads: Option<usize>) -> Workload {
    Workload { shape: Shape::parse(OpKind::Attention, spec).unwrap(), dtype: DType::F32, causal, kv_heads }
}

// ---- SPEC parsing

#[test]
fn specs_parse_into_shapes_and_print_canonically() {
    assert_eq!(Shape::parse(OpKind::Matmul, "1x4096x14336").unwrap(), Shape::Matmul { m: 1, n: 4096, k: 14336 });
    assert_eq!(Shape::parse(OpKind::Matmul, " 8X16x32 ").unwrap().to_string(), "8x16x32");
    let a = Shape::parse(OpKind::Attention, "2x32x512x128").unwrap();
    assert_eq!(a, Shape::Attention { batch: 2, heads: 32, q_len: 512, kv_len: 512, head_dim: 128 });
    assert_eq!(a.to_string(), "2x32x512x128");
    let decode = Shape::parse(OpKind::Attention, "1x32x1x4096x128").unwrap();
    assert_eq!(decode.to_string(), "1x32x1x4096x128");
    assert_eq!(Shape::parse(OpKind::Attention, "1x2x7x7x3").unwrap().to_string(), "1x2x7x3");
}

#[test]
fn malformed_specs_say_what_was_expected() {
    for bad in ["", "64", "64x64", "64x64x64x64", "0x64x64", "64x-1x64", "axbxc", "64x64x"] {
        let err = Shape::parse(OpKind::Matmul, bad).unwrap_err();
        assert!(err.0.contains("matmul shape"), "{bad}: {err}");
    }
    for bad in ["1x8x64", "1x8x64x64x64x64", "1x0x64x64"] {
        let err = Shape::parse(OpKind::Attention, bad).unwrap_err();
        assert!(err.0.contains("attention shape"), "{bad}: {err}");
    }
    assert!(Shape::parse(OpKind::Attention, "1x8x64").unwrap_err().0.contains("BxHxSxD or BxHxSqxSkvxD"));
}

#[test]
fn ops_and_dtypes_parse_case_insensitively() {
    assert_eq!("MatMul".parse::<OpKind>().unwrap(), OpKind::Matmul);
    assert_eq!(" attention ".parse::<OpKind>().unwrap(), OpKind::Attention);
    assert!("conv".parse::<OpKind>().is_err());
    assert_eq!(parse_dtype("f32").unwrap(), DType::F32);
    assert!(parse_dtype("i64").is_err());
}

#[test]
fn workload_options_are_checked_against_the_op() {
    assert!(att("1x8x16x4", true, Some(2)).validate().is_ok());
    assert!(att("1x8x16x4", false, Some(3)).validate().is_err()); // 3 does not divide 8
    assert!(att("1x8x16x4", false, Some(0)).validate().is_err());
    let mut w = mm("8x8x8");
    w.causal = true;
    assert!(w.validate().is_err());
    assert_eq!(att("1x8x16x4", true, Some(2)).key(), "attention/f32/1x8x16x4-kv2-causal");
}

// ---- FLOP and byte models

#[test]
fn matmul_flops_and_bytes() {
    let w = mm("100x200x300");
    assert_eq!(flops(&w), 2 * 100 * 200 * 300);
    assert_eq!(bytes(&w), (100 * 300 + 300 * 200 + 100 * 200) * 4);
    let half = Workload { dtype: DType::F16, ..w.clone() };
    assert_eq!(bytes(&half), bytes(&w) / 2);
    assert_eq!(flops(&half), flops(&w));
    assert!((intensity(&w) - flops(&w) as f64 / bytes(&w) as f64).abs() < 1e-12);
}

/// The visible-pair count against a brute force of the reference backend's
/// mask rule (key j is masked for query i when j > i, no past).
#[test]
fn causal_pairs_match_the_mask_rule() {
    for sq in 0..12 {
        for skv in 0..12 {
            let brute = (0..sq).flat_map(|i| (0..skv).filter(move |&j| j <= i)).count() as u64;
            assert_eq!(attention_pairs(sq, skv, true), brute, "Sq={sq} Skv={skv}");
            assert_eq!(attention_pairs(sq, skv, false), (sq * skv) as u64);
        }
    }
}

#[test]
fn attention_flops_count_visible_pairs_and_bytes_follow_gqa() {
    let full = att("2x8x128x64", false, None);
    assert_eq!(flops(&full), 4 * 2 * 8 * 128 * 128 * 64);
    let causal = att("2x8x128x64", true, None);
    assert_eq!(flops(&causal), 4 * 2 * 8 * 64 * (128 * 129 / 2));
    // A decode step (one query) sees every cached key: nothing is masked.
    let decode = att("1x32x1x4096x128", false, Some(8));
    assert_eq!(flops(&decode), 4 * 32 * 4096 * 128);
    assert_eq!(bytes(&decode), (2 * 32 * 128 + 2 * 8 * 4096 * 128) * 4);
    assert!(intensity(&decode) < 2.0, "decode attention is memory bound");
}

#[test]
fn roofline_is_the_lower_of_the_two_roofs() {
    assert_eq!(roofline(1000.0, 100.0, 1.0), 100.0);
    assert_eq!(roofline(1000.0, 100.0, 10.0), 1000.0);
    assert_eq!(roofline(1000.0, 100.0, 1000.0), 1000.0);
}

// ---- statistics and the stopping rule

#[test]
fn summaries_are_robust_and_reject_bad_samples() {
    let s = Summary::of(&[4.0, 1.0, 3.0, 2.0]).unwrap();
    assert_eq!((s.n, s.median, s.min, s.max, s.mean), (4, 2.5, 1.0, 4.0, 2.5));
    assert_eq!(s.mad, 1.0);
    assert!(Summary::of(&[]).is_none());
    assert!(Summary::of(&[1.0, f64::NAN]).is_none());
    assert_eq!(Summary::of(&[0.0, 0.0]).unwrap().rel_noise, 0.0);
    let one = Summary::of(&[7.0]).unwrap();
    assert_eq!((one.median, one.mad, one.rel_noise), (7.0, 0.0, 0.0));
    // One wild outlier barely moves the robust noise.
    let calm = Summary::of(&[1.0, 1.01, 0.99, 1.0, 1.02, 0.98, 1.0]).unwrap();
    let outlier = Summary::of(&[1.0, 1.01, 0.99, 1.0, 1.02, 0.98, 50.0]).unwrap();
    assert!(outlier.rel_noise < 2.0 * calm.rel_noise + 1e-9);
}

#[test]
fn sampling_stops_when_stable_or_at_a_cap() {
    let p = RepPolicy { min_reps: 5, max_reps: 8, max_time_s: 1.0, target_rel_error: 0.01, ..RepPolicy::default() };
    let noisy = [1.0, 1.3, 0.8, 1.2, 0.9, 1.25, 0.85];
    assert_eq!(p.stop(&[], 0.0), None);
    assert_eq!(p.stop(&[1.0; 4], 0.1), None);
    assert_eq!(p.stop(&[1.0; 5], 0.1), Some(Stop::Stable));
    assert_eq!(p.stop(&noisy[..5], 0.1), None);
    assert_eq!(p.stop(&[noisy.as_slice(), &[1.5]].concat(), 0.1), Some(Stop::RepCap));
    assert_eq!(p.stop(&noisy[..3], 1.5), Some(Stop::TimeCap));
    assert_eq!(p.stop(&noisy[..2], 1.5), None); // within budget per call: take a third
    assert_eq!(p.stop(&[5.0], 5.0), Some(Stop::TimeCap)); // one call alone blew the budget
    let quick = RepPolicy::quick();
    assert!(quick.max_reps < RepPolicy::default().max_reps);
}

// ---- compare

fn record(backend: &str, w: &Workload, samples: &[f64], kernel: Option<&str>) -> ResultRecord {
    let m = Measurement {
        first_call_s: 0.1,
        samples_s: samples.to_vec(),
        wall_samples_s: samples.to_vec(),
        inner: 1,
        timing: TimingMode::Wall,
        stop: Stop::Stable,
    };
    ResultRecord::new(w, backend, "cli", "", 1.0, kernel.map(String::from), &m, None)
}

#[test]
fn compare_flags_changes_beyond_the_band_only() {
    let (a, b, c) = (mm("8x8x8"), mm("16x16x16"), mm("32x32x32"));
    let base = vec![
        record("cpu", &a, &[1.0; 9], None),
        record("cpu", &b, &[1.0; 9], None),
        record("cpu", &c, &[1.0; 9], None),
    ];
    let new = vec![
        record("cpu", &a, &[1.2; 9], None),  // 20% slower
        record("cpu", &b, &[0.97; 9], None), // within 5%
        record("cpu", &mm("64x64x64"), &[1.0; 9], None),
    ];
    let rows = compare(&base, &new, &CompareOptions::default());
    let verdicts: Vec<Verdict> = rows.iter().map(|r| r.verdict).collect();
    assert_eq!(verdicts, [Verdict::Regression, Verdict::Same, Verdict::New, Verdict::Missing]);
    assert!((rows[0].ratio.unwrap() - 1.2).abs() < 1e-12);
    assert!(has_regression(&rows));
    let faster = compare(&base[..1], &[record("cpu", &a, &[0.5; 9], None)], &CompareOptions::default());
    assert_eq!(faster[0].verdict, Verdict::Improvement);
    assert!(!has_regression(&faster));
}

#[test]
fn noisy_runs_widen_the_band_and_rows_match_by_backend() {
    let w = mm("8x8x8");
    let noisy_base = record("cpu", &w, &[1.0, 1.4, 0.7, 1.0, 1.3], None);
    let slower = record("cpu", &w, &[1.2; 5], None);
    let rows = compare(&[noisy_base], std::slice::from_ref(&slower), &CompareOptions::default());
    assert_eq!(rows[0].verdict, Verdict::Same, "band {:?}", rows[0].band);
    assert!(rows[0].band.unwrap() > 0.2);
    // The same workload on another backend is not the same row.
    let other = compare(&[record("wgpu:vulkan:0", &w, &[1.0; 5], None)], &[slower], &CompareOptions::default());
    assert_eq!(other.iter().map(|r| r.verdict).collect::<Vec<_>>(), [Verdict::New, Verdict::Missing]);
}

#[test]
fn compare_notes_a_changed_kernel() {
    let w = mm("8x8x8");
    let rows = compare(
        &[record("gpu", &w, &[1.0; 5], Some("matmul.wgsl:a@1"))],
        &[record("gpu", &w, &[1.0; 5], Some("matmul.wgsl:b@2"))],
        &CompareOptions::default(),
    );
    assert!(rows[0].kernel_changed);
    assert!(comparison_table(&rows).contains("same (kernel changed)"));
}

// ---- the JSON document

fn sample_run() -> BenchRun {
    let mut run = BenchRun::new(vec!["hcal".into(), "bench".into()], RepPolicy::default());
    let info = hcal::DeviceInfo::new("cpu", "hcal reference (f64)", hcal::DeviceType::Cpu, "reference");
    let peak = Peak {
        compute_gflops: 20.0,
        compute_method: "host loop".into(),
        bandwidth_gbps: 10.0,
        bandwidth_method: "host memcpy".into(),
        timing: TimingMode::Wall,
        fma_probes: 0,
        fma_probe_flops: 0,
        launch_us: Some(12.5),
    };
    run.devices.push(DeviceRecord { backend: "cpu".into(), info, timing: TimingMode::Wall, peak: Some(peak.clone()) });
    let w = att("1x8x64x64", true, Some(2));
    let m = Measurement {
        first_call_s: 0.25,
        samples_s: vec![0.01, 0.011, 0.0105],
        wall_samples_s: vec![0.012, 0.013, 0.0125],
        inner: 2,
        timing: TimingMode::Wall,
        stop: Stop::TimeCap,
    };
    let mut r = ResultRecord::new(&w, "cpu", "square", "attention 64, with a comma", 0.125, None, &m, Some(&peak));
    r.baseline = Some(BaselineRecord {
        name: "composed".into(),
        kernel: "reference/hcal: Transpose -> MatMul".into(),
        timing: TimingMode::Wall,
        first_call_s: 0.3,
        median_s: 0.02,
        samples_s: vec![0.02, 0.021],
        speedup: 0.02 / r.median_s,
    });
    run.results.push(r);
    run.skipped.push(Skipped { backend: "cpu".into(), key: "matmul/f16/8x8x8".into(), reason: "why not".into() });
    run
}

#[test]
fn json_round_trips_and_carries_the_stable_fields() {
    let run = sample_run();
    let text = run.to_json();
    assert_eq!(BenchRun::from_json(&text).unwrap(), run);
    let value: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(value["kind"], "bench");
    assert_eq!(value["schema_version"], SCHEMA_VERSION);
    for field in ["hcal_version", "git_revision", "build_profile", "host", "devices", "results", "policy"] {
        assert!(value.get(field).is_some(), "missing {field}");
    }
    let r = &value["results"][0];
    for field in ["op", "backend", "dtype", "shape", "median_s", "gflops", "first_call_s", "samples_s", "kernel"] {
        assert!(r.get(field).is_some(), "result lacks {field}");
    }
    assert_eq!(r["op"], "attention");
    assert_eq!(r["dtype"], "f32");
    assert_eq!(r["shape"], "1x8x64x64");
    assert_eq!(r["kv_heads"], 2);
    assert_eq!(value["devices"][0]["peak"]["compute_gflops"], 20.0);
    assert_eq!(value["devices"][0]["peak"]["launch_us"], 12.5);
    // Runs written before the launch cost was measured still read, without it.
    let mut older = value.clone();
    older["devices"][0]["peak"].as_object_mut().unwrap().remove("launch_us");
    let older = BenchRun::from_json(&older.to_string()).unwrap();
    assert_eq!(older.devices[0].peak.as_ref().unwrap().launch_us, None);
    // And without cold_sets (before --cold): warm rows.
    let mut older = value.clone();
    older["results"][0].as_object_mut().unwrap().remove("cold_sets");
    assert_eq!(BenchRun::from_json(&older.to_string()).unwrap().results[0].cold_sets, None);
}

#[test]
fn cold_rows_are_keyed_apart_and_the_table_says_so() {
    let mut run = sample_run();
    let warm_key = run.results[0].key();
    assert!(!results_table(&run).contains("cold operands"), "no line without cold rows");
    run.results[0].cold_sets = Some(40);
    run.results[0].cold_bytes = Some(1 << 30);
    assert_eq!(run.results[0].key(), format!("{warm_key}-cold"));
    let text = results_table(&run);
    assert!(text.contains("cold operands (--cold): 1 of 1 rows") && text.contains("next of 40 operand sets"), "{text}");
    assert!(text.contains("1x8x64x64 kv2 causal cold"), "the row says it ran cold: {text}");
    assert!(!text.contains("the cap"), "1 GiB of sets is not capped: {text}");
    assert!(run.to_csv().lines().nth(1).unwrap().ends_with(",40,1073741824"));
    // Sets the cap held under COLD_BYTES are named.
    run.results[0].cold_bytes = Some(6 << 20);
    assert!(results_table(&run).contains("only 6.00 MiB in 40 sets (the cap)"), "{}", results_table(&run));
}

#[test]
fn json_of_another_kind_or_a_newer_schema_is_refused() {
    assert!(BenchRun::from_json("{").unwrap_err().contains("not JSON"));
    assert!(BenchRun::from_json(r#"{"kind": "certificate"}"#).unwrap_err().contains("\"certificate\""));
    assert!(BenchRun::from_json(r#"{"results": []}"#).unwrap_err().contains("kind"));
    let mut value: serde_json::Value = serde_json::from_str(&sample_run().to_json()).unwrap();
    value["schema_version"] = (SCHEMA_VERSION + 1).into();
    assert!(BenchRun::from_json(&value.to_string()).unwrap_err().contains("newer"));
}

#[test]
fn csv_has_a_header_and_quotes_commas() {
    let csv = sample_run().to_csv();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 2);
    assert!(lines[0].starts_with("backend,op,dtype,shape,"));
    assert!(lines[1].contains("\"attention 64, with a comma\""));
    assert!(lines[1].contains(",composed,"));
    let header_fields = lines[0].split(',').count();
    assert!(header_fields > 25);
}

#[test]
fn tables_print_percent_of_peak_with_the_peak() {
    let table = results_table(&sample_run());
    assert!(table.contains("% of 20.0"), "{table}");
    assert!(table.contains("cpu: 20.0 GFLOP/s  [host loop"), "{table}");
    assert!(table.contains("cpu: 12.5 us per op launched  [256 dependent 64-element Adds"), "{table}");
    let html =
        hcal_bench::html::render(&[hcal_bench::html::NamedRun { source: "a.json".into(), run: sample_run() }]).unwrap();
    assert!(html.contains("<th>launch per op</th>") && html.contains("<td>12.5 us</td>"), "launch cost column");
    assert!(table.contains("x vs composed"));
}

#[test]
fn rows_within_a_few_launch_costs_are_called_launch_bound() {
    let mut run = sample_run();
    let median_us = run.results[0].median_s * 1e6;
    assert!(!results_table(&run).contains("launch-bound"), "a 12.5 us launch against a {median_us} us row");
    // A launch cost of half the median: the row is launch-bound, at 50%.
    run.devices[0].peak.as_mut().unwrap().launch_us = Some(median_us / 2.0);
    let table = results_table(&run);
    assert!(table.contains("launch-bound rows"), "{table}");
    assert!(table.contains(&format!("  {}: median", run.results[0].key())) && table.contains("(50%)"), "{table}");
    // Without a launch cost (runs written before it) nothing is claimed.
    run.devices[0].peak.as_mut().unwrap().launch_us = None;
    assert!(!results_table(&run).contains("launch-bound"));
}

// ---- suites

#[test]
fn llm_suites_use_the_real_configs_at_scale_one() {
    let llama: Vec<(String, String)> =
        Suite::Model(LLAMA3_8B).cases(1.0, false).into_iter().map(|(l, w)| (l, w.key())).collect();
    let expect = [
        ("prefill qkv", "matmul/f32/2048x6144x4096"),
        ("prefill attention", "attention/f32/1x32x2048x128-kv8-causal"),
        ("prefill out", "matmul/f32/2048x4096x4096"),
        ("prefill gate_up", "matmul/f32/2048x28672x4096"),
        ("prefill down", "matmul/f32/2048x4096x14336"),
        ("decode qkv", "matmul/f32/1x6144x4096"),
        ("decode attention", "attention/f32/1x32x1x4096x128-kv8"),
        ("decode out", "matmul/f32/1x4096x4096"),
        ("decode gate_up", "matmul/f32/1x28672x4096"),
        ("decode down", "matmul/f32/1x4096x14336"),
    ];
    let expect: Vec<(String, String)> = expect.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect();
    assert_eq!(llama, expect);
    let qwen = Suite::Model(QWEN25_7B).cases(1.0, false);
    assert_eq!(qwen[0].1.key(), "matmul/f32/2048x4608x3584"); // (28 + 2*4) * 128
    assert_eq!(qwen[3].1.key(), "matmul/f32/2048x37888x3584");
    assert_eq!(qwen[4].1.key(), "matmul/f32/2048x3584x18944");
}

#[test]
fn the_smollm2_suite_is_the_chat_models_layer_at_its_real_size() {
    // The shapes the SmolLM2-135M GGUF's metadata gives (hidden 576, FFN 1536,
    // 9 query and 3 KV heads of 64): what the chat example runs, products fused.
    let rows: Vec<(String, String)> =
        Suite::Model(SMOLLM2_135M).cases(1.0, false).into_iter().map(|(l, w)| (l, w.key())).collect();
    let expect = [
        ("prefill qkv", "matmul/f32/2048x960x576"),
        ("prefill attention", "attention/f32/1x9x2048x64-kv3-causal"),
        ("prefill out", "matmul/f32/2048x576x576"),
        ("prefill gate_up", "matmul/f32/2048x3072x576"),
        ("prefill down", "matmul/f32/2048x576x1536"),
        ("decode qkv", "matmul/f32/1x960x576"),
        ("decode attention", "attention/f32/1x9x1x4096x64-kv3"),
        ("decode out", "matmul/f32/1x576x576"),
        ("decode gate_up", "matmul/f32/1x3072x576"),
        ("decode down", "matmul/f32/1x576x1536"),
    ];
    let expect: Vec<(String, String)> = expect.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect();
    assert_eq!(rows, expect);
    assert_eq!("SmolLM2-135M".parse::<Suite>().unwrap(), Suite::Model(SMOLLM2_135M));
    // Already small: its own size by default on CPUs too; large models shrink there.
    for device in [hcal::DeviceType::Cpu, hcal::DeviceType::SoftwareGpu, hcal::DeviceType::DiscreteGpu] {
        assert_eq!(Suite::Model(SMOLLM2_135M).default_scale(device), 1.0);
        assert_eq!(Suite::Model(LLAMA3_8B).default_scale(device), default_scale(device));
    }
}

#[test]
fn scaled_suites_keep_gqa_and_shrink() {
    for config in [LLAMA3_8B, QWEN25_7B] {
        for s in [0.03, 0.125, 0.25, 0.5, 1.0] {
            let c = config.scaled(s);
            assert_eq!(c.heads / c.kv_heads, config.heads / config.kv_heads, "{} at {s}", config.name);
            assert_eq!(c.hidden, c.heads * c.head_dim);
            assert!(c.intermediate % 64 == 0 && c.intermediate <= config.intermediate);
            let full = Suite::Model(config).cases(1.0, false);
            for ((label, w), (full_label, f)) in Suite::Model(config).cases(s, false).iter().zip(&full) {
                w.validate().unwrap();
                assert_eq!(label, full_label);
                assert!(flops(w) <= flops(f), "{label} at {s}");
            }
        }
    }
    let quick = Suite::Model(LLAMA3_8B).cases(0.125, true);
    let labels: Vec<&str> = quick.iter().map(|(l, _)| l.as_str()).collect();
    assert_eq!(labels, ["prefill attention", "prefill gate_up", "decode attention", "decode gate_up"]);
    assert_eq!("Qwen2.5-7B".parse::<Suite>().unwrap(), Suite::Model(QWEN25_7B));
    assert!("gpt5".parse::<Suite>().is_err());
}

#[test]
fn the_square_sweep_grows_with_the_scale() {
    let sizes = |s: f64, quick: bool| -> Vec<String> {
        Suite::Square
            .cases(s, quick)
            .into_iter()
            .filter(|(_, w)| w.op() == OpKind::Matmul)
            .map(|(_, w)| w.shape.to_string())
            .collect()
    };
    assert_eq!(sizes(0.125, false), ["64x64x64", "128x128x128", "256x256x256", "512x512x512"]);
    assert_eq!(sizes(0.125, true), ["64x64x64", "256x256x256"]);
    assert_eq!(sizes(1.0, false).last().unwrap(), "4096x4096x4096");
    assert_eq!(sizes(0.001, false), ["64x64x64"]);
}

// ---- baselines

#[test]
fn baseline_names_parse() {
    assert_eq!("composed".parse::<Baseline>().unwrap(), Baseline::Composed);
    assert_eq!("gemm".parse::<Baseline>().unwrap(), Baseline::Gemm);
    assert_eq!("copy".parse::<Baseline>().unwrap(), Baseline::Copy);
    assert!(Baseline::Copy.applies_to(OpKind::Matmul) && Baseline::Copy.applies_to(OpKind::Attention));
    assert_eq!(
        "wgpu:vulkan:0:baseline".parse::<Baseline>().unwrap(),
        Baseline::Backend("wgpu:vulkan:0:baseline".into())
    );
    assert!("".parse::<Baseline>().is_err());
}

#[test]
fn kernel_identity_ignores_backend_aliases_of_one_device() {
    let plain = hcal::DeviceInfo::new("wgpu:vulkan:0", "llvmpipe", hcal::DeviceType::SoftwareGpu, "vulkan");
    let alias = hcal::DeviceInfo::new("wgpu:vulkan:0:baseline", "llvmpipe", hcal::DeviceType::SoftwareGpu, "vulkan");
    let gl = hcal::DeviceInfo::new("wgpu:gl:0", "llvmpipe", hcal::DeviceType::SoftwareGpu, "gl");
    let k = [(Some("attention.wgsl:attention@1"), "Attention")];
    assert_eq!(kernel_identity(&plain, &k), kernel_identity(&alias, &k));
    assert!(check_baseline_differs(&kernel_identity(&plain, &k), &kernel_identity(&alias, &k)).is_err());
    assert!(check_baseline_differs(&kernel_identity(&plain, &k), &kernel_identity(&gl, &k)).is_ok());
}
