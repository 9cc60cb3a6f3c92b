//! Errors to Rollbar: JavaScript stack parsing, the item encoder (scrubbed, size-limited)
//! and the item limits (ignored messages, de-duplication, rate and count limits).

pub mod item_limits;
pub mod rollbar;
pub mod stack;
