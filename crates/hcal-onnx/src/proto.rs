//! The subset of `onnx.proto` (ONNX 1.18, `syntax = "proto2"`) that the node
//! tests need, written by hand as prost messages so no `protoc` runs at build time.
//!
//! Every field carries the tag number of `onnx.proto`, cited in its doc comment
//! as `onnx.proto: <message>.<field> = <tag>`. Fields this crate does not read
//! (doc strings, metadata, training info, functions, sparse tensors, ...) are
//! left out: protobuf decoders skip unknown fields, so a full model still
//! decodes. Optional proto2 scalars are plain values here (absent reads as the
//! default); where presence matters ONNX carries a discriminator
//! (the `type` field of [`AttributeProto`]). Repeated scalars that `onnx.proto` does not mark
//! `[packed = true]` are declared unpacked; decoding accepts both encodings.

/// A model file (`model.onnx`).
#[derive(Clone, PartialEq, prost::Message)]
pub struct ModelProto {
    /// onnx.proto: `ModelProto.ir_version = 1`.
    #[prost(int64, tag = "1")]
    pub ir_version: i64,
    /// onnx.proto: `ModelProto.producer_name = 2`.
    #[prost(string, tag = "2")]
    pub producer_name: String,
    /// onnx.proto: `ModelProto.graph = 7`.
    #[prost(message, optional, tag = "7")]
    pub graph: Option<GraphProto>,
    /// onnx.proto: `ModelProto.opset_import = 8`.
    #[prost(message, repeated, tag = "8")]
    pub opset_import: Vec<OperatorSetIdProto>,
}

/// An operator set the model imports.
#[derive(Clone, PartialEq, prost::Message)]
pub struct OperatorSetIdProto {
    /// onnx.proto: `OperatorSetIdProto.domain = 1` (empty or `ai.onnx` is the default domain).
    #[prost(string, tag = "1")]
    pub domain: String,
    /// onnx.proto: `OperatorSetIdProto.version = 2`.
    #[prost(int64, tag = "2")]
    pub version: i64,
}

/// A computation graph.
#[derive(Clone, PartialEq, prost::Message)]
pub struct GraphProto {
    /// onnx.proto: `GraphProto.node = 1`.
    #[prost(message, repeated, tag = "1")]
    pub node: Vec<NodeProto>,
    /// onnx.proto: `GraphProto.name = 2`.
    #[prost(string, tag = "2")]
    pub name: String,
    /// onnx.proto: `GraphProto.initializer = 5`.
    #[prost(message, repeated, tag = "5")]
    pub initializer: Vec<TensorProto>,
    /// onnx.proto: `GraphProto.input = 11`.
    #[prost(message, repeated, tag = "11")]
    pub input: Vec<ValueInfoProto>,
    /// onnx.proto: `GraphProto.output = 12`.
    #[prost(message, repeated, tag = "12")]
    pub output: Vec<ValueInfoProto>,
}

/// One operator call of a graph.
#[derive(Clone, PartialEq, prost::Message)]
pub struct NodeProto {
    /// onnx.proto: `NodeProto.input = 1`; an empty name is an absent optional input.
    #[prost(string, repeated, tag = "1")]
    pub input: Vec<String>,
    /// onnx.proto: `NodeProto.output = 2`; an empty name is an output not asked for.
    #[prost(string, repeated, tag = "2")]
    pub output: Vec<String>,
    /// onnx.proto: `NodeProto.name = 3`.
    #[prost(string, tag = "3")]
    pub name: String,
    /// onnx.proto: `NodeProto.op_type = 4`.
    #[prost(string, tag = "4")]
    pub op_type: String,
    /// onnx.proto: `NodeProto.attribute = 5`.
    #[prost(message, repeated, tag = "5")]
    pub attribute: Vec<AttributeProto>,
    /// onnx.proto: `NodeProto.domain = 7`.
    #[prost(string, tag = "7")]
    pub domain: String,
}

/// `AttributeProto.AttributeType` values (onnx.proto), for the `type` field of [`AttributeProto`].
pub mod attribute_type {
    /// `UNDEFINED = 0` (IR < 3 models leave the type out).
    pub const UNDEFINED: i32 = 0;
    /// `FLOAT = 1`.
    pub const FLOAT: i32 = 1;
    /// `INT = 2`.
    pub const INT: i32 = 2;
    /// `STRING = 3`.
    pub const STRING: i32 = 3;
    /// `TENSOR = 4`.
    pub const TENSOR: i32 = 4;
    /// `FLOATS = 6`.
    pub const FLOATS: i32 = 6;
    /// `INTS = 7`.
    pub const INTS: i32 = 7;
    /// `STRINGS = 8`.
    pub const STRINGS: i32 = 8;
}

/// A named attribute of a node.
#[derive(Clone, PartialEq, prost::Message)]
pub struct AttributeProto {
    /// onnx.proto: `AttributeProto.name = 1`.
    #[prost(string, tag = "1")]
    pub name: String,
    /// onnx.proto: `AttributeProto.f = 2`.
    #[prost(float, tag = "2")]
    pub f: f32,
    /// onnx.proto: `AttributeProto.i = 3`.
    #[prost(int64, tag = "3")]
    pub i: i64,
    /// onnx.proto: `AttributeProto.s = 4` (UTF-8 bytes).
    #[prost(bytes = "vec", tag = "4")]
    pub s: Vec<u8>,
    /// onnx.proto: `AttributeProto.t = 5`.
    #[prost(message, optional, tag = "5")]
    pub t: Option<TensorProto>,
    /// onnx.proto: `AttributeProto.floats = 7`.
    #[prost(float, repeated, packed = "false", tag = "7")]
    pub floats: Vec<f32>,
    /// onnx.proto: `AttributeProto.ints = 8`.
    #[prost(int64, repeated, packed = "false", tag = "8")]
    pub ints: Vec<i64>,
    /// onnx.proto: `AttributeProto.strings = 9`.
    #[prost(bytes = "vec", repeated, tag = "9")]
    pub strings: Vec<Vec<u8>>,
    /// onnx.proto: `AttributeProto.type = 20` (one of [`attribute_type`]).
    #[prost(int32, tag = "20")]
    pub r#type: i32,
    /// onnx.proto: `AttributeProto.ref_attr_name = 21` (only inside functions).
    #[prost(string, tag = "21")]
    pub ref_attr_name: String,
}

/// A graph input or output: name and type.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ValueInfoProto {
    /// onnx.proto: `ValueInfoProto.name = 1`.
    #[prost(string, tag = "1")]
    pub name: String,
    /// onnx.proto: `ValueInfoProto.type = 2`.
    #[prost(message, optional, tag = "2")]
    pub r#type: Option<TypeProto>,
}

/// The type of a value. `onnx.proto` declares a `oneof value`; only the tensor
/// member is read here (a sequence or map value leaves it `None`).
#[derive(Clone, PartialEq, prost::Message)]
pub struct TypeProto {
    /// onnx.proto: `TypeProto.tensor_type = 1` (member of `oneof value`).
    #[prost(message, optional, tag = "1")]
    pub tensor_type: Option<TypeProtoTensor>,
}

/// `TypeProto.Tensor`: element type and (possibly symbolic) shape.
#[derive(Clone, PartialEq, prost::Message)]
pub struct TypeProtoTensor {
    /// onnx.proto: `TypeProto.Tensor.elem_type = 1` (a [`data_type`] code).
    #[prost(int32, tag = "1")]
    pub elem_type: i32,
    /// onnx.proto: `TypeProto.Tensor.shape = 2`.
    #[prost(message, optional, tag = "2")]
    pub shape: Option<TensorShapeProto>,
}

/// A tensor shape.
#[derive(Clone, PartialEq, prost::Message)]
pub struct TensorShapeProto {
    /// onnx.proto: `TensorShapeProto.dim = 1`.
    #[prost(message, repeated, tag = "1")]
    pub dim: Vec<Dimension>,
}

/// `TensorShapeProto.Dimension`: a fixed extent or a symbol (`oneof value`).
#[derive(Clone, PartialEq, prost::Message)]
pub struct Dimension {
    /// onnx.proto: `TensorShapeProto.Dimension.dim_value = 1`.
    #[prost(int64, optional, tag = "1")]
    pub dim_value: Option<i64>,
    /// onnx.proto: `TensorShapeProto.Dimension.dim_param = 2`.
    #[prost(string, optional, tag = "2")]
    pub dim_param: Option<String>,
}

/// `TensorProto.DataType` codes (onnx.proto).
pub mod data_type {
    /// `FLOAT = 1`.
    pub const FLOAT: i32 = 1;
    /// `UINT8 = 2`.
    pub const UINT8: i32 = 2;
    /// `INT8 = 3`.
    pub const INT8: i32 = 3;
    /// `UINT16 = 4`.
    pub const UINT16: i32 = 4;
    /// `INT16 = 5`.
    pub const INT16: i32 = 5;
    /// `INT32 = 6`.
    pub const INT32: i32 = 6;
    /// `INT64 = 7`.
    pub const INT64: i32 = 7;
    /// `STRING = 8`.
    pub const STRING: i32 = 8;
    /// `BOOL = 9`.
    pub const BOOL: i32 = 9;
    /// `FLOAT16 = 10`.
    pub const FLOAT16: i32 = 10;
    /// `DOUBLE = 11`.
    pub const DOUBLE: i32 = 11;
    /// `UINT32 = 12`.
    pub const UINT32: i32 = 12;
    /// `UINT64 = 13`.
    pub const UINT64: i32 = 13;
    /// `COMPLEX64 = 14`.
    pub const COMPLEX64: i32 = 14;
    /// `COMPLEX128 = 15`.
    pub const COMPLEX128: i32 = 15;
    /// `BFLOAT16 = 16`.
    pub const BFLOAT16: i32 = 16;
    /// `FLOAT8E4M3FN = 17`.
    pub const FLOAT8E4M3FN: i32 = 17;
    /// `FLOAT8E4M3FNUZ = 18`.
    pub const FLOAT8E4M3FNUZ: i32 = 18;
    /// `FLOAT8E5M2 = 19`.
    pub const FLOAT8E5M2: i32 = 19;
    /// `FLOAT8E5M2FNUZ = 20`.
    pub const FLOAT8E5M2FNUZ: i32 = 20;
    /// `UINT4 = 21`.
    pub const UINT4: i32 = 21;
    /// `INT4 = 22`.
    pub const INT4: i32 = 22;
    /// `FLOAT4E2M1 = 23`.
    pub const FLOAT4E2M1: i32 = 23;

    /// The `onnx.proto` name of a code (`"FLOAT16"`), or `"DataType(N)"`.
    pub fn name(code: i32) -> String {
        const NAMES: [&str; 24] = [
            "UNDEFINED",
            "FLOAT",
            "UINT8",
            "INT8",
            "UINT16",
            "INT16",
            "INT32",
            "INT64",
            "STRING",
            "BOOL",
            "FLOAT16",
            "DOUBLE",
            "UINT32",
            "UINT64",
            "COMPLEX64",
            "COMPLEX128",
            "BFLOAT16",
            "FLOAT8E4M3FN",
            "FLOAT8E4M3FNUZ",
            "FLOAT8E5M2",
            "FLOAT8E5M2FNUZ",
            "UINT4",
            "INT4",
            "FLOAT4E2M1",
        ];
        usize::try_from(code)
            .ok()
            .and_then(|i| NAMES.get(i))
            .map_or_else(|| format!("DataType({code})"), |n| n.to_string())
    }
}

/// A tensor value: `input_N.pb` / `output_N.pb` files and initializers.
#[derive(Clone, PartialEq, prost::Message)]
pub struct TensorProto {
    /// onnx.proto: `TensorProto.dims = 1` (not packed in onnx.proto).
    #[prost(int64, repeated, packed = "false", tag = "1")]
    pub dims: Vec<i64>,
    /// onnx.proto: `TensorProto.data_type = 2` (a [`data_type`] code).
    #[prost(int32, tag = "2")]
    pub data_type: i32,
    /// onnx.proto: `TensorProto.float_data = 4 [packed = true]` (FLOAT, COMPLEX64).
    #[prost(float, repeated, tag = "4")]
    pub float_data: Vec<f32>,
    /// onnx.proto: `TensorProto.int32_data = 5 [packed = true]` (INT32, INT16, INT8,
    /// UINT16, UINT8, BOOL, FLOAT16 and BFLOAT16 bit patterns, FLOAT8, 4-bit types).
    #[prost(int32, repeated, tag = "5")]
    pub int32_data: Vec<i32>,
    /// onnx.proto: `TensorProto.string_data = 6`.
    #[prost(bytes = "vec", repeated, tag = "6")]
    pub string_data: Vec<Vec<u8>>,
    /// onnx.proto: `TensorProto.int64_data = 7 [packed = true]` (INT64).
    #[prost(int64, repeated, tag = "7")]
    pub int64_data: Vec<i64>,
    /// onnx.proto: `TensorProto.name = 8`.
    #[prost(string, tag = "8")]
    pub name: String,
    /// onnx.proto: `TensorProto.raw_data = 9` (little-endian element storage).
    #[prost(bytes = "vec", tag = "9")]
    pub raw_data: Vec<u8>,
    /// onnx.proto: `TensorProto.double_data = 10 [packed = true]` (DOUBLE, COMPLEX128).
    #[prost(double, repeated, tag = "10")]
    pub double_data: Vec<f64>,
    /// onnx.proto: `TensorProto.uint64_data = 11 [packed = true]` (UINT32, UINT64).
    #[prost(uint64, repeated, tag = "11")]
    pub uint64_data: Vec<u64>,
    /// onnx.proto: `TensorProto.data_location = 14` (1 = EXTERNAL: data lives in another file).
    #[prost(int32, tag = "14")]
    pub data_location: i32,
}
