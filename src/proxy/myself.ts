/**
 * "Is this URI one of ours?" (Kamailio's is_myself / check_self): the listeners' addresses and
 * advertised names, configured aliases, with the port compared when the URI gives one.
 */
import { isIP } from 'node:net';
import { isParseError } from '../sip/errors.ts';
import { isSipUri, parseUri } from '../sip/uri.ts';
import type { ListenerInfo } from '../transport/types.ts';
import { stripBrackets } from './target.ts';

export class LocalAddresses {
  /** host (lower-case, no brackets) → ports it listens on. */
  private readonly hosts = new Map<string, Set<number>>();
  private anyV4 = new Set<number>();
  private anyV6 = new Set<number>();

  constructor(listeners: readonly ListenerInfo[], aliases: readonly string[] = []) {
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
      if (colon > bracketEnd && colon > 0 && isIP(a) === 0) this.add(a.slice(0, colon), Number(a.slice(colon + 1)));
      else this.add(a, 0);
    }
  }

  private add(host: string, port: number): void {
    const key = stripBrackets(host).toLowerCase();
    let ports = this.hosts.get(key);
    if (ports === undefined) {
      ports = new Set();
      this.hosts.set(key, ports);
    }
    ports.add(port);
  }

  /** Host (and port when given; 0 = any port) is ours. A URI without port matches 5060/5061 listeners. */
  hasHost(host: string, port: number | undefined, secure = false): boolean {
    const key = stripBrackets(host).toLowerCase();
    const want = port ?? (secure ? 5061 : 5060);
    const ports = this.hosts.get(key);
    if (ports !== undefined && (ports.has(want) || ports.has(0))) return true;
    // Listening on the any-address: every local interface address is ours; we only know loopback.
    const fam = isIP(key);
    if (fam === 4 && this.anyV4.has(want) && (key.startsWith('127.') || this.hosts.has(key))) return true;
    if (fam === 6 && this.anyV6.has(want) && key === '::1') return true;
    return false;
  }

  isMyselfUri(uriText: string): boolean {
    const u = parseUri(uriText);
    if (isParseError(u) || !isSipUri(u)) return false;
    return this.hasHost(u.host, u.port, u.scheme === 'sips');
  }
}
