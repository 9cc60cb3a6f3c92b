// The smoke test's app under the Vite dev server: the package imported as an app imports it
// (pre-bundled by Vite's dependency optimizer), exposed to the test as window.ET.
import * as ET from 'edge-telemetry';

window.ET = ET;
window.__ready = true;
document.getElementById('status').textContent = 'ready';
