use std::process::ExitCode;

use clap::Parser;

// A served page or a tick allocates and frees many small buffers across the runtime's
// threads, and glibc's allocator took an eighth of the server's CPU doing so. With
// mimalloc, benches/load.sh served the evidence page at 6,600-6,800 requests a second
// against 5,400-5,750, and ticks at 2,630 against 2,130-2,240.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
