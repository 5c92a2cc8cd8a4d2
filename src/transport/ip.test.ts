import assert from 'node:assert/strict';
import { isIPv4 } from 'node:net';
import { describe, it } from 'node:test';
import {
  canonicalAddress,
  familyOf,
  hostMatchesIp,
  isIPv4Literal,
  isMulticast,
  normalizeAddress,
  stripBrackets,
  stripZone,
} from './ip.ts';

describe('ip helpers', () => {
  it('strips brackets and zones', () => {
    assert.equal(stripBrackets('[::1]'), '::1');
    assert.equal(stripBrackets('::1'), '::1');
    assert.equal(stripZone('fe80::1%eth0'), 'fe80::1');
  });

  it('finds the family', () => {
    assert.equal(familyOf('127.0.0.1'), 4);
    assert.equal(familyOf('[::1]'), 6);
    assert.equal(familyOf('fe80::1%lo'), 6);
    assert.equal(familyOf('example.com'), 0);
  });

  it('unmaps IPv4-mapped IPv6', () => {
    assert.equal(normalizeAddress('::ffff:192.0.2.1'), '192.0.2.1');
    assert.equal(normalizeAddress('::FFFF:192.0.2.1'), '192.0.2.1');
    assert.equal(normalizeAddress('::ffff:c000:201'), '::ffff:c000:201');
    assert.equal(normalizeAddress('192.0.2.1'), '192.0.2.1');
  });

  it('canonicalizes IPv6', () => {
    assert.equal(canonicalAddress('2001:DB8:0:0::1'), '2001:db8::1');
    assert.equal(canonicalAddress('[0:0:0:0:0:0:0:1]'), '::1');
    assert.equal(canonicalAddress('192.0.2.1'), '192.0.2.1');
    assert.equal(canonicalAddress('host.invalid'), 'host.invalid');
  });

  it('compares a sent-by host with a source IP', () => {
    assert.equal(hostMatchesIp('192.0.2.1', '192.0.2.1'), true);
    assert.equal(hostMatchesIp('192.0.2.1', '192.0.2.2'), false);
    assert.equal(hostMatchesIp('[2001:db8::1]', '2001:db8::1'), true);
    assert.equal(hostMatchesIp('[2001:0DB8:0::1]', '2001:db8::1'), true);
    assert.equal(hostMatchesIp('[2001:db8::1]', '2001:db8::2'), false);
    assert.equal(hostMatchesIp('192.0.2.1', '::ffff:192.0.2.1'), true);
    assert.equal(hostMatchesIp('localhost', '127.0.0.1'), false);
  });

  it('knows multicast', () => {
    assert.equal(isMulticast('239.255.0.1'), true);
    assert.equal(isMulticast('192.0.2.1'), false);
    assert.equal(isMulticast('ff02::1'), true);
    assert.equal(isMulticast('2001:db8::1'), false);
  });
});

describe('isIPv4Literal', () => {
  it('decides as net.isIPv4 does', () => {
    const cases = [
      '127.0.0.1',
      '0.0.0.0',
      '255.255.255.255',
      '10.0.0.1',
      '192.168.1.254',
      '1.2.3.4',
      '256.1.1.1',
      '1.2.3',
      '1.2.3.4.5',
      '01.2.3.4',
      '1.2.3.04',
      '1..2.3',
      '.1.2.3',
      '1.2.3.',
      '1.2.3.4 ',
      'a.b.c.d',
      '::1',
      '[::1]',
      'example.com',
      '',
      '1.2.3.1000',
      '00.0.0.0',
      '0.0.0.00',
      '199.299.1.1',
      '249.250.251.252',
      '9.99.199.255',
    ];
    for (const c of cases) assert.equal(isIPv4Literal(c), isIPv4(c), c);
  });
});
