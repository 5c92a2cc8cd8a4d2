import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isParseError } from '../sip/errors.ts';
import { HS, type SipMessage } from '../sip/message.ts';
import { parseMessage } from '../sip/parse_message.ts';
import { responseTarget } from './response_target.ts';
import { request, response } from './test_util.ts';
import type { ReceiveInfo } from './types.ts';
import { forceRport, stampTopVia } from './via_stamp.ts';

function parse(text: string): SipMessage {
  const m = parseMessage(Buffer.from(text), { datagram: true });
  if (isParseError(m)) throw new Error(m.toString());
  return m;
}

/** The first Via line of the serialized message. */
function firstViaLine(m: SipMessage): string {
  const out = m.serialize().toString('latin1');
  const lines = out.split('\r\n');
  return lines.find((l) => l.startsWith('Via:') || l.startsWith('v:')) ?? '';
}

/** Stamp, then re-parse the serialized bytes (the edit must leave a valid message). */
function stamp(
  text: string,
  ip: string,
  port: number,
): { m: SipMessage; again: SipMessage; edited: boolean } {
  const m = parse(text);
  const edited = stampTopVia(m, ip, port);
  const again = parse(m.serialize().toString('latin1'));
  return { m, again, edited };
}

describe('stampTopVia (RFC 3261 §18.2.1, RFC 3581 §4)', () => {
  it('reads the value range from the header table as headerValueRange gives it (layout in step)', () => {
    const m = parse(request({ via: 'SIP/2.0/UDP host.example.com;branch=z9hG4bK1' }));
    const i = m.findHeader(1);
    assert.ok(i >= 0);
    assert.deepEqual(m.headerValueRange(i), [m.hdr[i * HS + 3], m.hdr[i * HS + 4]]);
    assert.equal(m.hdr[i * HS + 6], 0, 'not folded');
  });

  it('leaves a Via alone when sent-by is the source IP and there is no rport', () => {
    const text = request({ via: 'SIP/2.0/UDP 192.0.2.1:5070;branch=z9hG4bK1' });
    const { m, edited } = stamp(text, '192.0.2.1', 5070);
    assert.equal(edited, false);
    assert.equal(m.hasEdits, false);
    assert.equal(m.serialize().toString('latin1'), text);
  });

  it('adds received when sent-by is a host name', () => {
    const { m, again } = stamp(
      request({ via: 'SIP/2.0/UDP client.example.com:5070;branch=z9hG4bK1' }),
      '192.0.2.1',
      5070,
    );
    assert.equal(
      firstViaLine(m),
      'Via: SIP/2.0/UDP client.example.com:5070;branch=z9hG4bK1;received=192.0.2.1',
    );
    assert.equal(again.topVia.received, '192.0.2.1');
    assert.equal(again.topVia.branch, 'z9hG4bK1');
  });

  it('adds received when sent-by is another IP, before the comma of a second via-parm', () => {
    const { m, again } = stamp(
      request({ via: 'SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK1 , SIP/2.0/UDP 10.0.0.2;branch=z9hG4bK2' }),
      '192.0.2.1',
      5060,
    );
    assert.equal(
      firstViaLine(m),
      'Via: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK1;received=192.0.2.1 , SIP/2.0/UDP 10.0.0.2;branch=z9hG4bK2',
    );
    const vias = again.vias();
    assert.ok(!isParseError(vias));
    assert.equal(vias[1].received, undefined);
  });

  it('fills a value-less rport and adds received even when equal to sent-by', () => {
    const { m, again } = stamp(
      request({ via: 'SIP/2.0/UDP 192.0.2.1:5070;rport;branch=z9hG4bK1' }),
      '192.0.2.1',
      40000,
    );
    assert.equal(
      firstViaLine(m),
      'Via: SIP/2.0/UDP 192.0.2.1:5070;rport=40000;branch=z9hG4bK1;received=192.0.2.1',
    );
    assert.equal(again.topVia.rport, 40000);
    assert.equal(again.topVia.received, '192.0.2.1');
  });

  it('fills rport when it is the last parameter (both edits at one offset, in order)', () => {
    const { m, again } = stamp(
      request({ via: 'SIP/2.0/TCP host.invalid;branch=z9hG4bK1;rport' }),
      '198.51.100.7',
      1234,
    );
    assert.equal(
      firstViaLine(m),
      'Via: SIP/2.0/TCP host.invalid;branch=z9hG4bK1;rport=1234;received=198.51.100.7',
    );
    assert.equal(again.topVia.rport, 1234);
  });

  it('handles white space, case and quoted strings in parameters', () => {
    const { m, again } = stamp(
      request({ via: 'SIP/2.0/UDP  host.invalid:5060 ;foo="a;rport,b" ; RPORT ;branch=z9hG4bK1' }),
      '192.0.2.9',
      5555,
    );
    assert.equal(
      firstViaLine(m),
      'Via: SIP/2.0/UDP  host.invalid:5060 ;foo="a;rport,b" ; RPORT=5555 ;branch=z9hG4bK1;received=192.0.2.9',
    );
    assert.equal(again.topVia.rport, 5555);
    assert.equal(again.topVia.received, '192.0.2.9');
  });

  it('works on a folded Via header', () => {
    const text = request({ via: 'SIP/2.0/UDP host.invalid\r\n  ;branch=z9hG4bK1\r\n  ;rport' });
    const { again } = stamp(text, '192.0.2.1', 7000);
    assert.equal(again.topVia.rport, 7000);
    assert.equal(again.topVia.received, '192.0.2.1');
    assert.equal(again.topVia.branch, 'z9hG4bK1');
  });

  it('works on a folded Via without rport (no fast path)', () => {
    const { again } = stamp(
      request({ via: 'SIP/2.0/UDP host.invalid\r\n ;branch=z9hG4bK1' }),
      '192.0.2.1',
      7000,
    );
    assert.equal(again.topVia.received, '192.0.2.1');
  });

  it('overwrites a received the client wrote itself', () => {
    const { m, again } = stamp(
      request({ via: 'SIP/2.0/UDP host.invalid;received=203.0.113.5;branch=z9hG4bK1' }),
      '192.0.2.1',
      5060,
    );
    assert.equal(firstViaLine(m), 'Via: SIP/2.0/UDP host.invalid;received=192.0.2.1;branch=z9hG4bK1');
    assert.equal(again.topVia.received, '192.0.2.1');
  });

  it('compares IPv6 sent-by by value, and writes an IPv6 received without brackets', () => {
    const same = stamp(
      request({ via: 'SIP/2.0/UDP [2001:DB8:0:0::1]:5060;branch=z9hG4bK1' }),
      '2001:db8::1',
      5060,
    );
    assert.equal(same.edited, false);
    const other = stamp(
      request({ via: 'SIP/2.0/UDP [2001:db8::1]:5060;branch=z9hG4bK1' }),
      '2001:db8::2',
      5060,
    );
    assert.equal(
      firstViaLine(other.m),
      'Via: SIP/2.0/UDP [2001:db8::1]:5060;branch=z9hG4bK1;received=2001:db8::2',
    );
    assert.equal(other.again.topVia.received, '2001:db8::2');
    const zoned = stamp(request({ via: 'SIP/2.0/UDP x.invalid;branch=z9hG4bK1' }), 'fe80::1%eth0', 5060);
    assert.equal(zoned.again.topVia.received, 'fe80::1');
  });

  it('uses the compact header name and only the first Via header', () => {
    const text = request({
      via: ['SIP/2.0/UDP a.invalid;branch=z9hG4bK1;rport', 'SIP/2.0/UDP b.invalid;branch=z9hG4bK2;rport'],
    }).replace('Via: SIP/2.0/UDP a', 'v: SIP/2.0/UDP a');
    const { again } = stamp(text, '192.0.2.1', 9);
    const vias = again.vias();
    assert.ok(!isParseError(vias));
    assert.equal(vias[0].rport, 9);
    assert.equal(vias[1].rport, null);
    assert.equal(vias[1].received, undefined);
  });

  it('never stamps a response', () => {
    const m = parse(response('SIP/2.0/UDP host.invalid;branch=z9hG4bK1;rport'));
    assert.equal(stampTopVia(m, '192.0.2.1', 5060), false);
    assert.equal(m.hasEdits, false);
  });
});

describe('forceRport (Kamailio force_rport)', () => {
  const udp = (address: string, port: number): ReceiveInfo => ({
    source: { protocol: 'udp', address, port },
    listener: {
      id: 1,
      protocol: 'udp',
      address: '127.0.0.1',
      port: 5060,
      family: 4,
      advertisedHost: '127.0.0.1',
      advertisedPort: 5060,
    },
    connectionId: 0,
    receivedAt: 0,
  });

  it('a NATed client without rport gets rport=<source port> and received, and responses go to that port', () => {
    const m = parse(request({ via: 'SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bK1' }));
    const info = udp('203.0.113.9', 40000);
    stampTopVia(m, '203.0.113.9', 40000);
    assert.equal(responseTarget(m, info).port, 5060);
    forceRport(m, info);
    forceRport(m, info);
    assert.equal(
      firstViaLine(m),
      'Via: SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bK1;received=203.0.113.9;rport=40000',
    );
    assert.deepEqual([responseTarget(m, info).host, responseTarget(m, info).port], ['203.0.113.9', 40000]);
    assert.equal(parse(m.serialize().toString('latin1')).topVia.rport, 40000);
  });

  it('adds received even when sent-by is the source address (RFC 3581 §4)', () => {
    const m = parse(request({ via: 'SIP/2.0/UDP 192.0.2.1:5070;branch=z9hG4bK1' }));
    forceRport(m, udp('192.0.2.1', 5070));
    assert.equal(
      firstViaLine(m),
      'Via: SIP/2.0/UDP 192.0.2.1:5070;branch=z9hG4bK1;rport=5070;received=192.0.2.1',
    );
  });

  it('leaves a Via that asked for rport as the transport stamped it', () => {
    const m = parse(request({ via: 'SIP/2.0/UDP 10.0.0.5:5060;rport;branch=z9hG4bK1' }));
    stampTopVia(m, '203.0.113.9', 40000);
    const before = firstViaLine(m);
    forceRport(m, udp('203.0.113.9', 40000));
    assert.equal(firstViaLine(m), before);
  });
});
