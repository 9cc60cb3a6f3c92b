//! Who may reach the collector: the `Host` check (DNS rebinding), same-origin reads,
//! ingestion by allowed origin / loopback / ingest token, the read token with its login
//! page, refusing to listen off loopback without one, per-client rate limits, and a relay
//! that forwards only what was accepted and never the client's credentials.
//!
//! Requests with a forged `Host` go over a raw TCP connection; a peer on another machine is
//! played by axum's `MockConnectInfo` in front of the collector's own router.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::process::Command as Process;
use std::time::Duration;

use axum::extract::connect_info::MockConnectInfo;
use common::*;
use edge_telemetry_collector::{
    Collector, Config, HoneycombRelay, RateLimit, RelayConfig, RollbarRelay,
};

const APP: &str = "http://127.0.0.1:5173";
const OTHER_APP: &str = "http://localhost:3000";
const EVIL: &str = "https://evil.example";
const JSON: (&str, &str) = ("content-type", "application/json");
const READ_TOKEN: &str = "read-token-0123456789abcdef";
const INGEST_TOKEN: &str = "ingest-token-0123456789abcdef";
const ITEM: &str = r#"{"data":{"body":{"message":{"body":"x"}}}}"#;

fn allowing(origins: &[&str]) -> Config {
    let mut config = Config::ephemeral();
    config.access.allow_origins = origins.iter().map(|o| (*o).to_owned()).collect();
    config
}

/// One HTTP/1.1 request written by hand (so that `Host` is exactly `host`): status,
/// lowercased headers and body.
fn raw(
    addr: SocketAddr,
    method: &str,
    path: &str,
    host: &str,
    extra: &[(&str, &str)],
    body: &str,
) -> Answer {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nhost: {host}\r\nconnection: close\r\ncontent-length: {}\r\n",
        body.len()
    );
    for (name, value) in extra {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body.as_bytes()).unwrap();
    let mut reader = BufReader::new(stream);
    let mut status_line = String::new();
    reader.read_line(&mut status_line).unwrap();
    let status = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("status line {status_line:?}"));
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':').unwrap();
        headers.push((name.to_ascii_lowercase(), value.trim().to_owned()));
    }
    let mut body = Vec::new();
    reader.read_to_end(&mut body).unwrap();
    Answer {
        status,
        headers,
        body,
    }
}

#[test]
fn a_foreign_host_is_refused_everywhere() {
    let mut config = allowing(&[APP]);
    config.access.allowed_hosts = vec!["collector.test".to_owned()];
    let running = collector_with(config);
    let addr = running.addr();
    let port = addr.port();
    let body = sdk_body(TRACE_ID, now_ns());
    for host in [
        format!("evil.example:{port}"),
        format!("127.0.0.1.evil.example:{port}"),
        format!("localhost.evil.example:{port}"),
        "".to_owned(),
    ] {
        for (method, path, body) in [
            ("GET", "/", ""),
            ("GET", "/api/traces", ""),
            ("GET", "/api/status", ""),
            ("POST", "/v1/traces", body.as_str()),
            ("POST", "/api/1/item/", ITEM),
        ] {
            let answer = raw(addr, method, path, &host, &[JSON], body);
            assert_eq!(answer.status, 403, "{method} {path} with Host {host:?}");
            assert_eq!(answer.header("access-control-allow-origin"), None);
        }
        let answer = raw(addr, "GET", "/api/status", &host, &[], "");
        assert!(
            String::from_utf8_lossy(&answer.body).contains("not allowed"),
            "{:?}",
            String::from_utf8_lossy(&answer.body)
        );
    }
    assert_eq!(Client::new(&running).counts(), (0, 0, 0), "nothing stored");
    for host in [
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
        format!("LocalHost:{port}"),
        format!("[::1]:{port}"),
        format!("collector.test:{port}"),
        "collector.test".to_owned(),
    ] {
        let answer = raw(addr, "GET", "/api/status", &host, &[], "");
        assert_eq!(answer.status, 200, "Host {host}");
    }
    let answer = raw(
        addr,
        "POST",
        "/v1/traces",
        &format!("collector.test:{port}"),
        &[JSON],
        &body,
    );
    assert_eq!(answer.status, 200);
}

#[test]
fn reads_are_same_origin_only() {
    let running = collector_with(allowing(&[APP]));
    let client = Client::new(&running);
    let own = running.url();
    for path in [
        "/api/status",
        "/api/traces",
        "/api/search?q=x",
        "/api/errors",
    ] {
        // No CORS headers for anyone, not even an allowed telemetry origin.
        for origin in [APP, EVIL, "null"] {
            let answer = client.get_with(path, &[("origin", origin)]);
            assert_eq!(answer.status, 403, "{path} from {origin}");
            assert_eq!(answer.header("access-control-allow-origin"), None);
        }
        for site in ["cross-site", "same-site"] {
            let answer = client.get_with(path, &[("sec-fetch-site", site)]);
            assert_eq!(answer.status, 403, "{path} {site}");
        }
        // The collector's own UI, and programs (no Origin).
        let answer = client.get_with(
            path,
            &[("origin", own.as_str()), ("sec-fetch-site", "same-origin")],
        );
        assert_eq!(answer.status, 200, "{path} same origin");
        assert_eq!(answer.header("access-control-allow-origin"), None);
        assert_eq!(client.get(path).status, 200);
        // Preflights for reads get nothing.
        let answer = client.options(
            path,
            &[
                ("origin", EVIL),
                ("access-control-request-method", "GET"),
                ("access-control-request-private-network", "true"),
            ],
        );
        assert_eq!(answer.status, 403);
        assert_eq!(answer.header("access-control-allow-origin"), None);
        assert_eq!(answer.header("access-control-allow-private-network"), None);
    }
    // The UI pages load when navigated to from anywhere, but may not be framed.
    let answer = client.get_with("/", &[("sec-fetch-site", "cross-site")]);
    assert_eq!(answer.status, 200);
    assert_eq!(answer.header("x-frame-options"), Some("DENY"));
    assert_eq!(answer.header("access-control-allow-origin"), None);
}

#[test]
fn only_allowed_origins_may_send_and_get_the_private_network_permission() {
    let running = collector_with(allowing(&[APP, OTHER_APP]));
    let client = Client::new(&running);
    let body = sdk_body(TRACE_ID, now_ns());
    for origin in [
        EVIL,
        "http://127.0.0.1:5174",
        "null",
        "http://127.0.0.1:5173.evil.example",
    ] {
        let pre = client.options(
            "/v1/traces",
            &[
                ("origin", origin),
                ("access-control-request-method", "POST"),
                ("access-control-request-headers", "content-type"),
                ("access-control-request-private-network", "true"),
            ],
        );
        assert_eq!(pre.status, 403, "preflight from {origin}");
        assert_eq!(pre.header("access-control-allow-origin"), None);
        assert_eq!(pre.header("access-control-allow-private-network"), None);
        // Simple requests (text/plain, sendBeacon) reach the server without a preflight.
        for (path, content_type, body) in [
            ("/v1/traces", "application/json", body.as_str()),
            ("/v1/traces", "text/plain", body.as_str()),
            ("/api/1/item/", "application/json", ITEM),
            ("/api/1/item/", "text/plain;charset=UTF-8", ITEM),
        ] {
            let answer = client.post(
                path,
                &[("content-type", content_type), ("origin", origin)],
                body.as_bytes(),
            );
            assert_eq!(answer.status, 403, "{path} {content_type} from {origin}");
            assert_eq!(answer.header("access-control-allow-origin"), None);
        }
    }
    assert_eq!(
        client.counts(),
        (0, 0, 0),
        "nothing stored from refused origins"
    );
    assert!(
        client.api("/api/status")["access"]["refused"]
            .as_u64()
            .unwrap()
            >= 16
    );

    for origin in [APP, OTHER_APP, "HTTP://127.0.0.1:5173"] {
        let pre = client.options(
            "/v1/traces",
            &[
                ("origin", origin),
                ("access-control-request-method", "POST"),
                ("access-control-request-private-network", "true"),
            ],
        );
        assert_eq!(pre.status, 204, "{origin}");
        assert_eq!(pre.header("access-control-allow-origin"), Some(origin));
        assert_eq!(
            pre.header("access-control-allow-private-network"),
            Some("true")
        );
    }
    let answer = client.post("/v1/traces", &[JSON, ("origin", APP)], body.as_bytes());
    assert_eq!(answer.status, 200);
    assert_eq!(answer.header("access-control-allow-origin"), Some(APP));
    let answer = client.post(
        "/api/1/item/",
        &[JSON, ("origin", OTHER_APP)],
        ITEM.as_bytes(),
    );
    assert_eq!(answer.status, 200);
    assert_eq!(client.counts(), (1, 2, 1));
}

/// A collector whose every request seems to come from 192.0.2.9 (another machine).
fn behind_remote_peer(config: &Config) -> (String, std::sync::mpsc::Sender<()>) {
    let collector = Collector::new(config).unwrap();
    let app = collector
        .router()
        .layer(MockConnectInfo(SocketAddr::from(([192, 0, 2, 9], 40000))));
    let (ready_tx, ready) = std::sync::mpsc::channel();
    let (stop, stopped) = std::sync::mpsc::channel::<()>();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            ready_tx.send(listener.local_addr().unwrap()).unwrap();
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = tokio::task::spawn_blocking(move || stopped.recv()).await;
                })
                .await
                .unwrap();
        });
    });
    let addr = ready.recv().unwrap();
    (format!("http://{addr}"), stop)
}

#[test]
fn programs_elsewhere_need_the_ingest_token() {
    let mut config = allowing(&[APP]);
    config.access.ingest_token = Some(INGEST_TOKEN.to_owned());
    let (url, _stop) = behind_remote_peer(&config);
    let client = Client::for_url(&url);
    let body = sdk_body(TRACE_ID, now_ns());
    let bearer = format!("Bearer {INGEST_TOKEN}");
    let wrong = format!("Bearer {INGEST_TOKEN}x");
    let answer = client.post("/v1/traces", &[JSON], body.as_bytes());
    assert_eq!(answer.status, 401);
    assert!(answer.header("www-authenticate").is_some());
    assert_eq!(
        client
            .post(
                "/v1/traces",
                &[JSON, ("authorization", &wrong)],
                body.as_bytes()
            )
            .status,
        401
    );
    assert_eq!(
        client
            .post(
                "/api/1/item/",
                &[JSON, ("x-rollbar-access-token", "nope")],
                ITEM.as_bytes()
            )
            .status,
        401
    );
    assert_eq!(client.counts(), (0, 0, 0));
    assert_eq!(
        client
            .post(
                "/v1/traces",
                &[JSON, ("authorization", &bearer)],
                body.as_bytes()
            )
            .status,
        200
    );
    assert_eq!(
        client
            .post(
                "/v1/traces",
                &[JSON, ("x-honeycomb-team", INGEST_TOKEN)],
                sdk_body(&trace_id(2), now_ns()).as_bytes()
            )
            .status,
        200
    );
    assert_eq!(
        client
            .post(
                "/api/1/item/",
                &[JSON, ("x-rollbar-access-token", INGEST_TOKEN)],
                ITEM.as_bytes()
            )
            .status,
        200
    );
    // A page of an allowed origin needs no token.
    assert_eq!(
        client
            .post(
                "/v1/traces",
                &[JSON, ("origin", APP)],
                sdk_body(&trace_id(3), now_ns()).as_bytes()
            )
            .status,
        200
    );
    assert_eq!(client.counts(), (3, 6, 1));

    // Without an ingest token, nothing without an Origin gets in from elsewhere.
    let (url, _stop) = behind_remote_peer(&allowing(&[APP]));
    let client = Client::for_url(&url);
    assert_eq!(
        client
            .post(
                "/v1/traces",
                &[JSON, ("authorization", &bearer)],
                body.as_bytes()
            )
            .status,
        401
    );
}

#[test]
fn off_loopback_it_needs_a_read_token() {
    let mut config = Config::ephemeral();
    config.addr = "0.0.0.0:0".to_owned();
    let refused = edge_telemetry_collector::start(config.clone()).unwrap_err();
    assert!(
        refused.contains("EDGE_COLLECTOR_READ_TOKEN") && refused.contains("0.0.0.0"),
        "{refused}"
    );
    config.access.read_token = Some(READ_TOKEN.to_owned());
    let running = edge_telemetry_collector::start(config).unwrap();
    assert!(running.addr().ip().is_unspecified());
    let client = Client::for_url(&format!("http://127.0.0.1:{}", running.addr().port()));
    // Ingestion from this machine still needs nothing.
    assert_eq!(
        client
            .post(
                "/v1/traces",
                &[JSON],
                sdk_body(TRACE_ID, now_ns()).as_bytes()
            )
            .status,
        200
    );
    for path in [
        "/api/status",
        "/api/traces",
        "/api/search?q=x",
        "/api/errors",
        "/app.js",
    ] {
        let answer = client.get(path);
        assert_eq!(answer.status, 401, "{path}");
        assert_eq!(
            answer.header("www-authenticate"),
            Some("Bearer realm=\"edge-collector\"")
        );
        let wrong = format!("Bearer {READ_TOKEN}0");
        assert_eq!(
            client.get_with(path, &[("authorization", &wrong)]).status,
            401
        );
        let right = format!("Bearer {READ_TOKEN}");
        assert_eq!(
            client.get_with(path, &[("authorization", &right)]).status,
            200,
            "{path}"
        );
    }
    // The UI sends a browser to the login page.
    let answer = client.get("/");
    assert_eq!(answer.status, 303);
    assert_eq!(answer.header("location"), Some("/login"));
}

#[test]
fn the_login_page_sets_a_strict_http_only_session_cookie() {
    let mut config = Config::ephemeral();
    config.access.read_token = Some(READ_TOKEN.to_owned());
    let running = collector_with(config);
    let client = Client::new(&running);
    let own = running.url();
    let form = ("content-type", "application/x-www-form-urlencoded");

    let page = client.get("/login");
    assert_eq!(page.status, 200);
    assert!(String::from_utf8_lossy(&page.body).contains("name=\"token\""));

    let answer = client.post(
        "/login",
        &[form, ("origin", &own)],
        b"token=wrong-token-0123456789",
    );
    assert_eq!(answer.status, 401);
    assert_eq!(answer.header("set-cookie"), None);
    // A form posted from another origin does not log in, even with the token.
    let body = format!("token={READ_TOKEN}");
    let answer = client.post("/login", &[form, ("origin", EVIL)], body.as_bytes());
    assert_eq!(answer.status, 403);
    assert_eq!(answer.header("set-cookie"), None);

    let answer = client.post("/login", &[form, ("origin", &own)], body.as_bytes());
    assert_eq!(answer.status, 303);
    assert_eq!(answer.header("location"), Some("/"));
    let set_cookie = answer.header("set-cookie").unwrap().to_owned();
    assert!(set_cookie.contains("HttpOnly"), "{set_cookie}");
    assert!(set_cookie.contains("SameSite=Strict"), "{set_cookie}");
    assert!(
        !set_cookie.contains(READ_TOKEN),
        "the cookie is a session, not the token"
    );
    let session = set_cookie.split(';').next().unwrap().to_owned();

    assert_eq!(
        client
            .get_with("/api/traces", &[("cookie", &session)])
            .status,
        200
    );
    assert_eq!(client.get_with("/", &[("cookie", &session)]).status, 200);
    assert_eq!(
        client
            .get_with("/api/traces", &[("cookie", "edge_collector_session=00")])
            .status,
        401
    );
    // Logging out ends the session.
    let answer = client.post("/logout", &[("cookie", &session), ("origin", &own)], b"");
    assert_eq!(answer.status, 303);
    assert_eq!(
        client
            .get_with("/api/traces", &[("cookie", &session)])
            .status,
        401
    );
}

#[test]
fn a_client_over_its_rate_gets_429_and_the_others_do_not() {
    let mut config = allowing(&[APP, OTHER_APP]);
    config.access.ingest_rate = RateLimit {
        per_second: 1.0,
        burst: 3,
    };
    let running = collector_with(config);
    let client = Client::new(&running);
    let send = |origin: Option<&str>, n: u64| {
        let body = sdk_body(&trace_id(n), now_ns());
        let mut headers = vec![JSON];
        if let Some(origin) = origin {
            headers.push(("origin", origin));
        }
        client.post("/v1/traces", &headers, body.as_bytes())
    };
    for n in 1..=3 {
        assert_eq!(send(Some(APP), n).status, 200);
    }
    let limited = send(Some(APP), 4);
    assert_eq!(limited.status, 429);
    assert_eq!(limited.header("retry-after"), Some("1"));
    // The page can read it: CORS headers and Retry-After exposed.
    assert_eq!(limited.header("access-control-allow-origin"), Some(APP));
    assert_eq!(
        limited.header("access-control-expose-headers"),
        Some("retry-after")
    );
    let item = client.post("/api/1/item/", &[JSON, ("origin", APP)], ITEM.as_bytes());
    assert_eq!(item.status, 429);
    assert_eq!(item.json()["err"], 1);
    // Another app and a local program are unaffected.
    for n in 5..=7 {
        assert_eq!(send(Some(OTHER_APP), n).status, 200);
    }
    assert_eq!(send(None, 8).status, 200);
    assert_eq!(client.counts().0, 7, "what was refused was not stored");
    assert_eq!(client.api("/api/status")["access"]["rateLimited"], 2);
    // After Retry-After the first app may send again.
    std::thread::sleep(Duration::from_millis(1100));
    assert_eq!(send(Some(APP), 9).status, 200);
}

#[test]
fn the_relay_forwards_only_what_was_accepted_and_never_the_clients_credentials() {
    let upstream = FakeUpstream::start(vec![]);
    let mut config = allowing(&[APP]);
    config.relay = RelayConfig {
        honeycomb: Some(HoneycombRelay {
            endpoint: upstream.url(),
            api_key: "server-honeycomb-key".to_owned(),
            dataset: None,
        }),
        rollbar: Some(RollbarRelay {
            endpoint: format!("{}/item", upstream.url()),
            access_token: "server-rollbar-token".to_owned(),
        }),
    };
    let running = collector_with(config);
    let client = Client::new(&running);
    // Refused: a foreign origin, a simple request included.
    for content_type in ["application/json", "text/plain"] {
        let answer = client.post(
            "/v1/traces",
            &[("content-type", content_type), ("origin", EVIL)],
            sdk_body(&trace_id(1), now_ns()).as_bytes(),
        );
        assert_eq!(answer.status, 403);
        let answer = client.post(
            "/api/1/item/",
            &[("content-type", content_type), ("origin", EVIL)],
            ITEM.as_bytes(),
        );
        assert_eq!(answer.status, 403);
    }
    // Accepted, with credentials of the client's own that must not travel on.
    let answer = client.post(
        "/v1/traces",
        &[
            ("content-type", "application/json; charset=utf-8; x=\"y\""),
            ("origin", APP),
            ("x-honeycomb-team", "client-key"),
            ("authorization", "Bearer client-secret"),
            ("cookie", "session=client-cookie"),
        ],
        sdk_body(TRACE_ID, now_ns()).as_bytes(),
    );
    assert_eq!(answer.status, 200);
    let answer = client.post(
        "/api/1/item/",
        &[
            JSON,
            ("origin", APP),
            ("x-rollbar-access-token", "client-token"),
        ],
        r#"{"access_token":"client-token","data":{"body":{"message":{"body":"x"}}}}"#.as_bytes(),
    );
    assert_eq!(answer.status, 200);
    let received = eventually("both accepted requests forwarded", || {
        let r = upstream.requests();
        (r.len() >= 2).then_some(r)
    });
    std::thread::sleep(Duration::from_millis(300));
    let received = if upstream.requests().len() > received.len() {
        upstream.requests()
    } else {
        received
    };
    assert_eq!(
        received.len(),
        2,
        "only the accepted requests: {received:?}"
    );
    for r in &received {
        let dump = format!("{:?} {}", r.headers, String::from_utf8_lossy(&r.body));
        for secret in [
            "client-key",
            "client-secret",
            "client-cookie",
            "client-token",
        ] {
            assert!(!dump.contains(secret), "{secret} forwarded: {dump}");
        }
        assert_eq!(r.header("authorization"), None);
        assert_eq!(r.header("cookie"), None);
        assert_eq!(r.header("origin"), None);
    }
    let traces = received.iter().find(|r| r.path == "/v1/traces").unwrap();
    assert_eq!(
        traces.header("x-honeycomb-team"),
        Some("server-honeycomb-key")
    );
    assert_eq!(traces.header("content-type"), Some("application/json"));
    let item = received.iter().find(|r| r.path == "/item").unwrap();
    assert_eq!(
        item.header("x-rollbar-access-token"),
        Some("server-rollbar-token")
    );
}

/// The binary refuses 0.0.0.0 without a read token and never prints the token.
#[test]
fn the_binary_refuses_to_expose_itself_and_never_logs_tokens() {
    let output = Process::new(env!("CARGO_BIN_EXE_edge-collector"))
        .args(["--addr", "0.0.0.0:0", "--db", ":memory:"])
        .env_remove("EDGE_COLLECTOR_READ_TOKEN")
        .env_remove("EDGE_COLLECTOR_ADDR")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("EDGE_COLLECTOR_READ_TOKEN"), "{stderr}");
    assert!(output.stdout.is_empty(), "it did not start listening");

    let short = Process::new(env!("CARGO_BIN_EXE_edge-collector"))
        .args(["--addr", "0.0.0.0:0", "--db", ":memory:"])
        .env("EDGE_COLLECTOR_READ_TOKEN", "short")
        .output()
        .unwrap();
    assert_eq!(short.status.code(), Some(2));
    assert!(!String::from_utf8_lossy(&short.stderr).contains("short\""));

    let binary = Binary::start(
        Process::new(env!("CARGO_BIN_EXE_edge-collector"))
            .args([
                "--addr",
                "0.0.0.0:0",
                "--db",
                ":memory:",
                "--allow-origin",
                APP,
            ])
            .env("EDGE_COLLECTOR_READ_TOKEN", READ_TOKEN)
            .env("EDGE_COLLECTOR_INGEST_TOKEN", INGEST_TOKEN),
    );
    let base = binary.base.clone();
    let client = Client::for_url(&base);
    let form = ("content-type", "application/x-www-form-urlencoded");
    assert_eq!(
        client
            .post("/login", &[form], b"token=not-the-token-at-all")
            .status,
        401
    );
    let body = format!("token={READ_TOKEN}");
    assert_eq!(client.post("/login", &[form], body.as_bytes()).status, 303);
    assert_eq!(
        client
            .post("/v1/traces", &[JSON, ("origin", EVIL)], b"{}")
            .status,
        403
    );
    let (stdout, stderr) = binary.stop();
    let logs = format!("{stdout}{stderr}");
    assert!(
        logs.contains("evil.example"),
        "the refusal is logged: {logs}"
    );
    assert!(
        !logs.contains(READ_TOKEN) && !logs.contains(INGEST_TOKEN),
        "{logs}"
    );
}

#[test]
fn access_options_from_the_command_line_and_environment() {
    use edge_telemetry_collector::Command;
    let env = |vars: &'static [(&'static str, &'static str)]| {
        move |name: &str| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        }
    };
    let Command::Run(config) = Command::parse(
        [
            "--allow-origin",
            "HTTP://127.0.0.1:5173/",
            "--allow-origin=http://localhost:3000",
            "--allowed-host",
            "Collector.Test.",
            "--ingest-rate",
            "2.5",
            "--ingest-burst",
            "7",
        ],
        env(&[
            (
                "EDGE_COLLECTOR_ALLOW_ORIGINS",
                "https://app.example, http://127.0.0.1:5173",
            ),
            ("EDGE_COLLECTOR_ALLOWED_HOSTS", ".corp.test"),
            ("EDGE_COLLECTOR_READ_TOKEN", READ_TOKEN),
            ("EDGE_COLLECTOR_INGEST_TOKEN", INGEST_TOKEN),
        ]),
    )
    .unwrap() else {
        panic!("not a run")
    };
    let access = &config.access;
    assert_eq!(
        access.allow_origins,
        [
            "https://app.example",
            "http://127.0.0.1:5173",
            "http://localhost:3000"
        ]
    );
    assert_eq!(access.allowed_hosts, [".corp.test", "collector.test"]);
    assert_eq!(
        access.ingest_rate,
        RateLimit {
            per_second: 2.5,
            burst: 7
        }
    );
    assert_eq!(access.read_token.as_deref(), Some(READ_TOKEN));
    let debug = format!("{config:?}");
    assert!(
        !debug.contains(READ_TOKEN)
            && !debug.contains(INGEST_TOKEN)
            && debug.contains("<redacted>"),
        "{debug}"
    );

    // Defaults: no origin may send, a limit is on, no tokens.
    let Command::Run(config) = Command::parse(Vec::<String>::new(), env(&[])).unwrap() else {
        panic!("not a run")
    };
    assert!(config.access.allow_origins.is_empty());
    assert!(config.access.ingest_rate.per_second > 0.0);
    assert_eq!(config.access.read_token, None);

    for (args, vars, message) in [
        (&["--allow-origin", "*"][..], &[][..], "wildcards"),
        (&["--allow-origin", "127.0.0.1:5173"], &[], "not an origin"),
        (&["--allow-origin", "http://a.test/path"], &[], "no path"),
        (&["--allowed-host", "http://a.test"], &[], "not a host name"),
        (&["--ingest-burst", "0"], &[], "at least 1"),
        (&["--ingest-rate", "-1"], &[], "0 or more"),
        (
            &[],
            &[("EDGE_COLLECTOR_READ_TOKEN", "short")],
            "at least 16",
        ),
        (
            &[],
            &[("EDGE_COLLECTOR_INGEST_TOKEN", "has a space in it ok")],
            "without spaces",
        ),
    ]
        as [(&[&str], &'static [(&'static str, &'static str)], &str); 8]
    {
        let error = Command::parse(args.iter().copied(), env(vars)).unwrap_err();
        assert!(error.contains(message), "{args:?} {vars:?}: {error}");
        for (_, value) in vars {
            assert!(!error.contains(value), "a token is never printed: {error}");
        }
    }
}
