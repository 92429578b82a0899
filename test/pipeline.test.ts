/**
 * The whole live path with real parts: synthetic source → encoder bridge (real ffmpeg) → ingest
 * route → origin Durable Object (real wrangler dev) → edge. Every segment the edge serves must
 * parse, decode with ffmpeg without error and carry the tfdt its number implies.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { Parser } from 'm3u8-parser';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { expectedPublishMs } from '../contract/epoch.ts';
import { defaultEventConfig } from '../contract/event-config.ts';
import { bridgeStatus, waitFor } from './live-event.ts';
import { parseWithMp4box } from './mp4box-inspect.ts';

const run = promisify(execFile);
const D = 2000;
const workerUrl = inject('workerUrl');
const event = inject('liveEvent');
const bridgeUrl = inject('liveBridgeUrl');
const base = `${workerUrl}/live/${event}`;
const validator = resolve(process.env.DASH_MPD_VALIDATOR ?? '../shared/validators/validate-mpd');

async function bytes(url: string): Promise<Uint8Array> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`GET ${url} → ${res.status} ${await res.text()}`);
  return new Uint8Array(await res.arrayBuffer());
}

function parsePlaylist(text: string) {
  const parser = new Parser();
  parser.push(text);
  parser.end();
  return parser.manifest;
}

describe('live pipeline (real ffmpeg, real bridge, real Worker)', () => {
  beforeAll(async () => {
    // at least 20 s of stream: ten segments on every track
    await waitFor(
      async () => {
        const s = await bridgeStatus(bridgeUrl);
        const tracks = Object.values(s.pipeline.run?.tracks ?? {});
        return tracks.length === 4 && tracks.every((t) => t.segments >= 10);
      },
      90_000,
      'ten published segments per track',
    );
  }, 100_000);

  it('serves a multivariant playlist naming every rendition with codecs read from the bitstream', async () => {
    const text = new TextDecoder().decode(await bytes(`${base}/index.m3u8`));
    const manifest = parsePlaylist(text);
    expect(manifest.playlists.map((p: any) => p.uri).sort()).toEqual([
      'v234/index.m3u8',
      'v360/index.m3u8',
      'v540/index.m3u8',
    ]);
    for (const p of manifest.playlists as any[]) expect(p.attributes.CODECS).toMatch(/^avc1\.[0-9a-f]{6},mp4a\.40\.2$/);
  });

  it('publishes segments that parse, decode and carry the tfdt their number implies', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pipeline-'));
    const frame = { v540: 3000, v360: 3000, v234: 3000, aen: 1024 } as Record<string, number>;
    for (const track of ['v540', 'v360', 'v234', 'aen']) {
      const playlist = parsePlaylist(new TextDecoder().decode(await bytes(`${base}/${track}/index.m3u8`)));
      const numbers = (playlist.segments as any[])
        .filter((s) => !s.gap)
        .map((s) => Number(String(s.uri).replace('.m4s', '')));
      expect(numbers.length, `${track} lists segments`).toBeGreaterThanOrEqual(10);
      const init = await bytes(`${base}/${track}/init.mp4`);
      const parts: Uint8Array[] = [init];
      for (const k of numbers.slice(-10)) {
        const seg = await bytes(`${base}/${track}/${k}.m4s`);
        const parsed = parseWithMp4box(init, seg);
        const timescale = parsed.timescale;
        const boundary = (k * D * timescale) / 1000;
        expect(parsed.baseMediaDecodeTime - boundary, `${track}/${k} tfdt`).toBeGreaterThanOrEqual(0);
        expect(parsed.baseMediaDecodeTime - boundary, `${track}/${k} tfdt`).toBeLessThan(frame[track]);
        if (track === 'aen') {
          expect(parsed.baseMediaDecodeTime % 1024, 'audio on the AAC frame grid from the epoch').toBe(0);
          expect([93, 94]).toContain(parsed.sampleCount);
        } else {
          // 30 fps source on the epoch grid: exactly K·D, 60 frames, starting on a keyframe
          expect(parsed.baseMediaDecodeTime).toBe(boundary);
          expect(parsed.sampleCount, `${track}/${k} frames`).toBe(60);
          expect(parsed.firstIsSync, `${track}/${k} starts on a sync sample`).toBe(true);
        }
        parts.push(seg);
      }
      const file = join(dir, `${track}.mp4`);
      await writeFile(file, Buffer.concat(parts));
      const { stderr } = await run('ffmpeg', ['-v', 'error', '-i', file, '-f', 'null', '-']);
      expect(stderr.trim(), `${track} decodes without error`).toBe('');
    }
  });

  it('serves a DASH MPD that validates against the MPEG schema', async (ctx) => {
    if (!existsSync(validator)) {
      console.warn(`\n!!! SKIPPED: DASH schema validator not found at ${validator} (set DASH_MPD_VALIDATOR) !!!\n`);
      ctx.skip();
    }
    const dir = await mkdtemp(join(tmpdir(), 'mpd-'));
    const file = join(dir, 'index.mpd');
    await writeFile(file, await bytes(`${base}/index.mpd`));
    const result = await run(validator, [file]).catch((err) => err);
    expect(result.code ?? 0, String(result.stdout) + String(result.stderr)).toBe(0);
  });

  it('answers 404 for a segment not yet due and 410 for one outside the window', async () => {
    const now = Date.now();
    const future = Math.floor(now / D) + 30;
    const res = await fetch(`${base}/v540/${future}.m4s`);
    expect(res.status).toBe(404);
    const maxAge = Number(/max-age=(\d+)/.exec(res.headers.get('cache-control') ?? '')?.[1]);
    // the TTL runs out no later than the segment is due: expected_publish(K) = (K+1)·D + pipeline delay
    expect(maxAge).toBeLessThanOrEqual(
      expectedPublishMs(future, D, defaultEventConfig.pipelineDelayMs) / 1000 - now / 1000,
    );
    expect(maxAge).toBeGreaterThan(0);
    const old = Math.floor(now / D) - 4 * 3600;
    expect((await fetch(`${base}/v540/${old}.m4s`)).status).toBe(410);
  });
});
