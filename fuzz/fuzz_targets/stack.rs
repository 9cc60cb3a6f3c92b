//! Error stacks (V8, SpiderMonkey, JavaScriptCore, wasm frames): parsing never panics, and
//! gives at most one frame per line.
#![no_main]

use edge_telemetry_core::errors::stack::parse_stack;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &str| {
    let frames = parse_stack(data);
    assert!(frames.len() <= data.lines().count().max(1));
});
