/**
 * The fuzzing machinery shared by the bounded suite test (fuzz.test.ts) and the long-running
 * script (fuzz.ts): a seeded PRNG, the seed messages (the whole shared corpus plus the committed
 * corpus of interesting inputs in ./corpus/), byte- and line-level mutators, and `checkInput`, which
 * runs every invariant of the message layer on one input and throws an InvariantError naming the
 * broken one.
 *
 * Invariants (a receive path that must never throw, whatever arrives):
 * - parseMessage (datagram and stream modes) never throws; same input, same outcome;
 * - on a parsed message: `raw` is the framed slice of the input, unedited serialize() is byte-identical,
 *   validate(), every typed accessor and every header accessor return (a value or a ParseError, never
 *   throw); when validate() passes, no accessor reports an error;
 * - edits (setRuri, prependHeader, removeFirstRoute, removeTopVia, setMaxForwards, setBody, setStatus)
 *   produce bytes that parse again and carry exactly the edited values; when the input validated,
 *   the edited message validates too;
 * - StreamFramer fed the input in different chunkings (one piece, random pieces, byte by byte)
 *   never throws and frames the same messages with the same errors; frameCompleteMessage never throws;
 * - every ParseError is a known code with a status and a reason.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isParseError, ParseError, SipErrors } from '../../src/sip/errors.ts';
import type { SipMessage } from '../../src/sip/message.ts';
import { parseMessage } from '../../src/sip/parse_message.ts';
import { type FrameEvent, frameCompleteMessage, StreamFramer } from '../../src/sip/stream_framer.ts';
import { CORPUS_DIR } from '../corpus.ts';
import { mulberry32, type Rng } from '../prng.ts';

export const FUZZ_CORPUS_DIR = fileURLToPath(new URL('./corpus/', import.meta.url));

/** Inputs are capped so that a run of long repeats stays within memory and time bounds. */
export const MAX_INPUT_BYTES = 128 * 1024;

// ------------------------------------------------------------------------------------------ PRNG

export type { Rng };

export { mulberry32 };

/** Integer in [0, n). */
export function int(rnd: Rng, n: number): number {
  return Math.floor(rnd() * n);
}

export function pick<T>(rnd: Rng, items: readonly T[]): T {
  return items[int(rnd, items.length)];
}

// ------------------------------------------------------------------------------------------ seeds

export interface Seed {
  name: string;
  buf: Buffer;
}

function readFolder(dir: string, label: string): Seed[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isFile() && !e.name.endsWith('.md'))
    .map((e) => e.name)
    .sort()
    .map((name) => ({ name: `${label}/${name}`, buf: readFileSync(join(dir, name)) }));
}

/** The committed corpus of interesting inputs (files that found bugs or distinct outcomes). */
export function committedCorpus(): Seed[] {
  return readFolder(FUZZ_CORPUS_DIR, 'fuzz');
}

/** Every message of the shared corpus (raw bytes, line ends untouched), and the committed corpus unless told not to. */
export function loadSeeds(withCommitted = true): Seed[] {
  const seeds: Seed[] = [];
  for (const folder of [
    'rfc4475',
    'rfc4475/archive-extra',
    'rfc5118',
    'rfc5118/archive',
    'valid',
    'quirks',
  ]) {
    seeds.push(...readFolder(join(CORPUS_DIR, folder), folder));
  }
  if (seeds.length < 100) throw new Error(`only ${seeds.length} seed messages found under ${CORPUS_DIR}`);
  if (withCommitted) seeds.push(...committedCorpus());
  return seeds;
}

// ------------------------------------------------------------------------------------------ mutators

const b = (s: string): Buffer => Buffer.from(s, 'latin1');

/** Tokens that matter to a SIP parser: delimiters, escapes, line ends, scheme and parameter names. */
const DICT = [
  '\r\n',
  '\n',
  '\r',
  ' ',
  '\t',
  ':',
  ';',
  ',',
  '"',
  '\\',
  '\\"',
  '<',
  '>',
  '[',
  ']',
  '%',
  '%00',
  '%4',
  '%zz',
  '@',
  '=',
  '?',
  '&',
  '/',
  '*',
  'sip:',
  'sips:',
  'tel:',
  'urn:x',
  'SIP/2.0',
  'SIP/2.0/UDP ',
  'z9hG4bK',
  ';branch=',
  ';tag=',
  ';received=',
  ';rport',
  ';rport=',
  ';ttl=',
  ';maddr=',
  ';lr',
  ';expires=',
  ';q=',
  ';transport=tcp',
  '?Route=%3Csip:x%3E',
  '\r\n ',
  '\r\n\t',
  '\r\n\r\n',
  'Content-Length: ',
  'l: ',
  'Via: ',
  'v: ',
  'Route: ',
  'Contact: *',
  'Digest ',
  'realm="',
  '0',
  '00000000000000000000',
  '255',
  '256',
  '4294967295',
  '4294967296',
  '-1',
  '99999999999999999999999999',
  '1e9',
  '0x10',
  '\x00',
  '\x7f',
  '\xff',
  '\xc3\xa9',
  '\xe2\x80',
  '[::1]',
  '[2001:db8::1]:5060',
  '[2001:db8:::1]',
  '2001:db8::1',
  '[::ffff:192.0.2.1]',
  '255.255.255.255',
  '999.1.1.1',
  ':65536',
  ':0',
];

const HEADER_NAMES = [
  'Via',
  'v',
  'From',
  'f',
  'To',
  't',
  'Call-ID',
  'i',
  'CSeq',
  'Max-Forwards',
  'Content-Length',
  'l',
  'Content-Type',
  'c',
  'Contact',
  'm',
  'Route',
  'Record-Route',
  'Expires',
  'Min-Expires',
  'Authorization',
  'Proxy-Authorization',
  'WWW-Authenticate',
  'Proxy-Authenticate',
  'Allow',
  'Supported',
  'k',
  'Require',
  'Proxy-Require',
  'Event',
  'o',
  'Refer-To',
  'r',
  'Referred-By',
  'b',
  'P-Asserted-Identity',
  'Path',
  'User-Agent',
  'X-Junk',
];

const HEADER_VALUES = [
  '',
  ' ',
  '*',
  '<sip:a@b>',
  '<sip:a@b>, <sip:c@d;lr>',
  '"x" <sip:a@[2001:db8::1]:5060;transport=tcp>;tag=1;q=0.5;expires=60',
  '"unterminated <sip:a@b>',
  'sip:a@b?h=v',
  'sip:a@b, sip:c@d',
  '<tel:+1-212-555-0101;phone-context=x>',
  '<urn:service:sos>',
  'SIP/2.0/UDP h;branch=z9hG4bK1;received=1.2.3.4;rport=1;ttl=1;maddr=h',
  'SIP/2.0/UDP [2001:db8::1];received=[2001:db8::2]',
  'SIP/2.0/UDP h:99999',
  'SIP / 2.0 / TLS h ; branch = x , SIP/2.0/WS y',
  'Digest username="a", realm="r", nonce="n", uri="sip:x", response="00", qop=auth, nc=00000001',
  'Digest realm="r", nonce="n", algorithm=MD5, stale=TRUE',
  'Digest',
  'Basic dXNlcjpwYXNz',
  'NTLM',
  'application/sdp',
  'multipart/mixed;boundary="x y"',
  'text/',
  'presence;id=1',
  'INVITE, ACK,, BYE',
  'timer, 100rel',
  '3600',
  '-5',
  '4294967296',
  '1 INVITE',
  '4294967295 INVITE',
  '70',
  '0',
  '1',
];

type Mutator = (buf: Buffer, rnd: Rng, seeds: readonly Seed[]) => Buffer;

function randomBytes(rnd: Rng, n: number): Buffer {
  const out = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) out[i] = int(rnd, 256);
  return out;
}

function insertAt(buf: Buffer, at: number, data: Buffer): Buffer {
  return Buffer.concat([buf.subarray(0, at), data, buf.subarray(at)]);
}

/** Byte offsets where lines start (after each LF), plus 0. */
function lineStarts(buf: Buffer): number[] {
  const out = [0];
  for (let i = buf.indexOf(0x0a); i >= 0 && i + 1 < buf.length; i = buf.indexOf(0x0a, i + 1)) out.push(i + 1);
  return out;
}

/** [start, end) of a random line (end includes its LF). */
function randomLine(buf: Buffer, rnd: Rng): [number, number] {
  const starts = lineStarts(buf);
  const k = int(rnd, starts.length);
  const end = k + 1 < starts.length ? starts[k + 1] : buf.length;
  return [starts[k], end];
}

/** End of the header section (after the empty line), or the buffer length. */
function headerEnd(buf: Buffer): number {
  const i = buf.indexOf('\r\n\r\n');
  return i < 0 ? buf.length : i + 4;
}

const MUTATORS: ReadonlyArray<readonly [string, Mutator]> = [
  [
    'flip-bits',
    (buf, rnd) => {
      if (buf.length === 0) return buf;
      const out = Buffer.from(buf);
      const n = 1 + int(rnd, 8);
      for (let k = 0; k < n; k++) out[int(rnd, out.length)] ^= 1 << int(rnd, 8);
      return out;
    },
  ],
  [
    'insert-random',
    (buf, rnd) => insertAt(buf, int(rnd, buf.length + 1), randomBytes(rnd, 1 + int(rnd, 16))),
  ],
  ['insert-token', (buf, rnd) => insertAt(buf, int(rnd, buf.length + 1), b(pick(rnd, DICT)))],
  ['insert-token-in-headers', (buf, rnd) => insertAt(buf, int(rnd, headerEnd(buf)), b(pick(rnd, DICT)))],
  [
    'replace-with-token',
    (buf, rnd) => {
      const at = int(rnd, headerEnd(buf));
      return Buffer.concat([buf.subarray(0, at), b(pick(rnd, DICT)), buf.subarray(at + 1 + int(rnd, 4))]);
    },
  ],
  [
    'delete-range',
    (buf, rnd) => {
      const at = int(rnd, buf.length + 1);
      return Buffer.concat([buf.subarray(0, at), buf.subarray(at + 1 + int(rnd, 16))]);
    },
  ],
  [
    'duplicate-line',
    (buf, rnd) => {
      const [s, e] = randomLine(buf, rnd);
      return insertAt(buf, e, buf.subarray(s, e));
    },
  ],
  [
    'delete-line',
    (buf, rnd) => {
      const [s, e] = randomLine(buf, rnd);
      return Buffer.concat([buf.subarray(0, s), buf.subarray(e)]);
    },
  ],
  [
    'swap-lines',
    (buf, rnd) => {
      const [s1, e1] = randomLine(buf, rnd);
      const [s2, e2] = randomLine(buf, rnd);
      if (s1 === s2) return buf;
      const [a, bb] =
        s1 < s2
          ? [
              [s1, e1],
              [s2, e2],
            ]
          : [
              [s2, e2],
              [s1, e1],
            ];
      if (a[1] > bb[0]) return buf;
      return Buffer.concat([
        buf.subarray(0, a[0]),
        buf.subarray(bb[0], bb[1]),
        buf.subarray(a[1], bb[0]),
        buf.subarray(a[0], a[1]),
        buf.subarray(bb[1]),
      ]);
    },
  ],
  [
    'splice',
    (buf, rnd, seeds) => {
      const other = pick(rnd, seeds).buf;
      // Half the time at line boundaries (plausible messages), half anywhere.
      if (rnd() < 0.5) {
        const a = randomLine(buf, rnd)[0];
        const c = randomLine(other, rnd)[0];
        return Buffer.concat([buf.subarray(0, a), other.subarray(c)]);
      }
      return Buffer.concat([
        buf.subarray(0, int(rnd, buf.length + 1)),
        other.subarray(int(rnd, other.length + 1)),
      ]);
    },
  ],
  ['truncate', (buf, rnd) => buf.subarray(0, int(rnd, buf.length + 1))],
  [
    'crlf-to-lf',
    (buf, rnd) => {
      const s = buf.toString('latin1');
      if (rnd() < 0.5) return b(s.replaceAll('\r\n', '\n'));
      const at = s.indexOf('\r\n', int(rnd, s.length));
      return at < 0 ? buf : b(s.slice(0, at) + s.slice(at + 1));
    },
  ],
  [
    'lf-to-crlf-or-cr',
    (buf, rnd) => {
      const s = buf.toString('latin1');
      const at = s.indexOf('\n', int(rnd, s.length));
      if (at < 0) return buf;
      return b(s.slice(0, at) + (rnd() < 0.5 ? '\r\r\n' : '\r') + s.slice(at + 1));
    },
  ],
  [
    'huge-number',
    (buf, rnd) => {
      const s = buf.toString('latin1');
      const he = headerEnd(buf);
      let i = int(rnd, he);
      while (i < he && !(s.charCodeAt(i) >= 0x30 && s.charCodeAt(i) <= 0x39)) i++;
      if (i >= he) return buf;
      let j = i;
      while (j < s.length && s.charCodeAt(j) >= 0x30 && s.charCodeAt(j) <= 0x39) j++;
      const n = pick(rnd, [
        '4294967296',
        '4294967295',
        '18446744073709551616',
        '9'.repeat(1 + int(rnd, 400)),
        '0'.repeat(1 + int(rnd, 400)),
        `0${s.slice(i, j)}`,
        '-1',
        '256',
        '65536',
        '',
      ]);
      return b(s.slice(0, i) + n + s.slice(j));
    },
  ],
  [
    'long-repeat',
    (buf, rnd) => {
      const unit = pick(rnd, [
        ';',
        ',',
        ' ',
        'a',
        '%',
        '%41',
        '"',
        '\\',
        '<',
        '\r\n ',
        ';x',
        ';x=y',
        ',<sip:a@b>',
        ', SIP/2.0/UDP h',
        ':',
        '[',
        'Via: SIP/2.0/UDP h;branch=z9hG4bKx\r\n',
        'X: y\r\n',
        'Route: <sip:r;lr>\r\n',
        '\r\n',
      ]);
      const n = 1 + int(rnd, Math.floor(20000 / unit.length));
      return insertAt(buf, int(rnd, headerEnd(buf) + 1), b(unit.repeat(n)));
    },
  ],
  [
    'header-line',
    (buf, rnd) => {
      const starts = lineStarts(buf).filter((s) => s > 0 && s < headerEnd(buf));
      const at = starts.length === 0 ? 0 : pick(rnd, starts);
      return insertAt(
        buf,
        at,
        b(`${pick(rnd, HEADER_NAMES)}:${rnd() < 0.8 ? ' ' : ''}${pick(rnd, HEADER_VALUES)}\r\n`),
      );
    },
  ],
  [
    'fold',
    (buf, rnd) => {
      const he = headerEnd(buf);
      const at = buf.indexOf(0x20, int(rnd, he));
      if (at < 0 || at >= he) return buf;
      return Buffer.concat([buf.subarray(0, at), b(rnd() < 0.5 ? '\r\n ' : '\n\t'), buf.subarray(at + 1)]);
    },
  ],
  [
    'flip-case',
    (buf, rnd) => {
      const out = Buffer.from(buf);
      const at = int(rnd, out.length + 1);
      const end = Math.min(out.length, at + 1 + int(rnd, 40));
      for (let i = at; i < end; i++) {
        const c = out[i] | 0x20;
        if (c >= 0x61 && c <= 0x7a) out[i] ^= 0x20;
      }
      return out;
    },
  ],
  [
    'drop-content-length',
    (buf) => {
      const s = buf.toString('latin1');
      return b(s.replace(/\r\n(Content-Length|l)[ \t]*:[^\r\n]*/i, ''));
    },
  ],
];

export const MUTATOR_NAMES = MUTATORS.map(([n]) => n);

/** 1–4 stacked mutations of a random seed. Returns the input and a description for reports. */
export function mutate(rnd: Rng, seeds: readonly Seed[]): { input: Buffer; how: string } {
  const seed = pick(rnd, seeds);
  let buf = seed.buf;
  const steps: string[] = [];
  const n = 1 + (rnd() < 0.5 ? 0 : rnd() < 0.6 ? 1 : rnd() < 0.7 ? 2 : 3);
  for (let k = 0; k < n; k++) {
    const [name, fn] = pick(rnd, MUTATORS);
    buf = fn(buf, rnd, seeds);
    steps.push(name);
  }
  if (buf.length > MAX_INPUT_BYTES) buf = buf.subarray(0, MAX_INPUT_BYTES);
  return { input: buf, how: `${seed.name} + ${steps.join(' + ')}` };
}

// ------------------------------------------------------------------------------------------ invariants

export class InvariantError extends Error {
  override readonly name = 'InvariantError';
}

/** JSON-quoted, with DEL and C1 controls escaped too (JSON.stringify leaves them invisible). */
export function visible(s: string): string {
  return JSON.stringify(s).replace(
    /[\u007f-\u009f]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

function fail(msg: string): never {
  throw new InvariantError(msg);
}

/** Run `fn`; an exception is an invariant violation (nothing on the receive path may throw). */
function guard<T>(label: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof InvariantError) throw e;
    fail(`${label} threw: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  }
}

/** Longest acceptable reason phrase (status line of the 400). */
export const MAX_PHRASE = 256;

const KNOWN_CODES = new Set<string>(Object.values(SipErrors).map((k) => k.code));

function checkError(label: string, e: ParseError): void {
  if (!(e instanceof ParseError)) fail(`${label}: not a ParseError`);
  if (!KNOWN_CODES.has(e.code)) fail(`${label}: unknown error code ${e.code}`);
  if (!(e.status >= 400 && e.status <= 599)) fail(`${label}: status ${e.status} for ${e.code}`);
  if (typeof e.detail !== 'string' || e.detail.length === 0) fail(`${label}: empty detail for ${e.code}`);
  // The phrase goes on the status line of the 400 (RFC 3261 §25.1 Reason-Phrase): no control
  // characters but HTAB, or the response itself is malformed (a CR or LF would even split it).
  const phrase = e.phrase; // a getter that builds the string: read it once
  for (let i = 0; i < phrase.length; i++) {
    const c = phrase.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09) || c === 0x7f) {
      fail(`${label}: the reason phrase for ${e.code} holds a control character: ${visible(phrase)}`);
    }
  }
  // A reason for `400 <reason>` is a line, not a copy of the input: bounded whatever the input size.
  if (phrase.length > MAX_PHRASE) {
    fail(
      `${label}: the reason phrase for ${e.code} is ${phrase.length} characters long: ${visible(phrase.slice(0, 120))}…`,
    );
  }
}

/** Every typed accessor, in validate()'s order; each returns a value, undefined, or a ParseError. */
const ACCESSORS: ReadonlyArray<readonly [string, (m: SipMessage) => unknown]> = [
  ['vias', (m) => m.vias()],
  ['from', (m) => m.from()],
  ['to', (m) => m.to()],
  ['contacts', (m) => m.contacts()],
  ['routes', (m) => m.routes()],
  ['recordRoutes', (m) => m.recordRoutes()],
  ['expires', (m) => m.expires()],
  ['minExpires', (m) => m.minExpires()],
  ['authorization', (m) => m.authorization()],
  ['proxyAuthorization', (m) => m.proxyAuthorization()],
  ['wwwAuthenticate', (m) => m.wwwAuthenticate()],
  ['proxyAuthenticate', (m) => m.proxyAuthenticate()],
  ['allow', (m) => m.allow()],
  ['supported', (m) => m.supported()],
  ['require', (m) => m.require()],
  ['proxyRequire', (m) => m.proxyRequire()],
  ['event', (m) => m.event()],
  ['contentType', (m) => m.contentType()],
  ['referTo', (m) => m.referTo()],
  ['referredBy', (m) => m.referredBy()],
  ['pAssertedIdentities', (m) => m.pAssertedIdentities()],
  ['paths', (m) => m.paths()],
];

/** Touch every read path of a parsed message. Returns validate()'s result. */
function sweep(m: SipMessage, input: Buffer, label: string): ParseError | undefined {
  if (!guard(`${label} raw`, () => m.raw.equals(input.subarray(m.start, m.end)))) {
    fail(`${label}: msg.raw is not the framed slice of the input`);
  }
  if (
    !(
      m.start <= m.headersStart &&
      m.headersStart <= m.headersEnd &&
      m.headersEnd <= m.bodyStart &&
      m.bodyStart <= m.end
    )
  ) {
    fail(
      `${label}: offsets out of order ${[m.start, m.headersStart, m.headersEnd, m.bodyStart, m.end].join(',')}`,
    );
  }
  if (!guard(`${label} serialize`, () => m.serialize()).equals(m.raw)) {
    fail(`${label}: serialize() without edits is not byte-identical to msg.raw`);
  }
  // Eager fields are well formed.
  if (m.callId.length === 0) fail(`${label}: empty Call-ID accepted`);
  if (!(m.cseq >= 0 && m.cseq <= 0xffffffff)) fail(`${label}: CSeq ${m.cseq} out of range`);
  if (!(m.maxForwards >= -1 && m.maxForwards <= 255)) fail(`${label}: Max-Forwards ${m.maxForwards}`);
  if (m.contentLength >= 0 && m.contentLength !== m.bodyLength) {
    fail(`${label}: Content-Length ${m.contentLength} but body ${m.bodyLength}`);
  }
  if (m.topVia === undefined || typeof m.topVia.transport !== 'string') fail(`${label}: no top Via`);
  if (m.isRequest ? m.method.length === 0 : !(m.status >= 100 && m.status <= 699)) {
    fail(`${label}: bad start line fields`);
  }

  const v = guard(`${label} validate()`, () => m.validate());
  if (v !== undefined) checkError(`${label} validate()`, v);
  const results: Array<[string, unknown]> = [];
  for (const [name, fn] of ACCESSORS) results.push([name, guard(`${label} ${name}()`, () => fn(m))]);
  if (m.isRequest) results.push(['requestUri', guard(`${label} requestUri()`, () => m.requestUri())]);
  for (const [name, r] of results) {
    if (isParseError(r)) {
      checkError(`${label} ${name}()`, r);
      if (v === undefined) fail(`${label}: validate() passed but ${name}() reports ${r.toString()}`);
    }
  }
  // Memoized reads return the same value.
  for (const [name, fn] of ACCESSORS.slice(0, 4)) {
    const again = guard(`${label} ${name}() again`, () => fn(m));
    const first = results.find(([n]) => n === name)?.[1];
    if (again !== first) fail(`${label}: ${name}() is not memoized`);
  }
  guard(`${label} start line`, () => [m.ruri, m.originalRuri, m.reason, m.body, m.bodyLength, m.userAgent]);
  guard(`${label} toString`, () => m.toString());
  const names = new Set<string>();
  const count = m.headerCount;
  let prevEnd = m.headersStart;
  for (let i = 0; i < count; i++) {
    guard(`${label} header ${i}`, () => {
      const [ls, le] = m.headerLineRange(i);
      const [vs, ve] = m.headerValueRange(i);
      if (!(ls === prevEnd && ls <= vs && vs <= ve && ve <= le && le <= m.headersEnd)) {
        fail(
          `${label}: header ${i} ranges [${ls},${le}) value [${vs},${ve}) out of order (previous end ${prevEnd})`,
        );
      }
      prevEnd = le;
      m.headerId(i);
      m.headerCanonicalName(i);
      m.headerValue(i);
      if (names.size < 32) names.add(m.headerName(i));
    });
  }
  if (prevEnd !== m.headersEnd) fail(`${label}: header lines do not tile the header section`);
  for (const name of names) {
    guard(`${label} getHeader(${JSON.stringify(name)})`, () => {
      const all = m.getHeaders(name);
      if (all.length === 0 || !m.hasHeader(name) || m.getHeader(name) !== all[0]) {
        fail(`${label}: header ${JSON.stringify(name)} found by index but not by name`);
      }
    });
  }
  return v;
}

/** The request edits a proxy makes, on a fresh parse; the result must parse with exactly those values. */
function checkRequestEdits(input: Buffer, orig: SipMessage, validated: boolean, rnd: Rng): void {
  const m = parseMessage(input) as SipMessage;
  const branch = `z9hG4bKfuzz${int(rnd, 1e9).toString(36)}`;
  const ruri = pick(rnd, [
    'sip:fuzz@example.com',
    'sip:fuzz@[2001:db8::7]:5062;transport=tcp',
    'tel:+15550100',
  ]);
  const mf = orig.maxForwards < 0 ? 70 : Math.max(0, orig.maxForwards - 1);
  const withBody = rnd() < 0.5;
  guard('request edits', () => {
    m.setRuri(ruri);
    m.prependHeader('Via', `SIP/2.0/UDP 192.0.2.99:5060;branch=${branch};rport`);
    m.removeFirstRoute();
    m.prependHeader('Record-Route', '<sip:192.0.2.99;lr>');
    m.setMaxForwards(mf);
    if (withBody) m.setBody('v=0\r\ns=-\r\n', 'application/sdp');
  });
  const out = guard('serialize(edits)', () => m.serialize());
  const f = guard('parse(edited)', () => parseMessage(out));
  if (isParseError(f)) fail(`request edits produced bytes that do not parse: ${f.toString()}`);
  const expect = (what: string, got: unknown, want: unknown): void => {
    if (got !== want)
      fail(`after request edits ${what} is ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`);
  };
  expect('method', f.method, orig.method);
  expect('Request-URI', f.ruri, ruri);
  expect('top Via branch', f.topVia.branch, branch);
  expect('Max-Forwards', f.maxForwards, mf);
  expect('Call-ID', f.callId, orig.callId);
  expect('CSeq', f.cseq, orig.cseq);
  expect('From tag', f.fromTag, orig.fromTag);
  expect('To tag', f.toTag, orig.toTag);
  if (withBody) expect('body', f.body.toString('latin1'), 'v=0\r\ns=-\r\n');
  else if (!f.body.equals(orig.body)) fail('request edits changed the body');
  if (validated) {
    const v = guard('validate(edited)', () => f.validate());
    if (v !== undefined) fail(`a valid request no longer validates after the proxy edits: ${v.toString()}`);
    const rr = f.recordRoutes();
    if (isParseError(rr) || rr[0]?.uri.raw !== 'sip:192.0.2.99;lr')
      fail('the added Record-Route is not the first');
    const routes = f.routes();
    const before = orig.routes();
    if (!isParseError(routes) && !isParseError(before) && routes.length !== Math.max(0, before.length - 1)) {
      fail(`removeFirstRoute left ${routes.length} of ${before.length} routes`);
    }
  }
}

/** A proxy forwarding a response removes its top Via; a rewritten status line must parse. */
function checkResponseEdits(input: Buffer, orig: SipMessage, validated: boolean): void {
  const vias = orig.vias();
  if (!isParseError(vias) && vias.length >= 2) {
    const m = parseMessage(input) as SipMessage;
    guard('removeTopVia', () => m.removeTopVia());
    const out = guard('serialize(removeTopVia)', () => m.serialize());
    const f = guard('parse(removeTopVia)', () => parseMessage(out));
    if (isParseError(f)) fail(`removing the top Via produced bytes that do not parse: ${f.toString()}`);
    if (f.topVia.raw !== vias[1].raw) {
      fail(
        `after removeTopVia the top Via is ${JSON.stringify(f.topVia.raw)}, expected ${JSON.stringify(vias[1].raw)}`,
      );
    }
    if (validated && f.validate() !== undefined)
      fail('a valid response no longer validates after removeTopVia');
  }
  const m = parseMessage(input) as SipMessage;
  guard('setStatus', () => m.setStatus(500, 'Server Internal Error'));
  const f = guard('parse(setStatus)', () => parseMessage(m.serialize()));
  if (isParseError(f)) fail(`setStatus produced bytes that do not parse: ${f.toString()}`);
  if (f.status !== 500 || f.reason !== 'Server Internal Error') fail('setStatus did not take');
}

/** Events as comparable text: messages by content, errors by code; keep-alives left out (see below). */
function frameSummary(events: FrameEvent[]): string[] {
  const out: string[] = [];
  for (const e of events) {
    if (e.kind === 'message') out.push(`message:${e.data.toString('latin1')}`);
    else if (e.kind === 'error') {
      checkError('StreamFramer', e.error);
      out.push(`error:${e.error.code}`);
    }
  }
  return out;
}

function feed(chunks: Buffer[]): FrameEvent[] {
  const framer = new StreamFramer();
  const events: FrameEvent[] = [];
  for (const c of chunks) events.push(...framer.push(c));
  return events;
}

/**
 * The framer must not depend on how the stream was cut. Keep-alive CRLFs are the one documented
 * exception (a ping cut between its two CRLFs is seen as two pongs), so ping/pong are not compared.
 */
function checkFramer(input: Buffer, rnd: Rng): void {
  if (input.length === 0) return;
  const whole = guard('StreamFramer.push(whole)', () => frameSummary(feed([Buffer.from(input)])));
  const pieces: Buffer[] = [];
  for (let i = 0; i < input.length; ) {
    const n = 1 + int(rnd, 97);
    pieces.push(Buffer.from(input.subarray(i, i + n)));
    i += n;
  }
  const chunked = guard('StreamFramer.push(chunks)', () => frameSummary(feed(pieces)));
  if (chunked.join('\0') !== whole.join('\0'))
    fail('StreamFramer output depends on the chunking (random chunks)');
  if (input.length <= 4096) {
    const bytes: Buffer[] = [];
    for (let i = 0; i < input.length; i++) bytes.push(Buffer.from(input.subarray(i, i + 1)));
    const bytewise = guard('StreamFramer.push(bytes)', () => frameSummary(feed(bytes)));
    if (bytewise.join('\0') !== whole.join('\0'))
      fail('StreamFramer output depends on the chunking (byte by byte)');
  }
  for (const line of whole) {
    if (!line.startsWith('message:')) continue;
    const data = Buffer.from(line.slice(8), 'latin1');
    guard('parse(framed, stream)', () => {
      const m = parseMessage(data, { datagram: false });
      if (!isParseError(m)) sweep(m, data, 'framed');
      else checkError('parse(framed)', m);
    });
  }
  const ws = guard('frameCompleteMessage', () => frameCompleteMessage(input));
  if (ws.kind === 'error') checkError('frameCompleteMessage', ws.error);
}

export interface CheckResult {
  /** 'ok' | 'parse:CODE' | 'validate:CODE'. */
  outcome: string;
  /** Detail of the error with digits and quoted text blanked: distinguishes kinds of rejection. */
  shape: string;
}

function shapeOf(e: ParseError): string {
  return e.detail
    .replace(/"(?:[^"\\]|\\.)*"/g, '"…"')
    .replace(/'[^']*'/g, "'…'")
    .replace(/[0-9]+/g, '#')
    .slice(0, 60);
}

/** Run every invariant on one input. Throws InvariantError on a violation. */
export function checkInput(input: Buffer, rnd: Rng): CheckResult {
  const m = guard('parseMessage(datagram)', () => parseMessage(input));
  const again = guard('parseMessage(datagram) again', () => parseMessage(input));
  if (
    isParseError(m) !== isParseError(again) ||
    (isParseError(m) && isParseError(again) && m.code !== again.code)
  ) {
    fail('parseMessage is not deterministic');
  }
  const s = guard('parseMessage(stream)', () => parseMessage(input, { datagram: false }));
  if (isParseError(s)) checkError('parseMessage(stream)', s);
  else sweep(s, input, 'stream');
  // With a Content-Length the framing is known, so a stream parse must agree with the datagram one.
  if (
    !isParseError(m) &&
    m.contentLength >= 0 &&
    (isParseError(s) || s.end !== m.end || s.start !== m.start)
  ) {
    fail(
      `datagram parse frames [${m.start}, ${m.end}) but the stream parse ${isParseError(s) ? `fails: ${s.toString()}` : `frames [${s.start}, ${s.end})`}`,
    );
  }
  checkFramer(input, rnd);
  if (isParseError(m)) {
    checkError('parseMessage', m);
    return { outcome: `parse:${m.code}`, shape: `parse:${m.code}:${shapeOf(m)}` };
  }
  const v = sweep(m, input, 'datagram');
  if (m.isRequest) checkRequestEdits(input, m, v === undefined, rnd);
  else checkResponseEdits(input, m, v === undefined);
  if (v !== undefined) return { outcome: `validate:${v.code}`, shape: `validate:${v.code}:${shapeOf(v)}` };
  return { outcome: 'ok', shape: 'ok' };
}

/**
 * Time one check; an input slower than the budget is re-timed (a GC pause or a busy machine can
 * stall one run) and counts as slow only if its fastest of 5 runs is over the budget.
 */
export function timedCheck(input: Buffer, seed: number, budgetMs: number): CheckResult & { ms: number } {
  let best = Number.POSITIVE_INFINITY;
  let result: CheckResult | undefined;
  for (let attempt = 0; attempt < 5; attempt++) {
    const t0 = performance.now();
    result = checkInput(input, mulberry32(seed));
    best = Math.min(best, performance.now() - t0);
    if (best <= budgetMs) break;
  }
  return { ...(result as CheckResult), ms: best };
}
