/**
 * Rewrites of one part of a URI (Kamailio's setuser / sethost / $rp = ... / add_uri_param): parse,
 * replace the field, format again. Only sip/sips URIs have these parts; other schemes give undefined.
 */
import { isParseError } from '../../sip/errors.ts';
import type { SipUri } from '../../sip/types.ts';
import { formatUri, isSipUri, isValidHost, parseUri } from '../../sip/uri.ts';

function sipUri(text: string): SipUri | undefined {
  const u = parseUri(text);
  return isParseError(u) || !isSipUri(u) ? undefined : u;
}

/** The URI with its user part replaced ('' removes user and password), as written (no escaping). */
export function withUser(text: string, user: string): string | undefined {
  const u = sipUri(text);
  if (u === undefined) return undefined;
  if (user === '') return formatUri({ ...u, user: undefined, password: undefined });
  return formatUri({ ...u, user });
}

/** The URI with its host replaced; undefined when the host is not a valid host name or address. */
export function withHost(text: string, host: string): string | undefined {
  const u = sipUri(text);
  if (u === undefined) return undefined;
  // A bare IPv6 address becomes a reference (RFC 5118 §4.2); Kamailio scripts often pass $si.
  const h = host.includes(':') && host.charCodeAt(0) !== 0x5b ? `[${host}]` : host;
  if (!isValidHost(h)) return undefined;
  return formatUri({ ...u, host: h });
}

/** The URI with its port replaced; undefined or 0 removes the port. */
export function withPort(text: string, port: number | undefined): string | undefined {
  const u = sipUri(text);
  if (u === undefined) return undefined;
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) return undefined;
  return formatUri({ ...u, port: port === 0 ? undefined : port });
}

/**
 * The URI with `;param` appended after its existing parameters (before any `?headers`), as
 * siputils add_uri_param does. `param` is `name` or `name=value`, without the leading `;`.
 */
export function withParam(text: string, param: string): string | undefined {
  const u = sipUri(text);
  if (u === undefined || param === '') return undefined;
  const p = param.charCodeAt(0) === 0x3b ? param.slice(1) : param;
  const head = formatUri({ ...u, headers: undefined });
  const out = `${head};${p}`;
  // Re-parse so that a bad parameter never reaches the wire.
  const check = parseUri(u.headers === undefined ? out : `${out}?${u.headers}`);
  return isParseError(check) ? undefined : check.raw;
}
