/**
 * IP literal helpers for the receive path. Node reports peers in canonical form ('127.0.0.1',
 * '2001:db8::1'); what a peer writes in its Via may use any valid spelling, so equality of
 * IPv6 addresses is decided on their 128-bit value, not their text.
 */
import { isIP, SocketAddress } from 'node:net';

/** `[2001:db8::1]` → `2001:db8::1`; anything else unchanged. */
export function stripBrackets(host: string): string {
  return host.length > 1 && host.charCodeAt(0) === 0x5b && host.charCodeAt(host.length - 1) === 0x5d
    ? host.slice(1, -1)
    : host;
}

/** `fe80::1%eth0` → `fe80::1` (a zone index is local to this host: never written in a header). */
export function stripZone(address: string): string {
  const pct = address.indexOf('%');
  return pct < 0 ? address : address.slice(0, pct);
}

/**
 * Whether `s` is a dotted-quad IPv4 literal, exactly as net.isIPv4 decides (no leading zeros, each
 * octet at most 255), without its regular expression: nearly every address a proxy handles is one.
 */
export function isIPv4Literal(s: string): boolean {
  const n = s.length;
  if (n < 7 || n > 15) return false;
  let parts = 0;
  let i = 0;
  while (i < n) {
    const start = i;
    let v = 0;
    while (i < n) {
      const c = s.charCodeAt(i);
      if (c < 0x30 || c > 0x39) break;
      v = v * 10 + c - 0x30;
      i++;
    }
    const len = i - start;
    if (len === 0 || len > 3 || v > 255 || (len > 1 && s.charCodeAt(start) === 0x30)) return false;
    parts++;
    if (i === n) break;
    if (s.charCodeAt(i) !== 0x2e || parts === 4) return false;
    i++;
    if (i === n) return false;
  }
  return parts === 4;
}

/** 4, 6, or 0 when not an IP literal (brackets and zone index tolerated). */
export function familyOf(address: string): 0 | 4 | 6 {
  if (isIPv4Literal(address)) return 4;
  const f = isIP(address);
  if (f !== 0) return f as 4 | 6;
  return isIP(stripZone(stripBrackets(address))) as 0 | 4 | 6;
}

export function isAnyAddress(address: string): boolean {
  return address === '0.0.0.0' || address === '::';
}

const MAPPED_PREFIX = '::ffff:';

/**
 * An IPv4-mapped IPv6 peer (`::ffff:192.0.2.1`, seen on dual-stack sockets) as the IPv4 address it
 * is, so that Via comparison and connection lookup see one spelling.
 */
export function normalizeAddress(address: string): string {
  if (address.length > MAPPED_PREFIX.length + 6 && address.charCodeAt(0) === 0x3a) {
    const head = address.slice(0, MAPPED_PREFIX.length).toLowerCase();
    if (head === MAPPED_PREFIX) {
      const v4 = address.slice(MAPPED_PREFIX.length);
      if (isIP(v4) === 4) return v4;
    }
  }
  return address;
}

/**
 * The one canonical spelling of an IP literal (RFC 5952 for IPv6: lower case, zeros compressed),
 * as Node reports peer addresses; IPv4-mapped IPv6 becomes IPv4. Not an IP: returned unchanged.
 */
export function canonicalAddress(address: string): string {
  const a = stripZone(stripBrackets(address));
  const f = isIP(a);
  if (f === 4) return a;
  if (f === 0) return address;
  return normalizeAddress(new SocketAddress({ address: a, family: 'ipv6' }).address);
}

/**
 * Whether a Via sent-by host (as written: may be a name, `[v6]`, any IPv6 spelling) is the IP
 * address `ip` (as Node reports it). A host name never matches (RFC 3261 §18.2.1: a domain
 * name in sent-by always gets `received`).
 */
export function hostMatchesIp(host: string, ip: string): boolean {
  if (host === ip) return true; // the common case, no allocation
  const h = stripBrackets(host);
  const a = stripZone(ip);
  if (h === a) return true;
  // Rare path (IPv6 written in another spelling, or a mapped IPv4 peer): compare canonical forms.
  return isIP(h) !== 0 && canonicalAddress(h) === canonicalAddress(a);
}

/** Multicast range check for a maddr response target (RFC 3261 §18.2.2 ttl rule). */
export function isMulticast(address: string): boolean {
  const f = isIP(address);
  if (f === 4) {
    const first = Number(address.slice(0, address.indexOf('.')));
    return first >= 224 && first <= 239;
  }
  return (
    f === 6 &&
    address.length > 2 &&
    (address.charCodeAt(0) | 0x20) === 0x66 &&
    (address.charCodeAt(1) | 0x20) === 0x66
  );
}

/** Map key of a remote endpoint (one string per connection lookup). */
export function endpointKey(protocol: string, address: string, port: number): string {
  return `${protocol} ${address} ${port}`;
}
