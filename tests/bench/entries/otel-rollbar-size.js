// Bundle-size entry, OpenTelemetry JS + rollbar.js: what an app imports to trace fetches,
// export spans and report errors to Rollbar with the two SDKs edge-telemetry replaces (the
// same OpenTelemetry set-up as otel-size.js, plus rollbar.js's browser build catching
// uncaught errors and rejections and reporting one error).
import { trace, context } from '@opentelemetry/api';
import { WebTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-web';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { FetchInstrumentation } from '@opentelemetry/instrumentation-fetch';
import Rollbar from 'rollbar';
const provider = new WebTracerProvider({
  resource: resourceFromAttributes({ 'service.name': 'size' }),
  spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: 'http://127.0.0.1:4318/v1/traces' }))],
});
provider.register();
registerInstrumentations({ instrumentations: [new FetchInstrumentation({ propagateTraceHeaderCorsUrls: [/.*/] })] });
const rollbar = new Rollbar({ accessToken: 'size', captureUncaught: true, captureUnhandledRejections: true, payload: { environment: 'size' } });
const span = trace.getTracer('size').startSpan('x');
context.with(trace.setSpan(context.active(), span), () => fetch('/'));
span.end();
rollbar.error(new Error('x'));
provider.forceFlush();
