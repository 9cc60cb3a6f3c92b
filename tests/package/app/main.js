// The Vite-bundled consumer of the package. It only exposes the module:
// each test calls ET.init itself with the origins it was given.
import * as ET from 'edge-telemetry';

window.ET = ET;
// Ready once the SDK's module is (requests made before carry no trace headers).
ET.ready().then(() => {
  window.__ready = true;
  document.getElementById('status').textContent = 'ready';
});
