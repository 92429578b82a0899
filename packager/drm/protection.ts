/**
 * How one track is protected: everything the segment encryptor needs, decided once when the init
 * segment is rewritten so that every segment of the track agrees with its tenc.
 */
import type { ProtectionScheme } from './pssh.ts';

export type { ProtectionScheme };

export interface TrackProtection {
  scheme: ProtectionScheme;
  kind: 'video' | 'audio';
  /** default_KID written in tenc. Segments under another KID carry a 'seig' sample group. */
  defaultKid: Uint8Array;
  /**
   * cenc: 8 or 16 (per-sample IV in senc). With 16, IVs are chosen so that the whole segment is
   * one AES-CTR key stream (one WebCrypto call); with 8, each sample restarts the block counter
   * (one call per sample). cbcs: 0 (constant IV from tenc).
   */
  perSampleIvSize: 0 | 8 | 16;
  /** cbcs only: the 16-byte constant IV. */
  constantIv?: Uint8Array;
  /** cbcs pattern in 16-byte blocks: 1:9 for video, 0:0 (every block) for audio. */
  cryptByteBlock: number;
  skipByteBlock: number;
  /** Video only: how NAL units are framed in samples, for subsample encryption. */
  nal?: { codec: 'avc' | 'hevc'; lengthSize: number };
}
