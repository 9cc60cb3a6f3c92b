// The local collector against a hostile web page, in headless Chromium. Two origins on
// 127.0.0.1: the app's (allowed with --allow-origin) and another port standing in for a
// hostile site the developer happens to visit. The collector runs in relay mode towards a
// local fake upstream, so that "relayed" can be checked too.
//
// - the app's page sends spans and an item with the built package: stored, and relayed with
//   the server's keys only;
// - the hostile page cannot read any API answer (the CORS fetch rejects, a no-cors one is
//   opaque), cannot get a preflight through, and stores and relays nothing (CORS fetch,
//   no-cors fetch, sendBeacon, the SDK itself pointed at the collector);
// - a DNS-rebinding page (a name that resolves to 127.0.0.1, by --host-resolver-rules) is
//   refused for the UI and the API;
// - the collector's own UI still lists the app's trace;
// - a collector with a small rate limit answers the page 429 with a readable Retry-After,
//   and the SDK waits that long and then delivers.
//
// Run: scripts/test-package, or, once built,
//      cd tests/package && CHROMIUM=/usr/bin/chromium node --test collector-access.test.mjs
// Environment: CHROMIUM, ET_PKG_DIR (default <repo>/pkg), ET_COLLECTOR_BIN (default
// <repo>/target/debug/edge-collector).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServers, listen, closeServer } from './server.mjs';
import { launchChromium } from './chromium.mjs';
import { stopProcess, startCollector, collectorApi } from './processes.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..', '..');
const PKG_DIR = path.resolve(process.env.ET_PKG_DIR || path.join(ROOT, 'pkg'));
const COLLECTOR_BIN = path.resolve(process.env.ET_COLLECTOR_BIN || path.join(ROOT, 'target', 'debug', 'edge-collector'));
const TEST_TIMEOUT = 30_000;
const SERVER_KEY = 'server-honeycomb-key';
const SERVER_TOKEN = 'server-rollbar-token';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const APP_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8" /><link rel="icon" href="data:," /><title>app</title></head>
<body><script type="module">
  import * as ET from '/pkg/index.js';
  window.ET = ET;
  ET.ready().then(() => { window.__ready = true; });
</script></body></html>
`;

// The hostile site: the package too (served from its own origin), and nothing else.
const EVIL_HTML = APP_HTML.replace('<title>app</title>', '<title>evil</title>');

let srv; // the app's origin (startServers: /pkg/ and pages)
let evil; // { server, origin }: the hostile origin
let upstream; // { server, origin, requests }
let collector;
let api; // collectorApi(collector.origin)
let browser;
const pages = new Map([['/app.html', { html: APP_HTML }]]);

/** A plain server: the hostile page and /pkg/ (proxied from the app server's files). */
async function startEvil() {
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, 'http://x');
    if (url.pathname === '/evil.html') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      return res.end(EVIL_HTML);
    }
    if (url.pathname.startsWith('/pkg/')) {
      const file = path.join(PKG_DIR, path.normalize(url.pathname.slice('/pkg/'.length)));
      if (!file.startsWith(PKG_DIR) || !fs.existsSync(file)) { res.writeHead(404); return res.end(); }
      const type = file.endsWith('.wasm') ? 'application/wasm' : 'text/javascript; charset=utf-8';
      res.writeHead(200, { 'content-type': type });
      return res.end(fs.readFileSync(file));
    }
    res.writeHead(404);
    res.end();
  });
  return { server, origin: await listen(server) };
}

/** The upstream Honeycomb and Rollbar stand-in: records what the relay forwards. */
async function startUpstream() {
  const requests = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      requests.push({ method: req.method, path: req.url, headers: req.headers, body: Buffer.concat(chunks).toString('latin1') });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  return { server, origin: await listen(server), requests };
}

before(async () => {
  for (const [file, hint] of [
    [path.join(PKG_DIR, 'index.js'), 'run scripts/build-pkg first'],
    [COLLECTOR_BIN, 'cargo build -p edge-telemetry-collector --bin edge-collector (or set ET_COLLECTOR_BIN)'],
  ]) {
    if (!fs.existsSync(file)) throw new Error(`missing ${file}: ${hint}`);
  }
  srv = await startServers({ pkgDir: PKG_DIR, pages });
  evil = await startEvil();
  upstream = await startUpstream();
  collector = await startCollector(COLLECTOR_BIN, ROOT, {
    allowOrigins: [srv.appOrigin],
    env: {
      HONEYCOMB_API_KEY: SERVER_KEY,
      HONEYCOMB_ENDPOINT: upstream.origin,
      ROLLBAR_ACCESS_TOKEN: SERVER_TOKEN,
      ROLLBAR_ENDPOINT: `${upstream.origin}/item`,
    },
  });
  api = collectorApi(collector.origin);
  browser = await launchChromium();
  assert.notEqual(srv.appOrigin, evil.origin);
});

after(async () => {
  await browser?.close();
  await stopProcess(collector?.proc);
  await srv?.close();
  if (evil) await closeServer(evil.server);
  if (upstream) await closeServer(upstream.server);
});

/** Opens url in a fresh context; returns { context, page, problems }. */
async function open(url) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  await page.goto(url);
  await page.waitForFunction(() => window.__ready === true, null, { timeout: 10_000 });
  return { context, page, problems };
}

let appTrace; // { traceId, uuid }

test("the app's origin sends spans and an item: stored, and relayed with the server's keys only", { timeout: TEST_TIMEOUT }, async () => {
  const { context, page, problems } = await open(`${srv.appOrigin}/app.html`);
  try {
    const out = await page.evaluate(async (endpoint) => {
      ET.init({
        serviceName: 'shop-web', endpoint, instrumentDocumentLoad: false, userInteractionEvents: [],
        rollbar: { endpoint: `${endpoint}/api/1/item/` },
      });
      const span = ET.startSpan('checkout');
      const uuid = ET.withSpan(span, () => ET.captureException(new Error('allowed origin error')));
      span.end();
      const flushed = await ET.flush();
      return { traceId: span.spanContext().traceId, uuid, flushed, stats: ET.getStats() };
    }, collector.origin);
    assert.equal(out.flushed, true, JSON.stringify(out.stats));
    assert.equal(out.stats.itemsSent, 1);
    assert.deepEqual(problems, []);
    appTrace = out;
  } finally {
    await context.close();
  }
  const trace = await api.waitApi(`/api/traces/${appTrace.traceId}`, (j) => j.spans.length === 1 && j.errors.length === 1, 'the app trace and its error');
  assert.equal(trace.spans[0].name, 'checkout');
  const relayed = await waitFor(() => {
    const traces = upstream.requests.filter((r) => r.path === '/v1/traces');
    const items = upstream.requests.filter((r) => r.path === '/item');
    return traces.length >= 1 && items.length >= 1 && { traces, items };
  }, 'the relay forwarded the trace and the item');
  for (const r of relayed.traces) assert.equal(r.headers['x-honeycomb-team'], SERVER_KEY);
  for (const r of relayed.items) assert.equal(r.headers['x-rollbar-access-token'], SERVER_TOKEN);
  for (const r of upstream.requests) {
    assert.equal(r.headers.origin, undefined, 'the browser origin is not forwarded');
    assert.equal(r.headers.cookie, undefined);
  }
});

async function waitFor(check, what, ms = 10_000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = check();
    if (v) return v;
    if (Date.now() > end) assert.fail(`timed out: ${what}`);
    await sleep(100);
  }
}

test('a hostile page on another origin reads nothing: every API fetch rejects or is opaque', { timeout: TEST_TIMEOUT }, async () => {
  assert.ok(appTrace, 'the first test stored a trace');
  const { context, page } = await open(`${evil.origin}/evil.html`);
  try {
    const paths = ['/api/status', '/api/traces', `/api/traces/${appTrace.traceId}`, '/api/search?q=checkout', '/api/errors', `/api/errors/${appTrace.uuid}`];
    const results = await page.evaluate(async ({ base, paths }) => {
      const out = {};
      for (const p of paths) {
        const cors = await fetch(base + p).then(async (r) => `read ${r.status}: ${(await r.text()).slice(0, 80)}`, (e) => `rejected: ${e.name}`);
        const opaque = await fetch(base + p, { mode: 'no-cors' }).then((r) => `${r.type} ${r.status}`, (e) => `rejected: ${e.name}`);
        const credentialed = await fetch(base + p, { credentials: 'include' }).then((r) => `read ${r.status}`, (e) => `rejected: ${e.name}`);
        out[p] = { cors, opaque, credentialed };
      }
      // The UI page itself.
      out['/'] = { cors: await fetch(base + '/').then((r) => `read ${r.status}`, (e) => `rejected: ${e.name}`) };
      return out;
    }, { base: collector.origin, paths });
    for (const p of paths) {
      assert.equal(results[p].cors, 'rejected: TypeError', `${p}: ${JSON.stringify(results[p])}`);
      assert.equal(results[p].credentialed, 'rejected: TypeError', `${p}: ${JSON.stringify(results[p])}`);
      assert.equal(results[p].opaque, 'opaque 0', `${p}: ${JSON.stringify(results[p])}`);
    }
    assert.equal(results['/'].cors, 'rejected: TypeError');
  } finally {
    await context.close();
  }
});

test('a hostile page stores and relays nothing: CORS and no-cors posts, sendBeacon, the SDK itself', { timeout: TEST_TIMEOUT }, async () => {
  const before = (await api.getJson('/api/status')).json;
  const relayedBefore = upstream.requests.length;
  const MARK = 'evilmarker4711';
  const { context, page, problems } = await open(`${evil.origin}/evil.html`);
  try {
    const out = await page.evaluate(async ({ base, mark }) => {
      const now = BigInt(Date.now()) * 1000000n;
      const otlp = JSON.stringify({ resourceSpans: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: mark } }] }, scopeSpans: [{ spans: [{
        traceId: 'e'.repeat(32), spanId: 'e'.repeat(16), name: mark, kind: 1, startTimeUnixNano: String(now), endTimeUnixNano: String(now + 1000n),
      }] }] }] });
      const item = JSON.stringify({ data: { body: { message: { body: mark } }, environment: mark } });
      const res = {};
      const attempt = (p) => p.then((r) => `${r.type} ${r.status}`, (e) => `rejected: ${e.name}`);
      for (const [name, path, body] of [['traces', '/v1/traces', otlp], ['item', '/api/1/item/', item]]) {
        // A CORS request needs a preflight (application/json): it must fail there.
        res[`${name} cors json`] = await attempt(fetch(base + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body }));
        res[`${name} cors gzip`] = await attempt(fetch(base + path, { method: 'POST', headers: { 'content-type': 'application/json', 'content-encoding': 'identity' }, body }));
        // Simple requests reach the server without a preflight.
        res[`${name} no-cors`] = await attempt(fetch(base + path, { method: 'POST', mode: 'no-cors', headers: { 'content-type': 'text/plain' }, body }));
        res[`${name} cors text`] = await attempt(fetch(base + path, { method: 'POST', headers: { 'content-type': 'text/plain' }, body }));
        res[`${name} beacon`] = navigator.sendBeacon(base + path, body);
      }
      // The SDK, pointed at the collector by the hostile page.
      ET.init({ serviceName: mark, endpoint: base, instrumentDocumentLoad: false, userInteractionEvents: [], rollbar: { endpoint: `${base}/api/1/item/` }, batch: { exportTimeoutMillis: 2000 } });
      const span = ET.startSpan(mark);
      ET.withSpan(span, () => ET.captureMessage(mark));
      span.end();
      res.sdkFlushed = await ET.flush();
      await new Promise((r) => setTimeout(r, 500));
      return res;
    }, { base: collector.origin, mark: MARK });
    for (const name of ['traces', 'item']) {
      assert.equal(out[`${name} cors json`], 'rejected: TypeError', `${name}: the preflight is refused (${JSON.stringify(out)})`);
      assert.equal(out[`${name} cors gzip`], 'rejected: TypeError', name);
      assert.equal(out[`${name} cors text`], 'rejected: TypeError', `${name}: no CORS answer to read`);
      assert.equal(out[`${name} no-cors`], 'opaque 0', name);
    }
    assert.equal(out.sdkFlushed, false, 'the SDK on the hostile page could not deliver');
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
  // Beacons are sent after the page let go of them: give them time to arrive (and be refused).
  await sleep(1000);
  const after = (await api.getJson('/api/status')).json;
  assert.equal(after.traces, before.traces, 'no trace stored');
  assert.equal(after.spans, before.spans, 'no span stored');
  assert.equal(after.errors, before.errors, 'no item stored');
  const found = (await api.getJson(`/api/search?q=${MARK}`)).json;
  assert.deepEqual([found.spans.length, found.errors.length], [0, 0], 'nothing searchable');
  assert.equal(upstream.requests.length, relayedBefore, 'nothing relayed');
  assert.ok(after.access.refused > before.access.refused, `the refusals are counted (${before.access.refused} → ${after.access.refused})`);
  assert.match(collector.stderr, new RegExp(`refused telemetry from origin ${evil.origin.replace(/[.]/g, '\\.')}`));
});

test('DNS rebinding: a page under a name that resolves to 127.0.0.1 is refused', { timeout: TEST_TIMEOUT }, async () => {
  const port = new URL(collector.origin).port;
  const rebinding = await launchChromium({ args: ['--host-resolver-rules=MAP rebind.test 127.0.0.1'] });
  try {
    const page = await rebinding.newPage();
    for (const p of ['/', '/api/traces', `/api/traces/${appTrace.traceId}`]) {
      const res = await page.goto(`http://rebind.test:${port}${p}`);
      assert.equal(res.status(), 403, `${p} under rebind.test`);
      assert.doesNotMatch(await res.text(), /checkout|traceId/, 'nothing of the data');
    }
    // Same origin as far as the page knows: its own fetches are refused too.
    const status = await page.evaluate(() => fetch('/api/status').then((r) => r.status));
    assert.equal(status, 403);
  } finally {
    await rebinding.close();
  }
});

test("the collector's own UI still lists the app's trace", { timeout: TEST_TIMEOUT }, async () => {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    const errors = [];
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${collector.origin}/`);
    const row = page.locator(`tr.trace-row[data-trace-id="${appTrace.traceId}"]`);
    await row.waitFor({ timeout: 12_000 });
    assert.match(await row.textContent(), /checkout/);
    await page.goto(`${collector.origin}/#/trace/${appTrace.traceId}`);
    await page.locator('.span-row').first().waitFor({ timeout: 10_000 });
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test('rate limit: the page gets 429 with a readable Retry-After, the SDK waits it out and delivers; other clients are unaffected', { timeout: TEST_TIMEOUT }, async () => {
  const limited = await startCollector(COLLECTOR_BIN, ROOT, { allowOrigins: [srv.appOrigin], args: ['--ingest-rate', '0.5', '--ingest-burst', '1'] });
  const { context, page } = await open(`${srv.appOrigin}/app.html`);
  try {
    const out = await page.evaluate(async (endpoint) => {
      ET.init({ serviceName: 'shop-web', endpoint, instrumentDocumentLoad: false, userInteractionEvents: [], retry: { initialBackoffMillis: 50 } });
      ET.startSpan('first').end();
      const first = await ET.flush();
      const t0 = performance.now();
      ET.startSpan('second').end();
      const second = await ET.flush();
      return { first, second, waited: performance.now() - t0 };
    }, limited.origin);
    assert.equal(out.first, true);
    assert.equal(out.second, true, 'delivered after the 429');
    // One request per 2 s: the 429 says Retry-After: 2 (or 1 when part of it has passed).
    assert.ok(out.waited >= 900, `the SDK waited for Retry-After, not the 50 ms backoff (${Math.round(out.waited)} ms)`);
    const status = (await collectorApi(limited.origin).getJson('/api/status')).json;
    assert.ok(status.access.rateLimited >= 1, JSON.stringify(status.access));
    assert.equal(status.spans, 2);
    // A program on this machine is a client of its own.
    const local = await fetch(`${limited.origin}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    assert.equal(local.status, 200);
  } finally {
    await context.close();
    await stopProcess(limited.proc);
  }
});
