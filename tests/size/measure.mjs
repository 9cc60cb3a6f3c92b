// Bundles ours.js and otel.js with esbuild (minified ESM, browser) and prints raw, gzip and
// brotli sizes. edge-telemetry's wasm is a separate file the bundle loads; it is counted too.
import { build } from 'esbuild';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const out = path.join(here, 'dist');
fs.rmSync(out, { recursive: true, force: true });

const sizes = (buf) => ({
  raw: buf.length,
  gzip: zlib.gzipSync(buf, { level: 9 }).length,
  brotli: zlib.brotliCompressSync(buf, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11 } }).length,
});

async function bundle(name) {
  const outfile = path.join(out, `${name}.js`);
  await build({
    entryPoints: [path.join(here, `${name}.js`)], outfile, bundle: true, minify: true,
    format: 'esm', platform: 'browser', target: 'es2022', logLevel: 'error',
  });
  return fs.readFileSync(outfile);
}

const rows = [];
const ours = await bundle('ours');
const wasm = fs.readFileSync(path.join(here, 'node_modules', 'edge-telemetry', 'edge_telemetry_bg.wasm'));
rows.push(['edge-telemetry JS (minified)', sizes(ours)]);
rows.push(['edge-telemetry wasm', sizes(wasm)]);
const o = sizes(ours), w = sizes(wasm);
rows.push(['edge-telemetry total', { raw: o.raw + w.raw, gzip: o.gzip + w.gzip, brotli: o.brotli + w.brotli }]);
rows.push(['OpenTelemetry JS web + fetch + OTLP', sizes(await bundle('otel'))]);

const pad = (s, n) => String(s).padStart(n);
console.log(`\n${'bundle'.padEnd(38)}${pad('raw', 10)}${pad('gzip -9', 10)}${pad('brotli', 10)}`);
for (const [name, s] of rows) console.log(`${name.padEnd(38)}${pad(s.raw, 10)}${pad(s.gzip, 10)}${pad(s.brotli, 10)}`);
