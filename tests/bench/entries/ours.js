// The edge-telemetry side of the benchmark page, behind the same interface as otel.js.
import * as ET from 'edge-telemetry';

// The entry's first statement after its imports (bench figure 7, app entry blocked).
globalThis.__benchAppStart = performance.now();

/**
 * Starts the SDK exporting to `${endpoint}/v1/traces` (gzip) with the given batch options.
 * Throws what init throws.
 */
export function setup(endpoint, batch) {
  ET.init({
    serviceName: 'bench',
    propagateTraceHeaderCorsUrls: [/.*/],
    endpoint,
    compression: 'gzip',
    batch,
    instrumentDocumentLoad: false,
    userInteractionEvents: [],
  });
}

/**
 * Resolves once the engine is ready (the wasm module loaded and the calls made meanwhile
 * replayed): the figures measure the engine, not the call buffer in front of it.
 */
export function ready() {
  return new Promise((resolve) => {
    const check = () => (ET.getStats().loading ? setTimeout(check, 1) : resolve());
    check();
  });
}

// Span calls are buffered and run by the engine in bulk (when the buffer is full, at the
// next other call, or in a microtask): every timed loop ends with a call that runs what is
// left (activeSpan()), so the figures include the engine's work on every span.
const settle = () => ET.activeSpan();

/** n root spans: start with 1 attribute, 2 more set, end. Returns ms. */
export function rootSpans(n) {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const s = ET.startRootSpan('root', { attributes: { 'bench.index': i } });
    s.setAttribute('bench.kind', 'root');
    s.setAttribute('bench.ok', true);
    s.end();
  }
  settle();
  return performance.now() - t0;
}

/** n child spans of one parent passed explicitly (options.parent): start, end. Returns ms. */
export function childSpansExplicit(n) {
  const parent = ET.startRootSpan('parent');
  const t0 = performance.now();
  for (let i = 0; i < n; i++) ET.startSpan('child', { parent }).end();
  settle();
  const ms = performance.now() - t0;
  parent.end();
  return ms;
}

/** n child spans of the active span (withSpan): start, end. Returns ms. */
export function childSpansActive(n) {
  const parent = ET.startRootSpan('parent');
  const ms = ET.withSpan(parent, () => {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) ET.startSpan('child').end();
    settle();
    return performance.now() - t0;
  });
  parent.end();
  return ms;
}

/** n ended spans (n a multiple of 8): traces of 1 root + 7 children, 4 attributes each. */
export function makeSpans(n) {
  for (let t = 0; t < n / 8; t++) {
    const root = ET.startRootSpan('GET /api/items', { attributes: attrs(t * 8) });
    for (let c = 1; c < 8; c++) ET.startSpan('load item', { parent: root, attributes: attrs(t * 8 + c) }).end();
    root.end();
  }
  settle();
}

function attrs(i) {
  return {
    'http.request.method': 'GET',
    'url.full': `https://shop.example/api/items/${i}`,
    'http.response.status_code': 200,
    'bench.index': i,
  };
}

/** Exports everything queued; resolves when the sink answered. */
export async function flush() {
  return await ET.flush();
}

export function stats() {
  return ET.getStats();
}

/** One span, started and ended (bench figure 8 counts its calls into wasm). */
export function oneSpan() {
  ET.startSpan('one').end();
}
