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

use edge_telemetry_core::trace::xray_rules::{DEFAULT_RULE_PRIORITY, RuleSet, SamplingRule};
use edge_telemetry_core::web::http::xray_status_flags;
use opentelemetry_aws::xray_exporter::{SegmentDocument, SegmentDocumentExporter};
use serde_json::Value;
use std::net::{SocketAddr, ToSocketAddrs, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

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

/// [`local_rules`] of the file at `path`.
pub fn local_rules_file(path: impl AsRef<std::path::Path>) -> Result<RuleSet, String> {
    let path = path.as_ref();
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    local_rules(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// A local sampling rules file in X-Ray's format (version 2, or 1 whose rules name a
/// `service_name` instead of a `host`) as a [`RuleSet`]: its rules tried in the order written,
/// then `default`. The error names the field that is wrong.
///
/// ```json
/// {"version": 2,
///  "rules": [{"description": "Player moves.", "host": "*", "http_method": "*",
///             "url_path": "/api/move/*", "fixed_target": 0, "rate": 0.05}],
///  "default": {"fixed_target": 1, "rate": 0.1}}
/// ```
pub fn local_rules(json: &str) -> Result<RuleSet, String> {
    let doc: Value = serde_json::from_str(json).map_err(|e| format!("not JSON: {e}"))?;
    let version = doc.get("version").and_then(Value::as_u64);
    if !matches!(version, Some(1 | 2)) {
        return Err("`version` must be 1 or 2".into());
    }
    let reservoir_and_rate = |v: &Value, at: &str| -> Result<(u32, f64), String> {
        let fixed = v
            .get("fixed_target")
            .and_then(Value::as_u64)
            .and_then(|n| u32::try_from(n).ok())
            .ok_or_else(|| format!("`{at}.fixed_target` must be a whole number"))?;
        let rate = v
            .get("rate")
            .and_then(Value::as_f64)
            .filter(|r| (0.0..=1.0).contains(r))
            .ok_or_else(|| format!("`{at}.rate` must be a number from 0 to 1"))?;
        Ok((fixed, rate))
    };
    let default = doc.get("default").ok_or("`default` is missing")?;
    let (fixed, rate) = reservoir_and_rate(default, "default")?;
    let default = SamplingRule::catch_all("Default", DEFAULT_RULE_PRIORITY, fixed, rate);
    let mut rules = Vec::new();
    let listed = match doc.get("rules") {
        None => Vec::new(),
        Some(Value::Array(list)) => list.clone(),
        Some(_) => return Err("`rules` must be an array".into()),
    };
    for (i, r) in listed.iter().enumerate() {
        let at = format!("rules[{i}]");
        let glob = |k: &str, required: bool| -> Result<String, String> {
            match r.get(k) {
                Some(Value::String(s)) => Ok(s.clone()),
                None if !required => Ok("*".into()),
                _ => Err(format!("`{at}.{k}` must be a string")),
            }
        };
        let v2 = version == Some(2);
        let (fixed, rate) = reservoir_and_rate(r, &at)?;
        rules.push(SamplingRule {
            name: r
                .get("description")
                .and_then(Value::as_str)
                .map_or_else(|| format!("rule-{}", i + 1), str::to_owned),
            priority: 0,
            service_name: glob("service_name", !v2)?,
            service_type: "*".into(),
            host: glob("host", v2)?,
            http_method: glob("http_method", true)?,
            url_path: glob("url_path", true)?,
            reservoir_per_second: fixed,
            rate,
        });
    }
    Ok(RuleSet::local(rules, default))
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
    fn local_rules_files() {
        let set = local_rules(
            r#"{"version": 2,
                "rules": [{"description": "Player moves.", "host": "*", "http_method": "*",
                           "url_path": "/api/move/*", "fixed_target": 0, "rate": 0.05},
                          {"host": "*.example", "http_method": "POST", "url_path": "*",
                           "fixed_target": 2, "rate": 1}],
                "default": {"fixed_target": 1, "rate": 0.1}}"#,
        )
        .expect("valid");
        let names: Vec<&str> = set.rules().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["Player moves.", "rule-2", "Default"]);
        let dir = std::env::temp_dir().join(format!("xray-rules-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("rules.json");
        std::fs::write(
            &file,
            r#"{"version": 2, "default": {"fixed_target": 1, "rate": 0.1}}"#,
        )
        .unwrap();
        assert_eq!(local_rules_file(&file).expect("file").rules().count(), 1);
        std::fs::write(&file, "{").unwrap();
        assert!(local_rules_file(&file).unwrap_err().contains("rules.json"));
        assert!(
            local_rules_file(dir.join("missing.json"))
                .unwrap_err()
                .contains("cannot read")
        );
        std::fs::remove_dir_all(&dir).unwrap();
        let v1 = local_rules(
            r#"{"version": 1, "rules": [{"service_name": "orders", "http_method": "*",
                "url_path": "*", "fixed_target": 1, "rate": 0.5}],
                "default": {"fixed_target": 1, "rate": 0.1}}"#,
        )
        .expect("v1");
        assert_eq!(v1.rules().next().unwrap().service_name, "orders");
        for (bad, field) in [
            (
                r#"{"version": 3, "default": {"fixed_target": 1, "rate": 0.1}}"#,
                "version",
            ),
            (r#"{"version": 2}"#, "default"),
            (
                r#"{"version": 2, "default": {"fixed_target": -1, "rate": 0.1}}"#,
                "default.fixed_target",
            ),
            (
                r#"{"version": 2, "default": {"fixed_target": 1, "rate": 1.5}}"#,
                "default.rate",
            ),
            (
                r#"{"version": 2, "default": {"fixed_target": 1, "rate": 0.1}, "rules": [{"http_method": "*", "url_path": "*", "fixed_target": 1, "rate": 0.1}]}"#,
                "rules[0].host",
            ),
            (
                r#"{"version": 2, "default": {"fixed_target": 1, "rate": 0.1}, "rules": {}}"#,
                "rules",
            ),
            ("not json", "JSON"),
        ] {
            let e = local_rules(bad).expect_err(bad);
            assert!(e.contains(field), "{e} should name {field}");
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
