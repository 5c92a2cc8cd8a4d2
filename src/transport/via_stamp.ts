/**
 * The receiving server's mark on a request's top Via (RFC 3261 §18.2.1, RFC 3581 §4), made as
 * edits spliced onto the received bytes so that `msg.serialize()` and every response built from
 * the request carry it:
 * - `;received=<source ip>` when the sent-by host is not the packet's source address (a name, or
 *   another IP);
 * - `;rport` without a value becomes `;rport=<source port>`, and then `received` is added even
 *   when it equals sent-by (RFC 3581 §4).
 * Responses are never stamped. Reads of `msg.topVia` keep showing the Via as received.
 */
import { H } from '../sip/header_names.ts';
import { HS, type SipMessage } from '../sip/message.ts';
import { hostMatchesIp, stripZone } from './ip.ts';
import type { ReceiveInfo } from './types.ts';

/** Offsets in a header table row (see message.ts HS layout): value start / end, folded flag. */
const F_VALUE_START = 3;
const F_VALUE_END = 4;
const F_FOLDED = 6;

const SEMI = 0x3b;
const COMMA = 0x2c;
const EQUAL = 0x3d;
const DQUOTE = 0x22;
const BACKSLASH = 0x5c;

function isLws(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a;
}

function isDelimiter(c: number): boolean {
  return c === SEMI || c === COMMA || c === EQUAL || isLws(c);
}

function skipLws(buf: Uint8Array, p: number, end: number): number {
  while (p < end && isLws(buf[p])) p++;
  return p;
}

/** buf[start, end) equals `lower` ignoring ASCII case. */
function nameIs(buf: Uint8Array, start: number, end: number, lower: string): boolean {
  if (end - start !== lower.length) return false;
  for (let i = 0; i < lower.length; i++) if ((buf[start + i] | 0x20) !== lower.charCodeAt(i)) return false;
  return true;
}

/** Where the first via-parm of a Via value ends and where its rport / received parameters sit. */
export interface ViaParamOffsets {
  /** One past the last octet of the first via-parm (trailing LWS excluded). */
  end: number;
  /** End of the name of a value-less `rport`, -1 when there is none. */
  rportNameEnd: number;
  /** Value range of `received`, -1 when absent. */
  receivedStart: number;
  receivedEnd: number;
}

/**
 * Scan the first via-parm in buf[vs, ve) (a header value range, possibly folded over several
 * lines). The message already parsed, so the grammar is trusted: sent-protocol and sent-by hold no
 * `;` or `,`, and a parameter value is a token, a host or a quoted-string.
 */
export function locateViaParams(
  buf: Uint8Array,
  vs: number,
  ve: number,
  out: ViaParamOffsets,
): ViaParamOffsets {
  out.rportNameEnd = -1;
  out.receivedStart = -1;
  out.receivedEnd = -1;
  let p = vs;
  while (p < ve && buf[p] !== SEMI && buf[p] !== COMMA) p++;
  let end = p;
  while (end > vs && isLws(buf[end - 1])) end--;
  while (p < ve && buf[p] === SEMI) {
    p = skipLws(buf, p + 1, ve);
    const ns = p;
    while (p < ve && !isDelimiter(buf[p])) p++;
    const ne = p;
    end = ne;
    let vStart = -1;
    let vEnd = -1;
    p = skipLws(buf, p, ve);
    if (p < ve && buf[p] === EQUAL) {
      p = skipLws(buf, p + 1, ve);
      vStart = p;
      if (p < ve && buf[p] === DQUOTE) {
        p++;
        while (p < ve && buf[p] !== DQUOTE) p += buf[p] === BACKSLASH ? 2 : 1;
        p = Math.min(p + 1, ve);
      } else {
        while (p < ve && !isDelimiter(buf[p])) p++;
      }
      vEnd = p;
      end = p;
      p = skipLws(buf, p, ve);
    }
    if (vStart < 0 && out.rportNameEnd < 0 && nameIs(buf, ns, ne, 'rport')) out.rportNameEnd = ne;
    else if (vStart >= 0 && out.receivedStart < 0 && nameIs(buf, ns, ne, 'received')) {
      out.receivedStart = vStart;
      out.receivedEnd = vEnd;
    }
  }
  out.end = end;
  return out;
}

/** Scratch for the receive path (one message is stamped at a time: no allocation per request). */
const scratch: ViaParamOffsets = { end: 0, rportNameEnd: -1, receivedStart: -1, receivedEnd: -1 };

/**
 * Stamp the top Via of a received request with `received` / `rport` (see module comment).
 * `ip` and `port` are the packet's source as the socket reported it. Returns whether it edited.
 */
export function stampTopVia(msg: SipMessage, ip: string, port: number): boolean {
  if (!msg.isRequest) return false;
  const via = msg.topVia;
  const fillRport = via.rport === null;
  // RFC 3261 §18.2.1: received MUST be added when sent-by is a name or another address.
  // RFC 3581 §4: with a value-less rport, received MUST be added even when they are equal.
  if (!fillRport && hostMatchesIp(via.host, ip)) return false;
  const i = msg.findHeader(H.VIA);
  if (i < 0) return false;
  // The value's byte range, read from the header table (no pair allocated per request).
  const vs = msg.hdr[i * HS + F_VALUE_START];
  const ve = msg.hdr[i * HS + F_VALUE_END];
  // RFC 3261 §25.1: an IPv6 `received` is written without brackets; a zone index is local only.
  const received = stripZone(ip);
  const edits = msg.baseEdits();
  if (!fillRport && via.received === undefined && msg.hdr[i * HS + F_FOLDED] === 0) {
    // Fast path: the value's bytes are exactly the text the Via parser saw, so the first
    // via-parm ends `raw.length` octets after the value start.
    edits.insert(vs + via.raw.length, `;received=${received}`, false, true);
    return true;
  }
  const loc = locateViaParams(msg.buf, vs, ve, scratch);
  // RFC 3581 §4: the server MUST set rport's value to the source port. Inserted before received:
  // both may land at the same offset and insertions keep their order.
  if (fillRport && loc.rportNameEnd >= 0) edits.insert(loc.rportNameEnd, `=${port}`, false, true);
  // A received the client wrote itself is overwritten: only the packet's source is trustworthy.
  if (loc.receivedStart >= 0)
    edits.replace(loc.receivedStart, loc.receivedEnd, received, 'via-received', true);
  else edits.insert(loc.end, `;received=${received}`, false, true);
  return true;
}

/**
 * Kamailio's force_rport(): treat the request as if its top Via carried a value-less `rport`
 * (RFC 3581) — a NATed client that did not ask for it still gets its responses at the port the
 * request came from, and the Via says so (`;rport=<port>`, plus `received`, which RFC 3581 §4
 * requires with rport). Idempotent; a Via that already has rport is left as the transport stamped it.
 */
export function forceRport(msg: SipMessage, info: ReceiveInfo): void {
  if (!msg.isRequest) return;
  info.forceRport = true;
  const via = msg.topVia;
  if (via.rport !== undefined) return;
  const i = msg.findHeader(H.VIA);
  if (i < 0) return;
  // The value's byte range, read from the header table (no pair allocated per request).
  const vs = msg.hdr[i * HS + F_VALUE_START];
  const ve = msg.hdr[i * HS + F_VALUE_END];
  const loc = locateViaParams(msg.buf, vs, ve, scratch);
  const edits = msg.baseEdits();
  // keyed: a second call replaces the first rather than adding another parameter.
  edits.replace(loc.end, loc.end, `;rport=${info.source.port}`, 'force-rport', true);
  // stampTopVia added received unless sent-by already was the source address.
  if (via.received === undefined && hostMatchesIp(via.host, info.source.address))
    edits.replace(
      loc.end,
      loc.end,
      `;received=${stripZone(info.source.address)}`,
      'force-rport-received',
      true,
    );
}
