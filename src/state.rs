//! The page's SDK state. wasm32 is single-threaded, so it lives in thread-locals; every
//! access uses `try_borrow_mut` so a re-entrant call (user code run from inside the SDK)
//! degrades to a counted no-op instead of a panic.

use std::cell::RefCell;

use edge_telemetry_core::config::SdkConfig;
use edge_telemetry_core::stats::Stats;
use edge_telemetry_core::trace::context::{ContextStack, ScopeId};
use edge_telemetry_core::trace::ids::AnyIdGenerator;
use edge_telemetry_core::trace::table::{SpanHandle, SpanTable};
use edge_telemetry_core::trace::tracer::Tracer;
use edge_telemetry_core::web::session::SessionTracker;
use js_sys::{Function, RegExp};
use opentelemetry::KeyValue;

use crate::errors::Reporter;
use crate::export::Exporter;

/// Everything `init` sets up.
#[derive(Debug)]
pub struct Sdk {
    /// Validated configuration.
    pub config: SdkConfig,
    /// Starts spans.
    pub tracer: Tracer<AnyIdGenerator>,
    /// Open spans.
    pub table: SpanTable,
    /// Active span state; handles are span table handles.
    pub stack: ContextStack<SpanHandle>,
    /// The page URL at init (for same-origin checks).
    pub page_url: Option<String>,
    /// RegExp rules of `propagateTraceHeaderCorsUrls`.
    pub regex_rules: Vec<RegExp>,
    /// `onSpanEnd` callback.
    pub on_span_end: Option<Function>,
    /// Page-level baggage, already formatted (`setBaggage`).
    pub baggage: String,
    /// The span exporter, when export is configured.
    pub exporter: Option<Exporter>,
    /// The Rollbar reporter, when error reporting is configured.
    pub reporter: Option<Reporter>,
    /// `export.js`'s timer: called with the milliseconds until the next export is due.
    pub schedule: Option<Function>,
    /// The browser session (`session.id`).
    pub session: SessionTracker,
    /// `session.id = <id>`, shared by every span of the session.
    pub session_attribute: KeyValue,
    /// Async scopes held by automatic spans (page load, interactions) until they end.
    pub auto_scopes: Vec<(SpanHandle, ScopeId)>,
}

thread_local! {
    static SDK: RefCell<Option<Sdk>> = const { RefCell::new(None) };
    static STATS: RefCell<Stats> = RefCell::new(Stats::default());
}

/// Runs `f` with the SDK if it is initialised and not already in use.
pub fn with_sdk<R>(f: impl FnOnce(&mut Sdk) -> R) -> Option<R> {
    SDK.with(|cell| match cell.try_borrow_mut() {
        Ok(mut guard) => guard.as_mut().map(f),
        Err(_) => {
            count(|s| s.internal_errors += 1);
            None
        }
    })
}

/// Installs the SDK; false if one is already installed.
pub fn install(sdk: Sdk) -> bool {
    SDK.with(|cell| match cell.try_borrow_mut() {
        Ok(mut guard) if guard.is_none() => {
            *guard = Some(sdk);
            true
        }
        _ => false,
    })
}

/// Whether `init` has run.
pub fn is_initialized() -> bool {
    SDK.with(|cell| cell.try_borrow().map(|g| g.is_some()).unwrap_or(true))
}

/// Whether debug logging is on.
pub fn debug_enabled() -> bool {
    SDK.with(|cell| {
        cell.try_borrow()
            .ok()
            .and_then(|g| g.as_ref().map(|s| s.config.debug))
            .unwrap_or(false)
    })
}

/// Updates the counters.
pub fn count(f: impl FnOnce(&mut Stats)) {
    STATS.with(|s| {
        if let Ok(mut s) = s.try_borrow_mut() {
            f(&mut s)
        }
    });
}

/// A copy of the counters.
pub fn stats() -> Stats {
    STATS.with(|s| s.try_borrow().map(|s| s.clone()).unwrap_or_default())
}
