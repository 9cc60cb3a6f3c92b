//! Rollbar telemetry: the recent events that led to an error, sent with each item in
//! `body.telemetry` as rollbar.js sends them, so the item shows what happened before it:
//! log lines (`log.*` and captured console calls), network requests with their status and
//! duration, clicks, and navigations.
//!
//! Events are kept in a ring of [`MAX_EVENTS`] (rollbar.js's limit), each already encoded
//! and scrubbed when it happens: URLs with their query values replaced (as `url.full`), log
//! messages with the query values of the URLs in them, and every text cut to
//! [`MAX_TEXT_CHARS`] characters. The shape of an event is rollbar.js's:
//! `{"level","type","timestamp_ms","body":{…},"source":"client"}`.
//!
//! ```
//! use edge_telemetry_core::errors::telemetry::Telemetry;
//! use edge_telemetry_core::boundary::Severity;
//!
//! let mut t = Telemetry::default();
//! t.request_start(7, 1_000, "GET", "https://shop.example/api?token=s3cret", false);
//! t.request_end(7, 1_250, 503);
//! t.log(1_300, Severity::Warn, "retrying");
//! let json = t.to_json();
//! assert!(json.starts_with(r#"[{"level":"error","type":"network","timestamp_ms":1000,"body":{"subtype":"fetch","method":"GET","url":"https://shop.example/api?token=REDACTED","status_code":503,"start_time_ms":1000,"end_time_ms":1250},"source":"client"}"#));
//! assert!(json.ends_with(r#"{"level":"warning","type":"log","timestamp_ms":1300,"body":{"message":"retrying"},"source":"client"}]"#));
//! ```

use crate::prelude::*;

use crate::boundary::Severity;
use crate::json::{push_str_value, push_u64};
use crate::trace::span::truncate_chars;
use crate::web::url::{scrub_url, scrub_urls_in_text};

/// Events kept (the oldest goes first); rollbar.js keeps as many.
pub const MAX_EVENTS: usize = 100;
/// Characters kept of each text (message, URL, element).
pub const MAX_TEXT_CHARS: usize = 512;
/// Requests in flight remembered for their network event (the oldest is forgotten).
const MAX_REQUESTS: usize = 64;

/// A request in flight: its span handle, start, method, scrubbed URL, and API.
#[derive(Clone, Debug)]
struct Request {
    handle: u32,
    start_ms: u64,
    method: String,
    url: String,
    xhr: bool,
}

/// The recent events of a page.
#[derive(Clone, Debug, Default)]
pub struct Telemetry {
    /// Oldest first (a `Vec`: 100 short moves at most, and no `VecDeque` code in the module).
    events: Vec<String>,
    requests: Vec<Request>,
}

/// Rollbar's level for a log severity.
pub fn level_of(severity: Severity) -> &'static str {
    match severity {
        Severity::Trace | Severity::Debug => "debug",
        Severity::Info => "info",
        Severity::Warn => "warning",
        Severity::Error => "error",
        Severity::Fatal => "critical",
    }
}

fn text(s: &str, out: &mut String) {
    push_str_value(truncate_chars(s, MAX_TEXT_CHARS).unwrap_or(s), out);
}

impl Telemetry {
    fn push(&mut self, level: &str, kind: &str, at_ms: u64, body: impl FnOnce(&mut String)) {
        let mut e = String::with_capacity(160);
        e.push_str(r#"{"level":""#);
        e.push_str(level);
        e.push_str(r#"","type":""#);
        e.push_str(kind);
        e.push_str(r#"","timestamp_ms":"#);
        push_u64(at_ms, &mut e);
        e.push_str(r#","body":{"#);
        body(&mut e);
        e.push_str(r#"},"source":"client"}"#);
        if self.events.len() == MAX_EVENTS {
            self.events.remove(0);
        }
        self.events.push(e);
    }

    /// A log line (`log.*`, or a captured console call) at `at_ms`.
    pub fn log(&mut self, at_ms: u64, severity: Severity, message: &str) {
        let message = scrub_urls_in_text(message);
        self.push(level_of(severity), "log", at_ms, |e| {
            e.push_str(r#""message":"#);
            text(&message, e);
        });
    }

    /// A request starts (its CLIENT span's `handle`); its event is made when it ends.
    pub fn request_start(&mut self, handle: u32, at_ms: u64, method: &str, url: &str, xhr: bool) {
        if self.requests.len() == MAX_REQUESTS {
            self.requests.remove(0);
        }
        self.requests.push(Request {
            handle,
            start_ms: at_ms,
            method: method.to_owned(),
            url: scrub_url(url),
            xhr,
        });
    }

    /// The request of `handle` was aborted by the page: no event.
    pub fn request_forget(&mut self, handle: u32) {
        self.requests.retain(|r| r.handle != handle);
    }

    /// The request of `handle` ended at `end_ms` with `status` (0: no response): a network
    /// event, `error` for no response or a 4xx/5xx, else `info`.
    pub fn request_end(&mut self, handle: u32, end_ms: u64, status: u16) {
        let Some(i) = self.requests.iter().position(|r| r.handle == handle) else {
            return;
        };
        let r = self.requests.remove(i);
        let level = if status == 0 || status >= 400 {
            "error"
        } else {
            "info"
        };
        self.push(level, "network", r.start_ms, |e| {
            e.push_str(if r.xhr {
                r#""subtype":"xhr","method":"#
            } else {
                r#""subtype":"fetch","method":"#
            });
            text(&r.method, e);
            e.push_str(r#","url":"#);
            text(&r.url, e);
            e.push_str(r#","status_code":"#);
            push_u64(u64::from(status), e);
            e.push_str(r#","start_time_ms":"#);
            push_u64(r.start_ms, e);
            e.push_str(r#","end_time_ms":"#);
            push_u64(end_ms.max(r.start_ms), e);
        });
    }

    /// A user interaction (`click`, `submit`…) on `element` (`button#pay`, or the tag and an
    /// XPath).
    pub fn dom(&mut self, at_ms: u64, event_type: &str, element: &str) {
        self.push("info", "dom", at_ms, |e| {
            e.push_str(r#""subtype":"#);
            text(event_type, e);
            e.push_str(r#","element":"#);
            text(element, e);
        });
    }

    /// A navigation within the page (history API, hash change) from one URL to another.
    pub fn navigation(&mut self, at_ms: u64, from: &str, to: &str) {
        let (from, to) = (scrub_url(from), scrub_url(to));
        self.push("info", "navigation", at_ms, |e| {
            e.push_str(r#""from":"#);
            text(&from, e);
            e.push_str(r#","to":"#);
            text(&to, e);
        });
    }

    /// The events as a JSON array, oldest first.
    pub fn to_json(&self) -> String {
        let mut out =
            String::with_capacity(2 + self.events.iter().map(|e| e.len() + 1).sum::<usize>());
        out.push('[');
        for (i, e) in self.events.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(e);
        }
        out.push(']');
        out
    }

    /// Events kept.
    pub fn len(&self) -> usize {
        self.events.len()
    }

    /// Whether none is kept.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }
}

/// How an interaction's element is named in telemetry: `tag#id` when the XPath anchors on
/// the element's own id, else the tag and the XPath.
pub fn element_name(tag: &str, xpath: &str) -> String {
    let tag = tag.to_ascii_lowercase();
    if let Some(id) = xpath
        .strip_prefix("//*[@id=\"")
        .and_then(|rest| rest.strip_suffix("\"]"))
        .filter(|id| !id.contains('"'))
    {
        return crate::cat!(tag, "#", id);
    }
    if xpath.is_empty() {
        tag
    } else {
        crate::cat!(tag, " ", xpath)
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    #[test]
    fn the_ring_keeps_the_last_hundred_and_texts_are_bounded() {
        let mut t = Telemetry::default();
        for i in 0..150 {
            t.log(i, Severity::Info, &crate::text::decimal(i));
        }
        assert_eq!(t.len(), MAX_EVENTS);
        let json = t.to_json();
        assert!(json.starts_with(r#"[{"level":"info","type":"log","timestamp_ms":50,"#));
        t.log(200, Severity::Fatal, &"x".repeat(5_000));
        let last = t.to_json();
        assert!(last.contains(&crate::cat!("\"", "x".repeat(MAX_TEXT_CHARS), "\"")));
        assert!(!last.contains(&"x".repeat(MAX_TEXT_CHARS + 1)));
        assert!(last.contains(r#""level":"critical""#));
    }

    #[test]
    fn requests_clicks_and_navigations() {
        let mut t = Telemetry::default();
        t.request_start(1, 10, "POST", "https://api.example/pay?card=4111", true);
        t.request_start(2, 11, "GET", "/feed", false);
        t.request_end(2, 20, 200);
        t.request_end(1, 30, 0);
        t.request_end(9, 40, 200); // unknown: nothing
        t.dom(50, "click", &element_name("BUTTON", r#"//*[@id="pay"]"#));
        t.dom(
            51,
            "submit",
            &element_name("FORM", "/html[1]/body[1]/form[1]"),
        );
        t.navigation(60, "https://shop.example/a?s=1", "https://shop.example/b#x");
        let json = t.to_json();
        assert_eq!(
            json,
            concat!(
                r#"[{"level":"info","type":"network","timestamp_ms":11,"body":{"subtype":"fetch","method":"GET","url":"/feed","status_code":200,"start_time_ms":11,"end_time_ms":20},"source":"client"},"#,
                r#"{"level":"error","type":"network","timestamp_ms":10,"body":{"subtype":"xhr","method":"POST","url":"https://api.example/pay?card=REDACTED","status_code":0,"start_time_ms":10,"end_time_ms":30},"source":"client"},"#,
                r#"{"level":"info","type":"dom","timestamp_ms":50,"body":{"subtype":"click","element":"button#pay"},"source":"client"},"#,
                r#"{"level":"info","type":"dom","timestamp_ms":51,"body":{"subtype":"submit","element":"form /html[1]/body[1]/form[1]"},"source":"client"},"#,
                r#"{"level":"info","type":"navigation","timestamp_ms":60,"body":{"from":"https://shop.example/a?s=REDACTED","to":"https://shop.example/b"},"source":"client"}]"#,
            )
        );
    }
}
