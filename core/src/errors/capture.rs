//! Which errors become Rollbar items and what the item holds: the reporter's configuration
//! (item template, scrubbing, limits, `ignoredMessages`, the Honeycomb trace link), and the
//! decisions the engine takes for one error ([`Reporter::admit`], [`Reporter::item`]). The
//! engine ([`crate::sdk::Sdk::capture_error`]) links the item to its span.

use crate::config::RollbarConfig;
use crate::errors::item_limits::{
    ItemLimiter, Refusal, error_fingerprint, innermost_frame_key, is_ignored,
};
use crate::errors::rollbar::{
    Body, DEFAULT_SCRUB_FIELDS, Exception, Item, Json, Level, MAX_ITEM_BYTES, Scrubber,
    encode_item_with, merge_custom,
};
use crate::errors::stack::{StackFrame, parse_stack};
use crate::export::exporter::honeycomb_trace_url;
use crate::export::otlp::FormatF64;
use crate::prelude::*;
use crate::resource::SDK_VERSION;
use crate::web::url::scrub_urls_in_text;

/// The `localStorage` key of errors captured while the item encoder loaded and the page was
/// hidden before it arrived: the next page of the origin that loads the encoder sends them.
pub const ERRORS_STORAGE_KEY: &str = "edge-telemetry.errors";

/// Errors the page keeps while the item encoder loads, at most; more are counted as dropped
/// (the items queue holds as many; the engine keeps a mark for each, see
/// [`crate::sdk::MAX_PENDING_MARKS`]).
pub const MAX_WAITING_ERRORS: usize = 100;
/// The item encoder loads when the page is first idle after the engine is ready, at the
/// latest this long after (or at once on the first error).
pub const ENCODER_LOAD_WITHIN_MILLIS: u32 = 2_000;
/// `flush()` and `ready()` wait this long for the item encoder at most.
pub const ENCODER_LOAD_TIMEOUT_MILLIS: u32 = 10_000;

/// `framework` when the app names none (rollbar.js's default).
pub const DEFAULT_FRAMEWORK: &str = "browser-js";
/// `environment` when neither `rollbar.environment` nor `environment` is set (rollbar.js's).
pub const DEFAULT_ENVIRONMENT: &str = "production";
/// `framework` of items from a React render error.
pub const REACT_FRAMEWORK: &str = "react";

/// Where an error came from. The page passes it as a number (`Source.Manual`, …, from the
/// generated `options-schema.js`: [`Source::ALL`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Source {
    /// `captureException`.
    Manual = 0,
    /// `captureMessage`.
    Message = 1,
    /// A window `error` event.
    Uncaught = 2,
    /// An `unhandledrejection` event.
    Rejection = 3,
    /// A render error caught by the React `ErrorBoundary`.
    React = 4,
    /// A Rust panic (the SDK's own, or an app's through `reportPanic`).
    Panic = 5,
}

impl Source {
    /// Every source with its JS name.
    pub const ALL: [(&'static str, Self); 6] = [
        ("Manual", Self::Manual),
        ("Message", Self::Message),
        ("Uncaught", Self::Uncaught),
        ("Rejection", Self::Rejection),
        ("React", Self::React),
        ("Panic", Self::Panic),
    ];

    /// The source numbered `n`; `Manual` for a number that names none.
    pub fn from_code(n: u32) -> Self {
        Self::ALL
            .iter()
            .find(|(_, s)| *s as u32 == n)
            .map_or(Self::Manual, |(_, s)| *s)
    }

    /// The level of an item from this source when the call names none.
    pub fn default_level(self) -> Level {
        match self {
            Self::Message => Level::Info,
            Self::Panic => Level::Critical,
            _ => Level::Error,
        }
    }
}

/// One error of a cause chain, as the page read it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RawError {
    /// The error's class (`name`).
    pub class: String,
    /// Its message.
    pub message: String,
    /// Its stack, as the engine printed it.
    pub stack: String,
}

/// Why an error was not admitted (the engine counts each).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotAdmitted {
    /// `ignoredMessages` matched.
    Ignored,
    /// The same error within the de-duplication window.
    Duplicate,
    /// `maxItems` reached.
    MaxItems,
    /// `itemsPerMinute` reached.
    PerMinute,
}

/// Why a captured error's item was not queued: what the item encoder refused
/// ([`NotAdmitted`]), what the page's hooks did, or what happened to the error on its way.
/// The engine counts each; the page passes them between the two wasm modules as numbers
/// (`NotSent.Dropped`, …, from the generated `options-schema.js`: [`NotSent::ALL`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum NotSent {
    /// `beforeSend` dropped the item.
    Dropped = 0,
    /// An error was raised while reporting (a throwing hook or getter).
    Raised = 1,
    /// `ignoredMessages` matched.
    Ignored = 2,
    /// The same error within the de-duplication window.
    Duplicate = 3,
    /// `maxItems` reached.
    MaxItems = 4,
    /// `itemsPerMinute` reached.
    PerMinute = 5,
    /// The item encoder could not be loaded, or the page was hidden before it was.
    Lost = 6,
}

impl NotSent {
    /// Every reason with its JS name.
    pub const ALL: [(&'static str, Self); 7] = [
        ("Dropped", Self::Dropped),
        ("Raised", Self::Raised),
        ("Ignored", Self::Ignored),
        ("Duplicate", Self::Duplicate),
        ("MaxItems", Self::MaxItems),
        ("PerMinute", Self::PerMinute),
        ("Lost", Self::Lost),
    ];

    /// The reason numbered `n` (`Raised` for a number that names none).
    pub fn from_code(n: u32) -> Self {
        Self::ALL
            .iter()
            .find(|(_, s)| *s as u32 == n)
            .map_or(Self::Raised, |(_, s)| *s)
    }
}

impl From<NotAdmitted> for NotSent {
    fn from(n: NotAdmitted) -> Self {
        match n {
            NotAdmitted::Ignored => Self::Ignored,
            NotAdmitted::Duplicate => Self::Duplicate,
            NotAdmitted::MaxItems => Self::MaxItems,
            NotAdmitted::PerMinute => Self::PerMinute,
        }
    }
}

/// One captured error as the item encoder takes it: what the engine decided when it was
/// captured (its uuid, time and span) and what the page read from it.
#[derive(Clone, Debug, PartialEq)]
pub struct ErrorReport {
    /// The item's uuid, chosen at capture (the span's mark names it).
    pub uuid: String,
    /// Where it came from.
    pub source: Source,
    /// The level the call named.
    pub level: Option<Level>,
    /// The error and its causes, outermost first.
    pub chain: Vec<RawError>,
    /// The call's extra data.
    pub custom: Json,
    /// The page's URL when it was captured.
    pub page_url: Option<String>,
    /// When it was captured, in epoch milliseconds.
    pub now_ms: u64,
    /// The trace and span id (hex) of the span it is linked to.
    pub trace: Option<(String, String)>,
    /// Rollbar telemetry: the recent events before it (a JSON array), for `body.telemetry`.
    pub telemetry: Option<String>,
}

/// The page's error reporting: everything about items that does not change per error.
#[derive(Clone, Debug)]
pub struct Reporter {
    scrubber: Scrubber,
    limiter: ItemLimiter,
    ignored: Vec<String>,
    template: Item,
    /// Honeycomb team, environment and dataset (the service name) for trace links.
    trace_link: Option<(String, String, String)>,
}

/// What the page adds to every item besides the options' plain values.
#[derive(Clone, Debug, Default)]
pub struct ItemExtras {
    /// `rollbar.person`.
    pub person: Option<Json>,
    /// `rollbar.custom`.
    pub custom: Option<Json>,
}

impl Reporter {
    /// A reporter for `cfg`. `service_name`, `environment` and `service_version` are the
    /// SDK's (fallbacks for Rollbar's own), `user_agent` the browser's.
    pub fn new(
        cfg: &RollbarConfig,
        extras: ItemExtras,
        service_name: &str,
        environment: Option<&str>,
        service_version: Option<&str>,
        user_agent: Option<String>,
    ) -> Self {
        let mut scrub: Vec<&str> = DEFAULT_SCRUB_FIELDS.to_vec();
        scrub.extend(cfg.scrub_fields.iter().map(String::as_str));
        let mut template = Item::new(
            String::new(),
            Level::Error,
            0,
            cfg.environment
                .clone()
                .or_else(|| environment.map(str::to_owned))
                .unwrap_or_else(|| DEFAULT_ENVIRONMENT.to_owned()),
            Body::Message(String::new()),
            SDK_VERSION.to_owned(),
        );
        template.context = cfg.context.clone();
        template.capture_ip = cfg.capture_ip;
        template.person = extras.person;
        template.custom = extras.custom;
        template.framework = Some(
            cfg.framework
                .clone()
                .unwrap_or_else(|| DEFAULT_FRAMEWORK.to_owned()),
        );
        template.browser = user_agent;
        template.code_version = cfg
            .code_version
            .clone()
            .or_else(|| service_version.map(str::to_owned));
        template.source_map_enabled = cfg.source_map_enabled;
        template.guess_uncaught_frames = cfg.guess_uncaught_frames;
        let trace_link = match (&cfg.honeycomb_team, &cfg.honeycomb_environment) {
            (Some(team), Some(env)) => Some((team.clone(), env.clone(), service_name.to_owned())),
            _ => None,
        };
        Self {
            scrubber: Scrubber::new(&scrub),
            limiter: ItemLimiter::new(cfg.items_per_minute, cfg.max_items),
            ignored: cfg.ignored_messages.clone(),
            template,
            trace_link,
        }
    }

    /// The filters, in order: `ignoredMessages` (the string rules here, the page's RegExp
    /// rules through `regex_ignored`), de-duplication, `maxItems`, `itemsPerMinute`.
    pub fn admit(
        &mut self,
        first: &RawError,
        frames: &[StackFrame],
        now_ms: u64,
        regex_ignored: &dyn Fn(&str) -> bool,
    ) -> Result<(), NotAdmitted> {
        if is_ignored(&first.message, &self.ignored) || regex_ignored(&first.message) {
            return Err(NotAdmitted::Ignored);
        }
        let fp = error_fingerprint(&first.class, &first.message, &innermost_frame_key(frames));
        self.limiter.admit(fp, now_ms).map_err(|r| match r {
            Refusal::Duplicate => NotAdmitted::Duplicate,
            Refusal::MaxItems => NotAdmitted::MaxItems,
            _ => NotAdmitted::PerMinute,
        })
    }

    /// The item for `report`, or why it is not sent: the filters of [`Reporter::admit`],
    /// then the stacks parsed (their URLs' query values scrubbed) and the item encoded.
    pub fn encode(
        &mut self,
        report: ErrorReport,
        regex_ignored: &dyn Fn(&str) -> bool,
        f64_format: FormatF64,
    ) -> Result<String, NotAdmitted> {
        let ErrorReport {
            uuid,
            source,
            level,
            mut chain,
            custom,
            page_url,
            now_ms,
            trace,
            telemetry,
        } = report;
        // Script URLs in stacks may carry tokens in their query, as the page URL may.
        for e in &mut chain {
            if e.stack.contains('?') {
                e.stack = scrub_urls_in_text(&e.stack);
            }
        }
        let Some(first) = chain.first() else {
            return Err(NotAdmitted::Ignored);
        };
        let first_frames = parse_stack(&first.stack);
        self.admit(first, &first_frames, now_ms, regex_ignored)?;
        let mut frames: Vec<Vec<StackFrame>> = Vec::with_capacity(chain.len());
        frames.push(first_frames);
        frames.extend(chain[1..].iter().map(|e| parse_stack(&e.stack)));
        let body = item_body(source, &chain, frames);
        Ok(self.item(
            uuid, source, level, body, now_ms, page_url, custom, trace, telemetry, f64_format,
        ))
    }

    /// The encoded item: `body` from `source` at `now_ms`, linked to `trace` (trace and span
    /// id, hex) when there is one, with the page URL, the call's `custom` data and the
    /// page's recent `telemetry`.
    #[allow(clippy::too_many_arguments)]
    pub fn item(
        &self,
        uuid: String,
        source: Source,
        level: Option<Level>,
        body: Body,
        now_ms: u64,
        page_url: Option<String>,
        custom: Json,
        trace: Option<(String, String)>,
        telemetry: Option<String>,
        f64_format: FormatF64,
    ) -> String {
        let mut item = self.template.clone();
        item.telemetry = telemetry;
        item.uuid = uuid;
        item.level = level.unwrap_or(source.default_level());
        item.timestamp_secs = now_ms / 1000;
        item.body = body;
        item.request_url = page_url;
        item.custom = merge_custom(self.template.custom.as_ref(), custom);
        if let Some((trace_id, span_id)) = trace {
            item.trace_url = self.trace_link.as_ref().map(|(team, env, dataset)| {
                honeycomb_trace_url(team, env, dataset, &trace_id, &span_id, now_ms / 1000)
            });
            item.trace_id = Some(trace_id);
            item.span_id = Some(span_id);
        }
        if source == Source::React {
            item.framework = Some(REACT_FRAMEWORK.to_owned());
        }
        encode_item_with(&item, &self.scrubber, MAX_ITEM_BYTES, f64_format)
    }

    /// The item of a panic met while the engine could not be reached (its state was in use):
    /// built from this copy of the reporter, without trace ids.
    pub fn panic_item(
        &self,
        uuid: String,
        message: &str,
        stack: &str,
        now_ms: u64,
        page_url: Option<String>,
        f64_format: FormatF64,
    ) -> String {
        let body = Body::Trace(Exception {
            class: "panic".to_owned(),
            message: message.to_owned(),
            frames: parse_stack(stack),
        });
        self.item(
            uuid,
            Source::Panic,
            None,
            body,
            now_ms,
            page_url,
            Json::Null,
            None,
            None,
            f64_format,
        )
    }

    /// An item for a trap the panic hook did not see (stack overflow, out of memory), built
    /// at start, because the SDK cannot run once the module trapped: the page sends it as it
    /// is, at once. Without a timestamp: Rollbar then uses the time it arrives.
    pub fn trap_item(&self, uuid: String, f64_format: FormatF64) -> String {
        let mut item = self.template.clone();
        item.uuid = uuid;
        item.timestamp_secs = 0;
        item.level = Level::Critical;
        item.body = Body::Trace(Exception {
            class: "RuntimeError".to_owned(),
            message: "unreachable (a WebAssembly trap; edge-telemetry turned itself off)"
                .to_owned(),
            frames: Vec::new(),
        });
        encode_item_with(&item, &self.scrubber, MAX_ITEM_BYTES, f64_format)
    }
}

/// The body of an item for `chain` (outermost first) with its parsed `frames`: a message,
/// one trace, or a trace chain.
pub fn item_body(source: Source, chain: &[RawError], frames: Vec<Vec<StackFrame>>) -> Body {
    if source == Source::Message {
        return Body::Message(chain.first().map(|e| e.message.clone()).unwrap_or_default());
    }
    let mut exceptions: Vec<Exception> = chain
        .iter()
        .zip(frames)
        .map(|(e, frames)| Exception {
            class: e.class.clone(),
            message: e.message.clone(),
            frames,
        })
        .collect();
    if exceptions.len() == 1 {
        Body::Trace(exceptions.remove(0))
    } else {
        Body::TraceChain(exceptions)
    }
}

/// A Rust panic's report as the standard library's hook writes it: `panicked at
/// src/x.rs:3:5:` and the message on the next line. Written without `core::fmt` (the engine's
/// `no_std` panic handler, issue 14): `message` is the panic's text when it has no formatted
/// values (`PanicMessage::as_str`); without it the report names the location only.
pub fn panic_report(location: Option<(&str, u32, u32)>, message: Option<&str>) -> String {
    let mut out = String::from("panicked");
    if let Some((file, line, column)) = location {
        out = crate::cat!(out, " at ", file, ":", line, ":", column);
    }
    let message = message.unwrap_or("(a message formatted with values: not kept in this build)");
    crate::cat!(out, ":\n", message)
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    #[test]
    fn a_panic_report_reads_as_the_standard_library_writes_it() {
        assert_eq!(
            panic_report(Some(("src/errors.rs", 336, 9)), Some("boom")),
            format!("panicked at {}:{}:{}:\n{}", "src/errors.rs", 336, 9, "boom")
        );
        assert_eq!(
            panic_report(Some(("src/lib.rs", 3, 5)), None),
            "panicked at src/lib.rs:3:5:\n(a message formatted with values: not kept in this build)"
        );
        assert_eq!(panic_report(None, Some("x")), "panicked:\nx");
    }
}
