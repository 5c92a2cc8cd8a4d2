/**
 * Where to send a request: the next-hop URI ($du, else the Request-URI) turned into a transport
 * endpoint (RFC 3261 §8.1.2, §19.1.2: maddr, transport parameter, sips → TLS, default ports).
 * Hostnames resolve asynchronously through a small cache; `resolveUri` runs full RFC 3263
 * (NAPTR → SRV → A/AAAA, rfc3263.ts) and returns the failover list.
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { fail, isParseError, type ParseError, SipErrors } from '../sip/errors.ts';
import type { Via } from '../sip/types.ts';
import { isSipUri, parseUri } from '../sip/uri.ts';
import type { Endpoint, Protocol } from '../transport/types.ts';
import { type DnsQueries, dnsQueries, Rfc3263Resolver, targetSpecOf } from './rfc3263.ts';

export interface ResolverOptions {
  /** DNS client (default: node:dns, system servers; A/AAAA through `lookupHost`). */
  dns?: DnsQueries;
  /** Transports this server can send over (NAPTR/SRV choices are limited to them). */
  supports?: (p: Protocol) => boolean;
}

export interface NextHop {
  protocol: Protocol;
  /** Host as written (brackets removed from IPv6 references). */
  host: string;
  port: number;
}

const PROTOCOLS: Record<string, Protocol> = { udp: 'udp', tcp: 'tcp', tls: 'tls', ws: 'ws', wss: 'wss' };

export function stripBrackets(host: string): string {
  return host.charCodeAt(0) === 0x5b ? host.slice(1, -1) : host;
}

/** The next hop named by a SIP URI (no DNS yet). tel: and other schemes cannot be routed. */
export function nextHopOf(uriText: string): NextHop | ParseError {
  const uri = parseUri(uriText);
  if (isParseError(uri)) return uri;
  if (!isSipUri(uri)) return fail(SipErrors.URI_SCHEME, `cannot route to a ${uri.scheme}: URI`);
  const tp = uri.params.get('transport')?.toLowerCase();
  let protocol: Protocol = uri.scheme === 'sips' ? 'tls' : 'udp';
  if (tp !== undefined) {
    const p = PROTOCOLS[tp];
    if (p === undefined) return fail(SipErrors.URI, `unsupported transport ${tp}`);
    protocol = uri.scheme === 'sips' && p === 'tcp' ? 'tls' : uri.scheme === 'sips' && p === 'ws' ? 'wss' : p;
  }
  const maddr = uri.params.get('maddr');
  const host = stripBrackets(maddr !== undefined && maddr !== '' ? maddr : uri.host);
  const port = uri.port ?? (protocol === 'tls' || protocol === 'wss' ? 5061 : 5060);
  return { protocol, host, port };
}

/** Where a response goes next per the Via it will be sent to (RFC 3261 §18.2.2, RFC 3581). */
export function nextHopOfVia(via: Via): NextHop {
  const protocol = PROTOCOLS[via.transport.toLowerCase()] ?? 'udp';
  if (via.maddr !== undefined) return { protocol, host: stripBrackets(via.maddr), port: via.port ?? 5060 };
  const received = via.received === undefined ? undefined : stripPort(via.received);
  const host = stripBrackets(received ?? via.host);
  const port = typeof via.rport === 'number' ? via.rport : (via.port ?? (protocol === 'tls' ? 5061 : 5060));
  return { protocol, host, port };
}

/** Asterisk writes `received=1.2.3.4:5060`; the address is what matters. */
function stripPort(received: string): string {
  const r = stripBrackets(received);
  if (isIP(r) !== 0) return r;
  const colon = r.lastIndexOf(':');
  return colon > 0 && isIP(r.slice(0, colon)) === 4 ? r.slice(0, colon) : r;
}

/** Bound of the IP-literal target cache (cleared when full: refilling it costs one parse per URI). */
const LITERAL_TARGETS_MAX = 4096;

/** A/AAAA resolution with a positive/negative cache; IP literals resolve synchronously. */
export class Resolver {
  private readonly cache = new Map<string, { address: string | null; expires: number }>();
  private readonly pending = new Map<string, Promise<string | null>>();
  private readonly ttlMs: number;
  private readonly negativeTtlMs: number;
  private readonly maxEntries: number;
  private readonly lookupHost: (host: string) => Promise<string | null>;
  private readonly rfc3263: Rfc3263Resolver;
  /** resolveUri's answers for IP-literal URIs (most hops: no parse per relayed request). */
  private readonly literalTargets = new Map<string, Endpoint[]>();
  /** `lookupHost` replaces the system resolver (tests); it resolves to null when the name does not resolve. */
  constructor(
    ttlMs = 300_000,
    negativeTtlMs = 30_000,
    maxEntries = 10_000,
    lookupHost: (host: string) => Promise<string | null> = systemLookup,
    options: ResolverOptions = {},
  ) {
    this.ttlMs = ttlMs;
    this.negativeTtlMs = negativeTtlMs;
    this.maxEntries = maxEntries;
    this.lookupHost = lookupHost;
    // A replaced lookupHost (tests) means "these names, nothing else": no NAPTR/SRV from the network.
    const none = (): Promise<never[]> => Promise.resolve([]);
    const sys = lookupHost === systemLookup ? dnsQueries() : { naptr: none, srv: none };
    const dns = options.dns ?? {
      naptr: sys.naptr,
      srv: sys.srv,
      addresses: async (name: string) => {
        const a = await lookupHost(name);
        return a === null ? [] : [{ address: a, ttl: 0 }];
      },
    };
    this.rfc3263 = new Rfc3263Resolver(dns, {
      maxTtlMs: ttlMs,
      negativeTtlMs,
      maxEntries,
      supports: options.supports ?? (() => true),
    });
  }

  /**
   * RFC 3263: the targets to try for a request to `uri`, in failover order ([] when nothing
   * resolves or the URI cannot be routed). Synchronous for IP literals and cached answers.
   */
  resolveUri(uri: string): Endpoint[] | Promise<Endpoint[]> {
    const known = this.literalTargets.get(uri);
    if (known !== undefined) return known;
    const spec = targetSpecOf(uri);
    if (spec === undefined || isParseError(spec)) return [];
    const r = this.rfc3263.targets(spec);
    if (!(r instanceof Promise) && r.length === 1 && isIP(spec.host) !== 0) {
      // An IP-literal hop depends on the URI text alone: kept (frozen, shared) without a TTL.
      if (this.literalTargets.size >= LITERAL_TARGETS_MAX) this.literalTargets.clear();
      const frozen = Object.freeze([Object.freeze(r[0])]) as Endpoint[];
      this.literalTargets.set(uri, frozen);
      return frozen;
    }
    return r;
  }

  /** Endpoint for a next hop, synchronously when the host is an IP literal or cached. */
  resolve(hop: NextHop): Endpoint | Promise<Endpoint | null> | null {
    if (isIP(hop.host) !== 0) return { protocol: hop.protocol, address: hop.host, port: hop.port };
    const now = Date.now();
    // Host names compare case-insensitively: one cache entry and one lookup per name.
    const host = hop.host.toLowerCase();
    const hit = this.cache.get(host);
    if (hit !== undefined && hit.expires > now) {
      return hit.address === null ? null : { protocol: hop.protocol, address: hit.address, port: hop.port };
    }
    let p = this.pending.get(host);
    if (p === undefined) {
      p = this.lookup(host);
      this.pending.set(host, p);
    }
    return p.then((address) =>
      address === null ? null : { protocol: hop.protocol, address, port: hop.port },
    );
  }

  private async lookup(host: string): Promise<string | null> {
    let address: string | null = null;
    try {
      address = await this.lookupHost(host);
    } catch {
      address = null;
    }
    this.pending.delete(host);
    if (this.cache.size >= this.maxEntries) this.cache.clear();
    this.cache.set(host, {
      address,
      expires: Date.now() + (address === null ? this.negativeTtlMs : this.ttlMs),
    });
    return address;
  }
}

async function systemLookup(host: string): Promise<string | null> {
  return (await lookup(host, { verbatim: true })).address;
}
