// The demo end to end: the React + Vite app in demo-frontend/ (built with the package from
// pkg/, as a user installs it) in headless Chromium, the real demo-backend process (axum,
// SQLite in memory, OpenTelemetry exporting over OTLP/HTTP) and the local collector
// (edge-collector, in memory) as the only sink for both spans and Rollbar items. Everything
// asserted below is read back from what was exported, through the collector's JSON API, and
// from its web UI (screenshots in target/test-artifacts/e2e/).
//
// 1. Same origin (how scripts/demo runs it): the backend serves demo-frontend/dist with
//    DEMO_STATIC_DIR (and its own /config.json). The document response carries
//    Server-Timing: traceparent, so the page-load span (`documentLoad`) is a child of the
//    backend's SERVER span for the document. "Load feed" gives one trace:
//    `click` (interaction root) → `GET` CLIENT (browser fetch) → `GET /api/activities/home`
//    SERVER (backend) → SQLite span, parent ids all matching; the SERVER span's parent is the
//    CLIENT span (the backend read the traceparent) and the response's Server-Timing names
//    that SERVER span in that trace.
// 2. Cross origin: the same dist served by a Node server on another port (tests/package/server.mjs)
//    with a config.json pointing apiBase at the backend, which allow-lists that origin
//    (DEMO_ALLOWED_ORIGINS). The preflight for traceparent succeeds (the fetch works, the chain
//    is the same), the backend's preflight answers are checked directly too, and a request to
//    an origin that is not allow-listed (server.mjs's `other` /echo, which records headers)
//    carries no traceparent.
// 3. Errors: #throw-error, #reject-promise, #call-failing and #render-error each give a browser
//    Rollbar item linked to an exported span of theirs; /api/fail gives a backend item with
//    the trace id of its SERVER span, the trace of the browser's CLIENT span. The collector UI
//    shows that whole trace (browser and backend spans) and links both errors to it.
//
// Run: scripts/test-package (builds everything), or, once built,
//      cd tests/package && CHROMIUM=/usr/bin/chromium node --test --test-concurrency=1 e2e.test.mjs
// Environment: CHROMIUM (default /usr/bin/chromium), ET_DEMO_DIST (default
// <repo>/demo-frontend/dist), ET_COLLECTOR_BIN (default <repo>/target/debug/edge-collector),
// ET_DEMO_BACKEND_BIN (default <repo>/target/debug/demo-backend), ET_ARTIFACTS_DIR (default
// <repo>/target/test-artifacts/e2e).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServers, closedPort } from './server.mjs';
import { launchChromium } from './chromium.mjs';
import { startProcess, stopProcess, startCollector, collectorApi, NO_KEYS } from './processes.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..', '..');
const DIST = path.resolve(process.env.ET_DEMO_DIST || path.join(ROOT, 'demo-frontend', 'dist'));
const COLLECTOR_BIN = path.resolve(process.env.ET_COLLECTOR_BIN || path.join(ROOT, 'target', 'debug', 'edge-collector'));
const BACKEND_BIN = path.resolve(process.env.ET_DEMO_BACKEND_BIN || path.join(ROOT, 'target', 'debug', 'demo-backend'));
const ARTIFACTS = path.resolve(process.env.ET_ARTIFACTS_DIR || path.join(ROOT, 'target', 'test-artifacts', 'e2e'));
const TEST_TIMEOUT = 60_000;
const HEX32 = /^[0-9a-f]{32}$/;
const HEX16 = /^[0-9a-f]{16}$/;
const BROWSER_SERVICE = 'demo-frontend';
const BACKEND_SERVICE = 'demo-backend';

let collector; // { proc, origin, stderr }
let same; // the backend serving the app: { proc, origin, stderr }
let cross; // the app served from another origin (the cross-origin test): startServers(…)
const crossPages = new Map();
let browser;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** demo-backend on a free port, SQLite in memory, spans and items to the collector. */
function startBackend(extra) {
  const env = { ...process.env, ...NO_KEYS };
  for (const k of ['DEMO_STATIC_DIR', 'DEMO_ALLOWED_ORIGINS', 'OTEL_SERVICE_NAME', 'ROLLBAR_ENDPOINT']) delete env[k];
  Object.assign(env, {
    DEMO_BACKEND_ADDR: '127.0.0.1:0',
    DEMO_DB: ':memory:',
    OTEL_EXPORTER_OTLP_ENDPOINT: collector.origin,
    OTEL_BSP_SCHEDULE_DELAY: '200',
    RUST_LOG: process.env.RUST_LOG || 'warn',
    ...extra,
  });
  return startProcess(BACKEND_BIN, [], env, /^demo-backend listening on (http:\/\/127\.0\.0\.1:\d+)/, 'demo-backend', ROOT);
}

// The collector's JSON API (set once it runs).
let getJson;
let waitApi;

/** `00-<trace>-<span>-<flags>` of a Server-Timing header → { traceId, spanId }. */
function serverTiming(header) {
  const m = /traceparent;\s*desc="?00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}"?/.exec(header || '');
  assert.ok(m, `Server-Timing with a traceparent: ${header}`);
  return { traceId: m[1], spanId: m[2] };
}

/** A new page of the demo at url, failing the test on unexpected page errors. */
async function openDemo(url) {
  const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => { if (!/^demo: /.test(e.message)) problems.push(`pageerror: ${e.message}`); });
  page.on('console', (m) => { if (m.type() === 'error' && !/demo: |status of 500/.test(m.text())) problems.push(`console.error: ${m.text()}`); });
  const response = await page.goto(url, { waitUntil: 'load' });
  // The SDK loads its module in the background: wait for it, so the first click is traced.
  await page.waitForFunction(() => window.__ready === true && window.ET && !window.ET.getStats().loading, null, { timeout: 15_000 });
  return { context, page, response, problems };
}

const flush = (page) => page.evaluate(async () => ({ ok: await window.ET.flush(), stats: window.ET.getStats() }));

/** The spans of a trace by name/kind/service helper. */
function find(spans, pred, what) {
  const hits = spans.filter(pred);
  assert.equal(hits.length, 1, `exactly one ${what} in ${JSON.stringify(spans.map((s) => [s.name, s.kind, s.service, s.spanId, s.parentSpanId]))}`);
  return hits[0];
}

/** Asserts click → GET CLIENT → `GET <route>` SERVER → SQLite span; returns them. */
function assertChain(spans, route, { root = 'click' } = {}) {
  const client = find(spans, (s) => s.service === BROWSER_SERVICE && s.kind === 'client' && s.name === 'GET' && String(s.attributes['url.full'] || s.attributes['http.url'] || '').includes(route), `browser CLIENT span for ${route}`);
  const server = find(spans, (s) => s.service === BACKEND_SERVICE && s.kind === 'server' && s.name === `GET ${route}`, `backend SERVER span GET ${route}`);
  assert.equal(server.parentSpanId, client.spanId, 'the SERVER span is a child of the browser CLIENT span: the backend read its traceparent');
  const rootSpan = spans.find((s) => s.spanId === client.parentSpanId);
  assert.ok(rootSpan, `the CLIENT span's parent ${client.parentSpanId} is in the trace`);
  if (root === 'click') {
    assert.equal(rootSpan.name, 'click', 'the CLIENT span is a child of the click interaction span');
    assert.equal(rootSpan.parentSpanId, null, 'the interaction span is the root');
    assert.equal(rootSpan.service, BROWSER_SERVICE);
  }
  const db = spans.filter((s) => s.service === BACKEND_SERVICE && s.parentSpanId === server.spanId && s.attributes['db.system.name'] === 'sqlite');
  assert.ok(db.length >= 1, `a SQLite span under the SERVER span: ${JSON.stringify(spans.map((s) => [s.name, s.parentSpanId]))}`);
  for (const s of [client, server, ...db]) assert.equal(s.traceId, rootSpan.traceId);
  return { root: rootSpan, client, server, db };
}

before(async () => {
  for (const [file, hint] of [
    [path.join(DIST, 'index.html'), 'build the demo: (cd demo-frontend && npm install && npx vite build) (or set ET_DEMO_DIST)'],
    [COLLECTOR_BIN, 'cargo build -p edge-telemetry-collector --bin edge-collector (or set ET_COLLECTOR_BIN)'],
    [BACKEND_BIN, 'cargo build -p edge-telemetry-demo-backend --bin demo-backend (or set ET_DEMO_BACKEND_BIN)'],
  ]) {
    if (!fs.existsSync(file)) throw new Error(`missing ${file}: ${hint}`);
  }
  fs.rmSync(ARTIFACTS, { recursive: true, force: true });
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  // The collector takes telemetry from the two origins the app is served from: the backend
  // (on a port chosen here, so that it can be named before the backend starts) and the
  // cross-origin test's server.
  const port = await closedPort();
  cross = await startServers({ distDir: DIST, pages: crossPages });
  collector = await startCollector(COLLECTOR_BIN, ROOT, { allowOrigins: [`http://127.0.0.1:${port}`, cross.appOrigin] });
  ({ getJson, waitApi } = collectorApi(collector.origin));
  same = await startBackend({ DEMO_STATIC_DIR: DIST, DEMO_BACKEND_ADDR: `127.0.0.1:${port}` });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await stopProcess(same?.proc);
  await stopProcess(collector?.proc);
  await cross?.close();
});

const shot = (page, name) => page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });

/** The collector UI at hash in a fresh 1400×900 context. */
async function collectorUi(hash) {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const page = await context.newPage();
  await page.goto(`${collector.origin}/${hash}`, { waitUntil: 'load' });
  return { context, page };
}

let feed; // the same-origin "load feed" trace: { traceId, root, client, server, db }

test('same origin: the backend serves the demo; the page load joins the document request\'s trace via Server-Timing; "Load feed" is one trace click → GET CLIENT → SERVER → SQLite', { timeout: TEST_TIMEOUT }, async () => {
  const { context, page, response, problems } = await openDemo(`${same.origin}/`);
  try {
    assert.equal(response.status(), 200);
    const doc = serverTiming(response.headers()['server-timing']);
    const cfg = await page.evaluate(() => window.__demoConfig);
    assert.equal(cfg.apiBase, '', 'the backend serves a same-origin config.json');
    assert.equal(cfg.collector, collector.origin, 'config.json points at the collector');

    await page.click('#load-feed');
    await page.waitForSelector('.activity');
    assert.ok(await page.locator('.activity').count() >= 1, 'the seeded activities are listed');
    const apiTrace = {
      traceId: await page.getAttribute('#feed-trace', 'data-trace-id'),
      spanId: await page.getAttribute('#feed-trace', 'data-span-id'),
    };
    assert.match(apiTrace.traceId, HEX32, 'the API response had Server-Timing');
    const { ok, stats } = await flush(page);
    assert.equal(ok, true, `flush() succeeded: ${JSON.stringify(stats)}`);
    assert.ok(stats.requestsPropagated >= 1, 'traceparent was sent');
    assert.deepEqual(problems, []);

    // The page load: documentLoad is a child of the backend's SERVER span for the document.
    const pl = await waitApi(`/api/traces/${doc.traceId}`, (j) => j.spans.some((s) => s.name === 'documentLoad') && j.spans.some((s) => s.spanId === doc.spanId), 'the page-load trace with the document SERVER span and documentLoad');
    const docServer = pl.spans.find((s) => s.spanId === doc.spanId);
    assert.equal(docServer.service, BACKEND_SERVICE);
    assert.equal(docServer.kind, 'server');
    const load = find(pl.spans, (s) => s.name === 'documentLoad', 'documentLoad span');
    assert.equal(load.service, BROWSER_SERVICE);
    assert.equal(load.parentSpanId, doc.spanId, 'documentLoad continues the Server-Timing traceparent of the document response');

    // Load feed: one trace, parent ids chained from the click to the database.
    const t = await waitApi(`/api/traces/${apiTrace.traceId}`, (j) => j.spans.some((s) => s.name === 'click') && j.spans.some((s) => s.kind === 'server') && j.spans.some((s) => s.attributes['db.system.name'] === 'sqlite'), 'the feed trace');
    const chain = assertChain(t.spans, '/api/activities/home');
    assert.equal(chain.server.spanId, apiTrace.spanId, 'the response\'s Server-Timing names the SERVER span of that trace');
    assert.equal(chain.server.attributes['http.route'], '/api/activities/home');
    assert.equal(Number(chain.server.attributes['http.response.status_code']), 200);
    assert.ok(chain.db.some((s) => /select/i.test(String(s.attributes['db.query.text'] || s.name))), 'a SELECT');
    assert.notEqual(chain.client.status.code, 'error');
    // The log lines of that click, from the page and from the backend, beside the trace.
    const withLogs = await waitApi(`/api/traces/${apiTrace.traceId}`, (j) => ['loading the feed', 'feed loaded', 'home feed served'].every((b) => j.logs.some((l) => l.body === b)), 'the browser\'s and the backend\'s log lines in the feed trace');
    const line = (body) => withLogs.logs.find((l) => l.body === body);
    assert.equal(line('loading the feed').service, BROWSER_SERVICE);
    assert.equal(line('loading the feed').spanId, chain.root.spanId, 'the page\'s line is under the click');
    assert.equal(line('feed loaded').attributes['feed.activities'] >= 1, true);
    assert.equal(line('home feed served').service, BACKEND_SERVICE);
    assert.equal(line('home feed served').spanId, chain.server.spanId, 'the backend\'s line is under its SERVER span');
    assert.equal(line('home feed served').severity, 'INFO');
    feed = { traceId: apiTrace.traceId, pageLoad: doc, ...chain };
  } finally {
    await context.close();
  }
});

test('same origin: posting the form gives a submit trace down to the INSERT', { timeout: TEST_TIMEOUT }, async () => {
  const { context, page, problems } = await openDemo(`${same.origin}/`);
  try {
    const message = `hello from the e2e test ${Date.now()}`;
    await page.fill('#post-form input[name=handle]', 'e2e');
    await page.fill('#post-form textarea[name=message]', message);
    await page.click('#post-form [type=submit]');
    await page.waitForSelector(`.activity:has-text("${message}")`);
    const traceId = await page.getAttribute('#post-trace', 'data-trace-id');
    assert.match(traceId, HEX32);
    await flush(page);
    assert.deepEqual(problems, []);
    const t = await waitApi(`/api/traces/${traceId}`, (j) => j.spans.some((s) => s.name === 'submit') && j.spans.some((s) => s.kind === 'server') && j.spans.some((s) => s.attributes['db.system.name'] === 'sqlite'), 'the post trace');
    const server = find(t.spans, (s) => s.kind === 'server' && s.name === 'POST /api/activities', 'SERVER span POST /api/activities');
    const client = t.spans.find((s) => s.spanId === server.parentSpanId);
    assert.ok(client && client.kind === 'client' && client.service === BROWSER_SERVICE, 'the SERVER span is a child of the browser CLIENT span');
    const submit = t.spans.find((s) => s.spanId === client.parentSpanId);
    assert.equal(submit && submit.name, 'submit', 'the fetch ran under the submit interaction span');
    assert.ok(t.spans.some((s) => s.parentSpanId === server.spanId && /insert/i.test(String(s.attributes['db.query.text'] || s.name))), 'an INSERT under the SERVER span');
  } finally {
    await context.close();
  }
});

test('cross origin: the app on another port, the API allow-listed: the preflight succeeds and the trace is the same chain; a request to an origin not allow-listed carries no traceparent', { timeout: TEST_TIMEOUT }, async () => {
  const srv = cross;
  const api = await startBackend({ DEMO_ALLOWED_ORIGINS: srv.appOrigin });
  try {
    crossPages.set('/config.json', {
      html: JSON.stringify({ apiBase: api.origin, collector: collector.origin, rollbarEndpoint: `${collector.origin}/api/1/item/`, serviceName: BROWSER_SERVICE }),
      headers: { 'content-type': 'application/json' },
    });
    assert.notEqual(new URL(srv.appOrigin).port, new URL(api.origin).port);

    // The backend's CORS answers, asked directly.
    const pre = await fetch(`${api.origin}/api/activities/home`, {
      method: 'OPTIONS',
      headers: { origin: srv.appOrigin, 'access-control-request-method': 'GET', 'access-control-request-headers': 'traceparent,tracestate,baggage' },
    });
    assert.ok(pre.status === 204 || pre.status === 200, `preflight status ${pre.status}`);
    assert.equal(pre.headers.get('access-control-allow-origin'), srv.appOrigin);
    const allowed = (pre.headers.get('access-control-allow-headers') || '').toLowerCase();
    for (const h of ['traceparent', 'tracestate', 'baggage']) assert.ok(allowed.includes(h), `Access-Control-Allow-Headers has ${h}: ${allowed}`);
    const denied = await fetch(`${api.origin}/api/activities/home`, {
      method: 'OPTIONS',
      headers: { origin: srv.otherOrigin, 'access-control-request-method': 'GET', 'access-control-request-headers': 'traceparent' },
    });
    assert.equal(denied.headers.get('access-control-allow-origin'), null, 'no CORS headers for an origin that is not allowed');

    const { context, page, problems } = await openDemo(`${srv.appOrigin}/`);
    try {
      assert.equal(await page.evaluate(() => window.__demoConfig.apiBase), api.origin);
      await page.click('#load-feed');
      await page.waitForSelector('.activity');
      const traceId = await page.getAttribute('#feed-trace', 'data-trace-id');
      const serverSpanId = await page.getAttribute('#feed-trace', 'data-span-id');
      assert.match(traceId, HEX32, 'Server-Timing is readable cross-origin (Access-Control-Expose-Headers)');

      // A request to an origin that is not allow-listed, under a span: no trace headers.
      const echo = await page.evaluate(async (url) => {
        const span = window.ET.startSpan('call-other-origin');
        try {
          return await window.ET.withSpan(span, () => fetch(url).then((r) => r.json()));
        } finally {
          span.end();
        }
      }, `${srv.otherOrigin}/echo/not-allowed`);
      assert.equal(echo.path, '/echo/not-allowed');
      const rec = srv.requests.filter((r) => r.origin === 'other' && r.path === '/echo/not-allowed');
      assert.ok(rec.length >= 1, 'the other origin was called');
      for (const r of rec) {
        for (const h of ['traceparent', 'tracestate', 'baggage']) assert.equal(r.headers[h], undefined, `no ${h} to the origin that is not allow-listed`);
        assert.ok(!String(r.headers['access-control-request-headers'] || '').includes('traceparent'), 'no preflight asking for traceparent');
      }

      const { ok } = await flush(page);
      assert.equal(ok, true);
      assert.deepEqual(problems, []);

      const t = await waitApi(`/api/traces/${traceId}`, (j) => j.spans.some((s) => s.name === 'click') && j.spans.some((s) => s.kind === 'server') && j.spans.some((s) => s.attributes['db.system.name'] === 'sqlite'), 'the cross-origin feed trace');
      const chain = assertChain(t.spans, '/api/activities/home');
      assert.equal(chain.server.spanId, serverSpanId);
      assert.notEqual(chain.client.status.code, 'error', 'the fetch (after its preflight) succeeded');
      const status = chain.client.attributes['http.response.status_code'] ?? chain.client.attributes['http.status_code'];
      assert.equal(Number(status), 200, 'the CLIENT span saw 200');
      assert.ok(String(chain.client.attributes['url.full'] || chain.client.attributes['http.url']).startsWith(api.origin), 'the CLIENT span called the API origin');
    } finally {
      await context.close();
    }
  } finally {
    await stopProcess(api.proc);
  }
});

let errs; // { failTrace, browserFailUuid, backendUuid, itemUuids }

test('errors: each button gives a browser Rollbar item linked to its span; /api/fail also gives a backend item in the same trace as the browser CLIENT span', { timeout: TEST_TIMEOUT }, async () => {
  const { context, page, problems } = await openDemo(`${same.origin}/`);
  try {
    await page.click('#throw-error');
    await page.click('#reject-promise');
    await page.waitForSelector('#reject-result:has-text("rejected")');
    await page.click('#call-failing');
    await page.waitForSelector('#fail-result[data-backend-uuid]:not([data-backend-uuid=""])');
    await page.click('#render-error');
    await page.waitForSelector('#fallback');
    assert.match(await page.textContent('#fallback'), /demo: a component failed to render/);
    await shot(page, 'demo-app');
    const fail = await page.$eval('#fail-result', (el) => ({ backendUuid: el.dataset.backendUuid, browserUuid: el.dataset.browserUuid, text: el.textContent }));
    assert.match(fail.text, /HTTP 500/);
    const failTrace = await page.getAttribute('#fail-trace', 'data-trace-id');
    const failServerSpan = await page.getAttribute('#fail-trace', 'data-span-id');
    const { stats } = await flush(page);
    assert.ok(stats.itemsSent >= 4, `the browser sent its four items: ${JSON.stringify(stats)}`);
    assert.deepEqual(problems, []);

    const messages = {
      throw: /demo: thrown in a click handler/,
      reject: /demo: unhandled promise rejection/,
      render: /demo: a component failed to render/,
      fail: /GET \/api\/fail answered 500/,
    };
    const groups = await waitApi('/api/errors', (j) => Object.values(messages).every((re) => j.groups.some((g) => re.test(g.message))), 'the four browser items');
    await waitApi(`/api/errors/${fail.backendUuid}`, (j) => j.uuid === fail.backendUuid, 'the backend item');
    const item = async (re) => {
      const g = groups.groups.find((x) => re.test(x.message));
      const { json } = await getJson(`/api/errors/${g.lastUuid}`);
      return json;
    };
    const browserItems = {};
    for (const [k, re] of Object.entries(messages)) {
      const it = await item(re);
      assert.match(it.traceId || '', HEX32, `${k}: the item carries a trace id`);
      assert.match(it.spanId || '', HEX16, `${k}: the item carries a span id`);
      assert.equal(it.environment, 'demo');
      browserItems[k] = it;
    }
    const backendItem = (await getJson(`/api/errors/${fail.backendUuid}`)).json;
    assert.ok(backendItem && backendItem.uuid === fail.backendUuid, `the backend item ${fail.backendUuid} is in the collector`);
    assert.equal(backendItem.traceId, failTrace, 'the backend item carries the trace id of its SERVER span (Server-Timing)');

    // Each browser item's span was exported, in the item's trace.
    const expectSpan = { throw: 'click', reject: 'demo.background-job', render: 'click', fail: 'demo.call-failing' };
    for (const [k, it] of Object.entries(browserItems)) {
      const t = await waitApi(`/api/traces/${it.traceId}`, (j) => j.spans.some((s) => s.spanId === it.spanId), `${k}: the item's span is exported`);
      const s = t.spans.find((x) => x.spanId === it.spanId);
      assert.equal(s.name, expectSpan[k], `${k}: linked to the ${expectSpan[k]} span`);
      assert.equal(s.service, BROWSER_SERVICE);
      assert.ok(t.errors.some((e) => e.uuid === it.uuid), `${k}: the trace lists its item`);
    }

    // /api/fail: browser and backend in one trace, the items of both linked to it.
    assert.equal(browserItems.fail.traceId, failTrace, 'the browser item of /api/fail is in the backend\'s trace');
    const t = await waitApi(`/api/traces/${failTrace}`, (j) => j.spans.some((s) => s.kind === 'server') && j.spans.some((s) => s.name === 'click') && j.errors.length >= 2, 'the /api/fail trace with both items');
    const chain = assertChain(t.spans, '/api/fail', { root: 'any' });
    assert.equal(chain.root.name, 'demo.call-failing');
    assert.equal(t.spans.find((s) => s.spanId === chain.root.parentSpanId)?.name, 'click', 'demo.call-failing runs under the click');
    assert.equal(chain.server.spanId, failServerSpan);
    assert.equal(chain.server.status.code, 'error', 'the SERVER span of the 500 is an error');
    if (backendItem.spanId) assert.ok(t.spans.some((s) => s.spanId === backendItem.spanId && s.service === BACKEND_SERVICE), 'the backend item names a backend span of the trace');
    assert.ok(t.errors.some((e) => e.uuid === fail.backendUuid), 'the trace lists the backend item');
    assert.ok(t.errors.some((e) => e.uuid === browserItems.fail.uuid), 'the trace lists the browser item');
    errs = { failTrace, backendUuid: fail.backendUuid, browserFailUuid: browserItems.fail.uuid, throwItem: browserItems.throw };
  } finally {
    await context.close();
  }
});

test('the collector UI shows the whole traces (browser and backend spans) and links each error to its trace; screenshots', { timeout: TEST_TIMEOUT }, async () => {
  assert.ok(feed && errs, 'the earlier tests ran');
  // The feed trace: four or more rows, nested click → GET → SERVER → DB.
  {
    const { context, page } = await collectorUi(`#/trace/${feed.traceId}`);
    try {
      await page.waitForSelector(`.span-row[data-span-id="${feed.db[0].spanId}"]`);
      const rows = await page.$$eval('.span-row', (rs) => rs.map((r) => ({ id: r.dataset.spanId, parent: r.dataset.parentSpanId, depth: Number(r.dataset.depth), service: r.dataset.service })));
      const byId = Object.fromEntries(rows.map((r) => [r.id, r]));
      assert.deepEqual([feed.root, feed.client, feed.server, feed.db[0]].map((s) => byId[s.spanId]?.depth), [0, 1, 2, 3], 'nested by parent ids');
      assert.deepEqual(new Set(rows.map((r) => r.service)), new Set([BROWSER_SERVICE, BACKEND_SERVICE]));
      const lines = await page.$$eval('.trace-logs .log-line', (ls) => ls.map((l) => l.textContent));
      assert.ok(lines.some((l) => l.includes('loading the feed') && l.includes(BROWSER_SERVICE)), lines.join(' | '));
      assert.ok(lines.some((l) => l.includes('home feed served') && l.includes(BACKEND_SERVICE)), lines.join(' | '));
      await shot(page, 'trace-load-feed');
    } finally {
      await context.close();
    }
  }
  // The page load: the backend's SERVER span for the document, documentLoad under it.
  {
    const { context, page } = await collectorUi(`#/trace/${feed.pageLoad.traceId}`);
    try {
      await page.waitForSelector(`.span-row[data-span-id="${feed.pageLoad.spanId}"]`);
      await page.waitForSelector(`.span-row[data-parent-span-id="${feed.pageLoad.spanId}"][data-service="${BROWSER_SERVICE}"]`);
      // A trace without errors has no errors section, and no stray text in its place.
      const stray = await page.evaluate(() => [...document.getElementById('view').childNodes].filter((n) => n.nodeType === Node.TEXT_NODE).map((n) => n.textContent));
      assert.deepEqual(stray, [], 'no loose text nodes (a null section once showed as "null")');
      await shot(page, 'trace-page-load');
    } finally {
      await context.close();
    }
  }
  // The /api/fail trace with its two errors, each linking to its detail page and back.
  const { context, page } = await collectorUi(`#/trace/${errs.failTrace}`);
  try {
    await page.waitForSelector('.trace-errors');
    await page.waitForSelector('.span-row >> nth=4');
    const services = await page.$$eval('.span-row', (rs) => [...new Set(rs.map((r) => r.dataset.service))]);
    assert.deepEqual(new Set(services), new Set([BROWSER_SERVICE, BACKEND_SERVICE]));
    for (const uuid of [errs.backendUuid, errs.browserFailUuid]) {
      assert.equal(await page.locator(`.trace-errors a[href="#/errors/${uuid}"]`).count(), 1, `the trace links error ${uuid}`);
    }
    await shot(page, 'trace-call-failing');

    await page.click(`.trace-errors a[href="#/errors/${errs.backendUuid}"]`);
    const link = page.locator('#error-detail a.trace-link');
    await link.waitFor();
    assert.equal(await link.getAttribute('href'), `#/trace/${errs.failTrace}`, 'the backend error links to the trace');
    await shot(page, 'error-backend');

    // A hash change: the previous error's detail stays on screen until the new one renders.
    await page.goto(`${collector.origin}/#/errors/${errs.throwItem.uuid}`);
    const want = `#/trace/${errs.throwItem.traceId}`;
    await page.waitForFunction((href) => {
      const a = document.querySelector('#error-detail a.trace-link');
      return a && a.getAttribute('href') === href;
    }, want, { timeout: 10_000 }).catch(() => {});
    assert.equal(await page.locator('#error-detail a.trace-link').getAttribute('href'), want, 'the browser error links to its trace');
    await shot(page, 'error-browser');

    await page.goto(`${collector.origin}/#/errors`);
    await page.waitForSelector('.error-group >> nth=4');
    await shot(page, 'errors');
  } finally {
    await context.close();
  }
});
