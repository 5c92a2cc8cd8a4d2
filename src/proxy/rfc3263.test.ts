import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isParseError } from '../sip/errors.ts';
import type { Protocol } from '../transport/types.ts';
import {
  type AddressAnswer,
  type DnsQueries,
  type NaptrAnswer,
  orderSrv,
  Rfc3263Resolver,
  type SrvAnswer,
  type TargetSpec,
  targetSpecOf,
} from './rfc3263.ts';

interface Zone {
  naptr?: Record<string, NaptrAnswer[]>;
  srv?: Record<string, SrvAnswer[]>;
  a?: Record<string, AddressAnswer[]>;
}

function fakeDns(z: Zone): DnsQueries & { queries: string[] } {
  const queries: string[] = [];
  const get = <T>(kind: string, table: Record<string, T[]> | undefined, name: string): Promise<T[]> => {
    queries.push(`${kind} ${name}`);
    const v = table?.[name];
    return v === undefined ? Promise.reject(new Error('ENOTFOUND')) : Promise.resolve(v);
  };
  return {
    queries,
    naptr: (n) => get('NAPTR', z.naptr, n),
    srv: (n) => get('SRV', z.srv, n),
    addresses: (n) => get('A', z.a, n),
  };
}

function resolver(z: Zone, supported: Protocol[] = ['udp', 'tcp', 'tls']) {
  const dns = fakeDns(z);
  const r = new Rfc3263Resolver(dns, {
    maxTtlMs: 60_000,
    negativeTtlMs: 5_000,
    maxEntries: 100,
    supports: (p) => supported.includes(p),
  });
  return { r, dns };
}

function spec(uri: string): TargetSpec {
  const s = targetSpecOf(uri);
  if (s === undefined || isParseError(s)) throw new Error(uri);
  return s;
}

const A = (address: string, ttl = 300): AddressAnswer => ({ address, ttl });
const naptr = (order: number, pref: number, service: string, replacement: string): NaptrAnswer => ({
  order,
  preference: pref,
  flags: 's',
  service,
  replacement,
});

describe('RFC 3263 resolution', () => {
  it('an IP literal needs no DNS and resolves synchronously', () => {
    const { r, dns } = resolver({});
    assert.deepEqual(r.targets(spec('sip:bob@192.0.2.1')), [
      { protocol: 'udp', address: '192.0.2.1', port: 5060 },
    ]);
    assert.deepEqual(r.targets(spec('sips:bob@[2001:db8::1]')), [
      { protocol: 'tls', address: '2001:db8::1', port: 5061 },
    ]);
    assert.deepEqual(dns.queries, []);
  });

  it('an explicit port skips NAPTR and SRV (§4.2)', async () => {
    const { r, dns } = resolver({ a: { 'b.example': [A('192.0.2.5')] } });
    assert.deepEqual(await r.targets(spec('sip:b.example:5080;transport=tcp')), [
      { protocol: 'tcp', address: '192.0.2.5', port: 5080 },
    ]);
    assert.deepEqual(dns.queries, ['A b.example']);
  });

  it('transport= without port: SRV for that transport, else A on the default port', async () => {
    const { r } = resolver({
      srv: { '_sip._tcp.b.example': [{ priority: 1, weight: 0, port: 5090, name: 'h.b.example' }] },
      a: { 'h.b.example': [A('192.0.2.9')], 'c.example': [A('192.0.2.10')] },
    });
    assert.deepEqual(await r.targets(spec('sip:b.example;transport=tcp')), [
      { protocol: 'tcp', address: '192.0.2.9', port: 5090 },
    ]);
    assert.deepEqual(await r.targets(spec('sip:c.example;transport=tls')), [
      { protocol: 'tls', address: '192.0.2.10', port: 5061 },
    ]);
  });

  it('NAPTR picks the preferred supported transport, SRV orders by priority: the failover list', async () => {
    const { r } = resolver(
      {
        naptr: {
          'example.test': [
            naptr(10, 5, 'SIP+D2W', '_sip._ws.example.test'),
            naptr(10, 20, 'SIP+D2U', '_sip._udp.example.test'),
            naptr(10, 10, 'SIP+D2T', '_sip._tcp.example.test'),
          ],
        },
        srv: {
          '_sip._tcp.example.test': [
            { priority: 20, weight: 0, port: 5072, name: 'b.example.test' },
            { priority: 10, weight: 0, port: 5071, name: 'a.example.test' },
          ],
        },
        a: { 'a.example.test': [A('10.0.0.1')], 'b.example.test': [A('10.0.0.2'), A('10.0.0.3')] },
      },
      ['udp', 'tcp'],
    );
    assert.deepEqual(await r.targets(spec('sip:alice@example.test')), [
      { protocol: 'tcp', address: '10.0.0.1', port: 5071 },
      { protocol: 'tcp', address: '10.0.0.2', port: 5072 },
      { protocol: 'tcp', address: '10.0.0.3', port: 5072 },
    ]);
  });

  it('no NAPTR: SRV per supported transport; none: A with UDP on 5060 (TLS on 5061 for sips)', async () => {
    const { r, dns } = resolver({
      srv: { '_sip._tcp.s.example': [{ priority: 0, weight: 0, port: 5555, name: 'h.s.example' }] },
      a: { 'h.s.example': [A('192.0.2.1')], 'plain.example': [A('192.0.2.2')] },
    });
    assert.deepEqual(await r.targets(spec('sip:s.example')), [
      { protocol: 'tcp', address: '192.0.2.1', port: 5555 },
    ]);
    assert.deepEqual(await r.targets(spec('sip:plain.example')), [
      { protocol: 'udp', address: '192.0.2.2', port: 5060 },
    ]);
    assert.deepEqual(await r.targets(spec('sips:plain.example')), [
      { protocol: 'tls', address: '192.0.2.2', port: 5061 },
    ]);
    assert.ok(dns.queries.includes('SRV _sip._udp.plain.example'));
    assert.ok(dns.queries.includes('SRV _sips._tcp.plain.example'), 'sips asks for TLS only');
  });

  it('caches answers (and failures) and shares a pending lookup', async () => {
    const { r, dns } = resolver({ a: { 'x.example': [A('192.0.2.3')] } });
    const [a, b] = await Promise.all([
      r.targets(spec('sip:x.example:5060')),
      r.targets(spec('sip:x.example:5060')),
    ]);
    assert.deepEqual(a, b);
    const again = r.targets(spec('sip:x.example:5060'));
    assert.ok(!(again instanceof Promise), 'cached: synchronous');
    assert.deepEqual(await r.targets(spec('sip:nope.example:5060')), []);
    const n = dns.queries.length;
    assert.deepEqual(r.targets(spec('sip:nope.example:5060')), [], 'negative answer cached');
    assert.equal(dns.queries.length, n);
  });

  it('orderSrv: priority first, weighted random within one', () => {
    const recs: SrvAnswer[] = [
      { priority: 2, weight: 0, port: 3, name: 'c' },
      { priority: 1, weight: 10, port: 1, name: 'a' },
      { priority: 1, weight: 90, port: 2, name: 'b' },
    ];
    assert.deepEqual(
      orderSrv(recs, () => 0.05).map((r) => r.name),
      ['a', 'b', 'c'],
    );
    assert.deepEqual(
      orderSrv(recs, () => 0.5).map((r) => r.name),
      ['b', 'a', 'c'],
    );
  });
});
