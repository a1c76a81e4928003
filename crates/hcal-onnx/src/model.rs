//! Case folders: `model.onnx` plus `test_data_set_N/{input,output}_K.pb`.

use std::fs;
use std::path::{Path, PathBuf};

use prost::Message;

use crate::Error;
use crate::proto::{ModelProto, NodeProto, TensorProto};
use crate::tensor::{OnnxTensor, decode_declared};

/// The default ONNX operator domain spelled out.
const AI_ONNX: &str = "ai.onnx";

/// A parsed case folder (test data sets are loaded separately with [`load_data_sets`]).
#[derive(Clone, Debug)]
pub struct OnnxCase {
    /// Folder name (`test_gemm_alpha`).
    pub name: String,
    /// The folder.
    pub dir: PathBuf,
    /// The decoded `model.onnx`.
    pub model: ModelProto,
}

impl OnnxCase {
    /// The graph's nodes.
    pub fn nodes(&self) -> &[NodeProto] {
        self.model.graph.as_ref().map(|g| g.node.as_slice()).unwrap_or(&[])
    }

    /// The single node of a single-node model.
    pub fn single_node(&self) -> Option<&NodeProto> {
        match self.nodes() {
            [node] => Some(node),
            _ => None,
        }
    }

    /// The op this case tests: the single node's `op_type`, or `graph` for a
    /// model of several nodes (the `_expanded` function bodies).
    pub fn op_name(&self) -> String {
        self.single_node().map_or_else(|| "graph".to_string(), |n| n.op_type.clone())
    }

    /// The opset version the model imports for `domain` (empty = the default domain).
    pub fn opset(&self, domain: &str) -> Option<i64> {
        let default = |d: &str| d.is_empty() || d == AI_ONNX;
        self.model
            .opset_import
            .iter()
            .find(|o| o.domain == domain || (default(domain) && default(&o.domain)))
            .map(|o| o.version)
    }

    /// Names of the graph inputs fed from `input_K.pb`, in order (initializers excluded).
    pub fn fed_inputs(&self) -> Vec<String> {
        let Some(g) = &self.model.graph else { return Vec::new() };
        g.input.iter().filter(|i| !g.initializer.iter().any(|t| t.name == i.name)).map(|i| i.name.clone()).collect()
    }

    /// Names of the graph outputs, in order (`output_K.pb`).
    pub fn graph_outputs(&self) -> Vec<String> {
        self.model.graph.as_ref().map(|g| g.output.iter().map(|o| o.name.clone()).collect()).unwrap_or_default()
    }

    /// The element type the graph declares for the value `name`, when it is a tensor.
    pub fn declared_type(&self, name: &str) -> Option<i32> {
        let g = self.model.graph.as_ref()?;
        g.input
            .iter()
            .chain(&g.output)
            .find(|v| v.name == name)
            .and_then(|v| v.r#type.as_ref())
            .and_then(|t| t.tensor_type.as_ref())
            .map(|t| t.elem_type)
    }
}

/// One `test_data_set_N`: the fed inputs and expected outputs, in graph order.
#[derive(Clone, Debug)]
pub struct DataSet {
    /// `N`.
    pub index: usize,
    /// `input_K.pb`, `K = 0..`.
    pub inputs: Vec<OnnxTensor>,
    /// `output_K.pb`, `K = 0..`.
    pub outputs: Vec<OnnxTensor>,
}

fn read(path: &Path) -> Result<Vec<u8>, Error> {
    fs::read(path).map_err(|source| Error::Io { path: path.to_path_buf(), source })
}

/// Parse `dir/model.onnx`.
///
/// # Errors
/// [`Error::Io`] when the file cannot be read; [`Error::Malformed`] naming the
/// file when it is not a protobuf `ModelProto` or has no graph.
pub fn load_case(dir: &Path) -> Result<OnnxCase, Error> {
    let path = dir.join("model.onnx");
    let bytes = read(&path)?;
    let model = ModelProto::decode(bytes.as_slice())
        .map_err(|e| Error::Malformed { path: path.clone(), detail: format!("not an ONNX ModelProto: {e}") })?;
    if model.graph.is_none() {
        return Err(Error::Malformed { path, detail: "the model has no graph".into() });
    }
    let name = dir.file_name().map_or_else(|| dir.display().to_string(), |n| n.to_string_lossy().into_owned());
    Ok(OnnxCase { name, dir: dir.to_path_buf(), model })
}

/// Parse one `.pb` file holding a `TensorProto`, read as the `declared`
/// element type where [`decode_declared`] allows.
///
/// # Errors
/// [`Error::Io`]; [`Error::Malformed`] naming the file when it does not decode
/// (a truncated file) or its data does not match its shape.
pub fn load_tensor(path: &Path, declared: Option<i32>) -> Result<OnnxTensor, Error> {
    let bytes = read(path)?;
    let proto = TensorProto::decode(bytes.as_slice()).map_err(|e| Error::Malformed {
        path: path.to_path_buf(),
        detail: format!("not an ONNX TensorProto ({} bytes): {e}", bytes.len()),
    })?;
    decode_declared(&proto, declared).map_err(|detail| Error::Malformed { path: path.to_path_buf(), detail })
}

/// Every `test_data_set_N` of a case, by `N`.
///
/// # Errors
/// As [`load_tensor`] for any file; [`Error::Malformed`] when a case has no data set.
pub fn load_data_sets(case: &OnnxCase) -> Result<Vec<DataSet>, Error> {
    let mut sets = Vec::new();
    let entries = fs::read_dir(&case.dir).map_err(|source| Error::Io { path: case.dir.clone(), source })?;
    for entry in entries {
        let entry = entry.map_err(|source| Error::Io { path: case.dir.clone(), source })?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(index) = name.strip_prefix("test_data_set_").and_then(|n| n.parse::<usize>().ok()) {
            sets.push((index, entry.path()));
        }
    }
    if sets.is_empty() {
        return Err(Error::Malformed { path: case.dir.clone(), detail: "no test_data_set_N folder".into() });
    }
    sets.sort();
    let declared = |names: Vec<String>| -> Vec<Option<i32>> { names.iter().map(|n| case.declared_type(n)).collect() };
    let (input_types, output_types) = (declared(case.fed_inputs()), declared(case.graph_outputs()));
    sets.into_iter()
        .map(|(index, dir)| {
            Ok(DataSet {
                index,
                inputs: numbered(&dir, "input", &input_types)?,
                outputs: numbered(&dir, "output", &output_types)?,
            })
        })
        .collect()
}

/// `prefix_0.pb`, `prefix_1.pb`, ... until one is missing; file `K` is read
/// as `declared[K]` where given.
fn numbered(dir: &Path, prefix: &str, declared: &[Option<i32>]) -> Result<Vec<OnnxTensor>, Error> {
    let mut out = Vec::new();
    loop {
        let path = dir.join(format!("{prefix}_{}.pb", out.len()));
        if !path.exists() {
            return Ok(out);
        }
        out.push(load_tensor(&path, declared.get(out.len()).copied().flatten())?);
    }
}

/// The case folders under `dir`, sorted by name: `dir` itself when it holds a
/// `model.onnx`, else its subfolders that do.
///
/// # Errors
/// [`Error::Io`] when `dir` cannot be listed; [`Error::NoCases`] when no case folder is found.
pub fn discover(dir: &Path) -> Result<Vec<PathBuf>, Error> {
    if dir.join("model.onnx").is_file() {
        return Ok(vec![dir.to_path_buf()]);
    }
    let entries = fs::read_dir(dir).map_err(|source| Error::Io { path: dir.to_path_buf(), source })?;
    let mut cases = Vec::new();
    for entry in entries {
        let path = entry.map_err(|source| Error::Io { path: dir.to_path_buf(), source })?.path();
        if path.join("model.onnx").is_file() {
            cases.push(path);
        }
    }
    if cases.is_empty() {
        return Err(Error::NoCases { path: dir.to_path_buf() });
    }
    cases.sort();
    Ok(cases)
}
