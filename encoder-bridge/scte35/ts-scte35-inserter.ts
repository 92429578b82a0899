import { PTS_CLOCK_HZ, unwrapPts, wrapPts } from '../../contract/epoch.ts';
import { encodeSpliceInsert } from '../../contract/scte35-section.ts';
import { utcMsToPts } from '../../contract/splices.ts';
import { concat } from '../../packager/bmff/box-writer.ts';
import { pesHeader, TS_PACKET_SIZE, TsPacketAligner } from '../ts-timestamps.ts';
import { programMapPids, sectionOf, sectionPacket, tsPacket, withScte35Stream } from './psi.ts';

/** The demo's ad breaks: one of `durationMs` every `periodMs`, at whole multiples of the period in UTC. */
export interface BreakSchedule {
  periodMs: number;
  durationMs: number;
  /** Each break's section is sent this long before its OUT point (and again halfway there). */
  prerollMs: number;
}

/** SCTE-35 defaults of the synthetic source: a 30 s break every 5 minutes, announced 4 s ahead. */
export const DEMO_BREAKS: BreakSchedule = { periodMs: 300_000, durationMs: 30_000, prerollMs: 4_000 };
/** The PID the source gives its SCTE-35 stream (ffmpeg's own streams start at 0x100). */
export const SCTE35_PID = 0x1f0;

/** The break a schedule places at UTC instant `outAt`: its splice_event_id is the UTC second. */
export function scheduledSplice(
  outAt: number,
  schedule: BreakSchedule,
  ptsOffsetTicks = 0,
): { id: number; section: Uint8Array } {
  const id = Math.floor(outAt / 1000) % 2 ** 32;
  const section = encodeSpliceInsert({
    spliceEventId: id,
    outOfNetwork: true,
    ptsTime: wrapPts(utcMsToPts(outAt) + ptsOffsetTicks),
    breakDuration: Math.round((schedule.durationMs * PTS_CLOCK_HZ) / 1000),
    autoReturn: true,
  });
  return { id, section };
}

/**
 * Adds SCTE-35 to an MPEG-TS feed whose PTS is UTC (the synthetic source), as a contribution
 * encoder with an ad-break trigger does: ffmpeg 5.1 reads SCTE-35 but cannot mux it, so this
 * stage rewrites the PMT to list an SCTE-35 stream (stream_type 0x86, "CUEI" registration) and
 * puts each break's splice_insert on that PID, in its own packets, ahead of the video picture
 * whose PTS passes the announcement time. Breaks are a pure function of UTC (`schedule`): a
 * restarted source announces the same breaks with the same ids. Packets keep their order and
 * bytes otherwise; the PMT keeps its packet, so no continuity counter changes.
 */
export class TsScte35Inserter {
  private readonly aligner = new TsPacketAligner();
  private readonly schedule: BreakSchedule;
  private readonly pid: number;
  private readonly now: () => number;
  private pmtPids = new Set<number>();
  private continuity = 0;
  /** Announcements already sent: `${outAt}:${round}`. */
  private readonly sent = new Set<string>();
  private lastPts: number | undefined;
  /** Sections sent (for logs and tests). */
  sections = 0;

  /** Feed PTS − UTC (90 kHz ticks): 0 when the PTS is UTC; a feed whose PTS is not UTC (UTC in SEI) says how far apart. */
  private readonly ptsOffsetTicks: number;

  constructor(opts: { schedule: BreakSchedule; pid?: number; now?: () => number; ptsOffsetTicks?: number }) {
    this.schedule = opts.schedule;
    this.pid = opts.pid ?? SCTE35_PID;
    this.now = opts.now ?? Date.now;
    this.ptsOffsetTicks = opts.ptsOffsetTicks ?? 0;
  }

  /** Feed bytes in, feed bytes out (whole packets; a partial one waits for the next chunk). */
  push(chunk: Uint8Array): Uint8Array {
    const packets = this.aligner.push(chunk);
    const out: Uint8Array[] = [];
    let from = 0;
    for (let p = 0; p + TS_PACKET_SIZE <= packets.length; p += TS_PACKET_SIZE) {
      const packet = packets.subarray(p, p + TS_PACKET_SIZE);
      const view = tsPacket(packet);
      if (!view?.start) continue;
      if (view.pid === 0) {
        const pat = sectionOf(view.payload);
        if (pat?.[0] === 0x00) this.pmtPids = new Set(programMapPids(pat));
        continue;
      }
      if (this.pmtPids.has(view.pid)) {
        const pmt = sectionOf(view.payload);
        if (pmt?.[0] !== 0x02) continue;
        out.push(packets.subarray(from, p), this.rewrittenPmt(packet, pmt));
        from = p + TS_PACKET_SIZE;
        continue;
      }
      const header = pesHeader(view.payload);
      if (!header || (header.streamId & 0xf0) !== 0xe0 || header.pts === undefined) continue;
      const due = this.dueSections(header.pts);
      if (due.length === 0) continue;
      out.push(packets.subarray(from, p), ...due);
      from = p;
    }
    out.push(packets.subarray(from));
    return concat(out);
  }

  private rewrittenPmt(packet: Uint8Array, pmt: Uint8Array): Uint8Array {
    const section = withScte35Stream(pmt, this.pid);
    const out = new Uint8Array(TS_PACKET_SIZE).fill(0xff);
    // Same PID and continuity counter; payload only (PSI packets carry no adaptation field).
    out.set([0x47, packet[1], packet[2], 0x10 | (packet[3] & 0x0f), 0x00], 0);
    out.set(section, 5);
    return out;
  }

  /** Section packets to send before the picture at `pts`: breaks whose announcement time it passed. */
  private dueSections(pts: number): Uint8Array[] {
    if (pts === this.lastPts) return [];
    this.lastPts = pts;
    const utcMs = unwrapPts(wrapPts(pts - this.ptsOffsetTicks), this.now()).ticks / 90;
    const { periodMs, prerollMs } = this.schedule;
    const out: Uint8Array[] = [];
    // The next break at or after this picture, announced at preroll and at half of it.
    const outAt = Math.ceil(utcMs / periodMs) * periodMs;
    for (const [round, ahead] of [prerollMs, prerollMs / 2].entries()) {
      const key = `${outAt}:${round}`;
      if (utcMs < outAt - ahead || utcMs >= outAt || this.sent.has(key)) continue;
      this.sent.add(key);
      const { section } = scheduledSplice(outAt, this.schedule, this.ptsOffsetTicks);
      out.push(sectionPacket(this.pid, this.continuity++, section));
      this.sections++;
    }
    for (const key of this.sent) if (Number(key.split(':')[0]) < outAt - periodMs) this.sent.delete(key);
    return out;
  }
}
