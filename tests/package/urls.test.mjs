// The request wrappers' absolute URL (pkg/instrument.js `absoluteUrl`) against the WHATWG URL
// parser (Node's `URL`, the same standard as the browsers'): the fast paths that skip the
// parser must give exactly its `href`, and must be taken for the URLs an app usually has.
//
// Environment: ET_PKG_DIR (default <repo>/pkg).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const PKG_DIR = path.resolve(process.env.ET_PKG_DIR || path.join(HERE, '..', '..', 'pkg'));
const PAGE = 'https://shop.example/cart/view?x=1#top';
globalThis.location = new URL(PAGE);
const { absoluteUrl } = await import(pathToFileURL(path.join(PKG_DIR, 'instrument.js')).href);

// Taken without the parser (and, by the test below, equal to what it gives).
const PLAIN = [
  '/api/items',
  '/api/items?id=7&sort=-price#reviews',
  'https://api.shop.example/v1/items',
  'https://api.shop.example/v1/items?q=a+b&page=2#x',
  'https://api.shop.example',
  'http://127.0.0.1:8080/fetch',
  'http://localhost:3000/',
  'https://a-b.example:8443/%7Euser/~x/@me/(1)/*/!/$/;/=/:',
  'http://0x1f.example.com/',
  'https://10.0.0.255/',
];

// Left to the parser: each differs from what it gives, or is not an http(s) URL, or throws.
const PARSED = [
  'https://API.shop.example/v1', 'HTTPS://shop.example/', 'https://shop.example:443/x',
  'http://shop.example:80/x', 'https://shop.example:0443/x', 'https://shop.example:0/',
  'https://shop.example:65536/', 'https://user:pw@shop.example/', 'https://shop.example./x',
  'https://shop.example/a/../b', 'https://shop.example/a/./b', 'https://shop.example/a/%2e%2E/b',
  'https://shop.example/a b', "https://shop.example/?q='x'", 'https://shop.example/a\\b',
  'https://shop.example/{x}', 'https://shop.example/ä', 'https://xn--bcher-kva.example/',
  'https://xn--x/', 'https://bücher.example/', 'https://127.1/', 'https://0x7f.0.0.1/',
  'https://127.0.0.01/', 'https://example.123/', 'https://256.0.0.1/', 'https://-a.example/',
  'https://a_b.example/', 'https://[::1]:8080/', 'https://shop.example?x', 'https://shop.example#x',
  'https://shop.example//double', 'http:/shop.example/', 'https:shop.example', '//cdn.example/x',
  'ftp://files.example/x', 'data:text/plain,hi', 'x', '../up', '?q=1', '#frag', '', ' /a',
  '/a\tb', 'https://shop.example/\n', '/%zz', 'https://shop.example/%zz?%zz#%zz',
];

const parsed = (u) => {
  try {
    return new URL(u, PAGE).href;
  } catch (e) {
    return `throws ${e.name}`;
  }
};
const ours = (u) => {
  try {
    return absoluteUrl(u);
  } catch (e) {
    return `throws ${e.name}`;
  }
};

test('absoluteUrl gives what new URL(url, location.href).href gives', () => {
  for (const u of [...PLAIN, ...PARSED]) assert.equal(ours(u), parsed(u), JSON.stringify(u));
  // Not strings: a URL object, and what fetch stringifies.
  assert.equal(absoluteUrl(new URL('https://api.shop.example/x')), 'https://api.shop.example/x');
  assert.equal(absoluteUrl({ toString: () => '/from/object' }), 'https://shop.example/from/object');
});

test('the usual URLs skip the parser', () => {
  const Parser = globalThis.URL;
  globalThis.URL = class {
    constructor(u) {
      throw new Error(`parsed ${u}`);
    }
  };
  try {
    // The stub throws if absoluteUrl reaches for the parser.
    for (const u of PLAIN) assert.doesNotThrow(() => absoluteUrl(u), u);
  } finally {
    globalThis.URL = Parser;
  }
  for (const u of PLAIN) assert.equal(absoluteUrl(u), parsed(u), u);
});
