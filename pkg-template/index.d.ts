/** Attribute values: string, number, boolean, or a homogeneous array of one of those. */
export type AttributeValue = string | number | boolean | string[] | number[] | boolean[];
export type Attributes = Record<string, AttributeValue>;
/** Epoch milliseconds, a `performance.now()` reading, a Date, or `[seconds, nanos]`. */
export type TimeInput = number | Date | [number, number];

export declare const SpanKind: { readonly INTERNAL: 0; readonly SERVER: 1; readonly CLIENT: 2; readonly PRODUCER: 3; readonly CONSUMER: 4 };
export type SpanKind = 0 | 1 | 2 | 3 | 4;
export declare const SpanStatusCode: { readonly UNSET: 0; readonly OK: 1; readonly ERROR: 2 };
export type SpanStatusCode = 0 | 1 | 2;

export interface SpanContext {
  traceId: string;
  spanId: string;
  traceFlags: number;
  traceState: string;
  isRemote: boolean;
}

export interface SpanStatus {
  code: SpanStatusCode;
  message?: string;
}

/** A span, a span context, a `traceparent` string, or null (no parent). */
export type SpanRef = Span | Pick<SpanContext, 'traceId' | 'spanId' | 'traceFlags'> & Partial<SpanContext> | string | null;

export interface SpanOptions {
  kind?: SpanKind | 'internal' | 'server' | 'client' | 'producer' | 'consumer';
  attributes?: Attributes;
  startTime?: TimeInput;
  /** Explicit parent; `null` starts a new trace. */
  parent?: SpanRef;
  /** Start a new trace even if a span is active. */
  root?: boolean;
  links?: Array<{ context: SpanRef; attributes?: Attributes }>;
}

export declare class Span {
  private constructor();
  setAttribute(key: string, value: AttributeValue): this;
  setAttributes(attributes: Attributes): this;
  addEvent(name: string, attributesOrTime?: Attributes | TimeInput, time?: TimeInput): this;
  setStatus(status: SpanStatus): this;
  recordException(exception: Error | string, time?: TimeInput): void;
  updateName(name: string): this;
  /** Ends the span; later calls are ignored. */
  end(endTime?: TimeInput): void;
  spanContext(): SpanContext;
  /** `00-<trace-id>-<span-id>-<flags>`. */
  traceparent(): string;
  isRecording(): boolean;
}

/** A finished span as given to `onSpanEnd`. */
export interface ReadableSpan {
  name: string;
  kind: SpanKind;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  traceFlags: number;
  traceState: string;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: Attributes;
  events: Array<{ name: string; timeUnixNano: string; attributes: Attributes }>;
  links: Array<{ traceId: string; spanId: string; attributes: Attributes }>;
  status: SpanStatus;
  droppedAttributesCount: number;
  droppedEventsCount: number;
  droppedLinksCount: number;
}

export interface SpanLimits {
  /** Default 128. */
  attributeCountLimit?: number;
  /** Characters per string value; default unlimited. */
  attributeValueLengthLimit?: number;
  /** Default 128. */
  eventCountLimit?: number;
  /** Default 128. */
  linkCountLimit?: number;
  /** Default 128. */
  attributePerEventCountLimit?: number;
  /** Default 128. */
  attributePerLinkCountLimit?: number;
}

export interface InitOptions {
  /** `service.name`; default `unknown_service`. */
  serviceName?: string;
  /** Instrument `fetch` (default true). */
  instrumentFetch?: boolean;
  /** Instrument `XMLHttpRequest` (default true). */
  instrumentXhr?: boolean;
  /**
   * Cross-origin URLs that may receive trace headers (same-origin always do). A string
   * matches the full URL exactly or as a prefix ending at `/`, `?` or `#`; a RegExp is tested
   * against the full URL.
   */
  propagateTraceHeaderCorsUrls?: string | RegExp | Array<string | RegExp>;
  spanLimits?: SpanLimits;
  /**
   * Also send AWS X-Ray's `X-Amzn-Trace-Id: Root=1-…;Parent=…;Sampled=1|0` (aws-rum-web's
   * name) wherever `traceparent` goes, for the same span (default false). Trace ids are then
   * X-Ray's (`idGenerator` `xray`), so one id is valid in both systems. A cross-origin
   * service must allow the header in its CORS `Access-Control-Allow-Headers`.
   */
  addXRayTraceIdHeader?: boolean;
  /**
   * `w3c` (default): random ids; `xray`: epoch seconds in the first 4 bytes (the default
   * with `addXRayTraceIdHeader`, which does not accept `w3c`).
   */
  idGenerator?: 'w3c' | 'xray';
  /** Log drops and failures to the console (never keys). */
  debug?: boolean;
  /** Called with every recorded span when it ends. */
  onSpanEnd?: (span: ReadableSpan) => void;

  /** `service.version`. */
  serviceVersion?: string;
  /** `deployment.environment.name`. */
  environment?: string;
  /** More resource attributes (the options above win over these). */
  resourceAttributes?: Attributes;
  /**
   * Honeycomb API key, sent as `x-honeycomb-team`; never logged. Leave it out when
   * `endpoint` is a relay or collector that adds it server-side.
   */
  apiKey?: string;
  /**
   * OTLP/HTTP base URL (default `https://api.honeycomb.io` when `apiKey` is given); `/v1/traces`
   * is appended unless the URL already ends with it. Relative URLs (a same-origin relay such
   * as `/otlp`) resolve against the page. Spans are exported only when `apiKey`, `endpoint`
   * or `tracesEndpoint` is set.
   */
  endpoint?: string;
  /** The full traces URL, used as given (overrides `endpoint`). */
  tracesEndpoint?: string;
  /**
   * The full logs URL, used as given. Otherwise `endpoint` with `/v1/logs` (in place of a
   * trailing `/v1/traces`), or Honeycomb's when only `apiKey` is given; with only
   * `tracesEndpoint`, logs are not sent. Logs share `headers`, `compression`, `batch` and
   * `retry` with spans.
   */
  logsEndpoint?: string;
  /**
   * Console methods whose calls also become log records (`log.*` severities: debug → DEBUG,
   * log and info → INFO, warn → WARN, error → ERROR); default none. Arguments are rendered
   * as text (cycles, throwing getters and huge values are safe); the SDK's own output is
   * never captured.
   */
  captureConsole?: Array<'debug' | 'log' | 'info' | 'warn' | 'error'>;
  /** Dataset for Honeycomb classic keys (`x-honeycomb-dataset`); ignored for other keys. */
  dataset?: string;
  /** More request headers for the OTLP endpoint (win over the SDK's own). */
  headers?: Record<string, string>;
  /** `gzip` (default; via CompressionStream where the browser has it) or `none`. */
  compression?: 'gzip' | 'none';
  /** Batch span processor settings (OpenTelemetry's names and defaults). */
  batch?: {
    /** Delay between scheduled exports; default 5000. */
    scheduledDelayMillis?: number;
    /**
     * Spans held at most: queued, or in batches waiting to be sent again; further spans are
     * dropped and counted (`spansDropped`). Default 2048.
     */
    maxQueueSize?: number;
    /** Spans per request at most; a full batch goes at once. Default 512. */
    maxExportBatchSize?: number;
    /** Time one attempt may take before it is aborted (and retried); how long `flush()` waits. Default 30000. */
    exportTimeoutMillis?: number;
    /** Batches in flight at once (retries waiting included). Default 2. */
    maxConcurrentExports?: number;
  };
  /**
   * Retries on 429, 502, 503, 504 and network errors: exponential backoff (×1.5) with ±20 %
   * jitter, or the `Retry-After` header when present, for as long as the queue holds the
   * batch; one batch probes a failing endpoint while the others wait.
   */
  retry?: {
    /** @deprecated Accepted and ignored: retryable failures are retried while there is room. */
    maxAttempts?: number;
    /** Default 1000. */
    initialBackoffMillis?: number;
    /** Default 5000. */
    maxBackoffMillis?: number;
  };
  /**
   * Keep 1 in N traces (default 1: all), decided on the trace id so every service agrees;
   * kept spans carry `SampleRate = N`. Unsampled traces still propagate `traceparent`.
   */
  sampleRate?: number;
  /** A `documentLoad` root span from Navigation Timing (default true). */
  instrumentDocumentLoad?: boolean;
  /** DOM events that start a root interaction span; default `['click', 'submit']`, `[]` for none. */
  userInteractionEvents?: string[];
  /** A new `session.id` after this long without spans; default 30 minutes. */
  sessionInactivityTimeoutMillis?: number;
  /** Errors to Rollbar; on when `accessToken` or `endpoint` is given. */
  rollbar?: RollbarOptions;
}

/** A Rollbar item as sent (`{ data: { … } }`, the Item API's JSON). */
export type RollbarPayload = { data: Record<string, unknown> };
export type RollbarLevel = 'critical' | 'error' | 'warning' | 'info' | 'debug';

/** Error reporting options; names as in rollbar.js where the concept is the same. */
export interface RollbarOptions {
  /** A `post_client_item` token (sent as `X-Rollbar-Access-Token`); leave it out behind a relay that adds it. */
  accessToken?: string;
  /** Item URL; default `https://api.rollbar.com/api/1/item/`. A path (`/rollbar`) is resolved against the page. */
  endpoint?: string;
  /** Default true. */
  enabled?: boolean;
  /** Default: the SDK's `environment`, else `production`. */
  environment?: string;
  /** `client.javascript.code_version`; default `serviceVersion`. */
  codeVersion?: string;
  /** Report window `error` events (default true). */
  captureUncaught?: boolean;
  /** Report unhandled promise rejections (default true). */
  captureUnhandledRejections?: boolean;
  /** More field names whose values are scrubbed (added to the defaults: password, secret, token, authorization, cookie, api_key, …). */
  scrubFields?: string[];
  /** Errors whose message contains a string (or matches a RegExp) are not reported; a bare `Script error.` never is. */
  ignoredMessages?: (string | RegExp)[] | string | RegExp;
  /** Default 60; 0 for no limit. */
  itemsPerMinute?: number;
  /** Items per page load; default 0 (no limit). */
  maxItems?: number;
  /** Send `user_ip: "$remote_ip"` so Rollbar records the client address (default false). */
  captureIp?: boolean;
  /** `framework`; default `browser-js` (`react` for ErrorBoundary items). */
  framework?: string;
  /** `context`, e.g. the route. */
  context?: string;
  sourceMapEnabled?: boolean;
  guessUncaughtFrames?: boolean;
  /** With `honeycombEnvironment`: items carry a link to their trace in Honeycomb. */
  honeycombTeam?: string;
  honeycombEnvironment?: string;
  /** `person` (opt-in): `{ id, username?, email? }`. */
  person?: { id: string | number; username?: string; email?: string };
  /** `custom` data sent with every item (scrubbed). */
  custom?: Record<string, unknown>;
  /** Changes the payload in place (or returns a new one) before it is sent. */
  transform?(payload: RollbarPayload): void | RollbarPayload;
  /** Returns the payload to send (changed or not), or null/false to drop it (counted). */
  beforeSend?(payload: RollbarPayload): RollbarPayload | null | false | void;
}

/**
 * The SDK's counters. When the WebAssembly module could not be loaded (not in a browser, a
 * 404, a Content-Security-Policy without `'wasm-unsafe-eval'`), the SDK is off and
 * `getStats()` returns only `{ loadError }`, saying why. Until the module is ready it returns
 * `{ loading: true, earlyCalls, earlyCallsDropped }`.
 */
export interface Stats {
  /** Set (alone) when the SDK is off because its WebAssembly module could not be loaded. */
  loadError?: string;
  /** Set while the WebAssembly module is still loading. */
  loading?: true;
  /** While loading: the calls recorded so far, replayed when the module is ready. */
  earlyCalls?: number;
  /** Calls made before the module was ready that did not fit the buffer (1000 calls). */
  earlyCallsDropped: number;
  spansStarted: number;
  spansEnded: number;
  spansNotRecorded: number;
  attributesDropped: number;
  attributesTruncated: number;
  eventsDropped: number;
  linksDropped: number;
  invalidArguments: number;
  callsAfterEnd: number;
  fetchRequests: number;
  xhrRequests: number;
  requestsPropagated: number;
  internalErrors: number;
  asyncScopesForgotten: number;
  spansEvicted: number;
  openSpans: number;
  /** The WebAssembly module's linear memory in bytes (it never shrinks; it stops growing once the queues have filled once). */
  wasmMemoryBytes: number;
  /** Finished spans dropped because the export queue was full. */
  spansDropped: number;
  /** Spans the endpoint acknowledged. */
  spansExported: number;
  /** Spans given up after failed exports. */
  spansExportFailed: number;
  /** Spans the endpoint accepted but rejected (`partialSuccess`). */
  spansRejected: number;
  exportRequests: number;
  exportRetries: number;
  /** Bytes of OTLP JSON encoded (before gzip). */
  exportBytes: number;
  /** Log records queued for export. */
  logsQueued: number;
  /** Log records whose body was cut to 16,384 characters. */
  logsTruncated: number;
  /** Log records dropped because the export queue was full. */
  logsDropped: number;
  /** Log records the endpoint acknowledged. */
  logsExported: number;
  /** Log records given up after a failed export. */
  logsExportFailed: number;
  /** Log records the endpoint acknowledged but rejected (`rejectedLogRecords`). */
  logsRejected: number;
  /** Error items Rollbar acknowledged. */
  itemsSent: number;
  /**
   * Error items dropped: itemsPerMinute, maxItems, a 429 pause, a full queue, beforeSend, too
   * large, or lost waiting for the item encoder (it could not be loaded, more than 100 waited,
   * or the page was hidden and storage refused to keep them).
   */
  itemsDropped: number;
  /** Errors not sent again because the same one was reported within 5 seconds. */
  itemsDeduplicated: number;
  /** Errors not sent because of ignoredMessages (or a bare "Script error."). */
  itemsIgnored: number;
  /** Error items given up after sending failed. */
  itemsFailed: number;
  /** Errors raised while reporting an error (counted, never reported). */
  reportingErrors: number;
}

/**
 * Starts the SDK. Throws an `Error` naming the field for invalid options.
 * @returns true, or false if the SDK was already initialised (nothing changes).
 * @example
 * init({ serviceName: 'shop-web', propagateTraceHeaderCorsUrls: ['https://api.shop.example'] });
 */
export declare function init(options?: InitOptions): boolean;
/** Starts a span under the active span (or `options.parent`, or a new trace with `root`). */
export declare function startSpan(name: string, options?: SpanOptions): Span;
/** Starts a span that begins a new trace. */
export declare function startRootSpan(name: string, options?: SpanOptions): Span;
/**
 * Runs `fn` with `span` active. If `fn` returns a promise, `span` stays active for code that
 * has no other active span until the promise settles, and a promise that settles the same way
 * is returned in its place (an error it rejects with is linked to `span` when reported).
 * @example
 * await withSpan(startSpan('save'), () => fetch('/api/save', { method: 'POST' }));
 */
export declare function withSpan<A extends unknown[], R>(span: SpanRef | undefined, fn: (...args: A) => R, thisArg?: unknown, ...args: A): R;
/** The active span, if it is a local span. */
export declare function activeSpan(): Span | undefined;
/** Writes trace headers of the active span into `headers`; with `url`, only where allowed. */
export declare function injectHeaders<H extends Headers | Record<string, string>>(headers: H, url?: string | URL): H;
/** Sets W3C baggage sent with every propagated request; `null` clears it. */
export declare function setBaggage(entries: Record<string, string | number | boolean> | null): void;
export declare function getStats(): Stats;
/**
 * Log records (OpenTelemetry's log data model) with the active span's trace and span ids,
 * sent like spans to `logsEndpoint` (or the endpoint's `/v1/logs`). A message that is not a
 * string is rendered as text. Never throws; calls made before the module is ready are kept
 * and sent at their times.
 */
export declare const log: {
  readonly trace: (message: unknown, attributes?: Attributes) => void;
  readonly debug: (message: unknown, attributes?: Attributes) => void;
  readonly info: (message: unknown, attributes?: Attributes) => void;
  readonly warn: (message: unknown, attributes?: Attributes) => void;
  readonly error: (message: unknown, attributes?: Attributes) => void;
  readonly fatal: (message: unknown, attributes?: Attributes) => void;
};
/**
 * Resolves once the WebAssembly module is loaded (true) or could not be (false: the SDK is
 * off). Calls made before are recorded and replayed; only requests made before it carry no
 * trace headers, so an app that wants its very first request traced can await this first.
 * Called after an `init` that turned on error reporting, it also waits for the item encoder
 * (a second module, loaded after start-up; errors reported before it are kept and sent once
 * it is there), for 10 s at most.
 */
export declare function ready(): Promise<boolean>;
/**
 * Exports everything queued now. Resolves to true once the endpoint acknowledged all of it,
 * false if some of it was given up; never rejects. Errors waiting for the item encoder are
 * queued first (it is waited for 10 s at most).
 */
export declare function flush(): Promise<boolean>;
/**
 * Stops the SDK (OpenTelemetry's `shutdown`): exports what is queued, then removes every
 * listener and timer it installed and puts the page's `fetch` and `XMLHttpRequest` back.
 * Afterwards every call is a no-op and `init` returns false. Resolves like `flush()`.
 *
 * ```js
 * window.addEventListener('beforeunload', () => { shutdown(); });
 * ```
 */
export declare function shutdown(): Promise<boolean>;
/**
 * Reports an error to Rollbar, linked to the active span (or the span it was thrown under in
 * `withSpan`), which gets an `exception` event, ERROR status and the item's uuid.
 * `context` is custom data for this item. Returns the uuid, or undefined when not sent.
 * Until the item encoder is loaded (see `ready()`) the error waits, and the uuid it will be
 * sent with is returned even if a filter (`ignoredMessages`, the rate limits) drops it then.
 */
export declare function captureException(error: unknown, context?: Record<string, unknown>): string | undefined;
/**
 * Reports a message (level default `info`). Returns the item's uuid, or undefined when not
 * sent (while the item encoder loads, the uuid it will be sent with, as `captureException`).
 */
export declare function captureMessage(message: string, level?: RollbarLevel, context?: Record<string, unknown>): string | undefined;
/**
 * Reports a panic of the app's own Rust/wasm code (call it from that code's panic hook).
 * @example
 * // In the app's Rust: #[wasm_bindgen(module = "edge-telemetry")] extern "C" { #[wasm_bindgen(js_name = reportPanic)] fn report_panic(message: &str); }
 * // std::panic::set_hook(Box::new(|info| report_panic(&info.to_string())));
 */
export declare function reportPanic(message: string, stack?: string): string | undefined;
