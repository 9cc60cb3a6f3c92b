//! The `init` options as data: every option's name, type and value rules, written once.
//!
//! The package's facade (`options.js`) checks `init`'s options against this table before the
//! wasm module has arrived: `scripts/build-pkg` writes it into the package as
//! `options-schema.js` ([`to_js_module`]), so the rules exist in one place and `init` still
//! throws at once, naming the field. The glue then reads the validated copy without checks.

use crate::errors::item_limits::DEFAULT_ITEMS_PER_MINUTE;
use crate::export::batch::{
    DEFAULT_EXPORT_TIMEOUT_MILLIS, DEFAULT_MAX_CONCURRENT_EXPORTS, DEFAULT_MAX_EXPORT_BATCH_SIZE,
    DEFAULT_MAX_QUEUE_SIZE, DEFAULT_SCHEDULED_DELAY_MILLIS,
};
use crate::export::retry::{
    DEFAULT_INITIAL_BACKOFF_MILLIS, DEFAULT_MAX_ATTEMPTS, DEFAULT_MAX_BACKOFF_MILLIS,
};
use crate::prelude::*;
use crate::trace::span::{
    DEFAULT_ATTRIBUTE_COUNT_LIMIT, DEFAULT_ATTRIBUTE_PER_EVENT_COUNT_LIMIT,
    DEFAULT_ATTRIBUTE_PER_LINK_COUNT_LIMIT, DEFAULT_EVENT_COUNT_LIMIT, DEFAULT_LINK_COUNT_LIMIT,
};
use crate::web::session::DEFAULT_SESSION_INACTIVITY_MILLIS;

use super::{CONSOLE_METHODS, MAX_ROLLBAR_ENVIRONMENT_LEN, MAX_SERVICE_NAME_LEN};

/// What an option accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `true` or `false`.
    Bool,
    /// A string; `non_empty`: not only white space; `max_chars`: at most this many characters.
    Text {
        /// Must contain more than white space.
        non_empty: bool,
        /// Longest accepted value in characters (code points).
        max_chars: Option<u32>,
    },
    /// A non-empty `http:` or `https:` URL, absolute or relative to the page.
    Url,
    /// One of these strings.
    OneOf(&'static [&'static str]),
    /// A whole number from `min` to 2^32-1; not above the sibling `not_above`, not below the
    /// sibling `not_below` (their values, else their defaults).
    Count {
        /// Smallest accepted value.
        min: u32,
        /// The value when the option is left out (`None`: no limit).
        default: Option<u64>,
        /// A sibling option this one may not exceed.
        not_above: Option<&'static str>,
        /// A sibling option this one may not be less than.
        not_below: Option<&'static str>,
    },
    /// A non-empty string or a RegExp, or an array of them.
    Rules,
    /// An array of strings; `non_empty`: none of them empty.
    Strings {
        /// No item may be the empty string.
        non_empty: bool,
    },
    /// An array of these strings (each at most once).
    Subset(&'static [&'static str]),
    /// Attribute values by key (strings, numbers, booleans, or arrays of one of those).
    Attributes,
    /// Header values (strings) by name.
    Headers,
    /// Any plain object (sent as JSON).
    Object,
    /// A function.
    Function,
    /// An object with these options.
    Group(&'static [Opt]),
}

/// One option.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Opt {
    /// Its name in the options object.
    pub name: &'static str,
    /// What it accepts.
    pub kind: Kind,
    /// `(sibling, value)`: when the sibling option is `true`, this one, if given, must be
    /// `value` (`idGenerator` must be `"xray"` with `addXRayTraceIdHeader`).
    pub if_true: Option<(&'static str, &'static str)>,
}

const fn opt(name: &'static str, kind: Kind) -> Opt {
    Opt {
        name,
        kind,
        if_true: None,
    }
}

impl Opt {
    /// This option must be `value` when boolean option `sibling` is `true`.
    const fn if_true(self, sibling: &'static str, value: &'static str) -> Opt {
        Opt {
            if_true: Some((sibling, value)),
            ..self
        }
    }
}

const ANY_TEXT: Kind = Kind::Text {
    non_empty: false,
    max_chars: None,
};
const NON_EMPTY_TEXT: Kind = Kind::Text {
    non_empty: true,
    max_chars: None,
};

const fn count(min: u32, default: Option<u64>) -> Kind {
    Kind::Count {
        min,
        default,
        not_above: None,
        not_below: None,
    }
}

const fn limit(default: u32) -> Kind {
    count(0, Some(default as u64))
}

const fn at_least_one(default: u32) -> Kind {
    count(1, Some(default as u64))
}

/// `spanLimits`.
pub const SPAN_LIMITS: &[Opt] = &[
    opt("attributeCountLimit", limit(DEFAULT_ATTRIBUTE_COUNT_LIMIT)),
    opt("attributeValueLengthLimit", count(1, None)),
    opt("eventCountLimit", limit(DEFAULT_EVENT_COUNT_LIMIT)),
    opt("linkCountLimit", limit(DEFAULT_LINK_COUNT_LIMIT)),
    opt(
        "attributePerEventCountLimit",
        limit(DEFAULT_ATTRIBUTE_PER_EVENT_COUNT_LIMIT),
    ),
    opt(
        "attributePerLinkCountLimit",
        limit(DEFAULT_ATTRIBUTE_PER_LINK_COUNT_LIMIT),
    ),
];

/// `batch`.
pub const BATCH: &[Opt] = &[
    opt(
        "scheduledDelayMillis",
        limit(DEFAULT_SCHEDULED_DELAY_MILLIS),
    ),
    opt("maxQueueSize", at_least_one(DEFAULT_MAX_QUEUE_SIZE)),
    opt(
        "maxExportBatchSize",
        Kind::Count {
            min: 1,
            default: Some(DEFAULT_MAX_EXPORT_BATCH_SIZE as u64),
            not_above: Some("maxQueueSize"),
            not_below: None,
        },
    ),
    opt(
        "exportTimeoutMillis",
        at_least_one(DEFAULT_EXPORT_TIMEOUT_MILLIS),
    ),
    opt(
        "maxConcurrentExports",
        at_least_one(DEFAULT_MAX_CONCURRENT_EXPORTS),
    ),
];

/// `retry`.
pub const RETRY: &[Opt] = &[
    opt("maxAttempts", at_least_one(DEFAULT_MAX_ATTEMPTS)),
    opt(
        "initialBackoffMillis",
        limit(DEFAULT_INITIAL_BACKOFF_MILLIS),
    ),
    opt(
        "maxBackoffMillis",
        Kind::Count {
            min: 0,
            default: Some(DEFAULT_MAX_BACKOFF_MILLIS as u64),
            not_above: None,
            not_below: Some("initialBackoffMillis"),
        },
    ),
];

/// `rollbar` (rollbar.js names where the concept is the same).
pub const ROLLBAR: &[Opt] = &[
    opt("accessToken", NON_EMPTY_TEXT),
    opt("endpoint", Kind::Url),
    opt("enabled", Kind::Bool),
    opt(
        "environment",
        Kind::Text {
            non_empty: true,
            max_chars: Some(MAX_ROLLBAR_ENVIRONMENT_LEN as u32),
        },
    ),
    opt("codeVersion", ANY_TEXT),
    opt("captureUncaught", Kind::Bool),
    opt("captureUnhandledRejections", Kind::Bool),
    opt("scrubFields", Kind::Strings { non_empty: true }),
    opt("ignoredMessages", Kind::Rules),
    opt("itemsPerMinute", limit(DEFAULT_ITEMS_PER_MINUTE)),
    opt("maxItems", limit(0)),
    opt("captureIp", Kind::Bool),
    opt("framework", ANY_TEXT),
    opt("context", ANY_TEXT),
    opt("sourceMapEnabled", Kind::Bool),
    opt("guessUncaughtFrames", Kind::Bool),
    opt("honeycombTeam", NON_EMPTY_TEXT),
    opt("honeycombEnvironment", NON_EMPTY_TEXT),
    opt("person", Kind::Object),
    opt("custom", Kind::Object),
    opt("beforeSend", Kind::Function),
    opt("transform", Kind::Function),
];

/// Every `init` option.
pub const OPTIONS: &[Opt] = &[
    opt(
        "serviceName",
        Kind::Text {
            non_empty: true,
            max_chars: Some(MAX_SERVICE_NAME_LEN as u32),
        },
    ),
    opt("serviceVersion", ANY_TEXT),
    opt("environment", ANY_TEXT),
    opt("resourceAttributes", Kind::Attributes),
    opt("instrumentFetch", Kind::Bool),
    opt("instrumentXhr", Kind::Bool),
    opt("instrumentDocumentLoad", Kind::Bool),
    opt("userInteractionEvents", Kind::Strings { non_empty: true }),
    opt("propagateTraceHeaderCorsUrls", Kind::Rules),
    opt("spanLimits", Kind::Group(SPAN_LIMITS)),
    opt("addXRayTraceIdHeader", Kind::Bool),
    opt("idGenerator", Kind::OneOf(&["w3c", "xray"])).if_true("addXRayTraceIdHeader", "xray"),
    opt("debug", Kind::Bool),
    opt("onSpanEnd", Kind::Function),
    opt("apiKey", NON_EMPTY_TEXT),
    opt("endpoint", Kind::Url),
    opt("tracesEndpoint", Kind::Url),
    opt("logsEndpoint", Kind::Url),
    opt("dataset", NON_EMPTY_TEXT),
    opt("headers", Kind::Headers),
    opt("compression", Kind::OneOf(&["gzip", "none"])),
    opt("batch", Kind::Group(BATCH)),
    opt("retry", Kind::Group(RETRY)),
    opt("sampleRate", at_least_one(1)),
    opt(
        "sessionInactivityTimeoutMillis",
        count(1, Some(DEFAULT_SESSION_INACTIVITY_MILLIS)),
    ),
    opt("rollbar", Kind::Group(ROLLBAR)),
    opt("captureConsole", Kind::Subset(&CONSOLE_METHOD_NAMES)),
];

/// The names of [`CONSOLE_METHODS`], for `captureConsole`.
const CONSOLE_METHOD_NAMES: [&str; CONSOLE_METHODS.len()] = {
    let mut names = [""; CONSOLE_METHODS.len()];
    let mut i = 0;
    while i < names.len() {
        names[i] = CONSOLE_METHODS[i].0;
        i += 1;
    }
    names
};

fn push_str(out: &mut String, s: &str) {
    // Names and values here are plain ASCII without quotes or backslashes (checked by a test).
    out.push('"');
    out.push_str(s);
    out.push('"');
}

fn push_group(out: &mut String, opts: &[Opt]) {
    out.push('[');
    for (i, o) in opts.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_opt(out, o);
    }
    out.push(']');
}

fn push_opt(out: &mut String, o: &Opt) {
    out.push_str("{\"name\":");
    push_str(out, o.name);
    out.push_str(",\"kind\":");
    let field = |out: &mut String, k: &str| {
        out.push_str(",\"");
        out.push_str(k);
        out.push_str("\":");
    };
    match o.kind {
        Kind::Bool => push_str(out, "bool"),
        Kind::Text {
            non_empty,
            max_chars,
        } => {
            push_str(out, "text");
            if non_empty {
                field(out, "nonEmpty");
                out.push_str("true");
            }
            if let Some(m) = max_chars {
                field(out, "maxChars");
                out.push_str(&m.to_string());
            }
        }
        Kind::Url => push_str(out, "url"),
        Kind::OneOf(values) | Kind::Subset(values) => {
            push_str(
                out,
                if matches!(o.kind, Kind::Subset(_)) {
                    "subset"
                } else {
                    "oneOf"
                },
            );
            field(out, "values");
            out.push('[');
            for (i, v) in values.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                push_str(out, v);
            }
            out.push(']');
        }
        Kind::Count {
            min,
            default,
            not_above,
            not_below,
        } => {
            push_str(out, "count");
            field(out, "min");
            out.push_str(&min.to_string());
            if let Some(d) = default {
                field(out, "default");
                out.push_str(&d.to_string());
            }
            if let Some(s) = not_above {
                field(out, "notAbove");
                push_str(out, s);
            }
            if let Some(s) = not_below {
                field(out, "notBelow");
                push_str(out, s);
            }
        }
        Kind::Rules => push_str(out, "rules"),
        Kind::Strings { non_empty } => {
            push_str(out, "strings");
            if non_empty {
                field(out, "nonEmpty");
                out.push_str("true");
            }
        }
        Kind::Attributes => push_str(out, "attributes"),
        Kind::Headers => push_str(out, "headers"),
        Kind::Object => push_str(out, "object"),
        Kind::Function => push_str(out, "function"),
        Kind::Group(opts) => {
            push_str(out, "group");
            field(out, "options");
            push_group(out, opts);
        }
    }
    if let Some((sibling, value)) = o.if_true {
        field(out, "ifTrue");
        out.push('[');
        push_str(out, sibling);
        out.push(',');
        push_str(out, value);
        out.push(']');
    }
    out.push('}');
}

/// The table as the JSON array [`to_js_module`] exports.
pub fn to_json() -> String {
    let mut out = String::new();
    push_group(&mut out, OPTIONS);
    out
}

/// The ES module the package's facade imports: `export default [...]` (see [`to_json`]), the
/// session's storage key (the facade reads it while the wasm module loads) and the key under
/// which errors that waited for the item encoder are kept when the page is hidden first.
pub fn to_js_module() -> String {
    use crate::errors::capture::{NotSent, Source};
    let names = |all: &mut dyn Iterator<Item = (&str, u32)>| {
        let fields: Vec<String> = all.map(|(n, v)| format!("{n}: {v}")).collect();
        format!("Object.freeze({{ {} }})", fields.join(", "))
    };
    let mut out = format!(
        "// Generated by scripts/build-pkg from edge-telemetry-core's config::schema. Do not edit.\nexport default {};\n// The sessionStorage key of the session (web::session), read while the module loads.\nexport const SESSION_STORAGE_KEY = \"{}\";\n// The localStorage key of errors kept for the next page (errors::capture).\nexport const ERRORS_STORAGE_KEY = \"{}\";\n// Where an error came from, and why an item was not sent (errors::capture): the numbers\n// both wasm modules read.\nexport const Source = {};\nexport const NotSent = {};\n// The item encoder's loading (errors::capture).\nexport const MAX_WAITING_ERRORS = {};\nexport const ENCODER_LOAD_WITHIN_MS = {};\nexport const ENCODER_LOAD_TIMEOUT_MS = {};\n",
        to_json(),
        crate::web::session::SESSION_STORAGE_KEY,
        crate::errors::capture::ERRORS_STORAGE_KEY,
        names(&mut Source::ALL.iter().map(|(n, s)| (*n, *s as u32))),
        names(&mut NotSent::ALL.iter().map(|(n, s)| (*n, *s as u32))),
        crate::errors::capture::MAX_WAITING_ERRORS,
        crate::errors::capture::ENCODER_LOAD_WITHIN_MILLIS,
        crate::errors::capture::ENCODER_LOAD_TIMEOUT_MILLIS,
    );
    out.push_str(&format!(
        "// The severity of each console method captureConsole may name (config::CONSOLE_METHODS).\nexport const CONSOLE_SEVERITY = {};\n// Longest log body kept, in characters (sdk::MAX_LOG_BODY_CHARS): the facade stops rendering there.\nexport const MAX_LOG_BODY_CHARS = {};\n",
        names(&mut CONSOLE_METHODS.iter().map(|(m, s)| (*m, *s as u32))),
        crate::sdk::MAX_LOG_BODY_CHARS,
    ));
    out.push_str("// The numbers the package's JS and the engine module exchange (boundary).\n");
    out.push_str(&format!(
        "export const Result = Object.freeze({{ Done: {}, Held: {} }});\n",
        crate::boundary::RESULT_DONE,
        crate::boundary::RESULT_HELD
    ));
    for (name, codes) in crate::boundary::all() {
        out.push_str(&format!(
            "export const {name} = {};\n",
            names(&mut codes.into_iter())
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;
    use crate::config::SdkConfig;

    fn names(opts: &[Opt]) -> Vec<&'static str> {
        opts.iter().map(|o| o.name).collect()
    }

    #[test]
    fn names_are_unique_and_plain() {
        fn check(opts: &[Opt]) {
            let mut seen = names(opts);
            seen.sort_unstable();
            seen.dedup();
            assert_eq!(seen.len(), opts.len(), "duplicate option names");
            for o in opts {
                assert!(
                    o.name.chars().all(|c| c.is_ascii_alphanumeric()),
                    "{}",
                    o.name
                );
                match o.kind {
                    Kind::Group(inner) => check(inner),
                    Kind::Count {
                        not_above,
                        not_below,
                        ..
                    } => {
                        for sibling in not_above.into_iter().chain(not_below) {
                            assert!(names(opts).contains(&sibling), "{sibling}");
                        }
                    }
                    _ => {}
                }
                if let Some((sibling, value)) = o.if_true {
                    let s = opts.iter().find(|s| s.name == sibling).expect(sibling);
                    assert_eq!(s.kind, Kind::Bool, "{sibling}");
                    assert!(
                        matches!(o.kind, Kind::OneOf(v) if v.contains(&value)),
                        "{value}"
                    );
                }
            }
        }
        check(OPTIONS);
    }

    #[test]
    fn defaults_are_the_configs_defaults() {
        let c = SdkConfig::default();
        let default_of = |group: &[Opt], name: &str| match group.iter().find(|o| o.name == name) {
            Some(Opt {
                kind: Kind::Count { default, .. },
                ..
            }) => *default,
            other => panic!("{name}: {other:?}"),
        };
        let b = &c.export.batch;
        assert_eq!(
            default_of(BATCH, "maxQueueSize"),
            Some(u64::from(b.max_queue_size))
        );
        assert_eq!(
            default_of(BATCH, "maxExportBatchSize"),
            Some(u64::from(b.max_export_batch_size))
        );
        let r = &c.export.retry;
        assert_eq!(
            default_of(RETRY, "initialBackoffMillis"),
            Some(u64::from(r.initial_backoff_millis))
        );
        assert_eq!(
            default_of(RETRY, "maxBackoffMillis"),
            Some(u64::from(r.max_backoff_millis))
        );
        assert_eq!(
            default_of(SPAN_LIMITS, "attributeValueLengthLimit"),
            c.span_limits.attribute_value_length_limit.map(u64::from)
        );
        assert_eq!(
            default_of(OPTIONS, "sessionInactivityTimeoutMillis"),
            Some(c.session_inactivity_millis)
        );
        assert_eq!(
            default_of(OPTIONS, "sampleRate"),
            Some(u64::from(c.sample_rate))
        );
        assert_eq!(
            default_of(ROLLBAR, "itemsPerMinute"),
            Some(u64::from(c.rollbar.items_per_minute))
        );
    }

    #[test]
    fn the_module_exports_the_table_the_storage_keys_and_the_error_numbers() {
        let m = to_js_module();
        assert!(m.contains("export default [{\"name\":\"serviceName\",\"kind\":\"text\",\"nonEmpty\":true,\"maxChars\":256}"));
        assert!(m.contains("{\"name\":\"maxExportBatchSize\",\"kind\":\"count\",\"min\":1,\"default\":512,\"notAbove\":\"maxQueueSize\"}"));
        assert!(m.contains(
            "{\"name\":\"compression\",\"kind\":\"oneOf\",\"values\":[\"gzip\",\"none\"]}"
        ));
        assert!(m.contains("{\"name\":\"captureConsole\",\"kind\":\"subset\",\"values\":[\"debug\",\"log\",\"info\",\"warn\",\"error\"]}];\n"), "{m}");
        assert!(m.contains("export const CONSOLE_SEVERITY = Object.freeze({ debug: 5, log: 9, info: 9, warn: 13, error: 17 });\n"), "{m}");
        assert!(
            m.contains("export const SESSION_STORAGE_KEY = \"edge-telemetry.session\";\n"),
            "{m}"
        );
        assert!(
            m.contains("export const ERRORS_STORAGE_KEY = \"edge-telemetry.errors\";\n"),
            "{m}"
        );
        assert!(m.contains("export const Source = Object.freeze({ Manual: 0, Message: 1, Uncaught: 2, Rejection: 3, React: 4, Panic: 5 });\n"), "{m}");
        assert!(
            m.contains("export const NotSent = Object.freeze({ Dropped: 0, Raised: 1, Ignored: 2, Duplicate: 3, MaxItems: 4, PerMinute: 5, Lost: 6 });\n"),
            "{m}"
        );
        assert!(
            m.contains("export const MAX_WAITING_ERRORS = 100;\nexport const ENCODER_LOAD_WITHIN_MS = 2000;\nexport const ENCODER_LOAD_TIMEOUT_MS = 10000;\n"),
            "{m}"
        );
    }
}
