// Vitest with the jsdom environment, as an app's component tests run (no other option).
export default {
  test: {
    environment: 'jsdom',
  },
};
