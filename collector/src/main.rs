//! `edge-collector`: parses the command line and runs the collector (see `--help` and
//! `collector/README.md`).

#[cfg(not(target_arch = "wasm32"))]
fn main() -> std::process::ExitCode {
    use edge_telemetry_collector::{Command, USAGE, run};
    use std::process::ExitCode;

    let command = Command::parse(std::env::args().skip(1), |name| std::env::var(name).ok());
    let config = match command {
        Ok(Command::Run(config)) => config,
        Ok(Command::Help) => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("edge-collector: {message}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("edge-collector: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("edge-collector: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The collector does not build for wasm32 (see `src/lib.rs`).
#[cfg(target_arch = "wasm32")]
fn main() {}
