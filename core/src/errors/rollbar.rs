//! Rollbar Item API payloads (`POST /api/1/item/`), written straight into a `String`.
//!
//! [`encode_item`] writes the request body `{"data":{…}}` that the Item API takes
//! (<https://docs.rollbar.com/reference/create-item>), sent with the `post_client_item`
//! token in the [`ACCESS_TOKEN_HEADER`] header. Like [`crate::export::otlp`], it writes into one
//! `String` without serde, a JSON tree or `core::fmt`: this runs in the browser, and code
//! size matters. Doubles in app data go through a [`FormatF64`] (see [`encode_item_with`]).
//!
//! # The payload
//!
//! `data` holds `environment`, `body` (exactly one of `trace`, `trace_chain` or `message`),
//! `level`, `timestamp` (Unix seconds), `platform` `"browser"` (what lets a
//! `post_client_item` token post it), `language` `"javascript"`, `framework`, `uuid`,
//! `context`, `request` (`url` with its query values, credentials and fragment scrubbed by
//! [`scrub_url`]; `user_ip` `"$remote_ip"` only when the app opted in), `person`,
//! `client.javascript` (`browser`, `code_version`, `source_map_enabled`,
//! `guess_uncaught_frames`), `custom`, `fingerprint`, `attributes` and `notifier`. A field
//! that is `None` or empty is left out (`client.javascript` always carries its two
//! booleans); `custom` only appears when there is something in it.
//! Strings with a documented limit are cut to it: `environment` 255 characters,
//! `code_version` 40, `uuid` 36, `person.id` 40, `person.username` and `person.email` 255.
//! An empty `environment` (required) is sent as `unspecified`, an empty exception class
//! (required) as `Error`, and an empty `trace_chain` as one `Error` trace.
//!
//! # Where the trace ids go
//!
//! The span active when the error happened is written twice:
//! - in `custom` as `trace_id`, `span_id` and (when a Honeycomb link is configured)
//!   `trace_url`. `custom` is documented and shown on the occurrence page, and RQL takes
//!   JSON paths as columns (`WHERE custom.trace_id = '…'`), so this is the place to rely
//!   on.
//! - in `attributes`, `[{"key":"trace_id","value":…},{"key":"span_id","value":…}]`. The
//!   create-item reference does not document `data.attributes`; it is what Rollbar's own
//!   SDK sends for its tracing and session-replay integration (rollbar.js
//!   `Rollbar.prototype._addTracingAttributes`, keys `trace_id`, `span_id`, `session_id`,
//!   `replay_id`, entries without a value left out). Rollbar stores any extra data it is
//!   sent ("you can send us whatever data you want and we'll store it"), so this costs
//!   nothing if it is ignored and links the occurrence to the trace wherever Rollbar reads
//!   it.
//!
//! Ids that are not 1 to 32 (trace) or 1 to 16 (span) hex digits are left out. `trace_url`
//! is not scrubbed: it is our own link, and its query is what makes it work.
//!
//! # Scrubbing
//!
//! A [`Scrubber`] replaces the value of every object member whose key matches a scrub field
//! with [`SCRUBBED`], at any depth of `custom`, of `person` (except its own `id`) and of any
//! other app [`Json`]. Matching is rollbar.js's `scrubFields` rule (whole key names,
//! case-insensitively, so `pass` does not catch `passenger` nor `auth` catch `author`) with
//! one relaxation: `_`, `-`, `.`, spaces, `[` and `]` are ignored on both sides, so the field
//! `access_token` also catches `accessToken`, `Access-Token` and `access_token[]`. The
//! defaults, [`DEFAULT_SCRUB_FIELDS`], are rollbar.js's browser list plus tokens, API keys,
//! secrets, authorization and cookie headers, and Honeycomb's `x-honeycomb-team` key.
//!
//! # Size
//!
//! Rollbar rejects items over 128 KB (`413 Request entity too large`). When the encoded
//! item is over `max_bytes`, it is encoded again with more cut each time (rollbar.js's
//! strategies, `src/truncation.js`), and the first that fits is returned:
//! 1. only the first 30 and last 30 frames of each trace;
//! 2. and every string from the app (messages, frame fields, `custom` and `person` keys and
//!    values, URLs…) cut to 1024 characters, then 512, then 256 (at a character boundary,
//!    ending in `...`);
//! 3. a minimal item: the first exception alone as a `trace` without frames, its message
//!    cut to 255 characters, no `person` and no `custom` but the trace ids; every string
//!    cut to 255 characters, then 64, then 16, then 0.
//!
//! A step that would change nothing (no trace has over 60 frames, no string is longer than
//! the cut) is skipped, and an attempt stops writing as soon as it is over `max_bytes`. The
//! result is at most `max_bytes` whenever `max_bytes` is at least [`MIN_ITEM_BYTES`]; below
//! that, the last step is returned as it is.

use crate::errors::stack::StackFrame;
use crate::export::otlp::{FormatF64, push_f64};
use crate::json::{push_i64, push_str_value, push_u64};
use crate::prelude::*;
use crate::propagation::write_hex;
use crate::web::url::scrub_url;

/// Default item endpoint.
pub const DEFAULT_ENDPOINT: &str = "https://api.rollbar.com/api/1/item/";
/// Request header carrying the `post_client_item` access token.
pub const ACCESS_TOKEN_HEADER: &str = "x-rollbar-access-token";
/// Items are kept under this many bytes of JSON (Rollbar rejects larger ones).
pub const MAX_ITEM_BYTES: usize = 128 * 1024;
/// The smallest `max_bytes` for which [`encode_item`] is guaranteed to fit: the minimal item
/// with every string cut to nothing is always smaller.
pub const MIN_ITEM_BYTES: usize = 1024;
/// `notifier.name`.
pub const NOTIFIER_NAME: &str = "edge-telemetry";
/// Scrubbed values are replaced with this.
pub const SCRUBBED: &str = "********";
/// Field names scrubbed by default: rollbar.js's browser defaults
/// (`src/browser/defaults/scrubFields.js`), then ours. Matched as whole key names,
/// case-insensitively, ignoring `_`, `-`, `.`, spaces and brackets (see [`Scrubber`]).
pub const DEFAULT_SCRUB_FIELDS: &[&str] = &[
    // rollbar.js
    "pw",
    "pass",
    "passwd",
    "password",
    "secret",
    "confirm_password",
    "confirmPassword",
    "password_confirmation",
    "passwordConfirmation",
    "access_token",
    "accessToken",
    "X-Rollbar-Access-Token",
    "secret_key",
    "secretKey",
    "secretToken",
    "cc-number",
    "card number",
    "cardnumber",
    "cardnum",
    "ccnum",
    "ccnumber",
    "cc num",
    "creditcardnumber",
    "credit card number",
    "newcreditcardnumber",
    "new credit card",
    "creditcardno",
    "credit card no",
    "card#",
    "card #",
    "cc-csc",
    "cvc",
    "cvc2",
    "cvv2",
    "ccv2",
    "security code",
    "card verification",
    "name on credit card",
    "name on card",
    "nameoncard",
    "cardholder",
    "card holder",
    "name des karteninhabers",
    "ccname",
    "card type",
    "cardtype",
    "cc type",
    "cctype",
    "payment type",
    "expiration date",
    "expirationdate",
    "expdate",
    "cc-exp",
    "ccmonth",
    "ccyear",
    // Ours: credentials that browser apps and their HTTP headers carry.
    "cvv",
    "passphrase",
    "new_password",
    "old_password",
    "current_password",
    "token",
    "auth_token",
    "refresh_token",
    "id_token",
    "session_token",
    "bearer_token",
    "api_token",
    "csrf_token",
    "xsrf_token",
    "x-csrf-token",
    "x-xsrf-token",
    "csrfmiddlewaretoken",
    "jwt",
    "api_key",
    "x-api-key",
    "api_secret",
    "client_secret",
    "private_key",
    "secret_access_key",
    "credential",
    "credentials",
    "auth",
    "authorization",
    "proxy-authorization",
    "www-authenticate",
    "cookie",
    "cookies",
    "set-cookie",
    "x-honeycomb-team",
];

/// Item level.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    /// `critical`
    Critical,
    /// `error`
    Error,
    /// `warning`
    Warning,
    /// `info`
    Info,
    /// `debug`
    Debug,
}

impl Level {
    /// The level's name in the payload.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Critical => "critical",
            Self::Error => "error",
            Self::Warning => "warning",
            Self::Info => "info",
            Self::Debug => "debug",
        }
    }
    /// A level from its name (also `warn`); `None` for anything else. ASCII case is ignored.
    pub fn parse(name: &str) -> Option<Self> {
        if name.eq_ignore_ascii_case("warn") {
            return Some(Self::Warning);
        }
        [
            Self::Critical,
            Self::Error,
            Self::Warning,
            Self::Info,
            Self::Debug,
        ]
        .into_iter()
        .find(|level| name.eq_ignore_ascii_case(level.as_str()))
    }
}

/// A JSON value given by the app (`custom`, `person`, extra context), converted from JS.
#[derive(Clone, Debug, PartialEq)]
pub enum Json {
    /// `null` (also `undefined`, functions and symbols).
    Null,
    /// A boolean.
    Bool(bool),
    /// A number (non-finite ones are written as `null`).
    Number(f64),
    /// A string.
    String(String),
    /// An array.
    Array(Vec<Json>),
    /// An object, keys in insertion order.
    Object(Vec<(String, Json)>),
}

/// One exception: `body.trace` or one element of `body.trace_chain`.
#[derive(Clone, Debug, PartialEq)]
pub struct Exception {
    /// `exception.class`: the error's name (`TypeError`).
    pub class: String,
    /// `exception.message`.
    pub message: String,
    /// `frames`, most recent call last.
    pub frames: Vec<StackFrame>,
}

/// `body`.
#[derive(Clone, Debug, PartialEq)]
pub enum Body {
    /// `trace`: one exception.
    Trace(Exception),
    /// `trace_chain`: the error first, then its `cause`, then the cause's cause…
    TraceChain(Vec<Exception>),
    /// `message.body`.
    Message(String),
}

/// Everything an item carries. The encoder scrubs and truncates; the caller fills in.
#[derive(Clone, Debug, PartialEq)]
pub struct Item {
    /// `uuid`: random v4 UUID, lowercase hyphenated (see [`format_uuid_v4`]).
    pub uuid: String,
    /// `level`.
    pub level: Level,
    /// `timestamp`: Unix seconds; 0 leaves it out (Rollbar uses the time it arrives).
    pub timestamp_secs: u64,
    /// `environment` (default `production` is the caller's choice).
    pub environment: String,
    /// `body`.
    pub body: Body,
    /// `context` (e.g. the route).
    pub context: Option<String>,
    /// `request.url` as the page had it; the encoder scrubs its query values.
    pub request_url: Option<String>,
    /// `request.user_ip` = `"$remote_ip"` (opt-in `captureIp`).
    pub capture_ip: bool,
    /// `person` (opt-in): an object with `id` and optionally `username`, `email`.
    pub person: Option<Json>,
    /// `custom`: the app's data; scrubbed.
    pub custom: Option<Json>,
    /// `fingerprint`.
    pub fingerprint: Option<String>,
    /// `framework` (e.g. `react`).
    pub framework: Option<String>,
    /// `client.javascript.browser` (the user agent).
    pub browser: Option<String>,
    /// `client.javascript.code_version`.
    pub code_version: Option<String>,
    /// `client.javascript.source_map_enabled`.
    pub source_map_enabled: bool,
    /// `client.javascript.guess_uncaught_frames`.
    pub guess_uncaught_frames: bool,
    /// Trace id (32 lowercase hex) of the span active when the error happened.
    pub trace_id: Option<String>,
    /// Span id (16 lowercase hex) of that span.
    pub span_id: Option<String>,
    /// A link to the trace (Honeycomb), when configured.
    pub trace_url: Option<String>,
    /// `notifier.version`.
    pub notifier_version: String,
    /// `body.telemetry`: the recent events before the error, a JSON array as
    /// [`crate::errors::telemetry::Telemetry::to_json`] writes it. Sent as it is while no
    /// string of the item has to be cut; the first thing left out when the item is too large.
    pub telemetry: Option<String>,
}

impl Item {
    /// An item with only the required fields; every optional one empty or off.
    pub fn new(
        uuid: String,
        level: Level,
        timestamp_secs: u64,
        environment: String,
        body: Body,
        notifier_version: String,
    ) -> Self {
        Self {
            uuid,
            level,
            timestamp_secs,
            environment,
            body,
            context: None,
            request_url: None,
            capture_ip: false,
            person: None,
            custom: None,
            fingerprint: None,
            framework: None,
            browser: None,
            code_version: None,
            source_map_enabled: false,
            guess_uncaught_frames: false,
            trace_id: None,
            span_id: None,
            trace_url: None,
            notifier_version,
            telemetry: None,
        }
    }
}

/// Scrubs values of sensitive fields.
///
/// A key is sensitive when it equals one of the fields once both are normalised: ASCII
/// letters lower-cased, and `_`, `-`, `.`, spaces, `[` and `]` removed. Whole names only,
/// as rollbar.js matches `scrubFields`: `password` catches `Password`, `pass_word` and
/// `password[]` but not `passwordHint` or `user.password.old`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scrubber {
    /// Normalised field names, without duplicates.
    fields: Vec<String>,
}

impl Scrubber {
    /// A scrubber for these field names.
    pub fn new<S: AsRef<str>>(fields: &[S]) -> Self {
        let mut normalised: Vec<String> = Vec::with_capacity(fields.len());
        for field in fields {
            let field: String = normalised_chars(field.as_ref()).collect();
            if !field.is_empty() && !normalised.contains(&field) {
                normalised.push(field);
            }
        }
        Self { fields: normalised }
    }

    /// Whether the value under `key` is replaced with [`SCRUBBED`].
    pub fn is_sensitive(&self, key: &str) -> bool {
        self.fields
            .iter()
            .any(|field| normalised_chars(key).eq(field.chars()))
    }
}

impl Default for Scrubber {
    /// A scrubber for [`DEFAULT_SCRUB_FIELDS`].
    fn default() -> Self {
        Self::new(DEFAULT_SCRUB_FIELDS)
    }
}

/// `name` lower-cased (ASCII), without the separators that key spellings vary in.
fn normalised_chars(name: &str) -> impl Iterator<Item = char> + '_ {
    name.chars()
        .filter(|c| !matches!(c, '_' | '-' | '.' | ' ' | '[' | ']'))
        .map(|c| c.to_ascii_lowercase())
}

/// The `custom` of one item: the call's `extra` data over the configured `base` (keys of
/// `extra` win). An `extra` that is not an object goes under the key `extra`; `null` adds
/// nothing.
pub fn merge_custom(base: Option<&Json>, extra: Json) -> Option<Json> {
    match (base, extra) {
        (base, Json::Null) => base.cloned(),
        (Some(Json::Object(a)), Json::Object(b)) => {
            let mut fields: Vec<(String, Json)> = a
                .iter()
                .filter(|(k, _)| !b.iter().any(|(k2, _)| k2 == k))
                .cloned()
                .collect();
            fields.extend(b);
            Some(Json::Object(fields))
        }
        (_, extra @ Json::Object(_)) => Some(extra),
        (base, other) => {
            let mut fields = match base {
                Some(Json::Object(a)) => a.clone(),
                _ => Vec::new(),
            };
            fields.push(("extra".to_owned(), other));
            Some(Json::Object(fields))
        }
    }
}

/// Formats 16 random bytes as a v4 UUID (version and variant bits set).
pub fn format_uuid_v4(random: [u8; 16]) -> String {
    let mut bytes = random;
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let mut out = String::with_capacity(36);
    for (i, range) in [0..4, 4..6, 6..8, 8..10, 10..16].into_iter().enumerate() {
        if i > 0 {
            out.push('-');
        }
        write_hex(&mut out, &bytes[range]);
    }
    out
}

/// Who sends an item: `data.platform` and `data.language`. Only [`Platform::BROWSER`] (what
/// [`encode_item`] writes) adds `client.javascript`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Platform {
    /// `platform`: `browser` lets a `post_client_item` token post the item; a server's item
    /// (`post_server_item` token) names its OS, e.g. `linux`.
    pub platform: &'static str,
    /// `language`, e.g. `javascript`, `rust`.
    pub language: &'static str,
}

impl Platform {
    /// The browser SDK: `"platform":"browser","language":"javascript"`.
    pub const BROWSER: Self = Self {
        platform: "browser",
        language: "javascript",
    };
}

/// [`encode_item`] for another [`Platform`] (a native service's server items).
pub fn encode_item_for(
    item: &Item,
    platform: Platform,
    scrubber: &Scrubber,
    max_bytes: usize,
) -> String {
    encode(item, platform, scrubber, max_bytes, push_f64)
}

/// The request body `{"data":{…}}` for `item`: scrubbed with `scrubber`, truncated to stay
/// under `max_bytes` (frames first, then long strings). Doubles are written with
/// [`push_f64`]; see [`encode_item_with`].
pub fn encode_item(item: &Item, scrubber: &Scrubber, max_bytes: usize) -> String {
    encode_item_with(item, scrubber, max_bytes, push_f64)
}

/// [`encode_item`] with the doubles of app data written by `f` (integral values below 2^53
/// are written as integers and non-finite ones as `null` without calling it).
pub fn encode_item_with(
    item: &Item,
    scrubber: &Scrubber,
    max_bytes: usize,
    f: FormatF64,
) -> String {
    encode(item, Platform::BROWSER, scrubber, max_bytes, f)
}

fn encode(
    item: &Item,
    platform: Platform,
    scrubber: &Scrubber,
    max_bytes: usize,
    f: FormatF64,
) -> String {
    let url = item
        .request_url
        .as_deref()
        .map(scrub_url)
        .filter(|u| !u.is_empty());
    let stats = Stats::of(item, url.as_deref());
    let mut encoder = Encoder {
        item,
        platform,
        url: url.as_deref(),
        scrubber,
        f,
        cut: STAGES[0],
        budget: ALL,
        aborted: false,
        out: String::with_capacity(1024),
    };
    let mut tried = None;
    for (i, &stage) in STAGES.iter().enumerate() {
        let cut = stats.effective(stage);
        let last = i + 1 == STAGES.len();
        if last {
            // Complete whatever its size: nothing smaller is left to try.
            encoder.run(cut, ALL);
            break;
        }
        if tried == Some(cut) {
            continue; // would write the same text as the attempt that did not fit
        }
        if encoder.run(cut, max_bytes) {
            break;
        }
        tried = Some(cut);
    }
    encoder.out
}

/// No limit.
const ALL: usize = usize::MAX;
/// Frames kept at each end of an over-long trace (rollbar.js `truncateFrames`).
const KEEP_FRAMES: usize = 30;
/// App data nested deeper than this is written as `"[Object]"` or `"[Array]"`.
const MAX_DEPTH: usize = 64;
/// Documented limits, in characters.
const ENVIRONMENT_MAX: usize = 255;
const CODE_VERSION_MAX: usize = 40;
const UUID_MAX: usize = 36;
const PERSON_ID_MAX: usize = 40;
const PERSON_NAME_MAX: usize = 255;
/// The exception message in a minimal item (rollbar.js `minBody`).
const MINIMAL_MESSAGE_MAX: usize = 255;
/// An empty `environment` is sent as this (it is required).
const NO_ENVIRONMENT: &str = "unspecified";
/// An empty exception class is sent as this (it is required).
const NO_CLASS: &str = "Error";

/// What one attempt cuts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Cut {
    /// Frames kept at each end of a trace that has more than twice as many.
    frames: usize,
    /// Characters kept of each string.
    chars: usize,
    /// The minimal item: first exception only, no frames, no person, no app `custom`.
    minimal: bool,
}

const fn cut(frames: usize, chars: usize, minimal: bool) -> Cut {
    Cut {
        frames,
        chars,
        minimal,
    }
}

/// The attempts, in order.
const STAGES: [Cut; 9] = [
    cut(ALL, ALL, false),
    cut(KEEP_FRAMES, ALL, false),
    cut(KEEP_FRAMES, 1024, false),
    cut(KEEP_FRAMES, 512, false),
    cut(KEEP_FRAMES, 256, false),
    cut(0, 255, true),
    cut(0, 64, true),
    cut(0, 16, true),
    cut(0, 0, true),
];

/// What decides whether a cut changes anything.
struct Stats {
    /// The most frames of one exception.
    frames: usize,
    /// The longest string (bytes) that a cut applies to.
    longest: usize,
}

impl Stats {
    fn of(item: &Item, url: Option<&str>) -> Self {
        let mut stats = Self {
            frames: 0,
            longest: 0,
        };
        for s in [
            Some(item.environment.as_str()),
            item.context.as_deref(),
            url,
            item.fingerprint.as_deref(),
            item.framework.as_deref(),
            item.browser.as_deref(),
            item.code_version.as_deref(),
            item.trace_url.as_deref(),
            Some(item.notifier_version.as_str()),
        ]
        .into_iter()
        .flatten()
        {
            stats.string(s);
        }
        match &item.body {
            Body::Trace(e) => stats.exception(e),
            Body::TraceChain(chain) => chain.iter().for_each(|e| stats.exception(e)),
            Body::Message(m) => stats.string(m),
        }
        for json in [&item.custom, &item.person].into_iter().flatten() {
            stats.json(json, 0);
        }
        stats
    }

    fn string(&mut self, s: &str) {
        self.longest = self.longest.max(s.len());
    }

    fn exception(&mut self, e: &Exception) {
        self.frames = self.frames.max(e.frames.len());
        self.string(&e.class);
        self.string(&e.message);
        for frame in &e.frames {
            self.string(&frame.filename);
            if let Some(method) = &frame.method {
                self.string(method);
            }
        }
    }

    fn json(&mut self, value: &Json, depth: usize) {
        match value {
            Json::String(s) => self.string(s),
            Json::Array(items) if depth < MAX_DEPTH => {
                items.iter().for_each(|v| self.json(v, depth + 1));
            }
            Json::Object(members) if depth < MAX_DEPTH => {
                for (key, v) in members {
                    self.string(key);
                    self.json(v, depth + 1);
                }
            }
            _ => {}
        }
    }

    /// `cut`, with the limits that would change nothing lifted, so that attempts writing the
    /// same text compare equal.
    fn effective(&self, cut: Cut) -> Cut {
        Cut {
            frames: if cut.minimal || self.frames > cut.frames.saturating_mul(2) {
                cut.frames
            } else {
                ALL
            },
            chars: if self.longest > cut.chars {
                cut.chars
            } else {
                ALL
            },
            minimal: cut.minimal,
        }
    }
}

/// Writes one item with one [`Cut`].
struct Encoder<'a> {
    item: &'a Item,
    platform: Platform,
    /// `request.url`, scrubbed; `None` when absent or empty.
    url: Option<&'a str>,
    scrubber: &'a Scrubber,
    f: FormatF64,
    cut: Cut,
    /// Writing stops once `out` is known to end up longer than this.
    budget: usize,
    /// Set when a string was skipped because it could not fit in `budget`.
    aborted: bool,
    out: String,
}

impl Encoder<'_> {
    /// Writes the item with `cut`; whether it is complete and at most `budget` bytes.
    fn run(&mut self, cut: Cut, budget: usize) -> bool {
        self.out.clear();
        self.cut = cut;
        self.budget = budget;
        self.aborted = false;
        self.item();
        !self.over()
    }

    /// Whether this attempt is already too long.
    fn over(&self) -> bool {
        self.aborted || self.out.len() > self.budget
    }

    fn item(&mut self) {
        let item = self.item;
        self.out.push_str(r#"{"data":{"environment":"#);
        let environment = if item.environment.is_empty() {
            NO_ENVIRONMENT
        } else {
            &item.environment
        };
        self.text(environment, ENVIRONMENT_MAX);
        self.out.push_str(r#","body":"#);
        self.body();
        if let Some(events) = item
            .telemetry
            .as_deref()
            .filter(|_| !self.cut.minimal && self.cut.chars == ALL)
            && self.out.ends_with('}')
        {
            self.out.pop();
            self.out.push_str(r#","telemetry":"#);
            self.out.push_str(events);
            self.out.push('}');
        }
        self.out.push_str(r#","level":""#);
        self.out.push_str(item.level.as_str());
        self.out.push('"');
        // 0: not known when the item was built (the trap item, prepared at start); Rollbar
        // then uses the time it arrives.
        if item.timestamp_secs > 0 {
            self.out.push_str(r#","timestamp":"#);
            push_u64(item.timestamp_secs, &mut self.out);
        }
        self.out.push_str(r#","platform":"#);
        push_str_value(self.platform.platform, &mut self.out);
        self.out.push_str(r#","language":"#);
        push_str_value(self.platform.language, &mut self.out);
        self.optional(r#","framework":"#, item.framework.as_deref(), ALL);
        if !item.uuid.is_empty() {
            // Not cut with the rest: it is what makes retries idempotent.
            self.out.push_str(r#","uuid":"#);
            push_cut(&item.uuid, UUID_MAX, &mut self.out);
        }
        self.optional(r#","context":"#, item.context.as_deref(), ALL);
        self.request();
        if !self.cut.minimal {
            self.person();
        }
        self.client();
        self.custom();
        self.optional(r#","fingerprint":"#, item.fingerprint.as_deref(), ALL);
        self.attributes();
        self.out.push_str(r#","notifier":{"name":"#);
        push_str_value(NOTIFIER_NAME, &mut self.out);
        self.optional(r#","version":"#, Some(item.notifier_version.as_str()), ALL);
        self.out.push_str("}}}");
    }

    fn body(&mut self) {
        let item = self.item;
        match &item.body {
            Body::Trace(e) => self.trace_body(e),
            Body::TraceChain(chain) => match chain.as_slice() {
                [] => self.trace_body(&Exception {
                    class: String::new(),
                    message: String::new(),
                    frames: Vec::new(),
                }),
                [first, ..] if self.cut.minimal => self.trace_body(first),
                chain => {
                    self.out.push_str(r#"{"trace_chain":["#);
                    for (i, e) in chain.iter().enumerate() {
                        if self.over() {
                            break;
                        }
                        if i > 0 {
                            self.out.push(',');
                        }
                        self.trace(e);
                    }
                    self.out.push_str("]}");
                }
            },
            Body::Message(message) => {
                self.out.push_str(r#"{"message":{"body":"#);
                self.text(message, self.message_max());
                self.out.push_str("}}");
            }
        }
    }

    fn message_max(&self) -> usize {
        if self.cut.minimal {
            MINIMAL_MESSAGE_MAX
        } else {
            ALL
        }
    }

    fn trace_body(&mut self, e: &Exception) {
        self.out.push_str(r#"{"trace":"#);
        self.trace(e);
        self.out.push('}');
    }

    fn trace(&mut self, e: &Exception) {
        self.out.push_str(r#"{"frames":["#);
        let frames = e.frames.as_slice();
        let n = frames.len();
        let (head, tail) = if self.cut.minimal {
            (0, 0)
        } else if n > self.cut.frames.saturating_mul(2) {
            (self.cut.frames, self.cut.frames)
        } else {
            (n, 0)
        };
        for (i, frame) in frames[..head].iter().chain(&frames[n - tail..]).enumerate() {
            if self.over() {
                break;
            }
            if i > 0 {
                self.out.push(',');
            }
            self.frame(frame);
        }
        self.out.push_str(r#"],"exception":{"class":"#);
        let class = if e.class.is_empty() {
            NO_CLASS
        } else {
            &e.class
        };
        self.text(class, ALL);
        self.optional(
            r#","message":"#,
            Some(e.message.as_str()),
            self.message_max(),
        );
        self.out.push_str("}}");
    }

    fn frame(&mut self, frame: &StackFrame) {
        self.out.push_str(r#"{"filename":"#);
        self.text(&frame.filename, ALL);
        if let Some(line) = frame.lineno {
            self.out.push_str(r#","lineno":"#);
            push_u64(u64::from(line), &mut self.out);
        }
        if let Some(column) = frame.colno {
            self.out.push_str(r#","colno":"#);
            push_u64(u64::from(column), &mut self.out);
        }
        self.optional(r#","method":"#, frame.method.as_deref(), ALL);
        self.out.push('}');
    }

    fn request(&mut self) {
        let capture_ip = self.item.capture_ip;
        let url = self.url.filter(|_| self.cut.chars > 0);
        if url.is_none() && !capture_ip {
            return;
        }
        self.out.push_str(r#","request":{"#);
        if let Some(url) = url {
            self.out.push_str(r#""url":"#);
            self.text(url, ALL);
            if capture_ip {
                self.out.push(',');
            }
        }
        if capture_ip {
            self.out.push_str(r#""user_ip":"$remote_ip""#);
        }
        self.out.push('}');
    }

    /// `person`, when it is an object with a string or numeric `id` (required).
    fn person(&mut self) {
        let Some(Json::Object(members)) = &self.item.person else {
            return;
        };
        let Some(id) = members
            .iter()
            .find(|(key, _)| key == "id")
            .map(|(_, id)| id)
        else {
            return;
        };
        match id {
            Json::String(id) if !id.is_empty() => {
                self.out.push_str(r#","person":{"id":"#);
                self.text(id, PERSON_ID_MAX);
            }
            &Json::Number(id) if id.is_finite() => {
                self.out.push_str(r#","person":{"id":""#);
                self.number(id);
                self.out.push('"');
            }
            _ => return,
        }
        for (key, value) in members {
            if self.over() {
                break;
            }
            match (key.as_str(), value) {
                ("id", _) => continue,
                ("username" | "email", Json::String(s)) if !self.scrubber.is_sensitive(key) => {
                    self.out.push(',');
                    self.text(key, ALL);
                    self.out.push(':');
                    self.text(s, PERSON_NAME_MAX);
                }
                _ => {
                    self.out.push(',');
                    self.member(key, value, 1);
                }
            }
        }
        self.out.push('}');
    }

    fn client(&mut self) {
        let item = self.item;
        if self.platform != Platform::BROWSER {
            return;
        }
        self.out
            .push_str(r#","client":{"javascript":{"source_map_enabled":"#);
        self.out.push_str(bool_str(item.source_map_enabled));
        self.out.push_str(r#","guess_uncaught_frames":"#);
        self.out.push_str(bool_str(item.guess_uncaught_frames));
        self.optional(r#","browser":"#, item.browser.as_deref(), ALL);
        self.optional(
            r#","code_version":"#,
            item.code_version.as_deref(),
            CODE_VERSION_MAX,
        );
        self.out.push_str("}}");
    }

    /// The trace ids and link, then the app's `custom` (scrubbed; not in a minimal item). A
    /// `custom` that is not an object goes under `value`.
    fn custom(&mut self) {
        let item = self.item;
        let ours = [
            ("trace_id", hex_id(item.trace_id.as_deref(), 32)),
            ("span_id", hex_id(item.span_id.as_deref(), 16)),
            (
                "trace_url",
                item.trace_url
                    .as_deref()
                    .filter(|url| !url.is_empty() && self.cut.chars > 0),
            ),
        ];
        let app = match &item.custom {
            _ if self.cut.minimal => None,
            None | Some(Json::Null) => None,
            Some(Json::Object(members)) if members.is_empty() => None,
            Some(custom) => Some(custom),
        };
        if app.is_none() && ours.iter().all(|(_, value)| value.is_none()) {
            return;
        }
        self.out.push_str(r#","custom":{"#);
        let mut first = true;
        for (key, value) in ours {
            let Some(value) = value else { continue };
            if !first {
                self.out.push(',');
            }
            first = false;
            push_str_value(key, &mut self.out);
            self.out.push(':');
            if self.scrubber.is_sensitive(key) {
                push_str_value(SCRUBBED, &mut self.out);
            } else if key == "trace_url" {
                self.text(value, ALL);
            } else {
                push_str_value(value, &mut self.out); // hex digits: never cut
            }
        }
        match app {
            Some(Json::Object(members)) => {
                for (key, value) in members {
                    if self.over() {
                        break;
                    }
                    if ours.iter().any(|(k, v)| v.is_some() && k == key) {
                        continue; // ours win
                    }
                    if !first {
                        self.out.push(',');
                    }
                    first = false;
                    self.member(key, value, 1);
                }
            }
            Some(other) => {
                if !first {
                    self.out.push(',');
                }
                self.member("value", other, 1);
            }
            None => {}
        }
        self.out.push('}');
    }

    /// `attributes`, as rollbar.js's tracing integration sends them.
    fn attributes(&mut self) {
        let item = self.item;
        let ids = [
            ("trace_id", hex_id(item.trace_id.as_deref(), 32)),
            ("span_id", hex_id(item.span_id.as_deref(), 16)),
        ];
        if ids.iter().all(|(_, id)| id.is_none()) {
            return;
        }
        self.out.push_str(r#","attributes":["#);
        let mut first = true;
        for (key, id) in ids {
            let Some(id) = id else { continue };
            if !first {
                self.out.push(',');
            }
            first = false;
            self.out.push_str(r#"{"key":"#);
            push_str_value(key, &mut self.out);
            self.out.push_str(r#","value":"#);
            let value = if self.scrubber.is_sensitive(key) {
                SCRUBBED
            } else {
                id
            };
            push_str_value(value, &mut self.out);
            self.out.push('}');
        }
        self.out.push(']');
    }

    /// `"key":value`, the value scrubbed when the key is sensitive.
    fn member(&mut self, key: &str, value: &Json, depth: usize) {
        self.text(key, ALL);
        self.out.push(':');
        if self.scrubber.is_sensitive(key) {
            push_str_value(SCRUBBED, &mut self.out);
        } else {
            self.json(value, depth);
        }
    }

    fn json(&mut self, value: &Json, depth: usize) {
        match value {
            Json::Null => self.out.push_str("null"),
            &Json::Bool(b) => self.out.push_str(bool_str(b)),
            &Json::Number(n) => self.number(n),
            Json::String(s) => self.text(s, ALL),
            Json::Array(_) if depth >= MAX_DEPTH => self.out.push_str(r#""[Array]""#),
            Json::Object(_) if depth >= MAX_DEPTH => self.out.push_str(r#""[Object]""#),
            Json::Array(items) => {
                self.out.push('[');
                for (i, v) in items.iter().enumerate() {
                    if self.over() {
                        break;
                    }
                    if i > 0 {
                        self.out.push(',');
                    }
                    self.json(v, depth + 1);
                }
                self.out.push(']');
            }
            Json::Object(members) => {
                self.out.push('{');
                for (i, (key, v)) in members.iter().enumerate() {
                    if self.over() {
                        break;
                    }
                    if i > 0 {
                        self.out.push(',');
                    }
                    self.member(key, v, depth + 1);
                }
                self.out.push('}');
            }
        }
    }

    /// A JSON number: `null` when not finite, an integer when integral and exact, else `f`.
    fn number(&mut self, n: f64) {
        if !n.is_finite() {
            self.out.push_str("null");
        } else if let Some(i) = crate::float::exact_int(n) {
            push_i64(i, &mut self.out);
        } else {
            (self.f)(n, &mut self.out);
        }
    }

    /// `key` then `s`, unless `s` is absent or empty, or cut to nothing.
    fn optional(&mut self, key: &str, s: Option<&str>, max: usize) {
        match s {
            Some(s) if !s.is_empty() && max.min(self.cut.chars) > 0 => {
                self.out.push_str(key);
                self.text(s, max);
            }
            _ => {}
        }
    }

    /// A string literal of `s`, cut to `max` characters and to this attempt's cut. Skipped
    /// (and the attempt marked too long) when it cannot fit in the budget.
    fn text(&mut self, s: &str, max: usize) {
        let max = max.min(self.cut.chars);
        // The literal is at least as long as the characters kept.
        let kept = if s.len() > max { max } else { s.len() };
        if self.out.len().saturating_add(kept) > self.budget {
            self.aborted = true;
            return;
        }
        push_cut(s, max, &mut self.out);
    }
}

fn bool_str(b: bool) -> &'static str {
    if b { "true" } else { "false" }
}

/// `id` when it is 1 to `max` hex digits.
fn hex_id(id: Option<&str>, max: usize) -> Option<&str> {
    id.filter(|id| (1..=max).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// A string literal of `s` cut to `max` characters (at a character boundary): the first
/// `max - 3` and `...`, or the first `max` when `max` is under 3.
fn push_cut(s: &str, max: usize, out: &mut String) {
    // At most `max` bytes means at most `max` characters.
    let over = if s.len() > max {
        s.char_indices().nth(max)
    } else {
        None
    };
    let Some((end, _)) = over else {
        push_str_value(s, out);
        return;
    };
    let (end, ellipsis) = match max.checked_sub(3) {
        Some(keep) => (s.char_indices().nth(keep).map_or(end, |(i, _)| i), "..."),
        None => (end, ""),
    };
    push_str_value(&s[..end], out);
    out.pop();
    out.push_str(ellipsis);
    out.push('"');
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    const UUID: &str = "0f8fad5b-d9cb-469f-a165-70867728950e";
    const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
    const SPAN_ID: &str = "00f067aa0ba902b7";

    fn frame(filename: &str, lineno: u32, method: Option<&str>) -> StackFrame {
        StackFrame {
            filename: filename.into(),
            lineno: Some(lineno),
            colno: Some(lineno + 1),
            method: method.map(Into::into),
        }
    }

    fn exception(class: &str, message: &str, frames: Vec<StackFrame>) -> Exception {
        Exception {
            class: class.into(),
            message: message.into(),
            frames,
        }
    }

    fn item(body: Body) -> Item {
        Item::new(
            UUID.into(),
            Level::Error,
            1_700_000_000,
            "production".into(),
            body,
            "0.1.0".into(),
        )
    }

    fn obj(members: &[(&str, Json)]) -> Json {
        Json::Object(
            members
                .iter()
                .map(|(k, v)| ((*k).into(), v.clone()))
                .collect(),
        )
    }

    fn s(v: &str) -> Json {
        Json::String(v.into())
    }

    fn encode(item: &Item) -> String {
        encode_item(item, &Scrubber::default(), MAX_ITEM_BYTES)
    }

    /// The string literal that follows `key` in `json` (escapes left as they are).
    fn literal_after<'a>(json: &'a str, key: &str) -> &'a str {
        let start = json.find(key).expect(key) + key.len();
        let rest = &json[start..];
        assert!(rest.starts_with('"'), "{key} is not followed by a string");
        let bytes = rest.as_bytes();
        let mut i = 1;
        while bytes[i] != b'"' {
            i += if bytes[i] == b'\\' { 2 } else { 1 };
        }
        &rest[1..i]
    }

    #[test]
    fn server_platform_replaces_platform_and_language_and_drops_client() {
        let item = Item {
            code_version: Some("1.0".into()),
            ..item(Body::Message("boom".into()))
        };
        let server = Platform {
            platform: "linux",
            language: "rust",
        };
        let json = encode_item_for(&item, server, &Scrubber::default(), MAX_ITEM_BYTES);
        assert!(
            json.contains(r#""platform":"linux","language":"rust""#),
            "{json}"
        );
        assert!(!json.contains(r#""client""#), "{json}");
        assert_eq!(
            encode_item_for(
                &item,
                Platform::BROWSER,
                &Scrubber::default(),
                MAX_ITEM_BYTES
            ),
            encode(&item)
        );
    }

    fn full_item() -> Item {
        Item {
            level: Level::Warning,
            environment: "staging".into(),
            context: Some("checkout#pay".into()),
            request_url: Some("https://u:p@shop.example/cart?token=abc&step=2#pay".into()),
            capture_ip: true,
            person: Some(obj(&[
                ("id", Json::Number(42.0)),
                ("username", s("ann")),
                ("email", s("ann@example.com")),
                ("password", s("hunter2")),
            ])),
            custom: Some(obj(&[
                (
                    "cart",
                    obj(&[("items", Json::Number(3.0)), ("apiKey", s("k"))]),
                ),
                ("flags", Json::Array(vec![Json::Bool(true), Json::Null])),
            ])),
            fingerprint: Some("checkout-pay".into()),
            framework: Some("react".into()),
            browser: Some("Mozilla/5.0".into()),
            code_version: Some("1.2.3".into()),
            source_map_enabled: true,
            guess_uncaught_frames: true,
            trace_id: Some(TRACE_ID.into()),
            span_id: Some(SPAN_ID.into()),
            trace_url: Some(
                "https://ui.honeycomb.io/team/environments/prod/trace?trace_id=4bf9".into(),
            ),
            ..item(Body::Trace(exception(
                "TypeError",
                "x is undefined",
                vec![
                    frame("https://shop.example/app.js", 10, Some("render")),
                    StackFrame {
                        filename: "[native code]".into(),
                        lineno: None,
                        colno: None,
                        method: None,
                    },
                ],
            )))
        }
    }

    #[test]
    fn level_names_round_trip() {
        for level in [
            Level::Critical,
            Level::Error,
            Level::Warning,
            Level::Info,
            Level::Debug,
        ] {
            assert_eq!(Level::parse(level.as_str()), Some(level));
        }
        assert_eq!(Level::parse("warn"), Some(Level::Warning));
        assert_eq!(Level::parse("WARN"), Some(Level::Warning));
        assert_eq!(Level::parse("Error"), Some(Level::Error));
        for bad in ["", "fatal", "log", "trace", " error", "errors"] {
            assert_eq!(Level::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn uuid_v4_sets_version_and_variant() {
        assert_eq!(
            format_uuid_v4([0; 16]),
            "00000000-0000-4000-8000-000000000000"
        );
        assert_eq!(
            format_uuid_v4([0xff; 16]),
            "ffffffff-ffff-4fff-bfff-ffffffffffff"
        );
        let bytes: [u8; 16] = core::array::from_fn(|i| (i as u8) * 17);
        assert_eq!(
            format_uuid_v4(bytes),
            "00112233-4455-4677-8899-aabbccddeeff"
        );
        for seed in 0..=255u8 {
            let bytes: [u8; 16] =
                core::array::from_fn(|i| seed.wrapping_mul(31).wrapping_add(i as u8 * 7));
            let uuid = format_uuid_v4(bytes);
            assert_eq!(uuid.len(), 36);
            assert!(
                uuid.bytes()
                    .enumerate()
                    .all(|(i, b)| if [8, 13, 18, 23].contains(&i) {
                        b == b'-'
                    } else {
                        b.is_ascii_digit() || (b'a'..=b'f').contains(&b)
                    })
            );
            assert_eq!(&uuid[14..15], "4");
            assert!(matches!(&uuid[19..20], "8" | "9" | "a" | "b"), "{uuid}");
        }
    }

    #[test]
    fn scrub_fields_match_whole_names_whatever_their_spelling() {
        let scrubber = Scrubber::default();
        for key in [
            "password",
            "Password",
            "PASSWORD",
            "password[]",
            "[password]",
            "access_token",
            "accessToken",
            "Access-Token",
            "access token",
            "X-Rollbar-Access-Token",
            "token",
            "authorization",
            "Authorization",
            "cookie",
            "Set-Cookie",
            "api_key",
            "apiKey",
            "API-KEY",
            "x-api-key",
            "client_secret",
            "card #",
            "card#",
            "cc-number",
            "ccNumber",
            "cvv",
            "x-honeycomb-team",
            "Name des Karteninhabers",
        ] {
            assert!(scrubber.is_sensitive(key), "{key} should be scrubbed");
        }
        for key in [
            "passenger",
            "compass",
            "author",
            "tokenizer",
            "passwordHint",
            "user.password.old",
            "id",
            "username",
            "email",
            "trace_id",
            "span_id",
            "session.id",
            "",
        ] {
            assert!(!scrubber.is_sensitive(key), "{key} should not be scrubbed");
        }
        // Spellings that normalise alike are kept once.
        assert!(scrubber.fields.len() < DEFAULT_SCRUB_FIELDS.len());
        let custom = Scrubber::new(&["My Field", "", "--"]);
        assert_eq!(custom.fields, ["myfield"]);
        assert!(custom.is_sensitive("my_field") && custom.is_sensitive("MYFIELD"));
        assert!(!custom.is_sensitive("password"));
        assert!(!Scrubber::new::<&str>(&[]).is_sensitive("password"));
    }

    #[test]
    fn small_trace_item() {
        let item = item(Body::Trace(exception(
            "TypeError",
            "x is undefined",
            vec![frame("https://shop.example/app.js", 10, Some("render"))],
        )));
        assert_eq!(
            encode(&item),
            concat!(
                r#"{"data":{"environment":"production","body":{"trace":{"frames":[{"filename":"https://shop.example/app.js","lineno":10,"colno":11,"method":"render"}],"#,
                r#""exception":{"class":"TypeError","message":"x is undefined"}}},"level":"error","timestamp":1700000000,"#,
                r#""platform":"browser","language":"javascript","uuid":"0f8fad5b-d9cb-469f-a165-70867728950e","#,
                r#""client":{"javascript":{"source_map_enabled":false,"guess_uncaught_frames":false}},"#,
                r#""notifier":{"name":"edge-telemetry","version":"0.1.0"}}}"#
            )
        );
    }

    #[test]
    fn small_message_item() {
        let item = Item {
            level: Level::Info,
            uuid: String::new(),
            notifier_version: String::new(),
            ..item(Body::Message("cart emptied".into()))
        };
        assert_eq!(
            encode(&item),
            concat!(
                r#"{"data":{"environment":"production","body":{"message":{"body":"cart emptied"}},"level":"info","#,
                r#""timestamp":1700000000,"platform":"browser","language":"javascript","#,
                r#""client":{"javascript":{"source_map_enabled":false,"guess_uncaught_frames":false}},"#,
                r#""notifier":{"name":"edge-telemetry"}}}"#
            )
        );
    }

    #[test]
    fn every_field() {
        assert_eq!(
            encode(&full_item()),
            concat!(
                r#"{"data":{"environment":"staging","body":{"trace":{"frames":["#,
                r#"{"filename":"https://shop.example/app.js","lineno":10,"colno":11,"method":"render"},"#,
                r#"{"filename":"[native code]"}],"exception":{"class":"TypeError","message":"x is undefined"}}},"#,
                r#""level":"warning","timestamp":1700000000,"platform":"browser","language":"javascript","#,
                r#""framework":"react","uuid":"0f8fad5b-d9cb-469f-a165-70867728950e","context":"checkout#pay","#,
                r#""request":{"url":"https://REDACTED:REDACTED@shop.example/cart?token=REDACTED&step=REDACTED","#,
                r#""user_ip":"$remote_ip"},"#,
                r#""person":{"id":"42","username":"ann","email":"ann@example.com","password":"********"},"#,
                r#""client":{"javascript":{"source_map_enabled":true,"guess_uncaught_frames":true,"#,
                r#""browser":"Mozilla/5.0","code_version":"1.2.3"}},"#,
                r#""custom":{"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"00f067aa0ba902b7","#,
                r#""trace_url":"https://ui.honeycomb.io/team/environments/prod/trace?trace_id=4bf9","#,
                r#""cart":{"items":3,"apiKey":"********"},"flags":[true,null]},"#,
                r#""fingerprint":"checkout-pay","#,
                r#""attributes":[{"key":"trace_id","value":"4bf92f3577b34da6a3ce929d0e0e4736"},"#,
                r#"{"key":"span_id","value":"00f067aa0ba902b7"}],"#,
                r#""notifier":{"name":"edge-telemetry","version":"0.1.0"}}}"#
            )
        );
    }

    #[test]
    fn trace_chains() {
        let chain = item(Body::TraceChain(vec![
            exception("Error", "outer", vec![frame("a.js", 1, None)]),
            exception("TypeError", "", vec![]),
        ]));
        let json = encode(&chain);
        assert!(
            json.contains(concat!(
                r#""body":{"trace_chain":[{"frames":[{"filename":"a.js","lineno":1,"colno":2}],"#,
                r#""exception":{"class":"Error","message":"outer"}},"#,
                r#"{"frames":[],"exception":{"class":"TypeError"}}]},"#
            )),
            "{json}"
        );
        // A trace_chain must have an element; a class is required.
        let empty = encode(&item(Body::TraceChain(vec![])));
        assert!(
            empty.contains(r#""body":{"trace":{"frames":[],"exception":{"class":"Error"}}},"#),
            "{empty}"
        );
        let nameless = encode(&item(Body::Trace(exception("", "boom", vec![]))));
        assert!(
            nameless.contains(r#""exception":{"class":"Error","message":"boom"}"#),
            "{nameless}"
        );
    }

    #[test]
    fn empty_and_absent_fields_are_left_out() {
        let empty = Item {
            environment: String::new(),
            context: Some(String::new()),
            request_url: Some(String::new()),
            fingerprint: Some(String::new()),
            framework: Some(String::new()),
            browser: Some(String::new()),
            code_version: Some(String::new()),
            trace_url: Some(String::new()),
            custom: Some(Json::Object(vec![])),
            person: Some(obj(&[("username", s("no id"))])),
            ..item(Body::Message(String::new()))
        };
        assert_eq!(
            encode(&empty),
            concat!(
                r#"{"data":{"environment":"unspecified","body":{"message":{"body":""}},"level":"error","#,
                r#""timestamp":1700000000,"platform":"browser","language":"javascript","#,
                r#""uuid":"0f8fad5b-d9cb-469f-a165-70867728950e","#,
                r#""client":{"javascript":{"source_map_enabled":false,"guess_uncaught_frames":false}},"#,
                r#""notifier":{"name":"edge-telemetry","version":"0.1.0"}}}"#
            )
        );
        for custom in [Json::Null, Json::Object(vec![])] {
            let json = encode(&Item {
                custom: Some(custom),
                ..item(Body::Message("m".into()))
            });
            assert!(!json.contains("custom"), "{json}");
        }
        for person in [s("ann"), obj(&[("id", Json::Null)]), obj(&[("id", s(""))])] {
            let json = encode(&Item {
                person: Some(person),
                ..item(Body::Message("m".into()))
            });
            assert!(!json.contains("person"), "{json}");
        }
    }

    #[test]
    fn trace_ids_go_in_custom_and_attributes() {
        let mut item = item(Body::Message("m".into()));
        item.trace_id = Some(TRACE_ID.into());
        item.custom = Some(obj(&[("trace_id", s("app's")), ("span_id", s("app's"))]));
        let json = encode(&item);
        // Ours win over the app's; the app's stay when we have none.
        assert!(
            json.contains(concat!(
                r#""custom":{"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"app's"},"#,
                r#""attributes":[{"key":"trace_id","value":"4bf92f3577b34da6a3ce929d0e0e4736"}],"#
            )),
            "{json}"
        );
        // Not ids: left out.
        item.custom = None;
        for bad in ["", "xyz", "4bf92f3577b34da6a3ce929d0e0e47360", "4bf9\"}"] {
            item.trace_id = Some(bad.into());
            item.span_id = Some(bad.into());
            let json = encode(&item);
            assert!(
                !json.contains("custom") && !json.contains("attributes"),
                "{json}"
            );
        }
        // A custom that is not an object goes under `value`.
        item.trace_id = None;
        item.custom = Some(Json::Array(vec![Json::Number(1.0)]));
        assert!(encode(&item).contains(r#""custom":{"value":[1]},"#));
        item.span_id = Some(SPAN_ID.into());
        item.custom = Some(s("x"));
        assert!(encode(&item).contains(r#""custom":{"span_id":"00f067aa0ba902b7","value":"x"},"#));
    }

    #[test]
    fn scrubbing_reaches_every_depth_but_not_person_id() {
        let scrubber = Scrubber::new(&["secret", "id", "token"]);
        let item = Item {
            person: Some(obj(&[
                ("id", s("u-1")),
                ("secret", s("s")),
                ("meta", obj(&[("id", s("nested")), ("ok", s("fine"))])),
            ])),
            custom: Some(obj(&[
                (
                    "list",
                    Json::Array(vec![
                        obj(&[("Token", s("t")), ("keep", Json::Bool(false))]),
                        obj(&[("SECRET", obj(&[("whole", s("object"))]))]),
                    ]),
                ),
                (
                    "deep",
                    obj(&[("deeper", obj(&[("secret", Json::Number(1.5))]))]),
                ),
            ])),
            ..item(Body::Message("m".into()))
        };
        let json = encode_item(&item, &scrubber, MAX_ITEM_BYTES);
        assert!(
            json.contains(
                r#""person":{"id":"u-1","secret":"********","meta":{"id":"********","ok":"fine"}},"#
            ),
            "{json}"
        );
        assert!(
            json.contains(concat!(
                r#""custom":{"list":[{"Token":"********","keep":false},{"SECRET":"********"}],"#,
                r#""deep":{"deeper":{"secret":"********"}}},"#
            )),
            "{json}"
        );
        // A scrub field that names one of ours scrubs it too.
        let ours = Item {
            trace_id: Some(TRACE_ID.into()),
            ..item.clone()
        };
        let json = encode_item(&ours, &Scrubber::new(&["trace_id"]), MAX_ITEM_BYTES);
        assert!(
            json.contains(r#""custom":{"trace_id":"********","#),
            "{json}"
        );
        assert!(
            json.contains(r#"{"key":"trace_id","value":"********"}"#),
            "{json}"
        );
    }

    #[test]
    fn numbers_nulls_and_the_float_formatter() {
        fn stub(_: f64, out: &mut String) {
            out.push('F');
        }
        let item = Item {
            custom: Some(Json::Array(
                [
                    f64::NAN,
                    f64::INFINITY,
                    f64::NEG_INFINITY,
                    3.0,
                    -0.0,
                    0.5,
                    9_007_199_254_740_992.0,
                    -9_007_199_254_740_991.0,
                    1e300,
                ]
                .into_iter()
                .map(Json::Number)
                .collect(),
            )),
            person: Some(obj(&[("id", Json::Number(0.25))])),
            ..item(Body::Message("m".into()))
        };
        let json = encode_item_with(&item, &Scrubber::default(), MAX_ITEM_BYTES, stub);
        assert!(
            json.contains(r#""custom":{"value":[null,null,null,3,0,F,F,-9007199254740991,F]}"#),
            "{json}"
        );
        assert!(json.contains(r#""person":{"id":"F"}"#), "{json}");
        // The default formatter writes the shortest round-trip text.
        let json = encode(&item);
        assert!(
            json.contains(r#"[null,null,null,3,0,0.5,9007199254740992.0,-9007199254740991,1e300]"#),
            "{json}"
        );
        assert!(json.contains(r#""person":{"id":"0.25"}"#), "{json}");
    }

    #[test]
    fn strings_and_keys_are_escaped() {
        let item = Item {
            custom: Some(obj(&[("we\"ird\n", s("tab\there\u{1}"))])),
            context: Some("route/\u{2028}é😀".into()),
            ..item(Body::Trace(exception(
                "Bad\\Class",
                "said \"no\"\r\n",
                vec![frame("file \"x\".js", 1, Some("a\u{7f}b"))],
            )))
        };
        let json = encode(&item);
        for expected in [
            r#"{"filename":"file \"x\".js","lineno":1,"colno":2,"method":"a"#,
            r#""class":"Bad\\Class","message":"said \"no\"\r\n""#,
            "\"context\":\"route/\u{2028}é😀\"",
            r#""custom":{"we\"ird\n":"tab\there\u0001"}"#,
        ] {
            assert!(json.contains(expected), "{expected} in {json}");
        }
    }

    #[test]
    fn documented_limits_are_kept() {
        let long = "x".repeat(300);
        let item = Item {
            uuid: "u".repeat(40),
            environment: long.clone(),
            code_version: Some(long.clone()),
            person: Some(obj(&[
                ("id", s(&long)),
                ("username", s(&long)),
                ("email", s(&long)),
                ("other", s(&long)),
            ])),
            ..item(Body::Message("m".into()))
        };
        let json = encode(&item);
        let cut = |n: usize| "x".repeat(n - 3) + "...";
        assert_eq!(literal_after(&json, r#""environment":"#), cut(255));
        assert_eq!(literal_after(&json, r#""code_version":"#), cut(40));
        assert_eq!(literal_after(&json, r#""uuid":"#), "u".repeat(33) + "...");
        assert_eq!(literal_after(&json, r#""id":"#), cut(40));
        assert_eq!(literal_after(&json, r#""username":"#), cut(255));
        assert_eq!(literal_after(&json, r#""email":"#), cut(255));
        assert_eq!(literal_after(&json, r#""other":"#), long);
    }

    #[test]
    fn cuts_end_at_character_boundaries() {
        let mut out = String::new();
        push_cut("😀😀😀😀😀", 4, &mut out);
        assert_eq!(out, "\"😀...\"");
        out.clear();
        push_cut("😀😀😀😀", 4, &mut out);
        assert_eq!(out, "\"😀😀😀😀\"");
        out.clear();
        push_cut("aé😀", 2, &mut out);
        assert_eq!(out, "\"aé\"");
        out.clear();
        push_cut("abc", 0, &mut out);
        assert_eq!(out, "\"\"");
        out.clear();
        push_cut("\n\n\n\n\n", 4, &mut out);
        assert_eq!(out, r#""\n...""#);
    }

    fn many_frames(n: usize) -> Vec<StackFrame> {
        (0..n)
            .map(|i| {
                let method = "f".to_string() + &i.to_string();
                frame("https://shop.example/app.js", i as u32, Some(&method))
            })
            .collect()
    }

    /// The `N` of every `"method":"fN"`, in order.
    fn methods(json: &str) -> Vec<usize> {
        json.split(r#""method":"f"#)
            .skip(1)
            .map(|rest| rest[..rest.find('"').unwrap()].parse().unwrap())
            .collect()
    }

    #[test]
    fn frames_are_cut_first() {
        let item = Item {
            custom: Some(obj(&[("note", s(&"n".repeat(2000)))])),
            ..item(Body::TraceChain(vec![
                exception("Error", "outer", many_frames(100)),
                exception("Error", "cause", many_frames(61)),
                exception("Error", "root", many_frames(60)),
            ]))
        };
        let full = encode(&item);
        assert_eq!(methods(&full).len(), 100 + 61 + 60);
        let max = full.len() - 1000;
        let json = encode_item(&item, &Scrubber::default(), max);
        assert!(json.len() <= max);
        // Strings are untouched, frames cut to the first and last 30 of the long traces.
        assert!(json.contains(&"n".repeat(2000)));
        let expected: Vec<usize> = (0..30)
            .chain(70..100)
            .chain((0..30).chain(31..61))
            .chain(0..60)
            .collect();
        assert_eq!(methods(&json), expected);
    }

    #[test]
    fn long_strings_are_cut_next() {
        let message = "😀".repeat(3000);
        let item = Item {
            custom: Some(obj(&[
                ("big", s(&"b".repeat(1_000_000))),
                ("small", s("kept")),
            ])),
            ..item(Body::Trace(exception("Error", &message, many_frames(5))))
        };
        let json = encode(&item);
        assert!(json.len() <= MAX_ITEM_BYTES);
        assert_eq!(
            literal_after(&json, r#""message":"#),
            "😀".repeat(1021) + "..."
        );
        assert_eq!(literal_after(&json, r#""big":"#), "b".repeat(1021) + "...");
        assert_eq!(literal_after(&json, r#""small":"#), "kept");
        assert_eq!(methods(&json), [0, 1, 2, 3, 4]);
        // Smaller budgets cut shorter: the longest cut that fits.
        let at_1024 = json.len();
        let json = encode_item(&item, &Scrubber::default(), at_1024 - 1);
        assert!(json.len() < at_1024);
        assert_eq!(
            literal_after(&json, r#""message":"#),
            "😀".repeat(509) + "..."
        );
        let at_512 = json.len();
        let json = encode_item(&item, &Scrubber::default(), at_512 - 1);
        assert!(json.len() < at_512);
        assert_eq!(
            literal_after(&json, r#""message":"#),
            "😀".repeat(253) + "..."
        );
        assert_eq!(literal_after(&json, r#""big":"#), "b".repeat(253) + "...");
        assert!(
            json.contains(r#""small":"kept""#),
            "still the full item: {json}"
        );
        assert_eq!(methods(&json), [0, 1, 2, 3, 4]);
    }

    #[test]
    fn the_minimal_item_comes_last() {
        let huge_custom = Json::Object(
            (0..50_000)
                .map(|i| ("k".to_string() + &i.to_string(), Json::Number(i as f64)))
                .collect(),
        );
        let item = Item {
            custom: Some(huge_custom),
            person: Some(obj(&[("id", s("u-1"))])),
            trace_id: Some(TRACE_ID.into()),
            span_id: Some(SPAN_ID.into()),
            context: Some("checkout".into()),
            ..item(Body::TraceChain(vec![
                exception("TypeError", &"m".repeat(400), many_frames(10)),
                exception("Error", "cause", many_frames(10)),
            ]))
        };
        let json = encode(&item);
        let expected = String::new()
            + r#"{"data":{"environment":"production","body":{"trace":{"frames":[],"#
            + r#""exception":{"class":"TypeError","message":""#
            + &"m".repeat(252)
            + r#"..."}}},"level":"error","timestamp":1700000000,"platform":"browser","#
            + r#""language":"javascript","uuid":"0f8fad5b-d9cb-469f-a165-70867728950e","#
            + r#""context":"checkout","#
            + r#""client":{"javascript":{"source_map_enabled":false,"guess_uncaught_frames":false}},"#
            + r#""custom":{"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"00f067aa0ba902b7"},"#
            + r#""attributes":[{"key":"trace_id","value":"4bf92f3577b34da6a3ce929d0e0e4736"},"#
            + r#"{"key":"span_id","value":"00f067aa0ba902b7"}],"#
            + r#""notifier":{"name":"edge-telemetry","version":"0.1.0"}}}"#;
        assert_eq!(json, expected);
    }

    /// Every string as long and as costly to escape as it gets.
    fn worst_item() -> Item {
        let nasty = "\u{1}😀\"".repeat(2_000);
        let nasty_json = || {
            Json::Object(
                (0..200)
                    .map(|i| (nasty[..(i % 7) * 6].to_string() + &i.to_string(), s(&nasty)))
                    .collect(),
            )
        };
        let nasty_frames = || {
            (0..100)
                .map(|i| StackFrame {
                    filename: nasty.clone(),
                    lineno: Some(u32::MAX),
                    colno: Some(i),
                    method: Some(nasty.clone()),
                })
                .collect::<Vec<_>>()
        };
        Item {
            uuid: "\u{1}".repeat(100),
            level: Level::Critical,
            timestamp_secs: u64::MAX,
            environment: nasty.clone(),
            body: Body::TraceChain(
                (0..3)
                    .map(|_| exception(&nasty, &nasty, nasty_frames()))
                    .collect(),
            ),
            context: Some(nasty.clone()),
            request_url: Some("https://h/?".to_string() + &nasty),
            capture_ip: true,
            person: Some(Json::Object(
                [("id".to_string(), s(&nasty))]
                    .into_iter()
                    .chain(match nasty_json() {
                        Json::Object(members) => members,
                        _ => unreachable!(),
                    })
                    .collect(),
            )),
            custom: Some(nasty_json()),
            fingerprint: Some(nasty.clone()),
            framework: Some(nasty.clone()),
            browser: Some(nasty.clone()),
            code_version: Some(nasty.clone()),
            source_map_enabled: true,
            guess_uncaught_frames: true,
            trace_id: Some(TRACE_ID.into()),
            span_id: Some(SPAN_ID.into()),
            trace_url: Some(nasty.clone()),
            notifier_version: nasty,
            telemetry: Some(crate::cat!(
                "[{\"level\":\"info\",\"type\":\"log\",\"timestamp_ms\":1,\"body\":{\"message\":\"",
                "x".repeat(200_000),
                "\"},\"source\":\"client\"}]"
            )),
        }
    }

    #[test]
    fn any_item_fits_any_budget_from_the_minimum() {
        let worst = worst_item();
        let scrubber = Scrubber::default();
        for max in [
            MIN_ITEM_BYTES,
            MIN_ITEM_BYTES + 1,
            1500,
            2000,
            3000,
            5000,
            10_000,
            30_000,
            64 * 1024,
            MAX_ITEM_BYTES,
            1024 * 1024,
        ] {
            let json = encode_item(&worst, &scrubber, max);
            assert!(json.len() <= max, "{} > {max}", json.len());
            assert!(json.starts_with(r#"{"data":{"environment":"#));
            assert!(json.ends_with(r#"}}}"#));
        }
        // Below the minimum: the smallest item there is, whatever its size.
        let tiny = encode_item(&worst, &scrubber, 0);
        assert!(tiny.len() <= MIN_ITEM_BYTES, "{}: {tiny}", tiny.len());
        assert!(tiny.contains(r#""level":"critical""#));
        assert!(tiny.contains(r#""trace_id":"4bf92f3577b34da6a3ce929d0e0e4736""#));
    }

    #[test]
    fn deep_app_data_is_cut_at_a_depth() {
        let mut deep = Json::Null;
        for i in 0..200 {
            deep = if i % 2 == 0 {
                Json::Array(vec![deep])
            } else {
                obj(&[("k", deep)])
            };
        }
        let item = Item {
            custom: Some(deep),
            ..item(Body::Message("m".into()))
        };
        let json = encode(&item);
        // 64 levels under `custom`, then a placeholder.
        assert_eq!(json.matches(r#"{"k":["#).count(), 32, "{json}");
        assert!(json.contains(r#"{"k":["[Object]"]}"#), "{json}");
    }

    #[test]
    fn attempts_that_would_change_nothing_are_skipped() {
        let effective = |frames, longest| {
            let stats = Stats { frames, longest };
            let mut distinct: Vec<Cut> = Vec::new();
            for stage in STAGES {
                let cut = stats.effective(stage);
                if distinct.last() != Some(&cut) {
                    distinct.push(cut);
                }
            }
            distinct
        };
        // Nothing long: the full item, then the minimal one.
        assert_eq!(
            effective(10, 10),
            [cut(ALL, ALL, false), cut(0, ALL, true), cut(0, 0, true)]
        );
        // Many frames, short strings.
        assert_eq!(
            effective(500, 100),
            [
                cut(ALL, ALL, false),
                cut(KEEP_FRAMES, ALL, false),
                cut(0, ALL, true),
                cut(0, 64, true),
                cut(0, 16, true),
                cut(0, 0, true),
            ]
        );
        // Few frames, one long string.
        assert_eq!(
            effective(60, 700),
            [
                cut(ALL, ALL, false),
                cut(ALL, 512, false),
                cut(ALL, 256, false),
                cut(0, 255, true),
                cut(0, 64, true),
                cut(0, 16, true),
                cut(0, 0, true),
            ]
        );
    }

    #[test]
    fn custom_is_the_call_data_over_the_configured_data() {
        let base = obj(&[("a", Json::Number(1.0)), ("b", Json::Number(2.0))]);
        assert_eq!(merge_custom(Some(&base), Json::Null), Some(base.clone()));
        assert_eq!(merge_custom(None, Json::Null), None);
        assert_eq!(
            merge_custom(
                Some(&base),
                obj(&[("b", Json::Number(3.0)), ("c", Json::Bool(true))])
            ),
            Some(obj(&[
                ("a", Json::Number(1.0)),
                ("b", Json::Number(3.0)),
                ("c", Json::Bool(true))
            ]))
        );
        assert_eq!(
            merge_custom(Some(&base), Json::String("x".into())),
            Some(obj(&[
                ("a", Json::Number(1.0)),
                ("b", Json::Number(2.0)),
                ("extra", Json::String("x".into()))
            ]))
        );
        assert_eq!(
            merge_custom(None, Json::Number(4.0)),
            Some(obj(&[("extra", Json::Number(4.0))]))
        );
    }
}
