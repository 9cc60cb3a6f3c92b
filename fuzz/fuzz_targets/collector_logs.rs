//! The collector's OTLP/HTTP logs decoder (`collector/src/otlp_logs.rs`) on any body, as JSON
//! and as protobuf: it never panics, and every record it keeps has valid ids and attributes.
#![no_main]

use edge_telemetry_fuzz::is_lower_hex;
use edge_telemetry_fuzz::otlp::Format;
use edge_telemetry_fuzz::otlp_logs::decode;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for format in [Format::Json, Format::Protobuf] {
        let Ok(decoded) = decode(data, format) else {
            continue;
        };
        for log in &decoded.logs {
            if let Some(t) = &log.trace_id {
                assert!(is_lower_hex(t, 32), "trace id {t:?}");
            }
            if let Some(s) = &log.span_id {
                assert!(is_lower_hex(s, 16), "span id {s:?}");
            }
            let attrs: serde_json::Value = serde_json::from_str(&log.attributes).unwrap();
            assert!(attrs.is_object());
        }
    }
});
