// The SDK's life cycle in the page, with the built package pkg/ in headless Chromium:
// `shutdown()` exports what is queued, removes every listener and timer the SDK installed
// (counted by a wrapper of EventTarget.prototype.addEventListener / removeEventListener that
// the page installs before the SDK loads), and puts `fetch` and XMLHttpRequest back exactly;
// afterwards requests go out untouched and every call is a no-op.
//
// Run: scripts/test-package, or, once pkg/ is built,
//      cd tests/package && CHROMIUM=/usr/bin/chromium node --test lifecycle.test.mjs
// Environment: CHROMIUM, ET_PKG_DIR (default <repo>/pkg).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServers } from './server.mjs';
import { launchChromium } from './chromium.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..', '..');
const PKG_DIR = path.resolve(process.env.ET_PKG_DIR || path.join(ROOT, 'pkg'));
const TEST_TIMEOUT = 30_000;

// Counts live listeners on window and document before anything else runs, and keeps the
// page's own fetch and XHR methods to compare with later.
const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8" /><link rel="icon" href="data:," /><title>lifecycle</title>
<script>
  window.__live = new Map();
  const key = (t, type, fn, o) => [t === window ? 'window' : t === document ? 'document' : 'other', type, (typeof o === 'object' && o !== null ? !!o.capture : !!o)].join(' ');
  const add = EventTarget.prototype.addEventListener;
  const remove = EventTarget.prototype.removeEventListener;
  EventTarget.prototype.addEventListener = function (type, fn, o) {
    if (this === window || this === document) {
      const k = key(this, type, fn, o);
      const set = window.__live.get(k) || new Set();
      set.add(fn);
      window.__live.set(k, set);
    }
    return add.apply(this, arguments);
  };
  EventTarget.prototype.removeEventListener = function (type, fn, o) {
    if (this === window || this === document) {
      const set = window.__live.get(key(this, type, fn, o));
      if (set) set.delete(fn);
    }
    return remove.apply(this, arguments);
  };
  window.__count = () => {
    const out = {};
    for (const [k, set] of window.__live) if (set.size) out[k] = set.size;
    return out;
  };
  window.__originals = { fetch: window.fetch, open: XMLHttpRequest.prototype.open, send: XMLHttpRequest.prototype.send, setRequestHeader: XMLHttpRequest.prototype.setRequestHeader };
</script></head>
<body><script type="module">
  import * as ET from '/pkg/index.js';
  window.ET = ET;
  ET.ready().then(() => { window.__ready = true; });
</script></body></html>
`;

let srv;
let browser;

before(async () => {
  if (!fs.existsSync(path.join(PKG_DIR, 'index.js'))) throw new Error(`missing ${PKG_DIR}/index.js: run scripts/build-pkg first`);
  srv = await startServers({ pkgDir: PKG_DIR, pages: new Map([['/lifecycle.html', { html: PAGE }]]) });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await srv?.close();
});

test('shutdown() exports what is queued, removes every listener and timer, and restores fetch and XHR exactly', { timeout: TEST_TIMEOUT }, async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  try {
    await page.goto(`${srv.appOrigin}/lifecycle.html`);
    await page.waitForFunction(() => window.__ready === true);
    const out = await page.evaluate(async (echo) => {
      const baseline = window.__count();
      ET.init({
        serviceName: 'lifecycle',
        // The app's /echo answers 200 to the export and to the items.
        tracesEndpoint: '/echo/v1/traces',
        compression: 'none',
        rollbar: { endpoint: '/echo/api/1/item/' },
        userInteractionEvents: ['click', 'submit', 'keydown'],
        propagateTraceHeaderCorsUrls: [echo],
      });
      const during = window.__count();
      const patched = {
        fetch: window.fetch !== window.__originals.fetch,
        xhr: XMLHttpRequest.prototype.send !== window.__originals.send,
      };
      // Something queued for export, a request in flight, an item.
      ET.startSpan('queued').end();
      await fetch('/echo/before');
      ET.captureMessage('before shutdown');
      const flushed = await ET.shutdown();
      const statsAfter = ET.getStats();
      const after = window.__count();
      // After shutdown: the page's own objects, requests untouched, calls are no-ops.
      await fetch('/echo/after');
      await new Promise((resolve) => {
        const x = new XMLHttpRequest();
        x.open('GET', '/echo/after-xhr');
        x.onloadend = resolve;
        x.send();
      });
      const span = ET.startSpan('after');
      span.end();
      return {
        baseline, during, after, patched, flushed, statsAfter,
        restored: {
          fetch: window.fetch === window.__originals.fetch,
          open: XMLHttpRequest.prototype.open === window.__originals.open,
          send: XMLHttpRequest.prototype.send === window.__originals.send,
          setRequestHeader: XMLHttpRequest.prototype.setRequestHeader === window.__originals.setRequestHeader,
        },
        afterSpan: span.spanContext().spanId,
        initAgain: ET.init({ serviceName: 'again' }),
        again: await ET.shutdown(),
      };
    }, `${srv.appOrigin}/echo`);
    assert.equal(out.patched.fetch && out.patched.xhr, true, 'init patched fetch and XHR');
    const added = Object.keys(out.during).filter((k) => (out.during[k] || 0) > (out.baseline[k] || 0));
    assert.ok(added.length >= 6, `init added listeners (visibilitychange, pagehide, error, unhandledrejection, click, submit, keydown…): ${JSON.stringify(out.during)}`);
    assert.deepEqual(out.after, out.baseline, `every listener the SDK added is gone (during: ${JSON.stringify(out.during)})`);
    assert.deepEqual(out.restored, { fetch: true, open: true, send: true, setRequestHeader: true });
    assert.equal(out.flushed, true, 'what was queued was exported before the SDK stopped');
    assert.equal(out.afterSpan, '0000000000000000', 'a span after shutdown is a no-op span');
    assert.equal(out.initAgain, false, 'init after shutdown does nothing');
    assert.equal(out.again, true, 'a second shutdown resolves at once');

    const rec = (p) => srv.requests.filter((r) => r.origin === 'app' && r.path === p);
    assert.equal(rec('/echo/before').length, 1);
    assert.ok(rec('/echo/before')[0].headers.traceparent, 'before shutdown the request carried a traceparent');
    for (const p of ['/echo/after', '/echo/after-xhr']) {
      assert.equal(rec(p).length, 1, p);
      assert.equal(rec(p)[0].headers.traceparent, undefined, `${p}: untouched after shutdown`);
    }
    const spans = rec('/echo/v1/traces').map((r) => r.body).join('\n');
    assert.match(spans, /"queued"/, 'the span queued before shutdown was exported');
    assert.match(spans, /"GET"/, 'and the fetch span');
    assert.doesNotMatch(spans, /"after"/, 'nothing after shutdown');
    assert.equal(rec('/echo/api/1/item/').length, 1, 'the item was sent');
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test("every wasm export takes at most the seven arguments index.js's guard passes on", { timeout: TEST_TIMEOUT }, async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  try {
    await page.goto(`${srv.appOrigin}/lifecycle.html`);
    await page.waitForFunction(() => window.__ready === true);
    const arities = await page.evaluate(async () => {
      const { engine: w } = await import('/pkg/engine.js');
      return Object.fromEntries(Object.entries(w).filter(([, f]) => typeof f === 'function' && !/^class\b/.test(Function.prototype.toString.call(f))).map(([k, f]) => [k, f.length]));
    });
    assert.ok(Object.keys(arities).length > 20, `the exports were found: ${JSON.stringify(arities)}`);
    const over = Object.entries(arities).filter(([, n]) => n > 7);
    assert.deepEqual(over, [], 'guard(fn, a, b, c, d, e, f, g) would drop arguments of these');
  } finally {
    await context.close();
  }
});
