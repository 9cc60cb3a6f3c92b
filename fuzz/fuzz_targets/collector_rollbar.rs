//! The collector's Rollbar item ingestion (`collector/src/rollbar.rs`) on any body: it never
//! panics; an item it accepts has a uuid, lowercase hex trace and span ids when it has them,
//! and is stored as JSON without any `access_token`.
#![no_main]

use edge_telemetry_fuzz::rollbar::parse_item;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(item) = parse_item(data, 1_765_000_000_000.0) else {
        return;
    };
    assert!(!item.uuid.is_empty() && item.uuid.len() <= 64);
    for (id, max) in [(&item.trace_id, 32), (&item.span_id, 16)] {
        if let Some(id) = id {
            assert!(
                id.len() <= max
                    && id
                        .bytes()
                        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
            );
        }
    }
    let stored: serde_json::Value = serde_json::from_str(&item.item).expect("stored as JSON");
    assert!(stored.get("access_token").is_none());
    assert!(stored["data"].get("access_token").is_none());
    assert_eq!(
        stored["data"]["uuid"].as_str().map(str::trim),
        Some(item.uuid.as_str())
    );
});
