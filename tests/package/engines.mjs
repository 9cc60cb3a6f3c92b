// The three browser engines behind one small interface, for engines.test.mjs:
//
//   const b = await launchEngine('chromium' | 'firefox' | 'webkit');
//   const page = await b.newPage();
//   await page.goto(url);                          // resolves after the load event
//   await page.evaluate(fn, arg)                   // fn(arg) in the page (may return a promise); JSON back
//   await page.waitFor(fn, arg, ms)                // polls fn(arg) in the page until truthy
//   await page.close(); await b.close();
//
// Chromium through Playwright (as the other package tests), Firefox ESR through puppeteer-core
// over WebDriver BiDi, WebKitGTK (Safari's engine) through WebKitWebDriver and WebDriver
// classic, spoken here over fetch: four endpoints, each with a client timeout (without a
// display a session never starts, and nothing says so). WebKitWebDriver has no headless mode:
// it runs under xvfb-run. See ../../shared/TOOLCHAIN.md.

import { spawn } from 'node:child_process';
import { launchChromium } from './chromium.mjs';
import { closedPort } from './server.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Which engines this machine has: the executables each needs. */
export const ENGINE_BINARIES = {
  chromium: process.env.CHROMIUM || '/usr/bin/chromium',
  firefox: process.env.FIREFOX || '/usr/bin/firefox-esr',
  webkit: process.env.WEBKIT_WEBDRIVER || '/usr/bin/WebKitWebDriver',
};

// ---------------------------------------------------------------------------------------
// Chromium (Playwright)

async function chromium() {
  const browser = await launchChromium();
  return {
    name: 'chromium',
    async newPage() {
      const context = await browser.newContext();
      const page = await context.newPage();
      return {
        goto: (url) => page.goto(url, { waitUntil: 'load' }),
        evaluate: (fn, arg) => page.evaluate(fn, arg),
        waitFor: (fn, arg, ms = 10_000) => page.waitForFunction(fn, arg, { timeout: ms }),
        close: () => context.close(),
      };
    },
    close: () => browser.close(),
  };
}

// ---------------------------------------------------------------------------------------
// Firefox ESR (puppeteer-core, WebDriver BiDi)

async function firefox() {
  const { default: puppeteer } = await import('puppeteer-core');
  const browser = await puppeteer.launch({
    browser: 'firefox',
    executablePath: ENGINE_BINARIES.firefox,
    headless: true,
    // A page left for another is not kept in the back/forward cache (goBack into one hangs).
    extraPrefsFirefox: { 'browser.sessionhistory.max_total_viewers': 0 },
  });
  return {
    name: 'firefox',
    async newPage() {
      const context = await browser.createBrowserContext();
      const page = await context.newPage();
      return {
        goto: (url) => page.goto(url, { waitUntil: 'load' }),
        evaluate: (fn, arg) => page.evaluate(fn, arg),
        waitFor: (fn, arg, ms = 10_000) => page.waitForFunction(fn, { timeout: ms, polling: 50 }, arg),
        close: () => context.close(),
      };
    },
    close: () => browser.close(),
  };
}

// ---------------------------------------------------------------------------------------
// WebKitGTK (WebKitWebDriver, WebDriver classic)

async function webkit() {
  const port = await closedPort();
  // No headless mode: a virtual display for MiniBrowser.
  // Its own process group, no pipes to us: nothing it leaves behind can keep this process alive.
  const driver = spawn('xvfb-run', ['-a', ENGINE_BINARIES.webkit, `--port=${port}`, '--host=127.0.0.1'], { stdio: 'ignore', detached: true });
  driver.unref();
  const base = `http://127.0.0.1:${port}`;
  const call = async (method, path, body, ms = 30_000) => {
    const res = await fetch(base + path, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(ms),
    });
    const json = await res.json();
    if (res.status !== 200) throw new Error(`WebDriver ${method} ${path}: ${res.status} ${JSON.stringify(json.value)}`);
    return json.value;
  };
  // The whole group: xvfb-run, Xvfb, the driver, MiniBrowser and its web processes.
  const stop = () => {
    try { process.kill(-driver.pid, 'SIGKILL'); } catch (_) { /* gone */ }
  };
  try {
    for (let i = 0; ; i++) {
      try {
        await call('GET', '/status', undefined, 1000);
        break;
      } catch (e) {
        if (i > 100) throw new Error(`WebKitWebDriver did not start: ${e.message}`);
        await sleep(100);
      }
    }
  } catch (e) {
    stop();
    throw e;
  }
  // One session per driver: pages are sessions in turn.
  return {
    name: 'webkit',
    async newPage() {
      const { sessionId } = await call('POST', '/session', {
        capabilities: { alwaysMatch: { browserName: 'MiniBrowser', 'webkitgtk:browserOptions': { args: ['--automation'] } } },
      }, 60_000);
      const s = `/session/${sessionId}`;
      await call("POST", `${s}/timeouts`, { script: 60_000, pageLoad: 30_000 });
      // fn(arg), awaited, back as JSON; a throw comes back as an Error here.
      const evaluate = async (fn, arg) => {
        const script = `const done = arguments[arguments.length - 1];
          Promise.resolve().then(() => (${fn})(arguments[0]))
            .then((v) => done({ ok: v === undefined ? null : v }), (e) => done({ error: String(e && e.stack || e) }));`;
        const r = await call('POST', `${s}/execute/async`, { script, args: [arg === undefined ? null : arg] }, 65_000);
        if (r && r.error) throw new Error(r.error);
        return r ? r.ok : r;
      };
      return {
        goto: (url) => call('POST', `${s}/url`, { url }),
        evaluate,
        async waitFor(fn, arg, ms = 10_000) {
          const end = Date.now() + ms;
          for (;;) {
            const v = await evaluate(fn, arg).catch(() => false);
            if (v) return v;
            if (Date.now() > end) throw new Error(`waitFor timed out after ${ms} ms: ${fn}`);
            await sleep(50);
          }
        },
        close: () => call('DELETE', s).catch(() => {}),
      };
    },
    close: async () => stop(),
  };
}

/** Starts the engine named `name`. */
export function launchEngine(name) {
  return { chromium, firefox, webkit }[name]();
}
