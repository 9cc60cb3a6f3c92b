//! `X-Amzn-Trace-Id` (AWS X-Ray): parsing never panics, and an X-Ray trace id that parses
//! writes back to the same id.
#![no_main]

use edge_telemetry_core::propagation::xray::{
    extract_xray, parse_xray, parse_xray_trace_id, write_xray_trace_id,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &str| {
    let _ = parse_xray(data);
    let values: Vec<&str> = data.split('\n').collect();
    let _ = extract_xray(&values);
    if let Some(id) = parse_xray_trace_id(data) {
        let mut written = String::new();
        write_xray_trace_id(&mut written, id);
        assert_eq!(parse_xray_trace_id(&written), Some(id), "{written}");
    }
});
