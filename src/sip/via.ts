/**
 * Via (RFC 3261 §20.42, §25.1; RFC 3581 rport; RFC 5118 §4.5):
 *   via-parm = sent-protocol LWS sent-by *( SEMI via-params )
 *   sent-protocol = protocol-name SLASH protocol-version SLASH transport   (SLASH = SWS "/" SWS)
 *   sent-by = host [ COLON port ]
 *
 * Policies:
 * - The transport is upper-cased; unknown transports are kept (RFC 4475 transports).
 * - Extra `;` or `,` (empty parameter / empty via-parm) is an error (RFC 4475 badinv01).
 * - `received` may be IPv4, IPv6 with or without brackets (RFC 5118 §4.5 both forms), and — liberally,
 *   because Asterisk sends it — IPv4 or [IPv6] followed by `:port`. The raw value is kept as written.
 *   Anything else (a host name, garbage) is an error.
 * - `rport` without a value is null; with a value it must be 0–65535. `ttl` must be 0–255. `branch`,
 *   `received` and `maddr` need a value; `maddr` must be a valid host.
 */
import {
  describeChar,
  isDigit,
  parseDecimal,
  rangeEqualsLower,
  scanToken,
  skipLws,
  trimLwsEnd,
} from './chars.ts';
import { fail, ParseError, SipErrors } from './errors.ts';
import { lastParamsEnd, type ParamList, parseParamList } from './params.ts';
import type { Via } from './types.ts';
import { checkIPv6, isIPv4, lastHostError, looksLikeBareIPv6, scanHost } from './uri.ts';

const MAX_UINT16 = 65535;

/** Upper-cased transport; the common ones return interned constants (no allocation). */
function transportName(s: string, start: number, end: number): string {
  switch (end - start) {
    case 2:
      if (rangeEqualsLower(s, start, end, 'ws')) return 'WS';
      break;
    case 3:
      if (rangeEqualsLower(s, start, end, 'udp')) return 'UDP';
      if (rangeEqualsLower(s, start, end, 'tcp')) return 'TCP';
      if (rangeEqualsLower(s, start, end, 'tls')) return 'TLS';
      if (rangeEqualsLower(s, start, end, 'wss')) return 'WSS';
      break;
    case 4:
      if (rangeEqualsLower(s, start, end, 'sctp')) return 'SCTP';
      break;
  }
  return s.slice(start, end).toUpperCase();
}

function protocolName(s: string, start: number, end: number): string {
  if (
    end - start === 3 &&
    s.charCodeAt(start) === 0x53 &&
    s.charCodeAt(start + 1) === 0x49 &&
    s.charCodeAt(start + 2) === 0x50
  ) {
    return 'SIP';
  }
  return s.slice(start, end);
}

function protocolVersion(s: string, start: number, end: number): string {
  if (
    end - start === 3 &&
    s.charCodeAt(start) === 0x32 &&
    s.charCodeAt(start + 1) === 0x2e &&
    s.charCodeAt(start + 2) === 0x30
  ) {
    return '2.0';
  }
  return s.slice(start, end);
}

/** '' when `v` is an acceptable `received` value (see module policy), else the reason. */
export function checkReceived(v: string): string {
  const n = v.length;
  if (n === 0) return 'empty received parameter';
  if (v.charCodeAt(0) === 0x5b) {
    const close = v.indexOf(']');
    if (close < 0) return 'IPv6 reference without closing ] in received';
    const why = checkIPv6(v, 1, close);
    if (why !== '') return `${why} in received`;
    if (close + 1 === n) return '';
    return checkPortSuffix(v, close + 1) ? '' : 'invalid port in received';
  }
  let colons = 0;
  let firstColon = -1;
  for (let i = 0; i < n; i++) {
    if (v.charCodeAt(i) === 0x3a) {
      if (colons === 0) firstColon = i;
      colons++;
    }
  }
  if (colons >= 2) {
    const why = checkIPv6(v, 0, n);
    return why === '' ? '' : `${why} in received`;
  }
  if (colons === 1) {
    if (!isIPv4(v, 0, firstColon)) return 'received is not an IP address';
    return checkPortSuffix(v, firstColon) ? '' : 'invalid port in received';
  }
  return isIPv4(v, 0, n) ? '' : 'received is not an IP address';
}

function checkPortSuffix(v: string, i: number): boolean {
  if (v.charCodeAt(i) !== 0x3a) return false;
  return parseDecimal(v, i + 1, v.length, MAX_UINT16) >= 0;
}

/** Where the via-parm the last parseViaParm call read ends (no result object per via-parm). */
let parmEnd = 0;
/** parseTopViaParm: index of the next via-parm, or the text length when there is none. */
let topRest = 0;

function viaFail(detail: string): ParseError {
  return fail(SipErrors.VIA, detail);
}

/** One via-parm at `pos`; ends at the end of the text or at the top-level `,`. */
function parseViaParm(text: string, pos: number): Via | ParseError {
  const n = text.length;
  const start = skipLws(text, pos);
  let i = start;
  if (i >= n) return viaFail('empty Via value');
  // sent-protocol (fast path for the canonical "SIP/2.0/")
  let protocol = 'SIP';
  let version = '2.0';
  let ts: number;
  if (text.startsWith('SIP/2.0/', i)) {
    ts = skipLws(text, i + 8);
  } else {
    const pe = scanToken(text, i);
    if (pe === i) {
      if (text.charCodeAt(i) === 0x2c) return viaFail('empty Via value (extra ",")');
      return viaFail(`invalid ${describeChar(text, i)} at start of Via value`);
    }
    i = skipLws(text, pe);
    if (i >= n || text.charCodeAt(i) !== 0x2f)
      return viaFail(`expected "/" after protocol name, found ${describeChar(text, i)}`);
    const vs = skipLws(text, i + 1);
    const ve = scanToken(text, vs);
    if (ve === vs) return viaFail(`missing protocol version, found ${describeChar(text, vs)}`);
    i = skipLws(text, ve);
    if (i >= n || text.charCodeAt(i) !== 0x2f)
      return viaFail(`expected "/" after protocol version, found ${describeChar(text, i)}`);
    protocol = protocolName(text, start, pe);
    version = protocolVersion(text, vs, ve);
    ts = skipLws(text, i + 1);
  }
  const te = scanToken(text, ts);
  if (te === ts) return viaFail(`missing transport, found ${describeChar(text, ts)}`);
  // LWS sent-by
  const hs = skipLws(text, te);
  if (hs >= n) return viaFail('missing sent-by host');
  if (hs === te) return viaFail(`expected whitespace after transport, found ${describeChar(text, te)}`);
  const he = scanHost(text, hs);
  if (he < 0) {
    if (looksLikeBareIPv6(text, hs))
      return viaFail('IPv6 address in sent-by must be enclosed in [ ] (RFC 5118)');
    return viaFail(`${lastHostError()} in sent-by`);
  }
  i = he;
  let port: number | undefined;
  const k = skipLws(text, he);
  if (k < n && text.charCodeAt(k) === 0x3a) {
    const ps = skipLws(text, k + 1);
    let p = ps;
    while (p < n && isDigit(text.charCodeAt(p))) p++;
    if (p === ps || (p < n && text.charCodeAt(p) === 0x3a)) {
      if (looksLikeBareIPv6(text, hs))
        return viaFail('IPv6 address in sent-by must be enclosed in [ ] (RFC 5118)');
      return viaFail(`invalid ${describeChar(text, p)} in sent-by port`);
    }
    const v = parseDecimal(text, ps, p, MAX_UINT16);
    if (v < 0) return viaFail(`sent-by port ${text.slice(ps, p)} out of range 0-65535`);
    port = v;
    i = p;
  }
  const after = skipLws(text, i);
  if (after < n) {
    const c = text.charCodeAt(after);
    if (c !== 0x3b && c !== 0x2c) return viaFail(`unexpected ${describeChar(text, after)} after sent-by`);
  }
  const r = parseParamList(text, i, true);
  if (r instanceof ParseError) return viaFail(r.detail);
  const params: ParamList = r;
  const end = lastParamsEnd();

  let branch: string | undefined;
  let received: string | undefined;
  let rport: number | null | undefined;
  let ttl: number | undefined;
  let maddr: string | undefined;
  let seen = 0;
  const count = params.size;
  for (let q = 0; q < count; q++) {
    switch (params.nameLengthAt(q)) {
      case 6:
        if ((seen & 1) === 0 && params.nameIs(q, 'branch')) {
          seen |= 1;
          const value = params.valueAt(q);
          if (value === undefined || value === '') return viaFail('branch parameter without a value');
          branch = value;
        }
        break;
      case 5:
        if ((seen & 4) === 0 && params.nameIs(q, 'rport')) {
          seen |= 4;
          if (params.rawAt(q) === undefined) rport = null;
          else {
            const v = params.numberAt(q, MAX_UINT16);
            if (v < 0) return viaFail(`invalid rport value "${params.rawAt(q)}"`);
            rport = v;
          }
        } else if ((seen & 8) === 0 && params.nameIs(q, 'maddr')) {
          seen |= 8;
          const value = params.valueAt(q);
          if (value === undefined || scanHost(value, 0) !== value.length) {
            return viaFail(`invalid maddr value "${value ?? ''}"`);
          }
          maddr = value;
        }
        break;
      case 8:
        if ((seen & 2) === 0 && params.nameIs(q, 'received')) {
          seen |= 2;
          const value = params.valueAt(q);
          if (value === undefined) return viaFail('received parameter without a value');
          const why = checkReceived(value);
          if (why !== '') return viaFail(why);
          received = value;
        }
        break;
      case 3:
        if ((seen & 16) === 0 && params.nameIs(q, 'ttl')) {
          seen |= 16;
          const v = params.numberAt(q, 255);
          if (v < 0) return viaFail(`invalid ttl value "${params.rawAt(q) ?? ''}" (0-255)`);
          ttl = v;
        }
        break;
    }
  }
  const via: Via = {
    protocol,
    version,
    transport: transportName(text, ts, te),
    host: text.slice(hs, he),
    port,
    params,
    branch,
    received,
    rport,
    ttl,
    maddr,
    raw: text.slice(start, trimLwsEnd(text, start, end)),
  };
  parmEnd = end;
  return via;
}

/**
 * The first via-parm only (hot path: every message). `rest` is the index of the next via-parm (after
 * the `,` and any LWS), or the text length when there is none.
 */
export function parseTopVia(text: string): { via: Via; rest: number; end: number } | ParseError {
  const via = parseTopViaParm(text);
  return via instanceof ParseError ? via : { via, rest: topRest, end: parmEnd };
}

/** parseTopVia without its result object: `end` is then read with lastViaEnd(). */
export function parseTopViaParm(text: string): Via | ParseError {
  const via = parseViaParm(text, 0);
  if (via instanceof ParseError) return via;
  const n = text.length;
  const end = parmEnd;
  if (end >= n) {
    topRest = n;
    return via;
  }
  const j = skipLws(text, end + 1);
  if (j >= n) return viaFail('trailing "," after Via value');
  if (text.charCodeAt(j) === 0x2c) return viaFail('empty Via value (extra ",")');
  topRest = j;
  return via;
}

/** Where the top via-parm the last parseTopViaParm call read ends (parseTopVia's `end`). */
export function lastViaEnd(): number {
  return parmEnd;
}

/** All via-parms of a Via header value (comma list). */
export function parseViaList(text: string): Via[] | ParseError {
  return continueViaList(text, [], 0);
}

/**
 * parseViaList(text) when its first via-parm is already known: `first`, parsed from a prefix of
 * `text` and ending at `end` (the `end` parseTopVia reports). The top Via is decoded with every
 * message; a Via list read later (forwarding a response) starts after it.
 */
export function parseViaListAfter(text: string, first: Via, end: number): Via[] | ParseError {
  return appendViaList(text, [], first, end);
}

/**
 * Append the via-parms of one Via header value to `out` (`first` and `end` as for
 * parseViaListAfter, when the first via-parm of `text` is already known); `out` or an error.
 */
export function appendViaList(text: string, out: Via[], first?: Via, end = -1): Via[] | ParseError {
  if (first === undefined) return continueViaList(text, out, 0);
  out.push(first);
  const n = text.length;
  if (end >= n) return out;
  if (skipLws(text, end + 1) >= n) return viaFail('trailing "," after Via value');
  return continueViaList(text, out, end + 1);
}

function continueViaList(text: string, out: Via[], from: number): Via[] | ParseError {
  const n = text.length;
  let pos = from;
  for (;;) {
    const r = parseViaParm(text, pos);
    if (r instanceof ParseError) return r;
    out.push(r);
    if (parmEnd >= n) return out;
    pos = parmEnd + 1;
    if (skipLws(text, pos) >= n) return viaFail('trailing "," after Via value');
  }
}
