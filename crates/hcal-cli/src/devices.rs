//! `hcal devices`: backends, their device facts, and per-op support.

use hcal::{DType, DeviceInfo, Support};
use hcal_conformance::SupportRow;
use serde::Serialize;

use crate::{DevicesArgs, EXIT_OK, UsageError};

/// One backend as `--json` prints it.
#[derive(Debug, Serialize)]
struct DeviceEntry {
    /// The name `hcal::open` takes.
    backend: String,
    /// Device facts, when the backend opened.
    #[serde(skip_serializing_if = "Option::is_none")]
    info: Option<DeviceInfo>,
    /// Why the backend did not open.
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    /// Support matrix, with `--ops`.
    #[serde(skip_serializing_if = "Option::is_none")]
    ops: Option<Vec<OpSupport>>,
}

/// One (op, dtype) cell of the support matrix as `--json` prints it.
#[derive(Debug, Serialize)]
struct OpSupport {
    op: String,
    dtype: DType,
    supported: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
}

impl From<SupportRow> for OpSupport {
    fn from(row: SupportRow) -> Self {
        let reason = match row.support {
            Support::Native => None,
            Support::Unsupported(reason) => Some(reason),
        };
        OpSupport { op: row.op, dtype: row.dtype, supported: reason.is_none(), reason }
    }
}

/// Run `hcal devices`.
pub(crate) fn run(args: &DevicesArgs) -> Result<u8, UsageError> {
    let mut entries: Vec<DeviceEntry> = hcal::available_backends()
        .into_iter()
        .map(|name| match hcal::open(&name) {
            Ok(backend) => DeviceEntry {
                ops: args
                    .ops
                    .then(|| hcal_conformance::support_matrix(&*backend).into_iter().map(OpSupport::from).collect()),
                info: Some(backend.info().clone()),
                error: None,
                backend: name,
            },
            Err(err) => DeviceEntry { backend: name, info: None, error: Some(err.to_string()), ops: None },
        })
        .collect();
    // Libraries of HCAL_PLUGINS that do not load are listed with the reason,
    // under the name the user wrote (`plugin:PATH`).
    for (path, name) in hcal::listed_plugins() {
        if let Err(err) = name {
            let backend = format!("plugin:{}", path.display());
            entries.push(DeviceEntry { backend, info: None, error: Some(err.to_string()), ops: None });
        }
    }
    let text = if args.json {
        serde_json::to_string_pretty(&entries)? + "\n"
    } else {
        entries.iter().map(render_entry).collect::<Vec<_>>().join("\n")
    };
    crate::emit_stdout(&text);
    Ok(EXIT_OK)
}

/// Human-readable text for one backend.
fn render_entry(entry: &DeviceEntry) -> String {
    let mut out = String::new();
    match (&entry.info, &entry.error) {
        (Some(info), _) => {
            out += &format!("{}: {}\n", entry.backend, info.name);
            out += &format!(
                "  type: {}   api: {}   vendor: {}   driver: {}\n",
                device_type_name(info),
                info.api,
                or_dash(&info.vendor),
                or_dash(&info.driver)
            );
            let limits: Vec<String> = info.limits.iter().map(|(k, v)| format!("{k}={v}")).collect();
            out += &format!("  limits: {}\n", or_dash(&limits.join(", ")));
            out += &format!("  features: {}\n", or_dash(&info.features.join(", ")));
            for note in &info.notes {
                out += &format!("  {note}\n");
            }
        }
        (None, error) => {
            out += &format!("{}: unavailable: {}\n", entry.backend, error.as_deref().unwrap_or("unknown error"));
        }
    }
    if let Some(ops) = &entry.ops {
        out += &render_matrix(ops);
    }
    out
}

/// The support matrix as a table: one row per op, one column per dtype;
/// `yes` runs natively, `no` is declined (reasons listed below the table),
/// blank means the standard has no such signature.
fn render_matrix(ops: &[OpSupport]) -> String {
    let dtypes: Vec<DType> = DType::ALL.into_iter().filter(|d| ops.iter().any(|o| o.dtype == *d)).collect();
    let mut names: Vec<&str> = Vec::new();
    for o in ops {
        if !names.contains(&o.op.as_str()) {
            names.push(&o.op);
        }
    }
    let width = names.iter().map(|n| n.len()).max().unwrap_or(2).max(2);
    let mut out = format!("  ops (yes = native, no = unsupported):\n    {:width$}", "op");
    for d in &dtypes {
        out += &format!("  {:>5}", d.name());
    }
    out += "\n";
    for name in &names {
        out += &format!("    {name:width$}");
        for d in &dtypes {
            let cell = match ops.iter().find(|o| o.op == *name && o.dtype == *d) {
                Some(o) if o.supported => "yes",
                Some(_) => "no",
                None => "",
            };
            out += &format!("  {cell:>5}");
        }
        out.truncate(out.trim_end().len());
        out += "\n";
    }
    if ops.iter().any(|o| !o.supported) {
        out += "  unsupported:\n";
    }
    for o in ops.iter().filter(|o| !o.supported) {
        out += &format!("    {} {}: {}\n", o.op, o.dtype, o.reason.as_deref().unwrap_or("unsupported"));
    }
    out
}

/// The device type as JSON spells it (`cpu`, `discrete-gpu`, ...).
fn device_type_name(info: &DeviceInfo) -> String {
    match serde_json::to_value(info.device_type) {
        Ok(serde_json::Value::String(s)) => s,
        _ => format!("{:?}", info.device_type),
    }
}

fn or_dash(s: &str) -> &str {
    if s.is_empty() { "-" } else { s }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell(op: &str, dtype: DType, support: Support) -> OpSupport {
        OpSupport::from(SupportRow { op: op.to_string(), dtype, support })
    }

    #[test]
    fn matrix_has_a_column_per_dtype_and_lists_reasons() {
        let ops = [
            cell("MatMul", DType::F32, Support::Native),
            cell("MatMul", DType::F16, Support::Unsupported("no shader-f16".into())),
            cell("Softmax", DType::F32, Support::Native),
        ];
        let text = render_matrix(&ops);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[1].split_whitespace().collect::<Vec<_>>(), ["op", "f32", "f16"]);
        assert_eq!(lines[2].split_whitespace().collect::<Vec<_>>(), ["MatMul", "yes", "no"]);
        assert_eq!(lines[3].split_whitespace().collect::<Vec<_>>(), ["Softmax", "yes"]);
        assert_eq!(lines[4].trim(), "unsupported:");
        assert_eq!(lines[5].trim(), "MatMul f16: no shader-f16");
    }

    #[test]
    fn json_cells_carry_the_reason_only_when_unsupported() {
        let json = serde_json::to_string(&[
            cell("Gelu", DType::BF16, Support::Native),
            cell("Cast", DType::I64, Support::Unsupported("later".into())),
        ])
        .unwrap();
        assert_eq!(
            json,
            r#"[{"op":"Gelu","dtype":"bf16","supported":true},{"op":"Cast","dtype":"i64","supported":false,"reason":"later"}]"#
        );
    }
}
