// Test servers for the package test: three Node http servers on 127.0.0.1,
// each on a port chosen by the OS.
//
//   app      serves the built Vite app (distDir), the package itself under
//            /pkg/ (pkgDir), a bundler-free page /plain.html, and /echo.
//   allowed  /echo with CORS (the origin tests allow-list for traceparent).
//   other    /echo with CORS (an origin that is never allow-listed).
//
// Every request to an /echo endpoint (any method, any sub-path such as
// /echo/x, including CORS preflights) is recorded in `requests` as
//   { origin, method, path, query, search, headers, rawHeaders, body }
// where origin is 'app' | 'allowed' | 'other', query is an object of the
// query parameters, headers is Node's lowercased header object and
// rawHeaders the list of [name, value] pairs as received.
//
// /echo answers with the recorded request as JSON. Query parameters steer it:
//   status=NNN  answer with that status code
//   delay=MS    wait before answering (for abort tests)

import http from 'node:http';
import fs from 'node:fs/promises';
import path from 'node:path';

const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.cjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.ts': 'text/plain; charset=utf-8',
  '.md': 'text/plain; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

export const PLAIN_HTML = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <link rel="icon" href="data:," />
    <title>edge-telemetry package test (no bundler)</title>
  </head>
  <body>
    <p id="status">loading</p>
    <script type="module">
      import * as ET from '/pkg/index.js';
      window.ET = ET;
      // Ready once the SDK's module is (requests made before carry no trace headers).
      ET.ready().then(() => {
        window.__ready = true;
        document.getElementById('status').textContent = 'ready';
      });
    </script>
  </body>
</html>
`;

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function pairs(rawHeaders) {
  const out = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) out.push([rawHeaders[i], rawHeaders[i + 1]]);
  return out;
}

function corsHeaders(req) {
  const h = {};
  const origin = req.headers.origin;
  if (origin) {
    h['access-control-allow-origin'] = origin;
    h['vary'] = 'Origin';
    h['access-control-allow-methods'] = 'GET, POST, PUT, PATCH, DELETE, OPTIONS';
    const reqHeaders = req.headers['access-control-request-headers'];
    if (reqHeaders) h['access-control-allow-headers'] = reqHeaders;
    h['access-control-max-age'] = '0';
    h['access-control-expose-headers'] = 'content-type';
  }
  return h;
}

async function handleEcho(name, req, res, url, requests) {
  const body = await readBody(req);
  const record = {
    origin: name,
    method: req.method,
    path: url.pathname,
    query: Object.fromEntries(url.searchParams),
    search: url.search,
    headers: { ...req.headers },
    rawHeaders: pairs(req.rawHeaders),
    body,
  };
  requests.push(record);
  const cors = corsHeaders(req);
  if (req.method === 'OPTIONS') {
    res.writeHead(204, { ...cors, 'cache-control': 'no-store' });
    res.end();
    return;
  }
  const delay = Number(url.searchParams.get('delay') || 0);
  if (delay > 0) await new Promise((r) => setTimeout(r, Math.min(delay, 10_000)));
  if (res.destroyed || req.socket.destroyed) return;
  const status = Number(url.searchParams.get('status') || 200);
  const payload = JSON.stringify(record);
  res.writeHead(status, {
    ...cors,
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
  });
  res.end(payload);
}

async function serveFile(res, root, rel) {
  const base = path.resolve(root);
  let file = path.resolve(base, '.' + path.posix.normalize('/' + rel));
  if (file !== base && !file.startsWith(base + path.sep)) return false;
  try {
    let st = await fs.stat(file);
    if (st.isDirectory()) {
      file = path.join(file, 'index.html');
      st = await fs.stat(file);
    }
    const data = await fs.readFile(file);
    const type = MIME[path.extname(file).toLowerCase()] || 'application/octet-stream';
    res.writeHead(200, { 'content-type': type, 'cache-control': 'no-store', 'content-length': data.length });
    res.end(data);
    return true;
  } catch {
    return false;
  }
}

function notFound(res) {
  res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
  res.end('not found');
}

function makeHandler(name, requests, { distDir, pkgDir, pages, routes } = {}) {
  return async (req, res) => {
    try {
      const url = new URL(req.url, 'http://127.0.0.1');
      const p = url.pathname;
      if (p === '/echo' || p.startsWith('/echo/')) return await handleEcho(name, req, res, url, requests);
      if (name !== 'app') return notFound(res);
      for (const [prefix, handler] of routes || []) {
        if (p === prefix || p.startsWith(prefix.endsWith('/') ? prefix : `${prefix}/`)) return await handler(req, res);
      }
      const page = pages && pages.get(p);
      if (page) {
        res.writeHead(200, { 'content-type': MIME['.html'], 'cache-control': 'no-store', ...(page.headers || {}) });
        return res.end(page.html);
      }
      if (p === '/favicon.ico') {
        res.writeHead(204, { 'cache-control': 'no-store' });
        return res.end();
      }
      if (p === '/plain.html') {
        res.writeHead(200, { 'content-type': MIME['.html'], 'cache-control': 'no-store' });
        return res.end(PLAIN_HTML);
      }
      if (p.startsWith('/pkg/')) {
        if (pkgDir && (await serveFile(res, pkgDir, decodeURIComponent(p.slice('/pkg'.length))))) return;
        return notFound(res);
      }
      if (distDir && (await serveFile(res, distDir, decodeURIComponent(p)))) return;
      return notFound(res);
    } catch (err) {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(String(err && err.stack || err));
    }
  };
}

/** Listens on a free port of 127.0.0.1; resolves with the origin. */
export function listen(server) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve(`http://127.0.0.1:${server.address().port}`);
    });
  });
}

/** Closes `server` and its open connections. */
export function closeServer(server) {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections?.();
  });
}

/** A port on 127.0.0.1 that nothing listens on (bound by the OS, then released). */
export async function closedPort() {
  const s = http.createServer();
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

// Optional, for other tests: `pages` (a Map of pathname → { html, headers }, read at each
// request, so pages may be added later) and `routes` (a Map of path prefix → (req, res)
// handler, e.g. an OTLP sink mounted on the app origin), both on the app server only.
export async function startServers({ distDir, pkgDir, pages, routes } = {}) {
  const requests = [];
  const servers = {
    app: http.createServer(makeHandler('app', requests, { distDir, pkgDir, pages, routes })),
    allowed: http.createServer(makeHandler('allowed', requests)),
    other: http.createServer(makeHandler('other', requests)),
  };
  const [appOrigin, allowedOrigin, otherOrigin] = await Promise.all([
    listen(servers.app),
    listen(servers.allowed),
    listen(servers.other),
  ]);
  return {
    appOrigin,
    allowedOrigin,
    otherOrigin,
    requests,
    close: () => Promise.all(Object.values(servers).map(closeServer)).then(() => undefined),
  };
}
