//! What an export endpoint answers: a `partialSuccess` body and a `Retry-After` header are
//! read without panicking.
#![no_main]

use edge_telemetry_core::export::otlp::parse_partial_success;
use edge_telemetry_core::export::retry::parse_retry_after;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &str| {
    let _ = parse_partial_success(data);
    let _ = parse_retry_after(data, 1_700_000_000_000);
});
