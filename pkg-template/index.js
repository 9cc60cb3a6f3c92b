// edge-telemetry public API, shaped the way OpenTelemetry JS users know it. The import never
// waits for the wasm and nothing the SDK does throws into the page (ARCHITECTURE.md, "The
// load"): calls made before the module is ready are recorded and replayed at their times;
// wasm faults are counted and a trap turns the SDK off; a module that cannot load leaves the
// page as it was, with getStats().loadError saying why. The exports are documented in
// index.d.ts.
import { instantiate } from './wasm.js';
import { drainFirst, setRunner, runOps, opStart, opSetAttribute, opSetAttributes, opEnd } from './ops.js';
import { checkOptions, defaultOf } from './options.js';
import * as codes from './options-schema.js';
import { engine } from './engine.js';
import { installFetch, installXhr } from './instrument.js';
import { installTransport } from './export.js';
import { installErrors, tagThrown } from './errors.js';
import { installDocumentLoad, installInteractions, installNavigation } from './page.js';
import { installConsole, render, sdkDebug } from './console.js';

const { SESSION_STORAGE_KEY, Source, Severity, CONSOLE_SEVERITY } = codes;

// The module's exports, and the numbers of the boundary (options-schema.js); once it is
// loaded, each export runs the buffered span calls first (ops.js). Until then only the
// numbers are read. Wrapping the exports costs about half a millisecond of cold code, which
// the import would otherwise hold the app's entry module back by.
let w = codes;

// Calls recorded before the engine is ready, at most (each a time and a function).
const MAX_EARLY_CALLS = 1000;

let loadError;
let engineReady = false;
// Off: not loaded (yet, or ever), trapped, or shut down. Calls into wasm are skipped.
let dead = true;
let stopped = false;
let initialised = false;
// Span calls go through the buffer of ops.js (not with an onSpanEnd callback, which the page
// expects to run inside span.end()).
let buffered = false;
// The checked options of the init call made before the engine was ready.
let early;
// [time, fn, time, fn, ...]: calls made before the engine was ready.
const pending = [];
let earlyDropped = 0;
// Spans entered with withSpan before the engine was ready (activeSpan() answers from it).
const earlyStack = [];

function describe(e) {
  try {
    return `${e && e.name ? `${e.name}: ` : ''}${e && e.message ? e.message : String(e)}`;
  } catch (_) {
    return 'unknown error';
  }
}

const debugLog = (msg) => sdkDebug(`edge-telemetry: ${msg}`);

// Started at import, in browsers only: importing in Node (server-side rendering) touches no
// browser global and loads nothing.
const loading = typeof window === 'undefined' || typeof document === 'undefined'
  ? ((loadError = 'not in a browser (no window and document): the SDK is off'), Promise.resolve())
  : load().then(onReady, (e) => onLoadFailed(`the WebAssembly module could not be loaded (${describe(e)}): the SDK is off`));

// A .wasm of the package: `url` is `new URL('./<file>', import.meta.url)`, beside this file,
// as bundlers and browsers resolve it. Vite 7's dev server pre-bundles the package into
// <root>/node_modules/.vite/deps/ without rewriting such a URL (Vite 8 does), and no .wasm is
// there: then the package's own copy, which the dev server serves. That one is built from two
// strings so that no bundler takes it for an asset.
function packageFile(url, file) {
  return /\/node_modules\/\.vite\/deps\/[^/]*$/.test(url.pathname) ? new URL('../../edge-telemetry/' + file, url) : url;
}

// The engine's module, and the item encoder's (loaded after start-up by errors.js).
const wasmUrl = () => packageFile(new URL('./edge_telemetry_bg.wasm', import.meta.url), 'edge_telemetry_bg.wasm');
const encoderUrl = () => packageFile(new URL('./edge_telemetry_errors_bg.wasm', import.meta.url), 'edge_telemetry_errors_bg.wasm');

// What sessionStorage held for the session, read while the module loads (the first read of a
// page's sessionStorage takes 1-5 ms; the engine continues that session at init). null: none,
// or storage unavailable (sandboxed frames, storage disabled).
let storedSession = null;

// Fetches the .wasm a microtask after the import, after the app's entry module (ARCHITECTURE.md,
// "The load"), with the page's own fetch, taken now; reads the stored session while it loads.
function load() {
  const pageFetch = globalThis.fetch;
  return Promise.resolve().then(() => {
    const loaded = instantiate(pageFetch.call(globalThis, wasmUrl()));
    try {
      storedSession = sessionStorage.getItem(SESSION_STORAGE_KEY);
    } catch (_) {
      storedSession = null;
    }
    return loaded;
  });
}

// Errors reporting (errors.js), once the engine has configured it.
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
setRunner((ops, strings) => guard(engine.runOps, ops, strings));

// Runs `fn` (which calls into wasm) now when the engine is ready, else records it to run
// then, at the time of this call.
function later(fn) {
  if (engineReady) {
    if (dead) return;
    try {
      fn();
    } catch (e) {
      fault(e);
    }
  } else if (!stopped && loadError === undefined) {
    if (pending.length < 2 * MAX_EARLY_CALLS) pending.push(performance.now(), fn);
    else earlyDropped++;
  }
}

// A span's handle; one still in the buffer gets it by running the buffer.
const handle = (s) => {
  if (s === null || typeof s !== 'object') return 0;
  try {
    if (s.__edgeQueued >= 0) runOps();
    return s.__edgeSpanId >>> 0;
  } catch (_) {
    // A Proxy whose traps throw: not a span of ours.
    return 0;
  }
};
// Whether a span call may be buffered.
const fast = () => buffered && !dead;
export const SpanKind = Object.freeze({ INTERNAL: 0, SERVER: 1, CLIENT: 2, PRODUCER: 3, CONSUMER: 4 });
export const SpanStatusCode = Object.freeze({ UNSET: 0, OK: 1, ERROR: 2 });

// A span method: now when the engine is ready, else recorded (the span's handle is read
// when the call runs, so a span started before the engine was ready works too).
// `name`: the export's (the module's functions are there only once it is loaded).
function spanCall(name, span, a, b) {
  if (engineReady) guard(w[name], handle(span), a, b);
  else later(() => w[name](handle(span), a, b));
}

const INVALID_CONTEXT = Object.freeze({ traceId: '00000000000000000000000000000000', spanId: '0000000000000000', traceFlags: 0, traceState: '', isRemote: false });

export class Span {
  constructor(id) {
    this.__edgeSpanId = id >>> 0;
    // While the span waits for its handle in the buffer: its index there (ops.js).
    this.__edgeQueued = -1;
  }
  setAttribute(key, value) {
    if (!(fast() && opSetAttribute(this, key, value))) spanCall('spanSetAttribute', this, key, value);
    return this;
  }
  setAttributes(attributes) {
    if (!(fast() && opSetAttributes(this, attributes))) spanCall('spanSetAttributes', this, attributes);
    return this;
  }
  addEvent(name, attributesOrTime, time) {
    if (engineReady) guard(w.spanAddEvent, handle(this), name, attributesOrTime, time);
    else later(() => w.spanAddEvent(handle(this), name, attributesOrTime, time));
    return this;
  }
  setStatus(status) { spanCall('spanSetStatus', this, status); return this; }
  recordException(exception, time) { spanCall('spanRecordException', this, exception, time); }
  updateName(name) { spanCall('spanUpdateName', this, name); return this; }
  /** Ends the span; later calls are ignored. */
  end(endTime) {
    if (!(fast() && opEnd(this, endTime))) spanCall('spanEnd', this, endTime);
  }
  /**
   * The context; also after end() (for the 1024 spans that ended last). Invalid (all zeros)
   * until the engine is ready.
   */
  spanContext() {
    return guard(w.spanContext, handle(this)) || Object.assign({}, INVALID_CONTEXT);
  }
  traceparent() { return guard(w.spanTraceparent, handle(this)) || ''; }
  /** True until the engine is ready (it decides then, and the calls made meanwhile count). */
  isRecording() { return engineReady ? guard(w.spanIsRecording, handle(this)) === true : !stopped && loadError === undefined; }
}

// The transports of the outgoing channels (export.js), by `Channel` value, once the engine
// has configured them.
const transports = [];
// What init installed (listeners, timers, patched fetch and XHR): each undoes one.
const release = [];
// The page's fetch from before instrumentation: the SDK's own requests use it.
let pageFetch;
// Which instrumentations the engine turned on (`Instrumentation` bits); until it is ready,
// requests made are recorded and replayed only if their instrumentation is on.
let instrumented = 0;
// The page's task number for the engine (see requests.end): it advances in the task after
// requests ended.
let epoch = 0;
let epochTimer = 0;
const taskEpoch = () => epoch;
// Called from wasm when a channel's timer must fire within `ms`.
const schedule = (channel, ms) => {
  const t = transports[channel];
  if (t) t.schedule(ms);
};

// The request wrappers' calls (instrument.js): a span handle when the engine is ready, else a
// record the start and end calls are replayed from.
const requests = {
  off: () => dead && (engineReady || stopped || loadError !== undefined),
  start(method, url, api, own, trace) {
    if (engineReady) {
      const h = w.requestStart(method, url, api, own, trace);
      if (trace.length === 2) {
        trace[0] = asciiAt(trace[0], trace[1]);
        trace.length = 1;
      }
      return h;
    }
    const r = { h: 0 };
    const bit = api === w.RequestApi.Xhr ? w.Instrumentation.Xhr : w.Instrumentation.Fetch;
    later(() => {
      if (instrumented & bit) r.h = w.requestStart(method, url, api, own, []);
    });
    return r;
  },
  end(h, outcome, status, errorType) {
    if (typeof h === 'object') {
      // Recorded before the engine was ready: its span ends (and its scope is released) at
      // once, replayed or now.
      later(() => {
        if (h.h) {
          w.requestEnd(h.h, outcome, status, errorType);
          epoch++;
        }
      });
      return;
    }
    guard(w.requestEnd, h, outcome, status, errorType);
    // The scope that kept the request's parent active for the page's callbacks on it is given
    // back by the engine at its first call in a later task: mark the next task.
    if (!epochTimer) {
      epochTimer = setTimeout(() => {
        epochTimer = 0;
        epoch++;
      }, 0);
    }
  },
  fault,
};

// Errors seen before the engine was ready: the window events, replayed into errors.js.
// Returns the function that removes the listeners.
function installEarlyErrors() {
  if (typeof addEventListener !== 'function') return undefined;
  const onEvent = (ev) => later(() => {
    if (errors) errors.replay(ev);
  });
  addEventListener('error', onEvent);
  addEventListener('unhandledrejection', onEvent);
  const remove = () => {
    removeEventListener('error', onEvent);
    removeEventListener('unhandledrejection', onEvent);
  };
  release.push(remove);
  return remove;
}
let releaseEarlyErrors;

// Wraps fetch and XHR (at init, ready or not); the engine may turn them off when ready.
const wrappers = {};
function installRequests() {
  pageFetch = globalThis.fetch;
  wrappers.fetch = installFetch(w, requests);
  wrappers.xhr = installXhr(w, requests);
  for (const k of ['fetch', 'xhr']) if (wrappers[k]) release.push(wrappers[k]);
}

// While onReady replays the calls recorded before the module was ready: a documentLoad span
// whose load was over before then ends at its place among them (page.js), so what was made
// during the load is still its child.
let replaying;
let replayEnd;

// Starts the engine with checked options. Returns what w.init returned.
function startEngine(checked) {
  const started = w.init(checked, schedule, taskEpoch, storedSession, globalThis);
  if (!started) return false;
  buffered = typeof checked.onSpanEnd !== 'function';
  try {
    instrumented = guard(w.instrumentations) | 0;
    if (!(instrumented & w.Instrumentation.Fetch) && wrappers.fetch) wrappers.fetch();
    if (!(instrumented & w.Instrumentation.Xhr) && wrappers.xhr) wrappers.xhr();
    const channels = [];
    if (typeof pageFetch === 'function') {
      for (const channel of guard(w.channels) || []) {
        const settings = guard(w.channelSettings, channel);
        if (settings) channels[channel] = settings;
      }
    }
    // Errors first: their page-hide listener runs before the transports' flush.
    const es = guard(w.errorSettings);
    if (es && channels[w.Channel.Items]) {
      errors = installErrors(w, guard, pageFetch, es, channels, checked, () => { dead = true; }, encoderUrl);
      guard(w.installPanicHook, errors.panicItem, errors.fatal);
    }
    channels.forEach((settings, channel) => {
      transports[channel] = installTransport(channel, w, guard, pageFetch, settings);
    });
    for (const t of transports) if (t) release.push(() => t.close());
    if (errors) release.push(errors.close, installNavigation(w, guard));
    if (instrumented & w.Instrumentation.DocumentLoad) release.push(installDocumentLoad(w, guard, replaying));
    const events = guard(w.interactionEvents);
    if (events && events.length) release.push(installInteractions(w, guard, events));
  } catch (e) {
    fault(e);
  }
  return true;
}

// The module's memory (requestStart's trace headers are read from it: asciiAt).
let memory;

// ASCII text at `address` in wasm memory. requestStart leaves its trace headers there
// ([address, length] in `out`): one String.fromCharCode instead of the TextDecoder call that
// a string returned by wasm-bindgen costs (about 1 µs of a wrapped fetch).
const asciiAt = (address, length) => String.fromCharCode.apply(null, new Uint8Array(memory.buffer, address, length));

function onReady(exports) {
  memory = exports.memory;
  Object.assign(engine, codes, exports);
  w = drainFirst(engine);
  engineReady = true;
  dead = stopped;
  if (dead) return;
  try {
    if (early) {
      if (releaseEarlyErrors) releaseEarlyErrors();
      replaying = { endAt: (at, end) => { replayEnd = { at, end }; } };
      startEngine(early);
      replaying = undefined;
    }
    if (earlyDropped && early && early.debug) {
      debugLog(`${earlyDropped} calls made before the WebAssembly module was ready were dropped (more than ${MAX_EARLY_CALLS})`);
    }
    const endLoad = () => {
      const e = replayEnd;
      replayEnd = undefined;
      if (e) e.end();
    };
    for (let i = 0; i < pending.length && !dead; i += 2) {
      try {
        if (replayEnd && pending[i] >= replayEnd.at) endLoad();
        w.replayAt(pending[i]);
        pending[i + 1]();
      } catch (e) {
        fault(e);
      }
    }
    guard(w.replayAt, NaN);
    endLoad();
  } catch (e) {
    fault(e);
  }
  pending.length = 0;
}

function onLoadFailed(why) {
  loadError = why;
  dead = true;
  pending.length = 0;
  earlyStack.length = 0;
  undo();
  if (early && early.debug) debugLog(`off: ${why}`);
}

export function init(options) {
  if (loadError !== undefined) {
    let debug = false;
    try {
      debug = options !== null && typeof options === 'object' && options.debug === true;
    } catch (_) { /* an options object that throws: no debug output */ }
    if (debug) debugLog(`off: ${loadError}`);
    return false;
  }
  const checked = checkOptions(options);
  if (stopped || initialised || (engineReady && dead)) {
    if (checked.debug && initialised) debugLog('init called again; the first configuration stays');
    return false;
  }
  initialised = true;
  installCapture(checked);
  if (engineReady) {
    installRequests();
    return startEngine(checked);
  }
  early = checked;
  installRequests();
  releaseEarlyErrors = installEarlyErrors();
  return true;
}

// Wraps the console methods of `captureConsole` (at init, ready or not).
function installCapture(checked) {
  const methods = (checked.captureConsole || []).map((m) => [m, CONSOLE_SEVERITY[m]]);
  if (methods.length) release.push(installConsole(methods, logCall));
}

// A log record: now when the engine is ready, else recorded (and made at this call's time,
// under the span active then). `message` is rendered to text here; attributes are copied
// when the call is recorded.
function logCall(severity, message, attributes) {
  if (engineReady ? dead : stopped || loadError !== undefined) return;
  let body;
  try {
    body = typeof message === 'string' ? message : render([message]);
  } catch (_) {
    body = '[Thrown]';
  }
  if (engineReady) {
    guard(w.log, severity, body, attributes);
    return;
  }
  let attrs = attributes;
  if (attrs !== null && typeof attrs === 'object' && !Array.isArray(attrs)) {
    try {
      attrs = Object.assign({}, attrs);
    } catch (_) {
      attrs = null;
    }
  }
  later(() => w.log(severity, body, attrs));
}

/**
 * Log records in OpenTelemetry's log data model, with the active span's ids, batched and
 * sent to `logsEndpoint` (or the endpoint's /v1/logs). Never throws.
 */
export const log = Object.freeze({
  trace: (message, attributes) => logCall(Severity.Trace, message, attributes),
  debug: (message, attributes) => logCall(Severity.Debug, message, attributes),
  info: (message, attributes) => logCall(Severity.Info, message, attributes),
  warn: (message, attributes) => logCall(Severity.Warn, message, attributes),
  error: (message, attributes) => logCall(Severity.Error, message, attributes),
  fatal: (message, attributes) => logCall(Severity.Fatal, message, attributes),
});

function start(name, o, flags) {
  if (engineReady ? dead : stopped || loadError !== undefined) return new Span(0);
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
    }
  }
  if (engineReady) {
    if (fast() && links === undefined && (parent === undefined || parent instanceof Span)) {
      const span = new Span(0);
      if (opStart(span, name, kind, parent, time, attributes, flags)) return span;
    }
    if (parent instanceof Span) parent = handle(parent);
    try {
      return new Span(w.startSpan(name, kind, attributes, time, parent, links, flags));
    } catch (e) {
      fault(e);
      return new Span(0);
    }
  }
  // Before the engine is ready: the span's handle is filled in when the start is replayed,
  // under the span that was active (with withSpan) when it was made.
  const span = new Span(0);
  if (parent === undefined && earlyStack.length && !(flags & w.StartFlag.Root)) parent = earlyStack[earlyStack.length - 1];
  if (attributes !== null && typeof attributes === 'object' && !Array.isArray(attributes)) attributes = Object.assign({}, attributes);
  later(() => {
    span.__edgeSpanId = w.startSpan(name, kind, attributes, time, parent instanceof Span ? parent.__edgeSpanId : parent, links, flags) >>> 0;
  });
  return span;
}

export function startSpan(name, options) {
  return start(name, options, 0);
}

export function startRootSpan(name, options) {
  return start(name, options, w.StartFlag.Root);
}

export function withSpan(span, fn, thisArg, ...args) {
  if (typeof fn !== 'function') {
    later(() => w.countInvalid());
    return undefined;
  }
  let depth;
  const cell = {};
  const deferred = !engineReady;
  if (!deferred) depth = guard(w.enterSpan, span);
  else {
    later(() => { cell.depth = w.enterSpan(span); });
    earlyStack.push(span);
  }
  let result;
  try {
    result = fn.apply(thisArg, args);
  } catch (e) {
    // An error reported later (uncaught, or captureException) links to this span.
    tagThrown(e, handle(span));
    throw e;
  } finally {
    if (depth !== undefined) guard(w.exitSpan, depth);
    else if (deferred) {
      if (earlyStack[earlyStack.length - 1] === span) earlyStack.pop();
      later(() => { if (cell.depth !== undefined) w.exitSpan(cell.depth); });
    }
  }
  if (result instanceof Promise) {
    const scope = {};
    if (engineReady) scope.id = guard(w.openScope, span);
    else later(() => { scope.id = w.openScope(span); });
    const h = handle(span);
    if (scope.id || h || !engineReady) {
      // The promise returned in its place settles the same way; a rejection nobody handles
      // is still an unhandled rejection (on this promise), now linked to `span`.
      const done = () => later(() => { if (scope.id) w.closeScope(scope.id); });
      return result.then(
        (v) => {
          done();
          return v;
        },
        (e) => {
          tagThrown(e, handle(span));
          done();
          throw e;
        },
      );
    }
  }
  return result;
}

export function activeSpan() {
  if (!engineReady) return earlyStack.length ? earlyStack[earlyStack.length - 1] : undefined;
  const h = guard(w.activeSpan);
  return h ? new Span(h) : undefined;
}

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

export function setBaggage(entries) {
  later(() => w.setBaggage(entries));
}

// Runs `fn` once the module is loaded (or failed), or `gaveUp()` and resolves false when it
// is not within batch.exportTimeoutMillis (the bound of an export).
function whenLoaded(fn, gaveUp) {
  const b = early && early.batch;
  const ms = b && b.exportTimeoutMillis !== undefined ? b.exportTimeoutMillis : defaultOf('batch', 'exportTimeoutMillis');
  return new Promise((resolve) => {
    const t = setTimeout(() => {
      if (gaveUp) gaveUp();
      resolve(false);
    }, ms);
    loading.then(() => {
      clearTimeout(t);
      resolve(fn());
    });
  });
}

export function flush() {
  if (!engineReady && loadError === undefined) return whenLoaded(flush);
  // Errors reported while the item encoder loads are queued once it is there (or given up
  // waiting for: load() resolves within 10 s).
  if (errors && errors.waiting()) return errors.load().then(flushQueued);
  return flushQueued();
}

function flushQueued() {
  try {
    return Promise.all(transports.filter(Boolean).map((t) => t.flush())).then((r) => r.every((ok) => ok !== false));
  } catch (e) {
    fault(e);
    return Promise.resolve(false);
  }
}

function undo() {
  for (const r of release.splice(0)) {
    try {
      if (typeof r === 'function') r();
    } catch (e) {
      fault(e);
    }
  }
}

export function shutdown() {
  if (stopped) return Promise.resolve(true);
  // Before the engine is ready: what was recorded meanwhile is replayed, then flushed. The
  // module is waited for as long as an export may take (batch.exportTimeoutMillis); then
  // the SDK stops without it, and what was recorded is given up (counted).
  if (!engineReady && loadError === undefined) {
    return whenLoaded(shutdown, () => {
      stopped = true;
      earlyDropped += pending.length / 2;
      pending.length = 0;
      undo();
    });
  }
  const done = flush();
  stopped = true;
  const end = () => {
    undo();
    dead = true;
  };
  return done.then((ok) => {
    end();
    return ok;
  }, () => {
    end();
    return false;
  });
}

// Reports through errors.js: now when the engine is ready, else when it is (the uuid is
// then unknown: undefined is returned).
function report(source, value, level, context) {
  if (engineReady) return errors ? errors.report(source, value, level, context) : undefined;
  later(() => {
    if (errors) errors.report(source, value, level, context);
  });
  return undefined;
}

export function captureException(error, context) {
  return report(Source.Manual, error, undefined, context);
}

export function captureMessage(message, level, context) {
  return report(Source.Message, message, level, context);
}

export function reportPanic(message, stack) {
  let value;
  try {
    value = { name: 'panic', message: String(message), stack: stack === undefined ? new Error().stack : String(stack) };
  } catch (_) {
    return later(() => w.countInvalid());
  }
  return report(Source.Panic, value, 'critical');
}

export function __reportRenderError(error, componentStack) {
  let context;
  try {
    context = componentStack ? { componentStack: String(componentStack) } : undefined;
  } catch (_) {
    context = undefined;
  }
  return report(Source.React, error, undefined, context);
}

export function ready() {
  // The item encoder too, when init turned error reporting on (it loads after the engine).
  return loading.then(() => errors && errors.load()).then(() => loadError === undefined);
}

export function getStats() {
  if (loadError !== undefined) return { loadError };
  if (!engineReady) return { loading: true, earlyCalls: pending.length / 2, earlyCallsDropped: earlyDropped };
  const stats = guard(w.getStats);
  if (stats) stats.earlyCallsDropped = earlyDropped;
  return stats || {};
}
