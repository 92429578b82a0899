import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    exclude: ['**/node_modules/**', '.wrangler/**', '.tmp/**'],
    // Real ffmpeg encodes and a real `wrangler dev` on a 2-core machine: be generous.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    globalSetup: ['test/global-setup.ts'],
  },
});
