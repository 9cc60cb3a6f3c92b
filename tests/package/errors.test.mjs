// Errors to Rollbar, end to end: the built npm package pkg/ in headless Chromium against two
// local sinks (sink.mjs), one for Rollbar items and one for OTLP spans. Uncaught errors,
// unhandled rejections (an Error, a string), a panic inside the SDK and a React render error
// under edge-telemetry/react's ErrorBoundary (the Vite app in react-app/) each give exactly
// one item, linked both ways with the span that was active: the item carries its trace and
// span id, and the span is exported with an `exception` event and the item's uuid. Then
// scrubbing, ignoredMessages, itemsPerMinute, de-duplication, a 429 pause, retries,
// beforeSend / transform, captureMessage, Error.cause chains, errors raised while reporting,
// the access token header and debug output.
//
// Linking patterns (the span must still be open when the error is reported):
// - uncaught and panic: `const s = startSpan('work'); setTimeout(() => withSpan(s, () => {
//   throw … }))`: the throw skips any s.end(); the error remembers s (withSpan tags it).
// - rejections: `withSpan(s, async () => { failInBackground(); await sleep(300); })`: s stays
//   active while the async work is pending, when the unhandled rejection is dispatched.
// - React: `withSpan(s, () => flushSync(() => arm()))` renders (and reports) synchronously
//   under s; and a click, under the SDK's own interaction span.
// The test keeps a reference to s (window.__work, window.__renderSpan), ends it after the
// item arrived, flushes, and finds s in the OTLP sink.
//
// Run: scripts/test-package (installs and builds react-app/), or, once it has been built,
//      cd tests/package && CHROMIUM=/usr/bin/chromium node --test --test-concurrency=1 errors.test.mjs
// Environment: CHROMIUM (default /usr/bin/chromium), ET_PKG_DIR (default <repo>/pkg),
// ET_OTLP_CAPTURE_DIR (the OTLP sink writes every span body there, see sink.mjs; the item
// sink never does).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServers } from './server.mjs';
import { launchChromium } from './chromium.mjs';
import { startSink, attrMap } from './sink.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..', '..');
const PKG_DIR = path.resolve(process.env.ET_PKG_DIR || path.join(ROOT, 'pkg'));
const REACT_DIST = path.join(HERE, 'react-app', 'dist');
const TEST_TIMEOUT = 20_000;
const HEX32 = /^[0-9a-f]{32}$/;
const HEX16 = /^[0-9a-f]{16}$/;
const UUID4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
// Where the item sink takes items (Rollbar's own path). Not OTLP: never captured.
const ITEM_PATH = '/api/1/item/';
// A post_client_item token as Rollbar issues them (32 hex digits).
const TOKEN = '3f6c2a9b8e1d4c7fa0b5e2d9c8a7f6e1';
const SCRUBBED = '********';
// The item sink mounted on the app origin, as a relay that adds the token would be.
const RELAY_PATH = '/relay';

let srv; // the plain pages and /pkg/
let reactSrv; // the React app (react-app/dist) and /pkg/
let otlp;
let items;
let browser;
let pkgVersion;
const pages = new Map();

// ---------------------------------------------------------------------------
// Pages
// ---------------------------------------------------------------------------

// Functions that throw, in a script of their own so that their frames point at
// /fixture.js. `@...` markers name the lines the tests expect in frames.
const FIXTURE = `// errors.test.mjs fixture: errors thrown from a known place.
'use strict';
window.F = {
  // An uncaught error from a timer, thrown out of withSpan(span, fn): span stays open.
  throwUnder(span, message) {
    setTimeout(function onTimer() {
      ET.withSpan(span, function failingWork() {
        throw new Error(message); // @throw-timer
      });
    });
  },
  // Async work under span (withSpan keeps span active until the work's promise settles)
  // starts a promise that rejects with an Error, and nobody handles it.
  rejectErrorDuring(span, message) {
    ET.withSpan(span, async function asyncWork() {
      loadInBackground(message);
      await new Promise((r) => setTimeout(r, 300));
    });
  },
  // The same with a string as the reason.
  rejectStringDuring(span, reason) {
    ET.withSpan(span, async function stringWork() {
      Promise.reject(reason);
      await new Promise((r) => setTimeout(r, 300));
    });
  },
  // The promise that withSpan(span, fn) returns rejects, and nobody handles it.
  rejectOutOfWithSpan(span, message) {
    ET.withSpan(span, async function rejectedWork() {
      await null;
      throw new Error(message); // @throw-returned
    });
  },
  // A Rust panic inside the SDK, in a timer, under span: the RuntimeError that follows
  // reaches window.onerror.
  panicUnder(span, message) {
    setTimeout(function onTimer() {
      ET.withSpan(span, function panicking() {
        window.raw.debugPanic(message);
      });
    });
  },
  // The same error thrown n times from the same place, one every ms milliseconds.
  throwRepeatedly(n, ms, message) {
    for (let i = 0; i < n; i++) {
      setTimeout(function repeat() {
        throw new Error(message); // @throw-repeat
      }, i * ms);
    }
  },
  // Errors with the same class and message made in two different places.
  errorHere(message) {
    return new Error(message); // @here
  },
  errorThere(message) {
    return new Error(message); // @there
  },
};
async function loadInBackground(message) {
  await null;
  throw new RangeError(message); // @throw-async
}
`;

/** [line, column] (1-based) of the `new` on the line marked `@marker` in FIXTURE. */
function fixtureAt(marker) {
  const lines = FIXTURE.split('\n');
  const i = lines.findIndex((l) => l.includes(`// @${marker}`));
  assert.ok(i >= 0, marker);
  return [i + 1, lines[i].indexOf('new ') + 1];
}

// Most tests call `await ET.ready()` after init: the item encoder loads after start-up, and
// what captureException returns (undefined for an item a filter drops) is known once it is
// there. Those that do not report errors while it loads.

// The plain test page: the package and the engine's exports (pkg/engine.js, filled once loaded),
// the fixture, and init options from ?cfg=<json> when given (else the test calls init).
const ERRORS_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8" /><link rel="icon" href="data:," /><title>errors</title></head>
<body>
  <script src="/fixture.js"></script>
  <script type="module">
    import * as ET from '/pkg/index.js';
    import { engine } from '/pkg/engine.js';
    window.ET = ET;
    window.raw = engine;
    // An error made by code of this document (its frames carry the document's URL).
    window.inlineError = function inlineError(message) { return new Error(message); };
    const cfg = new URLSearchParams(location.search).get('cfg');
    if (cfg) ET.init(JSON.parse(cfg));
    ET.ready().then(() => { window.__ready = true; });
  </script>
</body></html>
`;

// Errors in the first millisecond: init, a captureException and an uncaught throw in the
// module's first statements, before the engine (and long before the item encoder) is there.
const FIRST_MS_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8" /><link rel="icon" href="data:," /><title>first ms</title></head>
<body>
  <script type="module">
    import * as ET from '/pkg/index.js';
    window.ET = ET;
    ET.init(JSON.parse(new URLSearchParams(location.search).get('cfg')));
    window.__early = { t0: Date.now(), uuid: ET.captureException(new Error('captured in the first millisecond')), stats: ET.getStats() };
    ET.ready().then(() => { window.__ready = true; });
    throw new Error('thrown in the first millisecond');
  </script>
</body></html>
`;

// The item encoder held back, so that the page is hidden before it arrives: the page's fetch
// answers for its .wasm only after ?fetch= ms (default 30 s; 404: not at all), and
// WebAssembly.compile takes ?compile= ms more. Installed before the SDK takes the page's fetch.
const SLOW_ENCODER_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8" /><link rel="icon" href="data:," /><title>slow encoder</title></head>
<body>
  <script>
    const q = new URLSearchParams(location.search);
    const fetchDelay = Number(q.get('fetch') || 30000);
    const compileDelay = Number(q.get('compile') || 0);
    const pageFetch = window.fetch;
    window.fetch = function (input, init) {
      const url = String(input && input.url ? input.url : input);
      if (!url.includes('edge_telemetry_errors_bg.wasm')) return pageFetch.call(this, input, init);
      window.__encoderAsked = true;
      if (q.get('fetch') === '404') return Promise.resolve(new Response('not here', { status: 404 }));
      return new Promise((resolve) => setTimeout(() => resolve(pageFetch.call(window, input, init)), fetchDelay));
    };
    const compile = WebAssembly.compile;
    WebAssembly.compile = (bytes) => {
      window.__encoderBytes = true;
      return new Promise((resolve) => setTimeout(resolve, compileDelay)).then(() => compile(bytes));
    };
    // A tab switch: hidden, then visible again.
    window.__setVisibility = (state) => {
      Object.defineProperty(document, 'visibilityState', { value: state, configurable: true });
      document.dispatchEvent(new Event('visibilitychange'));
    };
  </script>
  <script type="module">
    import * as ET from '/pkg/index.js';
    window.ET = ET;
    window.__ready = true;
  </script>
</body></html>
`;

before(async () => {
  const index = path.join(PKG_DIR, 'index.js');
  if (!fs.existsSync(index)) throw new Error(`missing ${index}: run scripts/build-pkg first`);
  if (!fs.existsSync(path.join(REACT_DIST, 'index.html'))) throw new Error(`missing ${REACT_DIST}: build react-app (scripts/test-package does)`);
  pkgVersion = JSON.parse(fs.readFileSync(path.join(PKG_DIR, 'package.json'), 'utf8')).version;
  otlp = await startSink();
  items = await startSink({ noCapture: [ITEM_PATH, RELAY_PATH] });
  pages.set('/errors.html', { html: ERRORS_HTML });
  pages.set('/first-ms.html', { html: FIRST_MS_HTML });
  pages.set('/slow-encoder.html', { html: SLOW_ENCODER_HTML });
  pages.set('/fixture.js', { html: FIXTURE, headers: { 'content-type': 'text/javascript; charset=utf-8' } });
  srv = await startServers({ pkgDir: PKG_DIR, pages, routes: new Map([[RELAY_PATH, items.handle]]) });
  reactSrv = await startServers({ distDir: REACT_DIST, pkgDir: PKG_DIR });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await srv?.close();
  await reactSrv?.close();
  await otlp?.close();
  await items?.close();
});

// ---------------------------------------------------------------------------
// Node-side helpers
// ---------------------------------------------------------------------------

let testSeq = 0;
const ITEM_URL = () => `${items.origin}${ITEM_PATH}`;

/**
 * init options for test `tid`: spans to the OTLP sink tagged with resource attribute
 * `test.id`, items to the item sink tagged with custom `test_id`. `rollbar` is merged into
 * the rollbar options (its `custom` too), `extra` into the rest.
 */
function options(tid, rollbar = {}, extra = {}) {
  const o = {
    serviceName: 'shop-web',
    serviceVersion: '1.2.3',
    environment: 'test',
    endpoint: otlp.origin,
    instrumentDocumentLoad: false,
    userInteractionEvents: [],
    resourceAttributes: { 'test.id': tid },
    batch: { scheduledDelayMillis: 20 },
    retry: { maxAttempts: 3, initialBackoffMillis: 50, maxBackoffMillis: 100 },
    ...extra,
    rollbar: { accessToken: TOKEN, endpoint: ITEM_URL(), ...rollbar, custom: { test_id: tid, ...(rollbar.custom || {}) } },
  };
  return o;
}

const cfgQuery = (o) => `cfg=${encodeURIComponent(JSON.stringify(o))}`;
/** The item sink's POSTs from test `tid`. */
const itemReqs = (tid) => items.requests.filter((r) => r.path === ITEM_PATH && r.json && r.json.data && r.json.data.custom && r.json.data.custom.test_id === tid);
/** Their items' `data`. */
const itemsOf = (tid) => itemReqs(tid).map((r) => r.json.data);
const resourceOf = (rec) => (rec.json && rec.json.resourceSpans && rec.json.resourceSpans[0] ? attrMap(rec.json.resourceSpans[0].resource.attributes) : {});
/** Spans of test `tid` the OTLP sink received. */
const spansOf = (tid) => otlp.requests.filter((r) => resourceOf(r)['test.id'] === tid).flatMap((r) => r.spans);
const spanNamed = (tid, name) => spansOf(tid).find((s) => s.name === name);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const lastFrame = (trace) => trace.frames[trace.frames.length - 1];

const ALLOWED_CONSOLE_ERRORS = [/Failed to load resource/, /net::ERR_/];

/**
 * Runs body({ page, open, consoleLines, pageErrors, tid, t }) in a fresh browser context,
 * with `pagePath` (null: none) opened on `origin` ('app' or 'react'); open(path, { from })
 * opens another page. Fails on console errors other than the browser's network-failure lines, and on
 * page errors (uncaught errors, unhandled rejections) that match none of `pageErrors`.
 */
function errorsTest(name, { path: pagePath = '/errors.html', origin = 'app', pageErrors: expected = [], timeout = TEST_TIMEOUT, todo } = {}, body) {
  test(name, { timeout, todo }, async (t) => {
    items.reset();
    otlp.reset();
    const tid = `e${++testSeq}`;
    const context = await browser.newContext();
    const problems = [];
    const consoleLines = [];
    const pageErrors = [];
    const open = async (p, { from = origin } = {}) => {
      const page = await context.newPage();
      page.on('pageerror', (e) => pageErrors.push(`${e.name}: ${e.message}`));
      page.on('console', (m) => {
        consoleLines.push({ type: m.type(), text: m.text() });
        if (m.type() === 'error' && !ALLOWED_CONSOLE_ERRORS.some((re) => re.test(m.text()))) problems.push(`console.error: ${m.text()}`);
      });
      await page.goto((from === 'react' ? reactSrv.appOrigin : srv.appOrigin) + p, { waitUntil: 'load' });
      await page.waitForFunction(() => window.__ready === true, null, { timeout: 10_000 });
      return page;
    };
    try {
      const page = pagePath ? await open(pagePath) : undefined;
      try {
        await body({ page, open, consoleLines, pageErrors, tid, t });
      } catch (e) {
        if ((problems.length || pageErrors.length) && e && typeof e === 'object') e.message += `\npage problems:\n  ${[...problems, ...pageErrors].join('\n  ')}`;
        throw e;
      }
      const unexpected = pageErrors.filter((m) => !expected.some((re) => re.test(m)));
      assert.deepEqual([...problems, ...unexpected], [], 'unexpected console errors / page errors');
      const undecodable = [...items.requests, ...otlp.requests].filter((q) => q.decodeError).map((q) => `${q.path}: ${q.decodeError}`);
      assert.deepEqual(undecodable, [], 'every body the sinks got is JSON');
    } finally {
      await context.close();
    }
  });
}

/** Waits until test `tid` has at least `n` items. */
async function waitItems(tid, n, ms = 5000) {
  const ok = await items.waitFor(() => itemsOf(tid).length >= n, ms);
  assert.ok(ok, `${n} item(s) arrived (got ${itemsOf(tid).length})`);
}

/**
 * The fields every item has, as the SDK builds them for this page: environment, level,
 * timestamp, platform, language, uuid, request.url, client, notifier, trace ids.
 */
function assertCommon(data, { level, url, span, t0, t1, framework = 'browser-js', environment = 'test' }) {
  assert.equal(data.environment, environment, 'environment');
  assert.equal(data.level, level, 'level');
  assert.equal(data.platform, 'browser');
  assert.equal(data.language, 'javascript');
  assert.equal(data.framework, framework, 'framework');
  assert.match(data.uuid, UUID4, 'uuid is a v4 UUID');
  assert.ok(Number.isInteger(data.timestamp), 'timestamp in whole seconds');
  assert.ok(data.timestamp >= Math.floor(t0 / 1000) && data.timestamp <= Math.ceil(t1 / 1000), `timestamp ${data.timestamp} within the test (${t0}..${t1} ms)`);
  if (url !== undefined) assert.equal(data.request && data.request.url, url, 'request.url is the page');
  assert.equal(data.request && data.request.user_ip, undefined, 'no user_ip without captureIp');
  assert.deepEqual(data.notifier, { name: 'edge-telemetry', version: pkgVersion });
  const js = data.client && data.client.javascript;
  assert.ok(js, 'client.javascript');
  assert.match(js.browser, /HeadlessChrome|Chrome/, 'client.javascript.browser is the user agent');
  assert.equal(js.code_version, '1.2.3', 'code_version defaults to serviceVersion');
  assert.equal(typeof js.source_map_enabled, 'boolean');
  assert.equal(typeof js.guess_uncaught_frames, 'boolean');
  if (span) {
    assert.equal(data.custom.trace_id, span.traceId, 'custom.trace_id is the trace of the span');
    assert.equal(data.custom.span_id, span.spanId, 'custom.span_id is the span');
    assert.deepEqual(data.attributes, [{ key: 'trace_id', value: span.traceId }, { key: 'span_id', value: span.spanId }], 'attributes carry the ids too');
  }
}

/**
 * The span `name` of test `tid` as the OTLP sink got it: the `exception` event with the
 * error and the item's uuid, ERROR status and the rollbar.item.uuid attribute.
 */
function assertLinkedSpan(tid, name, { ctx, uuid, type, message, stackHas }) {
  const s = spansOf(tid).find((x) => x.name === name && x.spanId === ctx.spanId);
  assert.ok(s, `span ${name} ${ctx.spanId} exported (got ${spansOf(tid).map((x) => `${x.name} ${x.spanId}`)})`);
  assert.equal(s.traceId, ctx.traceId);
  assert.equal(s.spanId, ctx.spanId);
  assert.equal(s.attrs['rollbar.item.uuid'], uuid, 'span attribute rollbar.item.uuid is the item uuid');
  assert.equal(s.status && s.status.code, 2, 'span status ERROR');
  const ev = (s.events || []).filter((e) => e.name === 'exception');
  assert.equal(ev.length, 1, 'one exception event');
  const a = attrMap(ev[0].attributes);
  assert.equal(a['exception.type'], type);
  assert.equal(a['exception.message'], message);
  assert.equal(a['rollbar.item.uuid'], uuid, 'the event carries the item uuid');
  if (stackHas) assert.ok(String(a['exception.stacktrace']).includes(stackHas), `exception.stacktrace mentions ${stackHas}: ${a['exception.stacktrace']}`);
  return s;
}

// ---------------------------------------------------------------------------
// 1. Each kind of error: exactly one item, linked with the active span both ways
// ---------------------------------------------------------------------------

errorsTest('uncaught error in a setTimeout: one item (Error, message, frames ending at the throw in /fixture.js, level error) with the trace of the span it was thrown under; the span is exported with the exception event and the item uuid', { pageErrors: [/^Error: boom in a timer$/] }, async ({ page, tid, pageErrors }) => {
  const t0 = Date.now();
  const ctx = await page.evaluate((o) => {
    ET.init(o);
    window.__work = ET.startSpan('work');
    F.throwUnder(window.__work, 'boom in a timer');
    return window.__work.spanContext();
  }, options(tid));
  await waitItems(tid, 1);
  const stats = await page.evaluate(async () => {
    window.__work.end();
    await ET.flush();
    return ET.getStats();
  });
  await sleep(200); // a second item, if any, would arrive now
  const t1 = Date.now();
  const reqs = itemReqs(tid);
  assert.equal(reqs.length, 1, 'exactly one item');
  const rec = reqs[0];
  assert.equal(rec.method, 'POST');
  assert.equal(rec.headers['x-rollbar-access-token'], TOKEN, 'x-rollbar-access-token');
  assert.match(rec.headers['content-type'], /^application\/json/);
  assert.equal(rec.contentEncoding, null, 'items are plain JSON');
  assert.deepEqual(Object.keys(rec.json), ['data'], 'the body is { data }');
  const data = rec.json.data;
  assertCommon(data, { level: 'error', url: `${srv.appOrigin}/errors.html`, span: ctx, t0, t1 });
  assert.deepEqual(data.body.trace.exception, { class: 'Error', message: 'boom in a timer' });
  const [line, col] = fixtureAt('throw-timer');
  const top = lastFrame(data.body.trace);
  assert.deepEqual(top, { filename: `${srv.appOrigin}/fixture.js`, lineno: line, colno: col, method: 'failingWork' }, 'the last frame is the throw');
  assert.ok(data.body.trace.frames.some((f) => f.method === 'onTimer' && f.filename.endsWith('/fixture.js')), 'the timer callback is a frame too');
  assert.ok(data.body.trace.frames.some((f) => /\/pkg\/index\.js$/.test(f.filename)), 'so is withSpan in the package');
  assert.deepEqual(pageErrors, ['Error: boom in a timer'], 'the error still reaches the page, once');
  assertLinkedSpan(tid, 'work', { ctx, uuid: data.uuid, type: 'Error', message: 'boom in a timer', stackHas: '/fixture.js' });
  assert.equal(stats.itemsSent, 1);
  assert.equal(stats.itemsDropped + stats.itemsFailed + stats.reportingErrors, 0);
});

errorsTest('unhandled rejection with an Error: one item (RangeError, frames ending at the throw after an await in /fixture.js) with the trace of the span active at the time (async work under withSpan); the span is exported with the exception event and the item uuid', { pageErrors: [/^RangeError: rejected with an error$/] }, async ({ page, tid, pageErrors }) => {
  const t0 = Date.now();
  const ctx = await page.evaluate((o) => {
    ET.init(o);
    window.__work = ET.startSpan('async-work');
    F.rejectErrorDuring(window.__work, 'rejected with an error');
    return window.__work.spanContext();
  }, options(tid));
  await waitItems(tid, 1);
  const stats = await page.evaluate(async () => {
    window.__work.end();
    await ET.flush();
    return ET.getStats();
  });
  await sleep(200);
  const all = itemsOf(tid);
  assert.equal(all.length, 1, 'exactly one item');
  const data = all[0];
  assertCommon(data, { level: 'error', url: `${srv.appOrigin}/errors.html`, span: ctx, t0, t1: Date.now() });
  assert.deepEqual(data.body.trace.exception, { class: 'RangeError', message: 'rejected with an error' });
  const [line, col] = fixtureAt('throw-async');
  assert.deepEqual(lastFrame(data.body.trace), { filename: `${srv.appOrigin}/fixture.js`, lineno: line, colno: col, method: 'loadInBackground' });
  assert.deepEqual(pageErrors, ['RangeError: rejected with an error'], 'the rejection is still unhandled for the page');
  assertLinkedSpan(tid, 'async-work', { ctx, uuid: data.uuid, type: 'RangeError', message: 'rejected with an error', stackHas: 'loadInBackground' });
  assert.equal(stats.itemsSent, 1);
});

errorsTest('unhandled rejection with a string: one item (class UnhandledRejection, the string as message, no frames) with the trace of the span active at the time; the span is exported with the exception event and the item uuid', { pageErrors: [/rejected with a string/] }, async ({ page, tid }) => {
  const t0 = Date.now();
  const ctx = await page.evaluate((o) => {
    ET.init(o);
    window.__work = ET.startSpan('string-work');
    F.rejectStringDuring(window.__work, 'rejected with a string');
    return window.__work.spanContext();
  }, options(tid));
  await waitItems(tid, 1);
  const stats = await page.evaluate(async () => {
    window.__work.end();
    await ET.flush();
    return ET.getStats();
  });
  await sleep(200);
  const all = itemsOf(tid);
  assert.equal(all.length, 1, 'exactly one item');
  const data = all[0];
  assertCommon(data, { level: 'error', url: `${srv.appOrigin}/errors.html`, span: ctx, t0, t1: Date.now() });
  assert.deepEqual(data.body.trace.exception, { class: 'UnhandledRejection', message: 'rejected with a string' });
  assert.deepEqual(data.body.trace.frames, [], 'a string has no stack');
  assertLinkedSpan(tid, 'string-work', { ctx, uuid: data.uuid, type: 'UnhandledRejection', message: 'rejected with a string' });
  assert.equal(stats.itemsSent, 1);
});

errorsTest('a promise returned by withSpan(span, fn) that rejects unhandled is still an unhandled rejection: one item, linked with span', {
  pageErrors: [/^Error: rejected out of withSpan$/],
}, async ({ page, tid, pageErrors }) => {
  const ctx = await page.evaluate((o) => {
    ET.init(o);
    window.__work = ET.startSpan('returned-work');
    F.rejectOutOfWithSpan(window.__work, 'rejected out of withSpan');
    return window.__work.spanContext();
  }, options(tid));
  await items.waitFor(() => itemsOf(tid).length >= 1, 1000);
  const stats = await page.evaluate(async () => {
    window.__work.end();
    await ET.flush();
    return ET.getStats();
  });
  assert.deepEqual(pageErrors, ['Error: rejected out of withSpan'], 'the page sees an unhandled rejection, as without withSpan');
  const all = itemsOf(tid);
  assert.equal(all.length, 1, `one item (itemsSent ${stats.itemsSent})`);
  assert.deepEqual(all[0].body.trace.exception, { class: 'Error', message: 'rejected out of withSpan' });
  const [line, col] = fixtureAt('throw-returned');
  assert.deepEqual(lastFrame(all[0].body.trace), { filename: `${srv.appOrigin}/fixture.js`, lineno: line, colno: col, method: 'rejectedWork' });
  assert.equal(all[0].custom.trace_id, ctx.traceId);
  assert.equal(all[0].custom.span_id, ctx.spanId);
  assertLinkedSpan(tid, 'returned-work', { ctx, uuid: all[0].uuid, type: 'Error', message: 'rejected out of withSpan' });
});

errorsTest('a panic inside the SDK: exactly one item (class panic, level critical, wasm frames) with the trace of the active span, which leaves in the last gasp with the exception event; the RuntimeError that follows is not reported again; the page\'s fetch still works', { pageErrors: [/^RuntimeError: unreachable/] }, async ({ page, tid, pageErrors }) => {
  const t0 = Date.now();
  const ctx = await page.evaluate((o) => {
    ET.init(o);
    window.__work = ET.startSpan('doomed-work');
    ET.startRootSpan('queued-before-panic').end();
    F.panicUnder(window.__work, 'boom from a test panic');
    return window.__work.spanContext();
  }, options(tid, {}, { batch: { scheduledDelayMillis: 5000 } }));
  await waitItems(tid, 1);
  // The hook ended the active span and sent it with every queued span (no flush: the SDK is off).
  const spansOk = await otlp.waitFor(() => spanNamed(tid, 'doomed-work') && spanNamed(tid, 'queued-before-panic'), 5000);
  await sleep(300); // a second item (from the RuntimeError reaching window.onerror) would arrive now
  const all = itemsOf(tid);
  assert.equal(all.length, 1, `exactly one item (got ${all.map((d) => JSON.stringify(d.body)).join(' | ')})`);
  const data = all[0];
  assertCommon(data, { level: 'critical', url: `${srv.appOrigin}/errors.html`, span: ctx, t0, t1: Date.now() });
  const ex = data.body.trace.exception;
  assert.equal(ex.class, 'panic');
  // As the standard library's hook writes it, built without core::fmt (src/errors.rs,
  // panic_report): the location, then the message.
  assert.match(ex.message, /^panicked at src\/errors\.rs:\d+:\d+:\nboom from a test panic$/, 'the panic message');
  const wasm = data.body.trace.frames.filter((f) => f.filename.startsWith('wasm://') || f.filename.endsWith('.wasm'));
  assert.ok(wasm.length > 0, `wasm frames (frames: ${JSON.stringify(data.body.trace.frames)})`);
  for (const f of wasm) {
    assert.equal(f.lineno, undefined, 'a wasm frame has no line');
    assert.ok(Number.isInteger(f.colno) && f.colno > 0, 'its colno is the byte offset');
  }
  assert.ok(spansOk, `the active span and the queued span were sent in the last gasp (got ${spansOf(tid).map((s) => s.name)})`);
  assertLinkedSpan(tid, 'doomed-work', { ctx, uuid: data.uuid, type: 'panic', message: ex.message });
  assert.ok(pageErrors.some((m) => /^RuntimeError: unreachable/.test(m)), 'the trap reaches the page');
  const after = await page.evaluate(async () => {
    const r = await fetch('/echo/after-panic');
    const echoed = await r.json();
    let threw = null;
    let uuid;
    try {
      uuid = ET.captureException(new Error('after the panic'));
      ET.startSpan('after-panic').end();
      await ET.flush();
    } catch (e) {
      threw = String(e);
    }
    return { status: r.status, traceparent: echoed.headers.traceparent, uuid, threw };
  });
  assert.equal(after.status, 200, "the page's fetch works after the panic");
  assert.equal(after.threw, null, 'the SDK API does not throw after the panic');
  assert.equal(after.uuid, undefined, 'captureException after the panic reports nothing');
  await sleep(200);
  assert.equal(itemsOf(tid).length, 1, 'still one item');
  assert.equal(spanNamed(tid, 'after-panic'), undefined, 'no span exported after the panic');
});

errorsTest("after a panic the SDK is off: the page's fetch goes out as the page wrote it, without a traceparent", {
  pageErrors: [/^RuntimeError: unreachable/],
}, async ({ page, tid }) => {
  const r = await page.evaluate(async (o) => {
    ET.init(o);
    await ET.ready();
    const s = ET.startSpan('doomed-work');
    setTimeout(() => ET.withSpan(s, () => window.raw.debugPanic('boom before a fetch')));
    await new Promise((res) => setTimeout(res, 300));
    const res = await fetch('/echo/after-panic');
    return { status: res.status, traceparent: (await res.json()).headers.traceparent, stats: ET.getStats(), trace: s.spanContext().traceId };
  }, options(tid));
  assert.equal(r.status, 200);
  assert.deepEqual(r.stats, {}, 'the SDK is off');
  assert.equal(r.traceparent, undefined, `no traceparent (got ${r.traceparent})`);
});

// ---------------------------------------------------------------------------
// 2. React: a render error under ErrorBoundary
// ---------------------------------------------------------------------------

errorsTest('React render error under ErrorBoundary: one item (TypeError, frames ending in Bomb in the Vite bundle, framework react, the component stack) with the trace of the active span; the span is exported with the exception event; the fallback renders', { path: null }, async ({ open, tid }) => {
  const t0 = Date.now();
  const o = options(tid);
  const q = cfgQuery(o);
  const page = await open(`/?${q}`, { from: 'react' });
  assert.equal(await page.textContent('#calm'), 'all calm');
  const ctx = await page.evaluate(() => window.__explodeUnder('render-work'));
  await page.waitForSelector('#fallback');
  assert.match(await page.textContent('#fallback'), /caught: render exploded/);
  await waitItems(tid, 1);
  const r = await page.evaluate(async () => {
    window.__renderSpan.end();
    await ET.flush();
    return { boundary: window.__boundary, caught: window.__caught, stats: ET.getStats() };
  });
  await sleep(200);
  const all = itemsOf(tid);
  assert.equal(all.length, 1, 'exactly one item');
  const data = all[0];
  assertCommon(data, { level: 'error', url: `${reactSrv.appOrigin}/?${q.replace(/=.*/, '=REDACTED')}`, span: ctx, t0, t1: Date.now(), framework: 'react' });
  assert.deepEqual(data.body.trace.exception, { class: 'TypeError', message: 'render exploded' });
  const top = lastFrame(data.body.trace);
  assert.equal(top.method, 'Bomb', 'the last frame is the component that threw');
  assert.match(top.filename, new RegExp(`^${reactSrv.appOrigin.replace(/\./g, '\\.')}/assets/index-[\\w-]+\\.js$`), 'in the Vite bundle');
  assert.ok(Number.isInteger(top.lineno) && top.lineno > 0 && Number.isInteger(top.colno) && top.colno > 0, 'with line and column');
  assert.match(data.custom.componentStack, /Bomb/, 'custom.componentStack');
  assert.equal(r.boundary.uuid, data.uuid, 'onError got the item uuid');
  assert.equal(r.boundary.message, 'render exploded');
  assert.deepEqual(r.caught, ['render exploded'], 'React saw the error once (caught by the boundary)');
  assertLinkedSpan(tid, 'render-work', { ctx, uuid: data.uuid, type: 'TypeError', message: 'render exploded', stackHas: 'Bomb' });
  assert.equal(r.stats.itemsSent, 1);
});

errorsTest('React render error after a click (React renders it on its own schedule): one item, framework react, linked with the click interaction span, which is exported with the exception event', { path: null }, async ({ open, tid }) => {
  const page = await open(`/?${cfgQuery(options(tid, {}, { userInteractionEvents: ['click'] }))}`, { from: 'react' });
  await page.click('#boom');
  await page.waitForSelector('#fallback');
  await waitItems(tid, 1);
  const r = await page.evaluate(async () => {
    await ET.flush();
    return { boundary: window.__boundary, stats: ET.getStats() };
  });
  await sleep(200);
  const all = itemsOf(tid);
  assert.equal(all.length, 1, 'exactly one item');
  const data = all[0];
  assert.equal(data.framework, 'react');
  assert.deepEqual(data.body.trace.exception, { class: 'TypeError', message: 'render exploded' });
  assert.equal(lastFrame(data.body.trace).method, 'Bomb');
  assert.equal(r.boundary.uuid, data.uuid);
  const click = spanNamed(tid, 'click');
  assert.ok(click, `the click span was exported (got ${spansOf(tid).map((x) => x.name)})`);
  assert.equal(click.attrs.target_xpath, '//*[@id="boom"]');
  assert.equal(data.custom.trace_id, click.traceId, 'the item carries the click trace');
  assert.equal(data.custom.span_id, click.spanId);
  assertLinkedSpan(tid, 'click', { ctx: click, uuid: data.uuid, type: 'TypeError', message: 'render exploded', stackHas: 'Bomb' });
});

// ---------------------------------------------------------------------------
// 3. Scrubbing
// ---------------------------------------------------------------------------

errorsTest('scrubbing: default fields (password, secret, token, authorization, cookie, api_key) and a custom scrubFields entry in custom, person and the call context become ********; query values of request.url become REDACTED', { path: '/errors.html?token=abc&x=1' }, async ({ page, tid }) => {
  const r = await page.evaluate((o) => {
    ET.init(o);
    const uuid = ET.captureException(new Error('scrub me'), {
      secret: 'ctx-secret-1', token: 'ctx-token-2', cookie: 'ctx-cookie-3', Authorization: 'Bearer ctx-auth-4',
      favouriteColour: 'ctx-colour-5', fine: 'ctx-visible', nested: { accessToken: 'ctx-nested-6', list: [{ password: 'ctx-pw-7' }] },
    });
    return { uuid, stats: ET.getStats() };
  }, options(tid, {
    scrubFields: ['favourite_colour'],
    person: { id: 'u-42', username: 'ann', email: 'ann@example.com', password: 'person-pw-8' },
    custom: { password: 'cfg-pw-9', api_key: 'cfg-key-10', keep: 1, deep: { cookie: 'cfg-cookie-11', favourite_colour: 'cfg-colour-12', ok: 'cfg-visible' } },
  }));
  await waitItems(tid, 1);
  const reqs = itemReqs(tid);
  assert.equal(reqs.length, 1);
  const data = reqs[0].json.data;
  assert.equal(data.uuid, r.uuid, 'captureException returned the uuid');
  assert.equal(data.request.url, `${srv.appOrigin}/errors.html?token=REDACTED&x=REDACTED`, 'query values scrubbed, keys kept');
  assert.deepEqual(data.person, { id: 'u-42', username: 'ann', email: 'ann@example.com', password: SCRUBBED });
  const c = data.custom;
  assert.equal(c.password, SCRUBBED);
  assert.equal(c.api_key, SCRUBBED);
  assert.equal(c.keep, 1);
  assert.deepEqual(c.deep, { cookie: SCRUBBED, favourite_colour: SCRUBBED, ok: 'cfg-visible' }, 'nested config custom, with the custom scrubFields entry');
  assert.equal(c.secret, SCRUBBED);
  assert.equal(c.token, SCRUBBED);
  assert.equal(c.cookie, SCRUBBED);
  assert.equal(c.Authorization, SCRUBBED);
  assert.equal(c.favouriteColour, SCRUBBED, 'scrubFields favourite_colour also catches favouriteColour');
  assert.equal(c.fine, 'ctx-visible');
  assert.deepEqual(c.nested, { accessToken: SCRUBBED, list: [{ password: SCRUBBED }] }, 'at any depth, in arrays too');
  assert.equal(c.trace_id.length, 32, 'our own ids are not scrubbed');
  const leaked = ['ctx-secret-1', 'ctx-token-2', 'ctx-cookie-3', 'ctx-auth-4', 'ctx-colour-5', 'ctx-nested-6', 'ctx-pw-7', 'person-pw-8', 'cfg-pw-9', 'cfg-key-10', 'cfg-cookie-11', 'cfg-colour-12', 'token=abc', TOKEN].filter((v) => reqs[0].text.includes(v));
  assert.deepEqual(leaked, [], `no scrubbed value anywhere in the body: ${reqs[0].text}`);
});

errorsTest('scrubbing: the query values of the page URL do not reach the item through the frames of an inline script (whose filename is the page URL)', {
  path: '/errors.html?token=abc&x=1',
}, async ({ page, tid }) => {
  await page.evaluate((o) => {
    ET.init(o);
    ET.captureException(window.inlineError('made in the page'));
  }, options(tid));
  await waitItems(tid, 1);
  const data = itemsOf(tid)[0];
  const top = lastFrame(data.body.trace);
  assert.equal(top.method, 'inlineError');
  assert.equal(top.filename, `${srv.appOrigin}/errors.html?token=REDACTED&x=REDACTED`, 'the frame filename has its query values scrubbed');
  assert.ok(!itemReqs(tid)[0].text.includes('abc'), 'the token value is nowhere in the item');
});

// ---------------------------------------------------------------------------
// 4. Limits: itemsPerMinute, maxItems, de-duplication, ignoredMessages
// ---------------------------------------------------------------------------

errorsTest('itemsPerMinute (default 60): 70 distinct errors in a minute give 60 items and itemsDropped 10; a dropped error starts no span', {}, async ({ page, tid }) => {
  const r = await page.evaluate(async (o) => {
    ET.init(o);
    await ET.ready();
    const uuids = [];
    for (let i = 0; i < 70; i++) uuids.push(ET.captureException(new Error(`distinct error ${i}`)));
    const ok = await ET.flush();
    return { uuids, ok, stats: ET.getStats() };
  }, options(tid));
  assert.equal(r.ok, true, 'flush resolves true');
  const all = itemsOf(tid);
  assert.equal(all.length, 60, 'sixty items');
  assert.deepEqual(all.map((d) => d.body.trace.exception.message).sort(), Array.from({ length: 60 }, (_, i) => `distinct error ${i}`).sort(), 'the first sixty');
  assert.deepEqual(r.uuids.map((u) => u !== undefined), Array.from({ length: 70 }, (_, i) => i < 60), 'captureException returns undefined for the dropped ones');
  assert.deepEqual(all.map((d) => d.uuid).sort(), r.uuids.slice(0, 60).sort(), 'the uuids it returned are the items');
  assert.equal(r.stats.itemsSent, 60);
  assert.equal(r.stats.itemsDropped, 10);
  assert.equal(r.stats.itemsDeduplicated, 0);
  const exceptionSpans = spansOf(tid).filter((s) => s.name === 'exception');
  assert.equal(exceptionSpans.length, 60, 'one root span named exception per item (no span was active), none for the dropped');
});

errorsTest('maxItems: 3 per page load, then every item is dropped (counted)', {}, async ({ page, tid }) => {
  const r = await page.evaluate(async (o) => {
    ET.init(o);
    await ET.ready();
    const uuids = [];
    for (let i = 0; i < 5; i++) uuids.push(ET.captureException(new Error(`capped ${i}`)));
    await ET.flush();
    return { uuids, stats: ET.getStats() };
  }, options(tid, { maxItems: 3 }));
  assert.equal(itemsOf(tid).length, 3);
  assert.deepEqual(r.uuids.map((u) => u !== undefined), [true, true, true, false, false]);
  assert.equal(r.stats.itemsDropped, 2);
});

errorsTest('de-duplication: one uncaught error repeated 10 times within a second gives 1 item and itemsDeduplicated 9', { pageErrors: [/^Error: the same error again$/] }, async ({ page, tid, pageErrors }) => {
  const r = await page.evaluate(async (o) => {
    ET.init(o);
    await ET.ready();
    const t0 = Date.now();
    F.throwRepeatedly(10, 50, 'the same error again');
    for (let i = 0; i < 300 && ET.getStats().itemsDeduplicated < 9; i++) await new Promise((res) => setTimeout(res, 10));
    const ok = await ET.flush();
    return { ok, ms: Date.now() - t0, stats: ET.getStats() };
  }, options(tid));
  assert.ok(r.ms < 1500, `ten errors within about a second (${r.ms} ms)`);
  assert.equal(pageErrors.length, 10, 'the page saw all ten');
  await sleep(200);
  const all = itemsOf(tid);
  assert.equal(all.length, 1, 'one item');
  const [line, col] = fixtureAt('throw-repeat');
  assert.deepEqual(lastFrame(all[0].body.trace), { filename: `${srv.appOrigin}/fixture.js`, lineno: line, colno: col, method: 'repeat' });
  assert.equal(r.stats.itemsDeduplicated, 9);
  assert.equal(r.stats.itemsSent, 1);
  assert.equal(r.stats.itemsDropped, 0);
});

errorsTest('de-duplication: the same class and message made in two different places (another innermost frame) are two items', {
}, async ({ page, tid }) => {
  const r = await page.evaluate(async (o) => {
    ET.init(o);
    await ET.ready();
    const a = ET.captureException(F.errorHere('same class, same message'));
    const b = ET.captureException(F.errorThere('same class, same message'));
    await ET.flush();
    return { a, b, stats: ET.getStats() };
  }, options(tid));
  const all = itemsOf(tid);
  assert.deepEqual(all.map((d) => lastFrame(d.body.trace).method).sort(), ['Object.errorHere', 'Object.errorThere'], `two items (itemsDeduplicated ${r.stats.itemsDeduplicated})`);
  assert.equal(r.stats.itemsDeduplicated, 0);
});

errorsTest("ignoredMessages (a string: substring; a RegExp) and a bare cross-origin 'Script error.' are not reported, counted in itemsIgnored", {}, async ({ page, tid }) => {
  const r = await page.evaluate(async (o) => {
    ET.init({ ...o, rollbar: { ...o.rollbar, ignoredMessages: ['ResizeObserver loop', /^Ignored by regexp \d+$/] } });
    await ET.ready();
    const out = {
      substring: ET.captureException(new Error('ResizeObserver loop limit exceeded')),
      regexp: ET.captureException(new Error('Ignored by regexp 42')),
      regexpNoMatch: ET.captureException(new Error('Ignored by regexp forty-two')),
      message: ET.captureMessage('a ResizeObserver loop message'),
    };
    // What the browser dispatches for an error in a cross-origin script without CORS.
    window.dispatchEvent(new ErrorEvent('error', { message: 'Script error.', filename: '', lineno: 0, colno: 0 }));
    await ET.flush();
    return { out, stats: ET.getStats() };
  }, options(tid));
  assert.equal(r.out.substring, undefined);
  assert.equal(r.out.regexp, undefined);
  assert.equal(r.out.message, undefined, 'messages are matched too');
  assert.match(r.out.regexpNoMatch, UUID4);
  const all = itemsOf(tid);
  assert.deepEqual(all.map((d) => d.body.trace.exception.message), ['Ignored by regexp forty-two'], 'only the error that matches no rule');
  assert.equal(r.stats.itemsIgnored, 4);
  assert.equal(r.stats.itemsSent, 1);
});

// ---------------------------------------------------------------------------
// 5. Sending: 429 pauses, retries
// ---------------------------------------------------------------------------

errorsTest('a 429 (Retry-After: 2) pauses sending: an item reported during the pause is dropped (itemsDropped), one reported after it is sent', {}, async ({ page, tid, t }) => {
  items.script({ status: 429, retryAfter: '2' });
  await page.evaluate((o) => {
    ET.init(o);
    ET.captureException(new Error('answered with 429'));
  }, options(tid));
  assert.ok(await items.waitFor(() => itemReqs(tid)[0] && itemReqs(tid)[0].answeredAt), 'the first item was answered');
  const pausedAt = itemReqs(tid)[0].answeredAt;
  // The pause starts when the page has read the 429, a little after the sink answered.
  await page.waitForFunction(() => ET.getStats().itemsFailed >= 1, null, { timeout: 5000 });
  const during = await page.evaluate(() => {
    ET.captureException(new Error('reported during the pause'));
    return { stats: ET.getStats() };
  });
  assert.equal(during.stats.itemsDropped, 1, 'dropped at once');
  await sleep(Math.max(0, pausedAt + 2000 + 150 - Date.now()));
  const after = await page.evaluate(async () => {
    const uuid = ET.captureException(new Error('reported after the pause'));
    const ok = await ET.flush();
    return { uuid, ok, stats: ET.getStats() };
  });
  assert.equal(after.ok, true);
  await sleep(100);
  const reqs = itemReqs(tid);
  assert.deepEqual(reqs.map((q) => [q.json.data.body.trace.exception.message, q.status]), [['answered with 429', 429], ['reported after the pause', 200]], 'the item during the pause never left');
  assert.ok(reqs[1].at >= pausedAt + 2000, `sent after the pause (${reqs[1].at - pausedAt} ms after the 429)`);
  assert.equal(reqs[1].json.data.uuid, after.uuid);
  assert.equal(after.stats.itemsDropped, 1);
  assert.equal(after.stats.itemsSent, 1);
  assert.equal(after.stats.itemsFailed, 1, 'the item answered with 429 is given up, not retried');
});

errorsTest('captureException during a 429 pause returns undefined, as for every other item that is not sent', {
}, async ({ page, tid }) => {
  items.script({ status: 429, retryAfter: '30' });
  await page.evaluate((o) => {
    ET.init(o);
    ET.captureException(new Error('answered with 429'));
  }, options(tid));
  // The pause starts when the page has read the 429 (itemsFailed), not when the sink answered.
  await page.waitForFunction(() => ET.getStats().itemsFailed >= 1, null, { timeout: 5000 });
  const r = await page.evaluate(() => ({ uuid: ET.captureException(new Error('reported during the pause')), stats: ET.getStats() }));
  assert.equal(r.stats.itemsDropped, 1, 'the item was dropped');
  assert.equal(r.uuid, undefined, 'so captureException returned undefined');
});

errorsTest('a 429 without Retry-After pauses sending for 60 s: an item 2.5 s later is still dropped', {}, async ({ page, tid }) => {
  items.script({ status: 429 });
  await page.evaluate((o) => {
    ET.init(o);
    ET.captureException(new Error('answered with 429, no Retry-After'));
  }, options(tid));
  await page.waitForFunction(() => ET.getStats().itemsFailed >= 1, null, { timeout: 5000 });
  await sleep(2500);
  const r = await page.evaluate(async () => {
    ET.captureException(new Error('2.5 s after the 429'));
    await new Promise((res) => setTimeout(res, 200));
    return ET.getStats();
  });
  assert.equal(itemReqs(tid).length, 1, 'nothing sent after the 429');
  assert.equal(r.itemsDropped, 1);
});

errorsTest('retries: a 503 is retried after about 1 s (the same item) while a later item waits behind it; a 400 is not retried (itemsFailed)', {}, async ({ page, tid, t }) => {
  items.script({ status: 503 }, { status: 200 }, { status: 400 });
  const uuid503 = await page.evaluate((o) => {
    ET.init(o);
    return ET.captureException(new Error('answered 503 then 200'));
  }, options(tid));
  assert.ok(await items.waitFor(() => itemReqs(tid)[0] && itemReqs(tid)[0].answeredAt), 'the 503 was answered');
  await sleep(300); // the page has read the 503 (its retry is due about 1 s after it)
  const uuid400 = await page.evaluate(() => ET.captureException(new Error('answered 400')));
  assert.ok(await items.waitFor(() => itemReqs(tid).length >= 3, 4000), 'the retry and the later item arrived');
  const stats = await page.evaluate(async () => {
    await ET.flush();
    await new Promise((res) => setTimeout(res, 1300)); // a retry of the 400 (1 s ± 20 %) would come by now
    return ET.getStats();
  });
  const reqs = itemReqs(tid);
  assert.deepEqual(reqs.map((q) => [q.json.data.uuid, q.status]), [[uuid503, 503], [uuid503, 200], [uuid400, 400]]);
  const gap = reqs[1].at - reqs[0].answeredAt;
  t.diagnostic(`retry after ${gap} ms; the later item went ${reqs[2].at - reqs[1].answeredAt} ms after it was acknowledged`);
  assert.ok(gap >= 700 && gap <= 1600, `retried after about 1 s (${gap} ms)`);
  assert.ok(reqs[2].at >= reqs[1].answeredAt, 'the later item waited behind the retried one (the probe)');
  assert.equal(stats.itemsSent, 1);
  assert.equal(stats.itemsFailed, 1);
});

// ---------------------------------------------------------------------------
// 6. The API: active span, captureMessage, Error.cause, beforeSend / transform, options
// ---------------------------------------------------------------------------

errorsTest('captureException links to the active span (withSpan); with no active span a root span named exception is started and ended for it', {}, async ({ page, tid }) => {
  const r = await page.evaluate(async (o) => {
    ET.init(o);
    await ET.ready();
    const s = ET.startSpan('checkout');
    const under = ET.withSpan(s, () => ET.captureException(new TypeError('under checkout')));
    s.end();
    const alone = ET.captureException(new Error('no span active'));
    const ok = await ET.flush();
    return { ok, under, alone, ctx: s.spanContext(), stats: ET.getStats() };
  }, options(tid));
  assert.equal(r.ok, true);
  const all = itemsOf(tid);
  assert.equal(all.length, 2);
  const under = all.find((d) => d.uuid === r.under);
  const alone = all.find((d) => d.uuid === r.alone);
  assert.equal(under.custom.trace_id, r.ctx.traceId);
  assert.equal(under.custom.span_id, r.ctx.spanId);
  assertLinkedSpan(tid, 'checkout', { ctx: r.ctx, uuid: r.under, type: 'TypeError', message: 'under checkout' });
  const root = spanNamed(tid, 'exception');
  assert.ok(root, 'a span named exception was exported');
  assert.equal(root.parentSpanId, undefined, 'a root span');
  assert.notEqual(root.traceId, r.ctx.traceId, 'in a trace of its own');
  assertLinkedSpan(tid, 'exception', { ctx: { traceId: alone.custom.trace_id, spanId: alone.custom.span_id }, uuid: r.alone, type: 'Error', message: 'no span active' });
});

errorsTest('captureMessage: body.message, level as given (default info), the call context in custom; the active span gets a message event and the uuid, not an ERROR status', {}, async ({ page, tid }) => {
  const r = await page.evaluate(async (o) => {
    ET.init(o);
    await ET.ready();
    const s = ET.startSpan('cart');
    const warning = ET.withSpan(s, () => ET.captureMessage('cart is almost full', 'warning', { cart: 3, items: ['a', 'b'] }));
    s.end();
    const levels = ['critical', 'error', 'info', 'debug'].map((l) => ET.captureMessage(`level ${l}`, l));
    const dflt = ET.captureMessage('no level given');
    const ok = await ET.flush();
    return { ok, warning, levels, dflt, ctx: s.spanContext() };
  }, options(tid));
  assert.equal(r.ok, true);
  const all = itemsOf(tid);
  assert.equal(all.length, 6);
  const w = all.find((d) => d.uuid === r.warning);
  assert.deepEqual(w.body, { message: { body: 'cart is almost full' } });
  assert.equal(w.level, 'warning');
  assert.equal(w.custom.cart, 3);
  assert.deepEqual(w.custom.items, ['a', 'b']);
  assert.equal(w.custom.trace_id, r.ctx.traceId);
  assert.equal(w.custom.span_id, r.ctx.spanId);
  const byBody = Object.fromEntries(all.map((d) => [d.body.message.body, d.level]));
  assert.deepEqual(byBody, { 'cart is almost full': 'warning', 'level critical': 'critical', 'level error': 'error', 'level info': 'info', 'level debug': 'debug', 'no level given': 'info' });
  const span = spanNamed(tid, 'cart');
  assert.equal(span.attrs['rollbar.item.uuid'], r.warning);
  assert.notEqual(span.status && span.status.code, 2, 'a message does not set ERROR');
  const ev = (span.events || []).map((e) => [e.name, attrMap(e.attributes)]);
  assert.deepEqual(ev, [['message', { message: 'cart is almost full', 'rollbar.item.uuid': r.warning }]]);
});

errorsTest('Error.cause: body.trace_chain, outermost error first, each with its class, message and frames; a cause that is not an Error and a cause cycle end the chain', {}, async ({ page, tid }) => {
  const r = await page.evaluate(async (o) => {
    ET.init(o);
    await ET.ready();
    const root = new TypeError('inner failure', { cause: 'a string at the bottom' });
    const chained = ET.captureException(new Error('outer failure', { cause: root }));
    const cyclic = new Error('cause is itself');
    cyclic.cause = cyclic;
    const self = ET.captureException(cyclic);
    await ET.flush();
    return { chained, self };
  }, options(tid));
  const all = itemsOf(tid);
  const chained = all.find((d) => d.uuid === r.chained);
  assert.equal(chained.body.trace, undefined, 'no body.trace with a chain');
  const chain = chained.body.trace_chain;
  assert.deepEqual(chain.map((c) => c.exception), [
    { class: 'Error', message: 'outer failure' },
    { class: 'TypeError', message: 'inner failure' },
    { class: 'Error', message: 'a string at the bottom' },
  ]);
  assert.ok(chain[0].frames.length > 0 && chain[1].frames.length > 0, 'the errors have frames');
  assert.deepEqual(chain[2].frames, [], 'the string has none');
  const self = all.find((d) => d.uuid === r.self);
  assert.deepEqual(self.body.trace.exception, { class: 'Error', message: 'cause is itself' }, 'a cycle is followed once: a plain trace');
});

errorsTest('beforeSend changes an item, drops another (null, false: itemsDropped); transform changes the payload first; a beforeSend that returns nothing sends the item as it was', {}, async ({ page, tid }) => {
  const r = await page.evaluate(async (o) => {
    const seen = [];
    ET.init({
      ...o,
      rollbar: {
        ...o.rollbar,
        transform(p) {
          p.data.custom.transformed = true;
        },
        beforeSend(p) {
          const m = p.data.body.trace.exception.message;
          seen.push({ m, transformed: p.data.custom.transformed, uuid: p.data.uuid });
          if (m === 'drop me') return null;
          if (m === 'drop me too') return false;
          if (m === 'keep me') return undefined;
          p.data.level = 'warning';
          p.data.body.trace.exception.message = 'changed by beforeSend';
          p.data.custom.changed = 'yes';
          return p;
        },
      },
    });
    await ET.ready();
    const out = ['change me', 'drop me', 'drop me too', 'keep me'].map((m) => ET.captureException(new Error(m)));
    const ok = await ET.flush();
    return { seen, out, ok, stats: ET.getStats() };
  }, options(tid));
  assert.equal(r.ok, true);
  assert.deepEqual(r.seen.map((x) => [x.m, x.transformed]), [['change me', true], ['drop me', true], ['drop me too', true], ['keep me', true]], 'beforeSend saw every item after transform');
  assert.equal(r.out[1], undefined, 'a dropped item has no uuid');
  assert.equal(r.out[2], undefined);
  const all = itemsOf(tid);
  assert.equal(all.length, 2);
  const changed = all.find((d) => d.uuid === r.out[0]);
  assert.equal(changed.level, 'warning');
  assert.equal(changed.body.trace.exception.message, 'changed by beforeSend');
  assert.equal(changed.custom.changed, 'yes');
  assert.equal(changed.custom.transformed, true);
  const kept = all.find((d) => d.uuid === r.out[3]);
  assert.equal(kept.level, 'error');
  assert.equal(kept.body.trace.exception.message, 'keep me');
  assert.equal(r.seen[0].uuid, r.out[0], 'the hooks see the uuid captureException returns');
  assert.equal(r.stats.itemsDropped, 2);
  assert.equal(r.stats.itemsSent, 2);
});

errorsTest('an error thrown inside beforeSend (or transform) is counted in reportingErrors and reported nowhere; reporting goes on', {}, async ({ page, tid }) => {
  const r = await page.evaluate(async (o) => {
    ET.init({
      ...o,
      rollbar: {
        ...o.rollbar,
        transform(p) {
          if (p.data.body.trace.exception.message === 'transform throws') throw new Error('transform failed');
        },
        beforeSend(p) {
          if (p.data.body.trace.exception.message === 'beforeSend throws') throw new Error('beforeSend failed');
          return p;
        },
      },
    });
    await ET.ready();
    const a = ET.captureException(new Error('beforeSend throws'));
    const b = ET.captureException(new Error('transform throws'));
    const c = ET.captureException(new Error('fine afterwards'));
    const ok = await ET.flush();
    return { a, b, c, ok, stats: ET.getStats() };
  }, options(tid));
  assert.equal(r.a, undefined);
  assert.equal(r.b, undefined);
  assert.match(r.c, UUID4);
  assert.deepEqual(itemsOf(tid).map((d) => d.body.trace.exception.message), ['fine afterwards'], 'neither the failed items nor the hook errors were sent');
  assert.equal(r.stats.reportingErrors, 2);
  assert.equal(r.stats.itemsSent, 1);
  assert.equal(r.stats.itemsDropped, 0, 'not counted as dropped');
});

errorsTest('rollbar options in the item: environment, codeVersion, framework, context, captureIp, person, honeycombTeam/honeycombEnvironment (custom.trace_url)', {}, async ({ page, tid }) => {
  const r = await page.evaluate(async (o) => {
    ET.init(o);
    await ET.ready();
    const uuid = ET.captureException(new Error('with every option'));
    await ET.flush();
    return { uuid };
  }, options(tid, {
    environment: 'staging', codeVersion: 'abc123', framework: 'vanilla', context: 'checkout#pay', captureIp: true,
    person: { id: 42, username: 'ann', email: 'ann@example.com' }, honeycombTeam: 'acme', honeycombEnvironment: 'prod',
  }));
  const [data] = itemsOf(tid);
  assert.equal(data.uuid, r.uuid);
  assert.equal(data.environment, 'staging');
  assert.equal(data.client.javascript.code_version, 'abc123');
  assert.equal(data.framework, 'vanilla');
  assert.equal(data.context, 'checkout#pay');
  assert.equal(data.request.user_ip, '$remote_ip');
  assert.equal(data.request.url, `${srv.appOrigin}/errors.html`);
  assert.deepEqual(data.person, { id: '42', username: 'ann', email: 'ann@example.com' });
  assert.match(data.custom.trace_id, HEX32);
  assert.match(data.custom.span_id, HEX16);
  const ts = data.timestamp;
  assert.equal(data.custom.trace_url, `https://ui.honeycomb.io/acme/environments/prod/datasets/shop-web/trace?trace_id=${data.custom.trace_id}&span=${data.custom.span_id}&trace_start_ts=${ts - 3600}&trace_end_ts=${ts + 600}`, 'Honeycomb trace link (dataset = service name, an hour before to ten minutes after the error)');
});

errorsTest('enabled: false reports nothing; captureUncaught: false and captureUnhandledRejections: false leave those to the page', { path: null, pageErrors: [/^Error: not captured$/, /not captured either/] }, async ({ open, tid, pageErrors }) => {
  let page = await open('/errors.html');
  const off = await page.evaluate(async (o) => {
    ET.init(o);
    await ET.ready();
    const uuid = ET.captureException(new Error('reporting is off'));
    await ET.flush();
    return { uuid, stats: ET.getStats() };
  }, options(tid, { enabled: false }));
  assert.equal(off.uuid, undefined);
  page = await open('/errors.html');
  const manual = await page.evaluate(async (o) => {
    ET.init(o);
    await ET.ready();
    setTimeout(() => { throw new Error('not captured'); });
    Promise.reject(new Error('not captured either'));
    await new Promise((res) => setTimeout(res, 200));
    const uuid = ET.captureException(new Error('captured by hand'));
    await ET.flush();
    return { uuid, stats: ET.getStats() };
  }, options(tid, { captureUncaught: false, captureUnhandledRejections: false }));
  assert.equal(pageErrors.length, 2, 'both reached the page');
  assert.deepEqual(itemsOf(tid).map((d) => d.body.trace.exception.message), ['captured by hand']);
  assert.equal(manual.stats.itemsSent, 1);
});

errorsTest('x-rollbar-access-token is sent (and asked for in the CORS preflight), never shows in the console with debug: true; without accessToken (a same-origin relay path) no token header', { path: null }, async ({ open, tid, consoleLines }) => {
  items.script({ status: 503 }, { status: 400 });
  let page = await open('/errors.html');
  const r = await page.evaluate(async (o) => {
    ET.init(o);
    await ET.ready();
    ET.captureException(new Error('answered 503, then retried'));
    ET.captureException(new Error('answered 400'));
    ET.captureException(new Error('over itemsPerMinute'));
    ET.captureException(new Error('ignore me please'));
    await ET.flush();
    return ET.getStats();
  }, options(tid, { itemsPerMinute: 2, ignoredMessages: ['ignore me'] }, { debug: true, apiKey: 'hcaik_01hqk4r8ck9fzg1mxvz7t3r5vq2ytewy8d6n0n9bpxjkhv4c3a2gmaq5r' }));
  assert.equal(r.itemsSent, 1);
  assert.equal(r.itemsFailed, 1);
  assert.equal(r.itemsDropped, 1);
  assert.equal(r.itemsIgnored, 1);
  const reqs = itemReqs(tid);
  assert.equal(reqs.length, 3, '503, 400, and the retry');
  for (const q of reqs) {
    assert.equal(q.headers['x-rollbar-access-token'], TOKEN);
    assert.ok(!q.text.includes(TOKEN), 'the token is not in the body');
  }
  const asked = items.preflights.flatMap((p) => String(p.headers || '').split(',').map((x) => x.trim()));
  assert.ok(asked.includes('x-rollbar-access-token'), `the preflight asks for x-rollbar-access-token (${asked})`);
  const debugLines = consoleLines.filter((m) => m.type === 'debug').map((m) => m.text);
  for (const re of [/retrying/, /given up/, /itemsPerMinute/, /ignoredMessages/]) {
    assert.ok(debugLines.some((l) => re.test(l)), `a debug line matching ${re}; got:\n  ${debugLines.join('\n  ')}`);
  }
  const leaks = consoleLines.filter((m) => m.text.includes(TOKEN));
  assert.deepEqual(leaks, [], 'the token never appears in the console');

  // Behind a relay that adds the token: a path on the page's origin, no accessToken.
  const relayTid = `${tid}-relay`;
  page = await open('/errors.html');
  const relayOpts = options(relayTid, { endpoint: `${RELAY_PATH}/item`, accessToken: undefined });
  delete relayOpts.rollbar.accessToken;
  const uuid = await page.evaluate(async (o) => {
    ET.init(o);
    await ET.ready();
    const u = ET.captureException(new Error('through the relay'));
    await ET.flush();
    return u;
  }, relayOpts);
  const relayed = items.requests.filter((q) => q.path === `${RELAY_PATH}/item`);
  assert.equal(relayed.length, 1, 'the relative endpoint resolves against the page');
  assert.equal(relayed[0].json.data.uuid, uuid);
  assert.equal(relayed[0].headers['x-rollbar-access-token'], undefined, 'no token header');
  assert.equal(relayed[0].headers.host, new URL(srv.appOrigin).host);
});

errorsTest("reportPanic (an app's own Rust/wasm panic): one critical item of class panic with the stack it was given, linked to the active span; the SDK stays on", {}, async ({ page, tid }) => {
  const t0 = Date.now();
  const r = await page.evaluate(async (o) => {
    ET.init(o);
    await ET.ready();
    const s = ET.startSpan('app-wasm-work');
    // What an app's panic hook would pass: the panic message and a JS stack with wasm frames.
    const stack = 'Error\n    at app_panic_hook (https://app.example/app_bg.wasm:wasm-function[7]:0x1f)\n    at https://app.example/app.js:12:3';
    const uuid = ET.withSpan(s, () => ET.reportPanic('panicked at src/lib.rs:3:5:\nindex out of bounds', stack));
    const ctx = s.spanContext();
    s.end();
    const after = ET.startSpan('after-report');
    after.end();
    await ET.flush();
    return { uuid, ctx, stats: ET.getStats() };
  }, options(tid));
  await waitItems(tid, 1);
  const list = itemsOf(tid);
  assert.equal(list.length, 1, 'exactly one item');
  const data = list[0];
  assertCommon(data, { level: 'critical', span: r.ctx, t0, t1: Date.now() });
  assert.equal(data.uuid, r.uuid, 'reportPanic returns the item uuid');
  assert.deepEqual(data.body.trace.exception, { class: 'panic', message: 'panicked at src/lib.rs:3:5:\nindex out of bounds' });
  assert.deepEqual(data.body.trace.frames, [
    { filename: 'https://app.example/app.js', lineno: 12, colno: 3 },
    { filename: 'https://app.example/app_bg.wasm', colno: 0x1f, method: 'app_panic_hook' },
  ], 'frames from the given stack, most recent call last, the wasm frame with its byte offset');
  assertLinkedSpan(tid, 'app-wasm-work', { ctx: r.ctx, uuid: r.uuid, type: 'panic', message: 'panicked at src/lib.rs:3:5:\nindex out of bounds' });
  assert.ok(spanNamed(tid, 'after-report'), 'the SDK still exports after an app panic');
  assert.equal(r.stats.itemsSent, 1);
});

// ---------------------------------------------------------------------------
// The item encoder loads after start-up: nothing captured before it arrives is lost
// ---------------------------------------------------------------------------

errorsTest('an error thrown (and one captured) in the first millisecond, before the engine and the item encoder are loaded: both items arrive, each linked to a root span exception with its time', {
  path: null,
  pageErrors: [/thrown in the first millisecond/],
}, async ({ open, tid }) => {
  const t0 = Date.now();
  const page = await open(`/first-ms.html?${cfgQuery(options(tid))}`);
  const early = await page.evaluate(() => window.__early);
  assert.equal(early.stats.loading, true, 'captured while the engine was still loading');
  assert.equal(early.uuid, undefined, 'no uuid before the engine is there');
  await waitItems(tid, 2);
  const ok = await page.evaluate(() => ET.flush());
  assert.equal(ok, true);
  const all = itemsOf(tid);
  assert.equal(all.length, 2, 'exactly two items');
  const thrown = all.find((d) => d.body.trace.exception.message === 'thrown in the first millisecond');
  const captured = all.find((d) => d.body.trace.exception.message === 'captured in the first millisecond');
  assert.ok(thrown && captured, `both items (got ${all.map((d) => d.body.trace.exception.message)})`);
  for (const d of [thrown, captured]) {
    assertCommon(d, { level: 'error', t0, t1: Date.now() });
    assert.match(d.custom.trace_id, HEX32);
    assert.ok(d.timestamp <= Math.ceil(early.t0 / 1000), 'the time it was captured, not the time the encoder arrived');
    assertLinkedSpan(tid, 'exception', { ctx: { traceId: d.custom.trace_id, spanId: d.custom.span_id }, uuid: d.uuid, type: 'Error', message: d.body.trace.exception.message });
  }
  const stats = await page.evaluate(() => ET.getStats());
  assert.equal(stats.itemsSent, 2);
  assert.equal(stats.itemsDropped, 0);
});

/** Runs `fn` in `page`, which navigates away; tolerates the evaluation's context going. */
async function navigating(page, fn, arg) {
  await page.evaluate(fn, arg).catch((e) => {
    if (!/context was destroyed|navigation/i.test(String(e && e.message))) throw e;
  });
}

errorsTest('an error captured just before the page is hidden (the encoder loaded): its item and its marked span leave with the page', {}, async ({ page, tid }) => {
  const o = options(tid, {}, { batch: { scheduledDelayMillis: 60_000 } });
  const r = await page.evaluate(async (opts) => {
    ET.init(opts);
    await ET.ready();
    return true;
  }, o);
  assert.equal(r, true);
  let ctx;
  await navigating(page, () => {
    const s = ET.startSpan('hidden-work');
    window.__uuid = ET.withSpan(s, () => ET.captureException(new Error('just before the page is hidden')));
    s.end();
    sessionStorage.setItem('test.hidden', JSON.stringify({ uuid: window.__uuid, ctx: s.spanContext() }));
    location.href = '/errors.html?after';
  });
  await page.waitForURL(/errors\.html\?after$/, { timeout: 5000 });
  ({ ctx } = JSON.parse(await page.evaluate(() => sessionStorage.getItem('test.hidden'))));
  await waitItems(tid, 1);
  const data = itemsOf(tid)[0];
  assert.equal(data.custom.trace_id, ctx.traceId);
  const spansOk = await otlp.waitFor(() => spanNamed(tid, 'hidden-work'), 5000);
  assert.ok(spansOk, 'the span left with the page');
  assertLinkedSpan(tid, 'hidden-work', { ctx, uuid: data.uuid, type: 'Error', message: 'just before the page is hidden' });
});

errorsTest('an error captured just before the page is hidden, before the encoder arrived: kept for the next page, which sends it with its uuid and time; the span left marked', {
  path: '/slow-encoder.html',
}, async ({ page, tid }) => {
  const o = options(tid, {}, { batch: { scheduledDelayMillis: 60_000 } });
  const t0 = Date.now();
  const r = await page.evaluate(async (opts) => {
    ET.init(opts);
    while (ET.getStats().loading) await new Promise((res) => setTimeout(res, 5));
    const s = ET.startSpan('hidden-work');
    const uuid = ET.withSpan(s, () => ET.captureException(new Error('just before the page is hidden')));
    s.end();
    await new Promise((res) => setTimeout(res, 50));
    return { uuid, ctx: s.spanContext(), asked: window.__encoderAsked === true, stats: ET.getStats() };
  }, o);
  assert.ok(r.asked, 'the encoder was asked for (and is held back)');
  assert.match(r.uuid, UUID4, 'the uuid the item will be sent with');
  assert.equal(r.stats.itemsSent, 0, 'nothing sent yet');
  await navigating(page, (q) => {
    location.href = `/errors.html?${q}`;
  }, cfgQuery(o));
  await page.waitForURL(/errors\.html/, { timeout: 5000 });
  // The span left with the first page, marked with the uuid.
  const spansOk = await otlp.waitFor(() => spanNamed(tid, 'hidden-work'), 5000);
  assert.ok(spansOk, 'the span left with the page');
  assertLinkedSpan(tid, 'hidden-work', { ctx: r.ctx, uuid: r.uuid, type: 'Error', message: 'just before the page is hidden' });
  // The next page's encoder (loaded when it is idle) sends the item.
  await waitItems(tid, 1, 8000);
  const all = itemsOf(tid);
  assert.equal(all.length, 1, 'exactly one item');
  const data = all[0];
  assert.equal(data.uuid, r.uuid, 'the uuid the first page returned');
  assertCommon(data, { level: 'error', span: r.ctx, t0, t1: Date.now() });
  assert.equal(data.request.url, `${srv.appOrigin}/slow-encoder.html`, 'the page it was captured on');
  assert.equal(await page.evaluate(() => localStorage.getItem('edge-telemetry.errors')), null, 'taken from storage');
});

errorsTest('a tab hidden and shown again while the encoder loads: with its bytes there, it is instantiated at once and what waited is sent; without them, what waited is kept and sent when it arrives; later errors are sent as usual', {
  path: null,
}, async ({ open, tid }) => {
  const o = options(tid, {}, { batch: { scheduledDelayMillis: 20 } });
  for (const [query, label] of [['fetch=0&compile=2000', 'bytes there'], ['fetch=800', 'bytes not there']]) {
    items.reset();
    const page = await open(`/slow-encoder.html?${query}`);
    const r = await page.evaluate(async ([opts, which]) => {
      ET.init(opts);
      while (ET.getStats().loading) await new Promise((res) => setTimeout(res, 5));
      const before = ET.captureException(new Error(`before the tab was hidden (${which})`));
      // The encoder is asked for at the first error; wait for its bytes when they come at once.
      for (let i = 0; i < 100 && which === 'bytes there' && !window.__encoderBytes; i++) await new Promise((res) => setTimeout(res, 10));
      window.__setVisibility('hidden');
      const kept = localStorage.getItem('edge-telemetry.errors');
      window.__setVisibility('visible');
      await ET.ready();
      const after = ET.captureException(new Error(`after the tab was shown (${which})`));
      const ok = await ET.flush();
      return { before, after, kept, ok, stats: ET.getStats() };
    }, [o, label]);
    assert.equal(r.ok, true, label);
    assert.equal(r.kept === null, label === 'bytes there', `${label}: kept in storage only without the bytes (${r.kept})`);
    await waitItems(tid, 2);
    const all = itemsOf(tid);
    assert.deepEqual(all.map((d) => d.uuid).sort(), [r.before, r.after].sort(), `${label}: both items, each once`);
    assert.equal(r.stats.itemsDropped, 0, label);
    await page.close();
  }
});

errorsTest('a panic whose item the encoder refuses (ignoredMessages) leaves its span unmarked: no uuid names an item that was not sent', {
  pageErrors: [/^RuntimeError: unreachable/],
}, async ({ page, tid }) => {
  const o = options(tid, { ignoredMessages: ['boom from an ignored panic'] }, { batch: { scheduledDelayMillis: 5000 } });
  const ctx = await page.evaluate(async (opts) => {
    ET.init(opts);
    await ET.ready();
    window.__work = ET.startSpan('ignored-panic-work');
    F.panicUnder(window.__work, 'boom from an ignored panic');
    return window.__work.spanContext();
  }, o);
  const ok = await otlp.waitFor(() => spanNamed(tid, 'ignored-panic-work'), 5000);
  assert.ok(ok, 'the span left in the last gasp');
  const s = spanNamed(tid, 'ignored-panic-work');
  assert.equal(s.spanId, ctx.spanId);
  assert.equal(s.attrs['rollbar.item.uuid'], undefined, 'no item uuid on the span');
  assert.deepEqual(s.events || [], [], 'no exception event');
  await sleep(300);
  assert.equal(itemsOf(tid).length, 0, 'no item');
});

errorsTest('an item encoder that cannot be loaded (404): the errors that waited are counted in itemsDropped, their spans leave unmarked, and the app and the spans go on', {
  path: '/slow-encoder.html?fetch=404',
}, async ({ page, tid }) => {
  const o = options(tid);
  const r = await page.evaluate(async (opts) => {
    ET.init(opts);
    while (ET.getStats().loading) await new Promise((res) => setTimeout(res, 5));
    const s = ET.startSpan('encoder-missing');
    const uuid = ET.withSpan(s, () => ET.captureException(new Error('no encoder for this one')));
    s.end();
    const loaded = await ET.ready();
    const later = ET.captureException(new Error('and none for this one'));
    const ok = await ET.flush();
    return { uuid, later, loaded, ok, ctx: s.spanContext(), stats: ET.getStats() };
  }, o);
  assert.equal(r.loaded, true, 'the SDK itself is on');
  assert.match(r.uuid, UUID4, 'waiting for the encoder, the error had its uuid');
  assert.equal(r.later, undefined, 'once the encoder failed, nothing more is reported');
  assert.equal(r.ok, true);
  assert.equal(r.stats.itemsDropped, 2, 'both counted');
  assert.equal(r.stats.itemsSent, 0);
  const s = spansOf(tid).find((x) => x.name === 'encoder-missing');
  assert.ok(s, 'the span held for the mark was let go and exported');
  assert.equal(s.spanId, r.ctx.spanId);
  assert.equal(s.attrs['rollbar.item.uuid'], undefined, 'unmarked');
  assert.equal(itemsOf(tid).length, 0);
});
