//! Every function the engine module exports to the package's JS, by its JS name: each
//! parameter crosses as a handle and is converted by its type here ([`FromJs`]), the result
//! too ([`IntoJs`]); `wasm.js` wraps each export by its number of parameters. The span-call
//! buffer's `runOps` and `__et_buffer` take numbers ([`crate::ops`]). ARCHITECTURE.md, "The
//! boundary", lists when each is called.
//!
//! [`FromJs`]: edge_telemetry_bindings::js::FromJs
//! [`IntoJs`]: edge_telemetry_bindings::js::IntoJs

use crate::{api, errors, export};
use alloc::string::String;
use edge_telemetry_bindings::exports;
use edge_telemetry_bindings::js::JsValue;

exports! {
    "init" => api::init[options: JsValue, schedule: JsValue, epoch: JsValue, stored: Option<String>, global: JsValue];
    "instrumentations" => api::instrumentations[];
    "interactionEvents" => api::interaction_events[];
    "log" => api::log[severity: u32, body: String, attributes: JsValue];
    "navigation" => api::navigation[from: String, to: String];
    "startSpan" => api::start_span[name: JsValue, kind: JsValue, attributes: JsValue, start: JsValue, parent: JsValue, links: JsValue, flags: u32];
    "spanSetAttribute" => api::span_set_attribute[handle: u32, key: JsValue, value: JsValue];
    "spanSetAttributes" => api::span_set_attributes[handle: u32, attributes: JsValue];
    "spanAddEvent" => api::span_add_event[handle: u32, name: JsValue, attributes_or_time: JsValue, time: JsValue];
    "spanSetStatus" => api::span_set_status[handle: u32, status: JsValue];
    "spanRecordException" => api::span_record_exception[handle: u32, exception: JsValue, time: JsValue];
    "spanUpdateName" => api::span_update_name[handle: u32, name: JsValue];
    "spanEnd" => api::span_end[handle: u32, end_time: JsValue];
    "spanContext" => api::span_context[handle: u32];
    "spanTraceparent" => api::span_traceparent[handle: u32];
    "spanIsRecording" => api::span_is_recording[handle: u32];
    "enterSpan" => api::enter_span[span: JsValue];
    "exitSpan" => api::exit_span[depth: u32];
    "openScope" => api::open_scope[span: JsValue];
    "closeScope" => api::close_scope[id: u32];
    "activeSpan" => api::active_span[];
    "setBaggage" => api::set_baggage[entries: JsValue];
    "injectHeaders" => api::inject_headers[headers: JsValue, url: JsValue];
    "requestStart" => api::request_start[method: String, url: String, api: u32, own_traceparent: bool, out: JsValue];
    "requestEnd" => api::request_end[handle: u32, outcome: u32, status: u32, error_type: Option<String>];
    "replayAt" => api::replay_at[ms: f64];
    "countInvalid" => api::count_invalid[];
    "countFault" => api::count_fault[];
    "getStats" => api::get_stats[];
    "documentLoadStart" => api::document_load_start[parents: JsValue];
    "documentLoadEnd" => api::document_load_end[handle: u32, entry: JsValue];
    "interactionStart" => api::interaction_start[event_type: String, target: String, xpath: String];
    "interactionEnd" => api::interaction_end[handle: u32];
    "channels" => export::channels[];
    "channelSettings" => export::channel_settings[channel: u32];
    "channelTake" => export::channel_take[channel: u32, hidden: bool];
    "channelResult" => export::channel_result[channel: u32, id: u32, status: u32, retry_after: Option<String>, body: Option<String>];
    "channelNextDue" => export::channel_next_due[channel: u32];
    "channelFlushBegin" => export::channel_flush_begin[channel: u32];
    "channelFlushResult" => export::channel_flush_result[channel: u32, token: u32];
    "errorCapture" => errors::error_capture[kind: u32, hint: u32, name: String, message: String, stack: String];
    "errorQueue" => errors::error_queue[uuid: String, body: String];
    "errorNotSent" => errors::error_not_sent[why: u32, uuid: Option<String>];
    "errorDeferred" => errors::error_deferred[uuid: String];
    "errorSettings" => errors::error_settings[];
    "installPanicHook" => errors::install_panic_hook[encode: JsValue, fatal: JsValue];
    "debugPanic" => errors::debug_panic[message: String];
}
