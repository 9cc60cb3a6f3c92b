// What an app imports to trace with edge-telemetry (fetch/XHR instrumentation included).
import { init, startSpan, withSpan } from 'edge-telemetry';
init({ serviceName: 'size' });
withSpan(startSpan('x'), () => fetch('/'));
