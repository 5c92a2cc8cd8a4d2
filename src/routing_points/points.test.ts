import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from '../config/load.ts';
import { choiceMatches, ipv4ToInt, RoutingPoints } from './points.ts';

function points(yaml: string): RoutingPoints {
  const c = parseConfig(yaml);
  if (!c.ok) throw new Error(JSON.stringify(c.errors));
  return new RoutingPoints(c.config.connection_points, c.config.termination_points);
}

describe('connection points', () => {
  const p = points(`
connection_points:
  - { id: 1, match: { ip: 10.0.0.0/8, port: 5070 } }
  - { id: 2, match: { ip: 10.0.0.0/8, transport: tcp } }
  - { id: 3, match: { username: alice } }
  - { id: 4, match: { ip: "::1" } }
`);

  it('matches every key given, first in config order', () => {
    const at = (address: string, port: number, transport: 'udp' | 'tcp', username?: string) =>
      p.identify({ address, port, transport, ...(username === undefined ? {} : { username }) })?.id;
    assert.equal(at('10.1.2.3', 5070, 'udp'), 1);
    assert.equal(at('10.1.2.3', 5071, 'udp'), undefined);
    assert.equal(at('10.1.2.3', 5071, 'tcp'), 2);
    assert.equal(at('11.1.2.3', 5070, 'udp'), undefined);
    assert.equal(at('192.0.2.1', 5060, 'udp', 'alice'), 3);
    assert.equal(at('::1', 5060, 'udp'), 4);
    assert.equal(p.byUsername, true);
  });

  it('matches IPv4 subnets of every prefix length as BlockList does', () => {
    const q = points(`
connection_points:
  - { id: 32, match: { ip: 192.0.2.7/32 } }
  - { id: 24, match: { ip: 192.0.2.0/24 } }
  - { id: 9, match: { ip: 10.128.0.0/9 } }
  - { id: 1, match: { ip: 128.0.0.0/1 } }
  - { id: 100, match: { ip: 0.0.0.0/0 } }
`);
    const at = (address: string) => q.identify({ address, port: 5060, transport: 'udp' })?.id;
    assert.equal(at('192.0.2.7'), 32);
    assert.equal(at('192.0.2.8'), 24);
    assert.equal(at('192.0.3.7'), 1);
    assert.equal(at('10.255.1.1'), 9);
    assert.equal(at('10.127.1.1'), 100);
    assert.equal(at('255.255.255.255'), 1);
    assert.equal(at('1.2.3.4'), 100);
    assert.equal(at('::1'), undefined, 'an IPv6 source is not in an IPv4 subnet');
  });

  it('reads dotted-quad IPv4 addresses only', () => {
    assert.equal(ipv4ToInt('0.0.0.0'), 0);
    assert.equal(ipv4ToInt('255.255.255.255'), 0xffffffff);
    assert.equal(ipv4ToInt('192.0.2.1'), 0xc0000201);
    for (const bad of [
      '',
      '1.2.3',
      '1.2.3.4.5',
      '256.1.1.1',
      '1..2.3',
      '1.2.3.',
      '::1',
      'a.b.c.d',
      '1.2.3.0004',
    ])
      assert.equal(ipv4ToInt(bad), -1, bad);
  });

  it('filters termination points by prefix and regexp', () => {
    assert.equal(choiceMatches({ id: 1, prefix: '370' }, '37061'), true);
    assert.equal(choiceMatches({ id: 1, prefix: '370' }, '44'), false);
    assert.equal(choiceMatches({ id: 1, regexp: /^4[0-9]+$/ }, '44'), true);
    assert.equal(choiceMatches({ id: 1 }, ''), true);
  });
});
