//! Prints a GGUF file's header, metadata and tensor table.
//!
//! ```text
//! cargo run -p hcal-gguf --example gguf_info -- path/to/model.gguf
//! ```

use std::collections::BTreeMap;
use std::process::ExitCode;

fn main() -> ExitCode {
    let Some(path) = std::env::args_os().nth(1) else {
        eprintln!("usage: gguf_info <file.gguf>");
        return ExitCode::from(2);
    };
    let gguf = match hcal_gguf::Gguf::open(&path) {
        Ok(g) => g,
        Err(e) => {
            eprintln!("{}: {e}", path.to_string_lossy());
            return ExitCode::FAILURE;
        }
    };
    println!(
        "GGUF v{}  {} bytes  alignment {}  data at {}",
        gguf.version(),
        gguf.file_len(),
        gguf.alignment(),
        gguf.data_offset()
    );
    println!("\nmetadata ({} entries):", gguf.metadata_entries().count());
    for (key, value) in gguf.metadata_entries() {
        let mut shown = value.to_string();
        if shown.len() > 160 {
            let cut = (0..=157).rev().find(|&i| shown.is_char_boundary(i)).unwrap_or(0);
            shown.truncate(cut);
            shown.push_str("...");
        }
        println!("  {key:<45} {shown}");
    }
    println!("\ntensors ({}):", gguf.tensors().len());
    println!("  {:<32} {:<8} {:<20} {:>12} {:>12}", "name", "type", "shape (row-major)", "offset", "bytes");
    let mut by_type: BTreeMap<&str, (usize, u64)> = BTreeMap::new();
    for t in gguf.tensors() {
        println!(
            "  {:<32} {:<8} {:<20} {:>12} {:>12}",
            t.name(),
            t.ggml_type().name(),
            format!("{:?}", t.shape()),
            t.file_offset(),
            t.n_bytes()
        );
        let e = by_type.entry(t.ggml_type().name()).or_default();
        e.0 += 1;
        e.1 += t.n_bytes();
    }
    println!("\nby type:");
    for (ty, (n, bytes)) in by_type {
        println!("  {ty:<8} {n:>5} tensors {bytes:>12} bytes");
    }
    ExitCode::SUCCESS
}
