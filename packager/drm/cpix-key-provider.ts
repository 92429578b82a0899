/**
 * A KeyProvider backed by an HTTP key service that speaks CPIX (docs/drm.md, "Keys from a key
 * service"). For each (event, key period) it POSTs one CPIX request naming a video and an audio
 * KID and reads both keys from the answer; the answer is cached, so a key service sees one request
 * per event and key period per Worker isolate, not one per segment.
 *
 * KIDs are chosen here, deterministically from (event, kind, period), because both pipelines'
 * identical clear headers must become identical protected headers (the ingest contract) even when
 * they reach different isolates: the same KID asked twice must get the same key from the service,
 * which is how CPIX/SPEKE key services behave (they store a key per KID).
 */
import { AppError } from '../../contract/errors.ts';
import { cpixRequest, parseCpix } from './cpix.ts';
import { toHex, type ContentKey, type KeyProvider, type TrackKind } from './keys.ts';
import type { ProtectionScheme } from './pssh.ts';

export interface CpixKeyProviderOptions {
  /** The key service's CPIX endpoint (POST, application/xml). */
  url: string;
  scheme: ProtectionScheme;
  /** Rotation on: the request carries the key period (ContentKeyPeriodList). */
  rotating: boolean;
  /** Give up on a key service that has not answered after this long. */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

type PeriodKeys = Record<'video' | 'audio', ContentKey>;

/** Cached (event, period) answers per isolate: a few periods of many concurrent events. */
const MAX_CACHED_PERIODS = 256;

export class CpixKeyProvider implements KeyProvider {
  private readonly o: CpixKeyProviderOptions;
  /** `${event}:${period}` → both keys of that period; a failed fetch is dropped so the next publish retries. */
  private readonly cache = new Map<string, Promise<PeriodKeys>>();
  /** How many requests this provider has sent (for tests and logs). */
  requests = 0;

  constructor(o: CpixKeyProviderOptions) {
    this.o = o;
  }

  async getKey(event: string, kind: TrackKind, period: number): Promise<ContentKey> {
    if (kind === 'text') throw new AppError('INTERNAL', 'text tracks are not encrypted');
    const id = `${event}:${period}`;
    let keys = this.cache.get(id);
    if (!keys) {
      keys = this.fetchPeriod(event, period);
      this.cache.set(id, keys);
      // Live events only need the current periods: keep the most recent entries, drop the oldest.
      if (this.cache.size > MAX_CACHED_PERIODS) this.cache.delete(this.cache.keys().next().value!);
      keys.catch(() => this.cache.delete(id));
    }
    return (await keys)[kind];
  }

  private async fetchPeriod(event: string, period: number): Promise<PeriodKeys> {
    const [video, audio] = await Promise.all([kidFor(event, 'video', period), kidFor(event, 'audio', period)]);
    const body = cpixRequest({
      contentId: event,
      scheme: this.o.scheme,
      period: this.o.rotating ? period : undefined,
      keys: [
        { kid: video, kind: 'video' },
        { kid: audio, kind: 'audio' },
      ],
    });
    const where = `key service ${this.o.url} (event ${event}, key period ${period})`;
    this.requests++;
    let res: Response;
    try {
      res = await (this.o.fetch ?? fetch)(this.o.url, {
        method: 'POST',
        headers: { 'content-type': 'application/xml', accept: 'application/xml' },
        body,
        signal: AbortSignal.timeout(this.o.timeoutMs ?? 5000),
      });
    } catch (e) {
      throw new AppError('KEY_SERVICE_UNAVAILABLE', `${where} did not answer: ${(e as Error).message}`);
    }
    const text = await res.text().catch(() => '');
    if (!res.ok)
      throw new AppError('KEY_SERVICE_UNAVAILABLE', `${where} answered HTTP ${res.status}: ${text.slice(0, 200)}`);
    const doc = parseCpix(
      text,
      (m) => new AppError('KEY_SERVICE_BAD_ANSWER', `${where} answered a CPIX document we cannot use: ${m}`),
    );
    const keyOf = (kid: Uint8Array): ContentKey => {
      const found = doc.keys.find((k) => toHex(k.kid) === toHex(kid));
      if (!found?.key)
        throw new AppError('KEY_SERVICE_BAD_ANSWER', `${where} answered without a key for KID ${toHex(kid)}`);
      return { kid, key: found.key };
    };
    return { video: keyOf(video), audio: keyOf(audio) };
  }
}

/**
 * KID of (event, kind, period): the first 16 bytes of SHA-256("cpix-kid:<event>:<kind>:<period>"),
 * shaped as a version-4 UUID. Not secret (KIDs are public in every manifest); it only has to be
 * the same in every isolate and differ between events, kinds and periods.
 */
export async function kidFor(event: string, kind: 'video' | 'audio', period: number): Promise<Uint8Array> {
  const hash = new Uint8Array(
    await crypto.subtle.digest('SHA-256', new TextEncoder().encode(`cpix-kid:${event}:${kind}:${period}`)),
    0,
    16,
  ).slice();
  hash[6] = (hash[6] & 0x0f) | 0x40;
  hash[8] = (hash[8] & 0x3f) | 0x80;
  return hash;
}
