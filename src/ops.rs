//! Span calls recorded by the JS layer and run in one crossing (ARCHITECTURE.md, "The
//! boundary"). `ops.js` writes each `startSpan`, `setAttribute(s)` and `end` of the page into
//! a buffer of numbers, with the strings they name joined in one string, and calls
//! [`run_ops`] when something needs the engine's state (any other export), when the buffer is
//! full, or in a microtask of the task that made the calls. Each call runs here in order, at
//! the `performance.now()` it was made at, through the same conversion functions as the
//! direct exports, so its result is the one the direct call would have had.
//!
//! Layout: a call is its [`Op`], then its arguments. A span is a number: its handle, or
//! `-(i + 1)` for the `i`-th span started in the same buffer. Any other argument is two
//! numbers, an [`Arg`] tag and a value (a string by its index in the joined string). A set of
//! attributes is a count, then that many (key, value) argument pairs.

use alloc::sync::Arc;
use core::cell::RefCell;
use edge_telemetry_bindings::local::Local;
use edge_telemetry_core::boundary::{Arg, Op};
use edge_telemetry_core::model::{Key, KeyValue, SpanKind, StringValue, Value};
use edge_telemetry_core::prelude::*;
use edge_telemetry_core::trace::span::{span_kind_from_code, span_kind_from_name};
use edge_telemetry_core::trace::table::SpanHandle;

use crate::api::{self, checked_time};
use crate::convert;
use crate::platform::{BrowserClock, replay_time, set_replay_time};
use crate::state;

/// An argument as read from the buffer.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Read {
    Undefined,
    /// A string, by its index among the joined strings.
    Str(usize),
    Num(f64),
    Bool(bool),
    Span(SpanHandle),
    /// Not a valid record (a bad tag or index): treated as an invalid argument.
    Bad,
}

struct Reader<'a> {
    ops: &'a [f64],
    at: usize,
    strings: Vec<&'a str>,
    /// The strings used as attribute keys and values, each allocated once per run and shared
    /// by reference count (a page's spans repeat the same keys).
    shared: Vec<Option<Arc<str>>>,
    /// Handles of the spans started so far by this buffer, in order.
    started: Vec<SpanHandle>,
}

impl<'a> Reader<'a> {
    fn num(&mut self) -> f64 {
        let v = self.ops.get(self.at).copied().unwrap_or(f64::NAN);
        self.at += 1;
        v
    }

    fn span(&mut self) -> SpanHandle {
        let r = self.num();
        if r < 0.0 {
            self.started.get((-r - 1.0) as usize).copied().unwrap_or(0)
        } else if r <= f64::from(u32::MAX) {
            r as SpanHandle
        } else {
            0
        }
    }

    fn text(&self, i: usize) -> &'a str {
        self.strings.get(i).copied().unwrap_or_default()
    }

    fn shared(&mut self, i: usize) -> Arc<str> {
        if let Some(Some(s)) = self.shared.get(i) {
            return s.clone();
        }
        let s: Arc<str> = Arc::from(self.text(i));
        if let Some(slot) = self.shared.get_mut(i) {
            *slot = Some(s.clone());
        }
        s
    }

    /// An attribute key: a non-empty string.
    fn key(&mut self, a: Read) -> Option<Key> {
        match a {
            Read::Str(i) if !self.text(i).is_empty() => Some(Key::from(self.shared(i))),
            _ => None,
        }
    }

    /// An attribute value, as [`convert::to_value`] reads the same JS value.
    fn value(&mut self, a: Read) -> Option<Value> {
        match a {
            Read::Str(i) => Some(Value::String(StringValue::from(self.shared(i)))),
            Read::Num(n) => Some(convert::number_value(n)),
            Read::Bool(b) => Some(Value::Bool(b)),
            _ => None,
        }
    }

    /// A span name, as [`convert::to_name`] reads the same JS value.
    fn name(&self, a: Read) -> Option<String> {
        match a {
            Read::Str(i) => Some(self.text(i).to_owned()),
            Read::Num(n) => Some(convert::number_to_string(n)),
            Read::Bool(b) => Some(edge_telemetry_core::cat!(b)),
            _ => None,
        }
    }

    /// A span kind, as [`api::parse_kind`] reads the same JS value.
    fn kind(&self, a: Read) -> Option<SpanKind> {
        match a {
            Read::Undefined => Some(SpanKind::Internal),
            Read::Str(i) => span_kind_from_name(self.text(i)),
            Read::Num(n) => span_kind_from_code(n),
            _ => None,
        }
    }

    fn arg(&mut self) -> Read {
        let tag = self.num();
        let at = self.at;
        let v = self.num();
        match tag as u32 {
            t if t == Arg::Undefined as u32 => Read::Undefined,
            t if t == Arg::Str as u32 && (v as usize) < self.strings.len() => Read::Str(v as usize),
            t if t == Arg::Num as u32 => Read::Num(v),
            t if t == Arg::Bool as u32 => Read::Bool(v != 0.0),
            t if t == Arg::Span as u32 => {
                self.at = at;
                Read::Span(self.span())
            }
            _ => Read::Bad,
        }
    }

    /// A count, then (key, value) pairs: the valid ones, and how many were not.
    fn attributes(&mut self) -> (Vec<KeyValue>, u64) {
        let n = self.num();
        let n = if n >= 0.0 { n as usize } else { 0 };
        let mut kvs = Vec::with_capacity(n.min(64));
        let mut bad = 0;
        for _ in 0..n {
            let key = self.arg();
            let key = self.key(key);
            let value = self.arg();
            match (key, self.value(value)) {
                (Some(k), Some(v)) => kvs.push(KeyValue::new(k, v)),
                _ => bad += 1,
            }
        }
        (kvs, bad)
    }
}

/// A time argument, as [`api::time_arg`] reads the same JS value.
fn time_of(a: Read, what: &str) -> Option<u64> {
    let t = match a {
        Read::Undefined => Ok(None),
        Read::Num(ms) => convert::number_time(ms, BrowserClock::time_origin_ms()),
        _ => Err(convert::Invalid),
    };
    checked_time(t, what)
}

/// A parent argument: `undefined` (the active span) or one of our spans.
fn parent_of(a: Read) -> edge_telemetry_core::sdk::Parent {
    use edge_telemetry_core::sdk::Parent;
    match a {
        Read::Undefined => Parent::Active,
        Read::Span(h) if h != 0 => Parent::Span(h),
        _ => Parent::Invalid,
    }
}

/// Where `wasm.js` writes a buffer for [`run_ops_export`] (8-byte words, so that JS can
/// write the numbers as a `Float64Array`), and where the started spans' handles come back.
static BUFFER: Local<RefCell<Vec<u64>>> = Local::new(RefCell::new(Vec::new()));

/// The address of a buffer of at least `bytes` bytes (export `__et_buffer`).
#[cfg_attr(target_arch = "wasm32", unsafe(export_name = "__et_buffer"))]
pub extern "C" fn buffer(bytes: u32) -> *mut u8 {
    let Ok(mut b) = BUFFER.try_borrow_mut() else {
        return core::ptr::null_mut();
    };
    let words = (bytes as usize).div_ceil(8);
    if b.len() < words {
        b.resize(words, 0);
    }
    b.as_mut_ptr().cast()
}

/// Export `runOps`: `n` numbers, then `text` bytes of UTF-8 (the strings joined by NUL), as
/// `wasm.js` wrote them into the [`buffer`]. Leaves the started spans' handles at the start
/// of the buffer (as `u32`s) and returns how many there are.
#[cfg_attr(target_arch = "wasm32", unsafe(export_name = "runOps"))]
pub extern "C" fn run_ops_export(n: u32, text: u32) -> u32 {
    let Ok(mut b) = BUFFER.try_borrow_mut() else {
        return 0;
    };
    // Taken out while the calls run (they may call page code that calls back in).
    let words = core::mem::take(&mut *b);
    drop(b);
    let (n, text) = (n as usize, text as usize);
    let started = if n + text.div_ceil(8) <= words.len() {
        // SAFETY: the buffer holds `n` numbers JS wrote, then `text` bytes; u64 and f64 have
        // the same size and alignment, and any bits are a valid f64.
        let (ops, rest) = words.split_at(n);
        let ops: &[f64] = unsafe { core::slice::from_raw_parts(ops.as_ptr().cast(), n) };
        let bytes: &[u8] = unsafe { core::slice::from_raw_parts(rest.as_ptr().cast(), text) };
        run_ops(ops, core::str::from_utf8(bytes).unwrap_or_default())
    } else {
        state::count(|s| s.internal_errors += 1);
        Vec::new()
    };
    let mut words = words;
    let count = started.len();
    if words.len() < count.div_ceil(2) {
        words.resize(count.div_ceil(2), 0);
    }
    // SAFETY: the buffer has room for `count` u32s (checked above).
    let out: &mut [u32] =
        unsafe { core::slice::from_raw_parts_mut(words.as_mut_ptr().cast(), count) };
    out.copy_from_slice(&started);
    if let Ok(mut b) = BUFFER.try_borrow_mut() {
        *b = words;
    }
    count as u32
}

/// Runs the recorded calls in `ops` (strings: `strings` split at NUL). Returns the handles
/// of the spans they started, in order (0: not started).
pub fn run_ops(ops: &[f64], strings: &str) -> Vec<SpanHandle> {
    state::release_requests();
    let before = replay_time();
    let strings: Vec<&str> = strings.split('\0').collect();
    let mut r = Reader {
        ops,
        at: 0,
        shared: vec![None; strings.len()],
        strings,
        started: Vec::new(),
    };
    while r.at < ops.len() {
        let op = r.num();
        match op as u32 {
            o if o == Op::Start as u32 => {
                let flags = r.num() as u32;
                let name = r.arg();
                let kind = r.arg();
                let parent = r.arg();
                let start = r.arg();
                let attributes = r.attributes();
                set_replay_time(r.num());
                let handle = if state::is_initialized() {
                    api::start_read(
                        r.name(name),
                        r.kind(kind),
                        attributes,
                        parent_of(parent),
                        Vec::new(),
                        time_of(start, "startSpan (startTime)"),
                        flags,
                    )
                } else {
                    0
                };
                r.started.push(handle);
            }
            o if o == Op::SetAttribute as u32 => {
                let span = r.span();
                let key = r.arg();
                let key = r.key(key);
                let value = r.arg();
                let value = r.value(value);
                api::set_attribute_read(span, key, value);
            }
            o if o == Op::SetAttributes as u32 => {
                let span = r.span();
                let attributes = r.attributes();
                api::set_attributes_read(span, attributes);
            }
            o if o == Op::End as u32 => {
                let span = r.span();
                let end = r.arg();
                set_replay_time(r.num());
                api::end_read(span, time_of(end, "end (endTime)"));
            }
            _ => {
                // Not a record this version writes: the rest cannot be read.
                state::count(|s| s.internal_errors += 1);
                break;
            }
        }
    }
    set_replay_time(before);
    r.started
}
