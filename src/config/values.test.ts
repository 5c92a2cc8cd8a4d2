import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCidr, parseHostPort, parseListenSpec, parseStorage } from './values.ts';

describe('parseListenSpec', () => {
  it('parses IPv4, bracketed IPv6 and host names', () => {
    assert.deepEqual(parseListenSpec('udp:127.0.0.1:5060'), {
      ok: true,
      value: { protocol: 'udp', address: '127.0.0.1', family: 4, port: 5060 },
    });
    assert.deepEqual(parseListenSpec('udp:[::1]:5060'), {
      ok: true,
      value: { protocol: 'udp', address: '::1', family: 6, port: 5060 },
    });
    assert.deepEqual(parseListenSpec('tls:[2001:db8::10]:5061'), {
      ok: true,
      value: { protocol: 'tls', address: '2001:db8::10', family: 6, port: 5061 },
    });
    assert.deepEqual(parseListenSpec('wss:sip.example.com:443'), {
      ok: true,
      value: { protocol: 'wss', address: 'sip.example.com', family: null, port: 443 },
    });
    assert.deepEqual(parseListenSpec('TCP:0.0.0.0:65535'), {
      ok: true,
      value: { protocol: 'tcp', address: '0.0.0.0', family: 4, port: 65535 },
    });
  });

  it("accepts Kamailio's inline advertise", () => {
    const r = parseListenSpec('udp:10.0.0.1:5060 advertise 1.2.3.4:5080');
    assert.ok(r.ok);
    assert.equal(r.value.advertise, '1.2.3.4:5080');
    assert.equal(r.value.address, '10.0.0.1');
  });

  const bad: Array<[string, RegExp]> = [
    ['udp:127.0.0.1', /has no port/],
    ['127.0.0.1:5060', /unknown protocol "127.0.0.1"/],
    ['sctp:1.2.3.4:5060', /unknown protocol "sctp".*udp, tcp, tls, ws, wss/],
    ['udp:1.2.3.4:0', /port 0 is out of range 1-65535/],
    ['udp:1.2.3.4:65536', /out of range/],
    ['udp:1.2.3.4:50x', /not a number/],
    ['udp:::1:5060', /IPv6 addresses go in brackets: \[::1\]:5060/],
    ['udp:[::1:5060', /unclosed|not an IPv6/],
    ['udp:[1.2.3.4]:5060', /not an IPv6 address/],
    ['udp:300.1.1.1:5060', /not a valid IPv4 address/],
    ['udp:bad_host!:5060', /not an IPv4 address, \[IPv6\] address or host name/],
    ['udp:', /expected proto:host:port/],
    ['', /expected proto:host:port/],
  ];
  for (const [spec, re] of bad) {
    it(`rejects ${JSON.stringify(spec)}`, () => {
      const r = parseListenSpec(spec);
      assert.equal(r.ok, false);
      if (!r.ok) assert.match(r.error, re);
    });
  }
});

describe('parseHostPort', () => {
  it('fills a default port and accepts a bare IPv6 literal then', () => {
    assert.deepEqual(parseHostPort('pub.example.com', 5060), {
      ok: true,
      value: { host: 'pub.example.com', port: 5060, family: null },
    });
    assert.deepEqual(parseHostPort('2001:db8::1', 5060), {
      ok: true,
      value: { host: '2001:db8::1', port: 5060, family: 6 },
    });
    assert.deepEqual(parseHostPort('[::1]:8888'), {
      ok: true,
      value: { host: '::1', port: 8888, family: 6 },
    });
  });
});

describe('parseCidr', () => {
  it('parses blocks and single addresses', () => {
    assert.deepEqual(parseCidr('127.0.0.1/32'), {
      ok: true,
      value: { spec: '127.0.0.1/32', address: '127.0.0.1', prefix: 32, family: 4 },
    });
    assert.deepEqual(parseCidr('10.0.0.0/8'), {
      ok: true,
      value: { spec: '10.0.0.0/8', address: '10.0.0.0', prefix: 8, family: 4 },
    });
    assert.deepEqual(parseCidr('::1'), {
      ok: true,
      value: { spec: '::1/128', address: '::1', prefix: 128, family: 6 },
    });
  });
  it('rejects bad addresses and prefixes', () => {
    assert.equal(parseCidr('300.0.0.1/32').ok, false);
    assert.equal(parseCidr('10.0.0.0/33').ok, false);
    assert.equal(parseCidr('::/129').ok, false);
    assert.equal(parseCidr('10.0.0.0/x').ok, false);
  });
});

describe('parseStorage', () => {
  const abs = (p: string): string => `/base/${p}`;
  it('parses the three kinds', () => {
    assert.deepEqual(parseStorage('memory', abs), { ok: true, value: { kind: 'memory', spec: 'memory' } });
    assert.deepEqual(parseStorage('sqlite:db.sqlite', abs), {
      ok: true,
      value: { kind: 'sqlite', spec: 'sqlite:db.sqlite', path: '/base/db.sqlite' },
    });
    assert.deepEqual(parseStorage('redis://127.0.0.1:6380', abs), {
      ok: true,
      value: {
        kind: 'redis',
        spec: 'redis://127.0.0.1:6380',
        url: 'redis://127.0.0.1:6380',
        host: '127.0.0.1',
        port: 6380,
      },
    });
    const r = parseStorage('redis://cache', abs);
    assert.ok(r.ok && r.value.kind === 'redis' && r.value.port === 6379);
  });
  it('rejects anything else', () => {
    assert.match(
      (parseStorage('mysql://x', abs) as { error: string }).error,
      /memory, sqlite:PATH or redis:\/\/HOST:PORT/,
    );
    assert.equal(parseStorage('sqlite:', abs).ok, false);
  });
});
