// The smoke test's app, bundled by webpack 5 with its defaults: the package as an app imports
// it, exposed to the test as window.ET.
import * as ET from 'edge-telemetry';

window.ET = ET;
// Ready once the SDK's module is (requests made before carry no trace headers).
ET.ready().then(() => {
  window.__ready = true;
  document.getElementById('status').textContent = 'ready';
});
