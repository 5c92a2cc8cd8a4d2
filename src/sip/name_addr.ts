/**
 * name-addr / addr-spec with header parameters (RFC 3261 §20.10, §20.20, §20.39; §25.1):
 *   ( name-addr / addr-spec ) *( SEMI generic-param )
 *   name-addr = [ display-name ] LAQUOT addr-spec RAQUOT
 *   display-name = *( token LWS ) / quoted-string
 *
 * Accepted liberally: no LWS between a token display name and `<` (RFC 4475 lwsdisp); non-ASCII
 * characters in an unquoted display name (they are never delimiters).
 * Rejected: an unterminated quoted string (quotbal), a display name with other non-token characters
 * such as `,` (baddn), whitespace inside `<...>` (badaspec), an addr-spec without `<>` holding `?`
 * (regbadct) or, outside a list, `,` (RFC 3261 §20: such URIs MUST be enclosed in `<>`).
 * Without `<>`, every `;` after the URI starts a header parameter (RFC 3261 §20.10).
 */
import {
  C_TOKEN,
  CHAR_CLASS,
  describeChar,
  rangeEqualsLower,
  scanParamValue,
  scanQuotedString,
  scanToken,
  skipLws,
  unquoteRange,
} from './chars.ts';
import { fail, ParseError, SipErrors } from './errors.ts';
import { lastParamsEnd, ParamList, parseParamList } from './params.ts';
import type { NameAddr } from './types.ts';
import { parseUri } from './uri.ts';

export interface ParsedNameAddr {
  value: NameAddr;
  /** Index after the value: the end of the text, or the top-level `,` when stopAtComma. */
  end: number;
}

/** A display-name word: token characters, or (liberally) any non-ASCII character. */
function scanDisplayWord(s: string, i: number): number {
  const n = s.length;
  while (i < n) {
    const c = s.charCodeAt(i);
    if (c < 128 ? (CHAR_CLASS[c] & C_TOKEN) === 0 : c < 0xa0) break;
    i++;
  }
  return i;
}

/**
 * Parse one name-addr or addr-spec with its header parameters, starting at `pos` (leading LWS skipped).
 * With stopAtComma the value may end at a top-level `,` (lists); otherwise it must end the text.
 */
export function parseNameAddr(text: string, pos: number, stopAtComma: boolean): ParsedNameAddr | ParseError {
  const value = parseNameAddrAt(text, pos, stopAtComma);
  return value instanceof ParseError ? value : { value, end: valueEnd };
}

/** Where the value the last parseNameAddrAt call read ends. */
let valueEnd = 0;

/** parseNameAddr without its result object: `end` is then read with lastNameAddrEnd(). */
export function parseNameAddrAt(text: string, pos: number, stopAtComma: boolean): NameAddr | ParseError {
  const n = text.length;
  let i = skipLws(text, pos);
  if (i >= n) return fail(SipErrors.NAME_ADDR, 'empty value');
  let displayName: string | undefined;
  let c = text.charCodeAt(i);
  let addrSpec = false;
  if (c === 0x22 /* " */) {
    const e = scanQuotedString(text, i);
    if (e < 0) return fail(SipErrors.QUOTED_STRING, 'unterminated quoted string in display name');
    displayName = unquoteRange(text, i + 1, e - 1);
    i = skipLws(text, e);
    if (i >= n || text.charCodeAt(i) !== 0x3c) {
      return fail(
        SipErrors.NAME_ADDR,
        `expected "<" after quoted display name, found ${describeChar(text, i)}`,
      );
    }
  } else if (c !== 0x3c /* < */) {
    const start = i;
    let lastEnd = i;
    let j = i;
    for (;;) {
      const k = scanDisplayWord(text, j);
      if (k === j) break;
      if (j === start && k < n && text.charCodeAt(k) === 0x3a /* : */) {
        addrSpec = true;
        break;
      }
      lastEnd = k;
      j = skipLws(text, k);
      if (j === k) break;
    }
    if (!addrSpec) {
      if (j < n && text.charCodeAt(j) === 0x3c && lastEnd > start) {
        displayName = text.slice(start, lastEnd);
        i = j;
      } else if (lastEnd === start) {
        return fail(SipErrors.NAME_ADDR, `unexpected ${describeChar(text, start)} at start of name-addr`);
      } else if (j >= n) {
        return fail(SipErrors.NAME_ADDR, `display name "${text.slice(start, lastEnd)}" without <URI>`);
      } else {
        return fail(SipErrors.NAME_ADDR, `invalid ${describeChar(text, j)} in display name (not a token)`);
      }
    }
  }

  let uriText: string;
  let after: number;
  let bracketed: boolean;
  if (addrSpec) {
    const us = i;
    let k = i;
    while (k < n) {
      c = text.charCodeAt(k);
      if (c === 0x3b || c === 0x2c || c === 0x20 || c === 0x09) break;
      if (c === 0x3f) {
        return fail(SipErrors.NAME_ADDR, 'URI with "?" headers must be enclosed in <> (RFC 3261 §20)');
      }
      k++;
    }
    if (k < n && c === 0x2c && !stopAtComma) {
      return fail(SipErrors.NAME_ADDR, 'URI with "," must be enclosed in <> (RFC 3261 §20)');
    }
    uriText = text.slice(us, k);
    after = k;
    bracketed = false;
  } else {
    // text[i] is '<'
    const us = i + 1;
    let k = us;
    while (k < n) {
      c = text.charCodeAt(k);
      if (c === 0x3e /* > */) break;
      if (c === 0x20 || c === 0x09) return fail(SipErrors.NAME_ADDR, 'whitespace inside <URI>');
      if (c === 0x3c) return fail(SipErrors.NAME_ADDR, 'nested "<" inside <URI>');
      k++;
    }
    if (k >= n) return fail(SipErrors.NAME_ADDR, 'missing closing ">" after URI');
    if (k === us) return fail(SipErrors.NAME_ADDR, 'empty <>');
    uriText = text.slice(us, k);
    after = k + 1;
    bracketed = true;
  }
  const uri = parseUri(uriText);
  if (uri instanceof ParseError) return uri;
  let params = ParamList.EMPTY;
  let end = after;
  if (after < n) {
    const r = parseParamList(text, after, stopAtComma);
    if (r instanceof ParseError) return r;
    params = r;
    end = lastParamsEnd();
  }
  valueEnd = end;
  return { displayName, uriText, uri, params, bracketed };
}

/** End of the value the last parseNameAddrAt call read (parseNameAddr's `end`). */
export function lastNameAddrEnd(): number {
  return valueEnd;
}

/** Comma-separated name-addr list (Route, Record-Route, Path, P-Asserted-Identity, Contact values). */
export function parseNameAddrList(text: string): NameAddr[] | ParseError {
  const n = text.length;
  const out: NameAddr[] = [];
  let pos = skipLws(text, 0);
  if (pos >= n) return fail(SipErrors.NAME_ADDR, 'empty value');
  for (;;) {
    if (text.charCodeAt(pos) === 0x2c) return fail(SipErrors.NAME_ADDR, 'empty element in list (extra ",")');
    const r = parseNameAddrAt(text, pos, true);
    if (r instanceof ParseError) return r;
    out.push(r);
    const end = valueEnd;
    if (end >= n) return out;
    pos = skipLws(text, end + 1);
    if (pos >= n) return fail(SipErrors.NAME_ADDR, 'trailing "," at end of list');
  }
}

/**
 * The `tag` header parameter of a From/To value without building the NameAddr (hot path).
 * Skips the display name (quoted strings included) and the `<URI>`; for an addr-spec the parameters
 * start at the first `;`. Returns undefined when there is no tag; a ParseError for an unterminated
 * quoted string, a missing `>`, a stray `>`/`<`, an empty parameter or an empty tag.
 */
export function findTagParam(text: string): string | undefined | ParseError {
  const n = text.length;
  let i = 0;
  // Phase 1: display name and URI.
  for (;;) {
    if (i >= n) return undefined;
    const c = text.charCodeAt(i);
    if (c === 0x3c /* < */) {
      const k = text.indexOf('>', i + 1);
      if (k < 0) return fail(SipErrors.NAME_ADDR, 'missing closing ">" after URI');
      i = k + 1;
      break;
    }
    if (c === 0x22 /* " */) {
      const e = scanQuotedString(text, i);
      if (e < 0) return fail(SipErrors.QUOTED_STRING, 'unterminated quoted string in display name');
      i = e;
      continue;
    }
    if (c === 0x3b /* ; */) break;
    if (c === 0x3e) return fail(SipErrors.NAME_ADDR, 'unbalanced ">"');
    i++;
  }
  // Phase 2: header parameters.
  for (;;) {
    i = skipLws(text, i);
    if (i >= n) return undefined;
    if (text.charCodeAt(i) !== 0x3b) {
      return fail(SipErrors.NAME_ADDR, `unexpected ${describeChar(text, i)} after URI`);
    }
    const ns = skipLws(text, i + 1);
    const ne = scanToken(text, ns);
    if (ne === ns) {
      const d = ns < n ? text.charCodeAt(ns) : 0x3b;
      if (d === 0x3b || d === 0x2c) return fail(SipErrors.PARAM, 'empty parameter');
      return fail(SipErrors.PARAM, `invalid ${describeChar(text, ns)} in parameter name`);
    }
    const isTag = rangeEqualsLower(text, ns, ne, 'tag');
    i = skipLws(text, ne);
    if (i < n && text.charCodeAt(i) === 0x3d) {
      i = skipLws(text, i + 1);
      if (i < n && text.charCodeAt(i) === 0x22) {
        const e = scanQuotedString(text, i);
        if (e < 0) return fail(SipErrors.QUOTED_STRING, 'unterminated quoted string in parameter');
        if (isTag) return unquoteRange(text, i + 1, e - 1);
        i = e;
      } else {
        const vs = i;
        i = scanParamValue(text, i);
        if (i === vs) return fail(SipErrors.PARAM, `missing value for parameter "${text.slice(ns, ne)}"`);
        if (isTag) return text.slice(vs, i);
      }
    } else if (isTag) {
      return fail(SipErrors.PARAM, 'tag parameter without a value');
    } else {
      i = ne;
    }
  }
}
