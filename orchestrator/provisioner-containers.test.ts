import { describe, expect, it } from 'vitest';
import { EventDefinition } from '../contract/control-plane.ts';
import { AppError } from '../contract/errors.ts';
import { containersProvisioner } from './provisioner-containers.ts';
import { provisionerFor } from './provisioner-select.ts';

/** The Cloudflare Containers provisioner against a stand-in namespace: what each instance is asked. */
function fakeNamespace(failing = false) {
  const calls: string[] = [];
  const env: Record<string, Record<string, string>> = {};
  const running = new Set<string>();
  const ns = {
    getByName(name: string) {
      return {
        async provision(vars: Record<string, string>) {
          if (failing) throw new Error('no Container instance available');
          calls.push(`provision ${name}`);
          env[name] = vars;
          running.add(name);
        },
        async deprovision() {
          calls.push(`deprovision ${name}`);
          running.delete(name);
        },
        async isRunning() {
          return running.has(name);
        },
      };
    },
  };
  return { ns, calls, env, running };
}

const definition = EventDefinition.parse({
  id: 'match-1',
  ladder: 'local',
  regions: ['r1', 'r2'],
  captions: [{ language: 'en', label: 'English', default: true }],
});
const spec = (pipeline: string) => ({
  event: 'match-1',
  pipeline,
  definition,
  ingestToken: `tok-${pipeline}`,
  captionsToken: 'cap',
});
const baseEnv = { PROVISIONER: 'containers', PUBLIC_URL: 'https://live.example.com/' } as unknown as Env;

describe('containersProvisioner', () => {
  it('starts one instance per (event, pipeline) with the bridge settings of the definition', async () => {
    const f = fakeNamespace();
    const p = containersProvisioner({ ...baseEnv, ENCODER_BRIDGE: f.ns as never });
    await p.start(spec('A'));
    await p.start(spec('B'));
    expect(f.calls).toEqual(['provision match-1:A', 'provision match-1:B']);
    expect(f.env['match-1:A']).toMatchObject({
      BRIDGE_EVENT: 'match-1',
      BRIDGE_PIPELINE: 'A',
      BRIDGE_LADDER: 'local',
      PUBLISH_TO: 'r1,r2',
      INGEST_URL: 'https://live.example.com',
      HUB_URL: 'https://live.example.com',
      INGEST_TOKEN: 'tok-A',
      CAPTIONS_TOKEN: 'cap',
      BRIDGE_CC1_LANGUAGE: 'en',
      BRIDGE_LISTEN_PORT: '9001',
      BRIDGE_LISTEN_HOST: '0.0.0.0',
    });
    const differs = Object.keys(f.env['match-1:A']).filter((k) => f.env['match-1:A'][k] !== f.env['match-1:B'][k]);
    expect(differs.sort()).toEqual(['BRIDGE_PIPELINE', 'INGEST_TOKEN']);

    // Containers cannot be listed: running() asks the instances it is given.
    expect(
      await p.running([
        { event: 'match-1', pipeline: 'A' },
        { event: 'match-1', pipeline: 'C' },
      ]),
    ).toEqual([{ event: 'match-1', pipeline: 'A' }]);
    await p.stop('match-1', 'A');
    expect(f.calls.at(-1)).toBe('deprovision match-1:A');
    expect(await p.running([{ event: 'match-1', pipeline: 'A' }])).toEqual([]);
  });

  it('fails as PROVISIONER_FAILED: no binding, no PUBLIC_URL, or the instance refusing', async () => {
    const cases = [
      containersProvisioner(baseEnv),
      containersProvisioner({ ...baseEnv, PUBLIC_URL: undefined, ENCODER_BRIDGE: fakeNamespace().ns as never }),
      containersProvisioner({ ...baseEnv, ENCODER_BRIDGE: fakeNamespace(true).ns as never }),
    ];
    for (const p of cases) {
      const err = await p.start(spec('A')).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AppError);
      expect((err as AppError).code).toBe('PROVISIONER_FAILED');
    }
  });
});

describe('provisionerFor', () => {
  it('picks the provisioner PROVISIONER names; an unknown name fails every start', async () => {
    const env = (PROVISIONER: string) => ({ PROVISIONER, PROVISIONER_URL: 'http://127.0.0.1:1' }) as unknown as Env;
    expect(provisionerFor(env('none')).kind).toBe('none');
    expect(provisionerFor(env('')).kind).toBe('none');
    expect(provisionerFor(env('local')).kind).toBe('local');
    expect(provisionerFor(env('containers')).kind).toBe('containers');
    const typo = provisionerFor(env('lcoal'));
    await expect(typo.start(spec('A'))).rejects.toMatchObject({ code: 'PROVISIONER_FAILED' });
  });
});
