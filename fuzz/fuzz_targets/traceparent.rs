//! `traceparent` (W3C Trace Context): parsing never panics, and what parses writes back to a
//! value that parses to the same ids and flags (unknown flag bits masked).
#![no_main]

use edge_telemetry_core::propagation::{format_traceparent, parse_traceparent};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &str| {
    let values: Vec<&str> = data.split('\n').collect();
    if let Some(tp) = parse_traceparent(&values) {
        let written = format_traceparent(tp.trace_id, tp.parent_id, tp.flags);
        let again = parse_traceparent(&[&written]).expect("a written traceparent parses");
        assert_eq!(
            (again.trace_id, again.parent_id),
            (tp.trace_id, tp.parent_id)
        );
        assert_eq!(
            format_traceparent(again.trace_id, again.parent_id, again.flags),
            written
        );
    }
});
