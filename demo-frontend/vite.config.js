import { defineConfig } from 'vite';

export default defineConfig({
  // JSX through Vite's own esbuild (React's automatic runtime): no Babel plugin needed.
  esbuild: { jsx: 'automatic' },
  resolve: {
    // edge-telemetry is a symlink to ../pkg (a file: dependency), outside this app: its
    // react.js imports 'react', which must resolve to this app's single copy.
    dedupe: ['react', 'react-dom'],
  },
  // The package's entry (and main.jsx) use top-level await.
  build: {
    target: 'es2022',
    sourcemap: true,
    emptyOutDir: true,
  },
  server: { host: '127.0.0.1', port: 5173, strictPort: true },
  preview: { host: '127.0.0.1', port: 5173, strictPort: true },
});
