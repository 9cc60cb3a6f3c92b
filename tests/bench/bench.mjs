// Performance comparison of edge-telemetry (the built pkg/) with the OpenTelemetry JS web SDK
// (WebTracerProvider + BatchSpanProcessor + OTLP/HTTP JSON exporter + fetch instrumentation), in
// one headless Chromium run: the same HTML shell served from 127.0.0.1, the same local OTLP
// sink on another port (servers.mjs). Run through scripts/bench, which builds the package and
// installs this directory first. Prints a table; writes every round to results.json.
//
//   node bench.mjs [--quick] [--out FILE]
//
//   --quick     smaller loops and fewer rounds (a smoke test of the harness, ~15 s)
//   --out FILE  results JSON (default tests/bench/results.json)
//
// Environment: CHROMIUM (browser binary, default `command -v chromium`).
//
// Both SDKs are bundled minified by esbuild (ESM, browser, es2022) from entries/ours.js and
// entries/otel.js, which hold the timed loops, written once per SDK in its own idiomatic API
// (same loop shape, same span names and attributes, same batch options). Each SDK runs on its
// own fresh page (its own browser context), so neither wraps the other's fetch; rounds
// alternate between the SDKs. Chromium runs with --expose-gc and the harness collects garbage
// before each timed call.
//
//  1 bundle size: entries/*-size.js (an app's worth of API calls) minified; raw, gzip -9,
//    brotli q11; ours = JS bundle + edge_telemetry_bg.wasm, each compressed separately. Also
//    beside OpenTelemetry JS + rollbar.js (entries/otel-rollbar-size.js: the two SDKs ours
//    replaces, traces and errors), in the OpenTelemetry column of those rows.
//  2 ns per root span: a loop of N x (start with 1 attribute, set 2 more, end), timed with
//    performance.now() in the page (5 µs resolution: the shell is cross-origin isolated);
//    median of the rounds, after a warm-up loop. The sink is flushed between rounds (not
//    timed); drops = spans created - spans the sink received.
//  3 ns per child span: start + end, parent passed explicitly (options.parent / a Context) and
//    parent active (withSpan / context.with).
//    2 and 3 are also given (own rows) as the main thread's CPU time for the same call (CDP
//    Performance.getMetrics TaskDuration in threadTicks), which a busy machine disturbs less.
//  4 export 512 spans: create 512 spans (64 traces of 8, 4 attributes each), then call
//    flush()/forceFlush() from a page task and wait for its promise (the sink has answered).
//    Main-thread CPU ms = delta of CDP TaskDuration (threadTicks) minus the same around an
//    empty task; script ms likewise from ScriptDuration; wall ms from performance.now().
//    Also measured: one bare fetch POST of the same body size on a page without any SDK (the
//    floor that any exporter pays).
//  5 bytes on the wire per span: request body bytes received by the sink / spans in them, over
//    the 512-span exports (after content-encoding; the uncompressed JSON size is shown too).
//  6 synchronous µs added per fetch: N x fetch(sink) without awaiting inside the timed loop
//    (awaited after), on a page with the SDK minus a page without it; median over rounds of
//    the loop mean, and of the mean of the fastest 90% of calls (less sensitive to the main
//    thread being descheduled). The first row takes out the time spent inside the browser's own
//    fetch() (timed by a wrapper installed before the SDK, which each SDK wraps in turn):
//    Chromium's fetch varies by hundreds of µs a call and drowns the SDK's few µs otherwise.
//    Adding a header makes the browser's fetch itself dearer too; both SDKs add one. The
//    stubbed row replaces the browser's fetch under both SDKs with a resolved promise: what
//    is left is the SDK's own code (and the garbage it makes), which the other rows cannot
//    resolve; it is the row the ≤ 0.25× budget is judged on.
//  7 init: on a fresh page, performance.now() before import() of the bundle to after init()
//    returns (ours no longer waits for the wasm there), and init() alone; median of fresh
//    pages. "App entry blocked": from the bundle's first statement (an esbuild banner) to the
//    entry module's first statement after its imports, i.e. how long the SDK holds the app
//    back. "Engine ready": from the bundle's first statement until the SDK works with its
//    engine (ours: the wasm fetched, compiled, instantiated and the early calls replayed; the
//    server sends no-store, so nothing is cached between pages). The other figures are
//    measured once the engine is ready.
//  8 calls into wasm per span (start + end; alone, and in a task making 1,000) and per
//    instrumented fetch, counted.
//  9 wasm memory while 100,000 spans are made and exported.

import { chromium } from 'playwright-core';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServers } from './servers.mjs';
import { launchRaw } from './cdp-pipe.mjs';
import { sizes, addSizes, bundle as bundleEntry } from './size.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..', '..');
const DIST = path.join(HERE, 'dist');

const argv = process.argv.slice(2);
const QUICK = argv.includes('--quick');
const OUT = (() => {
  const i = argv.indexOf('--out');
  return i >= 0 && argv[i + 1] ? path.resolve(argv[i + 1]) : path.join(HERE, 'results.json');
})();
const CHROMIUM = process.env.CHROMIUM || (() => {
  try {
    return execFileSync('sh', ['-c', 'command -v chromium'], { encoding: 'utf8' }).trim();
  } catch {
    return '/usr/bin/chromium';
  }
})();

const CFG = {
  spanN: QUICK ? 2000 : 20000, // spans per timed loop
  spanWarmN: QUICK ? 1000 : 5000, // spans per warm-up loop (one per kind, not reported)
  spanRounds: QUICK ? 2 : 7,
  exportSpans: 512,
  exportRounds: QUICK ? 2 : 7, // plus one warm-up round
  fetchN: QUICK ? 100 : 500,
  memoryBatches: QUICK ? 10 : 100,
  fetchRounds: QUICK ? 2 : 7, // plus one warm-up round
  initRounds: QUICK ? 2 : 9, // plus one warm-up round
  // The same for both SDKs. The queue holds a whole timed loop and the batch size equals the
  // queue, so no export starts inside a timed loop (the harness flushes between rounds, not
  // timed) and the 512-span export is one request made by flush/forceFlush. The timer is
  // longer than any page lives, so only the harness's flushes export.
  batch: { scheduledDelayMillis: 60000, maxQueueSize: 32768, maxExportBatchSize: 32768, exportTimeoutMillis: 30000 },
  evaluateTimeoutMs: 60000,
};

const SDKS = [
  { id: 'ours', label: 'edge-telemetry', bundle: '/dist/ours.js' },
  { id: 'otel', label: 'OpenTelemetry JS', bundle: '/dist/otel.js' },
];
const CHROMIUM_ARGS = [
  '--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--js-flags=--expose-gc',
];

const log = (...a) => console.error('bench:', ...a);
const median = (xs) => {
  const s = xs.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (!s.length) return null;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const sum = (xs) => xs.reduce((a, b) => a + b, 0);
const round = (x, d = 3) => (typeof x === 'number' ? Number(x.toFixed(d)) : x);

function withTimeout(promise, ms, what) {
  let t;
  return Promise.race([
    promise,
    new Promise((_, reject) => { t = setTimeout(() => reject(new Error(`${what}: timed out after ${ms} ms`)), ms); }),
  ]).finally(() => clearTimeout(t));
}

// ---------------------------------------------------------------------------------------------
// Bundles and sizes
// ---------------------------------------------------------------------------------------------

// The bench bundles (the banner is the bundle's first statement: "app entry blocked" runs
// from there to the entry's own first statement after its imports, figure 7).
const BANNER = 'globalThis.__benchBundleStart = performance.now();';
const bundle = (entry, outfile) => bundleEntry(entry, outfile, BANNER);

async function buildAll() {
  fs.rmSync(DIST, { recursive: true, force: true });
  fs.mkdirSync(path.join(DIST, 'size'), { recursive: true });
  const wasmSrc = path.join(HERE, 'node_modules', 'edge-telemetry', 'edge_telemetry_bg.wasm');
  const wasm = fs.readFileSync(wasmSrc);
  // The package loads the wasm from new URL('./edge_telemetry_bg.wasm', import.meta.url):
  // next to the bundle.
  fs.copyFileSync(wasmSrc, path.join(DIST, 'edge_telemetry_bg.wasm'));
  const [ours, otel, oursSize, otelSize, otelRollbarSize] = await Promise.all([
    bundle('ours.js', path.join(DIST, 'ours.js')),
    bundle('otel.js', path.join(DIST, 'otel.js')),
    bundle('ours-size.js', path.join(DIST, 'size', 'ours.js')),
    bundle('otel-size.js', path.join(DIST, 'size', 'otel.js')),
    bundle('otel-rollbar-size.js', path.join(DIST, 'size', 'otel-rollbar.js')),
  ]);
  const js = sizes(oursSize);
  const w = sizes(wasm);
  // Loaded after start-up with Rollbar on: the item encoder's glue chunk and module.
  const encoderFile = path.join(HERE, 'node_modules', 'edge-telemetry', 'edge_telemetry_errors_bg.wasm');
  const later = fs.existsSync(encoderFile) ? addSizes(sizes(oursSize.lazy), sizes(fs.readFileSync(encoderFile))) : undefined;
  return {
    ours: { js, wasm: w, total: addSizes(js, w), later },
    otel: { total: sizes(otelSize) },
    otelRollbar: { total: sizes(otelRollbarSize) },
    benchBundles: { ours: ours.length, otel: otel.length },
  };
}

// ---------------------------------------------------------------------------------------------
// Pages
// ---------------------------------------------------------------------------------------------

let browser;
let srv;

/**
 * A fresh page (its own browser context) on the shell. With `raw` (a launchRaw browser), driven
 * over a bare CDP pipe instead of Playwright (see cdp-pipe.mjs).
 */
async function openPage(raw = null) {
  if (raw) {
    const rp = await raw.newPage(`${srv.pageOrigin}/`);
    return {
      errors: [],
      eval: (fn, arg, what = 'evaluate') => withTimeout(rp.eval(fn, arg), CFG.evaluateTimeoutMs, what),
      call: (name, ...args) =>
        withTimeout(rp.eval(([n, a]) => window.SDK[n](...a), [name, args]), CFG.evaluateTimeoutMs, name),
      gc: () => rp.eval(() => { if (typeof window.gc === 'function') window.gc(); }),
      close: () => rp.close(),
    };
  }
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') errors.push(`console.${m.type()}: ${m.text()}`);
  });
  await page.goto(`${srv.pageOrigin}/`);
  const p = {
    context,
    page,
    errors,
    eval: (fn, arg, what = 'page.evaluate') => withTimeout(page.evaluate(fn, arg), CFG.evaluateTimeoutMs, what),
    call: (name, ...args) =>
      withTimeout(page.evaluate(([n, a]) => window.SDK[n](...a), [name, args]), CFG.evaluateTimeoutMs, name),
    gc: () => page.evaluate(() => { if (typeof window.gc === 'function') window.gc(); }),
    close: () => context.close(),
  };
  return p;
}

const setupArgs = (sdk, prefix) => ({
  url: srv.pageOrigin + sdk.bundle,
  endpoint: srv.sinkOrigin + prefix,
  batch: CFG.batch,
});

/** A fresh page with one SDK imported and set up (window.SDK); p.ok false when setup threw. */
async function openSdkPage(sdk, tag, raw = null, before = null) {
  const p = await openPage(raw);
  if (before) await p.eval(before, null, `${sdk.id} ${tag} set-up`);
  p.sdk = sdk;
  p.prefix = `/${sdk.id}-${tag}`;
  const r = await p.eval(async ({ url, endpoint, batch }) => {
    let step = 'import';
    try {
      const m = await import(url);
      window.SDK = m;
      step = 'init';
      m.setup(endpoint, batch);
      step = 'ready';
      await m.ready();
      return { ok: true, isolated: self.crossOriginIsolated };
    } catch (e) {
      return { ok: false, error: `${step}: ${String((e && e.message) || e)}`, isolated: self.crossOriginIsolated };
    }
  }, setupArgs(sdk, p.prefix), `${sdk.id} setup`);
  Object.assign(p, { ok: r.ok, error: r.error, isolated: r.isolated });
  if (!r.ok) log(`${sdk.label}: ${r.error}`);
  return p;
}

async function flushPage(p) {
  try {
    const r = await p.call('flush');
    return { ok: r !== false, result: r };
  } catch (e) {
    return { ok: false, error: String(e.message || e) };
  }
}

// Alternates which SDK goes first from round to round, so neither always runs right after the
// other's garbage or while the machine is warming up.
const order = (list, r) => (r % 2 ? [...list].reverse() : list);

// ---------------------------------------------------------------------------------------------
// Figures 2 and 3: ns per root span, per child span; 4 and 5: exporting 512 spans.
// ---------------------------------------------------------------------------------------------

const KINDS = ['rootSpans', 'childSpansExplicit', 'childSpansActive'];

async function spanAndExportFigures(out) {
  const pages = {};
  for (const sdk of SDKS) pages[sdk.id] = await openSdkPage(sdk, 'spans');
  const live = SDKS.map((s) => pages[s.id]).filter((p) => p.ok);
  for (const sdk of SDKS) {
    const p = pages[sdk.id];
    out.sdk[sdk.id] = { init: { ok: p.ok, error: p.error }, crossOriginIsolated: p.isolated };
  }

  // CDP Performance metrics (cumulative main-thread TaskDuration, ScriptDuration, ...) in thread
  // CPU time (timeDomain threadTicks): time the main thread spends descheduled on a busy
  // machine is not counted.
  for (const p of live) await enableMetrics(p, out);
  // Main-thread CPU ms of a DevTools evaluate that does nothing (subtracted from the loops').
  for (const p of live) {
    const xs = [];
    for (let i = 0; i < 5; i++) {
      const a = await metrics(p);
      await p.eval(() => 0);
      const b = await metrics(p);
      xs.push((b.TaskDuration - a.TaskDuration) * 1000);
    }
    p.evalCpuMs = median(xs);
  }

  // Span loops: wall time from performance.now() in the page (the figure) and, as a cross-check
  // robust to a busy machine, the main thread's CPU time for the same call.
  const created = {};
  const flushErrors = {};
  for (const p of live) {
    created[p.sdk.id] = 0;
    flushErrors[p.sdk.id] = [];
    out.sdk[p.sdk.id].spans = Object.fromEntries(KINDS.map((k) => [k, []]));
    out.sdk[p.sdk.id].spansCpu = Object.fromEntries(KINDS.map((k) => [k, []]));
  }
  const loop = async (p, kind, n) => {
    await p.gc();
    const m0 = await metrics(p);
    const ms = await p.call(kind, n);
    const m1 = await metrics(p);
    created[p.sdk.id] += n + (kind === 'rootSpans' ? 0 : 1);
    const f = await flushPage(p);
    if (!f.ok) flushErrors[p.sdk.id].push(f.error || `flush returned ${f.result}`);
    return { ms, cpuMs: Math.max(0, (m1.TaskDuration - m0.TaskDuration) * 1000 - p.evalCpuMs) };
  };
  log(`span loops: ${CFG.spanRounds} rounds of ${CFG.spanN} spans per kind`);
  srvPhase('spans');
  for (const kind of KINDS) for (const p of live) await loop(p, kind, CFG.spanWarmN);
  for (let r = 0; r < CFG.spanRounds; r++) {
    for (const kind of KINDS) {
      for (const p of order(live, r)) {
        const { ms, cpuMs } = await loop(p, kind, CFG.spanN);
        out.sdk[p.sdk.id].spans[kind].push((ms * 1e6) / CFG.spanN);
        out.sdk[p.sdk.id].spansCpu[kind].push((cpuMs * 1e6) / CFG.spanN);
      }
    }
  }
  await srv.sink.settled();
  for (const p of live) {
    const s = out.sdk[p.sdk.id];
    const received = sum(srv.sink.select(p.prefix, 'spans').map((r) => r.spans || 0));
    s.spanLoops = {
      created: created[p.sdk.id],
      received,
      dropped: created[p.sdk.id] - received,
      flushErrors: flushErrors[p.sdk.id].slice(0, 5),
      sdkStats: await p.call('stats').catch((e) => ({ error: String(e.message || e) })),
    };
  }

  // Export 512 spans, measured with the CDP metrics around the flush: TaskDuration (all
  // main-thread tasks) and ScriptDuration, minus the same around an empty call. flush is called from a page task (setTimeout), not
  // from the DevTools evaluate itself: script run inside a DevTools command is counted as
  // DevToolsCommandDuration, not ScriptDuration.
  log(`export: ${CFG.exportRounds} rounds (+1 warm-up) of ${CFG.exportSpans} spans`);
  for (const p of live) out.sdk[p.sdk.id].export = [];
  // The floor: on a page without any SDK, one fetch POST of the same body size as the SDK's
  // export (same content-type and content-encoding headers), measured the same way.
  const bare = live.length ? await openPage() : null;
  if (bare) {
    await enableMetrics(bare, out);
    for (const p of live) out.sdk[p.sdk.id].bareFetch = [];
  }
  const bareTask = (bytes, encoding) =>
    bare.eval(({ url, encoding }) => new Promise((resolve, reject) => {
      setTimeout(async () => {
        try {
          const headers = { 'content-type': 'application/json' };
          if (encoding && encoding !== 'identity') headers['content-encoding'] = encoding;
          const t0 = performance.now();
          const r = window.__body ? await fetch(url, { method: 'POST', body: window.__body, headers }) : await null;
          const t = performance.now() - t0;
          if (r && !r.ok) throw new Error(`bare POST: HTTP ${r.status}`);
          resolve(t);
        } catch (e) {
          reject(e);
        }
      }, 0);
    }), { url: `${srv.sinkOrigin}/fetch`, encoding }, 'bare fetch POST');
  // Runs window.SDK.flush (or nothing) in a timer task; resolves with the wall ms from the call
  // to the resolution of its promise.
  const inTask = (p, what) =>
    p.eval((what) => new Promise((resolve, reject) => {
      setTimeout(async () => {
        try {
          const t0 = performance.now();
          const ok = what === 'flush' ? await window.SDK.flush() : await null;
          const t = performance.now() - t0;
          if (ok === false) throw new Error('flush resolved false');
          resolve(t);
        } catch (e) {
          reject(e);
        }
      }, 0);
    }), what, `${p.sdk.id} ${what}`);
  for (let r = 0; r <= CFG.exportRounds; r++) {
    for (const p of order(live, r)) {
      const phase = `export-${r}`;
      srvPhase(phase);
      await p.call('makeSpans', CFG.exportSpans);
      await p.gc();
      const b0 = await metrics(p);
      await inTask(p, 'nothing');
      const b1 = await metrics(p);
      const m0 = await metrics(p);
      let wall = null;
      let error = null;
      try {
        wall = await inTask(p, 'flush');
      } catch (e) {
        error = String(e.message || e);
      }
      const m1 = await metrics(p);
      await srv.sink.settled();
      const recs = srv.sink.select(p.prefix, phase);
      const row = {
        round: r,
        warmUp: r === 0,
        wallMs: wall,
        taskMs: (m1.TaskDuration - m0.TaskDuration) * 1000,
        scriptMs: (m1.ScriptDuration - m0.ScriptDuration) * 1000,
        baselineTaskMs: (b1.TaskDuration - b0.TaskDuration) * 1000,
        baselineScriptMs: (b1.ScriptDuration - b0.ScriptDuration) * 1000,
        requests: recs.length,
        bytes: sum(recs.map((x) => x.bytes)),
        decodedBytes: sum(recs.map((x) => x.decodedBytes || 0)),
        spans: sum(recs.map((x) => x.spans || 0)),
        encodings: [...new Set(recs.map((x) => x.encoding))],
        contentTypes: [...new Set(recs.map((x) => x.contentType))],
        sinkErrors: recs.map((x) => x.error).filter(Boolean),
        error,
      };
      out.sdk[p.sdk.id].export.push(row);
      if (bare && row.bytes > 0) {
        await bare.eval((n) => { window.__body = null; }, 0);
        const c0 = await metrics(bare);
        await bareTask(0);
        const c1 = await metrics(bare);
        await bare.eval((n) => { window.__body = new Uint8Array(n).fill(120); }, row.bytes);
        await bare.gc();
        const d0 = await metrics(bare);
        const wallMs = await bareTask(row.bytes, row.encodings[0]);
        const d1 = await metrics(bare);
        out.sdk[p.sdk.id].bareFetch.push({
          round: r,
          warmUp: r === 0,
          bytes: row.bytes,
          wallMs,
          taskMs: (d1.TaskDuration - d0.TaskDuration) * 1000,
          baselineTaskMs: (c1.TaskDuration - c0.TaskDuration) * 1000,
        });
      }
      if (error) log(`${p.sdk.label}: export round ${r}: ${error}`);
      else if (row.spans !== CFG.exportSpans) log(`${p.sdk.label}: export round ${r}: sink got ${row.spans} spans, expected ${CFG.exportSpans}`);
    }
  }
  for (const p of Object.values(pages)) {
    out.sdk[p.sdk.id].pageErrors = p.errors.slice(0, 10);
    await p.close();
  }
  await bare?.close();
}

async function enableMetrics(p, out) {
  p.cdp = await p.context.newCDPSession(p.page);
  try {
    await p.cdp.send('Performance.enable', { timeDomain: 'threadTicks' });
    out.cdpTimeDomain = 'threadTicks';
  } catch {
    await p.cdp.send('Performance.enable');
    out.cdpTimeDomain = 'timeTicks';
  }
}

async function metrics(p) {
  return Object.fromEntries((await p.cdp.send('Performance.getMetrics')).metrics.map((m) => [m.name, m.value]));
}

function srvPhase(name) {
  srv.sink.phase = name;
}

// ---------------------------------------------------------------------------------------------
// Figure 6: synchronous µs per fetch call, with each SDK and on a page without any.
// ---------------------------------------------------------------------------------------------

async function fetchFigure(out) {
  log(`fetch: ${CFG.fetchRounds} rounds (+1 warm-up) of ${CFG.fetchN} calls, then as many with the browser's fetch stubbed (own Chromium over a bare CDP pipe)`);
  srvPhase('fetch');
  const raw = await launchRaw(CHROMIUM, CHROMIUM_ARGS);
  try {
    await fetchLoops(out, raw);
  } finally {
    await raw.close();
  }
}

// Installed before an SDK is imported, so that each SDK wraps it as the page's fetch: adds up
// the time spent inside the browser's own fetch() (window.__nativeFetchMs). The loop's time
// minus that is the time of the code around it (the SDK's wrapper, the loop, this timer), which
// Chromium's fetch, varying by hundreds of µs a call, no longer drowns.
// With window.__stubFetch set, it answers at once instead (a resolved promise of one
// Response): the loop then times the SDK's own code alone.
function timeNativeFetch() {
  const native = window.fetch;
  const stubbed = Promise.resolve(new Response('ok'));
  window.__nativeFetchMs = 0;
  window.fetch = function fetch(input, init) {
    if (window.__stubFetch) return stubbed;
    const t0 = performance.now();
    try {
      return native.apply(this, arguments);
    } finally {
      window.__nativeFetchMs += performance.now() - t0;
    }
  };
}

async function fetchLoops(out, raw) {
  const none = await openPage(raw);
  await none.eval(timeNativeFetch, null, 'none fetch timer');
  none.id = 'none';
  const pages = [none];
  for (const sdk of SDKS) {
    const p = await openSdkPage(sdk, 'fetch', raw, timeNativeFetch);
    p.id = sdk.id;
    if (p.ok) pages.push(p);
    else await p.close();
  }
  const url = `${srv.sinkOrigin}/fetch`;
  const res = Object.fromEntries(pages.map((p) => [p.id, { usPerCall: [], trimmedUsPerCall: [], ownUsPerCall: [], stubUsPerCall: [], maxUs: [], failed: 0 }]));
  for (let r = 0; r <= 2 * CFG.fetchRounds + 1; r++) {
    // The first half with the browser's fetch, the second with it stubbed.
    const stub = r > CFG.fetchRounds;
    for (const p of order(pages, r)) {
      await p.gc();
      const t = await p.eval(async ({ url, n, stub }) => {
        window.__stubFetch = stub;
        const ps = new Array(n);
        const ts = new Float64Array(n + 1);
        const native0 = window.__nativeFetchMs;
        ts[0] = performance.now();
        for (let i = 0; i < n; i++) {
          ps[i] = fetch(url);
          ts[i + 1] = performance.now();
        }
        const nativeMs = window.__nativeFetchMs - native0;
        const settled = await Promise.allSettled(ps);
        const d = Array.from({ length: n }, (_, i) => ts[i + 1] - ts[i]).sort((a, b) => a - b);
        const fast = d.slice(0, Math.ceil(n * 0.9));
        return {
          meanUs: ((ts[n] - ts[0]) * 1000) / n,
          trimmedUs: (fast.reduce((a, b) => a + b, 0) * 1000) / fast.length,
          ownUs: ((ts[n] - ts[0] - nativeMs) * 1000) / n,
          maxUs: d[n - 1] * 1000,
          failed: settled.filter((s) => s.status !== 'fulfilled' || !s.value.ok).length,
        };
      }, { url, n: CFG.fetchN, stub }, `${p.id} fetch loop`);
      res[p.id].failed += t.failed;
      if (stub) {
        if (r > CFG.fetchRounds + 1) res[p.id].stubUsPerCall.push(t.meanUs);
      } else if (r > 0) {
        res[p.id].usPerCall.push(t.meanUs);
        res[p.id].trimmedUsPerCall.push(t.trimmedUs);
        res[p.id].ownUsPerCall.push(t.ownUs);
        res[p.id].maxUs.push(t.maxUs);
      }
    }
  }
  // The fetch spans, exported (OpenTelemetry ends them up to 300 ms after the response, once
  // it has looked for the resource timing entry).
  await new Promise((r) => setTimeout(r, 800));
  for (const p of pages) {
    if (p.id === 'none') continue;
    const f = await flushPage(p);
    await srv.sink.settled();
    const recs = srv.sink.select(p.prefix);
    res[p.id].spansExported = sum(recs.map((x) => x.spans || 0));
    res[p.id].spanNames = {};
    for (const x of recs) for (const [k, v] of Object.entries(x.names || {})) res[p.id].spanNames[k] = (res[p.id].spanNames[k] || 0) + v;
    res[p.id].fetchCalls = 2 * CFG.fetchN * (CFG.fetchRounds + 1);
    if (!f.ok) res[p.id].flushError = f.error;
  }
  out.fetch = res;
  for (const p of pages) await p.close();
}

// ---------------------------------------------------------------------------------------------
// Figure 7: init, on a fresh page (new browser context) each time.
// ---------------------------------------------------------------------------------------------

// ---------------------------------------------------------------------------------------------
// Figure 9: the wasm module's linear memory (getStats().wasmMemoryBytes) while 100,000 spans
// are made and exported, 1,000 at a time (traces of 8, 4 attributes each), each batch flushed
// to the sink: after the first 5 batches and after the last. Flat means no leak (wasm memory
// never shrinks, so a leak shows as growth). OpenTelemetry JS has no wasm memory.
// ---------------------------------------------------------------------------------------------

async function memoryFigure(out) {
  log(`memory: ${CFG.memoryBatches} batches of 1,000 spans, each exported`);
  srvPhase('memory');
  const p = await openSdkPage(SDKS[0], 'memory');
  try {
    if (!p.ok) return;
    out.memory = await p.eval(async ({ batches }) => {
      const m = window.SDK;
      const samples = [];
      for (let b = 1; b <= batches; b++) {
        m.makeSpans(1000);
        await m.flush();
        if (b === 5 || b === batches) samples.push({ spans: b * 1000, bytes: m.stats().wasmMemoryBytes });
      }
      return { samples, exported: m.stats().spansExported, dropped: m.stats().spansDropped };
    }, { batches: CFG.memoryBatches }, 'memory');
  } finally {
    await p.close();
  }
}

async function initFigure(out) {
  log(`init: ${CFG.initRounds} fresh pages (+1 warm-up) per SDK`);
  srvPhase('init');
  const res = Object.fromEntries(SDKS.map((s) => [s.id, { totalMs: [], initMs: [], importMs: [], blockedMs: [], readyMs: [], errors: [] }]));
  for (let r = 0; r <= CFG.initRounds; r++) {
    for (const sdk of order(SDKS, r)) {
      const p = await openPage();
      try {
        await p.gc();
        const t = await p.eval(async ({ url, endpoint, batch }) => {
          const t0 = performance.now();
          let m;
          try {
            m = await import(url);
          } catch (e) {
            return { error: `import: ${String((e && e.message) || e)}` };
          }
          const t1 = performance.now();
          const blockedMs = globalThis.__benchAppStart - globalThis.__benchBundleStart;
          let error = null;
          try {
            m.setup(endpoint, batch);
          } catch (e) {
            error = `init: ${String((e && e.message) || e)}`;
          }
          const t2 = performance.now();
          await m.ready();
          const readyMs = performance.now() - globalThis.__benchBundleStart;
          return { totalMs: t2 - t0, importMs: t1 - t0, initMs: t2 - t1, blockedMs, readyMs, error };
        }, setupArgs(sdk, `/${sdk.id}-init`), `${sdk.id} init`);
        if (t.error) {
          if (!res[sdk.id].errors.includes(t.error)) res[sdk.id].errors.push(t.error);
        } else if (r > 0) for (const k of ['totalMs', 'importMs', 'initMs', 'blockedMs', 'readyMs']) res[sdk.id][k].push(t[k]);
      } finally {
        await p.close();
      }
    }
  }
  out.init = res;
}

// ---------------------------------------------------------------------------------------------
// Figure 8: calls from JS into the wasm module per span (start + end) and per instrumented
// fetch, counted by wrapping every export of the instance that WebAssembly.instantiate(Streaming)
// hands to the package's wasm.js. "sdk": the SDK's own exports; "all": also the internal
// exports (named `__…`: `__et_buffer`, the span-call buffer's address). Span calls are buffered
// (pkg ops.js): one span alone costs the one call that runs the buffer in its microtask; 1,000
// spans made in one task share a few.
// ---------------------------------------------------------------------------------------------

async function crossingsFigure(out) {
  log('crossings: counting calls into wasm');
  srvPhase('crossings');
  const p = await openPage();
  try {
    out.crossings = await p.eval(async ({ url, endpoint, batch, sinkUrl }) => {
      const counts = new Map();
      const wrap = (result) => {
        const real = result.instance.exports;
        const exports = {};
        for (const [name, v] of Object.entries(real)) {
          if (typeof v !== 'function') {
            exports[name] = v;
            continue;
          }
          const counted = function counted(...args) { counts.set(name, (counts.get(name) || 0) + 1); return v.apply(this, args); };
          // wasm.js wraps each export by its number of parameters.
          Object.defineProperty(counted, 'length', { value: v.length });
          exports[name] = counted;
        }
        return { instance: { exports }, module: result.module };
      };
      const streaming = WebAssembly.instantiateStreaming;
      const plain = WebAssembly.instantiate;
      WebAssembly.instantiateStreaming = (...a) => streaming.apply(WebAssembly, a).then(wrap);
      WebAssembly.instantiate = (...a) => plain.apply(WebAssembly, a).then((r) => (r instanceof WebAssembly.Instance ? r : wrap(r)));
      const m = await import(url);
      m.setup(endpoint, batch);
      await m.ready();
      const internal = (n) => n.startsWith('__');
      const take = () => {
        let sdk = 0;
        let all = 0;
        for (const [n, c] of counts) {
          all += c;
          if (!internal(n)) sdk += c;
        }
        const names = Object.fromEntries([...counts].sort());
        counts.clear();
        return { sdk, all, names };
      };
      const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
      await sleep(50);
      take();
      m.oneSpan();
      await sleep(0); // the microtask that runs the buffered calls
      const span = take();
      m.rootSpans(1000);
      await sleep(0);
      const thousand = take();
      await fetch(sinkUrl);
      await sleep(20); // the call a task after the request settled
      const fetchCounts = take();
      return { span, thousand, fetch: fetchCounts };
    }, { ...setupArgs(SDKS[0], '/ours-crossings'), sinkUrl: `${srv.sinkOrigin}/fetch` }, 'crossings');
  } finally {
    await p.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Table
// ---------------------------------------------------------------------------------------------

function summarise(out) {
  const o = out.sdk.ours || {};
  const t = out.sdk.otel || {};
  const exportRows = (s) => (s?.export || []).filter((x) => !x.warmUp && !x.error);
  const exp = (s) => {
    const rows = exportRows(s);
    if (!rows.length) return null;
    return {
      taskMs: median(rows.map((x) => Math.max(0, x.taskMs - x.baselineTaskMs))),
      scriptMs: median(rows.map((x) => Math.max(0, x.scriptMs - x.baselineScriptMs))),
      wallMs: median(rows.map((x) => x.wallMs)),
      bytesPerSpan: sum(rows.map((x) => x.bytes)) / Math.max(1, sum(rows.map((x) => x.spans))),
      decodedPerSpan: sum(rows.map((x) => x.decodedBytes)) / Math.max(1, sum(rows.map((x) => x.spans))),
      encoding: [...new Set(rows.flatMap((x) => x.encodings))].join(', '),
      requestsPerExport: median(rows.map((x) => x.requests)),
      spansPerExport: median(rows.map((x) => x.spans)),
    };
  };
  const eo = exp(o);
  const et = exp(t);
  const fetchAdded = (id, k = 'usPerCall') => {
    const base = median(out.fetch?.none?.[k] || []);
    const v = median(out.fetch?.[id]?.[k] || []);
    return v === null || base === null ? null : v - base;
  };
  const init = (id, k) => median(out.init?.[id]?.[k] || []);
  const memKB = (i) => (out.memory ? out.memory.samples.at(i).bytes / 1024 : null);

  const S = out.size;
  const kb = (b) => b / 1024;
  const rows = [
    { figure: 'bundle raw, KB (ours: min JS + wasm)', ours: kb(S.ours.total.raw), otel: kb(S.otel.total.raw), d: 1 },
    { figure: 'bundle gzip -9, KB', ours: kb(S.ours.total.gzip), otel: kb(S.otel.total.gzip), d: 1, budget: { abs: 20, text: '≤ 20 KB' } },
    { figure: 'bundle brotli q11, KB', ours: kb(S.ours.total.brotli), otel: kb(S.otel.total.brotli), d: 1 },
    // Ours does traces and errors: beside the two SDKs it replaces (the OTel column holds
    // OpenTelemetry JS + rollbar.js in these rows). Issue 14: not resolved above half of it.
    { figure: 'bundle gzip -9, KB, vs OpenTelemetry JS + rollbar.js', ours: kb(S.ours.total.gzip), otel: kb(S.otelRollbar.total.gzip), d: 1, budget: { ratio: 0.5 } },
    { figure: 'bundle brotli q11, KB, vs OpenTelemetry JS + rollbar.js', ours: kb(S.ours.total.brotli), otel: kb(S.otelRollbar.total.brotli), d: 1 },
    { figure: 'root span + 3 attributes, ns', ours: median(o.spans?.rootSpans || []), otel: median(t.spans?.rootSpans || []), d: 0, budget: { ratio: 0.25 } },
    { figure: 'child span, explicit parent, ns', ours: median(o.spans?.childSpansExplicit || []), otel: median(t.spans?.childSpansExplicit || []), d: 0 },
    { figure: 'child span, active parent, ns', ours: median(o.spans?.childSpansActive || []), otel: median(t.spans?.childSpansActive || []), d: 0 },
    { figure: 'root span, main-thread CPU ns', ours: median(o.spansCpu?.rootSpans || []), otel: median(t.spansCpu?.rootSpans || []), d: 0, budget: { ratio: 0.25 } },
    { figure: 'child span, explicit, CPU ns', ours: median(o.spansCpu?.childSpansExplicit || []), otel: median(t.spansCpu?.childSpansExplicit || []), d: 0 },
    { figure: 'child span, active, CPU ns', ours: median(o.spansCpu?.childSpansActive || []), otel: median(t.spansCpu?.childSpansActive || []), d: 0 },
    { figure: 'spans dropped in span loops', ours: o.spanLoops?.dropped ?? null, otel: t.spanLoops?.dropped ?? null, d: 0, noRatio: true },
    { figure: `export ${CFG.exportSpans} spans: main-thread ms`, ours: eo?.taskMs ?? null, otel: et?.taskMs ?? null, d: 2, budget: { ratio: 0.33 } },
    { figure: `export ${CFG.exportSpans} spans: script ms`, ours: eo?.scriptMs ?? null, otel: et?.scriptMs ?? null, d: 2 },
    { figure: `export ${CFG.exportSpans} spans: wall ms to ack`, ours: eo?.wallMs ?? null, otel: et?.wallMs ?? null, d: 2 },
    { figure: 'wire bytes per span (body)', ours: eo?.bytesPerSpan ?? null, otel: et?.bytesPerSpan ?? null, d: 1, budget: { ratio: 0.3 } },
    { figure: 'uncompressed OTLP JSON bytes per span', ours: eo?.decodedPerSpan ?? null, otel: et?.decodedPerSpan ?? null, d: 1 },
    { figure: 'export content-encoding', ours: eo?.encoding ?? null, otel: et?.encoding ?? null, text: true },
    { figure: "fetch: SDK's own µs per call (browser's fetch stubbed)", ours: fetchAdded('ours', 'stubUsPerCall'), otel: fetchAdded('otel', 'stubUsPerCall'), d: 2, budget: { ratio: 0.25 } },
    { figure: "fetch: sync µs added per call, outside the browser's fetch()", ours: fetchAdded('ours', 'ownUsPerCall'), otel: fetchAdded('otel', 'ownUsPerCall'), d: 2 },
    { figure: 'fetch: sync µs added per call, all', ours: fetchAdded('ours'), otel: fetchAdded('otel'), d: 2 },
    { figure: 'fetch: same, fastest 90% of calls', ours: fetchAdded('ours', 'trimmedUsPerCall'), otel: fetchAdded('otel', 'trimmedUsPerCall'), d: 2 },
    { figure: 'init: import + init(), ms', ours: init('ours', 'totalMs'), otel: init('otel', 'totalMs'), d: 2, budget: { abs: 5, text: '≤ 5 ms' } },
    { figure: 'init: init() alone, ms', ours: init('ours', 'initMs'), otel: init('otel', 'initMs'), d: 3, budget: { abs: 5, text: '≤ 5 ms' } },
    { figure: 'app entry blocked, ms', ours: init('ours', 'blockedMs'), otel: init('otel', 'blockedMs'), d: 2, budget: { ratio: 1 } },
    { figure: 'engine ready, ms from bundle start', ours: init('ours', 'readyMs'), otel: init('otel', 'readyMs'), d: 2 },
    { figure: 'wasm memory after 5,000 spans exported, KB', ours: memKB(0), otel: 'no wasm', d: 0, noRatio: true },
    { figure: `wasm memory after ${(CFG.memoryBatches * 1000).toLocaleString('en-US')} spans exported, KB`, ours: memKB(-1), otel: 'no wasm', d: 0, noRatio: true, budget: { abs: memKB(0) ?? 0, text: 'flat' } },
    { figure: 'calls into wasm per span (start + end)', ours: out.crossings?.span?.sdk ?? null, otel: 0, d: 0, noRatio: true },
    { figure: '  same, per span of 1,000 made in one task (root + 3 attributes)', ours: out.crossings?.thousand ? out.crossings.thousand.sdk / 1000 : null, otel: 0, d: 3, noRatio: true },
    { figure: '  same, with internal calls (__et_buffer)', ours: out.crossings?.span?.all ?? null, otel: 0, d: 0, noRatio: true },
    { figure: 'calls into wasm per instrumented fetch', ours: out.crossings?.fetch?.sdk ?? null, otel: 0, d: 0, noRatio: true },
    { figure: '  same, with internal calls (__et_buffer)', ours: out.crossings?.fetch?.all ?? null, otel: 0, d: 0, noRatio: true },
  ];
  for (const r of rows) {
    if (r.text) continue;
    if (typeof r.ours === 'number' && typeof r.otel === 'number' && !r.noRatio && r.otel !== 0) r.ratio = r.ours / r.otel;
    if (r.budget && typeof r.ours === 'number') {
      if (r.budget.ratio !== undefined) {
        r.budgetText = `≤ ${r.budget.ratio}×`;
        r.met = typeof r.ratio === 'number' ? r.ratio <= r.budget.ratio : null;
      } else {
        r.budgetText = r.budget.text;
        r.met = r.ours <= r.budget.abs;
      }
    } else if (r.budget) {
      r.budgetText = r.budget.ratio !== undefined ? `≤ ${r.budget.ratio}×` : r.budget.text;
    }
  }
  return { rows, export: { ours: eo, otel: et }, fetchBaselineUs: median(out.fetch?.none?.usPerCall || []) };
}

function fmt(v, d, text) {
  if (v === null || v === undefined) return null;
  if (text || typeof v !== 'number') return String(v);
  return v.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
}

function printTable(summary, out) {
  const header = ['figure', 'edge-telemetry', 'OpenTelemetry JS', 'ratio (ours/OTel)', 'budget', 'met'];
  const body = summary.rows.map((r) => [
    r.figure,
    fmt(r.ours, r.d, r.text) ?? 'n/a (failed, see results.json)',
    fmt(r.otel, r.d, r.text) ?? 'n/a (failed, see results.json)',
    typeof r.ratio === 'number' ? `${r.ratio.toFixed(2)}×` : '',
    r.budgetText || '',
    r.met === true ? 'yes' : r.met === false ? 'NO' : r.budgetText ? '–' : '',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ');
  console.log();
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('-|-'));
  for (const b of body) console.log(line(b));
  console.log();
  const S = out.size;
  console.log(`ours: min JS ${S.ours.js.raw} B (gzip ${S.ours.js.gzip}, brotli ${S.ours.js.brotli}) + wasm ${S.ours.wasm.raw} B (gzip ${S.ours.wasm.gzip}, brotli ${S.ours.wasm.brotli}); each file compressed separately`);
  if (S.ours.later) console.log(`ours after start-up, with Rollbar on: the item encoder, glue chunk + wasm ${S.ours.later.raw} B (gzip ${S.ours.later.gzip}, brotli ${S.ours.later.brotli})`);
  console.log(`OpenTelemetry JS: min JS ${S.otel.total.raw} B (gzip ${S.otel.total.gzip}); with rollbar.js ${S.otelRollbar.total.raw} B (gzip ${S.otelRollbar.total.gzip}; half of it: ${Math.round(S.otelRollbar.total.gzip / 2)} B)`);
  if (typeof summary.fetchBaselineUs === 'number') {
    const f = out.fetch;
    const m = (id, k) => fmt(median(f[id]?.[k] || []), 2) ?? 'n/a';
    console.log(`fetch sync µs per call (all / fastest 90%): no SDK ${m('none', 'usPerCall')} / ${m('none', 'trimmedUsPerCall')}, edge-telemetry ${m('ours', 'usPerCall')} / ${m('ours', 'trimmedUsPerCall')}, OpenTelemetry JS ${m('otel', 'usPerCall')} / ${m('otel', 'trimmedUsPerCall')} (${CFG.fetchN} calls, median of ${CFG.fetchRounds} rounds)`);
  }
  const ex = summary.export;
  if (ex.otel || ex.ours) {
    const d = (e) => (e ? `${e.requestsPerExport} request(s), ${e.spansPerExport} spans, ${e.encoding}` : 'n/a');
    console.log(`export request per flush: edge-telemetry ${d(ex.ours)}; OpenTelemetry JS ${d(ex.otel)}`);
    const floor = (id) => {
      const rows = (out.sdk[id]?.bareFetch || []).filter((x) => !x.warmUp);
      if (!rows.length) return 'n/a';
      const ms = median(rows.map((x) => Math.max(0, x.taskMs - x.baselineTaskMs)));
      return `${fmt(ms, 2)} ms main-thread, ${fmt(median(rows.map((x) => x.wallMs)), 2)} ms wall (${rows[0].bytes} B)`;
    };
    console.log(`floor, one bare fetch POST of the same body on a page without SDK: edge-telemetry's ${floor('ours')}; OpenTelemetry JS's ${floor('otel')}`);
  }
  // Each round times both SDKs back to back: the ratio of each round's pair drifts less with
  // the machine's load than the ratio of the two medians in the table.
  const paired = (kind, key = 'spans') => {
    const a = out.sdk.ours?.[key]?.[kind] || [];
    const b = out.sdk.otel?.[key]?.[kind] || [];
    const r = a.map((x, i) => x / b[i]).filter((x) => Number.isFinite(x));
    return r.length ? `${fmt(median(r), 2)}× (${fmt(Math.min(...r), 2)}–${fmt(Math.max(...r), 2)})` : 'n/a';
  };
  console.log(`span ratios, median of each round's pair (range): root ${paired('rootSpans')}, child explicit ${paired('childSpansExplicit')}, child active ${paired('childSpansActive')}; CPU time: root ${paired('rootSpans', 'spansCpu')}, child explicit ${paired('childSpansExplicit', 'spansCpu')}, child active ${paired('childSpansActive', 'spansCpu')}`);
  console.log(`medians of ${CFG.spanRounds} rounds × ${CFG.spanN} spans, ${CFG.exportRounds} exports, ${CFG.initRounds} fresh pages; Chromium ${out.env.chromium}; ${out.env.cpus}; load average at start ${out.env.loadavg.join(' ')}`);
  if (out.crossings) {
    const list = (c) => Object.entries(c.names).map(([n, k]) => `${n} ${k}`).join(', ');
    console.log(`calls into wasm: one span (start + end): ${list(out.crossings.span)}; one fetch: ${list(out.crossings.fetch)}`);
  }
  if (out.env.loadavg[0] > 1) console.log('note: the machine was busy when the run started: wall-time figures (performance.now) are noisy; the CPU-time rows and the fastest-90% fetch row are less so');
  const oi = out.sdk.ours?.init;
  if (oi && !oi.ok) console.log(`edge-telemetry failed at ${oi.error}`);
  console.log(`results: ${path.relative(ROOT, OUT)}`);
}

// ---------------------------------------------------------------------------------------------

function versions() {
  const v = {};
  for (const name of [
    '@opentelemetry/api', '@opentelemetry/sdk-trace-web', '@opentelemetry/sdk-trace-base',
    '@opentelemetry/exporter-trace-otlp-http', '@opentelemetry/otlp-exporter-base', '@opentelemetry/otlp-transformer',
    '@opentelemetry/instrumentation', '@opentelemetry/instrumentation-fetch', '@opentelemetry/resources',
    '@opentelemetry/core', 'edge-telemetry', 'esbuild', 'playwright-core',
  ]) {
    try {
      v[name] = JSON.parse(fs.readFileSync(path.join(HERE, 'node_modules', name, 'package.json'), 'utf8')).version;
    } catch {
      v[name] = null;
    }
  }
  return v;
}

function gitHead() {
  try {
    return execFileSync('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    return null;
  }
}

async function main() {
  const started = Date.now();
  const out = {
    date: new Date().toISOString(),
    quick: QUICK,
    config: CFG,
    env: {
      node: process.version,
      cpus: `${os.cpus().length} × ${os.cpus()[0]?.model || 'cpu'}`,
      loadavg: os.loadavg().map((x) => round(x, 2)),
      gitHead: gitHead(),
      pkgWasmMtime: (() => { try { return fs.statSync(path.join(ROOT, 'pkg', 'edge_telemetry_bg.wasm')).mtime.toISOString(); } catch { return null; } })(),
    },
    versions: versions(),
    sdk: {},
  };
  log('bundling with esbuild');
  out.size = await buildAll();

  srv = await startServers({ distDir: DIST });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: CHROMIUM_ARGS,
  });
  out.env.chromium = browser.version();
  try {
    await spanAndExportFigures(out);
    await fetchFigure(out);
    await initFigure(out);
    await crossingsFigure(out);
    await memoryFigure(out);
  } finally {
    await browser.close();
    await srv.close();
  }
  out.env.seconds = round((Date.now() - started) / 1000, 1);
  const summary = summarise(out);
  out.table = summary.rows.map(({ figure, ours, otel, ratio, budgetText, met }) => ({
    figure,
    ours: typeof ours === 'number' ? round(ours) : ours,
    otel: typeof otel === 'number' ? round(otel) : otel,
    ratio: round(ratio),
    budget: budgetText || null,
    met: met ?? null,
  }));
  fs.writeFileSync(OUT, JSON.stringify(out, (k, v) => (typeof v === 'number' ? round(v, 4) : v), 2) + '\n');
  printTable(summary, out);
  log(`done in ${out.env.seconds} s`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
