/**
 * The fuzzer (docs/fuzzing.md): thousands of mutations of real inits, segments, WebVTT and
 * operator bodies against the ingest and control routes of the real Worker and its origin
 * objects (in workerd). Pass: every answer is 2xx or 4xx within REQUEST_TIMEOUT_MS, the origin
 * still answers players afterwards, and every segment and init stored before the run is byte
 * for byte what it was. A failure names the seed and the mutation index to replay it with
 * `npm run fuzz -- --seed <seed> --only <index>`.
 */
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { DEV_OPERATOR_TOKEN, getBytes, ingestPut, randomEventId } from '../../test/ingest-client.ts';
import { liveK, loadMedia, segmentFor, type Media } from '../../test/media.ts';
import { type Corpus, drawJob, type Job } from './jobs.ts';
import { type FuzzOptions, REQUEST_TIMEOUT_MS, SUITE_FUZZ, timeLimitMs } from './options.ts';
import { rngFor } from './rng.ts';

const url = inject('workerUrl');
const options: FuzzOptions = inject('fuzz') ?? SUITE_FUZZ;
const D = 2000;
const operator = { authorization: `Bearer ${DEV_OPERATOR_TOKEN}` };

let corpus: Corpus;
/** What the media events held before the run: candidate-fetch URL → bytes. */
const before = new Map<string, Uint8Array>();

async function control(method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${url}/api/events/${path}`, {
    method,
    headers: { ...operator, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

let media: Record<'v1' | 'a1', Media>;

/** An event with pipeline A's inits and segments storedK of v1 and a1 (`drm` set before the first init). */
async function mediaEvent(storedK: number[], drm?: object): Promise<string> {
  const event = randomEventId('fz');
  if (drm) expect((await control('PUT', `${event}/drm`, { drm })).status).toBe(200);
  for (const [id, m] of Object.entries(media)) {
    const contentType = `${m.info.kind}/mp4`;
    const meta = id === 'v1' ? { bandwidth: 400_000, frameRate: '30' } : { bandwidth: 96_000, language: 'en' };
    expect((await ingestPut(url, `${event}/A/${id}/init.mp4`, m.init, { contentType, meta })).status).toBe(201);
    for (const k of storedK)
      expect((await ingestPut(url, `${event}/A/${id}/${k}.m4s`, segmentFor(m, k, D), { contentType })).status).toBe(
        201,
      );
  }
  return event;
}

async function snapshot(events: string[], storedK: number[]): Promise<Map<string, Uint8Array>> {
  const out = new Map<string, Uint8Array>();
  for (const event of events) {
    for (const track of ['v1', 'a1']) {
      for (const file of ['init.mp4', ...storedK.map((k) => `${k}.m4s`)]) {
        const at = `${url}/live/${event}/${track}/${file}?pipeline=A`;
        const { res, bytes } = await getBytes(at, { headers: operator });
        expect(res.status, at).toBe(200);
        out.set(at, bytes);
      }
    }
  }
  return out;
}

beforeAll(async () => {
  const [video, audio] = await Promise.all([loadMedia({ kind: 'video' }), loadMedia({ kind: 'audio' })]);
  media = { v1: video, a1: audio };
  const L = liveK(D);
  const storedK = [L - 6, L - 5, L - 4, L - 3];
  // A whole segment, and two short ones (the same boxes, a few samples): most of the damage is in
  // the boxes, and small bodies keep a run fast (every accepted one is hashed, encrypted, stored).
  const segments = (m: Media) => [undefined, 8, 2].map((n, j) => segmentFor(m, L + j, D, { keepSamples: n }));
  const tracks: Corpus['tracks'] = {
    v1: { init: video.init, segments: segments(video), contentType: 'video/mp4' },
    a1: { init: audio.init, segments: segments(audio), contentType: 'audio/mp4' },
  };
  const clear = await mediaEvent(storedK);
  expect((await control('PATCH', `${clear}/config`, { captions: [{ language: 'en', label: 'English' }] })).status).toBe(
    200,
  );
  // Every packaging path of the ingest route: clear; cenc with 16-byte IVs (one AES-CTR call per
  // segment) and key rotation (pssh and seig groups in every moof); cenc with 8-byte IVs; cbcs.
  const mediaEvents = [
    clear,
    await mediaEvent(storedK, { scheme: 'cenc', rotateEverySegments: 3 }),
    await mediaEvent(storedK, { scheme: 'cenc', cencIvSize: 8 }),
    await mediaEvent(storedK, { scheme: 'cbcs' }),
  ];
  const controlEvent = await mediaEvent(storedK.slice(0, 1));
  const donors = [video.init, audio.init, ...tracks.v1.segments, ...tracks.a1.segments];
  // The protected inits as stored, so boxes like sinf, tenc and pssh get spliced around too.
  for (const id of ['v1', 'a1']) donors.push((await getBytes(`${url}/live/${mediaEvents[1]}/${id}/init.mp4`)).bytes);
  corpus = { D, liveK: L, mediaEvents, controlEvent, tracks, storedK, donors };
  for (const [k, v] of await snapshot(mediaEvents, storedK)) before.set(k, v);
}, 60_000);

function send(job: Job): Promise<Response> {
  const answer = fetch(`${url}${job.path}`, {
    method: job.method,
    headers: job.headers,
    body: job.body as Uint8Array<ArrayBuffer> | undefined,
  });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms`)), REQUEST_TIMEOUT_MS);
  });
  return Promise.race([answer, timeout]).finally(() => clearTimeout(timer));
}

describe('fuzz: ingest and control routes', () => {
  it(
    `${options.only ? `mutations ${options.only.join(',')}` : `${options.count} mutations`} (seed ${options.seed}): only 2xx and 4xx, stored media unchanged`,
    async () => {
      const indexes = options.only ?? Array.from({ length: options.count }, (_, i) => i);
      const deadline = Date.now() + timeLimitMs(options);
      const started = Date.now();
      const statuses = new Map<string, number>();
      /** Which box each MEDIA_MALFORMED named: shows what the parser was made to refuse. */
      const boxes = new Map<string, number>();
      const failures: string[] = [];
      let sent = 0;
      console.log(`fuzz: seed ${options.seed}, ${indexes.length} mutations`);
      for (const i of indexes) {
        if (Date.now() > deadline) {
          failures.push(`time budget of ${timeLimitMs(options)} ms spent after ${sent} of ${indexes.length} mutations`);
          break;
        }
        const job = await drawJob(rngFor(options.seed, i), corpus);
        const replay = `seed ${options.seed} mutation ${i} (npm run fuzz -- --seed ${options.seed} --only ${i})`;
        let status: number;
        let text = '';
        try {
          const res = await send(job);
          status = res.status;
          const body = await res.arrayBuffer();
          if (status >= 400) text = new TextDecoder().decode(body);
        } catch (err) {
          failures.push(`${replay}: ${job.what} [${job.ops.join('; ')}] → ${err}`);
          break; // a hung request may leave the origin busy: the rest of the run would say nothing new
        }
        sent++;
        if (sent % 1000 === 0 && sent < indexes.length)
          console.log(`fuzz: ${sent} of ${indexes.length} after ${((Date.now() - started) / 1000).toFixed(1)} s`);
        const code = status >= 400 ? (/"code":"(\w+)"/.exec(text)?.[1] ?? '?') : '';
        const key = `${status}${code ? ` ${code}` : ''}`;
        statuses.set(key, (statuses.get(key) ?? 0) + 1);
        const box =
          code === 'MEDIA_MALFORMED'
            ? /"message":"(?:segment \d+ cannot be parsed: )?(\S+) at offset/.exec(text)
            : null;
        if (box) boxes.set(box[1], (boxes.get(box[1]) ?? 0) + 1);
        if (status >= 500) {
          failures.push(`${replay}: ${job.what} [${job.ops.join('; ')}] → ${status} ${text.slice(0, 300)}`);
          if (failures.length >= 20) break;
        }
      }
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      const sorted = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k}: ${n}`);
      console.log(
        `fuzz: ${sent} mutations in ${seconds} s (seed ${options.seed})\n  ${sorted(statuses).join('\n  ')}\n` +
          `  MEDIA_MALFORMED by box: ${sorted(boxes).join(', ')}`,
      );
      expect(failures, failures.join('\n')).toEqual([]);

      // The origin still answers players and operators.
      for (const event of corpus.mediaEvents) {
        for (const path of [
          'index.mpd',
          'index.m3u8',
          'v1/index.m3u8',
          'a1/index.m3u8',
          `v1/${corpus.storedK[0]}.m4s`,
        ]) {
          const res = await send({ what: path, ops: [], method: 'GET', path: `/live/${event}/${path}`, headers: {} });
          expect(res.status, `${event}/${path}`).toBe(200);
          await res.arrayBuffer();
        }
      }
      // The control event may have been ended, masked or pointed at a next event: any answer but a 5xx.
      for (const path of ['index.mpd', 'index.m3u8', 'v1/index.m3u8']) {
        const res = await send({
          what: path,
          ops: [],
          method: 'GET',
          path: `/live/${corpus.controlEvent}/${path}`,
          headers: {},
        });
        expect(res.status, `${corpus.controlEvent}/${path}`).toBeLessThan(500);
        await res.arrayBuffer();
      }
      expect((await send({ what: 'time', ops: [], method: 'GET', path: '/time', headers: {} })).status).toBe(200);
      const state = await send({
        what: 'state',
        ops: [],
        method: 'GET',
        path: `/api/events/${corpus.controlEvent}/state`,
        headers: operator,
      });
      expect(state.status).toBe(200);

      // Every init and segment stored before the run is byte-identical.
      const after = await snapshot(corpus.mediaEvents, corpus.storedK);
      const changed = [...before].filter(([at, bytes]) => !sameBytes(bytes, after.get(at))).map(([at]) => at);
      expect(changed, `changed by the run (seed ${options.seed}): ${changed.join(', ')}`).toEqual([]);
    },
    timeLimitMs(options) + 60_000,
  );
});

function sameBytes(a: Uint8Array, b: Uint8Array | undefined): boolean {
  return b !== undefined && a.byteLength === b.byteLength && a.every((v, i) => v === b[i]);
}
