//! `tracestate` (W3C Trace Context): parsing and writing back never panic, and what is written
//! parses again.
#![no_main]

use edge_telemetry_core::propagation::{format_tracestate, parse_tracestate};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &str| {
    let values: Vec<&str> = data.split('\n').collect();
    if let Some(ts) = parse_tracestate(&values) {
        let written = format_tracestate(&ts);
        if !written.is_empty() {
            assert!(parse_tracestate(&[&written]).is_some(), "{written:?}");
        }
    }
});
