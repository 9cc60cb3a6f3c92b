//! # edge-telemetry-errors (the item encoder)
//!
//! The second wasm module of the npm package: what turns a captured error into a Rollbar
//! item (`ignoredMessages`, de-duplication and the rate limits, stack parsing, scrubbing,
//! the item's JSON). Nothing of it is needed until something goes wrong, so it is not part
//! of what an app loads at start-up: `errors.js` loads it after the engine is ready. The
//! engine (the first module) links each error to its span when it is captured and holds the
//! span's mark until the item comes back (ARCHITECTURE.md, "The path of an error to
//! Rollbar"). Policy is core's (`errors::capture::Reporter`); this crate converts.

#![cfg_attr(all(target_arch = "wasm32", not(feature = "std")), no_std)]

extern crate alloc;

use core::cell::RefCell;

use edge_telemetry_bindings::exports;
use edge_telemetry_bindings::js::{self, JsValue};
use edge_telemetry_bindings::local::Local;
use edge_telemetry_bindings::read::{
    RegExp, array_items, get, js_f64, read_rollbar_extras, read_rollbar_options, read_string,
    regex_matches, to_json,
};
use edge_telemetry_core::config::{DEFAULT_SERVICE_NAME, RollbarConfig};
use edge_telemetry_core::errors::capture::{ErrorReport, NotSent, RawError, Reporter, Source};
use edge_telemetry_core::errors::rollbar::Level;
use edge_telemetry_core::prelude::*;

/// The allocator, as in the engine's module (src/lib.rs).
#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

/// A panic in the encoder traps (`errors.js` reports the trap with the item's uuid:
/// `trapItem`). Only in the package's `no_std` build; with `std`, the standard library's.
#[cfg(all(target_arch = "wasm32", not(feature = "std")))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    core::arch::wasm32::unreachable()
}

/// The page's reporter and the RegExp rules of `ignoredMessages`.
type Configured = (Reporter, Vec<RegExp>);

static REPORTER: Local<RefCell<Option<Configured>>> = Local::new(RefCell::new(None));

/// Sets the encoder up from the checked `init` options (the object `options.js` returned).
pub fn configure(options: JsValue) {
    let mut cfg = RollbarConfig::default();
    let ignored = read_rollbar_options(&options, &mut cfg);
    let user_agent = read_string(&get(&JsValue::global(), "navigator"), "userAgent");
    let service = read_string(&options, "serviceName");
    let reporter = Reporter::new(
        &cfg,
        read_rollbar_extras(&options),
        service.as_deref().unwrap_or(DEFAULT_SERVICE_NAME),
        read_string(&options, "environment").as_deref(),
        read_string(&options, "serviceVersion").as_deref(),
        user_agent,
    );
    if let Ok(mut r) = REPORTER.try_borrow_mut() {
        *r = Some((reporter, ignored));
    }
}

/// The error and its causes, as `errors.js` read them: Error-shaped plain objects
/// `{name, message, stack}` (strings), outermost first.
fn read_chain(chain: &JsValue) -> Vec<RawError> {
    array_items(chain)
        .unwrap_or_default()
        .iter()
        .map(|e| RawError {
            class: read_string(e, "name").unwrap_or_default(),
            message: read_string(e, "message").unwrap_or_default(),
            stack: read_string(e, "stack").unwrap_or_default(),
        })
        .collect()
}

/// The item for one captured error: `report` is `{kind, level, chain, custom, link,
/// pageUrl}` (`link`: what the engine's `errorCapture` returned, `[uuid, timeMs, traceId,
/// spanId, telemetry]`). Returns the item's JSON, or the `NotSent` number of why it is not sent.
pub fn encode(report: JsValue) -> JsValue {
    let link = get(&report, "link");
    let at = |i: u32| js::get_index(&link, i);
    let trace = at(2).as_string().zip(at(3).as_string());
    let report = ErrorReport {
        uuid: at(0).as_string().unwrap_or_default(),
        source: Source::from_code(get(&report, "kind").as_f64().unwrap_or(0.0) as u32),
        level: read_string(&report, "level").and_then(|l| Level::parse(&l)),
        chain: read_chain(&get(&report, "chain")),
        custom: to_json(&get(&report, "custom")),
        page_url: read_string(&report, "pageUrl"),
        now_ms: at(1).as_f64().unwrap_or(0.0) as u64,
        trace,
        telemetry: at(4).as_string(),
    };
    let Ok(mut guard) = REPORTER.try_borrow_mut() else {
        return JsValue::from(NotSent::Raised as u32);
    };
    let Some((reporter, ignored)) = guard.as_mut() else {
        return JsValue::from(NotSent::Lost as u32);
    };
    let ignored = &*ignored;
    match reporter.encode(
        report,
        &|m: &str| ignored.iter().any(|re| regex_matches(re, m)),
        js_f64,
    ) {
        Ok(body) => JsValue::from_str(&body),
        Err(why) => JsValue::from(NotSent::from(why) as u32),
    }
}

/// The item for a trap the panic hook did not see (stack overflow, out of memory): sent as
/// it is, without a timestamp (Rollbar then uses the time it arrives).
pub fn trap_item(uuid: String) -> Option<String> {
    let guard = REPORTER.try_borrow().ok()?;
    let (reporter, _) = guard.as_ref()?;
    Some(reporter.trap_item(uuid, js_f64))
}

exports! {
    "configure" => configure[options: JsValue];
    "encode" => encode[report: JsValue];
    "trapItem" => trap_item[uuid: String];
}
