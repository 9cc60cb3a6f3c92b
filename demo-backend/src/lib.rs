//! `demo-backend`: a small micro-blogging API (axum + SQLite) instrumented the way Rust
//! services are — `tracing` + `tracing-opentelemetry` + `opentelemetry_sdk` +
//! `opentelemetry-otlp` — continuing the browser's trace (W3C Trace Context, else AWS
//! X-Ray's header) and linking back with `Server-Timing` through the service crate
//! (`edge-telemetry-axum`'s `TraceLayer` and `cors`), and reporting errors and panics to
//! Rollbar with the core crate's item encoder. See `demo-backend/README.md`.
//!
//! [`start`] runs it on its own thread and runtime (tests, the load benchmark, `main`).
//! Each server has its own tracer provider and `tracing` dispatcher, installed on its
//! runtime's threads only, so several can run in one process.
//!
//! Nothing here builds for wasm32: there the crate is empty.
#![cfg(not(target_arch = "wasm32"))]

pub mod config;
pub mod db;
pub mod report;
pub mod server;
pub mod telemetry;

pub use config::Config;
pub use telemetry::{HeaderMapCarrier, Telemetry, UreqClient};

use std::cell::RefCell;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

/// The line printed first on stdout: `demo-backend listening on http://127.0.0.1:PORT` (an
/// unspecified address shown as loopback).
pub fn listening_line(addr: SocketAddr) -> String {
    format!("demo-backend listening on {}", url_of(addr))
}

fn url_of(addr: SocketAddr) -> String {
    let ip = match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    format!("http://{}", SocketAddr::new(ip, addr.port()))
}

std::thread_local! {
    /// This thread's `tracing` default, set by the server's runtime on its threads.
    static DISPATCH_GUARD: RefCell<Option<tracing::dispatcher::DefaultGuard>> = const { RefCell::new(None) };
}

/// A backend running on its own thread and tokio runtime. [`Running::stop`] (or drop) shuts
/// it down gracefully and then shuts the tracer provider down, which exports every span
/// still queued.
#[derive(Debug)]
pub struct Running {
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<Result<(), String>>>,
    telemetry: Option<Telemetry>,
}

impl Running {
    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR` (loopback for an unspecified address), no trailing slash.
    pub fn url(&self) -> String {
        url_of(self.addr)
    }

    /// Exports the spans and log records queued so far (blocking). `Ok` without tracing.
    pub fn flush(&self) -> Result<(), String> {
        match &self.telemetry {
            Some(t) => {
                let logs = t.logs.as_ref().map_or(Ok(()), |l| l.force_flush());
                t.provider
                    .force_flush()
                    .and(logs)
                    .map_err(|e| e.to_string())
            }
            None => Ok(()),
        }
    }

    /// Graceful shutdown: stops accepting, lets in-flight requests finish, then shuts the
    /// tracer and logger providers down (flushing spans and logs).
    pub fn stop(mut self) -> Result<(), String> {
        self.shut_down()
    }

    fn shut_down(&mut self) -> Result<(), String> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let mut result = Ok(());
        if let Some(thread) = self.thread.take() {
            result = thread
                .join()
                .unwrap_or_else(|_| Err("the server thread panicked".to_owned()));
        }
        if let Some(telemetry) = self.telemetry.take() {
            result = result.and(telemetry.shutdown());
        }
        result
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Err(e) = self.shut_down() {
            eprintln!("demo-backend: {e}");
        }
    }
}

/// Opens the database, builds the telemetry pipeline (unless `config.tracing` is off), binds
/// `config.addr` and serves on a background thread; returns once it listens.
pub fn start(config: Config) -> Result<Running, String> {
    let telemetry = if config.tracing {
        Some(telemetry::telemetry(&config)?)
    } else {
        None
    };
    let db = db::Db::open(&config.db)?;
    let state = Arc::new(server::AppState::new(&config, db));

    let mut builder = tokio::runtime::Builder::new_multi_thread();
    builder.enable_all().thread_name("demo-backend");
    if let Some(t) = &telemetry {
        let dispatch = t.dispatch.clone();
        builder
            .on_thread_start(move || {
                let guard = tracing::dispatcher::set_default(&dispatch);
                DISPATCH_GUARD.with(|g| *g.borrow_mut() = Some(guard));
            })
            .on_thread_stop(|| {
                DISPATCH_GUARD.with(|g| g.borrow_mut().take());
            });
    }
    let runtime = builder
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind(&config.addr))
        .map_err(|e| format!("cannot listen on {}: {e}", config.addr))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let dispatch = telemetry.as_ref().map(|t| t.dispatch.clone());
    let thread = std::thread::Builder::new()
        .name("demo-backend-server".to_owned())
        .spawn(move || {
            let _guard = dispatch.as_ref().map(tracing::dispatcher::set_default);
            let app = server::router(state);
            let result = runtime.block_on(async move {
                axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = stopped.await;
                    })
                    .await
            });
            // Blocking tasks (DB work) end before the provider is shut down.
            runtime.shutdown_timeout(std::time::Duration::from_secs(5));
            result.map_err(|e| format!("server error: {e}"))
        })
        .map_err(|e| format!("cannot start the server thread: {e}"))?;
    Ok(Running {
        addr,
        stop: Some(stop),
        thread: Some(thread),
        telemetry,
    })
}

/// SIGINT (Ctrl-C) or, on Unix, SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
