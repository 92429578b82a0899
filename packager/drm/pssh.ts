/**
 * Protection System Specific Header boxes (ISO/IEC 23001-7 §8.1), one per DRM system. A player
 * hands the pssh of its system to the CDM, which turns it into a license request, so each carries
 * the KIDs in the form that system expects.
 */
import { concat, fullBox, u32, u8, type Part } from '../bmff/box-writer.ts';
import { fromHex } from './keys.ts';
import { escapeXml } from '../xml/escape-xml.ts';

export type ProtectionScheme = 'cenc' | 'cbcs';

export const SYSTEM_IDS = {
  widevine: 'edef8ba9-79d6-4ace-a3c8-27dcd51d21ed',
  playready: '9a04f079-9840-4286-ab92-e65be0885f95',
  /** W3C common PSSH for ClearKey (what browsers look for in init data). */
  clearkey: '1077efec-c0b2-4d02-ace3-3c1e52e2fb4b',
  /** DASH-IF ClearKey: used only for MPD ContentProtection (with clearkey:Laurl), never as a pssh here. */
  dashifClearkey: 'e2719d58-a985-b3c9-781a-b030af78d30e',
} as const;

export type DrmSystem = 'widevine' | 'playready' | 'clearkey';
export const ALL_SYSTEMS: readonly DrmSystem[] = ['widevine', 'playready', 'clearkey'];

/** pssh version 1 lists KIDs in the box itself, which lets players skip system-specific parsing. */
export function psshBox(systemId: string, kids: Uint8Array[], data: Uint8Array = new Uint8Array(0)): Uint8Array {
  return fullBox('pssh', 1, 0, fromHex(systemId), u32(kids.length), ...kids, u32(data.byteLength), data);
}

export interface PsshOptions {
  scheme: ProtectionScheme;
  kids: Uint8Array[];
  /** PlayReady license acquisition URL written into the WRMHEADER (optional). */
  playreadyLaUrl?: string;
  /** Widevine crypto_period_index, for key rotation. */
  cryptoPeriodIndex?: number;
}

export function psshFor(system: DrmSystem, o: PsshOptions): Uint8Array {
  switch (system) {
    case 'widevine':
      return psshBox(SYSTEM_IDS.widevine, o.kids, widevineData(o));
    case 'playready':
      return psshBox(SYSTEM_IDS.playready, o.kids, playreadyObject(o));
    case 'clearkey':
      return psshBox(SYSTEM_IDS.clearkey, o.kids);
  }
}

/** WidevinePsshData protobuf: key_ids (field 2, bytes), crypto_period_index (7), protection_scheme (9, fourcc as uint32). */
export function widevineData(o: PsshOptions): Uint8Array {
  const parts: Part[] = [];
  for (const kid of o.kids) parts.push(u8(0x12), u8(kid.byteLength), kid);
  if (o.cryptoPeriodIndex !== undefined) parts.push(u8(0x38), varint(o.cryptoPeriodIndex));
  const fourcc = o.scheme === 'cenc' ? 0x63656e63 : 0x63626373;
  parts.push(u8(0x48), varint(fourcc));
  return concat(parts);
}

function varint(value: number): Uint8Array {
  const out: number[] = [];
  let v = value;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return Uint8Array.from(out);
}

/**
 * PlayReady Object: little-endian length, record count, one Rights Management Header record
 * (type 1) holding a UTF-16LE WRMHEADER. v4.0.0.0 can only say AESCTR, so cbcs needs v4.3.0.0
 * where each KID carries its ALGID. KIDs are GUIDs there: the first three fields little-endian.
 */
export function playreadyObject(o: PsshOptions): Uint8Array {
  const kidB64 = (kid: Uint8Array) => btoa(String.fromCharCode(...guidBytes(kid)));
  const laUrl = o.playreadyLaUrl ? `<LA_URL>${escapeXml(o.playreadyLaUrl)}</LA_URL>` : '';
  const xml =
    o.scheme === 'cenc' && o.kids.length === 1
      ? `<WRMHEADER xmlns="http://schemas.microsoft.com/DRM/2007/03/PlayReadyHeader" version="4.0.0.0"><DATA><PROTECTINFO><KEYLEN>16</KEYLEN><ALGID>AESCTR</ALGID></PROTECTINFO><KID>${kidB64(o.kids[0])}</KID>${laUrl}</DATA></WRMHEADER>`
      : `<WRMHEADER xmlns="http://schemas.microsoft.com/DRM/2007/03/PlayReadyHeader" version="4.3.0.0"><DATA><PROTECTINFO><KIDS>${o.kids
          .map((kid) => `<KID ALGID="${o.scheme === 'cenc' ? 'AESCTR' : 'AESCBC'}" VALUE="${kidB64(kid)}"></KID>`)
          .join('')}</KIDS></PROTECTINFO>${laUrl}</DATA></WRMHEADER>`;
  const header = new Uint8Array(xml.length * 2);
  for (let i = 0; i < xml.length; i++) {
    header[2 * i] = xml.charCodeAt(i) & 0xff;
    header[2 * i + 1] = xml.charCodeAt(i) >> 8;
  }
  const out = new Uint8Array(10 + header.byteLength);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, out.byteLength, true);
  dv.setUint16(4, 1, true);
  dv.setUint16(6, 1, true);
  dv.setUint16(8, header.byteLength, true);
  out.set(header, 10);
  return out;
}

/** UUID byte order → Microsoft GUID byte order (Data1, Data2, Data3 little-endian). */
export function guidBytes(kid: Uint8Array): Uint8Array {
  return Uint8Array.from([kid[3], kid[2], kid[1], kid[0], kid[5], kid[4], kid[7], kid[6], ...kid.subarray(8)]);
}
