// Package test of the built npm package pkg/ (edge-telemetry), in headless
// Chromium: once bundled by Vite (tests/package/app) and once imported as
// plain ES modules without a bundler (/plain.html on the app server).
//
// Run through scripts/test-package, which installs and builds first.
// Environment: CHROMIUM (browser binary, default /usr/bin/chromium),
// ET_PKG_DIR (default <repo>/pkg), ET_DIST_DIR (default tests/package/app/dist).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startServers, closedPort } from './server.mjs';
import { launchChromium } from './chromium.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..', '..');
const PKG_DIR = path.resolve(process.env.ET_PKG_DIR || path.join(ROOT, 'pkg'));
const DIST_DIR = path.resolve(process.env.ET_DIST_DIR || path.join(HERE, 'app', 'dist'));

const TEST_TIMEOUT = 30_000;
const TP_RE = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

const API_FUNCTIONS = ['init', 'startSpan', 'startRootSpan', 'withSpan', 'activeSpan', 'injectHeaders', 'getStats'];
const SPAN_METHODS = [
  'setAttribute', 'setAttributes', 'addEvent', 'setStatus', 'recordException',
  'updateName', 'end', 'spanContext', 'traceparent', 'isRecording',
];

let srv;
let browser;

before(async () => {
  for (const [what, file] of [
    ['the package (run scripts/build-pkg)', path.join(PKG_DIR, 'index.js')],
    ['the Vite app build (run scripts/test-package)', path.join(DIST_DIR, 'index.html')],
  ]) {
    if (!fs.existsSync(file)) throw new Error(`missing ${file}: build ${what} first`);
  }
  srv = await startServers({ distDir: DIST_DIR, pkgDir: PKG_DIR });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await srv?.close();
});

// ---------------------------------------------------------------------------
// In-page helpers, installed before any page script runs.
// ---------------------------------------------------------------------------

function pageHelpers() {
  const h = {
    spans: [],
    snapErrors: [],
    // Copy a ReadableSpan through its documented properties only.
    snap(s) {
      const copyAttrs = (a) => (a && typeof a === 'object' ? Object.assign({}, a) : a);
      return {
        name: s.name,
        kind: s.kind,
        traceId: s.traceId,
        spanId: s.spanId,
        parentSpanId: s.parentSpanId,
        traceFlags: s.traceFlags,
        traceState: s.traceState,
        startTimeUnixNano: s.startTimeUnixNano,
        endTimeUnixNano: s.endTimeUnixNano,
        attributes: copyAttrs(s.attributes),
        events: Array.from(s.events || [], (e) => ({ name: e.name, timeUnixNano: e.timeUnixNano, attributes: copyAttrs(e.attributes) })),
        links: Array.from(s.links || [], (l) => ({ traceId: l.traceId, spanId: l.spanId, attributes: copyAttrs(l.attributes) })),
        status: s.status ? { code: s.status.code, message: s.status.message } : s.status,
        droppedAttributesCount: s.droppedAttributesCount,
        droppedEventsCount: s.droppedEventsCount,
        droppedLinksCount: s.droppedLinksCount,
      };
    },
    onSpanEnd(s) {
      try {
        h.spans.push(h.snap(s));
      } catch (e) {
        h.snapErrors.push(String(e && e.message));
      }
    },
    // Client spans whose url.full contains `part`.
    client(part) {
      return h.spans.filter((s) => s.kind === 2 && String(s.attributes && s.attributes['url.full']).includes(part));
    },
    async waitFor(pred, ms = 3000) {
      const t0 = performance.now();
      for (;;) {
        const v = pred();
        if (v) return v;
        if (performance.now() - t0 > ms) return v;
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
    describeError(e) {
      return {
        isError: e instanceof Error,
        isTypeError: e instanceof TypeError,
        isDOMException: typeof DOMException !== 'undefined' && e instanceof DOMException,
        isRuntimeError: e instanceof WebAssembly.RuntimeError,
        name: e && e.name,
        message: e && typeof e.message === 'string' ? e.message : String(e),
      };
    },
    // XMLHttpRequest as a promise; resolves on load with status and body.
    xhr(method, url, { body = null, headers = {} } = {}) {
      return new Promise((resolve, reject) => {
        const x = new XMLHttpRequest();
        x.open(method, url);
        for (const [k, v] of Object.entries(headers)) x.setRequestHeader(k, v);
        x.onload = () => resolve({ status: x.status, body: x.responseText });
        x.onerror = () => reject(new Error(`xhr network error for ${url}`));
        x.onabort = () => reject(new Error(`xhr aborted for ${url}`));
        x.send(body);
      });
    },
    // One request by `transport` ('fetch' | 'xhr'), resolves with {status, body}.
    async send(transport, url) {
      if (transport === 'xhr') return h.xhr('GET', url);
      const r = await fetch(url);
      return { status: r.status, body: await r.text() };
    },
  };
  window.__h = h;
}

// ---------------------------------------------------------------------------
// Node-side helpers
// ---------------------------------------------------------------------------

/**
 * Run `body({ page })` in a fresh browser context and page loaded from
 * `pagePath` on the app origin. Fails on any page error or console error
 * that does not match one of `allowConsoleErrors` (RegExps).
 */
function pageTest(name, { path: pagePath = '/', allowConsoleErrors = [] } = {}, body) {
  test(name, { timeout: TEST_TIMEOUT }, async (t) => {
    srv.requests.length = 0;
    const context = await browser.newContext();
    const problems = [];
    try {
      const page = await context.newPage();
      page.on('pageerror', (e) => problems.push(`pageerror: ${e.stack || e.message}`));
      page.on('console', (m) => {
        if (m.type() !== 'error') return;
        const text = m.text();
        if (!allowConsoleErrors.some((re) => re.test(text))) problems.push(`console.error: ${text}`);
      });
      try {
        await page.addInitScript(pageHelpers);
        await page.goto(srv.appOrigin + pagePath, { waitUntil: 'load' });
        // A page error while loading (e.g. the wasm fails to compile) fails at once.
        let loaded = false;
        const loadError = new Promise((_, reject) => page.on('pageerror', (e) => { if (!loaded) reject(e); }));
        loadError.catch(() => {});
        await Promise.race([
          page.waitForFunction(() => window.__ready === true && typeof window.ET === 'object', null, { timeout: 10_000 }),
          loadError,
        ]).catch((e) => { throw new Error(`the package did not load on ${pagePath} (window.__ready never set): ${e.message}`); });
        loaded = true;
        await body({ page, t });
      } catch (e) {
        if (problems.length && e && typeof e === 'object') e.message += `\npage problems:\n  ${problems.join('\n  ')}`;
        throw e;
      }
      assert.deepEqual(await page.evaluate(() => window.__h.snapErrors), [], 'reading a ReadableSpan threw');
      assert.deepEqual(problems, [], 'unexpected page errors / console errors');
    } finally {
      await context.close();
    }
  });
}

/** Recorded non-preflight requests to `origin` ('app'|'allowed'|'other') with pathname `p`. */
function received(origin, p) {
  return srv.requests.filter((r) => r.origin === origin && r.path === p && r.method !== 'OPTIONS');
}

function onlyOne(origin, p) {
  const rs = received(origin, p);
  assert.equal(rs.length, 1, `expected exactly one ${origin} request to ${p}, got ${rs.length}`);
  return rs[0];
}

function traceparentValues(rec) {
  return rec.rawHeaders.filter(([k]) => k.toLowerCase() === 'traceparent').map(([, v]) => v);
}

/** Assert that `rec` carries exactly one well-formed traceparent naming `span`. */
function assertTraceparentOf(rec, span, what) {
  const values = traceparentValues(rec);
  assert.equal(values.length, 1, `${what}: expected exactly one traceparent header, got ${JSON.stringify(values)}`);
  const m = TP_RE.exec(values[0]);
  assert.ok(m, `${what}: malformed traceparent ${JSON.stringify(values[0])}`);
  assert.ok(span, `${what}: no CLIENT span was reported through onSpanEnd`);
  assert.equal(m[1], span.traceId, `${what}: traceparent trace-id must be the client span's traceId`);
  assert.equal(m[2], span.spanId, `${what}: traceparent parent-id must be the client span's spanId`);
  assert.notEqual(m[1], '0'.repeat(32), `${what}: all-zero trace id`);
  assert.notEqual(m[2], '0'.repeat(16), `${what}: all-zero span id`);
  assert.equal(typeof span.traceFlags, 'number', `${what}: traceFlags must be a number`);
  assert.equal(m[3], span.traceFlags.toString(16).padStart(2, '0'), `${what}: traceparent flags must be the span's traceFlags`);
  return { traceId: m[1], spanId: m[2], flags: m[3] };
}

function assertNoTraceparent(rec, what) {
  assert.deepEqual(traceparentValues(rec), [], `${what}: no traceparent header may be sent`);
}

function oneClientSpan(spans, part, what) {
  const found = spans.filter((s) => s.kind === 2 && String(s.attributes?.['url.full']).includes(part));
  assert.equal(found.length, 1, `${what}: expected exactly one CLIENT span whose url.full contains ${part}, got ${found.length}: ${JSON.stringify(spans.map((s) => [s.name, s.kind, s.attributes?.['url.full']]))}`);
  return found[0];
}

function assertTimes(span, what) {
  assert.match(String(span.startTimeUnixNano), /^[0-9]+$/, `${what}: startTimeUnixNano must be a decimal string`);
  assert.match(String(span.endTimeUnixNano), /^[0-9]+$/, `${what}: endTimeUnixNano must be a decimal string`);
  assert.equal(typeof span.startTimeUnixNano, 'string', `${what}: startTimeUnixNano type`);
  assert.ok(BigInt(span.endTimeUnixNano) >= BigInt(span.startTimeUnixNano), `${what}: end before start`);
  // Sane epoch time: after 2020-01-01.
  assert.ok(BigInt(span.startTimeUnixNano) > 1577836800000000000n, `${what}: start time is not a Unix epoch time in ns`);
}

function portOf(origin) {
  return Number(new URL(origin).port);
}

const escapeRe = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

// ---------------------------------------------------------------------------
// 0. Package shape (no browser)
// ---------------------------------------------------------------------------

test('0. pkg/ is an ESM npm package named edge-telemetry with typings and its wasm', { timeout: TEST_TIMEOUT }, () => {
  const pj = JSON.parse(fs.readFileSync(path.join(PKG_DIR, 'package.json'), 'utf8'));
  assert.equal(pj.name, 'edge-telemetry');
  assert.equal(pj.type, 'module', 'package.json "type" must be "module"');
  // Resolve "." the way a browser bundler would (browser/import/default conditions).
  const pick = (e) => (typeof e === 'string' || e == null ? e : pick(e.browser ?? e.import ?? e.default ?? e['.']));
  const entry = pick(pj.exports) ?? pj.module ?? pj.main;
  assert.equal(path.posix.normalize(String(entry)), 'index.js', `entry must be index.js, package.json resolves to ${entry}`);
  const types = pj.types ?? pj.typings;
  assert.equal(path.posix.normalize(String(types)), 'index.d.ts', 'typings must be index.d.ts');
  const dts = fs.readFileSync(path.join(PKG_DIR, 'index.d.ts'), 'utf8');
  for (const fn of API_FUNCTIONS) assert.match(dts, new RegExp(`\\b${fn}\\b`), `index.d.ts does not declare ${fn}`);
  for (const m of SPAN_METHODS) assert.match(dts, new RegExp(`\\b${m}\\b`), `index.d.ts does not declare Span.${m}`);

  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: PKG_DIR, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'],
  });
  const files = JSON.parse(out)[0].files.map((f) => f.path);
  for (const f of ['package.json', 'index.js', 'index.d.ts']) assert.ok(files.includes(f), `npm pack would not ship ${f}: ${files.join(', ')}`);
  assert.ok(files.some((f) => f.endsWith('.wasm')), `npm pack would ship no .wasm: ${files.join(', ')}`);
});

// ---------------------------------------------------------------------------
// a + c. Same-origin request inside withSpan (fetch, XHR)
// ---------------------------------------------------------------------------

for (const transport of ['fetch', 'xhr']) {
  const label = transport === 'fetch' ? 'a. Vite build, fetch' : 'c. Vite build, XHR';
  pageTest(`${label}: same-origin request inside withSpan carries the CLIENT span's traceparent`, {}, async ({ page }) => {
    const r = await page.evaluate(async (transport) => {
      const h = window.__h;
      const exported = Object.keys(ET).sort();
      const first = ET.init({ serviceName: 'pkg-test', onSpanEnd: h.onSpanEnd });
      const parent = ET.startSpan('parent');
      const pctx = { ...parent.spanContext() };
      const activeBefore = ET.activeSpan();
      const syncResult = ET.withSpan(parent, () => ET.activeSpan()?.spanContext().spanId);
      const activeAfter = ET.activeSpan();
      let activeInside;
      const res = await ET.withSpan(parent, () => {
        activeInside = ET.activeSpan()?.spanContext().spanId;
        return h.send(transport, '/echo?a=1&token=xyz');
      });
      parent.end();
      await h.waitFor(() => h.client('/echo').length > 0 && h.spans.some((s) => s.name === 'parent'));
      return { exported, first, pctx, syncResult, activeInside, activeBeforeIsUndefined: activeBefore === undefined, activeAfterIsUndefined: activeAfter === undefined, res, spans: h.spans };
    }, transport);

    for (const fn of API_FUNCTIONS) assert.ok(r.exported.includes(fn), `package does not export ${fn} (exports: ${r.exported.join(', ')})`);
    assert.equal(r.first, true, 'first init must return true');
    assert.equal(r.res.status, 200);
    assert.ok(r.activeBeforeIsUndefined, 'activeSpan() must be undefined before any withSpan');
    assert.equal(r.syncResult, r.pctx.spanId, 'withSpan returns fn\'s result; activeSpan() inside it is the span');
    assert.ok(r.activeAfterIsUndefined, 'activeSpan() must be undefined after a synchronous withSpan returned');
    assert.equal(r.activeInside, r.pctx.spanId, 'activeSpan() inside withSpan must be the span');

    const rec = onlyOne('app', '/echo');
    assert.equal(rec.method, 'GET');
    assert.deepEqual(rec.query, { a: '1', token: 'xyz' }, 'the request URL itself must not be altered');
    assert.equal(JSON.parse(r.res.body).path, '/echo', 'the page must get the real response');

    const client = oneClientSpan(r.spans, '/echo', transport);
    const parentSpan = r.spans.find((s) => s.name === 'parent');
    assert.ok(parentSpan, 'parent span was not reported through onSpanEnd');
    assert.equal(parentSpan.spanId, r.pctx.spanId);

    assertTraceparentOf(rec, client, transport);
    assert.equal(client.kind, 2, 'kind CLIENT');
    assert.equal(client.name, 'GET', 'client span name = HTTP method');
    assert.equal(client.parentSpanId, r.pctx.spanId, "client span's parentSpanId must be the active (parent) span's spanId");
    assert.equal(client.traceId, r.pctx.traceId, 'client span must be in the parent span\'s trace');
    assert.notEqual(client.spanId, r.pctx.spanId);

    const a = client.attributes;
    assert.equal(a['http.request.method'], 'GET');
    const full = String(a['url.full']);
    assert.ok(full.startsWith(`${srv.appOrigin}/echo?`), `url.full must be the full URL, got ${full}`);
    assert.ok(full.includes('a=REDACTED&token=REDACTED'), `url.full must redact query values, got ${full}`);
    assert.ok(!full.includes('xyz'), `url.full leaks a query value: ${full}`);
    assert.equal(a['server.address'], '127.0.0.1');
    assert.equal(a['server.port'], portOf(srv.appOrigin));
    assert.equal(a['http.response.status_code'], 200);
    assert.equal(a['error.type'], undefined, 'no error.type on success');
    assert.notEqual(client.status?.code, 2, 'a 200 must not be an error');
    assertTimes(client, transport);
    assert.ok(BigInt(client.startTimeUnixNano) >= BigInt(parentSpan.startTimeUnixNano), 'client span starts after its parent');
  });
}

// ---------------------------------------------------------------------------
// b + c. Cross-origin: not allow-listed vs allow-listed (string, RegExp, array)
// ---------------------------------------------------------------------------

for (const transport of ['fetch', 'xhr']) {
  const label = transport === 'fetch' ? 'b. fetch' : 'c. XHR';
  for (const mode of ['string', 'RegExp']) {
    pageTest(`${label}: cross-origin traceparent only to the origin allow-listed by ${mode}`, {}, async ({ page }) => {
      const r = await page.evaluate(async ({ transport, mode, allowedOrigin, otherOrigin }) => {
        const h = window.__h;
        const esc = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        const allow = mode === 'string' ? allowedOrigin : new RegExp('^' + esc(allowedOrigin) + '/');
        ET.init({ propagateTraceHeaderCorsUrls: allow, onSpanEnd: h.onSpanEnd });
        const other = await h.send(transport, `${otherOrigin}/echo/b-other?x=1`);
        const allowed = await h.send(transport, `${allowedOrigin}/echo/b-allowed?x=1`);
        await h.waitFor(() => h.client('/echo/b-other').length && h.client('/echo/b-allowed').length);
        return { other, allowed, spans: h.spans };
      }, { transport, mode, allowedOrigin: srv.allowedOrigin, otherOrigin: srv.otherOrigin });

      assert.equal(r.other.status, 200, 'request to the non-allow-listed origin must still succeed');
      assert.equal(JSON.parse(r.other.body).path, '/echo/b-other');
      const otherRec = onlyOne('other', '/echo/b-other');
      assertNoTraceparent(otherRec, `${transport} to non-allow-listed origin`);
      assert.equal(srv.requests.filter((x) => x.origin === 'other' && x.method === 'OPTIONS').length, 0,
        'no CORS preflight may be caused at the non-allow-listed origin');
      const otherSpan = oneClientSpan(r.spans, '/echo/b-other', 'non-allow-listed');
      assert.ok(String(otherSpan.attributes['url.full']).startsWith(`${srv.otherOrigin}/echo/b-other?`));
      assert.equal(otherSpan.attributes['server.port'], portOf(srv.otherOrigin));
      assert.equal(otherSpan.attributes['http.response.status_code'], 200);

      assert.equal(r.allowed.status, 200);
      const allowedRec = onlyOne('allowed', '/echo/b-allowed');
      const allowedSpan = oneClientSpan(r.spans, '/echo/b-allowed', 'allow-listed');
      assertTraceparentOf(allowedRec, allowedSpan, `${transport} to origin allow-listed by ${mode}`);
      assert.equal(allowedSpan.parentSpanId, undefined, 'no active span: the client span is a root span');
    });
  }

  pageTest(`${label}: allow-list array, string prefixes end at a path boundary`, {}, async ({ page }) => {
    const r = await page.evaluate(async ({ transport, allowedOrigin, otherOrigin }) => {
      const h = window.__h;
      ET.init({ propagateTraceHeaderCorsUrls: [/^https:\/\/never\.invalid\//, `${allowedOrigin}/echo/ok`], onSpanEnd: h.onSpanEnd });
      for (const p of ['/echo/ok', '/echo/ok/sub', '/echo/okay']) await h.send(transport, allowedOrigin + p);
      await h.send(transport, `${otherOrigin}/echo/ok`);
      await h.waitFor(() => h.spans.filter((s) => s.kind === 2).length >= 4);
      return { spans: h.spans };
    }, { transport, allowedOrigin: srv.allowedOrigin, otherOrigin: srv.otherOrigin });

    const spanFor = (origin, p) => oneClientSpan(r.spans.filter((s) => String(s.attributes?.['url.full']) === origin + p), origin + p, p);
    assertTraceparentOf(onlyOne('allowed', '/echo/ok'), spanFor(srv.allowedOrigin, '/echo/ok'), 'exact string match');
    assertTraceparentOf(onlyOne('allowed', '/echo/ok/sub'), spanFor(srv.allowedOrigin, '/echo/ok/sub'), 'prefix ending at "/"');
    assertNoTraceparent(onlyOne('allowed', '/echo/okay'), '"/echo/ok" must not match "/echo/okay"');
    assertNoTraceparent(onlyOne('other', '/echo/ok'), 'other origin');
  });
}

// ---------------------------------------------------------------------------
// b2. AWS X-Ray's header beside traceparent (addXRayTraceIdHeader)
// ---------------------------------------------------------------------------

function xrayValues(rec) {
  return rec.rawHeaders.filter(([k]) => k.toLowerCase() === 'x-amzn-trace-id').map(([, v]) => v);
}

for (const transport of ['fetch', 'xhr']) {
  pageTest(`b2. ${transport}: addXRayTraceIdHeader sends X-Amzn-Trace-Id for the same span wherever traceparent goes`, {}, async ({ page }) => {
    const r = await page.evaluate(async ({ transport, allowedOrigin, otherOrigin }) => {
      const h = window.__h;
      ET.init({ addXRayTraceIdHeader: true, propagateTraceHeaderCorsUrls: allowedOrigin, onSpanEnd: h.onSpanEnd });
      const before = Math.floor(Date.now() / 1000);
      await h.send(transport, '/echo/b2-same');
      await h.send(transport, `${allowedOrigin}/echo/b2-allowed`);
      await h.send(transport, `${otherOrigin}/echo/b2-other`);
      const after = Math.floor(Date.now() / 1000);
      await h.waitFor(() => ['/echo/b2-same', '/echo/b2-allowed', '/echo/b2-other'].every((p) => h.client(p).length));
      return { before, after, spans: h.spans };
    }, { transport, allowedOrigin: srv.allowedOrigin, otherOrigin: srv.otherOrigin });

    for (const [origin, p] of [['app', '/echo/b2-same'], ['allowed', '/echo/b2-allowed']]) {
      const rec = onlyOne(origin, p);
      const span = oneClientSpan(r.spans, p, p);
      const tp = assertTraceparentOf(rec, span, `${transport} ${p}`);
      const values = xrayValues(rec);
      assert.equal(values.length, 1, `${p}: expected one X-Amzn-Trace-Id, got ${JSON.stringify(values)}`);
      const m = /^Root=1-([0-9a-f]{8})-([0-9a-f]{24});Parent=([0-9a-f]{16});Sampled=([01])$/.exec(values[0]);
      assert.ok(m, `${p}: malformed X-Amzn-Trace-Id ${JSON.stringify(values[0])}`);
      assert.equal(m[1] + m[2], tp.traceId, `${p}: Root must be the traceparent's trace id`);
      assert.equal(m[3], tp.spanId, `${p}: Parent must be the CLIENT span's id`);
      assert.equal(m[4], String(parseInt(tp.flags, 16) & 1), `${p}: Sampled must be the sampled flag`);
      const epoch = parseInt(m[1], 16);
      assert.ok(epoch >= r.before - 1 && epoch <= r.after + 1, `${p}: the trace id must start with the epoch seconds (${epoch} not in ${r.before}..${r.after})`);
    }
    const other = onlyOne('other', '/echo/b2-other');
    assertNoTraceparent(other, 'non-allow-listed origin');
    assert.deepEqual(xrayValues(other), [], 'no X-Amzn-Trace-Id to an origin that is not allow-listed');
  });
}

pageTest('b2. without addXRayTraceIdHeader no X-Amzn-Trace-Id is sent', {}, async ({ page }) => {
  await page.evaluate(async () => {
    const h = window.__h;
    ET.init({ onSpanEnd: h.onSpanEnd });
    await fetch('/echo/b2-off');
    await h.waitFor(() => h.client('/echo/b2-off').length);
  });
  const rec = onlyOne('app', '/echo/b2-off');
  assert.equal(traceparentValues(rec).length, 1);
  assert.deepEqual(xrayValues(rec), [], 'X-Amzn-Trace-Id only when asked for');
});

// ---------------------------------------------------------------------------
// d. fetch argument shapes and bodies
// ---------------------------------------------------------------------------

pageTest('d. fetch with Request/URL inputs, Headers/pairs/record headers and every body type is sent intact', {}, async ({ page }) => {
  const r = await page.evaluate(async () => {
    const h = window.__h;
    ET.init({ onSpanEnd: h.onSpanEnd });
    const userHeaders = new Headers({ 'x-custom': 'hdrs', 'content-type': 'text/plain' });
    const userRecord = { 'x-custom': 'record' };
    const userPairs = [['x-custom', 'pairs'], ['x-second', 'two']];
    const fd = new FormData();
    fd.append('field', 'form value');
    fd.append('file', new Blob(['file content'], { type: 'text/plain' }), 'a.txt');
    const cases = {
      'request-put-json': () => fetch(new Request('/echo/d-request-put-json', {
        method: 'PUT', body: JSON.stringify({ hello: 'world', n: 1 }),
        headers: { 'content-type': 'application/json', 'x-custom': 'req' },
      })),
      'headers-string': () => fetch('/echo/d-headers-string', { method: 'POST', headers: userHeaders, body: 'plain string body' }),
      'pairs-blob': () => fetch('/echo/d-pairs-blob', { method: 'POST', headers: userPairs, body: new Blob(['blob ', 'body'], { type: 'application/octet-stream' }) }),
      'record-formdata': () => fetch('/echo/d-record-formdata', { method: 'POST', headers: userRecord, body: fd }),
      'urlsearchparams': () => fetch('/echo/d-urlsearchparams', { method: 'POST', headers: { 'x-custom': 'usp' }, body: new URLSearchParams({ k: 'v', sp: 'a b' }) }),
      'arraybuffer': () => fetch('/echo/d-arraybuffer', { method: 'PATCH', headers: { 'x-custom': 'ab' }, body: new TextEncoder().encode('array buffer body').buffer }),
      'uint8array': () => fetch('/echo/d-uint8array', { method: 'POST', headers: { 'x-custom': 'u8' }, body: new TextEncoder().encode('typed array body') }),
      'url-object': () => fetch(new URL('/echo/d-url-object?q=secret', location.href), { headers: { 'x-custom': 'url' } }),
      'request-get': () => fetch(new Request('/echo/d-request-get', { headers: new Headers({ 'x-custom': 'get' }) })),
      'request-plus-init': () => fetch(new Request('/echo/d-request-plus-init', { method: 'POST', body: 'from request', headers: { 'x-custom': 'from-request' } }), { headers: { 'x-custom': 'from-init' } }),
    };
    const results = {};
    for (const [id, run] of Object.entries(cases)) {
      try {
        const res = await run();
        results[id] = { status: res.status, body: JSON.parse(await res.text()).body };
      } catch (e) {
        results[id] = { error: h.describeError(e) };
      }
    }
    await h.waitFor(() => Object.keys(cases).every((id) => h.client('/echo/d-' + id).length > 0));
    return {
      results,
      spans: h.spans,
      callerObjectsUntouched: {
        Headers: [...userHeaders.keys()].sort(),
        record: Object.keys(userRecord),
        pairs: userPairs.length,
      },
    };
  });

  const expect = {
    'request-put-json': { method: 'PUT', body: '{"hello":"world","n":1}', headers: { 'x-custom': 'req', 'content-type': 'application/json' } },
    'headers-string': { method: 'POST', body: 'plain string body', headers: { 'x-custom': 'hdrs', 'content-type': 'text/plain' } },
    'pairs-blob': { method: 'POST', body: 'blob body', headers: { 'x-custom': 'pairs', 'x-second': 'two', 'content-type': 'application/octet-stream' } },
    'record-formdata': { method: 'POST', headers: { 'x-custom': 'record' } },
    'urlsearchparams': { method: 'POST', body: 'k=v&sp=a+b', headers: { 'x-custom': 'usp', 'content-type': 'application/x-www-form-urlencoded;charset=UTF-8' } },
    'arraybuffer': { method: 'PATCH', body: 'array buffer body', headers: { 'x-custom': 'ab' } },
    'uint8array': { method: 'POST', body: 'typed array body', headers: { 'x-custom': 'u8' } },
    'url-object': { method: 'GET', body: '', headers: { 'x-custom': 'url' }, query: { q: 'secret' } },
    'request-get': { method: 'GET', body: '', headers: { 'x-custom': 'get' } },
    'request-plus-init': { method: 'POST', body: 'from request', headers: { 'x-custom': 'from-init' } },
  };
  for (const [id, want] of Object.entries(expect)) {
    const p = `/echo/d-${id}`;
    assert.equal(r.results[id].error, undefined, `${id}: fetch rejected: ${JSON.stringify(r.results[id].error)}`);
    assert.equal(r.results[id].status, 200, `${id}: status`);
    const rec = onlyOne('app', p);
    assert.equal(rec.method, want.method, `${id}: method`);
    if ('body' in want) assert.equal(rec.body, want.body, `${id}: body`);
    assert.equal(r.results[id].body, rec.body, `${id}: page got the echoed body`);
    for (const [k, v] of Object.entries(want.headers)) assert.equal(rec.headers[k], v, `${id}: header ${k}`);
    if (want.query) assert.deepEqual(rec.query, want.query, `${id}: query`);
    const span = oneClientSpan(r.spans, p, id);
    assertTraceparentOf(rec, span, id);
    assert.equal(span.name, want.method, `${id}: span name`);
    assert.equal(span.attributes['http.request.method'], want.method, `${id}: http.request.method`);
    assert.equal(span.attributes['http.response.status_code'], 200, `${id}: status attribute`);
  }
  const fd = onlyOne('app', '/echo/d-record-formdata');
  assert.match(fd.headers['content-type'], /^multipart\/form-data; boundary=/, 'FormData content-type');
  assert.match(fd.body, /name="field"\r\n\r\nform value\r\n/, 'FormData text field');
  assert.match(fd.body, /name="file"; filename="a.txt"\r\nContent-Type: text\/plain\r\n\r\nfile content\r\n/, 'FormData file field');
  const urlSpan = oneClientSpan(r.spans, '/echo/d-url-object', 'url-object');
  assert.equal(urlSpan.attributes['url.full'], `${srv.appOrigin}/echo/d-url-object?q=REDACTED`);
  assert.deepEqual(r.callerObjectsUntouched, { Headers: ['content-type', 'x-custom'], record: ['x-custom'], pairs: 2 },
    "the caller's headers objects must not be modified by the instrumentation");
});

// ---------------------------------------------------------------------------
// e. Errors: HTTP error status, network error, abort
// ---------------------------------------------------------------------------

pageTest('e. fetch/XHR 4xx/5xx responses give ERROR client spans with error.type', {
  allowConsoleErrors: [/Failed to load resource: the server responded with a status of (500|404)/],
}, async ({ page }) => {
  const r = await page.evaluate(async () => {
    const h = window.__h;
    ET.init({ onSpanEnd: h.onSpanEnd });
    const f500 = await fetch('/echo/e-fetch-500?status=500');
    const f404 = await fetch('/echo/e-fetch-404?status=404');
    const x500 = await h.xhr('GET', '/echo/e-xhr-500?status=500');
    await h.waitFor(() => ['e-fetch-500', 'e-fetch-404', 'e-xhr-500'].every((p) => h.client('/echo/' + p).length));
    return { f500: f500.status, f404: f404.status, x500: x500.status, spans: h.spans };
  });
  assert.equal(r.f500, 500, 'the 500 response must reach the page');
  assert.equal(r.f404, 404);
  assert.equal(r.x500, 500);
  for (const [p, code] of [['/echo/e-fetch-500', 500], ['/echo/e-fetch-404', 404], ['/echo/e-xhr-500', 500]]) {
    const s = oneClientSpan(r.spans, p, p);
    assert.equal(s.status?.code, 2, `${p}: client span status must be ERROR (2)`);
    assert.equal(s.attributes['error.type'], String(code), `${p}: error.type`);
    assert.equal(s.attributes['http.response.status_code'], code, `${p}: http.response.status_code`);
    assertTraceparentOf(onlyOne('app', p), s, p);
  }
});

pageTest('e. fetch/XHR network error: the same TypeError reaches the page, client span is ERROR', {
  allowConsoleErrors: [/Failed to load resource: net::ERR_/],
}, async ({ page }) => {
  const port = await closedPort();
  const r = await page.evaluate(async (url) => {
    const h = window.__h;
    const capture = async (f) => { try { await f(); return null; } catch (e) { return h.describeError(e); } };
    const native = await capture(() => fetch(url + '?native'));
    ET.init({ onSpanEnd: h.onSpanEnd, propagateTraceHeaderCorsUrls: /127\.0\.0\.1/ });
    const instrumented = await capture(() => fetch(url + '?instrumented'));
    const xhr = await capture(() => h.xhr('GET', url + '?xhr'));
    await h.waitFor(() => h.client('instrumented').length && h.client('xhr').length);
    return { native, instrumented, xhr, spans: h.spans };
  }, `http://127.0.0.1:${port}/echo/e-network`);

  assert.ok(r.native, 'sanity: uninstrumented fetch to a closed port must reject');
  assert.ok(r.instrumented, 'instrumented fetch to a closed port must reject');
  assert.equal(r.instrumented.isTypeError, true, `rejection must be a TypeError, got ${JSON.stringify(r.instrumented)}`);
  assert.deepEqual(r.instrumented, r.native, 'rejection must be the same as without the SDK');
  assert.match(String(r.xhr?.message), /xhr network error/, 'XHR must still fire its error event');
  for (const part of ['instrumented', 'xhr']) {
    const s = oneClientSpan(r.spans, part, part);
    assert.equal(s.status?.code, 2, `${part}: network error client span status must be ERROR (2)`);
    assert.equal(typeof s.attributes['error.type'], 'string', `${part}: error.type must be set on a network error`);
    assert.ok(s.attributes['error.type'].length > 0, `${part}: error.type must be non-empty`);
    assert.equal(s.attributes['http.response.status_code'], undefined, `${part}: no status code without a response`);
    assertTimes(s, part);
  }
});

pageTest('e. aborted fetch: the AbortError reaches the page unchanged, client span is not ERROR', {}, async ({ page }) => {
  const r = await page.evaluate(async () => {
    const h = window.__h;
    const abortRun = async (p) => {
      const c = new AbortController();
      const pending = fetch(p, { signal: c.signal });
      await h.sleep(150);
      c.abort();
      try {
        await pending;
        return { resolved: true };
      } catch (e) {
        return { ...h.describeError(e), isReason: e === c.signal.reason };
      }
    };
    const native = await abortRun('/echo/e-abort-native?delay=3000');
    ET.init({ onSpanEnd: h.onSpanEnd });
    const instrumented = await abortRun('/echo/e-abort?delay=3000');
    const ended = await h.waitFor(() => h.client('/echo/e-abort?').length > 0, 3000);
    // A request aborted before it was sent.
    const c2 = new AbortController();
    c2.abort();
    let early;
    try { await fetch('/echo/e-abort-early', { signal: c2.signal }); early = { resolved: true }; } catch (e) { early = { ...h.describeError(e), isReason: e === c2.signal.reason }; }
    return { native, instrumented, early, ended: !!ended, spans: h.spans };
  });
  assert.equal(r.native.name, 'AbortError', 'sanity: native abort');
  assert.equal(r.instrumented.name, 'AbortError', `aborted fetch must reject with AbortError, got ${JSON.stringify(r.instrumented)}`);
  assert.deepEqual(r.instrumented, r.native, 'the rejection must be the same as without the SDK (the signal\'s reason)');
  assert.equal(r.early.name, 'AbortError', `pre-aborted fetch must reject with AbortError, got ${JSON.stringify(r.early)}`);
  assert.equal(r.early.isReason, r.native.isReason, 'pre-aborted fetch must reject with the signal\'s reason');
  assert.ok(r.ended, 'the aborted fetch\'s client span must end');
  const s = oneClientSpan(r.spans, '/echo/e-abort?', 'aborted fetch');
  assert.notEqual(s.status?.code, 2, 'an aborted fetch is not an error');
  assert.equal(received('app', '/echo/e-abort-early').length, 0, 'a pre-aborted fetch must not be sent');
  assertTraceparentOf(onlyOne('app', '/echo/e-abort'), s, 'aborted fetch');
});

// ---------------------------------------------------------------------------
// f. instrumentFetch / instrumentXhr: false
// ---------------------------------------------------------------------------

for (const off of ['fetch', 'xhr']) {
  const on = off === 'fetch' ? 'xhr' : 'fetch';
  const option = off === 'fetch' ? 'instrumentFetch' : 'instrumentXhr';
  pageTest(`f. ${option}: false: ${off} gets no traceparent and no span, ${on} still does`, {}, async ({ page }) => {
    const r = await page.evaluate(async ({ option, off, on }) => {
      const h = window.__h;
      ET.init({ [option]: false, onSpanEnd: h.onSpanEnd });
      const a = await h.send(off, '/echo/f-off');
      const b = await h.send(on, '/echo/f-on');
      await h.waitFor(() => h.client('/echo/f-on').length);
      await h.sleep(300);
      return { a: a.status, b: b.status, spans: h.spans };
    }, { option, off, on });
    assert.equal(r.a, 200);
    assert.equal(r.b, 200);
    assertNoTraceparent(onlyOne('app', '/echo/f-off'), `${off} with ${option}: false`);
    assert.equal(r.spans.filter((s) => s.kind === 2 && String(s.attributes?.['url.full']).includes('/echo/f-off')).length, 0,
      `${option}: false must create no client span for ${off}`);
    assertTraceparentOf(onlyOne('app', '/echo/f-on'), oneClientSpan(r.spans, '/echo/f-on', on), `${on} still instrumented`);
  });
}

// ---------------------------------------------------------------------------
// g. Hostile input
// ---------------------------------------------------------------------------

pageTest('g. hostile arguments to every function and Span method never throw; the SDK keeps working', {}, async ({ page, t }) => {
  const r = await page.evaluate(async ({ API_FUNCTIONS, SPAN_METHODS }) => {
    const h = window.__h;
    const big = 'x'.repeat(1_000_000);
    const hostile = [
      ['undefined', undefined], ['null', null], ['{}', {}], ['[]', []], ['Symbol', Symbol('x')],
      ['1M string', big], ['NaN', NaN], ['-1', -1], ['function', () => {}],
      ['throwing Proxy', new Proxy({}, { get() { throw new Error('boom'); } })],
    ];
    const first = ET.init({ onSpanEnd: (s) => { if (s.kind === 2) h.onSpanEnd(s); } });
    const statsBefore = ET.getStats();
    const validSpan = ET.startSpan('valid-target');
    // Valid values for the positions that are not under test.
    const fnDefaults = {
      init: [{}],
      startSpan: ['hostile-test', {}],
      startRootSpan: ['hostile-test', {}],
      withSpan: [validSpan, () => 42],
      activeSpan: [undefined],
      injectHeaders: [{}, location.origin + '/x'],
      getStats: [undefined],
    };
    const methodDefaults = {
      setAttribute: ['k', 'v'],
      setAttributes: [{ k: 'v' }],
      addEvent: ['ev', { a: 1 }, undefined],
      setStatus: [{ code: 1 }],
      recordException: [new Error('e'), undefined],
      updateName: ['n'],
      end: [undefined],
      spanContext: [undefined],
      traceparent: [undefined],
      isRecording: [undefined],
    };
    const setters = new Set(['setAttribute', 'setAttributes', 'addEvent', 'setStatus', 'updateName']);
    // Hostile values one level down, inside option / attribute objects.
    const spanOptionKeys = ['kind', 'attributes', 'startTime', 'parent', 'root', 'links'];
    const nested = {
      startSpan: (v) => spanOptionKeys.map((k) => [`options.${k}`, ['n', { [k]: v }]])
        .concat([['options.attributes.k', ['n', { attributes: { k: v } }]], ['options.links[0]', ['n', { links: [v] }]]]),
      startRootSpan: (v) => spanOptionKeys.map((k) => [`options.${k}`, ['n', { [k]: v }]]),
      withSpan: (v) => [['span-like object', [{ spanContext: v, traceparent: v }, () => 1]]],
      injectHeaders: (v) => [['headers.traceparent', [{ traceparent: v }]]],
      setAttributes: (v) => [['attrs.k', [{ k: v, ok: 'fine' }]]],
      setAttribute: (v) => [['array value', ['k', [1, v]]]],
      addEvent: (v) => [['attrs.k', ['ev', { k: v }]]],
      setStatus: (v) => [['code', [{ code: v }]], ['message', [{ code: 2, message: v }]]],
    };
    const argLists = (name, defaults, value) => {
      const lists = defaults.map((_, i) => [i, defaults.map((d, j) => (i === j ? value : d))]);
      lists.push(['all', defaults.map(() => value)]);
      if (nested[name]) lists.push(...nested[name](value));
      return lists;
    };
    const thrown = [];
    const contract = [];
    let calls = 0;
    const fmt = (e) => { try { return `${e && e.name}: ${String(e && e.message).slice(0, 200)}`; } catch { return 'unprintable'; } };

    // Every exported function: the documented API plus any other exported plain function
    // (classes are skipped: calling one without `new` throws by language rule).
    const isClass = (f) => /^class\b/.test(Function.prototype.toString.call(f));
    // shutdown() turns the SDK off by design (and takes no arguments): lifecycle.test.mjs.
    const extra = Object.keys(ET).filter((k) => typeof ET[k] === 'function' && !API_FUNCTIONS.includes(k) && !isClass(ET[k]) && k !== 'shutdown');
    for (const k of extra) fnDefaults[k] = [undefined, undefined];
    for (const fn of [...API_FUNCTIONS, ...extra]) {
      for (const [label, value] of hostile) {
        for (const [pos, args] of argLists(fn, fnDefaults[fn], value)) {
          calls++;
          try {
            const ret = ET[fn](...args);
            if ((fn === 'startSpan' || fn === 'startRootSpan') && !(ret && typeof ret.end === 'function')) {
              contract.push(`${fn} arg ${pos} = ${label}: did not return a Span`);
            }
            if (fn === 'startSpan' || fn === 'startRootSpan') ret?.end?.();
          } catch (e) {
            // init is documented to throw an Error on bad options: allowed, but only an Error, not a wasm trap.
            if (fn === 'init' && e instanceof Error && !(e instanceof WebAssembly.RuntimeError)) continue;
            thrown.push(`${fn} arg ${pos} = ${label}: ${fmt(e)}`);
          }
        }
      }
    }
    const endedSpan = ET.startSpan('ended-target');
    endedSpan.end();
    for (const m of SPAN_METHODS) {
      for (const [label, value] of hostile) {
        for (const [pos, args] of argLists(m, methodDefaults[m], value)) {
          for (const state of ['live', 'ended']) {
            calls++;
            const span = state === 'live' ? ET.startSpan(`hostile-${m}`) : endedSpan;
            try {
              const ret = span[m](...args);
              if (setters.has(m) && ret !== span) contract.push(`span.${m} (${state}) arg ${pos} = ${label}: did not return the span`);
            } catch (e) {
              thrown.push(`span.${m} (${state}) arg ${pos} = ${label}: ${fmt(e)}`);
            }
            if (state === 'live') {
              try { span.end(); } catch (e) { thrown.push(`span.end after ${m}(${label} @ ${pos}): ${fmt(e)}`); }
            }
          }
        }
      }
    }
    // A throwing callback: withSpan passes the exception through and restores the context.
    const userError = new Error('user error');
    let propagated = false;
    try {
      ET.withSpan(validSpan, () => { throw userError; });
    } catch (e) {
      propagated = e === userError;
    }
    validSpan.end();

    const activeAfter = ET.activeSpan();
    const res = await fetch('/echo/g-after?k=v');
    await h.waitFor(() => h.client('/echo/g-after').length);
    const stats = ET.getStats();
    return {
      first, calls, thrown, contract, propagated, extra,
      activeAfterIsUndefined: activeAfter === undefined,
      status: res.status, spans: h.spans.filter((s) => String(s.attributes?.['url.full']).includes('/echo/g-after')),
      statsBefore: { ...statsBefore }, stats: { ...stats },
    };
  }, { API_FUNCTIONS, SPAN_METHODS });

  assert.equal(r.first, true);
  if (r.extra.length) t.diagnostic(`also called the undocumented exports: ${r.extra.join(', ')}`);
  assert.ok(r.calls > 500, `only ${r.calls} hostile calls were made`);
  assert.deepEqual(r.thrown.slice(0, 40), [], `${r.thrown.length} of ${r.calls} hostile calls threw into the page`);
  assert.deepEqual(r.contract.slice(0, 40), [], `${r.contract.length} hostile calls broke the return-value contract`);
  assert.ok(r.propagated, "withSpan must rethrow the callback's own exception unchanged");
  assert.ok(r.activeAfterIsUndefined, 'activeSpan() must be undefined outside withSpan after the hostile calls and a throwing callback');
  assert.equal(r.status, 200);
  const s = oneClientSpan(r.spans, '/echo/g-after', 'fetch after hostile calls');
  assertTraceparentOf(onlyOne('app', '/echo/g-after'), s, 'fetch after hostile calls');
  assert.equal(s.parentSpanId, undefined, 'no span may remain active after the hostile withSpan calls');
  for (const k of ['spansStarted', 'spansEnded', 'attributesDropped', 'invalidArguments', 'internalErrors']) {
    assert.equal(typeof r.stats[k], 'number', `getStats().${k} must be a number, stats: ${JSON.stringify(r.stats)}`);
  }
  assert.ok(r.stats.invalidArguments > 0, `getStats().invalidArguments must count the hostile calls: ${JSON.stringify(r.stats)}`);
  assert.ok(r.stats.spansStarted > r.statsBefore.spansStarted, 'getStats().spansStarted must grow');
});

// ---------------------------------------------------------------------------
// h. init option validation
// ---------------------------------------------------------------------------

pageTest('h. init rejects bad options with an Error naming the field; a later init returns false and changes nothing', {}, async ({ page }) => {
  const r = await page.evaluate(async () => {
    const h = window.__h;
    // Every rule of core's config::schema, as options.js applies it (synchronously, the wasm
    // need not be there).
    const bad = [
      ['serviceName', { serviceName: 42 }],
      ['serviceName', { serviceName: ' ' }],
      ['serviceName', { serviceName: 'x'.repeat(257) }],
      ['instrumentFetch', { instrumentFetch: 'yes' }],
      ['propagateTraceHeaderCorsUrls', { propagateTraceHeaderCorsUrls: 42 }],
      ['propagateTraceHeaderCorsUrls[1]', { propagateTraceHeaderCorsUrls: ['/a', ''] }],
      ['spanLimits.attributeCountLimit', { spanLimits: { attributeCountLimit: -1 } }],
      ['spanLimits.attributeValueLengthLimit', { spanLimits: { attributeValueLengthLimit: 0 } }],
      ['spanLimits.bogus', { spanLimits: { bogus: 1 } }],
      ['idGenerator', { idGenerator: 'uuid' }],
      ['idGenerator', { addXRayTraceIdHeader: true, idGenerator: 'w3c' }],
      ['addXRayTraceIdHeader', { addXRayTraceIdHeader: 'yes' }],
      ['onSpanEnd', { onSpanEnd: 'x' }],
      ['unknownOption', { unknownOption: 1 }],
      ['options', 'nope'],
      ['endpoint', { endpoint: 'ftp://x.example' }],
      ['endpoint', { endpoint: '' }],
      ['tracesEndpoint', { tracesEndpoint: 'http://[bad' }],
      ['apiKey', { apiKey: 42 }],
      ['dataset', { dataset: ' ' }],
      ['compression', { compression: 'br' }],
      ['headers.x-a', { headers: { 'x-a': 1 } }],
      ['batch.maxQueueSize', { batch: { maxQueueSize: 1.5 } }],
      ['batch.maxQueueSize', { batch: { maxQueueSize: 0 } }],
      ['batch.maxExportBatchSize', { batch: { maxQueueSize: 10, maxExportBatchSize: 20 } }],
      ['batch.maxExportBatchSize', { batch: { maxExportBatchSize: 4096 } }],
      ['batch.maxConcurrentExports', { batch: { maxConcurrentExports: 0 } }],
      ['retry.maxAttempts', { retry: { maxAttempts: 0 } }],
      ['retry.maxBackoffMillis', { retry: { initialBackoffMillis: 2000, maxBackoffMillis: 1000 } }],
      ['retry.jitter', { retry: { jitter: 1 } }],
      ['rollbar', { rollbar: 1 }],
      ['rollbar.accessToken', { rollbar: { accessToken: 42 } }],
      ['rollbar.endpoint', { rollbar: { endpoint: 'ftp://x.example' } }],
      ['rollbar.environment', { rollbar: { environment: 'x'.repeat(256) } }],
      ['rollbar.itemsPerMinute', { rollbar: { itemsPerMinute: -1 } }],
      ['rollbar.scrubFields', { rollbar: { scrubFields: 'password' } }],
      ['rollbar.scrubFields[0]', { rollbar: { scrubFields: [''] } }],
      ['rollbar.ignoredMessages', { rollbar: { ignoredMessages: {} } }],
      ['rollbar.beforeSend', { rollbar: { beforeSend: true } }],
      ['rollbar.person', { rollbar: { person: 'me' } }],
      ['rollbar.captureUncaught', { rollbar: { captureUncaught: 1 } }],
      ['rollbar.acessToken', { rollbar: { acessToken: 't' } }],
      ['sampleRate', { sampleRate: 0 }],
      ['sampleRate', { sampleRate: '4' }],
      ['sessionInactivityTimeoutMillis', { sessionInactivityTimeoutMillis: 0 }],
      ['userInteractionEvents', { userInteractionEvents: 'click' }],
      ['userInteractionEvents[0]', { userInteractionEvents: [''] }],
      ['resourceAttributes.k', { resourceAttributes: { k: null } }],
      ['instrumentDocumentLoad', { instrumentDocumentLoad: 1 }],
      ['debug', { get debug() { throw new Error('getter'); } }],
    ];
    const outcomes = [];
    for (const [field, options] of bad) {
      try {
        const ret = ET.init(options);
        outcomes.push({ field, threw: false, ret });
      } catch (e) {
        outcomes.push({ field, threw: true, ...h.describeError(e) });
      }
    }
    // A failed init must not have installed anything.
    await fetch('/echo/h-before');
    const second = [];
    const firstValid = ET.init({ serviceName: 'h-test', onSpanEnd: h.onSpanEnd });
    const secondValid = ET.init({ serviceName: 'other', instrumentFetch: false, onSpanEnd: (s) => second.push(s.name) });
    await fetch('/echo/h-after');
    await h.waitFor(() => h.client('/echo/h-after').length);
    await h.sleep(100);
    return { outcomes, firstValid, secondValid, secondCallbackSpans: second.length, spans: h.spans };
  });
  for (const o of r.outcomes) {
    assert.equal(o.threw, true, `init with bad ${o.field} must throw (it returned ${JSON.stringify(o.ret)})`);
    assert.equal(o.isError, true, `init with bad ${o.field} must throw an Error instance, got ${JSON.stringify(o)}`);
    assert.equal(o.isRuntimeError, false, `init with bad ${o.field} threw a wasm trap`);
    assert.ok(o.message.includes(`\`${o.field}\``), `init error for bad ${o.field} must name it; message: ${JSON.stringify(o.message)}`);
  }
  assertNoTraceparent(onlyOne('app', '/echo/h-before'), 'fetch after only failed inits');
  assert.equal(r.firstValid, true, 'the first valid init after failed ones must return true');
  assert.equal(r.secondValid, false, 'a second init must return false');
  assert.equal(r.secondCallbackSpans, 0, "the second init's onSpanEnd must never be called");
  const s = oneClientSpan(r.spans, '/echo/h-after', 'after second init');
  assertTraceparentOf(onlyOne('app', '/echo/h-after'), s, 'fetch still instrumented after a second init with instrumentFetch: false');
});

// ---------------------------------------------------------------------------
// i. No bundler: plain <script type="module"> importing /pkg/index.js
// ---------------------------------------------------------------------------

pageTest('i. plain <script type="module"> page (no bundler): same-origin fetch and XHR carry traceparent', { path: '/plain.html' }, async ({ page }) => {
  const r = await page.evaluate(async () => {
    const h = window.__h;
    const first = ET.init({ onSpanEnd: h.onSpanEnd });
    const root = ET.startRootSpan('plain-root');
    const f = await ET.withSpan(root, () => fetch('/echo/i-fetch?x=1'));
    const x = await h.xhr('GET', '/echo/i-xhr');
    const rootCtx = { ...root.spanContext() };
    const rootTp = root.traceparent();
    root.end();
    await h.waitFor(() => h.client('/echo/i-fetch').length && h.client('/echo/i-xhr').length);
    return { first, f: f.status, x: x.status, root: rootCtx, tp: rootTp, spans: h.spans };
  });
  assert.equal(r.first, true);
  assert.equal(r.f, 200);
  assert.equal(r.x, 200);
  const fs_ = oneClientSpan(r.spans, '/echo/i-fetch', 'plain fetch');
  assertTraceparentOf(onlyOne('app', '/echo/i-fetch'), fs_, 'plain page fetch');
  assert.equal(fs_.parentSpanId, r.root.spanId);
  assert.equal(fs_.attributes['url.full'], `${srv.appOrigin}/echo/i-fetch?x=REDACTED`);
  assertTraceparentOf(onlyOne('app', '/echo/i-xhr'), oneClientSpan(r.spans, '/echo/i-xhr', 'plain xhr'), 'plain page XHR');
  assert.equal(r.tp, `00-${r.root.traceId}-${r.root.spanId}-${r.root.traceFlags.toString(16).padStart(2, '0')}`, 'Span.traceparent() matches spanContext()');
});

pageTest('i2. url.full is the URL the browser resolved, for every form a page writes (joined to the origin, or parsed)', { path: '/plain.html' }, async ({ page }) => {
  const forms = [
    '/echo/i2-a?x=1', // the joined fast path
    '/echo/i2-b/../i2-b2?y=2', // a dot segment: parsed
    '/echo/i2-c/%2e%2e/i2-c2', // an encoded dot segment: parsed
    'echo/i2-rel', // relative to the page's path: parsed
    '/echo/i2-d?q=a b', // a character the parser encodes: parsed
    '/echo/i2-e#frag', // a fragment
  ];
  const r = await page.evaluate(async (forms) => {
    const h = window.__h;
    ET.init({ onSpanEnd: h.onSpanEnd });
    const out = [];
    for (const u of forms) {
      await fetch(u).catch(() => {});
      await h.xhr('GET', u).catch(() => {});
      out.push(new URL(u, location.href).href);
    }
    await h.waitFor(() => h.spans.filter((s) => s.kind === 2).length >= forms.length * 2);
    return { want: out, got: h.spans.filter((s) => s.kind === 2).map((s) => s.attributes['url.full']) };
  }, forms);
  // What the SDK records: the resolved URL with query values scrubbed and no fragment.
  const scrub = (u) => {
    const x = new URL(u);
    const q = [...x.searchParams.keys()].map((k) => `${k}=REDACTED`).join('&');
    return `${x.origin}${x.pathname}${q ? `?${q}` : ''}`;
  };
  assert.deepEqual(r.got, r.want.flatMap((u) => [scrub(u), scrub(u)]));
});

// ---------------------------------------------------------------------------
// j. Manual API: spans, context, injectHeaders
// ---------------------------------------------------------------------------

pageTest('j. manual spans: parenting, attributes, events, status and injectHeaders', {}, async ({ page }) => {
  const r = await page.evaluate(async () => {
    const h = window.__h;
    const all = [];
    ET.init({ onSpanEnd: (s) => all.push(h.snap(s)) });
    const root = ET.startRootSpan('root', { kind: 1, attributes: { 'a.str': 's', 'a.num': 3, 'a.bool': true } });
    const child = ET.startSpan('child', { parent: root });
    const viaTp = ET.startSpan('via-traceparent', { parent: root.traceparent() });
    const forcedRoot = ET.withSpan(root, () => ET.startSpan('forced-root', { root: true }));
    const inherited = ET.withSpan(root, () => ET.startSpan('inherited'));
    const chained = child.setAttribute('k', 'v').setAttributes({ k2: 2 }).addEvent('ev', { e: 1 }).setStatus({ code: 2, message: 'bad' }).updateName('child-renamed');
    const headersObj = new Headers();
    const plain = {};
    const injected = ET.withSpan(child, () => [ET.injectHeaders(headersObj), ET.injectHeaders(plain)]);
    const childTp = child.traceparent();
    const recordingBefore = child.isRecording();
    const rootCtx = { ...root.spanContext() };
    const childCtx = { ...child.spanContext() };
    const rootTp = root.traceparent();
    for (const s of [inherited, forcedRoot, viaTp, child, root]) s.end();
    const recordingAfter = child.isRecording();
    await h.waitFor(() => all.length >= 5);
    return {
      all, chainedIsChild: chained === child,
      sameHeadersObj: injected[0] === headersObj, samePlain: injected[1] === plain,
      headerTp: headersObj.get('traceparent'), plainTp: plain.traceparent, childTp,
      recordingBefore, recordingAfter,
      rootCtx, childCtx, rootTp,
      rootCtxAfterEnd: { ...root.spanContext() }, rootTpAfterEnd: root.traceparent(),
    };
  });
  // Every span carries the page's session.id; the rest is what the test set.
  const sessionIds = new Set();
  for (const s of r.all) {
    assert.match(s.attributes['session.id'], /^[0-9a-f]{32}$/, `${s.name} carries session.id`);
    sessionIds.add(s.attributes['session.id']);
    delete s.attributes['session.id'];
  }
  assert.equal(sessionIds.size, 1, 'one session');
  const by = Object.fromEntries(r.all.map((s) => [s.name, s]));
  for (const n of ['root', 'child-renamed', 'via-traceparent', 'forced-root', 'inherited']) assert.ok(by[n], `span ${n} not reported (got ${Object.keys(by)})`);
  assert.equal(by.root.kind, 1);
  assert.equal(by.root.parentSpanId, undefined);
  assert.deepEqual(by.root.attributes, { 'a.str': 's', 'a.num': 3, 'a.bool': true });
  assert.equal(by['child-renamed'].parentSpanId, r.rootCtx.spanId);
  assert.equal(by['child-renamed'].traceId, r.rootCtx.traceId);
  assert.equal(by['via-traceparent'].parentSpanId, r.rootCtx.spanId);
  assert.equal(by['via-traceparent'].traceId, r.rootCtx.traceId);
  assert.equal(by.inherited.parentSpanId, r.rootCtx.spanId, 'startSpan inside withSpan takes the active span as parent');
  assert.equal(by['forced-root'].parentSpanId, undefined, 'root: true ignores the active span');
  assert.notEqual(by['forced-root'].traceId, r.rootCtx.traceId);
  assert.ok(r.chainedIsChild, 'setters return the span');
  assert.deepEqual(by['child-renamed'].attributes, { k: 'v', k2: 2 });
  assert.deepEqual(by['child-renamed'].events.map((e) => [e.name, e.attributes]), [['ev', { e: 1 }]]);
  assert.deepEqual(by['child-renamed'].status, { code: 2, message: 'bad' });
  assert.ok(r.sameHeadersObj && r.samePlain, 'injectHeaders returns the same object');
  assert.match(r.childTp, TP_RE);
  assert.equal(r.headerTp, r.childTp, 'injectHeaders(Headers) uses the active span');
  assert.equal(r.plainTp, r.childTp, 'injectHeaders(plain object) uses the active span');
  assert.equal(r.recordingBefore, true);
  assert.equal(r.recordingAfter, false);
  for (const s of r.all) assertTimes(s, s.name);
  assert.equal(r.rootCtx.spanId, by.root.spanId, 'spanContext() names the reported span');
  assert.equal(r.rootCtx.isRemote, false);
  assert.equal(r.rootTp, `00-${r.rootCtx.traceId}-${r.rootCtx.spanId}-${r.rootCtx.traceFlags.toString(16).padStart(2, '0')}`, 'traceparent() matches spanContext()');
  assert.deepEqual(r.rootCtxAfterEnd, r.rootCtx, 'spanContext() must stay the same after end()');
  assert.equal(r.rootTpAfterEnd, r.rootTp, 'traceparent() must stay the same after end()');
});

// ---------------------------------------------------------------------------
// k. What context is carried where (pkg-template/README.md, "What context is carried where")
// ---------------------------------------------------------------------------

pageTest('k. context: across await in withSpan, into .then of a fetch and XHR onload; not into a later timer', {}, async ({ page }) => {
  const r = await page.evaluate(async () => {
    const h = window.__h;
    const all = [];
    ET.init({ onSpanEnd: (s) => all.push(h.snap(s)) });
    const ids = {};

    // 1. An async function passed to withSpan: fetch after an await.
    const s1 = ET.startSpan('async-parent');
    ids.s1 = s1.spanContext().spanId;
    await ET.withSpan(s1, async () => {
      await h.sleep(5);
      await fetch('/echo?case=await');
    });
    s1.end();

    // 2. A synchronous withSpan; the second fetch starts in .then of the first.
    const s2 = ET.startSpan('then-parent');
    ids.s2 = s2.spanContext().spanId;
    let chained;
    ET.withSpan(s2, () => {
      chained = fetch('/echo?case=then-1').then(() => fetch('/echo?case=then-2'));
    });
    await chained;
    s2.end();

    // 3. An XHR's onload handler starts a fetch.
    const s3 = ET.startSpan('xhr-parent');
    ids.s3 = s3.spanContext().spanId;
    const fromOnload = new Promise((resolve) => {
      ET.withSpan(s3, () => {
        const x = new XMLHttpRequest();
        x.open('GET', '/echo?case=xhr-1');
        x.onload = () => resolve(fetch('/echo?case=xhr-2'));
        x.send();
      });
    });
    await fromOnload;
    s3.end();

    // 4. Documented limit: a timer set in a synchronous withSpan, firing when nothing is
    // pending, starts a new trace.
    const s4 = ET.startSpan('timer-parent');
    ids.s4 = s4.spanContext().spanId;
    const fromTimer = new Promise((resolve) => {
      ET.withSpan(s4, () => setTimeout(() => resolve(fetch('/echo?case=timer')), 30));
    });
    await fromTimer;
    s4.end();
    await h.waitFor(() => all.filter((s) => s.kind === 2).length >= 6);
    return { all, ids };
  });
  const clients = r.all.filter((s) => s.kind === 2);
  assert.equal(clients.length, 6, `six CLIENT spans, got ${clients.length}`);
  const parentsOf = (id) => clients.filter((s) => s.parentSpanId === id).length;
  assert.equal(parentsOf(r.ids.s1), 1, 'fetch after await inside an async withSpan is a child of its span');
  assert.equal(parentsOf(r.ids.s2), 2, 'a fetch started in .then of an instrumented fetch keeps the parent');
  assert.equal(parentsOf(r.ids.s3), 2, 'a fetch started in an instrumented XHR onload keeps the parent');
  assert.equal(parentsOf(r.ids.s4), 0, 'a timer firing after the scope closed does not inherit it (documented)');
  assert.equal(clients.filter((s) => s.parentSpanId === undefined).length, 1, 'the timer fetch starts a new trace');
});

// ---------------------------------------------------------------------------
// g2. Page code that throws while the SDK reads it (array proxies, RegExp subclasses)
// ---------------------------------------------------------------------------

pageTest('g2. throwing array proxies as times and a throwing RegExp rule leave the SDK working', {}, async ({ page }) => {
  const other = srv.otherOrigin;
  const r = await page.evaluate(async (otherOrigin) => {
    const h = window.__h;
    const all = [];
    class EvilRegExp extends RegExp {
      exec() { throw new Error('boom from exec'); }
    }
    ET.init({ propagateTraceHeaderCorsUrls: [new EvilRegExp('.')], onSpanEnd: (s) => all.push(h.snap(s)) });
    const evil = () => new Proxy([], { get() { throw new Error('boom from get'); } });
    const thrown = [];
    const attempt = (f) => { try { f(); } catch (e) { thrown.push(String(e && e.message)); } };
    for (let i = 0; i < 3; i++) {
      attempt(() => ET.startSpan('evil-start', { startTime: evil() }).end());
      const s = ET.startSpan('evil-methods');
      attempt(() => s.addEvent('e', evil()));
      attempt(() => s.addEvent('e', {}, evil()));
      attempt(() => s.recordException(new Error('x'), evil()));
      attempt(() => s.end(evil()));
    }
    // The RegExp rule throws: the cross-origin request goes out without trace headers.
    let crossOk = false;
    try { crossOk = (await fetch(`${otherOrigin}/echo?evil=1`)).ok; } catch (e) { thrown.push(String(e && e.message)); }
    // Still working: a span with a parent, and a same-origin fetch with a traceparent.
    const p = ET.startSpan('after-parent');
    await ET.withSpan(p, () => fetch('/echo?after=1'));
    p.end();
    await h.waitFor(() => all.some((s) => s.name === 'after-parent'));
    return { thrown, crossOk, all, stats: ET.getStats(), parentId: p.spanContext().spanId };
  }, other);
  assert.deepEqual(r.thrown, [], 'nothing may throw into the page');
  assert.ok(r.crossOk, 'the cross-origin request still succeeds');
  assertNoTraceparent(onlyOne('other', '/echo'), 'a throwing RegExp rule does not allow-list');
  const after = oneClientSpan(r.all, 'after=REDACTED', 'fetch after the hostile calls');
  assert.equal(after.parentSpanId, r.parentId, 'context still works');
  assertTraceparentOf(onlyOne('app', '/echo'), after, 'same-origin fetch after the hostile calls');
  assert.ok(r.all.filter((s) => s.name === 'evil-methods').length === 3, 'spans whose time arguments threw still end and are reported');
  assert.ok(r.stats.invalidArguments >= 12, `the unreadable time arguments are counted (${r.stats.invalidArguments})`);
  assert.equal(r.stats.internalErrors, 0, 'no throw escaped the conversion layer');
});
