// Logs (issue 16) of the built npm package pkg/, in headless Chromium, against the OTLP sink
// in sink.mjs: `log.*` records at /v1/logs with the active span's ids, console capture
// (rendering, no loops, the SDK's own output left out), calls before the module is ready,
// the page-hide path, where logs go for each endpoint option, and init's errors. Every body
// is also captured (ET_OTLP_CAPTURE_DIR) and decoded with the official OTLP definitions by
// core/tests/otlp_captured.rs.
//
// Run: node --test tests/package/logs.test.mjs (after scripts/build-pkg; from the repo root)

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServers } from './server.mjs';
import { launchChromium } from './chromium.mjs';
import { startSink } from './sink.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..', '..');
const PKG_DIR = path.resolve(process.env.ET_PKG_DIR || path.join(ROOT, 'pkg'));
const HEX32 = /^[0-9a-f]{32}$/;
const HEX16 = /^[0-9a-f]{16}$/;
const MAX_BODY = 16 * 1024;

let srv;
let sink;
let browser;
const pages = new Map();

// init from ?cfg=<json> at import, before the module is ready, and records around it: one
// before init, one under a span started before the module is ready, one after, one from
// the console.
const EARLY_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8" /><link rel="icon" href="data:," /><title>early</title></head>
<body><script type="module">
  import * as ET from '/pkg/index.js';
  window.ET = ET;
  ET.log.info('before init');
  ET.init(JSON.parse(new URLSearchParams(location.search).get('cfg')));
  const span = ET.startSpan('early-span');
  ET.withSpan(span, () => ET.log.warn('early under span', { 'n': 1 }));
  window.__earlySpan = span;
  ET.log.error({ early: true });
  console.error('early console');
  span.end();
  ET.ready().then(() => { window.__earlyContext = span.spanContext(); window.__ready = true; });
</script></body></html>`;

const NAV_SRC = `<!doctype html>
<html lang="en"><head><meta charset="utf-8" /><link rel="icon" href="data:," /><title>nav source</title></head>
<body><script type="module">
  import * as ET from '/pkg/index.js';
  window.ET = ET;
  ET.init(JSON.parse(new URLSearchParams(location.search).get('cfg')));
  ET.ready().then(() => { window.__ready = true; });
</script></body></html>`;

const NAV_DST = `<!doctype html><html lang="en"><head><meta charset="utf-8" /><link rel="icon" href="data:," /><title>nav dst</title></head><body>dst</body></html>`;

before(async () => {
  if (!fs.existsSync(path.join(PKG_DIR, 'index.js'))) throw new Error(`missing ${PKG_DIR}/index.js: run scripts/build-pkg first`);
  // Rollbar items go to the same sink; only OTLP bodies are captured for the decode test.
  sink = await startSink({ noCapture: ['/api/1/item'] });
  const routes = new Map([['/otlp', sink.handle]]);
  pages.set('/early.html', { html: EARLY_PAGE });
  pages.set('/nav-src.html', { html: NAV_SRC });
  pages.set('/nav-dst.html', { html: NAV_DST });
  srv = await startServers({ pkgDir: PKG_DIR, pages, routes });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await srv?.close();
  await sink?.close();
});

let seq = 0;
function options(tid, extra = {}) {
  return {
    serviceName: 'shop-web',
    endpoint: sink.origin,
    instrumentDocumentLoad: false,
    userInteractionEvents: [],
    resourceAttributes: { 'test.id': tid },
    batch: { scheduledDelayMillis: 20 },
    ...extra,
  };
}

const logsOf = (tid) => sink.logs().filter((r) => r.resource['test.id'] === tid);
const cfgQuery = (o) => `cfg=${encodeURIComponent(JSON.stringify(o))}`;

/** Runs body({ page, open, consoleLines, tid }) in a fresh context; fails on page errors. */
function pageTest(name, body, { path: pagePath = '/plain.html', timeout = 20_000 } = {}) {
  test(name, { timeout }, async () => {
    sink.reset();
    const tid = `l${++seq}`;
    const context = await browser.newContext();
    const problems = [];
    const consoleLines = [];
    const open = async (p, { wait = true } = {}) => {
      const page = await context.newPage();
      page.on('pageerror', (e) => problems.push(`pageerror: ${e.stack || e.message}`));
      page.on('console', (m) => consoleLines.push({ type: m.type(), text: m.text() }));
      await page.goto(srv.appOrigin + p, { waitUntil: 'load' });
      if (wait) await page.waitForFunction(() => window.__ready === true, null, { timeout: 10_000 });
      return page;
    };
    try {
      const page = pagePath ? await open(pagePath) : undefined;
      await body({ page, open, consoleLines, tid, context });
      assert.deepEqual(problems, [], 'page errors');
      assert.deepEqual(sink.requests.filter((q) => q.decodeError).map((q) => q.decodeError), [], 'bodies decode');
    } finally {
      await context.close();
    }
  });
}

pageTest('log.* reach /v1/logs with severities, attributes, the active span\'s ids and the resource; non-strings are rendered', async ({ page, tid }) => {
  const r = await page.evaluate(async (o) => {
    ET.init(o);
    const span = ET.startSpan('checkout');
    ET.withSpan(span, () => {
      ET.log.info('paying', { 'order.id': 42, 'cart.items': ['a', 'b'] });
      ET.log.error(new TypeError('card declined'));
    });
    ET.log.trace('t'); ET.log.debug('d'); ET.log.warn('w'); ET.log.fatal('f');
    ET.log.info({ user: { name: 'ana' }, n: [1, 2] });
    ET.log.info('see https://shop.example/pay?card=4111111111111111&x=1');
    span.end();
    const ok = await ET.flush();
    return { ok, cx: span.spanContext(), stats: ET.getStats() };
  }, options(tid));
  assert.equal(r.ok, true);
  const logs = logsOf(tid);
  assert.equal(logs.length, 8, JSON.stringify(logs.map((l) => l.body)));
  for (const q of sink.requests.filter((x) => x.logs.length)) {
    assert.equal(q.path, '/v1/logs');
    assert.equal(q.contentEncoding, 'gzip', 'logs are compressed like spans');
  }
  const by = (body) => logs.find((l) => l.body === body);
  const paying = by('paying');
  assert.equal(paying.traceId, r.cx.traceId);
  assert.equal(paying.spanId, r.cx.spanId);
  assert.equal(paying.flags & 1, 1, 'sampled');
  assert.equal(paying.severityNumber, 9);
  assert.equal(paying.severityText, 'INFO');
  assert.equal(paying.attrs['order.id'], 42);
  assert.deepEqual(paying.attrs['cart.items'], ['a', 'b']);
  assert.match(paying.attrs['session.id'], HEX32);
  assert.match(paying.timeUnixNano, /^[1-9][0-9]{18}$/);
  assert.equal(paying.resource['service.name'], 'shop-web');
  assert.equal(paying.resource['telemetry.sdk.name'], 'edge-telemetry');
  assert.equal(paying.scope.name, 'edge-telemetry');
  const declined = logs.find((l) => l.severityNumber === 17);
  assert.match(declined.body, /^TypeError: card declined\n/, 'an Error with its stack');
  assert.equal(declined.spanId, r.cx.spanId);
  assert.deepEqual(
    logs.map((l) => [l.severityText, l.severityNumber]).filter(([t]) => t !== 'INFO' && t !== 'ERROR'),
    [['TRACE', 1], ['DEBUG', 5], ['WARN', 13], ['FATAL', 21]],
  );
  assert.equal(by('t').traceId, undefined, 'no span active: no ids');
  assert.ok(by('{"user": {"name": "ana"}, "n": [1, 2]}'), logs.map((l) => l.body).join(' | '));
  assert.ok(by('see https://shop.example/pay?card=REDACTED&x=REDACTED'), 'URL query values are scrubbed');
  assert.equal(r.stats.logsExported, 8);
  assert.equal(r.stats.logsQueued, 8);
});

pageTest('captureConsole: the named methods become records under the active span, rendered safely, and still reach the console', async ({ page, tid, consoleLines }) => {
  const r = await page.evaluate(async (o) => {
    ET.init({ ...o, captureConsole: ['error', 'warn'] });
    const span = ET.startSpan('render');
    const cyclic = { name: 'cyc' };
    cyclic.self = cyclic;
    const throwing = { ok: 1 };
    Object.defineProperty(throwing, 'bad', { enumerable: true, get() { throw new Error('getter'); } });
    const revoked = Proxy.revocable({}, {});
    revoked.revoke();
    // An array Proxy whose length getter throws, logged directly and through the console.
    const hostile = new Proxy([1], { get(t, k) { if (k === 'length') throw new Error('no length'); return t[k]; } });
    ET.log.info(hostile);
    ET.withSpan(span, () => {
      console.error('failed to load', 404, { url: '/api/cart' });
      console.warn(cyclic, throwing, revoked.proxy, null, undefined, Symbol('s'), () => 1);
    });
    console.log('not captured');
    console.info('not captured either');
    console.error('x'.repeat(100_000));
    span.end();
    await ET.flush();
    return { cx: span.spanContext() };
  }, options(tid));
  const all = logsOf(tid);
  assert.equal(all[0].body, '[Thrown]', 'a value that throws while rendered: never into the page');
  const logs = all.slice(1);
  assert.equal(logs.length, 3, logs.map((l) => l.body.slice(0, 80)).join(' | '));
  const [a, b, c] = logs;
  assert.equal(a.body, 'failed to load 404 {"url": "/api/cart"}');
  assert.equal(a.severityText, 'ERROR');
  assert.equal(a.spanId, r.cx.spanId);
  assert.equal(b.severityText, 'WARN');
  assert.equal(b.body, '{"name": "cyc", "self": [Circular]} {"ok": 1, "bad": [Thrown]} [Thrown] null undefined Symbol(s) [Function]');
  assert.equal(c.body.length, MAX_BODY, 'huge strings are capped');
  assert.equal(c.traceId, undefined);
  assert.ok(consoleLines.some((l) => l.type === 'error' && l.text === 'failed to load 404 [object Object]') || consoleLines.some((l) => l.type === 'error' && l.text.startsWith('failed to load 404')), 'the console still shows the call');
  assert.ok(consoleLines.some((l) => l.type === 'log' && l.text === 'not captured'));
});

pageTest('no loops: the SDK\'s own debug lines are not captured, a getter that logs while its object is rendered adds nothing, and a page wrapper calling log.* stays finite', async ({ page, tid, consoleLines }) => {
  const r = await page.evaluate(async (o) => {
    ET.init({ ...o, debug: true, captureConsole: ['debug', 'log', 'info', 'warn', 'error'] });
    const noisy = {};
    Object.defineProperty(noisy, 'x', { enumerable: true, get() { console.error('from a getter'); return 1; } });
    console.warn(noisy);
    // A page that forwards its console to log.* as well (after init).
    const pageError = console.error;
    console.error = (...args) => { ET.log.error(`forwarded: ${args.join(' ')}`); pageError.apply(console, args); };
    console.error('boom');
    await ET.flush();
    await new Promise((res) => setTimeout(res, 500));
    await ET.flush();
    return ET.getStats();
  }, options(tid));
  const bodies = logsOf(tid).map((l) => l.body);
  assert.deepEqual(bodies.sort(), ['boom', 'forwarded: boom', '{"x": 1}'].sort());
  assert.ok(consoleLines.some((l) => l.type === 'debug' && l.text.startsWith('edge-telemetry: exporting')), 'debug lines were written');
  assert.ok(!bodies.some((b) => b.startsWith('edge-telemetry')), 'and not captured');
  assert.equal(r.logsQueued, 3);
});

pageTest('calls before the module is ready: kept, made at their time under the span active then, console included', async ({ open, tid }) => {
  const page = await open(`/early.html?${cfgQuery(options(tid, { captureConsole: ['error'] }))}`);
  const cx = await page.evaluate(() => window.__earlyContext);
  await page.evaluate(() => ET.flush());
  const logs = logsOf(tid);
  // A call before init is kept too when init follows before the module is ready (as span
  // calls are): the module replays them all once init has configured it.
  assert.deepEqual(logs.map((l) => l.body), ['before init', 'early under span', '{"early": true}', 'early console']);
  assert.equal(logs[1].spanId, cx.spanId);
  assert.equal(logs[1].traceId, cx.traceId);
  assert.equal(logs[1].attrs.n, 1);
  assert.equal(logs[2].traceId, undefined);
  assert.ok(BigInt(logs[0].timeUnixNano) <= BigInt(logs[3].timeUnixNano), 'made at their times, in order');
}, { path: null });

pageTest('page hide: records queued when the page navigates away arrive (keepalive, uncompressed)', async ({ open, tid }) => {
  const o = options(tid, { endpoint: '/otlp', batch: { scheduledDelayMillis: 60_000 } });
  const page = await open(`/nav-src.html?${cfgQuery(o)}`);
  await page.evaluate(() => {
    for (let i = 0; i < 200; i++) ET.log.info(`leaving ${i}`);
    location.href = '/nav-dst.html';
  }).catch((e) => {
    if (!/context was destroyed|navigation/i.test(String(e && e.message))) throw e;
  });
  await page.waitForURL(/nav-dst\.html$/, { timeout: 5000 });
  await sink.waitFor(() => logsOf(tid).length >= 200, 5000);
  const logs = logsOf(tid);
  assert.equal(new Set(logs.map((l) => l.body)).size, 200, `${logs.length} records arrived`);
  const reqs = sink.requests.filter((q) => q.logs.some((l) => l.resource['test.id'] === tid));
  assert.ok(reqs.length >= 1);
  for (const q of reqs) {
    assert.equal(q.path, '/otlp/v1/logs');
    assert.equal(q.contentEncoding, null);
    assert.ok(q.rawLength < 60 * 1024, `${q.rawLength} bytes`);
  }
}, { path: null });

pageTest('where logs go: logsEndpoint as given; endpoint ending in /v1/traces → /v1/logs; only tracesEndpoint → no logs; retries like spans', async ({ page, tid }) => {
  const send = (o) => page.evaluate(async (opts) => {
    // A fresh SDK per case: each case runs in its own frame.
    const f = document.createElement('iframe');
    document.body.append(f);
    f.contentDocument.write('<script type="module">import * as ET from "/pkg/index.js"; window.ET = ET;<\/script>');
    f.contentDocument.close();
    await new Promise((res) => { const t = setInterval(() => { if (f.contentWindow.ET) { clearInterval(t); res(); } }, 10); });
    const ET = f.contentWindow.ET;
    await ET.ready();
    ET.init(opts);
    ET.log.warn('where');
    await ET.flush();
    return ET.getStats();
  }, o);
  await send(options(tid, { logsEndpoint: `${sink.origin}/custom/logs` }));
  await send(options(tid, { endpoint: `${sink.origin}/base/v1/traces` }));
  const noLogs = await send(options(tid, { endpoint: undefined, tracesEndpoint: `${sink.origin}/t` }));
  assert.deepEqual(sink.requests.filter((q) => q.logs.length).map((q) => q.path), ['/custom/logs', '/base/v1/logs']);
  assert.equal(noLogs.logsQueued, 0);
  sink.script({ status: 503 }, { status: 429, retryAfter: '0' });
  const retried = await send(options(tid, { retry: { initialBackoffMillis: 20, maxBackoffMillis: 40 } }));
  assert.equal(retried.logsExported, 1);
  assert.equal(retried.exportRetries, 2);
});

test('init errors name captureConsole and logsEndpoint', { timeout: 20_000 }, async () => {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await page.goto(`${srv.appOrigin}/plain.html`);
    await page.waitForFunction(() => window.__ready === true);
    const errors = await page.evaluate(() => [
      { captureConsole: ['warning'] },
      { captureConsole: ['warn', 'warn'] },
      { captureConsole: 'error' },
      { logsEndpoint: 'ftp://logs.example' },
    ].map((o) => {
      try {
        ET.init(o);
        return 'no error';
      } catch (e) {
        return e.message;
      }
    }));
    assert.deepEqual(errors, [
      'edge-telemetry init: option `captureConsole[0]` must be "debug", "log", "info", "warn", "error", got "warning"',
      'edge-telemetry init: option `captureConsole[1]` repeats "warn"',
      'edge-telemetry init: option `captureConsole` must be an array of strings, got string',
      'edge-telemetry init: option `logsEndpoint` must be an http or https URL',
    ]);
  } finally {
    await context.close();
  }
});

pageTest('Rollbar telemetry: an item after a fetch, a click, a console line and a navigation carries them all in body.telemetry, scrubbed and in order', async ({ page, tid }) => {
  const r = await page.evaluate(async ({ o, api }) => {
    ET.init({ ...o, captureConsole: ['warn'], userInteractionEvents: ['click'], rollbar: { endpoint: `${o.endpoint}/api/1/item/` } });
    await ET.ready();
    const button = document.createElement('button');
    button.id = 'go';
    button.textContent = 'go';
    document.body.append(button);
    const done = new Promise((resolve) => {
      button.addEventListener('click', () => {
        fetch(`${api}/echo/cart?token=s3cret`).then((res) => res.text()).then(() => {
          console.warn('cart loaded slowly');
          ET.log.error('inventory mismatch', { sku: 7 });
          history.pushState({}, '', '/next?session=abc');
          resolve();
        });
      });
    });
    button.click();
    await done;
    const uuid = ET.captureException(new Error('after the click'));
    await ET.flush();
    return { uuid };
  }, { o: options(tid), api: srv.allowedOrigin });
  const item = sink.requests.find((q) => q.path === '/api/1/item/' && q.json && q.json.data && q.json.data.uuid === r.uuid);
  assert.ok(item, 'the item reached the Rollbar endpoint');
  const telemetry = item.json.data.body.telemetry;
  assert.ok(Array.isArray(telemetry), JSON.stringify(item.json.data.body).slice(0, 300));
  const types = telemetry.map((t) => t.type);
  const at = (type, pred) => telemetry.findIndex((t) => t.type === type && pred(t.body));
  const click = at('dom', (b) => b.subtype === 'click' && b.element === 'button#go');
  const net = at('network', (b) => b.url === `${srv.allowedOrigin}/echo/cart?token=REDACTED`);
  const warn = at('log', (b) => b.message === 'cart loaded slowly');
  const logged = at('log', (b) => b.message === 'inventory mismatch');
  const nav = at('navigation', (b) => b.to === `${srv.appOrigin}/next?session=REDACTED`);
  assert.ok(click >= 0 && net >= 0 && warn >= 0 && logged >= 0 && nav >= 0, JSON.stringify(telemetry));
  assert.ok(click < net && net < warn && warn < logged && logged < nav, `in order: ${types}`);
  const n = telemetry[net];
  assert.deepEqual([n.level, n.body.subtype, n.body.method, n.body.status_code], ['info', 'fetch', 'GET', 200]);
  assert.ok(n.body.end_time_ms >= n.body.start_time_ms && n.body.start_time_ms === n.timestamp_ms);
  assert.equal(telemetry[warn].level, 'warning');
  assert.equal(telemetry[logged].level, 'error');
  assert.equal(telemetry[nav].body.from, `${srv.appOrigin}/plain.html`);
  for (const t of telemetry) assert.equal(t.source, 'client');
  assert.ok(!JSON.stringify(telemetry).includes('s3cret') && !JSON.stringify(telemetry).includes('abc'), 'scrubbed');
});
