'use client';
// The SDK as a Next.js app uses it: both entry points imported at the top of a client
// component, init in an effect, the children under edge-telemetry/react's ErrorBoundary.
// The effect also starts and ends a span around a same-origin fetch at once (before the wasm
// is ready: recorded and replayed); #send does it again on a click (once it is ready, the
// fetch carries the span's traceparent, which /echo sends back and #result shows).
import { useEffect, useState } from 'react';
import * as ET from 'edge-telemetry';
import { ErrorBoundary } from 'edge-telemetry/react';

async function tracedFetch(name) {
  const span = ET.startSpan(name);
  try {
    const res = await ET.withSpan(span, () => fetch('/echo', { cache: 'no-store' }));
    const body = await res.json();
    return { traceparent: body.traceparent, traceId: span.spanContext().traceId };
  } finally {
    span.end();
  }
}

export default function Telemetry({ children }) {
  const [result, setResult] = useState(null);
  useEffect(() => {
    const started = ET.init({
      serviceName: 'next',
      endpoint: '/sink',
      batch: { scheduledDelayMillis: 200 },
      instrumentDocumentLoad: false,
      userInteractionEvents: [],
    });
    window.__ET = ET;
    window.__started = started;
    tracedFetch('next-effect').then((r) => { window.__early = r; });
  }, []);
  return (
    <ErrorBoundary fallback={<p id="fallback">something went wrong</p>}>
      <button id="send" type="button" onClick={() => tracedFetch('next-click').then(setResult)}>send</button>
      {result && <pre id="result">{JSON.stringify(result)}</pre>}
      {children}
    </ErrorBoundary>
  );
}
