//! The `hcal` binary; everything lives in the `hcal_cli` library.

fn main() -> std::process::ExitCode {
    hcal_cli::main()
}
