//! URLs (the same-origin check, `url.full`, scrubbing): parsing and scrubbing never panic,
//! and scrubbing a scrubbed URL changes nothing.
#![no_main]

use edge_telemetry_core::web::url::{Url, scrub_url, scrub_urls_in_text};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &str| {
    let _ = Url::parse(data);
    let once = scrub_url(data);
    assert_eq!(scrub_url(&once), once, "{data:?}");
    let _ = scrub_urls_in_text(data);
});
