/**
 * "Is this URI one of ours?" (Kamailio's is_myself / check_self): the listeners' addresses and
 * advertised names, configured aliases, with the port compared when the URI gives one. A
 * listener on the any-address (0.0.0.0, ::) owns every address of the host's interfaces.
 */
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { isParseError, type ParseError } from '../sip/errors.ts';
import type { Uri } from '../sip/types.ts';
import { isSipUri, parseUri } from '../sip/uri.ts';
import { canonicalAddress, isIPv4Literal } from '../transport/ip.ts';
import type { ListenerInfo } from '../transport/types.ts';
import { stripBrackets } from './target.ts';

/** Every address of this host's network interfaces (zone index removed). */
export function localInterfaceAddresses(): string[] {
  const out: string[] = [];
  try {
    for (const list of Object.values(networkInterfaces())) {
      for (const a of list ?? []) out.push(a.address);
    }
  } catch {
    // No interface list (restricted sandbox): loopback is still known below.
  }
  return out;
}

/** Lower case without brackets; IPv6 in its one canonical spelling (RFC 5952). */
function hostKey(host: string): string {
  const h = stripBrackets(host).toLowerCase();
  return h.includes(':') && isIP(h) === 6 ? canonicalAddress(h) : h;
}

export class LocalAddresses {
  /** host (lower-case, no brackets) → ports it listens on. */
  private readonly hosts = new Map<string, Set<number>>();
  private anyV4 = new Set<number>();
  private anyV6 = new Set<number>();
  /** Interface addresses: what an any-address listener receives on. */
  private readonly interfaces = new Set<string>();

  /**
   * `interfaceAddresses` defaults to the host's interfaces (os.networkInterfaces()); tests pass
   * their own list.
   */
  constructor(
    listeners: readonly ListenerInfo[],
    aliases: readonly string[] = [],
    interfaceAddresses: readonly string[] = localInterfaceAddresses(),
  ) {
    for (const a of interfaceAddresses)
      if (isIP(stripZone(a)) !== 0) this.interfaces.add(hostKey(stripZone(a)));
    for (const l of listeners) {
      if (l.address === '0.0.0.0') this.anyV4.add(l.port);
      else if (l.address === '::') this.anyV6.add(l.port);
      else this.add(l.address, l.port);
      this.add(l.advertisedHost, l.advertisedPort);
      if (l.advertisedPort !== l.port) this.add(l.advertisedHost, l.port);
    }
    for (const a of aliases) {
      const colon = a.lastIndexOf(':');
      const bracketEnd = a.lastIndexOf(']');
      if (colon > bracketEnd && colon > 0 && isIP(a) === 0)
        this.add(a.slice(0, colon), Number(a.slice(colon + 1)));
      else this.add(a, 0);
    }
  }

  private add(host: string, port: number): void {
    const key = hostKey(host);
    let ports = this.hosts.get(key);
    if (ports === undefined) {
      ports = new Set();
      this.hosts.set(key, ports);
    }
    ports.add(port);
  }

  /** Host (and port when given; 0 = any port) is ours. A URI without port matches 5060/5061 listeners. */
  hasHost(host: string, port: number | undefined, secure = false): boolean {
    const key = hostKey(host);
    const want = port ?? (secure ? 5061 : 5060);
    const ports = this.hosts.get(key);
    if (ports !== undefined && (ports.has(want) || ports.has(0))) return true;
    // Listening on the any-address: every address of the host's interfaces is ours.
    const fam = isIPv4Literal(key) ? 4 : isIP(key);
    if (fam === 4 && this.anyV4.has(want)) {
      return key.startsWith('127.') || this.interfaces.has(key) || this.hosts.has(key);
    }
    if (fam === 6 && this.anyV6.has(want))
      return key === '::1' || this.interfaces.has(key) || this.hosts.has(key);
    return false;
  }

  isMyselfUri(uriText: string): boolean {
    return this.isMyselfParsed(parseUri(uriText));
  }

  /** isMyselfUri for a URI parsed already (the Request-URI: parsed once per message). */
  isMyselfParsed(u: Uri | ParseError): boolean {
    if (isParseError(u) || !isSipUri(u)) return false;
    return this.hasHost(u.host, u.port, u.scheme === 'sips');
  }
}

function stripZone(address: string): string {
  const pct = address.indexOf('%');
  return pct < 0 ? address : address.slice(0, pct);
}
