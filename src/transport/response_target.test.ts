import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isParseError } from '../sip/errors.ts';
import type { SipMessage } from '../sip/message.ts';
import { parseMessage } from '../sip/parse_message.ts';
import { responseTarget } from './response_target.ts';
import { request } from './test_util.ts';
import type { ListenerInfo, Protocol, ReceiveInfo } from './types.ts';

function parse(via: string): SipMessage {
  const m = parseMessage(Buffer.from(request({ via })), { datagram: true });
  if (isParseError(m)) throw new Error(m.toString());
  return m;
}

function info(protocol: Protocol, address: string, port: number, connectionId = 0): ReceiveInfo {
  const listener: ListenerInfo = {
    id: 3,
    protocol,
    address: '0.0.0.0',
    port: 5060,
    family: 4,
    advertisedHost: '192.0.2.100',
    advertisedPort: 5060,
  };
  return { source: { protocol, address, port }, listener, connectionId, receivedAt: 0 };
}

describe('responseTarget (RFC 3261 §18.2.2, RFC 3581 §4)', () => {
  it('UDP with rport: source address and source port, from the receiving listener', () => {
    const t = responseTarget(
      parse('SIP/2.0/UDP 10.0.0.1:5070;rport;branch=z9hG4bK1'),
      info('udp', '192.0.2.1', 40000),
    );
    assert.deepEqual(t, {
      protocol: 'udp',
      host: '192.0.2.1',
      port: 40000,
      connectionId: 0,
      listenerId: 3,
      ttl: undefined,
    });
  });

  it('UDP without rport: the received (source) address with the sent-by port', () => {
    const t = responseTarget(
      parse('SIP/2.0/UDP 10.0.0.1:5070;branch=z9hG4bK1'),
      info('udp', '192.0.2.1', 40000),
    );
    assert.equal(t.host, '192.0.2.1');
    assert.equal(t.port, 5070);
  });

  it('UDP without rport nor sent-by port: port 5060', () => {
    const t = responseTarget(
      parse('SIP/2.0/UDP client.example.com;branch=z9hG4bK1'),
      info('udp', '192.0.2.1', 40000),
    );
    assert.equal(t.host, '192.0.2.1');
    assert.equal(t.port, 5060);
  });

  it('UDP sent-by equal to the source (no received): the same address', () => {
    const t = responseTarget(
      parse('SIP/2.0/UDP 192.0.2.1:5080;branch=z9hG4bK1'),
      info('udp', '192.0.2.1', 40000),
    );
    assert.equal(t.host, '192.0.2.1');
    assert.equal(t.port, 5080);
  });

  it('UDP maddr: the maddr address, sent-by port or 5060, multicast ttl default 1', () => {
    const a = responseTarget(
      parse('SIP/2.0/UDP 10.0.0.1:5070;maddr=239.255.0.1;ttl=4;rport;branch=z9hG4bK1'),
      info('udp', '192.0.2.1', 40000),
    );
    assert.equal(a.host, '239.255.0.1');
    assert.equal(a.port, 5070);
    assert.equal(a.ttl, 4);
    const b = responseTarget(
      parse('SIP/2.0/UDP 10.0.0.1;maddr=[2001:db8::5];branch=z9hG4bK1'),
      info('udp', '192.0.2.1', 40000),
    );
    assert.equal(b.host, '2001:db8::5');
    assert.equal(b.port, 5060);
    assert.equal(b.ttl, 1);
  });

  it('TCP: the request connection, else the source address with the sent-by port', () => {
    const t = responseTarget(
      parse('SIP/2.0/TCP client.example.com:5090;rport;branch=z9hG4bK1'),
      info('tcp', '192.0.2.1', 40000, 17),
    );
    assert.deepEqual(t, {
      protocol: 'tcp',
      host: '192.0.2.1',
      port: 5090,
      connectionId: 17,
      listenerId: 3,
      ttl: undefined,
    });
    const d = responseTarget(
      parse('SIP/2.0/TCP client.example.com;branch=z9hG4bK1'),
      info('tcp', '192.0.2.1', 40000, 17),
    );
    assert.equal(d.port, 5060);
  });

  it('TLS defaults to port 5061', () => {
    const t = responseTarget(
      parse('SIP/2.0/TLS client.example.com;branch=z9hG4bK1'),
      info('tls', '192.0.2.1', 40000, 2),
    );
    assert.equal(t.port, 5061);
  });
});
