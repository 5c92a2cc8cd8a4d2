import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from '../config/load.ts';
import { choiceMatches, RoutingPoints } from './points.ts';

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

  it('filters termination points by prefix and regexp', () => {
    assert.equal(choiceMatches({ id: 1, prefix: '370' }, '37061'), true);
    assert.equal(choiceMatches({ id: 1, prefix: '370' }, '44'), false);
    assert.equal(choiceMatches({ id: 1, regexp: /^4[0-9]+$/ }, '44'), true);
    assert.equal(choiceMatches({ id: 1 }, ''), true);
  });
});
