// edge-telemetry in a component test: Vitest, jsdom, React 19 (react-dom/client and act). In
// jsdom the wasm module cannot be fetched (its URL is a file: URL), so the SDK turns itself
// off: importing, init, spans and rendering must not throw, the component renders as without
// the SDK, and getStats() says why it is off.
import { test, expect, vi, afterEach } from 'vitest';
import { createElement as h } from 'react';
import { createRoot } from 'react-dom/client';
import { act } from 'react';
import * as ET from 'edge-telemetry';
import { ErrorBoundary } from 'edge-telemetry/react';
import { Telemetry } from './Telemetry.js';

globalThis.IS_REACT_ACT_ENVIRONMENT = true;

let root;
let container;
afterEach(() => {
  act(() => root?.unmount());
  container?.remove();
});

function mount(element, options) {
  container = document.createElement('div');
  document.body.append(container);
  root = createRoot(container, options);
  act(() => root.render(element));
  return container;
}

test('the component renders, init and a span do not throw, and getStats() says the SDK is off', async () => {
  const seen = [];
  const el = mount(h(Telemetry, { onStarted: (s) => seen.push(s) }, h('p', { id: 'child' }, 'hello from the app')));
  expect(el.querySelector('#child')?.textContent).toBe('hello from the app');
  expect(el.querySelector('#fallback')).toBeNull();
  expect(seen).toHaveLength(1);
  // What the effect saw right after init (the module was still loading, or already failed).
  console.log(`edge-telemetry in jsdom, at init: ${JSON.stringify(seen[0])}`);
  await vi.waitFor(() => expect(ET.getStats().loading).toBeUndefined(), { timeout: 5000 });
  const stats = ET.getStats();
  console.log(`edge-telemetry in jsdom, settled: ${JSON.stringify(stats)}`);
  expect(stats).toEqual({ loadError: expect.stringMatching(/could not be loaded.*the SDK is off/) });
  // Off: calls are no-ops, nothing throws.
  const span = ET.startSpan('after');
  expect(span.isRecording()).toBe(false);
  span.end();
  expect(await ET.flush()).toBe(true);
});

test('ErrorBoundary renders its fallback for a child that throws (SDK off)', () => {
  const caught = [];
  function Bomb() {
    throw new Error('render exploded');
  }
  const el = mount(
    h(ErrorBoundary, { fallback: ({ error }) => h('p', { id: 'fallback' }, `caught: ${error.message}`) }, h(Bomb)),
    { onCaughtError: (e) => caught.push(e.message) },
  );
  expect(el.querySelector('#fallback')?.textContent).toBe('caught: render exploded');
  expect(caught).toEqual(['render exploded']);
});
