/**
 * An event ladder with what a browser cannot play beside what it can: AVC 360p and 180p, HEVC
 * 180p, AAC English and Spanish, E-AC-3 5.1 English, all from the checked-in media (testdata/).
 * Used by the personalised-manifest tests (edge/personalise.worker.test.ts) and benchmark
 * (bench/personalised.ts). Each entry: track id, the encode, the declared X-Track-Meta.
 */
export const MIXED_CODEC_LADDER = [
  { id: 'v360', media: { kind: 'video', size: '640x360' }, meta: { bandwidth: 800_000, frameRate: '30' } },
  { id: 'v180', media: { kind: 'video' }, meta: { bandwidth: 400_000, frameRate: '30' } },
  {
    id: 'h180',
    media: { kind: 'video', codec: 'hevc', bitrateKbps: 100 },
    meta: { bandwidth: 150_000, frameRate: '30' },
  },
  { id: 'aen', media: { kind: 'audio' }, meta: { bandwidth: 96_000, language: 'en', label: 'English' } },
  { id: 'aes', media: { kind: 'audio' }, meta: { bandwidth: 96_000, language: 'es', label: 'Espanol' } },
  {
    id: 'aen51',
    media: { kind: 'audio', codec: 'eac3', channels: 6 },
    meta: { bandwidth: 192_000, language: 'en', label: 'English 5.1' },
  },
] as const;
