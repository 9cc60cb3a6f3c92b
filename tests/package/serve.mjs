// Serves the package test app by hand (scripts/demo): the Vite build of tests/package/app,
// pkg/ under /pkg/, /plain.html, and /echo endpoints on three origins that log the trace
// headers they receive. ET_COLLECTOR_URL: the local collector the printed init line points
// at. Stop with Ctrl-C.
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { startServers } from './server.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const s = await startServers({ distDir: path.join(here, 'app', 'dist'), pkgDir: path.join(here, '..', '..', 'pkg') });
console.log(`app (Vite build):      ${s.appOrigin}/`);
console.log(`plain module page:     ${s.appOrigin}/plain.html`);
console.log(`allow-listed origin:   ${s.allowedOrigin}/echo`);
console.log(`other origin:          ${s.otherOrigin}/echo`);
// With the local collector (scripts/demo starts one), spans and errors go there.
const collector = process.env.ET_COLLECTOR_URL;
const sinks = collector ? `, endpoint: '${collector}', rollbar: { endpoint: '${collector}/api/1/item/' }` : '';
if (collector) console.log(`\nThe collector takes telemetry from allowed origins only: start it with --allow-origin ${s.appOrigin}`);
console.log(`\nIn the page's console:\n  ET.init({ serviceName: 'demo', propagateTraceHeaderCorsUrls: ['${s.allowedOrigin}']${sinks} })\n  ET.withSpan(ET.startSpan('click'), () => fetch('/echo?q=1'))\n  ET.captureException(new Error('try me'))${collector ? `\nthen open ${collector}/` : ''}\n`);
let seen = 0;
setInterval(() => {
  for (; seen < s.requests.length; seen++) {
    const r = s.requests[seen];
    console.log(`${r.origin} ${r.method} ${r.path} traceparent=${r.headers.traceparent ?? '(none)'}`);
  }
}, 250);
