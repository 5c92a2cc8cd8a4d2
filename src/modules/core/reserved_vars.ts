/**
 * Per-message settings the script makes for the proxy core to read when it sends: stored on
 * ctx.vars under names that start with "." — `$var()` names cannot start with "." (the pv parser
 * refuses them), so a script can never read or clobber these by accident.
 *
 * The proxy core reads them when it builds Via / Record-Route and sends (see core/README.md).
 */
import type { RouteContext } from '../../proxy/context.ts';

/** set_advertised_address(addr): host or IP written in Via/Record-Route instead of the listener's. */
export const VAR_ADVERTISED_ADDRESS = '.advertised_address';
/** set_advertised_port(port): port (a string, as Kamailio takes it) written in Via/Record-Route. */
export const VAR_ADVERTISED_PORT = '.advertised_port';
/** add_local_rport(): add `;rport` to the Via the proxy adds (RFC 3581). Value 1 when set. */
export const VAR_ADD_LOCAL_RPORT = '.add_local_rport';
/** set_forward_close(): close the stream connection after forwarding. Value 1 when set. */
export const VAR_FORWARD_CLOSE = '.forward_close';
/** set_forward_no_connect(): only reuse an existing stream connection when forwarding. */
export const VAR_FORWARD_NO_CONNECT = '.forward_no_connect';
/** set_reply_close(): close the stream connection after sending the reply. */
export const VAR_REPLY_CLOSE = '.reply_close';
/** set_reply_no_connect(): never open a connection to send the reply. */
export const VAR_REPLY_NO_CONNECT = '.reply_no_connect';

/** True when `name` is one of the reserved keys (a leading "."). */
export function isReservedVar(name: string): boolean {
  return name.charCodeAt(0) === 0x2e;
}

export function setReserved(ctx: RouteContext, key: string, value: string | number): void {
  ctx.vars.set(key, value);
}

/** The advertised address/port the script set for this message, if any. */
export function advertisedOf(ctx: RouteContext): { address: string | undefined; port: string | undefined } {
  const a = ctx.vars.get(VAR_ADVERTISED_ADDRESS);
  const p = ctx.vars.get(VAR_ADVERTISED_PORT);
  return { address: a === undefined ? undefined : String(a), port: p === undefined ? undefined : String(p) };
}
