import { isIP } from 'node:net';
import { z } from 'zod';

/**
 * Which senders the RTP receiver listens to, per path. UDP has no handshake: without a list anyone
 * who can reach the port could inject packets into the contribution feed. Text form (flag
 * `--rtp-allow`, env `BRIDGE_RTP_ALLOW`): comma-separated entries `[path1=|path2=]ADDRESS[:PORT]`,
 * ADDRESS an IPv4 address, an IPv6 address (`[…]` when a port follows) or `*` for any address; an
 * entry without `pathN=` applies to both paths, one without a port to every source port.
 * Examples: `127.0.0.1,::1` (the default: this machine only),
 * `path1=203.0.113.10:5000,path2=198.51.100.7:5000`, `*` (anyone: only behind a firewall).
 */
export interface AllowEntry {
  /** 0-based path index; undefined: every path. */
  path?: number;
  /** Normalised address, or '*' for any. */
  address: string;
  port?: number;
}

export class SourceAllowList {
  readonly entries: readonly AllowEntry[];

  constructor(entries: AllowEntry[]) {
    this.entries = entries.map((e) => ({ ...e, address: e.address === '*' ? '*' : normaliseAddress(e.address) }));
  }

  allows(path: number, address: string, port: number): boolean {
    const from = normaliseAddress(address);
    return this.entries.some(
      (e) =>
        (e.path === undefined || e.path === path) &&
        (e.address === '*' || e.address === from) &&
        (e.port === undefined || e.port === port),
    );
  }

  toString(): string {
    return this.entries
      .map((e) => {
        const host = e.port !== undefined && e.address.includes(':') ? `[${e.address}]` : e.address;
        return `${e.path === undefined ? '' : `path${e.path + 1}=`}${host}${e.port === undefined ? '' : `:${e.port}`}`;
      })
      .join(',');
  }
}

/** The default: senders on this machine only. */
export const LOCAL_SOURCES = '127.0.0.1,::1';

/** A v4 sender seen on a dual-stack socket arrives as ::ffff:a.b.c.d; compare it as a.b.c.d. */
function normaliseAddress(address: string): string {
  const lower = address.toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  return mapped ? mapped[1] : lower;
}

function parseEntry(text: string): AllowEntry | string {
  const m = /^(?:path([12])=)?(.+)$/.exec(text.trim());
  if (!m) return 'empty entry';
  const path = m[1] === undefined ? undefined : Number(m[1]) - 1;
  let host = m[2];
  let port: number | undefined;
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(host);
  if (bracketed) {
    host = bracketed[1];
    port = bracketed[2] === undefined ? undefined : Number(bracketed[2]);
  } else if ((host.match(/:/g) ?? []).length === 1) {
    const at = host.indexOf(':');
    if (!/^\d+$/.test(host.slice(at + 1))) return `"${text}": the port must be a number`;
    port = Number(host.slice(at + 1));
    host = host.slice(0, at);
  }
  if (port !== undefined && (port < 1 || port > 65535)) return `"${text}": port out of range`;
  if (host !== '*' && isIP(host) === 0) return `"${text}": expected an IP address or * (names are not resolved)`;
  return { path, address: host, port };
}

export const RtpAllowList = z.string().transform((text, ctx) => {
  const entries: AllowEntry[] = [];
  for (const part of text.split(',')) {
    const entry = parseEntry(part);
    if (typeof entry === 'string') {
      ctx.addIssue({ code: 'custom', message: entry });
      return z.NEVER;
    }
    entries.push(entry);
  }
  return new SourceAllowList(entries);
});
