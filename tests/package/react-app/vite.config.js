import { defineConfig } from 'vite';

export default defineConfig({
  // JSX through Vite's own esbuild (React's automatic runtime): no Babel plugin needed.
  esbuild: { jsx: 'automatic' },
  resolve: {
    // edge-telemetry is a symlink to pkg/ (a file: dependency), outside this app: its
    // react.js imports 'react', which must resolve to this app's single copy.
    dedupe: ['react', 'react-dom'],
  },
  // The package's entry uses top-level await to instantiate its wasm.
  build: {
    target: 'es2022',
    minify: false,
    sourcemap: false,
    emptyOutDir: true,
  },
});
