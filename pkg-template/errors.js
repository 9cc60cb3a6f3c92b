// Errors to Rollbar, JS side: the window `error` and `unhandledrejection` listeners, reading
// an error (and its `cause` chain) into plain strings, the `beforeSend` / `transform` hooks,
// and the last gasp after a panic. Which errors become items, the item itself and its link
// to the active span are decided in Rust (src/errors.rs, core/src/rollbar.rs,
// core/src/errors/item_limits.rs); the bytes go through the items channel's transport
// (export.js).
import { sendNow } from './export.js';

// Causes followed at most.
const MAX_CHAIN = 5;

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
 * Starts error reporting. `w`: the wasm functions; `guard`: calls one without throwing;
 * `fetchFn`: the page's fetch before instrumentation; `settings`: from w.errorSettings()
 * ({captureUncaught, captureUnhandledRejections, trapItem}); `channels`: the settings of
 * every channel by `Channel` value (for the last gasp after a panic); `hooks`: the
 * `rollbar.transform` and `rollbar.beforeSend` options; `onDead()`: the module is about to
 * trap, turn the SDK off.
 * Returns { report(kind, value, level, custom), fatal(out, lost), trapped(e), replay(event),
 * close() }.
 */
export function installErrors(w, guard, fetchFn, settings, channels, hooks, onDead) {
  const items = channels[w.Channel.Items];
  const hooked = typeof hooks.transform === 'function' || typeof hooks.beforeSend === 'function';
  let busy = false;
  let gone = false;

  function runHooks(body) {
    let payload = JSON.parse(body);
    if (typeof hooks.transform === 'function') {
      const t = hooks.transform(payload);
      if (t && typeof t === 'object') payload = t;
    }
    if (typeof hooks.beforeSend === 'function') {
      const out = hooks.beforeSend(payload);
      if (out === null || out === false) return undefined;
      if (out && typeof out === 'object') payload = out;
    }
    return JSON.stringify(payload);
  }

  /** Reports `value`; returns the item's uuid, or undefined when it is not sent. */
  function report(kind, value, level, custom, hint) {
    // An error raised while reporting (a throwing hook, a getter) is counted, never reported.
    if (busy || gone) {
      if (busy) guard(w.errorNotSent, true);
      return undefined;
    }
    busy = true;
    try {
      const chain = kind === w.Source.Message ? [{ name: '', message: text(value), stack: '' }] : chainOf(value, kind === w.Source.Rejection ? 'UnhandledRejection' : 'Error');
      const r = guard(w.errorCapture, kind, level, chain, custom, hint === undefined ? hintOf(value) : hint, hooked);
      if (!hooked || !r) return r;
      const [uuid, item] = r;
      let body;
      try {
        body = runHooks(item);
      } catch (_) {
        guard(w.errorNotSent, true, uuid);
        return undefined;
      }
      if (body === undefined) {
        guard(w.errorNotSent, false, uuid);
        return undefined;
      }
      return guard(w.errorQueue, uuid, body) ? uuid : undefined;
    } catch (_) {
      guard(w.errorNotSent, true);
      return undefined;
    } finally {
      busy = false;
    }
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
   * a trap without a panic (stack overflow, out of memory) is reported here, once, with the
   * item the SDK prepared at start (sent as it is).
   */
  function trapped() {
    if (gone) return;
    gone = true;
    if (typeof settings.trapItem === 'string') sendNow(fetchFn, items, settings.trapItem);
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
    report(w.Source.Uncaught, value, undefined, undefined, hintOf(err));
  }

  function onRejection(ev) {
    let reason;
    try { reason = ev.reason; } catch (_) { reason = undefined; }
    report(w.Source.Rejection, reason, undefined, undefined);
  }

  const listeners = [];
  const listen = (type, fn) => {
    addEventListener(type, fn);
    listeners.push([type, fn]);
  };
  if (typeof addEventListener === 'function') {
    if (settings.captureUncaught) listen('error', onError);
    if (settings.captureUnhandledRejections) listen('unhandledrejection', onRejection);
  }

  /** A window `error` or `unhandledrejection` event seen before the engine was ready. */
  function replay(ev) {
    if (ev.type === 'error' && settings.captureUncaught) onError(ev);
    else if (ev.type === 'unhandledrejection' && settings.captureUnhandledRejections) onRejection(ev);
  }

  /** Removes the window listeners. */
  function close() {
    for (const [type, fn] of listeners.splice(0)) removeEventListener(type, fn);
  }

  return { report, fatal, trapped, replay, close };
}
