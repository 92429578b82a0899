/**
 * Just enough DASH and HLS reading for the soak's simulated players: which tracks there are, the
 * segment template, and which segments a media playlist lists. The project writes both formats
 * itself (packager/manifest/), so these read exactly that shape; a real player's parser would not
 * be a better judge of the origin's answers here, only slower with 50 of them.
 */

export interface MpdRepresentation {
  id: string;
  bandwidth: number;
  /** `media` template with $RepresentationID$ filled in ($Number$ left). */
  media: string;
  initialization: string;
  /** Segment duration in seconds (template duration / timescale). */
  durationS: number;
}

export interface Mpd {
  type: 'dynamic' | 'static';
  suggestedPresentationDelayS: number | undefined;
  /** How far back segments exist (a young event advertises only what it has). */
  timeShiftBufferDepthS: number | undefined;
  video: MpdRepresentation[];
  audio: MpdRepresentation[];
}

export function parseMpd(text: string): Mpd {
  const mpdTag = /<MPD\b[^>]*>/.exec(text)?.[0];
  if (!mpdTag) throw new Error('not an MPD: no <MPD> element');
  const type = attr(mpdTag, 'type') === 'static' ? 'static' : 'dynamic';
  const spd = attr(mpdTag, 'suggestedPresentationDelay');
  const tsbd = attr(mpdTag, 'timeShiftBufferDepth');
  const period = /<Period\b[\s\S]*?<\/Period>/.exec(text)?.[0];
  if (!period) throw new Error('MPD has no Period');
  const video: MpdRepresentation[] = [];
  const audio: MpdRepresentation[] = [];
  for (const set of period.match(/<AdaptationSet\b[\s\S]*?<\/AdaptationSet>/g) ?? []) {
    const setTag = /<AdaptationSet\b[^>]*>/.exec(set)![0];
    const kind = attr(setTag, 'contentType') ?? attr(setTag, 'mimeType')?.split('/')[0];
    const setTemplate = /<SegmentTemplate\b[^>]*\/?>/.exec(
      set.replace(/<Representation\b[\s\S]*?(\/>|<\/Representation>)/g, ''),
    )?.[0];
    for (const rep of set.match(/<Representation\b[\s\S]*?(?:\/>|<\/Representation>)/g) ?? []) {
      const repTag = /<Representation\b[^>]*>/.exec(rep)![0];
      const template = /<SegmentTemplate\b[^>]*\/?>/.exec(rep)?.[0] ?? setTemplate;
      const id = attr(repTag, 'id');
      if (!template || !id) continue;
      const timescale = Number(attr(template, 'timescale') ?? 1);
      const fill = (t: string | undefined) => (t ?? '').replaceAll('$RepresentationID$', id).replaceAll('$$', '$');
      const r: MpdRepresentation = {
        id,
        bandwidth: Number(attr(repTag, 'bandwidth') ?? 0),
        media: fill(attr(template, 'media')),
        initialization: fill(attr(template, 'initialization')),
        durationS: Number(attr(template, 'duration') ?? 0) / timescale,
      };
      if (kind === 'video') video.push(r);
      else if (kind === 'audio') audio.push(r);
    }
  }
  return {
    type,
    suggestedPresentationDelayS: spd ? isoDurationS(spd) : undefined,
    timeShiftBufferDepthS: tsbd ? isoDurationS(tsbd) : undefined,
    video,
    audio,
  };
}

export interface Multivariant {
  variants: { uri: string; bandwidth: number }[];
  /** Audio renditions, the DEFAULT=YES one first. */
  audio: { uri: string; isDefault: boolean }[];
}

export function parseMultivariant(text: string): Multivariant {
  if (!text.startsWith('#EXTM3U')) throw new Error('not a playlist: no #EXTM3U');
  const lines = text.split(/\r?\n/);
  const variants: Multivariant['variants'] = [];
  const audio: Multivariant['audio'] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line.startsWith('#EXT-X-STREAM-INF:')) {
      const uri = lines.slice(i + 1).find((l) => l !== '' && !l.startsWith('#'));
      if (uri) variants.push({ uri, bandwidth: Number(/BANDWIDTH=(\d+)/.exec(line)?.[1] ?? 0) });
    } else if (line.startsWith('#EXT-X-MEDIA:') && line.includes('TYPE=AUDIO')) {
      const uri = /URI="([^"]+)"/.exec(line)?.[1];
      if (uri) audio.push({ uri, isDefault: line.includes('DEFAULT=YES') });
    }
  }
  audio.sort((a, b) => Number(b.isDefault) - Number(a.isDefault));
  return { variants, audio };
}

export interface MediaPlaylist {
  mediaSequence: number;
  /** Segments left out by a delta update (EXT-X-SKIP). */
  skipped: number;
  canSkip: boolean;
  ended: boolean;
  /** Listed segments in order: K from the URI's file name, gap when tagged EXT-X-GAP. */
  segments: { k: number; uri: string; gap: boolean }[];
}

export function parseMediaPlaylist(text: string): MediaPlaylist {
  if (!text.startsWith('#EXTM3U')) throw new Error('not a playlist: no #EXTM3U');
  const out: MediaPlaylist = { mediaSequence: 0, skipped: 0, canSkip: false, ended: false, segments: [] };
  let gap = false;
  for (const line of text.split(/\r?\n/)) {
    if (line.startsWith('#EXT-X-MEDIA-SEQUENCE:')) out.mediaSequence = Number(line.slice(22));
    else if (line.startsWith('#EXT-X-SKIP:')) out.skipped = Number(/SKIPPED-SEGMENTS=(\d+)/.exec(line)?.[1] ?? 0);
    else if (line.startsWith('#EXT-X-SERVER-CONTROL:')) out.canSkip = line.includes('CAN-SKIP-UNTIL=');
    else if (line === '#EXT-X-ENDLIST') out.ended = true;
    else if (line === '#EXT-X-GAP') gap = true;
    else if (line !== '' && !line.startsWith('#')) {
      const k = Number(/(\d+)\.(m4s|mp4|vtt)(\?|$)/.exec(line)?.[1] ?? Number.NaN);
      if (!Number.isFinite(k)) throw new Error(`segment URI without a number: ${line}`);
      out.segments.push({ k, uri: line, gap });
      gap = false;
    }
  }
  return out;
}

function attr(tag: string, name: string): string | undefined {
  return new RegExp(`\\s${name}="([^"]*)"`).exec(tag)?.[1];
}

/** `PT6S`, `PT1M2.5S`: seconds. */
export function isoDurationS(text: string): number {
  const m = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:([\d.]+)S)?)?$/.exec(text);
  if (!m) return Number.NaN;
  return Number(m[1] ?? 0) * 86400 + Number(m[2] ?? 0) * 3600 + Number(m[3] ?? 0) * 60 + Number(m[4] ?? 0);
}
