// fetch and XMLHttpRequest instrumentation. Policy (span names, attributes, which URLs get
// trace headers, status) is decided in Rust; this file only touches the JS objects.
// Invariant: whatever happens inside the SDK, the page's request goes out exactly as the
// page wrote it (plus trace headers), and the page sees the browser's own result.

const FETCH_NORMALISED = ['DELETE', 'GET', 'HEAD', 'OPTIONS', 'POST', 'PUT'];
const INIT_KEYS = ['method', 'headers', 'body', 'mode', 'credentials', 'cache', 'redirect', 'referrer',
  'referrerPolicy', 'integrity', 'keepalive', 'signal', 'priority', 'duplex', 'window'];

// fetch() upper-cases these six methods and leaves every other one as written.
function normaliseMethod(m) {
  const s = String(m);
  const u = s.toUpperCase();
  return FETCH_NORMALISED.includes(u) ? u : s;
}

function baseUrl() {
  const loc = globalThis.location;
  return loc ? loc.href : undefined;
}

// A copy of a RequestInit with `headers` replaced; getters on a non-plain init (e.g. a
// Request passed as init) are read explicitly, since Object.assign copies own props only.
function withHeaders(init, headers) {
  if (init == null) return { headers };
  const proto = Object.getPrototypeOf(init);
  if (proto === Object.prototype || proto === null) return Object.assign({}, init, { headers });
  const copy = {};
  for (const k of INIT_KEYS) if (k in init) copy[k] = init[k];
  copy.headers = headers;
  return copy;
}

/**
 * Wraps globalThis.fetch. `w` gives the wasm functions and `guard(fn, ...args)` that
 * swallows and counts internal faults.
 */
export function installFetch(w, guard) {
  const original = globalThis.fetch;
  if (typeof original !== 'function') return;
  const end = (h, scope, outcome, status, errorType) => {
    guard(w.httpEnd, h, outcome, status, errorType);
    // Callbacks the page chained on this request run before the next task: keep the
    // parent active for them, then close the scope.
    if (scope) setTimeout(() => guard(w.closeScope, scope), 0);
  };
  globalThis.fetch = function fetch(input, init) {
    let args = arguments;
    let h = 0;
    let scope = 0;
    if (guard.dead()) return original.apply(this, args);
    try {
      const req = typeof Request !== 'undefined' && input instanceof Request ? input : null;
      const method = normaliseMethod(init && init.method !== undefined ? init.method : req ? req.method : 'GET');
      const url = new URL(req ? req.url : input, baseUrl()).href;
      h = w.httpStart(method, url, false);
      if (h) {
        scope = w.openActiveScope();
        const trace = w.httpHeaders(h, url);
        if (trace) {
          const headers = new Headers(init && init.headers !== undefined ? init.headers : req ? req.headers : undefined);
          for (let i = 0; i < trace.length; i += 2) headers.set(trace[i], trace[i + 1]);
          args = [input, withHeaders(init, headers)];
        }
      }
    } catch (e) {
      guard.fault(e);
    }
    const p = original.apply(this, args);
    if (h) {
      try {
        p.then(
          (r) => end(h, scope, 0, r.status),
          (e) => end(h, scope, e && e.name === 'AbortError' ? 2 : 1, 0, e && typeof e.name === 'string' ? e.name : undefined),
        );
      } catch (e) {
        guard.fault(e);
      }
    }
    return p;
  };
}

/** Wraps XMLHttpRequest.prototype.open/setRequestHeader/send. */
export function installXhr(w, guard) {
  if (typeof XMLHttpRequest === 'undefined') return;
  const proto = XMLHttpRequest.prototype;
  const { open, send, setRequestHeader } = proto;
  const requests = new WeakMap();
  proto.open = function (method, url) {
    try {
      requests.set(this, { method: normaliseMethod(method), url: new URL(url, baseUrl()).href, ownTraceparent: false });
    } catch (e) {
      requests.delete(this);
    }
    return open.apply(this, arguments);
  };
  proto.setRequestHeader = function (name) {
    const r = requests.get(this);
    if (r && String(name).toLowerCase() === 'traceparent') r.ownTraceparent = true;
    return setRequestHeader.apply(this, arguments);
  };
  proto.send = function () {
    if (guard.dead()) return send.apply(this, arguments);
    try {
      const r = requests.get(this);
      const h = r ? w.httpStart(r.method, r.url, true) : 0;
      if (h) {
        const scope = w.openActiveScope();
        const trace = r.ownTraceparent ? undefined : w.httpHeaders(h, r.url);
        if (trace) for (let i = 0; i < trace.length; i += 2) setRequestHeader.call(this, trace[i], trace[i + 1]);
        let outcome = 0;
        const xhr = this;
        const mark = (o) => () => { outcome = o; };
        this.addEventListener('error', mark(1));
        this.addEventListener('abort', mark(2));
        this.addEventListener('timeout', mark(3));
        this.addEventListener('loadend', function onEnd() {
          xhr.removeEventListener('loadend', onEnd);
          guard(w.httpEnd, h, outcome, outcome ? 0 : xhr.status, outcome === 1 ? 'error' : undefined);
          if (scope) setTimeout(() => guard(w.closeScope, scope), 0);
        });
      }
    } catch (e) {
      guard.fault(e);
    }
    return send.apply(this, arguments);
  };
}
