//! `baggage` (W3C Baggage): parsing and writing back never panic, and what is written keeps
//! the size limit.
#![no_main]

use edge_telemetry_core::propagation::baggage::MAX_BAGGAGE_BYTES;
use edge_telemetry_core::propagation::{format_baggage, parse_baggage};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &str| {
    let values: Vec<&str> = data.split('\n').collect();
    let baggage = parse_baggage(&values);
    let written = format_baggage(&baggage);
    assert!(
        written.len() <= MAX_BAGGAGE_BYTES,
        "{} bytes",
        written.len()
    );
    let _ = parse_baggage(&[&written]);
});
