/**
 * The environment of an executed program, exactly Kamailio's exec contract (modules/exec/exec_hf.c):
 * `SIP_HF_<NAME>` per header field of the received request, and the fixed SIP_* variables. Built
 * per child as a fresh object; the server's own process.env is never modified.
 */
import { createHash } from 'node:crypto';
import type { RouteContext } from '../../proxy/context.ts';
import { isParseError } from '../../sip/errors.ts';
import { H } from '../../sip/header_names.ts';
import type { SipMessage } from '../../sip/message.ts';
import type { TelUri } from '../../sip/types.ts';
import { isSipUri, parseUri } from '../../sip/uri.ts';

/**
 * Kamailio prints these header types under a fixed name whether written compact or full
 * (compacthdr_type2str): note CALLID, not CALL_ID.
 */
const CANONICAL = new Map<number, string>([
  [H.VIA, 'VIA'],
  [H.CONTENT_TYPE, 'CONTENT_TYPE'],
  [H.FROM, 'FROM'],
  [H.CALL_ID, 'CALLID'],
  [H.SUPPORTED, 'SUPPORTED'],
  [H.CONTENT_LENGTH, 'CONTENT_LENGTH'],
  [H.CONTACT, 'CONTACT'],
  [H.TO, 'TO'],
  [H.EVENT, 'EVENT'],
]);

/** Upper-case letters and digits stay; every other character (RFC 3261 token marks: `-.!%*_+'~` ...) becomes `_`. */
export function envHeaderName(name: string): string {
  let out = '';
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c >= 0x61 && c <= 0x7a) out += String.fromCharCode(c - 0x20);
    else if ((c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39)) out += name[i];
    else out += '_';
  }
  return out;
}

/** bash_safety: a value starting with `() {` would be imported by an old bash as a function. */
function safe(value: string, bashSafety: boolean): string {
  // Exactly Kamailio (exec_hf.c, checked against 5.6.3): the `()` goes, the rest stays.
  return bashSafety && value.startsWith('() {') ? value.slice(2) : value;
}

/**
 * `SIP_HF_<NAME>` for every header field, in a fresh object. Header fields of one kind (same
 * known type, or same name ignoring case) are joined with `,` in message order. Known compact
 * forms (`f`, `i`, `v` ...) are named canonically; other headers by their own name.
 */
export function headerVariables(msg: SipMessage, bashSafety: boolean, into: Record<string, string>): void {
  const n = msg.headerCount;
  for (let i = 0; i < n; i++) {
    const id = msg.headerId(i);
    const key = `SIP_HF_${
      id === H.OTHER
        ? envHeaderName(msg.headerName(i))
        : (CANONICAL.get(id) ?? envHeaderName(msg.headerCanonicalName(i)))
    }`;
    const value = safe(msg.headerValue(i), bashSafety);
    const prev = into[key];
    into[key] = prev === undefined ? value : `${prev},${value}`;
  }
}

/** Kamailio's whitespace trim (trim_len): space, tab, CR, LF at both ends. */
function trimmed(s: string): string {
  return s.replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, '');
}

/** The CSeq number as written (`get_cseq(msg)->number`). */
function cseqNumber(msg: SipMessage): string {
  const i = msg.findHeader(H.CSEQ);
  if (i < 0) return '';
  const v = msg.headerValue(i).trimStart();
  const sp = v.search(/[ \t]/);
  return sp < 0 ? v : v.slice(0, sp);
}

/**
 * SIP_TID, as Kamailio's char_msg_val(): lower-case hex MD5 over From tag, To tag (empty for
 * INVITE, ACK and CANCEL, so the whole INVITE transaction shares it), Call-ID, Request-URI as
 * received, CSeq number, and the top Via's host, port (as written, empty when absent) and branch
 * — each trimmed, empty ones skipped. Retransmissions, the ACK of a non-2xx and the CANCEL of an
 * INVITE therefore give the same value.
 */
export function kamailioTid(msg: SipMessage): string {
  const md5 = createHash('md5');
  const inviteLike = msg.method === 'INVITE' || msg.method === 'ACK' || msg.method === 'CANCEL';
  const via = msg.topVia;
  const parts = [
    msg.fromTag ?? '',
    inviteLike ? '' : (msg.toTag ?? ''),
    msg.callId,
    msg.originalRuri,
    cseqNumber(msg),
    via?.host ?? '',
    via?.port === undefined ? '' : String(via.port),
  ];
  if (via?.branch !== undefined) parts.push(via.branch);
  for (const p of parts) {
    const t = trimmed(p);
    if (t !== '') md5.update(t, 'latin1');
  }
  return md5.digest('hex');
}

function userOf(uri: string): string | undefined {
  const u = parseUri(uri);
  if (isParseError(u)) return undefined;
  if (isSipUri(u)) return u.user ?? '';
  return u.scheme === 'tel' ? (u as TelUri).number : undefined;
}

/**
 * The variables Kamailio adds to a program's environment for the request of `ctx`: every header
 * (SIP_HF_*), SIP_SRCIP, SIP_RURI (current), SIP_USER, SIP_ORURI and SIP_ORUI (original; Kamailio
 * really exports the second spelling), SIP_OUSER, SIP_TID, SIP_DID (To tag, empty on initial
 * requests). SIP_USER / SIP_OUSER are absent when the URI does not parse, as in Kamailio.
 */
export function sipVariables(ctx: RouteContext, bashSafety: boolean): Record<string, string> {
  const req = ctx.msg.isRequest ? ctx.msg : ctx.request;
  const vars: Record<string, string> = {};
  headerVariables(req, bashSafety, vars);
  vars.SIP_SRCIP = ctx.info.source.address;
  const ruri = req.ruri;
  vars.SIP_RURI = ruri;
  const user = userOf(ruri);
  if (user !== undefined) vars.SIP_USER = user;
  const oruri = req.originalRuri;
  vars.SIP_ORURI = oruri;
  vars.SIP_ORUI = oruri;
  const ouser = userOf(oruri);
  if (ouser !== undefined) vars.SIP_OUSER = ouser;
  vars.SIP_TID = kamailioTid(req);
  vars.SIP_DID = req.toTag ?? '';
  return vars;
}
