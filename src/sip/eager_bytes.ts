/**
 * Byte-level fast paths for the fields the parser decodes with every message (CSeq, From/To tag),
 * read straight from the received bytes of one unfolded header value: no string for the whole
 * value, no result object. They accept only the common, valid shapes and answer `null` for
 * anything else (quoted strings, unknown methods, errors), and the caller then runs the string
 * parser (header_values.ts parseCSeq, name_addr.ts findTagParam) on the value. Where they answer,
 * the answer is the string parser's on the Latin-1 decoding of the same bytes (eager_bytes.test.ts
 * checks this on random values).
 */
import { C_PVALUE, C_TOKEN, CHAR_CLASS } from './chars.ts';
import { methodFromBytes } from './methods.ts';

const SP = 0x20;
const HT = 0x09;
const MAX_UINT32 = 4294967295;

/** Sequence number of a CSeq value `1*DIGIT 1*(SP/HT) known-method`, -1 when not of that shape. */
export function cseqSeqFromBytes(buf: Uint8Array, start: number, end: number): number {
  let i = start;
  let seq = 0;
  while (i < end) {
    const c = buf[i];
    if (c < 0x30 || c > 0x39) break;
    seq = seq * 10 + c - 0x30;
    if (seq > MAX_UINT32) return -1;
    i++;
  }
  if (i === start) return -1;
  const ds = i;
  while (i < end && (buf[i] === SP || buf[i] === HT)) i++;
  if (i === ds || methodFromBytes(buf, i, end) === undefined) return -1;
  return seq;
}

/** The interned method of a CSeq value cseqSeqFromBytes accepted. */
export function cseqMethodFromBytes(buf: Uint8Array, start: number, end: number): string {
  let i = start;
  while (i < end && buf[i] !== SP && buf[i] !== HT) i++;
  while (i < end && (buf[i] === SP || buf[i] === HT)) i++;
  return methodFromBytes(buf, i, end) as string;
}

function isToken(c: number): boolean {
  return c < 128 && (CHAR_CLASS[c] & C_TOKEN) !== 0;
}

function isPValue(c: number): boolean {
  return c < 128 && (CHAR_CLASS[c] & C_PVALUE) !== 0;
}

/**
 * The `tag` parameter of a From/To value (name-addr or addr-spec with header parameters):
 * a string, undefined when there is none, null when the value needs the string parser.
 */
export function tagFromBytes(buf: Buffer, start: number, end: number): string | undefined | null {
  let i = start;
  // Display name and URI.
  for (;;) {
    if (i >= end) return undefined;
    const c = buf[i];
    if (c === 0x3c /* < */) {
      // A loop, not buf.indexOf: the URI is short and the native call costs more.
      i++;
      while (i < end && buf[i] !== 0x3e) i++;
      if (i >= end) return null;
      i++;
      break;
    }
    if (c === 0x22 /* " */) {
      // Display name: quoted-string (a quoted-pair may escape any octet, `"` included).
      i++;
      while (i < end && buf[i] !== 0x22) i += buf[i] === 0x5c ? 2 : 1;
      if (i >= end) return null;
      i++;
      continue;
    }
    if (c === 0x3e /* > */) return null;
    if (c === 0x3b /* ; */) break;
    i++;
  }
  // Header parameters.
  for (;;) {
    while (i < end && (buf[i] === SP || buf[i] === HT)) i++;
    if (i >= end) return undefined;
    if (buf[i] !== 0x3b) return null;
    i++;
    while (i < end && (buf[i] === SP || buf[i] === HT)) i++;
    const ns = i;
    while (i < end && isToken(buf[i])) i++;
    const ne = i;
    if (ne === ns) return null;
    const isTag =
      ne - ns === 3 &&
      (buf[ns] | 0x20) === 0x74 &&
      (buf[ns + 1] | 0x20) === 0x61 &&
      (buf[ns + 2] | 0x20) === 0x67;
    while (i < end && (buf[i] === SP || buf[i] === HT)) i++;
    if (i < end && buf[i] === 0x3d /* = */) {
      i++;
      while (i < end && (buf[i] === SP || buf[i] === HT)) i++;
      if (i >= end || buf[i] === 0x22 || buf[i] === 0x3d) return null;
      const vs = i;
      while (i < end && isPValue(buf[i])) i++;
      if (i === vs) return null;
      if (isTag) return buf.latin1Slice(vs, i);
    } else if (isTag) {
      return null;
    } else {
      i = ne;
    }
  }
}

/** True when buf[start, end) holds only ASCII octets (its Latin-1 and UTF-8 decodings agree). */
export function isAsciiRange(buf: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (buf[i] >= 0x80) return false;
  return true;
}
