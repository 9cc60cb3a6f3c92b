// The local collector end to end: the built package pkg/ in headless Chromium and a Rust
// process exporting with opentelemetry-otlp (collector/examples/continue_trace.rs) send the
// spans of one trace to edge-collector, the page's error goes to its Rollbar endpoint, and
// the collector's own web UI (collector/ui/, served by the binary) is driven in Chromium:
// the trace list (refreshing by itself), the waterfall (browser and Rust spans nested by
// their parent ids, bars to scale, collapse and expand, the details panel), search by an
// attribute value, the trace's log lines beside its waterfall and search by a word of one,
// and the error list and detail page linking back to the trace.
// Screenshots go to target/test-artifacts/collector/.
//
// Run: scripts/test-package (builds both binaries), or, once built,
//      cd tests/package && CHROMIUM=/usr/bin/chromium node --test --test-concurrency=1 collector.test.mjs
// Environment: CHROMIUM (default /usr/bin/chromium), ET_PKG_DIR (default <repo>/pkg),
// ET_COLLECTOR_BIN (default <repo>/target/debug/edge-collector), ET_CONTINUE_TRACE_BIN
// (default <repo>/target/debug/examples/continue_trace), ET_ARTIFACTS_DIR (default
// <repo>/target/test-artifacts/collector).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startServers } from './server.mjs';
import { launchChromium } from './chromium.mjs';
import { stopProcess, startCollector, collectorApi } from './processes.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..', '..');
const PKG_DIR = path.resolve(process.env.ET_PKG_DIR || path.join(ROOT, 'pkg'));
const COLLECTOR_BIN = path.resolve(process.env.ET_COLLECTOR_BIN || path.join(ROOT, 'target', 'debug', 'edge-collector'));
const CONTINUE_BIN = path.resolve(process.env.ET_CONTINUE_TRACE_BIN || path.join(ROOT, 'target', 'debug', 'examples', 'continue_trace'));
const ARTIFACTS = path.resolve(process.env.ET_ARTIFACTS_DIR || path.join(ROOT, 'target', 'test-artifacts', 'collector'));
const TEST_TIMEOUT = 30_000;
const BROWSER_SERVICE = 'shop-web';
const RUST_SERVICE = 'demo-rust';
const CART = 'cart-7731';

// The shop page: the package without a bundler, and the function whose frames the error has.
const SHOP_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8" /><link rel="icon" href="data:," /><title>shop</title></head>
<body>
  <script type="module">
    import * as ET from '/pkg/index.js';
    window.ET = ET;
    // Reports the declined payment under span (the error is linked to it).
    window.pay = function pay(span) {
      return ET.withSpan(span, function declinePayment() {
        return ET.captureException(new Error('payment declined'));
      });
    };
    ET.ready().then(() => { window.__ready = true; });
  </script>
</body></html>
`;

let collector; // { proc, origin, stderr }
let srv;
let browser;
let sent; // what the first test sent: { traceId, root, child, serverSpanId, dbSpanId, uuid }
const pages = new Map([['/shop.html', { html: SHOP_HTML }]]);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Runs continue_trace against the collector; resolves with its JSON line. */
function continueTrace(traceparent) {
  return new Promise((resolve, reject) => {
    execFile(CONTINUE_BIN, ['--endpoint', collector.origin, '--traceparent', traceparent, '--service', RUST_SERVICE], { timeout: 20_000 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`continue_trace failed: ${err.message}\nstdout: ${stdout}\nstderr: ${stderr}`));
      try {
        resolve(JSON.parse(stdout.trim().split('\n').pop()));
      } catch (e) {
        reject(new Error(`continue_trace printed no JSON line: ${stdout}\nstderr: ${stderr}`));
      }
    });
  });
}

// The collector's JSON API (set once it runs).
let getJson;
let waitApi;

before(async () => {
  for (const [file, hint] of [
    [path.join(PKG_DIR, 'index.js'), 'run scripts/build-pkg first'],
    [COLLECTOR_BIN, 'cargo build -p edge-telemetry-collector --bin edge-collector (or set ET_COLLECTOR_BIN)'],
    [CONTINUE_BIN, 'cargo build -p edge-telemetry-collector --example continue_trace (or set ET_CONTINUE_TRACE_BIN)'],
  ]) {
    if (!fs.existsSync(file)) throw new Error(`missing ${file}: ${hint}`);
  }
  fs.rmSync(ARTIFACTS, { recursive: true, force: true });
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  srv = await startServers({ pkgDir: PKG_DIR, pages });
  // The shop page's origin is the one allowed to send.
  collector = await startCollector(COLLECTOR_BIN, undefined, {
    allowOrigins: [srv.appOrigin],
    // A group (an X-Ray filter expression) that the Rust service's spans put the trace in.
    args: ['--group', `rust=service("${RUST_SERVICE}") AND http.method = "GET"`, '--group', 'billing=service("billing") OR throttle'],
  });
  ({ getJson, waitApi } = collectorApi(collector.origin));
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await srv?.close();
  await stopProcess(collector?.proc);
});

/**
 * Runs body({ context, ui }) with ui(hash) opening the collector UI in a new page of a fresh
 * context (1400×900); fails on console errors and page errors of the UI.
 */
function uiTest(name, body, { timeout = TEST_TIMEOUT, needsTrace = true } = {}) {
  test(name, { timeout }, async () => {
    if (needsTrace) assert.ok(sent, 'the trace was sent (the first test)');
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const problems = [];
    const ui = async (hash = '#/') => {
      const page = await context.newPage();
      page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
      page.on('console', (m) => { if (m.type() === 'error') problems.push(`console.error: ${m.text()}`); });
      await page.goto(`${collector.origin}/${hash}`, { waitUntil: 'load' });
      return page;
    };
    try {
      await body({ context, ui });
      assert.deepEqual(problems, [], 'no console errors or page errors in the collector UI');
    } finally {
      await context.close();
    }
  });
}

const shot = (page, name) => page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });

/** The waterfall rows as data: { spanId: { parent, depth, service, side, name, hidden, error, left, width } }. */
const waterfall = (page) => page.$$eval('.span-row', (rows) => Object.fromEntries(rows.map((r, index) => {
  const bar = r.querySelector('.span-bar');
  return [r.dataset.spanId, {
    index,
    parent: r.dataset.parentSpanId,
    depth: Number(r.dataset.depth),
    service: r.dataset.service,
    name: r.querySelector('.span-name').textContent,
    visible: r.offsetParent !== null,
    error: r.classList.contains('error'),
    toggle: r.querySelector('button.toggle') ? r.querySelector('button.toggle').getAttribute('aria-expanded') : null,
    left: bar.style.left,
    width: bar.style.width,
  }];
})));

// ---------------------------------------------------------------------------

uiTest('a page with the package and a Rust process (opentelemetry-otlp) continuing its traceparent send one trace to the collector; the trace list shows it without a reload', async ({ ui }) => {
  // The list is open before anything is sent: it refreshes by itself.
  const list = await ui('#/');
  await list.waitForSelector('#refresh');

  const context = await browser.newContext();
  try {
    const shop = await context.newPage();
    const pageErrors = [];
    shop.on('pageerror', (e) => pageErrors.push(e.message));
    await shop.goto(`${srv.appOrigin}/shop.html`);
    await shop.waitForFunction(() => window.__ready === true, null, { timeout: 10_000 });
    const started = await shop.evaluate(({ endpoint, service, cart }) => {
      ET.init({
        serviceName: service,
        serviceVersion: '1.4.0',
        environment: 'test',
        endpoint,
        instrumentDocumentLoad: false,
        userInteractionEvents: [],
        batch: { scheduledDelayMillis: 50 },
        rollbar: { endpoint: `${endpoint}/api/1/item/` },
      });
      window.__root = ET.startSpan('checkout', { attributes: { 'cart.id': cart, 'cart.items': 3 } });
      window.__child = ET.startSpan('submit-payment', { parent: window.__root, attributes: { 'payment.method': 'card' } });
      ET.withSpan(window.__root, () => ET.log.info('checkout started'));
      ET.withSpan(window.__child, () => ET.log.warn(`card declined ${'zephyr' + 'watch'}`, { 'payment.attempt': 2 }));
      return { root: window.__root.spanContext(), child: window.__child.spanContext(), traceparent: window.__child.traceparent() };
    }, { endpoint: collector.origin, service: BROWSER_SERVICE, cart: CART });
    assert.equal(started.child.traceId, started.root.traceId);
    assert.match(started.traceparent, new RegExp(`^00-${started.child.traceId}-${started.child.spanId}-[0-9a-f]{2}$`), "the traceparent names the child span");

    // The "backend": a Rust process that continues the traceparent and exports with opentelemetry-otlp.
    const rust = await continueTrace(started.traceparent);
    assert.equal(rust.traceId, started.root.traceId, 'continue_trace stayed in the trace');

    const { uuid, flushed, stats } = await shop.evaluate(async () => {
      const uuid = window.pay(window.__child);
      window.__child.end();
      window.__root.end();
      const flushed = await ET.flush();
      return { uuid, flushed, stats: ET.getStats() };
    });
    assert.equal(typeof uuid, 'string', 'captureException sent an item');
    assert.equal(flushed, true, `flush() succeeded (${JSON.stringify(stats)})`);
    assert.equal(stats.itemsSent, 1, 'one item sent');
    assert.deepEqual(pageErrors, []);
    sent = { traceId: started.root.traceId, root: started.root.spanId, child: started.child.spanId, serverSpanId: rust.serverSpanId, dbSpanId: rust.dbSpanId, uuid };
  } finally {
    await context.close();
  }

  // The API has the four spans and the error.
  const trace = await waitApi(`/api/traces/${sent.traceId}`, (j) => j.spans && j.spans.length === 4 && j.errors && j.errors.length === 1 && j.logs && j.logs.length === 2, 'four spans, one error and two log lines in the trace');
  assert.deepEqual(new Set(trace.spans.map((s) => s.service)), new Set([BROWSER_SERVICE, RUST_SERVICE]));

  // The list that was already open shows the trace now (auto refresh), with its summary.
  const row = list.locator(`tr.trace-row[data-trace-id="${sent.traceId}"]`);
  await row.waitFor({ timeout: 12_000 });
  const text = await row.textContent();
  assert.match(text, /checkout/, 'root span name');
  assert.match(text, new RegExp(BROWSER_SERVICE), 'browser service');
  assert.match(text, new RegExp(RUST_SERVICE), 'Rust service');
  const cells = await row.locator('td').allTextContents();
  assert.equal(cells[4].trim(), '4', 'span count');
  assert.match(cells[5], /1/, 'error flag with the count');
  assert.match(cells[2], /ago|just now/, 'relative start time');
  assert.match(cells[3], /\d( µs| ms| s)/, 'duration');
  await shot(list, 'trace-list');

  // Clicking the row opens the trace.
  await row.click();
  await list.waitForSelector('.span-row');
  assert.equal(new URL(list.url()).hash, `#/trace/${sent.traceId}`);
}, { timeout: 60_000, needsTrace: false });

uiTest('the waterfall nests the Rust SERVER span under the browser span of the traceparent and the DB span under it; services tell browser and Rust apart; bars are to scale; the error span is red and the trace shows its error', async ({ ui }) => {
  const page = await ui(`#/trace/${sent.traceId}`);
  await page.waitForSelector('.span-row >> nth=3');
  const rows = await waterfall(page);
  assert.equal(Object.keys(rows).length, 4);
  const root = rows[sent.root];
  const child = rows[sent.child];
  const server = rows[sent.serverSpanId];
  const db = rows[sent.dbSpanId];
  assert.ok(root && child && server && db, `all four spans are rows (${Object.keys(rows)})`);
  assert.deepEqual([root.name, root.parent, root.depth, root.service], ['checkout', '', 0, BROWSER_SERVICE]);
  assert.deepEqual([child.name, child.parent, child.depth, child.service], ['submit-payment', sent.root, 1, BROWSER_SERVICE]);
  assert.deepEqual([server.parent, server.depth, server.service], [sent.child, 2, RUST_SERVICE], 'Rust SERVER span under the span of the traceparent');
  assert.deepEqual([db.parent, db.depth, db.service], [sent.serverSpanId, 3, RUST_SERVICE], 'DB span under the SERVER span');
  assert.deepEqual([root.index, child.index, server.index, db.index], [0, 1, 2, 3], 'rows in tree order');
  assert.equal(child.error, true, 'the span the error was reported under is an error row');
  assert.equal(root.error, false);

  // Bars: percentages of the trace; the root spans all of it, children lie inside their parents.
  const pc = (s) => { assert.match(s, /^[\d.]+%$/); return parseFloat(s); };
  assert.ok(pc(root.left) < 0.5 && pc(root.width) > 99, `root bar covers the trace (${root.left} ${root.width})`);
  for (const [inner, outer] of [[child, root], [server, child], [db, server]]) {
    assert.ok(pc(inner.left) >= pc(outer.left) - 1, `${inner.name} starts within ${outer.name}`);
    assert.ok(pc(inner.left) + pc(inner.width) <= pc(outer.left) + pc(outer.width) + 1, `${inner.name} ends within ${outer.name}`);
  }

  // Browser and Rust rows differ in colour; the legend names both services.
  const colours = await page.$$eval('.span-row', (rs) => Object.fromEntries(rs.map((r) => [r.dataset.service, getComputedStyle(r.querySelector('.span-label .swatch')).backgroundColor])));
  assert.notEqual(colours[BROWSER_SERVICE], colours[RUST_SERVICE], 'services have different colours');
  const legend = await page.textContent('.legend');
  assert.match(legend, new RegExp(`${BROWSER_SERVICE}.*browser`), 'legend: the browser service');
  assert.match(legend, new RegExp(`${RUST_SERVICE}.*backend`), 'legend: the Rust service');

  // The trace's error, linking to its detail page.
  const errLink = page.locator('.trace-errors a', { hasText: 'payment declined' });
  assert.equal(await errLink.getAttribute('href'), `#/errors/${sent.uuid}`);

  // Clicking a row shows its attributes and events.
  await page.click(`.span-row[data-span-id="${sent.root}"] .span-name`);
  const details = page.locator('#span-details');
  await details.locator('h2', { hasText: 'checkout' }).waitFor();
  const rootDetails = await details.textContent();
  assert.match(rootDetails, /cart\.id/);
  assert.match(rootDetails, new RegExp(CART));
  await shot(page, 'waterfall');

  await page.click(`.span-row[data-span-id="${sent.child}"] .span-name`);
  await details.locator('h2', { hasText: 'submit-payment' }).waitFor();
  const childDetails = await details.textContent();
  assert.match(childDetails, /payment\.method/);
  assert.match(childDetails, /exception/, 'the exception event');
  assert.match(childDetails, /payment declined/);

  await page.click(`.span-row[data-span-id="${sent.serverSpanId}"] .span-name`);
  await details.locator('h2', { hasText: server.name }).waitFor();
  assert.match(await details.textContent(), /server/, 'the SERVER kind');
  assert.match(await details.textContent(), new RegExp(RUST_SERVICE));
});

uiTest('collapse and expand: the toggle of a span hides its subtree and shows it again', async ({ ui }) => {
  const page = await ui(`#/trace/${sent.traceId}`);
  await page.waitForSelector('.span-row >> nth=3');
  let rows = await waterfall(page);
  assert.equal(rows[sent.dbSpanId].toggle, null, 'a leaf has no toggle');
  assert.equal(rows[sent.child].toggle, 'true');
  assert.ok(Object.values(rows).every((r) => r.visible));

  const toggle = page.locator(`.span-row[data-span-id="${sent.child}"] button.toggle`);
  await toggle.click();
  rows = await waterfall(page);
  assert.equal(rows[sent.child].toggle, 'false', 'aria-expanded false');
  assert.deepEqual([rows[sent.root].visible, rows[sent.child].visible, rows[sent.serverSpanId].visible, rows[sent.dbSpanId].visible], [true, true, false, false], 'the subtree is hidden');
  await shot(page, 'waterfall-collapsed');

  await toggle.click();
  rows = await waterfall(page);
  assert.equal(rows[sent.child].toggle, 'true');
  assert.ok(Object.values(rows).every((r) => r.visible), 'all rows shown again');

  // Collapsing the root hides everything under it; the inner collapse state is kept apart.
  await page.click(`.span-row[data-span-id="${sent.serverSpanId}"] button.toggle`);
  await page.click(`.span-row[data-span-id="${sent.root}"] button.toggle`);
  rows = await waterfall(page);
  assert.deepEqual(Object.values(rows).filter((r) => r.visible).map((r) => r.name), ['checkout']);
  await page.click(`.span-row[data-span-id="${sent.root}"] button.toggle`);
  rows = await waterfall(page);
  assert.deepEqual([rows[sent.child].visible, rows[sent.serverSpanId].visible, rows[sent.dbSpanId].visible], [true, true, false], 'the SERVER span stays collapsed');
});

uiTest(`search finds the checkout span by its attribute value (${CART}) and opens it in the trace`, async ({ ui }) => {
  const page = await ui('#/');
  await page.fill('#search', CART);
  await page.press('#search', 'Enter');
  const hit = page.locator(`.search-result[data-span-id="${sent.root}"]`);
  await hit.waitFor();
  assert.equal(await hit.getAttribute('data-trace-id'), sent.traceId);
  assert.match(await hit.textContent(), /checkout/);
  assert.match(await hit.textContent(), new RegExp(CART), 'the matching text');
  assert.match(new URL(page.url()).hash, new RegExp(`^#/search\\?q=${CART}$`));
  await shot(page, 'search');

  await hit.click();
  await page.waitForSelector(`.span-row.selected[data-span-id="${sent.root}"]`);
  assert.match(await page.textContent('#span-details'), new RegExp(CART));

  // The Rust spans are searchable too, by service name.
  await page.fill('#search', RUST_SERVICE);
  await page.press('#search', 'Enter');
  await page.locator(`.search-result[data-span-id="${sent.serverSpanId}"]`).waitFor();
});

uiTest('the trace shows its log lines in time order beside the waterfall, each linked to its span; search by a word only a log line holds finds the trace', async ({ ui }) => {
  const page = await ui(`#/trace/${sent.traceId}`);
  await page.waitForSelector('.trace-logs .log-line >> nth=1');
  const lines = await page.$$eval('.trace-logs .log-line', (ls) => ls.map((l) => ({ span: l.dataset.spanId, text: l.textContent })));
  assert.equal(lines.length, 2);
  assert.equal(lines[0].span, sent.root);
  assert.match(lines[0].text, /info.*checkout started/);
  assert.equal(lines[1].span, sent.child);
  assert.match(lines[1].text, /warn.*card declined zephyrwatch.*in span submit-payment/);
  await page.locator('.trace-logs .log-line >> nth=1').locator('button').click();
  await page.waitForSelector(`.span-row.selected[data-span-id="${sent.child}"]`);
  assert.match(await page.textContent('#span-details'), /Logs \(1\)[\s\S]*card declined zephyrwatch/);
  await shot(page, 'trace-logs');

  const found = await getJson('/api/traces?q=zephyrwatch');
  assert.deepEqual(found.json.traces.map((t) => t.traceId), [sent.traceId]);
  await page.fill('#search', 'zephyrwatch');
  await page.press('#search', 'Enter');
  const hit = page.locator(`.log-result[data-trace-id="${sent.traceId}"]`);
  await hit.waitFor();
  await hit.click();
  await page.waitForSelector(`.span-row.selected[data-span-id="${sent.child}"]`);
});

uiTest('a group lists the traces its filter expression matches, with the expression shown', async ({ ui }) => {
  const groups = await getJson('/api/groups');
  assert.deepEqual(groups.json.groups.map((g) => g.name), ['rust', 'billing']);
  const page = await ui('#/?group=rust');
  await page.locator(`.trace-row[data-trace-id="${sent.traceId}"]`).waitFor();
  assert.equal(await page.inputValue('#group-filter'), 'rust');
  assert.equal(await page.textContent('#group-expression'), `service("${RUST_SERVICE}") AND http.method = "GET"`);
  await shot(page, 'group');
  // The other group matches nothing here: the list says so.
  await page.selectOption('#group-filter', 'billing');
  await page.waitForFunction(() => location.hash === '#/?group=billing');
  await page.locator('td.empty').waitFor();
  assert.equal(await page.locator('.trace-row').count(), 0);
});

uiTest('the error page lists "payment declined" with level and count; its detail shows the stack and links to the trace', async ({ ui }) => {
  const page = await ui('#/errors');
  const group = page.locator('.error-group', { hasText: 'payment declined' });
  await group.waitFor();
  const cells = await group.locator('td').allTextContents();
  assert.equal(cells[0].trim(), 'error', 'level');
  assert.match(cells[1], /Error: payment declined/);
  assert.equal(cells[2].trim(), '1', 'count');
  assert.match(cells[3], /ago|just now/, 'last seen, relative');

  await group.locator('a.error-title').click();
  const detail = page.locator('#error-detail');
  await detail.waitFor();
  assert.equal(new URL(page.url()).hash, `#/errors/${sent.uuid}`);
  const text = await detail.textContent();
  assert.match(text, /payment declined/);
  assert.match(text, new RegExp(sent.uuid));
  const frames = await detail.locator('.frame').allTextContents();
  assert.ok(frames.length >= 2, `frames (${frames.length})`);
  assert.ok(frames.some((f) => f.includes('declinePayment') && f.includes(`${srv.appOrigin}/shop.html`)), `a frame of declinePayment in /shop.html: ${frames.join(' | ')}`);
  const link = detail.locator('a.trace-link');
  assert.equal(await link.getAttribute('href'), `#/trace/${sent.traceId}`);
  await shot(page, 'error-detail');

  await link.click();
  await page.waitForSelector(`.span-row[data-span-id="${sent.serverSpanId}"]`);
  assert.equal(new URL(page.url()).hash, `#/trace/${sent.traceId}`);
});

uiTest('rendering is text only: markup in span names, attributes and messages is shown, not run', async ({ ui }) => {
  // A trace of its own, sent as OTLP JSON straight to the collector.
  const traceId = 'abcdef0123456789abcdef0123456789';
  const nano = BigInt(Date.now()) * 1_000_000n;
  const body = {
    resourceSpans: [{
      resource: { attributes: [{ key: 'service.name', value: { stringValue: '<i>svc</i>' } }] },
      scopeSpans: [{ scope: { name: 't' }, spans: [{
        traceId, spanId: '0123456789abcdef', name: '<img src=x onerror="window.__pwned=1">', kind: 1,
        startTimeUnixNano: String(nano), endTimeUnixNano: String(nano + 5_000_000n),
        attributes: [{ key: '<b>k</b>', value: { stringValue: '<script>window.__pwned=2</script>' } }],
      }] }],
    }],
  };
  const res = await fetch(`${collector.origin}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  assert.equal(res.status, 200);
  const page = await ui(`#/trace/${traceId}`);
  await page.waitForSelector('.span-row');
  await page.click('.span-row .span-name');
  assert.equal(await page.textContent('.span-row .span-name'), '<img src=x onerror="window.__pwned=1">');
  assert.match(await page.textContent('#span-details'), /<script>window\.__pwned=2<\/script>/);
  await page.goto(`${collector.origin}/#/`);
  await page.waitForSelector(`tr.trace-row[data-trace-id="${traceId}"]`);
  assert.equal(await page.evaluate(() => window.__pwned), undefined);
  assert.equal(await page.locator('img, script:not([src])').count(), 0, 'no element made from data');
}, { needsTrace: false });
