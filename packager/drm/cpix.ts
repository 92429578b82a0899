/**
 * DASH-IF CPIX 2.3 documents, as much of them as a packager needs to ask a key service for keys
 * (https://dashif.org/docs/CPIX2.3/): the request names the content (contentId), one ContentKey
 * per KID with no key data, and, for key rotation, the key period (ContentKeyPeriodList) and a
 * usage rule tying each KID to its track type and period. The key service answers the same
 * document with each ContentKey's Data/pskc:Secret/pskc:PlainValue filled in (base64 key).
 *
 * Pure string work with no Node or DOM APIs, so it runs in the Worker; the local key server
 * (scripts/cpix-key-server.ts) uses the same parser for requests.
 */
import { parseXml, type XmlNode } from '@svta/cml-xml';
import { z } from 'zod';
import type { AppError } from '../../contract/errors.ts';
import { fromHex, kidToUuid, type TrackKind } from './keys.ts';
import type { ProtectionScheme } from './pssh.ts';
import { escapeXml } from '../xml/escape-xml.ts';

export const CPIX_NS = 'urn:dashif:org:cpix';
export const PSKC_NS = 'urn:ietf:params:xml:ns:keyprov:pskc';

export interface CpixKeyRequest {
  kid: Uint8Array;
  kind: Exclude<TrackKind, 'text'>;
}

export interface CpixRequest {
  contentId: string;
  scheme: ProtectionScheme;
  /** Key period index (floor(K / rotateEverySegments)); present only when keys rotate. */
  period?: number;
  keys: CpixKeyRequest[];
}

const TRACK_TYPE = { video: 'VIDEO', audio: 'AUDIO' } as const;

/** The request document: KIDs without keys, usage rules by track type, the key period if rotating. */
export function cpixRequest(r: CpixRequest): string {
  const periodId = r.period === undefined ? undefined : `keyPeriod_${r.period}`;
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<cpix:CPIX xmlns:cpix="${CPIX_NS}" xmlns:pskc="${PSKC_NS}" contentId="${escapeXml(r.contentId)}" version="2.3">`,
    '  <cpix:ContentKeyList>',
    ...r.keys.map((k) => `    <cpix:ContentKey kid="${kidToUuid(k.kid)}" commonEncryptionScheme="${r.scheme}"/>`),
    '  </cpix:ContentKeyList>',
  ];
  if (periodId) {
    lines.push(
      '  <cpix:ContentKeyPeriodList>',
      `    <cpix:ContentKeyPeriod id="${periodId}" index="${r.period}"/>`,
      '  </cpix:ContentKeyPeriodList>',
    );
  }
  lines.push('  <cpix:ContentKeyUsageRuleList>');
  for (const k of r.keys) {
    lines.push(`    <cpix:ContentKeyUsageRule kid="${kidToUuid(k.kid)}" intendedTrackType="${TRACK_TYPE[k.kind]}">`);
    if (periodId) lines.push(`      <cpix:KeyPeriodFilter periodId="${periodId}"/>`);
    lines.push(
      `      <cpix:${k.kind === 'video' ? 'VideoFilter' : 'AudioFilter'}/>`,
      '    </cpix:ContentKeyUsageRule>',
    );
  }
  lines.push('  </cpix:ContentKeyUsageRuleList>', '</cpix:CPIX>', '');
  return lines.join('\n');
}

/** What a CPIX document says about its keys: KID (hex) → key (16 bytes, or absent in a request). */
export interface CpixDocument {
  contentId: string | undefined;
  keys: { kid: Uint8Array; key?: Uint8Array; trackType?: string; periodIndex?: number }[];
}

const Uuid = z
  .string()
  .regex(/^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$/, 'a KID is a UUID');
const Base64Key = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9+/]{22}==$/, 'a content key is 16 bytes in base64 (24 characters)');

/**
 * Parse a CPIX document (request or answer). Element names are matched by local name, so any
 * namespace prefix works. Throws `err` (a function making the AppError) with what is wrong.
 */
export function parseCpix(text: string, err: (message: string) => AppError): CpixDocument {
  let root: XmlNode | undefined;
  try {
    root = parseXml(text).childNodes.find((n) => localName(n.nodeName) === 'CPIX');
  } catch (e) {
    throw err(`not XML (${(e as Error).message})`);
  }
  if (!root) throw err(`no CPIX root element (got ${JSON.stringify(text.slice(0, 80))})`);
  const periods = new Map<string, number>();
  for (const p of byLocalName(root, 'ContentKeyPeriod')) {
    const index = Number(p.attributes?.index);
    if (p.attributes?.id && Number.isInteger(index)) periods.set(p.attributes.id, index);
  }
  const rules = new Map<string, { trackType?: string; periodIndex?: number }>();
  for (const rule of byLocalName(root, 'ContentKeyUsageRule')) {
    const kid = rule.attributes?.kid;
    if (!kid) continue;
    const filter = byLocalName(rule, 'KeyPeriodFilter')[0]?.attributes?.periodId;
    rules.set(kid.toLowerCase(), {
      trackType: rule.attributes?.intendedTrackType,
      periodIndex: filter ? periods.get(filter) : undefined,
    });
  }
  const keys: CpixDocument['keys'] = [];
  for (const ck of byLocalName(root, 'ContentKey')) {
    const kidAttr = Uuid.safeParse(ck.attributes?.kid);
    if (!kidAttr.success)
      throw err(`ContentKey kid ${JSON.stringify(ck.attributes?.kid)}: ${kidAttr.error.issues[0].message}`);
    const plain = byLocalName(ck, 'PlainValue')[0];
    let key: Uint8Array | undefined;
    if (plain) {
      const value = Base64Key.safeParse(textOf(plain));
      if (!value.success) throw err(`ContentKey ${kidAttr.data}: ${value.error.issues[0].message}`);
      key = Uint8Array.from(atob(value.data), (c) => c.charCodeAt(0));
    }
    keys.push({ kid: fromHex(kidAttr.data), key, ...rules.get(kidAttr.data.toLowerCase()) });
  }
  return { contentId: root.attributes?.contentId, keys };
}

/** The answer document: the request's keys with their values (what a key service sends back). */
export function cpixAnswer(contentId: string, keys: { kid: Uint8Array; key: Uint8Array }[]): string {
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<cpix:CPIX xmlns:cpix="${CPIX_NS}" xmlns:pskc="${PSKC_NS}" contentId="${escapeXml(contentId)}" version="2.3">`,
    '  <cpix:ContentKeyList>',
    ...keys.map(
      (k) =>
        `    <cpix:ContentKey kid="${kidToUuid(k.kid)}"><cpix:Data><pskc:Secret><pskc:PlainValue>${btoa(String.fromCharCode(...k.key))}</pskc:PlainValue></pskc:Secret></cpix:Data></cpix:ContentKey>`,
    ),
    '  </cpix:ContentKeyList>',
    '</cpix:CPIX>',
    '',
  ].join('\n');
}

function localName(name: string): string {
  return name.slice(name.indexOf(':') + 1);
}

/** Elements below `node` whose local name is `name`, whatever prefix they carry. */
function byLocalName(node: XmlNode, name: string): XmlNode[] {
  const out: XmlNode[] = [];
  const walk = (n: XmlNode) => {
    for (const c of n.childNodes ?? []) {
      if (localName(c.nodeName) === name) out.push(c);
      walk(c);
    }
  };
  walk(node);
  return out;
}

function textOf(node: XmlNode): string {
  return (node.childNodes ?? []).map((c) => (c.nodeName === '#text' ? (c.nodeValue ?? '') : textOf(c))).join('');
}
