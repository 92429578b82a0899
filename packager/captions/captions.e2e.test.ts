/** WebVTT segments judged by ffmpeg, an independent reader (needs an ffmpeg process: end-to-end suite). */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cues, D, K } from './test-cues.ts';
import { writeVttSegment } from './webvtt-segment.ts';

describe('WebVTT segment writer', () => {
  it('is read by ffmpeg as WebVTT with the same cue count', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vtt-'));
    const file = join(dir, 'seg.vtt');
    writeFileSync(file, writeVttSegment(cues, K, D));
    const out = spawnSync('ffmpeg', ['-v', 'error', '-i', file, '-f', 'srt', '-'], { encoding: 'utf8' });
    expect(out.status, out.stderr).toBe(0);
    expect(out.stdout.match(/-->/g)).toHaveLength(3);
    expect(out.stdout).toContain('Fish & <chips>');
  });
});
