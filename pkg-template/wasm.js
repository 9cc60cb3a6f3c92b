// The boundary between the package's JS and its two wasm modules, written for this package
// instead of generated glue (ARCHITECTURE.md, "The boundary"). A JS value crosses as a
// handle, its index in `heap`; each module imports the `et` functions below (declared in
// bindings/src/js.rs, with the same numbers for kinds) and exports functions that take and
// return handles, wrapped here by their number of parameters. Every import that reads or
// calls page values catches what they throw: wasm never sees an exception.

import { sdkDebug } from './console.js';

// Handles 0-4 are fixed, never freed (Rust's JsValue::UNDEFINED ... global()).
const heap = [undefined, null, true, false, globalThis];
const FIXED = heap.length;
const free = [];

const put = (v) => {
  switch (v) {
    case undefined: return 0;
    case null: return 1;
    case true: return 2;
    case false: return 3;
    default: {
      const h = free.length ? free.pop() : heap.length;
      heap[h] = v;
      return h;
    }
  }
};

const take = (h) => {
  const v = heap[h];
  if (h >= FIXED) {
    heap[h] = undefined;
    free.push(h);
  }
  return v;
};

// What a value is, as bindings/src/js.rs's `kind` numbers it.
function kindOf(v) {
  switch (typeof v) {
    case 'undefined': return 0;
    case 'boolean': return 2;
    case 'number': return 3;
    case 'string': return 4;
    case 'function': return 5;
    case 'object':
      if (v === null) return 1;
      try {
        if (Array.isArray(v)) return 6;
        if (v instanceof RegExp) return 7;
        if (typeof Headers === 'function' && v instanceof Headers) return 8;
        if (v instanceof Error) return 9;
      } catch (_) { /* a revoked proxy, or a throwing getPrototypeOf trap */ }
      return 10;
    default: return 11;
  }
}

let utf8Encoder;
let utf8Decoder;
// The string str_len measured, until str_copy writes it: the string itself when it is
// ASCII, else its UTF-8 bytes.
let kept;

// The `et` imports of a module whose memory `mem()` gives.
function imports(mem) {
  const bytes = (p, n) => new Uint8Array(mem().buffer, p, n);
  const text = (p, n) => {
    const b = bytes(p, n);
    if (n <= 1024) {
      let ascii = true;
      for (let i = 0; i < n; i++) if (b[i] > 127) { ascii = false; break; }
      if (ascii) return String.fromCharCode.apply(null, b);
    }
    return (utf8Decoder || (utf8Decoder = new TextDecoder())).decode(b);
  };
  return {
    et: {
      drop: (h) => { take(h); },
      clone: (h) => put(heap[h]),
      kind: (h) => kindOf(heap[h]),
      number: (h) => (typeof heap[h] === 'number' ? heap[h] : NaN),
      from_number: put,
      from_str: (p, n) => put(text(p, n)),
      str_len(h) {
        const s = heap[h];
        if (typeof s !== 'string') return -1;
        for (let i = 0; i < s.length; i++) {
          if (s.charCodeAt(i) > 127) {
            kept = (utf8Encoder || (utf8Encoder = new TextEncoder())).encode(s);
            return kept.length;
          }
        }
        kept = s;
        return s.length;
      },
      str_copy(p) {
        const s = kept;
        kept = undefined;
        if (typeof s !== 'string') {
          bytes(p, s.length).set(s);
          return;
        }
        const b = bytes(p, s.length);
        for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i);
      },
      get(o, k) {
        try {
          return put(Reflect.get(heap[o], heap[k]));
        } catch (_) {
          return 0;
        }
      },
      get_index(o, i) {
        try {
          return put(Reflect.get(heap[o], i));
        } catch (_) {
          return 0;
        }
      },
      set(o, k, v) {
        try {
          heap[o][heap[k]] = heap[v];
          return 1;
        } catch (_) {
          return 0;
        }
      },
      object: () => put({}),
      array: () => put([]),
      push: (a, v) => { heap[a].push(heap[v]); },
      length(a) {
        try {
          const v = heap[a];
          const n = Array.isArray(v) ? v.length : -1;
          return typeof n === 'number' ? n : -1;
        } catch (_) {
          return -1;
        }
      },
      keys(o) {
        try {
          return put(Object.keys(heap[o]));
        } catch (_) {
          return 0;
        }
      },
      apply(f, a) {
        try {
          return put(Reflect.apply(heap[f], undefined, heap[a]));
        } catch (_) {
          return -1;
        }
      },
      regexp_test(re, s) {
        try {
          const r = heap[re];
          r.lastIndex = 0;
          return RegExp.prototype.test.call(r, heap[s]) ? 1 : 0;
        } catch (_) {
          return 2;
        }
      },
      header_set(h, k, v) {
        try {
          heap[h].set(heap[k], heap[v]);
          return 1;
        } catch (_) {
          return 0;
        }
      },
      url(u, b) {
        try {
          return put(new URL(heap[u], heap[b]).href);
        } catch (_) {
          return 0;
        }
      },
      date_time(h) {
        const v = heap[h];
        try {
          return v instanceof Date ? Date.prototype.getTime.call(v) : NaN;
        } catch (_) {
          return NaN;
        }
      },
      number_string: (n) => put(String(n)),
      json(h) {
        try {
          return put(JSON.stringify(heap[h]));
        } catch (_) {
          return 0;
        }
      },
      bytes: (p, n) => put(bytes(p, n).slice()),
      stack() {
        // Without this function's own frame (the second line).
        const lines = String(new Error().stack).split('\n');
        lines.splice(1, 1);
        return put(lines.join('\n'));
      },
      now: () => performance.now(),
      time_origin: () => performance.timeOrigin,
      random_fill(p, n) {
        try {
          crypto.getRandomValues(bytes(p, n));
          return 1;
        } catch (_) {
          return 0;
        }
      },
      math_random: Math.random,
      debug: (p, n) => sdkDebug(text(p, n)),
      session_set(k, v) {
        try {
          sessionStorage.setItem(heap[k], heap[v]);
        } catch (_) { /* quota, or no storage */ }
      },
    },
  };
}

// An export over handles as a function over values.
function wrap(f) {
  switch (f.length) {
    case 0: return () => take(f());
    case 1: return (a) => take(f(put(a)));
    case 2: return (a, b) => take(f(put(a), put(b)));
    case 3: return (a, b, c) => take(f(put(a), put(b), put(c)));
    case 4: return (a, b, c, d) => take(f(put(a), put(b), put(c), put(d)));
    case 5: return (a, b, c, d, e) => take(f(put(a), put(b), put(c), put(d), put(e)));
    case 6: return (a, b, c, d, e, g) => take(f(put(a), put(b), put(c), put(d), put(e), put(g)));
    default: return (a, b, c, d, e, g, h) => take(f(put(a), put(b), put(c), put(d), put(e), put(g), put(h)));
  }
}

// The module's exports as functions over values, its memory, and `runOps` over the
// span-call buffer (ops.js): the numbers, then the joined strings' UTF-8, written into the
// module's buffer; the started spans' handles come back there.
function exportsOf(x) {
  const out = { memory: x.memory };
  for (const k of Object.keys(x)) {
    if (typeof x[k] === 'function' && k !== 'runOps' && k.slice(0, 2) !== '__') out[k] = wrap(x[k]);
  }
  if (x.runOps) {
    out.runOps = (ops, joined) => {
      const at = ops.length * 8;
      const room = at + joined.length * 3;
      const p = x.__et_buffer(room);
      if (!p) return undefined;
      new Float64Array(x.memory.buffer, p, ops.length).set(ops);
      const { written } = (utf8Encoder || (utf8Encoder = new TextEncoder())).encodeInto(joined, new Uint8Array(x.memory.buffer, p + at, room - at));
      const n = x.runOps(ops.length, written);
      return new Uint32Array(x.memory.buffer, p, n).slice();
    };
  }
  return out;
}

/**
 * Instantiates a module from `response` (a fetch Response, or its promise): streaming when
 * the server sends `application/wasm`, from the bytes otherwise. Resolves to its exports.
 */
export async function instantiate(response) {
  const res = await response;
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  let memory;
  const imp = imports(() => memory);
  const streaming = typeof WebAssembly.instantiateStreaming === 'function'
    && /^application\/wasm\b/i.test(res.headers.get('Content-Type') || '');
  const { instance } = streaming
    ? await WebAssembly.instantiateStreaming(res, imp)
    : await WebAssembly.instantiate(await res.arrayBuffer(), imp);
  memory = instance.exports.memory;
  return exportsOf(instance.exports);
}

/**
 * Instantiates a compiled module (or its bytes) at once: the item encoder, also on the
 * page-hide path.
 */
export function instantiateSync(module) {
  let memory;
  const compiled = module instanceof WebAssembly.Module ? module : new WebAssembly.Module(module);
  const instance = new WebAssembly.Instance(compiled, imports(() => memory));
  memory = instance.exports.memory;
  return exportsOf(instance.exports);
}
