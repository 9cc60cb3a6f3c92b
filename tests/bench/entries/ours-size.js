// Bundle-size entry, edge-telemetry: the same app code (fetch/XHR instrumentation and the
// OTLP export are built in). The wasm file is counted separately by the harness.
import * as ET from 'edge-telemetry';
ET.init({ serviceName: 'size', endpoint: 'http://127.0.0.1:4318', compression: 'gzip', propagateTraceHeaderCorsUrls: [/.*/] });
const span = ET.startSpan('x');
ET.withSpan(span, () => fetch('/'));
span.end();
ET.flush();
