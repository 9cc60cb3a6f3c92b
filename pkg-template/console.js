// The console: captured calls (`captureConsole`), the SDK's own debug output, and the safe
// rendering of what a page logs. Which methods may be captured and with what severity is
// core's (config::CONSOLE_METHODS, generated into options-schema.js); this file converts JS
// values to text.
import { MAX_LOG_BODY_CHARS } from './options-schema.js';

// Above 0 while the SDK writes to the console itself or handles a captured call: console calls
// made meanwhile (the SDK's debug lines, a getter that logs while its object is rendered) go
// straight to the console and are not captured, so capture never loops.
let quiet = 0;

/** Writes one of the SDK's debug lines (never captured). */
export function sdkDebug(msg) {
  if (typeof console === 'undefined') return;
  quiet++;
  try {
    console.debug(msg);
  } catch (_) { /* a console that throws: nothing to do */ } finally {
    quiet--;
  }
}

// How deep objects are rendered, and how many members of each.
const MAX_DEPTH = 3;
const MAX_MEMBERS = 50;

// A call that may throw (a getter, a Proxy trap, a toString): its text, or `fallback`.
function attempt(fn, fallback) {
  try {
    const t = fn();
    return typeof t === 'string' ? t : fallback;
  } catch (_) {
    return fallback;
  }
}

/**
 * `args` as one line of text, as the console would show them: strings as they are, other
 * values rendered with cycles, depth and member counts bounded, getters and Proxy traps that
 * throw shown as `[Thrown]`, and the whole cut at MAX_LOG_BODY_CHARS. Never throws.
 */
export function render(args) {
  const out = { s: '', room: MAX_LOG_BODY_CHARS };
  const add = (t) => {
    if (out.room <= 0) return;
    const part = t.length > out.room ? t.slice(0, out.room) : t;
    out.s += part;
    out.room -= part.length;
  };
  const seen = [];
  const value = (v, depth, top) => {
    if (out.room <= 0) return;
    switch (typeof v) {
      case 'string': {
        const t = v.length > out.room ? v.slice(0, out.room) : v;
        add(top ? t : JSON.stringify(t));
        return;
      }
      case 'function':
        add(`[Function${attempt(() => (v.name ? `: ${v.name}` : ''), '')}]`);
        return;
      case 'symbol':
        add(attempt(() => v.toString(), 'Symbol()'));
        return;
      case 'object':
        break;
      default:
        add(String(v));
        return;
    }
    if (v === null) {
      add('null');
      return;
    }
    if (seen.includes(v)) {
      add('[Circular]');
      return;
    }
    try {
      if (v instanceof Error) {
        const stack = attempt(() => v.stack, '');
        const head = `${attempt(() => v.name, 'Error')}: ${attempt(() => v.message, '')}`;
        // V8's stack starts with the head; Firefox's and Safari's hold only the frames.
        add(!stack ? head : stack.startsWith(head) ? stack : `${head}\n${stack}`);
        return;
      }
      if (v instanceof Date) {
        add(attempt(() => v.toISOString(), 'Invalid Date'));
        return;
      }
      if (v.nodeType === 1 && typeof v.nodeName === 'string') {
        const id = attempt(() => v.id, '');
        add(`<${v.nodeName.toLowerCase()}${id ? `#${id}` : ''}>`);
        return;
      }
    } catch (_) {
      add('[Thrown]');
      return;
    }
    let array;
    let keys;
    let n;
    try {
      array = Array.isArray(v);
      if (depth >= MAX_DEPTH) {
        add(array ? '[Array]' : '[Object]');
        return;
      }
      keys = array ? null : Object.keys(v);
      n = array ? v.length >>> 0 : keys.length;
    } catch (_) {
      add('[Thrown]');
      return;
    }
    seen.push(v);
    add(array ? '[' : '{');
    for (let i = 0; i < n && i < MAX_MEMBERS && out.room > 0; i++) {
      if (i) add(', ');
      if (!array) add(`${JSON.stringify(keys[i])}: `);
      let x;
      try {
        x = array ? v[i] : v[keys[i]];
      } catch (_) {
        add('[Thrown]');
        continue;
      }
      value(x, depth + 1, false);
    }
    if (n > MAX_MEMBERS) add(`, … ${n - MAX_MEMBERS} more`);
    add(array ? ']' : '}');
    seen.pop();
  };
  for (let i = 0; i < args.length && out.room > 0; i++) {
    if (i) add(' ');
    value(args[i], 0, true);
  }
  return out.s;
}

/**
 * Captures calls to the console `methods` ([[name, severity], ...]): each call also goes to
 * `emit(severity, text)`, then to the console as before. Returns the function that puts the
 * console's methods back (those still ours).
 */
export function installConsole(methods, emit) {
  if (typeof console === 'undefined') return undefined;
  const undo = [];
  for (const [method, severity] of methods) {
    const original = console[method];
    if (typeof original !== 'function') continue;
    const wrapper = function (...args) {
      if (!quiet) {
        quiet++;
        try {
          emit(severity, render(args));
        } catch (_) { /* never into the page */ } finally {
          quiet--;
        }
      }
      return original.apply(this, args);
    };
    console[method] = wrapper;
    undo.push(() => {
      if (console[method] === wrapper) console[method] = original;
    });
  }
  return () => {
    for (const u of undo) u();
  };
}
