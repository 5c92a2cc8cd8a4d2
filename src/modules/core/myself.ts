/**
 * "Is this one of our addresses?" for the URIs a message carries (KSR.is_myself_*), on top of
 * ctx.isMyself(uri), which knows the listeners, their advertised names and the configured aliases.
 */
import type { RouteContext } from '../../proxy/context.ts';
import { isParseError } from '../../sip/errors.ts';

function bracket(ip: string): string {
  return ip.includes(':') && ip.charCodeAt(0) !== 0x5b ? `[${ip}]` : ip;
}

export function isMyself(ctx: RouteContext, uri: string): boolean {
  return typeof uri === 'string' && uri !== '' && ctx.isMyself(uri);
}

export function isMyselfRuri(ctx: RouteContext): boolean {
  return ctx.msg.isRequest && ctx.isMyself(ctx.msg.ruri);
}

export function isMyselfFuri(ctx: RouteContext): boolean {
  const f = ctx.msg.from();
  return !isParseError(f) && ctx.isMyselfParsed(f.uri);
}

export function isMyselfTuri(ctx: RouteContext): boolean {
  const t = ctx.msg.to();
  return !isParseError(t) && ctx.isMyselfParsed(t.uri);
}

export function isMyselfDuri(ctx: RouteContext): boolean {
  return ctx.dstUri !== undefined && ctx.isMyself(ctx.dstUri);
}

/** Next hop: $du when set, else the R-URI. */
export function isMyselfNhuri(ctx: RouteContext): boolean {
  if (ctx.dstUri !== undefined) return ctx.isMyself(ctx.dstUri);
  return isMyselfRuri(ctx);
}

/** The source as a SIP URI ($su): `sip:ip:port`, with `;transport=` unless UDP. */
export function sourceUri(ctx: RouteContext): string {
  const s = ctx.info.source;
  const tp = s.protocol === 'udp' ? '' : `;transport=${s.protocol}`;
  return `sip:${bracket(s.address)}:${s.port}${tp}`;
}

/** Source address and port are one of our sockets (a message we sent to ourselves). */
export function isMyselfSuri(ctx: RouteContext): boolean {
  return ctx.isMyself(sourceUri(ctx));
}

/**
 * Source IP is one of ours, whatever the port. ctx.isMyself compares ports, so the address is tried
 * with the receiving listener's port and with the default port.
 */
export function isMyselfSrcip(ctx: RouteContext): boolean {
  const host = bracket(ctx.info.source.address);
  return ctx.isMyself(`sip:${host}:${ctx.info.listener.port}`) || ctx.isMyself(`sip:${host}`);
}
