//! Decodes the OTLP request bodies the browser really sent, as captured by the package
//! test's sink (`tests/package/sink.mjs` writes each decompressed body to
//! `$ET_OTLP_CAPTURE_DIR/<pid>-<n>.json`), with the official OTLP definitions
//! (`opentelemetry-proto`'s serde JSON support), and checks what every export must hold.
//!
//! Run by `scripts/test-package` after the browser tests:
//! `ET_OTLP_CAPTURE_DIR=… cargo test -p edge-telemetry-core --test otlp_captured -- --ignored`.
#![cfg(not(target_arch = "wasm32"))]

use std::collections::HashSet;

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};

fn string_attr<'a>(attrs: &'a [KeyValue], key: &str) -> Option<&'a str> {
    attrs.iter().find(|kv| kv.key == key).and_then(|kv| {
        match kv.value.as_ref().and_then(|v: &AnyValue| v.value.as_ref()) {
            Some(any_value::Value::StringValue(s)) => Some(s.as_str()),
            _ => None,
        }
    })
}

/// The sink names logs bodies `<pid>-<n>.logs.json`.
fn is_logs(p: &std::path::Path) -> bool {
    p.to_string_lossy().ends_with(".logs.json")
}

#[test]
#[ignore = "needs the payloads captured by scripts/test-package (ET_OTLP_CAPTURE_DIR)"]
fn captured_browser_logs_decode_with_the_official_definitions() {
    let dir = std::env::var("ET_OTLP_CAPTURE_DIR")
        .expect("set ET_OTLP_CAPTURE_DIR to the sink's capture directory");
    let files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{dir}: {e}"))
        .map(|e| e.unwrap().path())
        .filter(|p| is_logs(p))
        .collect();
    assert!(
        files.len() >= 3,
        "expected the logs tests' exports in {dir}, found {} files",
        files.len()
    );
    let (mut records, mut under_spans) = (0, 0);
    let mut severities = HashSet::new();
    for file in &files {
        let body = std::fs::read_to_string(file).unwrap();
        let req: ExportLogsServiceRequest = serde_json::from_str(&body).unwrap_or_else(|e| {
            panic!(
                "{}: not an OTLP ExportLogsServiceRequest: {e}",
                file.display()
            )
        });
        for rl in &req.resource_logs {
            let resource = rl.resource.as_ref().expect("a resource");
            assert_eq!(
                string_attr(&resource.attributes, "telemetry.sdk.name"),
                Some("edge-telemetry")
            );
            for sl in &rl.scope_logs {
                for r in &sl.log_records {
                    records += 1;
                    let where_ = format!("{}: record {records}", file.display());
                    assert!(
                        r.time_unix_nano > 1_600_000_000_000_000_000,
                        "{where_}: time"
                    );
                    assert!(
                        r.observed_time_unix_nano >= r.time_unix_nano,
                        "{where_}: observed"
                    );
                    assert!(
                        [1, 5, 9, 13, 17, 21].contains(&r.severity_number),
                        "{where_}: severity {}",
                        r.severity_number
                    );
                    assert!(!r.severity_text.is_empty(), "{where_}: severity text");
                    assert!(
                        matches!(
                            r.body.as_ref().and_then(|b| b.value.as_ref()),
                            Some(any_value::Value::StringValue(_))
                        ),
                        "{where_}: a string body"
                    );
                    assert!(
                        string_attr(&r.attributes, "session.id").is_some_and(|s| s.len() == 32),
                        "{where_}: session.id"
                    );
                    if !r.trace_id.is_empty() {
                        assert_eq!(
                            (r.trace_id.len(), r.span_id.len()),
                            (16, 8),
                            "{where_}: ids"
                        );
                        under_spans += 1;
                    }
                    severities.insert(r.severity_number);
                }
            }
        }
    }
    assert!(under_spans > 0, "no record carried a span's ids");
    assert!(severities.len() >= 3, "severities seen: {severities:?}");
    println!(
        "{records} log records in {} captured requests decoded",
        files.len()
    );
}

#[test]
#[ignore = "needs the payloads captured by scripts/test-package (ET_OTLP_CAPTURE_DIR)"]
fn captured_browser_payloads_decode_with_the_official_definitions() {
    let dir = std::env::var("ET_OTLP_CAPTURE_DIR")
        .expect("set ET_OTLP_CAPTURE_DIR to the sink's capture directory");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{dir}: {e}"))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json") && !is_logs(p))
        .collect();
    files.sort();
    assert!(
        files.len() >= 10,
        "expected the browser tests' exports in {dir}, found {} files",
        files.len()
    );
    let mut spans = 0;
    let mut kinds = HashSet::new();
    for file in &files {
        let body = std::fs::read_to_string(file).unwrap();
        let req: ExportTraceServiceRequest = serde_json::from_str(&body).unwrap_or_else(|e| {
            panic!(
                "{}: not an OTLP ExportTraceServiceRequest: {e}",
                file.display()
            )
        });
        assert!(
            !req.resource_spans.is_empty(),
            "{}: no resourceSpans",
            file.display()
        );
        for rs in &req.resource_spans {
            let resource = rs.resource.as_ref().expect("a resource");
            for key in [
                "service.name",
                "telemetry.sdk.name",
                "telemetry.sdk.language",
            ] {
                assert!(
                    string_attr(&resource.attributes, key).is_some(),
                    "{}: resource lacks {key}",
                    file.display()
                );
            }
            assert_eq!(
                string_attr(&resource.attributes, "telemetry.sdk.name"),
                Some("edge-telemetry")
            );
            for ss in &rs.scope_spans {
                assert_eq!(
                    ss.scope.as_ref().map(|s| s.name.as_str()),
                    Some("edge-telemetry")
                );
                for span in &ss.spans {
                    spans += 1;
                    let where_ = format!("{}: span {:?}", file.display(), span.name);
                    assert_eq!(span.trace_id.len(), 16, "{where_}: trace id");
                    assert!(
                        span.trace_id.iter().any(|b| *b != 0),
                        "{where_}: zero trace id"
                    );
                    assert_eq!(span.span_id.len(), 8, "{where_}: span id");
                    assert!(
                        span.parent_span_id.is_empty() || span.parent_span_id.len() == 8,
                        "{where_}: parent id"
                    );
                    assert!(
                        span.start_time_unix_nano > 1_600_000_000_000_000_000,
                        "{where_}: start time"
                    );
                    assert!(
                        span.end_time_unix_nano >= span.start_time_unix_nano,
                        "{where_}: end before start"
                    );
                    assert!((1..=5).contains(&span.kind), "{where_}: kind {}", span.kind);
                    assert_eq!(
                        span.flags & 0x100,
                        0x100,
                        "{where_}: has-is-remote flag bit"
                    );
                    assert_eq!(
                        span.flags & 0x01,
                        0x01,
                        "{where_}: only sampled spans are exported"
                    );
                    assert!(
                        string_attr(&span.attributes, "session.id").is_some_and(|s| s.len() == 32),
                        "{where_}: session.id"
                    );
                    kinds.insert(span.kind);
                }
            }
        }
    }
    assert!(spans > 0, "no spans in {} files", files.len());
    assert!(
        kinds.len() >= 2,
        "expected INTERNAL and CLIENT spans, got kinds {kinds:?}"
    );
    println!("{spans} spans in {} captured requests decoded", files.len());
}
