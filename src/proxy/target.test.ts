import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isParseError } from '../sip/errors.ts';
import type { Via } from '../sip/types.ts';
import { parseTopVia } from '../sip/via.ts';
import { type NextHop, nextHopOf, nextHopOfVia, Resolver, stripBrackets } from './target.ts';

function hop(uri: string): NextHop {
  const h = nextHopOf(uri);
  if (isParseError(h)) throw new Error(`${uri}: ${h.phrase}`);
  return h;
}

function via(text: string): Via {
  const v = parseTopVia(text);
  if (isParseError(v)) throw new Error(`${text}: ${v.phrase}`);
  return v.via;
}

describe('nextHopOf (RFC 3261 §19.1.2, RFC 3263 defaults)', () => {
  it('defaults to UDP on 5060', () => {
    assert.deepEqual(hop('sip:bob@192.0.2.1'), { protocol: 'udp', host: '192.0.2.1', port: 5060 });
    assert.deepEqual(hop('sip:b.example'), { protocol: 'udp', host: 'b.example', port: 5060 });
  });

  it('keeps an explicit port', () => {
    assert.deepEqual(hop('sip:bob@192.0.2.1:5080'), { protocol: 'udp', host: '192.0.2.1', port: 5080 });
  });

  it('takes the transport parameter, in any case', () => {
    assert.equal(hop('sip:192.0.2.1;transport=tcp').protocol, 'tcp');
    assert.equal(hop('sip:192.0.2.1;transport=TCP').protocol, 'tcp');
    assert.equal(hop('sip:192.0.2.1;transport=udp').protocol, 'udp');
    assert.deepEqual(hop('sip:192.0.2.1;transport=tls'), { protocol: 'tls', host: '192.0.2.1', port: 5061 });
    assert.equal(hop('sip:192.0.2.1;transport=ws').protocol, 'ws');
  });

  it('sips means TLS on 5061 (TCP becomes TLS, WS becomes WSS)', () => {
    assert.deepEqual(hop('sips:bob@192.0.2.1'), { protocol: 'tls', host: '192.0.2.1', port: 5061 });
    assert.equal(hop('sips:192.0.2.1;transport=tcp').protocol, 'tls');
    assert.equal(hop('sips:192.0.2.1;transport=ws').protocol, 'wss');
    assert.equal(hop('sips:192.0.2.1:5071').port, 5071);
  });

  it('maddr overrides the host', () => {
    assert.deepEqual(hop('sip:bob@b.example;maddr=192.0.2.99'), {
      protocol: 'udp',
      host: '192.0.2.99',
      port: 5060,
    });
    assert.equal(hop('sip:bob@b.example:5070;maddr=[2001:db8::9]').host, '2001:db8::9');
    assert.ok(isParseError(nextHopOf('sip:bob@b.example;maddr=')), 'an empty maddr is malformed');
  });

  it('removes the brackets of IPv6 references', () => {
    assert.deepEqual(hop('sip:bob@[2001:db8::1]:5062;transport=tcp'), {
      protocol: 'tcp',
      host: '2001:db8::1',
      port: 5062,
    });
    assert.equal(hop('sip:[::1]').host, '::1');
  });

  it('refuses what cannot be routed: tel:, other schemes, unknown transports, garbage', () => {
    const tel = nextHopOf('tel:+15551234567');
    assert.ok(isParseError(tel));
    assert.equal(tel.status, 416);
    assert.ok(isParseError(nextHopOf('http://example.com/')));
    assert.ok(isParseError(nextHopOf('sip:192.0.2.1;transport=sctp')));
    assert.ok(isParseError(nextHopOf('not a uri')));
    assert.ok(isParseError(nextHopOf('')));
  });
});

describe('nextHopOfVia (RFC 3261 §18.2.2, RFC 3581)', () => {
  it('sends to sent-by, default port by transport', () => {
    assert.deepEqual(nextHopOfVia(via('SIP/2.0/UDP 10.0.0.1:5070;branch=z9hG4bK1')), {
      protocol: 'udp',
      host: '10.0.0.1',
      port: 5070,
    });
    assert.equal(nextHopOfVia(via('SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK1')).port, 5060);
    assert.deepEqual(nextHopOfVia(via('SIP/2.0/TLS 10.0.0.1;branch=z9hG4bK1')), {
      protocol: 'tls',
      host: '10.0.0.1',
      port: 5061,
    });
    assert.equal(nextHopOfVia(via('SIP/2.0/TCP 10.0.0.1;branch=z9hG4bK1')).protocol, 'tcp');
    assert.equal(nextHopOfVia(via('SIP/2.0/SCTP 10.0.0.1;branch=z9hG4bK1')).protocol, 'udp', 'unknown: UDP');
  });

  it('prefers received over sent-by, and rport over the port', () => {
    assert.deepEqual(nextHopOfVia(via('SIP/2.0/UDP host.example:5070;received=192.0.2.7;branch=z9hG4bK1')), {
      protocol: 'udp',
      host: '192.0.2.7',
      port: 5070,
    });
    assert.deepEqual(
      nextHopOfVia(via('SIP/2.0/UDP host.example:5070;received=192.0.2.7;rport=40000;branch=z9hG4bK1')),
      { protocol: 'udp', host: '192.0.2.7', port: 40000 },
    );
    assert.equal(
      nextHopOfVia(via('SIP/2.0/UDP 10.0.0.1:5070;rport;branch=z9hG4bK1')).port,
      5070,
      'rport without value: the Via port',
    );
  });

  it('sends to maddr when present', () => {
    assert.deepEqual(
      nextHopOfVia(via('SIP/2.0/UDP 10.0.0.1:5070;maddr=239.1.1.1;received=192.0.2.7;branch=z9hG4bK1')),
      {
        protocol: 'udp',
        host: '239.1.1.1',
        port: 5070,
      },
    );
    assert.equal(
      nextHopOfVia(via('SIP/2.0/UDP 10.0.0.1;maddr=[2001:db8::5];branch=z9hG4bK1')).host,
      '2001:db8::5',
    );
  });

  it('reads the address of an Asterisk received with a port', () => {
    const v = via('SIP/2.0/UDP 10.0.0.1:5060;received=192.0.2.7:5060;branch=z9hG4bK1');
    assert.equal(nextHopOfVia(v).host, '192.0.2.7');
  });

  it('handles IPv6 sent-by and received', () => {
    assert.deepEqual(nextHopOfVia(via('SIP/2.0/UDP [2001:db8::1]:5062;branch=z9hG4bK1')), {
      protocol: 'udp',
      host: '2001:db8::1',
      port: 5062,
    });
    assert.equal(
      nextHopOfVia(via('SIP/2.0/UDP [2001:db8::1];received=2001:db8::9;branch=z9hG4bK1')).host,
      '2001:db8::9',
    );
    assert.equal(
      nextHopOfVia(via('SIP/2.0/UDP [2001:db8::1];received=[2001:db8::9];branch=z9hG4bK1')).host,
      '2001:db8::9',
    );
  });
});

describe('stripBrackets', () => {
  it('removes one pair of brackets', () => {
    assert.equal(stripBrackets('[::1]'), '::1');
    assert.equal(stripBrackets('::1'), '::1');
    assert.equal(stripBrackets('host'), 'host');
  });
});

describe('Resolver', () => {
  function counting(answers: Record<string, string | null>): {
    lookups: string[];
    fn: (host: string) => Promise<string | null>;
  } {
    const lookups: string[] = [];
    return {
      lookups,
      fn: async (host) => {
        lookups.push(host);
        const a = answers[host];
        if (a === undefined) throw new Error('ENOTFOUND');
        return a;
      },
    };
  }

  it('answers IP literals synchronously, without a lookup', () => {
    const c = counting({});
    const r = new Resolver(1000, 1000, 10, c.fn);
    assert.deepEqual(r.resolve({ protocol: 'udp', host: '192.0.2.1', port: 5060 }), {
      protocol: 'udp',
      address: '192.0.2.1',
      port: 5060,
    });
    assert.deepEqual(r.resolve({ protocol: 'tcp', host: '2001:db8::1', port: 5061 }), {
      protocol: 'tcp',
      address: '2001:db8::1',
      port: 5061,
    });
    assert.deepEqual(c.lookups, []);
  });

  it('resolves names asynchronously, then from the cache synchronously', async () => {
    const c = counting({ 'b.example': '192.0.2.20' });
    const r = new Resolver(60_000, 1000, 10, c.fn);
    const first = r.resolve({ protocol: 'udp', host: 'b.example', port: 5070 });
    assert.ok(first instanceof Promise);
    assert.deepEqual(await first, { protocol: 'udp', address: '192.0.2.20', port: 5070 });
    const second = r.resolve({ protocol: 'tcp', host: 'B.Example', port: 5080 });
    assert.deepEqual(
      second,
      { protocol: 'tcp', address: '192.0.2.20', port: 5080 },
      'cached, case-insensitively',
    );
    assert.deepEqual(c.lookups, ['b.example']);
  });

  it('shares one lookup between concurrent requests', async () => {
    const c = counting({ 'b.example': '192.0.2.20' });
    const r = new Resolver(60_000, 1000, 10, c.fn);
    const a = r.resolve({ protocol: 'udp', host: 'b.example', port: 5060 });
    const b = r.resolve({ protocol: 'udp', host: 'b.example', port: 5062 });
    assert.deepEqual(await Promise.all([a, b]), [
      { protocol: 'udp', address: '192.0.2.20', port: 5060 },
      { protocol: 'udp', address: '192.0.2.20', port: 5062 },
    ]);
    assert.equal(c.lookups.length, 1);
  });

  it('caches failures (negative cache) as null', async () => {
    const c = counting({});
    const r = new Resolver(60_000, 60_000, 10, c.fn);
    assert.equal(await r.resolve({ protocol: 'udp', host: 'nowhere.invalid', port: 5060 }), null);
    assert.equal(r.resolve({ protocol: 'udp', host: 'nowhere.invalid', port: 5060 }), null);
    assert.equal(c.lookups.length, 1);
  });

  it('looks up again once the entry expired', async () => {
    const c = counting({ 'b.example': '192.0.2.20' });
    const r = new Resolver(0, 0, 10, c.fn);
    await r.resolve({ protocol: 'udp', host: 'b.example', port: 5060 });
    const again = r.resolve({ protocol: 'udp', host: 'b.example', port: 5060 });
    assert.ok(again instanceof Promise);
    await again;
    assert.equal(c.lookups.length, 2);
  });

  it('bounds the cache', async () => {
    const c = counting({ 'a.example': '192.0.2.1', 'b.example': '192.0.2.2', 'c.example': '192.0.2.3' });
    const r = new Resolver(60_000, 60_000, 2, c.fn);
    for (const host of ['a.example', 'b.example', 'c.example'])
      await r.resolve({ protocol: 'udp', host, port: 5060 });
    assert.ok(r.resolve({ protocol: 'udp', host: 'a.example', port: 5060 }) instanceof Promise, 'evicted');
  });

  it('resolves localhost with the system resolver', async () => {
    const r = new Resolver();
    const ep = await r.resolve({ protocol: 'udp', host: 'localhost', port: 5060 });
    assert.ok(ep !== null);
    assert.ok(ep.address === '127.0.0.1' || ep.address === '::1', ep.address);
  });
});
