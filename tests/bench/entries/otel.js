// The OpenTelemetry JS side of the benchmark page: WebTracerProvider + BatchSpanProcessor +
// OTLP/HTTP JSON exporter + fetch instrumentation, behind the same small interface as ours.js.
// The harness imports this bundle into a fresh page and calls these exports; every timed loop
// lives here so that both SDKs run the same loop shape through their own idiomatic API.
import { trace, context } from '@opentelemetry/api';
import { WebTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-web';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { FetchInstrumentation } from '@opentelemetry/instrumentation-fetch';

// The entry's first statement after its imports (bench figure 7, app entry blocked).
globalThis.__benchAppStart = performance.now();

let provider;
let processor;
let tracer;

/** Starts the SDK exporting to `${endpoint}/v1/traces` with the given batch options. */
export function setup(endpoint, batch) {
  processor = new BatchSpanProcessor(new OTLPTraceExporter({ url: `${endpoint}/v1/traces` }), batch);
  provider = new WebTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'bench' }),
    spanProcessors: [processor],
  });
  provider.register();
  registerInstrumentations({
    instrumentations: [new FetchInstrumentation({ propagateTraceHeaderCorsUrls: [/.*/] })],
  });
  tracer = trace.getTracer('bench');
}

/** n root spans: start with 1 attribute, 2 more set, end. Returns ms. */
export function rootSpans(n) {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const s = tracer.startSpan('root', { root: true, attributes: { 'bench.index': i } });
    s.setAttribute('bench.kind', 'root');
    s.setAttribute('bench.ok', true);
    s.end();
  }
  return performance.now() - t0;
}

/** n child spans of one parent passed explicitly (as a Context): start, end. Returns ms. */
export function childSpansExplicit(n) {
  const parent = tracer.startSpan('parent', { root: true });
  const ctx = trace.setSpan(context.active(), parent);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) tracer.startSpan('child', undefined, ctx).end();
  const ms = performance.now() - t0;
  parent.end();
  return ms;
}

/** n child spans of the active span (context.with): start, end. Returns ms. */
export function childSpansActive(n) {
  const parent = tracer.startSpan('parent', { root: true });
  const ctx = trace.setSpan(context.active(), parent);
  const ms = context.with(ctx, () => {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) tracer.startSpan('child').end();
    return performance.now() - t0;
  });
  parent.end();
  return ms;
}

/** n ended spans (n a multiple of 8): traces of 1 root + 7 children, 4 attributes each. */
export function makeSpans(n) {
  for (let t = 0; t < n / 8; t++) {
    const root = tracer.startSpan('GET /api/items', { root: true, attributes: attrs(t * 8) });
    const ctx = trace.setSpan(context.active(), root);
    for (let c = 1; c < 8; c++) tracer.startSpan('load item', { attributes: attrs(t * 8 + c) }, ctx).end();
    root.end();
  }
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
  await provider.forceFlush();
  return true;
}

export function stats() {
  // Private fields of BatchSpanProcessorBase (2.x); the drop counter resets once a span is
  // accepted again, so the harness counts drops at the sink instead.
  return { queued: processor?._finishedSpans?.length, droppedSinceLastAccepted: processor?._droppedSpansCount };
}

/** One span, started and ended (the same interface as ours.js). */
export function oneSpan() {
  tracer.startSpan('one').end();
}

/** Ready at once (the same interface as ours.js). */
export function ready() {
  return Promise.resolve();
}
