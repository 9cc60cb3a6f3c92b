//! The collector's OTLP/HTTP traces decoder (`collector/src/otlp.rs`) on any body, as JSON and
//! as protobuf: it never panics, and every span it keeps has valid ids and JSON columns.
#![no_main]

use edge_telemetry_fuzz::check_span;
use edge_telemetry_fuzz::otlp::{Format, decode};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for format in [Format::Json, Format::Protobuf] {
        if let Ok(decoded) = decode(data, format) {
            decoded.spans.iter().for_each(check_span);
        }
    }
});
