/**
 * Hostile media at the ingest route, in the real Worker and origin objects: every malformed body
 * is a quick 400 that names the box and its offset (never a 500, never a hang), and nothing
 * stored before it changes, in a clear event and in a DRM event (whose segments the edge parses
 * to encrypt them before the origin sees them).
 */
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { box, concat, fullBox, str, u32, u64 } from '../packager/bmff/box-writer.ts';
import { type Box, containerTypes, readBoxes } from '../packager/bmff/box-reader.ts';
import { writeVttSegment } from '../packager/captions/webvtt-segment.ts';
import { DEV_OPERATOR_TOKEN, getBytes, ingestPut, randomEventId } from '../test/ingest-client.ts';
import { liveK, loadMedia, type Media, segmentFor } from '../test/media.ts';

const url = inject('workerUrl');
const D = 2000;
const operator = { authorization: `Bearer ${DEV_OPERATOR_TOKEN}` };
let video: Media;

beforeAll(async () => {
  video = await loadMedia({ kind: 'video' });
});

/** An event (clear, or with `drm`) with pipeline A's init and segment K of v1 stored. */
async function storedEvent(drm?: { scheme: 'cenc' | 'cbcs' }) {
  const event = randomEventId();
  if (drm) {
    const res = await fetch(`${url}/api/events/${event}/drm`, {
      method: 'PUT',
      headers: { ...operator, 'content-type': 'application/json' },
      body: JSON.stringify({ drm }),
    });
    expect(res.status).toBe(200);
  }
  const k = liveK(D) - 3;
  expect((await ingestPut(url, `${event}/A/v1/init.mp4`, video.init)).status).toBe(201);
  expect((await ingestPut(url, `${event}/A/v1/${k}.m4s`, segmentFor(video, k, D))).status).toBe(201);
  const stored = async () => {
    const init = await getBytes(`${url}/live/${event}/v1/init.mp4?pipeline=A`, { headers: operator });
    const segment = await getBytes(`${url}/live/${event}/v1/${k}.m4s?pipeline=A`, { headers: operator });
    const storage = (await (await fetch(`${url}/api/events/${event}/storage`, { headers: operator })).json()) as Record<
      string,
      unknown
    >;
    expect([init.res.status, segment.res.status]).toEqual([200, 200]);
    // What is stored, not what time it is (the storage view also reports the moving DVR start).
    const { candidates, chunks, bytes, oldestK, newestK } = storage;
    return {
      init: Buffer.from(init.bytes).toString('base64'),
      segment: Buffer.from(segment.bytes).toString('base64'),
      storage: { candidates, chunks, bytes, oldestK, newestK },
    };
  };
  return { event, k, before: await stored(), stored };
}

/** PUT `body` and expect a quick 400 of `code` whose message matches `message`. */
async function refused(path: string, body: Uint8Array, code: string, message: RegExp) {
  const t = Date.now();
  const res = await ingestPut(url, path, body);
  const ms = Date.now() - t;
  const { error } = (await res.json()) as { error: { code: string; message: string } };
  expect({ status: res.status, code: error.code }, error.message).toEqual({ status: 400, code });
  expect(error.message).toMatch(message);
  expect(ms).toBeLessThan(2000);
}

/** 92 bytes: one moof whose trun declares 2^32-1 samples with no per-sample fields, and an empty mdat. */
const TRUN_BOMB = concat([
  box(
    'moof',
    fullBox('mfhd', 0, 0, u32(1)),
    box(
      'traf',
      fullBox('tfhd', 0, 0x020000, u32(1)),
      fullBox('tfdt', 1, 0, u64(0)),
      fullBox('trun', 0, 0, u32(0xffffffff)),
    ),
  ),
  box('mdat'),
]);

/** Hostile segments made from a real one (K's own, so only the damage differs). */
function hostileSegments(k: number): [string, Uint8Array, RegExp][] {
  const real = segmentFor(video, k, D);
  const top = readBoxes(real);
  const moof = top.find((b) => b.type === 'moof')!;
  const traf = readBoxes(real, moof.payload, moof.end).find((b) => b.type === 'traf')!;
  const mdat = top.find((b) => b.type === 'mdat')!;
  const patched = (at: number, value: number) => {
    const out = real.slice();
    new DataView(out.buffer).setUint32(at, value);
    return out;
  };
  // mdat with a 64-bit size far past the body: size field 1, largesize after the type.
  const large = concat([
    real.subarray(0, mdat.start),
    u32(1),
    str('mdat'),
    u64(2n ** 62n),
    real.subarray(mdat.payload),
  ]);
  // A trun whose sample data starts before the body (data_offset −1,000,000).
  const trun = readBoxes(real, traf.payload, traf.end).find((b) => b.type === 'trun')!;
  return [
    [
      'the 92-byte trun bomb',
      TRUN_BOMB,
      /trun at offset 68: sample_count 4294967295 takes the segment past 10000 samples/,
    ],
    ['cut inside the moof', real.subarray(0, moof.start + 60), new RegExp(`moof at offset ${moof.start}: declares`)],
    [
      'a traf bigger than its moof',
      patched(traf.start, traf.end - traf.start + 5000),
      new RegExp(
        `traf at offset ${traf.start}: declares \\d+ bytes but only \\d+ remain in moof at offset ${moof.start}`,
      ),
    ],
    [
      'a box size smaller than its header',
      patched(traf.start, 4),
      new RegExp(`traf at offset ${traf.start}: declares size 4`),
    ],
    [
      'a 64-bit mdat size past the end',
      large,
      new RegExp(`mdat at offset ${mdat.start}: declares 4611686018427387904 bytes \\(64-bit size\\)`),
    ],
    [
      'sample data before the body',
      patched(trun.payload + 8, -1_000_000 >>> 0),
      /trun at offset \d+: sample 0 \(\d+ bytes at offset -\d+\) is not inside an mdat/,
    ],
  ];
}

describe('ingest: malformed media is a quick 400 MEDIA_MALFORMED naming the box, and changes nothing', () => {
  for (const drm of [undefined, { scheme: 'cenc' } as const]) {
    it(`segments (${drm ? 'cenc event: parsed at the edge to encrypt' : 'clear event: parsed by the origin'})`, async () => {
      const { event, k, before, stored } = await storedEvent(drm);
      for (const [why, body, message] of hostileSegments(k)) {
        // Both the stored K (a replacement attempt) and a new K.
        for (const target of [k, k + 1]) await refused(`${event}/A/v1/${target}.m4s`, body, 'MEDIA_MALFORMED', message);
        expect(await stored(), why).toEqual(before);
      }
    });
  }

  it('inits: a huge stsd entry_count, a trex cut short, an avcC too short for its record', async () => {
    const { event, before, stored } = await storedEvent();
    const stsd = chainTo(video.init, 'stsd').at(-1)!;
    const huge = video.init.slice();
    huge.set(u32(0xffffffff), stsd.payload + 4);
    const trex = chainTo(video.init, 'trex');
    const avcC = chainTo(video.init, 'avcC');
    const cases: [Uint8Array, RegExp][] = [
      [huge, new RegExp(`^stsd at offset ${stsd.start}: entry_count 4294967295 but it holds 1 sample entries$`)],
      // A trex of 20 bytes (its defaults missing) and an avcC of 3 bytes: the enclosing sizes are right.
      [
        replaced(video.init, trex, fullBox('trex', 0, 0, u32(1), u32(1))),
        /^trex at offset \d+: default_sample_duration needs 4 bytes/,
      ],
      [
        replaced(video.init, avcC, box('avcC', Uint8Array.of(1, 0x64, 0))),
        /^avcC at offset \d+: AVCDecoderConfigurationRecord needs 7 bytes/,
      ],
    ];
    for (const [body, message] of cases) {
      await refused(`${event}/A/v1/init.mp4`, body, 'MEDIA_MALFORMED', message);
      await refused(`${event}/B/v1/init.mp4`, body, 'MEDIA_MALFORMED', message);
    }
    // B stored nothing; A is unchanged.
    expect((await fetch(`${url}/live/${event}/v1/init.mp4?pipeline=B`, { headers: operator })).status).toBe(404);
    expect(await stored()).toEqual(before);
  });

  it('WebVTT: a cue past the last date a clock can show is 400 BAD_BODY (the origin answered 500)', async () => {
    const { event, before, stored } = await storedEvent();
    const res = await fetch(`${url}/api/events/${event}/config`, {
      method: 'PATCH',
      headers: { ...operator, 'content-type': 'application/json' },
      body: JSON.stringify({ captions: [{ language: 'en', label: 'English' }] }),
    });
    expect(res.status).toBe(200);
    const k = liveK(D) + 1;
    const vtt = writeVttSegment([{ startMs: k * D + 100, endMs: k * D + 500, text: 'hi' }], k, D).replace(
      /--> \S+/,
      '--> 2400000001:00:00.000',
    );
    const put = await ingestPut(url, `${event}/A/text-en/${k}.vtt`, new TextEncoder().encode(vtt), {
      contentType: 'text/vtt',
    });
    const { error } = (await put.json()) as { error: { code: string; message: string } };
    expect({ status: put.status, code: error.code }).toEqual({ status: 400, code: 'BAD_BODY' });
    expect(error.message).toMatch(/^WebVTT line 4: the cue is outside the epoch media timeline/);
    expect(await stored()).toEqual(before);
  });
});

/** The boxes from the top of `init` down to the first box of `type`, depth first. */
function chainTo(init: Uint8Array, type: string): Box[] {
  const fields: Record<string, number> = { stsd: 8, avc1: 78 };
  const search = (boxes: Box[], chain: Box[]): Box[] | undefined => {
    for (const b of boxes) {
      if (b.type === type) return [...chain, b];
      const skip = fields[b.type] ?? (containerTypes.has(b.type) ? 0 : undefined);
      const found = skip === undefined ? undefined : search(readBoxes(init, b.payload + skip, b.end), [...chain, b]);
      if (found) return found;
    }
    return undefined;
  };
  const chain = search(readBoxes(init), []);
  if (!chain) throw new Error(`no ${type}`);
  return chain;
}

/** `init` with the last box of `chain` replaced by `box`, the sizes of the boxes around it fixed. */
function replaced(init: Uint8Array, chain: Box[], replacement: Uint8Array): Uint8Array {
  const target = chain.at(-1)!;
  const out = concat([init.subarray(0, target.start), replacement, init.subarray(target.end)]);
  const dv = new DataView(out.buffer);
  const delta = replacement.byteLength - (target.end - target.start);
  for (const b of chain.slice(0, -1)) dv.setUint32(b.start, dv.getUint32(b.start) + delta);
  return out;
}
