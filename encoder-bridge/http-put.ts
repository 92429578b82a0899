import http from 'node:http';
import https from 'node:https';

/**
 * One PUT of a whole body over a kept-alive connection, for the publisher's many small uploads
 * (every part and segment of every track to every region: hundreds a minute).
 *
 * Why not fetch: profiling the bridge (bench/bridge.ts, BENCHMARKS.md) showed fetch's WHATWG
 * machinery (Request/Response objects, a web stream per body, an AbortSignal timer per call) as
 * the largest item of the bridge's own CPU. node:http with a keep-alive agent does the same PUT
 * for a fraction of it; connections are reused the same way fetch's pool reuses them.
 */
const httpAgent = new http.Agent({ keepAlive: true });
const httpsAgent = new https.Agent({ keepAlive: true });

export interface PutAnswer {
  status: number;
  /** The start of the answer's body when the status is not 2xx (for the log); '' otherwise. */
  text: string;
}

/** At most this much of an error answer's body is kept for the log. */
const TEXT_LIMIT = 2000;

/**
 * PUT `body` to `url`; resolves with the status (and, for a non-2xx answer, the start of its body)
 * once the whole answer has arrived. Rejects on a network error or when nothing complete came back
 * within `timeoutMs` (the request is then destroyed, like an aborted fetch).
 */
export function httpPut(
  url: string,
  body: Uint8Array,
  headers: Record<string, string>,
  timeoutMs: number,
): Promise<PutAnswer> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const secure = target.protocol === 'https:';
    if (!secure && target.protocol !== 'http:') return reject(new Error(`PUT ${url}: not an http(s) URL`));
    const req = (secure ? https : http).request(target, {
      method: 'PUT',
      agent: secure ? httpsAgent : httpAgent,
      headers: { ...headers, 'content-length': String(body.byteLength) },
    });
    const timer = setTimeout(
      () => req.destroy(new Error(`no complete answer within ${timeoutMs} ms (timeout)`)),
      timeoutMs,
    );
    const fail = (err: Error) => {
      clearTimeout(timer);
      reject(err);
    };
    req.on('error', fail);
    req.on('response', (res) => {
      const status = res.statusCode ?? 0;
      const ok = status >= 200 && status < 300;
      let text = '';
      if (ok) res.resume();
      else {
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          if (text.length < TEXT_LIMIT) text += d;
        });
      }
      res.on('error', fail);
      // Cut off mid-answer (the connection reset): not a complete answer.
      res.on('close', () => res.complete || fail(new Error('the answer was cut off')));
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ status, text: text.slice(0, TEXT_LIMIT) });
      });
    });
    req.end(body);
  });
}
