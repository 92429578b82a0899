import { readFile } from 'node:fs/promises';
import { cloudflareTest } from '@cloudflare/vitest-plugin';
import { defineConfig, type Plugin } from 'vitest/config';

/**
 * Three projects, run by `npm test` in this order (scripts/test.ts):
 * - unit: plain Node, in process, no global setup: contract, packager, origin and edge logic,
 *   encoder-bridge logic.
 * - worker: `*.worker.test.ts`, the real Worker and its Durable Objects in workerd, in process
 *   (@cloudflare/vitest-plugin): the routes end to end through the origin objects.
 * - e2e: a real `wrangler dev` and a live ffmpeg event shared by the run (test/global-setup.ts):
 *   `test/**` and every `*.e2e.test.ts` (ffmpeg as a judge, real encodes, Chromium players).
 * `npm run test:unit` runs the first two.
 */
const E2E = ['test/**/*.test.ts', '**/*.e2e.test.ts'];
const WORKER = '**/*.worker.test.ts';
const IGNORED = ['**/node_modules/**', '.wrangler/**', '.tmp/**'];

/** `import x from './file?base64'`: the file's bytes as a base64 string (workerd has no file system). */
function base64Imports(): Plugin {
  return {
    name: 'base64-imports',
    enforce: 'pre',
    async load(id) {
      if (!id.endsWith('?base64')) return null;
      const bytes = await readFile(id.slice(0, -'?base64'.length));
      return `export default ${JSON.stringify(bytes.toString('base64'))};`;
    },
  };
}

export default defineConfig({
  plugins: [base64Imports()],
  test: {
    projects: [
      {
        plugins: [base64Imports()],
        test: {
          name: 'unit',
          include: ['**/*.test.ts'],
          exclude: [...IGNORED, ...E2E, WORKER],
          // Files share one process: about a second per file less on 2 cores, and the suite must
          // not depend on a fresh module state anyway.
          isolate: false,
          testTimeout: 20_000,
        },
      },
      {
        plugins: [
          base64Imports(),
          cloudflareTest({
            wrangler: { configPath: './wrangler.toml' },
            // A region found failing is skipped this long (10 s in wrangler.toml): the failover
            // tests wait it out twice.
            miniflare: { bindings: { REGION_DOWN_MS: '2000' } },
          }),
        ],
        test: {
          name: 'worker',
          // One workerd for every file instead of one per file (about 2.5 s each on 2 cores).
          isolate: false,
          include: [WORKER],
          exclude: IGNORED,
          setupFiles: ['test/worker-setup.ts'],
          provide: { workerUrl: 'http://worker.test' },
          testTimeout: 20_000,
        },
      },
      {
        plugins: [base64Imports()],
        test: {
          name: 'e2e',
          include: E2E,
          exclude: IGNORED,
          // Real ffmpeg encodes and a real `wrangler dev` on a 2-core machine: be generous.
          testTimeout: 60_000,
          hookTimeout: 120_000,
          globalSetup: ['test/global-setup.ts'],
        },
      },
    ],
  },
});
