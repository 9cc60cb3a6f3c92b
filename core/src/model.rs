//! The engine's own trace vocabulary: ids, trace flags, `tracestate`, span context, span
//! kind, status, attribute keys and values, links.
//!
//! The names and shapes follow the `opentelemetry` API crate, so code reads the same as code
//! written against it, but nothing here needs `std`: these are the types the browser engine
//! is built from, and `opentelemetry` (which needs `std`) is kept out of the wasm module
//! (ARCHITECTURE.md, "Size and speed"). Native services get the `opentelemetry` types with
//! the `otel` feature (on by default): [`From`] conversions in both directions, and the
//! propagator in [`crate::propagation`].
//!
//! What differs from `opentelemetry`, on purpose:
//! - [`TraceState`] holds its members as given. Which members are valid is decided where a
//!   header is parsed or written ([`crate::propagation::tracestate`], W3C Trace Context
//!   Level 2), not by the container.
//! - [`SpanKind`] is `Copy`, and [`Key`] and [`StringValue`] compare a shared string by
//!   pointer before comparing its text (span attributes repeat the same interned keys).

use crate::prelude::*;
use alloc::borrow::Cow;
use alloc::sync::Arc;
use core::fmt;

/// An id type: an unsigned integer of `$bytes` bytes, all zero when invalid, printed as
/// `$digits` lowercase hex digits.
macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $int:ty, $bytes:literal, $digits:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
        pub struct $name($int);

        impl $name {
            /// The invalid (all-zero) id.
            pub const INVALID: $name = $name(0);

            /// From big-endian bytes.
            pub const fn from_bytes(bytes: [u8; $bytes]) -> Self {
                Self(<$int>::from_be_bytes(bytes))
            }

            /// As big-endian bytes.
            pub const fn to_bytes(self) -> [u8; $bytes] {
                self.0.to_be_bytes()
            }
        }

        impl From<$int> for $name {
            fn from(v: $int) -> Self {
                Self(v)
            }
        }

        impl From<[u8; $bytes]> for $name {
            fn from(bytes: [u8; $bytes]) -> Self {
                Self::from_bytes(bytes)
            }
        }

        impl fmt::LowerHex for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::LowerHex::fmt(&self.0, f)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{:0w$x}", self.0, w = $digits)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(self, f)
            }
        }
    };
}

id_type!(
    /// A trace id: 16 bytes, all zero when invalid.
    TraceId, u128, 16, 32
);
id_type!(
    /// A span id: 8 bytes, all zero when invalid.
    SpanId, u64, 8, 16
);

/// The W3C trace flags byte (bit 0: sampled; bit 1, Level 2: random).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct TraceFlags(u8);

impl TraceFlags {
    /// No flag set.
    pub const NOT_SAMPLED: TraceFlags = TraceFlags(0);
    /// The `sampled` flag.
    pub const SAMPLED: TraceFlags = TraceFlags(1);

    /// From the flags byte.
    pub const fn new(flags: u8) -> Self {
        Self(flags)
    }

    /// Whether the `sampled` flag is set.
    pub const fn is_sampled(&self) -> bool {
        self.0 & 1 == 1
    }

    /// The same flags with `sampled` set or cleared.
    pub const fn with_sampled(self, sampled: bool) -> Self {
        Self(if sampled { self.0 | 1 } else { self.0 & !1 })
    }

    /// The flags byte.
    pub const fn to_u8(self) -> u8 {
        self.0
    }
}

impl core::ops::BitAnd for TraceFlags {
    type Output = Self;
    fn bitand(self, rhs: Self) -> Self {
        Self(self.0 & rhs.0)
    }
}

impl core::ops::BitOr for TraceFlags {
    type Output = Self;
    fn bitor(self, rhs: Self) -> Self {
        Self(self.0 | rhs.0)
    }
}

/// A `tracestate`: vendor `(key, value)` members in order, most recent first. Empty is the
/// common case: `None`, which every span context copies (a clone of an empty `Vec` is a call;
/// of `None`, nothing: about 100 ns a span in wasm, measured).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct TraceState(Option<Vec<(String, String)>>);

impl TraceState {
    /// No members.
    pub const NONE: TraceState = TraceState(None);

    /// The members, in order, as given (the caller validates them).
    pub fn from_members(members: impl IntoIterator<Item = (String, String)>) -> Self {
        let members: Vec<_> = members.into_iter().collect();
        Self((!members.is_empty()).then_some(members))
    }

    fn members(&self) -> &[(String, String)] {
        self.0.as_deref().unwrap_or_default()
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.members()
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Whether there are no members.
    pub fn is_empty(&self) -> bool {
        self.0.is_none()
    }

    /// The members, in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &str)> {
        self.into_iter()
    }
}

impl<'a> IntoIterator for &'a TraceState {
    type Item = (&'a str, &'a str);
    type IntoIter = core::iter::Map<
        core::slice::Iter<'a, (String, String)>,
        fn(&'a (String, String)) -> (&'a str, &'a str),
    >;

    fn into_iter(self) -> Self::IntoIter {
        self.members().iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

/// What identifies a span to others: its trace and span ids, flags, whether it came from
/// another process, and its `tracestate`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct SpanContext {
    trace_id: TraceId,
    span_id: SpanId,
    trace_flags: TraceFlags,
    is_remote: bool,
    trace_state: TraceState,
}

impl SpanContext {
    /// The invalid context.
    pub const NONE: SpanContext = SpanContext {
        trace_id: TraceId::INVALID,
        span_id: SpanId::INVALID,
        trace_flags: TraceFlags::NOT_SAMPLED,
        is_remote: false,
        trace_state: TraceState::NONE,
    };

    /// A context from its parts.
    pub fn new(
        trace_id: TraceId,
        span_id: SpanId,
        trace_flags: TraceFlags,
        is_remote: bool,
        trace_state: TraceState,
    ) -> Self {
        Self {
            trace_id,
            span_id,
            trace_flags,
            is_remote,
            trace_state,
        }
    }

    /// The invalid context.
    pub fn empty_context() -> Self {
        Self::NONE
    }

    /// The trace id.
    pub fn trace_id(&self) -> TraceId {
        self.trace_id
    }

    /// The span id.
    pub fn span_id(&self) -> SpanId {
        self.span_id
    }

    /// The trace flags.
    pub fn trace_flags(&self) -> TraceFlags {
        self.trace_flags
    }

    /// Whether it came from another process.
    pub fn is_remote(&self) -> bool {
        self.is_remote
    }

    /// Whether the `sampled` flag is set.
    pub fn is_sampled(&self) -> bool {
        self.trace_flags.is_sampled()
    }

    /// Whether both ids are valid (non-zero).
    pub fn is_valid(&self) -> bool {
        self.trace_id != TraceId::INVALID && self.span_id != SpanId::INVALID
    }

    /// The `tracestate`.
    pub fn trace_state(&self) -> &TraceState {
        &self.trace_state
    }
}

/// What a span describes (OpenTelemetry's span kinds).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SpanKind {
    /// Work inside the application.
    Internal,
    /// Handling a request.
    Server,
    /// Making a request.
    Client,
    /// Sending a message.
    Producer,
    /// Receiving a message.
    Consumer,
}

/// A span's status.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub enum Status {
    /// Not set.
    #[default]
    Unset,
    /// Failed, with a description.
    Error {
        /// What went wrong.
        description: Cow<'static, str>,
    },
    /// Set to OK by the application.
    Ok,
}

impl Status {
    /// An error status with `description`.
    pub fn error(description: impl Into<Cow<'static, str>>) -> Self {
        Status::Error {
            description: description.into(),
        }
    }
}

/// A string that is static, owned, or shared by reference count (keys and values a page
/// repeats are shared).
#[derive(Clone)]
enum Text {
    Static(&'static str),
    Owned(Box<str>),
    Shared(Arc<str>),
}

impl Text {
    fn as_str(&self) -> &str {
        match self {
            Text::Static(s) => s,
            Text::Owned(s) => s,
            Text::Shared(s) => s,
        }
    }
}

impl PartialEq for Text {
    fn eq(&self, other: &Self) -> bool {
        if let (Text::Shared(a), Text::Shared(b)) = (self, other) {
            if Arc::ptr_eq(a, b) {
                return true;
            }
        }
        self.as_str() == other.as_str()
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

macro_rules! text_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq)]
        pub struct $name(Text);

        impl $name {
            /// The text.
            pub fn as_str(&self) -> &str {
                self.0.as_str()
            }

            /// A static string, without allocating.
            pub const fn from_static_str(s: &'static str) -> Self {
                Self(Text::Static(s))
            }
        }

        impl From<&'static str> for $name {
            fn from(s: &'static str) -> Self {
                Self(Text::Static(s))
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                Self(Text::Owned(s.into_boxed_str()))
            }
        }

        impl From<Arc<str>> for $name {
            fn from(s: Arc<str>) -> Self {
                Self(Text::Shared(s))
            }
        }

        impl From<Cow<'static, str>> for $name {
            fn from(s: Cow<'static, str>) -> Self {
                match s {
                    Cow::Borrowed(s) => s.into(),
                    Cow::Owned(s) => s.into(),
                }
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                self.as_str()
            }
        }
    };
}

text_type!(
    /// An attribute key.
    Key
);
text_type!(
    /// A string attribute value.
    StringValue
);

impl Eq for Key {}

impl core::hash::Hash for Key {
    fn hash<H: core::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state)
    }
}

/// A homogeneous array attribute value.
#[derive(Clone, Debug, PartialEq)]
pub enum Array {
    /// Booleans.
    Bool(Vec<bool>),
    /// Integers.
    I64(Vec<i64>),
    /// Doubles.
    F64(Vec<f64>),
    /// Strings.
    String(Vec<StringValue>),
}

/// An attribute value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// A boolean.
    Bool(bool),
    /// An integer.
    I64(i64),
    /// A double.
    F64(f64),
    /// A string.
    String(StringValue),
    /// An array.
    Array(Array),
}

impl Value {
    /// The value as text: a string as it is, anything else as Rust prints it.
    pub fn as_str(&self) -> Cow<'_, str> {
        match self {
            Value::String(s) => Cow::Borrowed(s.as_str()),
            Value::Bool(b) => Cow::Owned(b.to_string()),
            Value::I64(i) => Cow::Owned(i.to_string()),
            Value::F64(f) => Cow::Owned(f.to_string()),
            Value::Array(a) => Cow::Owned(format!("{a:?}")),
        }
    }
}

/// `From<$from> for Value`, wrapping in `$variant` (strings first into a [`StringValue`]).
macro_rules! value_from {
    ($($from:ty => $variant:ident),* $(,)?) => {
        $(impl From<$from> for Value {
            fn from(v: $from) -> Self {
                Value::$variant(v.into())
            }
        })*
    };
}

value_from!(
    bool => Bool,
    i64 => I64,
    f64 => F64,
    &'static str => String,
    String => String,
    Arc<str> => String,
    Cow<'static, str> => String,
    StringValue => String,
    Array => Array,
);

/// An attribute: a key and its value.
#[derive(Clone, Debug, PartialEq)]
pub struct KeyValue {
    /// The key.
    pub key: Key,
    /// The value.
    pub value: Value,
}

impl KeyValue {
    /// An attribute.
    pub fn new(key: impl Into<Key>, value: impl Into<Value>) -> Self {
        Self {
            key: key.into(),
            value: value.into(),
        }
    }
}

/// A link from a span to another span's context, with attributes.
#[derive(Clone, Debug, PartialEq)]
pub struct Link {
    /// The linked span's context.
    pub span_context: SpanContext,
    /// The link's attributes.
    pub attributes: Vec<KeyValue>,
    /// Attributes dropped by the limit.
    pub dropped_attributes_count: u32,
}

impl Link {
    /// A link to `span_context` without attributes.
    pub fn with_context(span_context: SpanContext) -> Self {
        Self {
            span_context,
            attributes: Vec::new(),
            dropped_attributes_count: 0,
        }
    }
}

/// Conversions to and from the `opentelemetry` API types, for native services.
#[cfg(feature = "otel")]
mod otel {
    use super::*;
    use opentelemetry::trace as ot;

    /// `From` both ways between one of our ids or flags and opentelemetry's, through the
    /// conversion functions each side has (`to_bytes`/`from_bytes`, `to_u8`/`new`).
    macro_rules! both_ways {
        ($ours:ident, $to:ident, $from:ident) => {
            impl From<$ours> for ot::$ours {
                fn from(v: $ours) -> Self {
                    ot::$ours::$from(v.$to())
                }
            }

            impl From<ot::$ours> for $ours {
                fn from(v: ot::$ours) -> Self {
                    $ours::$from(v.$to())
                }
            }
        };
    }

    both_ways!(TraceId, to_bytes, from_bytes);
    both_ways!(SpanId, to_bytes, from_bytes);
    both_ways!(TraceFlags, to_u8, new);

    /// The members `opentelemetry`'s `TraceState` accepts (its key rules are stricter than
    /// Level 2's: see [`crate::propagation::tracestate`]); the others are left out.
    impl From<&TraceState> for ot::TraceState {
        fn from(ts: &TraceState) -> Self {
            if let Ok(state) = ot::TraceState::from_key_value(ts.iter()) {
                return state;
            }
            let representable = ts
                .iter()
                .filter(|pair| ot::TraceState::from_key_value([*pair]).is_ok());
            // Every remaining pair was accepted on its own, and the checks are per pair.
            ot::TraceState::from_key_value(representable).unwrap_or_default()
        }
    }

    impl From<&ot::TraceState> for TraceState {
        fn from(ts: &ot::TraceState) -> Self {
            TraceState::from_members(ts.into_iter().map(|(k, v)| (k.to_owned(), v.to_owned())))
        }
    }

    impl From<&SpanContext> for ot::SpanContext {
        fn from(c: &SpanContext) -> Self {
            ot::SpanContext::new(
                c.trace_id().into(),
                c.span_id().into(),
                c.trace_flags().into(),
                c.is_remote(),
                c.trace_state().into(),
            )
        }
    }

    impl From<&ot::SpanContext> for SpanContext {
        fn from(c: &ot::SpanContext) -> Self {
            SpanContext::new(
                c.trace_id().into(),
                c.span_id().into(),
                c.trace_flags().into(),
                c.is_remote(),
                c.trace_state().into(),
            )
        }
    }

    impl From<SpanKind> for ot::SpanKind {
        fn from(k: SpanKind) -> Self {
            match k {
                SpanKind::Internal => ot::SpanKind::Internal,
                SpanKind::Server => ot::SpanKind::Server,
                SpanKind::Client => ot::SpanKind::Client,
                SpanKind::Producer => ot::SpanKind::Producer,
                SpanKind::Consumer => ot::SpanKind::Consumer,
            }
        }
    }

    impl From<&Status> for ot::Status {
        fn from(s: &Status) -> Self {
            match s {
                Status::Unset => ot::Status::Unset,
                Status::Ok => ot::Status::Ok,
                Status::Error { description } => ot::Status::error(description.clone()),
            }
        }
    }

    fn string(s: &StringValue) -> opentelemetry::StringValue {
        opentelemetry::StringValue::from(s.as_str().to_owned())
    }

    impl From<&Value> for opentelemetry::Value {
        fn from(v: &Value) -> Self {
            use opentelemetry::{Array as A, Value as V};
            match v {
                Value::Bool(b) => V::Bool(*b),
                Value::I64(i) => V::I64(*i),
                Value::F64(f) => V::F64(*f),
                Value::String(s) => V::String(string(s)),
                Value::Array(Array::Bool(x)) => V::Array(A::Bool(x.clone())),
                Value::Array(Array::I64(x)) => V::Array(A::I64(x.clone())),
                Value::Array(Array::F64(x)) => V::Array(A::F64(x.clone())),
                Value::Array(Array::String(x)) => {
                    V::Array(A::String(x.iter().map(string).collect()))
                }
            }
        }
    }

    impl From<&KeyValue> for opentelemetry::KeyValue {
        fn from(kv: &KeyValue) -> Self {
            opentelemetry::KeyValue::new(
                kv.key.as_str().to_owned(),
                opentelemetry::Value::from(&kv.value),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_their_bytes_and_print_as_hex() {
        let t = TraceId::from_bytes([0x4b; 16]);
        assert_eq!(t.to_bytes(), [0x4b; 16]);
        assert_eq!(t.to_string(), "4b".repeat(16));
        assert_eq!(
            SpanId::from(0xf067aa0ba902b7u64).to_string(),
            "00f067aa0ba902b7"
        );
        assert!(!SpanContext::NONE.is_valid());
        let c = SpanContext::new(
            t,
            SpanId::from(1),
            TraceFlags::SAMPLED,
            true,
            TraceState::NONE,
        );
        assert!(c.is_valid() && c.is_sampled() && c.is_remote());
    }

    #[test]
    fn flags_keep_the_other_bits() {
        let f = TraceFlags::new(0b11);
        assert_eq!(f.with_sampled(false).to_u8(), 0b10);
        assert_eq!(TraceFlags::new(0b10).with_sampled(true).to_u8(), 0b11);
    }

    #[test]
    fn keys_and_strings_compare_by_text_whatever_they_hold() {
        let shared: Arc<str> = Arc::from("http.method");
        assert_eq!(Key::from(shared.clone()), Key::from(shared));
        assert_eq!(
            Key::from("http.method"),
            Key::from(String::from("http.method"))
        );
        assert_ne!(Key::from("a"), Key::from("b"));
        assert_eq!(
            Value::from("x"),
            Value::String(StringValue::from(String::from("x")))
        );
    }

    #[test]
    fn tracestate_keeps_its_members_in_order() {
        let ts = TraceState::from_members([("b".into(), "2".into()), ("a".into(), "1".into())]);
        assert_eq!(ts.get("a"), Some("1"));
        assert_eq!(ts.iter().collect::<Vec<_>>(), [("b", "2"), ("a", "1")]);
        assert!(TraceState::default().is_empty());
    }
}
