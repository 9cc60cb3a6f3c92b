//! edge-telemetry wasm glue (being written).
