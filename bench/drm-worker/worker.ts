/**
 * Bench-only Worker: the packager's encryption, imported unchanged, run inside workerd (one
 * isolate, one thread), driven by bench/drm-workerd.ts over loopback HTTP:
 *   PUT  /media/{video|audio}/init | /media/{video|audio}/{i}   load the clear segment set
 *   POST /run/{task}?reps=N   run one task N times over the whole set; the caller times the request
 *   GET  /sample/{scheme}/{kind}   protected init + encrypted first segment (checked with ffmpeg)
 * Timing is taken outside: inside workerd the clock only moves on I/O (Spectre mitigation), so
 * the caller subtracts the round trip of a `noop` task instead.
 */
import { concat } from '../../packager/bmff/box-writer.ts';
import { protectInit } from '../../packager/drm/cenc-init.ts';
import { encryptSegment } from '../../packager/drm/encrypt-segment.ts';
import { LocalKeyStore, type ContentKey } from '../../packager/drm/keys.ts';
import type { TrackProtection } from '../../packager/drm/protection.ts';
import { readInitInfo } from '../../packager/init-info.ts';

type Kind = 'video' | 'audio';
const media: Record<Kind, { init?: Uint8Array; segments: Uint8Array[] }> = {
  video: { segments: [] },
  audio: { segments: [] },
};
const keys = new LocalKeyStore();

const variants = {
  cenc: { scheme: 'cenc', cencIvSize: 16 },
  cenc8: { scheme: 'cenc', cencIvSize: 8 },
  cbcs: { scheme: 'cbcs' },
} as const;
type Variant = keyof typeof variants;
const prepared = new Map<string, Promise<{ init: Uint8Array; protection: TrackProtection; key: ContentKey }>>();

function prepare(variant: Variant, kind: Kind) {
  const id = `${variant}:${kind}`;
  let p = prepared.get(id);
  if (!p) {
    p = keys.getKey('bench', kind, 0).then((key) => {
      const { init, protection } = protectInit(media[kind].init!, {
        ...variants[variant],
        key,
        constantIv: new Uint8Array(16).fill(1),
      });
      return { init, protection, key };
    });
    prepared.set(id, p);
  }
  return p;
}

async function encryptAll(variant: Variant, kind: Kind): Promise<number> {
  const { protection, key } = await prepare(variant, kind);
  const defaults = readInitInfo(media[kind].init!);
  let bytes = 0;
  for (const s of media[kind].segments) {
    await encryptSegment(s, protection, key, { defaults });
    bytes += s.byteLength;
  }
  return bytes;
}

const raw = new Map<string, Promise<CryptoKey>>();
/** Raw WebCrypto: one call per video segment on one contiguous buffer of that segment's size. */
async function rawAll(name: 'AES-CTR' | 'AES-CBC'): Promise<number> {
  let k = raw.get(name);
  if (!k)
    raw.set(
      name,
      (k = keys
        .getKey('bench', 'video', 0)
        .then((key) => crypto.subtle.importKey('raw', key.key as BufferSource, name, false, ['encrypt']))),
    );
  const alg = name === 'AES-CTR' ? { name, counter: new Uint8Array(16), length: 64 } : { name, iv: new Uint8Array(16) };
  let bytes = 0;
  for (const s of media.video.segments) {
    await crypto.subtle.encrypt(alg, await k, s as BufferSource);
    bytes += s.byteLength;
  }
  return bytes;
}

const tasks: Record<string, () => Promise<number>> = {
  noop: async () => 0,
  'raw-ctr': () => rawAll('AES-CTR'),
  'raw-cbc': () => rawAll('AES-CBC'),
};
for (const v of Object.keys(variants) as Variant[]) {
  tasks[`${v}-video`] = () => encryptAll(v, 'video');
  tasks[`${v}-av`] = async () => (await encryptAll(v, 'video')) + (await encryptAll(v, 'audio'));
}

export default {
  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const parts = url.pathname.split('/').filter(Boolean);
    if (url.pathname === '/time') return new Response(String(Date.now()));
    if (request.method === 'PUT' && parts[0] === 'media' && (parts[1] === 'video' || parts[1] === 'audio')) {
      const bytes = new Uint8Array(await request.arrayBuffer());
      if (parts[2] === 'init') {
        media[parts[1]] = { init: bytes, segments: [] };
        for (const id of [...prepared.keys()]) if (id.endsWith(parts[1])) prepared.delete(id);
      } else media[parts[1]].segments[Number(parts[2])] = bytes;
      return new Response(null, { status: 204 });
    }
    if (request.method === 'POST' && parts[0] === 'run' && tasks[parts[1]]) {
      // Repeat inside one request so the loopback round trip is small beside the work.
      const reps = Math.min(Math.max(Number(url.searchParams.get('reps') ?? 1), 1), 1000);
      let bytes = 0;
      for (let i = 0; i < reps; i++) bytes += await tasks[parts[1]]();
      return Response.json({ bytes });
    }
    if (
      request.method === 'GET' &&
      parts[0] === 'sample' &&
      parts[1] in variants &&
      (parts[2] === 'video' || parts[2] === 'audio')
    ) {
      const kind = parts[2] as Kind;
      const { init, protection, key } = await prepare(parts[1] as Variant, kind);
      const segment = await encryptSegment(media[kind].segments[0], protection, key, {
        defaults: readInitInfo(media[kind].init!),
      });
      return new Response(concat([init, segment]) as BufferSource);
    }
    return new Response('not found', { status: 404 });
  },
};
