//! The JSON API over stored data: search, trace list filters, retention, ingest speed.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::time::{Duration, Instant};

use common::*;
use edge_telemetry_collector::Config;
use serde_json::{Value, json};

const ITEM: &str = r#"{"data":{"uuid":"66666666-6666-4666-8666-666666666666","environment":"production","level":"error",
  "body":{"trace":{"exception":{"class":"QuotaExceededError","message":"localStorage is full"},
  "frames":[{"filename":"https://shop.example/storage.js","lineno":3,"colno":1,"method":"persistBasket"}]}},
  "custom":{"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"b7ad6b7169203331"}}}"#;

fn span_names(result: &Value) -> Vec<String> {
    result["spans"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn search_finds_span_names_attribute_values_and_error_messages() {
    let running = collector();
    let client = Client::new(&running);
    let now = now_ns();
    assert_eq!(
        client
            .post_json("/v1/traces", &sdk_body(TRACE_ID, now))
            .status,
        200
    );
    let other = one_span(
        &trace_id(1),
        ROOT_ID,
        "POST /api/checkout",
        "checkout-api",
        now,
    );
    assert_eq!(client.post_json("/v1/traces", &other).status, 200);
    assert_eq!(client.post_json("/api/1/item/", ITEM).status, 200);

    // By span name.
    let result = client.api("/api/search?q=documentLoad");
    assert_eq!(span_names(&result), ["documentLoad"]);
    let hit = &result["spans"][0];
    assert_eq!(hit["traceId"], TRACE_ID);
    assert_eq!(hit["spanId"], ROOT_ID);
    assert_eq!(hit["service"], "shop-web");
    assert_eq!(hit["match"], "documentLoad");
    assert!((hit["start"].as_f64().unwrap() - now as f64 / 1e6).abs() < 0.01);

    // By an attribute value, with the text that matched.
    let result = client.api("/api/search?q=cart-7731");
    assert_eq!(span_names(&result), ["GET /api/cart"]);
    assert_eq!(result["spans"][0]["spanId"], CHILD_ID);
    assert_eq!(result["spans"][0]["match"], "cart.id = cart-7731");
    // A prefix of it, a key, an event attribute, a resource service name.
    assert_eq!(
        span_names(&client.api("/api/search?q=cart-77")),
        ["GET /api/cart"]
    );
    assert_eq!(
        span_names(&client.api("/api/search?q=http.response.status_code")),
        ["GET /api/cart"]
    );
    let by_service = client.api("/api/search?q=checkout-api");
    assert_eq!(span_names(&by_service), ["POST /api/checkout"]);

    // By an error message: the item, and the span whose exception event says the same.
    let result = client.api("/api/search?q=localStorage%20full");
    assert_eq!(result["spans"], json!([]));
    let errors = result["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0]["uuid"], "66666666-6666-4666-8666-666666666666");
    assert_eq!(errors[0]["class"], "QuotaExceededError");
    assert_eq!(errors[0]["message"], "localStorage is full");
    assert_eq!(errors[0]["traceId"], TRACE_ID);
    assert_eq!(errors[0]["spanId"], CHILD_ID);
    assert_eq!(errors[0]["level"], "error");
    let result = client.api("/api/search?q=cart%20is%20undefined");
    assert_eq!(span_names(&result), ["GET /api/cart"]);
    assert_eq!(
        result["spans"][0]["match"],
        "exception.message = cart is undefined"
    );
    // By a frame's function name.
    let result = client.api("/api/search?q=persistBasket");
    assert_eq!(result["errors"][0]["class"], "QuotaExceededError");

    // Nothing: empty arrays.
    assert_eq!(
        client.api("/api/search?q=nothing-like-this"),
        json!({"spans": [], "errors": [], "logs": []})
    );
    assert_eq!(
        client.api("/api/search"),
        json!({"spans": [], "errors": [], "logs": []})
    );
    assert_eq!(
        client.api("/api/search?q=cart&limit=1")["spans"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn search_text_is_never_fts5_syntax() {
    let running = collector();
    let client = Client::new(&running);
    assert_eq!(
        client
            .post_json("/v1/traces", &sdk_body(TRACE_ID, now_ns()))
            .status,
        200
    );
    for q in [
        "\"",
        "*",
        "AND(",
        "AND",
        "OR",
        "NOT",
        "NEAR(a b",
        "\"unbalanced",
        "a OR",
        "-x",
        "^cart",
        "name:cart",
        ")",
        "(((",
        "{name body}: x",
        "'; DROP TABLE spans; --",
        "é😀",
        "%",
        "''",
        "\"\"*\"",
        "cart*",
        "+",
        "a AND( b",
        "\u{0301}",
        "x\u{0}y",
    ] {
        let encoded: String = q.bytes().map(|b| format!("%{b:02X}")).collect();
        for path in [
            format!("/api/search?q={encoded}"),
            format!("/api/traces?q={encoded}"),
        ] {
            let answer = client.get(&path);
            assert_eq!(
                answer.status,
                200,
                "{q:?} {path}: {}",
                String::from_utf8_lossy(&answer.body)
            );
            answer.json();
        }
    }
    // Operators are plain words: "cart*" finds the span by prefix, `AND(` nothing.
    assert!(
        !client.api("/api/search?q=cart*")["spans"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert_eq!(client.counts(), (1, 2, 0));
}

#[test]
fn trace_list_filters_and_limits() {
    let running = collector();
    let client = Client::new(&running);
    let now = now_ns();
    for i in 0..5u64 {
        let service = if i % 2 == 0 { "even-svc" } else { "odd-svc" };
        let body = one_span(
            &trace_id(i),
            ROOT_ID,
            &format!("op-{i}"),
            service,
            now + i * 1_000_000,
        );
        assert_eq!(client.post_json("/v1/traces", &body).status, 200);
    }
    let all = client.api("/api/traces");
    let names: Vec<&str> = all["traces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["rootName"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["op-4", "op-3", "op-2", "op-1", "op-0"]);
    assert_eq!(
        client.api("/api/traces?limit=2")["traces"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let odd = client.api("/api/traces?service=odd-svc");
    assert_eq!(odd["traces"].as_array().unwrap().len(), 2);
    assert!(
        odd["traces"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["services"] == json!(["odd-svc"]))
    );
    let q = client.api("/api/traces?q=op-3");
    assert_eq!(q["traces"].as_array().unwrap().len(), 1);
    assert_eq!(q["traces"][0]["traceId"], trace_id(3));
    assert_eq!(
        client.api("/api/traces?q=op-3&service=even-svc")["traces"],
        json!([])
    );
    assert_eq!(
        client.api("/api/traces?limit=junk")["traces"]
            .as_array()
            .unwrap()
            .len(),
        5
    );

    // Spans of one trace arriving in several requests: the summary follows, and the root is
    // the span without a parent even when it comes last.
    let id = trace_id(99);
    let child = one_span(&id, CHILD_ID, "child", "late-svc", now + 10_000_000).replace(
        r#""name":"child""#,
        &format!(r#""parentSpanId":"{ROOT_ID}","name":"child""#),
    );
    assert_eq!(client.post_json("/v1/traces", &child).status, 200);
    let trace = &client.api("/api/traces?q=child")["traces"][0];
    assert_eq!(trace["rootName"], "child");
    let root = one_span(&id, ROOT_ID, "root", "late-svc", now + 20_000_000);
    assert_eq!(client.post_json("/v1/traces", &root).status, 200);
    let trace = &client.api("/api/traces?q=child")["traces"][0];
    assert_eq!(trace["rootName"], "root");
    assert_eq!(trace["spanCount"], 2);
    assert_eq!(trace["durationMs"], 15.0);
    let status = client.api("/api/status");
    assert_eq!(status["traces"], 6);
    assert_eq!(status["spans"], 7);
    assert!(status["dbBytes"].as_u64().unwrap() > 0);
    assert_eq!(
        status["relay"],
        json!({"honeycomb": false, "rollbar": false, "forwarded": 0, "dropped": 0})
    );
}

fn item_for(trace: &str, uuid: &str, timestamp_secs: f64) -> String {
    format!(
        r#"{{"data":{{"uuid":"{uuid}","timestamp":{timestamp_secs},"body":{{"message":{{"body":"msg {uuid}"}}}},"custom":{{"trace_id":"{trace}"}}}}}}"#
    )
}

#[test]
fn retention_keeps_the_newest_traces() {
    let mut config = Config::ephemeral();
    config.retention.max_traces = 3;
    let running = collector_with(config);
    let client = Client::new(&running);
    let now = now_ns();
    for i in 0..5u64 {
        let start = now - (10 - i) * 60_000_000_000;
        let body = one_span(&trace_id(i), ROOT_ID, &format!("alpha{i}"), "svc", start);
        assert_eq!(client.post_json("/v1/traces", &body).status, 200);
        let item = item_for(
            &trace_id(i),
            &format!("item-{i}"),
            (start / 1_000_000) as f64 / 1e3,
        );
        assert_eq!(client.post_json("/api/1/item/", &item).status, 200);
        let log = format!(
            r#"{{"resourceLogs":[{{"scopeLogs":[{{"logRecords":[{{"timeUnixNano":"{start}","body":{{"stringValue":"logword{i}"}},"traceId":"{}","spanId":"{ROOT_ID}"}}]}}]}}]}}"#,
            trace_id(i)
        );
        assert_eq!(client.post_json("/v1/logs", &log).status, 200);
    }
    assert_eq!(client.counts(), (3, 3, 3));
    // A trace's logs go with it.
    assert_eq!(client.api("/api/status")["logs"], 3);
    assert_eq!(client.api("/api/search?q=logword0")["logs"], json!([]));
    assert_eq!(
        client.api("/api/search?q=logword4")["logs"][0]["body"],
        "logword4"
    );
    let kept: Vec<String> = client.api("/api/traces")["traces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["traceId"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(kept, [trace_id(4), trace_id(3), trace_id(2)]);
    // The oldest traces' spans, search rows and errors are gone.
    for i in 0..2 {
        assert_eq!(
            client.get(&format!("/api/traces/{}", trace_id(i))).status,
            404
        );
        assert_eq!(
            client.api(&format!("/api/search?q=alpha{i}")),
            json!({"spans": [], "errors": [], "logs": []})
        );
        assert_eq!(client.get(&format!("/api/errors/item-{i}")).status, 404);
        assert_eq!(
            client.api(&format!("/api/search?q=item-{i}"))["errors"],
            json!([])
        );
    }
    assert_eq!(
        client.api("/api/search?q=alpha4")["spans"][0]["name"],
        "alpha4"
    );
    assert_eq!(
        client.api("/api/search?q=item-4")["errors"][0]["uuid"],
        "item-4"
    );
}

#[test]
fn retention_drops_traces_and_items_past_the_age_limit() {
    let mut config = Config::ephemeral();
    config.retention.max_age = Duration::from_secs(3600);
    let running = collector_with(config);
    let client = Client::new(&running);
    let now = now_ns();
    let old = now - 10 * 24 * 3600 * 1_000_000_000;
    let old_trace = trace_id(1);
    let new_trace = trace_id(2);
    assert_eq!(
        client
            .post_json(
                "/v1/traces",
                &one_span(&new_trace, ROOT_ID, "fresh", "svc", now)
            )
            .status,
        200
    );
    // An item about the old trace arrives first (with a fresh timestamp), then the trace.
    assert_eq!(
        client
            .post_json(
                "/api/1/item/",
                &item_for(&old_trace, "linked-old", (now / 1_000_000) as f64 / 1e3)
            )
            .status,
        200
    );
    assert_eq!(client.counts(), (1, 1, 1));
    let answer = client.post_json(
        "/v1/traces",
        &one_span(&old_trace, ROOT_ID, "stale", "svc", old),
    );
    assert_eq!(answer.status, 200);
    // An old item about nothing, and a fresh one.
    let old_item = item_for(&trace_id(3), "old-item", (old / 1_000_000) as f64 / 1e3);
    assert_eq!(client.post_json("/api/1/item/", &old_item).status, 200);
    let fresh_item = item_for(&trace_id(3), "fresh-item", (now / 1_000_000) as f64 / 1e3);
    assert_eq!(client.post_json("/api/1/item/", &fresh_item).status, 200);

    assert_eq!(client.counts(), (1, 1, 1));
    assert_eq!(client.api("/api/traces")["traces"][0]["traceId"], new_trace);
    assert_eq!(client.get(&format!("/api/traces/{old_trace}")).status, 404);
    assert_eq!(client.api("/api/search?q=stale")["spans"], json!([]));
    assert_eq!(client.get("/api/errors/linked-old").status, 404);
    assert_eq!(client.get("/api/errors/old-item").status, 404);
    assert_eq!(client.api("/api/errors/fresh-item")["uuid"], "fresh-item");
    assert_eq!(
        client.api("/api/search?q=fresh")["spans"][0]["name"],
        "fresh"
    );
}

#[test]
fn retention_keeps_the_database_under_its_size() {
    let mut config = Config::ephemeral();
    config.retention.max_db_bytes = 1024 * 1024;
    let running = collector_with(config);
    let client = Client::new(&running);
    let now = now_ns();
    let padding = "lorem ipsum dolor sit amet ".repeat(200);
    for i in 0..60u64 {
        let body = one_span(
            &trace_id(i),
            ROOT_ID,
            &format!("big{i}"),
            "svc",
            now + i * 1_000_000,
        )
        .replace(
            r#""status":{}"#,
            &format!(
                r#""status":{{}},"attributes":[{}]"#,
                (0..8)
                    .map(|k| format!(
                        r#"{{"key":"pad{k}","value":{{"stringValue":"{k}{i} {padding}"}}}}"#
                    ))
                    .collect::<Vec<_>>()
                    .join(",")
            ),
        );
        assert_eq!(client.post_json("/v1/traces", &body).status, 200);
    }
    let (traces, _, _) = client.counts();
    assert!(traces > 0 && traces < 60, "{traces} traces kept");
    let status = client.api("/api/status");
    let db_bytes = status["dbBytes"].as_u64().unwrap();
    assert!(db_bytes < 2 * 1024 * 1024, "database is {db_bytes} bytes");
    let newest = client.api("/api/traces?limit=1");
    assert_eq!(newest["traces"][0]["rootName"], "big59");
    assert_eq!(
        client.get(&format!("/api/traces/{}", trace_id(0))).status,
        404
    );
}

/// A full SDK batch (512 spans) in one request: stored in one transaction, quickly.
#[test]
fn a_512_span_batch_is_ingested_quickly() {
    let running = collector();
    let client = Client::new(&running);
    let now = now_ns();
    let spans: Vec<String> = (0..512u64)
        .map(|i| {
            format!(
                r#"{{"traceId":"{}","spanId":"{:016x}","parentSpanId":"{:016x}","name":"GET /api/item/{i}","kind":3,"flags":257,
                "startTimeUnixNano":"{}","endTimeUnixNano":"{}",
                "attributes":[{{"key":"http.request.method","value":{{"stringValue":"GET"}}}},
                  {{"key":"url.full","value":{{"stringValue":"https://shop.example/api/item/{i}?page=2"}}}},
                  {{"key":"http.response.status_code","value":{{"intValue":"200"}}}},
                  {{"key":"server.address","value":{{"stringValue":"shop.example"}}}},
                  {{"key":"item.id","value":{{"stringValue":"item-{i}"}}}},
                  {{"key":"retries","value":{{"intValue":"0"}}}},
                  {{"key":"cached","value":{{"boolValue":false}}}},
                  {{"key":"size","value":{{"doubleValue":1234.5}}}}],
                "events":[{{"timeUnixNano":"{}","name":"response","attributes":[]}}],
                "status":{{"code":0}}}}"#,
                trace_id(i / 64),
                i + 1,
                (i / 64) * 64 + 1 + u64::from(i % 64 == 0) * 100_000,
                now + i * 1000,
                now + i * 1000 + 500_000,
                now + i * 1000 + 250_000,
            )
        })
        .collect();
    let body = format!(
        r#"{{"resourceSpans":[{{"resource":{{"attributes":[{{"key":"service.name","value":{{"stringValue":"shop-web"}}}},{{"key":"user_agent.original","value":{{"stringValue":"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"}}}}]}},"scopeSpans":[{{"scope":{{"name":"edge-telemetry","version":"0.1.0"}},"spans":[{}]}}]}}]}}"#,
        spans.join(",")
    );
    // Warm up (connection, statement cache), then time a second batch of new spans.
    let warm = body.replace("\"traceId\":\"abc", "\"traceId\":\"def");
    assert_eq!(client.post_json("/v1/traces", &warm).status, 200);
    let started = Instant::now();
    let answer = client.post_json("/v1/traces", &body);
    let elapsed = started.elapsed();
    assert_eq!(answer.status, 200);
    assert_eq!(answer.json(), json!({}));
    eprintln!(
        "512-span batch ({} KiB) ingested in {elapsed:?}",
        body.len() / 1024
    );
    // Debug builds (unoptimised SQLite and serde) are far slower than release; this only
    // catches pathologies. `collector/README.md` gives release numbers.
    assert!(elapsed < Duration::from_secs(3), "took {elapsed:?}");
    assert_eq!(client.counts(), (16, 1024, 0));
}
