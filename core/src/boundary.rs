//! The numbers the package's JS and its engine module exchange: one definition here, generated
//! into the package's `options-schema.js` ([`crate::config::schema::to_js_module`]) for JS, so
//! no number is written by hand on either side (ARCHITECTURE.md, "The boundary").

/// Defines a code enum: its variants with their numbers, `ALL` (each with its JS name, the
/// variant's) and `from_code`.
macro_rules! codes {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $v:ident = $n:literal,)* }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum $name {
            $($(#[$vdoc])* $v = $n,)*
        }

        impl $name {
            /// Every value with its JS name.
            pub const ALL: &'static [(&'static str, Self)] = &[$((stringify!($v), Self::$v),)*];

            /// The value numbered `n`, if one is.
            pub fn from_code(n: u32) -> Option<Self> {
                Self::ALL.iter().find(|(_, c)| *c as u32 == n).map(|(_, c)| *c)
            }
        }

        impl From<$name> for u32 {
            fn from(c: $name) -> u32 {
                c as u32
            }
        }
    };
}

codes! {
    /// A span call recorded by `ops.js`, as the first number of its record (the glue's `ops`).
    Op {
        /// `startSpan`: flags ([`StartFlag`]), name, kind, parent, startTime, attributes, then
        /// the time it was made.
        Start = 1,
        /// `span.setAttribute`: span, key, value.
        SetAttribute = 2,
        /// `span.setAttributes`: span, attributes.
        SetAttributes = 3,
        /// `span.end`: span, endTime, then the time it was made.
        End = 4,
    }
}

codes! {
    /// How an argument of a recorded span call is written: this tag, then one number.
    Arg {
        /// `undefined` (the number is ignored).
        Undefined = 0,
        /// A string: the number is its index among the joined strings.
        Str = 1,
        /// A number: the number.
        Num = 2,
        /// A boolean: 1 or 0.
        Bool = 3,
        /// A span (as a parent): its handle, or `-(i + 1)` for the `i`-th span started in the
        /// same buffer.
        Span = 4,
    }
}

codes! {
    /// An outgoing channel, as JS names it (`Channel.Spans`, `Channel.Items`).
    Channel {
        /// Finished spans (OTLP/HTTP JSON).
        Spans = 0,
        /// Rollbar items.
        Items = 1,
        /// Log records (OTLP/HTTP JSON).
        Logs = 2,
    }
}

codes! {
    /// A log record's severity: the first `SeverityNumber` of each of OpenTelemetry's ranges
    /// (`log.trace` … `log.fatal` pass these).
    Severity {
        /// 1–4.
        Trace = 1,
        /// 5–8.
        Debug = 5,
        /// 9–12.
        Info = 9,
        /// 13–16.
        Warn = 13,
        /// 17–20.
        Error = 17,
        /// 21–24.
        Fatal = 21,
    }
}

codes! {
    /// Where a flush stands.
    FlushState {
        /// Something before it is still queued or in flight.
        Waiting = 0,
        /// Everything before it was acknowledged (or the channel is off).
        Done = 1,
        /// Some of it was given up (counted).
        GaveUp = 2,
    }
}

codes! {
    /// How an instrumented request ended.
    Outcome {
        /// A response arrived (any status).
        Response = 0,
        /// No response: a network error.
        NetworkError = 1,
        /// The page aborted it.
        Aborted = 2,
        /// It timed out (XHR `timeout`).
        Timeout = 3,
    }
}

codes! {
    /// Which API an instrumented request was made with.
    RequestApi {
        /// `fetch`.
        Fetch = 0,
        /// `XMLHttpRequest`.
        Xhr = 1,
    }
}

codes! {
    /// What `index.js` tells `startSpan` besides the options' fields, as bits of `flags`.
    StartFlag {
        /// `startRootSpan`, or `root: true`.
        Root = 1,
        /// The options were not an object (or could not be read).
        BadOptions = 2,
    }
}

codes! {
    /// The instrumentations `init` can turn on, as bits of `instrumentations()`.
    Instrumentation {
        /// `fetch`.
        Fetch = 1,
        /// `XMLHttpRequest`.
        Xhr = 2,
        /// The `documentLoad` span.
        DocumentLoad = 4,
    }
}

/// What `channelResult` returns when it is not a delay before retrying (milliseconds,
/// never negative): the request is done (acknowledged, or given up and counted).
pub const RESULT_DONE: i32 = -1;
/// What `channelResult` returns for a request held behind the batch probing a failing
/// endpoint: the transport keeps it, without a timer, until `channelTake` hands it back.
pub const RESULT_HELD: i32 = -2;

/// Every code enum by its JS name, as `options-schema.js` exports them.
pub fn all() -> [(&'static str, alloc::vec::Vec<(&'static str, u32)>); 9] {
    fn of<T: Copy + Into<u32>>(all: &[(&'static str, T)]) -> alloc::vec::Vec<(&'static str, u32)> {
        all.iter().map(|(n, c)| (*n, (*c).into())).collect()
    }
    [
        ("Op", of(Op::ALL)),
        ("Arg", of(Arg::ALL)),
        ("Channel", of(Channel::ALL)),
        ("Severity", of(Severity::ALL)),
        ("FlushState", of(FlushState::ALL)),
        ("Outcome", of(Outcome::ALL)),
        ("RequestApi", of(RequestApi::ALL)),
        ("StartFlag", of(StartFlag::ALL)),
        ("Instrumentation", of(Instrumentation::ALL)),
    ]
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    #[test]
    fn every_code_reads_back_and_names_are_unique() {
        for (enum_name, codes) in all() {
            for (i, (name, code)) in codes.iter().enumerate() {
                assert!(
                    codes[i + 1..].iter().all(|(n, c)| n != name && c != code),
                    "{enum_name}.{name}"
                );
            }
        }
        assert_eq!(Op::from_code(4), Some(Op::End));
        assert_eq!(Channel::from_code(1), Some(Channel::Items));
        assert_eq!(Outcome::from_code(9), None);
    }

    #[test]
    fn the_generated_module_exports_every_code() {
        let m = crate::config::schema::to_js_module();
        assert!(m.contains("export const Op = Object.freeze({ Start: 1, SetAttribute: 2, SetAttributes: 3, End: 4 });\n"), "{m}");
        assert!(m.contains("export const Instrumentation = Object.freeze({ Fetch: 1, Xhr: 2, DocumentLoad: 4 });\n"), "{m}");
        for (name, _) in all() {
            assert!(m.contains(&format!("export const {name} = ")), "{name}");
        }
    }
}
