import type { FeedGate } from './feed-gate.ts';
import type { ContributionStatus as RtpStatus } from './rtp/dual-path-receiver.ts';
import type { HttpFeedCounters } from './server.ts';
import type { SrtCounters } from './srt-listener.ts';

/** What a contribution input refused, per input and in total: the `/status` answer's `contribution.refused`. */
export interface RefusedContribution {
  /** Every refusal below added up: 0 on a healthy event with one sender. */
  total: number;
  /** Pushes to /feed: without or with a wrong token (401/403), while another feed was active (409). */
  http: { unauthorized: number; busy: number };
  /** Datagrams from senders not on the allow-list, of another SSRC while the stream is live, merged payloads while another feed was active. */
  rtp: { notAllowed: number; otherSsrc: number; busy: number };
  /** Callers rejected in the SRT handshake (passphrase), callers disconnected while another feed was active. */
  srt: { rejected: number; busy: number };
}

/** The `/status` answer's `contribution` object: who holds the feed, what was refused, and each input's own status. */
export function contributionStatus(parts: {
  gate: FeedGate;
  http: HttpFeedCounters;
  rtp?: RtpStatus;
  srt?: { url: string; counters: SrtCounters };
}) {
  const gate = parts.gate.status();
  const refused: RefusedContribution = {
    total: 0,
    http: { unauthorized: parts.http.unauthorized, busy: gate.refused.http },
    rtp: {
      notAllowed: parts.rtp?.refused.notAllowed ?? 0,
      otherSsrc: parts.rtp?.refused.otherSsrc ?? 0,
      busy: gate.refused.rtp,
    },
    srt: { rejected: parts.srt?.counters.rejected ?? 0, busy: gate.refused.srt },
  };
  refused.total = [refused.http, refused.rtp, refused.srt].flatMap((r) => Object.values(r)).reduce((a, b) => a + b, 0);
  return {
    active: gate.active,
    takeovers: gate.takeovers,
    refused,
    httpPush: { path: '/feed', auth: 'bearer' },
    rtp: parts.rtp ?? null,
    srt: parts.srt ? { url: parts.srt.url, ...parts.srt.counters } : null,
  };
}
