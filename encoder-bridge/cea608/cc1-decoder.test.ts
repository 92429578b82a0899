/**
 * The CC1 decoder on hand-written 608 byte pairs, for what the synthetic source does not send:
 * roll-up, CC2 on the same field, damaged bytes, special characters, and long captions cut on
 * the segment grid so they can be posted in time (well before their segment is final).
 */
import { describe, expect, it } from 'vitest';
import { Cc1Decoder, type DecodedCue } from './cc1-decoder.ts';
import { withOddParity } from './parity.ts';
import { clearScreen, popOnCaption, type CcPair } from './pop-on-encoder.ts';

const ctl = (a: number, b: number): CcPair => [withOddParity(a), withOddParity(b)];
const chars = (text: string): CcPair[] => {
  const out: CcPair[] = [];
  for (let i = 0; i < text.length; i += 2)
    out.push([withOddParity(text.charCodeAt(i)), withOddParity(text.charCodeAt(i + 1) || 0)]);
  return out;
};

/** Plays pairs one per 100 ms picture from `atMs` and returns the cues. */
function play(pairs: CcPair[], opts: { splitMs?: number; atMs?: number; tailPictures?: number } = {}): DecodedCue[] {
  const cues: DecodedCue[] = [];
  const decoder = new Cc1Decoder({ onCue: (c) => cues.push(c), splitMs: opts.splitMs });
  const at = opts.atMs ?? 0;
  [...pairs, ...new Array<CcPair>(opts.tailPictures ?? 0).fill([0x80, 0x80])].forEach((pair, i) =>
    decoder.picture(at + i * 100, [pair]),
  );
  return cues;
}

describe('CC1 decoder', () => {
  it('pop-on: each caption from its EOC to the next EOC or EDM, two lines kept', () => {
    const a = popOnCaption('Hello');
    const b = popOnCaption('Dos\nlíneas, año');
    const pairs = [...a.pairs, ...b.pairs, ...clearScreen()];
    expect(play(pairs)).toEqual([
      { startMs: a.eocIndex * 100, endMs: (a.pairs.length + b.eocIndex) * 100, text: 'Hello' },
      {
        startMs: (a.pairs.length + b.eocIndex) * 100,
        endMs: (a.pairs.length + b.pairs.length) * 100,
        text: 'Dos\nlíneas, año',
      },
    ]);
  });

  it('roll-up: the completed rows of the window become a cue at each carriage return', () => {
    const RU2 = ctl(0x14, 0x25);
    const CR = ctl(0x14, 0x2d);
    const EDM = ctl(0x14, 0x2c);
    const PAC15 = ctl(0x14, 0x60);
    const line = (text: string) => [RU2, RU2, CR, CR, PAC15, PAC15, ...chars(text)];
    // EDM first: the screen is known empty, so the first line can be trusted.
    const pairs = [EDM, EDM, ...line('one'), ...line('two'), ...line('three'), CR, CR];
    const cues = play(pairs);
    // RU2: each line joins the window as its CR comes; "three" is still on screen at the end.
    expect(cues.map((c) => c.text)).toEqual(['one', 'one\ntwo']);
    expect(cues[0].endMs).toBe(cues[1].startMs);
    // RU3 keeps three lines; the line that got its CR is shown until the EDM.
    const RU3 = ctl(0x14, 0x26);
    const line3 = (text: string) => [RU3, RU3, CR, CR, PAC15, PAC15, ...chars(text)];
    expect(
      play([
        EDM,
        EDM,
        ...line3('one'),
        ...line3('two'),
        ...line3('three'),
        ...line3('four'),
        CR,
        CR,
        ...clearScreen(),
      ]).map((c) => c.text),
    ).toEqual(['one', 'one\ntwo', 'one\ntwo\nthree', 'two\nthree\nfour']);
  });

  it('ignores CC2, damaged pairs and repeated control codes; decodes special characters', () => {
    const cc2 = [ctl(0x1c, 0x20), ctl(0x1c, 0x2e), ...chars('CC2 text'), ctl(0x1c, 0x2f)];
    const note = ctl(0x11, 0x37); // ♪
    const damaged: CcPair = [0x41, 0x42]; // 'A' 'B' with even parity
    const pairs = [
      ctl(0x14, 0x20),
      ctl(0x14, 0x20),
      ctl(0x14, 0x2e),
      ctl(0x14, 0x70),
      note,
      ...chars(' la'),
      damaged,
      ...cc2,
      ctl(0x14, 0x2f),
      ctl(0x14, 0x2f),
      ...clearScreen(),
    ];
    expect(play(pairs).map((c) => c.text)).toEqual(['♪ la']);
  });

  it('refuses text the basic character set cannot carry, and lines over 32 characters', () => {
    expect(() => popOnCaption('5 €')).toThrow(/"€" is not in the basic character set/);
    expect(() => popOnCaption('x'.repeat(33))).toThrow(/more than 32 characters/);
  });

  it('a decoder that joins after RCL posts nothing for that caption', () => {
    const a = popOnCaption('Half');
    const b = popOnCaption('Whole');
    expect(play([...a.pairs.slice(3), ...b.pairs, ...clearScreen()]).map((c) => c.text)).toEqual(['Whole']);
  });

  it('cuts a caption that outlasts a segment at the segment boundaries', () => {
    const a = popOnCaption('Long');
    // EOC at 1800 ms; on screen for about 7 s; segments of 2 s.
    const cues = play([...a.pairs, ...new Array<CcPair>(70).fill([0x80, 0x80]), ...clearScreen()], {
      splitMs: 2000,
      atMs: 1000,
    });
    const start = 1000 + a.eocIndex * 100;
    const end = 1000 + (a.pairs.length + 70) * 100;
    // Each piece is cut once the caption has outlasted its boundary by min(D, 2 s) = a whole segment here.
    expect(cues).toEqual([
      { startMs: start, endMs: 2000, text: 'Long' },
      { startMs: 2000, endMs: 4000, text: 'Long' },
      { startMs: 4000, endMs: 6000, text: 'Long' },
      { startMs: 6000, endMs: end, text: 'Long' },
    ]);
  });

  it('with long segments, cuts a piece 2 s after its boundary, not a whole segment later', () => {
    const D = 10_000;
    const a = popOnCaption('Long');
    const pairs = [...a.pairs, ...new Array<CcPair>(250).fill([0x80, 0x80]), ...clearScreen()];
    const emitted: { cue: DecodedCue; atMs: number }[] = [];
    let now = 0;
    const decoder = new Cc1Decoder({ onCue: (cue) => emitted.push({ cue, atMs: now }), splitMs: D });
    const at = 3000;
    pairs.forEach((pair, i) => decoder.picture((now = at + i * 100), [pair]));
    const start = at + a.eocIndex * 100;
    const end = at + (a.pairs.length + 250) * 100;
    expect(emitted.map((e) => e.cue)).toEqual([
      { startMs: start, endMs: 10_000, text: 'Long' },
      { startMs: 10_000, endMs: 20_000, text: 'Long' },
      { startMs: 20_000, endMs: end, text: 'Long' },
    ]);
    // The pieces do not overlap, and each is out within 2 s (one 100 ms picture) of its
    // segment's end: the origin takes cues until pipelineDelay + 10 s after that.
    for (const [i, { cue, atMs }] of emitted.entries()) {
      if (i > 0) expect(cue.startMs).toBe(emitted[i - 1].cue.endMs);
      const segmentEnd = (Math.floor(cue.startMs / D) + 1) * D;
      expect(atMs).toBeLessThanOrEqual(Math.max(cue.endMs, segmentEnd + 2000));
    }
  });

  it('reset at the end of the feed drops the cue on screen and says so', () => {
    const a = popOnCaption('On screen');
    const cues: DecodedCue[] = [];
    const decoder = new Cc1Decoder({ onCue: (c) => cues.push(c) });
    a.pairs.forEach((pair, i) => decoder.picture(i * 100, [pair]));
    expect(decoder.reset()).toBe(true);
    expect(cues).toEqual([]);
    expect(decoder.reset()).toBe(false);
  });
});
