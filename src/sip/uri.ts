/**
 * URIs in SIP: `sip:`/`sips:` (RFC 3261 §19.1, §25.1; IPv6 references per RFC 5118), `tel:` (RFC 3966)
 * and any other scheme kept opaque. Also %HH unescaping, comparison (RFC 3261 §19.1.4) and formatting.
 *
 * Policies (liberal where it is safe, strict where the RFC torture tests say so):
 * - The scheme is case-insensitive and stored lower-case; `raw` keeps the text as written.
 * - Whitespace anywhere in a URI is an error (RFC 4475 lwsruri, badaspec).
 * - The host is a hostname (labels of ALPHA / DIGIT / "-" / "_", non-empty; a top label starting with a
 *   digit is tolerated, as in `sip.194.213.29.100`), an IPv4 address (a host made only of digits and dots
 *   must be a valid dotted quad), or an IPv6 reference in brackets. An IPv6 address without brackets is
 *   an error (RFC 5118 §4.2). `[2001:db8::10:5070]` is an address with no port (§4.3).
 * - `[2001:db8:::192.0.2.1]` (three colons, RFC 5118 §4.10) is REJECTED with a reason naming ":::"; we do
 *   not guess which colon was meant.
 * - The user part may also hold an unescaped "#" (feature codes like `*67#123` are common) and non-ASCII
 *   characters; neither is a delimiter, so accepting them cannot change how the URI splits.
 * - `%` must start a valid `%HH` escape inside sip/sips user, password, parameters and headers.
 */
import {
  C_HEADER,
  C_PARAM,
  C_PASSWORD,
  C_USER,
  CHAR_CLASS,
  describeChar,
  eqIgnoreCase,
  hexValue,
  isAlnum,
  isAlpha,
  isDigit,
  isEscapeAt,
  isHexDigit,
  parseDecimal,
  rangeEqualsLower,
} from './chars.ts';
import { fail, ParseError, SipErrors } from './errors.ts';
import { lastParamsEnd, ParamList, parseParamList, parseParams } from './params.ts';
import type { OpaqueUri, Params, SipUri, TelUri, Uri } from './types.ts';

// ---------------------------------------------------------------------------------------------
// Hosts

let hostErr = '';

/** Why the last scanHost() / checkIPv6() call failed. */
export function lastHostError(): string {
  return hostErr;
}

/** True when s[start, end) is a dotted-quad IPv4 address (1–3 digits per part, each 0–255). */
export function isIPv4(s: string, start = 0, end = s.length): boolean {
  let parts = 0;
  let i = start;
  while (i <= end) {
    let v = 0;
    let digits = 0;
    while (i < end) {
      const d = s.charCodeAt(i) - 0x30;
      if (d < 0 || d > 9) break;
      v = v * 10 + d;
      digits++;
      i++;
    }
    if (digits === 0 || digits > 3 || v > 255) return false;
    parts++;
    if (i === end) return parts === 4;
    if (s.charCodeAt(i) !== 0x2e || parts === 4) return false;
    i++;
  }
  return false;
}

/**
 * Validate the IPv6 address s[start, end) (RFC 4291 text form, optional trailing dotted quad, no
 * brackets). Returns '' when valid, else the reason. When `out` is given it receives the 8 groups.
 */
export function checkIPv6(s: string, start: number, end: number, out?: Uint16Array): string {
  const groups = out ?? null;
  let count = 0;
  let gap = -1; // group index where "::" stands
  let i = start;
  if (i >= end) return 'empty IPv6 address';
  if (s.charCodeAt(i) === 0x3a) {
    if (i + 1 >= end || s.charCodeAt(i + 1) !== 0x3a) return 'IPv6 address starts with a single ":"';
    gap = 0;
    i += 2;
    if (i < end && s.charCodeAt(i) === 0x3a) return '":::" in IPv6 address (RFC 5118 §4.10)';
  }
  while (i < end) {
    const gs = i;
    let v = 0;
    while (i < end && i - gs < 5) {
      const h = hexValue(s.charCodeAt(i));
      if (h < 0) break;
      v = v * 16 + h;
      i++;
    }
    if (i < end && s.charCodeAt(i) === 0x2e) {
      // Embedded IPv4 (::ffff:192.0.2.1): must be the last 32 bits.
      if (!isIPv4(s, gs, end)) return 'invalid IPv4 part in IPv6 address';
      if (count > 6) return 'too many groups in IPv6 address';
      if (groups !== null) {
        let a = 0;
        let p = gs;
        const oct = [0, 0, 0, 0];
        for (let k = 0; k < 4; k++) {
          a = 0;
          while (p < end && s.charCodeAt(p) !== 0x2e) a = a * 10 + (s.charCodeAt(p++) - 0x30);
          oct[k] = a;
          p++;
        }
        groups[count] = (oct[0] << 8) | oct[1];
        groups[count + 1] = (oct[2] << 8) | oct[3];
      }
      count += 2;
      i = end;
      break;
    }
    const len = i - gs;
    if (len === 0) {
      return i < end ? `invalid ${describeChar(s, i)} in IPv6 address` : 'IPv6 address ends with ":"';
    }
    if (len > 4) return 'IPv6 group with more than 4 hex digits';
    if (count >= 8) return 'too many groups in IPv6 address';
    if (groups !== null) groups[count] = v;
    count++;
    if (i === end) break;
    if (s.charCodeAt(i) !== 0x3a) return `invalid ${describeChar(s, i)} in IPv6 address`;
    i++;
    if (i < end && s.charCodeAt(i) === 0x3a) {
      if (gap >= 0) return 'more than one "::" in IPv6 address';
      gap = count;
      i++;
      if (i < end && s.charCodeAt(i) === 0x3a) return '":::" in IPv6 address (RFC 5118 §4.10)';
    } else if (i === end) {
      return 'IPv6 address ends with a single ":"';
    }
  }
  if (gap >= 0) {
    if (count > 7) return 'too many groups in IPv6 address with "::"';
    if (groups !== null) {
      const tail = count - gap;
      for (let k = 0; k < tail; k++) groups[7 - k] = groups[count - 1 - k];
      for (let k = gap; k < 8 - tail; k++) groups[k] = 0;
    }
  } else if (count !== 8) {
    return 'too few groups in IPv6 address';
  }
  return '';
}

const H_NAME = 1;
const H_DIGIT = 2;
const H_DOT = 3;
/** Host-name characters: letters, "-" and "_" (H_NAME), digits, and the label separator. */
const HOST_CLASS = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  if (c >= 0x30 && c <= 0x39) HOST_CLASS[c] = H_DIGIT;
  else if (isAlpha(c) || c === 0x2d || c === 0x5f) HOST_CLASS[c] = H_NAME;
}
HOST_CLASS[0x2e] = H_DOT;

/**
 * Scan a host at s[i]: `[IPv6]`, IPv4 or hostname. Returns the index after it, or -1 (reason in
 * lastHostError()). Stops at the first character that cannot be part of a host; the caller checks it.
 */
export function scanHost(s: string, i: number): number {
  const n = s.length;
  if (i >= n) {
    hostErr = 'missing host';
    return -1;
  }
  if (s.charCodeAt(i) === 0x5b /* [ */) {
    let close = i + 1;
    while (close < n) {
      const c = s.charCodeAt(close);
      if (c === 0x5d) break;
      if (!isHexDigit(c) && c !== 0x3a && c !== 0x2e) {
        // A delimiter means the reference was never closed; anything else is a bad character in it.
        hostErr =
          isAlnum(c) || c === 0x25 || c === 0x2d || c === 0x5f
            ? `invalid ${describeChar(s, close)} in IPv6 reference`
            : 'IPv6 reference without closing ]';
        return -1;
      }
      close++;
    }
    if (close >= n) {
      hostErr = 'IPv6 reference without closing ]';
      return -1;
    }
    const why = checkIPv6(s, i + 1, close);
    if (why !== '') {
      hostErr = why;
      return -1;
    }
    return close + 1;
  }
  // One pass: label structure, and for an all-digit host the dotted-quad rules (4 parts, 1-3 digits, <= 255).
  let j = i;
  let numeric = true;
  let labelStart = i;
  let parts = 0;
  let part = 0;
  while (j < n) {
    const c = s.charCodeAt(j);
    if (c >= 128) break;
    const t = HOST_CLASS[c];
    if (t === 0) break;
    if (t === H_DOT) {
      if (j === labelStart) {
        hostErr = 'empty label in host name';
        return -1;
      }
      if (numeric) {
        if (j - labelStart > 3 || part > 255) numeric = false;
        parts++;
      }
      labelStart = j + 1;
      part = 0;
    } else if (t === H_DIGIT) {
      part = part * 10 + (c - 0x30);
    } else {
      numeric = false;
    }
    j++;
  }
  if (j === i) {
    hostErr = s.charCodeAt(i) === 0x20 ? 'whitespace inside URI' : `invalid ${describeChar(s, i)} in host`;
    return -1;
  }
  if (numeric || allDigitsAndDots(s, i, j)) {
    // the last part, then the count
    if (!numeric || j === labelStart || j - labelStart > 3 || part > 255 || parts !== 3) {
      hostErr = `invalid IPv4 address "${s.slice(i, j)}"`;
      return -1;
    }
  }
  return j;
}

function allDigitsAndDots(s: string, i: number, end: number): boolean {
  for (; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c !== 0x2e && (c < 0x30 || c > 0x39)) return false;
  }
  return true;
}

/** True when `host` (as stored: IPv6 with brackets) is a valid host. */
export function isValidHost(host: string): boolean {
  return scanHost(host, 0) === host.length;
}

// ---------------------------------------------------------------------------------------------
// Parsing

function whereFail(s: string, i: number, where: string): ParseError {
  const c = s.charCodeAt(i);
  if (c === 0x20 || c === 0x09) return fail(SipErrors.URI, `whitespace inside URI (in ${where})`);
  return fail(SipErrors.URI, `invalid ${describeChar(s, i)} in ${where}`);
}

/**
 * The last few URIs parsed (Uri values are immutable): a proxy reads the same few texts with every
 * call (its own Record-Route and Route URIs, checked for "myself" more than once per request).
 * Looking up costs a few string comparisons, most ending at the length.
 */
const CACHE_SIZE = 8;
const cacheText: string[] = [];
const cacheUri: Uri[] = [];
let cacheNext = 0;

/** Parse a URI. Never throws; a malformed URI gives a ParseError saying what is wrong. */
export function parseUri(text: string): Uri | ParseError {
  for (let k = 0; k < cacheText.length; k++) if (cacheText[k] === text) return cacheUri[k];
  const r = parseUriText(text);
  if (!(r instanceof ParseError)) {
    cacheText[cacheNext] = text;
    cacheUri[cacheNext] = r;
    cacheNext = (cacheNext + 1) % CACHE_SIZE;
  }
  return r;
}

function parseUriText(text: string): Uri | ParseError {
  const n = text.length;
  if (n === 0) return fail(SipErrors.URI, 'empty URI');
  const c0 = text.charCodeAt(0);
  if (!isAlpha(c0)) {
    if (c0 === 0x3c) return fail(SipErrors.URI, 'URI enclosed in <>');
    if (c0 === 0x20 || c0 === 0x09) return fail(SipErrors.URI, 'whitespace before URI');
    return fail(SipErrors.URI, `URI must start with a scheme, found ${describeChar(text, 0)}`);
  }
  let i = 1;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (isAlnum(c) || c === 0x2b || c === 0x2d || c === 0x2e) i++;
    else break;
  }
  if (i >= n) return fail(SipErrors.URI, 'missing ":" after URI scheme');
  if (text.charCodeAt(i) !== 0x3a) return whereFail(text, i, 'URI scheme');
  if (rangeEqualsLower(text, 0, i, 'sip')) return parseSip(text, 'sip', i + 1);
  if (rangeEqualsLower(text, 0, i, 'sips')) return parseSip(text, 'sips', i + 1);
  if (rangeEqualsLower(text, 0, i, 'tel')) return parseTel(text, i + 1);
  return parseOpaque(text, i);
}

function parseSip(text: string, scheme: 'sip' | 'sips', start: number): SipUri | ParseError {
  const n = text.length;
  let user: string | undefined;
  let password: string | undefined;
  let hostStart = start;
  const at = text.indexOf('@', start);
  if (at >= 0) {
    let pw = -1;
    for (let i = start; i < at; i++) {
      const c = text.charCodeAt(i);
      if (c === 0x25) {
        if (!isEscapeAt(text, i)) {
          return fail(SipErrors.URI, `invalid % escape in ${pw < 0 ? 'user part' : 'password'}`);
        }
        i += 2;
        continue;
      }
      if (c === 0x3a && pw < 0) {
        pw = i;
        continue;
      }
      const ok =
        c < 128
          ? (CHAR_CLASS[c] & (pw < 0 ? C_USER : C_PASSWORD)) !== 0 || (pw < 0 && c === 0x23) /* # */
          : c >= 0xa0;
      if (!ok) return whereFail(text, i, pw < 0 ? 'user part' : 'password');
    }
    const userEnd = pw < 0 ? at : pw;
    if (userEnd === start) return fail(SipErrors.URI, 'empty user part before "@"');
    user = text.slice(start, userEnd);
    if (pw >= 0) password = text.slice(pw + 1, at);
    hostStart = at + 1;
  }
  const hostEnd = scanHost(text, hostStart);
  if (hostEnd < 0) {
    // `sip:2001:db8::10` — an IPv6 address without brackets (RFC 5118 §4.2).
    if (looksLikeBareIPv6(text, hostStart)) {
      return fail(SipErrors.URI, 'IPv6 address in URI must be enclosed in [ ] (RFC 5118 §4.2)');
    }
    return fail(SipErrors.URI, hostErr);
  }
  const host = text.slice(hostStart, hostEnd);
  let i = hostEnd;
  let port: number | undefined;
  if (i < n && text.charCodeAt(i) === 0x3a) {
    const ps = i + 1;
    let pe = ps;
    while (pe < n && isDigit(text.charCodeAt(pe))) pe++;
    if (pe < n && !isSipDelimiter(text.charCodeAt(pe))) {
      if (looksLikeBareIPv6(text, hostStart)) {
        return fail(SipErrors.URI, 'IPv6 address in URI must be enclosed in [ ] (RFC 5118 §4.2)');
      }
      return whereFail(text, pe, 'port');
    }
    if (pe === ps) return fail(SipErrors.URI, 'empty port after ":"');
    const v = parseDecimal(text, ps, pe, 65535);
    if (v < 0) return fail(SipErrors.URI, `port ${text.slice(ps, pe)} out of range 0-65535`);
    port = v;
    i = pe;
  }
  let params = ParamList.EMPTY;
  if (i < n && text.charCodeAt(i) === 0x3b) {
    const r = parseParamList(text, i, false, true);
    if (r instanceof ParseError) return fail(SipErrors.URI, `${r.detail} (URI parameters)`);
    params = r;
    i = lastParamsEnd();
  }
  let headers: string | undefined;
  if (i < n) {
    if (text.charCodeAt(i) !== 0x3f) return whereFail(text, i, 'URI after host');
    const hs = i + 1;
    if (hs >= n) return fail(SipErrors.URI, 'empty headers after "?"');
    for (let k = hs; k < n; k++) {
      const c = text.charCodeAt(k);
      if (c === 0x25) {
        if (!isEscapeAt(text, k)) return fail(SipErrors.URI, 'invalid % escape in URI headers');
        k += 2;
      } else if (c < 128 ? (CHAR_CLASS[c] & C_HEADER) === 0 : c < 0xa0) {
        return whereFail(text, k, 'URI headers');
      }
    }
    headers = text.slice(hs);
  }
  return { scheme, user, password, host, port, params, headers, raw: text };
}

function isSipDelimiter(c: number): boolean {
  return c === 0x3b || c === 0x3f;
}

/** Host text at i made of hex digits and at least two colons: an unbracketed IPv6 address. */
export function looksLikeBareIPv6(s: string, i: number): boolean {
  let colons = 0;
  const n = s.length;
  while (i < n) {
    const c = s.charCodeAt(i);
    if (c === 0x3a) colons++;
    else if (!isHexDigit(c) && c !== 0x2e) break;
    i++;
  }
  return colons >= 2;
}

function isVisualSeparator(c: number): boolean {
  return c === 0x2d || c === 0x2e || c === 0x28 || c === 0x29;
}

function parseTel(text: string, start: number): TelUri | ParseError {
  const n = text.length;
  let end = text.indexOf(';', start);
  if (end < 0) end = n;
  if (end === start) return fail(SipErrors.URI, 'empty telephone number in tel URI');
  const global = text.charCodeAt(start) === 0x2b;
  let digits = 0;
  for (let i = global ? start + 1 : start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (global ? isDigit(c) : isHexDigit(c) || c === 0x2a || c === 0x23) digits++;
    else if (!isVisualSeparator(c)) return whereFail(text, i, 'telephone number');
  }
  if (digits === 0) return fail(SipErrors.URI, 'telephone number without digits');
  let params = ParamList.EMPTY;
  if (end < n) {
    const r = parseParams(text, end, false, true);
    if (r instanceof ParseError) return fail(SipErrors.URI, `${r.detail} (tel URI parameters)`);
    if (r.end < n) return whereFail(text, r.end, 'tel URI');
    params = r.params;
    for (const [name] of params.entries()) {
      for (let k = 0; k < name.length; k++) {
        const c = name.charCodeAt(k);
        if (!isAlnum(c) && c !== 0x2d) return fail(SipErrors.URI, `invalid tel URI parameter name "${name}"`);
      }
    }
  }
  if (!global) {
    const ctx = params.get('phone-context');
    if (ctx === undefined || ctx === '') {
      return fail(SipErrors.URI, 'local tel number without phone-context (RFC 3966 §5.1.5)');
    }
  }
  return { scheme: 'tel', number: text.slice(start, end), params, raw: text };
}

function parseOpaque(text: string, colon: number): OpaqueUri | ParseError {
  const n = text.length;
  if (colon + 1 >= n) return fail(SipErrors.URI, 'empty URI after scheme');
  for (let i = colon + 1; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c <= 0x20 || c === 0x7f || c === 0x22 || c === 0x3c || c === 0x3e || (c >= 0x80 && c < 0xa0)) {
      return whereFail(text, i, 'URI');
    }
  }
  let scheme = text.slice(0, colon);
  for (let i = 0; i < colon; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x41 && c <= 0x5a) {
      scheme = scheme.toLowerCase();
      break;
    }
  }
  return { scheme, opaque: text.slice(colon + 1), raw: text };
}

export function isSipUri(u: Uri): u is SipUri {
  return u.scheme === 'sip' || u.scheme === 'sips';
}

export function isTelUri(u: Uri): u is TelUri {
  return u.scheme === 'tel';
}

// ---------------------------------------------------------------------------------------------
// Escaping

/**
 * Resolve `%HH` escapes. The resulting octets are decoded as UTF-8 where they form valid UTF-8;
 * any other octet becomes the character with that code (latin1), so nothing is ever dropped.
 * `%00` gives U+0000 (the string is not truncated). A `%` not followed by two hex digits stays as is.
 */
// biome-ignore lint/suspicious/noShadowRestrictedNames: the message layer imports this exact name (shadows only the deprecated global)
export function unescape(s: string): string {
  const first = s.indexOf('%');
  if (first < 0) return s;
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x25 && isEscapeAt(s, i)) {
      bytes.push((hexValue(s.charCodeAt(i + 1)) << 4) | hexValue(s.charCodeAt(i + 2)));
      i += 2;
    } else if (c < 0x80) {
      bytes.push(c);
    } else {
      let cp = c;
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
        const lo = s.charCodeAt(i + 1);
        if (lo >= 0xdc00 && lo <= 0xdfff) {
          cp = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
          i++;
        }
      }
      pushUtf8(bytes, cp);
    }
  }
  return decodeUtf8Lenient(bytes);
}

function pushUtf8(out: number[], cp: number): void {
  if (cp < 0x80) out.push(cp);
  else if (cp < 0x800) out.push(0xc0 | (cp >> 6), 0x80 | (cp & 0x3f));
  else if (cp < 0x10000) out.push(0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f));
  else {
    out.push(0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 0x3f), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f));
  }
}

function isCont(b: number | undefined): boolean {
  return b !== undefined && (b & 0xc0) === 0x80;
}

function decodeUtf8Lenient(b: number[]): string {
  const cps: number[] = [];
  const n = b.length;
  let i = 0;
  while (i < n) {
    const b0 = b[i];
    if (b0 < 0x80) {
      cps.push(b0);
      i++;
      continue;
    }
    if (b0 >= 0xc2 && b0 <= 0xdf && isCont(b[i + 1])) {
      cps.push(((b0 & 0x1f) << 6) | (b[i + 1] & 0x3f));
      i += 2;
      continue;
    }
    if (b0 >= 0xe0 && b0 <= 0xef && isCont(b[i + 1]) && isCont(b[i + 2])) {
      const b1 = b[i + 1];
      if ((b0 !== 0xe0 || b1 >= 0xa0) && (b0 !== 0xed || b1 <= 0x9f)) {
        cps.push(((b0 & 0x0f) << 12) | ((b1 & 0x3f) << 6) | (b[i + 2] & 0x3f));
        i += 3;
        continue;
      }
    }
    if (b0 >= 0xf0 && b0 <= 0xf4 && isCont(b[i + 1]) && isCont(b[i + 2]) && isCont(b[i + 3])) {
      const b1 = b[i + 1];
      if ((b0 !== 0xf0 || b1 >= 0x90) && (b0 !== 0xf4 || b1 <= 0x8f)) {
        cps.push(((b0 & 0x07) << 18) | ((b1 & 0x3f) << 12) | ((b[i + 2] & 0x3f) << 6) | (b[i + 3] & 0x3f));
        i += 4;
        continue;
      }
    }
    cps.push(b0); // not valid UTF-8 here: keep the octet as a latin1 character
    i++;
  }
  let out = '';
  for (let k = 0; k < cps.length; k += 4096) out += String.fromCodePoint(...cps.slice(k, k + 4096));
  return out;
}

const HEX_UPPER = '0123456789ABCDEF';

function escapeWith(s: string, bits: number): string {
  let clean = true;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || (CHAR_CLASS[c] & bits) === 0) {
      clean = false;
      break;
    }
  }
  if (clean) return s;
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    let cp = s.charCodeAt(i);
    if (cp >= 0xd800 && cp <= 0xdbff && i + 1 < s.length) {
      const lo = s.charCodeAt(i + 1);
      if (lo >= 0xdc00 && lo <= 0xdfff) {
        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        i++;
      }
    }
    pushUtf8(bytes, cp);
  }
  let out = '';
  for (const b of bytes) {
    if (b < 128 && (CHAR_CLASS[b] & bits) !== 0) out += String.fromCharCode(b);
    else out += `%${HEX_UPPER[b >> 4]}${HEX_UPPER[b & 15]}`;
  }
  return out;
}

/** Escape a user part for a sip/sips URI: everything but unreserved / user-unreserved becomes %HH (UTF-8). */
export function escapeUser(s: string): string {
  return escapeWith(s, C_USER);
}

/** Escape a URI parameter name or value (everything but paramchar becomes %HH). */
export function escapeParam(s: string): string {
  return escapeWith(s, C_PARAM);
}

// ---------------------------------------------------------------------------------------------
// Formatting and accessors

/** The URI as text, built from its fields (sip/sips/tel) or its opaque part. */
export function formatUri(u: Uri): string {
  if (isSipUri(u)) {
    let out = `${u.scheme}:`;
    if (u.user !== undefined) {
      out += u.user;
      if (u.password !== undefined) out += `:${u.password}`;
      out += '@';
    }
    out += u.host;
    if (u.port !== undefined) out += `:${u.port}`;
    out += u.params.toString();
    if (u.headers !== undefined) out += `?${u.headers}`;
    return out;
  }
  if (isTelUri(u)) return `tel:${u.number}${u.params.toString()}`;
  return `${u.scheme}:${(u as OpaqueUri).opaque}`;
}

/** The user of a sip/sips URI unescaped, the number of a tel URI as written, else undefined. */
export function uriUser(u: Uri): string | undefined {
  if (isSipUri(u)) return u.user === undefined ? undefined : unescape(u.user);
  if (isTelUri(u)) return u.number;
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Comparison

const v6a = new Uint16Array(8);
const v6b = new Uint16Array(8);

function hostEquals(a: string, b: string): boolean {
  if (eqIgnoreCase(a, b)) return true;
  if (a.charCodeAt(0) !== 0x5b || b.charCodeAt(0) !== 0x5b) return false;
  if (checkIPv6(a, 1, a.length - 1, v6a) !== '' || checkIPv6(b, 1, b.length - 1, v6b) !== '') return false;
  for (let k = 0; k < 8; k++) if (v6a[k] !== v6b[k]) return false;
  return true;
}

/** Parameters that must be present in both URIs or neither (RFC 3261 §19.1.4). */
const MUST_MATCH = ['transport', 'user', 'ttl', 'method', 'maddr'];

/** RFC 2396 reserved characters: `%HH` of one of these is NOT equivalent to the character itself. */
function isReserved(b: number): boolean {
  switch (b) {
    case 0x3b: // ;
    case 0x2f: // /
    case 0x3f: // ?
    case 0x3a: // :
    case 0x40: // @
    case 0x26: // &
    case 0x3d: // =
    case 0x2b: // +
    case 0x24: // $
    case 0x2c: // ,
      return true;
    default:
      return false;
  }
}

/**
 * Canonical octet form for comparison (RFC 3261 §19.1.4): escapes of non-reserved octets are decoded,
 * escapes of reserved characters stay escaped (upper-case hex), raw non-ASCII becomes its UTF-8 octets.
 * One character per octet, so `%C3%A9` and a raw `é` compare equal.
 */
function canonEscapes(s: string): string {
  let plain = true;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x25 || c >= 0x80) {
      plain = false;
      break;
    }
  }
  if (plain) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x25 && isEscapeAt(s, i)) {
      const b = (hexValue(s.charCodeAt(i + 1)) << 4) | hexValue(s.charCodeAt(i + 2));
      out += isReserved(b) ? `%${HEX_UPPER[b >> 4]}${HEX_UPPER[b & 15]}` : String.fromCharCode(b);
      i += 2;
    } else if (c < 0x80) {
      out += s[i];
    } else {
      let cp = c;
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
        const lo = s.charCodeAt(i + 1);
        if (lo >= 0xdc00 && lo <= 0xdfff) {
          cp = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
          i++;
        }
      }
      const bytes: number[] = [];
      pushUtf8(bytes, cp);
      for (const b of bytes) out += String.fromCharCode(b);
    }
  }
  return out;
}

function paramMap(p: Params): Map<string, string> {
  const m = new Map<string, string>();
  for (const [name, value] of p.entries()) {
    const key = canonEscapes(name).toLowerCase();
    if (!m.has(key)) m.set(key, canonEscapes(value ?? '').toLowerCase());
  }
  return m;
}

function headerList(h: string): string[] {
  const out: string[] = [];
  for (const part of h.split('&')) {
    const eq = part.indexOf('=');
    const name = canonEscapes(eq < 0 ? part : part.slice(0, eq)).toLowerCase();
    const value = eq < 0 ? '' : canonEscapes(part.slice(eq + 1));
    out.push(`${name}=${value}`);
  }
  return out.sort();
}

function telNumber(n: string): string {
  let out = '';
  for (let i = 0; i < n.length; i++) {
    const c = n.charCodeAt(i);
    if (!isVisualSeparator(c)) out += n[i];
  }
  return out.toLowerCase();
}

/**
 * URI equality, RFC 3261 §19.1.4 for sip/sips: userinfo compared case-sensitively, where `%HH` equals
 * the character it encodes unless that character is reserved (`sip:%61lice@h` = `sip:alice@h`, but
 * `sip:a%3Bb@h` ≠ `sip:a;b@h`);
 * host case-insensitively (IPv6 by value), ports must both be absent or equal; a parameter present in
 * both must match (case-insensitive, same escape rule); transport/user/ttl/method/maddr present in only one
 * never matches; other one-sided parameters are ignored; headers must be the same set (order-free;
 * names case-insensitive, values case-sensitive, same escape rule).
 * tel: RFC 3966 §4 (visual separators ignored, case-insensitive, same parameter set).
 * Other schemes: equal only when scheme and opaque part are identical.
 */
export function uriEquals(a: Uri, b: Uri): boolean {
  if (a.scheme !== b.scheme) return false;
  if (isSipUri(a) && isSipUri(b)) {
    if ((a.user === undefined) !== (b.user === undefined)) return false;
    if (a.user !== undefined && a.user !== b.user && canonEscapes(a.user) !== canonEscapes(b.user as string))
      return false;
    if ((a.password === undefined) !== (b.password === undefined)) return false;
    if (a.password !== undefined && a.password !== b.password) {
      if (canonEscapes(a.password) !== canonEscapes(b.password as string)) return false;
    }
    if (!hostEquals(a.host, b.host)) return false;
    if (a.port !== b.port) return false;
    if (a.params.size > 0 || b.params.size > 0) {
      const pa = paramMap(a.params);
      const pb = paramMap(b.params);
      for (const [k, v] of pa) {
        const w = pb.get(k);
        if (w === undefined ? MUST_MATCH.includes(k) : w !== v) return false;
      }
      for (const k of pb.keys()) if (!pa.has(k) && MUST_MATCH.includes(k)) return false;
    }
    if ((a.headers === undefined) !== (b.headers === undefined)) return false;
    if (a.headers !== undefined && a.headers !== b.headers) {
      const ha = headerList(a.headers);
      const hb = headerList(b.headers as string);
      if (ha.length !== hb.length) return false;
      for (let k = 0; k < ha.length; k++) if (ha[k] !== hb[k]) return false;
    }
    return true;
  }
  if (isTelUri(a) && isTelUri(b)) {
    if (telNumber(a.number) !== telNumber(b.number)) return false;
    if (a.params.size !== b.params.size) return false;
    const pa = paramMap(a.params);
    const pb = paramMap(b.params);
    for (const [k, v] of pa) if (pb.get(k) !== v) return false;
    return true;
  }
  return (a as OpaqueUri).opaque === (b as OpaqueUri).opaque;
}
