// The entry module: reads the runtime config (config.json next to index.html), starts
// edge-telemetry, then renders the app. init runs here, before any component, so the
// page load, clicks and every fetch the app makes are traced.
import * as ET from 'edge-telemetry';
import './styles.css';

/** `{ apiBase, collector, rollbarEndpoint, serviceName, xray }`; see public/config.json. */
async function loadConfig() {
  const res = await fetch(new URL('config.json', document.baseURI), { cache: 'no-store' });
  if (!res.ok) throw new Error(`config.json: HTTP ${res.status}`);
  const c = await res.json();
  return {
    apiBase: String(c.apiBase ?? '').replace(/\/+$/, ''),
    collector: String(c.collector ?? '').replace(/\/+$/, ''),
    rollbarEndpoint: c.rollbarEndpoint ? String(c.rollbarEndpoint) : '',
    serviceName: c.serviceName ? String(c.serviceName) : 'demo-frontend',
    xray: c.xray === true,
  };
}

const config = await loadConfig();
const apiOrigin = new URL(config.apiBase || '/', location.href).origin;
const crossOrigin = apiOrigin !== location.origin;

ET.init({
  serviceName: config.serviceName,
  serviceVersion: '0.1.0',
  environment: 'demo',
  ...(config.collector ? { endpoint: config.collector } : {}),
  // Same-origin requests always carry traceparent; the API on another origin must be
  // allow-listed (and must allow the header in its CORS preflight).
  ...(crossOrigin ? { propagateTraceHeaderCorsUrls: [config.apiBase] } : {}),
  // When the backend sends X-Ray segments: X-Amzn-Trace-Id beside traceparent, X-Ray ids.
  ...(config.xray ? { addXRayTraceIdHeader: true } : {}),
  batch: { scheduledDelayMillis: 1000 },
  // console.error and console.warn become log records too (log.* makes them directly).
  captureConsole: ['error', 'warn'],
  ...(config.rollbarEndpoint ? { rollbar: { endpoint: config.rollbarEndpoint, environment: 'demo' } } : {}),
});

// For tests and debugging in the console: ET.flush(), ET.getStats().
window.ET = ET;
window.__demoConfig = config;

const { mount } = await import('./App.jsx');
mount(document.getElementById('root'), config);
