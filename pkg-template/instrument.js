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

const NONE = [];
// The trace headers requestStart pushed onto `out`: [name, value, name, value, ...].
const traceHeaders = (out) => (out.length ? out[0].split('\n') : NONE);

// A path the URL parser leaves as written (no character it would percent-encode, no dot
// segment, no backslash), so that origin + path is its href.
const PLAIN_PATH = /^\/(?!\/)[A-Za-z0-9\-._~!$&()*+,;=:@/?#%]*$/;
const DOT_SEGMENT = /\/(\.|%2e){1,2}(?:[/?#]|$)/i;
let pageOrigin;

// An http(s) URL the URL parser leaves as written, but for the "/" it adds when there is no
// path: a lowercase scheme and host (ASCII letters, digits, inner hyphens; no punycode, no
// credentials), a port only when it is not the scheme's default, and a plain path.
const PLAIN_ABSOLUTE = /^(https?):\/\/((?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)*([a-z0-9](?:[a-z0-9-]*[a-z0-9])?))(?::([1-9]\d{0,4}))?(\/.*)?$/;
// A host the URL parser reads as an IPv4 address (its last label is a number) is left as
// written only in canonical dotted-decimal form.
const NUMERIC_LABEL = /^(?:\d+|0x[0-9a-f]*)$/;
const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

// `url` when it is already what the URL parser would give (see PLAIN_ABSOLUTE), else undefined.
function plainAbsolute(url) {
  const m = PLAIN_ABSOLUTE.exec(url);
  if (m === null) return undefined;
  const [, scheme, host, last, port, path] = m;
  if (/(?:^|\.)xn--/.test(host) || (NUMERIC_LABEL.test(last) && !IPV4.test(host))) return undefined;
  if (port !== undefined && (+port > 65535 || port === (scheme === 'http' ? '80' : '443'))) return undefined;
  if (path === undefined) return url + '/';
  return PLAIN_PATH.test(path) && !DOT_SEGMENT.test(path) ? url : undefined;
}

// The absolute URL of a request, as `new URL(url, location.href).href` gives it. A path
// starting with one slash, the usual case, is joined to the page's origin without parsing,
// and an http(s) URL already in the parser's form is taken as it is (a parse and
// location.href cost about 3 µs of a wrapped fetch).
export function absoluteUrl(url) {
  if (typeof url === 'string') {
    if (PLAIN_PATH.test(url) && !DOT_SEGMENT.test(url)) {
      if (pageOrigin === undefined) {
        const loc = globalThis.location;
        pageOrigin = loc && /^https?:$/.test(loc.protocol) ? loc.origin : null;
      }
      if (pageOrigin) return pageOrigin + url;
    } else {
      const plain = plainAbsolute(url);
      if (plain !== undefined) return plain;
    }
  }
  return new URL(url, baseUrl()).href;
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
 * Wraps globalThis.fetch. `w` gives the wasm module's enums; `rq` the request calls of the
 * facade (index.js): `start(method, url, api, ownTraceparent, out)` before the request
 * (one call into wasm, which pushes the trace headers onto `out`) returns its handle,
 * `end(handle, outcome, status, errorType)` when it settles, `off()` when the SDK is off,
 * `fault(e)` counts an internal error. Returns the function that puts fetch back.
 */
export function installFetch(w, rq) {
  const original = globalThis.fetch;
  if (typeof original !== 'function') return undefined;
  let on = true;
  const wrapped = function fetch(input, init) {
    let args = arguments;
    let h = 0;
    if (!on || rq.off()) return original.apply(this, args);
    try {
      const req = typeof Request !== 'undefined' && input instanceof Request ? input : null;
      const method = normaliseMethod(init && init.method !== undefined ? init.method : req ? req.method : 'GET');
      const url = req ? req.url : absoluteUrl(input);
      const out = [];
      h = rq.start(method, url, w.RequestApi.Fetch, false, out);
      const trace = traceHeaders(out);
      if (trace.length) {
        let headers;
        if (!req && (init == null || init.headers === undefined)) {
          // No headers of the page's to merge with: a plain object is enough.
          headers = {};
          for (let i = 0; i < trace.length; i += 2) headers[trace[i]] = trace[i + 1];
        } else {
          headers = new Headers(init && init.headers !== undefined ? init.headers : req ? req.headers : undefined);
          for (let i = 0; i < trace.length; i += 2) headers.set(trace[i], trace[i + 1]);
        }
        args = [input, withHeaders(init, headers)];
      }
    } catch (e) {
      rq.fault(e);
    }
    const p = original.apply(this, args);
    if (h) {
      try {
        p.then(
          (r) => rq.end(h, w.Outcome.Response, r.status),
          (e) => rq.end(h, e && e.name === 'AbortError' ? w.Outcome.Aborted : w.Outcome.NetworkError, 0,
            e && typeof e.name === 'string' ? e.name : undefined),
        );
      } catch (e) {
        rq.fault(e);
      }
    }
    return p;
  };
  globalThis.fetch = wrapped;
  // Puts the page's fetch back; a wrapper installed over ours since keeps working and now
  // calls straight through.
  return () => {
    on = false;
    if (globalThis.fetch === wrapped) globalThis.fetch = original;
  };
}

/**
 * Wraps XMLHttpRequest.prototype.open/setRequestHeader/send; returns the function that puts
 * them back.
 */
export function installXhr(w, rq) {
  if (typeof XMLHttpRequest === 'undefined') return undefined;
  const proto = XMLHttpRequest.prototype;
  const { open, send, setRequestHeader } = proto;
  const requests = new WeakMap();
  let on = true;
  const wrapped = {};
  wrapped.open = proto.open = function (method, url) {
    if (!on) return open.apply(this, arguments);
    try {
      requests.set(this, { method: normaliseMethod(method), url: absoluteUrl(url), ownTraceparent: false });
    } catch (e) {
      requests.delete(this);
    }
    return open.apply(this, arguments);
  };
  wrapped.setRequestHeader = proto.setRequestHeader = function (name) {
    const r = on && requests.get(this);
    if (r && String(name).toLowerCase() === 'traceparent') r.ownTraceparent = true;
    return setRequestHeader.apply(this, arguments);
  };
  wrapped.send = proto.send = function () {
    if (!on || rq.off()) return send.apply(this, arguments);
    try {
      const r = requests.get(this);
      const out = [];
      const h = r ? rq.start(r.method, r.url, w.RequestApi.Xhr, r.ownTraceparent, out) : 0;
      if (h) {
        const trace = traceHeaders(out);
        for (let i = 0; i < trace.length; i += 2) setRequestHeader.call(this, trace[i], trace[i + 1]);
        let outcome = w.Outcome.Response;
        const xhr = this;
        const mark = (o) => () => { outcome = o; };
        this.addEventListener('error', mark(w.Outcome.NetworkError));
        this.addEventListener('abort', mark(w.Outcome.Aborted));
        this.addEventListener('timeout', mark(w.Outcome.Timeout));
        this.addEventListener('loadend', function onEnd() {
          xhr.removeEventListener('loadend', onEnd);
          const response = outcome === w.Outcome.Response;
          rq.end(h, outcome, response ? xhr.status : 0, outcome === w.Outcome.NetworkError ? 'error' : undefined);
        });
      }
    } catch (e) {
      rq.fault(e);
    }
    return send.apply(this, arguments);
  };
  const originals = { open, send, setRequestHeader };
  return () => {
    on = false;
    for (const k of Object.keys(originals)) if (proto[k] === wrapped[k]) proto[k] = originals[k];
  };
}
