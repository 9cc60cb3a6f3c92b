//! Helpers shared by the integration tests: an in-process collector, a small HTTP client,
//! request bodies, and a fake upstream for the relay.
#![allow(dead_code)] // each test binary uses a part

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use edge_telemetry_collector::{Config, Running};
use serde_json::Value;

pub const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
pub const ROOT_ID: &str = "00f067aa0ba902b7";
pub const CHILD_ID: &str = "b7ad6b7169203331";

/// A collector on a free port with an in-memory database.
pub fn collector() -> Running {
    collector_with(Config::ephemeral())
}

pub fn collector_with(config: Config) -> Running {
    edge_telemetry_collector::start(config).expect("collector starts")
}

/// An HTTP answer.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", String::from_utf8_lossy(&self.body)))
    }
}

/// A ureq client for one collector.
pub struct Client {
    agent: ureq::Agent,
    pub base: String,
}

impl Client {
    pub fn new(running: &Running) -> Self {
        Self::for_url(&running.url())
    }

    pub fn for_url(base: &str) -> Self {
        Self {
            agent: ureq::Agent::config_builder()
                .http_status_as_error(false)
                .max_redirects(0)
                .timeout_global(Some(Duration::from_secs(20)))
                .build()
                .into(),
            base: base.trim_end_matches('/').to_owned(),
        }
    }

    fn answer(response: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Answer {
        let mut response = response.expect("HTTP request");
        let headers = response
            .headers()
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_str().unwrap_or("").to_owned()))
            .collect();
        Answer {
            status: response.status().as_u16(),
            headers,
            body: response
                .body_mut()
                .with_config()
                .limit(64 * 1024 * 1024)
                .read_to_vec()
                .expect("body"),
        }
    }

    pub fn post(&self, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Answer {
        let mut request = self.agent.post(format!("{}{path}", self.base));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        Self::answer(request.send(body))
    }

    pub fn post_json(&self, path: &str, body: &str) -> Answer {
        self.post(
            path,
            &[("content-type", "application/json")],
            body.as_bytes(),
        )
    }

    pub fn get(&self, path: &str) -> Answer {
        self.get_with(path, &[])
    }

    pub fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> Answer {
        let mut request = self.agent.get(format!("{}{path}", self.base));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        Self::answer(request.call())
    }

    pub fn options(&self, path: &str, headers: &[(&str, &str)]) -> Answer {
        let mut request = self.agent.options(format!("{}{path}", self.base));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        Self::answer(request.call())
    }

    /// GET, expecting 200 and JSON.
    pub fn api(&self, path: &str) -> Value {
        let answer = self.get(path);
        assert_eq!(
            answer.status,
            200,
            "GET {path}: {}",
            String::from_utf8_lossy(&answer.body)
        );
        answer.json()
    }

    /// `/api/status` counts: (traces, spans, errors).
    pub fn counts(&self) -> (u64, u64, u64) {
        let s = self.api("/api/status");
        (
            s["traces"].as_u64().unwrap(),
            s["spans"].as_u64().unwrap(),
            s["errors"].as_u64().unwrap(),
        )
    }
}

pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// Now, Unix nanoseconds.
pub fn now_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
}

/// A body like the one the browser SDK sends (`core/src/export/otlp.rs`): a `documentLoad` root
/// and a CLIENT child with attributes of every type, events, a link, status and flags.
/// Times are `start_ns` + offsets.
pub fn sdk_body(trace_id: &str, start_ns: u64) -> String {
    let t = |offset_ms: u64| (start_ns + offset_ms * 1_000_000).to_string();
    format!(
        r#"{{"resourceSpans":[{{"resource":{{"attributes":[
  {{"key":"service.name","value":{{"stringValue":"shop-web"}}}},
  {{"key":"service.version","value":{{"stringValue":"1.2.3"}}}},
  {{"key":"telemetry.sdk.language","value":{{"stringValue":"webjs"}}}},
  {{"key":"session.id","value":{{"stringValue":"sess-42"}}}}]}},
 "scopeSpans":[{{"scope":{{"name":"edge-telemetry","version":"0.1.0"}},"spans":[
  {{"traceId":"{trace_id}","spanId":"{ROOT_ID}","flags":257,"name":"documentLoad","kind":1,
    "startTimeUnixNano":"{s0}","endTimeUnixNano":"{s1}",
    "attributes":[{{"key":"page.url","value":{{"stringValue":"https://shop.example/cart"}}}}],
    "status":{{"code":1}}}},
  {{"traceId":"{trace_id}","spanId":"{CHILD_ID}","traceState":"congo=t61rcWkgMzE",
    "parentSpanId":"{ROOT_ID}","flags":769,"name":"GET /api/cart","kind":3,
    "startTimeUnixNano":"{c0}","endTimeUnixNano":"{c1}",
    "attributes":[
      {{"key":"http.request.method","value":{{"stringValue":"GET"}}}},
      {{"key":"cart.id","value":{{"stringValue":"cart-7731"}}}},
      {{"key":"http.response.status_code","value":{{"intValue":"500"}}}},
      {{"key":"retry.count","value":{{"intValue":2}}}},
      {{"key":"cache.hit","value":{{"boolValue":false}}}},
      {{"key":"ratio","value":{{"doubleValue":0.25}}}},
      {{"key":"tags","value":{{"arrayValue":{{"values":[{{"stringValue":"a"}},{{"stringValue":"b"}}]}}}}}},
      {{"key":"ints","value":{{"arrayValue":{{"values":[{{"intValue":"1"}},{{"intValue":"-2"}}]}}}}}},
      {{"key":"nested","value":{{"kvlistValue":{{"values":[{{"key":"k","value":{{"stringValue":"v"}}}}]}}}}}},
      {{"key":"raw","value":{{"bytesValue":"AAEC"}}}}],
    "droppedAttributesCount":1,
    "events":[{{"timeUnixNano":"{e0}","name":"exception","attributes":[
      {{"key":"exception.type","value":{{"stringValue":"TypeError"}}}},
      {{"key":"exception.message","value":{{"stringValue":"cart is undefined"}}}}]}}],
    "links":[{{"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"b9c7c989f97918e1",
      "traceState":"vendor=value","attributes":[{{"key":"link.kind","value":{{"stringValue":"follows"}}}}],"flags":257}}],
    "status":{{"code":2,"message":"HTTP 500"}}}}]}}]}}]}}"#,
        s0 = t(0),
        s1 = t(1200),
        c0 = t(100),
        c1 = t(350),
        e0 = t(300),
    )
}

/// A minimal one-span OTLP JSON body.
pub fn one_span(trace_id: &str, span_id: &str, name: &str, service: &str, start_ns: u64) -> String {
    format!(
        r#"{{"resourceSpans":[{{"resource":{{"attributes":[{{"key":"service.name","value":{{"stringValue":"{service}"}}}}]}},"scopeSpans":[{{"scope":{{"name":"test"}},"spans":[{{"traceId":"{trace_id}","spanId":"{span_id}","name":"{name}","kind":2,"startTimeUnixNano":"{start_ns}","endTimeUnixNano":"{end}","status":{{}}}}]}}]}}]}}"#,
        end = start_ns + 5_000_000
    )
}

/// A distinct trace id for `n`.
pub fn trace_id(n: u64) -> String {
    format!(
        "{:032x}",
        0xabc0_0000_0000_0000_0000_0000_0000_0000u128 + u128::from(n)
    )
}

/// Polls `f` until it returns `Some` (5 s at most).
pub fn eventually<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        thread::sleep(Duration::from_millis(20));
    }
}

/// A request the fake upstream received.
#[derive(Clone, Debug)]
pub struct Received {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A local HTTP/1.1 server that records every request and answers with the next status
/// of `statuses` (then 200).
pub struct FakeUpstream {
    pub addr: SocketAddr,
    pub received: Arc<Mutex<Vec<Received>>>,
}

impl FakeUpstream {
    pub fn start(statuses: Vec<u16>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let received = Arc::new(Mutex::new(Vec::new()));
        let statuses = Arc::new(Mutex::new(statuses.into_iter()));
        let log = received.clone();
        thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { break };
                let log = log.clone();
                let statuses = statuses.clone();
                thread::spawn(move || serve_connection(stream, &log, &statuses));
            }
        });
        Self { addr, received }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn requests(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

fn serve_connection(
    stream: TcpStream,
    log: &Mutex<Vec<Received>>,
    statuses: &Mutex<std::vec::IntoIter<u16>>,
) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let mut parts = line.split_whitespace();
        let method = parts.next().unwrap_or("").to_owned();
        let path = parts.next().unwrap_or("").to_owned();
        let mut headers = Vec::new();
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).unwrap_or(0) == 0 {
                return;
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((n, v)) = h.split_once(':') {
                headers.push((n.trim().to_owned(), v.trim().to_owned()));
            }
        }
        let length = headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
            .and_then(|(_, v)| v.parse::<usize>().ok())
            .unwrap_or(0);
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        log.lock().unwrap().push(Received {
            method,
            path,
            headers,
            body,
        });
        let status = statuses.lock().unwrap().next().unwrap_or(200);
        let reply = format!(
            "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{{}}"
        );
        if writer.write_all(reply.as_bytes()).is_err() {
            return;
        }
    }
}

/// The `edge-collector` binary, running: killed if the test fails before stopping it.
pub struct Binary {
    child: std::process::Child,
    stdout: BufReader<std::process::ChildStdout>,
    /// Its first line.
    pub line: String,
    /// The URL in it, `http://HOST:PORT`.
    pub base: String,
}

impl Binary {
    /// Starts `command` (the binary, with its arguments and environment) and reads the
    /// "listening on" line.
    pub fn start(command: &mut std::process::Command) -> Self {
        let mut child = command
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("runs the binary");
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        let base = line
            .strip_prefix("edge-collector listening on ")
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap_or_else(|| panic!("first line: {line:?}"))
            .to_owned();
        Self {
            child,
            stdout,
            line,
            base,
        }
    }

    /// SIGTERM; asserts a clean exit and returns everything it printed (stdout and stderr).
    pub fn stop(mut self) -> (String, String) {
        let pid = self.child.id().to_string();
        let killed = std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap();
        assert!(killed.success());
        let status = self.child.wait().unwrap();
        assert!(status.success(), "exit status {status:?}");
        let mut out = std::mem::take(&mut self.line);
        self.stdout.read_to_string(&mut out).unwrap();
        let mut err = String::new();
        if let Some(mut stderr) = self.child.stderr.take() {
            stderr.read_to_string(&mut err).unwrap();
        }
        (out, err)
    }
}

impl Drop for Binary {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A `moto_server` on a free port of 127.0.0.1, stopped when dropped.
pub struct Moto {
    child: std::process::Child,
    pub url: String,
}

impl Moto {
    pub fn start() -> Self {
        let bin = std::env::var("MOTO_SERVER").unwrap_or_else(|_| "moto_server".to_owned());
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = std::process::Command::new(&bin)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot run {bin} ({e}): run scripts/setup (pip install \"moto[server]\")")
            });
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "moto_server did not listen on {port}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
        }
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
