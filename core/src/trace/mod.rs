//! Spans and their context: ids, the span model, the tracer that starts spans with the right
//! parent and flags, the table of open spans, which span is active, and sampling.

pub mod context;
pub mod ids;
pub mod sampling;
pub mod span;
pub mod table;
pub mod tracer;
pub mod xray_rules;
