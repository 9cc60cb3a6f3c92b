// The engine through the package's public API, with the built npm package pkg/ in headless
// Chromium (the plain module page /plain.html of server.mjs): what tests/browser.rs asserted of
// the wasm glue's exports, driven here the way an app drives them. A second init is a no-op;
// spans nest through the active stack and reach onSpanEnd; traceparent() matches
// spanContext(); a traceparent parent continues the remote trace; injectHeaders follows the
// origin rules; the HTTP client span policy, with real requests to the local servers; hostile
// arguments never throw or break the SDK and are counted; buffered span calls (no onSpanEnd)
// run in order at the times they were made.
//
// Run: scripts/test-package, or, once pkg/ is built,
//      cd tests/package && CHROMIUM=/usr/bin/chromium node --test engine.test.mjs
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
const TP_RE = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

let srv;
let browser;

before(async () => {
  if (!fs.existsSync(path.join(PKG_DIR, 'index.js'))) throw new Error(`missing ${PKG_DIR}/index.js: run scripts/build-pkg first`);
  srv = await startServers({ pkgDir: PKG_DIR });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await srv?.close();
});

/**
 * Runs body(page) on a fresh /plain.html whose SDK is ready and initialised as browser.rs's
 * ensure_init did: trace headers allowed for https://api.allowed.example (a prefix), a RegExp
 * and the local `allowed` origin; fetch and XHR not instrumented; every ended span pushed to
 * window.__ended (unless `spanEnd` is false). `init` adds options. Fails on page errors and on
 * console errors or warnings that match none of `allowConsole` (RegExps).
 */
function engineTest(name, { init = {}, spanEnd = true, allowConsole = [] } = {}, body) {
  test(name, { timeout: TEST_TIMEOUT }, async () => {
    srv.requests.length = 0;
    const context = await browser.newContext();
    const problems = [];
    try {
      const page = await context.newPage();
      page.on('pageerror', (e) => problems.push(`pageerror: ${e.stack || e.message}`));
      page.on('console', (m) => {
        if ((m.type() === 'error' || m.type() === 'warning') && !allowConsole.some((re) => re.test(m.text()))) problems.push(`console.${m.type()}: ${m.text()}`);
      });
      await page.goto(`${srv.appOrigin}/plain.html`);
      await page.waitForFunction(() => window.__ready === true, null, { timeout: 10_000 });
      const started = await page.evaluate(({ init: extra, spanEnd: push, allowed }) => {
        window.__ended = [];
        const o = {
          serviceName: 'engine-tests', instrumentFetch: false, instrumentXhr: false,
          instrumentDocumentLoad: false, userInteractionEvents: [],
          propagateTraceHeaderCorsUrls: ['https://api.allowed.example', /^https:\/\/re\.example\//, allowed],
          ...extra,
        };
        if (push) o.onSpanEnd = (s) => window.__ended.push(s);
        return ET.init(o);
      }, { init, spanEnd, allowed: srv.allowedOrigin });
      assert.equal(started, true, 'the first init starts the SDK');
      try {
        await body(page);
      } catch (e) {
        if (problems.length && e && typeof e === 'object') e.message += `\npage problems:\n  ${problems.join('\n  ')}`;
        throw e;
      }
      assert.deepEqual(problems, [], 'no page error, console error or warning');
    } finally {
      await context.close();
    }
  });
}

/** Recorded non-preflight requests to `origin` ('app' | 'allowed' | 'other') with pathname `p`. */
const received = (origin, p) => srv.requests.filter((r) => r.origin === origin && r.path === p && r.method !== 'OPTIONS');
/** The values of every header named `name` that `rec` carried. */
const headerValues = (rec, name) => rec.rawHeaders.filter(([k]) => k.toLowerCase() === name).map(([, v]) => v);
const traceparentOf = (s) => `00-${s.traceId}-${s.spanId}-${s.traceFlags.toString(16).padStart(2, '0')}`;

// browser.rs: second_init_is_a_no_op
engineTest('a second init is a no-op: returns false and the first configuration stays', {}, async (page) => {
  const r = await page.evaluate(async () => {
    let second = 0;
    const out = {
      bare: ET.init(),
      other: ET.init({ serviceName: 'other', instrumentFetch: true, onSpanEnd: () => { second++; } }),
    };
    ET.startSpan('after-second-init').end();
    // The first configuration left fetch alone; the second asked for it.
    await fetch('/echo/second-init');
    out.ended = window.__ended.map((s) => s.name);
    out.second = second;
    out.fetchRequests = ET.getStats().fetchRequests;
    return out;
  });
  assert.equal(r.bare, false, 'init() after init');
  assert.equal(r.other, false, 'init({ … }) after init');
  assert.deepEqual(r.ended, ['after-second-init'], "spans go to the first init's onSpanEnd");
  assert.equal(r.second, 0, "the second init's onSpanEnd is never called");
  assert.equal(r.fetchRequests, 0, 'fetch is still not instrumented');
  assert.equal(received('app', '/echo/second-init')[0].headers.traceparent, undefined);
});

// browser.rs: spans_nest_through_the_active_stack_and_reach_on_span_end
engineTest('spans nest through the active stack (withSpan) and reach onSpanEnd with their data', {}, async (page) => {
  const r = await page.evaluate(() => {
    const parent = ET.startSpan('parent', { attributes: { a: 1 } });
    let child;
    let activeInside;
    ET.withSpan(parent, () => {
      activeInside = ET.activeSpan()?.spanContext().spanId;
      child = ET.startSpan('child');
    });
    const activeAfter = ET.activeSpan();
    child.setAttribute('k', [1, 2]).addEvent('evt', { x: true }).setStatus({ code: ET.SpanStatusCode.ERROR, message: 'bad' });
    const before = window.__ended.length;
    child.end();
    parent.end();
    // onSpanEnd runs inside end().
    return { parentId: parent.spanContext().spanId, activeInside, activeAfter: activeAfter === undefined, spans: window.__ended.slice(before), now: Date.now() };
  });
  assert.equal(r.activeInside, r.parentId, 'withSpan makes the span active');
  assert.equal(r.activeAfter, true, 'and no span is active after it');
  assert.equal(r.spans.length, 2, 'both spans reached onSpanEnd at end()');
  const [c, p] = r.spans;
  assert.equal(c.name, 'child');
  assert.equal(p.name, 'parent');
  assert.equal(c.traceId, p.traceId);
  assert.equal(c.parentSpanId, p.spanId, 'the child of the active span');
  assert.equal(p.parentSpanId, undefined, 'the parent is a root');
  assert.equal(p.attributes.a, 1);
  assert.equal(c.status.code, 2);
  assert.equal(c.status.message, 'bad');
  assert.equal(c.events.length, 1);
  assert.equal(c.events[0].name, 'evt');
  assert.deepEqual(c.attributes.k, [1, 2], 'an array attribute stays an array');
  const start = BigInt(c.startTimeUnixNano);
  const end = BigInt(c.endTimeUnixNano);
  const nowNs = BigInt(r.now) * 1_000_000n;
  const diff = start > nowNs ? start - nowNs : nowNs - start;
  assert.ok(start <= end && diff < 60_000_000_000n, `the browser clock gives epoch nanos: ${start}..${end}, now ${nowNs}`);
});

// browser.rs: traceparent_matches_span_context
engineTest('traceparent() matches spanContext(), outlives end(); a second end() is counted; a forgotten span has no context', {}, async (page) => {
  const r = await page.evaluate(() => {
    const s = ET.startRootSpan('s');
    const tp = s.traceparent();
    const ctx = s.spanContext();
    const afterEndBefore = ET.getStats().callsAfterEnd;
    s.end();
    const tpAfterEnd = s.traceparent();
    s.end();
    const afterEnd = ET.getStats().callsAfterEnd - afterEndBefore;
    // The contexts of the 1024 spans that ended last are kept: after 1100 more, s's handle
    // names nothing (and no other span).
    for (let i = 0; i < 1100; i++) ET.startSpan('filler').end();
    return { tp, ctx, tpAfterEnd, afterEnd, forgotten: s.traceparent(), forgottenCtx: s.spanContext() };
  });
  assert.equal(r.tp, `00-${r.ctx.traceId}-${r.ctx.spanId}-03`, 'sampled, with the random trace id flag');
  assert.equal(r.tpAfterEnd, r.tp, 'the context outlives the span');
  assert.equal(r.afterEnd, 1, 'a second end is counted and ignored');
  assert.equal(r.forgotten, '', 'a handle that names no span has no context');
  assert.equal(r.forgottenCtx.spanId, '0000000000000000', 'and spanContext() is the invalid one');
});

// browser.rs: explicit_traceparent_parent_continues_the_remote_trace
engineTest('a traceparent string as parent continues the remote trace, unsampled parent: not recorded', {}, async (page) => {
  const tp = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-02';
  const r = await page.evaluate((parent) => {
    const before = window.__ended.length;
    const h = ET.startSpan('child', { parent });
    const out = { ctx: h.spanContext(), recording: h.isRecording() };
    h.end();
    out.ended = window.__ended.length - before;
    return out;
  }, tp);
  assert.equal(r.ctx.traceId, '4bf92f3577b34da6a3ce929d0e0e4736');
  assert.notEqual(r.ctx.spanId, '00f067aa0ba902b7', 'a span of its own');
  assert.equal(r.ctx.traceFlags, 2, 'unsampled parent: random kept, not sampled');
  assert.equal(r.recording, false);
  assert.equal(r.ended, 0, 'a span not recorded does not reach onSpanEnd');
});

// browser.rs: inject_headers_respects_origin_rules
engineTest('injectHeaders writes the active span\'s traceparent where the origin rules allow it', {}, async (page) => {
  const r = await page.evaluate(() => {
    const span = ET.startSpan('s');
    const out = ET.withSpan(span, () => {
      const cases = [
        [location.href, true],
        ['https://api.allowed.example/v1', true],
        ['https://re.example/x', true],
        ['https://api.allowed.example.evil.test/', false],
        ['https://elsewhere.example/', false],
      ].map(([url, want]) => {
        const h = new Headers();
        const same = ET.injectHeaders(h, url) === h;
        return { url, want, got: h.get('traceparent'), same };
      });
      const plain = {};
      const returned = ET.injectHeaders(plain);
      return { cases, plain, plainReturned: returned === plain };
    });
    out.tp = span.traceparent();
    span.end();
    return out;
  });
  assert.match(r.tp, TP_RE);
  for (const c of r.cases) {
    assert.equal(c.got !== null, c.want, c.url);
    if (c.got !== null) assert.equal(c.got, r.tp, `${c.url}: the active span's traceparent`);
    assert.equal(c.same, true, 'returns the headers it was given');
  }
  assert.deepEqual(r.plain, { traceparent: r.tp }, 'without a URL: a plain object gets the one header');
  assert.equal(r.plainReturned, true);
});

// setBaggage's values as the engine converts them (strings, numbers, booleans, and an array
// as JSON.stringify writes it), in the baggage header injectHeaders writes.
engineTest('setBaggage: every value type reaches the baggage header, percent-encoded; null clears it', {}, async (page) => {
  const r = await page.evaluate(() => {
    ET.setBaggage({ tier: 'gold plan', n: 3, ratio: 1.5, ok: true, tags: ['a', 'b,c'], big: [1, 2.5] });
    const span = ET.startSpan('s');
    const withBaggage = ET.withSpan(span, () => ET.injectHeaders({}));
    ET.setBaggage(null);
    const cleared = ET.withSpan(span, () => ET.injectHeaders({}));
    span.end();
    return { withBaggage, cleared };
  });
  const entries = Object.fromEntries(r.withBaggage.baggage.split(',').map((kv) => {
    const [k, v] = kv.split('=');
    return [k.trim(), decodeURIComponent(v.trim())];
  }));
  assert.deepEqual(entries, { tier: 'gold plan', n: '3', ratio: '1.5', ok: 'true', tags: '["a","b,c"]', big: '[1,2.5]' }, r.withBaggage.baggage);
  assert.equal(r.cleared.baggage, undefined, 'setBaggage(null) clears it');
});

// browser.rs: http_client_span_policy_end_to_end (requestStart/requestEnd through the fetch
// and XHR wrappers, against the local servers)
engineTest('the HTTP client span policy end to end: trace headers only where allowed, the page\'s own traceparent kept, CLIENT span attributes and status, no scope left open', { init: { instrumentFetch: true, instrumentXhr: true }, allowConsole: [/Failed to load resource: .* 503/] }, async (page) => {
  const own = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
  const r = await page.evaluate(async ({ allowed, other, own: ownTp }) => {
    const before = window.__ended.length;
    const parent = ET.startSpan('requests');
    const xhr = () => new Promise((resolve) => {
      const x = new XMLHttpRequest();
      x.open('GET', `${allowed}/echo/own`);
      x.setRequestHeader('traceparent', ownTp);
      x.onloadend = () => resolve(x.status);
      x.send();
    });
    let pending;
    ET.withSpan(parent, () => {
      pending = [
        fetch(`${other}/echo/other`).then((res) => res.status),
        fetch(`${allowed}/echo/items?id=7&status=503`).then((res) => res.status),
        xhr(),
      ];
    });
    const statuses = await Promise.all(pending);
    // A later task: the scopes the requests kept are given back.
    await new Promise((resolve) => setTimeout(resolve, 0));
    await new Promise((resolve) => setTimeout(resolve, 0));
    const activeAfter = ET.activeSpan();
    parent.end();
    return { statuses, parentId: parent.spanContext().spanId, activeAfter: activeAfter === undefined, spans: window.__ended.slice(before), stats: ET.getStats() };
  }, { allowed: srv.allowedOrigin, other: srv.otherOrigin, own });
  assert.deepEqual(r.statuses, [200, 503, 200]);
  assert.equal(r.activeAfter, true, 'no scope left open after the requests');
  const client = (part) => {
    const found = r.spans.filter((s) => s.kind === 2 && String(s.attributes['url.full']).includes(part));
    assert.equal(found.length, 1, `one CLIENT span for ${part}: ${JSON.stringify(r.spans.map((s) => [s.name, s.attributes['url.full']]))}`);
    return found[0];
  };

  // An origin not allowed: no trace headers, so no preflight either.
  const o = received('other', '/echo/other');
  assert.equal(o.length, 1);
  assert.deepEqual(headerValues(o[0], 'traceparent'), [], 'no headers for an origin not allowed');
  assert.equal(srv.requests.filter((q) => q.origin === 'other' && q.method === 'OPTIONS').length, 0, 'no preflight');
  assert.equal(client('/echo/other').parentSpanId, r.parentId);

  // Allowed: exactly one traceparent, naming the request's own CLIENT span.
  const s = client('/echo/items');
  const items = received('allowed', '/echo/items');
  assert.equal(items.length, 1);
  assert.deepEqual(headerValues(items[0], 'traceparent'), [traceparentOf(s)], 'the CLIENT span\'s traceparent, once');
  assert.deepEqual([...headerValues(items[0], 'tracestate'), ...headerValues(items[0], 'baggage')], [], 'no other trace header');
  assert.equal(s.parentSpanId, r.parentId, 'the child of the active span');
  assert.equal(s.kind, 2);
  assert.equal(s.name, 'GET');
  assert.equal(s.attributes['url.full'], `${srv.allowedOrigin}/echo/items?id=REDACTED&status=REDACTED`, 'query values redacted');
  assert.equal(s.attributes['http.response.status_code'], 503);
  assert.equal(s.attributes['error.type'], '503');
  assert.equal(s.status.code, 2, 'a 5xx is an error');

  // The page set its own traceparent: the span, and the page's header alone.
  const x = client('/echo/own');
  const ownReq = received('allowed', '/echo/own');
  assert.equal(ownReq.length, 1);
  assert.deepEqual(headerValues(ownReq[0], 'traceparent'), [own], 'the page\'s own traceparent, not replaced or doubled');
  assert.equal(x.attributes['http.response.status_code'], 200);
  assert.equal(r.stats.requestsPropagated, 1, 'trace headers added to one request');
  assert.equal(r.stats.fetchRequests, 2);
  assert.equal(r.stats.xhrRequests, 1);
});

// browser.rs: hostile_arguments_never_panic_and_are_counted
engineTest('hostile arguments to every call never throw or break the SDK, and are counted', {}, async (page) => {
  const r = await page.evaluate(async () => {
    const thrown = [];
    const attempt = (what, fn) => {
      try {
        fn();
      } catch (e) {
        thrown.push(`${what}: ${e && e.message}`);
      }
    };
    const stats = ET.getStats();
    const values = [
      undefined, null, {}, [], Symbol.for('x'), 'x'.repeat(1_000_000), NaN, -1, function () {},
      new Proxy({}, { get() { throw new Error('boom'); }, ownKeys() { throw new Error('boom'); } }),
    ];
    const h = ET.startSpan('hostile');
    const scopes = [];
    values.forEach((v, i) => {
      attempt(`startSpan #${i}`, () => ET.startSpan(v, v));
      attempt(`startRootSpan #${i}`, () => ET.startRootSpan(v, v));
      attempt(`setAttribute #${i}`, () => h.setAttribute(v, v));
      attempt(`setAttribute(k) #${i}`, () => h.setAttribute('k', v));
      attempt(`setAttributes #${i}`, () => h.setAttributes(v));
      attempt(`addEvent #${i}`, () => h.addEvent(v, v, v));
      attempt(`setStatus #${i}`, () => h.setStatus(v));
      attempt(`recordException #${i}`, () => h.recordException(v, v));
      attempt(`updateName #${i}`, () => h.updateName(v));
      attempt(`withSpan #${i}`, () => ET.withSpan(v, () => {}));
      attempt(`withSpan async #${i}`, () => scopes.push(ET.withSpan(v, () => Promise.resolve(i))));
      attempt(`injectHeaders #${i}`, () => ET.injectHeaders(v, v));
      attempt(`setBaggage #${i}`, () => ET.setBaggage(v));
    });
    attempt('setBaggage(null)', () => ET.setBaggage(null));
    attempt('end(NaN)', () => h.end(NaN));
    const settled = await Promise.allSettled(scopes);
    const after = ET.getStats();
    // Still working afterwards.
    const ok = ET.startSpan('after');
    const recording = ok.isRecording();
    ok.end();
    return {
      thrown, rejected: settled.filter((x) => x.status !== 'fulfilled').length, scopes: settled.map((x) => x.value),
      before: stats, after, recording, last: window.__ended[window.__ended.length - 1]?.name,
    };
  });
  assert.deepEqual(r.thrown, [], 'no call threw');
  assert.equal(r.rejected, 0);
  assert.deepEqual(r.scopes, [...Array(10).keys()], 'withSpan still runs the function and returns its result');
  assert.ok(r.after.invalidArguments > r.before.invalidArguments + 20, `invalid arguments counted: ${r.before.invalidArguments} -> ${r.after.invalidArguments}`);
  assert.equal(r.after.internalErrors, r.before.internalErrors, 'no fault inside the SDK');
  assert.equal(r.recording, true, 'a new span still records');
  assert.equal(r.last, 'after', 'and reaches onSpanEnd');
});

// browser.rs: buffered_span_calls_run_in_order_at_their_own_times (run_ops: the buffer of
// ops.js, filled by the span calls of a page without onSpanEnd). The page's clock is held at
// known readings while the calls are made, and given back before the buffer runs.
engineTest('buffered span calls (no onSpanEnd) run in order, at the times they were made', { spanEnd: false, init: { tracesEndpoint: '/echo/v1/traces', compression: 'none' } }, async (page) => {
  const r = await page.evaluate(async () => {
    const real = performance.now;
    // A minute ahead of the real clock: a time taken when the buffer runs would be far off.
    const base = Math.ceil(real.call(performance)) + 60_000;
    let reading;
    performance.now = () => reading;
    let p;
    let c;
    try {
      reading = base;
      p = ET.startSpan('ops-parent', { attributes: { k: 5 } });
      reading = base + 1;
      c = ET.startSpan('ops-child', { kind: ET.SpanKind.CLIENT, parent: p });
      c.setAttribute('k', true);
      reading = base + 5;
      c.end();
      reading = base + 10;
      p.end();
    } finally {
      performance.now = real;
    }
    const stats = ET.getStats();
    return { base, origin: performance.timeOrigin, stats, parent: p.spanContext(), child: c.spanContext(), flushed: await ET.flush() };
  });
  assert.equal(r.flushed, true);
  assert.match(r.parent.spanId, /^[0-9a-f]{16}$/);
  assert.notEqual(r.parent.spanId, '0000000000000000', 'the buffered start gave the parent a span');
  assert.notEqual(r.child.spanId, '0000000000000000', 'and the child');
  assert.equal(r.stats.spansEnded, 2, 'both spans ended');
  assert.equal(r.stats.invalidArguments, 0);
  assert.equal(r.stats.internalErrors, 0);
  const spans = received('app', '/echo/v1/traces')
    .flatMap((q) => JSON.parse(q.body).resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans)));
  assert.deepEqual(spans.map((s) => s.name), ['ops-child', 'ops-parent'], 'both spans ended, child first');
  const [c, p] = spans;
  const attr = (s, k) => s.attributes.find((a) => a.key === k)?.value;
  assert.equal(p.spanId, r.parent.spanId);
  assert.equal(c.spanId, r.child.spanId);
  assert.equal(c.traceId, p.traceId);
  assert.equal(c.parentSpanId, p.spanId, 'the parent started in the same buffer');
  assert.equal(c.kind, 3, 'CLIENT (OTLP numbering)');
  assert.deepEqual(attr(c, 'k'), { boolValue: true });
  assert.deepEqual(attr(p, 'k'), { intValue: '5' });
  // As core's millis_to_unix_nanos: whole and fractional milliseconds of the time origin.
  const whole = Math.trunc(r.origin);
  const originNs = BigInt(whole) * 1_000_000n + BigInt(Math.round((r.origin - whole) * 1e6));
  const at = (ms) => String(originNs + BigInt(r.base + ms) * 1_000_000n);
  assert.equal(p.startTimeUnixNano, at(0));
  assert.equal(c.startTimeUnixNano, at(1));
  assert.equal(c.endTimeUnixNano, at(5));
  assert.equal(p.endTimeUnixNano, at(10));
});
