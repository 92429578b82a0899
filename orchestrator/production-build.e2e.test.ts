/**
 * The production Worker — with its Cloudflare Containers environment (wrangler.toml
 * [env.production]) — bundles and its configuration checks, without an account or Docker:
 * `npm run build:production` (a `wrangler deploy --dry-run`). The bridge image itself is built
 * where Docker runs (docs/containers.md).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync, statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

describe('the production build', () => {
  it('bundles the Worker with the hub, the origin and the EncoderBridge container bound', () => {
    rmSync('.tmp/dry-run', { recursive: true, force: true });
    const run = spawnSync('npm', ['run', '--silent', 'build:production'], { encoding: 'utf8', timeout: 120_000 });
    const output = `${run.stdout}\n${run.stderr}`;
    expect(run.status, output).toBe(0);
    expect(statSync('.tmp/dry-run/worker.js').size).toBeGreaterThan(100_000);
    expect(existsSync('.tmp/dry-run/worker.js.map')).toBe(true);
    for (const binding of [
      'env.EVENT_ORIGIN (EventOrigin)',
      'env.HUB (OrchestratorHub)',
      'env.ENCODER_BRIDGE (EncoderBridge)',
    ])
      expect(output).toContain(binding);
    expect(output).toContain('env.PROVISIONER ("containers")');
    expect(output).toMatch(
      /containers are available:\n- live-origin-shield-encoderbridge-production \(.*encoder-bridge\/Dockerfile\)/,
    );
  });
});
