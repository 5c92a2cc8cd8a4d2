/**
 * nathelper's tests and rewrites (Kamailio names and semantics):
 * - nat_uac_test(flags): 1 Contact has an RFC 1918 / RFC 6598 address; 2 top Via sent-by is not
 *   the source IP; 4 top Via has a private address; 8 SDP c= has a private address; 16 the source
 *   port is not the Via port; 32 the Contact address is not the source IP; 64 the message came
 *   over WebSocket; 128 the Contact port is not the source port. 1 when any asked test holds.
 * - fix_nated_contact: Contact URI host:port ← source IP:port.
 * - fix_nated_register: the source (`sip:IP:PORT;transport=P`) into the received AVP, which the
 *   registrar saves as the binding's received address.
 * - set_contact_alias / add_contact_alias([ip, port, proto]): `;alias=IP~PORT~PROTO` on the
 *   Contact URI (proto as Kamailio numbers it: 1 udp, 2 tcp, 3 tls, 5 ws, 6 wss) when the source
 *   differs from the Contact; handle_ruri_alias: such an alias in the R-URI becomes $du and is
 *   removed from the R-URI.
 * In reply routes the source is where the reply came from (its branch's destination).
 */
import type { RouteContext } from '../../proxy/context.ts';
import { isParseError } from '../../sip/errors.ts';
import { H } from '../../sip/header_names.ts';
import type { SipMessage } from '../../sip/message.ts';
import type { SipUri } from '../../sip/types.ts';
import { formatUri, isSipUri } from '../../sip/uri.ts';
import { familyOf, stripBrackets } from '../../transport/ip.ts';
import type { Endpoint, Protocol } from '../../transport/types.ts';
import { extras } from '../shared/context_extras.ts';
import { withParam } from '../shared/uri_edit.ts';
import { uriParamRm } from '../siputils/uri_params.ts';
import { nathelperParams } from './params.ts';

const PROTO_NUM: Record<Protocol, number> = { udp: 1, tcp: 2, tls: 3, ws: 5, wss: 6 };
const NUM_PROTO: Record<string, Protocol> = { '1': 'udp', '2': 'tcp', '3': 'tls', '5': 'ws', '6': 'wss' };

/** RFC 1918, RFC 6598 (carrier-grade NAT) and RFC 4193 (IPv6 ULA) addresses. */
export function isPrivateAddress(host: string): boolean {
  const a = stripBrackets(host);
  const fam = familyOf(a);
  if (fam === 6) {
    const c = a.charCodeAt(0) | 0x20;
    return (
      (c === 0x66 /* f */ && (a.charCodeAt(1) | 0x20) === 0x64) ||
      (c === 0x66 && (a.charCodeAt(1) | 0x20) === 0x63)
    );
  }
  if (fam !== 4) return false;
  // The first two octets of a valid dotted quad (no split: this runs for every request).
  const dot = a.indexOf('.');
  const o1 = Number(a.slice(0, dot));
  const o2 = Number(a.slice(dot + 1, a.indexOf('.', dot + 1)));
  return (
    o1 === 10 ||
    (o1 === 172 && o2 >= 16 && o2 <= 31) ||
    (o1 === 192 && o2 === 168) ||
    (o1 === 100 && o2 >= 64 && o2 <= 127)
  );
}

/** Where the message came from: the request's source, or for a reply the branch's destination. */
export function sourceOf(ctx: RouteContext): Endpoint {
  if (!ctx.msg.isRequest) {
    const r = extras(ctx).replySource?.();
    if (r !== undefined) return r;
  }
  return ctx.info.source;
}

function firstContact(ctx: RouteContext): { index: number; uri: SipUri; text: string } | undefined {
  const msg = ctx.msg;
  const list = msg.contacts();
  if (list === undefined || isParseError(list) || list.star || list.contacts.length === 0) return undefined;
  const c = list.contacts[0];
  // Parsed with the Contact list (memoized on the message): not parsed again here.
  const u = c.uri;
  if (!isSipUri(u)) return undefined;
  return { index: msg.findHeader(H.CONTACT), uri: u, text: c.uriText };
}

function sameHost(a: string, b: string): boolean {
  return a === b || stripBrackets(a).toLowerCase() === stripBrackets(b).toLowerCase();
}

/**
 * Whether `text` could hold an address isPrivateAddress accepts: a dotted quad (digits only)
 * whose first octet is 10, 100, 172 or 192 has `10.`, `100.`, `172.` or `192.` in it, an IPv6
 * address it accepts starts with fc / fd (any case). A superset: false means no such address.
 */
export function mayHoldPrivateAddress(text: string): boolean {
  if (text.includes('10.') || text.includes('100.') || text.includes('172.') || text.includes('192.'))
    return true;
  for (let i = text.length - 2; i >= 0; i--) {
    if ((text.charCodeAt(i) | 0x20) !== 0x66 /* f */) continue;
    const c = text.charCodeAt(i + 1) | 0x20;
    if (c === 0x63 /* c */ || c === 0x64 /* d */) return true;
  }
  return false;
}

/**
 * Test 1 can hold only when a Contact line may hold a private address: when none can, the
 * Contact list is not parsed (most requests come from public or loopback addresses).
 */
function contactMayBePrivate(msg: SipMessage): boolean {
  for (let i = msg.findHeader(H.CONTACT); i >= 0; i = msg.findHeader(H.CONTACT, i + 1))
    if (mayHoldPrivateAddress(msg.headerValue(i))) return true;
  return false;
}

function sdpHasPrivate(ctx: RouteContext): boolean {
  const body = ctx.msg.body;
  if (body.length === 0) return false;
  const text = body.toString('latin1');
  for (let i = text.indexOf('c=IN IP'); i >= 0; i = text.indexOf('c=IN IP', i + 1)) {
    const end = text.indexOf('\n', i);
    const addr = text.slice(i + 9, end < 0 ? undefined : end).trim();
    if (isPrivateAddress(addr)) return true;
  }
  return false;
}

export function natUacTest(ctx: RouteContext, flags: number): number {
  const f = Number(flags) | 0;
  const src = sourceOf(ctx);
  const msg = ctx.msg;
  if ((f & 64) !== 0 && (src.protocol === 'ws' || src.protocol === 'wss')) return 1;
  if (msg.isRequest && (f & (2 | 4 | 16)) !== 0) {
    const via = msg.topVia;
    if ((f & 2) !== 0 && !sameHost(via.host, src.address)) return 1;
    if ((f & 4) !== 0 && isPrivateAddress(via.host)) return 1;
    if ((f & 16) !== 0 && (via.port ?? 5060) !== src.port) return 1;
  }
  if ((f & (32 | 128)) !== 0 || ((f & 1) !== 0 && contactMayBePrivate(msg))) {
    const c = firstContact(ctx);
    if (c !== undefined) {
      if ((f & 1) !== 0 && isPrivateAddress(c.uri.host)) return 1;
      if ((f & 32) !== 0 && !sameHost(c.uri.host, src.address)) return 1;
      if ((f & 128) !== 0 && (c.uri.port ?? 5060) !== src.port) return 1;
    }
  }
  if ((f & 8) !== 0 && sdpHasPrivate(ctx)) return 1;
  return -1;
}

function hostOf(address: string): string {
  return address.includes(':') ? `[${address}]` : address;
}

/** Replace the first Contact's URI (the header value keeps its display name and parameters). */
function replaceContactUri(ctx: RouteContext, index: number, oldUri: string, newUri: string): boolean {
  if (index < 0) return false;
  const value = ctx.msg.headerValue(index);
  const at = value.indexOf(oldUri);
  if (at < 0) return false;
  ctx.msg.replaceHeaderValue(index, value.slice(0, at) + newUri + value.slice(at + oldUri.length));
  return true;
}

export function fixNatedContact(ctx: RouteContext): number {
  const c = firstContact(ctx);
  if (c === undefined) return -1;
  const src = sourceOf(ctx);
  const uri = formatUri({ ...c.uri, host: hostOf(src.address), port: src.port });
  return replaceContactUri(ctx, c.index, c.text, uri) ? 1 : -1;
}

export function fixNatedRegister(ctx: RouteContext): number {
  if (!ctx.msg.isRequest || ctx.msg.method !== 'REGISTER') return -1;
  const s = ctx.info.source;
  ctx.avps.set(nathelperParams().received_avp, [
    `sip:${hostOf(s.address)}:${s.port};transport=${s.protocol}`,
  ]);
  return 1;
}

function addAlias(
  ctx: RouteContext,
  ip: string,
  port: number,
  proto: Protocol,
  onlyIfDiffers: boolean,
): number {
  const c = firstContact(ctx);
  if (c === undefined) return -1;
  if (c.uri.params.has('alias')) return 2;
  const cproto = (c.uri.params.get('transport') ?? 'udp').toLowerCase();
  if (onlyIfDiffers && sameHost(c.uri.host, ip) && (c.uri.port ?? 5060) === port && cproto === proto)
    return 2;
  const uri = withParam(c.text, `alias=${hostOf(ip)}~${port}~${PROTO_NUM[proto]}`);
  if (uri === undefined) return -1;
  return replaceContactUri(ctx, c.index, c.text, uri) ? 1 : -1;
}

/** set_contact_alias(): the source as alias when it differs from the Contact. */
export function setContactAlias(ctx: RouteContext): number {
  const s = sourceOf(ctx);
  return addAlias(ctx, s.address, s.port, s.protocol, true);
}

/** add_contact_alias([ip, port, proto]): as set_contact_alias, or with the given address. */
export function addContactAlias(
  ctx: RouteContext,
  ip?: string,
  port?: string | number,
  proto?: string,
): number {
  if (ip === undefined) return setContactAlias(ctx);
  const p = Number(port);
  const pr = (proto ?? 'udp').toLowerCase() as Protocol;
  if (
    familyOf(stripBrackets(ip)) === 0 ||
    !Number.isInteger(p) ||
    p < 1 ||
    p > 65535 ||
    PROTO_NUM[pr] === undefined
  )
    return -1;
  return addAlias(ctx, stripBrackets(ip), p, pr, false);
}

/** handle_ruri_alias(): 1 alias moved to $du; 2 no alias in the R-URI; -1 a bad alias. */
export function handleRuriAlias(ctx: RouteContext): number {
  const u = ctx.msg.requestUri();
  if (isParseError(u) || !isSipUri(u)) return -1;
  const alias = u.params.get('alias');
  if (alias === undefined) return 2;
  const parts = alias.split('~');
  const proto = NUM_PROTO[parts[2] ?? '1'];
  const port = Number(parts[1]);
  const ip = stripBrackets(parts[0] ?? '');
  if (parts.length !== 3 || proto === undefined || familyOf(ip) === 0 || !Number.isInteger(port)) return -1;
  ctx.dstUri = `sip:${hostOf(ip)}:${port}${proto === 'udp' ? '' : `;transport=${proto}`}`;
  return uriParamRm(ctx, 'alias') > 0 ? 1 : -1;
}
