/**
 * Parsers for the structured strings a config holds: hosts, `host:port`, `proto:host:port`
 * listen specs, CIDR blocks, storage locations. Each returns the parsed value or a message saying
 * what is wrong; the schema attaches the key path.
 */
import { isIP, isIPv4, isIPv6 } from 'node:net';
import type { Cidr, HostPort, Protocol, StorageConfig } from './types.ts';

export const PROTOCOLS: readonly Protocol[] = ['udp', 'tcp', 'tls', 'ws', 'wss'];

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const bad = (error: string): Parsed<never> => ({ ok: false, error });

const LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

/** RFC 1123 host name (letters, digits, hyphens; dot-separated labels; one trailing dot allowed). */
export function isHostname(s: string): boolean {
  const name = s.endsWith('.') ? s.slice(0, -1) : s;
  if (name.length === 0 || name.length > 253) return false;
  const labels = name.split('.');
  // All-numeric dotted names are mistyped IPv4 addresses, never host names (RFC 1123 §2.1).
  if (labels.every((l) => /^[0-9]+$/.test(l))) return false;
  return labels.every((l) => LABEL.test(l));
}

/**
 * A host as written before `:port`: IPv4, `[IPv6]` or a host name. Returns the host without
 * brackets. `bareIPv6` accepts an unbracketed IPv6 literal (only where no port can follow).
 */
export function parseHost(s: string, bareIPv6 = false): Parsed<{ host: string; family: 4 | 6 | null }> {
  if (s.startsWith('[')) {
    if (!s.endsWith(']')) return bad(`unclosed '[' in ${JSON.stringify(s)}`);
    const inner = s.slice(1, -1);
    if (!isIPv6(inner)) return bad(`${JSON.stringify(inner)} is not an IPv6 address`);
    return ok({ host: inner, family: 6 });
  }
  if (isIPv4(s)) return ok({ host: s, family: 4 });
  if (isIPv6(s)) {
    if (bareIPv6) return ok({ host: s, family: 6 });
    return bad(`write IPv6 addresses in brackets: [${s}]`);
  }
  if (/^[0-9.]+$/.test(s)) return bad(`${JSON.stringify(s)} is not a valid IPv4 address`);
  if (!isHostname(s)) return bad(`${JSON.stringify(s)} is not an IPv4 address, [IPv6] address or host name`);
  return ok({ host: s, family: null });
}

export function parsePort(s: string): Parsed<number> {
  if (!/^[0-9]{1,5}$/.test(s)) return bad(`port ${JSON.stringify(s)} is not a number`);
  const port = Number(s);
  if (port < 1 || port > 65535) return bad(`port ${port} is out of range 1-65535`);
  return ok(port);
}

/** `host:port` with host IPv4, [IPv6] or name; `port` optional when `defaultPort` is given. */
export function parseHostPort(s: string, defaultPort?: number): Parsed<HostPort & { family: 4 | 6 | null }> {
  const text = s.trim();
  if (text === '') return bad('empty address');
  const close = text.lastIndexOf(']');
  const colon = text.lastIndexOf(':');
  // A colon inside [...] or in a bare IPv6 literal is not a port separator.
  const hasPort = colon > close && !(close === -1 && isIPv6(text));
  if (!hasPort) {
    if (defaultPort === undefined) {
      // `::1:5060` is itself a valid IPv6 literal: the likely intent is [::1]:5060.
      const last = text.lastIndexOf(':');
      if (
        close === -1 &&
        isIPv6(text) &&
        isIPv6(text.slice(0, last)) &&
        /^[0-9]+$/.test(text.slice(last + 1))
      ) {
        return bad(`IPv6 addresses go in brackets: [${text.slice(0, last)}]:${text.slice(last + 1)}`);
      }
      return bad(`${JSON.stringify(text)} has no port (expected host:port)`);
    }
    const h = parseHost(text, true);
    return h.ok ? ok({ host: h.value.host, port: defaultPort, family: h.value.family }) : h;
  }
  const h = parseHost(text.slice(0, colon));
  if (!h.ok) return h;
  const p = parsePort(text.slice(colon + 1));
  if (!p.ok) return p;
  return ok({ host: h.value.host, port: p.value, family: h.value.family });
}

/** Format a host and port back, brackets around IPv6. */
export function formatHostPort(host: string, port: number): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}

export interface ParsedListen {
  readonly protocol: Protocol;
  readonly address: string;
  readonly family: 4 | 6 | null;
  readonly port: number;
  /** Kamailio's inline form `udp:10.0.0.1:5060 advertise 1.2.3.4:5060`. */
  readonly advertise?: string;
}

const LISTEN_EXAMPLE = 'expected proto:host:port, e.g. udp:127.0.0.1:5060 or tcp:[::1]:5060';

/** `proto:host:port`, proto udp|tcp|tls|ws|wss, host IPv4 / [IPv6] / name, port 1-65535. */
export function parseListenSpec(spec: string): Parsed<ParsedListen> {
  let text = spec.trim();
  let advertise: string | undefined;
  const adv = /\s+advertise\s+/i.exec(text);
  if (adv !== null) {
    advertise = text.slice(adv.index + adv[0].length).trim();
    text = text.slice(0, adv.index);
  }
  const first = text.indexOf(':');
  if (first <= 0) return bad(`${JSON.stringify(spec)}: ${LISTEN_EXAMPLE}`);
  const proto = text.slice(0, first).toLowerCase();
  if (!(PROTOCOLS as readonly string[]).includes(proto)) {
    return bad(
      `unknown protocol ${JSON.stringify(text.slice(0, first))} in ${JSON.stringify(spec)} (expected ${PROTOCOLS.join(', ')})`,
    );
  }
  const rest = text.slice(first + 1);
  if (rest === '') return bad(`${JSON.stringify(spec)}: ${LISTEN_EXAMPLE}`);
  const hp = parseHostPort(rest);
  if (!hp.ok) return bad(`${JSON.stringify(spec)}: ${hp.error}`);
  const value: ParsedListen = {
    protocol: proto as Protocol,
    address: hp.value.host,
    family: hp.value.family,
    port: hp.value.port,
  };
  return ok(advertise === undefined ? value : { ...value, advertise });
}

/** `10.0.0.0/8`, `::1/128`, or a bare address (a single host). */
export function parseCidr(s: string): Parsed<Cidr> {
  const text = s.trim();
  const slash = text.indexOf('/');
  const address = slash === -1 ? text : text.slice(0, slash);
  const family = isIP(address);
  if (family === 0) return bad(`${JSON.stringify(s)} is not an IP address or CIDR block (e.g. 10.0.0.0/8)`);
  const maxPrefix = family === 4 ? 32 : 128;
  let prefix = maxPrefix;
  if (slash !== -1) {
    const p = text.slice(slash + 1);
    if (!/^[0-9]{1,3}$/.test(p) || Number(p) > maxPrefix) {
      return bad(`prefix length ${JSON.stringify(p)} in ${JSON.stringify(s)} must be 0-${maxPrefix}`);
    }
    prefix = Number(p);
  }
  return ok({ spec: `${address}/${prefix}`, address, prefix, family: family as 4 | 6 });
}

/** `memory`, `sqlite:PATH` (relative to `baseDir`), `redis://HOST:PORT`. */
export function parseStorage(s: string, resolvePath: (p: string) => string): Parsed<StorageConfig> {
  const text = s.trim();
  if (text === 'memory') return ok({ kind: 'memory', spec: text });
  if (text.startsWith('sqlite:')) {
    const path = text.slice('sqlite:'.length);
    if (path === '') return bad('sqlite: needs a database file path, e.g. sqlite:./data/junction.db');
    return ok({ kind: 'sqlite', spec: text, path: resolvePath(path) });
  }
  if (text.startsWith('redis://')) {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      return bad(`${JSON.stringify(text)} is not a valid redis:// URL`);
    }
    if (url.hostname === '') return bad(`${JSON.stringify(text)} has no host (redis://HOST:PORT)`);
    const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    return ok({
      kind: 'redis',
      spec: text,
      url: text,
      host,
      port: url.port === '' ? 6379 : Number(url.port),
    });
  }
  return bad(`${JSON.stringify(text)}: expected memory, sqlite:PATH or redis://HOST:PORT`);
}
