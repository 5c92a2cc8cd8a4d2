/**
 * Transaction identifiers: the strings the layer's tables are keyed by.
 *
 * Server side (RFC 3261 §17.2.3): a request carrying a branch that begins with the magic cookie
 * matches a transaction by branch + sent-by of its top Via + method (ACK counts as INVITE, CANCEL
 * has its own transaction). Without the cookie (an RFC 2543 peer) the request is matched by
 * Request-URI, To tag, From tag, Call-ID, CSeq number and top Via instead. A branch that is
 * exactly `z9hG4bK` (RFC 4475 §3.2.1, badbranch.dat) carries no identifier beyond the cookie and is
 * treated as an RFC 2543 branch.
 *
 * Client side (§17.1.3): a response matches by the branch of its top Via + its CSeq method.
 *
 * Components are joined with a space: no branch token, host, method, tag, Call-ID or
 * Request-URI may contain white space, so distinct tuples cannot collide.
 */
import type { SipMessage } from '../sip/message.ts';

/** RFC 3261 §8.1.1.7. */
export const MAGIC_COOKIE = 'z9hG4bK';

/** True when `branch` identifies an RFC 3261 transaction by itself (cookie plus something). */
export function isRfc3261Branch(branch: string | undefined): branch is string {
  return branch !== undefined && branch.length > MAGIC_COOKIE.length && branch.startsWith(MAGIC_COOKIE);
}

/** The method a request's server transaction was created by: ACK belongs to its INVITE (§17.2.3). */
export function txMethod(method: string): string {
  return method === 'ACK' ? 'INVITE' : method;
}

/**
 * Server transaction key of a request, as if its method were `method`
 * (used to find the INVITE an ACK or a CANCEL refers to).
 */
export function serverKey(msg: SipMessage, method: string): string {
  const via = msg.topVia;
  const branch = via.branch;
  if (isRfc3261Branch(branch)) {
    // sent-by: the host is case-insensitive; the port is compared as written (a retransmission
    // carries the same Via, so "5060" and "absent" being different keys is harmless).
    return `${branch} ${via.host.toLowerCase()}:${via.port ?? ''} ${method}`;
  }
  return legacyKey(msg, method, msg.toTag);
}

/**
 * RFC 2543 key (§17.2.3, last paragraphs). The To tag is passed separately because an ACK for a
 * non-2xx carries the tag of the response, not the (absent) tag of the INVITE: the layer looks an
 * ACK up with the INVITE's tag (none, or the dialog's for a re-INVITE) and then checks the
 * response's tag itself.
 */
export function legacyKey(msg: SipMessage, method: string, toTag: string | undefined): string {
  return `2543 ${method} ${msg.callId} ${msg.cseq} ${msg.fromTag ?? ''} ${toTag ?? ''} ${msg.originalRuri} ${msg.topVia.raw}`;
}

/** True when the request is matched by the RFC 2543 rules. */
export function isLegacy(msg: SipMessage): boolean {
  return !isRfc3261Branch(msg.topVia.branch);
}

/** Client transaction key (§17.1.3): branch + method of the request that created it. */
export function clientKey(branch: string, method: string): string {
  return `${branch} ${method}`;
}

/** Client transaction key a response matches, undefined when its top Via has no branch. */
export function responseKey(res: SipMessage): string | undefined {
  const branch = res.topVia.branch;
  return branch === undefined ? undefined : clientKey(branch, res.cseqMethod);
}

/**
 * The same string, flattened in place. A key built by concatenation is a tree of cons strings
 * whose leaves may be slices of the message's header text; a transaction keeps its key for up to
 * Timer J (32 s), so it is flattened once when stored: one flat string, nothing else retained.
 * (ToNumber flattens a string in V8; the number itself is not used.)
 */
export function flatKey(key: string): string {
  Number(key);
  return key;
}

/**
 * A flat copy of `s`, sharing nothing with the message it was sliced from (a branch from a parsed
 * Via is a slice of the header's text, which a table key would keep alive).
 */
export function ownKey(s: string): string {
  return s.length < 2 ? s : flatKey(s.slice(0, 1) + s.slice(1));
}
