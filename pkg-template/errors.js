// Errors to Rollbar, JS side: the window `error` and `unhandledrejection` listeners, reading
// an error (and its `cause` chain) into plain strings, loading the item encoder, the
// `beforeSend` / `transform` hooks, and the last gasp after a panic. The engine links each
// error to its span when it is captured (src/errors.rs); the item encoder, a second wasm
// module loaded after start-up (errors-module/: filters, stack parsing, the item), builds the
// item; the engine queues it and marks the span; the bytes go through the items channel's
// transport (export.js). Decisions are Rust's; this file moves values between the two.
import { sendNow } from './export.js';
import { sdkDebug } from './console.js';
import { instantiateSync } from './wasm.js';
import {
  ENCODER_LOAD_TIMEOUT_MS, ENCODER_LOAD_WITHIN_MS, ERRORS_STORAGE_KEY, MAX_WAITING_ERRORS, NotSent, Source,
} from './options-schema.js';

// Causes followed at most.
const MAX_CHAIN = 5;

function pageUrl() {
  try {
    return String(location.href);
  } catch (_) {
    return undefined;
  }
}

// Errors thrown out of withSpan, with the span they were thrown under: objects in a
// WeakMap, primitives (a rejected string) in a short list, most recent last.
const thrownUnder = new WeakMap();
const primitives = [];

/** Remembers that `err` was thrown under span handle `h` (called by withSpan). */
export function tagThrown(err, h) {
  if (!h) return;
  if ((typeof err === 'object' && err !== null) || typeof err === 'function') {
    if (!thrownUnder.has(err)) thrownUnder.set(err, h);
  } else {
    primitives.push(err, h);
    if (primitives.length > 32) primitives.splice(0, 2);
  }
}

function hintOf(err) {
  if ((typeof err === 'object' && err !== null) || typeof err === 'function') return thrownUnder.get(err) || 0;
  for (let i = primitives.length - 2; i >= 0; i -= 2) if (Object.is(primitives[i], err)) return primitives[i + 1];
  return 0;
}

function text(v) {
  if (typeof v === 'string') return v;
  try {
    return String(v);
  } catch (_) {
    return Object.prototype.toString.call(v);
  }
}

function prop(o, k) {
  try {
    const v = o[k];
    return typeof v === 'string' ? v : undefined;
  } catch (_) {
    return undefined;
  }
}

/**
 * The error and its causes as `{name, message, stack}` objects, outermost first (what
 * `errorCapture` reads). A value that is not an Error gets `fallbackClass` and its text as
 * the message.
 */
function chainOf(err, fallbackClass) {
  const out = [];
  const seen = new Set();
  let e = err;
  for (let i = 0; i < MAX_CHAIN && e !== undefined && !seen.has(e); i++) {
    if ((typeof e === 'object' && e !== null) && (prop(e, 'message') !== undefined || prop(e, 'stack') !== undefined)) {
      seen.add(e);
      let name = prop(e, 'name');
      if (!name) {
        try { name = e.constructor && e.constructor.name; } catch (_) { name = undefined; }
      }
      out.push({ name: name || 'Error', message: prop(e, 'message') || '', stack: prop(e, 'stack') || '' });
      try { e = e.cause; } catch (_) { e = undefined; }
    } else {
      out.push({ name: i === 0 ? fallbackClass : 'Error', message: text(e), stack: '' });
      break;
    }
  }
  return out;
}

/**
 * Starts error reporting and loads the item encoder. `w`: the engine's functions; `guard`:
 * calls one without throwing; `fetchFn`: the page's fetch before instrumentation;
 * `settings`: w.errorSettings() ({captureUncaught, captureUnhandledRejections, trapUuid});
 * `channels`: the settings of every channel by `Channel` value (for the last gasp after a
 * panic); `options`: the checked init options (the encoder reads its own from them);
 * `onDead()`: the engine is about to trap, turn the SDK off; `encoderUrl()`: where the
 * encoder's .wasm is (index.js).
 * Returns { report(kind, value, level, custom, hint), panicItem(link, message, stack),
 * fatal(out, lost), trapped(), replay(event), load() (a promise: the encoder loaded, or
 * not), waiting(), close() }.
 */
export function installErrors(w, guard, fetchFn, settings, channels, options, onDead, encoderUrl) {
  const items = channels[w.Channel.Items];
  const rollbar = options.rollbar || {};
  const transform = typeof rollbar.transform === 'function' ? rollbar.transform : undefined;
  const beforeSend = typeof rollbar.beforeSend === 'function' ? rollbar.beforeSend : undefined;
  let busy = false;
  let gone = false;
  // The encoder's functions once it is loaded and configured; its bytes while it loads
  // (beforeHide instantiates it synchronously from them).
  let enc;
  let bytes;
  let failed = false;
  // Errors captured before the encoder was there, and items to send as they are once
  // encoded (the engine died meanwhile: a panic, a trap).
  const waiting = [];
  let trapPending = false;

  function runHooks(body) {
    let payload = JSON.parse(body);
    if (transform) {
      const t = transform(payload);
      if (t && typeof t === 'object') payload = t;
    }
    if (beforeSend) {
      const out = beforeSend(payload);
      if (out === null || out === false) return undefined;
      if (out && typeof out === 'object') payload = out;
    }
    return JSON.stringify(payload);
  }

  // The item for report `r`, or a NotSent number. An encoder that throws is not used again.
  function encode(r) {
    try {
      return enc.encode(r);
    } catch (_) {
      enc = undefined;
      failed = true;
      return NotSent.Raised;
    }
  }

  // The item of `r` after the hooks: a string, or the NotSent number of why not.
  function item(r) {
    const out = encode(r);
    if (typeof out !== 'string' || !(transform || beforeSend)) return out;
    try {
      const body = runHooks(out);
      return body === undefined ? NotSent.Dropped : body;
    } catch (_) {
      return NotSent.Raised;
    }
  }

  // Encodes `r` and queues its item (or says why not); the uuid when queued.
  function send(r) {
    const uuid = r.link[0];
    const out = item(r);
    if (typeof out !== 'string') {
      guard(w.errorNotSent, out, uuid);
      return undefined;
    }
    return guard(w.errorQueue, uuid, out) ? uuid : undefined;
  }

  // The trap item (a trap the panic hook did not see), sent as it is.
  function sendTrap() {
    trapPending = false;
    try {
      const trap = enc.trapItem(settings.trapUuid);
      if (typeof trap === 'string') sendNow(fetchFn, items, trap);
    } catch (_) { /* the encoder failed: nothing more to send */ }
  }

  // Once the encoder is there (or will never be): what waited for it, each on its own.
  function settleWaiting() {
    const list = waiting.splice(0);
    busy = true;
    try {
      for (const r of list) {
        const uuid = r && r.link ? r.link[0] : undefined;
        try {
          if (gone) {
            // The engine is dead: the item goes out as it is, without a span mark.
            const out = enc ? item(r) : undefined;
            if (typeof out === 'string') sendNow(fetchFn, items, out);
          } else if (enc) {
            send(r);
          } else {
            guard(w.errorNotSent, NotSent.Lost, uuid);
          }
        } catch (_) {
          if (!gone) guard(w.errorNotSent, NotSent.Raised, uuid);
        }
      }
      if (trapPending && enc) sendTrap();
    } finally {
      busy = false;
    }
  }

  function ready(m) {
    m.configure(options);
    enc = m;
  }

  // Errors a page hidden before its encoder arrived kept for the next one (beforeHide).
  function takeStored() {
    try {
      const kept = localStorage.getItem(ERRORS_STORAGE_KEY);
      if (kept === null) return [];
      localStorage.removeItem(ERRORS_STORAGE_KEY);
      const list = JSON.parse(kept);
      return Array.isArray(list) ? list.filter((r) => r && Array.isArray(r.link)) : [];
    } catch (_) {
      return [];
    }
  }

  // Adds `list` to what is kept for the next page; false when storage refused it (then
  // what was kept before stays as it was).
  function keep(list) {
    try {
      const before = localStorage.getItem(ERRORS_STORAGE_KEY);
      let kept = before === null ? [] : JSON.parse(before);
      if (!Array.isArray(kept)) kept = [];
      for (const r of list) {
        let custom;
        try {
          custom = JSON.parse(JSON.stringify(r.custom === undefined ? null : r.custom));
        } catch (_) {
          custom = null;
        }
        const level = typeof r.level === 'string' ? r.level : undefined;
        kept.push({ kind: r.kind, level, chain: r.chain, custom, link: r.link, pageUrl: r.pageUrl });
      }
      const over = kept.length - MAX_WAITING_ERRORS;
      if (over > 0 && !gone) for (let k = 0; k < over; k++) guard(w.errorNotSent, NotSent.Lost);
      const all = over > 0 ? kept.slice(over) : kept;
      try {
        localStorage.setItem(ERRORS_STORAGE_KEY, JSON.stringify(all));
      } catch (_) {
        // Over the quota: again without their telemetry (the link's fifth entry).
        localStorage.setItem(ERRORS_STORAGE_KEY, JSON.stringify(all.map((r) => Object.assign({}, r, { link: r.link.slice(0, 4) }))));
      }
      return true;
    } catch (_) {
      return false;
    }
  }

  // The bytes (kept until instantiated, so that a page hidden meanwhile can
  // instantiate synchronously), compiled, then instantiated synchronously (one instance,
  // whichever of this and beforeHide comes first); then what waited, and what an earlier
  // page kept. Started once: on the first error, when the page is idle, or by ready(). The
  // promise resolves at the latest after ENCODER_LOAD_TIMEOUT_MS (what waits keeps waiting).
  let loading;
  let closed = false;
  function load() {
    if (loading) return loading;
    const chain = Promise.resolve()
      .then(() => fetchFn.call(globalThis, encoderUrl()))
      .then((res) => {
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        return res.arrayBuffer();
      })
      .then((b) => {
        bytes = b;
        return enc ? undefined : WebAssembly.compile(b);
      })
      .then((compiled) => {
        if (!enc && compiled) ready(instantiateSync(compiled));
      })
      .catch((e) => {
        failed = !enc;
        if (failed && options.debug) sdkDebug(`edge-telemetry: the item encoder could not be loaded (${e && e.message}); errors are counted, not sent`);
      })
      .then(() => {
        bytes = undefined;
        if (closed) return;
        if (enc && !gone) waiting.push(...takeStored());
        settleWaiting();
      });
    loading = Promise.race([chain, new Promise((resolve) => { setTimeout(resolve, ENCODER_LOAD_TIMEOUT_MS); })]);
    return loading;
  }
  // (Errors an earlier page kept are sent from here too: the storage is read then, not at
  // start-up, where a first localStorage read costs milliseconds.)
  const idleApi = typeof requestIdleCallback === 'function';
  const idle = idleApi ? requestIdleCallback(load, { timeout: ENCODER_LOAD_WITHIN_MS }) : setTimeout(load, ENCODER_LOAD_WITHIN_MS / 4);

  /**
   * Before the transports' page-hide flush (installed first): an encoder that has its bytes
   * but is not instantiated yet is instantiated now, synchronously, so that what waited for
   * it is queued in time. Without its bytes, what waited is kept in localStorage for the
   * next page of the origin (its span marked now, to leave with this page).
   */
  function beforeHide() {
    if (!waiting.length) return;
    if (!enc && !failed && bytes) {
      try {
        ready(instantiateSync(bytes));
      } catch (_) {
        failed = true;
      }
    }
    if (enc || failed) {
      settleWaiting();
      return;
    }
    const list = waiting.splice(0);
    const kept = keep(list);
    if (gone) return;
    for (const r of list) {
      if (kept) guard(w.errorDeferred, r.link[0]);
      else guard(w.errorNotSent, NotSent.Lost, r.link[0]);
    }
  }

  /** Reports `value`; returns the item's uuid, or undefined when it is not sent. */
  function report(kind, value, level, custom, hint) {
    // An error raised while reporting (a throwing hook, a getter) is counted, never reported.
    if (busy || gone) {
      if (busy) guard(w.errorNotSent, NotSent.Raised);
      return undefined;
    }
    busy = true;
    try {
      const chain = kind === Source.Message ? [{ name: '', message: text(value), stack: '' }] : chainOf(value, kind === Source.Rejection ? 'UnhandledRejection' : 'Error');
      if (!enc && (failed || waiting.length >= MAX_WAITING_ERRORS)) {
        // No encoder to come, or no room to wait for it: not linked to a span at all.
        guard(w.errorNotSent, NotSent.Lost);
        return undefined;
      }
      const first = chain[0];
      const link = guard(w.errorCapture, kind, hint === undefined ? hintOf(value) : hint, first.name, first.message, first.stack);
      if (!link) return undefined;
      const r = { kind, level, chain, custom, link, pageUrl: pageUrl() };
      if (enc) return send(r);
      load();
      // Queued once the encoder is loaded; its uuid is already the item's.
      waiting.push(r);
      return link[0];
    } catch (_) {
      guard(w.errorNotSent, NotSent.Raised);
      return undefined;
    } finally {
      busy = false;
    }
  }

  /**
   * The panic hook's item (src/errors.rs report_panic): the item when the encoder is there,
   * the NotSent number of why it is not sent, or undefined when it waits for the encoder
   * (then errors.js sends it as it is once it is there: the engine will be dead by then).
   */
  function panicItem(link, message, stack) {
    const r = { kind: Source.Panic, level: undefined, chain: [{ name: 'panic', message, stack }], custom: undefined, link, pageUrl: pageUrl() };
    if (enc) return encode(r);
    if (failed || waiting.length >= MAX_WAITING_ERRORS) return NotSent.Lost;
    waiting.push(r);
    load();
    return undefined;
  }

  /**
   * The panic hook's last gasp (src/errors.rs install_panic_hook): send what it handed over
   * now, because the module is about to trap.
   */
  function fatal(out, lost) {
    gone = true;
    onDead();
    // `out`: [{channel, body}, ...], everything queued, items first.
    for (const r of out || []) {
      const to = channels[r.channel];
      if (to) sendNow(fetchFn, to, r.body);
    }
    // The panic's item, built without the SDK's state (it was in use): sent as it is.
    if (typeof lost === 'string') sendNow(fetchFn, items, lost);
  }

  /**
   * A WebAssembly trap reached the SDK's guard. After a panic the hook has reported it;
   * a trap without a panic (stack overflow, out of memory) is reported here, once, with an
   * item the encoder builds (now, or when it is loaded), sent as it is.
   */
  function trapped() {
    if (gone) return;
    gone = true;
    if (enc) {
      sendTrap();
    } else if (!failed) {
      trapPending = true;
      load();
    }
  }

  function onError(ev) {
    const err = ev.error;
    // The trap after a panic of ours: already reported by the hook.
    if (gone && typeof WebAssembly !== 'undefined' && err instanceof WebAssembly.RuntimeError) return;
    const value = err !== undefined && err !== null ? err : {
      name: 'Error',
      message: text(ev.message),
      stack: ev.filename ? `Error: ${text(ev.message)}\n    at ${ev.filename}:${ev.lineno}:${ev.colno}` : '',
    };
    report(Source.Uncaught, value, undefined, undefined, hintOf(err));
  }

  function onRejection(ev) {
    let reason;
    try { reason = ev.reason; } catch (_) { reason = undefined; }
    report(Source.Rejection, reason, undefined, undefined);
  }

  const listeners = [];
  const listen = (target, type, fn) => {
    target.addEventListener(type, fn);
    listeners.push([target, type, fn]);
  };
  if (typeof addEventListener === 'function') {
    if (settings.captureUncaught) listen(globalThis, 'error', onError);
    if (settings.captureUnhandledRejections) listen(globalThis, 'unhandledrejection', onRejection);
    // Installed before the transports' listeners, so these run first.
    listen(globalThis, 'pagehide', beforeHide);
    if (typeof document !== 'undefined') {
      listen(document, 'visibilitychange', () => {
        if (document.visibilityState === 'hidden') beforeHide();
      });
    }
  }

  /** A window `error` or `unhandledrejection` event seen before the engine was ready. */
  function replay(ev) {
    if (ev.type === 'error' && settings.captureUncaught) onError(ev);
    else if (ev.type === 'unhandledrejection' && settings.captureUnhandledRejections) onRejection(ev);
  }

  /** Removes the window listeners. */
  function close() {
    closed = true;
    if (idleApi) cancelIdleCallback(idle);
    else clearTimeout(idle);
    for (const [target, type, fn] of listeners.splice(0)) target.removeEventListener(type, fn);
  }

  /** Whether errors wait for the encoder. */
  const isWaiting = () => waiting.length > 0 && !gone;

  return { report, panicItem, fatal, trapped, replay, load, waiting: isWaiting, close };
}
