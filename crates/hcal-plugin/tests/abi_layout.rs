//! `src/abi/` is provably in step with `include/hcal_plugin.h`: a C program
//! that includes the header prints the size and alignment of every struct, the
//! offset of every field, the size and signedness of every typedef and the
//! value of every constant; each number must equal Rust's. The header is also
//! parsed for its `#define`s, structs and their fields, so a definition added
//! to the header without a mirror (or a mirror without its check) fails too.

mod common;

use std::collections::BTreeMap;
use std::mem::{align_of, offset_of, size_of};
use std::path::Path;
use std::process::Command;

use hcal_plugin::abi::*;

/// One struct: its C name, size, alignment and fields in declaration order.
struct Layout {
    c: &'static str,
    size: usize,
    align: usize,
    fields: Vec<(&'static str, usize)>,
}

macro_rules! layouts {
    ($( $rust:ty => $c:literal { $($field:ident),* $(,)? } ),* $(,)?) => {
        vec![ $( Layout {
            c: $c,
            size: size_of::<$rust>(),
            align: align_of::<$rust>(),
            fields: vec![ $( (stringify!($field), offset_of!($rust, $field)) ),* ],
        } ),* ]
    };
}

fn layouts() -> Vec<Layout> {
    layouts![
        HcalTensorDesc => "hcal_tensor_desc" { dtype, rank, shape },
        HcalOpGemm => "hcal_op_gemm" { alpha, beta, trans_a, trans_b },
        HcalOpSoftmax => "hcal_op_softmax" { axis },
        HcalOpNormalization => "hcal_op_normalization" { axis, epsilon, reserved },
        HcalOpAttention => "hcal_op_attention" { is_causal, has_scale, scale, softcap, q_num_heads, kv_num_heads },
        HcalOpRotaryEmbedding => "hcal_op_rotary_embedding" { interleaved, reserved, rotary_embedding_dim, num_heads },
        HcalOpGelu => "hcal_op_gelu" { approximate },
        HcalOpUnary => "hcal_op_unary" { op },
        HcalOpBinary => "hcal_op_binary" { op },
        HcalOpReduce => "hcal_op_reduce" { op, keepdims, has_axes, num_axes, axes },
        HcalOpTranspose => "hcal_op_transpose" { has_perm, num_perm, perm },
        HcalOpCast => "hcal_op_cast" { to },
        // along one axis (ABI 1.2)
        HcalOpArgReduce => "hcal_op_arg_reduce" { axis, keepdims, select_last_index },
        HcalOpCumSum => "hcal_op_cum_sum" { axis, exclusive, reverse },
        // data movement (ABI 1.2)
        HcalOpConcat => "hcal_op_concat" { axis },
        HcalOpSlice => "hcal_op_slice" { num_axes, has_axes, has_steps, reserved, starts, ends, axes, steps },
        HcalOpSplit => "hcal_op_split" { axis, equal, num_parts, sizes },
        HcalOpExpand => "hcal_op_expand" { rank, reserved, shape },
        HcalOpReshape => "hcal_op_reshape" { rank, reserved, shape },
        HcalOpRange => "hcal_op_range" { start, limit, delta, dtype, reserved },
        HcalOpTrilu => "hcal_op_trilu" { upper, reserved, k },
        HcalOpGather => "hcal_op_gather" { axis },
        HcalOpTensorScatter => "hcal_op_tensor_scatter" { axis, mode, reserved },
        HcalOpLeakyRelu => "hcal_op_leaky_relu" { alpha },
        HcalOpHardSigmoid => "hcal_op_hard_sigmoid" { alpha, beta },
        // hcal's fused steps (ABI 1.3)
        HcalOpRmsNormGemm => "hcal_op_rms_norm_gemm" { epsilon, alpha, beta, trans_b },
        HcalOpSplitRotaryScatter => "hcal_op_split_rotary_scatter" {
            q_num_heads, kv_num_heads, interleaved, reserved, rotary_embedding_dim,
        },
        HcalOp => "hcal_op" { struct_size, kind, attrs },
        HcalDeviceInfo => "hcal_device_info" { struct_size, device_type, name, vendor, driver },
        HcalPluginApi => "hcal_plugin_api" {
            struct_size, abi_major, abi_minor, name, create, last_create_error, destroy, last_error,
            get_info, supports, alloc, free, write, read, execute, sync,
        },
    ]
}

/// The members of `hcal_op.attrs` (all at offset 0 of the union).
fn union_members() -> Vec<(&'static str, usize)> {
    vec![
        ("gemm", size_of::<HcalOpGemm>()),
        ("softmax", size_of::<HcalOpSoftmax>()),
        ("normalization", size_of::<HcalOpNormalization>()),
        ("attention", size_of::<HcalOpAttention>()),
        ("rotary_embedding", size_of::<HcalOpRotaryEmbedding>()),
        ("gelu", size_of::<HcalOpGelu>()),
        ("unary", size_of::<HcalOpUnary>()),
        ("binary", size_of::<HcalOpBinary>()),
        ("reduce", size_of::<HcalOpReduce>()),
        ("transpose", size_of::<HcalOpTranspose>()),
        ("cast", size_of::<HcalOpCast>()),
        ("arg_reduce", size_of::<HcalOpArgReduce>()),
        ("cum_sum", size_of::<HcalOpCumSum>()),
        ("concat", size_of::<HcalOpConcat>()),
        ("slice", size_of::<HcalOpSlice>()),
        ("split", size_of::<HcalOpSplit>()),
        ("expand", size_of::<HcalOpExpand>()),
        ("reshape", size_of::<HcalOpReshape>()),
        ("range", size_of::<HcalOpRange>()),
        ("trilu", size_of::<HcalOpTrilu>()),
        ("gather", size_of::<HcalOpGather>()),
        ("tensor_scatter", size_of::<HcalOpTensorScatter>()),
        ("leaky_relu", size_of::<HcalOpLeakyRelu>()),
        ("hard_sigmoid", size_of::<HcalOpHardSigmoid>()),
        ("rms_norm_gemm", size_of::<HcalOpRmsNormGemm>()),
        ("split_rotary_scatter", size_of::<HcalOpSplitRotaryScatter>()),
        ("reserved", size_of::<[u64; 8]>()),
    ]
}

/// `(C typedef, size, signed)`.
fn typedefs() -> Vec<(&'static str, usize, bool)> {
    vec![
        ("hcal_status", size_of::<HcalStatus>(), HcalStatus::MIN != 0),
        ("hcal_dtype", size_of::<HcalDtype>(), HcalDtype::MIN != 0),
        ("hcal_op_kind", size_of::<HcalOpKind>(), HcalOpKind::MIN != 0),
        ("hcal_plugin_get_api_fn", size_of::<Option<HcalPluginGetApiFn>>(), false),
    ]
}

macro_rules! constants {
    ($($name:ident),* $(,)?) => { vec![ $( (stringify!($name), i128::from($name)) ),* ] };
}

fn constants() -> Vec<(&'static str, i128)> {
    constants![
        HCAL_PLUGIN_ABI_MAJOR,
        HCAL_PLUGIN_ABI_MINOR,
        HCAL_OK,
        HCAL_STATUS_UNSUPPORTED,
        HCAL_STATUS_INVALID_ARGUMENT,
        HCAL_STATUS_OUT_OF_MEMORY,
        HCAL_STATUS_INTERNAL,
        HCAL_DTYPE_ABSENT,
        HCAL_DTYPE_F32,
        HCAL_DTYPE_F16,
        HCAL_DTYPE_BF16,
        HCAL_DTYPE_BOOL,
        HCAL_DTYPE_I64,
        HCAL_DTYPE_Q4_0,
        HCAL_DTYPE_Q4_1,
        HCAL_DTYPE_Q8_0,
        HCAL_OP_MATMUL,
        HCAL_OP_GEMM,
        HCAL_OP_SOFTMAX,
        HCAL_OP_LAYER_NORMALIZATION,
        HCAL_OP_RMS_NORMALIZATION,
        HCAL_OP_ATTENTION,
        HCAL_OP_ROTARY_EMBEDDING,
        HCAL_OP_GELU,
        HCAL_OP_UNARY,
        HCAL_OP_BINARY,
        HCAL_OP_REDUCE,
        HCAL_OP_TRANSPOSE,
        HCAL_OP_CAST,
        HCAL_OP_ARG_MAX,
        HCAL_OP_ARG_MIN,
        HCAL_OP_LOG_SOFTMAX,
        HCAL_OP_CUM_SUM,
        HCAL_OP_CONCAT,
        HCAL_OP_SLICE,
        HCAL_OP_SPLIT,
        HCAL_OP_EXPAND,
        HCAL_OP_RESHAPE,
        HCAL_OP_RANGE,
        HCAL_OP_TRILU,
        HCAL_OP_GATHER,
        HCAL_OP_GATHER_ELEMENTS,
        HCAL_OP_TENSOR_SCATTER,
        HCAL_SCATTER_LINEAR,
        HCAL_SCATTER_CIRCULAR,
        HCAL_OP_LEAKY_RELU,
        HCAL_OP_HARD_SIGMOID,
        HCAL_OP_CLIP,
        HCAL_OP_WHERE,
        HCAL_OP_RMS_NORM_GEMM,
        HCAL_OP_GATED_UNARY,
        HCAL_OP_SPLIT_ROTARY_SCATTER,
        HCAL_UNARY_RELU,
        HCAL_UNARY_SIGMOID,
        HCAL_UNARY_SILU,
        HCAL_UNARY_EXP,
        HCAL_UNARY_TANH,
        HCAL_UNARY_NEG,
        HCAL_UNARY_SQRT,
        HCAL_UNARY_RECIPROCAL,
        HCAL_UNARY_ABS,
        HCAL_UNARY_ERF,
        HCAL_UNARY_FLOOR,
        HCAL_UNARY_CEIL,
        HCAL_UNARY_ROUND,
        HCAL_UNARY_NOT,
        HCAL_BINARY_ADD,
        HCAL_BINARY_SUB,
        HCAL_BINARY_MUL,
        HCAL_BINARY_DIV,
        HCAL_BINARY_MAX,
        HCAL_BINARY_MIN,
        HCAL_BINARY_POW,
        HCAL_BINARY_EQUAL,
        HCAL_BINARY_LESS,
        HCAL_BINARY_GREATER,
        HCAL_BINARY_LESS_OR_EQUAL,
        HCAL_BINARY_GREATER_OR_EQUAL,
        HCAL_BINARY_AND,
        HCAL_BINARY_OR,
        HCAL_REDUCE_SUM,
        HCAL_REDUCE_MEAN,
        HCAL_REDUCE_MAX,
        HCAL_REDUCE_MIN,
        HCAL_REDUCE_PROD,
        HCAL_REDUCE_L2,
        HCAL_GELU_NONE,
        HCAL_GELU_TANH,
        HCAL_DEVICE_CPU,
        HCAL_DEVICE_DISCRETE_GPU,
        HCAL_DEVICE_INTEGRATED_GPU,
        HCAL_DEVICE_VIRTUAL_GPU,
        HCAL_DEVICE_SOFTWARE_GPU,
        HCAL_DEVICE_OTHER,
    ]
}

fn header_path() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/include/hcal_plugin.h"))
}

/// The C program printing `key value` lines.
fn c_program() -> String {
    let mut body = String::new();
    let mut line = |key: String, expr: String| {
        body.push_str(&format!("    printf(\"%s %lld\\n\", \"{key}\", (long long)({expr}));\n"));
    };
    for l in layouts() {
        line(format!("size {}", l.c), format!("sizeof({})", l.c));
        line(format!("align {}", l.c), format!("_Alignof({})", l.c));
        for (field, _) in &l.fields {
            line(format!("offset {}.{field}", l.c), format!("offsetof({}, {field})", l.c));
        }
    }
    line("size hcal_op.attrs".into(), "sizeof(((hcal_op *)0)->attrs)".into());
    for (member, _) in union_members() {
        line(
            format!("offset hcal_op.attrs.{member}"),
            format!("offsetof(hcal_op, attrs.{member}) - offsetof(hcal_op, attrs)"),
        );
        line(format!("size hcal_op.attrs.{member}"), format!("sizeof(((hcal_op *)0)->attrs.{member})"));
    }
    for (name, _, _) in typedefs() {
        line(format!("size {name}"), format!("sizeof({name})"));
        line(format!("signed {name}"), format!("((({name})0) - 1) < (({name})0)"));
    }
    for (name, _) in constants() {
        line(format!("const {name}"), name.to_string());
    }
    format!(
        "#include <stdio.h>\n#include <stddef.h>\n#include \"hcal_plugin.h\"\n\nint main(void) {{\n{body}    \
         printf(\"entry %s\\n\", HCAL_PLUGIN_ENTRY_POINT);\n    return 0;\n}}\n"
    )
}

/// What Rust says for every key the C program prints.
fn rust_values() -> BTreeMap<String, i128> {
    let mut m = BTreeMap::new();
    for l in layouts() {
        m.insert(format!("size {}", l.c), l.size as i128);
        m.insert(format!("align {}", l.c), l.align as i128);
        for (field, offset) in &l.fields {
            m.insert(format!("offset {}.{field}", l.c), *offset as i128);
        }
    }
    m.insert("size hcal_op.attrs".into(), size_of::<HcalOpAttrs>() as i128);
    for (member, size) in union_members() {
        m.insert(format!("offset hcal_op.attrs.{member}"), 0);
        m.insert(format!("size hcal_op.attrs.{member}"), size as i128);
    }
    for (name, size, signed) in typedefs() {
        m.insert(format!("size {name}"), size as i128);
        m.insert(format!("signed {name}"), i128::from(signed));
    }
    for (name, value) in constants() {
        m.insert(format!("const {name}"), value);
    }
    m
}

#[test]
fn rust_mirror_matches_the_c_header() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("hcal-plugin-abi-layout");
    std::fs::create_dir_all(&dir).unwrap();
    let source = dir.join("layout.c");
    let exe = dir.join(if cfg!(windows) { "layout.exe" } else { "layout" });
    std::fs::write(&source, c_program()).unwrap();
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".to_string());
    let compiled = Command::new(&cc)
        .args(["-std=c11", "-Wall", "-o"])
        .arg(&exe)
        .arg(&source)
        .arg("-I")
        .arg(header_path().parent().unwrap())
        .output();
    let compiled = match compiled {
        Ok(out) => out,
        Err(e) => {
            common::skip("rust_mirror_matches_the_c_header", &format!("no C compiler ({cc:?}: {e}); set CC"));
            return;
        }
    };
    assert!(
        compiled.status.success(),
        "{cc} failed on {}:\n{}",
        source.display(),
        String::from_utf8_lossy(&compiled.stderr)
    );
    let run = Command::new(&exe).output().unwrap();
    assert!(run.status.success(), "{} failed", exe.display());
    let stdout = String::from_utf8(run.stdout).unwrap();

    let mut from_c = BTreeMap::new();
    let mut entry = None;
    for line in stdout.lines() {
        if let Some(name) = line.strip_prefix("entry ") {
            entry = Some(name.to_string());
            continue;
        }
        let (key, value) = line.rsplit_once(' ').unwrap();
        from_c.insert(key.to_string(), value.parse::<i128>().unwrap());
    }
    let from_rust = rust_values();
    let mismatches: Vec<String> = from_rust
        .iter()
        .filter(|(k, v)| from_c.get(*k) != Some(v))
        .map(|(k, v)| format!("{k}: C says {:?}, Rust says {v}", from_c.get(k)))
        .collect();
    assert!(mismatches.is_empty(), "src/abi/ disagrees with hcal_plugin.h:\n{}", mismatches.join("\n"));
    assert_eq!(from_c.len(), from_rust.len());
    assert_eq!(entry.as_deref(), Some(HCAL_PLUGIN_ENTRY_POINT));
    eprintln!("checked {} sizes, offsets and constants against the C compiler", from_rust.len());
}

/// The header without its comments.
fn header_code() -> String {
    let text = std::fs::read_to_string(header_path()).unwrap();
    let mut out = String::new();
    let mut rest = text.as_str();
    while let Some(start) = rest.find("/*") {
        out.push_str(&rest[..start]);
        let end = rest[start..].find("*/").expect("unterminated comment") + start + 2;
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// The field names of a struct body, in order (function pointers by name, an
/// anonymous-typed union by its member name).
fn field_names(body: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut depth = 0;
    let mut decl = String::new();
    for ch in body.chars() {
        match ch {
            '{' => depth += 1,
            '}' => depth -= 1,
            ';' if depth == 0 => {
                let d = std::mem::take(&mut decl);
                let name = if let Some(i) = d.find("(*") {
                    d[i + 2..].split(')').next().unwrap().trim().to_string()
                } else {
                    let d = d.split('[').next().unwrap();
                    d.split(|c: char| !(c.is_alphanumeric() || c == '_')).rfind(|s| !s.is_empty()).unwrap().to_string()
                };
                fields.push(name);
                continue;
            }
            _ => {}
        }
        if depth == 0 {
            decl.push(ch);
        }
    }
    fields
}

#[test]
fn every_definition_of_the_header_is_mirrored() {
    let code = header_code();
    // Every #define but the include guard and the entry point string.
    let defines: Vec<&str> = code
        .lines()
        .filter_map(|l| l.trim().strip_prefix("#define "))
        .map(|l| l.split_whitespace().next().unwrap())
        .filter(|n| *n != "HCAL_PLUGIN_H" && *n != "HCAL_PLUGIN_ENTRY_POINT")
        .collect();
    let mirrored: Vec<&str> = constants().into_iter().map(|(n, _)| n).collect();
    let missing: Vec<_> = defines.iter().filter(|d| !mirrored.contains(d)).collect();
    assert!(missing.is_empty(), "constants of the header without a mirror in src/abi/: {missing:?}");
    assert_eq!(defines.len(), mirrored.len(), "src/abi/ checks a constant the header does not define");

    // Every struct, with its fields in order.
    let layouts = layouts();
    let mut structs = 0;
    let mut rest = code.as_str();
    while let Some(start) = rest.find("typedef struct ") {
        let after = &rest[start + "typedef struct ".len()..];
        let name = after.split_whitespace().next().unwrap();
        let Some(open) = after.find('{').filter(|&o| !after[..o].contains(';')) else {
            rest = after; // an opaque `typedef struct hcal_device hcal_device;`
            continue;
        };
        let mut depth = 0;
        let mut close = open;
        for (i, ch) in after[open..].char_indices() {
            match ch {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        close = open + i;
                        break;
                    }
                }
                _ => {}
            }
        }
        let fields = field_names(&after[open + 1..close]);
        let layout = layouts
            .iter()
            .find(|l| l.c == name)
            .unwrap_or_else(|| panic!("struct {name} of the header has no mirror checked in abi_layout.rs"));
        let rust: Vec<&str> = layout.fields.iter().map(|(f, _)| *f).collect();
        assert_eq!(fields, rust, "fields of {name}: header vs the Rust mirror");
        structs += 1;
        rest = &after[close..];
    }
    assert_eq!(structs, layouts.len(), "abi_layout.rs checks a struct the header does not define");
    for opaque in ["hcal_device", "hcal_tensor"] {
        assert!(code.contains(&format!("typedef struct {opaque} {opaque};")), "{opaque} is no longer opaque");
    }
}
