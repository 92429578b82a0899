// The Control Room (docs/control-plane.md, "Control Room"): one page, plain modules, no build.
// Data: GET /api/events (EventView), live EventStatus snapshots over /api/hub/watch
// (contract/control-state.ts), GET /api/events/{event} and …/timeline while polling.
import { drawChart, escapeHtml, PALETTE } from './charts.js';
import { ApiError, api, watch } from './live.js';

const $ = (sel) => document.querySelector(sel);
const HISTORY_MS = 5 * 60_000;

/** Every operation the hub runs (contract/control-plane.ts Operation), in words for the dialog. */
const OPERATIONS = {
  start: {
    label: 'Start',
    title: (e) => `Start ${e} now`,
    text: (e) => `Every pipeline of ${e} starts now, whatever its schedule says.`,
  },
  stop: {
    label: 'Stop',
    title: (e) => `Stop ${e}`,
    text: (e) =>
      `Every pipeline of ${e} stops now. Viewers get no new segments until you start it again; the event does not end.`,
    danger: true,
  },
  'start-pipeline': {
    label: 'Start',
    title: (_e, p) => `Start pipeline ${p}`,
    text: (e, p) => `Pipeline ${p} of ${e} starts now.`,
  },
  'stop-pipeline': {
    label: 'Stop',
    title: (_e, p) => `Stop pipeline ${p}`,
    text: (e, p) => `Pipeline ${p} of ${e} stops now. Players are served from the other pipelines while it is down.`,
    danger: true,
  },
  'restart-pipeline': {
    label: 'Restart',
    title: (_e, p) => `Restart pipeline ${p}`,
    text: (e, p) =>
      `Pipeline ${p} of ${e} stops and starts again. Players are served from the other pipelines meanwhile.`,
  },
  'mask-pipeline': {
    label: 'Mask',
    title: (_e, p) => `Mask pipeline ${p}`,
    text: (e, p) => `No player of ${e} is served pipeline ${p}'s segments from now on, until you unmask it.`,
    danger: true,
  },
  'unmask-pipeline': {
    label: 'Unmask',
    title: (_e, p) => `Unmask pipeline ${p}`,
    text: (e, p) => `Pipeline ${p}'s segments may be served to players of ${e} again.`,
  },
  'prefer-pipeline': {
    label: 'Prefer',
    title: (_e, p) => `Prefer pipeline ${p}`,
    text: (e, p) => `Pipeline ${p} goes first in ${e}'s preference order: its segment is served whenever it is good.`,
  },
  'set-dvr-window': {
    label: 'DVR window…',
    title: (e) => `Change the DVR window of ${e}`,
    text: (e) => `Players of ${e} can seek back this far; older segments leave the manifests.`,
    fields: (ev) => [
      {
        name: 'dvrWindowSeconds',
        label: 'DVR window (seconds)',
        type: 'number',
        min: 10,
        value: ev.definition.dvrWindowSeconds,
      },
    ],
  },
  'move-to-next': {
    label: 'Move to next…',
    title: (e) => `Move viewers of ${e} to another event`,
    text: (e) =>
      `At the next segment boundary after the delay, ${e}'s manifests continue with the other event (DASH Period, HLS discontinuity).`,
    fields: (ev) => [
      { name: 'event', label: 'Next event id', type: 'text', value: ev.definition.next ?? '', required: true },
      { name: 'inSeconds', label: 'In (seconds)', type: 'number', min: 0, value: 10 },
    ],
  },
  end: {
    label: 'End event',
    title: (e) => `End ${e}`,
    text: (e) =>
      `${e} ends now: players see the end of the stream at the newest segment, and the pipelines stop. This cannot be undone.`,
    danger: true,
  },
};

/** Alert rules drawn red (viewers may be affected now) or amber (degraded, watch it). */
const RED_RULES = new Set(['input-lost', 'region-down', 'edge-error-rate']);

const state = {
  role: null,
  /** id → {view, status} */
  events: new Map(),
  selected: null,
  connection: 'offline',
  /** id → Alert[] from GET /api/alerts or 'alert' messages, merged with status.alerts */
  alerts: new Map(),
  /** id → AuditEntry[] */
  timelines: new Map(),
  /** id → client-side series when the hub sends none */
  history: new Map(),
  live: null,
  thumbTimer: 0,
  listTimer: 0,
  renderQueued: false,
};
// For tests and the console: the page's state, and a way to feed it a WatchMessage.
window.__control = state;

// ---- login -------------------------------------------------------------------------------------

async function boot() {
  setInterval(() => {
    $('#clock').textContent = `${new Date().toISOString().slice(11, 19)} UTC`;
  }, 1000);
  $('#login-form').addEventListener('submit', login);
  $('#logout').addEventListener('click', logout);
  $('#new-event').addEventListener('click', () => toggleCreate(true));
  $('#create-cancel').addEventListener('click', () => toggleCreate(false));
  $('#create-form').addEventListener('submit', createEvent);
  window.addEventListener('hashchange', () => select(eventFromHash()));
  window.addEventListener('resize', () => queueRender());
  try {
    const who = await api('/api/session');
    enter(who.role);
  } catch {
    showLogin();
  }
}

function showLogin(message = '') {
  state.live?.stop();
  state.live = null;
  clearInterval(state.thumbTimer);
  clearInterval(state.listTimer);
  setConnection('offline');
  $('#room').hidden = true;
  $('#login').hidden = false;
  $('#connection').hidden = true;
  $('#logout').hidden = true;
  $('#role').hidden = true;
  $('#login-error').textContent = message;
  $('#login-token').focus();
}

async function login(e) {
  e.preventDefault();
  const input = $('#login-token');
  $('#login-error').textContent = '';
  try {
    await api('/api/session', { method: 'POST', body: { token: input.value } });
    input.value = '';
    const who = await api('/api/session');
    enter(who.role);
  } catch (err) {
    input.select();
    $('#login-error').textContent =
      err instanceof ApiError && err.status === 403 ? 'That token is not valid here.' : err.message;
  }
}

async function logout() {
  await api('/api/session', { method: 'DELETE' }).catch(() => {});
  state.events.clear();
  showLogin();
}

function enter(role) {
  state.role = role;
  document.body.dataset.role = role;
  $('#login').hidden = true;
  $('#room').hidden = false;
  $('#connection').hidden = false;
  $('#logout').hidden = false;
  const pill = $('#role');
  pill.hidden = false;
  pill.textContent = role === 'write' ? 'operator' : 'read-only';
  pill.className = `pill ${role === 'write' ? 'info' : ''}`;
  $('#new-event').hidden = role !== 'write';
  state.selected = eventFromHash();
  state.live = watch({ onMessage, onState: setConnection, poll });
  loadList();
  state.thumbTimer = setInterval(refreshThumbnails, 3000);
  // Snapshots carry the events the hub watches; the full list (ended, far-off ones) now and then.
  state.listTimer = setInterval(loadList, 15_000);
}

function setConnection(s) {
  state.connection = s;
  const pill = $('#connection');
  pill.dataset.state = s;
  pill.textContent = { live: 'live', polling: 'polling', connecting: 'connecting…', offline: 'offline' }[s] ?? s;
  pill.title =
    s === 'live'
      ? 'Updates pushed by the hub over a WebSocket'
      : s === 'polling'
        ? 'The WebSocket is down: asking every 2 s'
        : '';
}

/** Any request answered 401: the session is gone. */
function handleAuth(err) {
  if (err instanceof ApiError && err.status === 401) {
    showLogin('Your session has ended: log in again.');
    return true;
  }
  return false;
}

// ---- data ---------------------------------------------------------------------------------------

function entry(id) {
  let e = state.events.get(id);
  if (!e) {
    e = { view: null, status: null };
    state.events.set(id, e);
  }
  return e;
}

async function loadList() {
  try {
    const { events } = await api('/api/events');
    const seen = new Set();
    for (const view of events) {
      entry(view.definition.id).view = view;
      seen.add(view.definition.id);
    }
    for (const id of [...state.events.keys()]) if (!seen.has(id)) state.events.delete(id);
    if (!state.selected && events.length) {
      const live = events.find((v) => v.phase === 'live') ?? events[events.length - 1];
      state.selected = live.definition.id;
    }
    queueRender();
  } catch (err) {
    handleAuth(err);
  }
}

/** While the socket is down: the list, the selected event, its timeline and alerts. */
let pollCount = 0;
async function poll() {
  pollCount++;
  const id = state.selected;
  const jobs = [];
  if (pollCount % 3 === 1) jobs.push(loadList());
  if (id) {
    jobs.push(
      api(`/api/events/${id}`)
        .then((view) => absorbStatus(view))
        .catch((err) => {
          if (!handleAuth(err) && err.status === 404) state.events.delete(id);
        }),
      api(`/api/events/${id}/timeline?limit=200`)
        .then(({ entries }) => state.timelines.set(id, entries))
        .catch(() => {}),
      api(`/api/alerts?event=${encodeURIComponent(id)}`)
        .then((answer) => {
          const list = Array.isArray(answer) ? answer : answer?.alerts;
          if (Array.isArray(list))
            state.alerts.set(
              id,
              list.filter((a) => !a.event || a.event === id),
            );
        })
        .catch(() => {}),
    );
  }
  await Promise.all(jobs);
  queueRender();
}

/**
 * An EventStatus (a watch snapshot), or an EventView (GET /api/events/{event}, an operation's
 * answer) that may carry the live EventStatus in `status`: keep what each carries.
 */
function absorbStatus(s) {
  const id = s.definition.id;
  const e = entry(id);
  const isStatus = Array.isArray(s.pipelines);
  const status = isStatus ? s : Array.isArray(s.status?.pipelines) ? s.status : null;
  e.view = isStatus ? { ...(e.view ?? {}), definition: s.definition, phase: s.phase } : s;
  if (status) {
    e.status = status;
    if (Array.isArray(status.timeline)) state.timelines.set(id, status.timeline);
    if (Array.isArray(status.alerts)) state.alerts.set(id, status.alerts);
  } else if (e.status) {
    e.status = { ...e.status, definition: s.definition, phase: s.phase };
  }
  recordHistory(id, e);
}

function onMessage(msg) {
  if (msg.type === 'snapshot' && Array.isArray(msg.events)) {
    for (const s of msg.events) absorbStatus(s);
    queueRender();
  } else if (msg.type === 'pipeline' && msg.status) {
    // A bridge just reported: its tile changes now, the rest with the next snapshot.
    const e = state.events.get(msg.event);
    if (!e?.status) return;
    const pipelines = e.status.pipelines.map((p) => (p.pipeline === msg.status.pipeline ? msg.status : p));
    e.status = { ...e.status, pipelines };
    queueRender();
  } else if (msg.type === 'alert' && msg.alert) {
    const list = state.alerts.get(msg.alert.event) ?? [];
    const i = list.findIndex((a) => a.id === msg.alert.id);
    if (i >= 0) list[i] = msg.alert;
    else list.push(msg.alert);
    state.alerts.set(msg.alert.event, list);
    queueRender();
  }
}

/** Client-side series from the bridges' reports and the edge figures, one point per second at most. */
function recordHistory(id, e) {
  const s = e.status;
  if (!s) return;
  let h = state.history.get(id);
  if (!h) {
    h = { at: [], bitrateKbps: {}, publishLatencyMs: {}, requestsPerSecond: [], cacheHitRatio: [] };
    state.history.set(id, h);
  }
  const now = Date.now();
  if (h.at.length && now - h.at[h.at.length - 1] < 1000) return;
  const n = h.at.length;
  const push = (map, key, v) => {
    if (!map[key]) map[key] = new Array(n).fill(null);
    map[key].push(v);
  };
  h.at.push(now);
  const tracks = new Set();
  for (const p of s.pipelines) {
    push(h.publishLatencyMs, p.pipeline, p.bridge?.latenessMs ?? null);
    for (const [track, kbps] of Object.entries(p.bridge?.bitrateKbps ?? {})) {
      if (tracks.has(track)) continue;
      tracks.add(track);
      push(h.bitrateKbps, track, kbps);
    }
  }
  for (const m of [h.bitrateKbps, h.publishLatencyMs])
    for (const k of Object.keys(m)) if (m[k].length < h.at.length) m[k].push(null);
  h.requestsPerSecond.push(s.edge?.requestsPerSecond ?? null);
  h.cacheHitRatio.push(s.edge ? s.edge.cacheHitRatio * 100 : null);
  // keep the last few minutes
  while (h.at.length && now - h.at[0] > HISTORY_MS) {
    h.at.shift();
    for (const m of [h.bitrateKbps, h.publishLatencyMs]) for (const k of Object.keys(m)) m[k].shift();
    h.requestsPerSecond.shift();
    h.cacheHitRatio.shift();
  }
}

// ---- events list and selection --------------------------------------------------------------------

function eventFromHash() {
  const m = /event=([a-z0-9-]+)/.exec(location.hash);
  return m ? m[1] : null;
}

function select(id) {
  if (!id || id === state.selected) return;
  state.selected = id;
  if (location.hash !== `#event=${id}`) history.replaceState(null, '', `#event=${id}`);
  // Thumbnails belong to the tiles of the previous event.
  $('#pipelines').replaceChildren();
  $('#regions').replaceChildren();
  state.live?.refresh();
  queueRender();
}

function phaseClass(phase) {
  return { live: 'ok', starting: 'warn', scheduled: 'info', ended: '', created: '' }[phase] ?? '';
}

const time = (iso) => (iso ? new Date(iso).toISOString().slice(11, 19) : '');
const dayTime = (iso) => {
  if (!iso) return '';
  const d = new Date(iso);
  const today = new Date().toISOString().slice(0, 10);
  const day = d.toISOString().slice(0, 10);
  return `${day === today ? '' : `${day} `}${d.toISOString().slice(11, 16)}`;
};

function scheduleText(def) {
  const s = def.schedule;
  if (!s) return 'no schedule';
  return `${dayTime(s.start)}${s.end ? ` → ${dayTime(s.end)}` : ''} UTC`;
}

function renderList() {
  const ul = $('#events');
  const items = [...state.events.values()].filter((e) => e.view).map((e) => e.view);
  const html = items.length
    ? items
        .map((v) => {
          const d = v.definition;
          return `<li><button data-event="${escapeHtml(d.id)}" aria-current="${d.id === state.selected}">
            <span class="name">${escapeHtml(d.title ?? d.id)}${d.test ? ' <span class="test">test</span>' : ''}</span>
            <span class="pill ${phaseClass(v.phase)}" data-phase="${escapeHtml(v.phase)}">${escapeHtml(v.phase)}</span>
            <span class="when">${escapeHtml(d.id)} · ${escapeHtml(scheduleText(d))}</span></button></li>`;
        })
        .join('')
    : '<li class="muted">No events yet.</li>';
  if (ul.dataset.html !== html) {
    ul.innerHTML = html;
    ul.dataset.html = html;
    for (const b of ul.querySelectorAll('button[data-event]'))
      b.addEventListener('click', () => select(b.dataset.event));
  }
}

// ---- create --------------------------------------------------------------------------------------

function toggleCreate(open) {
  $('#create-form').hidden = !open;
  $('#create-error').textContent = '';
  if (open) $('#create-form [name=id]').focus();
}

async function createEvent(e) {
  e.preventDefault();
  const form = e.target;
  const f = new FormData(form);
  const definition = { id: f.get('id'), ladder: f.get('ladder'), test: f.get('test') === 'on' };
  if (f.get('title')) definition.title = f.get('title');
  if (f.get('start')) {
    definition.schedule = {
      start: new Date(f.get('start')).toISOString(),
      leadSeconds: Number(f.get('leadSeconds') || 30),
    };
    if (f.get('end')) definition.schedule.end = new Date(f.get('end')).toISOString();
  }
  try {
    const view = await api('/api/events', { method: 'POST', body: definition });
    entry(view.definition.id).view = view;
    form.reset();
    toggleCreate(false);
    select(view.definition.id);
  } catch (err) {
    if (!handleAuth(err)) $('#create-error').textContent = err.message;
  }
}

// ---- operations ----------------------------------------------------------------------------------

let pending = null;
function confirmOperation(op, pipeline) {
  const ev = current();
  if (!ev) return;
  const id = ev.definition.id;
  const spec = OPERATIONS[op];
  const dialog = $('#confirm');
  dialog.classList.toggle('danger', Boolean(spec.danger));
  dialog.dataset.op = op;
  $('#confirm-title').textContent = spec.title(id, pipeline);
  $('#confirm-text').textContent = spec.text(id, pipeline);
  $('#confirm-error').textContent = '';
  const fields = spec.fields?.(ev) ?? [];
  $('#confirm-fields').innerHTML = fields
    .map(
      (fd) =>
        `<label>${escapeHtml(fd.label)} <input name="${fd.name}" type="${fd.type}" ${fd.min !== undefined ? `min="${fd.min}"` : ''} ${fd.required ? 'required' : ''} value="${escapeHtml(fd.value ?? '')}"></label>`,
    )
    .join('');
  $('#confirm-ok').textContent = spec.label.replace('…', '');
  pending = { op, pipeline, id, fields };
  dialog.showModal();
}

$('#confirm').addEventListener('close', () => {
  if (!pending) return;
  const p = pending;
  pending = null;
  if ($('#confirm').returnValue !== 'ok') return;
  const body = { op: p.op };
  if (p.pipeline) body.pipeline = p.pipeline;
  for (const fd of p.fields) {
    const v = $(`#confirm-fields [name=${fd.name}]`).value;
    body[fd.name] = fd.type === 'number' ? Number(v) : v;
  }
  run(p.id, body);
});

async function run(id, body) {
  toast(`${body.op}${body.pipeline ? ` ${body.pipeline}` : ''}…`);
  try {
    const view = await api(`/api/events/${id}/operations`, { method: 'POST', body });
    absorbStatus(view);
    toast(`${body.op}${body.pipeline ? ` ${body.pipeline}` : ''}: done`);
  } catch (err) {
    if (!handleAuth(err)) toast(`${body.op} failed: ${err.message}`, true);
  }
  await state.live?.refresh();
}

function opButton(op, pipeline, disabled = false) {
  const spec = OPERATIONS[op];
  const b = document.createElement('button');
  b.textContent = spec.label;
  b.dataset.op = op;
  if (pipeline) b.dataset.pipeline = pipeline;
  if (spec.danger) b.className = 'danger';
  b.disabled = disabled || state.role !== 'write';
  if (state.role !== 'write') b.title = 'read-only session';
  b.addEventListener('click', () => confirmOperation(op, pipeline));
  return b;
}

let toastTimer = 0;
function toast(text, bad = false) {
  let t = $('#toast');
  if (!t) {
    t = document.createElement('div');
    t.id = 'toast';
    t.setAttribute('role', 'status');
    document.body.append(t);
  }
  t.textContent = text;
  t.style.color = bad ? 'var(--bad)' : '';
  t.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => (t.hidden = true), bad ? 8000 : 3000);
}

// ---- the selected event ----------------------------------------------------------------------------

function current() {
  const e = state.selected ? state.events.get(state.selected) : null;
  if (!e?.view) return null;
  return { ...e.view, status: e.status };
}

/** Pipelines masked now: as the origins report them, else as the timeline tells. */
function maskedPipelines(id, ev) {
  const masked = new Set();
  const reported = (ev?.status?.regions ?? []).flatMap((r) => r.pipelines ?? []);
  if (reported.length) {
    for (const p of reported) if (p.status === 'masked') masked.add(p.pipeline);
    return masked;
  }
  for (const t of state.timelines.get(id) ?? []) {
    const p = t.detail?.pipeline;
    if (t.what === 'mask-pipeline' && p) masked.add(p);
    if (t.what === 'unmask-pipeline' && p) masked.delete(p);
  }
  return masked;
}

function renderEvent() {
  const ev = current();
  $('#empty').hidden = Boolean(ev);
  $('#event').hidden = !ev;
  if (!ev) return;
  const d = ev.definition;
  const ended = ev.phase === 'ended';
  $('#ev-title').textContent = d.title ?? d.id;
  const phase = $('#ev-phase');
  phase.textContent = ev.phase;
  phase.className = `pill ${phaseClass(ev.phase)}`;
  phase.dataset.phase = ev.phase;
  $('#ev-meta').textContent = [
    d.id,
    scheduleText(d),
    `ladder ${d.ladder}`,
    `DVR ${Math.round(d.dvrWindowSeconds / 60)} min`,
    d.test ? 'test event' : null,
    d.next ? `next: ${d.next}` : null,
  ]
    .filter(Boolean)
    .join(' · ');

  const opsKey = `${d.id}|${ev.phase}|${state.role}`;
  const ops = $('#event-ops');
  if (ops.dataset.key !== opsKey) {
    ops.dataset.key = opsKey;
    const player = document.createElement('a');
    player.href = `/?event=${encodeURIComponent(d.id)}`;
    player.target = '_blank';
    player.rel = 'noopener';
    player.textContent = 'Player ↗';
    player.className = 'muted';
    player.style.alignSelf = 'center';
    ops.replaceChildren(
      player,
      opButton('start', undefined, ended),
      opButton('stop', undefined, ended),
      opButton('set-dvr-window', undefined, ended),
      opButton('move-to-next', undefined, ended),
      opButton('end', undefined, ended),
    );
  }

  renderPipelines(ev, ended);
  renderRegions(ev);
  renderCharts(ev);
  renderAlerts(d.id);
  renderTimeline(d.id);
}

function pipelineRows(ev) {
  if (ev.status?.pipelines) return ev.status.pipelines;
  return ev.definition.pipelines.map((p) => ({
    pipeline: p,
    desired: ev.desired?.[p] ?? 'stopped',
    connected: false,
    bridge: null,
    reportedAt: null,
    thumbnailAt: null,
    unknown: true,
  }));
}

function regionRows(ev) {
  if (ev.status?.regions) return ev.status.regions;
  return ev.definition.regions.map((r) => ({
    region: r,
    reachable: null,
    polledAt: null,
    pipelines: [],
    storage: null,
    servedByPipeline: {},
    activeCandidate: null,
  }));
}

/** ok, warn, bad or idle, and the words for it. */
function pipelineHealth(p) {
  const b = p.bridge;
  if (p.desired === 'stopped' && !(p.connected && b?.state === 'encoding')) return ['idle', 'stopped'];
  if (p.unknown) return ['idle', 'no report'];
  if (!p.connected) return ['bad', b ? 'disconnected' : 'not connected'];
  if (!b) return ['warn', 'connected'];
  if (b.state === 'restarting') return ['warn', 'restarting'];
  if (b.refusal) return ['bad', 'feed refused'];
  if (b.state === 'idle' || !b.inputPresent) return ['bad', 'no input'];
  if ((b.latenessMs ?? 0) > 2000) return ['warn', 'late'];
  return ['ok', 'encoding'];
}

const UTC_CARRIER_WORDS = { sei: 'SEI', pts: 'PTS', arrival: 'arrival (not redundant-safe)' };

function fmtMs(ms) {
  if (ms === null || ms === undefined) return '–';
  return ms >= 10_000 ? `${(ms / 1000).toFixed(0)} s` : `${Math.round(ms)} ms`;
}
const fmt = (v) => (v === null || v === undefined ? '–' : String(v));

function ensureTile(container, key, build) {
  let tile = container.querySelector(`:scope > [data-key="${key}"]`);
  if (!tile) {
    tile = build();
    tile.dataset.key = key;
    container.append(tile);
  }
  return tile;
}

function setFacts(dl, rows) {
  const html = rows
    .map(
      ([k, v, cls]) =>
        `<dt>${escapeHtml(k)}</dt><dd class="${cls ?? ''}" data-fact="${escapeHtml(k)}">${escapeHtml(v)}</dd>`,
    )
    .join('');
  if (dl.dataset.html !== html) {
    dl.innerHTML = html;
    dl.dataset.html = html;
  }
}

function servingPipelines(ev) {
  const serving = new Set();
  for (const r of regionRows(ev)) if (r.activeCandidate && r.reachable !== false) serving.add(r.activeCandidate);
  return serving;
}

function renderPipelines(ev, ended) {
  const container = $('#pipelines');
  const id = ev.definition.id;
  const serving = servingPipelines(ev);
  const masked = maskedPipelines(id, ev);
  const rows = pipelineRows(ev);
  for (const p of rows) {
    const tile = ensureTile(container, p.pipeline, () => {
      const t = document.createElement('article');
      t.className = 'tile pipeline';
      t.dataset.pipeline = p.pipeline;
      t.innerHTML = `<div class="tile-head"><span class="name"></span><span class="pill state"></span><span class="spacer"></span><span class="serving">SERVING</span></div>
        <div class="body"><div class="thumb"><img alt=""><span class="no-picture">no picture</span></div><dl class="facts"></dl></div>
        <div class="ops"></div>`;
      const img = t.querySelector('img');
      img.addEventListener('load', () => t.querySelector('.thumb').classList.add('has-picture'));
      img.addEventListener('error', () => t.querySelector('.thumb').classList.remove('has-picture'));
      return t;
    });
    const [health, words] = pipelineHealth(p);
    tile.dataset.health = health;
    tile.dataset.serving = String(serving.has(p.pipeline));
    tile.querySelector('.name').textContent = `Pipeline ${p.pipeline}`;
    const pill = tile.querySelector('.state');
    pill.textContent = words;
    pill.className = `pill state ${health === 'idle' ? '' : health}`;
    const b = p.bridge;
    // A report from a bridge that is gone says what it was, not what it is: figures stay, states go.
    const live = p.connected ? b : null;
    const lateCls =
      live?.latenessMs == null ? '' : live.latenessMs > 4000 ? 'bad' : live.latenessMs > 2000 ? 'warn' : '';
    const defects = regionRows(ev)
      .flatMap((r) => r.pipelines.filter((x) => x.pipeline === p.pipeline))
      .reduce((n, x) => n + (x.defective ?? 0), 0);
    const running = p.desired === 'running';
    setFacts(tile.querySelector('dl'), [
      ['desired', p.desired],
      [
        'actual',
        live?.state ?? (p.connected ? 'connected' : p.unknown ? '–' : running ? 'down' : 'stopped'),
        live?.state === 'encoding' ? 'ok' : running && !p.unknown ? 'bad' : '',
      ],
      [
        'input',
        live ? (live.inputPresent ? (live.input ?? 'present') : 'lost') : '–',
        live ? (live.inputPresent ? 'ok' : 'bad') : '',
      ],
      [
        'connected',
        p.unknown ? '–' : p.connected ? 'yes' : 'no',
        p.unknown ? '' : p.connected ? 'ok' : running ? 'bad' : '',
      ],
      ['last K', fmt(b?.lastK)],
      ['lateness', fmtMs(live ? live.latenessMs : null), lateCls],
      [
        'failed / defects',
        `${b?.segmentsFailed ?? '–'} / ${p.unknown ? '–' : defects}`,
        (b?.segmentsFailed ?? 0) + defects > 0 ? 'warn' : '',
      ],
      ['fps · restarts', `${b?.frameRate ?? '–'} · ${b?.ffmpegRestarts ?? '–'}`],
      // Where the feed's UTC comes from (docs/architecture.md, "Carrying UTC"): arrival stamping
      // is not redundant-safe, a refused feed (no usable UTC) is never encoded.
      [
        'UTC from',
        b?.refusal ? `refused: ${b.refusal}` : (UTC_CARRIER_WORDS[b?.utcCarrier] ?? '–'),
        b?.refusal ? 'bad' : b?.utcCarrier === 'arrival' ? 'warn' : '',
      ],
    ]);
    const isMasked = masked.has(p.pipeline);
    const opsKey = `${p.desired}|${isMasked}|${ended}|${state.role}`;
    const ops = tile.querySelector('.ops');
    if (ops.dataset.key !== opsKey) {
      ops.dataset.key = opsKey;
      ops.replaceChildren(
        opButton('restart-pipeline', p.pipeline, ended),
        opButton(p.desired === 'running' ? 'stop-pipeline' : 'start-pipeline', p.pipeline, ended),
        opButton('prefer-pipeline', p.pipeline, ended),
        opButton(isMasked ? 'unmask-pipeline' : 'mask-pipeline', p.pipeline, ended),
      );
    }
    const img = tile.querySelector('img');
    if (!img.getAttribute('src') && (p.thumbnailAt || p.connected)) img.src = thumbnailUrl(id, p.pipeline);
  }
  for (const t of container.querySelectorAll(':scope > [data-key]'))
    if (!rows.some((p) => p.pipeline === t.dataset.key)) t.remove();
}

const thumbnailUrl = (event, pipeline) =>
  `/api/events/${encodeURIComponent(event)}/pipelines/${encodeURIComponent(pipeline)}/thumbnail.jpg?t=${Date.now()}`;

/** Swap each tile's picture for a newer one once it has loaded (no flash of an empty box). */
function refreshThumbnails() {
  const ev = current();
  if (!ev || document.hidden) return;
  for (const p of pipelineRows(ev)) {
    if (p.unknown || (!p.connected && !p.thumbnailAt)) continue;
    const img = document.querySelector(`#pipelines [data-pipeline="${p.pipeline}"] img`);
    if (!img) continue;
    const next = new Image();
    next.onload = () => {
      img.src = next.src;
    };
    next.onerror = () => img.closest('.thumb')?.classList.remove('has-picture');
    next.src = thumbnailUrl(ev.definition.id, p.pipeline);
  }
}

function renderRegions(ev) {
  const container = $('#regions');
  const rows = regionRows(ev);
  const pipelines = ev.definition.pipelines;
  for (const r of rows) {
    const tile = ensureTile(container, r.region, () => {
      const t = document.createElement('article');
      t.className = 'tile region';
      t.dataset.region = r.region;
      t.innerHTML = `<div class="tile-head"><span class="name"></span><span class="pill state"></span></div>
        <div class="candidates"></div><dl class="facts"></dl><div class="storage-bar" title="storage"><span></span></div><div class="origin-table"></div>`;
      return t;
    });
    const health = r.reachable === null ? 'idle' : r.reachable ? 'ok' : 'bad';
    tile.dataset.health = health;
    tile.dataset.active = r.activeCandidate ?? '';
    tile.querySelector('.name').textContent = `Region ${r.region}`;
    const pill = tile.querySelector('.state');
    pill.textContent = r.reachable === null ? 'no report' : r.reachable ? 'reachable' : 'unreachable';
    pill.className = `pill state ${health === 'idle' ? '' : health}`;
    const chips = pipelines
      .map((p) => {
        const active = r.activeCandidate === p;
        const served = r.servedByPipeline?.[p] ?? 0;
        return `<span class="candidate${active ? ' active' : ''}" data-candidate="${escapeHtml(p)}" title="segments served from ${escapeHtml(p)}">${escapeHtml(p)} ${served}</span>`;
      })
      .join('');
    const cand = tile.querySelector('.candidates');
    if (cand.dataset.html !== chips) {
      cand.innerHTML = chips;
      cand.dataset.html = chips;
    }
    const st = r.storage;
    const ratio = st && st.budgetBytes > 0 ? st.bytes / st.budgetBytes : null;
    const facts = [
      ['serving', r.activeCandidate ?? '–', r.activeCandidate ? 'ok' : ''],
      [
        'storage',
        st ? `${mb(st.bytes)} / ${mb(st.budgetBytes)}` : '–',
        ratio === null ? '' : ratio > 0.9 ? 'bad' : ratio > 0.75 ? 'warn' : '',
      ],
    ];
    facts.push(['polled', r.polledAt ? time(r.polledAt) : '–']);
    setFacts(tile.querySelector('dl'), facts);
    // The origin's view of each pipeline: its status, newest K, lateness, defective segments.
    const statusClass = (st) => (st === 'ok' ? '' : st === 'late' || st === 'masked' ? 'warn' : 'bad');
    const rowsHtml = (r.pipelines ?? [])
      .map(
        (p) =>
          `<tr data-origin-pipeline="${escapeHtml(p.pipeline)}"><td>${escapeHtml(p.pipeline)}</td><td class="${statusClass(p.status)}">${escapeHtml(p.status)}</td><td>${p.lastK}</td><td>${escapeHtml(fmtMs(p.latenessMs))}</td><td class="${p.defective > 0 ? 'warn' : ''}">${p.defective}</td></tr>`,
      )
      .join('');
    const table = rowsHtml
      ? `<table class="origins"><tr><th>origin</th><th>status</th><th>last K</th><th>late</th><th>defects</th></tr>${rowsHtml}</table>`
      : '';
    const holder = tile.querySelector('.origin-table');
    if (holder.dataset.html !== table) {
      holder.innerHTML = table;
      holder.dataset.html = table;
    }
    const bar = tile.querySelector('.storage-bar span');
    bar.style.width = `${Math.min(100, (ratio ?? 0) * 100).toFixed(1)}%`;
    bar.className = ratio === null ? '' : ratio > 0.9 ? 'bad' : ratio > 0.75 ? 'warn' : '';
  }
  for (const t of container.querySelectorAll(':scope > [data-key]'))
    if (!rows.some((r) => r.region === t.dataset.key)) t.remove();
}

const mb = (bytes) => (bytes >= 1e9 ? `${(bytes / 1e9).toFixed(2)} GB` : `${(bytes / 1e6).toFixed(1)} MB`);

function renderCharts(ev) {
  const hub = ev.status?.series;
  const series = hub?.at?.length ? hub : state.history.get(ev.definition.id);
  const at = series?.at ?? [];
  const toSeries = (map) => Object.entries(map ?? {}).map(([label, values]) => ({ label, values }));
  const pipelineColor = (label) => PALETTE[ev.definition.pipelines.indexOf(label) % PALETTE.length];
  drawChart($('#chart-bitrate'), $('#legend-bitrate'), { at, series: toSeries(series?.bitrateKbps) });
  drawChart($('#chart-latency'), $('#legend-latency'), {
    at,
    series: toSeries(series?.publishLatencyMs).map((s) => ({ ...s, color: pipelineColor(s.label) })),
    format: (v) => (v >= 10_000 ? `${(v / 1000).toFixed(0)}s` : `${Math.round(v)}`),
  });
  drawChart($('#chart-requests'), $('#legend-requests'), {
    at,
    series: series ? [{ label: 'requests', values: series.requestsPerSecond }] : [],
  });
  drawChart($('#chart-cache'), $('#legend-cache'), {
    at,
    min: 0,
    max: 100,
    series: series
      ? [
          {
            label: 'hits',
            values: series.cacheHitRatio.map((v) => (v === null ? null : hub?.at?.length ? v * 100 : v)),
          },
        ]
      : [],
    format: (v) => `${Math.round(v)}`,
  });
}

function renderAlerts(id) {
  const list = [...(state.alerts.get(id) ?? [])].sort((a, b) => {
    if (a.state !== b.state) return a.state === 'SET' ? -1 : 1;
    return Date.parse(b.setAt) - Date.parse(a.setAt);
  });
  const html = list.length
    ? list
        .map(
          (
            a,
          ) => `<li class="alert" data-state="${a.state}" data-rule="${escapeHtml(a.rule)}" data-subject="${escapeHtml(a.subject)}" data-severity="${RED_RULES.has(a.rule) ? 'bad' : 'warn'}">
            <div class="line1"><span class="state">${a.state}</span><span class="msg">${escapeHtml(a.message)}</span>
            <time>${time(a.setAt)}${a.clearedAt ? ` – ${time(a.clearedAt)}` : ''}</time></div>
            <div class="runbook">↳ ${escapeHtml(a.runbook)}</div></li>`,
        )
        .join('')
    : '<li class="none">No alerts.</li>';
  const ul = $('#alerts');
  if (ul.dataset.html !== html) {
    ul.innerHTML = html;
    ul.dataset.html = html;
  }
}

function describe(t) {
  const d = t.detail ?? {};
  if (t.what === 'created' || t.what === 'updated') return t.what;
  if (t.what === 'alert' && d.rule)
    return `alert ${d.state ?? ''} ${d.rule} ${d.subject ?? ''}`.replace(/\s+/g, ' ').trim();
  const parts = [];
  if (d.pipeline) parts.push(d.pipeline);
  if (d.dvrWindowSeconds) parts.push(`${d.dvrWindowSeconds} s`);
  if (d.event && t.what.startsWith('move')) parts.push(`→ ${d.event}`);
  if (d.error) parts.push(String(d.error).slice(0, 80));
  return `${t.what}${parts.length ? ` ${parts.join(' ')}` : ''}`;
}

function renderTimeline(id) {
  const entries = [...(state.timelines.get(id) ?? [])].reverse();
  const html = entries.length
    ? entries
        .map(
          (t) =>
            `<li data-what="${escapeHtml(t.what)}"><time>${time(t.at)}</time><span class="who">${escapeHtml(t.who)}</span><span class="what${t.what.endsWith('failed') ? ' failed' : ''}" title="${escapeHtml(JSON.stringify(t.detail ?? null))}">${escapeHtml(describe(t))}</span></li>`,
        )
        .join('')
    : '<li class="none">Nothing yet.</li>';
  const ol = $('#timeline');
  if (ol.dataset.html !== html) {
    ol.innerHTML = html;
    ol.dataset.html = html;
  }
}

// ---- render loop ------------------------------------------------------------------------------------

function queueRender() {
  if (state.renderQueued) return;
  state.renderQueued = true;
  requestAnimationFrame(() => {
    state.renderQueued = false;
    if ($('#room').hidden) return;
    renderList();
    renderEvent();
  });
}

state.receive = onMessage;
boot();
