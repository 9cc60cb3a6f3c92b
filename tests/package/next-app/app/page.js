// A server component, prerendered at build time (static): it renders the client component
// that uses the SDK, so `edge-telemetry` is also imported in Node while prerendering (where
// it is off and must not throw).
import Telemetry from './Telemetry';

export default function Page() {
  return (
    <main>
      <h1 id="title">edge-telemetry in Next.js</h1>
      <Telemetry>
        <p id="child">rendered inside the ErrorBoundary</p>
      </Telemetry>
    </main>
  );
}
