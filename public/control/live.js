// How the Control Room talks to the hub: JSON requests with the session cookie (never a token),
// and live updates over the WebSocket GET /api/hub/watch, with polling while the socket is down.

/** Thrown for a non-2xx answer: the error body's code and message when there is one. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/**
 * A request to the Worker with the session cookie. Every change carries `x-control-room: 1`: the
 * Worker refuses a cookie-authenticated write without it (a cross-site form cannot send it).
 */
export async function api(path, { method = 'GET', body } = {}) {
  const headers = { accept: 'application/json' };
  if (method !== 'GET' && method !== 'HEAD') headers['x-control-room'] = '1';
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: 'same-origin',
    cache: 'no-store',
  });
  if (res.status === 204) return null;
  const text = await res.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  if (!res.ok) {
    const err = json?.error;
    throw new ApiError(
      res.status,
      err?.code ?? `HTTP_${res.status}`,
      err?.message ?? (text.slice(0, 200) || res.statusText),
    );
  }
  return json;
}

/**
 * Live updates: the WebSocket first; when it closes or cannot open, poll (`poll()` every 2 s) and
 * try the socket again after 1, 2, 4 … 30 s. `onState` gets `connecting`, `live`, `polling`.
 */
export function watch({ onMessage, onState, poll, pollMs = 2000 }) {
  let socket = null;
  let backoff = 1000;
  let retryTimer = 0;
  let pollTimer = 0;
  let stopped = false;
  let polling = false;

  const startPolling = () => {
    if (polling || stopped) return;
    polling = true;
    onState('polling');
    const tick = async () => {
      if (!polling || stopped) return;
      try {
        await poll();
      } catch {
        // the next tick tries again; an expired session is handled by the caller's poll
      }
      if (polling && !stopped) pollTimer = setTimeout(tick, pollMs);
    };
    tick();
  };
  const stopPolling = () => {
    polling = false;
    clearTimeout(pollTimer);
  };

  const connect = () => {
    if (stopped) return;
    if (!polling) onState('connecting');
    const url = `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/api/hub/watch`;
    let opened = false;
    try {
      socket = new WebSocket(url);
    } catch {
      socket = null;
      startPolling();
      retry();
      return;
    }
    socket.addEventListener('open', () => {
      opened = true;
      backoff = 1000;
      stopPolling();
      onState('live');
    });
    socket.addEventListener('message', (e) => {
      if (typeof e.data !== 'string') return;
      try {
        onMessage(JSON.parse(e.data));
      } catch (err) {
        console.warn('watch: bad message', err);
      }
    });
    socket.addEventListener('close', () => {
      socket = null;
      if (stopped) return;
      startPolling();
      if (opened) backoff = 1000;
      retry();
    });
  };
  const retry = () => {
    clearTimeout(retryTimer);
    const wait = backoff * (0.8 + Math.random() * 0.4);
    backoff = Math.min(backoff * 2, 30_000);
    retryTimer = setTimeout(connect, wait);
  };

  connect();
  // Until the socket says it is open, keep the page current by polling.
  setTimeout(() => {
    if (!socket || socket.readyState !== WebSocket.OPEN) startPolling();
  }, 1500);

  return {
    stop() {
      stopped = true;
      stopPolling();
      clearTimeout(retryTimer);
      socket?.close();
    },
    /** Poll once now (after an operation), whatever the mode. */
    refresh: () => poll().catch(() => {}),
  };
}
