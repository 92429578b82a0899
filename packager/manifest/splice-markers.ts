import { spliceInSection, type Splice } from '../../contract/splices.ts';
import { fromBase64 } from '../../contract/scte35-section.ts';
import { toHex } from '../drm/keys.ts';

/**
 * Ad breaks in manifests: SCTE-35 markers written from the stored splices alone (no clock, no
 * request), so both pipelines, every region and every edge write the same markers at the same
 * times. docs/manifests.md, "Ad markers".
 */

/** The DASH scheme whose Events carry the binary splice_info_section in XML (SCTE 214-1 §6.7.4). */
const SCTE35_SCHEME = 'urn:scte:scte35:2014:xml+bin';
/** SCTE 35's XML namespace (the Signal/Binary elements). */
const SCTE35_XML_NAMESPACE = 'http://www.scte.org/schemas/35/2016';

/**
 * The DATERANGE ID of a splice: one per break, shared by its OUT and IN tags. `scope` names a
 * back-to-back next event whose breaks share this playlist (IDs are unique per playlist, and
 * splice ids only per event).
 */
function dateRangeId(splice: Splice, scope: string): string {
  return scope ? `${scope}/splice-${splice.id}` : `splice-${splice.id}`;
}

/**
 * RFC 8216bis §4.4.5.1.1 (mapping SCTE-35 into EXT-X-DATERANGE): an OUT tag with
 * PLANNED-DURATION and SCTE35-OUT for every break, and, once the playlist's media reaches the
 * end of the break (`mediaEndMs`, the end of its newest segment), a second tag with the same ID
 * and START-DATE carrying DURATION and SCTE35-IN. A playlist with these must be dated
 * (EXT-X-PROGRAM-DATE-TIME): the writer places them where it dates its first segment.
 */
export function dateRangeTags(splices: readonly Splice[], mediaEndMs: number, scope = ''): string[] {
  const lines: string[] = [];
  for (const s of splices) {
    const tags = dateRangeTagsOf(s, scope);
    lines.push(tags.out);
    if (s.outAt + s.durationMs <= mediaEndMs) lines.push(tags.in);
  }
  return lines;
}

/**
 * A break's two tags, written once per splice rather than on every playlist request of every
 * viewer (the IN section is encoded, both are hex-encoded). Keyed by everything they depend on,
 * since events reuse splice ids; the oldest entry goes past MAX_MEMOISED (an isolate serves many
 * events, each with a few breaks in its window at a time).
 */
const memoised = new Map<string, { out: string; in: string }>();
const MAX_MEMOISED = 256;

function dateRangeTagsOf(s: Splice, scope: string): { out: string; in: string } {
  const key = `${scope} ${s.id} ${s.outAt} ${s.durationMs} ${s.scte35}`;
  let tags = memoised.get(key);
  if (tags === undefined) {
    const common = `ID="${dateRangeId(s, scope)}",START-DATE="${new Date(s.outAt).toISOString()}"`;
    const seconds = (s.durationMs / 1000).toFixed(3);
    tags = {
      out: `#EXT-X-DATERANGE:${common},PLANNED-DURATION=${seconds},SCTE35-OUT=${hex(fromBase64(s.scte35))}`,
      in: `#EXT-X-DATERANGE:${common},DURATION=${seconds},SCTE35-IN=${hex(spliceInSection(s))}`,
    };
    if (memoised.size >= MAX_MEMOISED) memoised.delete(memoised.keys().next().value!);
    memoised.set(key, tags);
  }
  return tags;
}

/**
 * A Period-level EventStream (timescale: milliseconds) with one Event per break:
 * presentationTime is the OUT point in media time, which is UTC (the EventStream's
 * presentationTimeOffset is where the Period starts in it, as the SegmentTemplates' is; a break
 * already running when the Period starts comes before it), duration the planned break, id the
 * splice_event_id, and the splice_info_section as scte35:Signal/scte35:Binary. Undefined without
 * splices (the caller chooses them: manifestSplices in contract/splices.ts).
 */
export function eventStream(events: readonly Splice[], presentationTimeOffsetMs: number): string | undefined {
  if (events.length === 0) return undefined;
  const pto = presentationTimeOffsetMs > 0 ? ` presentationTimeOffset="${presentationTimeOffsetMs}"` : '';
  return [
    `<EventStream schemeIdUri="${SCTE35_SCHEME}" timescale="1000"${pto}>`,
    ...events.flatMap((s) => [
      `  <Event presentationTime="${s.outAt}" duration="${s.durationMs}" id="${s.id}">`,
      `    <scte35:Signal xmlns:scte35="${SCTE35_XML_NAMESPACE}">`,
      `      <scte35:Binary>${s.scte35}</scte35:Binary>`,
      '    </scte35:Signal>',
      '  </Event>',
    ]),
    '</EventStream>',
  ].join('\n');
}

/** RFC 8216bis hexadecimal-sequence; upper case, as these tags have always been written. */
function hex(bytes: Uint8Array): string {
  return `0x${toHex(bytes).toUpperCase()}`;
}
