//! Reading the page's values in Rust: option objects, arrays, RegExp rules, any value as
//! JSON data, numbers written by JavaScript. Every read is guarded (getters and proxies may
//! throw). Shared by both wasm modules of the package (the engine and the item encoder).

use crate::js::{self, JsValue};
use edge_telemetry_core::config::RollbarConfig;
use edge_telemetry_core::errors::capture::ItemExtras;
use edge_telemetry_core::errors::rollbar::Json;
use edge_telemetry_core::export::otlp::push_non_finite;
use edge_telemetry_core::prelude::*;

/// A page function the engine calls back (`onSpanEnd`, export.js's timers, the panic hook's
/// callbacks): called through `Reflect.apply`, which reports a throw instead of unwinding
/// through wasm.
#[derive(Clone, Debug)]
pub struct Callback(JsValue);

/// A RegExp of the page's options (`propagateTraceHeaderCorsUrls`, `ignoredMessages`).
#[derive(Clone, Debug)]
pub struct RegExp(JsValue);

impl Callback {
    /// `v` when it is a function.
    pub fn of(v: JsValue) -> Option<Self> {
        v.is_function().then_some(Self(v))
    }

    /// Calls it with `args` (`this` undefined); `Err` when it threw.
    pub fn call(&self, args: &[&JsValue]) -> Result<JsValue, js::Threw> {
        let list = js::array();
        for a in args {
            js::push(&list, a);
        }
        js::apply(&self.0, &list)
    }
}

/// Longest array read from page objects; a proxy may claim any length.
pub const MAX_ARRAY_ITEMS: u32 = 10_000;

/// The items of a JS array, read with `catch` (getters and proxies may throw). `None` for
/// a non-array, a throwing read, or more than [`MAX_ARRAY_ITEMS`] items.
pub fn array_items(v: &JsValue) -> Option<Vec<JsValue>> {
    let len = js::length(v)?;
    if len > f64::from(MAX_ARRAY_ITEMS) {
        return None;
    }
    Some((0..len as u32).map(|i| js::get_index(v, i)).collect())
}

/// Whether an allow-list RegExp matches `url`, from the start of the string like
/// `String.prototype.match` (so a `g` or `y` flag's `lastIndex` does not carry over).
pub fn regex_matches(re: &RegExp, url: &str) -> bool {
    js::regexp_test(&re.0, url).unwrap_or(false)
}

pub use js::get;

/// A boolean option, `default` when absent.
pub fn read_bool(obj: &JsValue, key: &str, default: bool) -> bool {
    get(obj, key).as_bool().unwrap_or(default)
}

/// A string option.
pub fn read_string(obj: &JsValue, key: &str) -> Option<String> {
    get(obj, key).as_string()
}

/// A count option: a whole number from 0 to 2^32-1.
pub fn read_count(obj: &JsValue, key: &str) -> Option<u32> {
    get(obj, key)
        .as_f64()
        .filter(|n| {
            edge_telemetry_core::float::is_integral(*n) && (0.0..=f64::from(u32::MAX)).contains(n)
        })
        .map(|n| n as u32)
}

/// A rule list option: one string or RegExp, or an array of them.
pub fn read_rules(obj: &JsValue, key: &str) -> (Vec<String>, Vec<RegExp>) {
    let rules = get(obj, key);
    let list = if rules.is_array() {
        array_items(&rules).unwrap_or_default()
    } else {
        vec![rules]
    };
    let mut strings = Vec::new();
    let mut regexes = Vec::new();
    for rule in list {
        if let Some(s) = rule.as_string() {
            strings.push(s);
        } else if rule.is_regexp() {
            regexes.push(RegExp(rule));
        }
    }
    (strings, regexes)
}

/// A list of strings option (other items skipped).
pub fn read_strings(obj: &JsValue, key: &str) -> Option<Vec<String>> {
    let list = array_items(&get(obj, key))?;
    Some(list.iter().filter_map(JsValue::as_string).collect())
}

/// Reads what the engine needs of the `rollbar` options into `r`: whether reporting is on,
/// where items go, and which window events are captured.
pub fn read_rollbar_channel(options: &JsValue, r: &mut RollbarConfig) {
    let group = get(options, "rollbar");
    r.access_token = read_string(&group, "accessToken");
    r.endpoint = read_string(&group, "endpoint");
    r.enabled = read_bool(&group, "enabled", r.enabled);
    r.capture_uncaught = read_bool(&group, "captureUncaught", r.capture_uncaught);
    r.capture_unhandled_rejections = read_bool(
        &group,
        "captureUnhandledRejections",
        r.capture_unhandled_rejections,
    );
}

/// Reads all the `rollbar` options into `r` (the item encoder's); returns the RegExp rules of
/// `ignoredMessages`.
pub fn read_rollbar_options(options: &JsValue, r: &mut RollbarConfig) -> Vec<RegExp> {
    read_rollbar_channel(options, r);
    let group = get(options, "rollbar");
    r.environment = read_string(&group, "environment");
    r.code_version = read_string(&group, "codeVersion");
    r.framework = read_string(&group, "framework");
    r.context = read_string(&group, "context");
    r.honeycomb_team = read_string(&group, "honeycombTeam");
    r.honeycomb_environment = read_string(&group, "honeycombEnvironment");
    r.capture_ip = read_bool(&group, "captureIp", r.capture_ip);
    r.source_map_enabled = read_bool(&group, "sourceMapEnabled", r.source_map_enabled);
    r.guess_uncaught_frames = read_bool(&group, "guessUncaughtFrames", r.guess_uncaught_frames);
    r.items_per_minute = read_count(&group, "itemsPerMinute").unwrap_or(r.items_per_minute);
    r.max_items = read_count(&group, "maxItems").unwrap_or(r.max_items);
    r.scrub_fields = read_strings(&group, "scrubFields").unwrap_or_default();
    let (strings, ignored_regexes) = read_rules(&group, "ignoredMessages");
    r.ignored_messages = strings;
    ignored_regexes
}

/// `rollbar.person` and `rollbar.custom`, as JSON data.
pub fn read_rollbar_extras(options: &JsValue) -> ItemExtras {
    let group = get(options, "rollbar");
    let json = |key: &str| {
        Some(get(&group, key))
            .filter(JsValue::is_object)
            .map(|v| to_json(&v))
    };
    ItemExtras {
        person: json("person"),
        custom: json("custom"),
    }
}

/// Nesting depth kept by [`to_json`]; deeper values become `"[depth limit]"`.
const MAX_JSON_DEPTH: u32 = 8;
/// Keys or items kept per object or array by [`to_json`].
const MAX_JSON_ENTRIES: u32 = 256;

/// Any JS value as JSON data: own string keys of objects, arrays, strings,
/// finite numbers, booleans; `undefined`, functions and symbols as `null`. Errors give
/// their `name`, `message` and `stack`. Depth and size are bounded, so cyclic values end.
pub fn to_json(v: &JsValue) -> Json {
    to_json_at(v, 0)
}

fn to_json_at(v: &JsValue, depth: u32) -> Json {
    if let Some(s) = v.as_string() {
        return Json::String(s);
    }
    if let Some(n) = v.as_f64() {
        return Json::Number(n);
    }
    if let Some(b) = v.as_bool() {
        return Json::Bool(b);
    }
    if !v.is_object() || v.is_function() {
        return Json::Null;
    }
    if depth >= MAX_JSON_DEPTH {
        return Json::String("[depth limit]".into());
    }
    if v.is_array() {
        let items = array_items(v).unwrap_or_default();
        return Json::Array(
            items
                .iter()
                .take(MAX_JSON_ENTRIES as usize)
                .map(|i| to_json_at(i, depth + 1))
                .collect(),
        );
    }
    if v.is_error() {
        let prop = |k: &str| get(v, k).as_string();
        let mut fields = Vec::new();
        for k in ["name", "message", "stack"] {
            if let Some(s) = prop(k) {
                fields.push((k.to_owned(), Json::String(s)));
            }
        }
        return Json::Object(fields);
    }
    let Some(keys) = js::keys(v) else {
        return Json::Null;
    };
    let n = js::length(&keys)
        .unwrap_or(0.0)
        .min(f64::from(MAX_JSON_ENTRIES)) as u32;
    let mut fields = Vec::new();
    for key in (0..n).map(|i| js::get_index(&keys, i)) {
        let Some(name) = key.as_string() else {
            continue;
        };
        let value = to_json_at(&js::get_value(v, &key), depth + 1);
        fields.push((name, value));
    }
    Json::Object(fields)
}

/// A number as JS's `String(n)` writes it. Done by JS: Rust's float formatting would add
/// about 20 KB to the wasm module.
pub fn number_to_string(n: f64) -> String {
    js::number_string(n)
}

/// Writes a double as JSON with JavaScript's number formatting (shortest round-trip text,
/// as Rust's), keeping Rust's float formatter out of the wasm module.
pub fn js_f64(v: f64, out: &mut String) {
    if push_non_finite(v, out) {
        return;
    }
    if v == 0.0 && v.is_sign_negative() {
        out.push_str("-0.0");
    } else {
        out.push_str(&number_to_string(v));
    }
}
