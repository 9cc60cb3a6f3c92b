// AWS X-Ray end to end: the demo with the collector as its X-Ray daemon and a local AWS
// endpoint (moto_server, started here on 127.0.0.1) as X-Ray. A click in the demo page
// (addXRayTraceIdHeader, from the backend's config.json) fetches the feed with both
// `traceparent` and `X-Amzn-Trace-Id` naming the same trace and span; the backend's SERVER
// span is the child of that browser CLIENT span in the collector (OTLP and segments), and its
// segment is the child of the browser's CLIENT subsegment in X-Ray (BatchGetTraces), where the
// collector forwarded both. The backend's and the page's log lines of that click land in
// CloudWatch Logs (GetLogEvents), with the trace id in X-Ray's form.
//
// Run: scripts/test-package (builds everything), or, once built,
//      cd tests/package && CHROMIUM=/usr/bin/chromium node --test --test-concurrency=1 xray.test.mjs
// Environment: CHROMIUM, ET_DEMO_DIST, ET_COLLECTOR_BIN, ET_DEMO_BACKEND_BIN (as e2e.test.mjs),
// MOTO_SERVER (default moto_server on the PATH: scripts/setup installs it).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import dgram from 'node:dgram';
import net from 'node:net';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { closedPort } from './server.mjs';
import { launchChromium } from './chromium.mjs';
import { startProcess, stopProcess, startCollector, collectorApi, NO_KEYS } from './processes.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..', '..');
const DIST = path.resolve(process.env.ET_DEMO_DIST || path.join(ROOT, 'demo-frontend', 'dist'));
const COLLECTOR_BIN = path.resolve(process.env.ET_COLLECTOR_BIN || path.join(ROOT, 'target', 'debug', 'edge-collector'));
const BACKEND_BIN = path.resolve(process.env.ET_DEMO_BACKEND_BIN || path.join(ROOT, 'target', 'debug', 'demo-backend'));
const MOTO = process.env.MOTO_SERVER || 'moto_server';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let moto; // { proc, url }
let collector;
let backend;
let browser;
let getJson;
let waitApi;

/** A UDP port nothing listens on. */
async function freeUdpPort() {
  const s = dgram.createSocket('udp4');
  await new Promise((r) => s.bind(0, '127.0.0.1', r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

async function startMoto() {
  const port = await closedPort();
  const proc = spawn(MOTO, ['-H', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
  const failed = new Promise((_, reject) => proc.on('error', (e) => reject(new Error(`cannot run ${MOTO} (${e.message}): run scripts/setup (pip install "moto[server]")`))));
  failed.catch(() => {});
  const end = Date.now() + 30_000;
  for (;;) {
    const up = await Promise.race([failed, new Promise((resolve) => {
      const c = net.connect(port, '127.0.0.1', () => { c.destroy(); resolve(true); });
      c.on('error', () => resolve(false));
    })]);
    if (up) return { proc, url: `http://127.0.0.1:${port}` };
    if (Date.now() > end) throw new Error(`moto_server did not listen on ${port}`);
    await sleep(100);
  }
}

/** X-Ray's BatchGetTraces on moto (which reads the service from the credential scope). */
async function batchGetTraces(xrayTraceId) {
  const res = await fetch(`${moto.url}/Traces`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: 'AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/xray/aws4_request, SignedHeaders=host, Signature=0',
    },
    body: JSON.stringify({ TraceIds: [xrayTraceId] }),
  });
  assert.equal(res.status, 200, await res.clone().text());
  const body = await res.json();
  return (body.Traces || []).flatMap((t) => t.Segments || []).map((s) => JSON.parse(s.Document));
}

/** A CloudWatch Logs call on moto (AWS JSON 1.1: X-Amz-Target Logs_20140328.<op>). */
async function logsCall(op, body) {
  const res = await fetch(moto.url, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': `Logs_20140328.${op}`,
      authorization: 'AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/logs/aws4_request, SignedHeaders=host, Signature=0',
    },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null };
}

before(async () => {
  for (const [file, hint] of [
    [path.join(DIST, 'index.html'), 'build the demo (scripts/test-package)'],
    [COLLECTOR_BIN, 'cargo build -p edge-telemetry-collector --bin edge-collector'],
    [BACKEND_BIN, 'cargo build -p edge-telemetry-demo-backend --bin demo-backend'],
  ]) {
    if (!fs.existsSync(file)) throw new Error(`missing ${file}: ${hint}`);
  }
  moto = await startMoto();
  const backendPort = await closedPort();
  const daemonPort = await freeUdpPort();
  collector = await startCollector(COLLECTOR_BIN, ROOT, {
    allowOrigins: [`http://127.0.0.1:${backendPort}`],
    args: ['--xray-addr', `127.0.0.1:${daemonPort}`],
    env: {
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      AWS_ENDPOINT_URL: moto.url,
    },
  });
  ({ getJson, waitApi } = collectorApi(collector.origin));
  const env = { ...process.env, ...NO_KEYS };
  for (const k of ['DEMO_ALLOWED_ORIGINS', 'OTEL_SERVICE_NAME', 'ROLLBAR_ENDPOINT']) delete env[k];
  Object.assign(env, {
    DEMO_BACKEND_ADDR: `127.0.0.1:${backendPort}`,
    DEMO_DB: ':memory:',
    DEMO_STATIC_DIR: DIST,
    OTEL_EXPORTER_OTLP_ENDPOINT: collector.origin,
    AWS_XRAY_DAEMON_ADDRESS: `127.0.0.1:${daemonPort}`,
  });
  backend = await startProcess(BACKEND_BIN, [], env, /^demo-backend listening on (http:\/\/127\.0\.0\.1:\d+)/, 'demo-backend', ROOT);
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await stopProcess(backend?.proc);
  await stopProcess(collector?.proc);
  moto?.proc.kill();
});

test('a click sends traceparent and X-Amzn-Trace-Id for one span; the backend segment is its child in the collector and in X-Ray', { timeout: 90_000 }, async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(e.message));
  const sent = [];
  page.on('request', (r) => { if (r.url().includes('/api/activities/home')) sent.push(r.headers()); });
  await page.goto(`${backend.origin}/`, { waitUntil: 'load' });
  await page.waitForFunction(() => window.__ready === true && window.ET && !window.ET.getStats().loading, null, { timeout: 15_000 });
  assert.equal(await page.evaluate(() => window.__demoConfig.xray), true, 'the backend tells the page X-Ray is on');
  sent.length = 0;
  await page.click('#load-feed');
  await page.waitForFunction(() => document.querySelectorAll('.activity').length > 0, null, { timeout: 15_000 });
  assert.equal((await page.evaluate(() => window.ET.flush())), true, 'the browser spans were exported');

  assert.equal(sent.length, 1, 'one feed request');
  const tp = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/.exec(sent[0].traceparent || '');
  assert.ok(tp, `traceparent: ${sent[0].traceparent}`);
  const [, traceId, clientSpanId, flags] = tp;
  const xr = /^Root=1-([0-9a-f]{8})-([0-9a-f]{24});Parent=([0-9a-f]{16});Sampled=([01])$/.exec(sent[0]['x-amzn-trace-id'] || '');
  assert.ok(xr, `X-Amzn-Trace-Id: ${sent[0]['x-amzn-trace-id']}`);
  assert.equal(xr[1] + xr[2], traceId, 'the same trace');
  assert.equal(xr[3], clientSpanId, 'the same span');
  assert.equal(xr[4], String(parseInt(flags, 16) & 1), 'the same sampling decision');
  const epoch = parseInt(xr[1], 16);
  assert.ok(Math.abs(epoch - Date.now() / 1000) < 600, 'an X-Ray trace id: epoch seconds first');
  const xrayId = `1-${xr[1]}-${xr[2]}`;

  // The collector: the backend's SERVER span under the browser's CLIENT span.
  const trace = await waitApi(`/api/traces/${traceId}`, (t) => t.spans.some((s) => s.service === 'demo-backend' && s.kind === 'server')
    && t.spans.some((s) => s.spanId === clientSpanId), 'the browser and backend spans in the collector');
  const server = trace.spans.find((s) => s.service === 'demo-backend' && s.kind === 'server');
  assert.equal(server.parentSpanId, clientSpanId);
  const status = (await getJson('/api/status')).json.xray;
  assert.ok(status.stored >= 2, `the backend's segments arrived at the daemon port: ${JSON.stringify(status)}`);

  // X-Ray (moto): the browser's CLIENT subsegment and the backend's segment under it.
  const end = Date.now() + 30_000;
  let docs = [];
  for (;;) {
    docs = await batchGetTraces(xrayId);
    const backendSeg = docs.find((d) => d.name === 'demo-backend' && !d.type);
    if (backendSeg && docs.some((d) => d.id === clientSpanId)) break;
    if (Date.now() > end) assert.fail(`X-Ray has ${JSON.stringify(docs.map((d) => [d.name, d.id, d.parent_id]))}; collector: ${JSON.stringify((await getJson('/api/status')).json.xray)}`);
    await sleep(300);
  }
  const client = docs.find((d) => d.id === clientSpanId);
  assert.equal(client.type, 'subsegment');
  assert.equal(client.namespace, 'remote');
  assert.equal(client.trace_id, xrayId);
  assert.equal(client.http.request.method, 'GET');
  const backendSeg = docs.find((d) => d.name === 'demo-backend' && !d.type);
  assert.equal(backendSeg.parent_id, clientSpanId, "the backend's segment is the child of the browser's CLIENT span");
  assert.equal(backendSeg.http.request.method, 'GET');
  assert.equal(backendSeg.http.response.status, 200);
  const root = docs.find((d) => d.id === client.parent_id);
  assert.ok(root, 'the CLIENT span\'s parent (the click) is in X-Ray too');
  assert.equal(root.name, 'demo-frontend', 'the browser root as a segment named by its service');

  // CloudWatch Logs (moto): the backend's line of that request, in the edge-telemetry group,
  // stream demo-backend, with the trace id in X-Ray's form; the page's lines in its stream.
  const lines = async (stream) => {
    const r = await logsCall('GetLogEvents', { logGroupName: 'edge-telemetry', logStreamName: stream, startFromHead: true });
    return r.status === 200 ? r.json.events.map((e) => JSON.parse(e.message)) : [];
  };
  const until = Date.now() + 30_000;
  let served;
  for (;;) {
    served = (await lines('demo-backend')).find((m) => m.body === 'home feed served' && m.traceId === traceId);
    if (served) break;
    if (Date.now() > until) assert.fail(`no backend line in CloudWatch Logs; collector: ${JSON.stringify((await getJson('/api/status')).json.cloudwatchLogs)}`);
    await sleep(300);
  }
  assert.equal(served.xray_trace_id, xrayId, 'joinable to the X-Ray trace');
  assert.equal(served.spanId, server.spanId);
  assert.equal(served.severity, 'INFO');
  // The page's lines reach the shipper on their own path (page → collector), so they may be
  // sent in a later PutLogEvents call than the backend's: wait for them the same way.
  let pageLines = [];
  const pageUntil = Date.now() + 30_000;
  while (!pageLines.some((m) => m.body === 'loading the feed' && m.xray_trace_id === xrayId)) {
    if (Date.now() > pageUntil) assert.fail(`the page's line is not in CloudWatch Logs: ${JSON.stringify(pageLines.map((m) => m.body))}`);
    await sleep(300);
    pageLines = await lines('demo-frontend');
  }
  assert.deepEqual(problems, []);
  await context.close();
});
