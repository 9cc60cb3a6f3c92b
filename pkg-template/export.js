// The transport of every outgoing channel (spans, Rollbar items: `Channel` from the wasm
// module): the timer, fetch (keepalive when it fits), gzip and the page-hide path. What goes
// in a request, when it is due, whether to retry and after how long is decided in Rust
// (core/src/sdk.rs over core/src/export/channel.rs); this file only moves bytes.

// Chromium's keepalive budget: 64 KiB of request bodies in flight, shared by the page.
const KEEPALIVE_QUOTA = 64 * 1024;
// At most this many keepalive requests of ours in flight at once.
const KEEPALIVE_MAX = 9;

// Keepalive bytes and requests of ours in flight, shared by every transport of the page.
const ka = { bytes: 0, count: 0 };

const COMPRESSING = 1;
const SENDING = 2;
const WAITING = 3;

// Batches leave from a worker when the page allows one (ARCHITECTURE.md, "Exports off the
// main thread"): gzip and fetch cost the main thread about 2.5 and 1.4 ms a batch of 512
// spans otherwise. The worker compresses a job, says it is ready, and sends it only when told
// to: a batch still being compressed when the page is hidden goes from the page instead
// (keepalive, uncompressed), and the worker drops it. Messages in: {id, url, headers, body,
// gzip, ms} (a job: headers with content-encoding when gzip), {id, go}; out: {id} (ready),
// {id, status, retryAfter, text} (the response; status 0: none; -1: not compressed). The
// worker's code is started from its source text (`'(' + exportWorkerMain + ')()'`), so it
// must use nothing but the worker's globals (a bundler minifies it with the rest).
function exportWorkerMain() {
  const go = new Map();
  onmessage = async ({ data: m }) => {
    if (m.go !== undefined) {
      const r = go.get(m.id);
      go.delete(m.id);
      if (r) r(m.go);
      return;
    }
    let body = m.body;
    if (m.gzip) {
      try {
        const s = new ReadableStream({ start(c) { c.enqueue(body); c.close(); } });
        body = new Uint8Array(await new Response(s.pipeThrough(new CompressionStream('gzip'))).arrayBuffer());
      } catch (_) {
        postMessage({ id: m.id, status: -1 });
        return;
      }
    }
    if (!(await new Promise((r) => { go.set(m.id, r); postMessage({ id: m.id }); }))) return;
    const c = new AbortController();
    const t = setTimeout(() => c.abort(), m.ms);
    try {
      const r = await fetch(m.url, { method: 'POST', headers: m.headers, body, signal: c.signal, credentials: 'omit' });
      let text = '';
      try { text = await r.text(); } catch (_) { /* the status is enough */ }
      postMessage({ id: m.id, status: r.status, retryAfter: r.headers.get('retry-after') || undefined, text });
    } catch (_) {
      postMessage({ id: m.id, status: 0 });
    } finally {
      clearTimeout(t);
    }
  };
}

// The page's export worker: undefined until the first batch, null when the page has none
// (no Worker, a CSP without blob: workers, or it failed), else { w, url, jobs }. Shared by the
// transports of the page; ended when the last one closes and nothing is in flight.
let exporter;
let jobSeq = 0;
let transportsOpen = 0;

function exportWorker() {
  if (exporter !== undefined) return exporter;
  exporter = null;
  try {
    if (typeof Worker !== 'function' || typeof CompressionStream !== 'function') return null;
    const url = URL.createObjectURL(new Blob(['(' + exportWorkerMain + ')()'], { type: 'text/javascript' }));
    const x = { w: new Worker(url), url, jobs: new Map() };
    x.w.onmessage = (e) => {
      const job = x.jobs.get(e.data.id);
      if (job) job(e.data);
    };
    // Could not start (a CSP refusing blob: workers) or died: every job still there is
    // handed back (status -1) and the transports carry on from the page.
    x.w.onerror = (e) => {
      if (e && e.preventDefault) e.preventDefault();
      if (exporter === x) exporter = null;
      end(x);
      for (const [id, job] of x.jobs) job({ id, status: -1 });
    };
    exporter = x;
  } catch (_) {
    exporter = null;
  }
  return exporter;
}

function end(x) {
  x.w.terminate();
  URL.revokeObjectURL(x.url);
}

function endWorkerIfIdle() {
  const x = exporter;
  if (x && transportsOpen === 0 && x.jobs.size === 0) {
    end(x);
    exporter = undefined;
  }
}

// The body through CompressionStream, fed from a stream of the bytes themselves (a Blob of
// them first costs a copy into the browser's blob storage: about a tenth of an export's
// main-thread time).
function gzip(bytes) {
  const source = new ReadableStream({
    start(c) {
      c.enqueue(bytes);
      c.close();
    },
  });
  return new Response(source.pipeThrough(new CompressionStream('gzip'))).arrayBuffer().then((b) => new Uint8Array(b));
}


/**
 * Sends `body` at once, keepalive when it fits the budget, and forgets it: the last gasp of
 * a module that is about to die (a panic). Never throws.
 */
export function sendNow(fetchFn, settings, body) {
  const { headers } = settings;
  try {
    const bytes = new TextEncoder().encode(body);
    const keepalive = ka.count < KEEPALIVE_MAX && ka.bytes + bytes.byteLength <= KEEPALIVE_QUOTA;
    if (keepalive) {
      ka.count++;
      ka.bytes += bytes.byteLength;
    }
    const release = () => {
      if (keepalive) {
        ka.count--;
        ka.bytes -= bytes.byteLength;
      }
    };
    fetchFn.call(globalThis, settings.url, { method: 'POST', headers, body: bytes, keepalive, credentials: 'omit' })
      .then((r) => r.text())
      .then(release, release);
  } catch (_) { /* nothing more can be done */ }
}

/**
 * Starts the transport of `channel` (a `Channel` value). `w`: the wasm functions;
 * `guard(fn, ...)`: calls one without throwing; `fetchFn`: the page's fetch before
 * instrumentation; `settings`: w.channelSettings(channel), {url, headers, timeoutMillis,
 * gzip}. Returns { schedule(ms), flush(), settings }.
 */
export function installTransport(channel, w, guard, fetchFn, settings) {
  const q = {
    take: (hidden) => guard(w.channelTake, channel, hidden),
    result: (id, status, retryAfter, text) => guard(w.channelResult, channel, id, status, retryAfter, text),
    nextDue: () => guard(w.channelNextDue, channel),
    flushBegin: () => guard(w.channelFlushBegin, channel),
    flushResult: (token) => guard(w.channelFlushResult, channel, token),
  };
  const { url, timeoutMillis } = settings;
  const { headers } = settings;
  const gzipHeaders = Object.assign({ 'content-encoding': 'gzip' }, headers);
  const useGzip = settings.gzip && typeof CompressionStream === 'function';
  const batches = new Map();
  const waiters = [];
  let timer = 0;
  let timerAt = Infinity;

  function schedule(ms) {
    const at = Date.now() + ms;
    if (timer && timerAt <= at) return;
    clearTimeout(timer);
    timerAt = at;
    timer = setTimeout(() => {
      timer = 0;
      timerAt = Infinity;
      pump(false);
    }, ms);
  }

  function settle() {
    for (let i = waiters.length - 1; i >= 0; i--) {
      const r = q.flushResult(waiters[i].token);
      if (r !== w.FlushState.Waiting) {
        const [wt] = waiters.splice(i, 1);
        clearTimeout(wt.t);
        wt.resolve(r !== w.FlushState.GaveUp);
      }
    }
  }

  // Sends a batch the transport holds again.
  function again(id, b) {
    clearTimeout(b.timer);
    if (b.hidden || !viaWorker(id, b)) fromPage(id, b);
  }

  function finish(id, b, status, retryAfter, text) {
    const next = q.result(id, status, retryAfter, text);
    if (typeof next !== 'number' || next === w.Result.Done) {
      batches.delete(id);
    } else {
      // A delay, or Result.Held: kept until channelTake hands it back (resend).
      b.state = WAITING;
      if (next >= 0) b.timer = setTimeout(() => again(id, b), next);
    }
    pump(false);
  }

  function send(id, b, plain) {
    b.state = SENDING;
    const body = b.body || b.raw;
    const size = body.byteLength;
    // keepalive only on the page-hide path: Chromium does not end an aborted keepalive
    // request on the wire, so timed-out exports would pile up on the collector's
    // connections (6 per host) and block later ones.
    const keepalive = !plain && b.hidden && ka.count < KEEPALIVE_MAX && ka.bytes + size <= KEEPALIVE_QUOTA;
    if (keepalive) {
      ka.count++;
      ka.bytes += size;
    }
    let released = false;
    const ctrl = typeof AbortController === 'function' ? new AbortController() : undefined;
    const t = ctrl ? setTimeout(() => ctrl.abort(), timeoutMillis) : 0;
    const release = () => {
      if (released) return;
      released = true;
      clearTimeout(t);
      if (keepalive) {
        ka.count--;
        ka.bytes -= size;
      }
    };
    let p;
    try {
      p = fetchFn.call(globalThis, url, {
        method: 'POST', headers: b.body ? gzipHeaders : headers, body, keepalive,
        signal: ctrl && ctrl.signal, credentials: 'omit',
      });
    } catch (e) {
      p = Promise.reject(e);
    }
    p.then(
      (r) => {
        // Always read the body: Chromium counts an unread keepalive response against the
        // page's keepalive quota (with Cache-Control: no-store, for as long as it lives).
        const retryAfter = r.headers.get('retry-after') || undefined;
        r.text().then(
          (text) => { release(); finish(id, b, r.status, retryAfter, text); },
          () => { release(); finish(id, b, r.status, retryAfter, ''); },
        );
      },
      () => {
        release();
        // A refused keepalive request (quota) goes again at once without keepalive.
        if (keepalive && !(ctrl && ctrl.signal.aborted)) send(id, b, true);
        else finish(id, b, 0);
      },
    );
  }

  // Sends `b` from the export worker; false when there is none. The worker owns the batch
  // while `b.job` is its job: COMPRESSING until the worker is told to go, then SENDING. The
  // page-hide path takes a COMPRESSING batch back (b.job = 0) and the worker drops it; a job
  // the worker hands back (status -1: it failed) goes from the page.
  function viaWorker(id, b) {
    const x = exportWorker();
    if (!x) return false;
    const job = ++jobSeq;
    b.job = job;
    b.state = COMPRESSING;
    x.jobs.set(job, (m) => {
      const mine = b.job === job;
      if (m.status === undefined) {
        if (mine) b.state = SENDING;
        else x.jobs.delete(job);
        x.w.postMessage({ id: job, go: mine });
        return;
      }
      x.jobs.delete(job);
      if (mine) {
        b.job = 0;
        if (m.status === -1) fromPage(id, b);
        else finish(id, b, m.status, m.retryAfter, m.text || '');
      }
      if (x === exporter) endWorkerIfIdle();
    });
    try {
      // A copy of the body is transferred, not cloned: the page keeps `b.raw` for the
      // page-hide path and a job handed back (a clone of 300 KB cost a third of an
      // export's main-thread time; the copy a tenth of that).
      const body = b.raw.slice();
      x.w.postMessage({
        id: job, url, headers: useGzip ? gzipHeaders : headers, body, gzip: useGzip,
        ms: timeoutMillis,
      }, [body.buffer]);
    } catch (_) {
      x.jobs.delete(job);
      b.job = 0;
      b.state = SENDING;
      return false;
    }
    return true;
  }

  // Sends `b` from the page: compressed first when it may be (not on the page-hide path).
  function fromPage(id, b) {
    if (useGzip && !b.hidden && !b.body) {
      b.state = COMPRESSING;
      const go = (z) => {
        if (b.state !== COMPRESSING) return; // the page-hide path sent it meanwhile
        if (z) b.body = z;
        send(id, b, false);
      };
      try {
        gzip(b.raw).then(go, () => go(null));
      } catch (_) {
        go(null);
      }
    } else {
      send(id, b, false);
    }
  }

  function start(id, raw, hidden) {
    const b = { raw, body: null, state: SENDING, timer: 0, hidden, job: 0 };
    batches.set(id, b);
    if (hidden || !viaWorker(id, b)) fromPage(id, b);
  }

  function pump(hidden) {
    for (;;) {
      const parts = q.take(hidden);
      if (!parts) break;
      for (const r of parts) {
        const held = r.resend && batches.get(r.id);
        if (held) again(r.id, held);
        else if (!r.resend) start(r.id, r.body, hidden);
      }
    }
    if (hidden) {
      // Nothing asynchronous may stand between the page and the network now: batches being
      // compressed go uncompressed, and retries waiting for their delay go at once.
      for (const [id, b] of batches) {
        if (b.state === COMPRESSING || b.state === WAITING) {
          clearTimeout(b.timer);
          b.hidden = true;
          b.job = 0;
          send(id, b, false);
        }
      }
    }
    const due = q.nextDue();
    if (typeof due === 'number' && due >= 0) schedule(due);
    settle();
  }

  function onHide() {
    pump(true);
  }
  const onVisibility = () => {
    if (document.visibilityState === 'hidden') onHide();
  };
  if (typeof document !== 'undefined') document.addEventListener('visibilitychange', onVisibility);
  if (typeof addEventListener === 'function') addEventListener('pagehide', onHide);
  transportsOpen++;

  return {
    settings,
    schedule,
    /** Removes the page-lifecycle listeners and the timers (requests in flight finish). */
    close() {
      if (typeof document !== 'undefined') document.removeEventListener('visibilitychange', onVisibility);
      if (typeof removeEventListener === 'function') removeEventListener('pagehide', onHide);
      clearTimeout(timer);
      timer = 0;
      timerAt = Infinity;
      for (const b of batches.values()) clearTimeout(b.timer);
      transportsOpen--;
      endWorkerIfIdle();
    },
    /**
     * Resolves true once everything queued before it is acknowledged, false when some was
     * given up or it is not within timeoutMillis (what is left stays queued and retried).
     */
    flush() {
      const token = q.flushBegin();
      if (!token) return Promise.resolve(true);
      return new Promise((resolve) => {
        const wt = { token, resolve, t: 0 };
        // Timed out: resolved now, and polled on until the engine lets go of the token.
        wt.t = setTimeout(() => {
          wt.resolve = () => {};
          resolve(false);
        }, timeoutMillis);
        waiters.push(wt);
        pump(false);
      });
    },
  };
}
