//! Running case folders on a backend.

use std::collections::HashMap;
use std::path::Path;
use std::time::Instant;

use hcal_conformance::generate::Gen;
use hcal_conformance::{Case, ExpectedFailure, Input, Summary, Verdict, judge_values};
use hcal_core::{Backend, OpSignature};

use crate::mapping::{MAPPED_OPS, map_node};
use crate::model::{DataSet, OnnxCase, discover, load_case, load_data_sets};
use crate::proto::data_type;
use crate::report::{Corpus, OnnxCaseResult, OnnxDefault, OnnxReport, REPORT_KIND};
use crate::tensor::{OnnxTensor, decode};
use crate::{Error, expected};

/// What to run.
#[derive(Clone, Debug)]
pub struct Options {
    /// ONNX op types to keep (case-insensitive); empty keeps every case folder.
    /// A model whose file cannot be parsed is always kept (it fails).
    pub ops: Vec<String>,
    /// Known deviations ([`expected::builtin`], the current release's, by
    /// default; [`Options::for_corpus`] picks the corpus's release).
    pub expected: Vec<ExpectedFailure>,
    /// The onnx release `expected` was written for (reported with the corpus).
    pub expected_of: Option<String>,
}

impl Default for Options {
    fn default() -> Self {
        Self { ops: Vec::new(), expected: expected::builtin(), expected_of: Some(expected::CURRENT.to_string()) }
    }
}

impl Options {
    /// Every op hcal maps ([`MAPPED_OPS`]), with the shipped expected failures.
    pub fn hcal_ops() -> Self {
        Self { ops: MAPPED_OPS.iter().map(|s| s.to_string()).collect(), ..Self::default() }
    }

    /// The ops `ops` (empty: every case) with the expected failures of the onnx
    /// release `dir` belongs to ([`expected::for_version`] of [`crate::onnx_version`]).
    pub fn for_corpus(dir: &Path, ops: Vec<String>) -> Self {
        let version = crate::onnx_version(dir);
        Self {
            ops,
            expected: expected::for_version(version.as_deref()),
            expected_of: Some(expected::list_version(version.as_deref()).to_string()),
        }
    }
}

/// Run every case folder under `dir` (or `dir` itself when it is one) on
/// `backend`, calling `progress(record, done, total)` after each.
///
/// # Errors
/// Only when `dir` cannot be listed or holds no case folder; a malformed
/// file fails its own case and the run goes on.
pub fn run(
    backend: &dyn Backend,
    dir: &Path,
    options: &Options,
    progress: &mut dyn FnMut(&OnnxCaseResult, usize, usize),
) -> Result<OnnxReport, Error> {
    run_until(backend, dir, options, progress, &|| false)
}

/// As [`run`], checking `stop` before each case: once it answers true, no
/// further case runs and the report holds the cases done, with
/// [`OnnxReport::interrupted`] set (`hcal conformance --onnx` stops so on
/// Ctrl-C; the case in flight finishes, node tests are small).
///
/// ```no_run
/// use std::sync::atomic::{AtomicBool, Ordering};
/// let stop = AtomicBool::new(false);
/// let backend = hcal_cpu::CpuBackend::new();
/// let dir = std::path::Path::new("node");
/// let report = hcal_onnx::run_until(&backend, dir, &Default::default(), &mut |_, _, _| {}, &|| {
///     stop.load(Ordering::Relaxed)
/// })?;
/// assert!(!report.interrupted);
/// # Ok::<(), hcal_onnx::Error>(())
/// ```
///
/// # Errors
/// As [`run`].
pub fn run_until(
    backend: &dyn Backend,
    dir: &Path,
    options: &Options,
    progress: &mut dyn FnMut(&OnnxCaseResult, usize, usize),
    stop: &dyn Fn() -> bool,
) -> Result<OnnxReport, Error> {
    let start = Instant::now();
    let folders = discover(dir)?;
    let mut selected = Vec::new();
    let mut opset: Option<i64> = None;
    for folder in folders {
        match load_case(&folder) {
            Ok(case) => {
                opset = opset.max(case.opset(""));
                let op = case.op_name();
                if options.ops.is_empty() || options.ops.iter().any(|o| o.eq_ignore_ascii_case(&op)) {
                    selected.push(Ok(case));
                }
            }
            Err(e) => selected.push(Err((folder, e))),
        }
    }
    let total = selected.len();
    let mut cases = Vec::with_capacity(total);
    let mut interrupted = false;
    for (i, entry) in selected.into_iter().enumerate() {
        if stop() {
            interrupted = true;
            break;
        }
        let record = match entry {
            Ok(case) => judge_case(backend, &case, &options.expected),
            Err((folder, e)) => {
                let name = folder.file_name().map_or_else(String::new, |n| n.to_string_lossy().into_owned());
                OnnxCaseResult::without_run(&name, "?", "?", Verdict::Fail, e.to_string())
            }
        };
        progress(&record, i + 1, total);
        cases.push(record);
    }
    let results: Vec<_> = cases.iter().map(|c| c.result.clone()).collect();
    Ok(OnnxReport {
        kind: REPORT_KIND.to_string(),
        summary: Summary::of(&results),
        device: backend.info().clone(),
        hcal_version: env!("CARGO_PKG_VERSION").to_string(),
        corpus: Corpus {
            dir: dir.display().to_string(),
            onnx_version: crate::onnx_version(dir),
            opset,
            expected_failures_of: options.expected_of.clone(),
            ops: options.ops.clone(),
        },
        elapsed_s: start.elapsed().as_secs_f64(),
        cases,
        interrupted,
    })
}

/// Judge one parsed case folder on `backend` with the deviations in `expected`.
pub fn judge_case(backend: &dyn Backend, case: &OnnxCase, expected: &[ExpectedFailure]) -> OnnxCaseResult {
    let start = Instant::now();
    let op = case.op_name();
    let mut record = match judge_sets(backend, case, &expected::for_case(expected, &case.name)) {
        Ok(record) => record,
        Err((verdict, detail)) => {
            OnnxCaseResult::without_run(&case.name, &op, &first_input_dtype(case), verdict, detail)
        }
    };
    record.result.op = op;
    record.result.elapsed_ms = start.elapsed().as_secs_f64() * 1e3;
    record
}

/// An early verdict with its reason.
type Early = (Verdict, String);

fn unsupported(detail: impl Into<String>) -> Early {
    (Verdict::Unsupported, detail.into())
}

fn fail(detail: impl Into<String>) -> Early {
    (Verdict::Fail, detail.into())
}

fn judge_sets(backend: &dyn Backend, case: &OnnxCase, expected: &[ExpectedFailure]) -> Result<OnnxCaseResult, Early> {
    let Some(node) = case.single_node() else {
        let mut ops: Vec<&str> = case.nodes().iter().map(|n| n.op_type.as_str()).collect();
        ops.sort_unstable();
        ops.dedup();
        return Err(unsupported(format!(
            "a graph of {} nodes ({}); hcal-onnx runs single-node models",
            case.nodes().len(),
            ops.join(", ")
        )));
    };
    let model_path = case.dir.join("model.onnx");
    let opset = case.opset(&node.domain).ok_or_else(|| {
        fail(format!("malformed ONNX file {}: no opset_import for domain {:?}", model_path.display(), node.domain))
    })?;
    if !MAPPED_OPS.contains(&node.op_type.as_str()) || !(node.domain.is_empty() || node.domain == "ai.onnx") {
        // The mapping's own reason (unknown op or domain), without reading any data.
        return Err(unsupported(map_node(node, opset, &[]).err().unwrap_or_default()));
    }
    let sets = load_data_sets(case).map_err(|e| fail(e.to_string()))?;
    let graph = case.model.graph.as_ref().expect("load_case checks the graph");
    let mut initializers = HashMap::new();
    for t in &graph.initializer {
        let tensor = decode(t).map_err(|d| fail(format!("malformed ONNX file {}: {d}", model_path.display())))?;
        initializers.insert(t.name.clone(), tensor);
    }
    let mut combined: Option<OnnxCaseResult> = None;
    for set in &sets {
        let record = judge_set(backend, case, node, opset, set, &initializers, expected)?;
        // Keep the first record that did not pass, else the worst ratio.
        combined = Some(match combined {
            None => record,
            Some(prev) if prev.result.verdict != Verdict::Pass => prev,
            Some(_) if record.result.verdict != Verdict::Pass => record,
            Some(prev) => {
                let ratio = |r: &OnnxCaseResult| r.result.max_error_ratio.unwrap_or(0.0);
                let onnx = match (prev.onnx_default, record.onnx_default) {
                    (Some(a), Some(b)) => Some(a.merge(b)),
                    (a, b) => a.or(b),
                };
                let mut keep = if ratio(&record) > ratio(&prev) { record } else { prev };
                keep.onnx_default = onnx;
                keep
            }
        });
    }
    let mut record = combined.expect("at least one data set");
    record.data_sets = sets.len();
    Ok(record)
}

fn judge_set(
    backend: &dyn Backend,
    case: &OnnxCase,
    node: &crate::proto::NodeProto,
    opset: i64,
    set: &DataSet,
    initializers: &HashMap<String, OnnxTensor>,
    expected: &[ExpectedFailure],
) -> Result<OnnxCaseResult, Early> {
    let set_dir = case.dir.join(format!("test_data_set_{}", set.index));
    let fed = case.fed_inputs();
    if set.inputs.len() != fed.len() {
        return Err(fail(format!(
            "malformed ONNX case {}: {} input_K.pb files for {} graph inputs",
            set_dir.display(),
            set.inputs.len(),
            fed.len()
        )));
    }
    let graph_outputs = case.graph_outputs();
    if set.outputs.len() != graph_outputs.len() {
        return Err(fail(format!(
            "malformed ONNX case {}: {} output_K.pb files for {} graph outputs",
            set_dir.display(),
            set.outputs.len(),
            graph_outputs.len()
        )));
    }
    let value = |name: &str| -> Option<&OnnxTensor> {
        fed.iter().position(|n| n == name).map(|k| &set.inputs[k]).or_else(|| initializers.get(name))
    };
    let node_inputs: Vec<Option<&OnnxTensor>> =
        node.input.iter().map(|n| if n.is_empty() { None } else { value(n) }).collect();
    let mapping = map_node(node, opset, &node_inputs).map_err(unsupported)?;

    let mut inputs = Vec::new();
    for (slot, source) in mapping.inputs.iter().enumerate() {
        let Some(k) = *source else {
            inputs.push(None);
            continue;
        };
        if mapping.packs_blocks && slot == 0 {
            let tensor = |i: usize| node_inputs.get(i).copied().flatten();
            let x = tensor(0).ok_or_else(|| fail(format!("DequantizeLinear x is not data in {}", case.name)))?;
            let scale =
                tensor(1).ok_or_else(|| fail(format!("DequantizeLinear x_scale is not data in {}", case.name)))?;
            let (dtype, bytes) = crate::blocked::pack(x, scale, tensor(2)).map_err(unsupported)?;
            let desc = hcal_core::TensorDesc::new(x.dims.clone(), dtype);
            inputs.push(Some(Input { desc, generator: Gen::Bytes(bytes) }));
            continue;
        }
        let name = &node.input[k];
        let tensor = node_inputs[k].ok_or_else(|| {
            fail(format!("node input {name:?} is neither a graph input nor an initializer of {}", case.name))
        })?;
        let desc = tensor.desc().ok_or_else(|| unsupported(dtype_reason(&format!("input {slot} ({name})"), tensor)))?;
        let values = tensor.values().expect("hcal dtypes decode to values");
        inputs.push(Some(Input { desc, generator: Gen::Values(values) }));
    }
    let signature =
        OpSignature::new(mapping.op.clone(), inputs.iter().map(|i| i.as_ref().map(|i| i.desc.clone())).collect())
            .map_err(|e| {
                let descs: Vec<String> =
                    inputs.iter().map(|i| i.as_ref().map_or("-".to_string(), |i| i.desc.to_string())).collect();
                unsupported(format!("hcal-core rejects {}({}): {e}", mapping.op, descs.join(", ")))
            })?;
    let inferred = signature.outputs();

    let mut requested = Vec::new();
    let mut expected_values = Vec::new();
    for (slot, want) in inferred.iter().enumerate() {
        let Some(k) = mapping.outputs.get(slot).copied().flatten() else {
            requested.push(false);
            expected_values.push(None);
            continue;
        };
        let name = &node.output[k];
        let position = graph_outputs.iter().position(|n| n == name).ok_or_else(|| {
            fail(format!("node output {name:?} is not a graph output of {}, so nothing is expected of it", case.name))
        })?;
        let tensor = &set.outputs[position];
        let desc =
            tensor.desc().ok_or_else(|| unsupported(dtype_reason(&format!("output {slot} ({name})"), tensor)))?;
        if &desc != want {
            return Err(fail(format!(
                "ONNX expects output {slot} ({name}) as {desc}, hcal infers {want} for {signature}"
            )));
        }
        requested.push(true);
        expected_values.push(tensor.values());
    }

    let mut hcal_case = Case::new(case.name.clone(), mapping.op.clone(), Vec::new())
        .with_optional_inputs(inputs)
        .with_outputs(requested);
    hcal_case.quick = true;
    // A listed deviation of ONNX's data still requires the backend to match
    // hcal's reference: judge that first, without ONNX's outputs.
    let mut own = None;
    if !expected.is_empty() {
        let alone = judge_values(backend, &hcal_case, &vec![None; expected_values.len()], &[]);
        match alone.result.verdict {
            Verdict::Pass => own = alone.result.max_error_ratio,
            Verdict::Unsupported => return Err(unsupported(alone.result.detail)),
            _ => {
                return Err(fail(format!(
                    "listed as an expected failure ({}), but the backend itself fails against hcal's reference: {}",
                    expected[0].reason, alone.result.detail
                )));
            }
        }
    }
    let judged = judge_values(backend, &hcal_case, &expected_values, expected);
    let mut onnx: Option<OnnxDefault> = None;
    for (got, want) in judged.outputs.iter().zip(&expected_values) {
        if let (Some(got), Some(want)) = (got, want) {
            let cmp = OnnxDefault::compare(got, want);
            onnx = Some(onnx.map_or(cmp, |o| o.merge(cmp)));
        }
    }
    let mut result = judged.result;
    result.signature = signature.to_string();
    if result.verdict == Verdict::Fail
        && expected.is_empty()
        && let Some(detail) = imprecise_expected_data(backend, &hcal_case, &expected_values)
    {
        result.verdict = Verdict::ImpreciseExpected;
        result.detail = detail;
    }
    if let Some(ratio) = own.filter(|_| result.verdict == Verdict::ExpectedFailure) {
        result.detail = format!("{} [the backend itself is within hcal's bound: ratio {ratio:.3e}]", result.detail);
    }
    if !mapping.unchecked.is_empty() {
        let note = mapping.unchecked.join("; ");
        result.detail = if result.detail.is_empty() { note } else { format!("{}; {note}", result.detail) };
    }
    Ok(OnnxCaseResult { result, data_sets: 1, onnx_default: onnx, unchecked: mapping.unchecked })
}

/// When the case failed only because ONNX's expected output lies outside
/// hcal's bound, and within the bound of the arithmetic ONNX computed it in
/// ([`crate::imprecise`]): the record's detail, with both deviations. `None`
/// whenever the backend itself disagrees with hcal's f64 reference (judged
/// here without ONNX's data), so the verdict never hides a backend failure.
fn imprecise_expected_data(backend: &dyn Backend, case: &Case, expected_values: &[Option<Vec<f64>>]) -> Option<String> {
    let oracle = crate::imprecise::within_oracle_arithmetic(case, expected_values)?;
    let alone = judge_values(backend, case, &vec![None; expected_values.len()], &[]);
    if alone.result.verdict != Verdict::Pass {
        return None;
    }
    Some(format!(
        "ONNX's expected output is outside hcal's f64 bound (ratio {:.3}, max |expected - reference| {:.3e}) but \
         within the bound of {} arithmetic, which ONNX's reference computes this case in (ratio {:.3}); the backend \
         agrees with hcal's f64 reference (ratio {:.3e}); worst at {}",
        oracle.ratio_f32_bound,
        oracle.max_abs_error,
        oracle.dtype,
        oracle.ratio_oracle_bound,
        alone.result.max_error_ratio.unwrap_or(0.0),
        oracle.worst
    ))
}

fn dtype_reason(what: &str, tensor: &OnnxTensor) -> String {
    format!(
        "{what} is {}, a dtype the hcal standard does not define (it has FLOAT, FLOAT16, BFLOAT16, BOOL, INT64)",
        tensor.type_string()
    )
}

/// The dtype column of a case that never ran: the first graph input's element
/// type, in hcal's spelling when hcal has it.
fn first_input_dtype(case: &OnnxCase) -> String {
    let code = case
        .model
        .graph
        .as_ref()
        .and_then(|g| g.input.first())
        .and_then(|i| i.r#type.as_ref())
        .and_then(|t| t.tensor_type.as_ref())
        .map(|t| t.elem_type);
    match code {
        Some(c) => crate::tensor::hcal_dtype(c).map_or_else(|| data_type::name(c), |d| d.to_string()),
        None => "?".to_string(),
    }
}
