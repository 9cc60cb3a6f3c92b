// The OpenTelemetry JS equivalent: web tracer, batch processor, OTLP/HTTP JSON exporter,
// fetch instrumentation.
import { trace, context } from '@opentelemetry/api';
import { WebTracerProvider } from '@opentelemetry/sdk-trace-web';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { FetchInstrumentation } from '@opentelemetry/instrumentation-fetch';
const provider = new WebTracerProvider({ spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())] });
provider.register();
registerInstrumentations({ instrumentations: [new FetchInstrumentation()] });
const span = trace.getTracer('size').startSpan('x');
context.with(trace.setSpan(context.active(), span), () => fetch('/'));
