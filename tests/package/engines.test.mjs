// The package in three browser engines (issue 17): Chromium, Firefox ESR (SpiderMonkey) and
// WebKitGTK (JavaScriptCore, Safari's engine), each driven as engines.mjs says. In each: the
// smoke path (init, a span, a fetch with traceparent to an allow-listed origin, its CLIENT
// span, the export gzipped where the engine has CompressionStream), an uncaught error parsed
// from that engine's own stack into a Rollbar item whose last frame is the throw, delivery on
// page hide (keepalive, uncompressed), and the fallback where CompressionStream is missing.
//
// Run: scripts/test-package (after scripts/setup installed firefox-esr, webkit2gtk-driver and
//      xvfb), or, once pkg/ is built,
//      cd tests/package && node --test --test-concurrency=1 engines.test.mjs
// Environment: ET_ENGINES (default "chromium,firefox,webkit"), CHROMIUM, FIREFOX,
// WEBKIT_WEBDRIVER, ET_PKG_DIR.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServers } from './server.mjs';
import { startSink } from './sink.mjs';
import { launchEngine, ENGINE_BINARIES } from './engines.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..', '..');
const PKG_DIR = path.resolve(process.env.ET_PKG_DIR || path.join(ROOT, 'pkg'));
const ENGINES = (process.env.ET_ENGINES || 'chromium,firefox,webkit').split(',').map((e) => e.trim()).filter(Boolean);
const TOKEN = 'engines-token';

const PAGE = (head = '') => `<!doctype html>
<html lang="en"><head><meta charset="utf-8" /><link rel="icon" href="data:," /><title>engines</title>${head}</head>
<body>
  <script src="/fixture.js"></script>
  <script type="module">
    import * as ET from '/pkg/index.js';
    window.ET = ET;
    window.__cs = typeof CompressionStream === 'function';
    window.__ready = true;
  </script>
</body></html>
`;

// Errors thrown from a known place; `@throw` marks the line the last frame must name.
const FIXTURE = `'use strict';
function failingWork(message) {
  throw new Error(message); // @throw
}
window.F = {
  throwLater(message) {
    setTimeout(function onTimer() {
      failingWork(message);
    });
  },
};
`;

/** 1-based line of the `@marker` line of FIXTURE, and the columns an engine may name on it:
 * from `new` (V8, SpiderMonkey) to the `(` after `Error` (JavaScriptCore). */
function fixtureAt(marker) {
  const lines = FIXTURE.split('\n');
  const i = lines.findIndex((l) => l.includes(`// @${marker}`));
  return { line: i + 1, from: lines[i].indexOf('new ') + 1, to: lines[i].indexOf('(', lines[i].indexOf('new ')) + 1 };
}

let srv;
let sink;
let items;
const results = [];
const pages = new Map([
  ['/engine.html', { html: PAGE() }],
  ['/next.html', { html: PAGE() }],
  // CompressionStream taken away before the SDK loads: the fallback every engine must have.
  ['/no-cs.html', { html: PAGE('<script>window.CompressionStream = undefined;</script>') }],
  ['/fixture.js', { html: FIXTURE, headers: { 'content-type': 'text/javascript; charset=utf-8' } }],
]);

before(async () => {
  if (!fs.existsSync(path.join(PKG_DIR, 'index.js'))) throw new Error(`missing ${PKG_DIR}/index.js: run scripts/build-pkg first`);
  for (const e of ENGINES) {
    if (!fs.existsSync(ENGINE_BINARIES[e])) throw new Error(`missing ${ENGINE_BINARIES[e]} for ${e}: scripts/setup installs it`);
  }
  srv = await startServers({ pkgDir: PKG_DIR, pages });
  sink = await startSink();
  items = await startSink({ noCapture: ['/api/1/item'] });
});

after(async () => {
  await srv?.close();
  await sink?.close();
  await items?.close();
  if (results.length) {
    console.log(`\nPackage tests per engine:\n| engine | passed | failed |\n| --- | ---: | ---: |\n${ENGINES.map((e) => {
      const mine = results.filter((r) => r.engine === e);
      return `| ${e} | ${mine.filter((r) => r.ok).length} | ${mine.filter((r) => !r.ok).length} |`;
    }).join('\n')}\n`);
  }
});

function options(tid, extra = {}) {
  return {
    serviceName: 'engines',
    endpoint: sink.origin,
    instrumentDocumentLoad: false,
    userInteractionEvents: [],
    resourceAttributes: { 'test.id': tid },
    batch: { scheduledDelayMillis: 50 },
    ...extra,
  };
}

const mine = (tid) => sink.requests.filter((q) => q.path === '/v1/traces' && q.spans.some((s) => s.resource['test.id'] === tid));
const waitFor = (pred, ms = 10_000) => sink.waitFor(pred, ms);

for (const engine of ENGINES) {
  let browser;
  const engineTest = (name, body) => test(`${engine}: ${name}`, { timeout: 90_000 }, async () => {
    browser ??= await launchEngine(engine);
    const page = await browser.newPage();
    const tid = `${engine}-${results.length}`;
    try {
      await body({ page, tid });
      results.push({ engine, name, ok: true });
    } catch (e) {
      results.push({ engine, name, ok: false });
      throw e;
    } finally {
      await page.close();
    }
  });

  engineTest('smoke: a span and a fetch under it; traceparent to the allow-listed origin matches the CLIENT span; the export arrives (gzip where CompressionStream exists)', async ({ page, tid }) => {
    await page.goto(`${srv.appOrigin}/engine.html`);
    await page.waitFor(() => window.__ready === true);
    const r = await page.evaluate(async ({ o, echo }) => {
      ET.init(o);
      // Requests made before the engine module is ready carry no trace headers.
      await ET.ready();
      const span = ET.startSpan('engine-smoke');
      const res = await ET.withSpan(span, () => fetch(echo, { method: 'POST', body: 'hello' }));
      const echoed = await res.json();
      span.end();
      const flushed = await ET.flush();
      return { traceparent: echoed.headers.traceparent, body: echoed.body, flushed, cs: window.__cs, stats: ET.getStats() };
    }, { o: options(tid, { propagateTraceHeaderCorsUrls: [srv.allowedOrigin] }), echo: `${srv.allowedOrigin}/echo/x?q=1` });
    assert.equal(r.flushed, true, JSON.stringify(r.stats));
    assert.equal(r.body, 'hello', 'the request body went through');
    const tp = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/.exec(r.traceparent || '');
    assert.ok(tp && (parseInt(tp[3], 16) & 1) === 1, `a sampled traceparent: ${r.traceparent}`);
    const reqs = mine(tid);
    const spans = reqs.flatMap((q) => q.spans);
    const root = spans.find((s) => s.name === 'engine-smoke');
    const client = spans.find((s) => s.kind === 3 || s.kind === 'SPAN_KIND_CLIENT');
    assert.ok(root && client, JSON.stringify(spans.map((s) => s.name)));
    assert.equal(client.traceId, tp[1]);
    assert.equal(client.spanId, tp[2], 'traceparent names the CLIENT span');
    assert.equal(client.parentSpanId, root.spanId);
    assert.equal(client.attrs['http.response.status_code'] ?? client.attrs['http.status_code'], 200);
    const encodings = reqs.map((q) => q.contentEncoding || 'identity');
    assert.ok(encodings.every((e) => e === (r.cs ? 'gzip' : 'identity')), `CompressionStream ${r.cs ? 'present' : 'missing'}: encodings ${encodings}`);
  });

  engineTest('errors: an uncaught error from a timer becomes one Rollbar item; the stack of this engine is parsed, its last frame the throw', async ({ page, tid }) => {
    await page.goto(`${srv.appOrigin}/engine.html`);
    await page.waitFor(() => window.__ready === true);
    await page.evaluate(async ({ o, tid }) => {
      ET.init(o);
      await ET.ready();
      window.F.throwLater(`engine boom ${tid}`);
    }, { o: options(tid, { rollbar: { accessToken: 'engines-token', endpoint: `${items.origin}/api/1/item/`, environment: 'test' } }), tid });
    const item = await items.waitFor(() => items.requests.find((q) => q.json?.data?.body?.trace?.exception?.message === `engine boom ${tid}`), 10_000);
    assert.ok(item, 'the item arrived');
    assert.equal(item.headers['x-rollbar-access-token'], TOKEN);
    const { exception, frames } = item.json.data.body.trace;
    assert.equal(exception.class, 'Error');
    const top = frames[frames.length - 1];
    const at = fixtureAt('throw');
    assert.equal(top.filename, `${srv.appOrigin}/fixture.js`, JSON.stringify(frames));
    assert.equal(top.lineno, at.line, JSON.stringify(top));
    assert.equal(top.method, 'failingWork', JSON.stringify(top));
    assert.ok(top.colno >= at.from && top.colno <= at.to, `column ${top.colno} within ${at.from}–${at.to}`);
    const caller = frames[frames.length - 2];
    assert.equal(caller && caller.method, 'onTimer', JSON.stringify(frames));
  });

  engineTest('page hide: spans queued when the page is left arrive, uncompressed (keepalive)', async ({ page, tid }) => {
    await page.goto(`${srv.appOrigin}/engine.html`);
    await page.waitFor(() => window.__ready === true);
    await page.evaluate(async (o) => {
      ET.init(o);
      await ET.ready();
      for (let i = 0; i < 40; i++) ET.startSpan(`hide-${i}`).end();
    }, options(tid, { batch: { scheduledDelayMillis: 60_000 } }));
    assert.equal(mine(tid).length, 0, 'nothing sent before the page is left');
    await page.goto(`${srv.appOrigin}/next.html`);
    assert.ok(await waitFor(() => mine(tid).flatMap((q) => q.spans).length >= 40), `40 spans arrived after the page was left (${mine(tid).flatMap((q) => q.spans).length})`);
    const reqs = mine(tid);
    assert.ok(reqs.every((q) => !q.contentEncoding), 'uncompressed on the page-hide path');
    assert.equal(new Set(reqs.flatMap((q) => q.spans.map((s) => s.spanId))).size, 40);
  });

  engineTest('without CompressionStream: exports go uncompressed and arrive', async ({ page, tid }) => {
    await page.goto(`${srv.appOrigin}/no-cs.html`);
    await page.waitFor(() => window.__ready === true);
    const r = await page.evaluate(async (o) => {
      ET.init(o);
      for (let i = 0; i < 5; i++) ET.startSpan(`plain-${i}`).end();
      return { flushed: await ET.flush(), cs: window.__cs };
    }, options(tid));
    assert.equal(r.cs, false);
    assert.equal(r.flushed, true);
    const reqs = mine(tid);
    assert.equal(reqs.flatMap((q) => q.spans).length, 5);
    assert.ok(reqs.every((q) => !q.contentEncoding), 'identity');
  });

  test(`${engine}: close`, async () => {
    await browser?.close();
  });
}
