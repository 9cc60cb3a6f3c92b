//! `edge-collector`: a local collector for edge-telemetry.
//!
//! It receives OTLP/HTTP traces (`POST /v1/traces`, JSON or protobuf, gzip or plain) and
//! Rollbar items (`POST /api/1/item/`), answers as the real services do, stores them in
//! SQLite (WAL, an FTS5 index, retention limits), serves a JSON API and the web UI, and —
//! when `HONEYCOMB_API_KEY` / `ROLLBAR_ACCESS_TOKEN` are set — forwards what it accepted
//! upstream so that keys stay on the server. See `collector/README.md`.
//!
//! ```no_run
//! # async fn demo() -> Result<(), String> {
//! let config = edge_telemetry_collector::Config::default();
//! edge_telemetry_collector::run(config).await
//! # }
//! ```
//!
//! Tests start one in-process with [`start`].
//!
//! Nothing here builds for wasm32: there the crate is empty.
#![cfg(not(target_arch = "wasm32"))]

pub mod access;
pub mod cloudwatch_logs;
pub mod config;
pub mod groups;
pub mod otlp;
pub mod otlp_logs;
pub mod relay;
pub mod rollbar;
pub mod segments;
pub mod server;
pub mod store;
pub mod xray;
pub mod xray_forward;

use std::future::Future;
use std::io::Write as _;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

pub use config::{
    AccessConfig, Command, Config, HoneycombRelay, RateLimit, RelayConfig, Retention, RollbarRelay,
    USAGE,
};

use access::Access;
use relay::Relay;
use server::AppState;
use store::Store;

/// How long shutdown waits for the relay to forward what is queued.
const RELAY_DRAIN: Duration = Duration::from_secs(5);
/// How long shutdown waits for what is queued for CloudWatch Logs to be sent.
const LOGS_DRAIN: Duration = Duration::from_secs(30);

/// An opened database and a started relay, ready to serve.
#[derive(Debug)]
pub struct Collector {
    state: Arc<AppState>,
    config: Config,
    xray_socket: Option<std::net::UdpSocket>,
    xray_pending: Option<xray_forward::Pending>,
    logs_pending: Option<cloudwatch_logs::Pending>,
}

impl Collector {
    /// Opens the database and starts the relay thread (when keys are set).
    pub fn new(config: &Config) -> Result<Self, String> {
        let store = Store::open(&config.db, config.retention.clone())?;
        let (forwarder, pending) = match config.xray_forward.clone() {
            Some(c) => {
                let (f, p) = xray_forward::channel(c);
                (Some(f), Some(p))
            }
            None => (None, None),
        };
        let (shipper, logs_pending) = match config.cloudwatch_logs.clone() {
            Some(c) => {
                let (s, p) = cloudwatch_logs::channel(c);
                (Some(s), Some(p))
            }
            None => (None, None),
        };
        Ok(Self {
            state: Arc::new(AppState {
                store: Arc::new(store),
                relay: Relay::start(config.relay.clone()),
                access: Arc::new(Access::new(config)),
                max_body_bytes: config.max_body_bytes,
                xray: Arc::default(),
                groups: Arc::new(config.groups.clone()),
                xray_forward: forwarder,
                cloudwatch_logs: shipper,
                xray_rules: Arc::new(
                    config.xray_sampling_rules.clone().unwrap_or_else(
                        edge_telemetry_core::trace::xray_rules::RuleSet::sdk_default,
                    ),
                ),
                xray_sampling: Arc::default(),
            }),
            config: config.clone(),
            xray_socket: None,
            xray_pending: pending,
            logs_pending,
        })
    }

    /// Binds the X-Ray daemon port (`config.xray_addr`), served by [`Collector::serve`]; its
    /// address, or `None` when there is none. A port that cannot be bound is reported and
    /// left out: OTLP and Rollbar ingestion do not depend on it.
    pub fn bind_xray(&mut self) -> Option<SocketAddr> {
        let addr = self.config.xray_addr.as_deref()?;
        let bound = std::net::UdpSocket::bind(addr).and_then(|s| {
            s.set_nonblocking(true)?;
            Ok(s)
        });
        match bound {
            Ok(socket) => {
                let local = socket.local_addr().ok();
                self.xray_socket = Some(socket);
                local
            }
            Err(e) => {
                eprintln!("edge-collector: no X-Ray daemon port: cannot bind udp {addr}: {e}");
                None
            }
        }
    }

    /// The routes, for embedding in another server. Serve them with
    /// `into_make_service_with_connect_info::<SocketAddr>()`: without the peer's address
    /// no request counts as local, so programs need the ingest token.
    pub fn router(&self) -> axum::Router {
        server::router(self.state.clone())
    }

    /// Serves on `listener` until `shutdown` completes, then lets the relay drain. Refuses
    /// (before serving anything) a listener other machines can reach when no read token is
    /// set.
    pub async fn serve(
        mut self,
        listener: tokio::net::TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        self.config
            .check_exposure(listener.local_addr()?)
            .map_err(std::io::Error::other)?;
        if let Some(pending) = self.xray_pending.take() {
            tokio::spawn(xray_forward::run(pending));
        }
        let logs_shipped = self
            .logs_pending
            .take()
            .map(|pending| tokio::spawn(cloudwatch_logs::run(pending)));
        if let Some(socket) = self.xray_socket.take() {
            let socket = tokio::net::UdpSocket::from_std(socket)?;
            tokio::spawn(xray::serve(
                socket,
                self.state.store.clone(),
                self.state.xray.clone(),
                self.state.xray_forward.clone(),
            ));
        }
        let app = self
            .router()
            .into_make_service_with_connect_info::<SocketAddr>();
        let result = axum::serve(listener, app)
            .with_graceful_shutdown(shutdown)
            .await;
        let state = self.state.clone();
        let _ = tokio::task::spawn_blocking(move || state.relay.shutdown(RELAY_DRAIN)).await;
        // What is queued for CloudWatch Logs is sent before the collector stops.
        if let (Some(shipper), Some(task)) = (&self.state.cloudwatch_logs, logs_shipped) {
            shipper.close();
            let _ = tokio::time::timeout(LOGS_DRAIN, task).await;
        }
        result
    }
}

/// The line printed on start: where the UI, OTLP and Rollbar endpoints are. An unspecified
/// address (`0.0.0.0`, `::`) is shown as loopback, which is what a browser on this machine
/// opens.
pub fn listening_line(addr: SocketAddr) -> String {
    let ip = match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    let base = format!("http://{}", SocketAddr::new(ip, addr.port()));
    format!(
        "edge-collector listening on {base} (UI {base}/ , OTLP {base}/v1/traces and /v1/logs , Rollbar {base}/api/1/item/)"
    )
}

/// What the collector says on start about who may send and read (never a token).
pub fn access_line(access: &AccessConfig) -> String {
    let senders = if access.allow_origins.is_empty() {
        "no browser page may send telemetry (name its origin with --allow-origin)".to_owned()
    } else {
        format!(
            "browser pages of {} may send telemetry",
            access.allow_origins.join(", ")
        )
    };
    let readers = if access.read_token.is_some() {
        "the UI and API need the read token (log in at /login)"
    } else {
        "the UI and API answer this machine's browser only"
    };
    format!("{senders}; {readers}")
}

/// Runs the collector until SIGINT or SIGTERM: opens the database, binds `config.addr`,
/// prints [`listening_line`] to stdout, serves.
pub async fn run(config: Config) -> Result<(), String> {
    let mut collector = Collector::new(&config)?;
    let xray_addr = collector.bind_xray();
    let listener = tokio::net::TcpListener::bind(&config.addr)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", config.addr))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    config.check_exposure(addr)?;
    let mut stdout = std::io::stdout();
    let _ = writeln!(stdout, "{}", listening_line(addr));
    let _ = stdout.flush();
    eprintln!("edge-collector: {}", access_line(&config.access));
    if let Some(f) = &config.xray_forward {
        eprintln!(
            "edge-collector: forwarding segments and spans to AWS X-Ray in {}{}",
            f.region,
            f.endpoint_url
                .as_ref()
                .map(|u| format!(" at {u}"))
                .unwrap_or_default()
        );
    }
    if let Some(x) = xray_addr {
        eprintln!(
            "edge-collector: X-Ray daemon port udp://{x} (segment documents; AWS_XRAY_DAEMON_ADDRESS={x})"
        );
    }
    collector
        .serve(listener, shutdown_signal())
        .await
        .map_err(|e| format!("server error: {e}"))
}

/// SIGINT (Ctrl-C) or, on Unix, SIGTERM.
async fn shutdown_signal() {
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

/// A collector running on its own thread (and tokio runtime): for tests and embedding in
/// synchronous programs. Dropping it stops the server and waits for the thread.
#[derive(Debug)]
pub struct Running {
    addr: SocketAddr,
    xray_addr: Option<SocketAddr>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Running {
    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The X-Ray daemon port's address, when it is bound.
    pub fn xray_addr(&self) -> Option<SocketAddr> {
        self.xray_addr
    }

    /// `http://ADDR`, no trailing slash.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops the server, lets the relay drain, and waits for it all to end.
    pub fn stop(mut self) {
        self.shut_down();
    }

    fn shut_down(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.shut_down();
    }
}

/// Starts a collector on `config.addr` in a background thread and returns once it
/// listens.
pub fn start(config: Config) -> Result<Running, String> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .thread_name("edge-collector")
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    let mut collector = Collector::new(&config)?;
    let xray_addr = collector.bind_xray();
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind(&config.addr))
        .map_err(|e| format!("cannot listen on {}: {e}", config.addr))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    config.check_exposure(addr)?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::Builder::new()
        .name("edge-collector-server".to_owned())
        .spawn(move || {
            let result = runtime.block_on(collector.serve(listener, async {
                let _ = stopped.await;
            }));
            if let Err(e) = result {
                eprintln!("edge-collector: server error: {e}");
            }
        })
        .map_err(|e| format!("cannot start the server thread: {e}"))?;
    Ok(Running {
        addr,
        xray_addr,
        stop: Some(stop),
        thread: Some(thread),
    })
}
