// Automatic root spans: the page load (from Navigation Timing) and user interactions. The
// span names, attributes and events are decided in Rust; this file reads the DOM and the
// performance timeline and hooks the events.

function navigationEntry() {
  const p = globalThis.performance;
  const e = p && typeof p.getEntriesByType === 'function' ? p.getEntriesByType('navigation') : [];
  return e && e[0];
}

/**
 * The `documentLoad` span: started now with the navigation's start time, active (for code
 * with nothing else active) until the load event is over, then ended with the timing events.
 * `replaying` (when calls recorded before the module was ready are about to be replayed):
 * `{ endAt(time, end) }`, to end a span whose load is over at its place among them.
 * It joins the trace in `<meta name="traceparent">` or in the navigation response's
 * `Server-Timing: traceparent;desc="00-…"`.
 */
export function installDocumentLoad(w, guard, replaying) {
  if (typeof document === 'undefined') return undefined;
  const parents = [];
  const meta = document.querySelector('meta[name="traceparent"]');
  if (meta) parents.push(meta.getAttribute('content'));
  const nav = navigationEntry();
  if (nav && Array.isArray(nav.serverTiming)) {
    for (const st of nav.serverTiming) if (st.name === 'traceparent') parents.push(st.description);
  }
  const h = guard(w.documentLoadStart, parents);
  if (!h) return undefined;
  // Initialised after the load: the span is complete already and parents nothing. When the
  // module arrived after the load, the calls recorded meanwhile are about to be replayed:
  // those made before loadEventEnd still run under it (`replaying` ends it in their order).
  if (document.readyState === 'complete' && nav && nav.loadEventEnd > 0) {
    const end = () => guard(w.documentLoadEnd, h, nav);
    if (replaying) replaying.endAt(nav.loadEventEnd, end);
    else end();
    return undefined;
  }
  // loadEventEnd is set once the load handlers have run: read it in the next task.
  let timer = 0;
  const finish = () => {
    timer = setTimeout(() => guard(w.documentLoadEnd, h, navigationEntry()), 0);
  };
  if (document.readyState === 'complete') finish();
  else addEventListener('load', finish, { once: true });
  return () => {
    removeEventListener('load', finish);
    clearTimeout(timer);
  };
}

// A short XPath of the element (id-anchored when possible), as OpenTelemetry's
// user-interaction instrumentation reports in `target_xpath`.
function xpath(el) {
  const parts = [];
  for (let n = el, depth = 0; n && n.nodeType === 1 && depth < 12; n = n.parentNode, depth++) {
    if (n.id) {
      parts.unshift(`//*[@id="${n.id}"]`);
      return parts.join('/');
    }
    let i = 1;
    for (let s = n.previousElementSibling; s; s = s.previousElementSibling) if (s.nodeName === n.nodeName) i++;
    parts.unshift(`${n.nodeName.toLowerCase()}[${i}]`);
  }
  return `/${parts.join('/')}`;
}

/**
 * One root span per interaction (`events`, e.g. click and submit), active while the page's
 * handlers for it run, so requests they start are its children; it ends after the event's
 * task.
 */
export function installInteractions(w, guard, events) {
  if (typeof addEventListener !== 'function') return undefined;
  const listener = (e) => {
    let target = '';
    let path = '';
    try {
      const el = e.target;
      if (el && el.nodeType === 1) {
        target = el.nodeName;
        path = xpath(el);
      }
    } catch (_) { /* a detached or exotic target: no element attributes */ }
    const h = guard(w.interactionStart, e.type, target, path);
    if (h) setTimeout(() => guard(w.interactionEnd, h), 0);
  };
  for (const type of events) addEventListener(type, listener, { capture: true, passive: true });
  return () => {
    for (const type of events) removeEventListener(type, listener, { capture: true });
  };
}

/**
 * Navigations within the page (`history.pushState` / `replaceState`, back and forward, hash
 * changes): each change of `location.href` goes to the engine (`w.navigation(from, to)`),
 * which keeps it as Rollbar telemetry. Returns the function that puts `history` back.
 */
export function installNavigation(w, guard) {
  if (typeof history === 'undefined' || typeof location === 'undefined' || typeof addEventListener !== 'function') return undefined;
  let last = location.href;
  const changed = () => {
    const now = location.href;
    if (now !== last) {
      guard(w.navigation, last, now);
      last = now;
    }
  };
  const wrapped = [];
  for (const name of ['pushState', 'replaceState']) {
    const original = history[name];
    if (typeof original !== 'function') continue;
    const wrapper = function (...args) {
      const r = original.apply(this, args);
      changed();
      return r;
    };
    history[name] = wrapper;
    wrapped.push([name, original, wrapper]);
  }
  addEventListener('popstate', changed);
  addEventListener('hashchange', changed);
  return () => {
    removeEventListener('popstate', changed);
    removeEventListener('hashchange', changed);
    for (const [name, original, wrapper] of wrapped) if (history[name] === wrapper) history[name] = original;
  };
}
