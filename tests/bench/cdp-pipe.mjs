// A minimal Chrome DevTools Protocol client over --remote-debugging-pipe, for the one figure
// that Playwright would distort: Playwright enables the Network domain on every page it
// drives, and then Chromium reports each request to DevTools (with the initiator's JS stack)
// inside fetch(), which roughly doubles the synchronous cost of a fetch call on this machine.
// Here only Runtime.evaluate is used: no domain is enabled.
//
//   const b = await launchRaw(executable, args);
//   const p = await b.newPage(url);        // its own browser context
//   await p.eval(fn, arg);                 // like Playwright's page.evaluate (awaits promises)
//   await p.close(); await b.close();

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export async function launchRaw(executable, args) {
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-chromium-'));
  const proc = spawn(executable, [...args, `--user-data-dir=${userDataDir}`, '--remote-debugging-pipe', 'about:blank'], {
    stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  proc.stderr.on('data', (d) => { stderr = (stderr + d).slice(-4000); });
  const toBrowser = proc.stdio[3];
  const fromBrowser = proc.stdio[4];
  const pending = new Map();
  let nextId = 0;
  let buffer = Buffer.alloc(0);
  let dead = null;

  const failAll = (err) => {
    dead = err;
    for (const p of pending.values()) p.reject(err);
    pending.clear();
  };
  proc.on('exit', (code, signal) => failAll(new Error(`chromium exited (${code ?? signal}): ${stderr.trim().split('\n').pop() || ''}`)));
  proc.on('error', failAll);
  toBrowser.on('error', failAll);
  fromBrowser.on('data', (chunk) => {
    buffer = Buffer.concat([buffer, chunk]);
    let end;
    while ((end = buffer.indexOf(0)) >= 0) {
      const msg = JSON.parse(buffer.subarray(0, end).toString('utf8'));
      buffer = buffer.subarray(end + 1);
      const p = msg.id !== undefined && pending.get(msg.id);
      if (!p) continue; // events: none are enabled
      pending.delete(msg.id);
      if (msg.error) p.reject(new Error(`${p.method}: ${msg.error.message}`));
      else p.resolve(msg.result);
    }
  });

  function send(method, params = {}, sessionId) {
    if (dead) return Promise.reject(dead);
    return new Promise((resolve, reject) => {
      const id = ++nextId;
      pending.set(id, { resolve, reject, method });
      const msg = { id, method, params };
      if (sessionId) msg.sessionId = sessionId;
      toBrowser.write(JSON.stringify(msg) + '\0');
    });
  }

  await send('Browser.getVersion');

  async function evaluate(sessionId, fn, arg) {
    const expression = `(${fn.toString()})(${arg === undefined ? '' : JSON.stringify(arg)})`;
    const r = await send('Runtime.evaluate', { expression, awaitPromise: true, returnByValue: true }, sessionId);
    if (r.exceptionDetails) {
      const d = r.exceptionDetails;
      throw new Error(d.exception?.description || d.text || 'evaluation failed');
    }
    return r.result.value;
  }

  return {
    async newPage(url) {
      const { browserContextId } = await send('Target.createBrowserContext', { disposeOnDetach: true });
      const { targetId } = await send('Target.createTarget', { url: 'about:blank', browserContextId });
      const { sessionId } = await send('Target.attachToTarget', { targetId, flatten: true });
      await send('Page.navigate', { url }, sessionId);
      for (let i = 0; ; i++) {
        const state = await evaluate(sessionId, () => location.href + ' ' + document.readyState).catch(() => '');
        if (state === `${url} complete`) break;
        if (i > 200) throw new Error(`page ${url} did not load`);
        await new Promise((r) => setTimeout(r, 25));
      }
      return {
        eval: (fn, arg) => evaluate(sessionId, fn, arg),
        close: async () => {
          await send('Target.closeTarget', { targetId }).catch(() => {});
          await send('Target.disposeBrowserContext', { browserContextId }).catch(() => {});
        },
      };
    },
    async close() {
      if (!dead) {
        await send('Browser.close').catch(() => {});
        await new Promise((r) => { if (proc.exitCode !== null || proc.signalCode) r(); else { proc.once('exit', r); setTimeout(r, 3000); } });
      }
      if (proc.exitCode === null && !proc.signalCode) proc.kill('SIGKILL');
      fs.rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}
