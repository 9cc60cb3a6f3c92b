//! Getting telemetry out: the batch queue, OTLP/HTTP JSON encoding, the export URL and
//! headers, and the retry policy shared by every outgoing channel.

pub mod batch;
pub mod exporter;
pub mod otlp;
pub mod retry;
