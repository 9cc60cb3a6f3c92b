// Bundle-size entry, OpenTelemetry JS: what an app imports to trace fetches and export spans
// (web tracer, batch processor, OTLP/HTTP JSON exporter, fetch instrumentation).
import { trace, context } from '@opentelemetry/api';
import { WebTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-web';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { FetchInstrumentation } from '@opentelemetry/instrumentation-fetch';
const provider = new WebTracerProvider({
  resource: resourceFromAttributes({ 'service.name': 'size' }),
  spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: 'http://127.0.0.1:4318/v1/traces' }))],
});
provider.register();
registerInstrumentations({ instrumentations: [new FetchInstrumentation({ propagateTraceHeaderCorsUrls: [/.*/] })] });
const span = trace.getTracer('size').startSpan('x');
context.with(trace.setSpan(context.active(), span), () => fetch('/'));
span.end();
provider.forceFlush();
