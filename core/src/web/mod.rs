//! What the browser instrumentation decides: URL parsing and scrubbing, the HTTP client span
//! policy (which URLs get trace headers, names, attributes, status), the page-load and
//! interaction spans, and the browser session.

pub mod http;
pub mod page;
pub mod session;
pub mod url;
