//! # edge-telemetry-bindings
//!
//! What both wasm modules of the npm package share: the boundary to JavaScript ([`js`]:
//! values as handles, the imports `wasm.js` gives, the [`exports!`] macro), reading the
//! page's values into core types ([`read`]) and single-threaded statics ([`local`]). No
//! exports of its own: one here would be linked into both modules.

#![no_std]

extern crate alloc;

pub mod js;
pub mod local;
pub mod read;
