/**
 * The cumulative event state every /live response carries in `x-event-state`, so an edge (or a
 * player, or a test) learns the event version, the ended flag and each pipeline's health from
 * traffic it already has, without polling. Written as an RFC 8941 structured-field dictionary:
 *
 *   x-event-state: v=3, ended=?0, t=1770000000123, A=ok;k=885000001;late=412;def=0, B=down;k=884999990;late=380;def=4
 *
 * - `v`      event version (bumped by operators; part of every cache key and ETag)
 * - `ended`  `?1` once the event has ended (HLS ENDLIST, static MPD)
 * - `t`      when the origin wrote this state (ms since the epoch): the newest `t` wins
 * - `tok`    `?1` when the event requires player tokens (docs/player-tokens.md); absent: open
 * - one member per pipeline that has published: its status token, and parameters
 *   `k` (last segment number stored), `late` (ms its last segment arrived after
 *   expected_publish(K); negative when early), `def` (defective candidates stored so far).
 */
export const EVENT_STATE_HEADER = 'x-event-state';

export const PIPELINE_STATUSES = ['ok', 'late', 'defective', 'masked', 'down'] as const;
export type PipelineStatus = (typeof PIPELINE_STATUSES)[number];

export interface PipelineState {
  pipeline: string;
  /**
   * - down: nothing arrived for 2·D and the segment after `lastK` is overdue by more than D;
   * - masked: an operator mask covers the live edge;
   * - defective: its last segment had defects;
   * - late: its last segment arrived more than D/2 after expected_publish(K);
   * - ok: otherwise.
   */
  status: PipelineStatus;
  lastK: number;
  latenessMs: number;
  defective: number;
}

export interface EventStateSummary {
  version: number;
  ended: boolean;
  /** ms since the epoch when the origin computed this. */
  t: number;
  /** The event requires player tokens (`tok=?1`; written only when true). */
  tokens?: boolean;
  pipelines: PipelineState[];
}

export function formatEventState(s: EventStateSummary): string {
  const members = [`v=${s.version}`, `ended=?${s.ended ? 1 : 0}`, `t=${s.t}`];
  if (s.tokens) members.push('tok=?1');
  for (const p of s.pipelines)
    members.push(`${p.pipeline}=${p.status};k=${p.lastK};late=${p.latenessMs};def=${p.defective}`);
  return members.join(', ');
}

/** Parse what formatEventState wrote; undefined for anything else (never throws on bad input). */
export function parseEventState(header: string | null | undefined): EventStateSummary | undefined {
  if (!header) return undefined;
  const out: EventStateSummary = { version: NaN, ended: false, t: NaN, pipelines: [] };
  for (const member of header.split(',').map((m) => m.trim())) {
    const [head, ...params] = member.split(';');
    const eq = head.indexOf('=');
    if (eq < 1) return undefined;
    const key = head.slice(0, eq);
    const value = head.slice(eq + 1);
    if (key === 'v') out.version = Number(value);
    else if (key === 'ended') out.ended = value === '?1';
    else if (key === 't') out.t = Number(value);
    else if (key === 'tok') out.tokens = value === '?1';
    else if (/^[A-Z]$/.test(key) && (PIPELINE_STATUSES as readonly string[]).includes(value)) {
      const p = Object.fromEntries(params.map((kv) => kv.split('=') as [string, string]));
      out.pipelines.push({
        pipeline: key,
        status: value as PipelineStatus,
        lastK: Number(p.k),
        latenessMs: Number(p.late),
        defective: Number(p.def),
      });
    } else return undefined;
  }
  return Number.isFinite(out.version) && Number.isFinite(out.t) ? out : undefined;
}
