/**
 * Chunked transfer of a segment still being written, and LL-DASH (docs/latency.md), against the
 * real Worker and origin object: `{K}.m4s?latency=low` streams K's parts as they are PUT (read
 * incrementally here), ends after the last, and its bytes are read by an independent parser
 * (mp4box); the hold/404/410 answers; a part that never comes breaks the transfer.
 */
import { getElementsByName, parseXml, type XmlNode } from '@svta/cml-xml';
import { createFile, MP4BoxBuffer } from 'mp4box';
import { beforeAll, describe, expect, it } from 'vitest';
import { getBytes, randomEventId } from '../test/ingest-client.ts';
import { loadMedia, type Media, segmentFor } from '../test/media.ts';
import { codeOf, D, N, partsOf, put, url } from './ll-parts.test-helpers.ts';

let video: Media;
beforeAll(async () => {
  video = await loadMedia({ kind: 'video' });
});

/** An event with track v1 from pipeline A (init only); K is the segment after the one being made now. */
async function event() {
  const id = randomEventId('lld');
  expect(await put(id, 'A/v1/init.mp4', video.init)).toBe(201);
  return { event: id, now: Math.floor(Date.now() / D) };
}

/** Reads a body chunk by chunk, as a player's fetch does. */
function incremental(res: Response) {
  const reader = res.body!.getReader();
  let buffered: Uint8Array = new Uint8Array(0);
  return {
    /** Resolves once `length` more bytes have arrived; never reads past what the origin sent. */
    async take(length: number): Promise<Uint8Array> {
      while (buffered.byteLength < length) {
        const { done, value } = await reader.read();
        if (done) throw new Error(`the body ended after ${buffered.byteLength} of ${length} bytes`);
        buffered = join([buffered, value]);
      }
      const out = buffered.slice(0, length);
      buffered = buffered.slice(length);
      return out;
    },
    read: () => reader.read(),
    cancel: () => reader.cancel(),
  };
}

function join(parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

/** What mp4box (not our reader) finds in init + segment: fragments, samples, their durations, the first tfdt. */
function mp4boxSamples(segment: Uint8Array) {
  const all = join([video.init, segment]);
  const file = createFile();
  let error: unknown;
  file.onError = (e: unknown) => (error = e);
  file.appendBuffer(MP4BoxBuffer.fromArrayBuffer(all.buffer as ArrayBuffer, 0));
  file.flush();
  if (error) throw new Error(`mp4box: ${String(error)}`);
  // mp4box's box objects are untyped.
  const moofs = file.boxes.filter((b: { type: string }) => b.type === 'moof') as any[];
  const truns = moofs.map((m) => m.trafs[0]);
  return {
    fragments: moofs.length,
    samples: truns.reduce(
      (n, t) => n + t.truns.reduce((m: number, r: { sample_count: number }) => m + r.sample_count, 0),
      0,
    ),
    durations: truns.flatMap((t) =>
      t.truns.flatMap((r: { sample_duration?: number[]; sample_count: number }) =>
        r.sample_duration?.length ? r.sample_duration : Array(r.sample_count).fill(t.tfhd.default_sample_duration),
      ),
    ),
    firstTfdt: Number(truns[0].tfdt.baseMediaDecodeTime),
  };
}

describe('chunked transfer of a segment still being written ({K}.m4s?latency=low)', () => {
  it('streams part 0 before part 1 exists, then each part as it is PUT, ends after the last; mp4box reads exactly K', async () => {
    const { event: id, now } = await event();
    const k = now + 1;
    const parts = partsOf(video, k);
    // Asked before any part of K exists: held until part 0 lands.
    const pending = fetch(`${url}/live/${id}/v1/${k}.m4s?latency=low`);
    expect(await put(id, `A/v1/${k}.0.m4s`, parts[0])).toBe(201);
    const res = await pending;
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('x-cache')).toBe('stream');
    expect(res.headers.get('x-candidate')).toContain('pipeline=A');
    const body = incremental(res);
    // Part 0's bytes arrive while part 1 has not been PUT (a buffered answer would hang here).
    expect(Buffer.from(await body.take(parts[0].byteLength)).equals(Buffer.from(parts[0]))).toBe(true);
    for (let n = 1; n < N; n++) {
      expect(await put(id, `A/v1/${k}.${n}.m4s`, parts[n])).toBe(201);
      expect(Buffer.from(await body.take(parts[n].byteLength)).equals(Buffer.from(parts[n]))).toBe(true);
    }
    expect((await body.read()).done).toBe(true);

    // The streamed segment holds exactly the samples of the whole segment K, as mp4box reads both.
    const streamed = mp4boxSamples(join(parts));
    const whole = mp4boxSamples(segmentFor(video, k, D));
    expect(streamed.fragments).toBe(N);
    expect(streamed.samples).toBe(whole.samples);
    expect(streamed.durations).toEqual(whole.durations);
    expect(streamed.firstTfdt).toBe(whole.firstTfdt);
    expect(streamed.firstTfdt).toBe((k * D * video.info.timescale) / 1000);
  });

  it('a player joining after some parts gets them all at once, then the rest as they land', async () => {
    const { event: id, now } = await event();
    const k = now + 1;
    const parts = partsOf(video, k);
    for (const n of [0, 1]) expect(await put(id, `A/v1/${k}.${n}.m4s`, parts[n])).toBe(201);
    const res = await fetch(`${url}/live/${id}/v1/${k}.m4s?latency=low`);
    expect(res.status).toBe(200);
    const body = incremental(res);
    expect(Buffer.from(await body.take(parts[0].byteLength + parts[1].byteLength))).toEqual(
      Buffer.from(join(parts.slice(0, 2))),
    );
    for (const n of [2, 3]) expect(await put(id, `A/v1/${k}.${n}.m4s`, parts[n])).toBe(201);
    expect(Buffer.from(await body.take(parts[2].byteLength + parts[3].byteLength))).toEqual(
      Buffer.from(join(parts.slice(2))),
    );
    expect((await body.read()).done).toBe(true);
  });

  it('answers the stored segment once it is stored, as the standard URL does (and through the edge cache)', async () => {
    const { event: id, now } = await event();
    const k = now - 1;
    const segment = segmentFor(video, k, D);
    expect(await put(id, `A/v1/${k}.0.m4s`, partsOf(video, k)[0])).toBe(201);
    expect(await put(id, `A/v1/${k}.m4s`, segment)).toBe(201);
    const { res, bytes } = await getBytes(`${url}/live/${id}/v1/${k}.m4s?latency=low`);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-cache')).not.toBe('stream');
    expect(Buffer.from(bytes).equals(Buffer.from(segment))).toBe(true);
    const standard = await fetch(`${url}/live/${id}/v1/${k}.m4s`);
    expect(standard.headers.get('x-cache')).toBe('hot');
  });

  it('404 for a segment not being written yet; 410 for one whose parts and segment never came', async () => {
    const { event: id, now } = await event();
    // The pipeline is publishing (segments before the one being made), but K − 3 never came.
    for (const j of [now - 2, now - 1]) expect(await put(id, `A/v1/${j}.m4s`, segmentFor(video, j, D))).toBe(201);
    const early = await fetch(`${url}/live/${id}/v1/${now + 3}.m4s?latency=low`);
    expect(early.status).toBe(404);
    expect(await codeOf(early)).toBe('SEGMENT_NOT_YET_AVAILABLE');
    const gone = await fetch(`${url}/live/${id}/v1/${now - 3}.m4s?latency=low`);
    expect(gone.status).toBe(410);
    expect(await codeOf(gone)).toBe('SEGMENT_GONE');
  });

  it('breaks the transfer (no silently short segment) when a part does not come by its deadline', async () => {
    const { event: id, now } = await event();
    // The segment being made: streamed until its due time, (K+1)·D + pipelineDelayMs, at least 1.5 s
    // away; part 1 is waited for until its deadline, due + D, at most 5.5 s away.
    const k = now;
    const parts = partsOf(video, k);
    expect(await put(id, `A/v1/${k}.0.m4s`, parts[0])).toBe(201);
    const res = await fetch(`${url}/live/${id}/v1/${k}.m4s?latency=low`);
    expect(res.status).toBe(200);
    const body = incremental(res);
    expect(Buffer.from(await body.take(parts[0].byteLength)).equals(Buffer.from(parts[0]))).toBe(true);
    await expect(body.take(1)).rejects.toThrow();
  });
});

describe('LL-DASH MPD (index.mpd?latency=low)', () => {
  const mpdOf = (text: string): XmlNode => parseXml(text).childNodes.find((n) => n.nodeName === 'MPD')!;
  const all = (node: XmlNode, name: string) => getElementsByName(node, name);

  it('signals chunked segments, the producer reference and low latency; its segment URLs reach the chunked route', async () => {
    const { event: id, now } = await event();
    for (const j of [now - 2, now - 1]) expect(await put(id, `A/v1/${j}.m4s`, segmentFor(video, j, D))).toBe(201);
    const res = await fetch(`${url}/live/${id}/index.mpd?latency=low`);
    expect(res.status).toBe(200);
    // Kept for half a part (P = 500 ms), not half a segment.
    expect(res.headers.get('x-ttl-ms')).toBe('250');
    const mpd = mpdOf(await res.text());
    const template = all(mpd, 'SegmentTemplate')[0].attributes;
    expect(template).toMatchObject({
      availabilityTimeOffset: '1.5',
      availabilityTimeComplete: 'false',
      media: '$RepresentationID$/$Number$.m4s?latency=low',
      initialization: '$RepresentationID$/init.mp4',
    });
    expect(all(mpd, 'Latency')[0].attributes).toMatchObject({ referenceId: '0', target: '2000', min: '1000' });
    expect(all(mpd, 'PlaybackRate')).toHaveLength(1);
    expect(all(mpd, 'UTCTiming')[0].attributes.value).toBe(`${url}/time`);
    const prt = all(mpd, 'ProducerReferenceTime')[0].attributes;
    expect(prt).toMatchObject({ id: '0', type: 'encoder' });
    expect(Number(prt.presentationTime) / Number(template.timescale)).toBe(Date.parse(prt.wallClockTime) / 1000);

    // The standard MPD, asked right after, is the standard one (its own cache key).
    const standard = await (await fetch(`${url}/live/${id}/index.mpd`)).text();
    expect(standard).not.toMatch(/availabilityTimeOffset|ProducerReferenceTime|latency=low/);
    expect(all(mpdOf(standard), 'Latency')[0].attributes.target).toBe('3500');

    // Resolve the template for the segment being made next: a streamed answer once its part 0 lands.
    const k = now + 1;
    const segmentUrl = new URL(
      template.media.replace('$RepresentationID$', 'v1').replace('$Number$', String(k)),
      `${url}/live/${id}/index.mpd`,
    );
    const pending = fetch(segmentUrl);
    const parts = partsOf(video, k);
    expect(await put(id, `A/v1/${k}.0.m4s`, parts[0])).toBe(201);
    const streamed = await pending;
    expect(streamed.headers.get('x-cache')).toBe('stream');
    const body = incremental(streamed);
    expect(Buffer.from(await body.take(parts[0].byteLength))).toEqual(Buffer.from(parts[0]));
    await body.cancel();
  });
});
