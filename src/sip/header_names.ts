/**
 * Known header names: a small integer id per header so that the parser can classify a header
 * line from its bytes without allocating a string (RFC 3261 §7.3.3 compact forms included).
 */

/** Canonical spelling (as Kamailio and RFC 3261 write them) by id; id 0 is "other". */
export const HEADER_NAMES = [
  '',
  'Via',
  'From',
  'To',
  'Call-ID',
  'CSeq',
  'Max-Forwards',
  'Content-Length',
  'Content-Type',
  'Contact',
  'Route',
  'Record-Route',
  'Expires',
  'Min-Expires',
  'Authorization',
  'WWW-Authenticate',
  'Proxy-Authenticate',
  'Proxy-Authorization',
  'Allow',
  'Supported',
  'Require',
  'Proxy-Require',
  'Unsupported',
  'Event',
  'Refer-To',
  'Referred-By',
  'P-Asserted-Identity',
  'User-Agent',
  'Subject',
  'Content-Encoding',
  'Accept',
  'Path',
  'Server',
  'Date',
  'Allow-Events',
  'Session-Expires',
  'Identity',
  'Accept-Contact',
  'Reject-Contact',
  'Request-Disposition',
  'Identity-Info',
  'Retry-After',
  'Reason',
  'Diversion',
  'P-Preferred-Identity',
  'Privacy',
  'Warning',
  'Content-Disposition',
  'Accept-Encoding',
  'Accept-Language',
  'Organization',
  'Priority',
  'Timestamp',
  'Min-SE',
  'RSeq',
  'RAck',
  'Subscription-State',
  'Alert-Info',
  'Call-Info',
  'Error-Info',
  'In-Reply-To',
  'MIME-Version',
  'Reply-To',
  'Authentication-Info',
  'Content-Language',
  'Replaces',
  'SIP-If-Match',
  'SIP-ETag',
  'P-Charging-Vector',
  'History-Info',
  'Remote-Party-ID',
] as const;

export type HeaderName = (typeof HEADER_NAMES)[number];

export const H = {
  OTHER: 0,
  VIA: 1,
  FROM: 2,
  TO: 3,
  CALL_ID: 4,
  CSEQ: 5,
  MAX_FORWARDS: 6,
  CONTENT_LENGTH: 7,
  CONTENT_TYPE: 8,
  CONTACT: 9,
  ROUTE: 10,
  RECORD_ROUTE: 11,
  EXPIRES: 12,
  MIN_EXPIRES: 13,
  AUTHORIZATION: 14,
  WWW_AUTHENTICATE: 15,
  PROXY_AUTHENTICATE: 16,
  PROXY_AUTHORIZATION: 17,
  ALLOW: 18,
  SUPPORTED: 19,
  REQUIRE: 20,
  PROXY_REQUIRE: 21,
  UNSUPPORTED: 22,
  EVENT: 23,
  REFER_TO: 24,
  REFERRED_BY: 25,
  P_ASSERTED_IDENTITY: 26,
  USER_AGENT: 27,
  SUBJECT: 28,
  CONTENT_ENCODING: 29,
  ACCEPT: 30,
  PATH: 31,
  SERVER: 32,
  DATE: 33,
  ALLOW_EVENTS: 34,
  SESSION_EXPIRES: 35,
  IDENTITY: 36,
  ACCEPT_CONTACT: 37,
  REJECT_CONTACT: 38,
  REQUEST_DISPOSITION: 39,
  IDENTITY_INFO: 40,
} as const;

export const HEADER_ID_COUNT = HEADER_NAMES.length;

/** RFC 3261 §7.3.3 and later RFCs' compact forms, by lower-case letter. */
const COMPACT: Record<string, number> = {
  a: H.ACCEPT_CONTACT,
  b: H.REFERRED_BY,
  c: H.CONTENT_TYPE,
  d: H.REQUEST_DISPOSITION,
  e: H.CONTENT_ENCODING,
  f: H.FROM,
  i: H.CALL_ID,
  j: H.REJECT_CONTACT,
  k: H.SUPPORTED,
  l: H.CONTENT_LENGTH,
  m: H.CONTACT,
  n: H.IDENTITY_INFO,
  o: H.EVENT,
  r: H.REFER_TO,
  s: H.SUBJECT,
  t: H.TO,
  u: H.ALLOW_EVENTS,
  v: H.VIA,
  x: H.SESSION_EXPIRES,
  y: H.IDENTITY,
};

/** Compact id by lower-cased byte (0 when the letter is not a compact form). */
const COMPACT_BY_BYTE = new Uint8Array(128);
for (const [letter, id] of Object.entries(COMPACT)) COMPACT_BY_BYTE[letter.charCodeAt(0)] = id;

/** Candidates grouped by name length: [id, lower-case bytes]. */
const BY_LENGTH: Array<Array<[number, Uint8Array]>> = [];
const BY_LOWER = new Map<string, number>();
for (let id = 1; id < HEADER_NAMES.length; id++) {
  const lower = HEADER_NAMES[id].toLowerCase();
  BY_LOWER.set(lower, id);
  const bytes = Buffer.from(lower, 'latin1');
  const sameLength = BY_LENGTH[bytes.length] ?? [];
  BY_LENGTH[bytes.length] = sameLength;
  sameLength.push([id, bytes]);
}
for (const [letter, id] of Object.entries(COMPACT)) BY_LOWER.set(letter, id);

/** Header id of the name in buf[start, end) — case-insensitive, compact forms included. */
export function headerIdFromBytes(buf: Uint8Array, start: number, end: number): number {
  const len = end - start;
  if (len === 1) {
    const c = buf[start] | 0x20;
    return c < 128 ? COMPACT_BY_BYTE[c] : 0;
  }
  const candidates = BY_LENGTH[len];
  if (candidates === undefined) return 0;
  outer: for (let k = 0; k < candidates.length; k++) {
    const cand = candidates[k];
    const bytes = cand[1];
    for (let i = 0; i < len; i++) {
      // `| 0x20` lower-cases letters and leaves '-' and digits unchanged.
      if ((buf[start + i] | 0x20) !== bytes[i]) continue outer;
    }
    return cand[0];
  }
  return 0;
}

/** Header id of a name string (any case, compact or full), 0 when unknown. */
export function headerIdFromName(name: string): number {
  return BY_LOWER.get(name.toLowerCase()) ?? 0;
}

/** Canonical spelling of a known header (compact forms expanded), or the name as given. */
export function canonicalHeaderName(name: string): string {
  const id = headerIdFromName(name);
  return id === 0 ? name : HEADER_NAMES[id];
}

/** Headers that RFC 3261 §7.3.1 allows to be combined as comma-separated lists. */
export function isListHeader(id: number): boolean {
  switch (id) {
    case H.VIA:
    case H.CONTACT:
    case H.ROUTE:
    case H.RECORD_ROUTE:
    case H.ALLOW:
    case H.SUPPORTED:
    case H.REQUIRE:
    case H.PROXY_REQUIRE:
    case H.UNSUPPORTED:
    case H.ACCEPT:
    case H.PATH:
    case H.ALLOW_EVENTS:
    case H.P_ASSERTED_IDENTITY:
    case H.CONTENT_ENCODING:
      return true;
    default:
      return false;
  }
}
