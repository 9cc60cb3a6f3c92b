// The span calls of the page, recorded and run by the engine in one crossing (the layout is
// defined once, in src/ops.rs; its Op and Arg numbers are core's `boundary`, generated into
// options-schema.js). startSpan,
// setAttribute(s) and end write numbers into one buffer and their strings into a list; the
// engine runs them, in order and at the time each was made, when any other call needs its
// state (every export is reached through `drainFirst`), when the buffer is full, or in a
// microtask of the same task. A call whose arguments this layout does not carry (links, a
// non-Span parent, an array value, ...) returns false here and crosses on its own, after the
// buffer has run.
import { Op, Arg } from './options-schema.js';
// Numbers the buffer holds before it runs (64 KB).
const CAPACITY = 8192;

// Allocated by the first call (room), not at import.
let buf = new Float64Array(0);
let n = 0;
// The strings of the buffered calls (each once), and their index.
let strings = [];
const stringIndex = new Map();
// Spans started in the buffer, awaiting their handle; span.__edgeQueued is the index here.
let waiting = [];
let queued = false;
let running = false;
// (ops, strings) => Uint32Array of handles, or undefined when the call failed.
let runner;

export function setRunner(fn) {
  runner = fn;
}

// Runs what is buffered, and gives the spans it started their handles.
export function runOps() {
  if (n === 0 || running) return;
  const ops = buf.subarray(0, n);
  const joined = strings.length ? strings.join('\0') : '';
  const spans = waiting;
  n = 0;
  strings = [];
  stringIndex.clear();
  waiting = [];
  running = true;
  let handles;
  try {
    // The numbers are copied into wasm memory before the engine runs them.
    handles = runner(ops, joined);
  } finally {
    running = false;
    for (let i = 0; i < spans.length; i++) {
      spans[i].__edgeSpanId = handles && i < handles.length ? handles[i] >>> 0 : 0;
      spans[i].__edgeQueued = -1;
    }
  }
}

const runQueued = () => {
  queued = false;
  runOps();
};

// Room for `size` more numbers: runs the buffer when full; grows it for one large call.
function room(size) {
  if (n + size <= buf.length) return;
  runOps();
  if (n + size > buf.length) {
    // One large call, or calls made while the buffer runs (from user code the engine called).
    const grown = new Float64Array(n + size + CAPACITY);
    grown.set(buf.subarray(0, n));
    buf = grown;
  }
}

function done() {
  if (!queued) {
    queued = true;
    queueMicrotask(runQueued);
  }
  return true;
}

function stringAt(s) {
  let i = stringIndex.get(s);
  if (i === undefined) {
    // NUL separates the strings: a string holding one crosses on its own.
    if (s.indexOf('\0') !== -1) return -1;
    i = strings.length;
    strings.push(s);
    stringIndex.set(s, i);
  }
  return i;
}

// Writes `v` as (tag, number); false when this layout cannot carry it.
function put(v) {
  switch (typeof v) {
    case 'string': {
      const i = stringAt(v);
      if (i < 0) return false;
      buf[n] = Arg.Str;
      buf[n + 1] = i;
      break;
    }
    case 'number':
      buf[n] = Arg.Num;
      buf[n + 1] = v;
      break;
    case 'boolean':
      buf[n] = Arg.Bool;
      buf[n + 1] = v ? 1 : 0;
      break;
    case 'undefined':
      buf[n] = Arg.Undefined;
      buf[n + 1] = 0;
      break;
    default:
      return false;
  }
  n += 2;
  return true;
}

// A span as one number: its handle, or -(i + 1) while it awaits one in this buffer.
const ref = (span) => (span.__edgeQueued >= 0 ? -(span.__edgeQueued + 1) : span.__edgeSpanId >>> 0);

const NONE = [];

// The keys of an attributes object, as the engine reads one (Object.keys); undefined when
// this layout does not carry it (or a Proxy's trap threw).
function keysOf(a) {
  if (a === undefined || a === null) return NONE;
  if (typeof a !== 'object' || Array.isArray(a)) return undefined;
  try {
    return Object.keys(a);
  } catch (_) {
    return undefined;
  }
}

// Writes the attributes `keys` of `a` names: false when a key is not a string or a value is
// not a string, number, boolean or undefined. Needs 1 + 4 * keys.length numbers of room.
function putAttributes(a, keys) {
  buf[n++] = keys.length;
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i];
    if (!put(k) || !put(a[k])) return false;
  }
  return true;
}

// Each function below returns true when the call was buffered, false when it must cross on
// its own (nothing of it is then left in the buffer). Page code they run (getters, proxies)
// may throw: that too leaves the call to the direct path.

export function opStart(span, name, kind, parent, time, attributes, flags) {
  if (time !== undefined && typeof time !== 'number') return false;
  const keys = keysOf(attributes);
  if (keys === undefined) return false;
  room(16 + 4 * keys.length);
  const at = n;
  try {
    buf[n++] = Op.Start;
    buf[n++] = flags;
    if (!put(name) || !put(kind)) return (n = at), false;
    if (parent === undefined) {
      buf[n] = Arg.Undefined;
    } else {
      buf[n] = Arg.Span;
      buf[n + 1] = ref(parent);
    }
    n += 2;
    if (!put(time) || !putAttributes(attributes, keys)) return (n = at), false;
  } catch (_) {
    n = at;
    return false;
  }
  buf[n++] = performance.now();
  span.__edgeQueued = waiting.length;
  waiting.push(span);
  return done();
}

export function opSetAttribute(span, key, value) {
  if (typeof key !== 'string') return false;
  room(6);
  const at = n;
  buf[n++] = Op.SetAttribute;
  buf[n++] = ref(span);
  if (!put(key) || !put(value)) return (n = at), false;
  return done();
}

export function opSetAttributes(span, attributes) {
  const keys = keysOf(attributes);
  if (keys === undefined) return false;
  room(3 + 4 * keys.length);
  const at = n;
  try {
    buf[n++] = Op.SetAttributes;
    buf[n++] = ref(span);
    if (!putAttributes(attributes, keys)) return (n = at), false;
  } catch (_) {
    n = at;
    return false;
  }
  return done();
}

export function opEnd(span, endTime) {
  if (endTime !== undefined && typeof endTime !== 'number') return false;
  room(5);
  buf[n++] = Op.End;
  buf[n++] = ref(span);
  put(endTime);
  buf[n++] = performance.now();
  return done();
}

// The module's exports, each running the buffer first (so every call sees the state the
// buffered calls made). The enums are passed through.
export function drainFirst(module) {
  const out = {};
  for (const k of Object.keys(module)) {
    const f = module[k];
    out[k] = typeof f !== 'function' ? f : function (a, b, c, d, e, g, h) {
      if (n !== 0) runOps();
      return f(a, b, c, d, e, g, h);
    };
  }
  return out;
}
