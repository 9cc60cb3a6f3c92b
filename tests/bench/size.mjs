// The package's size as an app loads it at start-up: the size entry (entries/ours-size.js:
// init, a span, an instrumented fetch, flush) bundled by esbuild (minified ESM), plus the
// .wasm, each compressed with gzip -9, the figure issue 14's budget and scripts/bench use.
// scripts/size runs this file: it prints the figure and fails when it is more than 2 % over
// the one committed in scripts/size-baseline. bench.mjs imports `sizes` and `bundle`.
import { build } from 'esbuild';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..', '..');

/** Raw, gzip -9 and brotli q11 bytes of `buf`. */
export const sizes = (buf) => ({
  raw: buf.length,
  gzip: zlib.gzipSync(buf, { level: 9 }).length,
  brotli: zlib.brotliCompressSync(buf, {
    params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: buf.length },
  }).length,
});
export const addSizes = (a, b) => ({ raw: a.raw + b.raw, gzip: a.gzip + b.gzip, brotli: a.brotli + b.brotli });

/**
 * Bundles entries/`entry` minified into `outfile` (with `banner` first), code-split as
 * bundlers split a dynamic import (the item encoder's glue loads after start-up). Returns
 * the bytes of `outfile` and of the chunks it imports statically: what loads at start-up.
 * `lazy` holds the bytes of the other chunks.
 */
export async function bundle(entry, outfile, banner) {
  const name = path.basename(outfile, '.js');
  const r = await build({
    entryPoints: { [name]: path.join(HERE, 'entries', entry) },
    outdir: path.dirname(outfile),
    chunkNames: `${name}-chunk-[hash]`,
    splitting: true,
    metafile: true,
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    logLevel: 'silent',
    ...(banner ? { banner: { js: banner } } : {}),
  });
  const outputs = r.metafile.outputs;
  const start = Object.keys(outputs).find((k) => path.resolve(k) === path.resolve(outfile));
  const seen = new Set();
  const visit = (k) => {
    if (seen.has(k)) return;
    seen.add(k);
    for (const i of outputs[k].imports) if (i.kind === 'import-statement') visit(i.path);
  };
  visit(start);
  const read = (keys) => Buffer.concat(keys.map((k) => fs.readFileSync(k)));
  const out = read([...seen]);
  out.lazy = read(Object.keys(outputs).filter((k) => !seen.has(k) && k.endsWith('.js')));
  return out;
}

/**
 * The installed package's start-up size: { js, wasm, total }, each { raw, gzip, brotli }, and
 * `later`: what loads after start-up when error reporting is on (the item encoder's glue
 * chunk and module).
 */
export async function packageSize(outDir) {
  fs.mkdirSync(outDir, { recursive: true });
  const bundled = await bundle('ours-size.js', path.join(outDir, 'ours-size.js'));
  const js = sizes(bundled);
  const dir = path.join(HERE, 'node_modules', 'edge-telemetry');
  const wasm = sizes(fs.readFileSync(path.join(dir, 'edge_telemetry_bg.wasm')));
  const later = addSizes(sizes(bundled.lazy), sizes(fs.readFileSync(path.join(dir, 'edge_telemetry_errors_bg.wasm'))));
  return { js, wasm, total: addSizes(js, wasm), later };
}

// The committed figure: the first number in scripts/size-baseline (comments start with #).
function baseline(file) {
  const text = fs.readFileSync(file, 'utf8').split('\n').filter((l) => !l.startsWith('#')).join(' ');
  const m = /\d+/.exec(text);
  if (!m) throw new Error(`${file} holds no figure`);
  return Number(m[0]);
}

const PRIMITIVE = /^(char|bool|str|[iuf](8|16|32|64|128|size)|T|\[.*\])$/;

// The crate an item of twiggy's list belongs to, from its demangled name.
function crateOf(name) {
  if (/^data segment|^data\[/.test(name)) return '(constant data)';
  if (/^(table|elem|type|global|memory|import|export)\b/.test(name)) return '(tables, types, imports, exports)';
  let path = name.replace(/^[&(]+/, '');
  // <X as Trait>::f: X's crate, or the trait's when X is a primitive or a type parameter.
  const m = /^<(.+?)(?: as (.+?))?>::/.exec(path);
  if (m) path = PRIMITIVE.test(m[1].replace(/^&(mut )?/, '')) && m[2] ? m[2] : m[1];
  path = path.replace(/^[<&]+|^dyn |^impl /g, '');
  if (PRIMITIVE.test(path.split('>')[0].split('::')[0])) return 'core';
  const seg = /^([A-Za-z_][A-Za-z0-9_]*)(\[[0-9a-f]+\])?::/.exec(path);
  if (seg) return seg[1];
  return '(other)';
}

// twiggy's `top --format csv` rows summed by crate. The name section is left out: the
// shipped module has none.
function byCrate(csvFile) {
  const rows = fs.readFileSync(csvFile, 'utf8').trim().split('\n').slice(1);
  const total = new Map();
  let all = 0;
  for (const line of rows) {
    const m = /^"?(.*?)"?,(\d+),/.exec(line);
    if (!m) continue;
    const name = m[1].replace(/""/g, '"');
    if (/subsection|custom section/.test(name)) continue;
    const bytes = Number(m[2]);
    all += bytes;
    const crate = crateOf(name);
    total.set(crate, (total.get(crate) || 0) + bytes);
  }
  for (const [crate, bytes] of [...total].sort((a, b) => b[1] - a[1]).slice(0, 16)) {
    console.log(`${crate.padEnd(36)} ${String(bytes).padStart(8)} B ${((bytes / all) * 100).toFixed(1).padStart(5)} %`);
  }
  console.log(`${'total (code and data)'.padEnd(36)} ${String(all).padStart(8)} B`);
}

// What formats text in a wasm module (issue 14: no `core::fmt` on a wasm path): the
// interpreter of format strings (`format!`, `to_string`, a panic's `Display`) and `str`
// indexing's panic, which formats the offending `char` with its Unicode tables. What stays on
// the stable toolchain is the number and `&str` `Display` that core's own panics (a bounds
// check, `expect`) point to without calling (ARCHITECTURE.md, "The wasm build").
const FORMATTING = [
  /^core\[[0-9a-f]+\]::fmt::write$/,
  /^alloc\[[0-9a-f]+\]::fmt::format/,
  /^<core\[[0-9a-f]+\]::panic::panic_info::PanicInfo as core\[[0-9a-f]+\]::fmt::Display>::fmt$/,
  /^core\[[0-9a-f]+\]::str::slice_error_fail/,
  /^<char as core\[[0-9a-f]+\]::fmt::Debug>::fmt$/,
];

// Fails when the module's twiggy rows (csv) name any of FORMATTING.
function noFormatting(csvFile) {
  const found = [];
  for (const line of fs.readFileSync(csvFile, 'utf8').trim().split('\n').slice(1)) {
    const m = /^"?(.*?)"?,(\d+),/.exec(line);
    if (m && FORMATTING.some((re) => re.test(m[1].replace(/""/g, '"')))) found.push(m[1]);
  }
  if (found.length) {
    console.error(`size: the wasm module formats text again (${found.join(', ')}): a format!, to_string or str index on a wasm path. \`twiggy paths <module> '<name>'\` shows which function brings it in; core::text has cat!, decimal and upto/after/within for those.`);
    process.exit(1);
  }
  console.log('size: no core::fmt::write, format!, panic Display or str-index panic in the module');
}

if (process.argv[2] === '--crates') {
  byCrate(process.argv[3]);
} else if (process.argv[2] === '--no-formatting') {
  noFormatting(process.argv[3]);
} else if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const file = process.env.SIZE_BASELINE || path.join(ROOT, 'scripts', 'size-baseline');
  const s = await packageSize(path.join(ROOT, 'target', 'size'));
  const base = baseline(file);
  const limit = Math.floor(base * 1.02);
  const row = (name, x) => console.log(`${name.padEnd(34)} ${String(x.raw).padStart(9)} ${String(x.gzip).padStart(9)} ${String(x.brotli).padStart(9)}`);
  console.log(`${'start-up bundle (esbuild, minified)'.padEnd(34)} ${'raw'.padStart(9)} ${'gzip -9'.padStart(9)} ${'brotli'.padStart(9)}`);
  row('JS (index + modules, glue)', s.js);
  row('edge_telemetry_bg.wasm', s.wasm);
  row('total', s.total);
  row('after start-up: item encoder', s.later);
  const pct = ((s.total.gzip / base - 1) * 100).toFixed(1);
  if (s.total.gzip > limit) {
    console.error(`size: the package is ${s.total.gzip} bytes gzip, ${pct} % over the ${base} committed in ${path.relative(ROOT, file)} (2 % allowed: ${limit}). A size regression has to be a decision: shrink it, or raise the figure there with the reason in the commit.`);
    process.exit(1);
  }
  console.log(`size: ${s.total.gzip} bytes gzip, ${pct} % against the ${base} committed in ${path.relative(ROOT, file)} (fails above ${limit})`);
  if (s.total.gzip < base * 0.98) console.log(`size: more than 2 % smaller than committed: lower the figure in ${path.relative(ROOT, file)} to ${s.total.gzip}`);
}
