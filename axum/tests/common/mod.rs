//! Shared by the integration tests: a server for an app, with the telemetry's dispatcher as
//! the process's (each test file is its own process).
#![allow(dead_code)]

use axum::Router;
use edge_telemetry_axum::Telemetry;
use std::net::SocketAddr;

/// Installs `telemetry`'s dispatcher for the whole process and serves `app()` on a free port
/// of 127.0.0.1 from a thread with its own runtime; returns the address.
pub fn serve(telemetry: &Telemetry, app: fn() -> Router) -> SocketAddr {
    tracing::dispatcher::set_global_default(telemetry.dispatch.clone()).expect("dispatch");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Runtime::new().expect("runtime");
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind");
            tx.send(listener.local_addr().expect("addr")).expect("send");
            axum::serve(listener, app()).await.expect("serve");
        });
    });
    rx.recv().expect("server address")
}
