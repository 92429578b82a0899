/**
 * Origin benchmark: publish-to-readable latency and GET throughput of the real Worker (`wrangler
 * dev`, EventOrigin Durable Object, local SQLite) beside nginx as a static bucket with WebDAV PUT
 * (Debian's nginx, `--with-http_dav_module`), on the same machine, in the same script. Prints a
 * markdown section for BENCHMARKS.md (bench/index.ts).
 *
 * - publish → readable: time from the start of a segment PUT until a GET of it has returned its
 *   first byte (the PUT's 201 must come first; the GET is issued right after). Real CMAF segments
 *   (lossless H.264, re-cut onto the epoch grid) of about 0.5, 2 and 6 MB.
 * - hold-open: a GET held at the live edge before the PUT; the gap between the PUT's 201 and the
 *   held answer's arrival (the Worker only: a bucket has no hold).
 * - publishes/s: 2 s segments of about 0.5 MB, 16 concurrent publishers for 5 s, failures counted;
 *   beside it the same load answered 415 unread (the ceiling of the local request path).
 * - GET throughput: 16 concurrent clients fetching the same 2 MB segment for 5 s.
 * - round-trip floors: requests that do none of the origin's work (bare Worker GET, trivial
 *   Durable Object RPC, empty PUT, a 2 MB upload the Worker never reads, first byte of a stored
 *   segment), round-robin with a full 2 MB publish, so what `wrangler dev` itself costs on this
 *   machine stands beside what the origin adds (docs/operations.md, "Origin performance").
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultEventConfig } from '../contract/event-config.ts';
import { encodeMedia, liveK, segmentFor } from '../test/fixtures.ts';
import { ingestPut } from '../test/ingest-client.ts';
import { freePort, startWranglerDev } from '../test/wrangler-dev.ts';
import { pct } from './stats.ts';

const D = defaultEventConfig.segmentDurationMs;
const ROUNDS: Record<string, number> = {
  '0.5 MB': Number(process.env.BENCH_SMALL ?? 100),
  '2 MB': Number(process.env.BENCH_MEDIUM ?? 50),
  '6 MB': Number(process.env.BENCH_LARGE ?? 20),
};
const SIZES: Record<string, string> = { '0.5 MB': '336x190', '2 MB': '896x504', '6 MB': '1600x900' };

interface Target {
  name: string;
  /** PUT one segment; resolves on the final answer. */
  put(path: string, body: Uint8Array): Promise<Response>;
  /** URL a player would GET for what `path` published. */
  readUrl(path: string): string;
}

const ms = (v: number) => `${v.toFixed(1)} ms`;

async function publishToReadable(t: Target, prefix: string, segments: Uint8Array[], firstK: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < segments.length; i++) {
    const path = `${prefix}/${firstK + i}.m4s`;
    const start = performance.now();
    const put = await t.put(path, segments[i]);
    if (put.status !== 201 && put.status !== 204)
      throw new Error(`${t.name} PUT ${path} → ${put.status} ${await put.text()}`);
    const res = await fetch(t.readUrl(path));
    const reader = res.body!.getReader();
    await reader.read(); // first byte
    out.push(performance.now() - start);
    await reader.cancel();
    if (res.status !== 200) throw new Error(`${t.name} GET ${path} → ${res.status}`);
  }
  return out;
}

/**
 * 16 concurrent clients repeating `step` for 5 s: the one load loop behind both the publish rate
 * and the GET throughput, for any target. A step resolves to the bytes it moved, or undefined
 * when it failed.
 */
async function sustained(
  step: () => Promise<number | undefined>,
): Promise<{ perSecond: number; mbPerSecond: number; failures: number; total: number }> {
  let ok = 0;
  let bytes = 0;
  let failures = 0;
  const until = performance.now() + 5000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (performance.now() < until) {
        const moved = await step().catch(() => undefined);
        if (moved === undefined) failures++;
        else {
          ok++;
          bytes += moved;
        }
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return { perSecond: ok / seconds, mbPerSecond: bytes / seconds / 1e6, failures, total: ok + failures };
}

/** Publishes/s of fresh segments from `firstK` on (each K once). */
function publishRate(t: Target, prefix: string, segment: (k: number) => Uint8Array, firstK: number) {
  let next = firstK;
  return sustained(async () => {
    const k = next++;
    const body = segment(k);
    const res = await t.put(`${prefix}/${k}.m4s`, body);
    await res.arrayBuffer();
    return res.status === 201 || res.status === 204 ? body.byteLength : undefined;
  });
}

/** GETs/s of one published segment. */
function getThroughput(url: string) {
  return sustained(async () => {
    const res = await fetch(url);
    const bytes = (await res.arrayBuffer()).byteLength;
    return res.status === 200 ? bytes : undefined;
  });
}

const drained = async (res: Response) => {
  await res.arrayBuffer();
  return res;
};

async function startNginx(): Promise<{ url: string; stop(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-nginx-'));
  const port = await freePort();
  const conf = join(dir, 'nginx.conf');
  await mkdir(join(dir, 'www'));
  await writeFile(
    conf,
    // As root, nginx's workers would run as nobody and could not write into this temp dir.
    `${process.getuid?.() === 0 ? 'user root root; ' : ''}daemon off; worker_processes 1; pid ${dir}/nginx.pid; error_log ${dir}/error.log warn;
events { worker_connections 1024; }
http {
  access_log off; client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fcgi; uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  sendfile on; keepalive_requests 100000;
  server {
    listen 127.0.0.1:${port};
    root ${dir}/www;
    location / { dav_methods PUT; create_full_put_path on; client_max_body_size 64m; }
  }
}
`,
  );
  const child: ChildProcess = spawn('nginx', ['-c', conf, '-p', dir], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`nginx exited: ${err}`);
    if (
      await fetch(`${url}/`).then(
        () => true,
        () => false,
      )
    )
      break;
    if (i > 100) throw new Error('nginx did not start');
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    stop: async () => {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function holdOpenGaps(workerUrl: string, event: string, segment: (k: number) => Uint8Array): Promise<number[]> {
  const gaps: number[] = [];
  for (let i = 0; i < 10; i++) {
    // The segment due within the next D is held by the origin until it is published.
    const k = Math.ceil((Date.now() - defaultEventConfig.pipelineDelayMs) / D) - 1;
    const held = fetch(`${workerUrl}/live/${event}/v1/${k}.m4s`).then((r) => ({
      status: r.status,
      at: performance.now(),
    }));
    await new Promise((r) => setTimeout(r, 200));
    const put = await ingestPut(workerUrl, `${event}/A/v1/${k}.m4s`, segment(k));
    const publishedAt = performance.now();
    const { status, at } = await held;
    if (put.status === 201 && status === 200) gaps.push(at - publishedAt);
    await new Promise((r) => setTimeout(r, D)); // the next K
  }
  return gaps;
}

const dev = await startWranglerDev();
const nginx = await startNginx();
const lines: string[] = ['## Origin: publish and GET (Worker beside nginx WebDAV)', ''];
try {
  const media = Object.fromEntries(
    await Promise.all(
      Object.entries(SIZES).map(
        async ([label, size]) =>
          [label, await encodeMedia({ kind: 'video', size, lossless: true, seconds: 2.5 })] as const,
      ),
    ),
  );
  const event = `bench-${Date.now().toString(36)}`;
  for (const label of Object.keys(SIZES)) {
    const r = await ingestPut(dev.url, `${event}/A/v${label.replace(/\D/g, '')}/init.mp4`, media[label].init);
    if (r.status !== 201) throw new Error(`init ${label}: ${r.status} ${await r.text()}`);
  }
  const worker: Target = {
    name: 'Worker',
    put: (path, body) => ingestPut(dev.url, `${event}/A/${path}`, body),
    readUrl: (path) => `${dev.url}/live/${event}/${path}`,
  };
  const bucket: Target = {
    name: 'nginx',
    put: (path, body) =>
      fetch(`${nginx.url}/${event}/${path}`, { method: 'PUT', body: body as Uint8Array<ArrayBuffer> }),
    readUrl: (path) => `${nginx.url}/${event}/${path}`,
  };

  lines.push(
    `Load average (1 min) at the start: ${loadavg()[0].toFixed(2)}. Machine load matters: run on an otherwise idle machine. Worker = \`wrangler dev\` (workerd, Durable Object SQLite on local disk); nginx 1 worker, WebDAV PUT to local disk. Every Worker PUT is inspected (boxes, tfdt, samples) before it is stored.`,
    '',
    '### Publish → readable (PUT start until the first byte of a GET of it)',
    '',
    '| segment | runs | Worker p50 | Worker p99 | nginx p50 | nginx p99 |',
    '| --- | --- | --- | --- | --- | --- |',
  );
  let k = liveK(D) - 3000;
  let twoMbP99 = Number.NaN;
  for (const label of Object.keys(SIZES)) {
    const track = `v${label.replace(/\D/g, '')}`;
    const n = ROUNDS[label];
    const segments = Array.from({ length: n }, (_, i) => segmentFor(media[label], k + i, D));
    const size = (segments.reduce((a, s) => a + s.byteLength, 0) / n / 1e6).toFixed(2);
    const w = await publishToReadable(worker, track, segments, k);
    const b = await publishToReadable(bucket, track, segments, k);
    k += n;
    if (label === '2 MB') twoMbP99 = pct(w, 99);
    lines.push(
      `| ${label} (${size} MB) | ${n} | ${ms(pct(w, 50))} | ${ms(pct(w, 99))} | ${ms(pct(b, 50))} | ${ms(pct(b, 99))} |`,
    );
    console.error(`origin bench: ${label} done`);
  }

  const small = (kk: number) => segmentFor(media['0.5 MB'], kk, D);
  const wr = await publishRate(worker, 'v05', small, k);
  const br = await publishRate(bucket, 'v05', small, k);
  k += wr.total + br.total + 10;
  // The same load with bodies the Worker answers (415) without reading: the rate the local
  // request path itself allows, whatever the origin does.
  const ceiling = await sustained(async () => {
    const res = await ingestPut(dev.url, `${event}/A/v05/${k}.m4s`, small(k), { contentType: 'text/plain' });
    await res.arrayBuffer();
    return res.status === 415 ? 0 : undefined;
  });
  lines.push(
    '',
    '### Publishes per second (0.5 MB segments, 16 concurrent publishers, 5 s, one event)',
    '',
    '| target | publishes/s | failures |',
    '| --- | --- | --- |',
  );
  lines.push(
    `| Worker | ${wr.perSecond.toFixed(0)} | ${wr.failures} of ${wr.total} |`,
    `| nginx | ${br.perSecond.toFixed(0)} | ${br.failures} of ${br.total} |`,
    `| \`wrangler dev\` ceiling: the same PUTs answered 415 before the body is read | ${ceiling.perSecond.toFixed(0)} | ${ceiling.failures} of ${ceiling.total} |`,
  );

  const two = segmentFor(media['2 MB'], k, D);
  await worker.put(`v2/${k}.m4s`, two);
  await bucket.put(`v2/${k}.m4s`, two);
  const wg = await getThroughput(worker.readUrl(`v2/${k}.m4s`));
  const bg = await getThroughput(bucket.readUrl(`v2/${k}.m4s`));
  lines.push(
    '',
    `### Segment GET throughput (${(two.byteLength / 1e6).toFixed(2)} MB segment, 16 concurrent clients, 5 s)`,
    '',
    '| target | GETs/s | MB/s | failures |',
    '| --- | --- | --- | --- |',
  );
  lines.push(
    `| Worker (origin object, no edge cache) | ${wg.perSecond.toFixed(0)} | ${wg.mbPerSecond.toFixed(0)} | ${wg.failures} |`,
    `| nginx | ${bg.perSecond.toFixed(0)} | ${bg.mbPerSecond.toFixed(0)} | ${bg.failures} |`,
  );

  // Floors: what the same machine charges for round trips that do none of the origin's work,
  // measured round-robin with a full 2 MB publish → readable so that all of them see the same load.
  const n = Number(process.env.BENCH_FLOOR ?? 40);
  const firstByte = async (url: string) => {
    const res = await fetch(url);
    await res.body!.getReader().cancel();
  };
  const fresh = Array.from({ length: n }, (_, i) => segmentFor(media['2 MB'], k + 2 + i, D));
  const probes = {
    emptyGet: [
      () => fetch(`${dev.url}/time`).then(drained),
      () => fetch(`${nginx.url}/${event}/missing`).then(drained),
    ],
    doRpc: [() => fetch(`${dev.url}/live/${event}-missing/v1/1.m4s`).then(drained)],
    emptyPut: [
      () => worker.put(`v2/${k + 1}.m4s`, new Uint8Array(0)).then(drained),
      () => bucket.put('empty.m4s', new Uint8Array(0)).then(drained),
    ],
    unreadPut: [
      () => ingestPut(dev.url, `${event}/A/v2/${k + 1}.m4s`, two, { contentType: 'text/plain' }).then(drained),
    ],
    get2: [() => firstByte(worker.readUrl(`v2/${k}.m4s`)), () => firstByte(bucket.readUrl(`v2/${k}.m4s`))],
    publish2: [
      (i: number) => publishToReadable(worker, 'v2', [fresh[i]], k + 2 + i),
      (i: number) => publishToReadable(bucket, 'v2', [fresh[i]], k + 2 + i),
    ],
  };
  const timings = Object.fromEntries(
    Object.entries(probes).map(([name, fs]) => [name, fs.map(() => [] as number[])]),
  ) as Record<keyof typeof probes, number[][]>;
  for (let i = 0; i < n; i++) {
    for (const [name, fs] of Object.entries(probes) as [keyof typeof probes, ((i: number) => Promise<unknown>)[]][]) {
      for (let j = 0; j < fs.length; j++) {
        const start = performance.now();
        await fs[j](i);
        timings[name][j].push(performance.now() - start);
      }
    }
  }
  k += n + 10;
  const floors = Object.fromEntries(
    Object.entries(timings).map(([name, ts]) => [name, ts.map((t) => ({ p50: pct(t, 50), p99: pct(t, 99) }))]),
  ) as Record<keyof typeof probes, { p50: number; p99: number }[]>;
  const mb = (two.byteLength / 1e6).toFixed(2);
  const row = (what: string, w: { p50: number; p99: number }, b?: { p50: number; p99: number }) =>
    `| ${what} | ${ms(w.p50)} | ${ms(w.p99)} | ${b ? ms(b.p50) : '—'} | ${b ? ms(b.p99) : '—'} |`;
  lines.push(
    '',
    `### Round-trip floors (${n} rounds, every probe once per round)`,
    '',
    "What the same machine charges for round trips that do none of the origin's work — a Worker request with no Durable Object, one trivial Durable Object RPC, an empty PUT, a 2 MB PUT whose body the Worker never reads (415 before reading: the upload through `wrangler dev` alone), the first byte of an already published 2 MB segment — beside a full publish → readable, all in one round-robin loop so they share the machine's load.",
    '',
    '| round trip | Worker p50 | Worker p99 | nginx p50 | nginx p99 |',
    '| --- | --- | --- | --- | --- |',
    ...(
      [
        ['empty GET (Worker: /time; nginx: 404)', floors.emptyGet],
        ['trivial Durable Object RPC (segment of an unknown event, 404)', floors.doRpc],
        ['empty PUT (Worker: 0-byte segment, 400 before the origin; nginx: 0-byte file)', floors.emptyPut],
        [`${mb} MB PUT, body not read by the Worker (415)`, floors.unreadPut],
        [`GET first byte of a published ${mb} MB segment`, floors.get2],
        [`publish → readable, ${mb} MB (as above, in this loop)`, floors.publish2],
      ] as [string, { p50: number; p99: number }[]][]
    ).map(([what, [w, b]]) => row(what, w, b)),
    '',
    `Worker floor for publish → readable of ${mb} MB (unread upload + first byte of a GET, p50): ${ms(floors.unreadPut[0].p50 + floors.get2[0].p50)}, against ${ms(floors.publish2[0].p50)} measured in the same loop.`,
  );

  const holdEvent = `bench-hold-${Date.now().toString(36)}`;
  await ingestPut(dev.url, `${holdEvent}/A/v1/init.mp4`, media['0.5 MB'].init);
  const gaps = await holdOpenGaps(dev.url, holdEvent, small);
  lines.push('', `Load average (1 min) at the end: ${loadavg()[0].toFixed(2)}.`);
  lines.push(
    '',
    '### Hold-open (Worker only)',
    '',
    `A GET for the live-edge segment issued before its PUT: answer arrival minus the PUT's 201, ${gaps.length} runs: p50 ${ms(pct(gaps, 50))}, max ${ms(Math.max(...gaps))}.`,
    '',
  );
  const verdict = (met: boolean) => (met ? 'met' : '**not met**');
  lines.push(
    '### Goals (Worker)',
    '',
    `- publish → readable p99 ≤ 50 ms for 2 MB: ${verdict(twoMbP99 <= 50)} (${ms(twoMbP99)}; the \`wrangler dev\` floor above is ${ms(floors.unreadPut[0].p50 + floors.get2[0].p50)} at p50).`,
    `- hold-open answers within 50 ms of publish: ${verdict(gaps.length > 0 && Math.max(...gaps) <= 50)} (max ${ms(Math.max(...gaps))}).`,
    `- more than 100 publishes/s per event without a failure: ${verdict(wr.perSecond > 100 && wr.failures === 0)} (${wr.perSecond.toFixed(0)}/s, ${wr.failures} failures; the \`wrangler dev\` ceiling above is ${ceiling.perSecond.toFixed(0)}/s).`,
    '',
  );
} finally {
  await nginx.stop();
  await dev.stop();
}
console.log(lines.join('\n'));
