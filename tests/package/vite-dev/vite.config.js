// The Vite dev server as an app would run it: no optimizeDeps option (the package is
// pre-bundled into the cache directory), plus /echo, which answers with the traceparent
// header the request carried. No import from 'vite': the same file serves Vite 7 and Vite 8.
function echo() {
  return {
    name: 'echo-traceparent',
    configureServer(server) {
      server.middlewares.use('/echo', (req, res) => {
        res.setHeader('content-type', 'application/json');
        res.setHeader('cache-control', 'no-store');
        res.end(JSON.stringify({ traceparent: req.headers.traceparent ?? null }));
      });
    },
  };
}

export default {
  plugins: [echo()],
  server: { host: '127.0.0.1' },
  clearScreen: false,
};
