// An OTLP/HTTP traces sink for the export test: a Node http server on 127.0.0.1 (port from
// the OS) that records every request and answers as the test tells it to.
//
//   const sink = await startSink();
//   sink.origin                 'http://127.0.0.1:PORT'
//   sink.requests               every POST, in arrival order (see `record` below)
//   sink.preflights             every OPTIONS request: { at, origin, method, headers }
//   sink.spans()                the spans of every POST (answered or not), flattened
//   sink.logs()                 the log records of every POST, flattened
//   sink.setMode(answer)        how to answer from now on (default { status: 200 })
//   sink.script(a, b, ...)      answers for the next POSTs, in order; then the mode again
//   sink.release(answer)        answer every hanging request with `answer`
//   sink.refuse() / accept()    stop / start accepting connections on the same port
//   sink.waitFor(pred, ms)      polls until pred() is truthy
//   sink.reset()                forget requests, destroy hanging ones, mode back to 200
//   sink.handle(req, res)       the request handler, to mount the sink on another server
//   sink.close()
//
// An answer is one of
//   { status: 200 }                           200 '{}'
//   { status: 200, body: '{"partialSuccess":{"rejectedSpans":"2"}}' }
//   { status: 429, retryAfter: '1' }          any status, Retry-After as given
//   { hang: true }                            never answer (until release or reset)
//   { destroy: true }                         close the connection without an answer
//   { status, delay: MS }                     answer after MS milliseconds
// Every answer (preflights included) carries Cache-Control: no-store and CORS headers that
// allow the page's origin, POST and any request header the browser asks for.
//
// A POST's record:
//   { n, at, path, search, method, origin, headers, rawHeaders, contentEncoding, rawLength,
//     raw (Buffer), text (decoded body), json, spans, logs, decodeError, answeredAt, closedAt,
//     status, answer }
// where each span is the OTLP JSON span plus `resource` (resource attributes as a plain
// object), `attrs` (its attributes as a plain object), `request` (the record's n).
//
// With ET_OTLP_CAPTURE_DIR set, every decoded request body is also written to
// $ET_OTLP_CAPTURE_DIR/<pid>-<n>.json (n counts POSTs across all sinks of the process, from
// 1; the pid keeps the files of node --test's processes, one per test file, apart), except
// for paths starting with one of `noCapture` (requests that are not OTLP).

import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

let captureSeq = 0;

/** OTLP AnyValue → JS value (intValue as a Number; arrays and kvlists recursively). */
export function anyValue(v) {
  if (!v || typeof v !== 'object') return undefined;
  if ('stringValue' in v) return v.stringValue;
  if ('boolValue' in v) return v.boolValue;
  if ('intValue' in v) return Number(v.intValue);
  if ('doubleValue' in v) return v.doubleValue;
  if ('arrayValue' in v) return (v.arrayValue.values || []).map(anyValue);
  if ('kvlistValue' in v) return attrMap(v.kvlistValue.values);
  if ('bytesValue' in v) return v.bytesValue;
  return undefined;
}

/** OTLP KeyValue list → plain object. */
export function attrMap(list) {
  const out = {};
  for (const kv of list || []) out[kv.key] = anyValue(kv.value);
  return out;
}

/** Spans of an ExportTraceServiceRequest, flattened, each with its resource attributes. */
export function flattenSpans(json, n) {
  const out = [];
  for (const rs of (json && json.resourceSpans) || []) {
    const resource = attrMap(rs.resource && rs.resource.attributes);
    for (const ss of rs.scopeSpans || []) {
      for (const s of ss.spans || []) {
        out.push({ ...s, resource, scope: ss.scope, attrs: attrMap(s.attributes), request: n });
      }
    }
  }
  return out;
}

/** Log records of an ExportLogsServiceRequest, flattened, each with its resource attributes. */
export function flattenLogs(json, n) {
  const out = [];
  for (const rl of (json && json.resourceLogs) || []) {
    const resource = attrMap(rl.resource && rl.resource.attributes);
    for (const sl of rl.scopeLogs || []) {
      for (const r of sl.logRecords || []) {
        out.push({ ...r, resource, scope: sl.scope, attrs: attrMap(r.attributes), body: anyValue(r.body), request: n });
      }
    }
  }
  return out;
}

function pairs(rawHeaders) {
  const out = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) out.push([rawHeaders[i], rawHeaders[i + 1]]);
  return out;
}

export async function startSink({ captureDir = process.env.ET_OTLP_CAPTURE_DIR, preflightMaxAge = 0, noCapture = [] } = {}) {
  if (captureDir) fs.mkdirSync(captureDir, { recursive: true });
  const requests = [];
  const preflights = [];
  const hanging = new Set();
  const sockets = new Set();
  let mode = { status: 200 };
  let scripted = [];
  let open = 0;
  let maxOpen = 0;
  let n = 0;

  function cors(req) {
    const h = { 'cache-control': 'no-store' };
    const origin = req.headers.origin;
    if (origin) {
      h['access-control-allow-origin'] = origin;
      h.vary = 'Origin';
      h['access-control-allow-methods'] = 'POST, OPTIONS';
      const asked = req.headers['access-control-request-headers'];
      if (asked) h['access-control-allow-headers'] = asked;
      h['access-control-max-age'] = String(preflightMaxAge);
      h['access-control-expose-headers'] = 'retry-after, content-type';
    }
    return h;
  }

  function answer(rec, req, res, a) {
    if (res.writableEnded || res.destroyed) return;
    rec.answer = a;
    if (a.destroy) {
      rec.answeredAt = Date.now();
      rec.status = 0;
      req.socket.destroy();
      return;
    }
    const status = a.status || 200;
    const body = a.body !== undefined ? a.body : status >= 200 && status < 300 ? '{}' : JSON.stringify({ code: status, message: 'sink says no' });
    const headers = { ...cors(req), 'content-type': 'application/json' };
    if (a.retryAfter !== undefined) headers['retry-after'] = String(a.retryAfter);
    rec.answeredAt = Date.now();
    rec.status = status;
    res.writeHead(status, headers);
    res.end(body);
  }

  function decode(rec) {
    try {
      const buf = rec.contentEncoding === 'gzip' ? zlib.gunzipSync(rec.raw) : rec.raw;
      rec.text = buf.toString('utf8');
      rec.json = JSON.parse(rec.text);
      rec.spans = flattenSpans(rec.json, rec.n);
      rec.logs = flattenLogs(rec.json, rec.n);
    } catch (e) {
      rec.decodeError = String(e && e.message);
      rec.spans = [];
      rec.logs = [];
    }
    if (captureDir && rec.text !== undefined && !noCapture.some((p) => rec.path.startsWith(p))) {
      // Logs bodies as <pid>-<n>.logs.json: the Rust test decodes them as logs.
      const kind = rec.json && rec.json.resourceLogs ? '.logs' : '';
      fs.writeFileSync(path.join(captureDir, `${process.pid}-${++captureSeq}${kind}.json`), rec.text);
    }
  }

  function handle(req, res) {
    const at = Date.now();
    if (req.method === 'OPTIONS') {
      preflights.push({ at, path: req.url, origin: req.headers.origin, method: req.headers['access-control-request-method'], headers: req.headers['access-control-request-headers'] });
      res.writeHead(204, cors(req));
      res.end();
      return;
    }
    const rec = {
      n: ++n, at, path: new URL(req.url, 'http://x').pathname, search: new URL(req.url, 'http://x').search,
      method: req.method, origin: req.headers.origin, headers: { ...req.headers }, rawHeaders: pairs(req.rawHeaders),
      contentEncoding: req.headers['content-encoding'] || null,
      rawLength: 0, raw: null, text: undefined, json: undefined, spans: [], logs: [],
      answeredAt: null, closedAt: null, status: null, answer: null,
    };
    requests.push(rec);
    open++;
    maxOpen = Math.max(maxOpen, open);
    let closed = false;
    const onClose = () => {
      if (closed) return;
      closed = true;
      open--;
      rec.closedAt = Date.now();
      hanging.delete(entry);
    };
    const entry = { rec, req, res };
    res.on('close', onClose);
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('error', () => {});
    req.on('end', () => {
      rec.raw = Buffer.concat(chunks);
      rec.rawLength = rec.raw.length;
      rec.bodyAt = Date.now();
      decode(rec);
      const a = scripted.length ? scripted.shift() : mode;
      if (a.hang) {
        rec.answer = a;
        hanging.add(entry);
      } else if (a.delay) {
        setTimeout(() => answer(rec, req, res, a), a.delay);
      } else {
        answer(rec, req, res, a);
      }
    });
  }

  const server = http.createServer((req, res) => {
    try {
      handle(req, res);
    } catch (e) {
      if (!res.headersSent) res.writeHead(500, { 'cache-control': 'no-store' });
      res.end(String(e));
    }
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.keepAliveTimeout = 2000;
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address();
  let listening = true;

  const sink = {
    port,
    origin: `http://127.0.0.1:${port}`,
    requests,
    preflights,
    handle,
    get open() { return open; },
    get maxOpen() { return maxOpen; },
    get hanging() { return hanging.size; },
    spans() {
      return requests.flatMap((r) => r.spans);
    },
    logs() {
      return requests.flatMap((r) => r.logs || []);
    },
    setMode(a) {
      mode = a;
    },
    script(...answers) {
      scripted.push(...answers);
    },
    release(a = { status: 200 }) {
      const all = [...hanging];
      hanging.clear();
      for (const { rec, req, res } of all) answer(rec, req, res, a);
    },
    /** Closes the listening socket and every open connection: new requests are refused. */
    async refuse() {
      if (!listening) return;
      listening = false;
      const closing = new Promise((r) => server.close(r));
      for (const s of sockets) s.destroy();
      await closing;
    },
    /** Listens again on the same port. */
    async accept() {
      if (listening) return;
      await new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, '127.0.0.1', () => {
          server.off('error', reject);
          resolve();
        });
      });
      listening = true;
    },
    async waitFor(pred, ms = 5000) {
      const t0 = Date.now();
      for (;;) {
        const v = pred();
        if (v || Date.now() - t0 > ms) return v;
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    reset() {
      for (const { req } of hanging) req.socket.destroy();
      hanging.clear();
      requests.length = 0;
      preflights.length = 0;
      scripted = [];
      mode = { status: 200 };
      maxOpen = open;
    },
    /** Resets the high-water mark of concurrently open POSTs. */
    resetMaxOpen() {
      maxOpen = open;
    },
    async close() {
      for (const { req } of hanging) req.socket.destroy();
      hanging.clear();
      if (listening) {
        const closing = new Promise((r) => server.close(r));
        for (const s of sockets) s.destroy();
        await closing;
        listening = false;
      }
    },
  };
  return sink;
}
