// Type-checked with `tsc --strict --noEmit` against the built package's index.d.ts (never run):
// every exported name and every option, as an app would write them. The `@ts-expect-error`
// lines must stay errors: they make the check fail if the declarations grow too permissive.
import {
  SpanKind,
  SpanStatusCode,
  init,
  startSpan,
  startRootSpan,
  withSpan,
  activeSpan,
  injectHeaders,
  setBaggage,
  getStats,
  ready,
  flush,
  shutdown,
  captureException,
  captureMessage,
  reportPanic,
} from 'edge-telemetry';
import type {
  AttributeValue,
  Attributes,
  TimeInput,
  SpanContext,
  SpanStatus,
  SpanRef,
  SpanOptions,
  Span,
  ReadableSpan,
  SpanLimits,
  InitOptions,
  RollbarPayload,
  RollbarLevel,
  RollbarOptions,
  Stats,
} from 'edge-telemetry';

const limits: SpanLimits = {
  attributeCountLimit: 64,
  attributeValueLengthLimit: 1024,
  eventCountLimit: 32,
  linkCountLimit: 8,
  attributePerEventCountLimit: 16,
  attributePerLinkCountLimit: 16,
};

const rollbar: RollbarOptions = {
  accessToken: 'post_client_item_token',
  endpoint: '/rollbar',
  enabled: true,
  environment: 'staging',
  codeVersion: '1.4.0',
  captureUncaught: true,
  captureUnhandledRejections: true,
  scrubFields: ['ssn'],
  ignoredMessages: ['ResizeObserver loop', /^Script error/],
  itemsPerMinute: 60,
  maxItems: 0,
  captureIp: false,
  framework: 'browser-js',
  context: '/checkout',
  sourceMapEnabled: true,
  guessUncaughtFrames: false,
  honeycombTeam: 'team',
  honeycombEnvironment: 'dev',
  person: { id: 42, username: 'ada', email: 'ada@example.com' },
  custom: { plan: 'pro' },
  transform(payload: RollbarPayload) {
    payload.data['context'] = 'transformed';
  },
  beforeSend(payload: RollbarPayload) {
    return payload.data['level'] === 'debug' ? null : payload;
  },
};

const seen: ReadableSpan[] = [];
const options: InitOptions = {
  serviceName: 'shop-web',
  instrumentFetch: true,
  instrumentXhr: true,
  propagateTraceHeaderCorsUrls: ['https://api.shop.example', /^https:\/\/cdn\./],
  spanLimits: limits,
  idGenerator: 'xray',
  addXRayTraceIdHeader: true,
  debug: false,
  onSpanEnd: (s: ReadableSpan) => {
    seen.push(s);
    const ids: string = `${s.traceId}/${s.spanId}/${s.parentSpanId ?? ''}`;
    const status: SpanStatusCode = s.status.code;
    void ids;
    void status;
  },
  serviceVersion: '1.4.0',
  environment: 'production',
  resourceAttributes: { 'app.region': 'eu', 'app.replicas': 3, 'app.canary': false, 'app.tags': ['a', 'b'] },
  apiKey: 'hc-key',
  endpoint: '/otlp',
  tracesEndpoint: 'https://collector.example/v1/traces',
  dataset: 'web',
  headers: { 'x-tenant': 'shop' },
  compression: 'gzip',
  batch: {
    scheduledDelayMillis: 5000,
    maxQueueSize: 2048,
    maxExportBatchSize: 512,
    exportTimeoutMillis: 30000,
    maxConcurrentExports: 2,
  },
  retry: { maxAttempts: 5, initialBackoffMillis: 1000, maxBackoffMillis: 5000 },
  sampleRate: 4,
  instrumentDocumentLoad: true,
  userInteractionEvents: ['click', 'submit'],
  sessionInactivityTimeoutMillis: 30 * 60 * 1000,
  rollbar,
};

const started: boolean = init(options);
init();
init({ propagateTraceHeaderCorsUrls: 'https://api.shop.example', compression: 'none', idGenerator: 'w3c' });

const value: AttributeValue = [1, 2, 3];
const attrs: Attributes = { 'cart.items': 3, 'cart.id': 'c-1', ok: true, sizes: value };
const times: TimeInput[] = [Date.now(), performance.now(), new Date(), [1_700_000_000, 5]];

const root: Span = startRootSpan('checkout', { kind: SpanKind.SERVER, attributes: attrs, startTime: times[0] });
const ctx: SpanContext = root.spanContext();
const refs: SpanRef[] = [root, ctx, { traceId: ctx.traceId, spanId: ctx.spanId, traceFlags: 1 }, '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', null];
const spanOptions: SpanOptions = {
  kind: 'client',
  attributes: attrs,
  startTime: times[2],
  parent: refs[0],
  root: false,
  links: [{ context: refs[1] }, { context: refs[3], attributes: { why: 'retry' } }],
};
const child = startSpan('pay', spanOptions)
  .setAttribute('payment.method', 'card')
  .setAttributes({ 'payment.amount': 12.5 })
  .addEvent('authorised')
  .addEvent('captured', { id: 'x' }, times[3])
  .addEvent('settled', times[1])
  .setStatus({ code: SpanStatusCode.OK } satisfies SpanStatus)
  .updateName('pay-card');
child.recordException(new Error('declined'));
child.recordException('declined', Date.now());
const recording: boolean = child.isRecording();
const tp: string = child.traceparent();
child.end();
root.end(new Date());

const n: number = withSpan(root, (a: number, b: number) => a + b, undefined, 1, 2);
const p: Promise<Response> = withSpan(child, () => fetch('/api/checkout', { method: 'POST' }));
const active: Span | undefined = activeSpan();
const h1: Headers = injectHeaders(new Headers(), 'https://api.shop.example/x');
const h2: Record<string, string> = injectHeaders({}, new URL('https://api.shop.example/y'));
setBaggage({ 'user.tier': 'gold', 'cart.items': 3, beta: true });
setBaggage(null);
const stats: Stats = getStats();
const loaded: Promise<boolean> = ready();
const dropped: number = stats.spansDropped + stats.itemsDropped + stats.internalErrors;
const done: Promise<boolean> = flush();
const stopped: Promise<boolean> = shutdown();
const uuid: string | undefined = captureException(new Error('boom'), { orderId: 7 });
const level: RollbarLevel = 'warning';
const msg: string | undefined = captureMessage('slow checkout', level, { ms: 900 });
const panicked: string | undefined = reportPanic('index out of bounds', new Error().stack);

// @ts-expect-error an unknown id generator
init({ idGenerator: 'uuid' });
// @ts-expect-error compression is gzip or none
init({ compression: 'brotli' });
// @ts-expect-error a span name is a string
startSpan(42);
// @ts-expect-error attribute values are primitives or arrays of one type
startSpan('x', { attributes: { nested: { a: 1 } } });
// @ts-expect-error levels are Rollbar's
captureMessage('x', 'fatal');

export const used = [started, ctx, recording, tp, n, p, active, h1, h2, dropped, done, stopped, uuid, msg, panicked, seen];
