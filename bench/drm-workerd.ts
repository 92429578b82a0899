/**
 * Package-and-encrypt throughput inside the Workers runtime: `node bench/drm-workerd.ts` (a
 * section of `npm run bench`). Prints markdown.
 *
 * ffmpeg makes a 1080p segment set (H.264 6 Mb/s + AAC, 2 s segments); the script starts the
 * bench-only Worker (bench/drm-worker/, the packager imported unchanged) with `wrangler dev`,
 * loads the set into it, first checks with ffmpeg that a segment encrypted in workerd decrypts to
 * the clear packets, then times, round-robin within each repetition so a busy machine slows all
 * alike:
 * - encryptSegment cenc (16-byte IVs, the default), cenc (8-byte IVs) and cbcs, over the video
 *   segments and over video + audio (MB/s of clear input, protected header made once);
 * - raw WebCrypto AES-CTR / AES-CBC of the same runtime, one call per video segment on one
 *   contiguous buffer of that segment's size (the ceiling for any WebCrypto packager there);
 * and, outside the Worker: `openssl speed -evp aes-128-ctr|aes-128-cbc`, and ffmpeg's own CENC
 * muxing of the same media. Each timed request makes REPS passes over the set inside the Worker;
 * its time minus the median of a no-op request's is the work's time (workerd's clock does not
 * move during CPU work, so it is timed from outside).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { concat } from '../packager/bmff/box-writer.ts';
import { LocalKeyStore, toHex } from '../packager/drm/keys.ts';
import { startWranglerDev } from '../test/wrangler-dev.ts';
import { encodeTrack, FFMPEG, ffmpegMux, mbps, median, opensslSpeed } from './drm-media.ts';

const run = promisify(execFile);
const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
/** Passes over the segment set per timed request: about 0.1–0.5 s of work, so the round trip is noise. */
const REPS = Number(process.env.BENCH_REPS ?? 20);
const fmt = (x: number) => x.toFixed(0);

/** ffmpeg's per-packet MD5s (hash column only), decrypting when a key is given. */
async function packetHashes(dir: string, bytes: Uint8Array, keyHex?: string): Promise<string[]> {
  const file = join(dir, `check-${keyHex ? 'enc' : 'clear'}.mp4`);
  await writeFile(file, bytes);
  const { stdout } = await run(
    FFMPEG,
    [
      '-v',
      'error',
      ...(keyHex ? ['-decryption_key', keyHex] : []),
      '-i',
      file,
      '-map',
      '0',
      '-c',
      'copy',
      '-f',
      'framemd5',
      '-',
    ],
    { maxBuffer: 64 << 20 },
  );
  return stdout
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.split(',')[5].trim());
}

const dir = await mkdtemp(join(tmpdir(), 'drm-workerd-bench-'));
const worker = await startWranglerDev({ extraArgs: ['-c', 'bench/drm-worker/wrangler.toml'] });
try {
  const [video, audio] = await Promise.all([encodeTrack(dir, 'video', SECONDS), encodeTrack(dir, 'audio', SECONDS)]);
  for (const [kind, t] of [
    ['video', video],
    ['audio', audio],
  ] as const) {
    const put = (path: string, body: Uint8Array) =>
      fetch(`${worker.url}/media/${kind}/${path}`, { method: 'PUT', body: body as BufferSource }).then((r) =>
        r.arrayBuffer(),
      );
    await put('init', t.media.init);
    for (const [i, s] of t.segments.entries()) await put(String(i), s);
  }
  const videoBytes = video.segments.reduce((n, s) => n + s.byteLength, 0);
  const totalBytes = videoBytes + audio.segments.reduce((n, s) => n + s.byteLength, 0);
  const keys = new LocalKeyStore();

  // What workerd encrypts must be real CENC: ffmpeg decrypts its first segment to the clear packets.
  for (const variant of ['cenc', 'cenc8', 'cbcs']) {
    for (const [kind, t] of [
      ['video', video],
      ['audio', audio],
    ] as const) {
      const enc = new Uint8Array(await (await fetch(`${worker.url}/sample/${variant}/${kind}`)).arrayBuffer());
      const key = toHex((await keys.getKey('bench', kind, 0)).key);
      const [got, want] = await Promise.all([
        packetHashes(dir, enc, key),
        packetHashes(dir, concat([t.media.init, t.segments[0]])),
      ]);
      if (got.join() !== want.join())
        throw new Error(
          `workerd ${variant} ${kind}: ffmpeg does not decrypt it to the clear packets (${got.length} vs ${want.length} packets, first differing at ${got.findIndex((h, i) => h !== want[i])})`,
        );
    }
  }

  const tasks = [
    {
      task: 'cenc-video',
      label: 'encryptSegment cenc (16-byte IVs, default: one call per segment), video',
      bytes: videoBytes,
    },
    { task: 'cenc-av', label: 'encryptSegment cenc (16-byte IVs), video + audio', bytes: totalBytes },
    { task: 'cenc8-video', label: 'encryptSegment cenc (8-byte IVs: one call per sample), video', bytes: videoBytes },
    { task: 'cenc8-av', label: 'encryptSegment cenc (8-byte IVs), video + audio', bytes: totalBytes },
    { task: 'cbcs-video', label: 'encryptSegment cbcs (one call per protected run), video', bytes: videoBytes },
    { task: 'cbcs-av', label: 'encryptSegment cbcs, video + audio', bytes: totalBytes },
    { task: 'raw-ctr', label: 'raw WebCrypto AES-CTR, one call per segment-sized buffer', bytes: videoBytes },
    { task: 'raw-cbc', label: 'raw WebCrypto AES-CBC, one call per segment-sized buffer', bytes: videoBytes },
    { task: 'noop', label: 'no-op request (subtracted from the others)', bytes: 0 },
  ];
  const call = async (task: string) => {
    const t0 = performance.now();
    const res = await fetch(`${worker.url}/run/${task}?reps=${REPS}`, { method: 'POST' });
    if (!res.ok) throw new Error(`/run/${task} → ${res.status} ${await res.text()}`);
    await res.json();
    return performance.now() - t0;
  };
  for (const t of tasks) await call(t.task); // warm-up (JIT, key import, protected headers)
  const times = tasks.map(() => [] as number[]);
  for (let r = 0; r < RUNS; r++) for (const [i, t] of tasks.entries()) times[i].push(await call(t.task));
  const noop = median(times[tasks.length - 1]);
  const rate: Record<string, number> = {};
  for (const [i, t] of tasks.entries())
    if (t.bytes) rate[t.task] = mbps(t.bytes * REPS, Math.max(median(times[i]) - noop, 0.001));

  const ctr = await opensslSpeed('aes-128-ctr');
  const cbc = await opensslSpeed('aes-128-cbc');
  const videoKey = await keys.getKey('bench', 'video', 0);
  const ff = await ffmpegMux(
    dir,
    [video.file, audio.file],
    toHex(videoKey.key),
    toHex(videoKey.kid),
    Math.min(RUNS, 5),
  );

  const { stdout: workerdVersion } = await run(join('node_modules', '.bin', 'wrangler'), ['--version']).catch(() => ({
    stdout: '?',
  }));
  const lines = [
    `### DRM encryption inside workerd (${video.segments.length} × 2 s 1080p H.264 6 Mb/s + AAC segments, ${(totalBytes / 1e6).toFixed(1)} MB; ${REPS} passes per timed request, median of ${RUNS} requests; wrangler ${workerdVersion.trim()} dev, one isolate)`,
    '',
    '| what | MB/s |',
    '|---|---|',
    ...tasks.filter((t) => t.bytes).map((t) => `| ${t.label} | ${fmt(rate[t.task])} |`),
    `| openssl speed -evp aes-128-ctr (16 KiB blocks, median of 3) | ${fmt(ctr)} |`,
    `| openssl speed -evp aes-128-cbc (16 KiB blocks, median of 3) | ${fmt(cbc)} |`,
    `| ffmpeg -c copy mux (no encryption), wall time incl. process start | ${fmt(ff.copy)} |`,
    `| ffmpeg CENC mux (-encryption_scheme cenc-aes-ctr), wall time incl. process start | ${fmt(ff.cenc)} |`,
    '',
    `No-op request round trip ${noop.toFixed(2)} ms (subtracted). Ratios, video: cenc / raw AES-CTR = ${(rate['cenc-video'] / rate['raw-ctr']).toFixed(2)} ` +
      `(8-byte IVs: ${(rate['cenc8-video'] / rate['raw-ctr']).toFixed(2)}; goal ≥ 0.5), cbcs / raw AES-CBC = ${(rate['cbcs-video'] / rate['raw-cbc']).toFixed(2)}; ` +
      `video + audio against ffmpeg CENC mux: cenc ${(rate['cenc-av'] / ff.cenc).toFixed(1)}×, cbcs ${(rate['cbcs-av'] / ff.cenc).toFixed(1)}× ` +
      '(ffmpeg 5.1 has no cbcs encryption; its cenc-aes-ctr is the only ffmpeg baseline). A segment encrypted in workerd was decrypted by ffmpeg to the clear packets for each variant before timing.',
  ];
  console.log(lines.join('\n'));
} finally {
  await worker.stop();
  await rm(dir, { recursive: true, force: true });
}
