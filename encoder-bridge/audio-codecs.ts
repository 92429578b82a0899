import { spawnSync } from 'node:child_process';
import type { AudioRendition, Ladder } from '../contract/ladder.ts';

/**
 * How each audio codec is encoded, and the two numbers epoch locking needs from it:
 *
 * - `frameSamples`: one coded frame. Audio segments start on the codec's frame grid counted from
 *   the Unix epoch (1024 for AAC-LC, 1536 for E-AC-3), at the first frame at or after K·D.
 * - `primingSamples`: ffmpeg gives the first packet pts = first input sample − priming (the
 *   encoder's initial_padding). Checked on ffmpeg 5.1 with `-f framecrc`: aac −1024, eac3 −256
 *   (audio-codecs.test.ts keeps checking it).
 */
export interface AudioCodecSpec {
  encoder: string;
  frameSamples: number;
  primingSamples: number;
  /**
   * movenc cannot write E-AC-3's dec3 box before it has parsed a packet, so the (empty) moov is
   * delayed until the first fragment; without it the mp4 muxer fails with "Cannot write moov atom
   * before EAC3 packets parsed".
   */
  extraMovflags: string;
}

export const AUDIO_CODECS: Record<'aac-lc' | 'eac3', AudioCodecSpec> = {
  'aac-lc': { encoder: 'aac', frameSamples: 1024, primingSamples: 1024, extraMovflags: '' },
  eac3: { encoder: 'eac3', frameSamples: 1536, primingSamples: 256, extraMovflags: '+delay_moov' },
};

export function audioCodecSpec(codec: AudioRendition['codec']): AudioCodecSpec {
  if (codec === 'aac-lc' || codec === 'eac3') return AUDIO_CODECS[codec];
  throw new Error(`audio codec ${codec} has no encoder in this bridge`);
}

/** Encoder names an ffmpeg binary offers, from `ffmpeg -hide_banner -encoders`. */
export function ffmpegEncoders(ffmpegPath: string): Set<string> {
  const out = spawnSync(ffmpegPath, ['-hide_banner', '-encoders'], { encoding: 'utf8' });
  if (out.error) throw new Error(`cannot run ${ffmpegPath} -encoders: ${out.error.message}`);
  const names = new Set<string>();
  for (const line of out.stdout.split('\n')) {
    const m = /^\s[VAS][.A-Z]{5}\s+(\S+)/.exec(line);
    if (m) names.add(m[1]);
  }
  return names;
}

/**
 * Why this ffmpeg cannot encode the ladder, one line per problem (empty: it can). Checked at bridge
 * start so a ladder is refused loudly instead of failing inside ffmpeg or, worse, being encoded as
 * something its manifest does not say.
 */
export function ladderProblems(ladder: Ladder, encoders: Set<string>): string[] {
  const problems: string[] = [];
  const need = (what: string, encoder: string) => {
    if (!encoders.has(encoder))
      problems.push(`${what} needs the ${encoder} encoder, which this ffmpeg build does not have`);
  };
  for (const r of ladder.video) need(`video rung ${r.id} (${r.codec})`, r.codec === 'hevc' ? 'libx265' : 'libx264');
  for (const a of ladder.audio) {
    if (a.codec === 'he-aac' || a.codec === 'he-aac-v2') {
      // ffmpeg's native aac encoder only encodes AAC-LC; HE-AAC (SBR, and PS for v2) needs
      // libfdk_aac. Encoding LC and labelling it HE would mislead every player and manifest.
      problems.push(
        encoders.has('libfdk_aac')
          ? `audio rendition ${a.id} asks for ${a.codec}: libfdk_aac is present, but its frame grid (2048 samples) and priming are not verified in this bridge yet; use aac-lc`
          : `audio rendition ${a.id} asks for ${a.codec}, which needs libfdk_aac; this ffmpeg build does not have it (its native aac encoder only encodes AAC-LC). Use codec aac-lc, or an ffmpeg built with --enable-libfdk-aac`,
      );
      continue;
    }
    need(`audio rendition ${a.id} (${a.codec})`, audioCodecSpec(a.codec).encoder);
  }
  return problems;
}

/** Throws with every problem listed when the ladder cannot be encoded by this ffmpeg. */
export function assertLadderEncodable(ladder: Ladder, ffmpegPath: string): void {
  const problems = ladderProblems(ladder, ffmpegEncoders(ffmpegPath));
  if (problems.length > 0) throw new Error(`ladder "${ladder.name}" cannot be encoded:\n  ${problems.join('\n  ')}`);
}
