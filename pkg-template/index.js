// edge-telemetry public API. The wasm module does the work; this layer shapes the API the
// way OpenTelemetry JS users know it and guarantees that nothing the SDK does throws into
// the page: every call into wasm is guarded, faults are counted (getStats().internalErrors),
// and after a wasm trap the SDK turns itself off rather than run on corrupted state.
import initWasm, * as w from './edge_telemetry.js';
import { installFetch, installXhr } from './instrument.js';
import { installExport } from './export.js';
import { installDocumentLoad, installInteractions } from './page.js';

await initWasm({ module_or_path: new URL('./edge_telemetry_bg.wasm', import.meta.url) });

let dead = false;

function fault(e) {
  if (typeof WebAssembly !== 'undefined' && e instanceof WebAssembly.RuntimeError) dead = true;
  if (!dead) {
    try { w.countFault(); } catch (_) { dead = true; }
  }
}

/** Calls a wasm function; returns undefined instead of throwing. */
function guard(fn, a, b, c, d) {
  if (dead) return undefined;
  try {
    return fn(a, b, c, d);
  } catch (e) {
    fault(e);
    return undefined;
  }
}
guard.fault = fault;

const handle = (s) => (s !== null && typeof s === 'object' ? s.__edgeSpanId >>> 0 : 0);

/** OpenTelemetry's span kinds. */
export const SpanKind = Object.freeze({ INTERNAL: 0, SERVER: 1, CLIENT: 2, PRODUCER: 3, CONSUMER: 4 });
/** OpenTelemetry's status codes. */
export const SpanStatusCode = Object.freeze({ UNSET: 0, OK: 1, ERROR: 2 });

/** A span. Methods never throw; setters return the span. */
export class Span {
  constructor(id) {
    this.__edgeSpanId = id >>> 0;
  }
  setAttribute(key, value) { guard(w.spanSetAttribute, handle(this), key, value); return this; }
  setAttributes(attributes) { guard(w.spanSetAttributes, handle(this), attributes); return this; }
  addEvent(name, attributesOrTime, time) { guard(w.spanAddEvent, handle(this), name, attributesOrTime, time); return this; }
  setStatus(status) { guard(w.spanSetStatus, handle(this), status); return this; }
  recordException(exception, time) { guard(w.spanRecordException, handle(this), exception, time); }
  updateName(name) { guard(w.spanUpdateName, handle(this), name); return this; }
  /** Ends the span; later calls are ignored. */
  end(endTime) { guard(w.spanEnd, handle(this), endTime); }
  /** The context; also after end() (for the 1024 spans that ended last). */
  spanContext() {
    return guard(w.spanContext, handle(this)) || { traceId: '00000000000000000000000000000000', spanId: '0000000000000000', traceFlags: 0, traceState: '', isRemote: false };
  }
  traceparent() { return guard(w.spanTraceparent, handle(this)) || ''; }
  isRecording() { return guard(w.spanIsRecording, handle(this)) === true; }
}

// The span exporter (export.js), once init has configured one.
let exporter;
// Called from wasm when the export timer must fire within `ms`.
const schedule = (ms) => {
  if (exporter) exporter.schedule(ms);
};

/**
 * Starts the SDK. Throws one Error naming the bad field for invalid options. Returns true,
 * or false when already initialised (a second call validates its options and changes nothing).
 */
export function init(options) {
  if (dead) return false;
  const started = w.init(options, schedule);
  if (started) {
    const which = guard(w.instrumentations) | 0;
    try {
      // The SDK's own requests use the page's fetch from before instrumentation.
      const pageFetch = globalThis.fetch;
      const settings = guard(w.exportSettings);
      if (settings && typeof pageFetch === 'function') exporter = installExport(w, guard, pageFetch, settings);
      if (which & 1) installFetch(w, guard);
      if (which & 2) installXhr(w, guard);
      if (which & 4) installDocumentLoad(w, guard);
      const events = guard(w.interactionEvents);
      if (events && events.length) installInteractions(w, guard, events);
    } catch (e) {
      fault(e);
    }
  }
  return started;
}

// startSpan flags (src/api.rs): a root span; options that are not a readable object.
const START_ROOT = 1;
const START_BAD_OPTIONS = 2;

function start(name, o, flags) {
  if (dead) return new Span(0);
  let kind, attributes, time, parent, links;
  if (o !== undefined && o !== null) {
    if (typeof o !== 'object') {
      flags |= START_BAD_OPTIONS;
    } else {
      // The fields are read here, not in wasm, where each key would cost a JS string.
      try {
        kind = o.kind;
        attributes = o.attributes;
        time = o.startTime;
        parent = o.parent;
        links = o.links;
        if (o.root === true) flags |= START_ROOT;
      } catch (_) {
        flags |= START_BAD_OPTIONS;
      }
      if (parent instanceof Span) parent = parent.__edgeSpanId;
    }
  }
  try {
    return new Span(w.startSpan(name, kind, attributes, time, parent, links, flags));
  } catch (e) {
    fault(e);
    return new Span(0);
  }
}

/** Starts a span under the active span (or options.parent / options.root). */
export function startSpan(name, options) {
  return start(name, options, 0);
}

/** Starts a span that begins a new trace. */
export function startRootSpan(name, options) {
  return start(name, options, START_ROOT);
}

/**
 * Runs fn with span active and returns its result. If fn returns a promise, span stays
 * the active span for code with no other active span until the promise settles.
 */
export function withSpan(span, fn, thisArg, ...args) {
  if (typeof fn !== 'function') {
    guard(w.countInvalid);
    return undefined;
  }
  const depth = guard(w.enterSpan, span);
  let result;
  try {
    result = fn.apply(thisArg, args);
  } finally {
    if (depth !== undefined) guard(w.exitSpan, depth);
  }
  if (result instanceof Promise) {
    const scope = guard(w.openScope, span);
    if (scope) {
      const done = () => guard(w.closeScope, scope);
      result.then(done, done);
    }
  }
  return result;
}

/** The active span, or undefined. */
export function activeSpan() {
  const h = guard(w.activeSpan);
  return h ? new Span(h) : undefined;
}

/**
 * Writes the active span's traceparent (and tracestate, baggage) into headers (a Headers
 * object or a plain object). With url, only for same-origin or allow-listed URLs.
 * Returns headers.
 */
export function injectHeaders(headers, url) {
  let resolved;
  if (url !== undefined) {
    try {
      resolved = new URL(url, globalThis.location ? globalThis.location.href : undefined).href;
    } catch (_) {
      guard(w.countInvalid);
      return headers;
    }
  }
  guard(w.injectHeaders, headers, resolved);
  return headers;
}

/** Sets W3C baggage sent with every propagated request; null clears it. */
export function setBaggage(entries) {
  guard(w.setBaggage, entries);
}

/**
 * Exports everything queued now. Resolves to true once the endpoint acknowledged all of it,
 * false if some spans were given up (counted in getStats()); never rejects.
 */
export function flush() {
  if (!exporter) return Promise.resolve(true);
  try {
    return exporter.flush();
  } catch (e) {
    fault(e);
    return Promise.resolve(false);
  }
}

/** The SDK's counters: spans, drops, invalid arguments, internal errors. */
export function getStats() {
  return guard(w.getStats) || {};
}
