// The demo app: a feed loaded from demo-backend, a form to post to it, and buttons that fail
// in the ways edge-telemetry reports (a throw in a click handler, an unhandled rejection, a
// backend endpoint that fails, a render error), all under the package's ErrorBoundary.
// Element ids are the shared contract with tests/package/e2e.test.mjs.
import { StrictMode, useState } from 'react';
import { flushSync } from 'react-dom';
import { createRoot } from 'react-dom/client';
import * as ET from 'edge-telemetry';
import { ErrorBoundary } from 'edge-telemetry/react';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The trace id and server span id of a response's `Server-Timing: traceparent;desc="00-…"`. */
function serverTrace(res) {
  const m = /traceparent;\s*desc="?00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}"?/.exec(res.headers.get('server-timing') || '');
  return m ? { traceId: m[1], spanId: m[2] } : null;
}

/**
 * fetch + JSON. Call it synchronously from an event handler: fetch starts before the first
 * await, while the SDK's interaction span is active, so the request is its child.
 */
async function api(config, path, init) {
  const res = await fetch(`${config.apiBase}${path}`, init);
  let body = null;
  try {
    body = await res.json();
  } catch {
    /* not JSON */
  }
  return { status: res.status, ok: res.ok, body, trace: serverTrace(res) };
}

function TraceLink({ config, trace, id }) {
  if (!trace) return null;
  return (
    <a id={id} className="trace-link" data-trace-id={trace.traceId} data-span-id={trace.spanId}
      href={`${config.collector}/#/trace/${trace.traceId}`} target="_blank" rel="noreferrer">
      trace {trace.traceId.slice(0, 8)}…
    </a>
  );
}

function Feed({ config, activities, setActivities }) {
  const [status, setStatus] = useState('not loaded yet: press "Load feed"');
  const [trace, setTrace] = useState(null);
  const load = () => {
    setStatus('loading…');
    // Log lines under the click's span (the SDK keeps it active in the fetch's callbacks):
    // the collector shows them beside the trace, with the backend's.
    ET.log.info('loading the feed');
    api(config, '/api/activities/home').then(
      (r) => {
        setTrace(r.trace);
        if (!r.ok) {
          console.warn(`feed: HTTP ${r.status}`);
          return setStatus(`error: HTTP ${r.status}`);
        }
        ET.log.info('feed loaded', { 'feed.activities': (r.body.activities || []).length });
        setActivities(r.body.activities || []);
        setStatus(`${(r.body.activities || []).length} activities`);
      },
      (e) => setStatus(`error: ${e.message}`),
    );
  };
  return (
    <section>
      <h2>Feed</h2>
      <p>
        <button id="load-feed" type="button" onClick={load}>Load feed</button>{' '}
        <span id="feed-status">{status}</span> <TraceLink config={config} trace={trace} id="feed-trace" />
      </p>
      <ul id="feed">
        {activities.map((a) => (
          <li key={a.id} className="activity" data-id={a.id}>
            <strong>@{a.handle}</strong> {a.message} <time dateTime={a.createdAt}>{a.createdAt}</time>
          </li>
        ))}
      </ul>
    </section>
  );
}

function PostForm({ config, onPosted }) {
  const [status, setStatus] = useState('');
  const [trace, setTrace] = useState(null);
  const submit = (e) => {
    e.preventDefault();
    const form = e.currentTarget;
    const data = new FormData(form);
    setStatus('posting…');
    api(config, '/api/activities', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ handle: data.get('handle'), message: data.get('message') }),
    }).then(
      (r) => {
        setTrace(r.trace);
        if (!r.ok) return setStatus(`error: ${(r.body && r.body.error) || `HTTP ${r.status}`}`);
        form.reset();
        setStatus('posted');
        onPosted(r.body.activity);
      },
      (err) => setStatus(`error: ${err.message}`),
    );
  };
  return (
    <section>
      <h2>Post</h2>
      <form id="post-form" onSubmit={submit}>
        <label>Handle <input name="handle" required maxLength={40} defaultValue="demo" /></label>
        <label>Message <textarea name="message" required maxLength={280} rows={2} /></label>
        <button type="submit">Post</button> <span id="post-status">{status}</span>{' '}
        <TraceLink config={config} trace={trace} id="post-trace" />
      </form>
    </section>
  );
}

function Bomb() {
  throw new TypeError('demo: a component failed to render');
}

function Fallback({ error, resetError }) {
  return (
    <div id="fallback" role="alert">
      The ErrorBoundary caught: {String(error && error.message)}{' '}
      <button id="reset" type="button" onClick={resetError}>reset</button>
    </div>
  );
}

function Errors({ config }) {
  const [armed, setArmed] = useState(false);
  const [fail, setFail] = useState(null);
  const [rejected, setRejected] = useState('');

  const throwError = () => {
    // Reported as an uncaught error, linked to the click's interaction span.
    throw new Error('demo: thrown in a click handler');
  };

  const rejectPromise = () => {
    // Background work that fails with nobody handling the rejection. withSpan keeps the span
    // active while the work is pending, so the unhandled rejection is linked to it.
    const span = ET.startSpan('demo.background-job', { attributes: { 'demo.kind': 'unhandled-rejection' } });
    ET.withSpan(span, async () => {
      Promise.reject(new Error('demo: unhandled promise rejection'));
      await sleep(300);
    }).finally(() => {
      span.end();
      setRejected('rejected (unhandled)');
    });
  };

  const callFailing = () => {
    // A span of our own around the call, open until its error is reported from the browser
    // too; the backend reports its own item with the same trace id.
    const span = ET.startSpan('demo.call-failing');
    setFail({ status: 'calling…' });
    ET.withSpan(span, () => api(config, '/api/fail'))
      .then((r) => {
        const err = new Error(`GET /api/fail answered ${r.status}: ${(r.body && r.body.error) || ''}`);
        const uuid = ET.withSpan(span, () => ET.captureException(err, { backendRollbarUuid: r.body && r.body.rollbarUuid }));
        setFail({ status: `HTTP ${r.status}`, backendUuid: r.body && r.body.rollbarUuid, browserUuid: uuid, trace: r.trace });
      }, (e) => setFail({ status: `error: ${e.message}` }))
      .finally(() => span.end());
  };

  // flushSync renders the bomb now, inside the click handler, so the ErrorBoundary reports
  // the render error under the click's interaction span.
  const renderError = () => flushSync(() => setArmed(true));

  return (
    <section>
      <h2>Errors</h2>
      <p>
        <button id="throw-error" type="button" onClick={throwError}>Throw in a handler</button>{' '}
        <button id="reject-promise" type="button" onClick={rejectPromise}>Reject a promise</button>{' '}
        <button id="call-failing" type="button" onClick={callFailing}>Call the failing endpoint</button>{' '}
        <button id="render-error" type="button" onClick={renderError}>Fail to render</button>
      </p>
      <p id="reject-result">{rejected}</p>
      {fail && (
        <p id="fail-result" data-backend-uuid={fail.backendUuid || ''} data-browser-uuid={fail.browserUuid || ''}>
          /api/fail: {fail.status}
          {fail.backendUuid && <> · backend item {fail.backendUuid}</>}
          {fail.browserUuid && <> · browser item {fail.browserUuid}</>}{' '}
          <TraceLink config={config} trace={fail.trace} id="fail-trace" />
        </p>
      )}
      <ErrorBoundary fallback={(props) => <Fallback {...props} resetError={() => { setArmed(false); props.resetError(); }} />}>
        {armed ? <Bomb /> : <p id="calm">Nothing has failed to render yet.</p>}
      </ErrorBoundary>
    </section>
  );
}

function App({ config }) {
  const [activities, setActivities] = useState([]);
  return (
    <main>
      <header>
        <h1>edge-telemetry demo</h1>
        <p>
          Every click, request and error here is traced by edge-telemetry and joins the backend&apos;s
          trace. {config.collector && (
            <>
              Watch them in the <a id="collector-link" href={`${config.collector}/`} target="_blank" rel="noreferrer">collector UI</a>{' '}
              (<a href={`${config.collector}/#/errors`} target="_blank" rel="noreferrer">errors</a>).
            </>
          )}
        </p>
      </header>
      <Feed config={config} activities={activities} setActivities={setActivities} />
      <PostForm config={config} onPosted={(a) => a && setActivities((list) => [a, ...list.filter((x) => x.id !== a.id)])} />
      <Errors config={config} />
    </main>
  );
}

function AppFallback({ error }) {
  return <p id="app-fallback" role="alert">The demo failed: {String(error && error.message)}</p>;
}

export function mount(el, config) {
  createRoot(el, {
    // React 19 logs errors a boundary caught with console.error; the boundary has reported
    // them to Rollbar already.
    onCaughtError: (error) => console.warn('ErrorBoundary caught:', error && error.message),
  }).render(
    <StrictMode>
      <ErrorBoundary fallback={(props) => <AppFallback {...props} />}>
        <App config={config} />
      </ErrorBoundary>
    </StrictMode>,
  );
  window.__ready = true;
}
