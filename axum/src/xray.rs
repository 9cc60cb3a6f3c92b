//! X-Ray segments over the X-Ray daemon's UDP protocol.
//!
//! `opentelemetry-aws`'s `XrayExporter` and `SegmentTranslator` turn finished spans into
//! segment documents (SERVER spans into segments, the others into subsegments; `http`,
//! `sql`, `error`/`fault`/`throttle`, `cause.exceptions`, annotations and metadata from
//! attributes). [`XrayDaemonClient`] sends them as the X-Ray SDKs do: one UDP datagram per
//! document, `{"format":"json","version":1}` and a newline before it, to
//! `AWS_XRAY_DAEMON_ADDRESS` (default `127.0.0.1:2000`). It is ours rather than the crate's
//! own daemon client because that one sends a document over the datagram limit as it is
//! (the send fails, the document is lost): this one splits nested subsegments into
//! documents of their own and then sheds what X-Ray can do without (metadata, exception
//! stacks, annotations) until the datagram fits, and counts what it could not send.

use edge_telemetry_core::trace::xray_rules::RuleSet;
use edge_telemetry_core::trace::xray_rules::json::{
    rules_from_document, statistics_document, targets_from_document,
};
use edge_telemetry_core::web::http::xray_status_flags;
use opentelemetry_aws::xray_exporter::{SegmentDocument, SegmentDocumentExporter};
use serde_json::Value;
use std::net::{SocketAddr, ToSocketAddrs, UdpSocket};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// What precedes every document in a datagram.
pub const DAEMON_HEADER: &str = "{\"format\":\"json\",\"version\":1}\n";

/// The largest datagram sent: 64 kB, X-Ray's limit on a segment document (below the largest
/// UDP payload over IPv4, 65,507 bytes). The local collector's daemon port drops larger ones.
pub const MAX_DATAGRAM_BYTES: usize = 64_000;

/// The longest `http.request.url` kept in a document that had to shed fields.
const MAX_URL_BYTES: usize = 2048;

/// The daemon's address when `AWS_XRAY_DAEMON_ADDRESS` is not set.
pub const DEFAULT_DAEMON_ADDRESS: &str = "127.0.0.1:2000";

/// The UDP address in an `AWS_XRAY_DAEMON_ADDRESS` value: `host:port`, or the SDKs' two-part
/// form `tcp:host:port udp:host:port` (its `udp:` part).
pub fn daemon_address(value: &str) -> Option<SocketAddr> {
    let udp = value
        .split_whitespace()
        .find_map(|part| part.strip_prefix("udp:"))
        .unwrap_or_else(|| value.trim());
    udp.to_socket_addrs().ok()?.next()
}

/// What an [`XrayDaemonClient`] did: datagrams sent, documents that had to shed fields to
/// fit, documents it could not send (too large even then, or the send failed).
#[derive(Debug, Default)]
pub struct DaemonCounts {
    /// Datagrams sent.
    pub sent: AtomicU64,
    /// Documents that shed fields to fit.
    pub shrunk: AtomicU64,
    /// Documents not sent.
    pub dropped: AtomicU64,
}

/// Sends segment documents to an X-Ray daemon (or the local collector's daemon port).
#[derive(Debug)]
pub struct XrayDaemonClient {
    socket: UdpSocket,
    counts: Arc<DaemonCounts>,
}

impl XrayDaemonClient {
    /// A client for the daemon at `addr`.
    pub fn new(addr: SocketAddr) -> std::io::Result<Self> {
        let bind: SocketAddr = if addr.is_ipv4() {
            ([0, 0, 0, 0], 0).into()
        } else {
            (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
        };
        let socket = UdpSocket::bind(bind)?;
        socket.connect(addr)?;
        Ok(Self {
            socket,
            counts: Arc::default(),
        })
    }

    /// A client for `AWS_XRAY_DAEMON_ADDRESS`, else [`DEFAULT_DAEMON_ADDRESS`].
    pub fn from_env() -> std::io::Result<Self> {
        let value = std::env::var("AWS_XRAY_DAEMON_ADDRESS")
            .unwrap_or_else(|_| DEFAULT_DAEMON_ADDRESS.to_owned());
        let addr = daemon_address(&value).ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("AWS_XRAY_DAEMON_ADDRESS {value:?} is not host:port"),
            )
        })?;
        Self::new(addr)
    }

    /// Its counters (shared: they stay readable after the client moves into an exporter).
    pub fn counts(&self) -> Arc<DaemonCounts> {
        self.counts.clone()
    }

    /// Sends one document (and the subsegments split off it).
    pub fn send_document(&self, mut document: Value) {
        status_flags(&mut document);
        let datagrams = datagrams(document);
        let c = &self.counts;
        if datagrams.shrunk {
            c.shrunk.fetch_add(1, Ordering::Relaxed);
        }
        c.dropped.fetch_add(datagrams.too_large, Ordering::Relaxed);
        for datagram in datagrams.ready {
            match self.socket.send(&datagram) {
                Ok(_) => c.sent.fetch_add(1, Ordering::Relaxed),
                Err(_) => c.dropped.fetch_add(1, Ordering::Relaxed),
            };
        }
    }
}

impl SegmentDocumentExporter for XrayDaemonClient {
    type Error = std::io::Error;

    async fn export_segment_documents(
        &self,
        batch: Vec<SegmentDocument<'_>>,
    ) -> Result<(), Self::Error> {
        for document in batch {
            match serde_json::to_value(&document) {
                Ok(value) => self.send_document(value),
                Err(_) => {
                    self.counts.dropped.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
        Ok(())
    }
}

/// X-Ray's reading of the HTTP status: `error` for a 4xx, with `throttle` for a 429, and
/// `fault` for a 5xx. The translator sets them only on spans whose status is an error, and
/// OpenTelemetry leaves a SERVER span's status unset for a 4xx (the client's mistake), so a
/// 404 would otherwise reach X-Ray as a success. Applied to a document and its nested
/// subsegments.
pub fn status_flags(doc: &mut Value) {
    let status = doc.pointer("/http/response/status").and_then(Value::as_u64);
    if let Some(o) = doc.as_object_mut() {
        let flags = status.map(xray_status_flags).unwrap_or_default();
        for (key, on) in [
            ("error", flags.error),
            ("throttle", flags.throttle),
            ("fault", flags.fault),
        ] {
            if on {
                o.insert(key.into(), Value::Bool(true));
            }
        }
        if let Some(Value::Array(children)) = o.get_mut("subsegments") {
            children.iter_mut().for_each(status_flags);
        }
    }
}

/// The datagrams for one document.
#[derive(Debug, Default)]
pub struct Datagrams {
    /// Header + document, each at most [`MAX_DATAGRAM_BYTES`].
    pub ready: Vec<Vec<u8>>,
    /// Whether a document had to shed fields to fit.
    pub shrunk: bool,
    /// Documents still too large after shedding (not sent).
    pub too_large: u64,
}

/// `document` as datagrams: as it is when it fits; otherwise its nested `subsegments` become
/// independent subsegment documents (`"type":"subsegment"`, with `trace_id` and `parent_id`),
/// and a document still too large sheds, in order, `metadata`, the exceptions' `stack`s,
/// `annotations`, `sql.sanitized_query`, and cuts `http.request.url` to 2,048 bytes, until
/// it fits.
pub fn datagrams(document: Value) -> Datagrams {
    let mut out = Datagrams::default();
    let mut queue = vec![document];
    while let Some(mut doc) = queue.pop() {
        if let Some(bytes) = fitting(&doc) {
            out.ready.push(bytes);
            continue;
        }
        let trace_id = doc.get("trace_id").cloned();
        let id = doc.get("id").cloned();
        if let Some(Value::Array(children)) =
            doc.as_object_mut().and_then(|o| o.remove("subsegments"))
        {
            for mut child in children {
                if let Some(c) = child.as_object_mut() {
                    c.insert("type".into(), Value::from("subsegment"));
                    if let Some(t) = &trace_id {
                        c.insert("trace_id".into(), t.clone());
                    }
                    if let Some(p) = &id {
                        c.insert("parent_id".into(), p.clone());
                    }
                }
                queue.push(child);
            }
            queue.push(doc);
            continue;
        }
        out.shrunk = true;
        let sheds: [fn(&mut Value) -> bool; 5] = [
            |d| remove(d, &["metadata"]),
            |d| {
                let mut any = false;
                if let Some(Value::Array(exceptions)) =
                    d.pointer_mut("/cause/exceptions").map(Value::take)
                {
                    let trimmed: Vec<Value> = exceptions
                        .into_iter()
                        .map(|mut e| {
                            any |= remove(&mut e, &["stack"]);
                            e
                        })
                        .collect();
                    if let Some(slot) = d.pointer_mut("/cause/exceptions") {
                        *slot = Value::Array(trimmed);
                    }
                }
                any
            },
            |d| remove(d, &["annotations"]),
            |d| remove(d, &["sql", "sanitized_query"]),
            |d| match d.pointer_mut("/http/request/url") {
                Some(Value::String(url)) if url.len() > MAX_URL_BYTES => {
                    let mut cut = MAX_URL_BYTES;
                    while !url.is_char_boundary(cut) {
                        cut -= 1;
                    }
                    url.truncate(cut);
                    true
                }
                _ => false,
            },
        ];
        let mut fitted = None;
        for shed in sheds {
            if shed(&mut doc)
                && let Some(bytes) = fitting(&doc)
            {
                fitted = Some(bytes);
                break;
            }
        }
        match fitted {
            Some(bytes) => out.ready.push(bytes),
            None => out.too_large += 1,
        }
    }
    out
}

/// Header + `doc` when it fits in a datagram.
fn fitting(doc: &Value) -> Option<Vec<u8>> {
    let mut bytes = DAEMON_HEADER.as_bytes().to_vec();
    serde_json::to_writer(&mut bytes, doc).ok()?;
    (bytes.len() <= MAX_DATAGRAM_BYTES).then_some(bytes)
}

/// Removes the field at `path` (object keys); whether there was one.
fn remove(doc: &mut Value, path: &[&str]) -> bool {
    let Some((last, parents)) = path.split_last() else {
        return false;
    };
    let mut cur = doc;
    for key in parents {
        match cur.get_mut(*key) {
            Some(next) => cur = next,
            None => return false,
        }
    }
    cur.as_object_mut()
        .is_some_and(|o| o.remove(*last).is_some())
}

pub use edge_telemetry_core::trace::xray_rules::json::{local_rules, local_rules_file};

/// Keeps `rules` in step with an X-Ray daemon's sampling API at `daemon` (`http://host:port`,
/// the daemon's TCP address; the local collector serves it): the rules every
/// `rules_every` (X-Ray's SDKs: 5 minutes), and every `targets_every` (10 s) this service's
/// statistics sent and the quotas it is given applied. A call that fails is tried again at the
/// next turn; the rules in force stay. The thread ends when nothing else holds `rules`.
pub fn poll_sampling(
    rules: Arc<Mutex<RuleSet>>,
    daemon: String,
    rules_every: std::time::Duration,
    targets_every: std::time::Duration,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(std::time::Duration::from_secs(5)))
            .build()
            .into();
        let post = |path: &str, body: String| -> Option<Value> {
            let mut r = agent
                .post(&format!("{}{path}", daemon.trim_end_matches('/')))
                .header("content-type", "application/json")
                .send(body)
                .ok()?;
            serde_json::from_str(&r.body_mut().read_to_string().ok()?).ok()
        };
        let now = || {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default()
        };
        let client_id = format!("{:024x}", now().as_nanos() ^ u128::from(std::process::id()));
        let mut rules_at: Option<std::time::Instant> = None;
        while Arc::strong_count(&rules) > 1 {
            if rules_at.is_none_or(|t| t.elapsed() >= rules_every)
                && let Some(doc) = post("/GetSamplingRules", "{}".to_owned())
            {
                rules_at = Some(std::time::Instant::now());
                let fetched = rules_from_document(&doc);
                if !fetched.is_empty() {
                    let new = RuleSet::centralized(fetched);
                    if let Ok(mut current) = rules.lock()
                        && !new.rules().eq(current.rules())
                    {
                        *current = new;
                    }
                }
            }
            let stats = rules.lock().map(|mut r| r.take_stats()).unwrap_or_default();
            let request = statistics_document(&stats, &client_id, now().as_secs_f64());
            if let Some(doc) = post("/SamplingTargets", request.to_string())
                && let Ok(mut current) = rules.lock()
            {
                for (name, target) in targets_from_document(&doc) {
                    current.set_target(&name, target);
                }
            }
            std::thread::sleep(targets_every);
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(datagram: &[u8]) -> Value {
        let text = std::str::from_utf8(datagram).unwrap();
        let body = text.strip_prefix(DAEMON_HEADER).expect("header");
        serde_json::from_str(body).unwrap()
    }

    #[test]
    fn http_statuses_set_error_throttle_and_fault() {
        for (status, want) in [
            (200, (false, false, false)),
            (404, (true, false, false)),
            (429, (true, true, false)),
            (503, (false, false, true)),
        ] {
            let mut d = json!({"name": "a", "http": {"response": {"status": status}},
                "subsegments": [{"name": "b", "http": {"response": {"status": status}}}]});
            status_flags(&mut d);
            for doc in [&d, &d["subsegments"][0]] {
                let flag = |k: &str| doc.get(k) == Some(&Value::Bool(true));
                assert_eq!(
                    (flag("error"), flag("throttle"), flag("fault")),
                    want,
                    "{status}"
                );
            }
        }
    }

    #[test]
    fn daemon_addresses() {
        assert_eq!(
            daemon_address("127.0.0.1:2000"),
            Some("127.0.0.1:2000".parse().unwrap())
        );
        assert_eq!(
            daemon_address("tcp:127.0.0.1:2001 udp:127.0.0.1:2002"),
            Some("127.0.0.1:2002".parse().unwrap())
        );
        assert_eq!(daemon_address("nonsense"), None);
    }

    #[test]
    fn small_documents_go_as_they_are() {
        let d = json!({"name": "api", "id": "70de5b6f19ff9a0a", "trace_id": "1-581cf771-a006649127e371903a2de979", "start_time": 1.0, "end_time": 2.0});
        let out = datagrams(d.clone());
        assert_eq!(out.ready.len(), 1);
        assert!(!out.shrunk);
        assert_eq!(parse(&out.ready[0]), d);
    }

    #[test]
    fn oversize_documents_split_their_subsegments_then_shed_fields() {
        let big = "x".repeat(40_000);
        let d = json!({
            "name": "api", "id": "70de5b6f19ff9a0a", "trace_id": "1-581cf771-a006649127e371903a2de979",
            "start_time": 1.0, "end_time": 2.0,
            "subsegments": [
                {"name": "db", "id": "1111111111111111", "start_time": 1.1, "end_time": 1.2, "metadata": {"default": {"q": big.clone()}}},
                {"name": "cache", "id": "2222222222222222", "start_time": 1.3, "end_time": 1.4, "annotations": {"k": "v"}, "metadata": {"default": {"blob": big.clone()}}}
            ]
        });
        let out = datagrams(d);
        assert_eq!(out.ready.len(), 3, "the segment and two subsegments");
        assert!(out.ready.iter().all(|b| b.len() <= MAX_DATAGRAM_BYTES));
        let docs: Vec<Value> = out.ready.iter().map(|b| parse(b)).collect();
        let seg = docs.iter().find(|d| d["name"] == "api").unwrap();
        assert!(seg.get("subsegments").is_none());
        for name in ["db", "cache"] {
            let s = docs.iter().find(|d| d["name"] == name).unwrap();
            assert_eq!(s["type"], "subsegment");
            assert_eq!(s["parent_id"], "70de5b6f19ff9a0a");
            assert_eq!(s["trace_id"], "1-581cf771-a006649127e371903a2de979");
            assert!(s.get("metadata").is_some(), "each fits with its metadata");
        }
        assert!(!out.shrunk);

        let huge = "y".repeat(70_000);
        let d = json!({"name": "api", "id": "70de5b6f19ff9a0a", "start_time": 1.0,
            "annotations": {"a": "b"}, "metadata": {"default": {"blob": huge.clone()}},
            "cause": {"exceptions": [{"id": "3333333333333333", "message": "boom", "stack": [{"path": huge.clone()}]}]}});
        let out = datagrams(d);
        assert!(out.shrunk);
        assert_eq!(out.ready.len(), 1);
        let doc = parse(&out.ready[0]);
        assert!(doc.get("metadata").is_none());
        assert!(doc["cause"]["exceptions"][0].get("stack").is_none());
        assert_eq!(doc["cause"]["exceptions"][0]["message"], "boom");
        assert_eq!(
            doc["annotations"]["a"], "b",
            "kept: it fitted before annotations had to go"
        );

        let d = json!({"name": huge, "id": "70de5b6f19ff9a0a", "start_time": 1.0});
        let out = datagrams(d);
        assert_eq!(
            (out.ready.len(), out.too_large),
            (0, 1),
            "cannot fit: counted"
        );
    }
}
