/**
 * Setup of the `worker` test project: requests to http://worker.test (the project's `workerUrl`)
 * go to this project's Worker, in process, through `SELF`; every other URL is a real fetch. So a
 * route test reads the same whether it runs here or against a `wrangler dev`.
 */
import { SELF } from 'cloudflare:test';

const WORKER_ORIGIN = 'http://worker.test';
const realFetch = globalThis.fetch;

globalThis.fetch = (input: RequestInfo | URL, init?: RequestInit) => {
  const url = input instanceof Request ? input.url : String(input);
  return url.startsWith(`${WORKER_ORIGIN}/`) ? SELF.fetch(input, init) : realFetch(input, init);
};
