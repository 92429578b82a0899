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

import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { writeSegment } from '../segment-writer.ts';
import { chunks, splitFragmentedMp4, type Media } from '../../test/fixtures.ts';
import { protectInit } from './cenc-init.ts';
import { encryptSegment } from './encrypt-segment.ts';
import { LocalKeyStore, toHex } from './keys.ts';

const run = promisify(execFile);
const FFMPEG = process.env.FFMPEG ?? '/usr/bin/ffmpeg';
const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const D = 2000;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const mbps = (bytes: number, ms: number) => bytes / 1e6 / (ms / 1000);
const fmt = (x: number) => x.toFixed(0);

async function encode(dir: string, kind: 'video' | 'audio'): Promise<{ media: Media; file: string }> {
  const file = join(dir, `${kind}.mp4`);
  const args =
    kind === 'video'
      ? ['-f', 'lavfi', '-i', `testsrc2=size=1920x1080:rate=30`, '-t', String(SECONDS), '-c:v', 'libx264', '-preset', 'veryfast', '-b:v', '6M',
         '-pix_fmt', 'yuv420p', '-g', '60', '-keyint_min', '60', '-sc_threshold', '0', '-movflags', '+empty_moov+frag_keyframe+default_base_moof']
      : ['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000', '-t', String(SECONDS), '-c:a', 'aac', '-b:a', '128k', '-ac', '2',
         '-movflags', '+empty_moov+default_base_moof', '-frag_duration', '2000000'];
  await run(FFMPEG, ['-v', 'error', '-y', ...args, '-f', 'mp4', file]);
  return { media: splitFragmentedMp4(new Uint8Array(await readFile(file))), file };
}

function segmentsOf(m: Media): Uint8Array[] {
  const d = (D * m.info.timescale) / 1000;
  return chunks(m, D).map((c, k) => writeSegment({ sequenceNumber: k, trackId: m.info.trackId, baseMediaDecodeTime: k * d + c.offsetTicks, samples: c.samples }));
}

async function timeIt(fn: () => Promise<unknown>): Promise<number> {
  await fn(); // warm-up
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  return median(times);
}

async function openssl(cipher: string): Promise<number> {
  const { stdout } = await run('openssl', ['speed', '-seconds', '2', '-bytes', '16384', '-evp', cipher], { maxBuffer: 1 << 20 });
  // Last line: "<cipher>  <k bytes/s for 16384-byte blocks>k"
  const line = stdout.trim().split('\n').pop()!;
  const kbps = Number(line.trim().split(/\s+/).pop()!.replace(/k$/, ''));
  return (kbps * 1000) / 1e6;
}

const dir = await mkdtemp(join(tmpdir(), 'drm-bench-'));
try {
  const [video, audio] = await Promise.all([encode(dir, 'video'), encode(dir, 'audio')]);
  const tracks = [video.media, audio.media].map((m) => ({ m, segments: segmentsOf(m) }));
  const totalBytes = tracks.reduce((n, t) => n + t.segments.reduce((s, x) => s + x.byteLength, 0), 0);
  const videoSegs = tracks[0].segments;
  const videoBytes = videoSegs.reduce((n, s) => n + s.byteLength, 0);
  const keys = new LocalKeyStore();
  const lines: string[] = [];
  lines.push(`### DRM encryption (${videoSegs.length} × 2 s 1080p H.264 6 Mb/s + AAC segments, ${(totalBytes / 1e6).toFixed(1)} MB, median of ${RUNS}, Node ${process.version}, UV_THREADPOOL_SIZE=${process.env.UV_THREADPOOL_SIZE})`);
  lines.push('', '| what | MB/s |', '|---|---|');

  // Every in-process measurement runs round-robin within each run, so a busy machine slows all
  // of them alike instead of whichever happened to run while something else was busy.
  const tasks: { label: string; bytes: number; fn: () => Promise<unknown> }[] = [];
  const variants = [
    { how: '8-byte IVs, one call per sample', scheme: 'cenc', cencIvSize: 8 },
    { how: '16-byte IVs, one call per segment', scheme: 'cenc', cencIvSize: 16 },
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
    tasks.push({ label: `encryptSegment ${variant.scheme} (${how}), video`, bytes: videoBytes, fn: () => encryptAll(v) });
    tasks.push({ label: `encryptSegment ${variant.scheme} (${how}), video + audio`, bytes: totalBytes, fn: async () => { await encryptAll(v); await encryptAll(a); } });
  }
  // Raw WebCrypto: one call per video segment on a contiguous buffer of that segment's size.
  const rawKey = await keys.getKey('bench', 'video', 0);
  const buffers = videoSegs.map((s) => s.slice());
  for (const [name, alg] of [['AES-CTR', { name: 'AES-CTR', counter: new Uint8Array(16), length: 64 }], ['AES-CBC', { name: 'AES-CBC', iv: new Uint8Array(16) }]] as const) {
    const k = await crypto.subtle.importKey('raw', rawKey.key as BufferSource, name, false, ['encrypt']);
    tasks.push({ label: `raw WebCrypto ${name}, one call per segment-sized buffer`, bytes: videoBytes, fn: async () => { for (const b of buffers) await crypto.subtle.encrypt(alg, k, b); } });
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

  for (const cipher of ['aes-128-ctr', 'aes-128-cbc']) {
    const r: number[] = [];
    for (let i = 0; i < 3; i++) r.push(await openssl(cipher));
    lines.push(`| openssl speed -evp ${cipher} (16 KiB blocks) | ${fmt(median(r))} |`);
  }

  // ffmpeg 5.1 cannot CENC-encrypt fragmented output (it writes no senc/saiz), so it muxes the
  // same media to a progressive MP4; the copy-only run shows how much of that is muxing.
  const inputs = [video.file, audio.file];
  const inputBytes = (await Promise.all(inputs.map((f) => readFile(f)))).reduce((n, b) => n + b.byteLength, 0);
  const key = toHex(rawKey.key);
  const kid = toHex(rawKey.kid);
  for (const [label, extra] of [
    ['ffmpeg -c copy mux (no encryption)', []],
    ['ffmpeg CENC mux (-encryption_scheme cenc-aes-ctr)', ['-encryption_scheme', 'cenc-aes-ctr', '-encryption_key', key, '-encryption_kid', kid]],
  ] as const) {
    const ms = await timeIt(async () => {
      for (const f of inputs) await run(FFMPEG, ['-v', 'error', '-y', '-i', f, '-c', 'copy', ...extra, '-f', 'mp4', join(dir, 'out.mp4')]);
    });
    lines.push(`| ${label}, wall time incl. process start | ${fmt(mbps(inputBytes, ms))} |`);
  }
  const ratio = (task: number, raw: string) => (rates[tasks[task].label] / rates[`raw WebCrypto ${raw}, one call per segment-sized buffer`]).toFixed(2);
  lines.push('', `video: cenc / raw AES-CTR = ${ratio(0, 'AES-CTR')} with 8-byte IVs, ${ratio(2, 'AES-CTR')} with 16-byte IVs (goal ≥ 0.5); cbcs / raw AES-CBC = ${ratio(4, 'AES-CBC')}`);
  console.log(lines.join('\n'));
  await writeFile(join(dir, 'done'), '');
} finally {
  await rm(dir, { recursive: true, force: true });
}

