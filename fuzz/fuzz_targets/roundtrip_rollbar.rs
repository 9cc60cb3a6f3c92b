//! Encoder → collector round trip for Rollbar items: an item built from any input, encoded by
//! the SDK's item encoder (core, scrubbed and held under 128 KB), is always accepted by the
//! collector's item ingestion, with its uuid, level, environment, trace and span ids, and (when
//! the encoder had nothing to cut or scrub in them) its class and message.
#![no_main]

use arbitrary::Arbitrary;
use edge_telemetry_core::errors::rollbar::{
    Body, Exception, Item, Level, Scrubber, encode_item, format_uuid_v4,
};
use edge_telemetry_core::errors::stack::StackFrame;
use edge_telemetry_fuzz::rollbar::parse_item;
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct InFrame {
    filename: String,
    lineno: Option<u32>,
    colno: Option<u32>,
    method: Option<String>,
}

#[derive(Arbitrary, Debug)]
struct Input {
    uuid: [u8; 16],
    level: u8,
    timestamp_secs: u32,
    environment: String,
    class: String,
    message: String,
    as_message: bool,
    frames: Vec<InFrame>,
    trace: Option<u128>,
    span: Option<u64>,
    context: Option<String>,
}

const LEVELS: [Level; 5] = [
    Level::Critical,
    Level::Error,
    Level::Warning,
    Level::Info,
    Level::Debug,
];
const MAX_BYTES: usize = 128 * 1024;

/// Text the encoder leaves as it is: short, no URL or `key=value` for the scrubber to touch.
fn plain(s: &str) -> bool {
    s.len() <= 200 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b' ')
}

fuzz_target!(|input: Input| {
    let frames = input
        .frames
        .iter()
        .map(|f| StackFrame {
            filename: f.filename.clone(),
            lineno: f.lineno,
            colno: f.colno,
            method: f.method.clone(),
        })
        .collect();
    let body = if input.as_message {
        Body::Message(input.message.clone())
    } else {
        Body::Trace(Exception {
            class: input.class.clone(),
            message: input.message.clone(),
            frames,
        })
    };
    let level = LEVELS[usize::from(input.level) % LEVELS.len()];
    let mut item = Item::new(
        format_uuid_v4(input.uuid),
        level,
        u64::from(input.timestamp_secs),
        input.environment.clone(),
        body,
        "0.1.0".to_owned(),
    );
    item.trace_id = input.trace.map(|t| format!("{t:032x}"));
    item.span_id = input.span.map(|s| format!("{s:016x}"));
    item.context = input.context.clone();
    let json = encode_item(&item, &Scrubber::default(), MAX_BYTES);
    assert!(json.len() <= MAX_BYTES, "{} bytes", json.len());
    let got = parse_item(json.as_bytes(), 1_765_000_000_000.0)
        .unwrap_or_else(|e| panic!("the encoder's item was refused: {e}\n{json}"));
    assert_eq!(got.uuid, item.uuid);
    assert_eq!(got.level, level.as_str());
    assert_eq!(got.trace_id, item.trace_id, "{json}");
    assert_eq!(got.span_id, item.span_id, "{json}");
    // An empty environment is written as `unspecified`.
    if !input.environment.is_empty() && plain(&input.environment) {
        assert_eq!(
            got.environment.as_deref(),
            Some(input.environment.as_str()),
            "{json}"
        );
    }
    if plain(&input.message) && (input.as_message || plain(&input.class)) {
        assert_eq!(got.message, input.message, "{json}");
        // An empty class is written as `Error`.
        if !input.as_message && !input.class.is_empty() {
            assert_eq!(got.class, input.class, "{json}");
        }
    }
});
