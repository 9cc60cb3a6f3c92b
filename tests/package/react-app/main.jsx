// The React consumer of the package for tests/package/errors.test.mjs: init options from
// ?cfg=<json>, and a component that throws during render inside edge-telemetry/react's
// ErrorBoundary when told to:
//   #boom (click)             arms the bomb; React renders it on its own schedule
//   window.__explodeUnder(n)  starts span n, keeps it open (window.__renderSpan) and renders
//                             the bomb synchronously (flushSync) with n active; returns its
//                             spanContext()
// What the boundary reported is in window.__boundary ({ message, componentStack, uuid }),
// what React's onCaughtError saw in window.__caught, and the fallback is #fallback.
import { useEffect, useState } from 'react';
import { flushSync } from 'react-dom';
import { createRoot } from 'react-dom/client';
import * as ET from 'edge-telemetry';
import { ErrorBoundary } from 'edge-telemetry/react';

const cfg = new URLSearchParams(location.search).get('cfg');
if (cfg) ET.init(JSON.parse(cfg));
window.ET = ET;
window.__caught = [];

function Bomb({ armed }) {
  if (armed) throw new TypeError('render exploded');
  return <p id="calm">all calm</p>;
}

function Fallback({ error, resetError }) {
  return (
    <div id="fallback" role="alert">
      caught: {String(error && error.message)}
      <button id="reset" type="button" onClick={resetError}>reset</button>
    </div>
  );
}

function App() {
  const [armed, setArmed] = useState(false);
  window.__explodeUnder = (name) => {
    const span = ET.startSpan(name);
    window.__renderSpan = span;
    ET.withSpan(span, () => flushSync(() => setArmed(true)));
    return span.spanContext();
  };
  useEffect(() => {
    // Ready once the SDK's module is (interactions before it start no span).
    ET.ready().then(() => {
      window.__ready = true;
    });
  }, []);
  return (
    <main>
      <button id="boom" type="button" onClick={() => setArmed(true)}>boom</button>
      <ErrorBoundary
        fallback={(props) => <Fallback {...props} />}
        onError={(error, componentStack, uuid) => {
          window.__boundary = { message: error && error.message, componentStack, uuid };
        }}
      >
        <Bomb armed={armed} />
      </ErrorBoundary>
    </main>
  );
}

// React 19 logs errors caught by a boundary with console.error by default; the test fails
// on console errors, so they are recorded here instead.
createRoot(document.getElementById('root'), {
  onCaughtError: (error) => window.__caught.push(String(error && error.message)),
}).render(<App />);
