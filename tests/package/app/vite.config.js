import { defineConfig } from 'vite';

export default defineConfig({
  // The package's entry uses top-level await to instantiate its wasm.
  build: {
    target: 'es2022',
    minify: false,
    sourcemap: false,
    emptyOutDir: true,
  },
});
