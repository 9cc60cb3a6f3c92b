//! What `rollbar` encodes, checked against Rollbar's documented item format: every item the
//! encoder writes (all body kinds, every optional field, truncated giants, odd Unicode,
//! random items) must parse as JSON and pass [`validate`], a validator written from the
//! create-item reference. The validator is itself tested on documents that break each rule.
//!
//! Source of every rule below, unless a comment says otherwise: the "Data Format" of
//! <https://docs.rollbar.com/reference/create-item> (`POST /api/1/item/`), whose size limit
//! is in the API overview on the same page ("413 Request entity too large: The request
//! exceeded the maximum size of 128KB").
//!
//! Native only: serde_json is a dev-dependency for non-wasm targets.
#![cfg(not(target_arch = "wasm32"))]

use edge_telemetry_core::boundary::Severity;
use edge_telemetry_core::errors::rollbar::{
    Body, Exception, Item, Json, Level, MAX_ITEM_BYTES, MIN_ITEM_BYTES, SCRUBBED, Scrubber,
    encode_item, format_uuid_v4,
};
use edge_telemetry_core::errors::stack::StackFrame;
use edge_telemetry_core::errors::telemetry::{Telemetry, element_name};
use serde_json::{Map, Value, json};

// ---------------------------------------------------------------------------------------
// The validator
// ---------------------------------------------------------------------------------------

/// "413 … The request exceeded the maximum size of 128KB."
const MAX_REQUEST_BYTES: usize = 128 * 1024;
/// `level` and `telemetry[].level`: "One of: critical, error, warning, info, debug".
const LEVELS: [&str; 5] = ["critical", "error", "warning", "info", "debug"];
/// `telemetry[].type`: "One of: log, network, dom, navigation, error, manual".
const TELEMETRY_TYPES: [&str; 6] = ["log", "network", "dom", "navigation", "error", "manual"];
/// `body`: "Required: trace, trace_chain, message, or crash_report (exactly one)".
const BODY_KINDS: [&str; 4] = ["trace", "trace_chain", "message", "crash_report"];

type Check = Result<(), String>;

/// A request body as sent: at most 128 KB, JSON, and a valid item.
fn validate_request(body: &str) -> Check {
    if body.len() > MAX_REQUEST_BYTES {
        return Err(format!("request is {} bytes, over 128KB", body.len()));
    }
    let doc: Value = serde_json::from_str(body).map_err(|e| format!("not JSON: {e}"))?;
    validate(&doc)
}

/// The documented rules of an item payload.
fn validate(doc: &Value) -> Check {
    let top = object(doc, "$")?;
    for key in top.keys() {
        // The request body schema has `data`; older versions of the page also put the
        // token in the body as `access_token`.
        if key != "data" && key != "access_token" {
            return Err(format!("$.{key}: not a field of the request body"));
        }
    }
    optional(top, "access_token", "$", |v, p| string(v, p, None))?;
    let data = object(required(top, "data", "$")?, "data")?;

    // "Required: environment … A string up to 255 characters."
    string(
        required(data, "environment", "data")?,
        "data.environment",
        Some(255),
    )?;
    body(required(data, "body", "data")?, "data.body")?;
    // "Optional: level … One of: critical, error, warning, info, debug"
    optional(data, "level", "data", |v, p| one_of(v, p, &LEVELS))?;
    // "Optional: timestamp … When this occurred, as a unix timestamp." (seconds, an integer)
    optional(data, "timestamp", "data", integer)?;
    // "Optional: code_version … A string, up to 40 characters"
    optional(data, "code_version", "data", |v, p| string(v, p, Some(40)))?;
    for key in ["platform", "language", "framework", "context"] {
        optional(data, key, "data", |v, p| string(v, p, None))?;
    }
    optional(data, "request", "data", request)?;
    optional(data, "person", "data", person)?;
    optional(data, "server", "data", server)?;
    optional(data, "client", "data", client)?;
    // "Optional: custom … "custom" itself should be an object."
    optional(data, "custom", "data", |v, p| object(v, p).map(drop))?;
    // "Optional: fingerprint … Should be a string up to 40 characters long; if longer than
    // 40 characters, we'll use its SHA1 hash." So longer ones are accepted.
    optional(data, "fingerprint", "data", |v, p| string(v, p, None))?;
    // "Optional: title … Max length 255 characters."
    optional(data, "title", "data", |v, p| string(v, p, Some(255)))?;
    // "Optional: uuid … A string, up to 36 characters … any latin1 string"
    optional(data, "uuid", "data", |v, p| {
        let uuid = str_of(v, p, Some(36))?;
        match uuid.chars().find(|&c| c > '\u{ff}') {
            Some(c) => Err(format!("{p}: {c:?} is not latin1")),
            None => Ok(()),
        }
    })?;
    // "Optional: notifier … name … version"
    optional(data, "notifier", "data", |v, p| {
        let notifier = object(v, p)?;
        optional(notifier, "name", p, |v, p| string(v, p, None))?;
        optional(notifier, "version", p, |v, p| string(v, p, None))
    })
}

/// `data.body`.
fn body(value: &Value, path: &str) -> Check {
    let body = object(value, path)?;
    let kinds: Vec<&str> = BODY_KINDS
        .into_iter()
        .filter(|k| body.contains_key(*k))
        .collect();
    if kinds.len() != 1 {
        return Err(format!(
            "{path}: needs exactly one of trace, trace_chain, message, crash_report; has {kinds:?}"
        ));
    }
    for key in body.keys() {
        if !BODY_KINDS.contains(&key.as_str()) && key != "telemetry" {
            return Err(format!("{path}.{key}: not a body field"));
        }
    }
    optional(body, "telemetry", path, |v, p| {
        array(v, p)?
            .iter()
            .enumerate()
            .try_for_each(|(i, t)| telemetry(t, &format!("{p}[{i}]")))
    })?;
    optional(body, "trace", path, trace)?;
    // "trace_chain … Each element in the list should be a "trace" object … Must contain at
    // least one element."
    optional(body, "trace_chain", path, |v, p| {
        let chain = array(v, p)?;
        if chain.is_empty() {
            return Err(format!("{p}: must contain at least one element"));
        }
        chain
            .iter()
            .enumerate()
            .try_for_each(|(i, t)| trace(t, &format!("{p}[{i}]")))
    })?;
    // "message … Required: body … The primary message text, as a string. Can also contain
    // any arbitrary keys of metadata."
    optional(body, "message", path, |v, p| {
        let message = object(v, p)?;
        string(required(message, "body", p)?, &format!("{p}.body"), None)
    })?;
    // "crash_report … Required: raw … as a string"
    optional(body, "crash_report", path, |v, p| {
        let report = object(v, p)?;
        string(required(report, "raw", p)?, &format!("{p}.raw"), None)
    })
}

/// One `trace`: "Required: frames" and "Required: exception".
fn trace(value: &Value, path: &str) -> Check {
    let trace = object(value, path)?;
    let frames_path = format!("{path}.frames");
    for (i, f) in array(required(trace, "frames", path)?, &frames_path)?
        .iter()
        .enumerate()
    {
        stack_frame(f, &format!("{frames_path}[{i}]"))?;
    }
    let exception_path = format!("{path}.exception");
    let exception = object(required(trace, "exception", path)?, &exception_path)?;
    // "Required: class … The exception class name."
    string(
        required(exception, "class", &exception_path)?,
        &format!("{exception_path}.class"),
        None,
    )?;
    // "Optional: message … as a string"; "Optional: description".
    optional(exception, "message", &exception_path, |v, p| {
        string(v, p, None)
    })?;
    optional(exception, "description", &exception_path, |v, p| {
        string(v, p, None)
    })
}

/// One frame: "Required: filename"; "lineno"/"colno" "as an integer"; the rest optional.
fn stack_frame(value: &Value, path: &str) -> Check {
    let frame = object(value, path)?;
    string(
        required(frame, "filename", path)?,
        &format!("{path}.filename"),
        None,
    )?;
    optional(frame, "lineno", path, integer)?;
    optional(frame, "colno", path, integer)?;
    for key in ["method", "code", "class_name", "varargspec", "keywordspec"] {
        optional(frame, key, path, |v, p| string(v, p, None))?;
    }
    optional(frame, "context", path, |v, p| {
        let context = object(v, p)?;
        for key in ["pre", "post"] {
            optional(context, key, p, strings)?;
        }
        Ok(())
    })?;
    optional(frame, "args", path, |v, p| array(v, p).map(drop))?;
    optional(frame, "argspec", path, strings)?;
    optional(frame, "kwargs", path, |v, p| object(v, p).map(drop))?;
    optional(frame, "locals", path, |v, p| object(v, p).map(drop))
}

/// One `telemetry` element: level, type, source, timestamp_ms and body are required.
fn telemetry(value: &Value, path: &str) -> Check {
    let t = object(value, path)?;
    one_of(
        required(t, "level", path)?,
        &format!("{path}.level"),
        &LEVELS,
    )?;
    one_of(
        required(t, "type", path)?,
        &format!("{path}.type"),
        &TELEMETRY_TYPES,
    )?;
    string(
        required(t, "source", path)?,
        &format!("{path}.source"),
        None,
    )?;
    integer(
        required(t, "timestamp_ms", path)?,
        &format!("{path}.timestamp_ms"),
    )?;
    object(required(t, "body", path)?, &format!("{path}.body")).map(drop)
}

/// `request`: "Can contain any arbitrary keys"; the ones Rollbar understands have types.
fn request(value: &Value, path: &str) -> Check {
    let request = object(value, path)?;
    for key in ["url", "method", "query_string", "body", "user_ip"] {
        optional(request, key, path, |v, p| string(v, p, None))?;
    }
    for key in ["headers", "params", "GET", "POST"] {
        optional(request, key, path, |v, p| object(v, p).map(drop))?;
    }
    Ok(())
}

/// `person`: "Required: id … A string up to 40 characters"; username and email "A string
/// up to 255 characters".
fn person(value: &Value, path: &str) -> Check {
    let person = object(value, path)?;
    string(
        required(person, "id", path)?,
        &format!("{path}.id"),
        Some(40),
    )?;
    optional(person, "username", path, |v, p| string(v, p, Some(255)))?;
    optional(person, "email", path, |v, p| string(v, p, Some(255)))
}

/// `server`: "cpu … A string up to 255 characters"; host, root, branch, code_version, sha.
fn server(value: &Value, path: &str) -> Check {
    let server = object(value, path)?;
    optional(server, "cpu", path, |v, p| string(v, p, Some(255)))?;
    for key in ["host", "root", "branch", "code_version", "sha"] {
        optional(server, key, path, |v, p| string(v, p, None))?;
    }
    Ok(())
}

/// `client`: "cpu … A string up to 255 characters" and `javascript`: browser (the user
/// agent string), code_version, source_map_enabled and guess_uncaught_frames (booleans).
fn client(value: &Value, path: &str) -> Check {
    let client = object(value, path)?;
    optional(client, "cpu", path, |v, p| string(v, p, Some(255)))?;
    optional(client, "javascript", path, |v, p| {
        let js = object(v, p)?;
        optional(js, "browser", p, |v, p| string(v, p, None))?;
        // "See note about code_version above": the 40-character string.
        optional(js, "code_version", p, |v, p| string(v, p, Some(40)))?;
        optional(js, "source_map_enabled", p, boolean)?;
        optional(js, "guess_uncaught_frames", p, boolean)
    })
}

fn required<'a>(map: &'a Map<String, Value>, key: &str, path: &str) -> Result<&'a Value, String> {
    map.get(key)
        .ok_or_else(|| format!("{path}.{key}: required but missing"))
}

fn optional(
    map: &Map<String, Value>,
    key: &str,
    path: &str,
    check: impl FnOnce(&Value, &str) -> Check,
) -> Check {
    match map.get(key) {
        Some(value) => check(value, &format!("{path}.{key}")),
        None => Ok(()),
    }
}

fn object<'a>(value: &'a Value, path: &str) -> Result<&'a Map<String, Value>, String> {
    value
        .as_object()
        .ok_or_else(|| format!("{path}: not an object"))
}

fn array<'a>(value: &'a Value, path: &str) -> Result<&'a Vec<Value>, String> {
    value
        .as_array()
        .ok_or_else(|| format!("{path}: not an array"))
}

/// A string of at most `max` characters.
fn string(value: &Value, path: &str, max: Option<usize>) -> Check {
    str_of(value, path, max).map(drop)
}

/// The string, when it is one of at most `max` characters.
fn str_of<'a>(value: &'a Value, path: &str, max: Option<usize>) -> Result<&'a str, String> {
    let s = value
        .as_str()
        .ok_or_else(|| format!("{path}: not a string"))?;
    match max {
        Some(max) if s.chars().count() > max => Err(format!(
            "{path}: {} characters, over {max}",
            s.chars().count()
        )),
        _ => Ok(s),
    }
}

fn strings(value: &Value, path: &str) -> Check {
    array(value, path)?
        .iter()
        .enumerate()
        .try_for_each(|(i, s)| string(s, &format!("{path}[{i}]"), None))
}

fn integer(value: &Value, path: &str) -> Check {
    if value.is_u64() || value.is_i64() {
        Ok(())
    } else {
        Err(format!("{path}: not an integer"))
    }
}

fn boolean(value: &Value, path: &str) -> Check {
    if value.is_boolean() {
        Ok(())
    } else {
        Err(format!("{path}: not a boolean"))
    }
}

fn one_of(value: &Value, path: &str, allowed: &[&str]) -> Check {
    let s = str_of(value, path, None)?;
    if allowed.contains(&s) {
        Ok(())
    } else {
        Err(format!("{path}: {s:?} is not one of {allowed:?}"))
    }
}

// ---------------------------------------------------------------------------------------
// What this SDK promises on top (not Rollbar's rules)
// ---------------------------------------------------------------------------------------

/// Fields our encoder always writes, their fixed values, the scrubbing of `custom` and
/// `person`, the scrubbed `request.url`, and the rollbar.js `attributes` shape.
fn check_ours(doc: &Value, scrubber: &Scrubber) -> Check {
    let data = &doc["data"];
    if doc.as_object().map(Map::len) != Some(1) {
        return Err("only `data` at the top".into());
    }
    if data["platform"] != "browser" || data["language"] != "javascript" {
        return Err("platform browser, language javascript".into());
    }
    if !data["level"].is_string() {
        return Err("level always present".into());
    }
    // Left out only for an item built before its error happened (timestamp 0).
    if data.get("timestamp").is_some_and(|t| !t.is_u64() || t == 0) {
        return Err("timestamp, when present, Unix seconds".into());
    }
    if data["notifier"]["name"] != "edge-telemetry" {
        return Err("notifier.name".into());
    }
    if let Some(url) = data["request"]["url"].as_str() {
        if url.contains('#') {
            return Err(format!("request.url keeps its fragment: {url}"));
        }
        if let Some((_, query)) = url.split_once('?') {
            for pair in query.split('&') {
                let value = pair.split_once('=').map_or("REDACTED", |(_, v)| v);
                if value != "REDACTED" && !value.ends_with("...") {
                    return Err(format!("request.url query value not scrubbed: {url}"));
                }
            }
        }
    }
    for (path, value) in [("custom", &data["custom"]), ("person", &data["person"])] {
        scrubbed(value, scrubber, path, path == "person")?;
    }
    if let Some(attributes) = data.get("attributes") {
        for a in attributes.as_array().ok_or("attributes: not an array")? {
            let (Some(key), Some(_)) = (a["key"].as_str(), a["value"].as_str()) else {
                return Err(format!("attributes: not {{key, value}} strings: {a}"));
            };
            if data["custom"][key] != a["value"] {
                return Err(format!("attributes.{key} differs from custom.{key}"));
            }
        }
    }
    Ok(())
}

/// Every member of `value` (at any depth) whose key is sensitive holds [`SCRUBBED`].
fn scrubbed(value: &Value, scrubber: &Scrubber, path: &str, is_person: bool) -> Check {
    match value {
        Value::Object(members) => {
            for (key, v) in members {
                let sensitive = scrubber.is_sensitive(key) && !(is_person && key == "id");
                if sensitive && v != SCRUBBED {
                    return Err(format!("{path}.{key} not scrubbed: {v}"));
                }
                scrubbed(v, scrubber, &format!("{path}.{key}"), false)?;
            }
            Ok(())
        }
        Value::Array(items) => items
            .iter()
            .try_for_each(|v| scrubbed(v, scrubber, path, false)),
        _ => Ok(()),
    }
}

/// Encodes `item` with `max_bytes` and checks everything: JSON, Rollbar's rules, ours, and
/// the size (when `max_bytes` is one the encoder promises to meet).
#[track_caller]
fn check(item: &Item, scrubber: &Scrubber, max_bytes: usize) -> Value {
    let body = encode_item(item, scrubber, max_bytes);
    if max_bytes >= MIN_ITEM_BYTES {
        assert!(
            body.len() <= max_bytes,
            "{} bytes over {max_bytes}",
            body.len()
        );
    }
    if let Err(e) = validate_request(&body) {
        panic!("invalid item ({e}): {}", preview(&body));
    }
    let doc: Value = serde_json::from_str(&body).unwrap();
    if let Err(e) = check_ours(&doc, scrubber) {
        panic!("{e}: {}", preview(&body));
    }
    doc
}

fn preview(body: &str) -> String {
    body.chars().take(2000).collect()
}

// ---------------------------------------------------------------------------------------
// Items
// ---------------------------------------------------------------------------------------

const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const SPAN_ID: &str = "00f067aa0ba902b7";

fn frame(
    filename: &str,
    lineno: Option<u32>,
    colno: Option<u32>,
    method: Option<&str>,
) -> StackFrame {
    StackFrame {
        filename: filename.into(),
        lineno,
        colno,
        method: method.map(Into::into),
    }
}

fn exception(class: &str, message: &str, frames: Vec<StackFrame>) -> Exception {
    Exception {
        class: class.into(),
        message: message.into(),
        frames,
    }
}

fn frames(n: usize) -> Vec<StackFrame> {
    (0..n)
        .map(|i| {
            frame(
                "https://shop.example/assets/app.min.js",
                Some(1),
                Some(i as u32 * 10),
                Some(&format!("fn{i}")),
            )
        })
        .collect()
}

fn base(body: Body) -> Item {
    Item::new(
        format_uuid_v4([7; 16]),
        Level::Error,
        1_700_000_000,
        "production".into(),
        body,
        "0.1.0".into(),
    )
}

fn object_of(members: Vec<(&str, Json)>) -> Json {
    Json::Object(members.into_iter().map(|(k, v)| (k.into(), v)).collect())
}

fn text(s: &str) -> Json {
    Json::String(s.into())
}

fn everything(body: Body) -> Item {
    Item {
        level: Level::Critical,
        context: Some("checkout#pay".into()),
        request_url: Some("https://user:pw@shop.example/cart?session=abc&step=2#frag".into()),
        capture_ip: true,
        person: Some(object_of(vec![
            ("id", text("user-42")),
            ("username", text("ann")),
            ("email", text("ann@example.com")),
            ("password", text("hunter2")),
        ])),
        custom: Some(object_of(vec![
            (
                "cart",
                object_of(vec![
                    ("items", Json::Number(3.0)),
                    ("total", Json::Number(19.99)),
                ]),
            ),
            (
                "headers",
                object_of(vec![
                    ("Authorization", text("Bearer x")),
                    ("Accept", text("*/*")),
                ]),
            ),
            (
                "tags",
                Json::Array(vec![
                    text("a"),
                    Json::Null,
                    Json::Bool(true),
                    Json::Number(f64::NAN),
                ]),
            ),
        ])),
        fingerprint: Some("checkout-pay-timeout".into()),
        framework: Some("react".into()),
        browser: Some("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36".into()),
        code_version: Some("3da541559918a808c2402bba5012f6c60b27661c".into()),
        source_map_enabled: true,
        guess_uncaught_frames: true,
        trace_id: Some(TRACE_ID.into()),
        span_id: Some(SPAN_ID.into()),
        trace_url: Some(
            "https://ui.honeycomb.io/acme/environments/prod/trace?trace_id=4bf9".into(),
        ),
        telemetry: Some({
            let mut t = Telemetry::default();
            t.request_start(
                1,
                1_700_000_000_000,
                "GET",
                "https://shop.example/cart?s=1",
                false,
            );
            t.request_end(1, 1_700_000_000_120, 500);
            t.dom(
                1_700_000_000_200,
                "click",
                &element_name("BUTTON", r#"//*[@id="pay"]"#),
            );
            t.log(1_700_000_000_300, Severity::Warn, "card declined");
            t.navigation(
                1_700_000_000_400,
                "https://shop.example/cart",
                "https://shop.example/pay",
            );
            t.to_json()
        }),
        ..base(body)
    }
}

// ---------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------

#[test]
fn the_validator_accepts_a_documented_example() {
    // Shaped after the create-item "Data Format" example (fields of every section).
    let doc = json!({
        "data": {
            "environment": "production",
            "body": {
                "telemetry": [{
                    "level": "info", "type": "network", "source": "client",
                    "timestamp_ms": 1720413393557u64,
                    "body": {"method": "GET", "url": "/api/1/item/4/", "status_code": "200"}
                }],
                "trace": {
                    "frames": [
                        {"filename": "/srv/app/views.py", "lineno": 26, "colno": 8, "method": "index",
                         "code": "save(request)", "class_name": "java.lang.String",
                         "context": {"pre": ["a = 1"], "post": []},
                         "args": ["<Request>", 25], "kwargs": {"force": true},
                         "argspec": ["request"], "varargspec": "args", "keywordspec": "kwargs",
                         "locals": {"request": "<Request>"}},
                        {"filename": "/srv/app/views.py", "lineno": 497}
                    ],
                    "exception": {"class": "NameError", "message": "name 'foo' is not defined",
                                  "description": "while saving"}
                }
            },
            "level": "error",
            "timestamp": 1723188822,
            "code_version": "3da541559918a808c2402bba5012f6c60b27661c",
            "platform": "linux", "language": "python", "framework": "pyramid",
            "context": "project#index",
            "request": {"url": "https://example.com/project/1", "method": "GET",
                        "headers": {"Accept": "text/html"}, "params": {"action": "index"},
                        "GET": {}, "query_string": "", "POST": {}, "body": "",
                        "user_ip": "$remote_ip"},
            "person": {"id": "12345", "username": "brianr", "email": "brian@example.com"},
            "server": {"cpu": "x64", "host": "web4", "root": "/srv/app", "branch": "main",
                       "code_version": "b6437f45", "sha": "b6437f45"},
            "client": {"cpu": "x64", "javascript": {"browser": "Mozilla/5.0",
                       "code_version": "b6437f45", "source_map_enabled": false,
                       "guess_uncaught_frames": false}},
            "custom": {},
            "fingerprint": "50a5ef9dbcf9d0e0af2d4e25338da0d430f20e52",
            "title": "NameError when setting last project",
            "uuid": "f81d4fae-7dec-11d0-a765-00a0c91e6bf6",
            "notifier": {"name": "pyrollbar", "version": "1.0.0"}
        }
    });
    validate(&doc).unwrap();
    for body in [
        json!({"message": {"body": "Request over threshold", "route": "home#index", "time_elapsed": 15.23}}),
        json!({"trace_chain": [{"frames": [], "exception": {"class": "A"}}]}),
        json!({"crash_report": {"raw": "<crash report here>"}}),
    ] {
        validate(&json!({"data": {"environment": "staging", "body": body}})).unwrap();
    }
}

#[test]
fn the_validator_rejects_what_the_docs_rule_out() {
    let good = json!({
        "data": {
            "environment": "production",
            "body": {"trace": {"frames": [{"filename": "a.js", "lineno": 1}],
                               "exception": {"class": "Error", "message": "m"}}},
            "level": "error",
            "timestamp": 1700000000,
            "uuid": "0f8fad5b-d9cb-469f-a165-70867728950e",
            "person": {"id": "1"},
            "custom": {"a": 1}
        }
    });
    validate(&good).unwrap();
    let broken = |edit: &dyn Fn(&mut Value)| {
        let mut doc = good.clone();
        edit(&mut doc);
        doc
    };
    let cases: Vec<(&str, Value)> = vec![
        ("$: not an object", json!([])),
        ("$.data: required", json!({})),
        ("$.extra: not a field", broken(&|d| d["extra"] = json!(1))),
        (
            "data.environment: required",
            broken(&|d| {
                d["data"].as_object_mut().unwrap().remove("environment");
            }),
        ),
        (
            "data.environment: 256 characters",
            broken(&|d| d["data"]["environment"] = json!("e".repeat(256))),
        ),
        (
            "data.environment: not a string",
            broken(&|d| d["data"]["environment"] = json!(null)),
        ),
        (
            "data.body: required",
            broken(&|d| {
                d["data"].as_object_mut().unwrap().remove("body");
            }),
        ),
        (
            "exactly one",
            broken(&|d| d["data"]["body"]["message"] = json!({"body": "also"})),
        ),
        ("exactly one", broken(&|d| d["data"]["body"] = json!({}))),
        (
            "data.body.extra: not a body field",
            broken(&|d| d["data"]["body"]["extra"] = json!(1)),
        ),
        (
            "exception.class: required",
            broken(&|d| {
                d["data"]["body"]["trace"]["exception"]
                    .as_object_mut()
                    .unwrap()
                    .remove("class");
            }),
        ),
        (
            "trace.exception: required",
            broken(&|d| {
                d["data"]["body"]["trace"]
                    .as_object_mut()
                    .unwrap()
                    .remove("exception");
            }),
        ),
        (
            "trace.frames: required",
            broken(&|d| {
                d["data"]["body"]["trace"]
                    .as_object_mut()
                    .unwrap()
                    .remove("frames");
            }),
        ),
        (
            "frames[0].filename: required",
            broken(&|d| d["data"]["body"]["trace"]["frames"][0] = json!({"lineno": 1})),
        ),
        (
            "frames[0].lineno: not an integer",
            broken(&|d| d["data"]["body"]["trace"]["frames"][0]["lineno"] = json!(1.5)),
        ),
        (
            "frames[0].colno: not an integer",
            broken(&|d| d["data"]["body"]["trace"]["frames"][0]["colno"] = json!("8")),
        ),
        (
            "exception.message: not a string",
            broken(&|d| d["data"]["body"]["trace"]["exception"]["message"] = json!({})),
        ),
        (
            "at least one element",
            broken(&|d| d["data"]["body"] = json!({"trace_chain": []})),
        ),
        (
            "trace_chain[0].exception: required",
            broken(&|d| d["data"]["body"] = json!({"trace_chain": [{"frames": []}]})),
        ),
        (
            "message.body: required",
            broken(&|d| d["data"]["body"] = json!({"message": {"route": "x"}})),
        ),
        (
            "message.body: not a string",
            broken(&|d| d["data"]["body"] = json!({"message": {"body": 1}})),
        ),
        (
            "crash_report.raw: required",
            broken(&|d| d["data"]["body"] = json!({"crash_report": {}})),
        ),
        (
            "telemetry[0].type",
            broken(
                &|d| d["data"]["body"]["telemetry"] = json!([{"level": "info", "type": "click", "source": "client", "timestamp_ms": 1, "body": {}}]),
            ),
        ),
        (
            "data.level: \"fatal\"",
            broken(&|d| d["data"]["level"] = json!("fatal")),
        ),
        (
            "data.level: \"warn\"",
            broken(&|d| d["data"]["level"] = json!("warn")),
        ),
        (
            "data.timestamp: not an integer",
            broken(&|d| d["data"]["timestamp"] = json!(1700000000.5)),
        ),
        (
            "data.timestamp: not an integer",
            broken(&|d| d["data"]["timestamp"] = json!("1700000000")),
        ),
        (
            "data.uuid: 37 characters",
            broken(&|d| d["data"]["uuid"] = json!("0f8fad5b-d9cb-469f-a165-70867728950e0")),
        ),
        (
            "is not latin1",
            broken(&|d| d["data"]["uuid"] = json!("😀")),
        ),
        (
            "data.code_version: 41 characters",
            broken(&|d| d["data"]["code_version"] = json!("c".repeat(41))),
        ),
        (
            "data.title: 256 characters",
            broken(&|d| d["data"]["title"] = json!("t".repeat(256))),
        ),
        (
            "data.person.id: required",
            broken(&|d| d["data"]["person"] = json!({"username": "ann"})),
        ),
        (
            "data.person.id: not a string",
            broken(&|d| d["data"]["person"] = json!({"id": 42})),
        ),
        (
            "data.person.id: 41 characters",
            broken(&|d| d["data"]["person"]["id"] = json!("i".repeat(41))),
        ),
        (
            "data.person.email: 256 characters",
            broken(&|d| d["data"]["person"]["email"] = json!("e".repeat(256))),
        ),
        (
            "data.custom: not an object",
            broken(&|d| d["data"]["custom"] = json!([1])),
        ),
        (
            "data.request.url: not a string",
            broken(&|d| d["data"]["request"] = json!({"url": 1})),
        ),
        (
            "data.request.headers: not an object",
            broken(&|d| d["data"]["request"] = json!({"headers": []})),
        ),
        (
            "source_map_enabled: not a boolean",
            broken(&|d| {
                d["data"]["client"] = json!({"javascript": {"source_map_enabled": "true"}})
            }),
        ),
        (
            "data.client.cpu: 256 characters",
            broken(&|d| d["data"]["client"] = json!({"cpu": "x".repeat(256)})),
        ),
        (
            "data.fingerprint: not a string",
            broken(&|d| d["data"]["fingerprint"] = json!(12)),
        ),
        (
            "data.notifier.name: not a string",
            broken(&|d| d["data"]["notifier"] = json!({"name": ["x"]})),
        ),
    ];
    for (expected, doc) in cases {
        match validate(&doc) {
            Ok(()) => panic!("accepted a document that breaks {expected:?}: {doc}"),
            Err(e) => assert!(e.contains(expected), "{expected:?} not in {e:?}"),
        }
    }
    // Over 128 KB is refused before anything else.
    let big = json!({"data": {"environment": "p", "body": {"message": {"body": "x".repeat(MAX_REQUEST_BYTES)}}}});
    let err = validate_request(&big.to_string()).unwrap_err();
    assert!(err.contains("over 128KB"), "{err}");
    assert!(
        validate_request("{\"data\":")
            .unwrap_err()
            .contains("not JSON")
    );
}

#[test]
fn every_body_kind_and_field() {
    let scrubber = Scrubber::default();
    let bodies = [
        Body::Trace(exception("TypeError", "x is undefined", frames(3))),
        Body::Trace(exception("", "", vec![])),
        Body::Trace(exception(
            "Error",
            "wasm",
            vec![
                frame("wasm://wasm/00a1b2c3", None, Some(0x1a2b), None),
                frame("[native code]", None, None, None),
                frame("", Some(0), Some(0), Some("")),
            ],
        )),
        Body::TraceChain(vec![
            exception("Error", "outer", frames(2)),
            exception("TypeError", "cause", frames(1)),
            exception("RangeError", "", vec![]),
        ]),
        Body::TraceChain(vec![exception("Error", "only", frames(1))]),
        Body::TraceChain(vec![]),
        Body::Message("cart emptied".into()),
        Body::Message(String::new()),
    ];
    for body in bodies {
        for level in [
            Level::Critical,
            Level::Error,
            Level::Warning,
            Level::Info,
            Level::Debug,
        ] {
            let doc = check(
                &Item {
                    level,
                    ..base(body.clone())
                },
                &scrubber,
                MAX_ITEM_BYTES,
            );
            assert_eq!(doc["data"]["level"], level.as_str());
        }
        let doc = check(&everything(body.clone()), &scrubber, MAX_ITEM_BYTES);
        let data = &doc["data"];
        let telemetry = data["body"]["telemetry"]
            .as_array()
            .expect("body.telemetry");
        assert_eq!(
            telemetry
                .iter()
                .map(|t| t["type"].as_str().unwrap())
                .collect::<Vec<_>>(),
            ["network", "dom", "log", "navigation"]
        );
        assert_eq!(
            telemetry[0]["body"]["url"],
            "https://shop.example/cart?s=REDACTED"
        );
        assert_eq!(telemetry[0]["level"], "error");
        assert_eq!(data["custom"]["trace_id"], TRACE_ID);
        assert_eq!(data["custom"]["span_id"], SPAN_ID);
        assert!(
            data["custom"]["trace_url"]
                .as_str()
                .unwrap()
                .starts_with("https://ui.honeycomb.io/")
        );
        assert_eq!(data["custom"]["headers"]["Authorization"], SCRUBBED);
        assert_eq!(data["custom"]["tags"], json!(["a", null, true, null]));
        assert_eq!(
            data["person"],
            json!({"id": "user-42", "username": "ann", "email": "ann@example.com", "password": SCRUBBED})
        );
        assert_eq!(
            data["request"],
            json!({"url": "https://REDACTED:REDACTED@shop.example/cart?session=REDACTED&step=REDACTED", "user_ip": "$remote_ip"})
        );
        assert_eq!(
            data["attributes"],
            json!([{"key": "trace_id", "value": TRACE_ID}, {"key": "span_id", "value": SPAN_ID}])
        );
        assert_eq!(data["client"]["javascript"]["source_map_enabled"], true);
        assert_eq!(data["uuid"], format_uuid_v4([7; 16]));
    }
}

#[test]
fn odd_unicode_and_escapes() {
    let weird = "\u{0}\u{1f}\"\\/\n\r\t\u{7f}\u{80}\u{a0}é\u{301}\u{200b}\u{200e}\u{2028}\u{2029}\u{feff}\u{fffd}😀👩‍👩‍👧\u{10ffff}";
    let item = Item {
        environment: weird.into(),
        context: Some(weird.into()),
        request_url: Some(format!("https://shop.example/{weird}?q={weird}#{weird}")),
        person: Some(object_of(vec![("id", text(weird)), (weird, text(weird))])),
        custom: Some(object_of(vec![
            (weird, text(weird)),
            ("n", Json::Number(-1.5e-300)),
        ])),
        fingerprint: Some(weird.into()),
        framework: Some(weird.into()),
        browser: Some(weird.into()),
        code_version: Some(weird.into()),
        trace_url: Some(weird.into()),
        notifier_version: weird.into(),
        ..base(Body::TraceChain(vec![exception(
            weird,
            weird,
            vec![frame(weird, Some(u32::MAX), Some(u32::MAX), Some(weird))],
        )]))
    };
    let doc = check(&item, &Scrubber::default(), MAX_ITEM_BYTES);
    let data = &doc["data"];
    assert_eq!(data["context"], weird);
    assert_eq!(data["custom"][weird], weird);
    assert_eq!(data["body"]["trace_chain"][0]["frames"][0]["method"], weird);
    assert_eq!(
        data["body"]["trace_chain"][0]["frames"][0]["lineno"],
        u32::MAX
    );
    // (serde_json's default parser rounds the last digit; the text is exact.)
    let body = encode_item(&item, &Scrubber::default(), MAX_ITEM_BYTES);
    assert!(body.contains(r#","n":-1.5e-300}"#), "{body}");
    // Cut to 40 characters, at a character boundary.
    let code_version = data["client"]["javascript"]["code_version"]
        .as_str()
        .unwrap();
    assert_eq!(code_version.chars().count(), weird.chars().count().min(40));
    // Every string cut short, still valid at each budget.
    let long = Item {
        custom: Some(object_of(vec![("w", text(&weird.repeat(5000)))])),
        ..item
    };
    for max in [MIN_ITEM_BYTES, 2000, 8000, 64 * 1024, MAX_ITEM_BYTES] {
        check(&long, &Scrubber::default(), max);
    }
}

#[test]
fn huge_items_are_truncated_into_valid_ones() {
    let scrubber = Scrubber::default();
    let giant_string = "x".repeat(3 * MAX_ITEM_BYTES);
    let giant_object = Json::Object(
        (0..40_000)
            .map(|i| (format!("key{i}"), Json::Number(f64::from(i) * 0.5)))
            .collect(),
    );
    let many_frames = || frames(5000);
    let items = [
        // Too many frames.
        base(Body::Trace(exception(
            "RangeError",
            "Maximum call stack size exceeded",
            many_frames(),
        ))),
        // One giant message.
        base(Body::Message(giant_string.clone())),
        // A giant exception message and class.
        base(Body::Trace(exception(
            &giant_string,
            &giant_string,
            frames(10),
        ))),
        // Giant custom values and keys.
        Item {
            custom: Some(object_of(vec![("blob", text(&giant_string))])),
            ..everything(Body::Trace(exception("Error", "m", frames(10))))
        },
        Item {
            custom: Some(Json::Object(vec![(giant_string.clone(), Json::Null)])),
            ..everything(Body::Trace(exception("Error", "m", frames(10))))
        },
        // Too many small custom values (strings cannot help: the minimal item).
        Item {
            custom: Some(giant_object),
            ..everything(Body::TraceChain(vec![
                exception("Error", "m", many_frames());
                3
            ]))
        },
        // A giant person and URL.
        Item {
            person: Some(object_of(vec![
                ("id", text(&giant_string)),
                ("bio", text(&giant_string)),
            ])),
            request_url: Some(format!(
                "https://shop.example/{giant_string}?q={giant_string}"
            )),
            ..everything(Body::Message("m".into()))
        },
        // A long chain of causes.
        everything(Body::TraceChain(vec![
            exception(
                "Error",
                &"c".repeat(2000),
                frames(40)
            );
            200
        ])),
    ];
    for item in &items {
        for max in [
            MIN_ITEM_BYTES,
            1500,
            4096,
            16 * 1024,
            100_000,
            MAX_ITEM_BYTES,
        ] {
            let doc = check(item, &scrubber, max);
            // Still the same occurrence, with its ids.
            assert_eq!(doc["data"]["uuid"], item.uuid);
            if item.trace_id.is_some() {
                assert_eq!(doc["data"]["custom"]["trace_id"], TRACE_ID);
            }
        }
        // The oversized frames were cut to the first and last 30 when that was enough.
    }
    let doc = check(&items[0], &scrubber, MAX_ITEM_BYTES);
    let frames = doc["data"]["body"]["trace"]["frames"].as_array().unwrap();
    assert_eq!(frames.len(), 60);
    assert_eq!(frames[0]["method"], "fn0");
    assert_eq!(frames[29]["method"], "fn29");
    assert_eq!(frames[30]["method"], "fn4970");
    assert_eq!(frames[59]["method"], "fn4999");
}

#[test]
fn an_item_that_fits_is_not_cut() {
    let item = everything(Body::Trace(exception(
        "Error",
        &"m".repeat(5000),
        frames(100),
    )));
    let full = encode_item(&item, &Scrubber::default(), usize::MAX);
    assert_eq!(encode_item(&item, &Scrubber::default(), full.len()), full);
    assert_ne!(
        encode_item(&item, &Scrubber::default(), full.len() - 1),
        full
    );
}

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
    fn string(&mut self) -> String {
        const PIECES: [&str; 16] = [
            "a", "Z", "0", " ", "\"", "\\", "\n", "\u{1}", "\u{7f}", "é", "€", "😀", "\u{2028}",
            "password", "token", "&q=1#",
        ];
        let len = match self.below(10) {
            0 => 0,
            1..=6 => self.below(20),
            7 | 8 => self.below(2000),
            _ => self.below(40_000),
        };
        (0..len).map(|_| PIECES[self.below(PIECES.len())]).collect()
    }
    fn key(&mut self) -> String {
        const KEYS: [&str; 10] = [
            "id",
            "name",
            "password",
            "Access-Token",
            "cookie",
            "nested",
            "count",
            "apiKey",
            "passenger",
            "trace_id",
        ];
        if self.chance(70) {
            KEYS[self.below(KEYS.len())].into()
        } else {
            self.string()
        }
    }
    fn json(&mut self, depth: usize) -> Json {
        match self.below(if depth > 3 { 5 } else { 7 }) {
            0 => Json::Null,
            1 => Json::Bool(self.chance(50)),
            2 => Json::Number(match self.below(5) {
                0 => f64::NAN,
                1 => self.below(1000) as f64,
                2 => (self.next() as f64) / 3.0,
                3 => -(self.below(1_000_000) as f64) / 7.0,
                _ => f64::INFINITY,
            }),
            3 | 4 => Json::String(self.string()),
            5 => Json::Array((0..self.below(8)).map(|_| self.json(depth + 1)).collect()),
            _ => Json::Object(
                (0..self.below(8))
                    .map(|_| (self.key(), self.json(depth + 1)))
                    .collect(),
            ),
        }
    }
    fn option(&mut self) -> Option<String> {
        self.chance(60).then(|| self.string())
    }
    fn exception(&mut self) -> Exception {
        let n = match self.below(4) {
            0 => 0,
            1 | 2 => self.below(15),
            _ => self.below(100),
        };
        let frames = (0..n)
            .map(|_| StackFrame {
                filename: self.string(),
                lineno: self.chance(80).then(|| self.next() as u32),
                colno: self.chance(70).then(|| self.next() as u32),
                method: self.option(),
            })
            .collect();
        Exception {
            class: self.string(),
            message: self.string(),
            frames,
        }
    }
    fn item(&mut self) -> Item {
        let body = match self.below(3) {
            0 => Body::Trace(self.exception()),
            1 => Body::TraceChain((0..self.below(5)).map(|_| self.exception()).collect()),
            _ => Body::Message(self.string()),
        };
        let mut random = [0u8; 16];
        random.iter_mut().for_each(|b| *b = self.next() as u8);
        let mut person = self.chance(50).then(|| self.json(0));
        let with_id = self.chance(70);
        if let Some(Json::Object(members)) = &mut person {
            if with_id {
                members.insert(0, ("id".into(), Json::String(self.string())));
            }
        }
        Item {
            uuid: format_uuid_v4(random),
            level: [
                Level::Critical,
                Level::Error,
                Level::Warning,
                Level::Info,
                Level::Debug,
            ][self.below(5)],
            timestamp_secs: self.next() >> self.below(64),
            environment: self.string(),
            body,
            context: self.option(),
            request_url: self.option().map(|s| format!("https://h.example/{s}")),
            capture_ip: self.chance(50),
            person,
            custom: self.chance(60).then(|| self.json(0)),
            fingerprint: self.option(),
            framework: self.option(),
            browser: self.option(),
            code_version: self.option(),
            source_map_enabled: self.chance(50),
            guess_uncaught_frames: self.chance(50),
            trace_id: self.chance(50).then(|| TRACE_ID.into()),
            span_id: self.chance(50).then(|| SPAN_ID.into()),
            trace_url: self.option(),
            notifier_version: self.string(),
            telemetry: self.chance(40).then(|| self.telemetry()),
        }
    }

    /// Recent events of every kind, with random texts (some long), as the engine keeps them.
    fn telemetry(&mut self) -> String {
        let mut t = Telemetry::default();
        for i in 0..self.below(150) {
            let at = self.next() >> 24;
            match self.below(5) {
                0 => t.log(
                    at,
                    [
                        Severity::Debug,
                        Severity::Info,
                        Severity::Warn,
                        Severity::Error,
                        Severity::Fatal,
                    ][self.below(5)],
                    &self.string(),
                ),
                1 => {
                    let url = format!("https://h.example/{}?q={}", self.string(), self.string());
                    t.request_start(i as u32, at, "GET", &url, self.chance(50));
                    t.request_end(i as u32, at + 5, [0, 200, 404, 503][self.below(4)]);
                }
                2 => t.dom(at, "click", &element_name("BUTTON", &self.string())),
                3 => t.navigation(at, &format!("https://h.example/{}", self.string()), "/next"),
                _ => t.log(at, Severity::Info, &"z".repeat(self.below(3000))),
            }
        }
        t.to_json()
    }
}

#[test]
fn random_items_are_valid_at_every_budget() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let scrubbers = [
        Scrubber::default(),
        Scrubber::new(&["id", "name", "count"]),
        Scrubber::new::<&str>(&[]),
    ];
    for round in 0..400 {
        let item = rng.item();
        let scrubber = &scrubbers[round % scrubbers.len()];
        let max = [MIN_ITEM_BYTES, 3000, 20_000, MAX_ITEM_BYTES][round % 4];
        check(&item, scrubber, max);
        let doc = check(&item, scrubber, MAX_ITEM_BYTES);
        assert_eq!(doc["data"]["uuid"], item.uuid);
    }
}
