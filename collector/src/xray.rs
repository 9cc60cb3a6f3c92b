//! The collector as an X-Ray daemon: segment documents over UDP, stored with the OTLP spans.
//!
//! Each datagram is what the X-Ray SDKs (and `edge-telemetry-axum`) send to the daemon: a
//! header line, `{"format": "json", "version": 1}`, a newline, and one segment document.
//! Valid documents become span rows of the same trace store (segments as SERVER spans,
//! subsegments as CLIENT spans when they call a remote or AWS service, INTERNAL otherwise;
//! nested `subsegments` each a span of their own; `fault` is an error status, `error` and
//! `throttle` attributes), so the waterfall shows a trace's X-Ray
//! segments and OTLP spans together. Everything else is counted by reason and dropped; the
//! loop never stops on bad input.

pub use crate::segments::{MAX_DATAGRAM_BYTES, Reject, Services, decode_datagram};
use crate::store::Store;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// What the daemon port received (for `/api/status`).
#[derive(Debug, Default)]
pub struct XrayStats {
    /// Datagrams received.
    pub received: AtomicU64,
    /// Spans stored (a document with nested subsegments is several).
    pub stored: AtomicU64,
    /// Datagrams over [`MAX_DATAGRAM_BYTES`].
    pub oversize: AtomicU64,
    /// Without the `{"format":"json","version":1}` header line.
    pub bad_header: AtomicU64,
    /// Whose document is not JSON (truncated, or not JSON at all).
    pub not_json: AtomicU64,
    /// JSON that is not a valid segment document (ids, times, name).
    pub invalid: AtomicU64,
    /// `in_progress` documents: not stored (the completed one follows).
    pub in_progress: AtomicU64,
}

impl XrayStats {
    /// The counts as JSON.
    pub fn to_json(&self) -> Value {
        let n = |a: &AtomicU64| a.load(Ordering::Relaxed);
        json!({
            "received": n(&self.received),
            "stored": n(&self.stored),
            "oversize": n(&self.oversize),
            "badHeader": n(&self.bad_header),
            "notJson": n(&self.not_json),
            "invalid": n(&self.invalid),
            "inProgress": n(&self.in_progress),
        })
    }
}

/// Receives datagrams on `socket` until the runtime stops: valid documents into `store` (and,
/// as received, to `forward`: AWS X-Ray), everything counted in `stats`.
pub async fn serve(
    socket: tokio::net::UdpSocket,
    store: Arc<Store>,
    stats: Arc<XrayStats>,
    forward: Option<crate::xray_forward::Forwarder>,
) {
    let mut services = Services::default();
    // One byte more than the limit, so an oversize datagram is seen as one.
    let mut buf = vec![0u8; MAX_DATAGRAM_BYTES + 1];
    loop {
        let len = match socket.recv(&mut buf).await {
            Ok(len) => len,
            Err(e) => {
                // ICMP errors and the like: keep listening.
                eprintln!("edge-collector: X-Ray daemon port: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                continue;
            }
        };
        stats.received.fetch_add(1, Ordering::Relaxed);
        let counter = match decode_datagram(&buf[..len], &mut services) {
            Ok(spans) => {
                if let Some(f) = &forward
                    && let Some(nl) = buf[..len].iter().position(|&b| b == b'\n')
                {
                    f.send(String::from_utf8_lossy(&buf[nl + 1..len]).into_owned());
                }
                let n = spans.len() as u64;
                let store = store.clone();
                let stored = tokio::task::spawn_blocking(move || store.insert_spans(&spans)).await;
                match stored {
                    Ok(Ok(())) => {
                        stats.stored.fetch_add(n, Ordering::Relaxed);
                        continue;
                    }
                    _ => &stats.invalid,
                }
            }
            Err(Reject::Oversize) => &stats.oversize,
            Err(Reject::BadHeader) => &stats.bad_header,
            Err(Reject::NotJson) => &stats.not_json,
            Err(Reject::Invalid(_)) => &stats.invalid,
            Err(Reject::InProgress) => &stats.in_progress,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "{\"format\": \"json\", \"version\": 1}\n";

    fn datagram(doc: &Value) -> Vec<u8> {
        format!("{HEADER}{doc}").into_bytes()
    }

    #[test]
    fn a_segment_with_nested_subsegments_is_several_spans() {
        let doc = json!({
            "name": "checkout-api", "id": "70de5b6f19ff9a0a",
            "trace_id": "1-581cf771-a006649127e371903a2de979", "parent_id": "b7ad6b7169203331",
            "start_time": 1.478293361271e9, "end_time": 1.478293361449e9,
            "http": {"request": {"method": "POST", "url": "https://api.example/cart"}, "response": {"status": 502}},
            "fault": true, "annotations": {"tier": "gold"},
            "cause": {"exceptions": [{"id": "1111111111111111", "type": "DbError", "message": "no table"}]},
            "subsegments": [{"name": "orders-db", "id": "2222222222222222", "namespace": "remote",
                "start_time": 1.4782933613e9, "end_time": 1.4782933614e9,
                "sql": {"sanitized_query": "SELECT 1", "database_type": "PostgreSQL"}}]
        });
        let mut services = Services::default();
        let spans = decode_datagram(&datagram(&doc), &mut services).expect("valid");
        assert_eq!(spans.len(), 2);
        let seg = &spans[0];
        assert_eq!(seg.trace_id, "581cf771a006649127e371903a2de979");
        assert_eq!(seg.parent_span_id.as_deref(), Some("b7ad6b7169203331"));
        assert_eq!((seg.kind, seg.status_code), (2, 2));
        assert_eq!(&*seg.service, "checkout-api");
        assert_eq!(seg.status_message, "no table");
        let attrs: Value = serde_json::from_str(&seg.attributes).unwrap();
        assert_eq!(attrs["http.request.method"], "POST");
        assert_eq!(attrs["http.response.status_code"], 502);
        assert_eq!(attrs["annotation.tier"], "gold");
        assert_eq!(attrs["aws.xray.fault"], true);
        assert!(seg.search_text.contains("annotation.tier = gold"));
        let sub = &spans[1];
        assert_eq!(sub.parent_span_id.as_deref(), Some("70de5b6f19ff9a0a"));
        assert_eq!(sub.trace_id, seg.trace_id);
        assert_eq!((sub.kind, &*sub.service), (3, "checkout-api"));
        let attrs: Value = serde_json::from_str(&sub.attributes).unwrap();
        assert_eq!(attrs["db.query.text"], "SELECT 1");

        // An independent subsegment later: its service comes from its segment.
        let alone = json!({"type": "subsegment", "name": "cache", "id": "3333333333333333",
            "trace_id": "1-581cf771-a006649127e371903a2de979", "parent_id": "70de5b6f19ff9a0a",
            "start_time": 1.4782933613e9, "end_time": 1.4782933614e9});
        let spans = decode_datagram(&datagram(&alone), &mut services).expect("valid");
        assert_eq!((spans[0].kind, &*spans[0].service), (1, "checkout-api"));
    }

    #[test]
    fn bad_datagrams_are_rejected_by_reason() {
        let ok = json!({"name": "a", "id": "70de5b6f19ff9a0a", "trace_id": "1-581cf771-a006649127e371903a2de979", "start_time": 1.5e9, "end_time": 1.6e9});
        let mut s = Services::default();
        let good = datagram(&ok);
        assert!(decode_datagram(&good, &mut s).is_ok());
        let cases: Vec<(Vec<u8>, Reject)> = vec![
            (vec![b' '; MAX_DATAGRAM_BYTES + 1], Reject::Oversize),
            (good[..good.len() - 5].to_vec(), Reject::NotJson),
            (
                b"{\"format\":\"json\",\"version\":1}\nnot json".to_vec(),
                Reject::NotJson,
            ),
            (format!("{ok}").into_bytes(), Reject::BadHeader),
            (
                format!("{{\"format\":\"xml\",\"version\":1}}\n{ok}").into_bytes(),
                Reject::BadHeader,
            ),
            (
                format!("{{\"format\":\"json\",\"version\":2}}\n{ok}").into_bytes(),
                Reject::BadHeader,
            ),
            (
                datagram(
                    &json!({"name": "a", "id": "70de5b6f19ff9a0a", "trace_id": "1-581cf771-a006649127e371903a2de979", "start_time": 1.5e9, "in_progress": true}),
                ),
                Reject::InProgress,
            ),
        ];
        for (bytes, want) in cases {
            assert_eq!(decode_datagram(&bytes, &mut s).err(), Some(want));
        }
        for bad in [
            json!({"id": "70de5b6f19ff9a0a", "trace_id": "1-581cf771-a006649127e371903a2de979", "start_time": 1.5e9, "end_time": 1.6e9}),
            json!({"name": "a", "id": "xyz", "trace_id": "1-581cf771-a006649127e371903a2de979", "start_time": 1.5e9, "end_time": 1.6e9}),
            json!({"name": "a", "id": "70de5b6f19ff9a0a", "trace_id": "581cf771a006649127e371903a2de979", "start_time": 1.5e9, "end_time": 1.6e9}),
            json!({"name": "a", "id": "70de5b6f19ff9a0a", "trace_id": "1-581cf771-a006649127e371903a2de979", "start_time": 1.5e9}),
            json!({"name": "a", "id": "70de5b6f19ff9a0a", "trace_id": "1-581cf771-a006649127e371903a2de979", "start_time": 1.6e9, "end_time": 1.5e9}),
            json!([1, 2]),
        ] {
            assert!(
                matches!(
                    decode_datagram(&datagram(&bad), &mut s),
                    Err(Reject::Invalid(_))
                ),
                "{bad}"
            );
        }
    }
}
