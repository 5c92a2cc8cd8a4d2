import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse, request } from '../testing/fake_context.ts';
import { credentialParam, requestCredentials, splitUsername } from './credentials.ts';
import { Interner, stringInterner } from './intern.ts';
import { withHost, withParam, withPort, withUser } from './uri_edit.ts';

describe('uri_edit', () => {
  it('replaces one part and keeps the rest', () => {
    assert.equal(withUser('sip:alice:pw@example.com;a=1?h=v', 'bob'), 'sip:bob:pw@example.com;a=1?h=v');
    assert.equal(withUser('sip:alice:pw@example.com', ''), 'sip:example.com');
    assert.equal(withHost('sips:alice@example.com:5061', '::1'), 'sips:alice@[::1]:5061');
    assert.equal(withPort('sip:alice@example.com:5080', undefined), 'sip:alice@example.com');
    assert.equal(withPort('sip:alice@example.com', 5070), 'sip:alice@example.com:5070');
    assert.equal(withPort('sip:alice@example.com', 70000), undefined);
  });

  it('adds a parameter before the URI headers', () => {
    assert.equal(withParam('sip:a@b;x=1?subject=hi', 'y=2'), 'sip:a@b;x=1;y=2?subject=hi');
    assert.equal(withParam('sip:a@b', ';lr'), 'sip:a@b;lr');
    assert.equal(withParam('sip:a@b', 'bad value'), undefined);
  });

  it('does not rewrite other schemes', () => {
    assert.equal(withUser('tel:+15551234', 'x'), undefined);
    assert.equal(withHost('mailto:a@b', 'c'), undefined);
  });
});

describe('credentials', () => {
  const header = (name: string, user: string) =>
    `${name}: Digest username="${user}", realm="r", nonce="n", uri="sip:b@x", response="00"`;

  it('prefers Proxy-Authorization, Authorization for REGISTER and PUBLISH, and falls back', () => {
    const both = [header('Authorization', 'www'), header('Proxy-Authorization', 'proxy')];
    assert.equal(credentialParam(parse(request({ headers: both })), 'username'), 'proxy');
    assert.equal(credentialParam(parse(request({ method: 'REGISTER', headers: both })), 'username'), 'www');
    const onlyWww = [header('Authorization', 'www')];
    assert.equal(credentialParam(parse(request({ headers: onlyWww })), 'username'), 'www');
    assert.equal(requestCredentials(parse(request())), undefined);
  });

  it('splits user@domain usernames', () => {
    assert.deepEqual(splitUsername('alice@example.com'), ['alice', 'example.com']);
    assert.deepEqual(splitUsername('alice'), ['alice', undefined]);
  });
});

describe('Interner', () => {
  it('returns one shared value per key, made once; cleared when full', () => {
    let made = 0;
    const i = new Interner<string[]>(2);
    const a = i.get('INVITE,BYE', (k) => {
      made++;
      return k.split(',');
    });
    assert.equal(
      i.get('INVITE,BYE', () => []),
      a,
    );
    assert.equal(made, 1);
    i.get('b', () => []);
    assert.equal(i.size, 2);
    i.get('c', () => []);
    assert.equal(i.size, 1, 'cleared when full, then the new key');
    const s = stringInterner();
    const x = s(['junction', 'bench'].join('-'));
    assert.equal(s(['junction', 'bench'].join('-')), x);
  });
});
