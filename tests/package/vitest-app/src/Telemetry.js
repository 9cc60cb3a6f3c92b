// A component as an app writes it: both entry points imported at the top, init and a span in
// an effect, the children under edge-telemetry/react's ErrorBoundary. (createElement, not
// JSX: no transform to configure.)
import { createElement as h, useEffect } from 'react';
import * as ET from 'edge-telemetry';
import { ErrorBoundary } from 'edge-telemetry/react';

export function Telemetry({ onStarted, children }) {
  useEffect(() => {
    const started = ET.init({ serviceName: 'vitest', endpoint: '/sink' });
    const span = ET.startSpan('vitest-smoke', { attributes: { 'test.runner': 'vitest' } });
    span.setAttribute('step', 1);
    span.end();
    if (onStarted) onStarted({ started, recording: span.isRecording(), stats: ET.getStats() });
  }, []);
  return h(ErrorBoundary, { fallback: h('p', { id: 'fallback' }, 'something went wrong') }, children);
}
