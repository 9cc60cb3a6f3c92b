//! Shared by the integration tests: a collector and a backend in-process, a small HTTP
//! client.
#![allow(dead_code)]

use edge_telemetry_demo_backend::{Config, Running};
use serde_json::Value;
use std::time::{Duration, Instant};

pub struct Setup {
    pub collector: edge_telemetry_collector::Running,
    pub backend: Running,
}

/// A collector on a free port, in memory, and a backend sending to it.
pub fn setup() -> Setup {
    setup_with(|_| {})
}

pub fn setup_with(change: impl FnOnce(&mut Config)) -> Setup {
    let collector = edge_telemetry_collector::start(edge_telemetry_collector::Config::ephemeral())
        .expect("collector starts");
    let mut config = Config::for_collector(&collector.url());
    change(&mut config);
    let backend = edge_telemetry_demo_backend::start(config).expect("backend starts");
    Setup { collector, backend }
}

pub struct Reply {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().expect("ascii"))
    }

    /// `(trace id, span id, flags)` from `Server-Timing: traceparent;desc="00-…"`.
    pub fn server_timing(&self) -> (String, String, String) {
        let value = self.header("server-timing").expect("Server-Timing");
        let desc = value
            .strip_prefix("traceparent;desc=\"")
            .and_then(|v| v.strip_suffix('"'))
            .unwrap_or_else(|| panic!("Server-Timing {value}"));
        let parts: Vec<&str> = desc.split('-').collect();
        assert_eq!(parts.len(), 4, "{desc}");
        assert_eq!(parts[0], "00");
        assert_eq!(parts[1].len(), 32);
        assert_eq!(parts[2].len(), 16);
        (parts[1].into(), parts[2].into(), parts[3].into())
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .new_agent()
}

fn reply(response: Result<http::Response<ureq::Body>, ureq::Error>) -> Reply {
    let mut response = response.expect("request");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.body_mut().read_to_string().expect("body");
    Reply {
        status,
        headers,
        body,
    }
}

/// A request with `headers` (names may repeat: each pair is one header line).
pub fn request(method: &str, url: &str, headers: &[(&str, &str)], body: Option<&str>) -> Reply {
    let mut builder = http::Request::builder().method(method).uri(url);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    let request = builder
        .body(body.unwrap_or("").as_bytes().to_vec())
        .expect("request");
    reply(agent().run(request))
}

pub fn get(url: &str, headers: &[(&str, &str)]) -> Reply {
    request("GET", url, headers, None)
}

/// The collector's JSON at `path`.
pub fn api(collector: &edge_telemetry_collector::Running, path: &str) -> Reply {
    get(&format!("{}{path}", collector.url()), &[])
}

/// The trace once the collector has at least `spans` spans of it (the backend is flushed
/// first).
pub fn trace(setup: &Setup, trace_id: &str, spans: usize) -> Value {
    setup.backend.flush().expect("flush");
    wait_trace(&setup.collector, trace_id, spans)
}

pub fn wait_trace(
    collector: &edge_telemetry_collector::Running,
    trace_id: &str,
    spans: usize,
) -> Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let reply = api(collector, &format!("/api/traces/{trace_id}"));
        if reply.status == 200 {
            let trace = reply.json();
            if trace["spans"].as_array().map_or(0, Vec::len) >= spans {
                return trace;
            }
        }
        assert!(
            Instant::now() < deadline,
            "trace {trace_id}: fewer than {spans} spans: {}",
            reply.body
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The span named `name`.
pub fn span<'a>(trace: &'a Value, name: &str) -> &'a Value {
    trace["spans"]
        .as_array()
        .expect("spans")
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("no span {name} in {trace}"))
}

/// The collector's JSON at `path` once `ok` says so (10 s at most).
pub fn wait_json(
    collector: &edge_telemetry_collector::Running,
    path: &str,
    ok: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let reply = api(collector, path);
        if reply.status == 200 {
            let v = reply.json();
            if ok(&v) {
                return v;
            }
        }
        assert!(Instant::now() < deadline, "{path}: {}", reply.body);
        std::thread::sleep(Duration::from_millis(50));
    }
}
