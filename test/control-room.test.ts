/**
 * The Control Room in headless Chromium (docs/control-plane.md, "Control Room"), end to end
 * against a `wrangler dev` whose hub provisions pipelines through the local provision agent
 * (PROVISIONER = "local", scripts/provision-agent.ts) — its own, since the run's shared one
 * provisions nothing:
 * the operator logs in through the form (no token in any URL), creates a test event scheduled
 * 20 s ahead that the hub starts by itself, sees A and B healthy (also with the WebSocket refused:
 * the page polls), stops A (confirmation, timeline
 * entry) and sees the served candidate switch to B, starts A again and sees its alert SET while A
 * catches up and CLEARED once it has, ends the event; the player page sees the end.
 * Screenshots of every step go to test-results/control-room/.
 */
import { mkdir } from 'node:fs/promises';
import { loadavg } from 'node:os';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEV_PROVISIONER_TOKEN } from '../orchestrator/provisioner-select.ts';
import { ProvisionAgent } from '../scripts/provision-agent.ts';
import { startChromium } from './browser.ts';
import { DEV_OPERATOR_READ_TOKEN, DEV_OPERATOR_TOKEN } from './ingest-client.ts';
import { freePort, startWranglerDev, type WranglerDev } from './wrangler-dev.ts';

const SHOTS = 'test-results/control-room';

let dev: WranglerDev;
let agent: ProvisionAgent;
let chromium: ReturnType<typeof startChromium> | undefined;
let browser: Browser;
let context: BrowserContext;
let page: Page;
/** The player page, opened once the event runs. */
let player: Page;
const agentLog: string[] = [];

beforeAll(async () => {
  // Chromium starts while wrangler dev does.
  chromium = startChromium();
  await mkdir(SHOTS, { recursive: true });
  const agentPort = await freePort();
  dev = await startWranglerDev({
    extraArgs: ['--var', 'PROVISIONER:local', '--var', `PROVISIONER_URL:http://127.0.0.1:${agentPort}`],
  });
  agent = new ProvisionAgent({
    // The hub's token for the agent when PROVISIONER_TOKEN is unset (.dev.vars sets the same).
    token: DEV_PROVISIONER_TOKEN,
    ingestUrl: dev.url,
    // Bridges listen from here up, away from the run's other bridges.
    basePort: 20_000 + Math.floor(Math.random() * 20_000),
    childOutput: 'ignore',
    log: (m) => agentLog.push(`${new Date().toISOString().slice(11, 23)} ${m}`),
  });
  await agent.listen(agentPort);
  browser = await chromium.get();
  context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  page = await context.newPage();
}, 180_000);

afterAll(async () => {
  await chromium?.close();
  await agent?.close();
  await dev?.stop();
});

const shot = (name: string) => page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });

/** Wait for a condition the page can see, with what the page and the machine showed on timeout. */
async function until(what: string, fn: () => boolean | Promise<boolean>, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      if (await fn()) return;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  const status = await page
    .evaluate(() => {
      const c = (window as any).__control;
      const e = c?.events.get(c.selected);
      return JSON.stringify({ connection: c?.connection, phase: e?.view?.phase, status: e?.status }).slice(0, 3000);
    })
    .catch(() => '(page gone)');
  throw new Error(
    `timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (${(last as Error).message})` : ''}; load ${loadavg()[0].toFixed(1)}\n` +
      `page: ${status}\nagent:\n${agentLog.slice(-20).join('\n')}`,
  );
}

const attr = (selector: string, name: string) => page.locator(selector).first().getAttribute(name, { timeout: 1000 });

/**
 * A pipeline's tile says it is healthy: bridge connected, encoding, its input present, its UTC
 * found in the feed's PTS. (The tile's
 * colour also turns amber when publishing is over 2 s late, which a machine at load 30 does to
 * healthy pipelines; that is asserted nowhere.)
 */
async function healthy(pipeline: string, on: Page = page): Promise<boolean> {
  const fact = (name: string) =>
    on.locator(`#pipelines [data-pipeline="${pipeline}"] dd[data-fact="${name}"]`).textContent({ timeout: 1000 });
  return (
    (await fact('connected')) === 'yes' &&
    (await fact('actual')) === 'encoding' &&
    !['lost', '–'].includes((await fact('input')) ?? '–') &&
    // The demo source carries UTC in its PTS; the bridge says where it found it.
    (await fact('UTC from')) === 'PTS'
  );
}

/** Click an operation's button, check the dialog names what will happen, confirm. */
async function operate(selector: string, expectText: RegExp) {
  await page.locator(selector).click();
  const dialog = page.locator('dialog#confirm[open]');
  await dialog.waitFor({ timeout: 5000 });
  expect(await dialog.locator('#confirm-text').textContent()).toMatch(expectText);
  return dialog;
}

describe('Control Room', () => {
  const event = `cr-${Date.now().toString(36)}`;

  it('logs in through the form: a wrong token is refused, the right one sets an HttpOnly cookie, no token in a URL', async () => {
    const urls: string[] = [];
    page.on('request', (r) => urls.push(r.url()));
    await page.goto(`${dev.url}/control`);
    await page.locator('#login-form').waitFor();
    await shot('01-login');
    await page.fill('#login-token', 'not-a-token');
    await page.click('#login-form button[type=submit]');
    await until('the refusal', async () => ((await page.textContent('#login-error')) ?? '').length > 0, 10_000);
    expect(await page.isVisible('#room')).toBe(false);

    // The read-only token: the room opens but every control is disabled.
    await page.fill('#login-token', DEV_OPERATOR_READ_TOKEN);
    await page.click('#login-form button[type=submit]');
    await page.locator('#room:not([hidden])').waitFor({ timeout: 10_000 });
    expect(await page.textContent('#role')).toBe('read-only');
    expect(await page.isVisible('#new-event')).toBe(false);
    await page.click('#logout');
    await page.locator('#login:not([hidden])').waitFor({ timeout: 10_000 });
    expect((await context.cookies()).find((c) => c.name === 'control-session')).toBeUndefined();

    await page.fill('#login-token', DEV_OPERATOR_TOKEN);
    await page.click('#login-form button[type=submit]');
    await page.locator('#room:not([hidden])').waitFor({ timeout: 10_000 });
    expect(await page.textContent('#role')).toBe('operator');
    const cookie = (await context.cookies()).find((c) => c.name === 'control-session');
    expect(cookie?.httpOnly).toBe(true);
    expect(cookie?.sameSite).toBe('Strict');
    expect(cookie?.value).not.toContain(DEV_OPERATOR_TOKEN);
    // The page cannot read it, and no URL it asked for carried a token.
    expect(await page.evaluate(() => document.cookie)).not.toContain('control-session');
    for (const u of urls) {
      expect(u).not.toContain(DEV_OPERATOR_TOKEN);
      expect(u).not.toContain(DEV_OPERATOR_READ_TOKEN);
    }
  });

  it('creates a test event 20 s ahead through the form; the hub starts it by itself', async () => {
    await page.click('#new-event');
    await page.fill('#create-form [name=id]', event);
    await page.fill('#create-form [name=title]', 'Control Room test');
    await page.selectOption('#create-form [name=ladder]', 'tiny');
    // datetime-local is the browser's local time: let the page format now + 20 s.
    const start = await page.evaluate(() => {
      const d = new Date(Date.now() + 20_000);
      const pad = (n: number) => String(n).padStart(2, '0');
      return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
    });
    await page.fill('#create-form [name=start]', start);
    await page.fill('#create-form [name=leadSeconds]', '10');
    await page.check('#create-form [name=test]');
    await page.click('#create-form button[type=submit]');
    const item = page.locator(`#events button[data-event="${event}"]`);
    await item.waitFor({ timeout: 10_000 });
    expect(await item.getAttribute('aria-current')).toBe('true');
    expect(await page.getAttribute('#ev-phase', 'data-phase')).toBe('scheduled');
    expect(await page.textContent('#ev-meta')).toContain('test event');
    await until(
      'the timeline entry "created"',
      async () => (await page.locator('#timeline li[data-what="created"]').count()) === 1,
      10_000,
    );
    await shot('02-created');

    // start − lead is 10 s from now: the hub's alarm starts A and B through the agent.
    await until(
      'the hub to start the event by itself',
      async () => ['starting', 'live'].includes((await attr('#ev-phase', 'data-phase')) ?? ''),
      40_000,
    );
    expect(await page.locator('#timeline li[data-what="start"] .who').first().textContent()).toBe('schedule');
    expect(
      agent
        .list()
        .map((b) => b.pipeline)
        .sort(),
    ).toEqual(['A', 'B']);
  }, 90_000);

  it('sees A and B healthy, with thumbnails, charts and the served candidate', async () => {
    await until('A and B healthy in their tiles', async () => (await healthy('A')) && (await healthy('B')), 90_000);
    // Each region's origin stores both pipelines' segments. On time ("ok") or, on a machine this
    // loaded, "late" — never "down".
    await until(
      'both regions reachable, A and B publishing to each origin',
      async () => {
        for (const r of ['r1', 'r2']) {
          if ((await attr(`#regions [data-region="${r}"]`, 'data-health')) !== 'ok') return false;
          for (const p of ['A', 'B']) {
            const status = await page
              .locator(`#regions [data-region="${r}"] tr[data-origin-pipeline="${p}"] td:nth-child(2)`)
              .textContent({ timeout: 1000 });
            if (status !== 'ok' && status !== 'late') return false;
          }
        }
        return true;
      },
      60_000,
    );
    // Players make the origin serve candidates: the player page, in its own tab, playing.
    player = await context.newPage();
    await player.goto(`${dev.url}/?event=${event}&player=hls`);
    await player.waitForFunction(() => (document.querySelector('video')?.currentTime ?? 0) > 0, undefined, {
      timeout: 60_000,
    });
    await until(
      'an active candidate in r1',
      async () => ['A', 'B'].includes((await attr('#regions [data-region="r1"]', 'data-active')) ?? ''),
      60_000,
    );
    await until(
      'a thumbnail of each pipeline',
      async () =>
        (await page.locator('#pipelines .thumb.has-picture').count()) === 2 &&
        (await page.evaluate(() =>
          [...document.querySelectorAll<HTMLImageElement>('#pipelines .thumb img')].every((i) => i.naturalWidth > 0),
        )),
      30_000,
    );
    expect(await page.locator('#legend-latency').textContent()).toMatch(/A .*B /);
    expect(await page.getAttribute('#connection', 'data-state')).toBe('live');
    await shot('03-healthy');
  }, 200_000);

  it('falls back to polling when the WebSocket is refused, and shows the same', async () => {
    // A second tab of the same session whose watch socket is closed as soon as it opens.
    const polled = await context.newPage();
    await polled.routeWebSocket(/\/api\/hub\/watch$/, (ws) => ws.close({ code: 1011, reason: 'refused by the test' }));
    await polled.goto(`${dev.url}/control/#event=${event}`);
    await polled.locator('#room:not([hidden])').waitFor({ timeout: 10_000 });
    await polled.locator('#connection[data-state="polling"]').waitFor({ timeout: 15_000 });
    const deadline = Date.now() + 30_000;
    while (!((await healthy('A', polled).catch(() => false)) && (await healthy('B', polled).catch(() => false)))) {
      if (Date.now() > deadline) throw new Error('A and B never showed healthy in the polling tab');
      await polled.waitForTimeout(500);
    }
    await polled.locator('#timeline li[data-what="start"]').waitFor({ timeout: 10_000 });
    expect(await polled.getAttribute('#ev-phase', 'data-phase')).toBe('live');
    await polled.screenshot({ path: `${SHOTS}/03b-polling.png`, fullPage: true });
    await polled.close();
  }, 60_000);

  it('stops A with a confirmation: the timeline records it, players are served B', async () => {
    const dialog = await operate(
      '#pipelines [data-pipeline="A"] button[data-op="stop-pipeline"]',
      /Pipeline A of .* stops now/,
    );
    await shot('04-confirm-stop-a');
    // Cancel first: nothing happens.
    await dialog.locator('button[value="cancel"]').click();
    await page.waitForTimeout(1000);
    expect(await page.locator('#timeline li[data-what="stop-pipeline"]').count()).toBe(0);

    await operate('#pipelines [data-pipeline="A"] button[data-op="stop-pipeline"]', /Pipeline A of .* stops now/);
    await page.click('#confirm-ok');
    await until(
      'the timeline entry for stopping A',
      async () =>
        ((await page.locator('#timeline li[data-what="stop-pipeline"] .what').first().textContent()) ?? '') ===
        'stop-pipeline A',
      15_000,
    );
    expect(await page.locator('#timeline li[data-what="stop-pipeline"] .who').first().textContent()).toBe('operator');
    await until(
      'A desired stopped',
      async () =>
        (await page.locator('#pipelines [data-pipeline="A"] dd[data-fact="desired"]').textContent()) === 'stopped',
      15_000,
    );
    await until(
      'the served candidate to switch to B in both regions',
      async () =>
        (await attr('#regions [data-region="r1"]', 'data-active')) === 'B' &&
        (await attr('#pipelines [data-pipeline="B"]', 'data-serving')) === 'true' &&
        (await attr('#pipelines [data-pipeline="A"]', 'data-serving')) === 'false',
      60_000,
    );
    // Running on B alone is alert-worthy even when it was done on purpose.
    const lost = '#alerts .alert[data-state="SET"][data-subject="A"][data-rule="redundancy-lost"]';
    await until('the redundancy-lost alert SET for A', async () => (await page.locator(lost).count()) > 0, 15_000);
    await shot('05-a-stopped-b-served');
  }, 120_000);

  it('starts A again: its alert is SET while A catches up, CLEARED once it has', async () => {
    await operate('#pipelines [data-pipeline="A"] button[data-op="start-pipeline"]', /Pipeline A of .* starts now/);
    await page.click('#confirm-ok');
    await until(
      'the redundancy-lost alert on A CLEARED',
      async () =>
        (await page
          .locator('#alerts .alert[data-subject="A"][data-rule="redundancy-lost"][data-state="SET"]')
          .count()) === 0 &&
        (await page
          .locator('#alerts .alert[data-subject="A"][data-rule="redundancy-lost"][data-state="CLEARED"]')
          .count()) > 0,
      15_000,
    );
    const setAlert = '#alerts .alert[data-state="SET"][data-subject="A"]:not([data-rule="redundancy-lost"])';
    await until('an alert SET for A', async () => (await page.locator(setAlert).count()) > 0, 30_000);
    const rule = await attr(setAlert, 'data-rule');
    expect(['pipeline-late', 'input-lost']).toContain(rule);
    expect(((await page.locator(`${setAlert} .runbook`).first().textContent()) ?? '').length).toBeGreaterThan(20);
    await shot('06-alert-set');
    await until(
      `the ${rule} alert on A CLEARED`,
      async () =>
        (await page.locator(`#alerts .alert[data-subject="A"][data-rule="${rule}"][data-state="SET"]`).count()) === 0 &&
        (await page.locator(`#alerts .alert[data-subject="A"][data-rule="${rule}"][data-state="CLEARED"]`).count()) > 0,
      150_000,
    );
    await until('A healthy again', () => healthy('A'), 60_000);
    await shot('07-cleared');
  }, 280_000);

  it('ends the event; the player page sees the end', async () => {
    expect(player, 'the player page (opened once A and B were healthy)').toBeDefined();
    let endList = false;
    player.on('response', async (res) => {
      if (!res.url().includes('.m3u8') || res.status() !== 200) return;
      if ((await res.text().catch(() => '')).includes('#EXT-X-ENDLIST')) endList = true;
    });
    await operate('#event-ops button[data-op="end"]', /ends now.*cannot be undone/);
    await page.click('#confirm-ok');
    await until('the phase ended', async () => (await attr('#ev-phase', 'data-phase')) === 'ended', 30_000);
    await until(
      'the timeline entry for the end',
      async () => (await page.locator('#timeline li[data-what="end"]').count()) > 0,
      15_000,
    );
    // Every operation button of an ended event is disabled.
    expect(await page.locator('#event-ops button[data-op="start"]').isDisabled()).toBe(true);
    await shot('08-ended');
    await until(
      'the player to see the end (an HLS playlist with #EXT-X-ENDLIST, then the video ends)',
      async () => endList && (await player.evaluate(() => document.querySelector('video')?.ended === true)),
      90_000,
    );
    await player.screenshot({ path: `${SHOTS}/09-player-ended.png` });
    await player.close();
    // The hub stopped the pipelines.
    await until('the agent to stop both bridges', async () => agent.list().length === 0, 30_000);
  }, 150_000);
});
