/**
 * Package-and-encrypt micro-benchmark: `npx node packager/drm/bench.ts`. Prints markdown lines.
 *
 * Compares, on the same 1080p segment set (ffmpeg libx264 + AAC, 2 s segments):
 * - encryptSegment cenc and cbcs (video + audio segments, MB/s of clear input);
 * - raw WebCrypto AES-CTR / AES-CBC on one contiguous buffer of each segment's size (the ceiling
 *   for any WebCrypto packager in this runtime);
 * - `openssl speed -evp aes-128-ctr|aes-128-cbc` (the machine's AES ceiling);
 * - ffmpeg's own CENC muxing (cenc-aes-ctr) of the same media, whole process wall time.
 * Medians over RUNS. UV_THREADPOOL_SIZE=1 keeps Node's WebCrypto on one worker thread, like one
 * Workers isolate: otherwise Node spreads concurrent encrypt() calls over four threads.
 */
process.env.UV_THREADPOOL_SIZE ??= '1';

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeTrack, ffmpegMux, mbps, median, opensslSpeed } from '../../bench/drm-media.ts';
import { protectInit } from './cenc-init.ts';
import { encryptSegment } from './encrypt-segment.ts';
import { LocalKeyStore, toHex } from './keys.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const fmt = (x: number) => x.toFixed(0);

const dir = await mkdtemp(join(tmpdir(), 'drm-bench-'));
try {
  const [video, audio] = await Promise.all([encodeTrack(dir, 'video', SECONDS), encodeTrack(dir, 'audio', SECONDS)]);
  const tracks = [video, audio].map((t) => ({ m: t.media, segments: t.segments }));
  const totalBytes = tracks.reduce((n, t) => n + t.segments.reduce((s, x) => s + x.byteLength, 0), 0);
  const videoSegs = tracks[0].segments;
  const videoBytes = videoSegs.reduce((n, s) => n + s.byteLength, 0);
  const keys = new LocalKeyStore();
  const lines: string[] = [];
  lines.push(
    `### DRM encryption in Node (${videoSegs.length} × 2 s 1080p H.264 6 Mb/s + AAC segments, ${(totalBytes / 1e6).toFixed(1)} MB, median of ${RUNS}, Node ${process.version}, UV_THREADPOOL_SIZE=${process.env.UV_THREADPOOL_SIZE})`,
  );
  lines.push('', '| what | MB/s |', '|---|---|');

  // Every in-process measurement runs round-robin within each run, so a busy machine slows all
  // of them alike instead of whichever happened to run while something else was busy.
  const tasks: { label: string; bytes: number; fn: () => Promise<unknown> }[] = [];
  const variants = [
    { how: '8-byte IVs, one call per sample', scheme: 'cenc', cencIvSize: 8 },
    { how: '16-byte IVs (default), one call per segment', scheme: 'cenc', cencIvSize: 16 },
    { how: 'one call per subsample', scheme: 'cbcs' },
  ] as const;
  for (const { how, ...variant } of variants) {
    const [v, a] = await Promise.all(
      tracks.map(async ({ m, segments }) => {
        const key = await keys.getKey('bench', m.info.kind, 0);
        return { segments, key, protection: protectInit(m.init, { ...variant, key }).protection };
      }),
    );
    const encryptAll = async (t: typeof v) => {
      for (const s of t.segments) await encryptSegment(s, t.protection, t.key);
    };
    tasks.push({
      label: `encryptSegment ${variant.scheme} (${how}), video`,
      bytes: videoBytes,
      fn: () => encryptAll(v),
    });
    tasks.push({
      label: `encryptSegment ${variant.scheme} (${how}), video + audio`,
      bytes: totalBytes,
      fn: async () => {
        await encryptAll(v);
        await encryptAll(a);
      },
    });
  }
  // Raw WebCrypto: one call per video segment on a contiguous buffer of that segment's size.
  const rawKey = await keys.getKey('bench', 'video', 0);
  const buffers = videoSegs.map((s) => s.slice());
  for (const [name, alg] of [
    ['AES-CTR', { name: 'AES-CTR', counter: new Uint8Array(16), length: 64 }],
    ['AES-CBC', { name: 'AES-CBC', iv: new Uint8Array(16) }],
  ] as const) {
    const k = await crypto.subtle.importKey('raw', rawKey.key as BufferSource, name, false, ['encrypt']);
    tasks.push({
      label: `raw WebCrypto ${name}, one call per segment-sized buffer`,
      bytes: videoBytes,
      fn: async () => {
        for (const b of buffers) await crypto.subtle.encrypt(alg, k, b);
      },
    });
  }
  const times = tasks.map(() => [] as number[]);
  for (const t of tasks) await t.fn(); // warm-up
  for (let r = 0; r < RUNS; r++) {
    for (const [i, t] of tasks.entries()) {
      const t0 = performance.now();
      await t.fn();
      times[i].push(performance.now() - t0);
    }
  }
  const rates: Record<string, number> = {};
  for (const [i, t] of tasks.entries()) {
    rates[t.label] = mbps(t.bytes, median(times[i]));
    lines.push(`| ${t.label} | ${fmt(rates[t.label])} |`);
  }

  for (const cipher of ['aes-128-ctr', 'aes-128-cbc'])
    lines.push(`| openssl speed -evp ${cipher} (16 KiB blocks, median of 3) | ${fmt(await opensslSpeed(cipher))} |`);
  const ff = await ffmpegMux(dir, [video.file, audio.file], toHex(rawKey.key), toHex(rawKey.kid), RUNS);
  lines.push(`| ffmpeg -c copy mux (no encryption), wall time incl. process start | ${fmt(ff.copy)} |`);
  lines.push(`| ffmpeg CENC mux (-encryption_scheme cenc-aes-ctr), wall time incl. process start | ${fmt(ff.cenc)} |`);
  const ratio = (task: number, raw: string) =>
    (rates[tasks[task].label] / rates[`raw WebCrypto ${raw}, one call per segment-sized buffer`]).toFixed(2);
  lines.push(
    '',
    `video: cenc / raw AES-CTR = ${ratio(0, 'AES-CTR')} with 8-byte IVs, ${ratio(2, 'AES-CTR')} with 16-byte IVs (goal ≥ 0.5); cbcs / raw AES-CBC = ${ratio(4, 'AES-CBC')}`,
  );
  console.log(lines.join('\n'));
} finally {
  await rm(dir, { recursive: true, force: true });
}
