/**
 * RFC 3263 server location: a SIP URI → the ordered list of (transport, address, port) to try.
 *
 * - IP literal host: that address; transport from `transport=` (else UDP, TLS for sips); port as
 *   given or the transport's default (§4.1, §4.2).
 * - Port given: A/AAAA of the host, transport as above (§4.2).
 * - `transport=` given, no port: SRV for that transport (`_sip._udp`, `_sip._tcp`, `_sips._tcp`),
 *   else A/AAAA on the default port (§4.2).
 * - Neither: NAPTR (§4.1) filtered to services whose transport has a listener here (SIP+D2U,
 *   SIP+D2T, SIPS+D2T, and RFC 7118's SIP+D2W / SIPS+D2W), ordered by order then preference, each
 *   replacement an SRV name. No usable NAPTR: SRV queries for each supported transport (sips:
 *   TLS only), the first that answers wins. No SRV: A/AAAA, UDP (TLS for sips), default port.
 * - SRV targets: priority ascending, weighted random within a priority (RFC 2782); each target's
 *   addresses in turn. The whole list is the failover order (§4.3: the next on a 503 or timeout).
 *
 * Answers are cached: A/AAAA with their TTL, NAPTR and SRV for `maxTtlMs` (node:dns does not
 * report their TTL), all capped by `maxTtlMs`; failures negatively for `negativeTtlMs`. Lookups
 * are asynchronous, deduplicated while pending, and bounded by the DNS client's timeout.
 */
import { Resolver as DnsResolver, lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { isParseError, type ParseError } from '../sip/errors.ts';
import { isSipUri, parseUri } from '../sip/uri.ts';
import type { Endpoint, Protocol } from '../transport/types.ts';

export interface NaptrAnswer {
  order: number;
  preference: number;
  flags: string;
  service: string;
  replacement: string;
}
export interface SrvAnswer {
  priority: number;
  weight: number;
  port: number;
  name: string;
}
export interface AddressAnswer {
  address: string;
  /** Seconds; 0 when unknown. */
  ttl: number;
}

/** The DNS queries RFC 3263 needs (replaceable in tests). Rejections count as "no records". */
export interface DnsQueries {
  naptr(name: string): Promise<NaptrAnswer[]>;
  srv(name: string): Promise<SrvAnswer[]>;
  addresses(name: string): Promise<AddressAnswer[]>;
}

export interface DnsOptions {
  /** DNS servers (`ip` or `ip:port`, `[ipv6]:port`); empty: the system's. */
  servers?: readonly string[];
  timeoutMs?: number;
  tries?: number;
}

/**
 * node:dns queries. With configured servers, A/AAAA go to them too (with TTLs); without, host
 * names resolve like the rest of the system (getaddrinfo: /etc/hosts, then DNS).
 */
export function dnsQueries(o: DnsOptions = {}): DnsQueries {
  const r = new DnsResolver({ timeout: o.timeoutMs ?? 2000, tries: o.tries ?? 2 });
  const own = o.servers !== undefined && o.servers.length > 0;
  if (own) r.setServers([...(o.servers ?? [])]);
  return {
    naptr: (name) => r.resolveNaptr(name),
    srv: (name) => r.resolveSrv(name),
    async addresses(name) {
      if (!own) {
        const all = await lookup(name, { all: true, verbatim: true });
        return all.map((a) => ({ address: a.address, ttl: 0 }));
      }
      const [v4, v6] = await Promise.allSettled([
        r.resolve4(name, { ttl: true }),
        r.resolve6(name, { ttl: true }),
      ]);
      const out: AddressAnswer[] = [];
      if (v4.status === 'fulfilled') out.push(...v4.value);
      if (v6.status === 'fulfilled') out.push(...v6.value);
      if (out.length === 0 && v4.status === 'rejected') throw v4.reason;
      return out;
    },
  };
}

/** What a URI asks for, before DNS. */
export interface TargetSpec {
  host: string;
  port: number | undefined;
  transport: Protocol | undefined;
  secure: boolean;
}

const TRANSPORTS: Record<string, Protocol> = { udp: 'udp', tcp: 'tcp', tls: 'tls', ws: 'ws', wss: 'wss' };

export function defaultPortOf(p: Protocol): number {
  return p === 'tls' || p === 'wss' ? 5061 : 5060;
}

/** The RFC 3263 inputs of a SIP URI (maddr wins over the host, §4). */
export function targetSpecOf(uriText: string): TargetSpec | ParseError | undefined {
  const u = parseUri(uriText);
  if (isParseError(u)) return u;
  if (!isSipUri(u)) return undefined;
  const secure = u.scheme === 'sips';
  const tp = u.params.get('transport')?.toLowerCase();
  let transport = tp === undefined ? undefined : TRANSPORTS[tp];
  if (tp !== undefined && transport === undefined) return undefined;
  if (secure && transport === 'tcp') transport = 'tls';
  if (secure && transport === 'ws') transport = 'wss';
  const maddr = u.params.get('maddr');
  const raw = maddr !== undefined && maddr !== '' ? maddr : u.host;
  const host = raw.charCodeAt(0) === 0x5b ? raw.slice(1, -1) : raw;
  return { host, port: u.port, transport, secure };
}

/** NAPTR service field → transport (RFC 3263 §4.1, RFC 7118 §7). */
const NAPTR_SERVICES: Record<string, Protocol> = {
  'sip+d2u': 'udp',
  'sip+d2t': 'tcp',
  'sips+d2t': 'tls',
  'sip+d2w': 'ws',
  'sips+d2w': 'wss',
};

function srvPrefix(p: Protocol): string | undefined {
  switch (p) {
    case 'udp':
      return '_sip._udp.';
    case 'tcp':
      return '_sip._tcp.';
    case 'tls':
      return '_sips._tcp.';
    default:
      return undefined; // RFC 7118 defines no SRV for WebSocket
  }
}

/** RFC 2782: by priority; within one, a weighted random order (weight 0 last-ish). */
export function orderSrv(records: readonly SrvAnswer[], random: () => number = Math.random): SrvAnswer[] {
  const byPrio = new Map<number, SrvAnswer[]>();
  for (const r of records) {
    const l = byPrio.get(r.priority);
    if (l === undefined) byPrio.set(r.priority, [r]);
    else l.push(r);
  }
  const out: SrvAnswer[] = [];
  for (const prio of [...byPrio.keys()].sort((a, b) => a - b)) {
    const left = [...(byPrio.get(prio) ?? [])].sort((a, b) => a.weight - b.weight);
    while (left.length > 0) {
      const total = left.reduce((s, r) => s + r.weight, 0);
      let pick = 0;
      if (total > 0) {
        let n = random() * total;
        pick = left.findIndex((r) => {
          n -= r.weight;
          return n < 0;
        });
        if (pick < 0) pick = left.length - 1;
      }
      out.push(left.splice(pick, 1)[0]);
    }
  }
  return out;
}

interface Entry<T> {
  value: T;
  expires: number;
}

export interface Rfc3263Options {
  maxTtlMs: number;
  negativeTtlMs: number;
  maxEntries: number;
  /** Transports this server can send over (a listener exists). */
  supports(p: Protocol): boolean;
}

export class Rfc3263Resolver {
  private readonly dns: DnsQueries;
  private readonly o: Rfc3263Options;
  private readonly cache = new Map<string, Entry<unknown>>();
  private readonly pending = new Map<string, Promise<unknown>>();

  constructor(dns: DnsQueries, o: Rfc3263Options) {
    this.dns = dns;
    this.o = o;
  }

  /** The failover list for a URI's target; [] when nothing resolves. */
  targets(spec: TargetSpec): Endpoint[] | Promise<Endpoint[]> {
    if (isIP(spec.host) !== 0) {
      const protocol = spec.transport ?? (spec.secure ? 'tls' : 'udp');
      return [{ protocol, address: spec.host, port: spec.port ?? defaultPortOf(protocol) }];
    }
    const key = `t:${spec.secure ? 's' : ''}${spec.transport ?? ''}:${spec.port ?? ''}:${spec.host.toLowerCase()}`;
    const hit = this.cache.get(key);
    if (hit !== undefined && hit.expires > Date.now()) return hit.value as Endpoint[];
    return this.cached(
      key,
      () => this.locate(spec),
      (v) => (v.length === 0 ? this.o.negativeTtlMs : this.o.maxTtlMs),
    );
  }

  private async locate(spec: TargetSpec): Promise<Endpoint[]> {
    const host = spec.host.toLowerCase();
    if (spec.port !== undefined) {
      const protocol = spec.transport ?? (spec.secure ? 'tls' : 'udp');
      return this.hostTargets(host, protocol, spec.port);
    }
    if (spec.transport !== undefined) {
      const viaSrv = await this.srvTargets(host, spec.transport);
      return viaSrv.length > 0
        ? viaSrv
        : this.hostTargets(host, spec.transport, defaultPortOf(spec.transport));
    }
    const naptr = await this.query(`n:${host}`, () => this.dns.naptr(host));
    const usable = naptr
      .map((r) => ({ r, p: NAPTR_SERVICES[r.service.toLowerCase()] }))
      .filter(
        (x): x is { r: NaptrAnswer; p: Protocol } =>
          x.p !== undefined &&
          x.r.flags.toLowerCase() === 's' &&
          this.o.supports(x.p) &&
          (!spec.secure || x.p === 'tls' || x.p === 'wss'),
      )
      .sort((a, b) => a.r.order - b.r.order || a.r.preference - b.r.preference);
    for (const { r, p } of usable) {
      const t = await this.srvRecords(r.replacement, p);
      if (t.length > 0) return t;
    }
    const order: Protocol[] = spec.secure ? ['tls'] : ['udp', 'tcp', 'tls'];
    for (const p of order) {
      if (!this.o.supports(p)) continue;
      const t = await this.srvTargets(host, p);
      if (t.length > 0) return t;
    }
    const protocol: Protocol = spec.secure ? 'tls' : 'udp';
    return this.hostTargets(host, protocol, defaultPortOf(protocol));
  }

  private srvTargets(host: string, p: Protocol): Promise<Endpoint[]> {
    const prefix = srvPrefix(p);
    return prefix === undefined ? Promise.resolve([]) : this.srvRecords(prefix + host, p);
  }

  private async srvRecords(name: string, protocol: Protocol): Promise<Endpoint[]> {
    const records = await this.query(`s:${name.toLowerCase()}`, () => this.dns.srv(name));
    const out: Endpoint[] = [];
    for (const r of orderSrv(records)) {
      if (r.name === '' || r.name === '.') continue; // "service not available here" (RFC 2782)
      out.push(...(await this.hostTargets(r.name.toLowerCase(), protocol, r.port)));
    }
    return out;
  }

  private async hostTargets(host: string, protocol: Protocol, port: number): Promise<Endpoint[]> {
    if (isIP(host) !== 0) return [{ protocol, address: host, port }];
    const addrs = await this.query(
      `a:${host}`,
      () => this.dns.addresses(host),
      (a) => (a.length === 0 ? this.o.negativeTtlMs : ttlMs(a, this.o.maxTtlMs)),
    );
    return addrs.map((a) => ({ protocol, address: a.address, port }));
  }

  /** A cached query: failures are "no records" (negatively cached). */
  private query<T>(key: string, run: () => Promise<T[]>, ttl?: (v: T[]) => number): Promise<T[]> {
    const hit = this.cache.get(key);
    if (hit !== undefined && hit.expires > Date.now()) return Promise.resolve(hit.value as T[]);
    return this.cached(
      key,
      () => run().catch(() => [] as T[]),
      ttl ?? ((v) => (v.length === 0 ? this.o.negativeTtlMs : this.o.maxTtlMs)),
    );
  }

  private cached<T>(key: string, run: () => Promise<T>, ttl: (v: T) => number): Promise<T> {
    const p = this.pending.get(key) as Promise<T> | undefined;
    if (p !== undefined) return p;
    const q = run().then((value) => {
      this.pending.delete(key);
      if (this.cache.size >= this.o.maxEntries) this.cache.clear();
      this.cache.set(key, { value, expires: Date.now() + ttl(value) });
      return value;
    });
    this.pending.set(key, q);
    return q;
  }
}

function ttlMs(a: readonly AddressAnswer[], cap: number): number {
  let min = Number.POSITIVE_INFINITY;
  for (const x of a) if (x.ttl > 0 && x.ttl * 1000 < min) min = x.ttl * 1000;
  return Math.min(cap, min);
}
