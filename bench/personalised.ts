/**
 * Personalised manifest benchmark: `node bench/personalised.ts` (a section of `npm run bench`).
 * Prints markdown.
 *
 * The real Worker under `npm run serve` (workerd without wrangler dev's proxy), two events with
 * the same AVC + HEVC + AAC + E-AC-3 ladder (the checked-in media): one open, one whose players
 * need a signed token (`playerTokens: "required"`). wrk at 64 connections asks for
 * - the open event's MPD and multivariant playlist as they are (the cached manifest), and
 * - the protected event's, personalised: `?device=browser` (a device profile), a MediaPackage
 *   manifest filter and `?token=` (checked on every request, its MAC once per isolate; the
 *   answer's URLs carry it, written per request after the edge cache, and a cookie is set).
 * Beside req/s, the workerd process's CPU time per request, which a busy machine moves less.
 * Rows alternate round by round so a busy moment of the machine slows both alike. The goal
 * (issue: viewer edge): personalisation and token checking cost under 10% of the cached manifest
 * rate.
 */
import { loadavg } from 'node:os';
import { defaultEventConfig } from '../contract/event-config.ts';
import { startServe } from '../scripts/serve.ts';
import { encodeMedia, liveK, segmentFor } from '../test/fixtures.ts';
import { MIXED_CODEC_LADDER as LADDER } from '../test/mixed-codec-ladder.ts';
import { DEV_OPERATOR_TOKEN, devPlayerToken, ingestPut, randomEventId } from '../test/ingest-client.ts';
import { median } from './cpu.ts';
import { cpuOf, descendants } from './proc-cpu.ts';
import { ensureBenchTools } from './system-tools.ts';
import { type WrkResult, wrk } from './wrk.ts';

const D = defaultEventConfig.segmentDurationMs;
const CONNECTIONS = 64;
const SECONDS = Number(process.env.BENCH_EDGE_SECONDS ?? 3);
const ROUNDS = Number(process.env.BENCH_EDGE_ROUNDS ?? 3);
const FILTER = 'video_codec:h264;audio_language:en,es;video_height:100-720';
const log = (m: string) => console.error(`personalised bench: ${m}`);

ensureBenchTools(['wrk']);
const served = await startServe({ port: 0, persistTo: null, logTo: 'stderr' });
try {
  const url = served.url;
  const media = await Promise.all(LADDER.map((t) => encodeMedia(t.media)));
  const publish = async (event: string) => {
    const first = liveK(D) - 10;
    for (const [i, t] of LADDER.entries()) {
      const contentType = t.media.kind === 'audio' ? 'audio/mp4' : 'video/mp4';
      const init = await ingestPut(url, `${event}/A/${t.id}/init.mp4`, media[i].init, { contentType, meta: t.meta });
      if (init.status !== 201) throw new Error(`${t.id} init: ${init.status} ${await init.text()}`);
      for (let k = first; k < first + 8; k++) {
        const res = await ingestPut(url, `${event}/A/${t.id}/${k}.m4s`, segmentFor(media[i], k, D), { contentType });
        if (res.status !== 201) throw new Error(`${t.id} ${k}: ${res.status} ${await res.text()}`);
      }
    }
  };
  const open = randomEventId('plain');
  const guarded = randomEventId('perso');
  await publish(open);
  await publish(guarded);
  const patch = await fetch(`${url}/api/events/${guarded}/config`, {
    method: 'PATCH',
    headers: { authorization: `Bearer ${DEV_OPERATOR_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ playerTokens: 'required' }),
  });
  if (patch.status !== 200) throw new Error(`PATCH config: ${patch.status} ${await patch.text()}`);
  const token = await devPlayerToken(guarded, { expiresAt: Math.floor(Date.now() / 1000) + 3600 });
  const personal = `?device=browser&aws.manifestfilter=${encodeURIComponent(FILTER)}&token=${encodeURIComponent(token)}`;
  const targets = {
    plainMpd: `${url}/live/${open}/index.mpd`,
    personalMpd: `${url}/live/${guarded}/index.mpd${personal}`,
    plainHls: `${url}/live/${open}/index.m3u8`,
    personalHls: `${url}/live/${guarded}/index.m3u8${personal}`,
  };
  // Each answers 200 with what it should before anything is timed.
  const sizes: Record<string, number> = {};
  for (const [name, target] of Object.entries(targets)) {
    const res = await fetch(target);
    const body = await res.text();
    if (res.status !== 200) throw new Error(`${name}: ${res.status} ${body}`);
    if (name.startsWith('personal') && (body.includes('hvc1') || body.includes('ec-3') || !body.includes('token=')))
      throw new Error(`${name} is not personalised:\n${body}`);
    if (name.startsWith('plain') && !body.includes('hvc1')) throw new Error(`${name} lacks the HEVC rendition`);
    sizes[name] = body.length;
  }
  const withoutToken = await fetch(`${url}/live/${guarded}/index.mpd?device=browser`);
  await withoutToken.arrayBuffer();
  if (withoutToken.status !== 403) throw new Error(`the protected MPD without a token: ${withoutToken.status}`);

  // workerd's CPU seconds per request: what one request costs the server, which moves much less
  // than req/s with whatever else loads a shared 2-core machine.
  const workerd = descendants(process.pid)
    .filter((p) => p.comm === 'workerd')
    .map((p) => p.pid);
  const cpuPerRequest: Record<keyof typeof targets, number[]> = {
    plainMpd: [],
    personalMpd: [],
    plainHls: [],
    personalHls: [],
  };
  const results: Record<keyof typeof targets, WrkResult[]> = {
    plainMpd: [],
    personalMpd: [],
    plainHls: [],
    personalHls: [],
  };
  for (let round = 0; round < ROUNDS; round++) {
    for (const name of Object.keys(targets) as (keyof typeof targets)[]) {
      const before = cpuOf(workerd);
      const r = await wrk(targets[name], CONNECTIONS, SECONDS);
      if (r.failures > 0) throw new Error(`${name}: ${r.failures} failed requests`);
      results[name].push(r);
      cpuPerRequest[name].push((cpuOf(workerd) - before) / r.requests);
    }
    log(`round ${round + 1}/${ROUNDS}`);
  }
  const med = (name: keyof typeof targets, f: (r: WrkResult) => number) => median(results[name].map(f));
  const ratios = (a: keyof typeof targets, b: keyof typeof targets, f: (r: WrkResult) => number) =>
    median(results[a].map((r, i) => f(r) / f(results[b][i])));
  console.log('## Personalised manifests\n');
  console.log(
    `\`node bench/personalised.ts\`: wrk, ${CONNECTIONS} connections, ${SECONDS} s per row, ${ROUNDS} rounds round-robin, on \`npm run serve\`; load average ${loadavg()[0].toFixed(1)} at the end. ` +
      'Both events: AVC 360p and 180p, HEVC 180p, AAC English and Spanish, E-AC-3 5.1 English. ' +
      `Personalised: \`?device=browser&aws.manifestfilter=${FILTER}&token=…\` on an event with \`playerTokens: "required"\` ` +
      '(the token checked per request — its MAC once per isolate for its lifetime —, its value written into the URLs of the answer after the edge cache, a cookie set). ' +
      "wrk sends one token throughout, as one player does (its MAC is checked on its first request; the manifest's token template is made once per manifest version and shared by every token). " +
      'CPU per request: the CPU seconds of the workerd process over the row divided by its requests.\n',
  );
  console.log(
    '| manifest | bytes | req/s (median) | p50 | p99 | req/s vs plain (median of rounds) | p99 vs plain | workerd CPU per request (median) | CPU vs plain |',
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  const cpuRatio = (a: keyof typeof targets, b: keyof typeof targets) =>
    median(cpuPerRequest[a].map((c, i) => c / cpuPerRequest[b][i]));
  const row = (label: string, name: keyof typeof targets, base: keyof typeof targets) =>
    console.log(
      `| ${label} | ${sizes[name]} | ${med(name, (r) => r.requestsPerSecond).toFixed(0)} | ${med(name, (r) => r.p50).toFixed(1)} ms | ${med(name, (r) => r.p99).toFixed(1)} ms | ${name === base ? '100%' : `${(ratios(name, base, (r) => r.requestsPerSecond) * 100).toFixed(0)}%`} | ${name === base ? '1.00×' : `${ratios(name, base, (r) => r.p99).toFixed(2)}×`} | ${(median(cpuPerRequest[name]) * 1e6).toFixed(0)} µs | ${name === base ? '1.00×' : `${cpuRatio(name, base).toFixed(2)}×`} |`,
    );
  row('MPD, plain', 'plainMpd', 'plainMpd');
  row('MPD, personalised + token', 'personalMpd', 'plainMpd');
  row('multivariant playlist, plain', 'plainHls', 'plainHls');
  row('multivariant playlist, personalised + token', 'personalHls', 'plainHls');
  const worst = Math.min(
    ratios('personalMpd', 'plainMpd', (r) => r.requestsPerSecond),
    ratios('personalHls', 'plainHls', (r) => r.requestsPerSecond),
  );
  console.log(
    `\nGoal: personalisation and token checking cost under 10% of the cached manifest rate: ${worst >= 0.9 ? 'met' : 'not met'} (the worse of the two at ${(worst * 100).toFixed(0)}%).\n`,
  );
} finally {
  await served.stop();
}
