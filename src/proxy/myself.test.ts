import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ListenerInfo, Protocol } from '../transport/types.ts';
import { LocalAddresses, localInterfaceAddresses } from './myself.ts';

function listener(
  id: number,
  protocol: Protocol,
  address: string,
  port: number,
  advertisedHost = address,
  advertisedPort = port,
): ListenerInfo {
  return {
    id,
    protocol,
    address,
    port,
    family: address.includes(':') ? 6 : 4,
    advertisedHost,
    advertisedPort,
  };
}

describe('LocalAddresses', () => {
  it('knows each listener address with its port', () => {
    const l = new LocalAddresses(
      [listener(1, 'udp', '192.0.2.10', 5060), listener(2, 'tcp', '192.0.2.10', 5070)],
      [],
      [],
    );
    assert.ok(l.hasHost('192.0.2.10', 5060));
    assert.ok(l.hasHost('192.0.2.10', 5070));
    assert.ok(!l.hasHost('192.0.2.10', 5080));
    assert.ok(!l.hasHost('192.0.2.11', 5060));
  });

  it('a host without port means 5060 (5061 for sips)', () => {
    const l = new LocalAddresses([listener(1, 'udp', '192.0.2.10', 5060)], [], []);
    assert.ok(l.hasHost('192.0.2.10', undefined));
    assert.ok(!l.hasHost('192.0.2.10', undefined, true));
    const tls = new LocalAddresses([listener(1, 'tls', '192.0.2.10', 5061)], [], []);
    assert.ok(tls.hasHost('192.0.2.10', undefined, true));
    assert.ok(!tls.hasHost('192.0.2.10', undefined));
    const odd = new LocalAddresses([listener(1, 'udp', '192.0.2.10', 5080)], [], []);
    assert.ok(!odd.hasHost('192.0.2.10', undefined));
  });

  it('knows the advertised host and port, and the advertised host on the bound port', () => {
    const l = new LocalAddresses([listener(1, 'udp', '10.1.1.1', 5060, 'sip.example.com', 5080)], [], []);
    assert.ok(l.hasHost('10.1.1.1', 5060));
    assert.ok(l.hasHost('sip.example.com', 5080));
    assert.ok(l.hasHost('SIP.Example.COM', 5060), 'case-insensitive; bound port too');
    assert.ok(!l.hasHost('10.1.1.1', 5080));
  });

  it('aliases: with a port, or any port without one; IPv6 forms', () => {
    const l = new LocalAddresses(
      [listener(1, 'udp', '192.0.2.10', 5060)],
      ['example.com', 'pbx.example.com:5090', '[2001:db8::7]:5070', '2001:db8::8', '[2001:db8::9]'],
      [],
    );
    assert.ok(l.hasHost('example.com', 5060));
    assert.ok(l.hasHost('example.com', 9999), 'an alias without port matches every port');
    assert.ok(l.hasHost('pbx.example.com', 5090));
    assert.ok(!l.hasHost('pbx.example.com', 5060));
    assert.ok(l.hasHost('[2001:db8::7]', 5070));
    assert.ok(!l.hasHost('[2001:db8::7]', 5060));
    assert.ok(l.hasHost('2001:db8::8', 1234));
    assert.ok(l.hasHost('[2001:db8::9]', undefined));
  });

  it('compares IPv6 addresses by value, not spelling', () => {
    const l = new LocalAddresses([listener(1, 'udp', '2001:db8::10', 5060)], [], []);
    assert.ok(l.hasHost('[2001:db8::10]', 5060));
    assert.ok(l.hasHost('[2001:DB8:0:0::10]', 5060));
    assert.ok(l.hasHost('2001:0db8::0010', 5060));
    assert.ok(!l.hasHost('[2001:db8::11]', 5060));
  });

  it('any-address listeners: loopback and the interface addresses, on the listener port', () => {
    const l = new LocalAddresses(
      [listener(1, 'udp', '0.0.0.0', 5060, '192.0.2.10'), listener(2, 'udp', '::', 5060, '2001:db8::10')],
      [],
      ['127.0.0.1', '192.0.2.10', '198.51.100.4', '::1', '2001:db8::10', 'fe80::1%eth0'],
    );
    assert.ok(l.hasHost('127.0.0.1', 5060));
    assert.ok(l.hasHost('127.0.0.2', 5060), 'all of 127/8');
    assert.ok(l.hasHost('192.0.2.10', 5060), 'the advertised address');
    assert.ok(l.hasHost('198.51.100.4', 5060), 'a second interface');
    assert.ok(!l.hasHost('198.51.100.4', 5070), 'not on another port');
    assert.ok(!l.hasHost('198.51.100.5', 5060));
    assert.ok(l.hasHost('::1', 5060));
    assert.ok(l.hasHost('[fe80::1]', 5060), 'link-local, zone removed');
    assert.ok(!l.hasHost('2001:db8::99', 5060));
    assert.ok(!l.hasHost('any.example', 5060), 'a name is never ours by the any-address');
  });

  it('an IPv4 any-address listener does not own IPv6 addresses, nor the reverse', () => {
    const v4 = new LocalAddresses(
      [listener(1, 'udp', '0.0.0.0', 5060, '127.0.0.1')],
      [],
      ['::1', '2001:db8::1'],
    );
    assert.ok(!v4.hasHost('::1', 5060));
    const v6 = new LocalAddresses([listener(1, 'udp', '::', 5060, '::1')], [], ['127.0.0.1', '192.0.2.1']);
    assert.ok(!v6.hasHost('192.0.2.1', 5060));
  });

  it('defaults to the interfaces of this host (loopback at least)', () => {
    assert.ok(localInterfaceAddresses().length > 0);
    const l = new LocalAddresses([listener(1, 'udp', '0.0.0.0', 5060, '127.0.0.1')]);
    assert.ok(l.hasHost('127.0.0.1', 5060));
  });

  it('isMyselfUri: sip and sips URIs only, parsed', () => {
    const l = new LocalAddresses(
      [listener(1, 'udp', '192.0.2.10', 5060), listener(2, 'tls', '192.0.2.10', 5061)],
      ['example.com'],
      [],
    );
    assert.ok(l.isMyselfUri('sip:192.0.2.10'));
    assert.ok(l.isMyselfUri('sip:alice@192.0.2.10:5060;transport=udp'));
    assert.ok(l.isMyselfUri('sips:192.0.2.10'));
    assert.ok(l.isMyselfUri('sip:bob@EXAMPLE.com'));
    assert.ok(!l.isMyselfUri('sip:192.0.2.10:5062'));
    assert.ok(!l.isMyselfUri('sip:bob@b.example'));
    assert.ok(!l.isMyselfUri('tel:+15551234567'));
    assert.ok(!l.isMyselfUri('garbage'));
  });
});
