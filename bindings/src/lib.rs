//! # edge-telemetry-bindings
//!
//! What both wasm modules of the npm package share: reading the page's values into core
//! types ([`read`]) and single-threaded statics ([`local`]). No exports: a `#[wasm_bindgen]`
//! export here would be linked into both modules.

#![no_std]

extern crate alloc;

pub mod local;
pub mod read;
