// The benchmark's two HTTP servers on 127.0.0.1 (ports chosen by the OS).
//
//   page   the HTML shell at / and the bundles under /dist/ (cache-control: no-store, so every
//          fresh page fetches and compiles JS and wasm again). The shell is cross-origin
//          isolated (COOP + COEP) so performance.now() has 5 µs resolution instead of 100 µs.
//   sink   a fake OTLP/HTTP collector on another origin (so both SDKs make CORS requests, as
//          against a real collector). POST <prefix>/v1/traces answers 200 `{}`; GET /fetch
//          answers 200 `{}` (the target of the fetch-instrumentation figure); OPTIONS answers
//          any CORS preflight, allowing whatever headers were asked for (content-type,
//          content-encoding, traceparent, ...), cached for 2 h.
//
// Every export request is recorded as
//   { prefix, phase, bytes, decodedBytes, encoding, contentType, spans, names, error? }
// where prefix is the path before /v1/traces (the benchmark gives each SDK page its own),
// phase is the sink's `phase` when the request arrived (set by the harness), bytes the body
// length as received, decodedBytes after undoing content-encoding (node:zlib), and spans the
// number of spans in the OTLP JSON (null when the body is not JSON), names a count per span
// name. The sink answers first
// and decodes afterwards, so its own parsing never delays an acknowledgement; `settled()`
// waits for the decoding still pending.

import http from 'node:http';
import fs from 'node:fs/promises';
import path from 'node:path';
import zlib from 'node:zlib';
import { listen, closeServer } from '../package/server.mjs';

const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
};

export const SHELL_HTML = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <link rel="icon" href="data:," />
    <title>edge-telemetry bench</title>
  </head>
  <body>
    <p>bench page: the harness imports one SDK bundle (or none) into it</p>
  </body>
</html>
`;

const ISOLATION = {
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-embedder-policy': 'require-corp',
  'cross-origin-resource-policy': 'same-origin',
};

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function cors(req) {
  const h = { 'cache-control': 'no-store' };
  const origin = req.headers.origin;
  if (origin) {
    h['access-control-allow-origin'] = origin;
    h['vary'] = 'Origin';
    h['access-control-allow-methods'] = 'GET, POST, OPTIONS';
    h['access-control-allow-headers'] =
      req.headers['access-control-request-headers'] ||
      'content-type, content-encoding, traceparent, tracestate, baggage';
    h['access-control-max-age'] = '7200';
  }
  return h;
}

/** Spans in an OTLP JSON trace export request, and how many of each name. */
export function countSpans(doc) {
  let n = 0;
  const names = {};
  for (const rs of doc?.resourceSpans || []) {
    for (const ss of rs?.scopeSpans || rs?.instrumentationLibrarySpans || []) {
      for (const span of ss?.spans || []) {
        n++;
        names[span?.name] = (names[span?.name] || 0) + 1;
      }
    }
  }
  return { n, names };
}

function decode(body, encoding) {
  const e = (encoding || '').trim().toLowerCase();
  if (!e || e === 'identity') return body;
  if (e === 'gzip' || e === 'x-gzip') return zlib.gunzipSync(body);
  if (e === 'br') return zlib.brotliDecompressSync(body);
  if (e === 'deflate') {
    try {
      return zlib.inflateSync(body);
    } catch {
      return zlib.inflateRawSync(body);
    }
  }
  throw new Error(`unknown content-encoding ${encoding}`);
}

function analyse(record, body) {
  try {
    const plain = decode(body, record.encoding);
    record.decodedBytes = plain.length;
    if (/json/i.test(record.contentType || '') || plain[0] === 0x7b) {
      const { n, names } = countSpans(JSON.parse(plain.toString('utf8')));
      record.spans = n;
      record.names = names;
    }
  } catch (err) {
    record.error = String(err && err.message || err);
  }
}

async function serveFile(res, root, rel) {
  const base = path.resolve(root);
  const file = path.resolve(base, '.' + path.posix.normalize('/' + rel));
  if (!file.startsWith(base + path.sep)) return false;
  try {
    const data = await fs.readFile(file);
    res.writeHead(200, {
      ...ISOLATION,
      'content-type': MIME[path.extname(file).toLowerCase()] || 'application/octet-stream',
      'cache-control': 'no-store',
      'content-length': data.length,
    });
    res.end(data);
    return true;
  } catch {
    return false;
  }
}

export async function startServers({ distDir }) {
  const sink = {
    phase: 'idle',
    records: [],
    pending: new Set(),
    /** Resolves once every received body has been decoded and counted. */
    async settled() {
      while (this.pending.size) await Promise.all([...this.pending]);
    },
    /** The export records for one SDK page prefix (and phase, if given). */
    select(prefix, phase) {
      return this.records.filter((r) => r.prefix === prefix && (phase === undefined || r.phase === phase));
    },
  };

  const pageServer = http.createServer(async (req, res) => {
    try {
      const p = new URL(req.url, 'http://127.0.0.1').pathname;
      if (p === '/' || p === '/index.html') {
        res.writeHead(200, { ...ISOLATION, 'content-type': MIME['.html'], 'cache-control': 'no-store' });
        return res.end(SHELL_HTML);
      }
      if (p.startsWith('/dist/') && (await serveFile(res, distDir, decodeURIComponent(p.slice('/dist'.length))))) return;
      res.writeHead(404, { 'content-type': 'text/plain', 'cache-control': 'no-store' });
      res.end('not found');
    } catch (err) {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(String(err && err.stack || err));
    }
  });

  const sinkServer = http.createServer(async (req, res) => {
    try {
      const url = new URL(req.url, 'http://127.0.0.1');
      const h = cors(req);
      if (req.method === 'OPTIONS') {
        res.writeHead(204, h);
        return res.end();
      }
      const body = await readBody(req);
      if (req.method === 'POST' && url.pathname.endsWith('/v1/traces')) {
        const record = {
          prefix: url.pathname.slice(0, -'/v1/traces'.length),
          phase: sink.phase,
          bytes: body.length,
          decodedBytes: null,
          encoding: req.headers['content-encoding'] || 'identity',
          contentType: req.headers['content-type'] || '',
          spans: null,
        };
        sink.records.push(record);
        res.writeHead(200, { ...h, 'content-type': 'application/json' });
        res.end('{}');
        const job = new Promise((resolve) => setImmediate(() => { analyse(record, body); resolve(); }));
        sink.pending.add(job);
        job.then(() => sink.pending.delete(job));
        return;
      }
      if (url.pathname === '/fetch') {
        res.writeHead(200, { ...h, 'content-type': 'application/json' });
        return res.end('{}');
      }
      res.writeHead(404, { ...h, 'content-type': 'text/plain' });
      res.end('not found');
    } catch (err) {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(String(err && err.stack || err));
    }
  });

  const [pageOrigin, sinkOrigin] = await Promise.all([listen(pageServer), listen(sinkServer)]);
  return {
    pageOrigin,
    sinkOrigin,
    sink,
    close: () => Promise.all([closeServer(pageServer), closeServer(sinkServer)]).then(() => undefined),
  };
}
