// edge-telemetry public API. The wasm module does the work; this layer shapes the API the
// way OpenTelemetry JS users know it and guarantees that nothing the SDK does throws into
// the page: every call into wasm is guarded, faults are counted (getStats().internalErrors),
// and after a wasm trap the SDK turns itself off rather than run on corrupted state.
import initWasm, * as w from './edge_telemetry.js';
import { installFetch, installXhr } from './instrument.js';
import { installTransport } from './export.js';
import { installErrors, tagThrown } from './errors.js';
import { installDocumentLoad, installInteractions } from './page.js';

// When the wasm cannot load (no DOM, a 404, a CSP without 'wasm-unsafe-eval'), the SDK is
// off: calls are no-ops, nothing is patched, getStats().loadError says why.
let loadError;
if (typeof window === 'undefined' || typeof document === 'undefined') {
  loadError = 'not in a browser (no window and document): the SDK is off';
} else {
  try {
    await initWasm({ module_or_path: new URL('./edge_telemetry_bg.wasm', import.meta.url) });
  } catch (e) {
    let why;
    try {
      why = `${e && e.name ? `${e.name}: ` : ''}${e && e.message ? e.message : String(e)}`;
    } catch (_) {
      why = 'unknown error';
    }
    loadError = `the WebAssembly module could not be loaded (${why}): the SDK is off`;
  }
}

let dead = loadError !== undefined;

// Error reporting (errors.js), once init has configured it.
let errors;

function fault(e) {
  if (typeof WebAssembly !== 'undefined' && e instanceof WebAssembly.RuntimeError) {
    dead = true;
    if (errors) errors.trapped(e);
  }
  if (!dead) {
    try { w.countFault(); } catch (_) { dead = true; }
  }
}

// Calls a wasm function; returns undefined instead of throwing. Fixed parameters (a rest
// parameter cost ~70 ns a call): no export takes more than 7 (lifecycle.test.mjs checks).
function guard(fn, a, b, c, d, e, f, g) {
  if (dead) return undefined;
  try {
    return fn(a, b, c, d, e, f, g);
  } catch (e) {
    fault(e);
    return undefined;
  }
}
guard.fault = fault;
guard.dead = () => dead;

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

// The transports of the outgoing channels (export.js), by `Channel` value, once init has
// configured them.
const transports = [];
// What init installed (listeners, timers, patched fetch and XHR): each undoes one.
const release = [];
let stopped = false;
// Called from wasm when a channel's timer must fire within `ms`.
const schedule = (channel, ms) => {
  const t = transports[channel];
  if (t) t.schedule(ms);
};

function hook(options, name) {
  try {
    const r = options && options.rollbar;
    return r && typeof r[name] === 'function' ? r[name] : undefined;
  } catch (_) {
    return undefined;
  }
}

/**
 * Starts the SDK. Throws one Error naming the bad field for invalid options. Returns true,
 * or false when already initialised (a second call validates its options and changes nothing).
 */
export function init(options) {
  if (loadError !== undefined) {
    let debug = false;
    try {
      debug = options !== null && typeof options === 'object' && options.debug === true;
    } catch (_) { /* an options object that throws: no debug output */ }
    if (debug && typeof console !== 'undefined') console.debug(`edge-telemetry: off: ${loadError}`);
    return false;
  }
  if (dead || stopped) return false;
  const started = w.init(options, schedule);
  if (started) {
    const which = guard(w.instrumentations) | 0;
    try {
      // The SDK's own requests use the page's fetch from before instrumentation.
      const pageFetch = globalThis.fetch;
      const channels = [];
      if (typeof pageFetch === 'function') {
        for (const channel of guard(w.channels) || []) {
          const settings = guard(w.channelSettings, channel);
          if (!settings) continue;
          channels[channel] = settings;
          transports[channel] = installTransport(channel, w, guard, pageFetch, settings);
        }
      }
      const es = guard(w.errorSettings);
      if (es && channels[w.Channel.Items]) {
        const hooks = { transform: hook(options, 'transform'), beforeSend: hook(options, 'beforeSend') };
        errors = installErrors(w, guard, pageFetch, es, channels, hooks, () => { dead = true; });
        guard(w.installPanicHook, errors.fatal);
      }
      for (const t of transports) if (t) release.push(() => t.close());
      if (errors) release.push(errors.close);
      if (which & w.Instrumentation.Fetch) release.push(installFetch(w, guard));
      if (which & w.Instrumentation.Xhr) release.push(installXhr(w, guard));
      if (which & w.Instrumentation.DocumentLoad) release.push(installDocumentLoad(w, guard));
      const events = guard(w.interactionEvents);
      if (events && events.length) release.push(installInteractions(w, guard, events));
    } catch (e) {
      fault(e);
    }
  }
  return started;
}

function start(name, o, flags) {
  if (dead) return new Span(0);
  let kind, attributes, time, parent, links;
  if (o !== undefined && o !== null) {
    if (typeof o !== 'object') {
      flags |= w.StartFlag.BadOptions;
    } else {
      // The fields are read here, not in wasm, where each key would cost a JS string.
      try {
        kind = o.kind;
        attributes = o.attributes;
        time = o.startTime;
        parent = o.parent;
        links = o.links;
        if (o.root === true) flags |= w.StartFlag.Root;
      } catch (_) {
        flags |= w.StartFlag.BadOptions;
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
  return start(name, options, w.StartFlag.Root);
}

/**
 * Runs fn with span active and returns its result. If fn returns a promise, span stays
 * the active span for code with no other active span until the promise settles, and a
 * promise that settles the same way is returned in its place.
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
  } catch (e) {
    // An error reported later (uncaught, or captureException) links to this span.
    tagThrown(e, handle(span));
    throw e;
  } finally {
    if (depth !== undefined) guard(w.exitSpan, depth);
  }
  if (result instanceof Promise) {
    const scope = guard(w.openScope, span);
    const h = handle(span);
    if (scope || h) {
      // The promise returned in its place settles the same way; a rejection nobody handles
      // is still an unhandled rejection (on this promise), now linked to `span`.
      const done = () => {
        if (scope) guard(w.closeScope, scope);
      };
      return result.then(
        (v) => {
          done();
          return v;
        },
        (e) => {
          tagThrown(e, h);
          done();
          throw e;
        },
      );
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
  try {
    return Promise.all(transports.filter(Boolean).map((t) => t.flush())).then((r) => r.every((ok) => ok !== false));
  } catch (e) {
    fault(e);
    return Promise.resolve(false);
  }
}

/**
 * Stops the SDK (OpenTelemetry's `shutdown`): exports what is queued, then removes every
 * listener and timer it installed and puts the page's `fetch` and `XMLHttpRequest` back.
 * Afterwards every call is a no-op and `init` returns false. Resolves to what `flush()`
 * resolves to; never rejects.
 */
export function shutdown() {
  if (stopped) return Promise.resolve(true);
  const done = flush();
  stopped = true;
  const undo = () => {
    for (const r of release.splice(0)) {
      try {
        if (typeof r === 'function') r();
      } catch (e) {
        fault(e);
      }
    }
    dead = true;
  };
  return done.then((ok) => {
    undo();
    return ok;
  }, () => {
    undo();
    return false;
  });
}

/**
 * Reports an error to Rollbar (the `rollbar` options), linked to the active span (or the
 * span it was thrown under in withSpan). `context`: custom data for this item. Returns the
 * item's uuid, or undefined when it is not sent (off, ignored, duplicate, over a limit).
 */
export function captureException(error, context) {
  return errors ? errors.report(w.Source.Manual, error, undefined, context) : undefined;
}

/** Reports a message ('critical', 'error', 'warning', 'info' (default) or 'debug'). */
export function captureMessage(message, level, context) {
  return errors ? errors.report(w.Source.Message, message, level, context) : undefined;
}

/**
 * Reports a panic of the app's own Rust/wasm code: call it from that code's panic hook
 * with the panic message (and a stack, e.g. `new Error().stack`).
 */
export function reportPanic(message, stack) {
  if (!errors) return undefined;
  return errors.report(w.Source.Panic, { name: 'panic', message: String(message), stack: stack === undefined ? new Error().stack : String(stack) }, 'critical');
}

/** Used by edge-telemetry/react's ErrorBoundary. */
export function __reportRenderError(error, componentStack) {
  return errors ? errors.report(w.Source.React, error, undefined, componentStack ? { componentStack: String(componentStack) } : undefined) : undefined;
}

/** The SDK's counters: spans, drops, invalid arguments, internal errors. */
export function getStats() {
  if (loadError !== undefined) return { loadError };
  return guard(w.getStats) || {};
}
