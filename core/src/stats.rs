//! Counters of what the SDK did and, above all, what it dropped. `getStats()` returns them
//! and debug mode logs them; nothing is ever dropped silently.

/// SDK counters. Field names map to camelCase keys in `getStats()`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Spans started (recording or not).
    pub spans_started: u64,
    /// Recording spans ended.
    pub spans_ended: u64,
    /// Spans not recorded because their trace is not sampled.
    pub spans_not_recorded: u64,
    /// Attributes dropped by a limit or because their value had an unsupported type.
    pub attributes_dropped: u64,
    /// Attribute values shortened to the length limit.
    pub attributes_truncated: u64,
    /// Events dropped by the limit.
    pub events_dropped: u64,
    /// Links dropped by the limit or because their context was invalid.
    pub links_dropped: u64,
    /// Calls with arguments of the wrong type (coerced or ignored, never thrown).
    pub invalid_arguments: u64,
    /// Calls on a span that had already ended.
    pub calls_after_end: u64,
    /// Requests instrumented by the fetch wrapper.
    pub fetch_requests: u64,
    /// Requests instrumented by the XHR wrapper.
    pub xhr_requests: u64,
    /// Requests that got trace headers.
    pub requests_propagated: u64,
    /// Internal faults caught at the JS boundary (the call went on without the SDK).
    pub internal_errors: u64,
    /// Open spans evicted because too many were open at once (never ended).
    pub spans_evicted: u64,
    /// Spans open now (filled in when the counters are read).
    pub open_spans: u64,
    /// Async scopes forgotten because too many promises were pending at once.
    pub async_scopes_forgotten: u64,
    /// Finished spans dropped because the export queue was full.
    pub spans_dropped: u64,
    /// Spans the endpoint acknowledged.
    pub spans_exported: u64,
    /// Spans given up after a failed export (not retryable, attempts or time exhausted).
    pub spans_export_failed: u64,
    /// Spans the endpoint acknowledged but rejected (OTLP `partialSuccess.rejectedSpans`).
    pub spans_rejected: u64,
    /// Export requests sent (retries included).
    pub export_requests: u64,
    /// Export requests that were retries.
    pub export_retries: u64,
    /// Bytes of OTLP JSON encoded for export (before compression).
    pub export_bytes: u64,
    /// Log records queued for export.
    pub logs_queued: u64,
    /// Log records whose body was cut to the length limit.
    pub logs_truncated: u64,
    /// Log records dropped because the export queue was full.
    pub logs_dropped: u64,
    /// Log records the endpoint acknowledged.
    pub logs_exported: u64,
    /// Log records given up after a failed export.
    pub logs_export_failed: u64,
    /// Log records the endpoint acknowledged but rejected (`rejectedLogRecords`).
    pub logs_rejected: u64,
    /// Error items Rollbar acknowledged.
    pub items_sent: u64,
    /// Error items dropped before sending: `itemsPerMinute`, `maxItems`, a 429 pause, a full
    /// queue, `beforeSend`, or too large.
    pub items_dropped: u64,
    /// Errors not sent because the same one was reported within the de-duplication window.
    pub items_deduplicated: u64,
    /// Errors not sent because `ignoredMessages` matched (or a bare `Script error.`).
    pub items_ignored: u64,
    /// Error items given up after sending failed (not retryable, or attempts exhausted).
    pub items_failed: u64,
    /// Errors raised while reporting an error (counted, never reported).
    pub reporting_errors: u64,
}

impl Stats {
    /// `(camelCase name, value)` pairs, in a stable order.
    pub fn entries(&self) -> [(&'static str, u64); 35] {
        [
            ("spansStarted", self.spans_started),
            ("spansEnded", self.spans_ended),
            ("spansNotRecorded", self.spans_not_recorded),
            ("attributesDropped", self.attributes_dropped),
            ("attributesTruncated", self.attributes_truncated),
            ("eventsDropped", self.events_dropped),
            ("linksDropped", self.links_dropped),
            ("invalidArguments", self.invalid_arguments),
            ("callsAfterEnd", self.calls_after_end),
            ("fetchRequests", self.fetch_requests),
            ("xhrRequests", self.xhr_requests),
            ("requestsPropagated", self.requests_propagated),
            ("internalErrors", self.internal_errors),
            ("asyncScopesForgotten", self.async_scopes_forgotten),
            ("spansEvicted", self.spans_evicted),
            ("openSpans", self.open_spans),
            ("spansDropped", self.spans_dropped),
            ("spansExported", self.spans_exported),
            ("spansExportFailed", self.spans_export_failed),
            ("spansRejected", self.spans_rejected),
            ("exportRequests", self.export_requests),
            ("exportRetries", self.export_retries),
            ("exportBytes", self.export_bytes),
            ("logsQueued", self.logs_queued),
            ("logsTruncated", self.logs_truncated),
            ("logsDropped", self.logs_dropped),
            ("logsExported", self.logs_exported),
            ("logsExportFailed", self.logs_export_failed),
            ("logsRejected", self.logs_rejected),
            ("itemsSent", self.items_sent),
            ("itemsDropped", self.items_dropped),
            ("itemsDeduplicated", self.items_deduplicated),
            ("itemsIgnored", self.items_ignored),
            ("itemsFailed", self.items_failed),
            ("reportingErrors", self.reporting_errors),
        ]
    }

    /// Adds `other`'s counts to these (the engine's and the glue's counters, read
    /// together). Every field is named: a new counter that is not added does not compile.
    pub fn merge(&mut self, other: &Stats) {
        let Stats {
            spans_started,
            spans_ended,
            spans_not_recorded,
            attributes_dropped,
            attributes_truncated,
            events_dropped,
            links_dropped,
            invalid_arguments,
            calls_after_end,
            fetch_requests,
            xhr_requests,
            requests_propagated,
            internal_errors,
            spans_evicted,
            open_spans,
            async_scopes_forgotten,
            spans_dropped,
            spans_exported,
            spans_export_failed,
            spans_rejected,
            export_requests,
            export_retries,
            export_bytes,
            logs_queued,
            logs_truncated,
            logs_dropped,
            logs_exported,
            logs_export_failed,
            logs_rejected,
            items_sent,
            items_dropped,
            items_deduplicated,
            items_ignored,
            items_failed,
            reporting_errors,
        } = other;
        self.spans_started += spans_started;
        self.spans_ended += spans_ended;
        self.spans_not_recorded += spans_not_recorded;
        self.attributes_dropped += attributes_dropped;
        self.attributes_truncated += attributes_truncated;
        self.events_dropped += events_dropped;
        self.links_dropped += links_dropped;
        self.invalid_arguments += invalid_arguments;
        self.calls_after_end += calls_after_end;
        self.fetch_requests += fetch_requests;
        self.xhr_requests += xhr_requests;
        self.requests_propagated += requests_propagated;
        self.internal_errors += internal_errors;
        self.spans_evicted += spans_evicted;
        self.open_spans += open_spans;
        self.async_scopes_forgotten += async_scopes_forgotten;
        self.spans_dropped += spans_dropped;
        self.spans_exported += spans_exported;
        self.spans_export_failed += spans_export_failed;
        self.spans_rejected += spans_rejected;
        self.export_requests += export_requests;
        self.export_retries += export_retries;
        self.export_bytes += export_bytes;
        self.logs_queued += logs_queued;
        self.logs_truncated += logs_truncated;
        self.logs_dropped += logs_dropped;
        self.logs_exported += logs_exported;
        self.logs_export_failed += logs_export_failed;
        self.logs_rejected += logs_rejected;
        self.items_sent += items_sent;
        self.items_dropped += items_dropped;
        self.items_deduplicated += items_deduplicated;
        self.items_ignored += items_ignored;
        self.items_failed += items_failed;
        self.reporting_errors += reporting_errors;
    }
}
