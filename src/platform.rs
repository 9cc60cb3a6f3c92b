//! Browser capabilities: clock, CSPRNG seed, console.

use edge_telemetry_core::time::{Clock, millis_to_unix_nanos};
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = performance, js_name = now)]
    fn performance_now() -> f64;
    #[wasm_bindgen(thread_local_v2, js_namespace = performance, js_name = timeOrigin)]
    static TIME_ORIGIN: f64;
    #[wasm_bindgen(catch, js_namespace = crypto, js_name = getRandomValues)]
    fn get_random_values(buf: &mut [u8]) -> Result<(), JsValue>;
    #[wasm_bindgen(js_namespace = Math, js_name = random)]
    fn math_random() -> f64;
    #[wasm_bindgen(js_namespace = console, js_name = debug)]
    fn console_debug(msg: &str);
}

/// `performance.timeOrigin + performance.now()`.
#[derive(Clone, Copy, Debug, Default)]
pub struct BrowserClock;

impl BrowserClock {
    /// The page's time origin in epoch milliseconds.
    pub fn time_origin_ms() -> f64 {
        TIME_ORIGIN.with(|t| *t)
    }
}

impl Clock for BrowserClock {
    fn now_unix_nanos(&self) -> u64 {
        let origin = millis_to_unix_nanos(Self::time_origin_ms()).unwrap_or(0);
        origin.saturating_add(millis_to_unix_nanos(performance_now()).unwrap_or(0))
    }
}

/// 32 bytes from `crypto.getRandomValues`, or from `Math.random` where there is no
/// Web Crypto (ids then are still unique, just not unpredictable).
pub fn random_seed() -> [u8; 32] {
    let mut seed = [0u8; 32];
    if get_random_values(&mut seed).is_err() {
        for b in seed.iter_mut() {
            *b = (math_random() * 256.0) as u8;
        }
    }
    seed
}

/// Writes a debug line to the console (only called in debug mode; never with a key).
pub fn debug_log(msg: &str) {
    console_debug(msg);
}
