// The engine module's exports (wasm.js) and the boundary's numbers, once the module is
// loaded: index.js fills this object. The package's tests reach the engine here.
export const engine = {};
