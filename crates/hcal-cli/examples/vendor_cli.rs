//! A vendor's own `hcal` command: the example backend registered under the
//! name `example`, then every subcommand of hcal on it, as on hcal's own
//! backends. Conformance isolates it in child processes of this binary.
//!
//! ```sh
//! cargo run -p hcal-cli --example vendor_cli -- devices
//! cargo run -p hcal-cli --example vendor_cli -- conformance --backend example --quick
//! cargo run -p hcal-cli --example vendor_cli -- bench --backend example --op matmul --shape 64x64x64
//! ```

use std::process::ExitCode;

use hcal_example_backend::ExampleBackend;

fn main() -> ExitCode {
    if let Err(e) = hcal::register("example", |_| Ok(Box::new(ExampleBackend::new()))) {
        eprintln!("error: {e}");
        return ExitCode::from(2);
    }
    hcal_cli::main()
}
