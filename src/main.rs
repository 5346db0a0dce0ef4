use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = attest::cli::Cli::parse();
    attest::cli::init_tracing();
    match attest::cli::run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
