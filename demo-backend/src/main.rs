//! `demo-backend`: reads its configuration from the environment (see the README), prints
//! `demo-backend listening on http://127.0.0.1:PORT`, serves until SIGINT/SIGTERM, then shuts
//! down gracefully and flushes its spans.

#[cfg(not(target_arch = "wasm32"))]
fn main() -> std::process::ExitCode {
    use std::io::Write as _;
    use std::process::ExitCode;

    let config = edge_telemetry_demo_backend::Config::from_env();
    let running = match edge_telemetry_demo_backend::start(config) {
        Ok(running) => running,
        Err(e) => {
            eprintln!("demo-backend: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut stdout = std::io::stdout();
    let _ = writeln!(
        stdout,
        "{}",
        edge_telemetry_demo_backend::listening_line(running.addr())
    );
    let _ = stdout.flush();
    let waited = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map(|rt| rt.block_on(edge_telemetry_demo_backend::shutdown_signal()));
    if let Err(e) = waited {
        eprintln!("demo-backend: cannot wait for signals: {e}");
    }
    match running.stop() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("demo-backend: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(target_arch = "wasm32")]
fn main() {}
