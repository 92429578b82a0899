import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface WrkResult {
  requestsPerSecond: number;
  /** Latency percentiles in ms (wrk --latency). */
  p50: number;
  p99: number;
  /** Bytes per second read, as wrk reports it (headers and bodies). */
  bytesPerSecond: number;
  requests: number;
  /** Non-2xx/3xx answers plus socket errors (connect, read, write, timeout). */
  failures: number;
}

const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000 };
const UNIT_BYTES: Record<string, number> = { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3 };

function duration(text: string): number {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(text);
  if (!m) throw new Error(`wrk: cannot read the duration "${text}"`);
  return Number(m[1]) * UNIT_MS[m[2]];
}

/** Parse `wrk --latency` output. */
export function parseWrk(out: string): WrkResult {
  const field = (re: RegExp) => {
    const m = re.exec(out);
    if (!m) throw new Error(`wrk: no ${re} in its output:\n${out}`);
    return m;
  };
  const transfer = field(/Transfer\/sec:\s+([\d.]+)(B|KB|MB|GB)/);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out);
  return {
    requestsPerSecond: Number(field(/Requests\/sec:\s+([\d.]+)/)[1]),
    p50: duration(field(/\s50%\s+(\S+)/)[1]),
    p99: duration(field(/\s99%\s+(\S+)/)[1]),
    bytesPerSecond: Number(transfer[1]) * UNIT_BYTES[transfer[2]],
    requests: Number(field(/(\d+) requests in/)[1]),
    failures: (non2xx ? Number(non2xx[1]) : 0) + (socket ? socket.slice(1).reduce((n, v) => n + Number(v), 0) : 0),
  };
}

/** wrk at `connections` for `seconds` on one URL (2 threads: this machine's cores). */
export async function wrk(url: string, connections: number, seconds: number): Promise<WrkResult> {
  const { stdout } = await run(
    'wrk',
    ['-t2', `-c${connections}`, `-d${seconds}s`, '--timeout', '10s', '--latency', url],
    { maxBuffer: 1 << 20 },
  );
  return parseWrk(stdout);
}
