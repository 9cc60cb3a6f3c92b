// The packed package bundled as users bundle it, driven in headless Chromium: webpack 5 with
// its default configuration (no config file; tests/package/webpack-app, built by
// scripts/test-package from the npm pack tarball). The same smoke test as the Vite build's
// first checks: the page loads with no console error, init works, a span's fetch to the page's
// origin carries the span's traceparent, one to an origin not allow-listed carries none, the
// span reaches onSpanEnd, and an error reaches Rollbar's endpoint through the item encoder
// that the bundle loads after start-up.
//
// Run: scripts/test-package, or, once the app is built,
//      cd tests/package && CHROMIUM=/usr/bin/chromium node --test bundlers.test.mjs
// Environment: CHROMIUM, ET_WEBPACK_DIST (default tests/package/webpack-app/dist).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServers } from './server.mjs';
import { launchChromium } from './chromium.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const WEBPACK_DIST = path.resolve(process.env.ET_WEBPACK_DIST || path.join(HERE, 'webpack-app', 'dist'));
const TEST_TIMEOUT = 30_000;
const TP_RE = /^00-([0-9a-f]{32})-([0-9a-f]{16})-0[0-3]$/;

let browser;
before(async () => {
  if (!fs.existsSync(path.join(WEBPACK_DIST, 'main.js'))) throw new Error(`missing ${WEBPACK_DIST}/main.js: run scripts/test-package`);
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
});

for (const [name, distDir] of [['webpack 5, default configuration', WEBPACK_DIST]]) {
  test(`${name}: the bundled package loads, traces a fetch and propagates only where allowed`, { timeout: TEST_TIMEOUT }, async () => {
    const srv = await startServers({ distDir });
    const context = await browser.newContext();
    const page = await context.newPage();
    const problems = [];
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`); });
    try {
      await page.goto(`${srv.appOrigin}/`);
      await page.waitForFunction(() => window.__ready === true, null, { timeout: 15_000 });
      const out = await page.evaluate(async (other) => {
        const ended = [];
        const started = ET.init({ serviceName: 'webpack-app', onSpanEnd: (s) => ended.push(s), instrumentDocumentLoad: false, userInteractionEvents: [], rollbar: { endpoint: '/echo/rollbar' } });
        const span = ET.startSpan('smoke');
        await ET.withSpan(span, () => fetch('/echo/webpack'));
        await ET.withSpan(span, () => fetch(`${other}/echo/webpack-other`).catch(() => undefined));
        span.end();
        await new Promise((r) => setTimeout(r, 20));
        return { started, ended, ctx: span.spanContext(), stats: ET.getStats() };
      }, srv.otherOrigin);
      assert.equal(out.started, true);
      assert.equal(out.stats.loadError, undefined, 'the wasm loaded');
      const rec = srv.requests.find((r) => r.path === '/echo/webpack');
      const m = TP_RE.exec(rec.headers.traceparent || '');
      assert.ok(m, `a traceparent on the same-origin fetch: ${rec.headers.traceparent}`);
      assert.equal(m[1], out.ctx.traceId, 'in the span\'s trace');
      const client = out.ended.find((s) => s.kind === 2 && String(s.attributes['url.full']).endsWith('/echo/webpack'));
      assert.ok(client, 'the CLIENT span reached onSpanEnd');
      assert.equal(m[2], client.spanId, 'the traceparent names the CLIENT span');
      assert.equal(client.parentSpanId, out.ctx.spanId);
      const other = srv.requests.find((r) => r.path === '/echo/webpack-other');
      assert.ok(other, 'the other origin was called');
      assert.equal(other.headers.traceparent, undefined, 'no traceparent to an origin not allow-listed');
      assert.ok(out.ended.some((s) => s.name === 'smoke'));
      // The item encoder (a second wasm module behind a dynamic import, with its .wasm found
      // through new URL(..., import.meta.url)) loads from the bundle and builds the item.
      const reported = await page.evaluate(async () => {
        const uuid = ET.captureException(new Error('through the bundle'));
        await ET.flush();
        return { uuid, stats: ET.getStats() };
      });
      const item = srv.requests.find((r) => r.path === '/echo/rollbar' && r.method === 'POST');
      assert.ok(item, `the item was posted (stats: ${JSON.stringify(reported.stats)})`);
      const data = JSON.parse(item.body).data;
      assert.equal(data.uuid, reported.uuid);
      assert.equal(data.body.trace.exception.message, 'through the bundle');
      assert.ok(data.body.trace.frames.length > 0, 'its stack was parsed');
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
      await srv.close();
    }
  });
}
