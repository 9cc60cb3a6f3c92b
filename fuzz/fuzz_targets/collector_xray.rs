//! The collector's X-Ray daemon datagram decoder (`collector/src/segments.rs`) on any datagram,
//! with one memory of services across inputs as on the daemon port: it never panics, and every
//! span it makes has valid ids and JSON columns.
#![no_main]

use std::sync::Mutex;

use edge_telemetry_fuzz::check_span;
use edge_telemetry_fuzz::segments::{Services, decode_datagram};
use libfuzzer_sys::fuzz_target;

static SERVICES: Mutex<Option<Services>> = Mutex::new(None);

fuzz_target!(|data: &[u8]| {
    let mut services = SERVICES.lock().unwrap();
    let services = services.get_or_insert_with(Services::default);
    if let Ok(spans) = decode_datagram(data, services) {
        assert!(!spans.is_empty());
        spans.iter().for_each(check_span);
    }
});
