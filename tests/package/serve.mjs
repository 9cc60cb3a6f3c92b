// Serves the package test app by hand (scripts/demo): the Vite build of tests/package/app,
// pkg/ under /pkg/, /plain.html, and /echo endpoints on three origins that log the trace
// headers they receive. Stop with Ctrl-C.
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { startServers } from './server.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const s = await startServers({ distDir: path.join(here, 'app', 'dist'), pkgDir: path.join(here, '..', '..', 'pkg') });
console.log(`app (Vite build):      ${s.appOrigin}/`);
console.log(`plain module page:     ${s.appOrigin}/plain.html`);
console.log(`allow-listed origin:   ${s.allowedOrigin}/echo`);
console.log(`other origin:          ${s.otherOrigin}/echo`);
console.log(`\nIn the page's console:\n  ET.init({ serviceName: 'demo', propagateTraceHeaderCorsUrls: ['${s.allowedOrigin}'], onSpanEnd: console.log })\n  ET.withSpan(ET.startSpan('click'), () => fetch('/echo?q=1'))\n`);
let seen = 0;
setInterval(() => {
  for (; seen < s.requests.length; seen++) {
    const r = s.requests[seen];
    console.log(`${r.origin} ${r.method} ${r.path} traceparent=${r.headers.traceparent ?? '(none)'}`);
  }
}, 250);
