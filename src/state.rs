//! The page's SDK state: the engine (`edge_telemetry_core::sdk::Sdk`) and the JS objects
//! beside it. wasm32 is single-threaded, so it lives in statics (`crate::local`); every
//! access uses `try_borrow_mut` so a re-entrant call (user code run from inside the SDK)
//! degrades to a counted no-op instead of a panic.

use core::cell::RefCell;
use edge_telemetry_core::prelude::*;

use edge_telemetry_bindings::read::{Callback, RegExp};
use edge_telemetry_core::stats::Stats;
use edge_telemetry_core::trace::ids::AnyIdGenerator;

use crate::local::Local;
use crate::platform::{BrowserClock, storage_set};
use edge_telemetry_core::web::session::SESSION_STORAGE_KEY;

/// The engine, with the browser's ids and clock.
pub type Engine = edge_telemetry_core::sdk::Sdk<AnyIdGenerator, BrowserClock>;

/// Everything `init` sets up: the engine, and what only exists in JS.
#[derive(Debug)]
pub struct Sdk {
    /// Spans, context, session, counters: every decision.
    pub engine: Engine,
    /// RegExp rules of `propagateTraceHeaderCorsUrls`.
    pub regex_rules: Vec<RegExp>,
    /// `onSpanEnd` callback.
    pub on_span_end: Option<Callback>,
    /// `export.js`'s timers: `schedule(channel, ms)` arms a channel's.
    pub schedule: Option<Callback>,
    /// `epoch()`: the page's task number (index.js advances it in the task after requests
    /// ended), for [`Engine::release_requests`].
    pub epoch: Option<Callback>,
}

impl Sdk {
    /// The page's task number now (0 without the callback).
    pub fn epoch(&self) -> u32 {
        self.epoch
            .as_ref()
            .and_then(|f| f.call(&[]).ok())
            .and_then(|v| v.as_f64())
            .map_or(0, |e| e as u32)
    }
}

static SDK: Local<RefCell<Option<Sdk>>> = Local::new(RefCell::new(None));
static STATS: Local<RefCell<Option<Stats>>> = Local::new(RefCell::new(None));

/// Requests that ended in an earlier task give their scope back: called first by every
/// export that reads the context. Not inlined (one copy for all of them).
#[inline(never)]
pub fn release_requests() {
    if let Ok(mut guard) = SDK.try_borrow_mut()
        && let Some(s) = guard.as_mut()
        && s.engine.requests_to_release()
    {
        let epoch = s.epoch();
        s.engine.release_requests(epoch);
    }
}

/// Runs `f` with the SDK if it is initialised and not already in use.
pub fn with_sdk<R>(f: impl FnOnce(&mut Sdk) -> R) -> Option<R> {
    match SDK.try_borrow_mut() {
        Ok(mut guard) => guard.as_mut().map(f),
        Err(_) => {
            count(|s| s.internal_errors += 1);
            None
        }
    }
}

/// Installs the SDK; false if one is already installed.
pub fn install(sdk: Sdk) -> bool {
    match SDK.try_borrow_mut() {
        Ok(mut guard) if guard.is_none() => {
            *guard = Some(sdk);
            true
        }
        _ => false,
    }
}

/// Whether `init` has run.
pub fn is_initialized() -> bool {
    SDK.try_borrow().map(|g| g.is_some()).unwrap_or(true)
}

/// Whether debug logging is on.
pub fn debug_enabled() -> bool {
    SDK.try_borrow()
        .ok()
        .and_then(|g| g.as_ref().map(|s| s.engine.config().debug))
        .unwrap_or(false)
}

/// Updates the counters.
pub fn count(f: impl FnOnce(&mut Stats)) {
    if let Ok(mut s) = STATS.try_borrow_mut() {
        f(s.get_or_insert_with(Stats::default))
    }
}

/// The counters: the glue's (what it found converting arguments, faults) and the engine's.
pub fn stats() -> Stats {
    let mut stats = STATS
        .try_borrow()
        .ok()
        .and_then(|s| s.clone())
        .unwrap_or_default();
    with_sdk(|sdk| {
        stats.merge(&sdk.engine.stats);
        stats.open_spans = sdk.engine.open_spans() as u64;
    });
    stats
}

/// Writes the session to sessionStorage when the engine renewed it.
pub fn store_session(engine: &mut Engine) {
    if let Some(value) = engine.take_session_update() {
        storage_set(SESSION_STORAGE_KEY, &value);
    }
}

/// Runs `f` on the engine (when the SDK is up and not in use), then stores a renewed session.
pub fn with_engine<R>(f: impl FnOnce(&mut Engine) -> R) -> Option<R> {
    with_sdk(|sdk| {
        let r = f(&mut sdk.engine);
        store_session(&mut sdk.engine);
        r
    })
}
