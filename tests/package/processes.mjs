// Child processes for the package tests (the local collector, demo-backend) and the
// collector's JSON API.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Spawns `bin` and resolves with { proc, origin, stdout, stderr } once its first stdout line
 * matched `re` (group 1: the origin it listens on).
 */
export function startProcess(bin, args, env, re, name, cwd) {
  return new Promise((resolve, reject) => {
    const proc = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], env, cwd });
    const c = { proc, origin: null, stdout: '', stderr: '' };
    const timer = setTimeout(() => reject(new Error(`${name} printed no address in 20 s\nstdout: ${c.stdout}\nstderr: ${c.stderr}`)), 20_000);
    proc.stderr.on('data', (d) => { c.stderr += d; });
    proc.stdout.on('data', (d) => {
      c.stdout += d;
      const nl = c.stdout.indexOf('\n');
      if (c.origin || nl < 0) return;
      const m = re.exec(c.stdout.slice(0, nl));
      clearTimeout(timer);
      if (!m) return reject(new Error(`unexpected first line from ${name}: ${c.stdout.slice(0, nl)}`));
      c.origin = m[1];
      resolve(c);
    });
    proc.on('error', (e) => { clearTimeout(timer); reject(e); });
    proc.on('exit', (code, sig) => {
      clearTimeout(timer);
      if (!c.origin) reject(new Error(`${name} exited (${code ?? sig}) before listening\nstderr: ${c.stderr}`));
    });
  });
}

/** SIGTERM, then SIGKILL after 5 s; resolves once it exited. */
export async function stopProcess(proc) {
  if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((r) => proc.once('exit', r));
  proc.kill('SIGTERM');
  const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(t);
}

/** Keys that would turn on relay mode, cleared for the tests. */
export const NO_KEYS = { HONEYCOMB_API_KEY: '', ROLLBAR_ACCESS_TOKEN: '', ROLLBAR_ENDPOINT: '', AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', AWS_SESSION_TOKEN: '', AWS_XRAY_DAEMON_ADDRESS: '' };

/**
 * edge-collector (`bin`) on a free port of 127.0.0.1 with an in-memory store. Browser pages
 * may send telemetry only from `allowOrigins` (each passed as --allow-origin); `args` and
 * `env` add options and environment variables.
 */
export function startCollector(bin, cwd, { allowOrigins = [], args = [], env = {} } = {}) {
  const origins = allowOrigins.flatMap((o) => ['--allow-origin', o]);
  // The X-Ray daemon port on a free port too: never the machine's 2000.
  return startProcess(bin, ['--addr', '127.0.0.1:0', '--db', ':memory:', '--xray-addr', '127.0.0.1:0', ...origins, ...args],
    { ...process.env, ...NO_KEYS, EDGE_COLLECTOR_ALLOW_ORIGINS: '', ...env },
    /^edge-collector listening on (http:\/\/127\.0\.0\.1:\d+)/, 'edge-collector', cwd);
}

/** The collector's JSON API at `origin`: getJson(path), and waitApi(path, check, what, ms). */
export function collectorApi(origin) {
  async function getJson(p) {
    const res = await fetch(origin + p, { headers: { accept: 'application/json' } });
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : null };
  }
  /** Polls until check(json of GET p) is truthy; returns that json. */
  async function waitApi(p, check, what, ms = 20_000) {
    const end = Date.now() + ms;
    let last;
    for (;;) {
      last = await getJson(p).catch((e) => ({ error: String(e) }));
      if (last.status === 200 && check(last.json)) return last.json;
      if (Date.now() > end) assert.fail(`${what}: GET ${p} gave ${JSON.stringify(last).slice(0, 3000)}`);
      await sleep(150);
    }
  }
  return { getJson, waitApi };
}
