import { describe, expect, it } from 'vitest';
import { memoryTrends } from './memory-trend.ts';
import { labelProcesses, sampleMemory } from './process-memory.ts';

describe('soak: process memory', () => {
  it('names every process of the pipeline by what it is', () => {
    const tree = [
      { pid: 100, ppid: 1, argv: ['node', 'scripts/soak.ts'] },
      { pid: 101, ppid: 100, argv: ['/w/node_modules/.bin/wrangler', 'dev', '--port', '1'] },
      { pid: 102, ppid: 101, argv: ['/w/node_modules/@cloudflare/workerd-linux-64/bin/workerd', 'serve'] },
      { pid: 103, ppid: 101, argv: ['/w/node_modules/@cloudflare/workerd-linux-64/bin/workerd', 'serve'] },
      { pid: 110, ppid: 100, argv: ['node', 'encoder-bridge/main.ts', '--event', 'e', '--pipeline', 'A'] },
      { pid: 111, ppid: 110, argv: ['ffmpeg', '-i', 'pipe:0'] },
      { pid: 120, ppid: 100, argv: ['node', 'encoder-bridge/synthetic-source.ts', '--push', 'x'] },
      { pid: 121, ppid: 120, argv: ['ffmpeg', '-f', 'lavfi'] },
      { pid: 122, ppid: 120, argv: ['ffmpeg', '-f', 'h264'] },
      { pid: 130, ppid: 100, argv: ['node', 'encoder-bridge/synthetic-captions.ts'] },
      { pid: 140, ppid: 100, argv: ['ffmpeg', '-version'] },
    ];
    expect(Object.fromEntries(labelProcesses(tree, 100))).toEqual({
      100: 'soak (players)',
      101: 'wrangler',
      102: 'workerd',
      103: 'workerd #2',
      110: 'bridge A',
      111: 'bridge A ffmpeg',
      120: 'source',
      121: 'source ffmpeg',
      122: 'source ffmpeg #2',
      130: 'captioner',
      140: 'ffmpeg',
    });
  });

  it('tells the two workerd of wrangler dev apart by their command lines', () => {
    const tree = [
      { pid: 1, ppid: 0, argv: ['node', 'scripts/soak.ts'] },
      { pid: 2, ppid: 1, argv: ['/x/workerd', 'serve', '--socket-addr=entry=127.0.0.1:8787', '--control-fd=3'] },
      {
        pid: 3,
        ppid: 1,
        argv: ['/x/workerd', 'serve', '--socket-addr=entry=127.0.0.1:0', '--inspector-addr=127.0.0.1:0'],
      },
    ];
    const labels = labelProcesses(tree, 1, [
      { argvIncludes: 'entry=127.0.0.1:8787 ', label: 'workerd (wrangler dev proxy)' },
      { argvIncludes: '--inspector-addr', label: 'workerd (Worker, origin objects)' },
    ]);
    expect([labels.get(2), labels.get(3)]).toEqual([
      'workerd (wrangler dev proxy)',
      'workerd (Worker, origin objects)',
    ]);
  });

  it('reads its own memory from /proc', () => {
    const own = sampleMemory(process.pid).find((m) => m.pid === process.pid);
    expect(own?.label).toBe('soak (players)');
    expect(own!.rssKb).toBeGreaterThan(10_000);
    expect(own!.cpuS).toBeGreaterThan(0);
  });

  it('calls memory flat when it grows less than max(8 MB, 10 %) after warm-up, and counts restarts', () => {
    const at = (t: number, a: number, b: number, bPid = 2) => ({
      t,
      procs: [
        { label: 'steady', pid: 1, rssKb: a * 1024, anonKb: 0, cpuS: 0 },
        { label: 'leaky', pid: bPid, rssKb: b * 1024, anonKb: 0, cpuS: 0 },
      ],
    });
    const samples = [
      at(0, 50, 50),
      at(60_000, 100, 100),
      at(120_000, 101, 120),
      at(180_000, 99, 140, 3),
      at(240_000, 102, 160, 3),
      at(300_000, 100, 180, 3),
    ];
    const [leaky, steady] = memoryTrends(samples, 60_000);
    expect(steady).toMatchObject({ label: 'steady', warmMb: 100, endMb: 100, flat: true, restarts: 0 });
    expect(leaky).toMatchObject({ label: 'leaky', warmMb: 120, endMb: 160, growthMb: 40, flat: false, restarts: 1 });
    expect(leaky.slopeMbPerHour).toBeCloseTo(1200, 0);
  });
});
