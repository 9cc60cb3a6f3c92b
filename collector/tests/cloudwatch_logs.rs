//! Shipping log records to CloudWatch Logs against a local AWS endpoint: `moto_server`
//! (installed by `scripts/setup`), started on 127.0.0.1 by this test behind a small HTTP
//! proxy that answers every third `PutLogEvents` with CloudWatch's `ThrottlingException`.
//! 25,000 records of a backend, out of time order, some over 256 KB, go to the collector
//! over OTLP and come back from `GetLogEvents` and `FilterLogEvents`: all of them, every
//! call within `PutLogEvents`' limits, the throttled calls retried.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::*;
use edge_telemetry_collector::cloudwatch_logs::{
    CloudWatchLogsConfig, MAX_BATCH_BYTES, MAX_BATCH_EVENTS, MAX_BATCH_SPAN_MS, MAX_EVENT_BYTES,
};
use edge_telemetry_collector::xray_forward::AwsConfig;
use serde_json::{Value, json};
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

const GROUP: &str = "edge-test";
const SERVICE: &str = "orders-api";
const RECORDS: usize = 25_000;
const BIG: usize = 12;

/// Counts of what the proxy passed and refused.
#[derive(Default)]
struct ProxyCounts {
    puts: AtomicU64,
    throttled: AtomicU64,
}

/// An HTTP/1.1 proxy on a free port of 127.0.0.1 in front of `upstream`: every third
/// `PutLogEvents` gets `400 ThrottlingException`, everything else is forwarded.
fn throttling_proxy(upstream: String) -> (String, Arc<ProxyCounts>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let counts = Arc::new(ProxyCounts::default());
    let c = counts.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let (upstream, c) = (upstream.clone(), c.clone());
            std::thread::spawn(move || {
                let _ = serve(stream, &upstream, &c);
            });
        }
    });
    (url, counts)
}

fn serve(stream: TcpStream, upstream: &str, counts: &ProxyCounts) -> std::io::Result<()> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut out = stream;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let mut parts = line.split_whitespace();
        let (method, path) = (
            parts.next().unwrap_or("").to_owned(),
            parts.next().unwrap_or("/").to_owned(),
        );
        let mut headers = Vec::new();
        let mut length = 0;
        loop {
            let mut h = String::new();
            reader.read_line(&mut h)?;
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                let (k, v) = (k.trim().to_owned(), v.trim().to_owned());
                if k.eq_ignore_ascii_case("content-length") {
                    length = v.parse().unwrap_or(0);
                }
                headers.push((k, v));
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body)?;
        let target = headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("x-amz-target"))
            .map(|(_, v)| v.as_str())
            .unwrap_or("");
        if target.ends_with(".PutLogEvents") && counts.puts.fetch_add(1, Ordering::Relaxed) % 3 == 2
        {
            counts.throttled.fetch_add(1, Ordering::Relaxed);
            let answer = r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#;
            write!(
                out,
                "HTTP/1.1 400 Bad Request\r\ncontent-type: application/x-amz-json-1.1\r\nx-amzn-errortype: ThrottlingException\r\ncontent-length: {}\r\n\r\n{answer}",
                answer.len()
            )?;
            continue;
        }
        let mut request = ureq::http::Request::builder()
            .method(method.as_str())
            .uri(format!("{upstream}{path}"));
        for (k, v) in &headers {
            if !k.eq_ignore_ascii_case("host") && !k.eq_ignore_ascii_case("content-length") {
                request = request.header(k.as_str(), v.as_str());
            }
        }
        let mut response = agent
            .run(request.body(body).unwrap())
            .map_err(std::io::Error::other)?;
        let status = response.status();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("application/x-amz-json-1.1")
            .to_owned();
        let bytes = response
            .body_mut()
            .with_config()
            .limit(64 << 20)
            .read_to_vec()
            .map_err(std::io::Error::other)?;
        write!(
            out,
            "HTTP/1.1 {} {}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\n\r\n",
            status.as_u16(),
            status.canonical_reason().unwrap_or(""),
            bytes.len()
        )?;
        out.write_all(&bytes)?;
    }
}

fn logs_client(url: &str) -> aws_sdk_cloudwatchlogs::Client {
    use aws_sdk_cloudwatchlogs::config::{BehaviorVersion, Credentials, Region};
    let config = aws_sdk_cloudwatchlogs::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("testing", "testing", None, None, "test"))
        .endpoint_url(url)
        .build();
    aws_sdk_cloudwatchlogs::Client::from_conf(config)
}

/// Every event of a stream, `(timestamp, message)`, from its head: `GetLogEvents` page by
/// page until the forward token stops moving.
async fn read_stream(
    aws: &aws_sdk_cloudwatchlogs::Client,
    group: &str,
    stream: &str,
) -> Vec<(i64, String)> {
    let mut all = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = aws
            .get_log_events()
            .log_group_name(group)
            .log_stream_name(stream)
            .start_from_head(true)
            .set_next_token(token.clone())
            .send()
            .await
            .expect("GetLogEvents: the group and stream exist");
        let n = page.events().len();
        all.extend(page.events().iter().map(|e| {
            (
                e.timestamp().unwrap_or(0),
                e.message().unwrap_or("").to_owned(),
            )
        }));
        let next = page.next_forward_token().map(str::to_owned);
        if n == 0 || next == token {
            return all;
        }
        token = next;
    }
}

/// One OTLP logs request of `records` (time ms, body, trace id or none).
fn otlp(records: &[(i64, String, Option<String>)]) -> String {
    let records: Vec<Value> = records
        .iter()
        .map(|(t, body, trace)| {
            let mut r = json!({
                "timeUnixNano": (*t as u64 * 1_000_000).to_string(),
                "severityNumber": 9, "severityText": "INFO",
                "body": {"stringValue": body},
            });
            if let Some(trace) = trace {
                r["traceId"] = json!(trace);
                r["spanId"] = json!("00f067aa0ba902b7");
            }
            r
        })
        .collect();
    json!({"resourceLogs": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": SERVICE}}]},
        "scopeLogs": [{"logRecords": records}]}]})
    .to_string()
}

/// An ephemeral collector shipping its logs to CloudWatch Logs at `endpoint`, group `group`,
/// with moto's dummy credentials.
fn shipping_to(endpoint: String, group: &str) -> edge_telemetry_collector::Config {
    let mut config = edge_telemetry_collector::Config::ephemeral();
    config.cloudwatch_logs = Some(CloudWatchLogsConfig {
        aws: AwsConfig {
            region: "us-east-1".into(),
            access_key_id: "testing".into(),
            secret_access_key: "testing".into(),
            session_token: None,
            endpoint_url: Some(endpoint),
        },
        group: group.into(),
    });
    config
}

#[test]
fn twenty_five_thousand_backend_records_reach_cloudwatch_logs_within_every_limit() {
    let moto = Moto::start();
    let (proxy, counts) = throttling_proxy(moto.url.clone());
    let config = shipping_to(proxy, GROUP);
    let running = collector_with(config);
    let client = Client::new(&running);

    let now_ms = (now_ns() / 1_000_000) as i64;
    // Three hours of records, sent out of time order (a stride through them), some over
    // 256 KB, some with an X-Ray-able trace id, five with a word to filter by.
    let trace = format!("{:08x}a11ce0000000000000000042", now_ms / 1000);
    let records: Vec<(i64, String, Option<String>)> = (0..RECORDS)
        .map(|i| {
            let j = (i * 7_919) % RECORDS;
            let t = now_ms - 3 * 3600 * 1000 + (j as i64) * 400;
            let body = if j % 2_000 == 1 && j / 2_000 < BIG {
                format!("big {j} {}", "x".repeat(300 * 1024))
            } else if j % 5_000 == 7 {
                format!("record {j} needleword")
            } else {
                format!("record {j}")
            };
            (t, body, j.is_multiple_of(10).then(|| trace.clone()))
        })
        .collect();
    for chunk in records.chunks(1_000) {
        let answer = client.post_json("/v1/logs", &otlp(chunk));
        assert_eq!(
            answer.status,
            200,
            "{}",
            String::from_utf8_lossy(&answer.body)
        );
    }

    // Every record arrives (throttled calls retried).
    let deadline = Instant::now() + Duration::from_secs(240);
    let status = loop {
        let s = client.api("/api/status")["cloudwatchLogs"].clone();
        if s["sent"].as_u64() == Some(RECORDS as u64) {
            break s;
        }
        assert!(Instant::now() < deadline, "not all sent: {s}");
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(status["dropped"], 0);
    assert_eq!(status["truncated"], BIG);
    assert!(status["retries"].as_u64().unwrap() >= 1, "{status}");
    assert!(counts.throttled.load(Ordering::Relaxed) >= 1);
    // The calls it built: as many as the limits need, none over a limit.
    let largest = &status["largestCall"];
    assert!(largest["events"].as_u64().unwrap() <= MAX_BATCH_EVENTS as u64);
    assert!(largest["bytes"].as_u64().unwrap() <= MAX_BATCH_BYTES as u64);
    assert!(largest["spanMs"].as_i64().unwrap() < MAX_BATCH_SPAN_MS);
    assert!(status["calls"].as_u64().unwrap() >= 3, "{status}");
    println!("CloudWatch Logs: {status}");

    // Read back: GetLogEvents, page by page, from the head of the service's stream.
    let aws = logs_client(&moto.url);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let events = rt.block_on(read_stream(&aws, GROUP, SERVICE));
    assert_eq!(events.len(), RECORDS, "every record is in the stream");
    let messages: Vec<Value> = events
        .iter()
        .map(|(_, m)| serde_json::from_str(m).expect("JSON messages"))
        .collect();
    let mut bodies: Vec<&str> = messages
        .iter()
        .map(|m| m["body"].as_str().unwrap())
        .collect();
    bodies.sort_unstable();
    bodies.dedup();
    assert_eq!(bodies.len(), RECORDS, "each record once");
    for (_, m) in &events {
        assert!(m.len() + 26 <= MAX_EVENT_BYTES);
    }
    let xray = format!("1-{}-{}", &trace[..8], &trace[8..]);
    let joined = messages
        .iter()
        .filter(|m| m["xray_trace_id"] == xray.as_str())
        .count();
    assert_eq!(joined, RECORDS / 10, "records carry the X-Ray trace id");
    let big: Vec<&str> = messages
        .iter()
        .map(|m| m["body"].as_str().unwrap())
        .filter(|b| b.starts_with("big "))
        .collect();
    assert_eq!(big.len(), BIG);
    assert!(
        big.iter()
            .all(|b| b.len() < 256 * 1024 && b.ends_with("…[truncated]"))
    );

    // FilterLogEvents finds the five records with the word.
    let found = rt.block_on(async {
        aws.filter_log_events()
            .log_group_name(GROUP)
            .filter_pattern("needleword")
            .send()
            .await
            .expect("FilterLogEvents")
    });
    assert_eq!(found.events().len(), 5, "{:?}", found.events().len());
}

#[test]
fn what_is_queued_is_sent_when_the_collector_stops() {
    let moto = Moto::start();
    let config = shipping_to(moto.url.clone(), "edge-stop");
    let running = collector_with(config);
    let client = Client::new(&running);
    let now_ms = (now_ns() / 1_000_000) as i64;
    let records: Vec<(i64, String, Option<String>)> = (0..3_000)
        .map(|i| (now_ms - 1_000 + i, format!("last words {i}"), None))
        .collect();
    for chunk in records.chunks(1_000) {
        assert_eq!(client.post_json("/v1/logs", &otlp(chunk)).status, 200);
    }
    // Stopped at once: within the 0.5 s the shipper waits to fill its calls.
    running.stop();
    let aws = logs_client(&moto.url);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let n = rt.block_on(read_stream(&aws, "edge-stop", SERVICE)).len();
    assert_eq!(
        n, 3_000,
        "everything queued was sent before the collector stopped"
    );
}
