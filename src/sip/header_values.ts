/**
 * Parsers for the remaining typed header values (RFC 3261 §20, §25.1):
 * CSeq, Max-Forwards, Expires (and any 32-bit number), Contact, Authorization / Proxy-Authorization,
 * WWW-Authenticate / Proxy-Authenticate, option-tag and method lists, Content-Type, Event.
 * Each returns a ParseError of its header's kind with a detail naming exactly what is wrong.
 */
import {
  describeChar,
  isDigit,
  parseDecimal,
  rangeEqualsLower,
  scanParamValue,
  scanQuotedString,
  scanToken,
  skipLws,
  trimLwsEnd,
  unquoteRange,
} from './chars.ts';
import { fail, ParseError, type SipErrorKind, SipErrors } from './errors.ts';
import { lastNameAddrEnd, parseNameAddrAt } from './name_addr.ts';
import { ParamList, parseParams } from './params.ts';
import type { Contact, ContactList, ContentType, Credentials, CSeq, EventValue, NameAddr } from './types.ts';

const MAX_UINT32 = 0xffffffff;

const METHODS = [
  'INVITE',
  'ACK',
  'BYE',
  'CANCEL',
  'REGISTER',
  'OPTIONS',
  'PRACK',
  'UPDATE',
  'INFO',
  'SUBSCRIBE',
  'NOTIFY',
  'REFER',
  'MESSAGE',
  'PUBLISH',
];

/** s[start, end) as a string; the standard methods come back as interned constants. */
function methodName(s: string, start: number, end: number): string {
  const len = end - start;
  outer: for (let k = 0; k < METHODS.length; k++) {
    const m = METHODS[k];
    if (m.length !== len) continue;
    for (let i = 0; i < len; i++) if (s.charCodeAt(start + i) !== m.charCodeAt(i)) continue outer;
    return m;
  }
  return s.slice(start, end);
}

/** Digits of s[start, end) as an unsigned number of at most `max`; a reason string when not. */
function numberOrReason(s: string, start: number, end: number, max: number, what: string): number | string {
  if (start >= end) return `empty ${what}`;
  for (let i = start; i < end; i++) {
    if (!isDigit(s.charCodeAt(i))) return `invalid ${describeChar(s, i)} in ${what}`;
  }
  const v = parseDecimal(s, start, end, max);
  if (v < 0) return `${what} above ${max === MAX_UINT32 ? '2**32-1' : max}`;
  return v;
}

/** CSeq: `1*DIGIT LWS Method`; the number may have leading zeros and must be at most 2**32-1. */
export function parseCSeq(text: string): CSeq | ParseError {
  const n = text.length;
  const ds = skipLws(text, 0);
  let i = ds;
  while (i < n && isDigit(text.charCodeAt(i))) i++;
  if (i === ds) {
    if (ds >= n) return fail(SipErrors.CSEQ, 'empty value');
    return fail(SipErrors.CSEQ, `invalid ${describeChar(text, ds)} in sequence number`);
  }
  const seq = parseDecimal(text, ds, i, MAX_UINT32);
  if (seq < 0) return fail(SipErrors.CSEQ, 'sequence number above 2**32-1');
  const ms = skipLws(text, i);
  if (ms >= n) return fail(SipErrors.CSEQ, 'missing method');
  if (ms === i) return fail(SipErrors.CSEQ, `invalid ${describeChar(text, i)} in sequence number`);
  const me = scanToken(text, ms);
  if (me === ms) return fail(SipErrors.CSEQ, `invalid ${describeChar(text, ms)} in method`);
  const end = skipLws(text, me);
  if (end < n) return fail(SipErrors.CSEQ, `unexpected ${describeChar(text, end)} after method`);
  return { seq, method: methodName(text, ms, me) };
}

/** A whole value that is `1*DIGIT` (LWS around allowed), at most 2**32-1; errors are of `kind`. */
export function parseUInt32(text: string, kind: SipErrorKind, what = 'number'): number | ParseError {
  const start = skipLws(text, 0);
  const end = trimLwsEnd(text, start, text.length);
  const v = numberOrReason(text, start, end, MAX_UINT32, what);
  return typeof v === 'number' ? v : fail(kind, v);
}

/** Max-Forwards: 0–255 (leading zeros allowed: `0068` is 68). */
export function parseMaxForwards(text: string): number | ParseError {
  const start = skipLws(text, 0);
  const end = trimLwsEnd(text, start, text.length);
  const v = numberOrReason(text, start, end, 255, 'Max-Forwards');
  return typeof v === 'number' ? v : fail(SipErrors.MAX_FORWARDS, v);
}

/** Expires / Min-Expires: delta-seconds, 0..2**32-1. */
export function parseExpires(text: string): number | ParseError {
  return parseUInt32(text, SipErrors.NUMBER, 'Expires');
}

/**
 * qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ). Returns -1 when invalid.
 */
export function parseQValue(v: string): number {
  const n = v.length;
  if (n === 0 || n > 5) return -1;
  const c0 = v.charCodeAt(0);
  if (c0 !== 0x30 && c0 !== 0x31) return -1;
  if (n === 1) return c0 - 0x30;
  if (v.charCodeAt(1) !== 0x2e) return -1;
  let thousandths = 0;
  let scale = 100;
  for (let i = 2; i < n; i++) {
    const d = v.charCodeAt(i) - 0x30;
    if (d < 0 || d > 9) return -1;
    thousandths += d * scale;
    scale /= 10;
  }
  if (c0 === 0x31) return thousandths === 0 ? 1 : -1;
  return thousandths / 1000;
}

/** expires and q of the Contact element contactParamsError last accepted. */
let contactExpires: number | undefined;
let contactQ: number | undefined;

/** Reads a Contact element's expires and q (into contactExpires, contactQ); the error when invalid. */
function contactParamsError(na: NameAddr): ParseError | undefined {
  contactExpires = undefined;
  contactQ = undefined;
  const e = na.params.get('expires');
  if (e !== undefined) {
    const v = numberOrReason(e, 0, e.length, MAX_UINT32, 'Contact expires');
    if (typeof v !== 'number') return fail(SipErrors.CONTACT, v);
    contactExpires = v;
  }
  const qs = na.params.get('q');
  if (qs !== undefined) {
    const v = parseQValue(qs);
    if (v < 0) return fail(SipErrors.CONTACT, `invalid q value "${qs}" (0 to 1, up to 3 decimals)`);
    contactQ = v;
  }
  return undefined;
}

/** Contact: `*` alone, or a comma list of name-addr / addr-spec with `expires` and `q` read out. */
export function parseContactList(text: string): ContactList | ParseError {
  const n = text.length;
  const s = skipLws(text, 0);
  if (s < n && text.charCodeAt(s) === 0x2a /* * */) {
    const after = skipLws(text, s + 1);
    if (after >= n) return { star: true, contacts: [] };
    const c = text.charCodeAt(after);
    if (c === 0x2c || c === 0x3b)
      return fail(SipErrors.CONTACT, '"*" must be the only Contact value, without parameters');
  }
  // The parseNameAddrList loop, each element made a Contact at once (no intermediate list).
  const contacts: Contact[] = [];
  let invalid: ParseError | undefined;
  let pos = skipLws(text, 0);
  if (pos >= n) return fail(SipErrors.CONTACT, 'empty value');
  for (;;) {
    if (text.charCodeAt(pos) === 0x2c) return fail(SipErrors.CONTACT, 'empty element in list (extra ",")');
    const na = parseNameAddrAt(text, pos, true);
    if (na instanceof ParseError) return fail(SipErrors.CONTACT, na.detail);
    const end = lastNameAddrEnd();
    if (invalid === undefined) invalid = contactParamsError(na);
    // A later element that does not parse is reported before a bad expires/q (the whole list is
    // parsed first, as parseNameAddrList does).
    if (invalid === undefined)
      contacts.push({
        displayName: na.displayName,
        uriText: na.uriText,
        uri: na.uri,
        params: na.params,
        bracketed: na.bracketed,
        expires: contactExpires,
        q: contactQ,
      });
    if (end >= n) break;
    pos = skipLws(text, end + 1);
    if (pos >= n) return fail(SipErrors.CONTACT, 'trailing "," at end of list');
  }
  if (invalid !== undefined) return invalid;
  return { star: false, contacts };
}

/**
 * `auth-param *( COMMA auth-param )` from i: names lower-cased, values unquoted. Unquoted values may be
 * tokens or (liberally) hold `:` `/` `[` `]` (e.g. an unquoted `uri=sip:host`). Returns a reason on error.
 */
function parseAuthParams(text: string, i: number, out: Map<string, string>): string {
  const n = text.length;
  for (;;) {
    i = skipLws(text, i);
    const ns = i;
    const ne = scanToken(text, ns);
    if (ne === ns) {
      if (ns >= n) return 'trailing "," after auth-params';
      if (text.charCodeAt(ns) === 0x2c) return 'empty auth-param (extra ",")';
      return `invalid ${describeChar(text, ns)} in auth-param name`;
    }
    const name = text.slice(ns, ne).toLowerCase();
    i = skipLws(text, ne);
    if (i >= n || text.charCodeAt(i) !== 0x3d) return `auth-param "${name}" without "="`;
    i = skipLws(text, i + 1);
    let value: string;
    if (i < n && text.charCodeAt(i) === 0x22) {
      const e = scanQuotedString(text, i);
      if (e < 0) return `unterminated quoted string in auth-param "${name}"`;
      value = unquoteRange(text, i + 1, e - 1);
      i = e;
    } else {
      const e = scanParamValue(text, i);
      if (e === i) {
        return i >= n
          ? `missing value for auth-param "${name}"`
          : `invalid ${describeChar(text, i)} in auth-param "${name}"`;
      }
      value = text.slice(i, e);
      i = e;
    }
    if (out.has(name)) return `duplicate auth-param "${name}"`;
    out.set(name, value);
    i = skipLws(text, i);
    if (i >= n) return '';
    if (text.charCodeAt(i) !== 0x2c) return `unexpected ${describeChar(text, i)} after auth-param "${name}"`;
    i++;
  }
}

const EMPTY_MAP: ReadonlyMap<string, string> = new Map();

function parseAuth(text: string, what: string): Credentials | ParseError {
  const n = text.length;
  const ss = skipLws(text, 0);
  const se = scanToken(text, ss);
  if (se === ss) {
    if (ss >= n) return fail(SipErrors.AUTH, `empty ${what}`);
    return fail(SipErrors.AUTH, `invalid ${describeChar(text, ss)} in auth scheme`);
  }
  const digest = rangeEqualsLower(text, ss, se, 'digest');
  const scheme = digest ? 'Digest' : text.slice(ss, se);
  const ps = skipLws(text, se);
  if (ps < n && ps === se)
    return fail(SipErrors.AUTH, `expected whitespace after auth scheme, found ${describeChar(text, se)}`);
  const raw = text.slice(ps, trimLwsEnd(text, ps, n));
  if (ps >= n) {
    if (digest) return fail(SipErrors.AUTH, `Digest ${what} without parameters`);
    return { scheme, params: EMPTY_MAP, raw };
  }
  const params = new Map<string, string>();
  const why = parseAuthParams(text, ps, params);
  if (why !== '') {
    // Other schemes may carry a token68 or free text: keep it raw.
    if (digest) return fail(SipErrors.AUTH, why);
    return { scheme, params: EMPTY_MAP, raw };
  }
  return { scheme, params, raw };
}

/** Authorization / Proxy-Authorization. `Digest` is recognised in any case and reported as `Digest`. */
export function parseCredentials(text: string): Credentials | ParseError {
  return parseAuth(text, 'credentials');
}

/** WWW-Authenticate / Proxy-Authenticate. */
export function parseChallenge(text: string): Credentials | ParseError {
  return parseAuth(text, 'challenge');
}

/** Comma list of tokens (Allow, Supported, Require, Proxy-Require, Unsupported). Empty text gives []. */
export function parseTokenList(text: string): string[] | ParseError {
  const n = text.length;
  const out: string[] = [];
  let i = skipLws(text, 0);
  if (i >= n) return out;
  for (;;) {
    const ts = i;
    const te = scanToken(text, ts);
    if (te === ts) {
      if (text.charCodeAt(i) === 0x2c) return fail(SipErrors.TOKEN_LIST, 'empty element in list (extra ",")');
      return fail(SipErrors.TOKEN_LIST, `invalid ${describeChar(text, i)} in token list`);
    }
    out.push(methodName(text, i, te));
    i = skipLws(text, te);
    if (i >= n) return out;
    if (text.charCodeAt(i) !== 0x2c) {
      return fail(SipErrors.TOKEN_LIST, `unexpected ${describeChar(text, i)} after "${text.slice(ts, te)}"`);
    }
    i = skipLws(text, i + 1);
    if (i >= n) return fail(SipErrors.TOKEN_LIST, 'trailing "," at end of list');
  }
}

/** Content-Type: `type SLASH subtype *( SEMI m-parameter )`; type and subtype lower-cased. */
export function parseContentType(text: string): ContentType | ParseError {
  const n = text.length;
  const ts = skipLws(text, 0);
  const te = scanToken(text, ts);
  if (te === ts) {
    if (ts >= n) return fail(SipErrors.CONTENT_TYPE, 'empty value');
    return fail(SipErrors.CONTENT_TYPE, `invalid ${describeChar(text, ts)} in media type`);
  }
  let i = skipLws(text, te);
  if (i >= n || text.charCodeAt(i) !== 0x2f) {
    return fail(SipErrors.CONTENT_TYPE, `expected "/" after media type, found ${describeChar(text, i)}`);
  }
  const ss = skipLws(text, i + 1);
  const se = scanToken(text, ss);
  if (se === ss)
    return fail(SipErrors.CONTENT_TYPE, `missing media subtype, found ${describeChar(text, ss)}`);
  i = se;
  let params = ParamList.EMPTY;
  const after = skipLws(text, i);
  if (after < n) {
    if (text.charCodeAt(after) !== 0x3b) {
      return fail(SipErrors.CONTENT_TYPE, `unexpected ${describeChar(text, after)} after media subtype`);
    }
    const r = parseParams(text, after, false);
    if (r instanceof ParseError) return fail(SipErrors.CONTENT_TYPE, r.detail);
    params = r.params;
  }
  if (rangeEqualsLower(text, ts, te, 'application') && rangeEqualsLower(text, ss, se, 'sdp')) {
    return { mediaType: 'application/sdp', type: 'application', subtype: 'sdp', params };
  }
  const type = text.slice(ts, te).toLowerCase();
  const subtype = text.slice(ss, se).toLowerCase();
  return { mediaType: `${type}/${subtype}`, type, subtype, params };
}

/** Event / Allow-Events element: `event-type *( SEMI event-param )`; the event type is kept as written. */
export function parseEvent(text: string): EventValue | ParseError {
  const n = text.length;
  const es = skipLws(text, 0);
  const ee = scanToken(text, es);
  if (ee === es) {
    if (es >= n) return fail(SipErrors.HEADER_VALUE, 'empty Event value');
    return fail(SipErrors.HEADER_VALUE, `invalid ${describeChar(text, es)} in event type`);
  }
  let params = ParamList.EMPTY;
  const after = skipLws(text, ee);
  if (after < n) {
    if (text.charCodeAt(after) !== 0x3b) {
      return fail(SipErrors.HEADER_VALUE, `unexpected ${describeChar(text, after)} after event type`);
    }
    const r = parseParams(text, after, false);
    if (r instanceof ParseError) return fail(SipErrors.HEADER_VALUE, r.detail);
    params = r.params;
  }
  return { event: text.slice(es, ee), params };
}
