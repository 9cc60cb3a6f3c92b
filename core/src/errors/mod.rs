//! Errors to Rollbar: JavaScript stack parsing, the item encoder (scrubbed, size-limited)
//! the item limits (ignored messages, de-duplication, rate and count limits), and which
//! errors become which items (`capture`).

pub mod capture;
pub mod item_limits;
pub mod rollbar;
pub mod stack;
pub mod telemetry;
