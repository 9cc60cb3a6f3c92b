//! Browser capabilities: clock, CSPRNG seed, console, sessionStorage, navigator.

use core::cell::Cell;
use edge_telemetry_core::prelude::*;

use edge_telemetry_core::resource::BrowserInfo;
use edge_telemetry_core::time::{Clock, millis_to_unix_nanos};

use crate::local::Local;
use edge_telemetry_bindings::js::{self, JsValue, get as prop};

/// While calls recorded before the module was ready are replayed: the `performance.now()`
/// value each was made at (NaN otherwise).
static REPLAY_AT: Local<Cell<f64>> = Local::new(Cell::new(f64::NAN));

/// `performance.timeOrigin`, read once (NaN until then).
static TIME_ORIGIN: Local<Cell<f64>> = Local::new(Cell::new(f64::NAN));

/// The time origin in epoch nanoseconds, converted once (`u64::MAX` until then).
static ORIGIN_NANOS: Local<Cell<u64>> = Local::new(Cell::new(u64::MAX));

/// Makes the clock read `ms` (a `performance.now()` value) until called with NaN.
pub fn set_replay_time(ms: f64) {
    REPLAY_AT.set(ms);
}

/// The time the clock reads while replaying (NaN: none).
pub fn replay_time() -> f64 {
    REPLAY_AT.get()
}

/// `performance.timeOrigin + performance.now()`, or the time of the call being replayed.
#[derive(Clone, Copy, Debug, Default)]
pub struct BrowserClock;

impl BrowserClock {
    /// The page's time origin in epoch milliseconds.
    pub fn time_origin_ms() -> f64 {
        let origin = TIME_ORIGIN.get();
        if !origin.is_nan() {
            return origin;
        }
        let origin = js::time_origin();
        TIME_ORIGIN.set(origin);
        origin
    }
}

impl Clock for BrowserClock {
    fn now_unix_nanos(&self) -> u64 {
        let mut origin = ORIGIN_NANOS.get();
        if origin == u64::MAX {
            origin = millis_to_unix_nanos(Self::time_origin_ms()).unwrap_or(0);
            ORIGIN_NANOS.set(origin);
        }
        let replayed = REPLAY_AT.get();
        let now = if replayed.is_nan() {
            js::now()
        } else {
            replayed
        };
        origin.saturating_add(millis_to_unix_nanos(now).unwrap_or(0))
    }
}

/// Now in epoch milliseconds (the export schedule's clock).
pub fn now_millis() -> u64 {
    BrowserClock.now_unix_nanos() / 1_000_000
}

/// A number in `[0, 1)` for retry jitter.
pub fn unit_random() -> f64 {
    js::math_random()
}

/// Writes a sessionStorage item; failures (quota, unavailable storage) are ignored.
pub fn storage_set(key: &str, value: &str) {
    js::session_set(key, value);
}

/// What `navigator` (and `navigator.userAgentData`, where the browser has it) says, read
/// from the page's global object (the facade passes `globalThis`).
pub fn browser_info(global: &JsValue) -> BrowserInfo {
    let nav = prop(global, "navigator");
    let ua_data = prop(&nav, "userAgentData");
    let brands = crate::convert::array_items(&prop(&ua_data, "brands"))
        .unwrap_or_default()
        .iter()
        .filter_map(|b| {
            let brand = prop(b, "brand").as_string()?;
            let version = prop(b, "version").as_string().unwrap_or_default();
            Some(
                edge_telemetry_core::cat!(brand, " ", version)
                    .trim_end()
                    .to_owned(),
            )
        })
        .collect();
    BrowserInfo {
        user_agent: prop(&nav, "userAgent").as_string(),
        brands,
        platform: prop(&ua_data, "platform").as_string(),
        mobile: prop(&ua_data, "mobile").as_bool(),
        language: prop(&nav, "language").as_string(),
    }
}

/// 32 bytes from `crypto.getRandomValues`, or from `Math.random` where there is no
/// Web Crypto (ids then are still unique, just not unpredictable).
pub fn random_seed() -> [u8; 32] {
    let mut seed = [0u8; 32];
    if !js::random_fill(&mut seed) {
        for b in seed.iter_mut() {
            *b = (js::math_random() * 256.0) as u8;
        }
    }
    seed
}

/// Writes a debug line to the console (only called in debug mode; never with a key).
pub fn debug_log(msg: &str) {
    js::debug(msg);
}

/// `location.href` now, from the page's global object.
pub fn current_page_url(global: &JsValue) -> Option<String> {
    prop(&prop(global, "location"), "href").as_string()
}
