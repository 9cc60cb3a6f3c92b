// The packed package in the frameworks apps use, each installed from the npm pack tarball
// (issue 13, item 7):
//   - Next.js, App Router (tests/package/next-app): `next build` prerendered the page (static),
//     whose 'use client' component imports edge-telemetry and edge-telemetry/react at the top;
//     served by `next start`, in Chromium the page renders, the SDK loads, a span's same-origin
//     fetch carries its traceparent (app/echo/route.js sends it back) and the spans reach the
//     app's own OTLP route (init({ endpoint: '/sink' })).
//   - Vitest with jsdom (tests/package/vitest-app): its test file must pass (the SDK is off in
//     jsdom and must not get in the way).
//   - The Vite dev server, Vite 7 and Vite 8 (tests/package/vite-dev, no optimizeDeps option, so
//     the package is pre-bundled into node_modules/.vite/deps): in Chromium the SDK loads and a
//     span's same-origin fetch carries its traceparent (vite.config.js's /echo sends it back).
//
// Run: scripts/test-package (which installs the apps and runs `next build`), or, once that is
//      done, cd tests/package && CHROMIUM=/usr/bin/chromium node --test frameworks.test.mjs
// Environment: CHROMIUM.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { closedPort } from './server.mjs';
import { launchChromium } from './chromium.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const NEXT_APP = path.join(HERE, 'next-app');
const VITEST_APP = path.join(HERE, 'vitest-app');
const VITE_DEV = path.join(HERE, 'vite-dev');
const TEST_TIMEOUT = 60_000;
const TP_RE = /^00-([0-9a-f]{32})-([0-9a-f]{16})-0[0-3]$/;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function need(file, what) {
  if (!fs.existsSync(file)) throw new Error(`missing ${file} (${what}): run scripts/test-package`);
}

/**
 * Runs `node <args>` in `cwd` in its own process group (so the servers it starts die with
 * it); `stop()` ends that group. Output is kept for error messages.
 */
function run(args, cwd, env = {}) {
  const proc = spawn(process.execPath, args, {
    cwd,
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1', NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const p = { proc, output: '' };
  proc.stdout.on('data', (d) => { p.output += d; });
  proc.stderr.on('data', (d) => { p.output += d; });
  p.exited = new Promise((resolve) => proc.once('exit', (code, signal) => resolve(code ?? signal)));
  p.stop = async () => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    const group = (sig) => { try { process.kill(-proc.pid, sig); } catch { /* gone */ } };
    group('SIGTERM');
    const t = setTimeout(() => group('SIGKILL'), 5000);
    await p.exited;
    clearTimeout(t);
  };
  return p;
}

/** Polls `url` until it answers 200 (the server is up); fails after `ms` or if `p` exits. */
async function waitUp(url, p, ms = 30_000) {
  const end = Date.now() + ms;
  for (;;) {
    if (p.proc.exitCode !== null) assert.fail(`the server exited (${p.proc.exitCode}):\n${p.output}`);
    const status = await fetch(url).then((r) => r.status, () => 0);
    if (status === 200) return;
    if (Date.now() > end) assert.fail(`${url} not up after ${ms} ms (last status ${status}):\n${p.output}`);
    await sleep(200);
  }
}

/** A Chromium page that records page errors and console errors and warnings. */
async function newPage() {
  const context = await browser.newContext();
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`); });
  return { context, page, problems };
}

let browser;
before(async () => {
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
});

test('Next.js (App Router): the prerendered page renders, the SDK loads, a fetch carries the span\'s traceparent, spans reach /sink', { timeout: TEST_TIMEOUT }, async (t) => {
  need(path.join(NEXT_APP, '.next', 'BUILD_ID'), 'next build');
  const manifest = JSON.parse(fs.readFileSync(path.join(NEXT_APP, '.next', 'prerender-manifest.json'), 'utf8'));
  assert.ok(manifest.routes['/'], `next build prerendered / (static): ${Object.keys(manifest.routes)}`);
  const port = await closedPort();
  const origin = `http://127.0.0.1:${port}`;
  const server = run([path.join('node_modules', 'next', 'dist', 'bin', 'next'), 'start', '-H', '127.0.0.1', '-p', String(port)], NEXT_APP);
  const { context, page, problems } = await newPage();
  try {
    await waitUp(`${origin}/`, server);
    // The prerendered HTML already has the component's children (edge-telemetry imported in
    // Node while prerendering, off there).
    const html = await (await fetch(`${origin}/`)).text();
    assert.match(html, /rendered inside the ErrorBoundary/);

    await page.goto(`${origin}/`);
    assert.equal(await page.textContent('#title'), 'edge-telemetry in Next.js');
    assert.equal(await page.textContent('#child'), 'rendered inside the ErrorBoundary');
    await page.waitForFunction(() => window.__ET && !window.__ET.getStats().loading, null, { timeout: 15_000 })
      .catch((e) => assert.fail(`the SDK did not settle: ${e.message}\n${problems.join('\n')}`));
    const stats = await page.evaluate(() => window.__ET.getStats());
    assert.equal(stats.loadError, undefined, `the wasm loaded: ${JSON.stringify(stats)}`);
    assert.equal(await page.evaluate(() => window.__started), true, 'init in the effect returned true');

    await page.click('#send');
    const result = JSON.parse(await (await page.waitForSelector('#result', { timeout: 10_000 })).textContent());
    const m = TP_RE.exec(result.traceparent || '');
    assert.ok(m, `the same-origin fetch carried a traceparent: ${JSON.stringify(result)}`);
    assert.equal(m[1], result.traceId, 'in the span\'s trace');

    // The effect's fetch, made at once (before the wasm was ready, unless it already was).
    const early = await page.waitForFunction(() => window.__early, null, { timeout: 10_000 }).then((h) => h.jsonValue());
    t.diagnostic(`effect's fetch at mount: ${JSON.stringify(early)}`);

    const exported = await page.evaluate(async () => ({ flushed: await window.__ET.flush(), stats: window.__ET.getStats() }));
    assert.equal(exported.flushed, true, 'the export to /sink/v1/traces was acknowledged');
    assert.ok(exported.stats.spansExported >= 2, `spans exported: ${JSON.stringify(exported.stats)}`);
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
    await server.stop();
  }
});

test('Vitest with jsdom: a component using edge-telemetry and edge-telemetry/react renders, and its test passes', { timeout: TEST_TIMEOUT }, async (t) => {
  need(path.join(VITEST_APP, 'node_modules', 'vitest', 'vitest.mjs'), 'npm install in vitest-app');
  need(path.join(VITEST_APP, 'node_modules', 'edge-telemetry', 'index.js'), 'npm install in vitest-app');
  const report = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'et-vitest-')), 'report.json');
  const p = run([path.join('node_modules', 'vitest', 'vitest.mjs'), 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`], VITEST_APP);
  const code = await p.exited;
  for (const line of p.output.split('\n')) if (line.startsWith('edge-telemetry in jsdom')) t.diagnostic(line);
  assert.equal(code, 0, `vitest run failed:\n${p.output}`);
  const r = JSON.parse(fs.readFileSync(report, 'utf8'));
  fs.rmSync(path.dirname(report), { recursive: true, force: true });
  assert.equal(r.success, true);
  assert.equal(r.numTotalTests, 2, 'both tests ran');
  assert.equal(r.numPassedTests, 2);
});

// The Vite dev server with its dependency pre-bundling: Vite 8 rewrites the package's
// `new URL('./edge_telemetry_bg.wasm', import.meta.url)` to the package's own copy when it
// pre-bundles it; Vite 7 leaves it pointing into node_modules/.vite/deps/, where there is no
// such file, and the package falls back to its own copy (index.js, wasmUrl).
const installed = path.join(VITE_DEV, 'node_modules', 'edge-telemetry', 'index.js');
for (const vite of ['vite7', 'vite8']) {
  test(`Vite dev server (${vite}, dependency pre-bundling on): the SDK loads and a fetch carries the span's traceparent`, { timeout: TEST_TIMEOUT }, async () => {
    need(path.join(VITE_DEV, 'node_modules', vite, 'bin', 'vite.js'), 'npm install in vite-dev');
    need(installed, 'npm install in vite-dev');
    // A fresh pre-bundle each time (the two versions share the default cache directory).
    fs.rmSync(path.join(VITE_DEV, 'node_modules', '.vite'), { recursive: true, force: true });
    const port = await closedPort();
    const origin = `http://127.0.0.1:${port}`;
    const server = run([path.join('node_modules', vite, 'bin', 'vite.js'), '--host', '127.0.0.1', '--port', String(port), '--strictPort'], VITE_DEV);
    const { context, page, problems } = await newPage();
    try {
      await waitUp(`${origin}/`, server);
      await page.goto(`${origin}/`);
      await page.waitForFunction(() => window.__ready === true, null, { timeout: 20_000 })
        .catch((e) => assert.fail(`the app did not start: ${e.message}\n${problems.join('\n')}`));
      const out = await page.evaluate(async () => {
        const ended = [];
        const started = ET.init({ serviceName: 'vite-dev', onSpanEnd: (s) => ended.push(s), instrumentDocumentLoad: false, userInteractionEvents: [], rollbar: { endpoint: '/echo/rollbar' } });
        for (let i = 0; i < 200 && ET.getStats().loading; i++) await new Promise((r) => setTimeout(r, 50));
        const span = ET.startSpan('smoke');
        const echo = await ET.withSpan(span, () => fetch('/echo').then((r) => r.json()));
        span.end();
        // The item encoder: a dynamic import and a second .wasm, found the same way.
        const uuid = ET.captureException(new Error('through the dev server'));
        const flushed = await ET.flush();
        return { started, echo, ended, uuid, flushed, ctx: span.spanContext(), stats: ET.getStats(), moduleUrl: performance.getEntriesByType('resource').map((e) => e.name).filter((n) => n.includes('edge')) };
      });
      assert.equal(out.stats.loadError, undefined, `the wasm loaded: ${JSON.stringify(out.stats)} (${out.moduleUrl})`);
      assert.ok(out.moduleUrl.some((u) => u.includes('/node_modules/.vite/deps/')), `the package was pre-bundled: ${out.moduleUrl}`);
      assert.equal(out.started, true);
      const m = TP_RE.exec(out.echo.traceparent || '');
      assert.ok(m, `the same-origin fetch carried a traceparent: ${JSON.stringify(out.echo)}`);
      assert.equal(m[1], out.ctx.traceId, 'in the span\'s trace');
      const client = out.ended.find((s) => s.kind === 2 && String(s.attributes['url.full']).endsWith('/echo'));
      assert.ok(client, 'the CLIENT span reached onSpanEnd');
      assert.equal(m[2], client.spanId, 'the traceparent names the CLIENT span');
      assert.ok(out.moduleUrl.some((u) => u.endsWith('edge_telemetry_errors_bg.wasm')), `the item encoder loaded: ${out.moduleUrl}`);
      assert.equal(out.stats.itemsSent, 1, `the error's item was sent: ${JSON.stringify(out.stats)}`);
      assert.equal(out.flushed, true);
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
      await server.stop();
    }
  });
}
