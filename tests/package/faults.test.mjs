// The fault-injection suite (issue 17): the built package in headless Chromium, sending to
// the real local collector (stopped, restarted, killed with SIGKILL) or to the OTLP sink
// (429 storms, responses that hang), while the page keeps making spans. Each scenario counts
// the spans the page made and those that arrived (distinct span ids), asserts that none was
// lost, and bounds the requests made so that no retry storm can pass. The table of every
// scenario is printed and written to target/test-artifacts/faults/table.md.
//
// Run: scripts/test-faults [--full] (builds what it needs), or, once built,
//      cd tests/package && node --test --test-concurrency=1 faults.test.mjs
// Environment: ET_FAULTS_FULL=1 runs the durations (a collector down for 30 s of a
// 50 s run at 10 spans/s; 20 s storms) instead of the shorter ones; CHROMIUM, ET_PKG_DIR,
// ET_COLLECTOR_BIN, ET_ARTIFACTS_DIR as for the other package tests.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServers, PLAIN_HTML } from './server.mjs';
import { launchChromium } from './chromium.mjs';
import { startCollector, stopProcess, collectorApi } from './processes.mjs';
import { startSink } from './sink.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..', '..');
const PKG_DIR = path.resolve(process.env.ET_PKG_DIR || path.join(ROOT, 'pkg'));
const COLLECTOR_BIN = path.resolve(process.env.ET_COLLECTOR_BIN || path.join(ROOT, 'target', 'debug', 'edge-collector'));
const ARTIFACTS = path.resolve(process.env.ET_ARTIFACTS_DIR || path.join(ROOT, 'target', 'test-artifacts', 'faults'));
const FULL = process.env.ET_FAULTS_FULL === '1';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// The SDK's retry defaults (README: backoff ×1.5 from 1 s, capped at 5 s, ±20 % jitter).
const INITIAL_BACKOFF = 1000;
const MAX_BACKOFF = 5000;

/**
 * The most attempts one prober can make in `ms` of failure, each `perAttempt` ms long at
 * least, with the shortest backoff (jitter −20 %) between them: the bound a retry storm
 * breaks.
 */
function probeBound(ms, perAttempt = 0, initial = INITIAL_BACKOFF, max = MAX_BACKOFF) {
  let t = 0;
  let n = 0;
  while (t <= ms) {
    n++;
    t += perAttempt + 0.8 * Math.min(initial * 1.5 ** (n - 1), max);
  }
  return n;
}

let srv;
let browser;
const rows = [];

before(async () => {
  for (const [file, hint] of [
    [path.join(PKG_DIR, 'index.js'), 'run scripts/build-pkg first'],
    [COLLECTOR_BIN, 'cargo build -p edge-telemetry-collector --bin edge-collector (or set ET_COLLECTOR_BIN)'],
  ]) {
    if (!fs.existsSync(file)) throw new Error(`missing ${file}: ${hint}`);
  }
  fs.rmSync(ARTIFACTS, { recursive: true, force: true });
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  srv = await startServers({ pkgDir: PKG_DIR, pages: new Map([['/faults.html', { html: PLAIN_HTML }]]) });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await srv?.close();
  const table = [
    '| scenario | spans sent | arrived | lost | requests made | during the fault (bound) |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map((r) => `| ${r.scenario} | ${r.sent} | ${r.arrived} | ${r.sent - r.arrived} | ${r.requests} | ${r.during} |`),
  ].join('\n');
  console.log(`\nFault-injection suite (${FULL ? 'full' : 'short'} durations):\n${table}\n`);
  fs.writeFileSync(path.join(ARTIFACTS, 'table.md'), `${table}\n`);
});

/** A fresh page of the app origin with the SDK loaded. */
async function openPage() {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${srv.appOrigin}/faults.html`);
  await page.waitForFunction(() => window.__ready === true, null, { timeout: 20_000 });
  return { page, context, errors };
}

/**
 * Starts making `rate` spans a second for `seconds` in the page (named `<prefix>-<n>`);
 * resolves once it has begun. `page.evaluate(() => window.__made)` resolves when it is done.
 */
async function generate(page, options, prefix, rate, seconds) {
  await page.evaluate(({ o, prefix, rate, seconds }) => {
    ET.init(o);
    window.__made = new Promise((resolve) => {
      let n = 0;
      const total = rate * seconds;
      const t = setInterval(() => {
        const s = ET.startSpan(`${prefix}-${n}`);
        s.setAttribute('seq', n);
        s.end();
        if (++n >= total) {
          clearInterval(t);
          resolve(n);
        }
      }, 1000 / rate);
    });
  }, { o: options, prefix, rate, seconds });
}

/** Waits for the generator, then flushes until acknowledged; the page's stats. */
async function finish(page) {
  const made = await page.evaluate(() => window.__made);
  let ok = false;
  for (let i = 0; i < 4 && !ok; i++) ok = await page.evaluate(() => ET.flush());
  const stats = await page.evaluate(() => ET.getStats());
  return { made, ok, stats };
}

/** The edge-collector on `port` (0: any) with its store in `db`, no ingest rate limit. */
function collectorOn(port, db) {
  return startCollector(COLLECTOR_BIN, undefined, {
    allowOrigins: [srv.appOrigin],
    args: ['--addr', `127.0.0.1:${port}`, '--db', db, '--ingest-rate', '0'],
  });
}

const portOf = (origin) => Number(new URL(origin).port);

test('a collector stopped for a while and started again as the page keeps making spans: nothing lost, one prober', { timeout: 240_000 }, async (t) => {
  const [rate, seconds, downAt, upAt] = FULL ? [10, 50, 10, 40] : [10, 20, 4, 14];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'et-faults-'));
  const db = path.join(dir, 'outage.db');
  let collector = await collectorOn(0, db);
  const port = portOf(collector.origin);
  const { page, context, errors } = await openPage();
  try {
    const start = Date.now();
    await generate(page, { serviceName: 'faults', endpoint: collector.origin, instrumentDocumentLoad: false, userInteractionEvents: [] }, 'outage', rate, seconds);
    await sleep(downAt * 1000 - (Date.now() - start));
    await stopProcess(collector.proc);
    const down = Date.now();
    await sleep(upAt * 1000 - (Date.now() - start));
    collector = await collectorOn(port, db);
    const outage = Date.now() - down;
    const r = await finish(page);
    const { getJson } = collectorApi(collector.origin);
    const arrived = (await getJson('/api/status')).json.spans;
    // Requests: one per batch the collector acknowledged, plus the prober's attempts while it
    // was down and at most one batch held behind it (maxConcurrentExports 2).
    const batches = r.stats.exportRequests - r.stats.exportRetries;
    const probes = probeBound(outage);
    const bound = batches + probes + 1;
    t.diagnostic(`${r.made} spans made, ${arrived} stored; ${r.stats.exportRequests} requests (${r.stats.exportRetries} retries) for ${batches} batches; collector down ${outage} ms; stats ${JSON.stringify(r.stats)}`);
    rows.push({ scenario: `collector stopped ${Math.round(outage / 1000)} s of ${seconds} s, ${rate} spans/s`, sent: r.made, arrived, requests: r.stats.exportRequests, during: `${r.stats.exportRequests - batches} failed attempts (≤ ${probes + 1})` });
    assert.equal(r.ok, true, 'flush resolves true once the collector is back');
    assert.equal(arrived, r.made, 'every span made arrived');
    assert.equal(r.stats.spansDropped + r.stats.spansExportFailed, 0);
    assert.ok(r.stats.exportRetries >= 2, 'the outage was seen (retries)');
    assert.ok(r.stats.exportRequests <= bound, `no retry storm: ${r.stats.exportRequests} requests, bound ${bound}`);
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
    await stopProcess(collector.proc);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

/**
 * A sink scenario: the page sends to the OTLP sink while `fault` (a sink mode) is on for
 * `stormSeconds` of the run. Asserts that every span made arrived (distinct span ids of the
 * answered requests) and that the requests made during the fault stay within
 * `bound(faultMillis)`; `check(sink)` adds assertions of its own. One row of the table.
 */
async function sinkScenario(t, { name, label, fault, options = {}, rate = 10, seconds, stormFrom, stormSeconds, bound, check = () => {} }) {
  const sink = await startSink({ noCapture: ['/v1/traces'] });
  const { page, context, errors } = await openPage();
  try {
    const tid = `faults-${name}`;
    const start = Date.now();
    await generate(page, {
      serviceName: 'faults', endpoint: sink.origin, instrumentDocumentLoad: false, userInteractionEvents: [],
      resourceAttributes: { 'test.id': tid }, ...options,
    }, name, rate, seconds);
    await sleep(stormFrom * 1000 - (Date.now() - start));
    sink.setMode(fault);
    const from = Date.now();
    await sleep(stormSeconds * 1000);
    sink.setMode({ status: 200 });
    const storm = Date.now() - from;
    const r = await finish(page);
    const mine = sink.requests.filter((q) => q.path === '/v1/traces' && q.method === 'POST');
    const during = mine.filter((q) => q.at >= from && q.at < from + storm).length;
    const arrived = new Set(mine.filter((q) => q.status === 200).flatMap((q) => q.spans.map((s) => s.spanId))).size;
    const max = bound(storm);
    t.diagnostic(`${r.made} spans made, ${arrived} arrived; ${mine.length} requests reached the sink (${during} during the ${storm} ms fault); page: ${r.stats.exportRequests} requests, ${r.stats.exportRetries} retries`);
    rows.push({ scenario: label, sent: r.made, arrived, requests: mine.length, during: `${during} (≤ ${max})` });
    assert.equal(r.ok, true, 'flush resolves true once the endpoint answers');
    assert.equal(arrived, r.made, 'every span arrived');
    assert.ok(during <= max, `${during} requests during the ${storm} ms fault, bound ${max}`);
    assert.ok(during >= 2, 'the fault was seen');
    check(sink);
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
    await sink.close();
  }
}

test('a 429 storm with Retry-After: the page waits as told, sends nothing meanwhile but the probe, loses nothing', { timeout: 180_000 }, async (t) => {
  const stormSeconds = FULL ? 20 : 8;
  await sinkScenario(t, {
    name: 'storm-ra', label: `429 storm with Retry-After: 2 for ${stormSeconds} s`,
    fault: { status: 429, retryAfter: '2' }, seconds: stormSeconds + 6, stormFrom: 2, stormSeconds,
    options: { batch: { scheduledDelayMillis: 1000 } },
    // One attempt per Retry-After (2 s) at most, plus the batch in flight when it began and
    // one held behind the probe.
    bound: (storm) => Math.ceil(storm / 2000) + 2,
  });
});

test('a 429 storm without Retry-After: one prober backing off to the cap, nothing lost', { timeout: 180_000 }, async (t) => {
  const stormSeconds = FULL ? 20 : 8;
  await sinkScenario(t, {
    name: 'storm', label: `429 storm without Retry-After for ${stormSeconds} s`,
    fault: { status: 429 }, seconds: stormSeconds + 6, stormFrom: 2, stormSeconds,
    options: { batch: { scheduledDelayMillis: 1000 } },
    bound: (storm) => probeBound(storm) + 2,
  });
});

test('responses that hang: each attempt is aborted at exportTimeoutMillis and probed again; nothing lost once the endpoint answers', { timeout: 180_000 }, async (t) => {
  const hangSeconds = FULL ? 20 : 8;
  const timeout = 2000;
  await sinkScenario(t, {
    name: 'hang', label: `responses hang for ${hangSeconds} s (exportTimeoutMillis ${timeout})`,
    fault: { hang: true }, seconds: hangSeconds + 6, stormFrom: 2, stormSeconds: hangSeconds,
    options: { batch: { scheduledDelayMillis: 1000, exportTimeoutMillis: timeout } },
    bound: (storm) => probeBound(storm, timeout) + 2,
    check: (sink) => assert.equal(sink.requests.filter((q) => q.status === null && q.closedAt === null).length, 0, 'every aborted attempt ended on the wire'),
  });
});

// OTLP/JSON of one trace of `n` spans (a root and its children), as a program would send it.
function otlpTrace(traceId, n) {
  const spans = [];
  const t0 = BigInt(Date.now()) * 1_000_000n;
  for (let i = 0; i < n; i++) {
    spans.push({
      traceId,
      spanId: (i + 1).toString(16).padStart(16, '0'),
      parentSpanId: i === 0 ? '' : '0000000000000001',
      name: i === 0 ? 'load' : `load-${i}`,
      kind: 1,
      startTimeUnixNano: String(t0 + BigInt(i)),
      endTimeUnixNano: String(t0 + BigInt(i) + 1000n),
      attributes: [{ key: 'i', value: { intValue: String(i) } }, { key: 'pad', value: { stringValue: 'x'.repeat(64) } }],
    });
  }
  return JSON.stringify({
    resourceSpans: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'loader' } }] }, scopeSpans: [{ scope: { name: 'faults' }, spans }] }],
  });
}

test('a collector killed with SIGKILL in the middle of ingestion: nothing half-stored, clients retry, nothing lost', { timeout: 180_000 }, async (t) => {
  const SPANS = 1000;
  const TRACES = FULL ? 60 : 30;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'et-faults-'));
  const db = path.join(dir, 'kill.db');
  let collector = await collectorOn(0, db);
  const port = portOf(collector.origin);
  const origin = collector.origin;
  const { page, context, errors } = await openPage();
  try {
    // The page makes spans through it all; a loader posts large traces, 3 at a time.
    const start = Date.now();
    await generate(page, { serviceName: 'faults', endpoint: origin, instrumentDocumentLoad: false, userInteractionEvents: [], batch: { scheduledDelayMillis: 500 } }, 'kill', 20, 10);
    const traces = Array.from({ length: TRACES }, (_, i) => `${(0xfa000000 + i).toString(16)}${'0'.repeat(24)}`);
    const acked = new Set();
    const state = { killed: false, inFlightAtKill: 0, posts: 0 };
    const inFlight = new Set();
    const post = async (id) => {
      state.posts++;
      inFlight.add(id);
      try {
        const res = await fetch(`${origin}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: otlpTrace(id, SPANS) });
        await res.text();
        if (res.status === 200) acked.add(id);
      } catch (_) {
        // Connection reset by the kill: retried below.
      } finally {
        inFlight.delete(id);
      }
    };
    let next = 0;
    const worker = async () => {
      while (!state.killed && next < traces.length) await post(traces[next++]);
    };
    const loaders = Promise.all([worker(), worker(), worker()]);
    // Kill once a few traces are stored, while posts are in flight.
    while (acked.size < 5 && Date.now() - start < 20_000) await sleep(20);
    while (inFlight.size === 0) await sleep(1);
    state.inFlightAtKill = inFlight.size;
    collector.proc.kill('SIGKILL');
    state.killed = true;
    await new Promise((r) => (collector.proc.exitCode !== null || collector.proc.signalCode !== null ? r() : collector.proc.once('exit', r)));
    await loaders;
    await sleep(1000);
    collector = await collectorOn(port, db);
    const { getJson } = collectorApi(collector.origin);
    const count = async (id) => {
      const r = await getJson(`/api/traces/${id}`);
      return r.status === 200 ? r.json.spans.length : 0;
    };
    // Nothing half-stored: each trace the loader posted is there whole or not at all, and
    // every acknowledged one is whole.
    const posted = traces.slice(0, next);
    const before = [];
    for (const id of posted) before.push(await count(id));
    t.diagnostic(`killed with ${state.inFlightAtKill} posts in flight; ${acked.size} of ${posted.length} posted traces acknowledged; stored after restart: ${before.join(',')}`);
    assert.ok(state.inFlightAtKill >= 1, 'the kill came in the middle of ingestion');
    before.forEach((n, i) => assert.ok(n === 0 || n === SPANS, `trace ${posted[i]}: ${n} of ${SPANS} spans stored`));
    posted.forEach((id, i) => { if (acked.has(id)) assert.equal(before[i], SPANS, `acknowledged trace ${id} survived the kill`); });
    // Clients retry: the loader sends again what was not acknowledged, then the rest.
    for (const id of traces) if (!acked.has(id)) await post(id);
    const after = [];
    for (const id of traces) after.push(await count(id));
    assert.deepEqual(after, traces.map(() => SPANS), 'every trace whole, once (duplicates are stored once: span ids are unique per trace)');
    const r = await finish(page);
    const spans = (await getJson('/api/status')).json.spans;
    const arrived = spans - TRACES * SPANS;
    t.diagnostic(`page: ${r.made} spans made, ${arrived} stored; ${r.stats.exportRequests} requests, ${r.stats.exportRetries} retries`);
    const stored = before.filter((n) => n === SPANS).length;
    rows.push({ scenario: `collector killed (SIGKILL) mid-ingestion, restarted after 1 s: page at 20 spans/s + ${TRACES} traces of ${SPANS} spans`, sent: r.made + TRACES * SPANS, arrived: spans, requests: `${r.stats.exportRequests} (page) + ${state.posts} (loader)`, during: `${state.inFlightAtKill} in flight at the kill; ${stored} of ${posted.length} traces stored whole, ${posted.length - stored} not at all, 0 in part` });
    assert.equal(r.ok, true);
    assert.equal(arrived, r.made, "every span of the page's arrived");
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
    await stopProcess(collector.proc);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
