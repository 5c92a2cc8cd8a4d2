/**
 * The checks of Kamailio's sanity module, one function per bit of its `msg_checks` mask. Each
 * returns undefined when the message passes, or the reply Kamailio sends (code and reason) —
 * `reply: false` when no reply can be addressed and the message is dropped.
 *
 * Junction's parser already refuses much of what these look for (missing or duplicate
 * transaction headers, a CSeq method that differs, Content-Length beyond the datagram); the checks
 * still run, so a message that reached the script by another path is held to the same rules.
 */
import { isParseError } from '../../sip/errors.ts';
import { H } from '../../sip/header_names.ts';
import { HS, type SipMessage } from '../../sip/message.ts';
import type { Credentials, Params } from '../../sip/types.ts';

export interface Failure {
  readonly code: number;
  readonly reason: string;
  /** Header lines for the reply (420's Unsupported). */
  readonly headers?: readonly string[];
  /** False when the message cannot be answered (Kamailio sets FL_MSG_NOREPLY). */
  readonly reply?: boolean;
}

/** Bits of msg_checks (Kamailio's sanity_mod.h). */
export const CHECK = {
  RURI_SIP_VERSION: 1,
  RURI_SCHEME: 2,
  REQUIRED_HEADERS: 4,
  VIA_SIP_VERSION: 8,
  VIA_PROTOCOL: 16,
  CSEQ_METHOD: 32,
  CSEQ_VALUE: 64,
  CL: 128,
  EXPIRES_VALUE: 256,
  PROXY_REQUIRE: 512,
  PARSE_URIS: 1024,
  DIGEST: 2048,
  DUPTAGS: 4096,
  AUTHORIZATION: 8192,
  VIA1_HEADER: 16384,
} as const;

/** Bits of uri_checks. */
export const URI_CHECK = { RURI: 1, FROM: 2, TO: 4, CONTACT: 8 } as const;

function fail(code: number, reason: string, headers?: readonly string[]): Failure {
  return headers === undefined ? { code, reason } : { code, reason, headers };
}

const NO_REPLY: Failure = { code: 400, reason: 'Bad Request', reply: false };

const SCHEMES = new Set(['sip', 'sips', 'tel', 'tels']);

/** 2: the R-URI parses and its scheme is one Kamailio routes (sip, sips, tel, tels). */
export function ruriScheme(msg: SipMessage): Failure | undefined {
  if (!msg.isRequest) return undefined;
  const u = msg.requestUri();
  if (isParseError(u)) return fail(400, 'Bad Request URI');
  if (!SCHEMES.has(u.scheme)) return fail(416, 'Unsupported URI Scheme in Request URI');
  if ('headers' in u && u.headers !== undefined) return fail(400, 'Bad Request URI'); // RFC 3261 §19.1.2 (RFC 4475 escruri)
  return undefined;
}

/**
 * 4: To, From, CSeq, Call-ID and Via present (else no reply can be built); no duplicate singletons.
 * One pass over the header table, counting (no header is decoded).
 */
export function requiredHeaders(msg: SipMessage): Failure | undefined {
  const hdr = msg.hdr;
  let to = 0;
  let from = 0;
  let cseq = 0;
  let callId = 0;
  let via = 0;
  for (let o = 0; o < hdr.length; o += HS) {
    const id = hdr[o];
    if (id === H.TO) to++;
    else if (id === H.FROM) from++;
    else if (id === H.CSEQ) cseq++;
    else if (id === H.CALL_ID) callId++;
    else if (id === H.VIA) via++;
  }
  if (to === 0 || from === 0 || cseq === 0 || callId === 0 || via === 0) return NO_REPLY;
  if (to > 1) return fail(400, 'Duplicate To header');
  if (from > 1) return fail(400, 'Duplicate From header');
  if (cseq > 1) return fail(400, 'Duplicate CSeq header');
  if (callId > 1) return fail(400, 'Duplicate Call-Id header');
  return undefined;
}

/**
 * 16384: the top Via parsed and has a host. As Kamailio's check_via1_header, only the top Via
 * (which the parser decodes for every message: a message whose top Via does not parse never
 * reaches a script), not the whole Via list.
 */
export function via1Header(msg: SipMessage): Failure | undefined {
  return msg.topVia.host === '' ? NO_REPLY : undefined;
}

/** 32: the CSeq method is the request method. */
export function cseqMethod(msg: SipMessage): Failure | undefined {
  if (!msg.isRequest) return undefined;
  if (msg.cseqMethod === '') return fail(400, 'Missing method in CSeq header');
  if (msg.cseqMethod !== msg.method) return fail(400, 'CSeq method does not match request method');
  return undefined;
}

/** 64: the CSeq number is an unsigned 32-bit integer. */
export function cseqValue(msg: SipMessage): Failure | undefined {
  const n = msg.cseq;
  return Number.isInteger(n) && n >= 0 && n <= 4294967295 ? undefined : fail(400, 'CSeq number is illegal');
}

/** 128: Content-Length, when present, is the body length. */
export function contentLength(msg: SipMessage): Failure | undefined {
  if (msg.contentLength >= 0 && msg.bodyLength !== msg.contentLength)
    return fail(400, 'Content-Length mis-match');
  return undefined;
}

/** 256: Expires, when present, is an unsigned integer. */
export function expiresValue(msg: SipMessage): Failure | undefined {
  const i = msg.findHeader(H.EXPIRES);
  if (i < 0) return undefined;
  if (msg.headerValue(i).trim() === '') return fail(400, 'Missing number in Expires header');
  return isParseError(msg.expires()) ? fail(400, 'Expires value is illegal') : undefined;
}

/** 512: every Proxy-Require extension is one we support; else 420 with Unsupported (RFC 3261 §8.2.2.3). */
export function proxyRequire(msg: SipMessage, supported: readonly string[]): Failure | undefined {
  const pr = msg.proxyRequire();
  if (pr === undefined) return undefined;
  if (isParseError(pr)) return fail(400, 'Bad Proxy-Require header');
  const unsupported: string[] = [];
  for (const ext of pr) {
    const e = ext.toLowerCase();
    if (!supported.some((s) => s.toLowerCase() === e)) unsupported.push(ext);
  }
  if (unsupported.length === 0) return undefined;
  return fail(420, 'Bad Extension', [`Unsupported: ${unsupported.join(', ')}\r\n`]);
}

/** 1024: the URIs named by uri_checks parse. */
export function parseUris(msg: SipMessage, uriChecks: number): Failure | undefined {
  if ((uriChecks & URI_CHECK.RURI) !== 0 && msg.isRequest && isParseError(msg.requestUri())) {
    return fail(400, 'Bad Request URI');
  }
  if ((uriChecks & URI_CHECK.FROM) !== 0) {
    if (msg.findHeader(H.FROM) < 0) return fail(400, 'Missing From Header');
    if (isParseError(msg.from())) return fail(400, 'Bad From header');
  }
  if ((uriChecks & URI_CHECK.TO) !== 0) {
    if (msg.findHeader(H.TO) < 0) return fail(400, 'Missing To Header');
    if (isParseError(msg.to())) return fail(400, 'Bad To URI');
  }
  if ((uriChecks & URI_CHECK.CONTACT) !== 0 && isParseError(msg.contacts())) {
    return fail(400, 'Bad Contact Header');
  }
  return undefined;
}

function allCredentials(msg: SipMessage): Credentials[] | undefined {
  const a = msg.authorization();
  const p = msg.proxyAuthorization();
  if (isParseError(a) || isParseError(p)) return undefined;
  return a.concat(p);
}

/** Kamailio's check_dig_cred: the parameters a digest response cannot do without. */
function digestComplete(c: Credentials): boolean {
  const p = c.params;
  for (const name of ['username', 'realm', 'nonce', 'uri', 'response']) {
    const v = p.get(name);
    if (v === undefined || v === '') return false;
  }
  // With qop, nc and cnonce are mandatory (RFC 2617 §3.2.2).
  const qop = p.get('qop');
  return qop === undefined || (p.get('nc') !== undefined && p.get('cnonce') !== undefined);
}

/**
 * 2048 (digestOnly) / 8192: every Authorization / Proxy-Authorization is complete digest
 * credentials. 2048 also refuses other schemes; 8192 lets them pass.
 */
export function credentials(msg: SipMessage, digestOnly: boolean): Failure | undefined {
  const all = allCredentials(msg);
  if (all === undefined) return fail(400, 'Bad Credentials');
  for (const c of all) {
    if (c.scheme !== 'Digest') {
      if (digestOnly) return fail(400, 'Unsupported Authorization Scheme');
      continue;
    }
    if (!digestComplete(c)) return fail(400, 'Bad Credentials');
  }
  return undefined;
}

function tagCount(params: Params): number {
  let n = 0;
  for (const [name] of params.entries()) if (name.toLowerCase() === 'tag') n++;
  return n;
}

/** 4096: From and To carry at most one tag parameter each. */
export function duplicateTags(msg: SipMessage): Failure | undefined {
  const f = msg.from();
  const t = msg.to();
  if (isParseError(f) || isParseError(t)) return fail(400, 'Bad From or To header');
  if (tagCount(f.params) > 1) return fail(400, 'Duplicate tag in From header');
  if (tagCount(t.params) > 1) return fail(400, 'Duplicate tag in To header');
  return undefined;
}
