// When the wasm module cannot be loaded, the app runs exactly as without the SDK: the built
// package pkg/ in headless Chromium with the .wasm answered 404, and on a page whose
// Content-Security-Policy has no 'wasm-unsafe-eval'; and imported in Node (server-side
// rendering), where it does not try to load the wasm. Every API call is a no-op, fetch and XHR go
// out untouched (the page's own functions, no trace headers), nothing throws, the SDK logs no
// error, and getStats() says why.
//
// Run: scripts/test-package, or, once pkg/ is built,
//      cd tests/package && CHROMIUM=/usr/bin/chromium node --test load.test.mjs
// Environment: CHROMIUM, ET_PKG_DIR (default <repo>/pkg).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { listen, closeServer } from './server.mjs';
import { launchChromium } from './chromium.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..', '..');
const PKG_DIR = path.resolve(process.env.ET_PKG_DIR || path.join(ROOT, 'pkg'));
const TEST_TIMEOUT = 30_000;

const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8" /><link rel="icon" href="data:," /><title>load</title></head>
<body><script type="module" src="/app.js"></script></body></html>
`;

// The app: records that it ran, then uses the SDK as an app would.
const APP = `
window.__originalFetch = window.fetch;
window.__originalSend = XMLHttpRequest.prototype.send;
import('/pkg/index.js').then(async (ET) => {
  window.__appRan = true;
  const out = { init: ET.init({ serviceName: 'load', debug: true, endpoint: '/echo/v1/traces', rollbar: { endpoint: '/echo/item' } }) };
  // Made before the module failed (init returns at once, and wraps fetch meanwhile): it must
  // go out unchanged all the same.
  out.earlyStatus = (await fetch('/echo/early', { headers: { 'x-app': 'early' } })).status;
  const span = ET.startSpan('work', { attributes: { a: 1 } });
  span.setAttribute('b', 2).end();
  out.spanId = span.spanContext().spanId;
  out.withSpan = ET.withSpan(span, () => 7);
  out.captured = ET.captureException(new Error('x'));
  out.flushed = await ET.flush();
  out.ready = await ET.ready();
  const res = await fetch('/echo/fetch', { method: 'POST', headers: { 'x-app': '1' }, body: 'payload' });
  out.fetchStatus = res.status;
  out.xhrStatus = await new Promise((resolve) => {
    const x = new XMLHttpRequest();
    x.open('GET', '/echo/xhr');
    x.onloadend = () => resolve(x.status);
    x.send();
  });
  out.fetchIsOriginal = window.fetch === window.__originalFetch;
  out.sendIsOriginal = XMLHttpRequest.prototype.send === window.__originalSend;
  out.stats = ET.getStats();
  out.shutdown = await ET.shutdown();
  window.__out = out;
}, (e) => { window.__importError = String(e); });
`;

/**
 * A server for one page: `/` (PAGE), `/app.js` (`app`), `/echo/*` (kept in `requests`, and
 * answered with the traceparent it got in x-traceparent-seen), `/sink*` (bodies kept in
 * `sink`), and `/pkg/*` from PKG_DIR, where `onWasm(send, res)` decides when (or whether) the
 * .wasm is answered. `csp`: a Content-Security-Policy for the page, its script and the package.
 */
async function startAppServer(app, onWasm = (send) => send(), { csp = null } = {}) {
  const sink = [];
  const requests = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const headers = csp ? { 'content-security-policy': csp } : {};
      if (url.pathname === '/') {
        res.writeHead(200, { ...headers, 'content-type': 'text/html; charset=utf-8' });
        return res.end(PAGE);
      }
      if (url.pathname === '/app.js') {
        res.writeHead(200, { ...headers, 'content-type': 'text/javascript' });
        return res.end(app);
      }
      if (url.pathname.startsWith('/sink')) {
        sink.push({ path: url.pathname, body: Buffer.concat(chunks).toString() });
        res.writeHead(200, { 'content-type': 'application/json' });
        return res.end('{}');
      }
      if (url.pathname.startsWith('/echo/')) {
        requests.push({ path: url.pathname, method: req.method, headers: req.headers, body: Buffer.concat(chunks).toString() });
        res.writeHead(200, { 'content-type': 'text/plain', 'x-traceparent-seen': String(req.headers.traceparent || '') });
        return res.end('ok');
      }
      const file = path.join(PKG_DIR, path.normalize(url.pathname.slice('/pkg/'.length)));
      if (!url.pathname.startsWith('/pkg/') || !file.startsWith(PKG_DIR) || !fs.existsSync(file)) {
        res.writeHead(404);
        return res.end();
      }
      const send = () => {
        res.writeHead(200, { ...headers, 'content-type': file.endsWith('.wasm') ? 'application/wasm' : 'text/javascript' });
        res.end(fs.readFileSync(file));
      };
      return file.endsWith('.wasm') ? onWasm(send, res) : send();
    });
  });
  return { server, origin: await listen(server), sink, requests };
}

let browser;
before(async () => {
  if (!fs.existsSync(path.join(PKG_DIR, 'index.js'))) throw new Error(`missing ${PKG_DIR}/index.js: run scripts/build-pkg first`);
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
});

// What the browser itself reports (not the SDK): the 404 and the CSP refusal.
const BROWSER_OWN = /Failed to load resource|Refused to compile or instantiate WebAssembly|Content Security Policy|wasm-unsafe-eval/;

for (const [name, variant, reason] of [
  ['the .wasm answered 404', { wasm404: true }, /404/],
  ["a Content-Security-Policy without 'wasm-unsafe-eval'", { csp: "script-src 'self'" }, /CompileError|WebAssembly|wasm-unsafe-eval|Content Security Policy/i],
]) {
  test(`${name}: the app runs as without the SDK; calls are no-ops, requests go out untouched, getStats() says why`, { timeout: TEST_TIMEOUT }, async () => {
    const v = await startAppServer(APP, variant.wasm404 ? (send, res) => { res.writeHead(404); res.end('not found'); } : undefined, variant);
    const context = await browser.newContext();
    const page = await context.newPage();
    const messages = [];
    page.on('console', (m) => messages.push({ type: m.type(), text: m.text() }));
    page.on('pageerror', (e) => messages.push({ type: 'pageerror', text: e.message }));
    try {
      await page.goto(`${v.origin}/`);
      await page.waitForFunction(() => window.__out || window.__importError, null, { timeout: 15_000 });
      const { out, importError } = await page.evaluate(() => ({ out: window.__out, importError: window.__importError }));
      assert.equal(importError, undefined, 'the import resolves');
      assert.equal(typeof out.init, 'boolean', 'init returns (at once, before the module is known to fail) and does not throw');
      assert.equal(out.earlyStatus, 200, 'a fetch made while the module was loading succeeds');
      assert.equal(out.spanId, '0000000000000000', 'spans are no-ops');
      assert.equal(out.withSpan, 7, 'withSpan still runs the function');
      assert.equal(out.captured, undefined);
      assert.equal(out.flushed, true);
      assert.equal(out.ready, false, 'ready() resolves to false: the SDK is off');
      assert.equal(out.fetchStatus, 200);
      assert.equal(out.xhrStatus, 200);
      assert.equal(out.fetchIsOriginal, true, 'fetch is the page\'s own');
      assert.equal(out.sendIsOriginal, true, 'XHR is the page\'s own');
      assert.match(out.stats.loadError || '', reason, `getStats().loadError: ${JSON.stringify(out.stats)}`);
      assert.equal(out.shutdown, true);
      const fetched = v.requests.find((r) => r.path === '/echo/fetch');
      assert.equal(fetched.body, 'payload');
      assert.equal(fetched.headers['x-app'], '1');
      for (const r of v.requests) assert.equal(r.headers.traceparent, undefined, `${r.path}: no trace header`);
      assert.equal(v.requests.find((r) => r.path === '/echo/early').headers['x-app'], 'early');
      assert.deepEqual(v.requests.map((r) => r.path).sort(), ['/echo/early', '/echo/fetch', '/echo/xhr'], 'nothing exported, nothing reported');
      const fromSdk = messages.filter((m) => (m.type === 'error' || m.type === 'warning' || m.type === 'pageerror') && !BROWSER_OWN.test(m.text));
      assert.deepEqual(fromSdk, [], 'no error or warning from the SDK');
      assert.ok(messages.some((m) => m.type === 'debug' && /edge-telemetry: off/.test(m.text)), `debug mode says why: ${JSON.stringify(messages)}`);
    } finally {
      await context.close();
      await closeServer(v.server);
    }
  });
}

// (a) The .wasm arrives 2 s late: the app's module runs at once, and what it does meanwhile
// (spans, a fetch under a span, an XHR, an uncaught error, an unhandled rejection) reaches the
// sinks once the module is ready, with the times it happened at.
const DELAY_MS = 2000;
const EARLY_APP = `
import * as ET from '/pkg/index.js';
window.__appStart = Date.now();
window.__statsAtStart = ET.getStats();
ET.init({
  serviceName: 'early', endpoint: '/sink', compression: 'none', batch: { scheduledDelayMillis: 50 },
  rollbar: { endpoint: '/sink/item' }, instrumentDocumentLoad: false,
});
window.__t0 = Date.now();
const span = ET.startSpan('early-span', { attributes: { phase: 'loading' } });
ET.withSpan(span, () => fetch('/echo/early-fetch')).then((r) => { window.__fetchStatus = r.status; });
const x = new XMLHttpRequest();
x.open('GET', '/echo/early-xhr');
x.onloadend = () => { window.__xhrStatus = x.status; };
x.send();
setTimeout(() => { throw new Error('early uncaught'); }, 0);
Promise.reject(new Error('early rejection'));
setTimeout(() => span.end(), 100);
window.__ended = Date.now() + 100;
ET.flush().then((ok) => { window.__flushed = ok; window.__statsAfter = ET.getStats(); });
// After ready(), requests carry the trace headers again.
ET.ready().then(async (ok) => {
  window.__readyValue = ok;
  const r = await ET.withSpan(ET.startSpan('after-ready'), () => fetch('/echo/after-ready'));
  window.__afterReadyTraceparent = r.headers.get('x-traceparent-seen');
});
`;

test('the .wasm 2 s late: the app runs at once; spans, requests and errors made meanwhile reach the sinks with their own times', { timeout: TEST_TIMEOUT }, async () => {
  let wasmServedAt = 0;
  const { server, origin, sink } = await startAppServer(EARLY_APP, (send) => {
    setTimeout(() => { wasmServedAt = Date.now(); send(); }, DELAY_MS);
  });
  const context = await browser.newContext();
  const page = await context.newPage();
  const problems = [];
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') problems.push(m.text()); });
  try {
    const navigated = Date.now();
    await page.goto(`${origin}/`);
    await page.waitForFunction(() => window.__appStart, null, { timeout: 10_000 });
    const early = await page.evaluate(() => ({ appStart: window.__appStart, stats: window.__statsAtStart }));
    assert.ok(early.appStart - navigated < DELAY_MS / 2, `the app's module ran ${early.appStart - navigated} ms after navigation, before the module arrived`);
    assert.equal(early.stats.loading, true, `getStats() while loading: ${JSON.stringify(early.stats)}`);
    await page.waitForFunction(() => window.__flushed !== undefined, null, { timeout: 15_000 });
    await page.waitForFunction(() => window.__afterReadyTraceparent !== undefined, null, { timeout: 15_000 });
    const after = await page.evaluate(() => ({ ok: window.__readyValue, tp: window.__afterReadyTraceparent }));
    assert.equal(after.ok, true, 'ready() resolves to true once the module is loaded');
    assert.match(after.tp, /^00-[0-9a-f]{32}-[0-9a-f]{16}-0[13]$/, 'a fetch after ready() carries traceparent');
    const r = await page.evaluate(() => ({ t0: window.__t0, ended: window.__ended, flushed: window.__flushed, stats: window.__statsAfter, fetchStatus: window.__fetchStatus, xhrStatus: window.__xhrStatus }));
    assert.ok(wasmServedAt >= r.t0 + DELAY_MS - 50, 'the module was served after the app had run');
    assert.equal(r.flushed, true);
    assert.equal(r.fetchStatus, 200);
    assert.equal(r.xhrStatus, 200);
    assert.equal(r.stats.earlyCallsDropped, 0);

    const spans = sink.filter((x) => x.path === '/sink/v1/traces')
      .flatMap((x) => JSON.parse(x.body).resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans)));
    const ms = (nanos) => Number(BigInt(nanos) / 1000000n);
    const near = (t, want, what) => assert.ok(Math.abs(t - want) < 150, `${what}: ${t} is not the time it happened (${want}); the module arrived at ${wasmServedAt}`);
    const root = spans.find((s) => s.name === 'early-span');
    assert.ok(root, `early-span exported: ${JSON.stringify(spans.map((s) => s.name))}`);
    near(ms(root.startTimeUnixNano), r.t0, 'early-span start');
    near(ms(root.endTimeUnixNano), r.ended, 'early-span end');
    const url = (s) => (s.attributes.find((a) => a.key === 'url.full') || { value: {} }).value.stringValue || '';
    const fetchSpan = spans.find((s) => s.kind === 3 && url(s).includes('/echo/early-fetch'));
    assert.ok(fetchSpan, `the early fetch's CLIENT span: ${JSON.stringify(spans.map((s) => [s.name, url(s)]))}`);
    assert.equal(fetchSpan.parentSpanId, root.spanId, 'the fetch made under early-span (withSpan) is its child');
    near(ms(fetchSpan.startTimeUnixNano), r.t0, 'early fetch start');
    assert.ok(ms(fetchSpan.endTimeUnixNano) < wasmServedAt, 'the early fetch ended before the module arrived, and its span says so');
    const xhrSpan = spans.find((s) => s.kind === 3 && url(s).includes('/echo/early-xhr'));
    assert.ok(xhrSpan, 'the early XHR\'s CLIENT span');
    near(ms(xhrSpan.startTimeUnixNano), r.t0, 'early XHR start');

    const items = sink.filter((x) => x.path === '/sink/item').map((x) => JSON.parse(x.body).data);
    const message = (d) => (d.body.trace && d.body.trace.exception.message) || '';
    for (const m of ['early uncaught', 'early rejection']) {
      const item = items.find((d) => message(d) === m);
      assert.ok(item, `the ${m} error reported: ${JSON.stringify(items.map(message))}`);
      assert.ok(Math.abs(item.timestamp * 1000 - r.t0) < 1500, `${m}: timestamp ${item.timestamp} is when it happened (${r.t0})`);
      assert.ok(item.timestamp * 1000 < wasmServedAt - 500, `${m}: reported with its own time, not the module's arrival`);
    }
    assert.deepEqual(problems.filter((p) => !/early uncaught|early rejection/.test(p)), [], 'no error or warning from the SDK');
  } finally {
    await context.close();
    await closeServer(server);
  }
});

// An app that uses the SDK as the README shows: from the import to a ready engine, a span, a
// fetch and an export, the SDK raises no exception, not even one it catches itself. A page's
// first exception costs milliseconds (V8 computes the bundle's line positions for its stack):
// the engine's init once paid them on every page without a headers option
// (Reflect.ownKeys(undefined)).
const QUIET_APP = `
import * as ET from '/pkg/index.js';
ET.init({ serviceName: 'quiet', endpoint: '/sink', compression: 'none', rollbar: { accessToken: 'post_client_item_token', endpoint: '/sink/item' } });
const span = ET.startRootSpan('quiet', { attributes: { a: 1 } });
ET.ready().then(async () => {
  await ET.withSpan(span, () => fetch('/echo/quiet'));
  span.setAttribute('b', true).end();
  window.__out = { flushed: await ET.flush(), stats: ET.getStats() };
});
`;

test('the load throws nothing: from import to ready engine, a span, a fetch and an export, no exception is raised inside the SDK (caught or not)', { timeout: TEST_TIMEOUT }, async () => {
  const { server, origin, sink } = await startAppServer(QUIET_APP);
  const context = await browser.newContext();
  const page = await context.newPage();
  const thrown = [];
  try {
    const cdp = await context.newCDPSession(page);
    await cdp.send('Debugger.enable');
    await cdp.send('Debugger.setPauseOnExceptions', { state: 'all' });
    cdp.on('Debugger.paused', (e) => {
      const at = e.callFrames.slice(0, 3).map((f) => `${f.functionName || '(anonymous)'} ${f.url}:${f.location.lineNumber + 1}`);
      thrown.push(`${e.data && e.data.description ? e.data.description.split('\n')[0] : e.reason} at ${at.join(' < ')}`);
      cdp.send('Debugger.resume').catch(() => {});
    });
    await page.goto(`${origin}/`);
    await page.waitForFunction(() => window.__out, null, { timeout: 15_000 });
    const out = await page.evaluate(() => window.__out);
    assert.equal(out.flushed, true, `flush: ${JSON.stringify(out.stats)}`);
    assert.ok(sink.some((x) => x.path === '/sink/v1/traces' && x.body.includes('"quiet"')), 'the span was exported');
    assert.deepEqual(thrown, [], 'exceptions raised on the load path');
  } finally {
    await context.close();
    await closeServer(server);
  }
});

// The .wasm request never answers: shutdown() waits for the module at most
// batch.exportTimeoutMillis, then puts fetch and XHR back and resolves false.
const HANGING_APP = `
import * as ET from '/pkg/index.js';
window.__originalFetch = window.fetch;
window.__originalSend = XMLHttpRequest.prototype.send;
ET.init({ serviceName: 'hang', batch: { exportTimeoutMillis: 300 } });
window.__wrapped = window.fetch !== window.__originalFetch;
ET.startSpan('never-sent').end();
const t0 = Date.now();
const flushed = ET.flush();
ET.shutdown().then(async (ok) => {
  const out = { ok, ms: Date.now() - t0, wrapped: window.__wrapped, flushed: await flushed };
  out.fetchIsOriginal = window.fetch === window.__originalFetch;
  out.sendIsOriginal = XMLHttpRequest.prototype.send === window.__originalSend;
  out.status = (await fetch('/echo/after')).status;
  out.init = ET.init({ serviceName: 'again' });
  window.__out = out;
});
`;

test('the .wasm never answers: flush() and shutdown() resolve false after batch.exportTimeoutMillis; fetch and XHR are put back', { timeout: TEST_TIMEOUT }, async () => {
  const hanging = [];
  const { server, origin } = await startAppServer(HANGING_APP, (send, res) => { hanging.push(res); });
  const context = await browser.newContext();
  const page = await context.newPage();
  try {
    await page.goto(`${origin}/`);
    await page.waitForFunction(() => window.__out, null, { timeout: 10_000 });
    const out = await page.evaluate(() => window.__out);
    assert.equal(out.wrapped, true, 'init wrapped fetch while the module was loading');
    assert.equal(out.ok, false, 'shutdown() resolves false: what was recorded could not be sent');
    assert.equal(out.flushed, false, 'flush() resolves false too, after the same bound');
    assert.ok(out.ms >= 250 && out.ms < 3000, `shutdown() took ${out.ms} ms (exportTimeoutMillis 300)`);
    assert.equal(out.fetchIsOriginal, true, 'fetch is the page\'s own again');
    assert.equal(out.sendIsOriginal, true, 'XHR is the page\'s own again');
    assert.equal(out.status, 200);
    assert.equal(out.init, false, 'init after shutdown does nothing');
    assert.equal(hanging.length, 1, 'the module was requested');
  } finally {
    for (const r of hanging) r.destroy();
    await context.close();
    await closeServer(server);
  }
});

test('in Node (server-side rendering) the package and edge-telemetry/react import without loading the wasm or patching anything; every call is a no-op', { timeout: TEST_TIMEOUT }, () => {
  const index = pathToFileURL(path.join(PKG_DIR, 'index.js')).href;
  const script = `
    // Server-side rendering: no window, no document. The SDK must not try to load its wasm
    // (Node has fetch, which would fail on a file: URL) nor patch anything.
    let fetches = 0;
    const nodeFetch = globalThis.fetch;
    globalThis.fetch = (...a) => { fetches++; return nodeFetch(...a); };
    const before = globalThis.fetch;
    const ET = await import(${JSON.stringify(index)});
    const out = { init: ET.init({ serviceName: 'ssr', debug: false }) };
    ET.startSpan('render').end();
    out.withSpan = ET.withSpan(undefined, () => 'html');
    out.stats = ET.getStats();
    out.flushed = await ET.flush();
    out.fetches = fetches;
    out.fetchUntouched = globalThis.fetch === before;
    console.log(JSON.stringify(out));
  `;
  const stdout = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  const out = JSON.parse(stdout.trim().split('\n').pop());
  assert.equal(out.init, false);
  assert.equal(out.flushed, true);
  assert.equal(out.withSpan, 'html');
  assert.equal(out.fetches, 0, 'no attempt to load the wasm');
  assert.equal(out.fetchUntouched, true, 'fetch not patched');
  assert.match(out.stats.loadError, /not in a browser/);

  // edge-telemetry/react, installed from the tarball beside React (tests/package/types, set up
  // by scripts/test-package).
  const reactApp = path.join(HERE, 'types');
  const react = execFileSync(process.execPath, ['--input-type=module', '-e', `
    const R = await import('edge-telemetry/react');
    console.log(typeof R.ErrorBoundary, typeof R.withErrorBoundary);
  `], { encoding: 'utf8', cwd: reactApp });
  assert.equal(react.trim(), 'function function');
});
