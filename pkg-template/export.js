// Span export transport: the timer, fetch (keepalive when it fits), gzip and the page-hide
// path. What goes in a batch, when it is due, whether to retry and after how long is decided
// in Rust (core/src/batch.rs, core/src/retry.rs); this file only moves bytes.

// Chromium's keepalive budget: 64 KiB of request bodies in flight, shared by the page.
const KEEPALIVE_QUOTA = 64 * 1024;
// At most this many keepalive requests of ours in flight at once.
const KEEPALIVE_MAX = 9;

const COMPRESSING = 1;
const SENDING = 2;
const WAITING = 3;

function gzip(bytes) {
  const stream = new Blob([bytes]).stream().pipeThrough(new CompressionStream('gzip'));
  return new Response(stream).arrayBuffer().then((b) => new Uint8Array(b));
}

/**
 * Starts the exporter. `w`: the wasm functions; `guard(fn, ...)`: calls one without throwing;
 * `fetchFn`: the page's fetch before instrumentation; `settings`: from w.exportSettings().
 * Returns { schedule(ms), flush() }.
 */
export function installExport(w, guard, fetchFn, settings) {
  const { url, timeoutMillis } = settings;
  const headers = {};
  for (let i = 0; i < settings.headers.length; i += 2) headers[settings.headers[i]] = settings.headers[i + 1];
  const gzipHeaders = Object.assign({ 'content-encoding': 'gzip' }, headers);
  const useGzip = settings.gzip && typeof CompressionStream === 'function';
  const batches = new Map();
  const waiters = [];
  let timer = 0;
  let timerAt = Infinity;
  let kaBytes = 0;
  let kaCount = 0;

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
      const r = guard(w.flushResult, waiters[i].token);
      if (r !== 0) {
        const [wt] = waiters.splice(i, 1);
        wt.resolve(r === 1);
      }
    }
  }

  function finish(id, b, status, retryAfter, text) {
    const delay = guard(w.exportResult, id, status, retryAfter, text);
    if (typeof delay === 'number' && delay >= 0) {
      b.state = WAITING;
      b.timer = setTimeout(() => send(id, b, false), delay);
    } else {
      batches.delete(id);
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
    const keepalive = !plain && b.hidden && kaCount < KEEPALIVE_MAX && kaBytes + size <= KEEPALIVE_QUOTA;
    if (keepalive) {
      kaCount++;
      kaBytes += size;
    }
    let released = false;
    const ctrl = typeof AbortController === 'function' ? new AbortController() : undefined;
    const t = ctrl ? setTimeout(() => ctrl.abort(), Math.max(0, b.deadline - Date.now())) : 0;
    const release = () => {
      if (released) return;
      released = true;
      clearTimeout(t);
      if (keepalive) {
        kaCount--;
        kaBytes -= size;
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

  function start(id, raw, hidden) {
    const b = { raw, body: null, deadline: Date.now() + timeoutMillis, state: SENDING, timer: 0, hidden };
    batches.set(id, b);
    if (useGzip && !hidden) {
      b.state = COMPRESSING;
      const go = (z) => {
        if (b.state !== COMPRESSING) return; // the page-hide path sent it meanwhile
        if (z) b.body = z;
        send(id, b, false);
      };
      try {
        gzip(raw).then(go, () => go(null));
      } catch (_) {
        go(null);
      }
    } else {
      send(id, b, false);
    }
  }

  function pump(hidden) {
    for (;;) {
      const parts = guard(w.exportTake, hidden);
      if (!parts) break;
      for (let i = 0; i < parts.length; i += 2) start(parts[i], parts[i + 1], hidden);
    }
    if (hidden) {
      // Nothing asynchronous may stand between the page and the network now: batches being
      // compressed go uncompressed, and retries waiting for their delay go at once.
      for (const [id, b] of batches) {
        if (b.state === COMPRESSING || b.state === WAITING) {
          clearTimeout(b.timer);
          b.hidden = true;
          send(id, b, false);
        }
      }
    }
    const due = guard(w.exportNextDue);
    if (typeof due === 'number' && due >= 0) schedule(due);
    settle();
  }

  function onHide() {
    pump(true);
  }
  if (typeof document !== 'undefined') {
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'hidden') onHide();
    });
  }
  if (typeof addEventListener === 'function') addEventListener('pagehide', onHide);

  return {
    schedule,
    flush() {
      const token = guard(w.flushBegin);
      if (!token) return Promise.resolve(true);
      return new Promise((resolve) => {
        waiters.push({ token, resolve });
        pump(false);
      });
    },
  };
}
