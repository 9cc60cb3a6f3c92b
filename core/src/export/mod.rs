//! Getting telemetry out: the batch queue, OTLP/HTTP JSON encoding, the export URL and
//! headers, the retry policy, and the channel that puts them together for each kind of
//! payload (spans, Rollbar items).

pub mod batch;
pub mod channel;
pub mod exporter;
pub mod otlp;
pub mod otlp_logs;
pub mod retry;
